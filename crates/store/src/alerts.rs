//! Alerts over the store (docs/monitoring.md, "Alerts"): a monitor run's findings
//! reconciled with the alerts kept, one per `(rule, household_id, year)`; the life
//! cycle `open -> verifying -> assisting -> resolved` (or `dismissed`), every change
//! recorded with who, when and a note; assistance measures. The rules of the life
//! cycle are the application's ([`AlertRules`]); this module keeps its rows.
//!
//! Every read and write takes a [`Scope`]: an alert whose village lies outside it
//! is, for that caller, not there.

use crate::db::{begin_write, now, on_pool, Backend, Page, Scope, Store};
use crate::engine::{AlertRules, MeasureRefusal};
use crate::error::{corrupt, Ctx, StoreError};
use crate::settlements::{claim_from, region_of, ClaimTuple, CLAIM_COLS};
use crate::vals::{pg_insert, placeholders, PgArray, PG_ROWS_A_STATEMENT};
use chrono::{DateTime, NaiveDate, Utc};
use domain::alert::{AlertKey, AlertState, Change, Figure, Finding};
use domain::{Claim, Fen, Household, Person, RegionCode, ResidentId, Threshold};
use serde::Serialize;
use std::collections::HashMap;

/// One recorded change of an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertEvent {
    /// `None` when the alert was raised.
    pub from: Option<AlertState>,
    /// Equal to `from` when a monitor run updated the measured value.
    pub to: AlertState,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub note: String,
}

/// An assistance measure recorded on an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredMeasure {
    pub id: i64,
    /// What was given: `medical_assistance`, `temporary_relief`, ...
    pub kind: String,
    pub amount: Fen,
    /// Who gave it (an agency or a person).
    pub by: String,
    pub date: NaiveDate,
    pub note: String,
    /// Who recorded it, and when.
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// A measure to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMeasure {
    pub kind: String,
    pub amount: Fen,
    pub by: String,
    pub date: NaiveDate,
    pub note: String,
}

/// An alert as kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredAlert {
    pub id: i64,
    pub rule: String,
    pub household_id: String,
    pub village: RegionCode,
    pub year: i32,
    pub state: AlertState,
    /// The measured figure: yuan with two decimals, or a diagnosis code.
    pub value: String,
    /// The figure it was compared with; empty where none (serious_diagnosis).
    pub threshold: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Oldest first; empty in lists.
    pub events: Vec<AlertEvent>,
    /// Oldest first; empty in lists.
    pub measures: Vec<StoredMeasure>,
}

/// What applying a run's findings did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReconcileCounts {
    /// New alerts, open.
    pub raised: u64,
    /// Alerts still being handled whose measured figures changed.
    pub updated: u64,
    /// Findings of alerts still being handled, as kept.
    pub unchanged: u64,
    /// Findings of resolved or dismissed alerts: closed for the year, left alone.
    pub closed_kept: u64,
    /// Alerts still being handled that the run no longer raises (left as they are).
    pub no_longer_raised: u64,
    /// Findings outside the scope or of another year (ignored).
    pub outside_scope: u64,
}

/// Filters of an alert listing; the default lists everything in scope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertQuery {
    pub state: Option<AlertState>,
    pub year: Option<i32>,
    pub rule: Option<String>,
    pub household: Option<String>,
    /// A region prefix inside the scope (a township of a county, say).
    pub region: Option<String>,
}

/// Everything a monitor run over the store reads, for a scope and a year.
#[derive(Debug, Clone, Default)]
pub struct MonitorInputs {
    pub households: Vec<Household>,
    pub persons: Vec<Person>,
    pub members: Vec<domain::alert::Member>,
    /// The year's claims that are not voided.
    pub claims: Vec<Claim>,
    /// The out-of-pocket of each settled, unvoided claim of the year.
    pub settlements: Vec<domain::alert::SettledCost>,
    /// The same, by claim key (for the patient ledger).
    pub oop_by_claim: HashMap<domain::ClaimKey, Fen>,
    /// The thresholds of the regions in and above the scope.
    pub thresholds: Vec<Threshold>,
}

type AlertTuple = (i64, String, String, i64, i64, String, String, String, DateTime<Utc>, DateTime<Utc>);
const ALERT_COLS: &str =
    "a.id, a.rule, a.household_id, a.village_code, a.year, a.state, a.value, a.threshold, a.created_at, a.updated_at";

fn state_of(s: &str, ctx: &str) -> Result<AlertState, StoreError> {
    s.parse().map_err(|e: String| corrupt(ctx, s, e))
}

fn alert_from(t: AlertTuple, ctx: &str) -> Result<StoredAlert, StoreError> {
    Ok(StoredAlert {
        id: t.0,
        rule: t.1,
        household_id: t.2,
        village: region_of(t.3, ctx)?,
        year: t.4 as i32,
        state: state_of(&t.5, ctx)?,
        value: t.6,
        threshold: t.7,
        created_at: t.8,
        updated_at: t.9,
        events: Vec::new(),
        measures: Vec::new(),
    })
}

/// A figure as the store keeps it: text, so that money and codes compare alike.
fn figure_text(f: &Figure) -> String {
    f.to_string()
}

fn not_found(id: i64) -> StoreError {
    StoreError::NotFound { kind: "alert", key: id.to_string() }
}

/// A monitor run's new measured figures of an alert still being handled, and
/// the note of its event (the state stays).
pub(crate) struct AlertUpdate {
    id: i64,
    state: &'static str,
    value: String,
    threshold: String,
    note: String,
}

/// Writes a monitor run's updates of alerts, each with its event, inside `tx`.
async fn update_alerts<DB: AlertWrite>(
    tx: &mut sqlx::Transaction<'_, DB>,
    updates: &[AlertUpdate],
    at: DateTime<Utc>,
    actor: &str,
    ctx: &str,
) -> Result<(), StoreError> {
    if updates.is_empty() {
        return Ok(());
    }
    DB::update_alerts(&mut **tx, updates, at, actor, ctx).await
}

/// How each engine writes a monitor run's updates of alerts.
pub(crate) trait AlertWrite: sqlx::Database {
    fn update_alerts(
        conn: &mut Self::Connection,
        updates: &[AlertUpdate],
        at: DateTime<Utc>,
        actor: &str,
        ctx: &str,
    ) -> impl std::future::Future<Output = Result<(), StoreError>> + Send;
}

/// SQLite: two statements an alert, prepared once (in-process, a statement
/// costs microseconds).
impl AlertWrite for sqlx::Sqlite {
    async fn update_alerts(
        conn: &mut Self::Connection,
        updates: &[AlertUpdate],
        at: DateTime<Utc>,
        actor: &str,
        ctx: &str,
    ) -> Result<(), StoreError> {
        for u in updates {
            sqlx::query("UPDATE alerts SET value = $1, threshold = $2, updated_at = $3 WHERE id = $4")
                .bind(&u.value)
                .bind(&u.threshold)
                .bind(at)
                .bind(u.id)
                .execute(&mut *conn)
                .await
                .ctx(ctx)?;
            sqlx::query(
                "INSERT INTO alert_events (alert_id, from_state, to_state, actor, at, note) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(u.id)
            .bind(u.state)
            .bind(u.state)
            .bind(actor)
            .bind(at)
            .bind(&u.note)
            .execute(&mut *conn)
            .await
            .ctx(ctx)?;
        }
        Ok(())
    }
}

/// PostgreSQL: one `UPDATE ... FROM unnest(...)` for the alerts and one insert
/// of arrays for their events, instead of two round trips an alert.
impl AlertWrite for sqlx::Postgres {
    async fn update_alerts(
        conn: &mut Self::Connection,
        updates: &[AlertUpdate],
        at: DateTime<Utc>,
        actor: &str,
        ctx: &str,
    ) -> Result<(), StoreError> {
        for part in updates.chunks(PG_ROWS_A_STATEMENT) {
            let ids: Vec<i64> = part.iter().map(|u| u.id).collect();
            let values: Vec<&str> = part.iter().map(|u| u.value.as_str()).collect();
            let thresholds: Vec<&str> = part.iter().map(|u| u.threshold.as_str()).collect();
            sqlx::query(
                "UPDATE alerts a SET value = u.value, threshold = u.threshold, updated_at = $4
                 FROM unnest($1::BIGINT[], $2::TEXT[], $3::TEXT[]) AS u (id, value, threshold) WHERE a.id = u.id",
            )
            .bind(&ids)
            .bind(&values)
            .bind(&thresholds)
            .bind(at)
            .execute(&mut *conn)
            .await
            .ctx(ctx)?;
            let n = part.len();
            let arrays = vec![
                PgArray::I(ids.iter().map(|&i| Some(i)).collect()),
                PgArray::T(part.iter().map(|u| Some(u.state)).collect()),
                PgArray::T(part.iter().map(|u| Some(u.state)).collect()),
                PgArray::T(vec![Some(actor); n]),
                PgArray::At(vec![at; n]),
                PgArray::T(part.iter().map(|u| Some(u.note.as_str())).collect()),
            ];
            let cols = ["alert_id", "from_state", "to_state", "actor", "at", "note"];
            pg_insert(&mut *conn, "alert_events", &cols, arrays, "", ctx).await?;
        }
        Ok(())
    }
}

impl Store {
    /// Applies a monitor run's findings for `year` inside `scope` to the alerts
    /// kept, by [`AlertRules::reconcile`]: a crossing without an alert raises one
    /// (open); an alert still being handled takes the new measured figures; a
    /// resolved or dismissed alert stays as it is (closed for its year); nothing is
    /// ever raised twice. Running it again on the same findings changes nothing.
    /// Each raise and each update is recorded as an event by `actor`.
    pub async fn apply_findings(
        &self,
        rules: &dyn AlertRules,
        scope: &Scope,
        year: i32,
        findings: &[Finding],
        actor: &str,
    ) -> Result<ReconcileCounts, StoreError> {
        let ctx = format!("applying the monitor's findings for {year}");
        let (lo, hi) = scope.code_range();
        let mut counts = ReconcileCounts::default();
        // Figures compared as stored text, so that a money value read back equals the finding's.
        let mine: Vec<Finding> = findings
            .iter()
            .filter(|f| {
                let keep = f.year == year && scope.contains(f.village_code);
                if !keep {
                    counts.outside_scope += 1;
                }
                keep
            })
            .map(|f| Finding {
                value: Figure::Text(figure_text(&f.value)),
                threshold: f.threshold.as_ref().map(|t| Figure::Text(figure_text(t))),
                ..f.clone()
            })
            .collect();
        let at = now();
        let backend = self.backend();
        let existing_sql =
            format!("SELECT {ALERT_COLS} FROM alerts a WHERE a.year = $1 AND a.village_code BETWEEN $2 AND $3");
        on_pool!(self, p => async {
            let mut tx = begin_write(p, &ctx).await?;
            if backend == Backend::Postgres {
                // Two runs over one year apply one after the other.
                sqlx::query("SELECT pg_advisory_xact_lock(7061968, $1)")
                    .bind(year)
                    .execute(&mut *tx)
                    .await
                    .ctx(&ctx)?;
            }
            let rows: Vec<AlertTuple> =
                sqlx::query_as(&existing_sql).bind(year as i64).bind(lo).bind(hi).fetch_all(&mut *tx).await.ctx(&ctx)?;
            let mut kept = Vec::with_capacity(rows.len());
            let mut ids: HashMap<AlertKey, (i64, AlertState, String, String)> = HashMap::with_capacity(rows.len());
            for t in rows {
                let a = alert_from(t, &ctx)?;
                let key = AlertKey { rule: a.rule.clone(), household_id: a.household_id.clone(), year: a.year };
                kept.push(domain::alert::Alert {
                    key: key.clone(),
                    village_code: a.village,
                    value: Figure::Text(a.value.clone()),
                    threshold: if a.threshold.is_empty() { None } else { Some(Figure::Text(a.threshold.clone())) },
                    state: a.state,
                    raised_at: a.created_at.naive_utc(),
                    history: Vec::new(),
                    measures: Vec::new(),
                });
                ids.insert(key, (a.id, a.state, a.value, a.threshold));
            }
            let changes = rules.reconcile(&kept, &mine);
            let mut raise: Vec<&Finding> = Vec::new();
            let mut updates: Vec<AlertUpdate> = Vec::new();
            for c in &changes {
                match c {
                    Change::Raise(f) => raise.push(f),
                    Change::Update { key, value, threshold } => {
                        counts.updated += 1;
                        let (id, state, old_value, old_threshold) = &ids[key];
                        let value = figure_text(value);
                        let threshold = threshold.as_ref().map(figure_text).unwrap_or_default();
                        let note = format!(
                            "monitor run: value {old_value} -> {value}, threshold {old_threshold} -> {threshold}"
                        );
                        updates.push(AlertUpdate { id: *id, state: state.as_str(), value, threshold, note });
                    }
                    Change::NoLongerRaised { .. } => counts.no_longer_raised += 1,
                }
            }
            update_alerts(&mut tx, &updates, at, actor, &ctx).await?;
            counts.raised = raise.len() as u64;
            let mut seen = std::collections::HashSet::new();
            for f in &mine {
                let key = AlertKey::from(f);
                if !seen.insert(key.clone()) {
                    continue;
                }
                if let Some((_, state, _, _)) = ids.get(&key) {
                    if state.is_closed() {
                        counts.closed_kept += 1;
                    }
                }
            }
            counts.unchanged = (seen.len() as u64) - counts.raised - counts.updated - counts.closed_kept;
            const COLS: usize = 9;
            for chunk in raise.chunks(self.max_binds() / COLS) {
                let sql = format!(
                    "INSERT INTO alerts (rule, household_id, village_code, year, state, value, threshold, created_at, updated_at)
                     VALUES {} RETURNING id, value, threshold",
                    placeholders(chunk.len(), COLS)
                );
                let mut q = sqlx::query_as(&sql);
                for f in chunk {
                    q = q
                        .bind(f.rule.as_str())
                        .bind(f.household_id.as_str())
                        .bind(f.village_code.as_u64() as i64)
                        .bind(year as i64)
                        .bind(AlertState::Open.as_str())
                        .bind(figure_text(&f.value))
                        .bind(f.threshold.as_ref().map(figure_text).unwrap_or_default())
                        .bind(at)
                        .bind(at);
                }
                let made: Vec<(i64, String, String)> = q.fetch_all(&mut *tx).await.ctx(&ctx)?;
                for part in made.chunks(self.max_binds() / 5) {
                    let sql = format!(
                        "INSERT INTO alert_events (alert_id, to_state, actor, at, note) VALUES {}",
                        placeholders(part.len(), 5)
                    );
                    let mut q = sqlx::query(&sql);
                    for (id, value, threshold) in part {
                        let note = if threshold.is_empty() {
                            format!("raised by the monitor: {value}")
                        } else {
                            format!("raised by the monitor: {value} over {threshold}")
                        };
                        q = q.bind(*id).bind(AlertState::Open.as_str()).bind(actor).bind(at).bind(note);
                    }
                    q.execute(&mut *tx).await.ctx(&ctx)?;
                }
            }
            tx.commit().await.ctx(&ctx)?;
            Ok::<_, StoreError>(())
        }.await)?;
        Ok(counts)
    }

    fn alert_filter(scope: &Scope, q: &AlertQuery) -> Result<(String, Vec<AlertBind>), StoreError> {
        let (lo, hi) = scope.code_range();
        let mut cond = vec!["a.village_code BETWEEN $1 AND $2".to_string()];
        let mut binds = vec![AlertBind::I(lo), AlertBind::I(hi)];
        if let Some(r) = &q.region {
            let (rlo, rhi) = Scope::new(r)?.code_range();
            binds.push(AlertBind::I(rlo));
            binds.push(AlertBind::I(rhi));
            cond.push(format!("a.village_code BETWEEN ${} AND ${}", binds.len() - 1, binds.len()));
        }
        if let Some(s) = q.state {
            binds.push(AlertBind::T(s.as_str().to_string()));
            cond.push(format!("a.state = ${}", binds.len()));
        }
        if let Some(y) = q.year {
            binds.push(AlertBind::I(y as i64));
            cond.push(format!("a.year = ${}", binds.len()));
        }
        if let Some(r) = &q.rule {
            binds.push(AlertBind::T(r.clone()));
            cond.push(format!("a.rule = ${}", binds.len()));
        }
        if let Some(h) = &q.household {
            binds.push(AlertBind::T(h.clone()));
            cond.push(format!("a.household_id = ${}", binds.len()));
        }
        Ok((cond.join(" AND "), binds))
    }

    /// A page of the alerts inside the scope that match the query, newest year
    /// first, then by rule and household (events and measures left empty).
    pub async fn alerts(&self, scope: &Scope, q: &AlertQuery, page: Page) -> Result<Vec<StoredAlert>, StoreError> {
        let ctx = "listing alerts";
        let (cond, mut binds) = Self::alert_filter(scope, q)?;
        binds.push(AlertBind::I(page.lim()));
        binds.push(AlertBind::I(page.off()));
        let sql = format!(
            "SELECT {ALERT_COLS} FROM alerts a WHERE {cond} ORDER BY a.year DESC, a.rule, a.household_id, a.id LIMIT ${} OFFSET ${}",
            binds.len() - 1,
            binds.len()
        );
        let rows: Vec<AlertTuple> = on_pool!(self, p => {
            let mut qq = sqlx::query_as(&sql);
            for b in &binds {
                qq = match b {
                    AlertBind::I(v) => qq.bind(*v),
                    AlertBind::T(v) => qq.bind(v.as_str()),
                };
            }
            qq.fetch_all(p).await.ctx(ctx)?
        });
        rows.into_iter().map(|t| alert_from(t, ctx)).collect()
    }

    /// How many alerts inside the scope match the query.
    pub async fn count_alerts(&self, scope: &Scope, q: &AlertQuery) -> Result<u64, StoreError> {
        let (cond, binds) = Self::alert_filter(scope, q)?;
        let sql = format!("SELECT COUNT(*) FROM alerts a WHERE {cond}");
        let n: i64 = on_pool!(self, p => {
            let mut qq = sqlx::query_scalar(&sql);
            for b in &binds {
                qq = match b {
                    AlertBind::I(v) => qq.bind(*v),
                    AlertBind::T(v) => qq.bind(v.as_str()),
                };
            }
            qq.fetch_one(p).await.ctx("counting alerts")?
        });
        Ok(n as u64)
    }

    /// One alert with its events and measures, if it lies inside the scope.
    pub async fn alert(&self, scope: &Scope, id: i64) -> Result<Option<StoredAlert>, StoreError> {
        let ctx = "reading an alert";
        let sql = format!("SELECT {ALERT_COLS} FROM alerts a WHERE a.id = $1");
        type EventRow = (Option<String>, String, String, DateTime<Utc>, String);
        type MeasureRow = (i64, String, i64, String, NaiveDate, String, String, DateTime<Utc>);
        let (row, events, measures): (Option<AlertTuple>, Vec<EventRow>, Vec<MeasureRow>) = on_pool!(self, p => {
            let row: Option<AlertTuple> = sqlx::query_as(&sql).bind(id).fetch_optional(p).await.ctx(ctx)?;
            let events: Vec<EventRow> = sqlx::query_as(
                "SELECT from_state, to_state, actor, at, note FROM alert_events WHERE alert_id = $1 ORDER BY id",
            )
            .bind(id)
            .fetch_all(p)
            .await
            .ctx(ctx)?;
            let measures: Vec<MeasureRow> = sqlx::query_as(
                "SELECT id, kind, amount, by_whom, date, note, recorded_by, recorded_at FROM assistance_measures
                 WHERE alert_id = $1 ORDER BY id",
            )
            .bind(id)
            .fetch_all(p)
            .await
            .ctx(ctx)?;
            (row, events, measures)
        });
        let Some(row) = row else { return Ok(None) };
        let mut a = alert_from(row, ctx)?;
        if !scope.contains(a.village) {
            return Ok(None);
        }
        for (from, to, actor, at, note) in events {
            a.events.push(AlertEvent {
                from: from.map(|f| state_of(&f, ctx)).transpose()?,
                to: state_of(&to, ctx)?,
                actor,
                at,
                note,
            });
        }
        for (id, kind, amount, by, date, note, recorded_by, recorded_at) in measures {
            a.measures.push(StoredMeasure { id, kind, amount: Fen(amount), by, date, note, recorded_by, recorded_at });
        }
        Ok(Some(a))
    }

    /// Moves an alert inside the scope to `to`, by [`AlertRules::check_transition`]:
    /// `resolved` needs a recorded measure, `dismissed` a reason in the note, a closed
    /// alert moves no more. The change is recorded with `actor`, the time and the note.
    pub async fn transition_alert(
        &self,
        rules: &dyn AlertRules,
        scope: &Scope,
        id: i64,
        to: AlertState,
        actor: &str,
        note: &str,
    ) -> Result<StoredAlert, StoreError> {
        let ctx = format!("moving alert {id} to {to}");
        let lock = if self.backend() == Backend::Postgres { " FOR UPDATE" } else { "" };
        let head_sql = format!("SELECT state, village_code FROM alerts WHERE id = $1{lock}");
        let at = now();
        on_pool!(self, p => async {
            let mut tx = begin_write(p, &ctx).await?;
            let head: Option<(String, i64)> = sqlx::query_as(&head_sql).bind(id).fetch_optional(&mut *tx).await.ctx(&ctx)?;
            let Some((state, village)) = head else { return Err(not_found(id)) };
            if !scope.contains(region_of(village, &ctx)?) {
                return Err(not_found(id));
            }
            let from = state_of(&state, &ctx)?;
            let measures: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM assistance_measures WHERE alert_id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await
                .ctx(&ctx)?;
            rules.check_transition(from, to, actor, note, measures as usize).map_err(|reason| {
                StoreError::IllegalTransition { id, from: from.as_str().to_string(), to: to.as_str().to_string(), reason }
            })?;
            sqlx::query("UPDATE alerts SET state = $1, updated_at = $2 WHERE id = $3")
                .bind(to.as_str())
                .bind(at)
                .bind(id)
                .execute(&mut *tx)
                .await
                .ctx(&ctx)?;
            sqlx::query(
                "INSERT INTO alert_events (alert_id, from_state, to_state, actor, at, note) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(from.as_str())
            .bind(to.as_str())
            .bind(actor.trim())
            .bind(at)
            .bind(note.trim())
            .execute(&mut *tx)
            .await
            .ctx(&ctx)?;
            tx.commit().await.ctx(&ctx)?;
            Ok::<_, StoreError>(())
        }.await)?;
        self.alert(scope, id).await?.ok_or_else(|| not_found(id))
    }

    /// Records an assistance measure on an alert inside the scope: refused on a
    /// closed alert ([`StoreError::Constraint`]) and without a kind or a giver, or
    /// with a negative amount ([`StoreError::Rejected`]).
    pub async fn add_assistance(
        &self,
        rules: &dyn AlertRules,
        scope: &Scope,
        id: i64,
        m: &NewMeasure,
        actor: &str,
    ) -> Result<StoredAlert, StoreError> {
        let ctx = format!("recording a measure on alert {id}");
        let lock = if self.backend() == Backend::Postgres { " FOR UPDATE" } else { "" };
        let head_sql = format!("SELECT state, village_code FROM alerts WHERE id = $1{lock}");
        let at = now();
        on_pool!(self, p => async {
            let mut tx = begin_write(p, &ctx).await?;
            let head: Option<(String, i64)> = sqlx::query_as(&head_sql).bind(id).fetch_optional(&mut *tx).await.ctx(&ctx)?;
            let Some((state, village)) = head else { return Err(not_found(id)) };
            if !scope.contains(region_of(village, &ctx)?) {
                return Err(not_found(id));
            }
            let state = state_of(&state, &ctx)?;
            if actor.trim().is_empty() {
                return Err(StoreError::Rejected { context: ctx, reason: "who records the measure must be named".into() });
            }
            let check =
                domain::alert::Assistance { kind: m.kind.clone(), amount: m.amount, by: m.by.clone(), date: m.date };
            match rules.check_measure(state, &check) {
                Ok(()) => {}
                Err(MeasureRefusal::Closed(detail)) => return Err(StoreError::Constraint { context: ctx, detail }),
                Err(MeasureRefusal::Invalid(reason)) => return Err(StoreError::Rejected { context: ctx, reason }),
            }
            sqlx::query(
                "INSERT INTO assistance_measures (alert_id, kind, amount, by_whom, date, note, recorded_by, recorded_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(id)
            .bind(m.kind.trim())
            .bind(m.amount.0)
            .bind(m.by.trim())
            .bind(m.date)
            .bind(m.note.trim())
            .bind(actor.trim())
            .bind(at)
            .execute(&mut *tx)
            .await
            .ctx(&ctx)?;
            sqlx::query("UPDATE alerts SET updated_at = $1 WHERE id = $2").bind(at).bind(id).execute(&mut *tx).await.ctx(&ctx)?;
            tx.commit().await.ctx(&ctx)?;
            Ok::<_, StoreError>(())
        }.await)?;
        self.alert(scope, id).await?.ok_or_else(|| not_found(id))
    }

    /// What a monitor run of `year` over the store reads, inside the scope: the
    /// households and their members, the year's unvoided claims, the out-of-pocket
    /// of their settlements, and the thresholds of the regions in and above it.
    pub async fn monitor_inputs(&self, scope: &Scope, year: i32) -> Result<MonitorInputs, StoreError> {
        let ctx = format!("reading the monitor's inputs for {year}");
        let households: Vec<Household> = self.records_in(scope).await?;
        let persons: Vec<Person> = self.records_in(scope).await?;
        let thresholds: Vec<Threshold> = self.records_in(scope).await?;
        let (lo, hi) = scope.code_range();
        let join = "JOIN persons p ON p.person_id = c.person_id JOIN households h ON h.household_id = p.household_id";
        // Both read from the scope's households down (`+c.year` keeps SQLite off
        // the year's index; a CROSS JOIN keeps its order there), so that a
        // village's read costs its own rows rather than a scan of the year.
        let claims_sql = format!(
            "SELECT {CLAIM_COLS} FROM claims c {join}
             WHERE +c.year = $1 AND NOT c.voided AND h.village_code BETWEEN $2 AND $3 ORDER BY c.discharged, c.claim_id, c.facility_id"
        );
        let oop_sql =
            "SELECT s.claim_id, s.facility_id, s.person_id, s.out_of_pocket FROM households h CROSS JOIN persons p
             CROSS JOIN settlements s CROSS JOIN claims c
             WHERE p.household_id = h.household_id AND s.person_id = p.person_id AND s.year = $1
             AND c.claim_id = s.claim_id AND c.facility_id = s.facility_id AND NOT c.voided
             AND h.village_code BETWEEN $2 AND $3";
        // claim, facility, person, out-of-pocket
        type OopRow = (String, String, i64, i64);
        let (claims, oop): (Vec<ClaimTuple>, Vec<OopRow>) = match &self.pool {
            // Through SQLite's own interface: sqlx's cost per row is most of a read's.
            crate::db::Pool::Sqlite(p) => {
                use crate::vals::Val;
                let binds = [Val::I(Some(year as i64)), Val::I(Some(lo)), Val::I(Some(hi))];
                let mut claims = Vec::new();
                crate::raw::pool_each(p, &claims_sql, &binds, &ctx, |r| {
                    claims.push(crate::settlements::claim_tuple(r)?);
                    Ok(())
                })
                .await?;
                let mut oop = Vec::new();
                crate::raw::pool_each(p, oop_sql, &binds, &ctx, |r| {
                    oop.push((r.text(0)?.to_string(), r.text(1)?.to_string(), r.int(2), r.int(3)));
                    Ok(())
                })
                .await?;
                (claims, oop)
            }
            crate::db::Pool::Pg(p) => {
                let claims =
                    sqlx::query_as(&claims_sql).bind(year as i64).bind(lo).bind(hi).fetch_all(p).await.ctx(&ctx)?;
                let oop = sqlx::query_as(oop_sql).bind(year as i64).bind(lo).bind(hi).fetch_all(p).await.ctx(&ctx)?;
                (claims, oop)
            }
        };
        let claims: Vec<Claim> = claims.into_iter().map(claim_from).collect::<Result<_, _>>()?;
        let mut settlements = Vec::with_capacity(oop.len());
        let mut oop_by_claim = HashMap::with_capacity(oop.len());
        for (claim_id, facility_id, person, amount) in oop {
            let person_id: ResidentId = crate::registry::resident_id(person, &ctx)?;
            settlements.push(domain::alert::SettledCost { person_id, year, out_of_pocket: Fen(amount) });
            oop_by_claim.insert(domain::ClaimKey { facility_id, claim_id }, Fen(amount));
        }
        let members = persons.iter().map(domain::alert::Member::from).collect();
        Ok(MonitorInputs { households, persons, members, claims, settlements, oop_by_claim, thresholds })
    }
}

#[derive(Debug, Clone)]
enum AlertBind {
    I(i64),
    T(String),
}
