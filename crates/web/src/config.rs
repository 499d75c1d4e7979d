//! Server configuration: defaults, then an optional TOML file, then `SAFETYNET_*`
//! environment variables, then command-line flags (applied by the caller), each
//! overriding the one before.

use serde::Deserialize;
use std::path::Path;

/// Everything `serve` needs to know.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on, `127.0.0.1:8080`.
    pub addr: String,
    /// The store: a SQLite path or a postgres:// URL.
    pub db: String,
    /// How long a login lasts without a new login, in minutes.
    pub session_minutes: i64,
    /// Mark the session cookie `Secure` (behind HTTPS). Unset, it is marked
    /// whenever the server listens on an address other than loopback.
    pub cookie_secure: Option<bool>,
    /// Failed logins from one client address before its back-off begins: each
    /// further failure doubles the wait before the next try (1 s, 2 s, 4 s, ...).
    /// No account is ever locked: a user elsewhere still logs in.
    pub lockout_threshold: u32,
    /// Failed logins on one user name, from all addresses together, before the
    /// name's own back-off begins (a guesser spread over many addresses).
    pub account_threshold: u32,
    /// The longest back-off, in minutes; a client or name with no failure for
    /// that long after its back-off is forgotten.
    pub lockout_minutes: i64,
    /// Password checks that run at once, off the request threads; as many
    /// again times four wait their turn, and a login beyond that is answered
    /// 429 with Retry-After. Default: half the processors, at least one.
    pub login_checks: usize,
    /// Take the client's address from the last entry of `X-Forwarded-For`
    /// (set this behind a reverse proxy, which adds it; never when clients
    /// reach the server directly, since they could name any address).
    pub trust_forwarded_for: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            addr: "127.0.0.1:8080".into(),
            db: "./safetynet.db".into(),
            session_minutes: 8 * 60,
            cookie_secure: None,
            lockout_threshold: 5,
            account_threshold: 50,
            lockout_minutes: 15,
            login_checks: std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1)),
            trust_forwarded_for: false,
        }
    }
}

impl Config {
    /// Reads a TOML file over the defaults; unknown keys are refused.
    pub fn from_file(path: &Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Applies `SAFETYNET_ADDR`, `SAFETYNET_DB`, `SAFETYNET_SESSION_MINUTES`,
    /// `SAFETYNET_COOKIE_SECURE`, `SAFETYNET_LOCKOUT_THRESHOLD`, `SAFETYNET_ACCOUNT_THRESHOLD`,
    /// `SAFETYNET_LOCKOUT_MINUTES`, `SAFETYNET_LOGIN_CHECKS`, `SAFETYNET_TRUST_FORWARDED_FOR`.
    pub fn apply_env(&mut self) -> Result<(), String> {
        self.apply(|k| std::env::var(k).ok())
    }

    fn apply(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), String> {
        fn num<T: std::str::FromStr>(k: &str, v: &str) -> Result<T, String> {
            v.trim().parse().map_err(|_| format!("{k}={v:?} is not a whole number"))
        }
        if let Some(v) = get("SAFETYNET_ADDR") {
            self.addr = v;
        }
        if let Some(v) = get("SAFETYNET_DB") {
            self.db = v;
        }
        if let Some(v) = get("SAFETYNET_SESSION_MINUTES") {
            self.session_minutes = num("SAFETYNET_SESSION_MINUTES", &v)?;
        }
        if let Some(v) = get("SAFETYNET_COOKIE_SECURE") {
            self.cookie_secure = Some(domain::parse_bool(&v).map_err(|e| format!("SAFETYNET_COOKIE_SECURE: {e}"))?);
        }
        if let Some(v) = get("SAFETYNET_LOCKOUT_THRESHOLD") {
            self.lockout_threshold = num("SAFETYNET_LOCKOUT_THRESHOLD", &v)?;
        }
        if let Some(v) = get("SAFETYNET_ACCOUNT_THRESHOLD") {
            self.account_threshold = num("SAFETYNET_ACCOUNT_THRESHOLD", &v)?;
        }
        if let Some(v) = get("SAFETYNET_LOCKOUT_MINUTES") {
            self.lockout_minutes = num("SAFETYNET_LOCKOUT_MINUTES", &v)?;
        }
        if let Some(v) = get("SAFETYNET_LOGIN_CHECKS") {
            self.login_checks = num("SAFETYNET_LOGIN_CHECKS", &v)?;
        }
        if let Some(v) = get("SAFETYNET_TRUST_FORWARDED_FOR") {
            self.trust_forwarded_for =
                domain::parse_bool(&v).map_err(|e| format!("SAFETYNET_TRUST_FORWARDED_FOR: {e}"))?;
        }
        self.check()
    }

    /// Whether the session cookie is marked `Secure`: as configured, else
    /// whenever the server is reachable from other machines (a browser there
    /// must reach it through TLS).
    pub fn secure_cookies(&self) -> bool {
        self.cookie_secure.unwrap_or_else(|| !on_loopback(&self.addr))
    }

    /// Refuses settings that cannot work.
    pub fn check(&self) -> Result<(), String> {
        if self.session_minutes <= 0 {
            return Err("session_minutes must be more than 0".into());
        }
        if self.lockout_threshold == 0 {
            return Err("lockout_threshold must be at least 1".into());
        }
        if self.account_threshold == 0 {
            return Err("account_threshold must be at least 1".into());
        }
        if self.lockout_minutes <= 0 {
            return Err("lockout_minutes must be more than 0".into());
        }
        if self.login_checks == 0 {
            return Err("login_checks must be at least 1".into());
        }
        Ok(())
    }
}

/// Whether `addr` (host:port) names the loopback interface only.
fn on_loopback(addr: &str) -> bool {
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h).trim_start_matches('[').trim_end_matches(']');
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_secure_off_loopback_unless_configured() {
        let at = |addr: &str, set: Option<bool>| {
            Config { addr: addr.into(), cookie_secure: set, ..Config::default() }.secure_cookies()
        };
        assert!(!at("127.0.0.1:8080", None));
        assert!(!at("localhost:8080", None));
        assert!(!at("[::1]:8080", None));
        assert!(at("0.0.0.0:8080", None));
        assert!(at("10.1.2.3:443", None));
        assert!(!at("0.0.0.0:8080", Some(false)), "configured off, behind a proxy that sets it");
        assert!(at("127.0.0.1:8080", Some(true)));
    }

    #[test]
    fn file_then_env() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("serve.toml");
        std::fs::write(&p, "addr = \"127.0.0.1:9000\"\nlockout_threshold = 3\n").unwrap();
        let mut c = Config::from_file(&p).unwrap();
        assert_eq!(c.addr, "127.0.0.1:9000");
        assert_eq!(c.lockout_threshold, 3);
        assert_eq!(c.lockout_minutes, 15);
        c.apply(|k| (k == "SAFETYNET_LOCKOUT_MINUTES").then(|| "30".to_string())).unwrap();
        assert_eq!(c.lockout_minutes, 30);
        let e = c.apply(|k| (k == "SAFETYNET_LOCKOUT_THRESHOLD").then(|| "x".to_string())).unwrap_err();
        assert!(e.contains("SAFETYNET_LOCKOUT_THRESHOLD"), "{e}");
        c.apply(|k| match k {
            "SAFETYNET_ACCOUNT_THRESHOLD" => Some("7".into()),
            "SAFETYNET_LOGIN_CHECKS" => Some("3".into()),
            "SAFETYNET_TRUST_FORWARDED_FOR" => Some("true".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!((c.account_threshold, c.login_checks, c.trust_forwarded_for), (7, 3, true));
        let e = c.apply(|k| (k == "SAFETYNET_LOGIN_CHECKS").then(|| "0".to_string())).unwrap_err();
        assert!(e.contains("login_checks"), "{e}");
        assert!(Config::default().login_checks >= 1 && !Config::default().trust_forwarded_for);
        std::fs::write(&p, "adress = \"x\"\n").unwrap();
        let e = Config::from_file(&p).unwrap_err();
        assert!(e.contains("unknown field"), "{e}");
    }
}
