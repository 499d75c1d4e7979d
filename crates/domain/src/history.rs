//! The history of the rural health network (docs/coverage.md, "History"): who
//! employed a practitioner and where they were posted to work, each from a
//! start to an end; which qualifications they held from when until when. The
//! facilities' opening and closing days are fields of [`crate::Facility`].
//!
//! Days are inclusive where a thing *ends* (a posting's `end` is its last day)
//! and exclusive where it *stops* (a qualification `lapses` on the first day it
//! is no longer held, a facility is `closed` from its closing day). An absent
//! start is "from an unknown day", an absent end "still running".

use crate::records::{parse_id, Column, FieldError, Record};
use crate::{parse_date, Qualification};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a posting says of a practitioner and a facility: the facility employs
/// them (人事关系, 编制), or they work there (派驻, 县管乡用, 乡聘村用). A
/// practitioner works, on a day, where a posting of role `posting` places them,
/// and else at their employer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PostingRole {
    /// The facility that employs the practitioner (聘用单位).
    Employer,
    /// The facility where the practitioner actually works (工作单位).
    Posting,
}

impl PostingRole {
    pub const ALL: [PostingRole; 2] = [PostingRole::Employer, PostingRole::Posting];

    pub fn as_str(self) -> &'static str {
        match self {
            PostingRole::Employer => "employer",
            PostingRole::Posting => "posting",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            PostingRole::Employer => "聘用单位",
            PostingRole::Posting => "工作单位",
        }
    }
}

impl fmt::Display for PostingRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PostingRole {
    type Err = String;
    /// The English name or the Chinese label.
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        PostingRole::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(t) || r.zh() == t)
            .ok_or_else(|| format!("{t:?} is not a role of a posting (employer or posting, 聘用单位 or 工作单位)"))
    }
}

/// Whether a day lies in `[start, end]`, either side open when absent.
fn within(start: Option<NaiveDate>, end: Option<NaiveDate>, d: NaiveDate) -> bool {
    start.is_none_or(|s| s <= d) && end.is_none_or(|e| d <= e)
}

/// A practitioner at a facility in one role, from `start` to `end` (both days
/// included; absent: an unknown start, no end yet).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Posting {
    pub practitioner_id: String,
    pub facility_id: String,
    pub role: PostingRole,
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
}

impl Posting {
    /// Whether the posting holds on `d`.
    pub fn covers(&self, d: NaiveDate) -> bool {
        within(self.start, self.end, d)
    }

    /// Whether two postings share a day (whatever their practitioners and roles).
    pub fn overlaps(&self, other: &Posting) -> bool {
        let starts_before_other_ends = match (self.start, other.end) {
            (Some(s), Some(e)) => s <= e,
            _ => true,
        };
        let other_starts_before_this_ends = match (other.start, self.end) {
            (Some(s), Some(e)) => s <= e,
            _ => true,
        };
        starts_before_other_ends && other_starts_before_this_ends
    }

    /// Whether `other` is the same posting, whatever its end: the same
    /// practitioner, facility, role and start. Giving a posting again with
    /// another end sets its end.
    pub fn same_posting(&self, other: &Posting) -> bool {
        self.practitioner_id == other.practitioner_id
            && self.facility_id == other.facility_id
            && self.role == other.role
            && self.start == other.start
    }
}

/// A qualification held by a practitioner from the day it was `obtained` until
/// the day it `lapses` (the first day it is no longer held: expired, revoked,
/// not re-registered); absent: held from an unknown day, never lapsing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct QualificationHeld {
    pub practitioner_id: String,
    pub qualification: Qualification,
    pub obtained: Option<NaiveDate>,
    pub lapses: Option<NaiveDate>,
}

impl QualificationHeld {
    /// Whether the qualification is held on `d`.
    pub fn holds(&self, d: NaiveDate) -> bool {
        self.obtained.is_none_or(|o| o <= d) && self.lapses.is_none_or(|l| d < l)
    }

    /// Whether `other` is the same grant, whatever its lapse: the same
    /// practitioner, qualification and day obtained.
    pub fn same_grant(&self, other: &QualificationHeld) -> bool {
        self.practitioner_id == other.practitioner_id
            && self.qualification == other.qualification
            && self.obtained == other.obtained
    }
}

/// How much a qualification qualifies: the best one held on a day is the one a
/// practitioner serves with (physician, then assistant physician, then rural
/// doctor, then nurse, then other).
pub fn qualification_rank(q: Qualification) -> u8 {
    match q {
        Qualification::Physician => 4,
        Qualification::AssistantPhysician => 3,
        Qualification::RuralDoctor => 2,
        Qualification::Nurse => 1,
        Qualification::Other => 0,
    }
}

/// Whether a facility open from `opened` (included) until `closed` (excluded)
/// is open on `d`.
pub fn open_on(opened: Option<NaiveDate>, closed: Option<NaiveDate>, d: NaiveDate) -> bool {
    opened.is_none_or(|o| o <= d) && closed.is_none_or(|c| d < c)
}

fn opt_day(column: &'static str, s: &str) -> Result<Option<NaiveDate>, FieldError> {
    if s.trim().is_empty() {
        return Ok(None);
    }
    parse_date(s).map(Some).map_err(|e| FieldError { column, reason: e.0 })
}

fn fmt_day(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

/// A facility's opening and closing days as a file gives them: each optional,
/// and a closing day after the opening day.
pub fn parse_open_close(opened: &str, closed: &str) -> Result<(Option<NaiveDate>, Option<NaiveDate>), FieldError> {
    let o = opt_day("opened", opened)?;
    let c = opt_day("closed", closed)?;
    if let (Some(o), Some(c)) = (o, c) {
        if c <= o {
            return Err(FieldError {
                column: "closed",
                reason: format!("{c} is not after the opening day {o}; a facility closes after it opens"),
            });
        }
    }
    Ok((o, c))
}

/// A row of `import postings` (docs/files.md).
impl Record for Posting {
    const KIND: &'static str = "postings";
    const COLUMNS: &'static [Column] = &[
        Column { name: "practitioner_id", required: true },
        Column { name: "facility_id", required: true },
        Column { name: "role", required: true },
        Column { name: "start", required: false },
        Column { name: "end", required: false },
    ];

    fn from_fields(f: &[&str]) -> Result<Self, FieldError> {
        let practitioner_id = parse_id("practitioner_id", f[0])?;
        let facility_id = parse_id("facility_id", f[1])?;
        let role = f[2].parse().map_err(|reason| FieldError { column: "role", reason })?;
        let start = opt_day("start", f[3])?;
        let end = opt_day("end", f[4])?;
        if let (Some(s), Some(e)) = (start, end) {
            if e < s {
                return Err(FieldError { column: "end", reason: format!("{e} is before the start {s}") });
            }
        }
        Ok(Posting { practitioner_id, facility_id, role, start, end })
    }

    fn to_fields(&self) -> Vec<String> {
        vec![
            self.practitioner_id.clone(),
            self.facility_id.clone(),
            self.role.to_string(),
            fmt_day(self.start),
            fmt_day(self.end),
        ]
    }

    fn key(&self) -> String {
        format!("{}/{}/{}/{}", self.practitioner_id, self.facility_id, self.role, fmt_day(self.start))
    }
}

/// A row of `import qualifications` (docs/files.md).
impl Record for QualificationHeld {
    const KIND: &'static str = "qualifications";
    const COLUMNS: &'static [Column] = &[
        Column { name: "practitioner_id", required: true },
        Column { name: "qualification", required: true },
        Column { name: "obtained", required: false },
        Column { name: "lapses", required: false },
    ];

    fn from_fields(f: &[&str]) -> Result<Self, FieldError> {
        let practitioner_id = parse_id("practitioner_id", f[0])?;
        let qualification =
            f[1].parse().map_err(|e: crate::DomainError| FieldError { column: "qualification", reason: e.0 })?;
        let obtained = opt_day("obtained", f[2])?;
        let lapses = opt_day("lapses", f[3])?;
        if let (Some(o), Some(l)) = (obtained, lapses) {
            if l <= o {
                return Err(FieldError {
                    column: "lapses",
                    reason: format!("{l} is not after the day obtained {o}; the qualification would never be held"),
                });
            }
        }
        Ok(QualificationHeld { practitioner_id, qualification, obtained, lapses })
    }

    fn to_fields(&self) -> Vec<String> {
        vec![self.practitioner_id.clone(), self.qualification.to_string(), fmt_day(self.obtained), fmt_day(self.lapses)]
    }

    fn key(&self) -> String {
        format!("{}/{}/{}", self.practitioner_id, self.qualification, fmt_day(self.obtained))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    fn posting(start: Option<&str>, end: Option<&str>) -> Posting {
        Posting {
            practitioner_id: "P1".into(),
            facility_id: "F1".into(),
            role: PostingRole::Posting,
            start: start.map(d),
            end: end.map(d),
        }
    }

    #[test]
    fn a_posting_covers_its_days_both_ends_included() {
        let p = posting(Some("2024-01-01"), Some("2024-06-30"));
        assert!(!p.covers(d("2023-12-31")));
        assert!(p.covers(d("2024-01-01")) && p.covers(d("2024-06-30")));
        assert!(!p.covers(d("2024-07-01")));
        assert!(posting(None, None).covers(d("1900-01-01")));
        assert!(posting(None, Some("2024-01-01")).covers(d("2000-01-01")));
    }

    #[test]
    fn postings_overlap_when_they_share_a_day() {
        let a = posting(Some("2024-01-01"), Some("2024-06-30"));
        assert!(!a.overlaps(&posting(Some("2024-07-01"), None)));
        assert!(a.overlaps(&posting(Some("2024-06-30"), None)));
        assert!(a.overlaps(&posting(None, Some("2024-01-01"))));
        assert!(!a.overlaps(&posting(None, Some("2023-12-31"))));
        assert!(posting(None, None).overlaps(&posting(Some("2030-01-01"), Some("2030-01-01"))));
    }

    #[test]
    fn rows_are_checked_and_read_back() {
        let p = Posting::from_fields(&["D1", "V2", "posting", "2024-01-01", ""]).unwrap();
        assert_eq!((p.role, p.start, p.end), (PostingRole::Posting, Some(d("2024-01-01")), None));
        let back: Vec<String> = p.to_fields();
        assert_eq!(Posting::from_fields(&back.iter().map(String::as_str).collect::<Vec<_>>()), Ok(p));
        assert_eq!(Posting::from_fields(&["D1", "V2", "聘用单位", "", ""]).unwrap().role, PostingRole::Employer);
        let bad = Posting::from_fields(&["D1", "V2", "posting", "2024-01-02", "2024-01-01"]).unwrap_err();
        assert_eq!(bad.column, "end");
        assert_eq!(Posting::from_fields(&["D1", "V2", "boss", "", ""]).unwrap_err().column, "role");
        assert_eq!(Posting::from_fields(&["D1", "V2", "posting", "2024-13-01", ""]).unwrap_err().column, "start");
        // A one-day posting is a posting.
        assert!(Posting::from_fields(&["D1", "V2", "posting", "2024-01-01", "2024-01-01"]).is_ok());

        let q = QualificationHeld::from_fields(&["D1", "执业助理医师", "2019-05-01", "2024-05-01"]).unwrap();
        assert_eq!(q.qualification, Qualification::AssistantPhysician);
        assert!(q.holds(d("2019-05-01")) && q.holds(d("2024-04-30")) && !q.holds(d("2024-05-01")));
        let bad = QualificationHeld::from_fields(&["D1", "rural_doctor", "2019-05-01", "2019-05-01"]).unwrap_err();
        assert_eq!(bad.column, "lapses");
        assert_eq!(QualificationHeld::from_fields(&["D1", "surgeon", "", ""]).unwrap_err().column, "qualification");

        assert_eq!(parse_open_close("", ""), Ok((None, None)));
        assert_eq!(parse_open_close("2020-01-01", "2020-01-01").unwrap_err().column, "closed");
        assert!(open_on(Some(d("2020-01-01")), Some(d("2021-01-01")), d("2020-12-31")));
        assert!(!open_on(Some(d("2020-01-01")), Some(d("2021-01-01")), d("2021-01-01")));
        assert!(!open_on(Some(d("2020-01-01")), None, d("2019-12-31")));
    }
}
