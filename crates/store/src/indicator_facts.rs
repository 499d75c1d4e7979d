//! The programme indicators' facts kept by year and village (migration 3), so
//! that a report sums stored facts instead of reading and recomputing a whole
//! scope's registry, claims and alerts.
//!
//! The store keeps the facts as bytes it does not read (the `indicators` crate
//! computes and encodes them; the web layer wires the two). What it owns is
//! keeping them current: every write that changes a village's households,
//! persons, claims, settlements, alerts or contracts names the village in
//! `indicator_dirty` in its own transaction (with the figures' dirty mark, see
//! `figures.rs`); a refresh reads the marks with their versions, recomputes
//! those villages, and replaces their facts and clears the marks at the versions
//! read in one transaction ([`Store::write_indicator_facts`]). A village marked
//! again meanwhile stays dirty. A change to the network (regions, facilities,
//! practitioners) clears every year's `coverage_as_of`, so the reach is measured
//! again.

use crate::db::{begin_write, on_pool, Scope, Store};
use crate::error::{Ctx, StoreError};
use crate::vals::placeholders;
use chrono::NaiveDate;

/// A year whose facts are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorYear {
    pub year: i32,
    /// False until the first build of every village finished.
    pub complete: bool,
    /// The day the villages' reach was measured on; `None` when it must be
    /// measured (never yet, or the network changed since).
    pub coverage_as_of: Option<NaiveDate>,
    /// Why the reach could not be measured, when it could not.
    pub coverage_note: Option<String>,
}

/// One village's kept facts of a year.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VillageFacts {
    pub village: i64,
    /// As `indicators::stored` encodes them.
    pub facts: Vec<u8>,
    /// Claims of the year with no settlement (left out of the facts).
    pub unsettled: i64,
}

/// The facts of one year over some code ranges, to replace what is kept there.
#[derive(Debug, Clone, Default)]
pub struct YearFacts {
    pub year: i32,
    /// Each village's facts; villages of the ranges not named here have none.
    pub rows: Vec<VillageFacts>,
}

/// The kept facts of a year inside a scope.
#[derive(Debug, Clone, Default)]
pub struct KeptFacts {
    /// `(village, bytes)` of the registry, the claims and the alerts.
    pub local: Vec<(i64, Vec<u8>)>,
    /// `(village, bytes)` of the villages' reach.
    pub coverage: Vec<(i64, Vec<u8>)>,
    /// Claims of the year with no settlement.
    pub unsettled: i64,
}

/// One refresh turn: the inclusive code ranges recomputed, the new facts of each
/// year there, the marks to clear (village, version read), and the years whose
/// first build this turn finishes.
#[derive(Debug, Clone, Default)]
pub struct FactsWrite {
    pub ranges: Vec<(i64, i64)>,
    pub years: Vec<YearFacts>,
    pub clear: Vec<(i64, i64)>,
    pub completes: Vec<i32>,
}

impl Store {
    /// The years whose facts are kept, by year.
    pub async fn indicator_years(&self) -> Result<Vec<IndicatorYear>, StoreError> {
        let ctx = "reading the years of kept indicator facts";
        let rows: Vec<(i64, bool, Option<NaiveDate>, Option<String>)> = on_pool!(self, p => {
            sqlx::query_as("SELECT year, complete, coverage_as_of, coverage_note FROM indicator_years ORDER BY year")
                .fetch_all(p)
                .await
                .ctx(ctx)?
        });
        Ok(rows
            .into_iter()
            .map(|(year, complete, coverage_as_of, coverage_note)| IndicatorYear {
                year: year as i32,
                complete,
                coverage_as_of,
                coverage_note,
            })
            .collect())
    }

    /// Starts keeping the facts of `year` (incomplete until a refresh builds every
    /// village); a no-op when it is kept already.
    pub async fn keep_indicator_year(&self, year: i32) -> Result<(), StoreError> {
        let ctx = format!("keeping the indicator facts of {year}");
        on_pool!(self, p => {
            sqlx::query("INSERT INTO indicator_years (year) VALUES ($1) ON CONFLICT (year) DO NOTHING")
                .bind(year as i64)
                .execute(p)
                .await
                .ctx(&ctx)?;
        });
        Ok(())
    }

    /// The villages whose indicator facts are stale, with the versions of their
    /// marks, by code.
    pub async fn indicator_dirty(&self) -> Result<Vec<(i64, i64)>, StoreError> {
        let ctx = "reading the villages whose indicator facts are stale";
        Ok(on_pool!(self, p => {
            sqlx::query_as("SELECT village_code, version FROM indicator_dirty ORDER BY village_code")
                .fetch_all(p)
                .await
                .ctx(ctx)?
        }))
    }

    /// The county codes (12 digits) of every village with households, the units of
    /// a year's first build.
    pub async fn counties_with_households(&self) -> Result<Vec<i64>, StoreError> {
        let ctx = "listing the counties with households";
        Ok(on_pool!(self, p => {
            sqlx::query_scalar(
                "SELECT DISTINCT (village_code / 1000000) * 1000000 FROM households ORDER BY 1",
            )
            .fetch_all(p)
            .await
            .ctx(ctx)?
        }))
    }

    /// Replaces the kept facts of each year of `w` inside its ranges, clears the
    /// marks at the versions read, and marks the finished years complete, in one
    /// transaction.
    pub async fn write_indicator_facts(&self, w: &FactsWrite) -> Result<(), StoreError> {
        let ctx = "writing the indicator facts";
        let pg = self.backend() == crate::db::Backend::Postgres;
        let per4 = (self.max_binds() / 4).max(1);
        on_pool!(self, p => async {
            let mut tx = begin_write(p, ctx).await?;
            if pg {
                // One writer of kept facts at a time (SQLite's write lock does this there).
                sqlx::query("SELECT pg_advisory_xact_lock(7061968)").execute(&mut *tx).await.ctx(ctx)?;
            }
            for y in &w.years {
                for &(lo, hi) in &w.ranges {
                    sqlx::query("DELETE FROM indicator_facts WHERE year = $1 AND village_code BETWEEN $2 AND $3")
                        .bind(y.year as i64)
                        .bind(lo)
                        .bind(hi)
                        .execute(&mut *tx)
                        .await
                        .ctx(ctx)?;
                }
                for v in &y.rows {
                    if !w.ranges.iter().any(|&(lo, hi)| lo <= v.village && v.village <= hi) {
                        return Err(StoreError::Invalid(format!(
                            "{ctx}: village {} lies outside the ranges recomputed",
                            v.village
                        )));
                    }
                }
                for chunk in y.rows.chunks(per4) {
                    let sql = format!(
                        "INSERT INTO indicator_facts (year, village_code, facts, unsettled) VALUES {}",
                        placeholders(chunk.len(), 4)
                    );
                    let mut q = sqlx::query(&sql);
                    for v in chunk {
                        q = q.bind(y.year as i64).bind(v.village).bind(v.facts.as_slice()).bind(v.unsettled);
                    }
                    q.execute(&mut *tx).await.ctx(ctx)?;
                }
            }
            // Cleared at the versions read: a village marked again meanwhile stays dirty.
            for part in w.clear.chunks((self.max_binds() / 2).max(1)) {
                let pairs: Vec<String> = (0..part.len())
                    .map(|i| format!("(village_code = ${} AND version = ${})", 2 * i + 1, 2 * i + 2))
                    .collect();
                let del = format!("DELETE FROM indicator_dirty WHERE {}", pairs.join(" OR "));
                let mut q = sqlx::query(&del);
                for (v, version) in part {
                    q = q.bind(*v).bind(*version);
                }
                q.execute(&mut *tx).await.ctx(ctx)?;
            }
            for y in &w.completes {
                sqlx::query("UPDATE indicator_years SET complete = TRUE WHERE year = $1")
                    .bind(*y as i64)
                    .execute(&mut *tx)
                    .await
                    .ctx(ctx)?;
            }
            tx.commit().await.ctx(ctx)?;
            Ok(())
        }.await)
    }

    /// Replaces every village's coverage facts of `year` with `rows`, measured on
    /// `as_of` (`note`: why they could not be measured, with `rows` empty).
    pub async fn write_indicator_coverage(
        &self,
        year: i32,
        as_of: NaiveDate,
        note: Option<&str>,
        rows: &[(i64, Vec<u8>)],
    ) -> Result<(), StoreError> {
        let ctx = format!("writing the coverage facts of {year}");
        let per = (self.max_binds() / 3).max(1);
        on_pool!(self, p => async {
            let mut tx = begin_write(p, &ctx).await?;
            sqlx::query("DELETE FROM indicator_coverage WHERE year = $1").bind(year as i64).execute(&mut *tx).await.ctx(&ctx)?;
            for chunk in rows.chunks(per) {
                let sql = format!(
                    "INSERT INTO indicator_coverage (year, village_code, facts) VALUES {}",
                    placeholders(chunk.len(), 3)
                );
                let mut q = sqlx::query(&sql);
                for (v, bytes) in chunk {
                    q = q.bind(year as i64).bind(*v).bind(bytes.as_slice());
                }
                q.execute(&mut *tx).await.ctx(&ctx)?;
            }
            sqlx::query("UPDATE indicator_years SET coverage_as_of = $1, coverage_note = $2 WHERE year = $3")
                .bind(as_of)
                .bind(note)
                .bind(year as i64)
                .execute(&mut *tx)
                .await
                .ctx(&ctx)?;
            tx.commit().await.ctx(&ctx)?;
            Ok(())
        }.await)
    }

    /// The kept facts of `year` inside the scope.
    pub async fn indicator_facts(&self, scope: &Scope, year: i32) -> Result<KeptFacts, StoreError> {
        let ctx = format!("reading the kept indicator facts of {year}");
        let (lo, hi) = scope.code_range();
        Ok(on_pool!(self, p => {
            let rows: Vec<(i64, Vec<u8>, i64)> = sqlx::query_as(
                "SELECT village_code, facts, unsettled FROM indicator_facts
                 WHERE year = $1 AND village_code BETWEEN $2 AND $3",
            )
            .bind(year as i64)
            .bind(lo)
            .bind(hi)
            .fetch_all(p)
            .await
            .ctx(&ctx)?;
            let coverage = sqlx::query_as(
                "SELECT village_code, facts FROM indicator_coverage WHERE year = $1 AND village_code BETWEEN $2 AND $3",
            )
            .bind(year as i64)
            .bind(lo)
            .bind(hi)
            .fetch_all(p)
            .await
            .ctx(&ctx)?;
            let unsettled = rows.iter().map(|r| r.2).sum();
            KeptFacts { local: rows.into_iter().map(|(v, b, _)| (v, b)).collect(), coverage, unsettled }
        }))
    }
}
