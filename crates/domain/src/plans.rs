//! Kept roving and dispatch plans (docs/plans.md): the states a plan moves
//! through, the planned days of a line (named weekdays or dates), a planned
//! line (a village, its doctor, the days; a dispatched doctor with a term), and
//! a visit made against a plan as a file row (`import plan-visits`).

use crate::records::{parse_id, required, Column, FieldError, Record};
use crate::region::{RegionCode, RegionLevel};
use crate::time::parse_date;
use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where a kept plan stands. A plan is made a draft; a county officer approves
/// it and puts it in force; putting a newer version of the same region and
/// period in force supersedes the older; a plan not yet superseded may be
/// withdrawn. Only a draft is edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanState {
    Draft,
    Approved,
    InForce,
    Superseded,
    Withdrawn,
}

impl PlanState {
    pub const ALL: [PlanState; 5] =
        [PlanState::Draft, PlanState::Approved, PlanState::InForce, PlanState::Superseded, PlanState::Withdrawn];

    pub fn as_str(self) -> &'static str {
        match self {
            PlanState::Draft => "draft",
            PlanState::Approved => "approved",
            PlanState::InForce => "in_force",
            PlanState::Superseded => "superseded",
            PlanState::Withdrawn => "withdrawn",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            PlanState::Draft => "草案",
            PlanState::Approved => "已批准",
            PlanState::InForce => "执行中",
            PlanState::Superseded => "已被替代",
            PlanState::Withdrawn => "已撤回",
        }
    }

    /// Whether a user may move a plan from this state to `to` (superseding is
    /// done by putting a newer version in force, or by saving a newer draft,
    /// never asked for).
    pub fn may_move(self, to: PlanState) -> bool {
        use PlanState::*;
        matches!((self, to), (Draft, Approved) | (Approved, InForce) | (Draft | Approved | InForce, Withdrawn))
    }

    /// Whether no move leads out of this state.
    pub fn is_final(self) -> bool {
        matches!(self, PlanState::Superseded | PlanState::Withdrawn)
    }
}

impl fmt::Display for PlanState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PlanState {
    type Err = String;
    fn from_str(s: &str) -> Result<PlanState, String> {
        let t = s.trim();
        PlanState::ALL.into_iter().find(|p| p.as_str() == t || p.zh() == t).ok_or_else(|| {
            format!("unknown plan state {t:?}; expected one of draft, approved, in_force, superseded, withdrawn")
        })
    }
}

/// What a planned line is: roving visits, or a doctor stationed in the village.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    Rove,
    Dispatch,
}

impl LineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::Rove => "rove",
            LineKind::Dispatch => "dispatch",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            LineKind::Rove => "巡诊",
            LineKind::Dispatch => "派驻",
        }
    }
}

impl fmt::Display for LineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LineKind {
    type Err = String;
    fn from_str(s: &str) -> Result<LineKind, String> {
        match s.trim() {
            "rove" | "巡诊" => Ok(LineKind::Rove),
            "dispatch" | "派驻" => Ok(LineKind::Dispatch),
            t => Err(format!("unknown kind {t:?}; expected rove or dispatch")),
        }
    }
}

const WEEKDAYS: [(&str, Weekday); 7] = [
    ("Mon", Weekday::Mon),
    ("Tue", Weekday::Tue),
    ("Wed", Weekday::Wed),
    ("Thu", Weekday::Thu),
    ("Fri", Weekday::Fri),
    ("Sat", Weekday::Sat),
    ("Sun", Weekday::Sun),
];

/// The planned days of a line: named weekdays (every such day of the plan's
/// period and the line's term is due), or named dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PlanDays {
    /// Bit `n` set: weekday `n` (0 Monday .. 6 Sunday).
    Weekdays(u8),
    /// Dates, ascending, without repeats.
    Dates(Vec<NaiveDate>),
}

impl PlanDays {
    /// Monday to Friday: a dispatched doctor's days unless named.
    pub const WORKING_WEEK: PlanDays = PlanDays::Weekdays(0b1_1111);

    /// Parses `Mon;Wed;Fri` (also `Mon AM;Wed PM` as the planner's half-days
    /// give them, or spaces and commas between) or `2027-01-04;2027-01-11`;
    /// not both kinds in one.
    pub fn parse(s: &str) -> Result<PlanDays, String> {
        let parts: Vec<&str> = s.split([';', ',', ' ']).map(str::trim).filter(|p| !p.is_empty()).collect();
        if parts.is_empty() {
            return Err("no day given: name weekdays (Mon;Wed) or dates (2027-01-04;2027-01-11)".into());
        }
        let mut mask = 0u8;
        let mut dates = Vec::new();
        for p in parts {
            if matches!(p, "AM" | "PM" | "am" | "pm") {
                continue;
            }
            if let Some(i) = WEEKDAYS.iter().position(|(n, _)| n.eq_ignore_ascii_case(p)) {
                mask |= 1 << i;
            } else {
                let d = parse_date(p)
                    .map_err(|_| format!("{p:?} is neither a weekday (Mon .. Sun) nor a date (YYYY-MM-DD)"))?;
                dates.push(d);
            }
        }
        match (mask, dates.is_empty()) {
            (0, true) => Err("no day given: name weekdays (Mon;Wed) or dates (2027-01-04;2027-01-11)".into()),
            (0, false) => {
                dates.sort();
                dates.dedup();
                Ok(PlanDays::Dates(dates))
            }
            (m, true) => Ok(PlanDays::Weekdays(m)),
            _ => Err("give weekdays or dates, not both".into()),
        }
    }

    /// Whether `d` is a planned day (term and period aside).
    pub fn includes(&self, d: NaiveDate) -> bool {
        match self {
            PlanDays::Weekdays(m) => m & (1 << d.weekday().num_days_from_monday()) != 0,
            PlanDays::Dates(v) => v.binary_search(&d).is_ok(),
        }
    }

    /// The planned days from `from` to `to`, both included.
    pub fn count_between(&self, from: NaiveDate, to: NaiveDate) -> u64 {
        if to < from {
            return 0;
        }
        match self {
            PlanDays::Dates(v) => v.iter().filter(|d| (from..=to).contains(*d)).count() as u64,
            PlanDays::Weekdays(_) => {
                let days = (to - from).num_days() as u64 + 1;
                let weeks = days / 7;
                let per_week = self.per_week() as u64;
                let rest = (0..days % 7).filter(|i| self.includes(from + chrono::Duration::days(*i as i64))).count();
                weeks * per_week + rest as u64
            }
        }
    }

    /// Named weekdays in a week (0 for dates).
    pub fn per_week(&self) -> u32 {
        match self {
            PlanDays::Weekdays(m) => m.count_ones(),
            PlanDays::Dates(_) => 0,
        }
    }
}

impl fmt::Display for PlanDays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanDays::Weekdays(m) => {
                let names: Vec<&str> =
                    WEEKDAYS.iter().enumerate().filter(|(i, _)| m & (1 << i) != 0).map(|(_, (n, _))| *n).collect();
                f.write_str(&names.join(";"))
            }
            PlanDays::Dates(v) => {
                let s: Vec<String> = v.iter().map(|d| d.to_string()).collect();
                f.write_str(&s.join(";"))
            }
        }
    }
}

/// One planned line: a village, its doctor and the planned days. A roving line
/// names a practitioner (a roving doctor may serve several villages, one line
/// each); a dispatch line names the dispatched doctor (to be named while a
/// draft) and their term, the first and last day they serve (e.g. two years).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanLine {
    pub village: RegionCode,
    pub kind: LineKind,
    pub practitioner_id: Option<String>,
    pub term_start: Option<NaiveDate>,
    pub term_end: Option<NaiveDate>,
    pub days: PlanDays,
    /// The planner's half-days (`Mon AM;Wed AM`), for people; may be empty.
    pub halfdays: String,
    /// The planner's one-way travel minutes, when it made the line.
    pub travel_minutes: Option<f64>,
}

impl PlanLine {
    /// The checks a line passes alone: a village code, a roving doctor named,
    /// a term in order (and given for a dispatch).
    pub fn check(&self) -> Result<(), FieldError> {
        if self.village.level() != RegionLevel::Village {
            return Err(FieldError {
                column: "village_code",
                reason: format!("{} is not a village's code (12 digits)", self.village),
            });
        }
        if self.kind == LineKind::Rove && self.practitioner_id.is_none() {
            return Err(FieldError { column: "practitioner_id", reason: "a roving line names its doctor".into() });
        }
        if self.kind == LineKind::Dispatch && (self.term_start.is_none() || self.term_end.is_none()) {
            return Err(FieldError {
                column: "term_start",
                reason: "a dispatched doctor serves a term: give its first and last day".into(),
            });
        }
        if let (Some(s), Some(e)) = (self.term_start, self.term_end) {
            if e < s {
                return Err(FieldError { column: "term_end", reason: format!("{e} is before the term's start {s}") });
            }
        }
        Ok(())
    }

    /// The days due from `from` to `to` (both included), inside the term.
    pub fn due_between(&self, from: NaiveDate, to: NaiveDate) -> u64 {
        let from = self.term_start.map_or(from, |s| s.max(from));
        let to = self.term_end.map_or(to, |e| e.min(to));
        self.days.count_between(from, to)
    }
}

/// One roving tour kept with a plan (docs/plans.md, "Tours"): a doctor
/// leaves their facility for a half-day, visits villages in order and comes
/// back; the tour runs on the month's half-days named (`W1 Mon AM;W3 Mon AM`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanTour {
    pub practitioner_id: String,
    pub facility_id: String,
    /// The half-days of a planning month it runs, `;`-separated.
    pub halfdays: String,
    /// The villages in the order visited.
    pub villages: Vec<RegionCode>,
    /// Travel of one run: out, between the villages and back.
    pub travel_minutes: f64,
    /// Travel plus the time in the villages of one run.
    pub duration_minutes: f64,
    /// People of its villages.
    pub population: u64,
}

impl PlanTour {
    /// The checks a tour passes alone: a doctor and facility named, villages
    /// given by their 12-digit codes, each once, times not negative.
    pub fn check(&self) -> Result<(), FieldError> {
        if self.practitioner_id.trim().is_empty() {
            return Err(FieldError { column: "practitioner_id", reason: "a tour names its doctor".into() });
        }
        if self.facility_id.trim().is_empty() {
            return Err(FieldError {
                column: "facility_id",
                reason: "a tour names the facility it leaves from".into(),
            });
        }
        if self.villages.is_empty() {
            return Err(FieldError { column: "villages", reason: "a tour visits at least one village".into() });
        }
        for (i, v) in self.villages.iter().enumerate() {
            if v.level() != RegionLevel::Village {
                return Err(FieldError {
                    column: "villages",
                    reason: format!("{v} is not a village's code (12 digits)"),
                });
            }
            if self.villages[..i].contains(v) {
                return Err(FieldError { column: "villages", reason: format!("{v} is visited twice in one tour") });
            }
        }
        for (column, m) in [("travel_minutes", self.travel_minutes), ("duration_minutes", self.duration_minutes)] {
            if !(m.is_finite() && m >= 0.0) {
                return Err(FieldError { column, reason: format!("{m} is not a number of minutes, 0 or more") });
            }
        }
        Ok(())
    }
}

/// A visit made against a kept plan, as a row of `import plan-visits`
/// (docs/plans.md): the plan, the village, the doctor of the line where the
/// village has several, the day, a note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanVisit {
    pub plan_id: i64,
    pub village: RegionCode,
    pub practitioner_id: Option<String>,
    pub date: NaiveDate,
    pub note: String,
}

impl Record for PlanVisit {
    const KIND: &'static str = "plan-visits";
    const COLUMNS: &'static [Column] = &[
        Column { name: "plan_id", required: true },
        Column { name: "village_code", required: true },
        Column { name: "date", required: true },
        Column { name: "practitioner_id", required: false },
        Column { name: "note", required: false },
    ];

    fn from_fields(f: &[&str]) -> Result<Self, FieldError> {
        let t = required("plan_id", f[0])?;
        let plan_id: i64 = t
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| FieldError { column: "plan_id", reason: format!("{t:?} is not a plan's number") })?;
        let village = RegionCode::parse(required("village_code", f[1])?)
            .map_err(|e| FieldError { column: "village_code", reason: e.0 })?;
        if village.level() != RegionLevel::Village {
            return Err(FieldError { column: "village_code", reason: format!("{village} is not a village's code") });
        }
        let date = parse_date(required("date", f[2])?).map_err(|e| FieldError { column: "date", reason: e.0 })?;
        let practitioner_id = if f[3].trim().is_empty() { None } else { Some(parse_id("practitioner_id", f[3])?) };
        let note = f[4].trim().to_string();
        if note.chars().count() > 500 {
            return Err(FieldError { column: "note", reason: "is longer than 500 characters".into() });
        }
        Ok(PlanVisit { plan_id, village, practitioner_id, date, note })
    }

    fn to_fields(&self) -> Vec<String> {
        vec![
            self.plan_id.to_string(),
            self.village.to_string(),
            self.date.to_string(),
            self.practitioner_id.clone().unwrap_or_default(),
            self.note.clone(),
        ]
    }

    fn key(&self) -> String {
        format!("{}/{}/{}/{}", self.plan_id, self.village, self.practitioner_id.as_deref().unwrap_or(""), self.date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    #[test]
    fn days_parse_and_count() {
        let w = PlanDays::parse("Mon AM;Wed PM;Mon PM").unwrap();
        assert_eq!(w, PlanDays::Weekdays(0b101));
        assert_eq!(w.to_string(), "Mon;Wed");
        // 2027-01-04 is a Monday; four weeks and a day hold 9 Mondays and Wednesdays.
        assert_eq!(w.count_between(d("2027-01-04"), d("2027-02-01")), 9);
        // counted one day at a time, the same
        let mut n = 0;
        let mut x = d("2027-01-04");
        while x <= d("2027-02-01") {
            n += w.includes(x) as u64;
            x = x.succ_opt().unwrap();
        }
        assert_eq!(n, 9);
        let dates = PlanDays::parse("2027-01-11, 2027-01-04;2027-01-11").unwrap();
        assert_eq!(dates.to_string(), "2027-01-04;2027-01-11");
        assert_eq!(dates.count_between(d("2027-01-05"), d("2027-12-31")), 1);
        assert!(PlanDays::parse("Mon;2027-01-04").unwrap_err().contains("not both"));
        assert!(PlanDays::parse("Someday").unwrap_err().contains("neither a weekday"));
        assert!(PlanDays::parse(" ; ").is_err());
    }

    #[test]
    fn moves_and_lines() {
        assert!(PlanState::Draft.may_move(PlanState::Approved));
        assert!(!PlanState::Draft.may_move(PlanState::InForce));
        assert!(!PlanState::Superseded.may_move(PlanState::Withdrawn));
        let line = PlanLine {
            village: RegionCode::parse("341122100201").unwrap(),
            kind: LineKind::Dispatch,
            practitioner_id: Some("P1".into()),
            term_start: Some(d("2027-03-01")),
            term_end: Some(d("2027-02-01")),
            days: PlanDays::WORKING_WEEK,
            halfdays: String::new(),
            travel_minutes: None,
        };
        assert_eq!(line.check().unwrap_err().column, "term_end");
        let line = PlanLine { term_end: Some(d("2029-02-28")), ..line };
        line.check().unwrap();
        // The term bounds the days due: March 2027 has 23 working days.
        assert_eq!(line.due_between(d("2027-01-01"), d("2027-03-31")), 23);
    }

    #[test]
    fn a_visit_row_is_checked() {
        let v = PlanVisit::from_fields(&["7", "341122100201", "2027-01-04", "", "ok"]).unwrap();
        assert_eq!(v.plan_id, 7);
        assert_eq!(PlanVisit::from_fields(&["0", "341122100201", "2027-01-04", "", ""]).unwrap_err().column, "plan_id");
        assert_eq!(
            PlanVisit::from_fields(&["1", "341122100", "2027-01-04", "", ""]).unwrap_err().column,
            "village_code"
        );
        assert_eq!(PlanVisit::from_fields(&["1", "341122100201", "2027-13-04", "", ""]).unwrap_err().column, "date");
    }
}
