//! `safetynet serve`: the web application and the HTTP API on one address.
//!
//! Settings come from defaults, then `--config FILE` (TOML), then `SAFETYNET_*`
//! environment variables, then the flags here. The first administrator is made
//! with `--create-admin USER:PASSWORD` (or `SAFETYNET_ADMIN=USER:PASSWORD`); an
//! existing user of that name is left as it is.

use crate::Global;
use anyhow::Context;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Address to listen on, like 127.0.0.1:8080.
    #[arg(long)]
    pub addr: Option<String>,
    /// A TOML file with addr, db, session_minutes, cookie_secure, lockout_threshold, account_threshold,
    /// lockout_minutes, login_checks, trust_forwarded_for.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Create this administrator first, as USER:PASSWORD (at least 10 characters, not a common
    /// password, not the user name).
    #[arg(long, env = "SAFETYNET_ADMIN", hide_env_values = true)]
    pub create_admin: Option<String>,
    /// Mark the session cookie Secure (serve behind HTTPS); it is marked anyway
    /// when --addr is not a loopback address.
    #[arg(long)]
    pub cookie_secure: bool,
    /// Failed logins from one client address before each further one doubles its wait
    /// (no account is ever locked).
    #[arg(long)]
    pub lockout_threshold: Option<u32>,
    /// How long a login lasts, in minutes.
    #[arg(long)]
    pub session_minutes: Option<i64>,
}

/// The configuration these arguments describe.
pub fn config(args: &Args, global: &Global) -> anyhow::Result<web::Config> {
    let mut c = match &args.config {
        Some(p) => web::Config::from_file(p).map_err(anyhow::Error::msg)?,
        None => web::Config::default(),
    };
    // `--db` has a default; the file's db wins over that default only.
    if args.config.is_none() || global.db != "./safetynet.db" {
        c.db = global.db.clone();
    }
    c.apply_env().map_err(anyhow::Error::msg)?;
    if let Some(a) = &args.addr {
        c.addr = a.clone();
    }
    if args.cookie_secure {
        c.cookie_secure = Some(true);
    }
    if let Some(n) = args.lockout_threshold {
        c.lockout_threshold = n;
    }
    if let Some(n) = args.session_minutes {
        c.session_minutes = n;
    }
    c.check().map_err(anyhow::Error::msg)?;
    Ok(c)
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let cfg = config(&args, global)?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let repo = web::open_app(&cfg.db).await.map_err(anyhow::Error::msg)?;
        let listener =
            tokio::net::TcpListener::bind(&cfg.addr).await.with_context(|| format!("binding {}", cfg.addr))?;
        let addr = listener.local_addr()?;
        let state = web::AppState::new(cfg, repo);
        if let Some(spec) = &args.create_admin {
            let msg = web::ensure_admin(&state, spec).await.map_err(|e| anyhow::anyhow!("--create-admin: {e}"))?;
            eprintln!("{msg}");
        }
        println!("SafetyNet serving on http://{addr}/ (Ctrl-C to stop)");
        web::serve_on(listener, state).await.context("serving")
    })
}
