//! The daily work of the programme as records: a household's case from its
//! opening to its close, the visits made, and the family-doctor contracts
//! signed (docs/work.md). The rules of a case's moves are the application's
//! (`app::work`); the store keeps what they allow.

use crate::{Fen, PovertyStatus, RegionCode, ResidentId};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where a case stands. One case per household per risk episode: every state
/// but `closed` is open, and a household has at most one open case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// Opened (by an alert, a visit or an officer); nobody is responsible yet.
    Open,
    /// A responsible person verifies it by the deadline.
    Assigned,
    /// Verified on a visit (核实), with the decision on monitoring.
    Verified,
    /// Assistance measures are being recorded (帮扶).
    Assisting,
    /// Closed, with a reason.
    Closed,
}

impl CaseState {
    pub const ALL: [CaseState; 5] =
        [CaseState::Open, CaseState::Assigned, CaseState::Verified, CaseState::Assisting, CaseState::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::Open => "open",
            CaseState::Assigned => "assigned",
            CaseState::Verified => "verified",
            CaseState::Assisting => "assisting",
            CaseState::Closed => "closed",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            CaseState::Open => "待分派",
            CaseState::Assigned => "待核实",
            CaseState::Verified => "已核实",
            CaseState::Assisting => "帮扶中",
            CaseState::Closed => "已结案",
        }
    }

    /// Whether the case still needs verifying (its deadline runs).
    pub fn awaits_verification(self) -> bool {
        matches!(self, CaseState::Open | CaseState::Assigned)
    }
}

impl fmt::Display for CaseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CaseState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        CaseState::ALL
            .into_iter()
            .find(|c| c.as_str() == s.trim())
            .ok_or_else(|| format!("unknown case state {s:?} (open, assigned, verified, assisting, closed)"))
    }
}

/// Why a case was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// 风险消除: assistance recorded, and a later verification visit found the
    /// risk gone.
    RiskEliminated,
    /// 核实无风险: the verification found no risk; the household is not
    /// monitored and nothing was given.
    NoRisk,
}

impl CloseReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::RiskEliminated => "risk_eliminated",
            CloseReason::NoRisk => "no_risk",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            CloseReason::RiskEliminated => "风险消除",
            CloseReason::NoRisk => "核实无风险",
        }
    }
}

impl FromStr for CloseReason {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "risk_eliminated" | "风险消除" => Ok(CloseReason::RiskEliminated),
            "no_risk" | "核实无风险" => Ok(CloseReason::NoRisk),
            other => Err(format!("unknown close reason {other:?} (risk_eliminated, no_risk)")),
        }
    }
}

/// The kind of a visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitKind {
    /// A village doctor's or cadre's visit to a household (入户走访).
    Household,
    /// A verification visit of a case (核实).
    Verification,
    /// A follow-up of a contracted chronic patient (随访).
    FollowUp,
}

impl VisitKind {
    pub const ALL: [VisitKind; 3] = [VisitKind::Household, VisitKind::Verification, VisitKind::FollowUp];

    pub fn as_str(self) -> &'static str {
        match self {
            VisitKind::Household => "household",
            VisitKind::Verification => "verification",
            VisitKind::FollowUp => "follow_up",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            VisitKind::Household => "入户走访",
            VisitKind::Verification => "核实",
            VisitKind::FollowUp => "随访",
        }
    }
}

impl FromStr for VisitKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        VisitKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim() || k.zh() == s.trim())
            .ok_or_else(|| format!("unknown visit kind {s:?} (household, verification, follow_up)"))
    }
}

/// A visit as recorded: to a household, about one person where it is a
/// follow-up, on a day, by whom, what was found and when to come back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    pub household_id: String,
    pub person_id: Option<ResidentId>,
    pub kind: VisitKind,
    pub date: NaiveDate,
    /// Who went (names or roles, as the visitor writes them).
    pub visitors: String,
    pub findings: String,
    pub next_date: Option<NaiveDate>,
}

/// An assistance measure of a case: what kind, how much, from which fund or
/// agency, on which day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseMeasure {
    pub kind: String,
    pub amount: Fen,
    pub fund: String,
    pub date: NaiveDate,
    pub note: String,
}

/// A family-doctor contract (家庭医生签约).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoctorContract {
    pub person_id: ResidentId,
    pub practitioner_id: String,
    pub signed: NaiveDate,
    pub ends: NaiveDate,
}

/// What a case's rules read of it, in the transaction that moves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFacts {
    pub id: i64,
    pub state: CaseState,
    pub version: i64,
    pub village: RegionCode,
    pub assignee: String,
    pub measures: usize,
    /// The day of the latest measure recorded.
    pub last_measure: Option<NaiveDate>,
    /// The day of the latest verification visit.
    pub last_verification: Option<NaiveDate>,
    /// The decision of the latest verification: whether the household is monitored.
    pub monitored: Option<bool>,
}

/// A move of a case, as a user asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseMove {
    /// Makes `assignee` responsible, to verify by `due`.
    Assign { assignee: String, due: NaiveDate },
    /// A verification visit, and the decision on monitoring. Where the
    /// household becomes monitored, its members of the statuses `to_monitor`
    /// become monitored from the visit's day.
    Verify { visit: Visit, monitored: bool, to_monitor: Vec<PovertyStatus> },
    /// Records an assistance measure.
    Measure(CaseMeasure),
    /// Closes the case on the day `on` (the day the move is made: the day
    /// that counts against the deadline to close).
    Close { reason: CloseReason, note: String, on: NaiveDate },
}

impl CaseMove {
    /// The word of the move in the case's history and the audit log.
    pub fn action(&self) -> &'static str {
        match self {
            CaseMove::Assign { .. } => "assign",
            CaseMove::Verify { .. } => "verify",
            CaseMove::Measure(_) => "measure",
            CaseMove::Close { .. } => "close",
        }
    }
}

/// Why a network case (a village or township centre left blank, docs/work.md,
/// "Network cases") was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkCloseReason {
    /// 已补充: a posting (or a new doctor, a clinic reopened) filled the gap;
    /// the network alert is resolved.
    Filled,
    /// 派驻或巡诊: a dispatched doctor or a roving plan serves the village.
    Planned,
    /// 无需补充: the gap needs no filling (the village merged, the centre
    /// absorbed); said why.
    NotNeeded,
}

impl NetworkCloseReason {
    pub const ALL: [NetworkCloseReason; 3] =
        [NetworkCloseReason::Filled, NetworkCloseReason::Planned, NetworkCloseReason::NotNeeded];

    pub fn as_str(self) -> &'static str {
        match self {
            NetworkCloseReason::Filled => "filled",
            NetworkCloseReason::Planned => "planned",
            NetworkCloseReason::NotNeeded => "not_needed",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            NetworkCloseReason::Filled => "已补充",
            NetworkCloseReason::Planned => "派驻或巡诊",
            NetworkCloseReason::NotNeeded => "无需补充",
        }
    }
}

impl FromStr for NetworkCloseReason {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        NetworkCloseReason::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim() || r.zh() == s.trim())
            .ok_or_else(|| format!("unknown close reason {s:?} (filled, planned, not_needed)"))
    }
}

/// What the rules of a network case read of it, in the transaction that
/// moves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkCaseFacts {
    pub id: i64,
    pub state: CaseState,
    pub version: i64,
    /// The village, or the township centre's region.
    pub region: RegionCode,
    pub assignee: String,
    /// The steps recorded to fill the gap.
    pub steps: usize,
    /// Whether its network alert is resolved: the last computation no longer
    /// found the gap.
    pub alert_resolved: bool,
    /// For a close as planned: the kept plan in force that covers the place
    /// (its id and version), the one asked for or else the latest put in
    /// force; `None` when there is none such (docs/plans.md, "Network cases
    /// closed as planned").
    pub covering_plan: Option<(i64, i64)>,
}

/// A move of a network case, as a user asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkCaseMove {
    /// Makes `assignee` responsible, to verify by `due`.
    Assign { assignee: String, due: NaiveDate },
    /// The gap confirmed on the ground on `on` (核实), with what was found.
    Verify { on: NaiveDate, note: String },
    /// A step taken to fill the gap on `on` (a recruitment, a posting being
    /// arranged, a plan drafted).
    Step { on: NaiveDate, note: String },
    /// Closes the case on the day `on`; closed as planned, by the kept plan
    /// `plan` (its id), or by the plan in force that covers the place.
    Close { reason: NetworkCloseReason, note: String, on: NaiveDate, plan: Option<i64> },
}

impl NetworkCaseMove {
    /// The word of the move in the case's history and the audit log.
    pub fn action(&self) -> &'static str {
        match self {
            NetworkCaseMove::Assign { .. } => "assign",
            NetworkCaseMove::Verify { .. } => "verify",
            NetworkCaseMove::Step { .. } => "step",
            NetworkCaseMove::Close { .. } => "close",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back() {
        for s in CaseState::ALL {
            assert_eq!(s.as_str().parse::<CaseState>(), Ok(s));
        }
        for k in VisitKind::ALL {
            assert_eq!(k.as_str().parse::<VisitKind>(), Ok(k));
            assert_eq!(k.zh().parse::<VisitKind>(), Ok(k));
        }
        assert_eq!("风险消除".parse::<CloseReason>(), Ok(CloseReason::RiskEliminated));
        assert!("done".parse::<CloseReason>().unwrap_err().contains("risk_eliminated"));
        assert!("gone".parse::<CaseState>().is_err());
        for r in NetworkCloseReason::ALL {
            assert_eq!(r.as_str().parse::<NetworkCloseReason>(), Ok(r));
            assert_eq!(r.zh().parse::<NetworkCloseReason>(), Ok(r));
        }
        assert!("done".parse::<NetworkCloseReason>().unwrap_err().contains("not_needed"));
    }
}
