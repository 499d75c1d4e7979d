//! The daily work kept: cases of households at risk and their history,
//! assistance measures, visits and follow-ups, family-doctor contracts, and the
//! verification deadline of each region (migration 6, docs/work.md).
//!
//! A case moves in one transaction that reads what its rules need
//! ([`CaseFacts`]), asks them ([`CaseRules`], implemented by the application),
//! and writes the move with an event of the case's history. Every move names
//! the version it was made on: a move on an older version is refused as a
//! conflict, so that two officers working on one case never lose a change.
//! Rows are decoded by column name; a value that does not decode is an error
//! naming the table and the key.

use crate::db::{begin_write, now, on_pool, Backend, Page, Scope, Store};
use crate::error::{corrupt, Ctx, StoreError};
use crate::settlements::region_of;
use chrono::{DateTime, NaiveDate, Utc};
use domain::work::{CaseFacts, CaseMeasure, CaseMove, CaseState, CloseReason, DoctorContract, Visit, VisitKind};
use domain::{PovertyStatus, RegionCode, ResidentId};
use sqlx::Row;

/// Migration 6: the tables of the daily work, and the link of an alert to the
/// case it joined. A released migration: never edited; a change is a new one.
pub(crate) const V6: &str = r#"
CREATE TABLE case_deadlines (
    region TEXT PRIMARY KEY,
    verify_days BIGINT NOT NULL CHECK (verify_days BETWEEN 1 AND 365)
);

CREATE TABLE cases (
    id {id},
    household_id TEXT NOT NULL REFERENCES households (household_id),
    village_code BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'assigned', 'verified', 'assisting', 'closed')),
    source TEXT NOT NULL CHECK (source IN ('alert', 'visit', 'officer')),
    opened_at TIMESTAMPTZ NOT NULL,
    opened_by TEXT NOT NULL,
    assignee TEXT NOT NULL DEFAULT '',
    due DATE NOT NULL,
    verified_on DATE,
    monitored BOOLEAN,
    closed_at TIMESTAMPTZ,
    close_reason TEXT CHECK (close_reason IN ('risk_eliminated', 'no_risk')),
    note TEXT NOT NULL DEFAULT '',
    version BIGINT NOT NULL DEFAULT 1,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX cases_open_household ON cases (household_id) WHERE state <> 'closed';
CREATE INDEX cases_awaiting ON cases (due, village_code) WHERE state IN ('open', 'assigned');
CREATE INDEX cases_village ON cases (village_code, state);

CREATE TABLE case_events (
    id {id},
    case_id BIGINT NOT NULL REFERENCES cases (id),
    at TIMESTAMPTZ NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX case_events_case ON case_events (case_id);

CREATE TABLE case_measures (
    id {id},
    case_id BIGINT NOT NULL REFERENCES cases (id),
    kind TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount >= 0),
    fund TEXT NOT NULL,
    date DATE NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    recorded_by TEXT NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX case_measures_case ON case_measures (case_id);

CREATE TABLE visits (
    id {id},
    household_id TEXT NOT NULL REFERENCES households (household_id),
    village_code BIGINT NOT NULL,
    person_id BIGINT REFERENCES persons (person_id),
    kind TEXT NOT NULL CHECK (kind IN ('household', 'verification', 'follow_up')),
    date DATE NOT NULL,
    visitors TEXT NOT NULL,
    findings TEXT NOT NULL DEFAULT '',
    next_date DATE,
    case_id BIGINT REFERENCES cases (id),
    recorded_by TEXT NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX visits_household ON visits (household_id, date);
CREATE INDEX visits_village ON visits (village_code, date);
CREATE INDEX visits_case ON visits (case_id);
CREATE INDEX visits_person ON visits (person_id, date);

CREATE TABLE doctor_contracts (
    id {id},
    person_id BIGINT NOT NULL REFERENCES persons (person_id),
    practitioner_id TEXT NOT NULL REFERENCES practitioners (practitioner_id),
    village_code BIGINT NOT NULL,
    signed DATE NOT NULL,
    ends DATE NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    UNIQUE (person_id, signed),
    CHECK (ends > signed)
);
CREATE INDEX doctor_contracts_village ON doctor_contracts (village_code);

ALTER TABLE alerts ADD COLUMN case_id BIGINT REFERENCES cases (id);
CREATE INDEX alerts_case ON alerts (case_id)
"#;

/// Migration 6's triggers: a contract counts in the contract rate, so it marks
/// its village's indicator facts stale (see `fresh.rs`).
pub(crate) const V6_SQLITE: &str = r#"
CREATE TRIGGER fresh_doctor_contracts_insert AFTER INSERT ON doctor_contracts BEGIN
    INSERT INTO indicator_dirty (village_code) VALUES (NEW.village_code)
        ON CONFLICT (village_code) DO UPDATE SET version = indicator_dirty.version + 1;
END;
CREATE TRIGGER fresh_doctor_contracts_update AFTER UPDATE ON doctor_contracts BEGIN
    INSERT INTO indicator_dirty (village_code) VALUES (OLD.village_code), (NEW.village_code)
        ON CONFLICT (village_code) DO UPDATE SET version = indicator_dirty.version + 1;
END;
CREATE TRIGGER fresh_doctor_contracts_delete AFTER DELETE ON doctor_contracts BEGIN
    INSERT INTO indicator_dirty (village_code) VALUES (OLD.village_code)
        ON CONFLICT (village_code) DO UPDATE SET version = indicator_dirty.version + 1;
END;
"#;

pub(crate) const V6_POSTGRES: &str = r#"
CREATE FUNCTION fresh_doctor_contracts() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM fresh_villages(FALSE, TRUE, ARRAY(SELECT DISTINCT village_code FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM fresh_villages(FALSE, TRUE, ARRAY(SELECT DISTINCT village_code FROM old_rows));
    ELSE
        PERFORM fresh_villages(FALSE, TRUE, ARRAY(
            SELECT village_code FROM old_rows UNION SELECT village_code FROM new_rows));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER fresh_doctor_contracts_insert AFTER INSERT ON doctor_contracts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_doctor_contracts();
CREATE TRIGGER fresh_doctor_contracts_update AFTER UPDATE ON doctor_contracts
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_doctor_contracts();
CREATE TRIGGER fresh_doctor_contracts_delete AFTER DELETE ON doctor_contracts
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_doctor_contracts();
"#;

/// Migration 7: a case counts in the indicators (cases verified by their
/// deadline), so its writes mark its village's indicator facts stale; the kept
/// facts of every year are built again, with the cases.
pub(crate) const V7: &str = "DELETE FROM indicator_dirty; DELETE FROM indicator_coverage; \
    DELETE FROM indicator_facts; DELETE FROM indicator_years";

pub(crate) const V7_SQLITE: &str = r#"
CREATE TRIGGER fresh_cases_insert AFTER INSERT ON cases BEGIN
    INSERT INTO indicator_dirty (village_code) VALUES (NEW.village_code)
        ON CONFLICT (village_code) DO UPDATE SET version = indicator_dirty.version + 1;
END;
CREATE TRIGGER fresh_cases_update AFTER UPDATE ON cases
WHEN OLD.due IS NOT NEW.due OR OLD.verified_on IS NOT NEW.verified_on OR OLD.village_code IS NOT NEW.village_code
    OR OLD.household_id IS NOT NEW.household_id
BEGIN
    INSERT INTO indicator_dirty (village_code) VALUES (OLD.village_code), (NEW.village_code)
        ON CONFLICT (village_code) DO UPDATE SET version = indicator_dirty.version + 1;
END;
CREATE TRIGGER fresh_cases_delete AFTER DELETE ON cases BEGIN
    INSERT INTO indicator_dirty (village_code) VALUES (OLD.village_code)
        ON CONFLICT (village_code) DO UPDATE SET version = indicator_dirty.version + 1;
END;
"#;

pub(crate) const V7_POSTGRES: &str = r#"
CREATE FUNCTION fresh_cases() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM fresh_villages(FALSE, TRUE, ARRAY(SELECT DISTINCT village_code FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM fresh_villages(FALSE, TRUE, ARRAY(SELECT DISTINCT village_code FROM old_rows));
    ELSE
        PERFORM fresh_villages(FALSE, TRUE, ARRAY(
            SELECT x.v FROM old_rows o JOIN new_rows n ON n.id = o.id
            CROSS JOIN LATERAL (VALUES (o.village_code), (n.village_code)) x (v)
            WHERE (o.due, o.verified_on, o.village_code, o.household_id)
                  IS DISTINCT FROM (n.due, n.verified_on, n.village_code, n.household_id)));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER fresh_cases_insert AFTER INSERT ON cases
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_cases();
CREATE TRIGGER fresh_cases_update AFTER UPDATE ON cases
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_cases();
CREATE TRIGGER fresh_cases_delete AFTER DELETE ON cases
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_cases();
"#;

/// Migration 18: a deadline to close each case beside the deadline to verify
/// it, and the day it was closed. A region may set its own days to close
/// (`close_days`, empty for the default); a case keeps the deadline it was
/// opened with. The cases kept before get the default counted from the day in
/// China they were opened, and, when closed, the day in China of their close.
/// Closing a case now moves the indicators (cases closed in time), so the
/// trigger on `cases` also watches `close_due` and `closed_on`; the villages
/// with cases are marked stale once, so that their kept facts gain the new
/// measures (the other villages' facts have none to gain).
pub(crate) const V18: &str = r#"
ALTER TABLE case_deadlines ADD COLUMN close_days BIGINT CHECK (close_days IS NULL OR close_days BETWEEN 1 AND 730);
ALTER TABLE cases ADD COLUMN close_due DATE;
ALTER TABLE cases ADD COLUMN closed_on DATE;
INSERT INTO indicator_dirty (village_code) SELECT DISTINCT village_code FROM cases WHERE TRUE
    ON CONFLICT (village_code) DO UPDATE SET version = indicator_dirty.version + 1
"#;

pub(crate) const V18_SQLITE: &str = r#"
UPDATE cases SET close_due = date(substr(opened_at, 1, 19), '+8 hours', '+180 days');
UPDATE cases SET closed_on = date(substr(closed_at, 1, 19), '+8 hours') WHERE closed_at IS NOT NULL;
DROP TRIGGER fresh_cases_update;
CREATE TRIGGER fresh_cases_update AFTER UPDATE ON cases
WHEN OLD.due IS NOT NEW.due OR OLD.verified_on IS NOT NEW.verified_on OR OLD.village_code IS NOT NEW.village_code
    OR OLD.household_id IS NOT NEW.household_id OR OLD.close_due IS NOT NEW.close_due
    OR OLD.closed_on IS NOT NEW.closed_on
BEGIN
    INSERT INTO indicator_dirty (village_code) VALUES (OLD.village_code), (NEW.village_code)
        ON CONFLICT (village_code) DO UPDATE SET version = indicator_dirty.version + 1;
END;
"#;

pub(crate) const V18_POSTGRES: &str = r#"
UPDATE cases SET close_due = ((opened_at AT TIME ZONE 'UTC') + INTERVAL '8 hours')::date + 180;
UPDATE cases SET closed_on = ((closed_at AT TIME ZONE 'UTC') + INTERVAL '8 hours')::date WHERE closed_at IS NOT NULL;
CREATE OR REPLACE FUNCTION fresh_cases() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM fresh_villages(FALSE, TRUE, ARRAY(SELECT DISTINCT village_code FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM fresh_villages(FALSE, TRUE, ARRAY(SELECT DISTINCT village_code FROM old_rows));
    ELSE
        PERFORM fresh_villages(FALSE, TRUE, ARRAY(
            SELECT x.v FROM old_rows o JOIN new_rows n ON n.id = o.id
            CROSS JOIN LATERAL (VALUES (o.village_code), (n.village_code)) x (v)
            WHERE (o.due, o.verified_on, o.village_code, o.household_id, o.close_due, o.closed_on)
                  IS DISTINCT FROM (n.due, n.verified_on, n.village_code, n.household_id, n.close_due, n.closed_on)));
    END IF;
    RETURN NULL;
END $$;
"#;

/// A case as kept, with its alerts, measures, visits and history (the lists are
/// empty in a listing).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCase {
    pub id: i64,
    pub household_id: String,
    pub village: RegionCode,
    pub state: CaseState,
    pub source: String,
    pub opened_at: DateTime<Utc>,
    pub opened_by: String,
    pub assignee: String,
    /// The day by which it must be verified.
    pub due: NaiveDate,
    pub verified_on: Option<NaiveDate>,
    /// The day by which it should be closed.
    pub close_due: NaiveDate,
    /// The day it was closed (the day of the move; `closed_at` is the instant
    /// it was recorded).
    pub closed_on: Option<NaiveDate>,
    pub monitored: Option<bool>,
    pub closed_at: Option<DateTime<Utc>>,
    pub close_reason: Option<CloseReason>,
    pub note: String,
    /// Raised by every move; a move names the version it was made on.
    pub version: i64,
    pub updated_at: DateTime<Utc>,
    pub alerts: Vec<i64>,
    pub measures: Vec<StoredCaseMeasure>,
    pub visits: Vec<StoredVisit>,
    pub events: Vec<CaseEvent>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoredCaseMeasure {
    pub id: i64,
    pub measure: CaseMeasure,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoredVisit {
    pub id: i64,
    pub visit: Visit,
    pub village: RegionCode,
    pub case_id: Option<i64>,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// One step of a case's history.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseEvent {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub from: Option<CaseState>,
    pub to: CaseState,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoredContract {
    pub id: i64,
    pub contract: DoctorContract,
    pub village: RegionCode,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// Which cases a listing shows. The cases awaiting verification past their
/// deadline come first, the most overdue first; then the rest by deadline.
#[derive(Debug, Clone, Default)]
pub struct CaseQuery {
    pub state: Option<CaseState>,
    /// Only the open ones (every state but closed).
    pub open_only: bool,
    /// Only those awaiting verification whose deadline is before this day.
    pub overdue_on: Option<NaiveDate>,
    pub assignee: Option<String>,
    pub household: Option<String>,
}

/// A new case, opened by hand or by a visit.
#[derive(Debug, Clone)]
pub struct NewCase {
    pub household_id: String,
    pub source: &'static str,
    pub due: NaiveDate,
    pub close_due: NaiveDate,
    pub note: String,
}

/// The rules of a case's moves, as the store's units of work call them; the
/// application implements them.
pub trait CaseRules: Send + Sync {
    /// The state the case moves to, or why the move is refused.
    fn check(&self, facts: &CaseFacts, mv: &CaseMove) -> Result<CaseState, String>;
}

const CASE_COLS: &str =
    "c.id, c.household_id, c.village_code, c.state, c.source, c.opened_at, c.opened_by, c.assignee, \
     c.due, c.verified_on, c.close_due, c.monitored, c.closed_at, c.closed_on, c.close_reason, c.note, c.version, c.updated_at";
const VISIT_COLS: &str = "v.id, v.household_id, v.village_code, v.person_id, v.kind, v.date, v.visitors, v.findings, \
     v.next_date, v.case_id, v.recorded_by, v.recorded_at";
const CONTRACT_COLS: &str =
    "k.id, k.person_id, k.practitioner_id, k.village_code, k.signed, k.ends, k.recorded_by, k.recorded_at";

/// A column of a row, by name; a value that does not decode names the table,
/// the key and the column.
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

fn person_of(id: i64, what: &str) -> Result<ResidentId, StoreError> {
    crate::registry::resident_id(id, what)
}

macro_rules! case_of {
    ($r:expr) => {{
        let r = &$r;
        let id: i64 = col!(r, "id", "a row of cases");
        let what = format!("case {id}");
        let state: String = col!(r, "state", what);
        let reason: Option<String> = col!(r, "close_reason", what);
        let village: i64 = col!(r, "village_code", what);
        StoredCase {
            id,
            household_id: col!(r, "household_id", what),
            village: region_of(village, &what)?,
            state: parsed(&state, &what)?,
            source: col!(r, "source", what),
            opened_at: col!(r, "opened_at", what),
            opened_by: col!(r, "opened_by", what),
            assignee: col!(r, "assignee", what),
            due: col!(r, "due", what),
            close_due: col!(r, "close_due", what),
            verified_on: col!(r, "verified_on", what),
            monitored: col!(r, "monitored", what),
            closed_at: col!(r, "closed_at", what),
            closed_on: col!(r, "closed_on", what),
            close_reason: reason.map(|x| parsed(&x, &what)).transpose()?,
            note: col!(r, "note", what),
            version: col!(r, "version", what),
            updated_at: col!(r, "updated_at", what),
            alerts: vec![],
            measures: vec![],
            visits: vec![],
            events: vec![],
        }
    }};
}

macro_rules! visit_of {
    ($r:expr) => {{
        let r = &$r;
        let id: i64 = col!(r, "id", "a row of visits");
        let what = format!("visit {id}");
        let kind: String = col!(r, "kind", what);
        let person: Option<i64> = col!(r, "person_id", what);
        let village: i64 = col!(r, "village_code", what);
        StoredVisit {
            id,
            visit: Visit {
                household_id: col!(r, "household_id", what),
                person_id: person.map(|p| person_of(p, &what)).transpose()?,
                kind: parsed::<VisitKind>(&kind, &what)?,
                date: col!(r, "date", what),
                visitors: col!(r, "visitors", what),
                findings: col!(r, "findings", what),
                next_date: col!(r, "next_date", what),
            },
            village: region_of(village, &what)?,
            case_id: col!(r, "case_id", what),
            recorded_by: col!(r, "recorded_by", what),
            recorded_at: col!(r, "recorded_at", what),
        }
    }};
}

macro_rules! contract_of {
    ($r:expr) => {{
        let r = &$r;
        let id: i64 = col!(r, "id", "a row of doctor_contracts");
        let what = format!("contract {id}");
        let person: i64 = col!(r, "person_id", what);
        let village: i64 = col!(r, "village_code", what);
        StoredContract {
            id,
            contract: DoctorContract {
                person_id: person_of(person, &what)?,
                practitioner_id: col!(r, "practitioner_id", what),
                signed: col!(r, "signed", what),
                ends: col!(r, "ends", what),
            },
            village: region_of(village, &what)?,
            recorded_by: col!(r, "recorded_by", what),
            recorded_at: col!(r, "recorded_at", what),
        }
    }};
}

fn case_not_found(id: i64) -> StoreError {
    StoreError::NotFound { kind: "case", key: id.to_string() }
}

fn rejected(ctx: &str, reason: impl Into<String>) -> StoreError {
    StoreError::Rejected { context: ctx.to_string(), reason: reason.into() }
}

/// The text fields of a visit, checked like an import row's.
fn check_visit(v: &Visit, ctx: &str) -> Result<(), StoreError> {
    if v.household_id.trim().is_empty() {
        return Err(rejected(ctx, "household_id: the household must be named"));
    }
    if v.visitors.trim().is_empty() {
        return Err(rejected(ctx, "visitors: who went must be named"));
    }
    if let Some(n) = v.next_date {
        if n <= v.date {
            return Err(rejected(ctx, format!("next_date: {n} is not after the visit's day {}", v.date)));
        }
    }
    if v.kind == VisitKind::FollowUp && v.person_id.is_none() {
        return Err(rejected(ctx, "person_id: a follow-up is of one patient"));
    }
    Ok(())
}

impl Store {
    /// The deadlines set by region: (region code prefix, days to verify, days
    /// to close where the region sets them).
    pub async fn case_deadlines(&self) -> Result<Vec<(String, i64, Option<i64>)>, StoreError> {
        Ok(
            on_pool!(self, p => sqlx::query_as("SELECT region, verify_days, close_days FROM case_deadlines ORDER BY region")
            .fetch_all(p)
            .await
            .ctx("reading the case deadlines")?),
        )
    }

    /// Sets the deadlines of cases opened in `region` (a code prefix, `""` for
    /// the nation): `verify_days` days to verify, and `close_days` days to
    /// close (`None`: the default).
    pub async fn set_case_deadline(
        &self,
        region: &str,
        verify_days: i64,
        close_days: Option<i64>,
    ) -> Result<(), StoreError> {
        let ctx = format!("setting the case deadlines of region {region:?}");
        let scope = Scope::new(region)?;
        if !(1..=365).contains(&verify_days) {
            return Err(rejected(&ctx, format!("verify_days: {verify_days} is not between 1 and 365")));
        }
        if let Some(c) = close_days {
            if !(1..=730).contains(&c) {
                return Err(rejected(&ctx, format!("close_days: {c} is not between 1 and 730")));
            }
            if c < verify_days {
                return Err(rejected(
                    &ctx,
                    format!("close_days: {c} is shorter than the {verify_days} days to verify; a case is verified before it is closed"),
                ));
            }
        }
        on_pool!(self, p => sqlx::query(
            "INSERT INTO case_deadlines (region, verify_days, close_days) VALUES ($1, $2, $3)
             ON CONFLICT (region) DO UPDATE SET verify_days = excluded.verify_days, close_days = excluded.close_days",
        )
        .bind(scope.prefix())
        .bind(verify_days)
        .bind(close_days)
        .execute(p)
        .await
        .ctx(&ctx)?
        .rows_affected());
        Ok(())
    }

    /// Opens a case for a household inside the scope, and joins to it the
    /// household's alerts not yet in a case. Refused where the household has an
    /// open case already (one per household per risk episode).
    pub async fn open_case(&self, scope: &Scope, c: &NewCase, actor: &str) -> Result<StoredCase, StoreError> {
        let ctx = format!("opening a case for household {}", c.household_id);
        let at = now();
        let id = on_pool!(self, p => async {
            let mut tx = begin_write(p, &ctx).await?;
            let village: Option<i64> = sqlx::query_scalar("SELECT village_code FROM households WHERE household_id = $1")
                .bind(c.household_id.trim())
                .fetch_optional(&mut *tx)
                .await
                .ctx(&ctx)?;
            let Some(village) = village.filter(|v| region_of(*v, &ctx).is_ok_and(|r| scope.contains(r))) else {
                return Err(StoreError::NotFound { kind: "household", key: c.household_id.clone() });
            };
            let open: Option<i64> =
                sqlx::query_scalar("SELECT id FROM cases WHERE household_id = $1 AND state <> 'closed'")
                    .bind(c.household_id.trim())
                    .fetch_optional(&mut *tx)
                    .await
                    .ctx(&ctx)?;
            if let Some(open) = open {
                return Err(StoreError::Constraint {
                    context: ctx.clone(),
                    detail: format!("the household has an open case already: case {open}"),
                });
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO cases (household_id, village_code, state, source, opened_at, opened_by, due, close_due, note, updated_at)
                 VALUES ($1, $2, 'open', $3, $4, $5, $6, $7, $8, $4) RETURNING id",
            )
            .bind(c.household_id.trim())
            .bind(village)
            .bind(c.source)
            .bind(at)
            .bind(actor.trim())
            .bind(c.due)
            .bind(c.close_due)
            .bind(c.note.trim())
            .fetch_one(&mut *tx)
            .await
            .ctx(&ctx)?;
            sqlx::query(
                "INSERT INTO case_events (case_id, at, actor, action, from_state, to_state, detail)
                 VALUES ($1, $2, $3, 'open', NULL, 'open', $4)",
            )
            .bind(id)
            .bind(at)
            .bind(actor.trim())
            .bind(format!("source {}, due {}, close by {}; {}", c.source, c.due, c.close_due, c.note.trim()))
            .execute(&mut *tx)
            .await
            .ctx(&ctx)?;
            sqlx::query(
                "UPDATE alerts SET case_id = $1 WHERE household_id = $2 AND case_id IS NULL
                 AND state IN ('open', 'verifying', 'assisting')",
            )
            .bind(id)
            .bind(c.household_id.trim())
            .execute(&mut *tx)
            .await
            .ctx(&ctx)?;
            tx.commit().await.ctx(&ctx)?;
            Ok(id)
        }.await)?;
        self.case(scope, id).await?.ok_or_else(|| case_not_found(id))
    }

    /// Joins every open alert inside the scope that is in no case to its
    /// household's open case, opening one (source `alert`, deadlines to verify
    /// and to close `due_of` its village) for the households that have none.
    /// Returns the cases opened and the alerts joined.
    pub async fn join_alerts_to_cases(
        &self,
        scope: &Scope,
        due_of: &(dyn Fn(RegionCode) -> (NaiveDate, NaiveDate) + Sync),
        actor: &str,
    ) -> Result<(usize, usize), StoreError> {
        let ctx = "joining alerts to cases";
        let (lo, hi) = scope.code_range();
        let at = now();
        on_pool!(self, p => async {
            let mut tx = begin_write(p, ctx).await?;
            let without: Vec<(String, i64)> = sqlx::query_as(
                "SELECT DISTINCT a.household_id, a.village_code FROM alerts a
                 WHERE a.village_code BETWEEN $1 AND $2 AND a.case_id IS NULL
                 AND a.state IN ('open', 'verifying', 'assisting')
                 AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.household_id = a.household_id AND c.state <> 'closed')
                 ORDER BY a.household_id",
            )
            .bind(lo)
            .bind(hi)
            .fetch_all(&mut *tx)
            .await
            .ctx(ctx)?;
            for chunk in without.chunks(500) {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO cases (household_id, village_code, state, source, opened_at, opened_by, due, close_due, updated_at) ",
                );
                let mut bad = None;
                q.push_values(chunk, |mut b, (h, v)| {
                    let (due, close_due) = match region_of(*v, ctx) {
                        Ok(r) => due_of(r),
                        Err(e) => {
                            bad = Some(e);
                            (NaiveDate::MIN, NaiveDate::MIN)
                        }
                    };
                    b.push_bind(h.clone())
                        .push_bind(*v)
                        .push_bind("open")
                        .push_bind("alert")
                        .push_bind(at)
                        .push_bind(actor.trim().to_string())
                        .push_bind(due)
                        .push_bind(close_due)
                        .push_bind(at);
                });
                if let Some(e) = bad {
                    return Err(e);
                }
                q.build().execute(&mut *tx).await.ctx(ctx)?;
            }
            sqlx::query(
                "INSERT INTO case_events (case_id, at, actor, action, from_state, to_state, detail)
                 SELECT c.id, $1, $2, 'open', NULL, 'open', 'opened by an alert' FROM cases c
                 WHERE c.opened_at = $1 AND c.source = 'alert' AND c.village_code BETWEEN $3 AND $4
                 AND NOT EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = c.id)",
            )
            .bind(at)
            .bind(actor.trim())
            .bind(lo)
            .bind(hi)
            .execute(&mut *tx)
            .await
            .ctx(ctx)?;
            let joined = sqlx::query(
                "UPDATE alerts SET case_id = (SELECT c.id FROM cases c WHERE c.household_id = alerts.household_id
                                              AND c.state <> 'closed')
                 WHERE village_code BETWEEN $1 AND $2 AND case_id IS NULL
                 AND state IN ('open', 'verifying', 'assisting')",
            )
            .bind(lo)
            .bind(hi)
            .execute(&mut *tx)
            .await
            .ctx(ctx)?
            .rows_affected();
            tx.commit().await.ctx(ctx)?;
            Ok::<_, StoreError>((without.len(), joined as usize))
        }.await)
    }

    /// Cases inside the scope, overdue first (see [`CaseQuery`]).
    pub async fn cases(
        &self,
        scope: &Scope,
        q: &CaseQuery,
        today: NaiveDate,
        page: Page,
    ) -> Result<Vec<StoredCase>, StoreError> {
        let (lo, hi) = scope.code_range();
        let mut sql = format!("SELECT {CASE_COLS} FROM cases c WHERE c.village_code BETWEEN $1 AND $2");
        let mut n = 3;
        let mut texts: Vec<String> = vec![];
        if let Some(s) = q.state {
            sql.push_str(&format!(" AND c.state = '{}'", s.as_str()));
        }
        if q.open_only {
            sql.push_str(" AND c.state <> 'closed'");
        }
        let mut day = None;
        if let Some(d) = q.overdue_on {
            sql.push_str(&format!(" AND c.state IN ('open', 'assigned') AND c.due < ${n}"));
            n += 1;
            day = Some(d);
        }
        for (field, v) in [("assignee", &q.assignee), ("household_id", &q.household)] {
            if let Some(v) = v {
                sql.push_str(&format!(" AND c.{field} = ${n}"));
                n += 1;
                texts.push(v.trim().to_string());
            }
        }
        // The overdue listing reads the partial index of the cases awaiting
        // verification in deadline order and stops at the page; the others sort.
        if day.is_some() {
            sql.push_str(&format!(" ORDER BY c.due, c.id LIMIT ${n} OFFSET ${}", n + 1));
        } else {
            sql.push_str(&format!(
                " ORDER BY CASE WHEN c.state IN ('open', 'assigned') AND c.due < ${n} THEN 0
                                WHEN c.state <> 'closed' THEN 1 ELSE 2 END, c.due, c.id
                  LIMIT ${} OFFSET ${}",
                n + 1,
                n + 2
            ));
        }
        let ctx = "listing cases";
        on_pool!(self, p => {
            let mut query = sqlx::query(&sql).bind(lo).bind(hi);
            if let Some(d) = day {
                query = query.bind(d);
            }
            for t in &texts {
                query = query.bind(t.as_str());
            }
            if day.is_none() {
                query = query.bind(today);
            }
            let rows = query.bind(page.lim()).bind(page.off()).fetch_all(p).await.ctx(ctx)?;
            rows.iter().map(|r| Ok(case_of!(r))).collect()
        })
    }

    /// One case inside the scope, with its alerts, measures, visits and history.
    pub async fn case(&self, scope: &Scope, id: i64) -> Result<Option<StoredCase>, StoreError> {
        let ctx = format!("reading case {id}");
        on_pool!(self, p => {
            let Some(row) = sqlx::query(&format!("SELECT {CASE_COLS} FROM cases c WHERE c.id = $1"))
                .bind(id)
                .fetch_optional(p)
                .await
                .ctx(&ctx)?
            else {
                return Ok(None);
            };
            let mut c = case_of!(row);
            if !scope.contains(c.village) {
                return Ok(None);
            }
            c.alerts = sqlx::query_scalar("SELECT id FROM alerts WHERE case_id = $1 ORDER BY id")
                .bind(id)
                .fetch_all(p)
                .await
                .ctx(&ctx)?;
            for r in sqlx::query(
                "SELECT id, kind, amount, fund, date, note, recorded_by, recorded_at FROM case_measures
                 WHERE case_id = $1 ORDER BY id",
            )
            .bind(id)
            .fetch_all(p)
            .await
            .ctx(&ctx)?
            {
                let what = format!("a measure of case {id}");
                c.measures.push(StoredCaseMeasure {
                    id: col!(r, "id", what),
                    measure: CaseMeasure {
                        kind: col!(r, "kind", what),
                        amount: domain::Fen(col!(r, "amount", what)),
                        fund: col!(r, "fund", what),
                        date: col!(r, "date", what),
                        note: col!(r, "note", what),
                    },
                    recorded_by: col!(r, "recorded_by", what),
                    recorded_at: col!(r, "recorded_at", what),
                });
            }
            for r in sqlx::query(&format!("SELECT {VISIT_COLS} FROM visits v WHERE v.case_id = $1 ORDER BY v.date, v.id"))
                .bind(id)
                .fetch_all(p)
                .await
                .ctx(&ctx)?
            {
                c.visits.push(visit_of!(r));
            }
            for r in sqlx::query(
                "SELECT at, actor, action, from_state, to_state, detail FROM case_events WHERE case_id = $1 ORDER BY id",
            )
            .bind(id)
            .fetch_all(p)
            .await
            .ctx(&ctx)?
            {
                let what = format!("an event of case {id}");
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

    /// Moves a case inside the scope, made on `version`: the rules see the
    /// case's facts read in the same transaction, and the move is written with
    /// an event of its history. A move on an older version is refused
    /// ([`StoreError::Constraint`], "changed since").
    pub async fn move_case(
        &self,
        rules: &dyn CaseRules,
        scope: &Scope,
        id: i64,
        version: i64,
        mv: &CaseMove,
        actor: &str,
    ) -> Result<StoredCase, StoreError> {
        let ctx = format!("case {id}: {}", mv.action());
        if actor.trim().is_empty() {
            return Err(rejected(&ctx, "who makes the move must be named"));
        }
        let lock = if self.backend() == Backend::Postgres { " FOR UPDATE" } else { "" };
        let at = now();
        on_pool!(self, p => async {
            let mut tx = begin_write(p, &ctx).await?;
            let head = sqlx::query(&format!(
                "SELECT state, version, village_code, household_id, assignee, monitored FROM cases WHERE id = $1{lock}"
            ))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .ctx(&ctx)?;
            let Some(head) = head else { return Err(case_not_found(id)) };
            let state: String = col!(head, "state", ctx);
            let village: i64 = col!(head, "village_code", ctx);
            let household: String = col!(head, "household_id", ctx);
            let village = region_of(village, &ctx)?;
            if !scope.contains(village) {
                return Err(case_not_found(id));
            }
            let current: i64 = col!(head, "version", ctx);
            crate::moves::check_version(&ctx, version, current)?;
            let (measures, last_measure): (i64, Option<NaiveDate>) =
                sqlx::query_as("SELECT COUNT(*), MAX(date) FROM case_measures WHERE case_id = $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await
                    .ctx(&ctx)?;
            let last_verification: Option<NaiveDate> =
                sqlx::query_scalar("SELECT MAX(date) FROM visits WHERE case_id = $1 AND kind = 'verification'")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await
                    .ctx(&ctx)?;
            let facts = CaseFacts {
                id,
                state: parsed(&state, &ctx)?,
                version,
                village,
                assignee: col!(head, "assignee", ctx),
                measures: measures as usize,
                last_measure,
                last_verification,
                monitored: col!(head, "monitored", ctx),
            };
            let to = rules.check(&facts, mv).map_err(|reason| StoreError::Constraint {
                context: format!("case {id} ({}): cannot {}", facts.state, mv.action()),
                detail: reason,
            })?;
            let detail = match mv {
                CaseMove::Assign { assignee, due } => {
                    sqlx::query("UPDATE cases SET assignee = $1, due = $2 WHERE id = $3")
                        .bind(assignee.trim())
                        .bind(*due)
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .ctx(&ctx)?;
                    format!("assignee {:?} -> {:?}, due {due}", facts.assignee, assignee.trim())
                }
                CaseMove::Verify { visit, monitored, to_monitor } => {
                    check_visit(visit, &ctx)?;
                    if visit.household_id.trim() != household {
                        return Err(rejected(&ctx, "household_id: the visit is not of the case's household"));
                    }
                    insert_visit(&mut tx, visit, village.as_u64() as i64, Some(id), actor, at, &ctx).await?;
                    sqlx::query("UPDATE cases SET verified_on = $1, monitored = $2 WHERE id = $3")
                        .bind(visit.date)
                        .bind(*monitored)
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .ctx(&ctx)?;
                    let mut changed = 0;
                    if *monitored && !to_monitor.is_empty() {
                        let statuses: Vec<&str> = to_monitor.iter().map(|s| s.as_str()).collect();
                        let list = statuses.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", ");
                        sqlx::query(&format!(
                            "INSERT INTO person_status_history (person_id, old_status, new_status, since, recorded_at)
                             SELECT person_id, status, $1, $2, $3 FROM persons
                             WHERE household_id = $4 AND status IN ({list})"
                        ))
                        .bind(PovertyStatus::Monitored.as_str())
                        .bind(visit.date)
                        .bind(at)
                        .bind(&household)
                        .execute(&mut *tx)
                        .await
                        .ctx(&ctx)?;
                        changed = sqlx::query(&format!(
                            "UPDATE persons SET status = $1, status_since = $2 WHERE household_id = $3 AND status IN ({list})"
                        ))
                        .bind(PovertyStatus::Monitored.as_str())
                        .bind(visit.date)
                        .bind(&household)
                        .execute(&mut *tx)
                        .await
                        .ctx(&ctx)?
                        .rows_affected();
                    }
                    format!(
                        "verified on {} by {}: {}; monitored: {}{}",
                        visit.date,
                        visit.visitors.trim(),
                        visit.findings.trim(),
                        if *monitored { "yes" } else { "no" },
                        match changed {
                            0 => String::new(),
                            1 => " (1 member becomes monitored)".to_string(),
                            n => format!(" ({n} members become monitored)"),
                        }
                    )
                }
                CaseMove::Measure(m) => {
                    if m.kind.trim().is_empty() || m.fund.trim().is_empty() {
                        return Err(rejected(&ctx, "kind and fund: the measure and who gives it must be named"));
                    }
                    if m.amount.0 < 0 {
                        return Err(rejected(&ctx, format!("amount: {} is negative", m.amount)));
                    }
                    sqlx::query(
                        "INSERT INTO case_measures (case_id, kind, amount, fund, date, note, recorded_by, recorded_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(id)
                    .bind(m.kind.trim())
                    .bind(m.amount.0)
                    .bind(m.fund.trim())
                    .bind(m.date)
                    .bind(m.note.trim())
                    .bind(actor.trim())
                    .bind(at)
                    .execute(&mut *tx)
                    .await
                    .ctx(&ctx)?;
                    format!("{} of {} from {} on {}", m.kind.trim(), m.amount, m.fund.trim(), m.date)
                }
                CaseMove::Close { reason, note, on } => {
                    sqlx::query("UPDATE cases SET closed_at = $1, closed_on = $2, close_reason = $3 WHERE id = $4")
                        .bind(at)
                        .bind(*on)
                        .bind(reason.as_str())
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .ctx(&ctx)?;
                    // The case's alerts close with it.
                    let alert_state = match reason {
                        CloseReason::RiskEliminated => "resolved",
                        CloseReason::NoRisk => "dismissed",
                    };
                    let why = format!("case {id} closed: {}", reason.as_str());
                    sqlx::query(
                        "INSERT INTO alert_events (alert_id, from_state, to_state, actor, at, note)
                         SELECT id, state, $1, $2, $3, $4 FROM alerts
                         WHERE case_id = $5 AND state IN ('open', 'verifying', 'assisting')",
                    )
                    .bind(alert_state)
                    .bind(actor.trim())
                    .bind(at)
                    .bind(&why)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .ctx(&ctx)?;
                    sqlx::query(
                        "UPDATE alerts SET state = $1, updated_at = $2
                         WHERE case_id = $3 AND state IN ('open', 'verifying', 'assisting')",
                    )
                    .bind(alert_state)
                    .bind(at)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .ctx(&ctx)?;
                    format!("{}: {}", reason.as_str(), note.trim())
                }
            };
            let mv = crate::moves::Move {
                table: "cases",
                events: "case_events",
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
        self.case(scope, id).await?.ok_or_else(|| case_not_found(id))
    }

    /// Records visits of households inside the scope, all or none: a household
    /// or follow-up visit (verification visits are made through
    /// [`Store::move_case`]). A visit may name the open case it serves. Each is
    /// labelled for the errors (`visits.csv:7`, `the visit`).
    pub async fn record_visits(
        &self,
        scope: &Scope,
        visits: &[(String, Visit, Option<i64>)],
        actor: &str,
    ) -> Result<Vec<i64>, StoreError> {
        let at = now();
        on_pool!(self, p => async {
            let mut tx = begin_write(p, "recording visits").await?;
            let mut ids = Vec::with_capacity(visits.len());
            for (label, v, case) in visits {
                let ctx = format!("{label} (household {})", v.household_id);
                check_visit(v, &ctx)?;
                if v.kind == VisitKind::Verification {
                    return Err(rejected(&ctx, "kind: a verification is recorded on its case (verify)"));
                }
                let village = household_in(&mut tx, scope, &v.household_id, &ctx).await?;
                if let Some(person) = v.person_id {
                    let of: Option<String> = sqlx::query_scalar("SELECT household_id FROM persons WHERE person_id = $1")
                        .bind(person.as_u64() as i64)
                        .fetch_optional(&mut *tx)
                        .await
                        .ctx(&ctx)?;
                    if of.as_deref() != Some(v.household_id.trim()) {
                        return Err(rejected(&ctx, format!("person_id: {person} is not a member of the household")));
                    }
                }
                if let Some(case) = case {
                    let of: Option<String> = sqlx::query_scalar(
                        "SELECT household_id FROM cases WHERE id = $1 AND state <> 'closed'",
                    )
                    .bind(*case)
                    .fetch_optional(&mut *tx)
                    .await
                    .ctx(&ctx)?;
                    if of.as_deref() != Some(v.household_id.trim()) {
                        return Err(rejected(&ctx, format!("case_id: {case} is no open case of the household")));
                    }
                }
                ids.push(insert_visit(&mut tx, v, village, *case, actor, at, &ctx).await?);
            }
            tx.commit().await.ctx("recording visits")?;
            Ok::<_, StoreError>(ids)
        }.await)
    }

    /// Visits inside the scope, the latest first; of one household or person
    /// where named.
    pub async fn visits(
        &self,
        scope: &Scope,
        household: Option<&str>,
        person: Option<ResidentId>,
        page: Page,
    ) -> Result<Vec<StoredVisit>, StoreError> {
        let (lo, hi) = scope.code_range();
        let sql = format!(
            "SELECT {VISIT_COLS} FROM visits v WHERE v.village_code BETWEEN $1 AND $2
             AND ($3 = '' OR v.household_id = $3) AND ($4 = 0 OR v.person_id = $4)
             ORDER BY v.date DESC, v.id DESC LIMIT $5 OFFSET $6"
        );
        on_pool!(self, p => {
            let rows = sqlx::query(&sql)
                .bind(lo)
                .bind(hi)
                .bind(household.unwrap_or("").trim())
                .bind(person.map(|p| p.as_u64() as i64).unwrap_or(0))
                .bind(page.lim())
                .bind(page.off())
                .fetch_all(p)
                .await
                .ctx("listing visits")?;
            rows.iter().map(|r| Ok(visit_of!(r))).collect()
        })
    }

    /// Records family-doctor contracts of persons inside the scope, all or
    /// none; a contract of the same person and day replaces the one kept. The
    /// patient-ledger lines of the person show the contract at once. Each is
    /// labelled for the errors.
    pub async fn sign_contracts(
        &self,
        scope: &Scope,
        contracts: &[(String, DoctorContract)],
        actor: &str,
    ) -> Result<Vec<i64>, StoreError> {
        let at = now();
        on_pool!(self, p => async {
            let mut tx = begin_write(p, "recording contracts").await?;
            let mut ids = Vec::with_capacity(contracts.len());
            for (label, k) in contracts {
                let ctx = format!("{label} (person {})", k.person_id);
                if k.ends <= k.signed {
                    return Err(rejected(&ctx, format!("ends: {} is not after signed {}", k.ends, k.signed)));
                }
                let person = k.person_id.as_u64() as i64;
                let village: Option<i64> = sqlx::query_scalar(
                    "SELECT h.village_code FROM persons p JOIN households h ON h.household_id = p.household_id
                     WHERE p.person_id = $1",
                )
                .bind(person)
                .fetch_optional(&mut *tx)
                .await
                .ctx(&ctx)?;
                let Some(village) = village.filter(|v| region_of(*v, &ctx).is_ok_and(|r| scope.contains(r))) else {
                    return Err(StoreError::NotFound { kind: "person", key: k.person_id.to_string() });
                };
                // The family doctor works in the patient's county.
                let works_in: Option<i64> = sqlx::query_scalar(
                    "SELECT f.region_code FROM practitioners p JOIN facilities f ON f.facility_id = p.facility_id
                     WHERE p.practitioner_id = $1",
                )
                .bind(k.practitioner_id.trim())
                .fetch_optional(&mut *tx)
                .await
                .ctx(&ctx)?;
                let Some(works_in) = works_in else {
                    return Err(rejected(&ctx, format!("practitioner_id: {:?} is not in the store", k.practitioner_id)));
                };
                if works_in / 1_000_000 != village / 1_000_000 {
                    return Err(rejected(
                        &ctx,
                        format!("practitioner_id: {:?} works outside the patient's county", k.practitioner_id),
                    ));
                }
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO doctor_contracts (person_id, practitioner_id, village_code, signed, ends, recorded_by, recorded_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)
                     ON CONFLICT (person_id, signed) DO UPDATE SET practitioner_id = excluded.practitioner_id,
                        village_code = excluded.village_code, ends = excluded.ends,
                        recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at
                     RETURNING id",
                )
                .bind(person)
                .bind(k.practitioner_id.trim())
                .bind(village)
                .bind(k.signed)
                .bind(k.ends)
                .bind(actor.trim())
                .bind(at)
                .fetch_one(&mut *tx)
                .await
                .ctx(&ctx)?;
                sqlx::query(
                    "UPDATE patient_ledger SET contract_doctor = $1, contract_signed = $2, updated_at = $3
                     WHERE person_id = $4 AND (contract_signed IS NULL OR contract_signed <= $2)",
                )
                .bind(k.practitioner_id.trim())
                .bind(k.signed)
                .bind(at)
                .bind(person)
                .execute(&mut *tx)
                .await
                .ctx(&ctx)?;
                ids.push(id);
            }
            tx.commit().await.ctx("recording contracts")?;
            Ok::<_, StoreError>(ids)
        }.await)
    }

    /// The measures of the cases inside the scope: their number and total by case.
    pub async fn case_measure_totals(
        &self,
        scope: &Scope,
    ) -> Result<std::collections::HashMap<i64, (i64, domain::Fen)>, StoreError> {
        let (lo, hi) = scope.code_range();
        let rows: Vec<(i64, i64, i64)> = on_pool!(self, p => sqlx::query_as(
            "SELECT m.case_id, COUNT(*), CAST(SUM(m.amount) AS BIGINT) FROM case_measures m
             JOIN cases c ON c.id = m.case_id WHERE c.village_code BETWEEN $1 AND $2 GROUP BY m.case_id",
        )
        .bind(lo)
        .bind(hi)
        .fetch_all(p)
        .await
        .ctx("summing the measures of cases")?);
        Ok(rows.into_iter().map(|(c, n, a)| (c, (n, domain::Fen(a)))).collect())
    }

    /// The regions' own additions to the disease catalogues: (kind `serious` or
    /// `chronic`, region prefix, entry), in each list's order.
    pub async fn catalogue_entries(&self) -> Result<Vec<(String, String, domain::CatalogueEntry)>, StoreError> {
        let ctx = "reading the regional disease catalogues";
        type Row = (String, String, String, String, String, Option<i64>);
        let rows: Vec<Row> = on_pool!(self, p => sqlx::query_as(
            "SELECT kind, region, name_zh, name_en, icd10_prefixes, since FROM catalogue_entries
             ORDER BY kind, region, position",
        )
        .fetch_all(p)
        .await
        .ctx(ctx)?);
        Ok(rows
            .into_iter()
            .map(|(kind, region, name_zh, name_en, prefixes, since)| {
                let icd10_prefixes = prefixes.split(';').filter(|p| !p.is_empty()).map(String::from).collect();
                (
                    kind,
                    region,
                    domain::CatalogueEntry { name_zh, name_en, icd10_prefixes, since: since.map(|y| y as i32) },
                )
            })
            .collect())
    }

    /// Adds an entry at the end of a region's own `kind` list (`serious` or
    /// `chronic`).
    pub async fn add_catalogue_entry(
        &self,
        kind: &str,
        region: &Scope,
        e: &domain::CatalogueEntry,
    ) -> Result<(), StoreError> {
        let ctx = format!("adding {:?} to the {kind} catalogue of region {:?}", e.name_zh, region.prefix());
        if !matches!(kind, "serious" | "chronic") {
            return Err(rejected(&ctx, "kind: serious or chronic"));
        }
        if e.name_zh.trim().is_empty() || e.icd10_prefixes.is_empty() {
            return Err(rejected(&ctx, "the disease needs a name and at least one ICD-10 prefix"));
        }
        on_pool!(self, p => async {
            let mut tx = begin_write(p, &ctx).await?;
            let next: i64 = sqlx::query_scalar(
                "SELECT COALESCE(MAX(position), 0) + 1 FROM catalogue_entries WHERE kind = $1 AND region = $2",
            )
            .bind(kind)
            .bind(region.prefix())
            .fetch_one(&mut *tx)
            .await
            .ctx(&ctx)?;
            sqlx::query(
                "INSERT INTO catalogue_entries (kind, region, position, name_zh, name_en, icd10_prefixes, since)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(kind)
            .bind(region.prefix())
            .bind(next)
            .bind(e.name_zh.trim())
            .bind(e.name_en.trim())
            .bind(e.icd10_prefixes.join(";"))
            .bind(e.since.map(|y| y as i64))
            .execute(&mut *tx)
            .await
            .ctx(&ctx)?;
            tx.commit().await.ctx(&ctx)
        }.await)
    }

    /// Family-doctor contracts of persons inside the scope, the latest first;
    /// of one person where named.
    pub async fn doctor_contracts(
        &self,
        scope: &Scope,
        person: Option<ResidentId>,
        page: Page,
    ) -> Result<Vec<StoredContract>, StoreError> {
        let (lo, hi) = scope.code_range();
        let sql = format!(
            "SELECT {CONTRACT_COLS} FROM doctor_contracts k WHERE k.village_code BETWEEN $1 AND $2
             AND ($3 = 0 OR k.person_id = $3) ORDER BY k.signed DESC, k.id DESC LIMIT $4 OFFSET $5"
        );
        on_pool!(self, p => {
            let rows = sqlx::query(&sql)
                .bind(lo)
                .bind(hi)
                .bind(person.map(|p| p.as_u64() as i64).unwrap_or(0))
                .bind(page.lim())
                .bind(page.off())
                .fetch_all(p)
                .await
                .ctx("listing contracts")?;
            rows.iter().map(|r| Ok(contract_of!(r))).collect()
        })
    }
}

/// The village of a household inside the scope, or not found.
async fn household_in<DB: sqlx::Database>(
    tx: &mut sqlx::Transaction<'_, DB>,
    scope: &Scope,
    household: &str,
    ctx: &str,
) -> Result<i64, StoreError>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: for<'r> sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    (i64,): for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let village: Option<(i64,)> = sqlx::query_as("SELECT village_code FROM households WHERE household_id = $1")
        .bind(household.trim())
        .fetch_optional(&mut **tx)
        .await
        .ctx(ctx)?;
    match village {
        Some((v,)) if region_of(v, ctx).is_ok_and(|r| scope.contains(r)) => Ok(v),
        _ => Err(StoreError::NotFound { kind: "household", key: household.to_string() }),
    }
}

/// Inserts one visit; returns its id.
async fn insert_visit<DB: sqlx::Database>(
    tx: &mut sqlx::Transaction<'_, DB>,
    v: &Visit,
    village: i64,
    case: Option<i64>,
    actor: &str,
    at: DateTime<Utc>,
    ctx: &str,
) -> Result<i64, StoreError>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> NaiveDate: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<NaiveDate>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> DateTime<Utc>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    (i64,): for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO visits (household_id, village_code, person_id, kind, date, visitors, findings, next_date, case_id,
                             recorded_by, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(v.household_id.trim())
    .bind(village)
    .bind(v.person_id.map(|p| p.as_u64() as i64))
    .bind(v.kind.as_str())
    .bind(v.date)
    .bind(v.visitors.trim())
    .bind(v.findings.trim())
    .bind(v.next_date)
    .bind(case)
    .bind(actor.trim())
    .bind(at)
    .fetch_one(&mut **tx)
    .await
    .ctx(ctx)?;
    Ok(id)
}
