//! The store's one error type. Every variant says what was being done and why it
//! failed, so that a command or a page can show it as it is.

use std::fmt;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or reached.
    #[error("cannot open the store {url}: {source}")]
    Open {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    /// A migration failed; the schema stays at the version before it.
    #[error("migrating the store to version {version} ({name}): {source}")]
    Migrate {
        version: i64,
        name: &'static str,
        #[source]
        source: sqlx::Error,
    },
    /// The database was migrated by a newer program.
    #[error(
        "the store's schema is at version {found}, newer than this program knows ({known}); use a newer safetynet"
    )]
    SchemaTooNew { found: i64, known: i64 },
    /// A constraint of the schema refused a write: a reference to a row that does not
    /// exist, a duplicate key, a value outside its list.
    #[error("{context}: {detail}")]
    Constraint { context: String, detail: String },
    /// An import batch names the same key twice.
    #[error("importing {kind}: the key {key:?} appears more than once in one import (rows {first} and {second} of the batch)")]
    DuplicateKey { kind: &'static str, key: String, first: usize, second: usize },
    /// A row the operation needs is not in the store.
    #[error("{kind} {key:?} is not in the store")]
    NotFound { kind: &'static str, key: String },
    /// An alert move the life cycle does not allow.
    #[error("alert {id}: cannot move from {from} to {to}: {reason}")]
    IllegalTransition { id: i64, from: String, to: String, reason: String },
    /// The caller's computation inside a transaction refused; nothing was written.
    #[error("{context}: {reason}")]
    Rejected { context: String, reason: String },
    /// An argument that the store cannot accept (a bad scope prefix, a bad URL).
    #[error("{0}")]
    Invalid(String),
    /// A value read back from the database is not valid for its column.
    #[error("{context}: the stored value {value:?} is invalid: {reason}")]
    Corrupt { context: String, value: String, reason: String },
    /// An error SQLite reported to a statement run through its own interface (bulk
    /// imports), with its extended result code.
    #[error("{context}: {message} (SQLite error {code})")]
    Sqlite { context: String, code: i32, message: String },
    /// Any other database error, with what was being done.
    #[error("{context}: {source}")]
    Db {
        context: String,
        #[source]
        source: sqlx::Error,
    },
}

impl StoreError {
    /// True when the error is a constraint violation (a caller may show it as a
    /// user error rather than a system failure).
    pub fn is_constraint(&self) -> bool {
        matches!(self, StoreError::Constraint { .. } | StoreError::DuplicateKey { .. })
    }
}

impl StoreError {
    /// True when the operation failed for a passing reason and may succeed if
    /// done again from the start: PostgreSQL chose its transaction as a
    /// deadlock's or a serialisation conflict's victim, or the connection was
    /// lost (its backend terminated, the server restarting, an I/O error, no
    /// connection free in time).
    pub fn is_transient(&self) -> bool {
        let StoreError::Db { source, .. } = self else { return false };
        match source {
            sqlx::Error::Database(db) => {
                let code = db.code();
                let code = code.as_deref().unwrap_or("");
                matches!(code, "40P01" | "40001" | "57P01" | "57P02" | "57P03") || code.starts_with("08")
            }
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::WorkerCrashed | sqlx::Error::Protocol(_) => {
                true
            }
            _ => false,
        }
    }
}

/// Attaches context to a database error, turning constraint violations into
/// [`StoreError::Constraint`] that name the constraint.
pub(crate) trait Ctx<T> {
    fn ctx(self, context: impl fmt::Display) -> Result<T, StoreError>;
}

impl<T> Ctx<T> for Result<T, sqlx::Error> {
    fn ctx(self, context: impl fmt::Display) -> Result<T, StoreError> {
        self.map_err(|e| wrap(e, context.to_string()))
    }
}

pub(crate) fn wrap(e: sqlx::Error, context: String) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        // PostgreSQL refuses text it cannot hold (a NUL character): the input is
        // bad, not the store.
        if db.code().as_deref() == Some("22021") {
            return StoreError::Invalid(format!("{context}: a text holds a character the store refuses (NUL)"));
        }
        use sqlx::error::ErrorKind;
        let what = match db.kind() {
            ErrorKind::ForeignKeyViolation => Some("a row refers to another that is not in the store"),
            ErrorKind::UniqueViolation => Some("a row with the same key is already in the store"),
            ErrorKind::CheckViolation => Some("a value is outside its allowed list"),
            ErrorKind::NotNullViolation => Some("a required value is missing"),
            _ => None,
        };
        if let Some(what) = what {
            let mut detail = format!("{what} ({}", db.message());
            if let Some(c) = db.constraint() {
                detail.push_str(&format!("; constraint {c}"));
            }
            if let Some(t) = db.table() {
                detail.push_str(&format!("; table {t}"));
            }
            detail.push(')');
            return StoreError::Constraint { context, detail };
        }
    }
    StoreError::Db { context, source: e }
}

pub(crate) fn corrupt(context: &str, value: impl fmt::Display, reason: impl fmt::Display) -> StoreError {
    StoreError::Corrupt { context: context.to_string(), value: value.to_string(), reason: reason.to_string() }
}
