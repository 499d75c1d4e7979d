//! The registry changed one record at a time, as a county officer does it on a
//! form: a household or a person created, or changed from the record the
//! officer read. A change names the record as it was read (its before-image);
//! the transaction compares it with the row kept and refuses the change when
//! they differ, so that of two officers editing one household the second gets
//! a conflict instead of overwriting the first. A status change is written to
//! the person's status history in the same transaction.

use crate::db::{begin_write, now, on_pool, Backend, Scope, Store};
use crate::error::{Ctx, StoreError};
use crate::fresh::Inserted;
use crate::registry::StoredRecord;
use crate::settlements::region_of;
use crate::vals::Val;
use domain::{Household, Person};

fn conflict(ctx: &str, what: &str) -> StoreError {
    StoreError::Constraint {
        context: ctx.to_string(),
        detail: format!("{what} changed since you read it; reload it and make your change again"),
    }
}

fn outside(kind: &'static str, key: &str) -> StoreError {
    StoreError::NotFound { kind, key: key.to_string() }
}

impl Store {
    /// Creates a household inside the scope; refused when its key is taken.
    pub async fn create_household(&self, scope: &Scope, h: &Household) -> Result<(), StoreError> {
        let ctx = format!("creating household {}", h.household_id);
        if !scope.contains(h.village_code) {
            return Err(outside("village", &h.village_code.to_string()));
        }
        let vals = h.to_vals();
        on_pool!(self, p => async {
            let mut tx = begin_write(p, &ctx).await?;
            let taken: Option<String> = sqlx::query_scalar("SELECT household_id FROM households WHERE household_id = $1")
                .bind(&h.household_id)
                .fetch_optional(&mut *tx)
                .await
                .ctx(&ctx)?;
            if taken.is_some() {
                return Err(StoreError::Constraint { context: ctx.clone(), detail: "the household_id is taken".into() });
            }
            sqlx::query(
                "INSERT INTO households (household_id, village_code, size, income, consumption, food)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&h.household_id)
            .bind(h.village_code.as_u64() as i64)
            .bind(h.size as i64)
            .bind(h.income.0)
            .bind(h.consumption.map(|f| f.0))
            .bind(h.food.map(|f| f.0))
            .execute(&mut *tx)
            .await
            .ctx(&ctx)?;
            let mut inserted = Inserted::default();
            inserted.rows("households", &["household_id", "village_code"], &[&vec![vals[0].clone(), vals[1].clone()]]);
            crate::fresh::commit(tx, inserted, &ctx).await
        }.await)
    }

    /// Changes a household inside the scope from `before` (as read) to `after`
    /// (same key); a move to another village must stay inside the scope too.
    pub async fn change_household(
        &self,
        scope: &Scope,
        before: &Household,
        after: &Household,
    ) -> Result<(), StoreError> {
        let ctx = format!("changing household {}", before.household_id);
        if before.household_id != after.household_id {
            return Err(StoreError::Invalid(format!("{ctx}: the household_id cannot change")));
        }
        if !scope.contains(before.village_code) {
            return Err(outside("household", &before.household_id));
        }
        if !scope.contains(after.village_code) {
            return Err(outside("village", &after.village_code.to_string()));
        }
        let lock = if self.backend() == Backend::Postgres { " FOR UPDATE" } else { "" };
        let read = format!(
            "SELECT village_code, size, income, consumption, food FROM households WHERE household_id = $1{lock}"
        );
        on_pool!(self, p => async {
            let mut tx = begin_write(p, &ctx).await?;
            type Row = (i64, i64, i64, Option<i64>, Option<i64>);
            let row: Option<Row> = sqlx::query_as(&read).bind(&before.household_id).fetch_optional(&mut *tx).await.ctx(&ctx)?;
            let Some((village, size, income, consumption, food)) = row else {
                return Err(outside("household", &before.household_id));
            };
            let village = region_of(village, &ctx)?;
            if !scope.contains(village) {
                return Err(outside("household", &before.household_id));
            }
            let kept = Household {
                household_id: before.household_id.clone(),
                village_code: village,
                size: size as u16,
                income: domain::Fen(income),
                consumption: consumption.map(domain::Fen),
                food: food.map(domain::Fen),
            };
            if &kept != before {
                return Err(conflict(&ctx, "the household"));
            }
            sqlx::query(
                "UPDATE households SET village_code = $1, size = $2, income = $3, consumption = $4, food = $5
                 WHERE household_id = $6",
            )
            .bind(after.village_code.as_u64() as i64)
            .bind(after.size as i64)
            .bind(after.income.0)
            .bind(after.consumption.map(|f| f.0))
            .bind(after.food.map(|f| f.0))
            .bind(&after.household_id)
            .execute(&mut *tx)
            .await
            .ctx(&ctx)?;
            tx.commit().await.ctx(&ctx)
        }.await)
    }

    /// Creates a person in a household inside the scope; refused when the
    /// resident ID is taken. The status starts the person's history.
    pub async fn create_person(&self, scope: &Scope, person: &Person) -> Result<(), StoreError> {
        let ctx = format!("creating person {}", person.person_id);
        let vals = person.to_vals();
        let at = now();
        on_pool!(self, p => async {
            let mut tx = begin_write(p, &ctx).await?;
            let village: Option<i64> = sqlx::query_scalar("SELECT village_code FROM households WHERE household_id = $1")
                .bind(&person.household_id)
                .fetch_optional(&mut *tx)
                .await
                .ctx(&ctx)?;
            let Some(village) = village.filter(|v| region_of(*v, &ctx).is_ok_and(|r| scope.contains(r))) else {
                return Err(outside("household", &person.household_id));
            };
            let taken: Option<i64> = sqlx::query_scalar("SELECT person_id FROM persons WHERE person_id = $1")
                .bind(person.person_id.as_u64() as i64)
                .fetch_optional(&mut *tx)
                .await
                .ctx(&ctx)?;
            if taken.is_some() {
                return Err(StoreError::Constraint { context: ctx.clone(), detail: "the person_id is taken".into() });
            }
            sqlx::query(
                "INSERT INTO persons (person_id, household_id, name, status, status_since, diagnoses)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(person.person_id.as_u64() as i64)
            .bind(&person.household_id)
            .bind(&person.name)
            .bind(person.status.as_str())
            .bind(person.status_since)
            .bind(person.diagnoses.join(";"))
            .execute(&mut *tx)
            .await
            .ctx(&ctx)?;
            history(&mut tx, person, None, at, &ctx).await?;
            let mut inserted = Inserted::default();
            inserted.found("households", &Val::text(&person.household_id), village);
            inserted.rows("persons", &["person_id", "household_id"], &[&vec![vals[0].clone(), vals[1].clone()]]);
            crate::fresh::commit(tx, inserted, &ctx).await
        }.await)
    }

    /// Changes a person inside the scope from `before` (as read) to `after`
    /// (same resident ID); a move to another household must stay inside the
    /// scope. A new status or status day is added to the status history.
    pub async fn change_person(&self, scope: &Scope, before: &Person, after: &Person) -> Result<(), StoreError> {
        let ctx = format!("changing person {}", before.person_id);
        if before.person_id != after.person_id {
            return Err(StoreError::Invalid(format!("{ctx}: the person_id cannot change")));
        }
        let lock = if self.backend() == Backend::Postgres { " FOR UPDATE" } else { "" };
        let read = format!(
            "SELECT household_id, name, status, status_since, diagnoses FROM persons WHERE person_id = $1{lock}"
        );
        let at = now();
        on_pool!(self, p => async {
            let mut tx = begin_write(p, &ctx).await?;
            for h in [&before.household_id, &after.household_id] {
                let village: Option<i64> = sqlx::query_scalar("SELECT village_code FROM households WHERE household_id = $1")
                    .bind(h)
                    .fetch_optional(&mut *tx)
                    .await
                    .ctx(&ctx)?;
                if !village.is_some_and(|v| region_of(v, &ctx).is_ok_and(|r| scope.contains(r))) {
                    return Err(outside("household", h));
                }
            }
            type Row = (String, String, String, chrono::NaiveDate, String);
            let row: Option<Row> =
                sqlx::query_as(&read).bind(before.person_id.as_u64() as i64).fetch_optional(&mut *tx).await.ctx(&ctx)?;
            let Some((household_id, name, status, status_since, diagnoses)) = row else {
                return Err(outside("person", &before.person_id.to_string()));
            };
            let kept = Person {
                person_id: before.person_id,
                household_id,
                name,
                status: status.parse().map_err(|e| crate::error::corrupt(&ctx, &status, e))?,
                status_since,
                diagnoses: diagnoses.split(';').filter(|d| !d.is_empty()).map(String::from).collect(),
            };
            if &kept != before {
                return Err(conflict(&ctx, "the person"));
            }
            sqlx::query(
                "UPDATE persons SET household_id = $1, name = $2, status = $3, status_since = $4, diagnoses = $5
                 WHERE person_id = $6",
            )
            .bind(&after.household_id)
            .bind(&after.name)
            .bind(after.status.as_str())
            .bind(after.status_since)
            .bind(after.diagnoses.join(";"))
            .bind(after.person_id.as_u64() as i64)
            .execute(&mut *tx)
            .await
            .ctx(&ctx)?;
            if (before.status, before.status_since) != (after.status, after.status_since) {
                history(&mut tx, after, Some(before.status), at, &ctx).await?;
            }
            tx.commit().await.ctx(&ctx)
        }.await)
    }
}

/// A line of the person's status history.
async fn history<DB: sqlx::Database>(
    tx: &mut sqlx::Transaction<'_, DB>,
    p: &Person,
    old: Option<domain::PovertyStatus>,
    at: chrono::DateTime<chrono::Utc>,
    ctx: &str,
) -> Result<(), StoreError>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> chrono::NaiveDate: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> chrono::DateTime<chrono::Utc>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sqlx::query(
        "INSERT INTO person_status_history (person_id, old_status, new_status, since, recorded_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(p.person_id.as_u64() as i64)
    .bind(old.map(|s| s.as_str()))
    .bind(p.status.as_str())
    .bind(p.status_since)
    .bind(at)
    .execute(&mut **tx)
    .await
    .ctx(ctx)?;
    Ok(())
}
