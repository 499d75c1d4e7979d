//! Accounts and their traces: users, login sessions, API tokens, the audit log and
//! the record of import runs.
//!
//! The store never sees a secret: sessions and API tokens are kept under the hash
//! the caller computed (a copy of the database opens no session), passwords as the
//! caller's argon2 string. Instants are kept to the whole second (see
//! [`crate::db::ts`]), so that both engines compare them alike.

use crate::db::{begin_write, now, on_pool, ts, Scope, Store};
use crate::error::{Ctx, StoreError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An account as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    /// The password's PHC string (argon2).
    pub password_hash: String,
    /// `administrator`, `officer`, `clerk`, `analyst` or `viewer`.
    pub role: String,
    /// The region code prefix the user works in (`""`: the whole country).
    pub region_scope: String,
    /// Failed logins in a row.
    pub failed_attempts: u32,
    pub locked_until: Option<DateTime<Utc>>,
    pub display_name: String,
    pub lang: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    /// The one facility a clerk settles for (migration 25); `None`: any in the
    /// region scope.
    pub facility_id: Option<String>,
}

/// A new account; the password is already hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub region_scope: String,
    pub facility_id: Option<String>,
}

/// A login session, under the hash of the token the browser holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRow {
    pub token_hash: String,
    pub user_id: i64,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// A new API token, stored under the hash of its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiToken {
    /// The hash of the secret the client holds.
    pub token_hash: String,
    /// The public name of the token (listing, revocation): not a secret.
    pub id: String,
    /// The user who made it and whom it acts for.
    pub user_id: i64,
    /// A label (`his-1`, `county-report-script`).
    pub name: String,
    /// The role it acts with (no stronger than its owner's).
    pub role: String,
    /// The region code prefix it acts in (inside its owner's).
    pub region_scope: String,
    pub expires_at: DateTime<Utc>,
}

/// An API token as stored (never its secret nor its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenRow {
    /// The public name of the token.
    pub id: String,
    pub user_id: i64,
    /// The owner's user name.
    pub owner: String,
    pub name: String,
    /// The role it acts with; `None` for a token made before tokens had one (it
    /// acts with its owner's).
    pub role: Option<String>,
    /// The scope it acts in; `None` for a token made before tokens had one.
    pub region_scope: Option<String>,
    pub created_at: DateTime<Utc>,
    /// `None` for a token made before tokens expired (the caller decides).
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// One row of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub at: DateTime<Utc>,
    /// The user name (or `system`).
    pub actor: String,
    /// `login`, `view_person`, `export`, `settle`, ...
    pub action: String,
    /// What kind of thing it concerned (`person`, `alert`, `user`, ...), may be empty.
    pub object_kind: String,
    /// Which one: a (masked) person ID, an alert ID, a file kind.
    pub object_id: String,
    /// The region the object lies in, where known.
    pub region_code: Option<i64>,
    pub detail: String,
}

/// Whether an import was written or refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportStatus {
    Accepted,
    Refused,
}

impl ImportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportStatus::Accepted => "accepted",
            ImportStatus::Refused => "refused",
        }
    }
}

/// One run of an import with its error report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRunRow {
    /// Assigned by the store; ignored by [`Store::record_import_run`].
    pub id: i64,
    pub kind: String,
    pub file_name: String,
    /// Rows read from the file.
    pub rows: u64,
    pub status: ImportStatus,
    /// The report of bad rows (file, line, column, why), one a line; empty when none.
    pub errors: String,
    pub actor: String,
    pub at: DateTime<Utc>,
    /// The region scope of whoever imported (`""`: the whole country, as the
    /// command line imports): the run and its report, which quotes the file's
    /// rows, are shown to users whose scope holds it.
    pub scope: String,
}

impl ImportRunRow {
    /// The number of lines of the error report.
    pub fn error_count(&self) -> u64 {
        self.errors.lines().filter(|l| !l.trim().is_empty()).count() as u64
    }
}

const USER_COLS: &str =
    "id, username, password_hash, role, region_scope, failed_attempts, locked_until, display_name, \
                         lang, active, created_at, facility_id";

type UserTuple = (
    i64,
    String,
    String,
    String,
    String,
    i64,
    Option<DateTime<Utc>>,
    String,
    String,
    bool,
    DateTime<Utc>,
    Option<String>,
);

fn user_from(t: UserTuple) -> UserRow {
    let (
        id,
        username,
        password_hash,
        role,
        region_scope,
        failed,
        locked_until,
        display_name,
        lang,
        active,
        created_at,
        facility_id,
    ) = t;
    UserRow {
        id,
        username,
        password_hash,
        role,
        region_scope,
        failed_attempts: failed.clamp(0, u32::MAX as i64) as u32,
        locked_until,
        display_name,
        lang,
        active,
        created_at,
        facility_id,
    }
}

const TOKEN_COLS: &str = "t.token_id, t.user_id, u.username, t.name, t.role, t.region_scope, t.created_at, \
                          t.expires_at, t.last_used_at, t.revoked_at";

type TokenTuple = (
    Option<String>,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

fn token_from(t: TokenTuple) -> ApiTokenRow {
    let (id, user_id, owner, name, role, region_scope, created_at, expires_at, last_used_at, revoked_at) = t;
    ApiTokenRow {
        id: id.unwrap_or_default(),
        user_id,
        owner,
        name,
        role,
        region_scope,
        created_at,
        expires_at,
        last_used_at,
        revoked_at,
    }
}

/// Accounts by name without regard to case (migration 9), sessions ended with a
/// change of the account, and API tokens that carry a role, a scope and an
/// expiry and can be revoked. A name that differs from a taken one only in case
/// is refused by a unique index on `lower(username)`; existing accounts whose
/// names differ only in case must be renamed before this migration can run.
pub(crate) const V9: &str = r#"
ALTER TABLE api_tokens ADD COLUMN token_id TEXT;
ALTER TABLE api_tokens ADD COLUMN role TEXT CHECK (role IN ('administrator', 'officer', 'clerk', 'analyst', 'viewer'));
ALTER TABLE api_tokens ADD COLUMN region_scope TEXT;
ALTER TABLE api_tokens ADD COLUMN expires_at TIMESTAMPTZ;
ALTER TABLE api_tokens ADD COLUMN revoked_at TIMESTAMPTZ;
UPDATE api_tokens SET token_id = substr(token_hash, 1, 16) WHERE token_id IS NULL;
CREATE UNIQUE INDEX api_tokens_token_id ON api_tokens (token_id);
CREATE UNIQUE INDEX users_username_lower ON users (lower(username))
"#;

/// `true` when an API token's last use is worth writing down again (once an hour
/// at most, so that machine clients do not turn every read into a write).
fn stale(last: Option<DateTime<Utc>>, at: DateTime<Utc>) -> bool {
    last.is_none_or(|t| at - t >= chrono::Duration::hours(1))
}

impl Store {
    /// Creates an account. A name taken already is a [`StoreError::Constraint`].
    pub async fn create_user(&self, u: &NewUser) -> Result<UserRow, StoreError> {
        let ctx = format!("creating the user {}", u.username);
        let at = now();
        let id: i64 = on_pool!(self, p => {
            sqlx::query_scalar(
                "INSERT INTO users (username, password_hash, role, region_scope, created_at, facility_id)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(&u.username)
            .bind(&u.password_hash)
            .bind(&u.role)
            .bind(&u.region_scope)
            .bind(at)
            .bind(&u.facility_id)
            .fetch_one(p)
            .await
            .ctx(&ctx)?
        });
        self.user_by_id(id).await?.ok_or_else(|| StoreError::NotFound { kind: "user", key: id.to_string() })
    }

    /// The account of a user name, without regard to case (names are unique so).
    pub async fn user_by_name(&self, username: &str) -> Result<Option<UserRow>, StoreError> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE lower(username) = lower($1)");
        let row: Option<UserTuple> = on_pool!(self, p => {
            sqlx::query_as(&sql).bind(username).fetch_optional(p).await.ctx("reading a user")?
        });
        Ok(row.map(user_from))
    }

    /// The account of an ID.
    pub async fn user_by_id(&self, id: i64) -> Result<Option<UserRow>, StoreError> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE id = $1");
        let row: Option<UserTuple> = on_pool!(self, p => {
            sqlx::query_as(&sql).bind(id).fetch_optional(p).await.ctx("reading a user")?
        });
        Ok(row.map(user_from))
    }

    /// Every account, by name.
    pub async fn list_users(&self) -> Result<Vec<UserRow>, StoreError> {
        let sql = format!("SELECT {USER_COLS} FROM users ORDER BY username");
        let rows: Vec<UserTuple> = on_pool!(self, p => {
            sqlx::query_as(&sql).fetch_all(p).await.ctx("listing users")?
        });
        Ok(rows.into_iter().map(user_from).collect())
    }

    /// Records the outcome of a login attempt: failures in a row and the lock.
    pub async fn set_login_state(
        &self,
        user_id: i64,
        failed: u32,
        locked_until: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let n = on_pool!(self, p => {
            sqlx::query("UPDATE users SET failed_attempts = $1, locked_until = $2 WHERE id = $3")
                .bind(failed as i64)
                .bind(locked_until.map(ts))
                .bind(user_id)
                .execute(p)
                .await
                .ctx("recording a login attempt")?
                .rows_affected()
        });
        if n == 0 {
            return Err(StoreError::NotFound { kind: "user", key: user_id.to_string() });
        }
        Ok(())
    }

    /// Replaces a user's password hash.
    pub async fn set_password(&self, user_id: i64, password_hash: &str) -> Result<(), StoreError> {
        let n = on_pool!(self, p => {
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                .bind(password_hash)
                .bind(user_id)
                .execute(p)
                .await
                .ctx("changing a password")?
                .rows_affected()
        });
        if n == 0 {
            return Err(StoreError::NotFound { kind: "user", key: user_id.to_string() });
        }
        Ok(())
    }

    /// Binds a clerk's account to one facility, or frees it (`None`). The
    /// caller has checked that the facility exists and lies in the account's
    /// scope.
    pub async fn set_user_facility(&self, user_id: i64, facility_id: Option<&str>) -> Result<(), StoreError> {
        let n = on_pool!(self, p => {
            sqlx::query("UPDATE users SET facility_id = $1 WHERE id = $2")
                .bind(facility_id)
                .bind(user_id)
                .execute(p)
                .await
                .ctx("binding an account to a facility")?
                .rows_affected()
        });
        if n == 0 {
            return Err(StoreError::NotFound { kind: "user", key: user_id.to_string() });
        }
        Ok(())
    }

    /// Turns an account on or off (an inactive account cannot log in); turning it
    /// off ends its sessions in the same transaction.
    pub async fn set_user_active(&self, user_id: i64, active: bool) -> Result<(), StoreError> {
        let ctx = "changing an account";
        let n = on_pool!(self, p => {
            let mut tx = begin_write(p, ctx).await?;
            let n = sqlx::query("UPDATE users SET active = $1 WHERE id = $2")
                .bind(active)
                .bind(user_id)
                .execute(&mut *tx)
                .await
                .ctx(ctx)?
                .rows_affected();
            if !active {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await.ctx(ctx)?;
            }
            tx.commit().await.ctx(ctx)?;
            n
        });
        if n == 0 {
            return Err(StoreError::NotFound { kind: "user", key: user_id.to_string() });
        }
        Ok(())
    }

    /// Replaces a user's password hash and ends their sessions, all but `keep`
    /// (the session of a user who changed their own password), in one
    /// transaction; returns the number of sessions ended.
    pub async fn replace_password(
        &self,
        user_id: i64,
        password_hash: &str,
        keep: Option<&str>,
    ) -> Result<u64, StoreError> {
        let ctx = "changing a password";
        let (n, ended) = on_pool!(self, p => {
            let mut tx = begin_write(p, ctx).await?;
            let n = sqlx::query("UPDATE users SET password_hash = $1, failed_attempts = 0, locked_until = NULL WHERE id = $2")
                .bind(password_hash)
                .bind(user_id)
                .execute(&mut *tx)
                .await
                .ctx(ctx)?
                .rows_affected();
            let ended = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
                .bind(user_id)
                .bind(keep.unwrap_or(""))
                .execute(&mut *tx)
                .await
                .ctx(ctx)?
                .rows_affected();
            tx.commit().await.ctx(ctx)?;
            (n, ended)
        });
        if n == 0 {
            return Err(StoreError::NotFound { kind: "user", key: user_id.to_string() });
        }
        Ok(ended)
    }

    /// Ends every session of a user but `keep`; returns how many.
    pub async fn end_sessions_of(&self, user_id: i64, keep: Option<&str>) -> Result<u64, StoreError> {
        Ok(on_pool!(self, p => {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
                .bind(user_id)
                .bind(keep.unwrap_or(""))
                .execute(p)
                .await
                .ctx("ending sessions")?
                .rows_affected()
        }))
    }

    /// Opens a session; expired sessions are cleared on the way.
    pub async fn create_session(&self, s: &SessionRow) -> Result<(), StoreError> {
        let ctx = "opening a session";
        let at = now();
        on_pool!(self, p => {
            let mut tx = begin_write(p, ctx).await?;
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(at).execute(&mut *tx).await.ctx(ctx)?;
            sqlx::query(
                "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&s.token_hash)
            .bind(s.user_id)
            .bind(&s.csrf_token)
            .bind(at)
            .bind(ts(s.expires_at))
            .execute(&mut *tx)
            .await
            .ctx(ctx)?;
            tx.commit().await.ctx(ctx)?;
        });
        Ok(())
    }

    /// The session stored under a token hash (expired or not: the caller decides).
    pub async fn session(&self, token_hash: &str) -> Result<Option<SessionRow>, StoreError> {
        let row: Option<(String, i64, String, DateTime<Utc>)> = on_pool!(self, p => {
            sqlx::query_as("SELECT token_hash, user_id, csrf_token, expires_at FROM sessions WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(p)
                .await
                .ctx("reading a session")?
        });
        Ok(row.map(|(token_hash, user_id, csrf_token, expires_at)| SessionRow {
            token_hash,
            user_id,
            csrf_token,
            expires_at,
        }))
    }

    /// Ends a session (no error when there is none).
    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        on_pool!(self, p => {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(token_hash)
                .execute(p)
                .await
                .ctx("ending a session")?;
        });
        Ok(())
    }

    /// Stores an API token under its hash. A hash or ID taken already is a
    /// [`StoreError::Constraint`].
    pub async fn create_api_token(&self, t: &NewApiToken) -> Result<(), StoreError> {
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO api_tokens (token_hash, token_id, user_id, name, role, region_scope, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&t.token_hash)
            .bind(&t.id)
            .bind(t.user_id)
            .bind(&t.name)
            .bind(&t.role)
            .bind(&t.region_scope)
            .bind(now())
            .bind(ts(t.expires_at))
            .execute(p)
            .await
            .ctx("storing an API token")?;
        });
        Ok(())
    }

    /// The token stored under a hash, revoked, expired or not (the caller
    /// decides); notes its use (hourly at most) when it is not revoked.
    pub async fn api_token(&self, token_hash: &str) -> Result<Option<ApiTokenRow>, StoreError> {
        let sql =
            format!("SELECT {TOKEN_COLS} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1");
        let found: Option<TokenTuple> = on_pool!(self, p => {
            sqlx::query_as(&sql).bind(token_hash).fetch_optional(p).await.ctx("reading an API token")?
        });
        let Some(row) = found.map(token_from) else { return Ok(None) };
        let at = now();
        if row.revoked_at.is_none() && stale(row.last_used_at, at) {
            on_pool!(self, p => {
                sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2")
                    .bind(at)
                    .bind(token_hash)
                    .execute(p)
                    .await
                    .ctx("noting an API token's use")?;
            });
        }
        Ok(Some(row))
    }

    /// The account an API token belongs to, unless the token was revoked or has
    /// expired; notes the token's use (hourly at most).
    pub async fn api_token_user(&self, token_hash: &str) -> Result<Option<UserRow>, StoreError> {
        let Some(t) = self.api_token(token_hash).await? else { return Ok(None) };
        if t.revoked_at.is_some() || t.expires_at.is_some_and(|e| e <= Utc::now()) {
            return Ok(None);
        }
        self.user_by_id(t.user_id).await
    }

    /// The token of a public ID.
    pub async fn api_token_by_id(&self, id: &str) -> Result<Option<ApiTokenRow>, StoreError> {
        let sql =
            format!("SELECT {TOKEN_COLS} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_id = $1");
        let found: Option<TokenTuple> = on_pool!(self, p => {
            sqlx::query_as(&sql).bind(id).fetch_optional(p).await.ctx("reading an API token")?
        });
        Ok(found.map(token_from))
    }

    /// The API tokens of one user, or of everyone (`None`), newest first.
    pub async fn list_api_tokens(&self, user_id: Option<i64>) -> Result<Vec<ApiTokenRow>, StoreError> {
        let sql = format!(
            "SELECT {TOKEN_COLS} FROM api_tokens t JOIN users u ON u.id = t.user_id
             WHERE $1 IS NULL OR t.user_id = $1 ORDER BY t.created_at DESC, t.token_id"
        );
        let rows: Vec<TokenTuple> = on_pool!(self, p => {
            sqlx::query_as(&sql).bind(user_id).fetch_all(p).await.ctx("listing API tokens")?
        });
        Ok(rows.into_iter().map(token_from).collect())
    }

    /// Revokes a token by its public ID; `false` when there is none or it was
    /// revoked already.
    pub async fn revoke_api_token(&self, id: &str) -> Result<bool, StoreError> {
        let n = on_pool!(self, p => {
            sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE token_id = $2 AND revoked_at IS NULL")
                .bind(now())
                .bind(id)
                .execute(p)
                .await
                .ctx("revoking an API token")?
                .rows_affected()
        });
        Ok(n > 0)
    }

    /// The API tokens of a user: name, created, last used (never the hash).
    pub async fn api_tokens_of(
        &self,
        user_id: i64,
    ) -> Result<Vec<(String, DateTime<Utc>, Option<DateTime<Utc>>)>, StoreError> {
        on_pool!(self, p => {
            sqlx::query_as(
                "SELECT name, created_at, last_used_at FROM api_tokens WHERE user_id = $1 ORDER BY created_at, name",
            )
            .bind(user_id)
            .fetch_all(p)
            .await
            .ctx("listing API tokens")
        })
    }

    /// Appends a row to the audit log.
    pub async fn audit(&self, e: &AuditRow) -> Result<(), StoreError> {
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO audit_log (at, actor, action, object_kind, object_id, region_code, detail)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(ts(e.at))
            .bind(&e.actor)
            .bind(&e.action)
            .bind(&e.object_kind)
            .bind(&e.object_id)
            .bind(e.region_code)
            .bind(&e.detail)
            .execute(p)
            .await
            .ctx("writing the audit log")?;
        });
        Ok(())
    }

    /// Appends rows to the audit log in one transaction (one sync to disk for all:
    /// the group commit of a busy server), in the order given.
    pub async fn audit_many(&self, rows: &[AuditRow]) -> Result<(), StoreError> {
        let ctx = "writing the audit log";
        if rows.is_empty() {
            return Ok(());
        }
        on_pool!(self, p => {
            let mut tx = begin_write(p, ctx).await?;
            // 7 values a row, well under either engine's limit of bound values.
            for chunk in rows.chunks(1000) {
                let sql = format!(
                    "INSERT INTO audit_log (at, actor, action, object_kind, object_id, region_code, detail) VALUES {}",
                    crate::vals::placeholders(chunk.len(), 7)
                );
                let mut q = sqlx::query(&sql);
                for e in chunk {
                    q = q
                        .bind(ts(e.at))
                        .bind(&e.actor)
                        .bind(&e.action)
                        .bind(&e.object_kind)
                        .bind(&e.object_id)
                        .bind(e.region_code)
                        .bind(&e.detail);
                }
                q.execute(&mut *tx).await.ctx(ctx)?;
            }
            tx.commit().await.ctx(ctx)?;
        });
        Ok(())
    }

    /// The latest `limit` rows of the audit log, newest first.
    pub async fn audit_log(&self, limit: u32) -> Result<Vec<AuditRow>, StoreError> {
        type R = (DateTime<Utc>, String, String, String, String, Option<i64>, String);
        let rows: Vec<R> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT at, actor, action, object_kind, object_id, region_code, detail FROM audit_log
                 ORDER BY id DESC LIMIT $1",
            )
            .bind(limit as i64)
            .fetch_all(p)
            .await
            .ctx("reading the audit log")?
        });
        Ok(rows
            .into_iter()
            .map(|(at, actor, action, object_kind, object_id, region_code, detail)| AuditRow {
                at,
                actor,
                action,
                object_kind,
                object_id,
                region_code,
                detail,
            })
            .collect())
    }

    /// The audit log inside a region scope, newest first: the events of its
    /// regions, those of `actor`, and with the national scope those of no region.
    pub async fn audit_log_in(&self, scope: &Scope, actor: &str, limit: u32) -> Result<Vec<AuditRow>, StoreError> {
        type R = (DateTime<Utc>, String, String, String, String, Option<i64>, String);
        let (lo, hi) = scope.code_range();
        let rows: Vec<R> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT at, actor, action, object_kind, object_id, region_code, detail FROM audit_log
                 WHERE region_code BETWEEN $2 AND $3 OR actor = $4 OR ($5 AND region_code IS NULL)
                 ORDER BY id DESC LIMIT $1",
            )
            .bind(limit as i64)
            .bind(lo)
            .bind(hi)
            .bind(actor)
            .bind(scope.prefix().is_empty())
            .fetch_all(p)
            .await
            .ctx("reading the audit log")?
        });
        Ok(rows
            .into_iter()
            .map(|(at, actor, action, object_kind, object_id, region_code, detail)| AuditRow {
                at,
                actor,
                action,
                object_kind,
                object_id,
                region_code,
                detail,
            })
            .collect())
    }

    /// Records one run of an import (accepted or refused); returns its ID.
    pub async fn record_import_run(&self, r: &ImportRunRow) -> Result<i64, StoreError> {
        let id: i64 = on_pool!(self, p => {
            sqlx::query_scalar(
                "INSERT INTO import_runs (kind, file_name, rows, status, errors, actor, at, region_scope)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(&r.kind)
            .bind(&r.file_name)
            .bind(r.rows.min(i64::MAX as u64) as i64)
            .bind(r.status.as_str())
            .bind(&r.errors)
            .bind(&r.actor)
            .bind(ts(r.at))
            .bind(&r.scope)
            .fetch_one(p)
            .await
            .ctx("recording an import run")?
        });
        Ok(id)
    }

    /// The latest `limit` import runs made inside `scope` (by users whose scope
    /// lies in it), newest first.
    pub async fn import_runs(&self, scope: &Scope, limit: u32) -> Result<Vec<ImportRunRow>, StoreError> {
        type R = (i64, String, String, i64, String, String, String, DateTime<Utc>, String);
        let rows: Vec<R> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT id, kind, file_name, rows, status, errors, actor, at, region_scope FROM import_runs
                 WHERE region_scope LIKE $1 ORDER BY id DESC LIMIT $2",
            )
            .bind(format!("{}%", scope.prefix()))
            .bind(limit as i64)
            .fetch_all(p)
            .await
            .ctx("reading import runs")?
        });
        rows.into_iter()
            .map(|(id, kind, file_name, rows, status, errors, actor, at, scope)| {
                let status = match status.as_str() {
                    "accepted" => ImportStatus::Accepted,
                    "refused" => ImportStatus::Refused,
                    other => return Err(crate::error::corrupt("reading import runs", other, "unknown status")),
                };
                Ok(ImportRunRow { id, kind, file_name, rows: rows.max(0) as u64, status, errors, actor, at, scope })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A token made before migration 9 (none of the columns it added) is named
    /// by the head of its hash and read back with no role, scope or expiry of
    /// its own (the application gives it its owner's and 90 days).
    #[tokio::test]
    async fn tokens_made_before_migration_9_are_named_and_read() {
        let store = Store::open("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        let u = store
            .create_user(&NewUser {
                username: "wang".into(),
                password_hash: "x".into(),
                role: "officer".into(),
                region_scope: "341122".into(),
                facility_id: None,
            })
            .await
            .unwrap();
        let hash = "ab".repeat(32);
        let t = NewApiToken {
            token_hash: hash.clone(),
            id: "made-now".into(),
            user_id: u.id,
            name: "old script".into(),
            role: "officer".into(),
            region_scope: "341122".into(),
            expires_at: Utc::now(),
        };
        store.create_api_token(&t).await.unwrap();
        on_pool!(store, p => {
            sqlx::query("UPDATE api_tokens SET token_id = NULL, role = NULL, region_scope = NULL, expires_at = NULL")
                .execute(p)
                .await
                .unwrap();
        });
        let naming = V9.split(';').map(str::trim).find(|s| s.starts_with("UPDATE")).unwrap();
        on_pool!(store, p => {
            sqlx::query(naming).execute(p).await.unwrap();
        });
        let r = store.api_token_by_id("abababababababab").await.unwrap().expect("named by the head of its hash");
        assert_eq!((r.role, r.region_scope, r.expires_at, r.revoked_at), (None, None, None, None));
        assert_eq!(r.owner, "wang");
        assert_eq!(store.api_token_user(&hash).await.unwrap().map(|u| u.id), Some(u.id));
    }

    #[test]
    fn token_use_is_noted_hourly() {
        let t = Utc::now();
        assert!(stale(None, t));
        assert!(!stale(Some(t - chrono::Duration::minutes(59)), t));
        assert!(stale(Some(t - chrono::Duration::minutes(60)), t));
    }
}
