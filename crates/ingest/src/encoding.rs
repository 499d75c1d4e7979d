//! Text encodings of CSV files as offices produce them: UTF-8 with or without a
//! byte-order mark, and GB18030 (a superset of GBK and GB2312), which Excel on a
//! Chinese Windows writes when told to save "CSV (comma delimited)".
//!
//! Detection looks at the start of the file: a byte-order mark settles it; else text
//! that is valid UTF-8 is taken as UTF-8; else GB18030. A file whose first bytes are
//! plain ASCII but which holds GB18030 further on is caught by the reader, which
//! starts again as GB18030 (see `read::read_csv_path`). UTF-8 is read as it is, in
//! a stream; other encodings are decoded to UTF-8 in chunks, never whole.
//!
//! No byte is ever replaced silently: a byte that is not text in the encoding the
//! file is read in refuses its record, with the line and column where it lies.
//! UTF-8 is checked record by record (the CSV reader's own check, so valid files
//! pay nothing more) and located by reading the record's bytes again only when one
//! fails; a decoder logs each malformed sequence with its position as it goes.

use encoding_rs::{Decoder, DecoderResult, Encoding as Enc, GB18030, UTF_16BE, UTF_16LE};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::rc::Rc;

/// The encoding a CSV file is read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 with a byte-order mark (Excel's "CSV UTF-8").
    Utf8Bom,
    /// UTF-8 without a mark (or plain ASCII).
    Utf8,
    /// GB18030 / GBK / GB2312.
    Gb18030,
    /// UTF-16 with a byte-order mark, little or big endian.
    Utf16Le,
    Utf16Be,
}

impl Encoding {
    /// Bytes of byte-order mark at the start of the file.
    pub fn bom_len(self) -> usize {
        match self {
            Encoding::Utf8Bom => 3,
            Encoding::Utf16Le | Encoding::Utf16Be => 2,
            _ => 0,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8Bom => "UTF-8 with BOM",
            Encoding::Utf8 => "UTF-8",
            Encoding::Gb18030 => "GB18030",
            Encoding::Utf16Le => "UTF-16LE",
            Encoding::Utf16Be => "UTF-16BE",
        }
    }

    /// Whether the text must be decoded to become UTF-8.
    pub fn needs_decoding(self) -> bool {
        self.decoder().is_some()
    }

    fn decoder(self) -> Option<&'static Enc> {
        match self {
            Encoding::Gb18030 => Some(GB18030),
            Encoding::Utf16Le => Some(UTF_16LE),
            Encoding::Utf16Be => Some(UTF_16BE),
            Encoding::Utf8 | Encoding::Utf8Bom => None,
        }
    }
}

/// How many leading bytes detection looks at.
pub const SNIFF_LEN: usize = 64 * 1024;

/// Detects the encoding from the first bytes of a file (up to [`SNIFF_LEN`]).
pub fn detect(head: &[u8]) -> Encoding {
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Encoding::Utf8Bom;
    }
    if head.starts_with(&[0xFF, 0xFE]) {
        return Encoding::Utf16Le;
    }
    if head.starts_with(&[0xFE, 0xFF]) {
        return Encoding::Utf16Be;
    }
    match std::str::from_utf8(head) {
        Ok(_) => Encoding::Utf8,
        // The sniffed window may cut a character in two: that is still UTF-8.
        Err(e) if e.error_len().is_none() => Encoding::Utf8,
        // UTF-8 with a stray byte: read as UTF-8, and the byte refused where it lies.
        Err(_) if mostly_utf8(head) => Encoding::Utf8,
        Err(_) => Encoding::Gb18030,
    }
}

/// Whether text that is not all UTF-8 is still UTF-8 with a few bad bytes: its
/// UTF-8 characters outnumber its bad sequences at least five to one. GB18030
/// text, read as UTF-8, has about one character that happens to be UTF-8 for
/// every three bad sequences (four to one at worst in a file of a few names).
fn mostly_utf8(head: &[u8]) -> bool {
    let (mut chars, mut bad) = (0usize, 0usize);
    let mut rest = head;
    loop {
        match std::str::from_utf8(rest) {
            Ok(_) => {
                chars += rest.iter().filter(|b| **b >= 0xC0).count();
                break;
            }
            Err(e) => {
                let (valid, tail) = rest.split_at(e.valid_up_to());
                // The lead bytes of the valid part: one per character beyond ASCII.
                chars += valid.iter().filter(|b| **b >= 0xC0).count();
                match e.error_len() {
                    Some(n) => {
                        bad += 1;
                        rest = &tail[n..];
                    }
                    None => break,
                }
            }
        }
    }
    chars >= 5 * bad
}

/// A reader that counts the bytes it passes on, so progress can be told in bytes of
/// the file whatever decoding happens above it.
pub struct Counting<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Counting<R> {
    pub fn new(inner: R) -> (Counting<R>, Rc<Cell<u64>>) {
        let count = Rc::new(Cell::new(0));
        (Counting { inner, count: count.clone() }, count)
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// A sequence of bytes that is not text in the encoding being decoded, with where
/// it lies in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// The offset in the decoded stream of the replacement character written in its
    /// place (so that a reader can tell which record holds it).
    pub at: u64,
    /// The physical line of the file (1 for the first).
    pub line: u64,
    /// The column in characters (1 for the first).
    pub column: u64,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// Where a [`DecodeReader`] reports the sequences it could not decode, in order.
pub type MalformedLog = Rc<RefCell<VecDeque<Malformed>>>;

/// Decodes a byte stream to UTF-8 in chunks. A malformed sequence is logged with its
/// line and column (see [`DecodeReader::log`]) and stands in the text as U+FFFD, so
/// that the reader above can tell which record it spoils and refuse that record; it
/// never passes as text.
pub struct DecodeReader<R> {
    inner: R,
    decoder: Decoder,
    src: Box<[u8]>,
    src_start: usize,
    src_end: usize,
    eof: bool,
    out: Box<[u8]>,
    out_start: usize,
    out_end: usize,
    done: bool,
    log: MalformedLog,
    /// Decoded bytes before the current output chunk.
    out_base: u64,
    /// Where the text stands at the end of the decoded chunks: line feeds passed,
    /// and characters since the last one.
    lines: u64,
    column: u64,
    /// The last bytes of the chunk before, for a malformed sequence that began there.
    recent: Vec<u8>,
}

const CHUNK: usize = 64 * 1024;

/// The replacement character, as UTF-8.
const REPLACEMENT: &[u8] = "\u{FFFD}".as_bytes();

/// Advances a (line feeds, characters since the last one) position over decoded text.
fn advance(pos: (u64, u64), text: &[u8]) -> (u64, u64) {
    match text.iter().rposition(|b| *b == b'\n') {
        None => (pos.0, pos.1 + domain::text::chars(text)),
        Some(i) => {
            let feeds = text[..=i].iter().filter(|b| **b == b'\n').count() as u64;
            (pos.0 + feeds, domain::text::chars(&text[i + 1..]))
        }
    }
}

impl<R: Read> DecodeReader<R> {
    /// A decoding reader; `None` for the UTF-8 encodings, which need no decoding.
    pub fn new(inner: R, encoding: Encoding) -> Option<DecodeReader<R>> {
        let enc = encoding.decoder()?;
        Some(DecodeReader {
            inner,
            // The byte-order mark, if any, is consumed before the reader is built.
            decoder: enc.new_decoder_without_bom_handling(),
            src: vec![0; CHUNK].into_boxed_slice(),
            src_start: 0,
            src_end: 0,
            eof: false,
            // A GB18030 byte decodes to at most 3 UTF-8 bytes for 2 input bytes (or 4
            // for 4), and a malformed byte to the 3 bytes of U+FFFD; three times the
            // input is always room enough.
            out: vec![0; CHUNK * 3 + 16].into_boxed_slice(),
            out_start: 0,
            out_end: 0,
            done: false,
            log: Rc::default(),
            out_base: 0,
            lines: 0,
            column: 0,
            recent: Vec::with_capacity(4),
        })
    }

    /// The log of malformed sequences, shared with the caller.
    pub fn log(&self) -> MalformedLog {
        self.log.clone()
    }

    fn refill(&mut self) -> io::Result<()> {
        while self.out_start == self.out_end && !self.done {
            if self.src_start == self.src_end && !self.eof {
                self.recent.clear();
                self.recent.extend_from_slice(&self.src[self.src_end.saturating_sub(3)..self.src_end]);
                self.src_start = 0;
                self.src_end = 0;
                loop {
                    match self.inner.read(&mut self.src) {
                        Ok(0) => {
                            self.eof = true;
                            break;
                        }
                        Ok(n) => {
                            self.src_end = n;
                            break;
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(e),
                    }
                }
            }
            let mut written = 0;
            // The position at `scanned` in this chunk, moved on only when a malformed
            // sequence asks where it is.
            let (mut pos, mut scanned) = ((self.lines, self.column), 0);
            let out_room = self.out.len() - REPLACEMENT.len();
            while written < out_room {
                let (result, read, n) = self.decoder.decode_to_utf8_without_replacement(
                    &self.src[self.src_start..self.src_end],
                    // Room is kept for the replacement of a malformed sequence.
                    &mut self.out[written..out_room],
                    self.eof,
                );
                self.src_start += read;
                written += n;
                let DecoderResult::Malformed(len, extra) = result else { break };
                let end = self.src_start.saturating_sub(extra as usize);
                let mut bytes = self.src[end.saturating_sub(len as usize)..end].to_vec();
                if bytes.len() < len as usize {
                    // It began in the chunk before.
                    let more = (len as usize - bytes.len()).min(self.recent.len());
                    bytes.splice(0..0, self.recent[self.recent.len() - more..].iter().copied());
                }
                pos = advance(pos, &self.out[scanned..written]);
                scanned = written;
                let at = self.out_base + written as u64;
                self.log.borrow_mut().push_back(Malformed { at, line: pos.0 + 1, column: pos.1 + 1, bytes });
                self.out[written..written + REPLACEMENT.len()].copy_from_slice(REPLACEMENT);
                written += REPLACEMENT.len();
            }
            (self.lines, self.column) = advance(pos, &self.out[scanned..written]);
            self.out_base += written as u64;
            self.out_start = 0;
            self.out_end = written;
            if self.eof && self.src_start == self.src_end {
                self.done = true;
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for DecodeReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.refill()?;
        let n = (self.out_end - self.out_start).min(buf.len());
        buf[..n].copy_from_slice(&self.out[self.out_start..self.out_start + n]);
        self.out_start += n;
        Ok(n)
    }
}

/// Reads a whole text file that must be UTF-8 (a policy, rules or thresholds in
/// TOML). A byte that is not UTF-8 is an error that says its line and column, never
/// a replacement character.
pub fn read_utf8_text(path: &std::path::Path) -> io::Result<String> {
    let bytes = std::fs::read(path)?;
    String::from_utf8(bytes).map_err(|e| {
        let b = domain::text::first_bad_utf8(e.as_bytes(), true).expect("not UTF-8");
        let verb = if b.bytes.len() == 1 { "is" } else { "are" };
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{} at line {}, column {} {verb} not UTF-8 text; save the file as UTF-8",
                b.describe(),
                b.line,
                b.column
            ),
        )
    })
}

/// The most bytes read back to find a byte that is not UTF-8 in a record.
const LOCATE_WINDOW: usize = 1 << 20;

/// Finds the first sequence that is not UTF-8 in `file` from `offset` on, where
/// `offset` starts line `line` or lies on the line feed that ends the line before
/// (a record's start as the CSV parser reports it). Only called once a record was
/// found not to be UTF-8, so that reading stays a single pass over valid files.
pub(crate) fn locate_bad_utf8(file: &mut File, offset: u64, line: u64) -> Option<domain::text::BadBytes> {
    file.seek(SeekFrom::Start(offset)).ok()?;
    let mut window = Vec::with_capacity(64 * 1024);
    file.take(LOCATE_WINDOW as u64).read_to_end(&mut window).ok()?;
    let complete = window.len() < LOCATE_WINDOW;
    // A byte-order mark is no character of the first line.
    let skip = if offset == 0 && window.starts_with(&[0xEF, 0xBB, 0xBF]) { 3 } else { 0 };
    let mut bad = domain::text::first_bad_utf8(&window[skip..], complete)?;
    bad.line += line - 1;
    bad.offset += skip;
    Some(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects() {
        assert_eq!(detect(b"\xEF\xBB\xBFcode,name\n"), Encoding::Utf8Bom);
        assert_eq!(detect("code,name\n34,安徽省\n".as_bytes()), Encoding::Utf8);
        let (gb, _, _) = GB18030.encode("code,name\n34,安徽省\n");
        assert_eq!(detect(&gb), Encoding::Gb18030);
        // A window that cuts a UTF-8 character in two is still UTF-8.
        let s = "安徽省".as_bytes();
        assert_eq!(detect(&s[..4]), Encoding::Utf8);
        // UTF-8 with a stray byte is UTF-8 (the byte is refused where it lies);
        // GB18030 with a few characters that happen to be UTF-8 is GB18030.
        let mut stray = "code,name\n34,安徽省\n3411,滁州市\n".as_bytes().to_vec();
        stray.push(0xFF);
        assert_eq!(detect(&stray), Encoding::Utf8);
        let names = "name\n王芳\n李娜\n张伟\n刘洋\n陈静\n杨秀英\n黄敏\n赵强\n吴磊\n周军\n";
        let (gb, _, _) = GB18030.encode(names);
        assert_eq!(detect(&gb), Encoding::Gb18030);
    }

    #[test]
    fn malformed_sequences_are_logged_with_their_line_and_column_across_chunks() {
        // Lines of 12 characters; a bad byte on line 20001, after four names, far
        // beyond the first chunk, and another at the very end (a lead byte cut off).
        let line = |i: usize| format!("{:05},张三丰李四\n", i % 100_000);
        let before: String = (0..20_000).map(line).collect();
        let mut bytes = GB18030.encode(&before).0.into_owned();
        bytes.extend(GB18030.encode("12345,王五").0.iter());
        bytes.push(0xFF);
        bytes.extend(GB18030.encode("赵六\n").0.iter());
        bytes.push(0x81);
        for piece in [7777, 65536, 1] {
            struct Dribble<'a>(&'a [u8], usize);
            impl Read for Dribble<'_> {
                fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                    let n = self.0.len().min(buf.len()).min(self.1);
                    buf[..n].copy_from_slice(&self.0[..n]);
                    self.0 = &self.0[n..];
                    Ok(n)
                }
            }
            let mut r = DecodeReader::new(Dribble(&bytes, piece), Encoding::Gb18030).unwrap();
            let log = r.log();
            let mut out = String::new();
            r.read_to_string(&mut out).unwrap();
            let got: Vec<(u64, u64, Vec<u8>)> =
                log.borrow().iter().map(|m| (m.line, m.column, m.bytes.clone())).collect();
            assert_eq!(got.len(), 2, "{piece}: {got:?}");
            assert_eq!((got[0].0, got[0].1), (20_001, 9), "{piece}");
            assert_eq!((got[1].0, got[1].1), (20_002, 1), "{piece}");
            assert_eq!((&got[0].2[..], &got[1].2[..]), (&[0xFF][..], &[0x81][..]), "{piece}");
            // Each stands as U+FFFD where it was, at the offset logged.
            let at = log.borrow()[0].at as usize;
            assert_eq!(&out.as_bytes()[at..at + 3], "\u{FFFD}".as_bytes());
            assert!(out.ends_with("赵六\n\u{FFFD}"));
        }
    }

    #[test]
    fn decodes_across_chunk_boundaries() {
        // Long enough that two-byte characters straddle the 64 KiB chunk edges.
        let text: String = (0..40_000).map(|i| format!("{i},张三丰{i}\n")).collect();
        let (gb, _, _) = GB18030.encode(&text);
        // Feed one odd-sized piece at a time, as a slow pipe would.
        struct Dribble<'a>(&'a [u8]);
        impl Read for Dribble<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(buf.len()).min(7777);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut r = DecodeReader::new(Dribble(&gb), Encoding::Gb18030).unwrap();
        let mut out = String::new();
        r.read_to_string(&mut out).unwrap();
        assert_eq!(out, text);
    }
}
