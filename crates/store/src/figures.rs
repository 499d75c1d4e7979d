//! The headline figures by village (table `village_figures`, migration 2), kept
//! current where data changed: the writes that change a village's households,
//! persons, claims, settlements or open alerts name the village in
//! `dirty_villages`, by the store's triggers and unit of work (`fresh.rs`); a
//! read of the figures first recomputes the dirty villages of its scope, and
//! only those ([`Store::refresh_figures`]). So the overview of a province sums a
//! few thousand rows, and keeping them current costs in proportion to what changed.

use crate::db::{begin_write, on_pool, Scope, Store};
use crate::error::{Ctx, StoreError};
use crate::vals::{list, placeholders};
use chrono::{Datelike, NaiveDate};
use std::collections::BTreeMap;

/// One village's figures for one month (0: the registry and the alerts).
#[derive(Debug, Default, Clone, Copy)]
struct Row {
    households: i64,
    persons: i64,
    poor_persons: i64,
    open_alerts: i64,
    claims: i64,
    total_cost: i64,
    out_of_pocket: i64,
}

/// `YYYYMM` of a day.
fn month_of(d: NaiveDate) -> i64 {
    d.year() as i64 * 100 + d.month() as i64
}

/// A county's share of a 12-digit code.
const COUNTY: i64 = 1_000_000;

/// The figures table and its key column for a scope: by county for the scopes
/// wider than a county (a province, a city, the country), else by village.
pub(crate) fn figures_table(scope: &Scope) -> (&'static str, &'static str) {
    if scope.prefix().len() >= 6 {
        ("village_figures", "village_code")
    } else {
        ("county_figures", "county_code")
    }
}

/// How many villages one refresh statement covers.
const VILLAGES_A_STATEMENT: usize = 300;

/// How many villages one refresh transaction recomputes at most, so that a
/// refresh of many holds the write lock in short turns between which real-time
/// settlements go on.
pub const VILLAGES_A_TURN: usize = 50;

impl Store {
    /// Recomputes the figures of the dirty villages inside `scope`, in
    /// transactions of at most [`VILLAGES_A_TURN`] villages, until none is dirty;
    /// a no-op (one indexed read) when none is. Returns how many it recomputed.
    pub async fn refresh_figures(&self, scope: &Scope) -> Result<usize, StoreError> {
        let mut done = 0;
        loop {
            let n = self.refresh_figures_turn(scope, VILLAGES_A_TURN).await?;
            done += n;
            if n < VILLAGES_A_TURN {
                return Ok(done);
            }
        }
    }

    /// Recomputes the figures of at most `limit` dirty villages inside `scope`
    /// (and their counties) in one transaction; returns how many.
    pub async fn refresh_figures_turn(&self, scope: &Scope, limit: usize) -> Result<usize, StoreError> {
        let ctx = "refreshing the figures by village";
        let (lo, hi) = scope.code_range();
        let any: Option<i64> = on_pool!(self, p => {
            sqlx::query_scalar("SELECT village_code FROM dirty_villages WHERE village_code BETWEEN $1 AND $2 LIMIT 1")
                .bind(lo)
                .bind(hi)
                .fetch_optional(p)
                .await
                .ctx(ctx)?
        });
        if any.is_none() {
            return Ok(0);
        }
        let pg = self.backend() == crate::db::Backend::Postgres;
        on_pool!(self, p => async {
            let mut tx = begin_write(p, ctx).await?;
            if pg {
                // One refresher at a time (SQLite's write lock does this there).
                sqlx::query("SELECT pg_advisory_xact_lock(7061967)").execute(&mut *tx).await.ctx(ctx)?;
            }
            let marked: Vec<(i64, i64)> =
                sqlx::query_as(
                    "SELECT village_code, version FROM dirty_villages WHERE village_code BETWEEN $1 AND $2
                     ORDER BY village_code LIMIT $3",
                )
                    .bind(lo)
                    .bind(hi)
                    .bind(limit.max(1) as i64)
                    .fetch_all(&mut *tx)
                    .await
                    .ctx(ctx)?;
            let dirty: Vec<i64> = marked.iter().map(|m| m.0).collect();
            for part in dirty.chunks(VILLAGES_A_STATEMENT) {
                let ins = list(1, part.len());
                let mut rows: BTreeMap<(i64, i64), Row> = part.iter().map(|v| ((*v, 0), Row::default())).collect();
                macro_rules! fetch {
                    ($sql:expr) => {{
                        let sql = $sql;
                        let mut q = sqlx::query_as(&sql);
                        for v in part {
                            q = q.bind(*v);
                        }
                        q.fetch_all(&mut *tx).await.ctx(ctx)?
                    }};
                }
                let households: Vec<(i64, i64)> = fetch!(format!(
                    "SELECT village_code, COUNT(*) FROM households WHERE village_code IN ({ins}) GROUP BY village_code"
                ));
                for (v, n) in households {
                    rows.entry((v, 0)).or_default().households = n;
                }
                let persons: Vec<(i64, i64, i64)> = fetch!(format!(
                    "SELECT h.village_code, COUNT(*), COALESCE(SUM(CASE WHEN t.status <> 'general' THEN 1 ELSE 0 END), 0)
                     FROM persons t JOIN households h ON h.household_id = t.household_id
                     WHERE h.village_code IN ({ins}) GROUP BY h.village_code"
                ));
                for (v, n, poor) in persons {
                    let r = rows.entry((v, 0)).or_default();
                    r.persons = n;
                    r.poor_persons = poor;
                }
                let alerts: Vec<(i64, i64)> = fetch!(format!(
                    "SELECT village_code, COUNT(*) FROM alerts WHERE village_code IN ({ins})
                     AND state IN ('open', 'verifying', 'assisting') GROUP BY village_code"
                ));
                for (v, n) in alerts {
                    rows.entry((v, 0)).or_default().open_alerts = n;
                }
                // By day in SQL (the dialects name months differently), by month here.
                let claims: Vec<(i64, NaiveDate, i64, i64, i64)> = fetch!(format!(
                    "SELECT h.village_code, t.discharged, COUNT(*), CAST(COALESCE(SUM(t.total_cost), 0) AS BIGINT),
                            CAST(COALESCE(SUM(s.out_of_pocket), 0) AS BIGINT)
                     FROM claims t JOIN persons p ON p.person_id = t.person_id
                     JOIN households h ON h.household_id = p.household_id
                     LEFT JOIN settlements s ON s.claim_id = t.claim_id AND s.facility_id = t.facility_id
                     WHERE NOT t.voided AND h.village_code IN ({ins}) GROUP BY h.village_code, t.discharged"
                ));
                for (v, day, n, total, oop) in claims {
                    let r = rows.entry((v, month_of(day))).or_default();
                    r.claims += n;
                    r.total_cost += total;
                    r.out_of_pocket += oop;
                }
                let del = format!("DELETE FROM village_figures WHERE village_code IN ({ins})");
                let mut q = sqlx::query(&del);
                for v in part {
                    q = q.bind(*v);
                }
                q.execute(&mut *tx).await.ctx(ctx)?;
                let rows: Vec<((i64, i64), Row)> = rows.into_iter().collect();
                for chunk in rows.chunks(self.max_binds() / 9) {
                    let sql = format!(
                        "INSERT INTO village_figures (village_code, month, households, persons, poor_persons, open_alerts,
                         claims, total_cost, out_of_pocket) VALUES {}",
                        placeholders(chunk.len(), 9)
                    );
                    let mut q = sqlx::query(&sql);
                    for ((v, m), r) in chunk {
                        q = q
                            .bind(*v)
                            .bind(*m)
                            .bind(r.households)
                            .bind(r.persons)
                            .bind(r.poor_persons)
                            .bind(r.open_alerts)
                            .bind(r.claims)
                            .bind(r.total_cost)
                            .bind(r.out_of_pocket);
                    }
                    q.execute(&mut *tx).await.ctx(ctx)?;
                }
            }
            // Cleared at the versions read: a village marked again meanwhile stays dirty.
            crate::fresh::clear_marks(&mut tx, "dirty_villages", "village_code", &marked, ctx).await?;
            // The counties of the refreshed villages, summed again from their villages.
            let counties: std::collections::BTreeSet<i64> = dirty.iter().map(|v| v / COUNTY * COUNTY).collect();
            for c in &counties {
                sqlx::query("DELETE FROM county_figures WHERE county_code = $1").bind(*c).execute(&mut *tx).await.ctx(ctx)?;
                sqlx::query(
                    "INSERT INTO county_figures (county_code, month, households, persons, poor_persons, open_alerts,
                     claims, total_cost, out_of_pocket)
                     SELECT $1, month, SUM(households), SUM(persons), SUM(poor_persons), SUM(open_alerts),
                            SUM(claims), SUM(total_cost), SUM(out_of_pocket)
                     FROM village_figures WHERE village_code BETWEEN $2 AND $3 GROUP BY month",
                )
                .bind(*c)
                .bind(*c)
                .bind(*c + COUNTY - 1)
                .execute(&mut *tx)
                .await
                .ctx(ctx)?;
            }
            tx.commit().await.ctx(ctx)?;
            Ok(dirty.len())
        }.await)
    }
}
