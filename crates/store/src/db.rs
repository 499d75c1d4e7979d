//! Opening the store, the two backends, and the small helpers every repository
//! shares: scopes, paging, timestamps, and writing transactions.
//!
//! SQLite settings, and why:
//! - `journal_mode = WAL`: readers (the web pages) never block the writer (an
//!   import, a settlement), and a commit appends to the log instead of rewriting pages.
//! - `synchronous = FULL`: every commit is synced to disk before it returns. A
//!   settlement that the API answered must survive a power cut of the county office's
//!   PC; with NORMAL, WAL mode may lose the last commits on power loss (never
//!   corrupting the file). A bulk import is one transaction, so FULL costs it one
//!   sync at the end; a real-time settlement pays one sync per claim (a few ms),
//!   which is what durability costs.
//! - `foreign_keys = ON`: the schema's references hold in SQLite as in PostgreSQL.
//! - `busy_timeout = 30 s`: writers queue behind each other instead of failing.
//! - Writes begin with `BEGIN IMMEDIATE`, taking the write lock first, so a
//!   transaction that reads and then writes never fails half-way with SQLITE_BUSY
//!   and two real-time settlements of one person run one after the other.

use crate::error::{Ctx, StoreError};
use chrono::{DateTime, SubsecRound, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        })
    }
}

#[derive(Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Pg(PgPool),
}

/// A handle on the store; cheap to clone (it holds a connection pool).
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: Pool,
    pub(crate) url: String,
}

/// Runs `$body` with `$p` bound to the backend's pool. The body is written once and
/// compiled for each backend, so that both run the same statements wherever the
/// dialects agree (placeholders are `$1, $2, ...` in both).
macro_rules! on_pool {
    ($store:expr, $p:ident => $body:expr) => {
        match &$store.pool {
            $crate::db::Pool::Sqlite($p) => $body,
            $crate::db::Pool::Pg($p) => $body,
        }
    };
}
pub(crate) use on_pool;

/// The few things that differ between the dialects.
pub(crate) trait Dialect: sqlx::Database {
    /// The statement that opens a writing transaction.
    const BEGIN_WRITE: &'static str;
}

impl Dialect for sqlx::Sqlite {
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
}

impl Dialect for sqlx::Postgres {
    const BEGIN_WRITE: &'static str = "BEGIN";
}

/// Opens a writing transaction (SQLite: `BEGIN IMMEDIATE`, see the module doc).
pub(crate) async fn begin_write<DB: Dialect>(
    pool: &sqlx::Pool<DB>,
    context: &str,
) -> Result<sqlx::Transaction<'static, DB>, StoreError> {
    pool.begin_with(DB::BEGIN_WRITE).await.ctx(format!("{context}: starting a transaction"))
}

impl Store {
    /// Opens the store at `url`: a `postgres://` (or `postgresql://`) URL, a
    /// `sqlite:` URL, or a plain file path for SQLite (created if missing). Does not
    /// migrate; call [`Store::migrate`].
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let open_err = |source| StoreError::Open { url: redact(url), source };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url).map_err(open_err)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(opts)
                .await
                .map_err(open_err)?;
            return Ok(Store { pool: Pool::Pg(pool), url: redact(url) });
        }
        let opts = if url.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(url).map_err(open_err)?
        } else {
            SqliteConnectOptions::new().filename(url)
        };
        let memory = url.contains(":memory:") || url.contains("mode=memory"); // as `in_memory`
        let opts = opts
            .create_if_missing(true)
            .journal_mode(if memory { SqliteJournalMode::Memory } else { SqliteJournalMode::Wal })
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30))
            // 64 MiB of page cache per connection, temporary tables in memory: bulk
            // imports touch many index pages.
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "MEMORY")
            // Reads through a memory map of up to 2 GiB (SQLite's own ceiling): the
            // report's reads jump between index pages of a large file, and a read
            // call for each page cost more than the lookups themselves.
            .pragma("mmap_size", "2147418112");
        let pool = SqlitePoolOptions::new()
            // An in-memory database lives in its one connection.
            .max_connections(if memory { 1 } else { 8 })
            .min_connections(if memory { 1 } else { 0 })
            .idle_timeout(if memory { None } else { Some(Duration::from_secs(600)) })
            .max_lifetime(if memory { None } else { Some(Duration::from_secs(3600)) })
            .acquire_timeout(Duration::from_secs(60))
            // The guard of the unit of work that marks bulk inserts (see `fresh.rs`).
            .after_connect(|conn, _| Box::pin(crate::fresh::guard::install(conn)))
            .connect_with(opts)
            .await
            .map_err(open_err)?;
        Ok(Store { pool: Pool::Sqlite(pool), url: url.to_string() })
    }

    /// The engine behind this store.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Pg(_) => Backend::Postgres,
        }
    }

    /// How many values one statement binds at most. PostgreSQL takes up to
    /// 65,535 and gains from few round trips; SQLite looks each numbered
    /// parameter up by a linear scan, so a statement of N values costs N² and
    /// batches of a few hundred values are the fastest there.
    pub(crate) fn max_binds(&self) -> usize {
        match self.backend() {
            Backend::Sqlite => 400,
            Backend::Postgres => 32_000,
        }
    }

    /// True for an in-memory SQLite database, which lives in its one connection.
    pub(crate) fn in_memory(&self) -> bool {
        self.backend() == Backend::Sqlite && (self.url.contains(":memory:") || self.url.contains("mode=memory"))
    }

    /// The URL or path it was opened with (a password in a URL is hidden).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Closes every connection; waits for running statements.
    pub async fn close(&self) {
        on_pool!(self, p => p.close().await)
    }
}

/// Hides the password of a URL for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// A region scope: the code prefix a user (or a query) is limited to. The empty
/// prefix is the whole nation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scope {
    prefix: String,
}

impl Scope {
    /// The whole nation.
    pub fn all() -> Scope {
        Scope::default()
    }

    /// A scope from a prefix of 0, 2, 4, 6, 9 or 12 digits (`"34"`, `"341122"`).
    pub fn new(prefix: &str) -> Result<Scope, StoreError> {
        let t = prefix.trim();
        if t.is_empty() {
            return Ok(Scope::all());
        }
        let p = domain::region::parse_prefix(t).map_err(|e| StoreError::Invalid(format!("region scope: {e}")))?;
        Ok(Scope { prefix: p })
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The inclusive range of 12-digit codes under the prefix: a scope filter is
    /// a range scan on an integer index in both engines.
    pub fn code_range(&self) -> (i64, i64) {
        if self.prefix.is_empty() {
            return (0, 999_999_999_999);
        }
        let n = self.prefix.len() as u32;
        let p: i64 = self.prefix.parse().unwrap_or(0);
        let unit = 10i64.pow(12 - n);
        (p * unit, p * unit + unit - 1)
    }

    /// True when `code` lies inside the scope.
    pub fn contains(&self, code: domain::RegionCode) -> bool {
        let (lo, hi) = self.code_range();
        let c = code.as_u64() as i64;
        lo <= c && c <= hi
    }
}

/// A page of a listing: `limit` rows after skipping `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: u64,
    pub limit: u32,
}

impl Page {
    pub fn first(limit: u32) -> Page {
        Page { offset: 0, limit }
    }
    pub(crate) fn lim(&self) -> i64 {
        self.limit.min(100_000) as i64
    }
    pub(crate) fn off(&self) -> i64 {
        self.offset.min(i64::MAX as u64) as i64
    }
}

impl Default for Page {
    fn default() -> Page {
        Page { offset: 0, limit: 100 }
    }
}

/// Timestamps are kept to the whole second, so that SQLite's text form sorts and
/// compares like PostgreSQL's `timestamptz`.
pub(crate) fn ts(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(0)
}

pub(crate) fn now() -> DateTime<Utc> {
    ts(Utc::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_ranges() {
        assert_eq!(Scope::all().code_range(), (0, 999_999_999_999));
        assert_eq!(Scope::new("34").unwrap().code_range(), (340_000_000_000, 349_999_999_999));
        assert_eq!(Scope::new("341122").unwrap().code_range(), (341_122_000_000, 341_122_999_999));
        assert!(Scope::new("3x").is_err());
    }

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
