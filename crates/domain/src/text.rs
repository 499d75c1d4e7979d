//! Text as files, forms and requests carry it: the characters a name or a free
//! text may hold, and where a byte that is not UTF-8 lies.
//!
//! A name (of a person, a facility, a doctor, a region, a visitor) may hold no
//! control character at all and no bidirectional formatting character: the
//! overrides and embeddings U+202A to U+202E, the isolates U+2066 to U+2069, the
//! marks U+200E, U+200F and U+061C. Those are invisible, and make a name show as
//! another (`张三\u{202E}丰` is drawn with its end reversed) or hide text from a
//! reader of a page, a report or a spreadsheet. Free text (findings, notes) may
//! hold tabs, and line breaks where it is meant to span lines, but no other control
//! character (C0, DEL, C1).

use crate::DomainError;

/// Whether `c` is a bidirectional formatting character (see the module).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// The character as a message names it: `U+202E (right-to-left override)`.
pub fn describe(c: char) -> String {
    let what = match c {
        '\t' => "a tab",
        '\n' => "a line feed",
        '\r' => "a carriage return",
        '\0' => "a NUL character",
        '\u{7F}' => "DEL, a control character",
        '\u{202A}' => "left-to-right embedding",
        '\u{202B}' => "right-to-left embedding",
        '\u{202C}' => "pop directional formatting",
        '\u{202D}' => "left-to-right override",
        '\u{202E}' => "right-to-left override",
        '\u{2066}' => "left-to-right isolate",
        '\u{2067}' => "right-to-left isolate",
        '\u{2068}' => "first strong isolate",
        '\u{2069}' => "pop directional isolate",
        '\u{200E}' => "left-to-right mark",
        '\u{200F}' => "right-to-left mark",
        '\u{061C}' => "Arabic letter mark",
        c if c.is_control() => "a control character",
        _ => "a character",
    };
    format!("U+{:04X} ({what})", c as u32)
}

/// The first character of `s` that `bad` refuses, with its position in characters
/// (1 for the first).
fn first(s: &str, bad: impl Fn(char) -> bool) -> Option<(usize, char)> {
    // Names and texts are short; a plain ASCII one needs no decoding.
    if s.is_ascii() {
        return s
            .bytes()
            .enumerate()
            .find(|(_, b)| (*b < 0x20 || *b == 0x7F) && bad(*b as char))
            .map(|(i, b)| (i + 1, b as char));
    }
    s.chars().enumerate().find(|(_, c)| bad(*c)).map(|(i, c)| (i + 1, c))
}

/// Checks a name: no control character (tab and line breaks included) and no
/// bidirectional formatting character. The error says which character and where.
pub fn check_name(s: &str) -> Result<(), DomainError> {
    match first(s, |c| c.is_control() || is_bidi_control(c)) {
        None => Ok(()),
        Some((at, c)) => crate::bail!(
            "holds {} at character {at}; a name may hold no control or bidirectional formatting character",
            describe(c)
        ),
    }
}

/// Checks a free text: no control character but a tab, and line breaks (CR, LF)
/// where `multiline`.
pub fn check_text(s: &str, multiline: bool) -> Result<(), DomainError> {
    let allowed = |c: char| c == '\t' || (multiline && matches!(c, '\n' | '\r'));
    match first(s, |c| c.is_control() && !allowed(c)) {
        None => Ok(()),
        Some((at, c)) => crate::bail!("holds {} at character {at}; control characters are not allowed", describe(c)),
    }
}

/// A sequence of bytes that is not UTF-8, and where it lies in the bytes searched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadBytes {
    /// Its offset in the bytes searched.
    pub offset: usize,
    /// The bytes that are not UTF-8 (one to three of them).
    pub bytes: Vec<u8>,
    /// The line counted from the start of the bytes searched (1 for the first; a
    /// line ends at a line feed).
    pub line: u64,
    /// The column in characters from the start of its line, or from the start of
    /// the bytes searched on their first line (1 for the first).
    pub column: u64,
}

impl BadBytes {
    /// `the byte 0xFF` or `the bytes 0xE5 0xBC`.
    pub fn describe(&self) -> String {
        describe_bytes(&self.bytes)
    }
}

/// `the byte 0xFF`, `the bytes 0xE5 0xBC`, or `a byte sequence` when none is known.
pub fn describe_bytes(bytes: &[u8]) -> String {
    let hex: Vec<String> = bytes.iter().map(|b| format!("0x{b:02X}")).collect();
    match bytes.len() {
        0 => "a byte sequence".to_string(),
        1 => format!("the byte {}", hex[0]),
        _ => format!("the bytes {}", hex.join(" ")),
    }
}

/// The first sequence of `bytes` that is not UTF-8, with its line and column. A
/// sequence cut off by the end of `bytes` counts only if `complete` (the bytes end
/// where the text ends).
pub fn first_bad_utf8(bytes: &[u8], complete: bool) -> Option<BadBytes> {
    let e = std::str::from_utf8(bytes).err()?;
    let at = e.valid_up_to();
    let len = match e.error_len() {
        Some(n) => n,
        None if complete => bytes.len() - at,
        None => return None,
    };
    let before = &bytes[..at];
    let (line, column) = position_after(before);
    Some(BadBytes { offset: at, bytes: bytes[at..at + len].to_vec(), line, column })
}

/// The line and column (from 1, the column in characters) just after `text`, a
/// prefix of valid UTF-8.
pub fn position_after(text: &[u8]) -> (u64, u64) {
    let line_start = text.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let line = 1 + text[..line_start].iter().filter(|b| **b == b'\n').count() as u64;
    (line, chars(&text[line_start..]) + 1)
}

/// Characters in UTF-8 bytes (bytes that do not continue a sequence).
pub fn chars(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|b| (**b as i8) >= -0x40).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_refuse_controls_and_bidi_formatting() {
        assert!(check_name("张三丰").is_ok());
        assert!(check_name("Zhang San-feng O'Neil").is_ok());
        // Arabic or Hebrew letters are fine; only the invisible formatting is not.
        assert!(check_name("مريم").is_ok());
        for (name, at, code) in [
            ("张三\u{202E}丰", 3, "U+202E (right-to-left override)"),
            ("\u{2066}张三", 1, "U+2066 (left-to-right isolate)"),
            ("ab\u{200F}", 3, "U+200F (right-to-left mark)"),
            ("ab\u{061C}", 3, "U+061C (Arabic letter mark)"),
            ("a\u{202A}b", 2, "U+202A (left-to-right embedding)"),
            ("a\tb", 2, "U+0009 (a tab)"),
            ("a\nb", 2, "U+000A (a line feed)"),
            ("ab\u{7F}", 3, "U+007F (DEL, a control character)"),
            ("张\u{85}", 2, "U+0085 (a control character)"),
            ("a\u{1B}[31m", 2, "U+001B (a control character)"),
        ] {
            let e = check_name(name).unwrap_err().0;
            assert!(e.contains(&format!("holds {code} at character {at};")), "{name:?}: {e}");
        }
    }

    #[test]
    fn free_text_allows_tabs_and_line_breaks_where_meant() {
        assert!(check_text("a\tb", false).is_ok());
        assert!(check_text("a\nb\r\nc", true).is_ok());
        assert!(check_text("a\nb", false).unwrap_err().0.contains("U+000A"));
        assert!(check_text("a\u{0}b", true).unwrap_err().0.contains("NUL"));
        assert!(check_text("a\u{9B}b", true).unwrap_err().0.contains("U+009B"));
        // Free text is not a name: bidirectional text is its writer's business.
        assert!(check_text("a\u{202E}b", false).is_ok());
    }

    #[test]
    fn the_first_bad_byte_is_found_with_its_line_and_column() {
        assert_eq!(first_bad_utf8("a,张三\nb".as_bytes(), true), None);
        let b = first_bad_utf8(b"code,name\n34,\xE5\xAE\x89\xFF\n", true).unwrap();
        assert_eq!((b.offset, b.line, b.column, b.describe()), (16, 2, 5, "the byte 0xFF".to_string()));
        // A sequence cut off at the end counts only when the text ends there.
        let cut = "a,安".as_bytes();
        assert_eq!(first_bad_utf8(&cut[..3], false), None);
        let b = first_bad_utf8(&cut[..4], true).unwrap();
        assert_eq!((b.line, b.column, b.describe()), (1, 3, "the bytes 0xE5 0xAE".to_string()));
        assert_eq!(position_after(b"ab\r\ncd"), (2, 3));
    }
}
