//! Basic medical insurance enrolment by person and year (docs/desk.md,
//! "Enrolment"), migration 17. Settlement reads whether a person is enrolled
//! for a claim's year (`settlements.rs`) and keeps it with each settlement
//! (`settlements.enrolled`), as it keeps the person's status.

use crate::db::{begin_write, now, on_pool, Scope, Store};
use crate::error::{corrupt, Ctx, StoreError};
use crate::settlements::region_of;
use chrono::{DateTime, NaiveDate, Utc};
use domain::{Enrolment, RegionCode, ResidentId, SubsidyCategory};
use std::collections::HashSet;

/// The enrolments, and the enrolment each settlement was made with (true for
/// the settlements made before enrolment was kept).
pub(crate) const V17: &str = r#"
CREATE TABLE enrolments (
    person_id BIGINT NOT NULL REFERENCES persons (person_id),
    year BIGINT NOT NULL CHECK (year BETWEEN 1990 AND 2100),
    category TEXT NOT NULL CHECK (category IN ('full', 'partial', 'none')),
    enrolled_on DATE NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (person_id, year)
);
ALTER TABLE settlements ADD COLUMN enrolled BOOLEAN NOT NULL DEFAULT TRUE
"#;

/// An enrolment as stored, with who set it and when.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoredEnrolment {
    pub enrolment: Enrolment,
    pub changed_by: String,
    pub changed_at: DateTime<Utc>,
}

fn rejected(ctx: &str, reason: impl Into<String>) -> StoreError {
    StoreError::Rejected { context: ctx.to_string(), reason: reason.into() }
}

impl Store {
    /// Sets enrolments (a new one, or a new category and day for a person's
    /// year), all in one transaction: each is labelled (a file's line, a form)
    /// for the refusal of a person not in the store or outside `scope`, which
    /// refuses them all. Returns the villages of the persons, in order.
    pub async fn set_enrolments(
        &self,
        scope: &Scope,
        rows: &[(String, Enrolment)],
        actor: &str,
    ) -> Result<Vec<RegionCode>, StoreError> {
        let at = now();
        on_pool!(self, p => async {
            let mut tx = begin_write(p, "recording enrolments").await?;
            let mut villages = Vec::with_capacity(rows.len());
            for (label, e) in rows {
                let ctx = format!("{label} (person {})", e.person_id.masked());
                let person = e.person_id.as_u64() as i64;
                let village: Option<i64> = sqlx::query_scalar(
                    "SELECT h.village_code FROM persons p JOIN households h ON h.household_id = p.household_id
                     WHERE p.person_id = $1",
                )
                .bind(person)
                .fetch_optional(&mut *tx)
                .await
                .ctx(&ctx)?;
                let village = match village.map(|v| region_of(v, &ctx)).transpose()? {
                    Some(v) if scope.contains(v) => v,
                    _ => return Err(rejected(&ctx, "person_id: the person is not in the store inside your scope")),
                };
                sqlx::query(
                    "INSERT INTO enrolments (person_id, year, category, enrolled_on, changed_by, changed_at)
                     VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (person_id, year) DO UPDATE SET category = excluded.category,
                        enrolled_on = excluded.enrolled_on, changed_by = excluded.changed_by, changed_at = excluded.changed_at",
                )
                .bind(person)
                .bind(e.year as i64)
                .bind(e.category.as_str())
                .bind(e.enrolled_on)
                .bind(actor.trim())
                .bind(at)
                .execute(&mut *tx)
                .await
                .ctx(&ctx)?;
                villages.push(village);
            }
            tx.commit().await.ctx("recording enrolments")?;
            Ok(villages)
        }.await)
    }

    /// The persons inside `scope` enrolled for `year` (for the export to a
    /// cluster, which settles with it).
    pub async fn enrolled_persons(&self, scope: &Scope, year: i32) -> Result<HashSet<ResidentId>, StoreError> {
        let ctx = "reading the enrolled persons of a year";
        let (lo, hi) = scope.code_range();
        let ids: Vec<i64> = on_pool!(self, p => sqlx::query_scalar(
            "SELECT e.person_id FROM enrolments e JOIN persons p ON p.person_id = e.person_id
             JOIN households h ON h.household_id = p.household_id
             WHERE e.year = $1 AND h.village_code BETWEEN $2 AND $3",
        )
        .bind(year as i64)
        .bind(lo)
        .bind(hi)
        .fetch_all(p)
        .await
        .ctx(ctx)?);
        ids.into_iter().map(|id| crate::registry::resident_id(id, ctx)).collect()
    }

    /// A person's enrolments, by year, when the person lies inside `scope`
    /// (`None` otherwise, or when the person is not in the store).
    pub async fn enrolments_of(
        &self,
        scope: &Scope,
        person: ResidentId,
    ) -> Result<Option<Vec<StoredEnrolment>>, StoreError> {
        let ctx = "reading a person's enrolments";
        let (lo, hi) = scope.code_range();
        let pid = person.as_u64() as i64;
        type Row = (i64, String, NaiveDate, String, DateTime<Utc>);
        let (inside, rows): (Option<i64>, Vec<Row>) = on_pool!(self, p => {
            let inside: Option<i64> = sqlx::query_scalar(
                "SELECT p.person_id FROM persons p JOIN households h ON h.household_id = p.household_id
                 WHERE p.person_id = $1 AND h.village_code BETWEEN $2 AND $3",
            )
            .bind(pid)
            .bind(lo)
            .bind(hi)
            .fetch_optional(p)
            .await
            .ctx(ctx)?;
            let rows = sqlx::query_as(
                "SELECT year, category, enrolled_on, changed_by, changed_at FROM enrolments WHERE person_id = $1 ORDER BY year",
            )
            .bind(pid)
            .fetch_all(p)
            .await
            .ctx(ctx)?;
            (inside, rows)
        });
        if inside.is_none() {
            return Ok(None);
        }
        rows.into_iter()
            .map(|(year, category, enrolled_on, changed_by, changed_at)| {
                let category: SubsidyCategory = category.parse().map_err(|e: String| corrupt(ctx, &category, e))?;
                Ok(StoredEnrolment {
                    enrolment: Enrolment { person_id: person, year: year as i32, category, enrolled_on },
                    changed_by,
                    changed_at,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()
            .map(Some)
    }
}
