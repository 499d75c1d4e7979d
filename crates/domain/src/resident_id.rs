//! The 18-digit citizen identity number (公民身份号码, GB 11643-1999): six digits of
//! address code, eight of birth date, three of sequence (odd for men, even for
//! women) and an ISO 7064 MOD 11-2 check character (`0`-`9` or `X`).

use crate::DomainError;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: &[u8; 11] = b"10X98765432";

/// A valid resident ID. Kept as the number of its first 17 digits (the check
/// character follows from them), so it is 8 bytes and cheap to hash and sort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ResidentId(u64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

/// The days of month `m` (1 to 12) of year `y` in the Gregorian calendar.
fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn check_char(digits17: u64) -> u8 {
    let mut v = digits17;
    let mut sum = 0u32;
    for i in (0..17).rev() {
        sum += (v % 10) as u32 * WEIGHTS[i];
        v /= 10;
    }
    CHECK[(sum % 11) as usize]
}

impl ResidentId {
    pub fn parse(s: &str) -> Result<ResidentId, DomainError> {
        if let Some(id) = ResidentId::parse_plain(s.as_bytes()) {
            return Ok(id);
        }
        ResidentId::parse_slow(s)
    }

    /// The ID written plainly (exactly 18 bytes: 17 digits, then a digit or
    /// `X`/`x`) and valid, in one pass over the bytes: the check sum summed as
    /// the digits are read, the birth date checked from its digits. `None`
    /// for anything else, valid or not ([`ResidentId::parse`] then says
    /// what); where this gives an ID, `parse` gives the same.
    #[inline]
    pub fn parse_plain(b: &[u8]) -> Option<ResidentId> {
        let b: &[u8; 18] = b.try_into().ok()?;
        let (mut v, mut sum) = (0u64, 0u32);
        let mut bad = 0u8;
        for i in 0..17 {
            let d = b[i].wrapping_sub(b'0');
            bad |= u8::from(d > 9);
            v = v * 10 + u64::from(d);
            sum += u32::from(d) * WEIGHTS[i];
        }
        if bad != 0 || CHECK[(sum % 11) as usize] != b[17].to_ascii_uppercase() {
            return None;
        }
        let digits = |from: usize, to: usize| b[from..to].iter().fold(0u32, |n, &c| n * 10 + u32::from(c - b'0'));
        let (y, m, d) = (digits(6, 10), digits(10, 12), digits(12, 14));
        if !(1880..=2100).contains(&y) || !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
            return None;
        }
        let (p2, p3) = (v / 1_000_000_000_000_000, v / 100_000_000_000_000);
        if !(11..=82).contains(&p2) && !(11..=82).contains(&p3) {
            return None;
        }
        Some(ResidentId(v))
    }

    /// [`ResidentId::parse`] of any text: trimmed, each fault named.
    fn parse_slow(s: &str) -> Result<ResidentId, DomainError> {
        let t = s.trim();
        let b = t.as_bytes();
        if b.len() != 18 {
            crate::bail!("the resident ID {t:?} has {} characters; it must have 18", t.chars().count());
        }
        let mut v: u64 = 0;
        for (i, &c) in b[..17].iter().enumerate() {
            if !c.is_ascii_digit() {
                crate::bail!("the resident ID {t:?} has a non-digit at position {}", i + 1);
            }
            v = v * 10 + (c - b'0') as u64;
        }
        let last = b[17].to_ascii_uppercase();
        if !(last.is_ascii_digit() || last == b'X') {
            crate::bail!("the resident ID {t:?} must end with a digit or X");
        }
        let expect = check_char(v);
        if last != expect {
            crate::bail!(
                "the resident ID {t:?} fails its check digit: the last character should be {} (mistyped digit?)",
                expect as char
            );
        }
        let id = ResidentId(v);
        if id.birth_date().is_none() {
            crate::bail!("the resident ID {t:?} holds no valid birth date (digits 7 to 14 are {})", &t[6..14]);
        }
        if !(11..=82).contains(&(v / 1_000_000_000_000_000)) && !(11..=82).contains(&(v / 100_000_000_000_000)) {
            crate::bail!("the resident ID {t:?} does not start with a province code (11 to 82)");
        }
        Ok(id)
    }

    /// Builds the ID of a person from its parts, computing the check character; for
    /// the synthetic province and tests. `seq` is 0..=999 (odd for men).
    pub fn from_parts(address6: u32, birth: NaiveDate, seq: u16) -> Result<ResidentId, DomainError> {
        use chrono::Datelike;
        if !(110_000..=829_999).contains(&address6) || seq > 999 {
            crate::bail!("bad parts for a resident ID");
        }
        let ymd = birth.year() as u64 * 10_000 + birth.month() as u64 * 100 + birth.day() as u64;
        let v = address6 as u64 * 100_000_000_000 + ymd * 1_000 + seq as u64;
        Ok(ResidentId(v))
    }

    /// The first 17 digits as a number (the store keeps this).
    pub fn as_u64(self) -> u64 {
        self.0
    }

    pub fn from_u64(v: u64) -> Result<ResidentId, DomainError> {
        let id = ResidentId(v);
        ResidentId::parse(&id.to_string())
    }

    /// The six-digit address code of the place of first registration.
    pub fn address_code(self) -> u32 {
        (self.0 / 100_000_000_000) as u32
    }

    pub fn birth_date(self) -> Option<NaiveDate> {
        let ymd = (self.0 / 1_000) % 100_000_000;
        let y = (ymd / 10_000) as i32;
        if !(1880..=2100).contains(&y) {
            return None;
        }
        NaiveDate::from_ymd_opt(y, ((ymd / 100) % 100) as u32, (ymd % 100) as u32)
    }

    pub fn sex(self) -> Sex {
        if (self.0 % 1_000) % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// The ID with its middle hidden, for roles that need not see it:
    /// `341122********123X`.
    pub fn masked(self) -> String {
        let s = self.to_string();
        format!("{}********{}", &s[..6], &s[14..])
    }
}

impl fmt::Display for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:017}{}", self.0, check_char(self.0) as char)
    }
}

impl FromStr for ResidentId {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, DomainError> {
        ResidentId::parse(s)
    }
}

impl TryFrom<String> for ResidentId {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, DomainError> {
        ResidentId::parse(&s)
    }
}

impl From<ResidentId> for String {
    fn from(c: ResidentId) -> String {
        c.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // The example number printed in GB 11643-1999 itself.
    const STANDARD_EXAMPLE: &str = "11010519491231002X";

    #[test]
    fn accepts_the_standard_example() {
        let id = ResidentId::parse(STANDARD_EXAMPLE).unwrap();
        assert_eq!(id.to_string(), STANDARD_EXAMPLE);
        assert_eq!(id.birth_date(), NaiveDate::from_ymd_opt(1949, 12, 31));
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.address_code(), 110105);
        assert_eq!(id.masked(), "110105********002X");
        // a lower-case x is the same ID
        assert_eq!(ResidentId::parse("11010519491231002x").unwrap(), id);
    }

    #[test]
    fn refuses_bad_ids_with_reasons() {
        let e = ResidentId::parse("110105194912310021").unwrap_err().to_string();
        assert!(e.contains("check digit") && e.contains("X"), "{e}");
        let e = ResidentId::parse("1101051949123100").unwrap_err().to_string();
        assert!(e.contains("18"), "{e}");
        let e = ResidentId::parse("11010519491331002X").unwrap_err().to_string();
        assert!(e.contains("birth date") || e.contains("check digit"), "{e}");
        assert!(ResidentId::parse("1101051949123100AX").is_err());
    }

    #[test]
    fn an_impossible_birth_date_is_refused_even_with_a_right_check_digit() {
        // 1949-02-30 with its own correct check character.
        let v: u64 = 11010519490230002;
        let s = format!("{v:017}{}", check_char(v) as char);
        let e = ResidentId::parse(&s).unwrap_err().to_string();
        assert!(e.contains("birth date"), "{e}");
    }

    proptest! {
        #[test]
        fn built_ids_round_trip(addr in 110000u32..829999, days in 0i64..40000, seq in 0u16..1000) {
            let birth = NaiveDate::from_ymd_opt(1920, 1, 1).unwrap() + chrono::Duration::days(days);
            let id = ResidentId::from_parts(addr, birth, seq).unwrap();
            let back = ResidentId::parse(&id.to_string()).unwrap();
            prop_assert_eq!(back, id);
            prop_assert_eq!(back.birth_date(), Some(birth));
        }

        /// The plain path gives what the general one gives, on IDs valid and
        /// not: any date (leap days, day 0, month 13, years out of range), any
        /// leading digits, a wrong or lower-case check character, a stray byte.
        #[test]
        fn the_plain_path_agrees_with_the_general_one(
            lead in 0u64..1000, y in 1870u64..2110, m in 0u64..14, d in 0u64..33, seq in 0u64..1000,
            check in prop_oneof![4 => Just(None), 1 => (0usize..13).prop_map(Some)],
            stray in prop_oneof![8 => Just(None), 1 => (0usize..18, any::<u8>()).prop_map(Some)],
            pad in prop_oneof![8 => Just(""), 1 => Just(" ")],
        ) {
            let v = lead * 100_000_000_000_000 + (y * 10_000 + m * 100 + d) * 1_000 + seq;
            let c = match check {
                None => check_char(v),
                Some(k) => b"0123456789Xx "[k],
            };
            let mut b = format!("{v:017}").into_bytes();
            b.truncate(17);
            b.push(c);
            if let Some((at, byte)) = stray {
                b[at] = byte;
            }
            let Ok(s) = String::from_utf8(b) else { return Ok(()) };
            let s = format!("{pad}{s}");
            let slow = ResidentId::parse_slow(&s).ok();
            if let Some(id) = ResidentId::parse_plain(s.as_bytes()) {
                prop_assert_eq!(Some(id), slow, "{}", s);
            } else if pad.is_empty() && s.len() == 18 && s.bytes().all(|c| c.is_ascii_alphanumeric()) {
                // Only text the general path trims or refuses is left to it.
                prop_assert!(slow.is_none(), "{} was left to the general path", s);
            }
            prop_assert_eq!(ResidentId::parse(&s).ok(), slow);
        }

        #[test]
        fn any_single_digit_change_is_caught(days in 0i64..40000, seq in 0u16..1000, pos in 0usize..17, delta in 1u8..10) {
            let birth = NaiveDate::from_ymd_opt(1920, 1, 1).unwrap() + chrono::Duration::days(days);
            let id = ResidentId::from_parts(341122, birth, seq).unwrap().to_string();
            let mut b = id.into_bytes();
            b[pos] = b'0' + (b[pos] - b'0' + delta) % 10;
            let s = String::from_utf8(b).unwrap();
            prop_assert!(ResidentId::parse(&s).is_err());
        }
    }
}
