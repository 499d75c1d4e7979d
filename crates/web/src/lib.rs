//! The web application and the HTTP API of SafetyNet, served by the one binary.
//!
//! - [`app`] builds the router: server-rendered pages (`pages`), the JSON API
//!   under `/api/v1` (`api`, described by `/api/v1/openapi.json`), and the static
//!   assets compiled into the binary (nothing is fetched from outside).
//! - [`serve`] binds an address and serves until Ctrl-C.
//! - Every use case is the application layer's ([`app::App`]); this crate only
//!   translates between HTTP, HTML and JSON and the application, and never speaks SQL.
//!
//! Cross-cutting rules live in one place each: status codes in [`error`], roles,
//! scope and masking in [`access`], sessions, CSRF and the login back-off in [`auth`] and the
//! [`guard`] middleware, one tracing span per request in [`trace`].

#![recursion_limit = "512"]

pub mod accounts;
pub mod api;
pub mod auth;
pub mod catalogue;
pub mod charts;
pub mod config;
pub mod coverage_pages;
pub mod desk;
pub mod desk_pages;
pub mod enrolment;
pub mod error;
pub mod history;
pub mod html;
pub mod i18n;
pub mod ledger;
pub mod limits;
pub mod network_cases;
pub mod openapi;
pub mod pages;
pub mod pairing;
pub mod plans;
pub mod registry;
pub mod reports;
pub mod settlement;
pub mod targets;
pub mod whatif;
pub mod work;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tracing::Instrument;

pub use app::{access, analysis, App};
pub use config::Config;
pub use error::WebError;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub app: Arc<App>,
    pub config: Arc<Config>,
    /// The login guard: back-off by address and name, password checks at once.
    pub logins: Arc<auth::Logins>,
}

impl AppState {
    pub fn new(config: Config, app: Arc<App>) -> AppState {
        let logins = Arc::new(auth::Logins::new(&config));
        AppState { app, config: Arc::new(config), logins }
    }
}

/// The largest request body taken, in bytes: by the CSRF check, which reads the
/// body of a request riding on a session, and by every extractor of a body (JSON,
/// forms). A larger one answers 413.
pub const BODY_LIMIT: usize = 2 << 20;

/// The whole application as a router, ready to be served.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(pages::routes())
        .merge(accounts::page_routes())
        .merge(settlement::page_routes())
        .merge(coverage_pages::routes())
        .merge(reports::page_routes())
        .merge(whatif::page_routes())
        .merge(work::page_routes())
        .merge(desk_pages::page_routes())
        .merge(registry::page_routes())
        .merge(enrolment::page_routes())
        .merge(history::page_routes())
        .merge(plans::page_routes())
        .merge(pairing::page_routes())
        .merge(network_cases::page_routes())
        .merge(ledger::page_routes())
        .merge(limits::page_routes())
        .merge(targets::page_routes())
        .nest(
            "/api/v1",
            api::routes()
                .merge(accounts::api_routes())
                .merge(settlement::api_routes())
                .merge(reports::api_routes())
                .merge(whatif::api_routes())
                .merge(work::api_routes())
                .merge(registry::api_routes())
                .merge(enrolment::api_routes())
                .merge(history::api_routes())
                .merge(plans::api_routes())
                .merge(pairing::api_routes())
                .merge(network_cases::api_routes())
                .merge(ledger::api_routes())
                .merge(desk::api_routes())
                .merge(catalogue::api_routes())
                .merge(limits::api_routes())
                .merge(targets::api_routes()),
        )
        .route("/static/app.css", axum::routing::get(css))
        .route("/static/app.js", axum::routing::get(js))
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .fallback(fallback)
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .layer(middleware::from_fn(api_errors))
        .layer(middleware::from_fn(trace))
        .with_state(state)
}

/// Binds `config.addr` and serves `app` until Ctrl-C.
pub async fn serve(config: Config, app: Arc<App>) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(&config.addr).await?;
    serve_on(listener, AppState::new(config, app)).await
}

/// How often the server brings the store's precomputed figures up to date, so
/// that a page after a bulk change (an import by the command line) rarely waits
/// for the refresh itself.
const REFRESH_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Serves `app` on a bound listener until Ctrl-C.
pub async fn serve_on(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    tracing::info!(addr = %listener.local_addr()?, "serving");
    let shared = state.app.clone();
    let refresher = tokio::spawn(async move {
        let mut tick = tokio::time::interval(REFRESH_EVERY);
        loop {
            tick.tick().await;
            if let Err(e) = shared.refresh_precomputed().await {
                tracing::warn!(error = %e, "refreshing the precomputed figures");
            }
        }
    });
    let _stop = AbortOnDrop(refresher);
    // The peer's address goes with each request: logins are counted by it.
    axum::serve(listener, app(state).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}

/// Stops a background task when dropped (when the server stops).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Opens the application over the store a `--db` value names: a file path, a
/// `sqlite:` or a `postgres://` URL, or `:memory:` (an empty SQLite database in
/// memory, for trials: nothing is kept), migrated to this program's schema.
pub async fn open_app(db: &str) -> Result<Arc<App>, String> {
    App::open(db).await.map(Arc::new).map_err(|e| e.to_string())
}

/// Creates the administrator `USER:PASSWORD` (whole country in scope) unless a
/// user of that name exists; says which happened.
pub async fn ensure_admin(state: &AppState, spec: &str) -> Result<String, WebError> {
    let (user, pass) =
        spec.split_once(':').ok_or_else(|| WebError::BadRequest("--create-admin takes USER:PASSWORD".into()))?;
    if state.app.user_by_name(user.trim()).await?.is_some() {
        return Ok(format!("user {} exists already; left unchanged", user.trim()));
    }
    let u = auth::create_user(state, user, pass, access::Role::Administrator, access::Scope::all()).await?;
    auth::audit(state, "system", "create_user", &u.username, "administrator, created by serve --create-admin").await?;
    Ok(format!("created administrator {}", u.username))
}

const CSS: &str = include_str!("static/app.css");
const JS: &str = include_str!("static/app.js");

async fn css() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")], CSS)
}

async fn js() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")], JS)
}

async fn fallback(req: Request) -> Response {
    if req.uri().path().starts_with("/api/") {
        WebError::NotFound(format!("no endpoint {} {}", req.method(), req.uri().path())).into_response()
    } else {
        error::PageError(WebError::NotFound("no such page".into())).into_response()
    }
}

/// Every error answer under `/api/` in the API's JSON shape (`{"error", "message"}`):
/// the router's own answers are plain text (a path parameter that does not
/// decode) or empty (a method the route lacks), and are rewritten here, keeping
/// their status and their `Allow` header. Handlers' errors are JSON already and
/// pass untouched.
async fn api_errors(req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/api/") {
        return next.run(req).await;
    }
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let res = next.run(req).await;
    let status = res.status();
    let json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json || !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let (parts, body) = res.into_parts();
    let text = axum::body::to_bytes(body, 16 * 1024)
        .await
        .ok()
        .and_then(|b| String::from_utf8(b.to_vec()).ok())
        .map(|t| t.trim().to_string())
        .unwrap_or_default();
    let allow = parts.headers.get(header::ALLOW).cloned();
    let message = match (status, &allow) {
        (StatusCode::METHOD_NOT_ALLOWED, Some(a)) => {
            format!("the method {method} is not allowed on {path}; allowed: {}", a.to_str().unwrap_or(""))
        }
        (StatusCode::METHOD_NOT_ALLOWED, None) => format!("the method {method} is not allowed on {path}"),
        _ if text.is_empty() => status.canonical_reason().unwrap_or("error").to_string(),
        _ => text,
    };
    let mut out = error::json_error(status, message);
    if let Some(a) = allow {
        out.headers_mut().insert(header::ALLOW, a);
    }
    out
}

static REQUEST_ID: AtomicU64 = AtomicU64::new(1);

/// One tracing span per request, with its method, path, status and duration.
async fn trace(req: Request, next: Next) -> Response {
    let id = REQUEST_ID.fetch_add(1, Ordering::Relaxed);
    let span = tracing::info_span!("request", id, method = %req.method(), path = %req.uri().path());
    async move {
        let t = std::time::Instant::now();
        let mut res = next.run(req).await;
        tracing::debug!(status = res.status().as_u16(), ms = t.elapsed().as_secs_f64() * 1e3, "done");
        protect(&mut res);
        res
    }
    .instrument(span)
    .await
}

/// The headers every answer carries: no framing by other sites (clickjacking),
/// no content-type sniffing, no referrer leaving the site, and no caching of
/// anything but the static files, since pages and API answers hold personal
/// data.
fn protect(res: &mut Response) {
    let h = res.headers_mut();
    h.insert(header::X_FRAME_OPTIONS, header::HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, header::HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, header::HeaderValue::from_static("same-origin"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    }
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, header::HeaderValue::from_static("frame-ancestors 'none'"));
    }
}

/// The CSRF check of every state-changing request, in one place.
///
/// A request carrying a Bearer token passes (it has no ambient credential a
/// foreign page could borrow). A request riding on the session cookie must carry
/// the session's CSRF token, as the form field `csrf` or the `X-CSRF-Token`
/// header. The login form checks its own pre-session token.
async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() == Method::GET || req.method() == Method::HEAD || req.method() == Method::OPTIONS {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    if parts.headers.contains_key(header::AUTHORIZATION) || parts.uri.path() == "/login" {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let api = parts.uri.path().starts_with("/api/");
    let deny = |e: WebError| if api { e.into_response() } else { error::PageError(e).into_response() };
    let ctx = match auth::authenticate(&state, &parts).await {
        Ok(Some(c)) => c,
        Ok(None) => return deny(WebError::Unauthorized),
        Err(e) => return deny(e),
    };
    let Some(session) = ctx.session.clone() else { return deny(WebError::Unauthorized) };
    let header_token = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).map(str::to_string);
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
        return deny(WebError::too_large());
    }
    let bytes = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(b) => b,
        // A body without a length that runs past the limit, or one that breaks off.
        Err(e) if e.to_string().contains("length limit") => return deny(WebError::too_large()),
        Err(_) => return deny(WebError::BadRequest("the request body could not be read".into())),
    };
    let form_token = std::str::from_utf8(&bytes)
        .ok()
        .filter(|_| {
            parts
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
        })
        .and_then(|s| {
            s.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == "csrf").map(|(_, v)| v.to_string())
        });
    let given = header_token.or(form_token).unwrap_or_default();
    if !auth::same(&given, &session.csrf) {
        tracing::warn!(user = %ctx.user.username, path = %parts.uri.path(), "CSRF token missing or wrong");
        let e = WebError::Forbidden(
            "the form's security token is missing or out of date; reload the page and try again".into(),
        );
        return if api { e.into_response() } else { (StatusCode::FORBIDDEN, error::PageError(e)).into_response() };
    }
    parts.extensions.insert(ctx);
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}
