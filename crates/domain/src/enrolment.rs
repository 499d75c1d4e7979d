//! Basic medical insurance enrolment (参保) by person and year, with the
//! premium-subsidy category (docs/desk.md, "Enrolment"). Settlement reads only
//! whether a person is enrolled for a claim's year; the category is kept for
//! the desk and the reports.

use crate::ResidentId;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Who pays the individual premium (个人缴费资助类别).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubsidyCategory {
    /// Paid in full by medical assistance (特困供养人员: 全额资助).
    Full,
    /// Partly paid (低保对象, 返贫致贫人口, 监测对象: 定额资助).
    Partial,
    /// No subsidy: the person pays the premium.
    None,
}

impl SubsidyCategory {
    pub const ALL: &'static [SubsidyCategory] =
        &[SubsidyCategory::Full, SubsidyCategory::Partial, SubsidyCategory::None];

    pub fn as_str(self) -> &'static str {
        match self {
            SubsidyCategory::Full => "full",
            SubsidyCategory::Partial => "partial",
            SubsidyCategory::None => "none",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            SubsidyCategory::Full => "全额资助",
            SubsidyCategory::Partial => "定额资助",
            SubsidyCategory::None => "不资助",
        }
    }
}

impl fmt::Display for SubsidyCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SubsidyCategory {
    type Err = String;
    /// The English name or the Chinese label.
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        SubsidyCategory::ALL.iter().copied().find(|c| c.as_str().eq_ignore_ascii_case(t) || c.zh() == t).ok_or_else(
            || format!("{t:?} is not a subsidy category (full, partial, none, or 全额资助, 定额资助, 不资助)"),
        )
    }
}

/// A person enrolled for a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolment {
    pub person_id: ResidentId,
    pub year: i32,
    pub category: SubsidyCategory,
    /// The day the enrolment (and payment of the premium) was recorded.
    pub enrolled_on: NaiveDate,
}

/// Whether a person is enrolled, as a persons file or a cluster's table says
/// it (docs/files.md): `true`/`yes`/`1`/`是` or `false`/`no`/`0`/`否`, any
/// case; empty is enrolled.
pub fn parse_enrolled(v: &str) -> Result<bool, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "" | "true" | "yes" | "1" | "是" => Ok(true),
        "false" | "no" | "0" | "否" => Ok(false),
        other => Err(format!("{other:?} is not a yes or no (true/false, yes/no, 1/0, 是/否)")),
    }
}

/// An enrolment year: 1990 to 2100, like a policy's.
pub fn parse_year(s: &str) -> Result<i32, String> {
    match s.trim().parse::<i32>() {
        Ok(y) if (1990..=2100).contains(&y) => Ok(y),
        Ok(y) => Err(format!("{y} is not a plausible year (1990 to 2100)")),
        Err(_) => Err(format!("{:?} is not a year", s.trim())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Record;

    #[test]
    fn categories_read_in_both_languages_and_rows_are_checked() {
        assert_eq!("全额资助".parse::<SubsidyCategory>(), Ok(SubsidyCategory::Full));
        assert_eq!(" Partial ".parse::<SubsidyCategory>(), Ok(SubsidyCategory::Partial));
        assert!("特困".parse::<SubsidyCategory>().is_err());
        let e = Enrolment::from_fields(&["341122197001010003", "2024", "none", "2023-12-20"]).unwrap();
        assert_eq!((e.year, e.category), (2024, SubsidyCategory::None));
        assert_eq!(Enrolment::from_fields(&e.to_fields().iter().map(String::as_str).collect::<Vec<_>>()), Ok(e));
        let bad = Enrolment::from_fields(&["341122197001010003", "1900", "none", "2023-12-20"]).unwrap_err();
        assert_eq!(bad.column, "year");
        let bad = Enrolment::from_fields(&["341122197001010003", "2024", "free", "2023-12-20"]).unwrap_err();
        assert_eq!(bad.column, "category");
    }
}
