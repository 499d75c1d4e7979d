//! 12-digit statistical division codes (统计用区划代码): 2 digits province, 2 city,
//! 2 county, 3 township, 3 village. The level is read off the code: the trailing
//! zeros say where it stops. A higher unit's code is a prefix of its children's.

use crate::DomainError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The administrative level of a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionLevel {
    Province,
    City,
    County,
    Township,
    Village,
}

impl RegionLevel {
    pub const ALL: [RegionLevel; 5] =
        [RegionLevel::Province, RegionLevel::City, RegionLevel::County, RegionLevel::Township, RegionLevel::Village];

    /// How many leading digits of the 12 are significant at this level.
    pub const fn digits(self) -> usize {
        match self {
            RegionLevel::Province => 2,
            RegionLevel::City => 4,
            RegionLevel::County => 6,
            RegionLevel::Township => 9,
            RegionLevel::Village => 12,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RegionLevel::Province => "province",
            RegionLevel::City => "city",
            RegionLevel::County => "county",
            RegionLevel::Township => "township",
            RegionLevel::Village => "village",
        }
    }

    pub fn parent(self) -> Option<RegionLevel> {
        match self {
            RegionLevel::Province => None,
            RegionLevel::City => Some(RegionLevel::Province),
            RegionLevel::County => Some(RegionLevel::City),
            RegionLevel::Township => Some(RegionLevel::County),
            RegionLevel::Village => Some(RegionLevel::Township),
        }
    }
}

impl fmt::Display for RegionLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RegionLevel {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, DomainError> {
        Ok(match s.trim() {
            "province" | "省" => RegionLevel::Province,
            "city" | "市" => RegionLevel::City,
            "county" | "县" => RegionLevel::County,
            "township" | "乡" | "镇" => RegionLevel::Township,
            "village" | "村" => RegionLevel::Village,
            other => {
                crate::bail!("unknown region level {other:?}; expected province, city, county, township or village")
            }
        })
    }
}

/// A 12-digit statistical division code, stored as a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegionCode(u64);

const POW10: [u64; 13] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
    10_000_000_000,
    100_000_000_000,
    1_000_000_000_000,
];

impl RegionCode {
    /// Parses a code of 2, 4, 6, 9 or 12 digits; shorter codes are right-padded with
    /// zeros, as the division table's own codes are (`34` is `340000000000`).
    pub fn parse(s: &str) -> Result<RegionCode, DomainError> {
        let t = s.trim();
        if t.is_empty() {
            crate::bail!("the region code is empty");
        }
        if !t.bytes().all(|b| b.is_ascii_digit()) {
            crate::bail!("the region code {t:?} must be digits only");
        }
        if ![2, 4, 6, 9, 12].contains(&t.len()) {
            crate::bail!(
                "the region code {t:?} has {} digits; a statistical division code has 12 (or 2, 4, 6, 9 for a province, city, county, township)",
                t.len()
            );
        }
        let v: u64 = t.parse().map_err(|_| DomainError::new(format!("bad region code {t:?}")))?;
        let code = v * POW10[12 - t.len()];
        Self::from_u64(code)
    }

    /// A code from its 12-digit numeric value; checks the province part.
    pub fn from_u64(v: u64) -> Result<RegionCode, DomainError> {
        if !(110_000_000_000..=829_999_999_999).contains(&v) {
            crate::bail!("the region code {v:012} does not start with a province code (11 to 82)");
        }
        let c = RegionCode(v);
        // A code like 340000000001 (village digits set under a zero county) is malformed:
        // every level above the deepest non-zero part must be non-zero too.
        let lvl = c.level();
        for l in RegionLevel::ALL {
            if l >= lvl {
                break;
            }
            if l == RegionLevel::Province {
                continue;
            }
            // Prefecture-level cities without counties (东莞 4419, 中山 4420, 儋州 4604)
            // carry their towns directly: the NBS code of 东城街道 is 441900003000, with
            // county digits 00 under a real city. Only the county level may be skipped.
            if l == RegionLevel::County && c.part(RegionLevel::City) != 0 {
                continue;
            }
            let part = c.part(l);
            if part == 0 {
                crate::bail!("the region code {v:012} skips the {l} level (its {l} digits are zero)");
            }
        }
        Ok(c)
    }

    pub fn as_u64(self) -> u64 {
        self.0
    }

    /// The digits of one level alone (e.g. the 3 township digits).
    fn part(self, l: RegionLevel) -> u64 {
        let hi = l.digits();
        let lo = l.parent().map(|p| p.digits()).unwrap_or(0);
        (self.0 / POW10[12 - hi]) % POW10[hi - lo]
    }

    /// The level, from the trailing zeros.
    pub fn level(self) -> RegionLevel {
        let v = self.0;
        if v.is_multiple_of(POW10[10]) {
            RegionLevel::Province
        } else if v.is_multiple_of(POW10[8]) {
            RegionLevel::City
        } else if v.is_multiple_of(POW10[6]) {
            RegionLevel::County
        } else if v.is_multiple_of(POW10[3]) {
            RegionLevel::Township
        } else {
            RegionLevel::Village
        }
    }

    /// The code truncated to a level (a village's county, say); `None` if the code
    /// is above that level.
    pub fn ancestor(self, l: RegionLevel) -> Option<RegionCode> {
        if l > self.level() {
            return None;
        }
        let m = POW10[12 - l.digits()];
        Some(RegionCode(self.0 / m * m))
    }

    /// The nearest enclosing region's code, skipping levels whose digits are zero
    /// (a city-less province-administered county's parent is its province).
    pub fn parent(self) -> Option<RegionCode> {
        let mut l = self.level().parent()?;
        loop {
            let a = self.ancestor(l).expect("ancestor of a lower level exists");
            if a.level() == l || l == RegionLevel::Province {
                return Some(a);
            }
            l = l.parent()?;
        }
    }

    /// The significant digits: `34`, `3411`, `341122`, `341122100`, or all 12.
    pub fn short(self) -> String {
        let s = format!("{:012}", self.0);
        s[..self.level().digits()].to_string()
    }

    /// Whether this code lies under the prefix (a string of digits, `""` for all).
    pub fn starts_with(self, prefix: &str) -> bool {
        let s = format!("{:012}", self.0);
        s.starts_with(prefix)
    }

    /// Whether `self` is `other` or lies under it.
    pub fn is_within(self, other: RegionCode) -> bool {
        match self.ancestor(other.level()) {
            Some(a) => a == other,
            None => false,
        }
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:012}", self.0)
    }
}

impl FromStr for RegionCode {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, DomainError> {
        RegionCode::parse(s)
    }
}

impl TryFrom<String> for RegionCode {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, DomainError> {
        RegionCode::parse(&s)
    }
}

impl From<RegionCode> for String {
    fn from(c: RegionCode) -> String {
        c.to_string()
    }
}

/// Checks a region-scope prefix (a user's scope, a threshold's region): empty, or
/// 2, 4, 6, 9 or 12 digits.
pub fn parse_prefix(s: &str) -> Result<String, DomainError> {
    let t = s.trim();
    if !t.bytes().all(|b| b.is_ascii_digit()) || ![0, 2, 4, 6, 9, 12].contains(&t.len()) {
        crate::bail!("{t:?} is not a region prefix: use 2 digits for a province, 4 a city, 6 a county, 9 a township or 12 a village");
    }
    Ok(t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_parents() {
        let v = RegionCode::parse("341122100201").unwrap();
        assert_eq!(v.level(), RegionLevel::Village);
        let t = v.parent().unwrap();
        assert_eq!(t.to_string(), "341122100000");
        assert_eq!(t.level(), RegionLevel::Township);
        assert_eq!(t.parent().unwrap().short(), "341122");
        assert_eq!(RegionCode::parse("3411").unwrap().parent().unwrap().short(), "34");
        assert_eq!(RegionCode::parse("34").unwrap().parent(), None);
        assert!(v.is_within(RegionCode::parse("3411").unwrap()));
        assert!(!v.is_within(RegionCode::parse("3412").unwrap()));
        assert!(v.starts_with("341122"));
    }

    #[test]
    fn direct_counties_skip_the_city_level() {
        // 429004 (仙桃市) is a county-level city directly under Hubei: city digits 90.
        let c = RegionCode::parse("429004").unwrap();
        assert_eq!(c.level(), RegionLevel::County);
        assert_eq!(c.parent().unwrap().short(), "4290");
    }

    #[test]
    fn towns_of_cities_without_counties_skip_the_county_level() {
        let t = RegionCode::parse("441900003").unwrap();
        assert_eq!(t.level(), RegionLevel::Township);
        assert_eq!(t.parent().unwrap().short(), "4419");
        assert!(RegionCode::parse("340000003").is_err());
    }

    #[test]
    fn refuses_bad_codes() {
        for bad in ["", "34112", "3411221002011", "34x122", "990000", "00", "340000000001"] {
            let e = RegionCode::parse(bad);
            assert!(e.is_err(), "{bad} accepted");
        }
        let e = RegionCode::parse("34112").unwrap_err().to_string();
        assert!(e.contains("5 digits"), "{e}");
    }
}
