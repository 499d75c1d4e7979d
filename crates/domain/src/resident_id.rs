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
