//! The port between the web layer and the data behind it: every read and write a
//! page or an API endpoint needs, as one trait. The web crate speaks no SQL; an
//! implementation over the store (and an in-memory one, [`crate::mem::MemRepo`])
//! lives behind this trait.
//!
//! Every registry read takes the caller's [`Scope`]: an implementation must return
//! only records whose region code lies in it, and `None` for a single record
//! outside it. That is the one place the region scope is enforced.

use crate::access::{Role, Scope};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use domain::{Fen, Household, PovertyStatus, RegionCode, ResidentId};
use serde::Serialize;

/// Why a repository call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RepoError {
    /// The request conflicts with the data (a duplicate user, a forbidden transition).
    #[error("{0}")]
    Conflict(String),
    /// The request names something that does not exist (or lies outside the scope).
    #[error("{0}")]
    NotFound(String),
    /// The request is well-formed but cannot be carried out (no policy, say).
    #[error("{0}")]
    Invalid(String),
    /// The store failed.
    #[error("store error: {0}")]
    Store(String),
}

pub type RepoResult<T> = Result<T, RepoError>;

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
    pub blank_villages: u64,
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
    pub policy: std::sync::Arc<settle::Policy>,
    pub settlement: settle::Settlement,
    /// True when the claim had been settled before and this is the stored result.
    pub replayed: bool,
}

/// The outcome of voiding a claim.
#[derive(Debug, Clone)]
pub struct VoidedClaim {
    pub claim_id: String,
    pub person_id: ResidentId,
    pub year: i32,
    pub policy: std::sync::Arc<settle::Policy>,
    pub resettlement: settle::Resettlement,
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

/// The rural health network of a scope, as the coverage engine takes it.
#[derive(Debug, Clone, Default)]
pub struct NetworkData {
    pub regions: Vec<domain::Region>,
    pub facilities: Vec<domain::Facility>,
    pub practitioners: Vec<domain::Practitioner>,
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
    /// The stored settlement of each settled claim among `claims`, by claim id.
    pub settlements: std::collections::HashMap<String, ClaimSettlement>,
    pub alerts: Vec<indicators::extract::AlertEvent>,
    /// The thresholds of the regions in and above the scope.
    pub thresholds: Vec<domain::Threshold>,
    /// Persons under a family-doctor contract.
    pub contracted: std::collections::HashSet<ResidentId>,
    /// Names of the regions in scope.
    pub names: std::collections::HashMap<RegionCode, String>,
}

/// Everything the web layer reads and writes.
#[async_trait]
pub trait Repo: Send + Sync + 'static {
    // accounts
    async fn user_by_name(&self, username: &str) -> RepoResult<Option<User>>;
    async fn user_by_id(&self, id: i64) -> RepoResult<Option<User>>;
    async fn create_user(&self, u: NewUser) -> RepoResult<User>;
    async fn list_users(&self) -> RepoResult<Vec<User>>;
    /// Records the outcome of a login attempt: the failure count and lock.
    async fn set_login_state(&self, user_id: i64, failed: u32, locked_until: Option<DateTime<Utc>>) -> RepoResult<()>;
    async fn set_password(&self, user_id: i64, password_hash: &str) -> RepoResult<()>;
    async fn create_session(&self, s: Session) -> RepoResult<()>;
    async fn session(&self, token_hash: &str) -> RepoResult<Option<Session>>;
    async fn delete_session(&self, token_hash: &str) -> RepoResult<()>;
    async fn create_api_token(&self, user_id: i64, name: &str, token_hash: &str) -> RepoResult<()>;
    async fn api_token_user(&self, token_hash: &str) -> RepoResult<Option<User>>;

    // audit
    async fn audit(&self, e: AuditEntry) -> RepoResult<()>;
    async fn audit_log(&self, limit: usize) -> RepoResult<Vec<AuditEntry>>;

    // registry, scoped
    async fn search_persons(&self, scope: &Scope, query: &str, limit: usize) -> RepoResult<Vec<PersonRow>>;
    async fn person(&self, scope: &Scope, id: ResidentId) -> RepoResult<Option<PersonRecord>>;
    async fn search_households(&self, scope: &Scope, query: &str, limit: usize) -> RepoResult<Vec<Household>>;
    async fn household(&self, scope: &Scope, id: &str) -> RepoResult<Option<HouseholdRecord>>;

    // alerts, scoped
    async fn alerts(&self, scope: &Scope, f: &AlertFilter) -> RepoResult<Vec<AlertRow>>;
    async fn alert(&self, scope: &Scope, id: i64) -> RepoResult<Option<AlertRow>>;
    /// Moves an alert to `to`; the implementation checks the life cycle.
    async fn transition_alert(&self, scope: &Scope, id: i64, to: &str, by: &str, note: &str) -> RepoResult<AlertRow>;
    async fn add_measure(&self, scope: &Scope, id: i64, m: Measure) -> RepoResult<AlertRow>;

    // indicators, scoped
    async fn summary(&self, scope: &Scope) -> RepoResult<Summary>;
    /// Figures per region one level below `parent` (or per county when it is broad).
    async fn region_stats(&self, scope: &Scope) -> RepoResult<Vec<RegionStat>>;
    async fn trend(&self, scope: &Scope) -> RepoResult<Vec<MonthStat>>;
    /// Brings figures kept ahead of reading up to date after changes (the store's
    /// figures by village); a no-op where nothing is kept.
    async fn refresh_precomputed(&self) -> RepoResult<()> {
        Ok(())
    }
    /// What the report and the what-if of `year` read inside the scope.
    async fn indicator_data(&self, scope: &Scope, year: i32) -> RepoResult<IndicatorData>;
    /// The programme report of `year` inside the scope from indicator facts kept
    /// ahead of reading, where the repository keeps them (the store); `None`
    /// where it does not, and the report is computed from [`Repo::indicator_data`].
    async fn kept_report(
        &self,
        _scope: &Scope,
        _year: i32,
        _levels: Vec<domain::RegionLevel>,
        _period: indicators::PeriodKind,
    ) -> RepoResult<Option<crate::analysis::Report>> {
        Ok(None)
    }

    /// Regions, facilities and practitioners in scope.
    async fn network(&self, scope: &Scope) -> RepoResult<NetworkData>;
    /// The latest import runs, newest first.
    async fn import_runs(&self, limit: usize) -> RepoResult<Vec<ImportRun>>;

    // policies and settlement
    /// Policies whose region overlaps the scope.
    async fn policies(&self, scope: &Scope) -> RepoResult<Vec<PolicyRow>>;
    /// Settles a claim of a person in scope under the policy of the person's region
    /// and the claim's year, durably, with that person-year's accumulators. The
    /// same claim again returns the stored result (`replayed`); a different claim
    /// under a settled `claim_id` is a conflict. Claims of one person are
    /// serialised.
    async fn settle_claim(&self, scope: &Scope, claim: domain::Claim) -> RepoResult<SettledClaim>;
    /// Voids a settled claim and re-settles that person's later claims of the year.
    async fn void_claim(&self, scope: &Scope, claim_id: &str) -> RepoResult<VoidedClaim>;
}
