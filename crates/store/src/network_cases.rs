//! Network alerts kept, and the network cases they open (migration 23,
//! docs/work.md, "Network cases", docs/coverage.md, "Network alerts").
//!
//! The application computes the network alerts of a scope (the villages and
//! township centres blank today or made blank within a horizon by a change in
//! the network's history) and hands them here to be kept, in one transaction:
//! a gap not kept yet is inserted with what made it (the change, the
//! practitioner or facility, the first day blank) and opens a network case; a
//! gap kept and found again is the same alert (one open alert per kind, place
//! and name: a unique index); a gap kept but no longer found, whose first
//! blank day lies within the horizon computed, is marked resolved.
//!
//! Network cases live in tables of their own, beside the households' cases:
//! they have no household, count in no indicator and join no household alert,
//! so the households' cases, their unique open case per household, their
//! triggers on the indicator facts and the ledger stay as they were. They take
//! the same states and the same deadlines, and move by the same pattern: the
//! application's rules ([`NetworkCaseRules`]) read the case's facts in the
//! transaction that moves it, on the version the user saw.

use crate::db::{begin_write, now, on_pool, Backend, Page, Scope, Store};
use crate::error::{corrupt, Ctx, StoreError};
use crate::settlements::region_of;
use crate::work::CaseEvent;
use chrono::{DateTime, NaiveDate, Utc};
use domain::work::{CaseState, NetworkCaseFacts, NetworkCaseMove, NetworkCloseReason};
use domain::RegionCode;
use sqlx::Row;
use std::collections::{HashMap, HashSet};

/// Migration 23: the network alerts kept and their cases. A released
/// migration: never edited; a change is a new one.
pub(crate) const V23: &str = r#"
CREATE TABLE network_alerts (
    id {id},
    kind TEXT NOT NULL CHECK (kind IN ('township_no_physician', 'village_no_clinic', 'village_no_doctor')),
    region_code BIGINT NOT NULL,
    name TEXT NOT NULL,
    township_code BIGINT,
    county_code BIGINT,
    blank_from DATE NOT NULL,
    change TEXT NOT NULL CHECK (change IN ('blank_now', 'retirement', 'posting_end', 'departure', 'closure',
                                           'licence_lapse', 'other')),
    practitioner_id TEXT,
    facility_id TEXT,
    detail TEXT NOT NULL DEFAULT '',
    raised_at TIMESTAMPTZ NOT NULL,
    raised_by TEXT NOT NULL,
    seen_at TIMESTAMPTZ NOT NULL,
    resolved_at TIMESTAMPTZ,
    resolved_by TEXT
);
CREATE UNIQUE INDEX network_alerts_open ON network_alerts (kind, region_code, name) WHERE resolved_at IS NULL;
CREATE INDEX network_alerts_region ON network_alerts (region_code);

CREATE TABLE network_cases (
    id {id},
    alert_id BIGINT NOT NULL UNIQUE REFERENCES network_alerts (id),
    region_code BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'assigned', 'verified', 'assisting', 'closed')),
    opened_at TIMESTAMPTZ NOT NULL,
    opened_by TEXT NOT NULL,
    assignee TEXT NOT NULL DEFAULT '',
    due DATE NOT NULL,
    close_due DATE NOT NULL,
    verified_on DATE,
    closed_at TIMESTAMPTZ,
    closed_on DATE,
    close_reason TEXT CHECK (close_reason IN ('filled', 'planned', 'not_needed')),
    version BIGINT NOT NULL DEFAULT 1,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX network_cases_region ON network_cases (region_code, state);

CREATE TABLE network_case_events (
    id {id},
    case_id BIGINT NOT NULL REFERENCES network_cases (id),
    at TIMESTAMPTZ NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX network_case_events_case ON network_case_events (case_id)
"#;

/// A network alert as computed, handed to [`Store::keep_network_alerts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundNetworkAlert {
    /// `township_no_physician`, `village_no_clinic` or `village_no_doctor`.
    pub kind: String,
    /// The village, or the township centre's region.
    pub region: RegionCode,
    /// The village's name, or the centre's.
    pub name: String,
    pub township: Option<RegionCode>,
    pub county: Option<RegionCode>,
    /// The first day it is blank.
    pub blank_from: NaiveDate,
    /// What made it blank: `blank_now`, `retirement`, `posting_end`,
    /// `departure`, `closure`, `licence_lapse` or `other`.
    pub change: String,
    /// The practitioner the change concerns, if one.
    pub practitioner_id: Option<String>,
    /// The facility the change concerns, if one.
    pub facility_id: Option<String>,
    /// The changes in words.
    pub detail: String,
}

/// A network alert as kept, with its case.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredNetworkAlert {
    pub id: i64,
    pub found: FoundNetworkAlert,
    pub raised_at: DateTime<Utc>,
    pub raised_by: String,
    /// The last computation that found it.
    pub seen_at: DateTime<Utc>,
    /// When a computation no longer found it: the gap is filled.
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<String>,
    pub case_id: Option<i64>,
    pub case_state: Option<CaseState>,
}

/// A network case as kept, with its alert and (read one at a time) its history.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredNetworkCase {
    pub id: i64,
    pub alert: StoredNetworkAlert,
    /// The village, or the township centre's region.
    pub region: RegionCode,
    pub state: CaseState,
    pub opened_at: DateTime<Utc>,
    pub opened_by: String,
    pub assignee: String,
    /// The day by which it must be verified.
    pub due: NaiveDate,
    /// The day by which it should be closed.
    pub close_due: NaiveDate,
    pub verified_on: Option<NaiveDate>,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_on: Option<NaiveDate>,
    pub close_reason: Option<NetworkCloseReason>,
    /// Closed as planned: the kept plan that fills the gap, its id and version.
    pub plan: Option<(i64, i64)>,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
    pub events: Vec<CaseEvent>,
}

/// What keeping a computation of the network alerts did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkRaise {
    /// The alerts new, each with the case it opened.
    pub raised: Vec<(i64, i64)>,
    /// The alerts kept and found again.
    pub seen: usize,
    /// The alerts no longer found, resolved.
    pub resolved: Vec<i64>,
}

/// Which network cases a listing shows: those awaiting verification past
/// their deadline first, the most overdue first; then the other open ones by
/// deadline; then the closed ones.
#[derive(Debug, Clone, Default)]
pub struct NetworkCaseQuery {
    pub state: Option<CaseState>,
    pub open_only: bool,
    /// Only those awaiting verification whose deadline is before this day.
    pub overdue_on: Option<NaiveDate>,
}

/// The rules of a network case's moves; the application implements them.
pub trait NetworkCaseRules: Send + Sync {
    /// The state the case moves to, or why the move is refused.
    fn check(&self, facts: &NetworkCaseFacts, mv: &NetworkCaseMove) -> Result<CaseState, String>;
}

const ALERT_COLS: &str = "a.id AS alert_id, a.kind, a.region_code AS alert_region, a.name, a.township_code, \
    a.county_code, a.blank_from, a.change, a.practitioner_id, a.facility_id, a.detail, a.raised_at, a.raised_by, \
    a.seen_at, a.resolved_at, a.resolved_by";
const CASE_COLS: &str = "c.id, c.region_code, c.state, c.opened_at, c.opened_by, c.assignee, c.due, c.close_due, \
    c.verified_on, c.closed_at, c.closed_on, c.close_reason, c.plan_id, c.plan_version, c.version, c.updated_at";

macro_rules! col {
    ($row:expr, $name:literal, $what:expr) => {
        $row.try_get($name).map_err(|e| corrupt(&$what, $name, e))?
    };
}

fn parsed<T: std::str::FromStr>(v: &str, what: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    v.parse().map_err(|e| corrupt(what, v, e))
}

fn opt_region(v: Option<i64>, what: &str) -> Result<Option<RegionCode>, StoreError> {
    v.map(|v| region_of(v, what)).transpose()
}

/// An alert of a row of [`ALERT_COLS`] (with `case_id` and `case_state`
/// where the row has them, else none).
macro_rules! alert_of {
    ($r:expr, $case:expr, $case_state:expr) => {{
        let r = &$r;
        let id: i64 = col!(r, "alert_id", "a row of network_alerts");
        let what = format!("network alert {id}");
        let region: i64 = col!(r, "alert_region", what);
        let township: Option<i64> = col!(r, "township_code", what);
        let county: Option<i64> = col!(r, "county_code", what);
        let state: Option<String> = $case_state;
        StoredNetworkAlert {
            id,
            found: FoundNetworkAlert {
                kind: col!(r, "kind", what),
                region: region_of(region, &what)?,
                name: col!(r, "name", what),
                township: opt_region(township, &what)?,
                county: opt_region(county, &what)?,
                blank_from: col!(r, "blank_from", what),
                change: col!(r, "change", what),
                practitioner_id: col!(r, "practitioner_id", what),
                facility_id: col!(r, "facility_id", what),
                detail: col!(r, "detail", what),
            },
            raised_at: col!(r, "raised_at", what),
            raised_by: col!(r, "raised_by", what),
            seen_at: col!(r, "seen_at", what),
            resolved_at: col!(r, "resolved_at", what),
            resolved_by: col!(r, "resolved_by", what),
            case_id: $case,
            case_state: state.map(|s| parsed(&s, &what)).transpose()?,
        }
    }};
}

macro_rules! case_of {
    ($r:expr) => {{
        let r = &$r;
        let id: i64 = col!(r, "id", "a row of network_cases");
        let what = format!("network case {id}");
        let state: String = col!(r, "state", what);
        let reason: Option<String> = col!(r, "close_reason", what);
        let region: i64 = col!(r, "region_code", what);
        let plan_id: Option<i64> = col!(r, "plan_id", what);
        let plan_version: Option<i64> = col!(r, "plan_version", what);
        StoredNetworkCase {
            id,
            alert: alert_of!(r, Some(id), Some(state.clone())),
            region: region_of(region, &what)?,
            state: parsed(&state, &what)?,
            opened_at: col!(r, "opened_at", what),
            opened_by: col!(r, "opened_by", what),
            assignee: col!(r, "assignee", what),
            due: col!(r, "due", what),
            close_due: col!(r, "close_due", what),
            verified_on: col!(r, "verified_on", what),
            closed_at: col!(r, "closed_at", what),
            closed_on: col!(r, "closed_on", what),
            close_reason: reason.map(|x| parsed(&x, &what)).transpose()?,
            plan: plan_id.zip(plan_version),
            version: col!(r, "version", what),
            updated_at: col!(r, "updated_at", what),
            events: vec![],
        }
    }};
}

fn rejected(ctx: &str, reason: impl Into<String>) -> StoreError {
    StoreError::Rejected { context: ctx.to_string(), reason: reason.into() }
}

fn case_not_found(id: i64) -> StoreError {
    StoreError::NotFound { kind: "network case", key: id.to_string() }
}

const KINDS: [&str; 3] = ["township_no_physician", "village_no_clinic", "village_no_doctor"];
const CHANGES: [&str; 7] = ["blank_now", "retirement", "posting_end", "departure", "closure", "licence_lapse", "other"];

impl Store {
    /// Keeps the network alerts computed for the scope up to `until` (the
    /// horizon's last day), in one transaction: each gap not kept yet is
    /// inserted and opens a network case (deadlines `due_of` its place, an
    /// event "opened by a network alert"); each kept and found again is
    /// marked seen, its first day and change brought up to date; each kept
    /// open inside the scope, not found, and blank from a day up to `until`
    /// is resolved, with an event on its case. An alert found outside the
    /// scope refuses the whole.
    ///
    /// `places`: the alerts were computed at these places only (the
    /// incremental recompute after a change, docs/coverage.md): only the
    /// alerts kept there may be resolved, and an alert found elsewhere
    /// refuses the whole. `None`: computed over the whole scope.
    pub async fn keep_network_alerts(
        &self,
        scope: &Scope,
        found: &[FoundNetworkAlert],
        until: NaiveDate,
        places: Option<&[RegionCode]>,
        due_of: &(dyn Fn(RegionCode) -> (NaiveDate, NaiveDate) + Sync),
        actor: &str,
    ) -> Result<NetworkRaise, StoreError> {
        let ctx = format!("keeping the network alerts of scope {:?}", scope.prefix());
        if actor.trim().is_empty() {
            return Err(rejected(&ctx, "who computes the alerts must be named"));
        }
        let places: Option<HashSet<i64>> = places.map(|p| p.iter().map(|c| c.as_u64() as i64).collect());
        let at_places = |code: i64| places.as_ref().is_none_or(|p| p.contains(&code));
        for f in found {
            if !at_places(f.region.as_u64() as i64) {
                return Err(rejected(&ctx, format!("{} {} lies outside the places computed", f.kind, f.region)));
            }
            if !scope.contains(f.region) {
                return Err(rejected(&ctx, format!("{} {} lies outside the scope", f.kind, f.region)));
            }
            if !KINDS.contains(&f.kind.as_str()) {
                return Err(rejected(&ctx, format!("kind: {:?} is not a network alert's", f.kind)));
            }
            if !CHANGES.contains(&f.change.as_str()) {
                return Err(rejected(&ctx, format!("change: {:?} is not one of {}", f.change, CHANGES.join(", "))));
            }
        }
        let (lo, hi) = scope.code_range();
        let at = now();
        let actor = actor.trim();
        on_pool!(self, p => async {
            let mut tx = begin_write(p, &ctx).await?;
            type Kept = (i64, String, i64, String, NaiveDate, String, Option<String>, Option<String>, String);
            let mut kept: Vec<Kept> = sqlx::query_as(
                "SELECT id, kind, region_code, name, blank_from, change, practitioner_id, facility_id, detail
                 FROM network_alerts WHERE region_code BETWEEN $1 AND $2 AND resolved_at IS NULL",
            )
            .bind(lo)
            .bind(hi)
            .fetch_all(&mut *tx)
            .await
            .ctx(&ctx)?;
            // Computed at some places only: the alerts kept elsewhere are left as they are.
            kept.retain(|k| at_places(k.2));
            let by_key: HashMap<(String, i64, String), &Kept> =
                kept.iter().map(|k| ((k.1.clone(), k.2, k.3.clone()), k)).collect();
            let mut out = NetworkRaise::default();
            let mut found_keys = HashSet::new();
            for f in found {
                let key = (f.kind.clone(), f.region.as_u64() as i64, f.name.clone());
                if !found_keys.insert(key.clone()) {
                    continue;
                }
                if let Some(k) = by_key.get(&key) {
                    out.seen += 1;
                    let same = k.4 == f.blank_from
                        && k.5 == f.change
                        && k.6 == f.practitioner_id
                        && k.7 == f.facility_id
                        && k.8 == f.detail;
                    if same {
                        sqlx::query("UPDATE network_alerts SET seen_at = $1 WHERE id = $2")
                            .bind(at)
                            .bind(k.0)
                            .execute(&mut *tx)
                            .await
                            .ctx(&ctx)?;
                    } else {
                        sqlx::query(
                            "UPDATE network_alerts SET seen_at = $1, blank_from = $2, change = $3, practitioner_id = $4,
                             facility_id = $5, detail = $6 WHERE id = $7",
                        )
                        .bind(at)
                        .bind(f.blank_from)
                        .bind(&f.change)
                        .bind(&f.practitioner_id)
                        .bind(&f.facility_id)
                        .bind(&f.detail)
                        .bind(k.0)
                        .execute(&mut *tx)
                        .await
                        .ctx(&ctx)?;
                    }
                    continue;
                }
                let alert: i64 = sqlx::query_scalar(
                    "INSERT INTO network_alerts (kind, region_code, name, township_code, county_code, blank_from, change,
                                                 practitioner_id, facility_id, detail, raised_at, raised_by, seen_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $11) RETURNING id",
                )
                .bind(&f.kind)
                .bind(key.1)
                .bind(&f.name)
                .bind(f.township.map(|c| c.as_u64() as i64))
                .bind(f.county.map(|c| c.as_u64() as i64))
                .bind(f.blank_from)
                .bind(&f.change)
                .bind(&f.practitioner_id)
                .bind(&f.facility_id)
                .bind(&f.detail)
                .bind(at)
                .bind(actor)
                .fetch_one(&mut *tx)
                .await
                .ctx(&ctx)?;
                let (due, close_due) = due_of(f.region);
                let case: i64 = sqlx::query_scalar(
                    "INSERT INTO network_cases (alert_id, region_code, state, opened_at, opened_by, due, close_due, updated_at)
                     VALUES ($1, $2, 'open', $3, $4, $5, $6, $3) RETURNING id",
                )
                .bind(alert)
                .bind(key.1)
                .bind(at)
                .bind(actor)
                .bind(due)
                .bind(close_due)
                .fetch_one(&mut *tx)
                .await
                .ctx(&ctx)?;
                sqlx::query(
                    "INSERT INTO network_case_events (case_id, at, actor, action, from_state, to_state, detail)
                     VALUES ($1, $2, $3, 'open', NULL, 'open', $4)",
                )
                .bind(case)
                .bind(at)
                .bind(actor)
                .bind(format!(
                    "opened by network alert {alert}: {} {} blank from {}, due {due}, close by {close_due}",
                    f.kind, f.region, f.blank_from
                ))
                .execute(&mut *tx)
                .await
                .ctx(&ctx)?;
                out.raised.push((alert, case));
            }
            for k in &kept {
                if found_keys.contains(&(k.1.clone(), k.2, k.3.clone())) || k.4 > until {
                    continue;
                }
                sqlx::query("UPDATE network_alerts SET resolved_at = $1, resolved_by = $2 WHERE id = $3")
                    .bind(at)
                    .bind(actor)
                    .bind(k.0)
                    .execute(&mut *tx)
                    .await
                    .ctx(&ctx)?;
                sqlx::query(
                    "INSERT INTO network_case_events (case_id, at, actor, action, from_state, to_state, detail)
                     SELECT id, $1, $2, 'alert_resolved', state, state, $3 FROM network_cases
                     WHERE alert_id = $4 AND state <> 'closed'",
                )
                .bind(at)
                .bind(actor)
                .bind(format!("network alert {}: the gap is no longer found up to {until}", k.0))
                .bind(k.0)
                .execute(&mut *tx)
                .await
                .ctx(&ctx)?;
                out.resolved.push(k.0);
            }
            tx.commit().await.ctx(&ctx)?;
            Ok::<_, StoreError>(out)
        }.await)
    }

    /// The network alerts kept inside the scope, each with its case: the open
    /// ones first by their first blank day, then the resolved ones, the
    /// latest first.
    pub async fn kept_network_alerts(
        &self,
        scope: &Scope,
        open_only: bool,
        page: Page,
    ) -> Result<Vec<StoredNetworkAlert>, StoreError> {
        let (lo, hi) = scope.code_range();
        let sql = format!(
            "SELECT {ALERT_COLS}, c.id AS case_id, c.state AS case_state FROM network_alerts a
             LEFT JOIN network_cases c ON c.alert_id = a.id
             WHERE a.region_code BETWEEN $1 AND $2 AND ($3 = 0 OR a.resolved_at IS NULL)
             ORDER BY CASE WHEN a.resolved_at IS NULL THEN 0 ELSE 1 END, a.blank_from, a.id
             LIMIT $4 OFFSET $5"
        );
        on_pool!(self, p => {
            let rows = sqlx::query(&sql)
                .bind(lo)
                .bind(hi)
                .bind(i64::from(open_only))
                .bind(page.lim())
                .bind(page.off())
                .fetch_all(p)
                .await
                .ctx("listing the network alerts kept")?;
            rows.iter()
                .map(|r| {
                    let case: Option<i64> = col!(r, "case_id", "a network alert's case");
                    let state: Option<String> = col!(r, "case_state", "a network alert's case");
                    Ok(alert_of!(r, case, state))
                })
                .collect()
        })
    }

    /// Network cases inside the scope, overdue first (see [`NetworkCaseQuery`]).
    pub async fn network_cases(
        &self,
        scope: &Scope,
        q: &NetworkCaseQuery,
        today: NaiveDate,
        page: Page,
    ) -> Result<Vec<StoredNetworkCase>, StoreError> {
        let (lo, hi) = scope.code_range();
        let mut sql = format!(
            "SELECT {CASE_COLS}, {ALERT_COLS} FROM network_cases c JOIN network_alerts a ON a.id = c.alert_id
             WHERE c.region_code BETWEEN $1 AND $2"
        );
        if let Some(s) = q.state {
            sql.push_str(&format!(" AND c.state = '{}'", s.as_str()));
        }
        if q.open_only {
            sql.push_str(" AND c.state <> 'closed'");
        }
        if q.overdue_on.is_some() {
            sql.push_str(" AND c.state IN ('open', 'assigned') AND c.due < $3");
        } else {
            sql.push_str(" AND $3 = $3");
        }
        sql.push_str(
            " ORDER BY CASE WHEN c.state IN ('open', 'assigned') AND c.due < $4 THEN 0
                            WHEN c.state <> 'closed' THEN 1 ELSE 2 END, c.due, c.id
              LIMIT $5 OFFSET $6",
        );
        on_pool!(self, p => {
            let rows = sqlx::query(&sql)
                .bind(lo)
                .bind(hi)
                .bind(q.overdue_on.unwrap_or(today))
                .bind(today)
                .bind(page.lim())
                .bind(page.off())
                .fetch_all(p)
                .await
                .ctx("listing network cases")?;
            rows.iter().map(|r| Ok(case_of!(r))).collect()
        })
    }

    /// One network case inside the scope, with its alert and history.
    pub async fn network_case(&self, scope: &Scope, id: i64) -> Result<Option<StoredNetworkCase>, StoreError> {
        let ctx = format!("reading network case {id}");
        let sql = format!(
            "SELECT {CASE_COLS}, {ALERT_COLS} FROM network_cases c JOIN network_alerts a ON a.id = c.alert_id
             WHERE c.id = $1"
        );
        on_pool!(self, p => {
            let Some(row) = sqlx::query(&sql).bind(id).fetch_optional(p).await.ctx(&ctx)? else {
                return Ok(None);
            };
            let mut c = case_of!(row);
            if !scope.contains(c.region) {
                return Ok(None);
            }
            for r in sqlx::query(
                "SELECT at, actor, action, from_state, to_state, detail FROM network_case_events
                 WHERE case_id = $1 ORDER BY id",
            )
            .bind(id)
            .fetch_all(p)
            .await
            .ctx(&ctx)?
            {
                let what = format!("an event of network case {id}");
                let from: Option<String> = col!(r, "from_state", what);
                let to: String = col!(r, "to_state", what);
                c.events.push(CaseEvent {
                    at: col!(r, "at", what),
                    actor: col!(r, "actor", what),
                    action: col!(r, "action", what),
                    from: from.map(|f| parsed(&f, &what)).transpose()?,
                    to: parsed(&to, &what)?,
                    detail: col!(r, "detail", what),
                });
            }
            Ok(Some(c))
        })
    }

    /// Moves a network case inside the scope, made on `version`: the rules see
    /// the case's facts read in the same transaction, and the move is written
    /// with an event of its history. A case outside the scope is not found; a
    /// move on an older version, or one the rules refuse, is refused
    /// ([`StoreError::Constraint`]) and writes nothing.
    pub async fn move_network_case(
        &self,
        rules: &dyn NetworkCaseRules,
        scope: &Scope,
        id: i64,
        version: i64,
        mv: &NetworkCaseMove,
        actor: &str,
    ) -> Result<StoredNetworkCase, StoreError> {
        let ctx = format!("network case {id}: {}", mv.action());
        if actor.trim().is_empty() {
            return Err(rejected(&ctx, "who makes the move must be named"));
        }
        let lock = if self.backend() == Backend::Postgres { " FOR UPDATE OF c" } else { "" };
        let at = now();
        on_pool!(self, p => async {
            let mut tx = begin_write(p, &ctx).await?;
            let head = sqlx::query(&format!(
                "SELECT c.state, c.version, c.region_code, c.assignee, a.resolved_at FROM network_cases c
                 JOIN network_alerts a ON a.id = c.alert_id WHERE c.id = $1{lock}"
            ))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .ctx(&ctx)?;
            let Some(head) = head else { return Err(case_not_found(id)) };
            let region: i64 = col!(head, "region_code", ctx);
            let region = region_of(region, &ctx)?;
            if !scope.contains(region) {
                return Err(case_not_found(id));
            }
            let current: i64 = col!(head, "version", ctx);
            crate::moves::check_version(&ctx, version, current)?;
            let steps: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM network_case_events WHERE case_id = $1 AND action = 'step'",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .ctx(&ctx)?;
            let state: String = col!(head, "state", ctx);
            let resolved: Option<DateTime<Utc>> = col!(head, "resolved_at", ctx);
            // A close as planned: a plan in force whose period has not ended on
            // the day (it may start later) with a line for the place (the
            // village's own line; for a township, a line of one of its villages).
            let covering_plan = match mv {
                NetworkCaseMove::Close { reason: NetworkCloseReason::Planned, on, plan, .. } => {
                    let (lo, hi) = Scope::new(&region.short())?.code_range();
                    let mut sql = String::from(
                        "SELECT p.id, p.version FROM plans p
                         WHERE p.state = 'in_force' AND p.period_end >= $1
                           AND EXISTS (SELECT 1 FROM plan_lines l WHERE l.plan_id = p.id AND l.village_code BETWEEN $2 AND $3)",
                    );
                    if plan.is_some() {
                        sql.push_str(" AND p.id = $4");
                    }
                    sql.push_str(" ORDER BY p.in_force_from DESC, p.id DESC LIMIT 1");
                    let mut q = sqlx::query_as::<_, (i64, i64)>(&sql).bind(*on).bind(lo).bind(hi);
                    if let Some(id) = plan {
                        q = q.bind(*id);
                    }
                    q.fetch_optional(&mut *tx).await.ctx(&ctx)?
                }
                _ => None,
            };
            let facts = NetworkCaseFacts {
                id,
                state: parsed(&state, &ctx)?,
                version,
                region,
                assignee: col!(head, "assignee", ctx),
                steps: steps as usize,
                alert_resolved: resolved.is_some(),
                covering_plan,
            };
            let to = rules.check(&facts, mv).map_err(|reason| StoreError::Constraint {
                context: format!("network case {id} ({}): cannot {}", facts.state, mv.action()),
                detail: reason,
            })?;
            let detail = match mv {
                NetworkCaseMove::Assign { assignee, due } => {
                    sqlx::query("UPDATE network_cases SET assignee = $1, due = $2 WHERE id = $3")
                        .bind(assignee.trim())
                        .bind(*due)
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .ctx(&ctx)?;
                    format!("assignee {:?} -> {:?}, due {due}", facts.assignee, assignee.trim())
                }
                NetworkCaseMove::Verify { on, note } => {
                    sqlx::query("UPDATE network_cases SET verified_on = $1 WHERE id = $2")
                        .bind(*on)
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .ctx(&ctx)?;
                    format!("verified on {on}: {}", note.trim())
                }
                NetworkCaseMove::Step { on, note } => format!("{on}: {}", note.trim()),
                NetworkCaseMove::Close { reason, note, on, .. } => {
                    // Only a close as planned is linked to its plan.
                    let plan = facts.covering_plan.filter(|_| *reason == NetworkCloseReason::Planned);
                    sqlx::query(
                        "UPDATE network_cases SET closed_at = $1, closed_on = $2, close_reason = $3, plan_id = $4,
                            plan_version = $5 WHERE id = $6",
                    )
                    .bind(at)
                    .bind(*on)
                    .bind(reason.as_str())
                    .bind(plan.map(|p| p.0))
                    .bind(plan.map(|p| p.1))
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .ctx(&ctx)?;
                    match plan {
                        Some((p, v)) => format!("{}: plan {p} version {v}: {}", reason.as_str(), note.trim()),
                        None => format!("{}: {}", reason.as_str(), note.trim()),
                    }
                }
            };
            let mv = crate::moves::Move {
                table: "network_cases",
                events: "network_case_events",
                id,
                at,
                actor,
                action: mv.action(),
                from: facts.state.as_str(),
                to: to.as_str(),
                detail,
            };
            crate::moves::record(&mut tx, mv, &ctx).await?;
            tx.commit().await.ctx(&ctx)?;
            Ok::<_, StoreError>(())
        }.await)?;
        self.network_case(scope, id).await?.ok_or_else(|| case_not_found(id))
    }
}
