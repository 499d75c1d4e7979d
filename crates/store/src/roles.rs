//! Migration 13: the village doctor's role (`village_doctor`) joins the roles a
//! user and an API token may hold.
//!
//! PostgreSQL changes the two CHECK constraints in place. SQLite cannot alter a
//! constraint: its tables are rebuilt, as SQLite's documentation prescribes,
//! with foreign keys off for the one connection doing it (dropping `users` would
//! otherwise delete every session and token by cascade), their rows copied,
//! their indexes made again, and the references checked before the commit.

use crate::error::{Ctx, StoreError};
use sqlx::{Connection, Row};

const OLD: &str = "'analyst', 'viewer')";
const NEW: &str = "'analyst', 'viewer', 'village_doctor')";

/// PostgreSQL's statements.
pub(crate) const V13_POSTGRES: &str = "
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('administrator', 'officer', 'clerk', 'analyst', 'viewer', 'village_doctor'));
ALTER TABLE api_tokens DROP CONSTRAINT IF EXISTS api_tokens_role_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_role_check CHECK (role IN ('administrator', 'officer', 'clerk', 'analyst', 'viewer', 'village_doctor'));
";

/// Runs migration 13 on SQLite, recording it as `name`, all in one transaction.
pub(crate) async fn migrate_sqlite(pool: &sqlx::SqlitePool, version: i64, name: &str) -> Result<(), StoreError> {
    let ctx = "migrating the store: the village doctor's role";
    let mut conn = pool.acquire().await.ctx(ctx)?;
    sqlx::query("PRAGMA foreign_keys = OFF").execute(&mut *conn).await.ctx(ctx)?;
    let result = async {
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.ctx(ctx)?;
        let done: Option<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
            .bind(version)
            .fetch_optional(&mut *tx)
            .await
            .ctx(ctx)?;
        if done.is_some() {
            return Ok(());
        }
        for table in ["users", "api_tokens"] {
            let create: String = sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = $1")
                .bind(table)
                .fetch_one(&mut *tx)
                .await
                .ctx(ctx)?;
            if !create.contains(OLD) {
                return Err(StoreError::Invalid(format!("{ctx}: the table {table} has no role constraint to widen")));
            }
            let indexes: Vec<String> =
                sqlx::query("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL")
                    .bind(table)
                    .fetch_all(&mut *tx)
                    .await
                    .ctx(ctx)?
                    .iter()
                    .map(|r| r.get::<String, _>(0))
                    .collect();
            let rebuilt = format!("{table}_rebuilt");
            // The table's own text, renamed, with the wider constraint.
            let at = create.find(table).ok_or_else(|| StoreError::Invalid(format!("{ctx}: {create}")))?;
            let new = format!("{}{rebuilt}{}", &create[..at], &create[at + table.len()..]).replace(OLD, NEW);
            for stmt in [
                new,
                format!("INSERT INTO {rebuilt} SELECT * FROM {table}"),
                format!("DROP TABLE {table}"),
                format!("ALTER TABLE {rebuilt} RENAME TO {table}"),
            ] {
                sqlx::query(&stmt).execute(&mut *tx).await.ctx(ctx)?;
            }
            for index in indexes {
                sqlx::query(&index).execute(&mut *tx).await.ctx(ctx)?;
            }
        }
        let broken: Vec<sqlx::sqlite::SqliteRow> =
            sqlx::query("PRAGMA foreign_key_check").fetch_all(&mut *tx).await.ctx(ctx)?;
        if !broken.is_empty() {
            return Err(StoreError::Invalid(format!("{ctx}: {} references broken by the rebuild", broken.len())));
        }
        sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
            .bind(version)
            .bind(name)
            .bind(crate::db::now())
            .execute(&mut *tx)
            .await
            .ctx(ctx)?;
        tx.commit().await.ctx(ctx)?;
        Ok(())
    }
    .await;
    // Back on, whatever happened, before the connection returns to the pool.
    sqlx::query("PRAGMA foreign_keys = ON").execute(&mut *conn).await.ctx(ctx)?;
    result
}
