//! Targets of the programme indicators set by administrators, kept as policies
//! are: every change is a new version of its indicator, region and year, with who
//! made it and when; the highest version is in force, and a version without a
//! direction removes the target. The shipped targets are not here: the
//! application lays these over them (`app::targets`). Nothing derived depends on
//! them: a report draws its values against them when it is drawn.

use crate::db::{begin_write, now, on_pool, Backend, Store};
use crate::error::{Ctx, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// The table. `year` 0 stands for every year (so that the key is unique on both
/// engines, where NULLs would not be).
pub(crate) const V12: &str = r#"
CREATE TABLE indicator_targets (
    id {id},
    indicator TEXT NOT NULL,
    region TEXT NOT NULL,
    year BIGINT NOT NULL,
    version BIGINT NOT NULL,
    direction TEXT CHECK (direction IS NULL OR direction IN ('at_least', 'at_most', 'about')),
    target_value DOUBLE PRECISION,
    tolerance DOUBLE PRECISION,
    source TEXT NOT NULL DEFAULT '',
    actor TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    CHECK ((direction IS NULL) = (target_value IS NULL) AND (direction IS NULL) = (tolerance IS NULL)),
    UNIQUE (indicator, region, year, version)
)
"#;

/// One stored version of a target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetRecord {
    pub id: i64,
    pub indicator: String,
    /// A region-code prefix, `""` for the nation.
    pub region: String,
    /// `None`: every year.
    pub year: Option<i32>,
    /// 1, 2, ... per indicator, region and year; the highest is in force.
    pub version: i64,
    /// `at_least`, `at_most` or `about`; `None` when this version removes the target.
    pub direction: Option<String>,
    pub value: Option<f64>,
    pub tolerance: Option<f64>,
    pub source: String,
    pub actor: String,
    pub created_at: DateTime<Utc>,
}

/// A change of a target: its new direction, value and tolerance, or `None` to
/// remove it. The application checks the fields before.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTarget {
    pub indicator: String,
    pub region: String,
    pub year: Option<i32>,
    pub set: Option<(String, f64, f64)>,
    pub source: String,
}

type TargetTuple =
    (i64, String, String, i64, i64, Option<String>, Option<f64>, Option<f64>, String, String, DateTime<Utc>);
const TARGET_COLS: &str =
    "id, indicator, region, year, version, direction, target_value, tolerance, source, actor, created_at";

fn target_from(t: TargetTuple) -> TargetRecord {
    TargetRecord {
        id: t.0,
        indicator: t.1,
        region: t.2,
        year: (t.3 != 0).then_some(t.3 as i32),
        version: t.4,
        direction: t.5,
        value: t.6,
        tolerance: t.7,
        source: t.8,
        actor: t.9,
        created_at: t.10,
    }
}

impl Store {
    /// Stores a new version of a target (or of its removal), by `actor`.
    pub async fn put_target(&self, t: &NewTarget, actor: &str) -> Result<TargetRecord, StoreError> {
        let ctx = format!("storing the target of {} for region {:?}", t.indicator, t.region);
        let year = t.year.unwrap_or(0) as i64;
        let (direction, value, tolerance) = match &t.set {
            Some((d, v, tol)) => (Some(d.as_str()), Some(*v), Some(*tol)),
            None => (None, None, None),
        };
        let at = now();
        let row: TargetTuple = on_pool!(self, p => async {
            let mut tx = begin_write(p, &ctx).await?;
            if self.backend() == Backend::Postgres {
                // Two versions stored at once get distinct numbers.
                sqlx::query("SELECT pg_advisory_xact_lock(7061969)").execute(&mut *tx).await.ctx(&ctx)?;
            }
            let current: Option<i64> = sqlx::query_scalar(
                "SELECT MAX(version) FROM indicator_targets WHERE indicator = $1 AND region = $2 AND year = $3",
            )
            .bind(&t.indicator)
            .bind(&t.region)
            .bind(year)
            .fetch_one(&mut *tx)
            .await
            .ctx(&ctx)?;
            let row: TargetTuple = sqlx::query_as(&format!(
                "INSERT INTO indicator_targets (indicator, region, year, version, direction, target_value, tolerance, source, actor, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {TARGET_COLS}"
            ))
            .bind(&t.indicator)
            .bind(&t.region)
            .bind(year)
            .bind(current.unwrap_or(0) + 1)
            .bind(direction)
            .bind(value)
            .bind(tolerance)
            .bind(&t.source)
            .bind(actor)
            .bind(at)
            .fetch_one(&mut *tx)
            .await
            .ctx(&ctx)?;
            tx.commit().await.ctx(&ctx)?;
            Ok::<_, StoreError>(row)
        }.await)?;
        Ok(target_from(row))
    }

    /// The version in force of every stored target (removals included), by
    /// indicator, region and year.
    pub async fn targets(&self) -> Result<Vec<TargetRecord>, StoreError> {
        let sql = format!(
            "SELECT {TARGET_COLS} FROM indicator_targets t
             WHERE t.version = (SELECT MAX(u.version) FROM indicator_targets u
                                WHERE u.indicator = t.indicator AND u.region = t.region AND u.year = t.year)
             ORDER BY t.indicator, t.region, t.year"
        );
        let rows: Vec<TargetTuple> = on_pool!(self, p => {
            sqlx::query_as(&sql).fetch_all(p).await.ctx("reading the indicator targets")?
        });
        Ok(rows.into_iter().map(target_from).collect())
    }

    /// The latest changes of the targets, newest first.
    pub async fn target_versions(&self, limit: u32) -> Result<Vec<TargetRecord>, StoreError> {
        let sql = format!("SELECT {TARGET_COLS} FROM indicator_targets ORDER BY id DESC LIMIT $1");
        let rows: Vec<TargetTuple> = on_pool!(self, p => {
            sqlx::query_as(&sql).bind(limit as i64).fetch_all(p).await.ctx("reading the changes of the indicator targets")?
        });
        Ok(rows.into_iter().map(target_from).collect())
    }
}
