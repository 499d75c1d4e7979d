//! The application's records as pages, the API and the command line see them:
//! accounts, sessions and the audit log, persons and households with what their
//! pages show, alerts with their history, the overview's figures, policies and the
//! outcomes of settling and voiding, and what the report and the what-if read.
//!
//! Every registry read of [`crate::App`] takes the caller's [`Scope`]: it returns
//! only records whose region code lies in it, and `None` for a single record
//! outside it. That is the one place the region scope is enforced.

use crate::access::{Role, Scope};
use chrono::{DateTime, NaiveDate, Utc};
use domain::{Fen, Household, PovertyStatus, RegionCode, ResidentId};
use serde::Serialize;

/// Why a use case failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    /// The request conflicts with the data (a duplicate user, a forbidden transition).
    #[error("{0}")]
    Conflict(String),
    /// The request names something that does not exist (or lies outside the scope).
    #[error("{0}")]
    NotFound(String),
    /// The request is well-formed but cannot be carried out (no policy, say).
    #[error("{0}")]
    Invalid(String),
    /// The caller may not do this: their role or scope may not, or, for a
    /// record they may see, a clerk bound to one facility and a claim of another.
    #[error("{0}")]
    Forbidden(String),
    /// The store failed.
    #[error("store error: {0}")]
    Store(String),
}

pub type AppResult<T> = Result<T, AppError>;

/// An account.
#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub scope: Scope,
    pub failed_logins: u32,
    pub locked_until: Option<DateTime<Utc>>,
    pub active: bool,
}

/// A new account; the password is already hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub scope: Scope,
}

/// A login session: the browser holds the token, the store holds its hash.
#[derive(Debug, Clone)]
pub struct Session {
    pub token_hash: String,
    pub user_id: i64,
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
}

/// One row of the audit log.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub username: String,
    /// `login`, `view_person`, `alert_transition`, `export`, ...
    pub action: String,
    /// What it concerned: a person ID, an alert ID, a file kind.
    pub target: String,
    pub detail: String,
    /// The region the event concerns (a village, a county), where it concerns
    /// one: the audit log shown to a user holds the events of their scope.
    pub region: Option<RegionCode>,
}

/// A person as pages and the API show them, with the village they live in.
#[derive(Debug, Clone)]
pub struct PersonRow {
    pub person_id: ResidentId,
    pub household_id: String,
    pub name: String,
    pub status: PovertyStatus,
    pub status_since: NaiveDate,
    pub village_code: RegionCode,
    pub diagnoses: Vec<String>,
}

/// A settled claim of a person.
#[derive(Debug, Clone)]
pub struct ClaimRow {
    pub claim_id: String,
    /// The facility that submitted it; with `claim_id`, the claim's key.
    pub facility_id: String,
    pub discharged: NaiveDate,
    pub kind: String,
    pub facility_level: String,
    pub diagnosis: String,
    pub total_cost: Fen,
    /// Tier payments in policy order, empty when not settled.
    pub payments: Vec<(String, Fen)>,
    pub out_of_pocket: Option<Fen>,
}

/// A status change of a person.
#[derive(Debug, Clone)]
pub struct StatusChange {
    pub status: PovertyStatus,
    pub since: NaiveDate,
}

/// Everything a person's page shows.
#[derive(Debug, Clone)]
pub struct PersonRecord {
    pub person: PersonRow,
    pub claims: Vec<ClaimRow>,
    pub status_history: Vec<StatusChange>,
    /// The batches of classified treatment the person falls in (serious, chronic, severe).
    pub batches: Vec<String>,
    pub alerts: Vec<AlertRow>,
}

/// A household with its members.
#[derive(Debug, Clone)]
pub struct HouseholdRecord {
    pub household: Household,
    pub members: Vec<PersonRow>,
    pub alerts: Vec<AlertRow>,
}

/// A state change of an alert.
#[derive(Debug, Clone, Serialize)]
pub struct Transition {
    pub from: String,
    pub to: String,
    pub by: String,
    pub at: DateTime<Utc>,
    pub note: String,
}

/// An assistance measure recorded on an alert.
#[derive(Debug, Clone, Serialize)]
pub struct Measure {
    pub kind: String,
    pub by: String,
    pub amount: Fen,
    pub note: String,
    pub at: DateTime<Utc>,
}

/// An early warning with its history.
#[derive(Debug, Clone)]
pub struct AlertRow {
    pub id: i64,
    pub rule: String,
    pub household_id: String,
    pub village_code: RegionCode,
    pub year: i32,
    pub value: String,
    pub threshold: String,
    pub state: String,
    pub transitions: Vec<Transition>,
    pub measures: Vec<Measure>,
}

/// Filters of the alert queue.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    pub state: Option<String>,
    pub rule: Option<String>,
    pub region: Option<String>,
    pub limit: usize,
}

/// Headline indicators of a scope.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub households: u64,
    pub persons: u64,
    pub poor_persons: u64,
    pub claims: u64,
    pub settled_total: Fen,
    pub out_of_pocket: Fen,
    pub open_alerts: u64,
    pub villages: u64,
    /// Villages blank now (no clinic, or no qualified doctor serving), as lately
    /// counted; `None` before the first count of the scope is done.
    pub blank_villages: Option<u64>,
}

/// One region's figures for the map.
#[derive(Debug, Clone, Serialize)]
pub struct RegionStat {
    pub code: RegionCode,
    pub name: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub households: u64,
    pub persons: u64,
    pub poor_persons: u64,
    pub open_alerts: u64,
    pub out_of_pocket: Fen,
    pub settled_total: Fen,
}

/// Settled totals of one month, for the trend chart.
#[derive(Debug, Clone, Serialize)]
pub struct MonthStat {
    /// `YYYY-MM`.
    pub month: String,
    pub claims: u64,
    pub total: Fen,
    pub out_of_pocket: Fen,
}

/// A stored policy: which region and year it governs.
#[derive(Debug, Clone)]
pub struct PolicyRow {
    /// A region code prefix (`""` everywhere).
    pub region: String,
    pub year: i32,
    pub policy: std::sync::Arc<settle::Policy>,
}

/// The outcome of settling one claim in real time.
#[derive(Debug, Clone)]
pub struct SettledClaim {
    pub claim: domain::Claim,
    pub year: i32,
    pub status: PovertyStatus,
    /// Whether the person is enrolled in basic insurance for the year (as
    /// settled): a claim of a person not enrolled carries a warning.
    pub enrolled: bool,
    pub policy: std::sync::Arc<settle::Policy>,
    pub settlement: settle::Settlement,
    /// True when the claim had been settled before and this is the stored result.
    pub replayed: bool,
    /// The bill's items as priced against the catalogue (none for a claim of
    /// totals only).
    pub items: Vec<domain::items::PricedItem>,
}

/// The outcome of voiding a claim.
#[derive(Debug, Clone)]
pub struct VoidedClaim {
    pub claim: domain::ClaimKey,
    pub person_id: ResidentId,
    pub year: i32,
    pub policy: std::sync::Arc<settle::Policy>,
    /// The remaining claims of the person's year, settled again, in settlement order.
    pub settlements: Vec<(domain::ClaimKey, settle::Settlement)>,
    /// Every claim whose settlement changed, new minus old; the voided one
    /// appears with the negation of its old settlement (a full refund).
    pub differences: Vec<Difference>,
}

/// How one claim's settlement changed when a void re-settled its person's year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub claim: domain::ClaimKey,
    /// New minus old payment, per tier name.
    pub payments: Vec<Fen>,
    /// New minus old out-of-pocket: positive means the patient owes more.
    pub out_of_pocket: Fen,
}

/// One run of an import, with its error report.
#[derive(Debug, Clone)]
pub struct ImportRun {
    pub at: DateTime<Utc>,
    pub kind: String,
    pub file_name: String,
    pub rows: u64,
    pub errors: u64,
    /// The report of bad rows (file, line, column, why), as text.
    pub report: String,
}

/// The rural health network of a scope with its history (docs/coverage.md,
/// "History"). The coverage engine takes the network of one day, a snapshot
/// without history (`crate::history::snapshot`).
#[derive(Debug, Clone, Default)]
pub struct NetworkData {
    pub regions: Vec<domain::Region>,
    /// With their opening and closing days.
    pub facilities: Vec<domain::Facility>,
    /// Their records: the facility and qualification of the record count
    /// where no posting, or no qualification, is recorded for them.
    pub practitioners: Vec<domain::Practitioner>,
    /// The postings recorded for those practitioners.
    pub postings: Vec<domain::Posting>,
    /// The qualifications recorded for them, with their days.
    pub qualifications: Vec<domain::QualificationHeld>,
}

/// A settled claim's payments by tier, in the policy's order, and what the
/// patient paid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimSettlement {
    pub payments: Vec<(String, Fen)>,
    pub out_of_pocket: Fen,
}

/// What the programme report and the policy what-if read of a scope and a year:
/// the registry, the year's claims with their stored settlements, the year's
/// alerts with the days they were raised and assisted, thresholds, contracts and
/// region names. Everything lies inside the scope.
#[derive(Debug, Clone, Default)]
pub struct IndicatorData {
    pub households: Vec<Household>,
    pub persons: Vec<domain::Person>,
    /// The year's claims (by discharge) that are not voided.
    pub claims: Vec<domain::Claim>,
    /// The stored settlement of each settled claim among `claims`, by claim key.
    pub settlements: std::collections::HashMap<domain::ClaimKey, ClaimSettlement>,
    pub alerts: Vec<indicators::extract::AlertEvent>,
    /// The cases whose verification deadline falls in the year.
    pub cases: Vec<indicators::extract::CaseDeadline>,
    /// The thresholds of the regions in and above the scope.
    pub thresholds: Vec<domain::Threshold>,
    /// Persons under a family-doctor contract.
    pub contracted: std::collections::HashSet<ResidentId>,
    /// Names of the regions in scope.
    pub names: std::collections::HashMap<RegionCode, String>,
    /// The registered facilities with their regions, for the county of
    /// treatment; a claim at a facility not listed is judged by its level.
    pub facilities: Vec<(String, RegionCode)>,
    /// The out-of-pocket spending of each settled claim of the year (the
    /// households' spending measures), where the claims are not read whole;
    /// empty where they are (it is then taken from `claims` and `settlements`).
    pub spending: Vec<indicators::extract::Spending>,
}
