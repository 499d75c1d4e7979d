//! Kept roving and dispatch plans (migration 22, docs/plans.md): a plan of a
//! county or township for a period, saved from the planner with its settings
//! and figures, versioned by region and period, moved through its states; its
//! planned lines; and the visits made against it.
//!
//! The store checks what needs the transaction: the plan's region and the
//! lines' villages and practitioners are in the store (the villages inside the
//! region), the state a move or an edit starts from, the version numbers, and
//! a visit's plan, state, period, village and line. Who may make a move, and
//! what the days planned and made mean for the indicator, are `app`'s.

use crate::db::{begin_write, now, on_pool, Backend, Scope, Store};
use crate::error::{corrupt, Ctx, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use domain::{LineKind, PlanDays, PlanLine, PlanState, PlanTour, PlanVisit, RegionCode};
use serde::Serialize;

/// Migration 22: plans, their lines and the visits made. A released migration:
/// never edited; a change is a new one.
pub(crate) const V22: &str = r#"
CREATE TABLE plans (
    id {id},
    region_code BIGINT NOT NULL,
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    version BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('draft', 'approved', 'in_force', 'superseded', 'withdrawn')),
    as_of DATE NOT NULL,
    planner TEXT NOT NULL,
    travel_minutes DOUBLE PRECISION NOT NULL,
    lower_bound_minutes DOUBLE PRECISION NOT NULL,
    in_force_from DATE,
    in_force_until DATE,
    made_by TEXT NOT NULL,
    made_at TIMESTAMPTZ NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL,
    CHECK (period_end >= period_start),
    UNIQUE (region_code, period_start, period_end, version)
);
CREATE TABLE plan_lines (
    id {id},
    plan_id BIGINT NOT NULL REFERENCES plans (id),
    line_no BIGINT NOT NULL,
    village_code BIGINT NOT NULL REFERENCES regions (code),
    kind TEXT NOT NULL CHECK (kind IN ('rove', 'dispatch')),
    practitioner_id TEXT REFERENCES practitioners (practitioner_id),
    term_start DATE,
    term_end DATE,
    days TEXT NOT NULL,
    halfdays TEXT NOT NULL,
    travel_minutes DOUBLE PRECISION,
    CHECK (term_start IS NULL OR term_end IS NULL OR term_end >= term_start),
    UNIQUE (plan_id, line_no)
);
CREATE INDEX plan_lines_village ON plan_lines (village_code);
CREATE TABLE plan_visits (
    id {id},
    line_id BIGINT NOT NULL REFERENCES plan_lines (id),
    visited_on DATE NOT NULL,
    note TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    UNIQUE (line_id, visited_on)
)
"#;

/// Migration 26: the planner's roving tours kept with a plan (docs/plans.md,
/// "Tours"), each with its villages in order; and the plan (id and version)
/// a network case closed as planned is linked to. A released migration: never
/// edited; a change is a new one.
pub(crate) const V26: &str = r#"
CREATE TABLE plan_tours (
    id {id},
    plan_id BIGINT NOT NULL REFERENCES plans (id),
    tour_no BIGINT NOT NULL,
    practitioner_id TEXT NOT NULL REFERENCES practitioners (practitioner_id),
    facility_id TEXT NOT NULL REFERENCES facilities (facility_id),
    halfdays TEXT NOT NULL,
    travel_minutes DOUBLE PRECISION NOT NULL CHECK (travel_minutes >= 0),
    duration_minutes DOUBLE PRECISION NOT NULL CHECK (duration_minutes >= 0),
    population BIGINT NOT NULL CHECK (population >= 0),
    UNIQUE (plan_id, tour_no)
);
CREATE TABLE plan_tour_stops (
    tour_id BIGINT NOT NULL REFERENCES plan_tours (id),
    stop_no BIGINT NOT NULL,
    village_code BIGINT NOT NULL REFERENCES regions (code),
    PRIMARY KEY (tour_id, stop_no)
);
CREATE INDEX plan_tour_stops_village ON plan_tour_stops (village_code);
ALTER TABLE network_cases ADD COLUMN plan_id BIGINT REFERENCES plans (id);
ALTER TABLE network_cases ADD COLUMN plan_version BIGINT
"#;

/// A plan to save: the planner's output for a region and period, or lines
/// given by hand. The application checks each line alone before.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPlan {
    /// A county's or a township's code.
    pub region: RegionCode,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// The day of the network the planner ran on.
    pub as_of: NaiveDate,
    /// The planner's settings and figures, as the application writes them (JSON).
    pub planner: String,
    pub travel_minutes: f64,
    pub lower_bound_minutes: f64,
    pub lines: Vec<PlanLine>,
    /// The planner's roving tours, numbered from 1 in this order; none for a
    /// plan given by hand.
    pub tours: Vec<PlanTour>,
}

/// A tour as kept, numbered from 1 within its plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredPlanTour {
    pub id: i64,
    pub plan_id: i64,
    pub tour_no: i64,
    pub tour: PlanTour,
}

/// A kept plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredPlan {
    pub id: i64,
    pub region: RegionCode,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// 1, 2, ... per region and period.
    pub version: i64,
    pub state: PlanState,
    pub as_of: NaiveDate,
    pub planner: String,
    pub travel_minutes: f64,
    pub lower_bound_minutes: f64,
    /// The first day the plan was in force (set when put in force).
    pub in_force_from: Option<NaiveDate>,
    /// The first day it was no longer in force (superseded or withdrawn).
    pub in_force_until: Option<NaiveDate>,
    pub made_by: String,
    pub made_at: DateTime<Utc>,
    pub changed_by: String,
    pub changed_at: DateTime<Utc>,
}

/// A planned line as kept, numbered from 1 within its plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredPlanLine {
    pub id: i64,
    pub plan_id: i64,
    pub line_no: i64,
    pub line: PlanLine,
}

/// A visit made against a plan's line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredPlanVisit {
    pub id: i64,
    pub line_id: i64,
    pub line_no: i64,
    pub village: RegionCode,
    pub practitioner_id: Option<String>,
    pub visited_on: NaiveDate,
    pub note: String,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// What a write of visits did, and the plans' regions, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanVisitWrites {
    pub inserted: u64,
    /// Visits given again (same line and day): kept as they were.
    pub unchanged: u64,
    pub regions: Vec<RegionCode>,
}

/// A line of a plan that has been in force, with the visits recorded against
/// it in the days asked: what the share of planned visits made is counted from.
#[derive(Debug, Clone, PartialEq)]
pub struct LineProgress {
    pub plan_id: i64,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub in_force_from: NaiveDate,
    pub in_force_until: Option<NaiveDate>,
    pub line: StoredPlanLine,
    pub visits: u64,
}

type PlanRow = (
    i64,
    i64,
    NaiveDate,
    NaiveDate,
    i64,
    String,
    NaiveDate,
    String,
    f64,
    f64,
    Option<NaiveDate>,
    Option<NaiveDate>,
    String,
    DateTime<Utc>,
    String,
    DateTime<Utc>,
);
const PLAN_COLS: &str = "id, region_code, period_start, period_end, version, state, as_of, planner, travel_minutes, \
     lower_bound_minutes, in_force_from, in_force_until, made_by, made_at, changed_by, changed_at";

type LineRow =
    (i64, i64, i64, i64, String, Option<String>, Option<NaiveDate>, Option<NaiveDate>, String, String, Option<f64>);
const LINE_COLS: &str =
    "l.id, l.plan_id, l.line_no, l.village_code, l.kind, l.practitioner_id, l.term_start, l.term_end, l.days, l.halfdays, l.travel_minutes";

fn region_of(v: i64, ctx: &str) -> Result<RegionCode, StoreError> {
    RegionCode::from_u64(v as u64).map_err(|e| corrupt(ctx, v, e))
}

fn plan_of(r: PlanRow, ctx: &str) -> Result<StoredPlan, StoreError> {
    Ok(StoredPlan {
        id: r.0,
        region: region_of(r.1, ctx)?,
        period_start: r.2,
        period_end: r.3,
        version: r.4,
        state: r.5.parse().map_err(|e: String| corrupt(ctx, &r.5, e))?,
        as_of: r.6,
        planner: r.7,
        travel_minutes: r.8,
        lower_bound_minutes: r.9,
        in_force_from: r.10,
        in_force_until: r.11,
        made_by: r.12,
        made_at: r.13,
        changed_by: r.14,
        changed_at: r.15,
    })
}

fn line_of(r: LineRow, ctx: &str) -> Result<StoredPlanLine, StoreError> {
    let kind: LineKind = r.4.parse().map_err(|e: String| corrupt(ctx, &r.4, e))?;
    let days = PlanDays::parse(&r.8).map_err(|e| corrupt(ctx, &r.8, e))?;
    Ok(StoredPlanLine {
        id: r.0,
        plan_id: r.1,
        line_no: r.2,
        line: PlanLine {
            village: region_of(r.3, ctx)?,
            kind,
            practitioner_id: r.5,
            term_start: r.6,
            term_end: r.7,
            days,
            halfdays: r.9,
            travel_minutes: r.10,
        },
    })
}

fn rejected(ctx: &str, reason: impl Into<String>) -> StoreError {
    StoreError::Rejected { context: ctx.to_string(), reason: reason.into() }
}

fn conflict(ctx: &str, reason: impl Into<String>) -> StoreError {
    StoreError::Constraint { context: ctx.to_string(), detail: reason.into() }
}

/// The codes of the county and the township a scope lies in (-1 where the
/// scope is wider): a plan of either is seen from inside it.
fn enclosing(scope: &Scope) -> (i64, i64) {
    let n = scope.prefix().len();
    let (lo, _) = scope.code_range();
    let county = if n >= 6 { lo / 1_000_000 * 1_000_000 } else { -1 };
    let township = if n >= 9 { lo / 1_000 * 1_000 } else { -1 };
    (county, township)
}

/// The plans seen from a scope: those of a region inside it, and those of the
/// county or township it lies in. Binds `$1..=$4`.
const VISIBLE: &str = "(region_code BETWEEN $1 AND $2 OR region_code = $3 OR region_code = $4)";

impl Store {
    /// The plans seen from `scope` (see [`VISIBLE`]), by region, period (latest
    /// first) and version (latest first).
    pub async fn plans(&self, scope: &Scope) -> Result<Vec<StoredPlan>, StoreError> {
        let ctx = "reading the plans";
        let (lo, hi) = scope.code_range();
        let (county, township) = enclosing(scope);
        let rows: Vec<PlanRow> = on_pool!(self, p => sqlx::query_as(&format!(
            "SELECT {PLAN_COLS} FROM plans WHERE {VISIBLE}
             ORDER BY region_code, period_start DESC, period_end DESC, version DESC"
        ))
        .bind(lo)
        .bind(hi)
        .bind(county)
        .bind(township)
        .fetch_all(p)
        .await
        .ctx(ctx)?);
        rows.into_iter().map(|r| plan_of(r, ctx)).collect()
    }

    /// One plan seen from `scope`; `None` when there is none such.
    pub async fn plan(&self, scope: &Scope, id: i64) -> Result<Option<StoredPlan>, StoreError> {
        let ctx = "reading a plan";
        let (lo, hi) = scope.code_range();
        let (county, township) = enclosing(scope);
        let row: Option<PlanRow> = on_pool!(self, p => sqlx::query_as(&format!(
            "SELECT {PLAN_COLS} FROM plans WHERE {VISIBLE} AND id = $5"
        ))
        .bind(lo)
        .bind(hi)
        .bind(county)
        .bind(township)
        .bind(id)
        .fetch_optional(p)
        .await
        .ctx(ctx)?);
        row.map(|r| plan_of(r, ctx)).transpose()
    }

    /// A plan's lines, by number (the caller checks the scope: [`Store::plan`]).
    pub async fn plan_lines(&self, plan_id: i64) -> Result<Vec<StoredPlanLine>, StoreError> {
        let ctx = "reading a plan's lines";
        let rows: Vec<LineRow> = on_pool!(self, p => sqlx::query_as(&format!(
            "SELECT {LINE_COLS} FROM plan_lines l WHERE l.plan_id = $1 ORDER BY l.line_no"
        ))
        .bind(plan_id)
        .fetch_all(p)
        .await
        .ctx(ctx)?);
        rows.into_iter().map(|r| line_of(r, ctx)).collect()
    }

    /// A plan's tours, by number, each with its villages in order (the caller
    /// checks the scope: [`Store::plan`]).
    pub async fn plan_tours(&self, plan_id: i64) -> Result<Vec<StoredPlanTour>, StoreError> {
        let ctx = "reading a plan's tours";
        type Row = (i64, i64, String, String, String, f64, f64, i64);
        let (tours, stops): (Vec<Row>, Vec<(i64, i64)>) = on_pool!(self, p => {
            let tours: Vec<Row> = sqlx::query_as(
                "SELECT id, tour_no, practitioner_id, facility_id, halfdays, travel_minutes, duration_minutes, population
                 FROM plan_tours WHERE plan_id = $1 ORDER BY tour_no",
            )
            .bind(plan_id)
            .fetch_all(p)
            .await
            .ctx(ctx)?;
            let stops: Vec<(i64, i64)> = sqlx::query_as(
                "SELECT s.tour_id, s.village_code FROM plan_tour_stops s JOIN plan_tours t ON t.id = s.tour_id
                 WHERE t.plan_id = $1 ORDER BY s.tour_id, s.stop_no",
            )
            .bind(plan_id)
            .fetch_all(p)
            .await
            .ctx(ctx)?;
            (tours, stops)
        });
        let mut villages: std::collections::HashMap<i64, Vec<RegionCode>> = std::collections::HashMap::new();
        for (tour, v) in stops {
            villages.entry(tour).or_default().push(region_of(v, ctx)?);
        }
        Ok(tours
            .into_iter()
            .map(|r| StoredPlanTour {
                id: r.0,
                plan_id,
                tour_no: r.1,
                tour: PlanTour {
                    practitioner_id: r.2,
                    facility_id: r.3,
                    halfdays: r.4,
                    villages: villages.remove(&r.0).unwrap_or_default(),
                    travel_minutes: r.5,
                    duration_minutes: r.6,
                    population: r.7.max(0) as u64,
                },
            })
            .collect())
    }

    /// The visits made against a plan, by day and line.
    pub async fn plan_visits(&self, plan_id: i64) -> Result<Vec<StoredPlanVisit>, StoreError> {
        let ctx = "reading a plan's visits";
        type Row = (i64, i64, i64, i64, Option<String>, NaiveDate, String, String, DateTime<Utc>);
        let rows: Vec<Row> = on_pool!(self, p => sqlx::query_as(
            "SELECT v.id, v.line_id, l.line_no, l.village_code, l.practitioner_id, v.visited_on, v.note, v.recorded_by, v.recorded_at
             FROM plan_visits v JOIN plan_lines l ON l.id = v.line_id
             WHERE l.plan_id = $1 ORDER BY v.visited_on, l.line_no"
        )
        .bind(plan_id)
        .fetch_all(p)
        .await
        .ctx(ctx)?);
        rows.into_iter()
            .map(|r| {
                Ok(StoredPlanVisit {
                    id: r.0,
                    line_id: r.1,
                    line_no: r.2,
                    village: region_of(r.3, ctx)?,
                    practitioner_id: r.4,
                    visited_on: r.5,
                    note: r.6,
                    recorded_by: r.7,
                    recorded_at: r.8,
                })
            })
            .collect()
    }

    /// The lines, of villages inside `scope`, of every plan that has been put
    /// in force, each with the number of visits recorded against it from
    /// `from` to `to` (both included): one aggregate.
    pub async fn plan_progress(
        &self,
        scope: &Scope,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<LineProgress>, StoreError> {
        let ctx = "reading the plans' progress";
        let (lo, hi) = scope.code_range();
        type Row = (
            i64,
            i64,
            i64,
            i64,
            String,
            Option<String>,
            Option<NaiveDate>,
            Option<NaiveDate>,
            String,
            String,
            Option<f64>,
            NaiveDate,
            NaiveDate,
            NaiveDate,
            Option<NaiveDate>,
            i64,
        );
        let rows: Vec<Row> = on_pool!(self, p => sqlx::query_as(&format!(
            "SELECT {LINE_COLS}, p.period_start, p.period_end, p.in_force_from, p.in_force_until, CAST(COUNT(v.id) AS BIGINT)
             FROM plan_lines l JOIN plans p ON p.id = l.plan_id
             LEFT JOIN plan_visits v ON v.line_id = l.id AND v.visited_on BETWEEN $1 AND $2
             WHERE p.in_force_from IS NOT NULL AND l.village_code BETWEEN $3 AND $4
             GROUP BY {LINE_COLS}, p.period_start, p.period_end, p.in_force_from, p.in_force_until
             ORDER BY l.plan_id, l.line_no"
        ))
        .bind(from)
        .bind(to)
        .bind(lo)
        .bind(hi)
        .fetch_all(p)
        .await
        .ctx(ctx)?);
        rows.into_iter()
            .map(|r| {
                let line = line_of((r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10), ctx)?;
                Ok(LineProgress {
                    plan_id: line.plan_id,
                    period_start: r.11,
                    period_end: r.12,
                    in_force_from: r.13,
                    in_force_until: r.14,
                    line,
                    visits: r.15.max(0) as u64,
                })
            })
            .collect()
    }

    /// Saves a plan as a draft, the next version of its region and period;
    /// the older versions of them not yet in force (drafts, approved) are
    /// superseded; one in force stays so until the new one is put in force.
    /// Refused (naming the line): a region that is not a county or township
    /// in the store inside `scope`; a village not in the store or outside the
    /// region; a practitioner not in the store.
    pub async fn save_plan(&self, scope: &Scope, new: &NewPlan, actor: &str) -> Result<StoredPlan, StoreError> {
        let ctx = format!("saving the plan of {} for {} to {}", new.region, new.period_start, new.period_end);
        if !scope.contains(new.region) {
            return Err(rejected(&ctx, format!("region: {} is outside your scope", new.region)));
        }
        let at = now();
        let region = new.region.as_u64() as i64;
        let row: PlanRow = on_pool!(self, p => async {
            let mut tx = begin_write(p, &ctx).await?;
            if self.backend() == Backend::Postgres {
                sqlx::query("SELECT pg_advisory_xact_lock(7061972)").execute(&mut *tx).await.ctx(&ctx)?;
            }
            let level: Option<String> = sqlx::query_scalar("SELECT level FROM regions WHERE code = $1")
                .bind(region)
                .fetch_optional(&mut *tx)
                .await
                .ctx(&ctx)?;
            match level.as_deref() {
                Some("county" | "township") => {}
                Some(l) => return Err(rejected(&ctx, format!("region: {} is a {l}; a plan is a county's or a township's", new.region))),
                None => return Err(rejected(&ctx, format!("region: {} is not in the store", new.region))),
            }
            let current: Option<i64> = sqlx::query_scalar(
                "SELECT MAX(version) FROM plans WHERE region_code = $1 AND period_start = $2 AND period_end = $3",
            )
            .bind(region)
            .bind(new.period_start)
            .bind(new.period_end)
            .fetch_one(&mut *tx)
            .await
            .ctx(&ctx)?;
            sqlx::query(
                "UPDATE plans SET state = 'superseded', changed_by = $1, changed_at = $2
                 WHERE region_code = $3 AND period_start = $4 AND period_end = $5 AND state IN ('draft', 'approved')",
            )
            .bind(actor.trim())
            .bind(at)
            .bind(region)
            .bind(new.period_start)
            .bind(new.period_end)
            .execute(&mut *tx)
            .await
            .ctx(&ctx)?;
            let row: PlanRow = sqlx::query_as(&format!(
                "INSERT INTO plans (region_code, period_start, period_end, version, state, as_of, planner, travel_minutes,
                    lower_bound_minutes, made_by, made_at, changed_by, changed_at)
                 VALUES ($1, $2, $3, $4, 'draft', $5, $6, $7, $8, $9, $10, $9, $10) RETURNING {PLAN_COLS}"
            ))
            .bind(region)
            .bind(new.period_start)
            .bind(new.period_end)
            .bind(current.unwrap_or(0) + 1)
            .bind(new.as_of)
            .bind(&new.planner)
            .bind(new.travel_minutes)
            .bind(new.lower_bound_minutes)
            .bind(actor.trim())
            .bind(at)
            .fetch_one(&mut *tx)
            .await
            .ctx(&ctx)?;
            write_lines(&mut tx, row.0, new.region, &new.lines, &ctx).await?;
            write_tours(&mut tx, row.0, new.region, &new.tours, &ctx).await?;
            tx.commit().await.ctx(&ctx)?;
            Ok::<_, StoreError>(row)
        }.await)?;
        plan_of(row, &ctx)
    }

    /// Replaces the lines of a draft plan (checked as [`Store::save_plan`]
    /// checks them). Refused: a plan not in the store inside `scope`; a plan
    /// that is no longer a draft.
    pub async fn replace_plan_lines(
        &self,
        scope: &Scope,
        plan_id: i64,
        lines: &[PlanLine],
        actor: &str,
    ) -> Result<StoredPlan, StoreError> {
        let ctx = format!("editing plan {plan_id}");
        let at = now();
        let (lo, hi) = scope.code_range();
        let row: PlanRow = on_pool!(self, p => async {
            let mut tx = begin_write(p, &ctx).await?;
            let row: Option<PlanRow> = sqlx::query_as(&format!(
                "SELECT {PLAN_COLS} FROM plans WHERE id = $1 AND region_code BETWEEN $2 AND $3"
            ))
            .bind(plan_id)
            .bind(lo)
            .bind(hi)
            .fetch_optional(&mut *tx)
            .await
            .ctx(&ctx)?;
            let Some(row) = row else {
                return Err(StoreError::NotFound { kind: "plan inside your scope", key: plan_id.to_string() });
            };
            let plan = plan_of(row, &ctx)?;
            if plan.state != PlanState::Draft {
                return Err(conflict(&ctx, format!("the plan is {}; only a draft is edited: save a new version", plan.state)));
            }
            sqlx::query("DELETE FROM plan_lines WHERE plan_id = $1").bind(plan_id).execute(&mut *tx).await.ctx(&ctx)?;
            write_lines(&mut tx, plan_id, plan.region, lines, &ctx).await?;
            let row: PlanRow = sqlx::query_as(&format!(
                "UPDATE plans SET changed_by = $1, changed_at = $2 WHERE id = $3 RETURNING {PLAN_COLS}"
            ))
            .bind(actor.trim())
            .bind(at)
            .bind(plan_id)
            .fetch_one(&mut *tx)
            .await
            .ctx(&ctx)?;
            tx.commit().await.ctx(&ctx)?;
            Ok::<_, StoreError>(row)
        }.await)?;
        plan_of(row, &ctx)
    }

    /// Moves a plan of a region inside `scope` to `to` on `day`, checked on the
    /// state it has in the transaction ([`PlanState::may_move`]). Approving
    /// needs lines, and a doctor named on every dispatch line. Put in force,
    /// the plan is in force from `day` (or its period's start, if later), and
    /// the version in force before it of the same region and period is
    /// superseded from then; a day after the period is refused. Withdrawn, a
    /// plan in force stops being so on `day`.
    pub async fn move_plan(
        &self,
        scope: &Scope,
        plan_id: i64,
        to: PlanState,
        day: NaiveDate,
        actor: &str,
    ) -> Result<StoredPlan, StoreError> {
        let ctx = format!("plan {plan_id}: moving it to {to}");
        let at = now();
        let (lo, hi) = scope.code_range();
        let row: PlanRow = on_pool!(self, p => async {
            let mut tx = begin_write(p, &ctx).await?;
            let row: Option<PlanRow> = sqlx::query_as(&format!(
                "SELECT {PLAN_COLS} FROM plans WHERE id = $1 AND region_code BETWEEN $2 AND $3"
            ))
            .bind(plan_id)
            .bind(lo)
            .bind(hi)
            .fetch_optional(&mut *tx)
            .await
            .ctx(&ctx)?;
            let Some(row) = row else {
                return Err(StoreError::NotFound { kind: "plan inside your scope", key: plan_id.to_string() });
            };
            let plan = plan_of(row, &ctx)?;
            if !plan.state.may_move(to) {
                return Err(conflict(&ctx, format!("the plan is {}; it cannot be moved to {to}", plan.state)));
            }
            let (mut from, mut until) = (plan.in_force_from, plan.in_force_until);
            match to {
                PlanState::Approved => {
                    let lines: Vec<LineRow> = sqlx::query_as(&format!(
                        "SELECT {LINE_COLS} FROM plan_lines l WHERE l.plan_id = $1 ORDER BY l.line_no"
                    ))
                    .bind(plan_id)
                    .fetch_all(&mut *tx)
                    .await
                    .ctx(&ctx)?;
                    if lines.is_empty() {
                        return Err(rejected(&ctx, "the plan has no line"));
                    }
                    for l in lines {
                        let l = line_of(l, &ctx)?;
                        if l.line.practitioner_id.is_none() {
                            return Err(rejected(
                                &ctx,
                                format!("line {} (village {}): name the dispatched doctor before approval", l.line_no, l.line.village),
                            ));
                        }
                    }
                }
                PlanState::InForce => {
                    if day > plan.period_end {
                        return Err(rejected(&ctx, format!("its period ended on {}", plan.period_end)));
                    }
                    let start = day.max(plan.period_start);
                    from = Some(start);
                    sqlx::query(
                        "UPDATE plans SET state = 'superseded', in_force_until = $1, changed_by = $2, changed_at = $3
                         WHERE region_code = $4 AND period_start = $5 AND period_end = $6 AND state = 'in_force'",
                    )
                    .bind(start)
                    .bind(actor.trim())
                    .bind(at)
                    .bind(plan.region.as_u64() as i64)
                    .bind(plan.period_start)
                    .bind(plan.period_end)
                    .execute(&mut *tx)
                    .await
                    .ctx(&ctx)?;
                }
                PlanState::Withdrawn => {
                    if let Some(f) = from {
                        until = Some(day.max(f));
                    }
                }
                _ => {}
            }
            let row: PlanRow = sqlx::query_as(&format!(
                "UPDATE plans SET state = $1, in_force_from = $2, in_force_until = $3, changed_by = $4, changed_at = $5
                 WHERE id = $6 RETURNING {PLAN_COLS}"
            ))
            .bind(to.as_str())
            .bind(from)
            .bind(until)
            .bind(actor.trim())
            .bind(at)
            .bind(plan_id)
            .fetch_one(&mut *tx)
            .await
            .ctx(&ctx)?;
            tx.commit().await.ctx(&ctx)?;
            Ok::<_, StoreError>(row)
        }.await)?;
        plan_of(row, &ctx)
    }

    /// Records visits against plans, all in one transaction, each labelled for
    /// its refusal, which refuses them all: a plan not seen from `scope`, or
    /// a village outside it; a plan not in force; a day outside the plan's
    /// period, before it was put in force, or after `today`; a village not in
    /// the plan; a doctor with no line for the village; a village of several
    /// lines without the doctor named; a day outside a dispatched doctor's
    /// term. A visit given again (same line and day) is kept as it was.
    pub async fn record_plan_visits(
        &self,
        scope: &Scope,
        rows: &[(String, PlanVisit)],
        actor: &str,
        today: NaiveDate,
    ) -> Result<PlanVisitWrites, StoreError> {
        let at = now();
        let (lo, hi) = scope.code_range();
        let (county, township) = enclosing(scope);
        on_pool!(self, p => async {
            let mut tx = begin_write(p, "recording visits made against plans").await?;
            let mut done = PlanVisitWrites::default();
            for (label, v) in rows {
                let ctx = format!("{label} (plan {}, village {}, {})", v.plan_id, v.village, v.date);
                let row: Option<PlanRow> = sqlx::query_as(&format!(
                    "SELECT {PLAN_COLS} FROM plans WHERE {VISIBLE} AND id = $5"
                ))
                .bind(lo)
                .bind(hi)
                .bind(county)
                .bind(township)
                .bind(v.plan_id)
                .fetch_optional(&mut *tx)
                .await
                .ctx(&ctx)?;
                let Some(row) = row else {
                    return Err(rejected(&ctx, "plan_id: no such plan is seen from your scope"));
                };
                let plan = plan_of(row, &ctx)?;
                if !scope.contains(v.village) {
                    return Err(rejected(&ctx, "village_code: the village is outside your scope"));
                }
                if plan.state != PlanState::InForce {
                    return Err(rejected(&ctx, format!("plan_id: the plan is {}; visits are recorded against a plan in force", plan.state)));
                }
                if v.date < plan.period_start || v.date > plan.period_end {
                    return Err(rejected(&ctx, format!("date: outside the plan's period, {} to {}", plan.period_start, plan.period_end)));
                }
                if let Some(f) = plan.in_force_from.filter(|f| v.date < *f) {
                    return Err(rejected(&ctx, format!("date: before the plan was in force (from {f})")));
                }
                if v.date > today {
                    return Err(rejected(&ctx, format!("date: after today ({today}); record a visit once made")));
                }
                let lines: Vec<LineRow> = sqlx::query_as(&format!(
                    "SELECT {LINE_COLS} FROM plan_lines l WHERE l.plan_id = $1 AND l.village_code = $2 ORDER BY l.line_no"
                ))
                .bind(v.plan_id)
                .bind(v.village.as_u64() as i64)
                .fetch_all(&mut *tx)
                .await
                .ctx(&ctx)?;
                let lines = lines.into_iter().map(|l| line_of(l, &ctx)).collect::<Result<Vec<_>, _>>()?;
                if lines.is_empty() {
                    return Err(rejected(&ctx, "village_code: the village is not in the plan"));
                }
                let line = match &v.practitioner_id {
                    Some(who) => lines.iter().find(|l| l.line.practitioner_id.as_deref() == Some(who.as_str())).ok_or_else(|| {
                        rejected(&ctx, format!("practitioner_id: {who} has no line for the village in the plan"))
                    })?,
                    None if lines.len() == 1 => &lines[0],
                    None => {
                        return Err(rejected(&ctx, format!(
                            "practitioner_id: the village has {} lines in the plan; name the doctor who visited",
                            lines.len()
                        )))
                    }
                };
                let l = &line.line;
                if l.term_start.is_some_and(|s| v.date < s) || l.term_end.is_some_and(|e| v.date > e) {
                    return Err(rejected(&ctx, format!(
                        "date: outside the doctor's term on line {}, {} to {}",
                        line.line_no,
                        l.term_start.map_or("-".into(), |d| d.to_string()),
                        l.term_end.map_or("-".into(), |d| d.to_string())
                    )));
                }
                let n = sqlx::query(
                    "INSERT INTO plan_visits (line_id, visited_on, note, recorded_by, recorded_at)
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (line_id, visited_on) DO NOTHING",
                )
                .bind(line.id)
                .bind(v.date)
                .bind(&v.note)
                .bind(actor.trim())
                .bind(at)
                .execute(&mut *tx)
                .await
                .ctx(&ctx)?
                .rows_affected();
                if n == 0 {
                    done.unchanged += 1;
                } else {
                    done.inserted += 1;
                }
                done.regions.push(v.village);
            }
            tx.commit().await.ctx("recording visits made against plans")?;
            Ok(done)
        }.await)
    }
}

/// Writes a plan's lines, numbered from 1, each checked: the village is a
/// village in the store inside the plan's region; the practitioner is in the
/// store.
async fn write_lines<'c, DB>(
    tx: &mut sqlx::Transaction<'c, DB>,
    plan_id: i64,
    region: RegionCode,
    lines: &[PlanLine],
    ctx: &str,
) -> Result<(), StoreError>
where
    DB: sqlx::Database,
    for<'e> &'e mut DB::Connection: sqlx::Executor<'e, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<NaiveDate>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<f64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    (String,): for<'r> sqlx::FromRow<'r, DB::Row>,
{
    for (i, l) in lines.iter().enumerate() {
        let no = i as i64 + 1;
        let lctx = format!("{ctx}: line {no} (village {})", l.village);
        let level: Option<(String,)> = sqlx::query_as("SELECT level FROM regions WHERE code = $1")
            .bind(l.village.as_u64() as i64)
            .fetch_optional(&mut **tx)
            .await
            .ctx(&lctx)?;
        match level {
            Some((lv,)) if lv == "village" => {}
            _ => return Err(rejected(&lctx, "village_code: no such village in the store")),
        }
        if !l.village.is_within(region) {
            return Err(rejected(&lctx, format!("village_code: the village lies outside the plan's region {region}")));
        }
        if let Some(who) = &l.practitioner_id {
            let found: Option<(String,)> =
                sqlx::query_as("SELECT practitioner_id FROM practitioners WHERE practitioner_id = $1")
                    .bind(who)
                    .fetch_optional(&mut **tx)
                    .await
                    .ctx(&lctx)?;
            if found.is_none() {
                return Err(rejected(&lctx, format!("practitioner_id: {who} is not in the store")));
            }
        }
        sqlx::query(
            "INSERT INTO plan_lines (plan_id, line_no, village_code, kind, practitioner_id, term_start, term_end, days, halfdays, travel_minutes)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(plan_id)
        .bind(no)
        .bind(l.village.as_u64() as i64)
        .bind(l.kind.as_str().to_string())
        .bind(l.practitioner_id.clone())
        .bind(l.term_start)
        .bind(l.term_end)
        .bind(l.days.to_string())
        .bind(l.halfdays.clone())
        .bind(l.travel_minutes)
        .execute(&mut **tx)
        .await
        .ctx(&lctx)?;
    }
    Ok(())
}

/// Writes a plan's tours and their stops, checked: each tour alone
/// ([`PlanTour::check`]), its doctor and facility in the store, its villages
/// villages of the store inside the plan's region.
async fn write_tours<'c, DB>(
    tx: &mut sqlx::Transaction<'c, DB>,
    plan_id: i64,
    region: RegionCode,
    tours: &[PlanTour],
    ctx: &str,
) -> Result<(), StoreError>
where
    DB: sqlx::Database,
    for<'e> &'e mut DB::Connection: sqlx::Executor<'e, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> f64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    (String,): for<'r> sqlx::FromRow<'r, DB::Row>,
    (i64,): for<'r> sqlx::FromRow<'r, DB::Row>,
{
    for (i, t) in tours.iter().enumerate() {
        let no = i as i64 + 1;
        let tctx = format!("{ctx}: tour {no} (doctor {})", t.practitioner_id);
        t.check().map_err(|e| rejected(&tctx, format!("{}: {}", e.column, e.reason)))?;
        let found: Option<(String,)> =
            sqlx::query_as("SELECT practitioner_id FROM practitioners WHERE practitioner_id = $1")
                .bind(t.practitioner_id.clone())
                .fetch_optional(&mut **tx)
                .await
                .ctx(&tctx)?;
        if found.is_none() {
            return Err(rejected(&tctx, format!("practitioner_id: {} is not in the store", t.practitioner_id)));
        }
        let found: Option<(String,)> = sqlx::query_as("SELECT facility_id FROM facilities WHERE facility_id = $1")
            .bind(t.facility_id.clone())
            .fetch_optional(&mut **tx)
            .await
            .ctx(&tctx)?;
        if found.is_none() {
            return Err(rejected(&tctx, format!("facility_id: {} is not in the store", t.facility_id)));
        }
        for v in &t.villages {
            let level: Option<(String,)> = sqlx::query_as("SELECT level FROM regions WHERE code = $1")
                .bind(v.as_u64() as i64)
                .fetch_optional(&mut **tx)
                .await
                .ctx(&tctx)?;
            if !matches!(level, Some((lv,)) if lv == "village") {
                return Err(rejected(&tctx, format!("villages: {v} is no village in the store")));
            }
            if !v.is_within(region) {
                return Err(rejected(&tctx, format!("villages: {v} lies outside the plan's region {region}")));
            }
        }
        let (tour_id,): (i64,) = sqlx::query_as(
            "INSERT INTO plan_tours (plan_id, tour_no, practitioner_id, facility_id, halfdays, travel_minutes,
                duration_minutes, population)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(plan_id)
        .bind(no)
        .bind(t.practitioner_id.clone())
        .bind(t.facility_id.clone())
        .bind(t.halfdays.clone())
        .bind(t.travel_minutes)
        .bind(t.duration_minutes)
        .bind(t.population.min(i64::MAX as u64) as i64)
        .fetch_one(&mut **tx)
        .await
        .ctx(&tctx)?;
        for (j, v) in t.villages.iter().enumerate() {
            sqlx::query("INSERT INTO plan_tour_stops (tour_id, stop_no, village_code) VALUES ($1, $2, $3)")
                .bind(tour_id)
                .bind(j as i64 + 1)
                .bind(v.as_u64() as i64)
                .execute(&mut **tx)
                .await
                .ctx(&tctx)?;
        }
    }
    Ok(())
}
