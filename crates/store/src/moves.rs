//! What every case's move writes, whichever register the case is in (the
//! households' cases of `work.rs`, the network's cases of `network_cases.rs`):
//! the check that the move was made on the version read, and the new state with
//! its event of the case's history.

use crate::error::{Ctx, StoreError};
use chrono::{DateTime, Utc};

/// A move made on `made_on` is refused when the case has moved since (it is at
/// `current`): the user reloads it and decides again.
pub(crate) fn check_version(ctx: &str, made_on: i64, current: i64) -> Result<(), StoreError> {
    if current == made_on {
        return Ok(());
    }
    Err(StoreError::Constraint {
        context: ctx.to_string(),
        detail: format!(
            "the case changed since version {made_on} (it is at version {current}); reload it and try again"
        ),
    })
}

/// One move of a case, as its history keeps it.
pub(crate) struct Move<'a> {
    /// The case's table (`cases`, `network_cases`).
    pub table: &'static str,
    /// Its history's table (`case_events`, `network_case_events`).
    pub events: &'static str,
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: &'a str,
    pub action: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    pub detail: String,
}

/// Writes a move inside `tx`: the case takes its new state and the next
/// version, and its history gains the event.
pub(crate) async fn record<DB: sqlx::Database>(
    tx: &mut sqlx::Transaction<'_, DB>,
    mv: Move<'_>,
    ctx: &str,
) -> Result<(), StoreError>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> DateTime<Utc>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let Move { table, events, id, at, actor, action, from, to, detail } = mv;
    sqlx::query(&format!("UPDATE {table} SET state = $1, version = version + 1, updated_at = $2 WHERE id = $3"))
        .bind(to)
        .bind(at)
        .bind(id)
        .execute(&mut **tx)
        .await
        .ctx(ctx)?;
    sqlx::query(&format!(
        "INSERT INTO {events} (case_id, at, actor, action, from_state, to_state, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7)"
    ))
    .bind(id)
    .bind(at)
    .bind(actor.trim())
    .bind(action)
    .bind(from)
    .bind(to)
    .bind(detail)
    .execute(&mut **tx)
    .await
    .ctx(ctx)?;
    Ok(())
}
