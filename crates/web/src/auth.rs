//! Accounts and sessions: argon2 password hashes checked off the request
//! threads, login with back-off by client address and by user name, session
//! cookies (HttpOnly, SameSite=Strict, Secure when configured), per-session CSRF
//! tokens, and Bearer API tokens for machine clients.
//!
//! Secrets (session and API tokens) are random 32-byte values that only the client
//! holds; the store keeps their BLAKE2 hash, so a copy of the database opens no
//! session.
//!
//! A login is answered alike whether the name exists or not, whether the account
//! is turned off or the password is wrong ("wrong user name or password", 401),
//! and takes as long: an unknown name is checked against a real hash. Failures
//! are counted by client address and by user name (known or not, so the
//! counting tells nothing either); past a threshold each failure doubles the
//! wait before the next try, up to `lockout_minutes`, and a try within the wait
//! is answered 429 with `Retry-After` without checking anything. No account is
//! ever locked: an attacker's address waits, the user elsewhere logs in. At
//! most `login_checks` password checks run at once, on tokio's blocking
//! threads; a few times as many wait, and a login beyond that is answered 429.
//! Failures are audited once a minute per account (one row for all unknown
//! names): the first at once, the rest counted in one row with the addresses.

use crate::access::{Masking, Permission, Role, Scope};
use crate::error::WebError;
use crate::i18n::Lang;
use crate::AppState;
use app::{ApiToken, AuditEntry, NewUser, Session, User};
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use blake2::{Blake2s256, Digest};
use chrono::{DateTime, Duration, Utc};
use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

pub const SESSION_COOKIE: &str = "sn_session";
pub const LANG_COOKIE: &str = "sn_lang";
pub const LOGIN_CSRF_COOKIE: &str = "sn_login";

/// Hashes a password with argon2id and a random salt (PHC string). Slow on
/// purpose: call it off the request threads ([`hash_off_thread`]).
pub fn hash_password(password: &str) -> Result<String, WebError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| WebError::Internal(format!("hashing a password: {e}")))
}

/// Whether `password` matches the PHC hash. Slow on purpose: call it off the
/// request threads ([`Logins::check`]).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok()).unwrap_or(false)
}

/// A hash of a random password, made with the same parameters as every real
/// one, so that checking a password against an unknown name costs as much as
/// against a known one.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&new_secret()).expect("argon2 hashes a random password"))
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

/// Checks a user name's form: 1 to 64 letters, digits, '.', '_' or '-'.
pub fn check_username(name: &str) -> Result<(), WebError> {
    if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
        return Err(WebError::BadRequest("a user name is 1 to 64 letters, digits, '.', '_' or '-'".into()));
    }
    Ok(())
}

/// Checks a new password against the policy (length, the most common
/// passwords, not the user name): [`app::access::check_new_password`].
pub fn check_password_rules(username: &str, password: &str) -> Result<(), WebError> {
    app::access::check_new_password(username, password).map_err(WebError::BadRequest)
}

/// Hashes a new password on a blocking thread, in turn with the password
/// checks of logins.
pub async fn hash_off_thread(state: &AppState, password: &str) -> Result<String, WebError> {
    let permit = state.logins.checks.clone().acquire_owned().await.map_err(|e| WebError::Internal(e.to_string()))?;
    let password = password.to_string();
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        hash_password(&password)
    })
    .await
    .map_err(|e| WebError::Internal(format!("hashing a password: {e}")))?
}

/// Creates an account (used by the admin page and by `serve --create-admin`):
/// the name's form and the password policy are checked first. A name taken
/// already, in any case, is a conflict.
pub async fn create_user(
    state: &AppState,
    username: &str,
    password: &str,
    role: Role,
    scope: Scope,
) -> Result<User, WebError> {
    let name = username.trim();
    check_username(name)?;
    check_password_rules(name, password)?;
    let password_hash = hash_off_thread(state, password).await?;
    Ok(state.app.create_user(NewUser { username: name.into(), password_hash, role, scope }).await?)
}

/// The outcome of a login attempt.
pub enum LoginOutcome {
    /// The session token for the cookie.
    Ok { token: String, user: User },
    /// A wrong password, an unknown name or an account turned off, all alike.
    Refused,
    /// Too many failures from this address or for this name: try again after
    /// the back-off (nothing was checked).
    Wait(std::time::Duration),
    /// Too many password checks waiting: try again in a moment.
    Busy,
}

impl LoginOutcome {
    /// The words a refused login is answered with (the same for every name).
    pub fn message(&self) -> String {
        match self {
            LoginOutcome::Ok { .. } => String::new(),
            LoginOutcome::Refused => REFUSED.into(),
            LoginOutcome::Wait(d) => format!(
                "too many failed logins from your address or for this user name; try again in {} seconds",
                retry_secs(*d)
            ),
            LoginOutcome::Busy => "the server is checking many logins at once; try again in a moment".into(),
        }
    }

    /// The seconds for `Retry-After`, when the client should come back later.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            LoginOutcome::Wait(d) => Some(retry_secs(*d)),
            LoginOutcome::Busy => Some(1),
            _ => None,
        }
    }
}

const REFUSED: &str = "wrong user name or password";

fn retry_secs(d: std::time::Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// The address a request came from: the peer of the connection, or behind a
/// trusted proxy the last entry of `X-Forwarded-For`. IPv6 addresses count by
/// their /64 network (one subscriber's), IPv4-mapped ones as IPv4. `None` when
/// the server was started without connection info (tests).
pub fn client_addr(state: &AppState, parts: &Parts) -> Option<IpAddr> {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let forwarded = || {
        parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse::<IpAddr>().ok())
            .next_back()
    };
    let ip = if state.config.trust_forwarded_for { forwarded().or(peer) } else { peer };
    ip.map(network)
}

/// The unit an address is counted by.
fn network(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

/// The key a user name is counted under: trimmed, lower case, at most 64
/// characters (no longer name exists).
fn name_key(username: &str) -> String {
    username.trim().to_lowercase().chars().take(64).collect()
}

/// How often the failures counted are written to the audit log.
const AUDIT_WINDOW: std::time::Duration = std::time::Duration::from_secs(60);
/// The most addresses or names one key remembers; beyond, the oldest quiet
/// ones are forgotten.
const MAX_KEYS: usize = 100_000;
/// The most addresses or names one audit row lists.
const LISTED: usize = 8;

/// Failures of one client address or one user name.
#[derive(Debug, Clone, Copy)]
struct Backoff {
    failures: u32,
    in_flight: u32,
    /// No try before this instant.
    until: Instant,
    last: Instant,
}

impl Backoff {
    fn new(now: Instant) -> Backoff {
        Backoff { failures: 0, in_flight: 0, until: now, last: now }
    }

    /// Why a try must wait (how long), or `None` when it may go on.
    fn wait(&self, threshold: u32, now: Instant) -> Option<std::time::Duration> {
        if now < self.until {
            Some(self.until - now)
        } else if self.failures + self.in_flight < threshold || self.in_flight == 0 {
            None
        } else {
            // Past the threshold, one try at a time.
            Some(std::time::Duration::from_secs(1))
        }
    }

    fn failed(&mut self, threshold: u32, cap: std::time::Duration, now: Instant) {
        self.failures = self.failures.saturating_add(1);
        self.last = now;
        if self.failures >= threshold {
            let doublings = (self.failures - threshold).min(30);
            self.until = now + std::time::Duration::from_secs(1u64 << doublings).min(cap);
        }
    }

    /// Whether nothing of it matters any more.
    fn forgotten(&self, cap: std::time::Duration, now: Instant) -> bool {
        self.in_flight == 0 && now >= self.until.max(self.last) + cap
    }
}

/// The failed logins of one account (or of all unknown names) not yet written
/// to the audit log.
#[derive(Debug, Default)]
struct Failures {
    /// Whether the window's first failure was written at once.
    first_written: bool,
    since: Option<DateTime<Utc>>,
    started: Option<Instant>,
    failed: u64,
    refused: u64,
    addrs: BTreeSet<String>,
    more_addrs: u64,
    names: BTreeSet<String>,
    more_names: u64,
}

impl Failures {
    fn note(&mut self, addr: &str, name: Option<&str>, refused: bool) {
        if refused {
            self.refused += 1;
        } else {
            self.failed += 1;
        }
        if !self.addrs.contains(addr) {
            if self.addrs.len() < LISTED {
                self.addrs.insert(addr.to_string());
            } else {
                self.more_addrs += 1;
            }
        }
        if let Some(n) = name {
            if !self.names.contains(n) {
                if self.names.len() < LISTED {
                    self.names.insert(n.to_string());
                } else {
                    self.more_names += 1;
                }
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.failed == 0 && self.refused == 0
    }

    /// The audit row's detail.
    fn detail(&self) -> String {
        let list = |set: &BTreeSet<String>, more: u64| {
            let mut s = set.iter().cloned().collect::<Vec<_>>().join(", ");
            if more > 0 {
                s.push_str(&format!(" and {more} more"));
            }
            s
        };
        let further = if self.first_written { " further" } else { "" };
        let mut d = format!("{}{further} failed logins", self.failed);
        if self.refused > 0 {
            d.push_str(&format!(" and {} refused during the back-off", self.refused));
        }
        d.push_str(&format!(" from addresses {}", list(&self.addrs, self.more_addrs)));
        if !self.names.is_empty() {
            d.push_str(&format!("; names tried: {}", list(&self.names, self.more_names)));
        }
        if let Some(t) = self.since {
            d.push_str(&format!("; since {} UTC", t.format("%Y-%m-%d %H:%M:%S")));
        }
        d
    }
}

#[derive(Debug, Default)]
struct LoginState {
    addrs: HashMap<IpAddr, Backoff>,
    names: HashMap<String, Backoff>,
    /// By account name; `""` holds every unknown name.
    failures: HashMap<String, Failures>,
}

/// The login guard of one server: the back-off by address and by name, the
/// bound on password checks at once, and the failures waiting to be audited.
pub struct Logins {
    checks: Arc<tokio::sync::Semaphore>,
    /// Checks running or waiting for their turn.
    queued: AtomicUsize,
    max_queued: usize,
    addr_threshold: u32,
    name_threshold: u32,
    cap: std::time::Duration,
    state: Mutex<LoginState>,
    flusher: OnceLock<()>,
}

/// A try let through the back-off; dropped without an outcome, it counts as
/// nothing.
pub struct Ticket<'a> {
    logins: &'a Logins,
    addr: Option<IpAddr>,
    name: String,
    done: bool,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.logins.finish(self, None);
        }
    }
}

/// The address as the audit log names it.
fn addr_text(addr: Option<IpAddr>) -> String {
    addr.map_or_else(|| "unknown".into(), |a| a.to_string())
}

impl Logins {
    pub fn new(config: &crate::Config) -> Logins {
        let checks = config.login_checks.max(1);
        Logins {
            checks: Arc::new(tokio::sync::Semaphore::new(checks)),
            queued: AtomicUsize::new(0),
            max_queued: checks * 5,
            addr_threshold: config.lockout_threshold.max(1),
            name_threshold: config.account_threshold.max(1),
            cap: std::time::Duration::from_secs(config.lockout_minutes.max(1) as u64 * 60),
            state: Mutex::new(LoginState::default()),
            flusher: OnceLock::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LoginState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Lets a try through, or says how long it must wait. The same for every
    /// name, known or not.
    pub fn admit(&self, addr: Option<IpAddr>, username: &str) -> Result<Ticket<'_>, std::time::Duration> {
        let now = Instant::now();
        let name = name_key(username);
        let mut st = self.lock();
        let st = &mut *st;
        if st.addrs.len() >= MAX_KEYS || st.names.len() >= MAX_KEYS {
            prune(st, self.cap, now);
        }
        let a = addr.map(|a| *st.addrs.entry(a).or_insert_with(|| Backoff::new(now)));
        let n = *st.names.entry(name.clone()).or_insert_with(|| Backoff::new(now));
        let wait = a.and_then(|a| a.wait(self.addr_threshold, now)).max(n.wait(self.name_threshold, now));
        if let Some(w) = wait {
            return Err(w);
        }
        if let Some(a) = addr.and_then(|a| st.addrs.get_mut(&a)) {
            a.in_flight += 1;
        }
        if let Some(n) = st.names.get_mut(&name) {
            n.in_flight += 1;
        }
        Ok(Ticket { logins: self, addr, name, done: false })
    }

    /// Records the outcome of a try: `Some(false)` a failure, `Some(true)` a
    /// success (the name's failures are forgotten), `None` nothing (the check
    /// never ran).
    fn finish(&self, t: &Ticket<'_>, outcome: Option<bool>) {
        let now = Instant::now();
        let mut st = self.lock();
        if let Some(a) = t.addr.and_then(|a| st.addrs.get_mut(&a)) {
            a.in_flight = a.in_flight.saturating_sub(1);
            if outcome == Some(false) {
                a.failed(self.addr_threshold, self.cap, now);
            }
        }
        if let Some(n) = st.names.get_mut(&t.name) {
            n.in_flight = n.in_flight.saturating_sub(1);
            match outcome {
                Some(false) => n.failed(self.name_threshold, self.cap, now),
                Some(true) => n.failures = 0,
                None => {}
            }
        }
    }

    /// Notes a failed or refused try for the audit log. Returns the row to
    /// write at once: the first failure of an account in a window; later ones
    /// are written together ([`flush_login_audit`]).
    fn note_failure(
        &self,
        account: Option<&str>,
        typed: &str,
        addr: Option<IpAddr>,
        refused: bool,
    ) -> Option<(String, String)> {
        let key = account.unwrap_or("").to_string();
        let mut st = self.lock();
        let f = st.failures.entry(key).or_default();
        let fresh = f.started.is_none();
        if fresh {
            f.started = Some(Instant::now());
            f.since = Some(Utc::now());
        }
        let addr = addr_text(addr);
        let unknown: String = typed.trim().chars().take(64).collect();
        if fresh && !refused {
            // Written now; the window counts the ones after it.
            f.first_written = true;
            let what = match account {
                Some(_) => format!("failed login from {addr}"),
                None => format!("failed login from {addr} with the unknown user name {unknown:?}"),
            };
            return Some((account.unwrap_or("").to_string(), what));
        }
        f.note(&addr, account.is_none().then_some(unknown.as_str()), refused);
        None
    }

    /// The rows of the failures counted: those whose window has passed, or all.
    fn take_failures(&self, all: bool) -> Vec<(String, String)> {
        let now = Instant::now();
        let mut st = self.lock();
        let due: Vec<String> = st
            .failures
            .iter()
            .filter(|(_, f)| all || f.started.is_some_and(|s| now >= s + AUDIT_WINDOW))
            .map(|(k, _)| k.clone())
            .collect();
        let mut rows = vec![];
        for k in due {
            if let Some(f) = st.failures.remove(&k) {
                if !f.is_empty() {
                    rows.push((k, f.detail()));
                }
            }
        }
        prune(&mut st, self.cap, now);
        rows
    }
}

/// Forgets the addresses and names with nothing left to count; when too many
/// remain, the quiet ones with the oldest failures.
fn prune(st: &mut LoginState, cap: std::time::Duration, now: Instant) {
    st.addrs.retain(|_, b| !b.forgotten(cap, now));
    st.names.retain(|_, b| !b.forgotten(cap, now));
    for _ in 0..2 {
        if st.addrs.len() >= MAX_KEYS {
            let mut lasts: Vec<Instant> = st.addrs.values().filter(|b| b.in_flight == 0).map(|b| b.last).collect();
            lasts.sort();
            if let Some(&cut) = lasts.get(lasts.len() / 2) {
                st.addrs.retain(|_, b| b.in_flight > 0 || b.last > cut);
            }
        }
        if st.names.len() >= MAX_KEYS {
            let mut lasts: Vec<Instant> = st.names.values().filter(|b| b.in_flight == 0).map(|b| b.last).collect();
            lasts.sort();
            if let Some(&cut) = lasts.get(lasts.len() / 2) {
                st.names.retain(|_, b| b.in_flight > 0 || b.last > cut);
            }
        }
    }
}

/// Writes one login-failure row: `account` `""` for unknown names.
async fn audit_failures(state: &AppState, account: &str, detail: &str) -> Result<(), WebError> {
    let (who, target) = if account.is_empty() { ("anonymous", "unknown user names") } else { (account, account) };
    audit(state, who, "login_failed", target, detail).await
}

/// Writes the failed logins counted so far to the audit log, one row per
/// account and one for all unknown names. The server does it every minute;
/// tests call it to see the rows at once.
pub async fn flush_login_audit(state: &AppState) -> Result<(), WebError> {
    for (account, detail) in state.logins.take_failures(true) {
        audit_failures(state, &account, &detail).await?;
    }
    Ok(())
}

/// Starts the task that writes the counted failures once their window has
/// passed (once per server; it ends with the server).
fn start_flusher(state: &AppState) {
    state.logins.flusher.get_or_init(|| {
        let logins = Arc::downgrade(&state.logins);
        let app = Arc::downgrade(&state.app);
        let config = state.config.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(AUDIT_WINDOW / 4).await;
                let (Some(logins), Some(app)) = (logins.upgrade(), app.upgrade()) else { return };
                let state = AppState { app, config: config.clone(), logins };
                for (account, detail) in state.logins.take_failures(false) {
                    if let Err(e) = audit_failures(&state, &account, &detail).await {
                        tracing::warn!(error = %e, "writing failed logins to the audit log");
                    }
                }
            }
        });
    });
}

impl Logins {
    /// Checks a password against a hash (`None`: the hash for unknown names)
    /// on a blocking thread, when a check is free or soon; `None` when too many
    /// wait already.
    async fn check(&self, password: &str, hash: Option<String>) -> Result<Option<bool>, WebError> {
        struct Queued<'a>(&'a AtomicUsize);
        impl Drop for Queued<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        if self.queued.fetch_add(1, Ordering::SeqCst) >= self.max_queued {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            return Ok(None);
        }
        let _queued = Queued(&self.queued);
        let permit = self.checks.clone().acquire_owned().await.map_err(|e| WebError::Internal(e.to_string()))?;
        let password = password.to_string();
        let ok = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            verify_password(&password, hash.as_deref().unwrap_or_else(|| dummy_hash()))
        })
        .await
        .map_err(|e| WebError::Internal(format!("checking a password: {e}")))?;
        Ok(Some(ok))
    }
}

/// Checks a user's password as a login does (through the back-off, off the
/// request threads, failures audited): for a change of one's own password.
pub async fn check_own_password(
    state: &AppState,
    addr: Option<IpAddr>,
    user: &User,
    password: &str,
) -> Result<LoginOutcome, WebError> {
    attempt(state, addr, &user.username, password).await.map(|(o, _)| o)
}

/// Checks a user name and password and opens a session. See the module's
/// words for what is answered when.
pub async fn login(
    state: &AppState,
    addr: Option<IpAddr>,
    username: &str,
    password: &str,
) -> Result<LoginOutcome, WebError> {
    let (outcome, user) = attempt(state, addr, username, password).await?;
    let (LoginOutcome::Ok { .. }, Some(user)) = (&outcome, user) else { return Ok(outcome) };
    let now = Utc::now();
    let token = new_secret();
    state
        .app
        .create_session(Session {
            token_hash: secret_hash(&token),
            user_id: user.id,
            csrf: new_secret(),
            expires_at: now + Duration::minutes(state.config.session_minutes),
        })
        .await?;
    audit(state, &user.username, "login", &user.username, &format!("from {}", addr_text(addr))).await?;
    Ok(LoginOutcome::Ok { token, user })
}

/// One try of a name and password: the back-off, the check, the counting.
/// `Ok` carries an empty token: the caller opens the session.
async fn attempt(
    state: &AppState,
    addr: Option<IpAddr>,
    username: &str,
    password: &str,
) -> Result<(LoginOutcome, Option<User>), WebError> {
    start_flusher(state);
    let name = username.trim();
    let logins = &state.logins;
    let ticket = match logins.admit(addr, name) {
        Ok(t) => t,
        Err(wait) => {
            let known = match name.len() {
                1..=64 => state.app.user_by_name(name).await?,
                _ => None,
            };
            logins.note_failure(known.as_ref().map(|u| u.username.as_str()), name, addr, true);
            return Ok((LoginOutcome::Wait(wait), None));
        }
    };
    let user = match name.len() {
        1..=64 => state.app.user_by_name(name).await?,
        _ => None,
    };
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let Some(matches) = logins.check(password, hash).await? else {
        return Ok((LoginOutcome::Busy, None));
    };
    let mut ticket = ticket;
    match user {
        Some(u) if matches && u.active => {
            ticket.done = true;
            logins.finish(&ticket, Some(true));
            Ok((LoginOutcome::Ok { token: String::new(), user: u.clone() }, Some(u)))
        }
        _ => {
            ticket.done = true;
            logins.finish(&ticket, Some(false));
            let account = user.as_ref().map(|u| u.username.as_str());
            if let Some((account, detail)) = logins.note_failure(account, name, addr, false) {
                audit_failures(state, &account, &detail).await?;
            }
            Ok((LoginOutcome::Refused, None))
        }
    }
}

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
    /// Who acts: for an API token its owner, with the token's role and scope.
    pub user: User,
    /// The browser session (absent for API tokens).
    pub session: Option<Session>,
    pub lang: Lang,
    /// The API token the request carries, if any.
    pub token: Option<ApiToken>,
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
        let found = state.app.token_identity(&secret_hash(token)).await?;
        return Ok(found.map(|(user, token)| Ctx { user, session: None, lang, token: Some(token) }));
    }
    let Some(token) = cookie(parts, SESSION_COOKIE) else { return Ok(None) };
    let hash = secret_hash(token);
    let Some(session) = state.app.session(&hash).await? else { return Ok(None) };
    if session.expires_at <= Utc::now() {
        state.app.delete_session(&hash).await?;
        return Ok(None);
    }
    let Some(user) = state.app.user_by_id(session.user_id).await?.filter(|u| u.active) else { return Ok(None) };
    Ok(Some(Ctx { user, session: Some(session), lang, token: None }))
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
    }

    #[test]
    fn the_hash_for_unknown_names_is_a_real_one() {
        // An unparsable hash would make the unknown-name path fast, and so
        // tell by timing which names exist.
        let h = PasswordHash::new(dummy_hash()).expect("a PHC string");
        assert_eq!(h.algorithm.as_str(), "argon2id");
        let real = hash_password("anything at all").unwrap();
        let real = PasswordHash::new(&real).unwrap();
        assert_eq!(h.params, real.params, "the same cost as a real hash");
        assert!(!verify_password("", dummy_hash()));
    }

    #[test]
    fn back_off_doubles_past_the_threshold_and_lets_one_try_at_a_time() {
        let now = Instant::now();
        let cap = std::time::Duration::from_secs(60);
        let mut b = Backoff::new(now);
        for _ in 0..2 {
            assert_eq!(b.wait(3, now), None);
            b.failed(3, cap, now);
        }
        assert_eq!(b.wait(3, now), None);
        b.in_flight = 1;
        assert_eq!(b.wait(3, now), Some(std::time::Duration::from_secs(1)), "a third try is under way");
        b.in_flight = 0;
        b.failed(3, cap, now);
        assert_eq!(b.wait(3, now), Some(std::time::Duration::from_secs(1)));
        let later = now + std::time::Duration::from_secs(1);
        assert_eq!(b.wait(3, later), None, "the back-off passed: one more try");
        b.failed(3, cap, later);
        assert_eq!(b.wait(3, later), Some(std::time::Duration::from_secs(2)));
        for _ in 0..40 {
            b.failed(3, cap, later);
        }
        assert_eq!(b.wait(3, later), Some(cap), "never longer than the cap");
        assert!(!b.forgotten(cap, later + cap));
        assert!(b.forgotten(cap, later + cap + cap));
    }

    #[test]
    fn addresses_count_by_network() {
        assert_eq!(network("10.1.2.3".parse().unwrap()), "10.1.2.3".parse::<IpAddr>().unwrap());
        assert_eq!(network("::ffff:10.1.2.3".parse().unwrap()), "10.1.2.3".parse::<IpAddr>().unwrap());
        assert_eq!(network("2001:db8:1:2:3:4:5:6".parse().unwrap()), "2001:db8:1:2::".parse::<IpAddr>().unwrap());
        assert_eq!(name_key("  Admin "), "admin");
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
