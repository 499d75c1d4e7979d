//! What monitoring finds and what an alert is, as plain records: the engine
//! (`monitor`) computes them, the store keeps them. The rules of the life cycle
//! (which moves are allowed, when) are `monitor::lifecycle`'s.

use crate::{Fen, Person, PovertyStatus, RegionCode, ResidentId};
use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The out-of-pocket cost of one settled claim: what monitoring needs of a
/// settlement (docs/settlement.md, "Output").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettledCost {
    pub person_id: ResidentId,
    /// The policy year of the claim.
    pub year: i32,
    pub out_of_pocket: Fen,
}

/// What monitoring needs of a person: who, of which household, with which
/// status. Files and the store may carry more; monitoring reads no more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub person_id: ResidentId,
    pub household_id: String,
    pub status: PovertyStatus,
}

impl From<&Person> for Member {
    fn from(p: &Person) -> Self {
        Member { person_id: p.person_id, household_id: p.household_id.clone(), status: p.status }
    }
}

/// A figure an alert reports: money, or a text such as a diagnosis code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Figure {
    Money(Fen),
    Text(String),
}

impl fmt::Display for Figure {
    /// Money in yuan with two decimals; text as it is.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Figure::Money(m) => write!(f, "{m}"),
            Figure::Text(t) => f.write_str(t),
        }
    }
}

/// One alert raised by one rule for one household and year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: String,
    pub household_id: String,
    pub village_code: RegionCode,
    pub year: i32,
    pub value: Figure,
    pub threshold: Option<Figure>,
}

/// Where an alert stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// Raised, nobody has looked yet.
    Open,
    /// An officer is checking the household's situation (核实).
    Verifying,
    /// Verified; assistance is being given (帮扶).
    Assisting,
    /// Assistance recorded and the risk is closed (风险消除).
    Resolved,
    /// Not a real risk, with a reason (e.g. the cost was reimbursed elsewhere).
    Dismissed,
}

impl AlertState {
    pub const ALL: [AlertState; 5] =
        [AlertState::Open, AlertState::Verifying, AlertState::Assisting, AlertState::Resolved, AlertState::Dismissed];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Open => "open",
            AlertState::Verifying => "verifying",
            AlertState::Assisting => "assisting",
            AlertState::Resolved => "resolved",
            AlertState::Dismissed => "dismissed",
        }
    }

    /// Resolved and dismissed alerts are closed for their year.
    pub fn is_closed(self) -> bool {
        matches!(self, AlertState::Resolved | AlertState::Dismissed)
    }

    /// The states an alert may move to from this one.
    pub fn next(self) -> &'static [AlertState] {
        match self {
            AlertState::Open => &[AlertState::Verifying, AlertState::Dismissed],
            AlertState::Verifying => &[AlertState::Assisting, AlertState::Dismissed],
            AlertState::Assisting => &[AlertState::Resolved],
            AlertState::Resolved | AlertState::Dismissed => &[],
        }
    }
}

impl fmt::Display for AlertState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AlertState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        AlertState::ALL.iter().copied().find(|a| a.as_str() == s.trim()).ok_or_else(|| {
            format!("unknown alert state {s:?}; expected one of: open, verifying, assisting, resolved, dismissed")
        })
    }
}

/// An alert's identity: one per rule, household and year.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AlertKey {
    pub rule: String,
    pub household_id: String,
    pub year: i32,
}

impl From<&Finding> for AlertKey {
    fn from(f: &Finding) -> Self {
        AlertKey { rule: f.rule.clone(), household_id: f.household_id.clone(), year: f.year }
    }
}

/// One recorded change of state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transition {
    pub from: AlertState,
    pub to: AlertState,
    pub by: String,
    pub at: NaiveDateTime,
    pub note: String,
}

/// Assistance given to the household (帮扶措施): what, how much, by whom, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assistance {
    /// What was given: `medical_assistance`, `temporary_relief`, `low_income_enrolment`, ...
    pub kind: String,
    pub amount: Fen,
    pub by: String,
    pub date: NaiveDate,
}

/// An alert and its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub key: AlertKey,
    pub village_code: RegionCode,
    pub value: Figure,
    pub threshold: Option<Figure>,
    pub state: AlertState,
    pub raised_at: NaiveDateTime,
    pub history: Vec<Transition>,
    pub measures: Vec<Assistance>,
}

/// What a new run means for the alerts kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Change {
    /// A crossing with no alert yet: raise one, open.
    Raise(Finding),
    /// An alert still being handled whose measured figures changed: update them.
    Update { key: AlertKey, value: Figure, threshold: Option<Figure> },
    /// An alert still being handled that the new run no longer raises: it stays as
    /// it is (a person closes alerts), but the officer should know.
    NoLongerRaised { key: AlertKey },
}
