//! Accounts and sessions: argon2 password hashes, login with lockout, session
//! cookies (HttpOnly, SameSite=Strict, Secure when configured), per-session CSRF
//! tokens, and Bearer API tokens for machine clients.
//!
//! Secrets (session and API tokens) are random 32-byte values that only the client
//! holds; the store keeps their BLAKE2 hash, so a copy of the database opens no
//! session.

use crate::access::{Masking, Permission, Role, Scope};
use crate::error::WebError;
use crate::i18n::Lang;
use crate::AppState;
use app::{AuditEntry, NewUser, Session, User};
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use blake2::{Blake2s256, Digest};
use chrono::{Duration, Utc};

pub const SESSION_COOKIE: &str = "sn_session";
pub const LANG_COOKIE: &str = "sn_lang";
pub const LOGIN_CSRF_COOKIE: &str = "sn_login";

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, WebError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| WebError::Internal(format!("hashing a password: {e}")))
}

/// Whether `password` matches the PHC hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok()).unwrap_or(false)
}

/// A new random secret, as 64 hex digits.
pub fn new_secret() -> String {
    let b: [u8; 32] = rand::random();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The hash under which a secret is stored.
pub fn secret_hash(secret: &str) -> String {
    Blake2s256::digest(secret.as_bytes()).iter().map(|x| format!("{x:02x}")).collect()
}

/// Compares two strings in time independent of where they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks a password's minimum strength.
pub fn check_password_rules(p: &str) -> Result<(), WebError> {
    if p.chars().count() < 8 {
        return Err(WebError::BadRequest("a password needs at least 8 characters".into()));
    }
    Ok(())
}

/// Creates an account (used by the admin page and by `serve --create-admin`).
pub async fn create_user(
    state: &AppState,
    username: &str,
    password: &str,
    role: Role,
    scope: Scope,
) -> Result<User, WebError> {
    let name = username.trim();
    if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
        return Err(WebError::BadRequest("a user name is 1 to 64 letters, digits, '.', '_' or '-'".into()));
    }
    check_password_rules(password)?;
    let password_hash = hash_password(password)?;
    Ok(state.app.create_user(NewUser { username: name.into(), password_hash, role, scope }).await?)
}

/// The outcome of a login attempt.
pub enum LoginOutcome {
    /// The session token for the cookie.
    Ok {
        token: String,
        user: User,
    },
    Refused(String),
}

/// Checks a user name and password, counts failures, locks the account after
/// `lockout_threshold` failures in a row for `lockout_minutes`, and opens a session.
pub async fn login(state: &AppState, username: &str, password: &str) -> Result<LoginOutcome, WebError> {
    let cfg = &state.config;
    let now = Utc::now();
    let refused = || LoginOutcome::Refused("wrong user name or password".into());
    let Some(user) = state.app.user_by_name(username.trim()).await? else {
        // Spend the same time as a real check so that timing does not tell which names exist.
        let _ = verify_password(password, DUMMY_HASH);
        return Ok(refused());
    };
    if let Some(until) = user.locked_until.filter(|t| *t > now) {
        audit(state, &user.username, "login_refused_locked", &user.username, "").await?;
        return Ok(LoginOutcome::Refused(format!(
            "this account is locked after repeated failed logins until {} UTC",
            until.format("%Y-%m-%d %H:%M")
        )));
    }
    if !user.active || !verify_password(password, &user.password_hash) {
        let failed = if user.locked_until.is_some() { 1 } else { user.failed_logins + 1 };
        if failed >= cfg.lockout_threshold {
            let until = now + Duration::minutes(cfg.lockout_minutes);
            state.app.set_login_state(user.id, failed, Some(until)).await?;
            audit(state, &user.username, "lockout", &user.username, &format!("{failed} failed logins")).await?;
            return Ok(LoginOutcome::Refused(format!(
                "too many failed logins: this account is locked for {} minutes",
                cfg.lockout_minutes
            )));
        }
        state.app.set_login_state(user.id, failed, None).await?;
        audit(state, &user.username, "login_failed", &user.username, "").await?;
        return Ok(refused());
    }
    state.app.set_login_state(user.id, 0, None).await?;
    let token = new_secret();
    state
        .app
        .create_session(Session {
            token_hash: secret_hash(&token),
            user_id: user.id,
            csrf: new_secret(),
            expires_at: now + Duration::minutes(cfg.session_minutes),
        })
        .await?;
    audit(state, &user.username, "login", &user.username, "").await?;
    Ok(LoginOutcome::Ok { token, user })
}

/// A valid argon2 hash of a random password, to spend time on unknown names.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2nL0Xr3o7W1bV5mU0m7x8j0P3QeD4J1q9m2c6vN8sYk";

/// The `Set-Cookie` value of a session.
pub fn session_cookie(state: &AppState, token: &str) -> String {
    let secure = if state.config.secure_cookies() { "; Secure" } else { "" };
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        state.config.session_minutes * 60
    )
}

pub fn clear_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// A cookie's value from the request.
pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The signed-in user of a request, with what the pages need to know about them.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub user: User,
    /// The browser session (absent for API tokens).
    pub session: Option<Session>,
    pub lang: Lang,
}

impl Ctx {
    pub fn scope(&self) -> &Scope {
        &self.user.scope
    }

    pub fn may(&self, p: Permission) -> bool {
        self.user.role.may(p)
    }

    pub fn require(&self, p: Permission) -> Result<(), WebError> {
        if self.may(p) {
            Ok(())
        } else {
            Err(WebError::forbidden(p))
        }
    }

    pub fn masking(&self) -> Masking {
        Masking::for_role(self.user.role)
    }

    pub fn csrf(&self) -> &str {
        self.session.as_ref().map(|s| s.csrf.as_str()).unwrap_or("")
    }
}

/// Finds the user from a Bearer token or the session cookie; `None` when neither
/// is present or valid.
pub async fn authenticate(state: &AppState, parts: &Parts) -> Result<Option<Ctx>, WebError> {
    let lang = Lang::from_cookie(cookie(parts, LANG_COOKIE));
    if let Some(h) = parts.headers.get(AUTHORIZATION) {
        let v = h.to_str().map_err(|_| WebError::Unauthorized)?;
        let token = v.strip_prefix("Bearer ").ok_or(WebError::Unauthorized)?.trim();
        let user = state.app.api_token_user(&secret_hash(token)).await?.filter(|u| u.active);
        return Ok(user.map(|user| Ctx { user, session: None, lang }));
    }
    let Some(token) = cookie(parts, SESSION_COOKIE) else { return Ok(None) };
    let hash = secret_hash(token);
    let Some(session) = state.app.session(&hash).await? else { return Ok(None) };
    if session.expires_at <= Utc::now() {
        state.app.delete_session(&hash).await?;
        return Ok(None);
    }
    let Some(user) = state.app.user_by_id(session.user_id).await?.filter(|u| u.active) else { return Ok(None) };
    Ok(Some(Ctx { user, session: Some(session), lang }))
}

/// Writes one audit row.
pub async fn audit(state: &AppState, who: &str, action: &str, target: &str, detail: &str) -> Result<(), WebError> {
    state
        .app
        .audit(AuditEntry {
            at: Utc::now(),
            username: who.into(),
            action: action.into(),
            target: target.into(),
            detail: detail.into(),
            region: None,
        })
        .await?;
    Ok(())
}

/// Extractor for API handlers: 401 without a valid token or session.
pub struct ApiUser(pub Ctx);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<ApiUser, WebError> {
        if let Some(c) = parts.extensions.get::<Ctx>() {
            return Ok(ApiUser(c.clone()));
        }
        authenticate(state, parts).await?.map(ApiUser).ok_or(WebError::Unauthorized)
    }
}

/// Extractor for pages: redirects to the login page without a session.
pub struct PageUser(pub Ctx);

impl FromRequestParts<AppState> for PageUser {
    type Rejection = crate::error::PageError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<PageUser, Self::Rejection> {
        if let Some(c) = parts.extensions.get::<Ctx>() {
            return Ok(PageUser(c.clone()));
        }
        match authenticate(state, parts).await? {
            Some(c) if c.session.is_some() => Ok(PageUser(c)),
            _ => Err(WebError::Unauthorized.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("correct hors", &h));
        assert!(!verify_password("x", "not a hash"));
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[test]
    fn secrets_are_random_and_hashed() {
        let a = new_secret();
        assert_eq!(a.len(), 64);
        assert_ne!(a, new_secret());
        assert_eq!(secret_hash(&a), secret_hash(&a));
        assert_ne!(secret_hash(&a), a);
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("ab", "abc"));
    }
}
