//! The server-rendered pages. Handlers are thin: check the permission, ask the
//! repository (always with the user's scope), draw HTML, write the audit row.

use crate::access::Permission;
use crate::auth::{self, audit, Ctx, LoginOutcome, PageUser, LANG_COOKIE, LOGIN_CSRF_COOKIE};
use crate::error::{PageError, WebError};
use crate::html::{csrf_field, esc, page, table, url};
use crate::i18n::{t, Lang};
use crate::AppState;
use app::{AlertFilter, AlertRow, Measure, PersonRow, RegionStat};
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE, SET_COOKIE};
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::Utc;
use domain::{Fen, ResidentId};
use serde::Deserialize;
use std::fmt::Write;

type PageResult = Result<Response, PageError>;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login_submit))
        .route("/logout", post(logout))
        .route("/lang/{code}", get(set_lang))
        .route("/", get(overview))
        .route("/persons", get(persons))
        .route("/persons/{id}", get(person))
        .route("/households", get(households))
        .route("/households/{id}", get(household))
        .route("/alerts", get(alerts))
        .route("/alerts/{id}", get(alert))
        .route("/alerts/{id}/transition", post(alert_transition))
        .route("/alerts/{id}/measure", post(alert_measure))
        .route("/audit", get(audit_page))
        .route("/export/persons.csv", get(export_persons))
}

fn html(s: String) -> PageResult {
    Ok(Html(s).into_response())
}

// ---------------------------------------------------------------- login

fn login_page(lang: Lang, token: &str, message: Option<&str>) -> String {
    let msg = message.map(|m| format!("<p class=\"flash error\" role=\"alert\">{}</p>", esc(m))).unwrap_or_default();
    format!(
        "<!doctype html><html lang=\"{lc}\"><head><meta charset=\"utf-8\"><title>{app}</title><link rel=\"stylesheet\" href=\"/static/app.css\"></head>\
<body class=\"login\"><main><h1>{app}</h1>{msg}<form method=\"post\" action=\"/login\">\
<input type=\"hidden\" name=\"csrf\" value=\"{token}\">\
<label>{u}<input name=\"username\" autocomplete=\"username\" required autofocus></label>\
<label>{p}<input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
<button type=\"submit\">{login}</button></form>\
<p><a href=\"/lang/zh\">中文</a> · <a href=\"/lang/en\">English</a></p></main></body></html>",
        lc = lang.code(),
        app = t(lang, "app"),
        u = t(lang, "username"),
        p = t(lang, "password"),
        login = t(lang, "login"),
    )
}

fn lang_of(parts: &Parts) -> Lang {
    Lang::from_cookie(auth::cookie(parts, LANG_COOKIE))
}

/// The login form sets a pre-session token in a cookie and in the form: a
/// foreign page cannot read the cookie, so it cannot post a matching form.
async fn login_form(parts: Parts) -> Response {
    let token = auth::new_secret();
    let cookie = format!("{LOGIN_CSRF_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict");
    ([(SET_COOKIE, cookie)], Html(login_page(lang_of(&parts), &token, None))).into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    csrf: String,
}

async fn login_submit(
    State(state): State<AppState>,
    parts: Parts,
    form: Result<Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> PageResult {
    let lang = lang_of(&parts);
    let Form(f) = form?;
    let expected = auth::cookie(&parts, LOGIN_CSRF_COOKIE).unwrap_or("");
    if expected.is_empty() || !auth::same(expected, &f.csrf) {
        return Err(WebError::Forbidden(
            "the login form's security token is missing or out of date; reload the page".into(),
        )
        .into());
    }
    let addr = auth::client_addr(&state, &parts);
    match auth::login(&state, addr, &f.username, &f.password).await? {
        LoginOutcome::Ok { token, .. } => {
            let cookies = [(SET_COOKIE, auth::session_cookie(&state, &token))];
            Ok((cookies, Redirect::to("/")).into_response())
        }
        refused => {
            // The same words and status for an unknown name, a wrong password
            // and an account turned off; 429 with Retry-After during a back-off.
            let token = auth::new_secret();
            let cookie = format!("{LOGIN_CSRF_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict");
            let page = Html(login_page(lang, &token, Some(&refused.message())));
            let mut res = match refused.retry_after() {
                Some(secs) => (
                    axum::http::StatusCode::TOO_MANY_REQUESTS,
                    [(axum::http::header::RETRY_AFTER, secs.to_string())],
                    page,
                )
                    .into_response(),
                None => (axum::http::StatusCode::UNAUTHORIZED, page).into_response(),
            };
            if let Ok(v) = cookie.parse() {
                res.headers_mut().append(SET_COOKIE, v);
            }
            Ok(res)
        }
    }
}

async fn logout(State(state): State<AppState>, parts: Parts) -> PageResult {
    if let Some(tok) = auth::cookie(&parts, auth::SESSION_COOKIE) {
        state.app.delete_session(&auth::secret_hash(tok)).await?;
    }
    Ok(([(SET_COOKIE, auth::clear_session_cookie())], Redirect::to("/login")).into_response())
}

async fn set_lang(Path(code): Path<String>, parts: Parts) -> Response {
    let v = if code == "en" { "en" } else { "zh" };
    let back = parts
        .headers
        .get(axum::http::header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.find("://").and_then(|i| r[i + 3..].find('/').map(|j| r[i + 3 + j..].to_string())))
        .filter(|p| p.starts_with('/') && !p.starts_with("//"))
        .unwrap_or_else(|| "/".into());
    ([(SET_COOKIE, format!("{LANG_COOKIE}={v}; Path=/; SameSite=Strict; Max-Age=31536000"))], Redirect::to(&back))
        .into_response()
}

// ---------------------------------------------------------------- overview

#[derive(Deserialize)]
struct OverviewQuery {
    indicator: Option<String>,
}

const INDICATORS: &[(&str, &str)] = &[
    ("open_alerts", "open_alerts"),
    ("poor_persons", "poor_persons"),
    ("oop_share", "oop_share"),
    ("persons", "persons_count"),
];

fn indicator_value(ind: &str, r: &RegionStat) -> f64 {
    match ind {
        "poor_persons" => r.poor_persons as f64,
        "persons" => r.persons as f64,
        "oop_share" => {
            if r.settled_total.0 > 0 {
                100.0 * r.out_of_pocket.0 as f64 / r.settled_total.0 as f64
            } else {
                0.0
            }
        }
        _ => r.open_alerts as f64,
    }
}

/// Out-of-pocket share of settled costs, in percent with one decimal.
pub fn share(part: Fen, whole: Fen) -> String {
    if whole.0 <= 0 {
        "—".into()
    } else {
        format!("{:.1}%", 100.0 * part.0 as f64 / whole.0 as f64)
    }
}

async fn overview(
    State(state): State<AppState>,
    PageUser(ctx): PageUser,
    Query(q): Query<OverviewQuery>,
) -> PageResult {
    let l = ctx.lang;
    let scope = ctx.scope();
    let s = state.app.summary(scope).await?;
    let regions = state.app.region_stats(scope).await?;
    let months = state.app.trend(scope).await?;
    let ind = q.indicator.as_deref().filter(|i| INDICATORS.iter().any(|(k, _)| k == i)).unwrap_or("open_alerts");
    let ind_label = t(l, INDICATORS.iter().find(|(k, _)| *k == ind).map(|(_, m)| *m).unwrap_or("open_alerts"));
    let mut b = String::from("<section class=\"cards\">");
    for (k, v) in [
        ("households", s.households.to_string()),
        ("persons_count", s.persons.to_string()),
        ("poor_persons", s.poor_persons.to_string()),
        ("claims", s.claims.to_string()),
        ("settled_total", s.settled_total.to_string()),
        ("oop_share", share(s.out_of_pocket, s.settled_total)),
        ("open_alerts", s.open_alerts.to_string()),
        (
            "blank_villages",
            // Counted in the background on a large scope: "…" until the first count.
            format!("{} / {}", s.blank_villages.map_or("…".to_string(), |n| n.to_string()), s.villages),
        ),
    ] {
        let _ =
            write!(b, "<div class=\"card\" data-k=\"{k}\"><span>{}</span><strong>{}</strong></div>", t(l, k), esc(&v));
    }
    b.push_str("</section>");
    b.push_str(&target_cards(&state, &ctx).await);
    b.push_str("<section><h2>");
    b.push_str(t(l, "map"));
    b.push_str("</h2><form method=\"get\" class=\"inline\"><label>");
    b.push_str(t(l, "indicator"));
    b.push_str(" <select name=\"indicator\" onchange=\"this.form.submit()\">");
    for (k, m) in INDICATORS {
        let _ = write!(b, "<option value=\"{k}\"{}>{}</option>", if *k == ind { " selected" } else { "" }, t(l, m));
    }
    b.push_str("</select></label><noscript><button>OK</button></noscript></form>");
    b.push_str(&crate::html::region_map(
        scope.prefix(),
        &regions,
        |r| indicator_value(ind, r),
        crate::html::Shade::Sum,
        ind_label,
    ));
    let _ = write!(b, "<p class=\"note\">{}</p></section><section><h2>{}</h2>", t(l, "map_note"), t(l, "trend"));
    b.push_str(&crate::html::trend_chart(&months, l));
    b.push_str("</section>");
    html(page(&ctx, t(l, "overview"), &b))
}

/// The scope's indicators that have a target, for the latest kept year, each
/// with its status (nothing before a year's indicators are kept; the overview
/// stays up if they cannot be read).
async fn target_cards(state: &AppState, ctx: &Ctx) -> String {
    let l = ctx.lang;
    let h = match state.app.target_headline(ctx.scope()).await {
        Ok(Some(h)) => h,
        Ok(None) => return String::new(),
        Err(e) => {
            tracing::warn!(error = %e, "the overview's targets could not be drawn");
            return String::new();
        }
    };
    let mut b = format!(
        "<section><h2><a href=\"/targets\">{}</a> {}</h2><div class=\"cards\" id=\"target-cards\">",
        t(l, "targets_of_year"),
        h.year
    );
    for i in &h.items {
        let status = i.status.map(|s| s.as_str()).unwrap_or("");
        let _ = write!(
            b,
            "<div class=\"card {status}\" data-k=\"{id}\" data-status=\"{status}\"><span>{name}</span><strong>{value}</strong><small>{target}{badge}</small></div>",
            id = esc(&i.def.id),
            name = esc(if l == Lang::En { &i.def.name_en } else { &i.def.name_zh }),
            value = crate::reports::shown(i.def.unit, i.value),
            target = esc(&i.target.describe()),
            badge = i
                .status
                .map(|s| format!(" · <span class=\"target-status {status}\">{}</span>", crate::reports::t_status(l, s)))
                .unwrap_or_default(),
        );
    }
    b.push_str("</div></section>");
    b
}

// ---------------------------------------------------------------- persons and households

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

fn search_form(l: Lang, action: &str, q: &str) -> String {
    format!(
        "<form method=\"get\" action=\"{action}\" class=\"search\"><input name=\"q\" value=\"{}\" placeholder=\"{}\"><button>{}</button></form>",
        esc(q),
        t(l, "search_hint"),
        t(l, "search")
    )
}

fn person_cells(ctx: &Ctx, refs: &app::PersonRefs, p: &PersonRow) -> Vec<String> {
    let m = ctx.masking();
    vec![
        format!("<a href=\"{}\">{}</a>", crate::api::person_path(refs, p.person_id), esc(&m.id(p.person_id))),
        esc(&m.name(&p.name)),
        format!("<span title=\"{}\">{}</span>", p.status, status_label(ctx.lang, p.status)),
        p.status_since.to_string(),
        format!("<a href=\"/households/{}\">{}</a>", url(&p.household_id), esc(&p.household_id)),
        p.village_code.to_string(),
    ]
}

fn status_label(l: Lang, s: domain::PovertyStatus) -> &'static str {
    match l {
        Lang::Zh => s.zh(),
        Lang::En => s.as_str(),
    }
}

async fn persons(State(state): State<AppState>, PageUser(ctx): PageUser, Query(q): Query<SearchQuery>) -> PageResult {
    let l = ctx.lang;
    let rows = state.app.search_persons(ctx.scope(), ctx.masking(), &q.q, 200).await?;
    crate::api::audit_list(&state, &ctx, "persons", &format!("q={}", q.q), rows.len()).await?;
    let refs = state.app.person_refs().await?;
    let cells: Vec<Vec<String>> = rows.iter().map(|p| person_cells(&ctx, refs, p)).collect();
    let mut b = search_form(l, "/persons", &q.q);
    if ctx.may(Permission::Export) {
        let _ = write!(b, "<p><a href=\"/export/persons.csv?q={}\">{}</a></p>", url(&q.q), t(l, "export_csv"));
    }
    b.push_str(&table(l, &["person_id", "name", "status", "status_since", "household", "village"], &cells));
    html(page(&ctx, t(l, "persons"), &b))
}

async fn person(State(state): State<AppState>, PageUser(ctx): PageUser, Path(id): Path<String>) -> PageResult {
    let pid = crate::api::person_param(&state, &ctx, &id).await?;
    person_view(&state, &ctx, pid, None).await
}

/// The person page; `error` is a refused form of the page, shown above it (with
/// its status).
pub(crate) async fn person_view(state: &AppState, ctx: &Ctx, pid: ResidentId, error: Option<WebError>) -> PageResult {
    person_page(state, ctx, pid, error, None).await
}

/// The person page with a refused form of the registry drawn as it was sent.
pub(crate) async fn person_page(
    state: &AppState,
    ctx: &Ctx,
    pid: ResidentId,
    error: Option<WebError>,
    draft: Option<&crate::registry::Draft>,
) -> PageResult {
    let l = ctx.lang;
    let Some(rec) = state.app.person(ctx.scope(), pid).await? else {
        let elsewhere = state.app.person(&crate::access::Scope::all(), pid).await?.is_some();
        return Err(crate::api::not_in_scope(state, ctx, "person", &pid.to_string(), elsewhere).await?.into());
    };
    // Audited with the person in clear, whatever the role saw.
    audit(state, &ctx.user.username, "view_person", &pid.to_string(), "page").await?;
    let m = ctx.masking();
    let p = &rec.person;
    let mut b = error.as_ref().map(form_error).unwrap_or_default();
    let _ = write!(
        b,
        "<dl class=\"facts\"><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd><a href=\"/households/{}\">{}</a></dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd></dl>",
        t(l, "person_id"), esc(&m.id(p.person_id)),
        t(l, "name"), esc(&m.name(&p.name)),
        t(l, "status"), status_label(l, p.status),
        t(l, "household"), url(&p.household_id), esc(&p.household_id),
        t(l, "village"), p.village_code,
        t(l, "diagnoses"), esc(&p.diagnoses.join(", ")),
        t(l, "batches"), esc(&rec.batches.join(", ")),
    );
    let _ = write!(b, "<h2>{}</h2>", t(l, "claims"));
    let claims: Vec<Vec<String>> = rec
        .claims
        .iter()
        .map(|c| {
            let pays = c.payments.iter().map(|(n, f)| format!("{}: {f}", esc(n))).collect::<Vec<_>>().join("<br>");
            // A settled claim links to its slip, by its key (the facility and the ID).
            let id = if c.out_of_pocket.is_some() {
                format!(
                    "<a href=\"{}\">{}</a>",
                    crate::settlement::slip_path(&c.claim_id, &c.facility_id),
                    esc(&c.claim_id)
                )
            } else {
                esc(&c.claim_id)
            };
            let id =
                if c.facility_id.is_empty() { id } else { format!("{id}<br><small>{}</small>", esc(&c.facility_id)) };
            vec![
                id,
                c.discharged.to_string(),
                esc(&format!("{} / {}", c.kind, c.facility_level)),
                esc(&c.diagnosis),
                c.total_cost.to_string(),
                pays,
                c.out_of_pocket.map(|f| f.to_string()).unwrap_or_default(),
            ]
        })
        .collect();
    b.push_str(&table(l, &["claim", "discharged", "kind", "diagnoses", "total_cost", "settle", "oop"], &claims));
    let _ = write!(b, "<h2>{}</h2>", t(l, "status_history"));
    let hist: Vec<Vec<String>> =
        rec.status_history.iter().map(|h| vec![status_label(l, h.status).to_string(), h.since.to_string()]).collect();
    b.push_str(&table(l, &["status", "status_since"], &hist));
    let _ = write!(b, "<h2>{}</h2>", t(l, "alerts"));
    b.push_str(&alerts_table(l, &rec.alerts));
    b.push_str(&crate::work::person_section(state, ctx, &rec).await?);
    b.push_str(&crate::enrolment::person_section(state, ctx, pid).await?);
    b.push_str(&crate::registry::person_form(state, ctx, pid, draft).await?);
    Ok(with_status(page(ctx, &m.name(&p.name), &b), error.as_ref()))
}

async fn households(
    State(state): State<AppState>,
    PageUser(ctx): PageUser,
    Query(q): Query<SearchQuery>,
) -> PageResult {
    households_view(&state, &ctx, &q.q, None, None).await
}

/// The households page: the search, and for users who do the work the form to
/// create one (drawn again as it was sent when refused, with the refusal).
pub(crate) async fn households_view(
    state: &AppState,
    ctx: &Ctx,
    q: &str,
    error: Option<WebError>,
    draft: Option<&crate::registry::Draft>,
) -> PageResult {
    let l = ctx.lang;
    let rows = state.app.search_households(ctx.scope(), q, 200).await?;
    crate::api::audit_list(state, ctx, "households", &format!("q={q}"), rows.len()).await?;
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|h| {
            vec![
                format!("<a href=\"/households/{}\">{}</a>", url(&h.household_id), esc(&h.household_id)),
                h.village_code.to_string(),
                h.size.to_string(),
                h.income.to_string(),
            ]
        })
        .collect();
    let mut b = error.as_ref().map(form_error).unwrap_or_default();
    b.push_str(&search_form(l, "/households", q));
    b.push_str(&table(l, &["household", "village", "size", "income"], &cells));
    b.push_str(&crate::registry::new_household_form(ctx, draft));
    Ok(with_status(page(ctx, t(l, "households"), &b), error.as_ref()))
}

async fn household(State(state): State<AppState>, PageUser(ctx): PageUser, Path(id): Path<String>) -> PageResult {
    household_view(&state, &ctx, &id, None).await
}

/// The household page; `error` is a refused form of the page, shown above it
/// (with its status).
pub(crate) async fn household_view(state: &AppState, ctx: &Ctx, id: &str, error: Option<WebError>) -> PageResult {
    household_page(state, ctx, id, error, None).await
}

/// The household page with a refused form of the registry drawn as it was sent.
pub(crate) async fn household_page(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    error: Option<WebError>,
    draft: Option<&crate::registry::Draft>,
) -> PageResult {
    let l = ctx.lang;
    let Some(rec) = state.app.household(ctx.scope(), id).await? else {
        let elsewhere = state.app.household(&crate::access::Scope::all(), id).await?.is_some();
        return Err(crate::api::not_in_scope(state, ctx, "household", id, elsewhere).await?.into());
    };
    audit(state, &ctx.user.username, "view_household", id, "page").await?;
    let h = &rec.household;
    let mut b = error.as_ref().map(form_error).unwrap_or_default();
    let _ = write!(
        b,
        "<dl class=\"facts\"><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd></dl><h2>{}</h2>",
        t(l, "household"), esc(&h.household_id),
        t(l, "village"), h.village_code,
        t(l, "size"), h.size,
        t(l, "income"), h.income,
        t(l, "members")
    );
    let refs = state.app.person_refs().await?;
    let cells: Vec<Vec<String>> = rec.members.iter().map(|p| person_cells(ctx, refs, p)).collect();
    b.push_str(&table(l, &["person_id", "name", "status", "status_since", "household", "village"], &cells));
    let _ = write!(b, "<h2>{}</h2>", t(l, "alerts"));
    b.push_str(&alerts_table(l, &rec.alerts));
    b.push_str(&crate::work::household_section(state, ctx, &rec).await?);
    b.push_str(&crate::registry::household_forms(ctx, h, draft));
    Ok(with_status(page(ctx, &h.household_id, &b), error.as_ref()))
}

/// A refused form, shown above the page it was sent from.
pub(crate) fn form_error(e: &WebError) -> String {
    format!("<p class=\"flash error\" role=\"alert\" id=\"form-error\">{}</p>", esc(&e.to_string()))
}

/// A page answered with the status of the refusal it shows, if any.
pub(crate) fn with_status(body: String, error: Option<&WebError>) -> Response {
    match error {
        Some(e) => (e.status(), Html(body)).into_response(),
        None => Html(body).into_response(),
    }
}

// ---------------------------------------------------------------- alerts

fn state_label(l: Lang, s: &str) -> String {
    let key: &'static str = match s {
        "open" => "open",
        "verifying" => "verifying",
        "assisting" => "assisting",
        "resolved" => "resolved",
        "dismissed" => "dismissed",
        _ => return esc(s),
    };
    format!("<span class=\"state {s}\">{}</span>", t(l, key))
}

fn alerts_table(l: Lang, alerts: &[AlertRow]) -> String {
    let rows: Vec<Vec<String>> = alerts
        .iter()
        .map(|a| {
            vec![
                format!("<a href=\"/alerts/{}\">#{}</a>", a.id, a.id),
                esc(&a.rule),
                format!("<a href=\"/households/{}\">{}</a>", url(&a.household_id), esc(&a.household_id)),
                a.village_code.to_string(),
                a.year.to_string(),
                esc(&a.value),
                esc(&a.threshold),
                state_label(l, &a.state),
            ]
        })
        .collect();
    table(l, &["alerts", "rule", "household", "village", "year", "value", "threshold", "state"], &rows)
}

#[derive(Deserialize)]
struct AlertQuery {
    state: Option<String>,
}

async fn alerts(State(state): State<AppState>, PageUser(ctx): PageUser, Query(q): Query<AlertQuery>) -> PageResult {
    let l = ctx.lang;
    let st = q.state.filter(|s| !s.is_empty());
    let f = AlertFilter { state: st.clone(), limit: 500, ..Default::default() };
    let rows = state.app.alerts(ctx.scope(), &f).await?;
    crate::api::audit_list(&state, &ctx, "alerts", &format!("state={st:?}"), rows.len()).await?;
    let mut b = String::from("<p class=\"filters\">");
    let _ = write!(b, "<a href=\"/alerts\"{}>{}</a>", if st.is_none() { " class=\"on\"" } else { "" }, t(l, "all"));
    for s in ["open", "verifying", "assisting", "resolved", "dismissed"] {
        let on = if st.as_deref() == Some(s) { " class=\"on\"" } else { "" };
        let _ = write!(b, " · <a href=\"/alerts?state={s}\"{on}>{}</a>", state_label(l, s));
    }
    b.push_str("</p>");
    b.push_str(&alerts_table(l, &rows));
    html(page(&ctx, t(l, "alerts"), &b))
}

/// The states an alert may move to from `from`.
fn next_states(from: &str) -> &'static [&'static str] {
    match from {
        "open" => &["verifying", "dismissed"],
        "verifying" => &["assisting", "dismissed"],
        "assisting" => &["resolved"],
        _ => &[],
    }
}

async fn alert(State(state): State<AppState>, PageUser(ctx): PageUser, Path(id): Path<String>) -> PageResult {
    let l = ctx.lang;
    let id: i64 = id.parse().map_err(|_| PageError(WebError::not_found("alert")))?;
    let Some(a) = state.app.alert(ctx.scope(), id).await? else {
        let elsewhere = state.app.alert(&crate::access::Scope::all(), id).await?.is_some();
        return Err(crate::api::not_in_scope(&state, &ctx, "alert", &format!("alert {id}"), elsewhere).await?.into());
    };
    audit(&state, &ctx.user.username, "view_alert", &format!("alert {id}"), "page").await?;
    let mut b = format!(
        "<dl class=\"facts\"><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd><a href=\"/households/{}\">{}</a></dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd id=\"alert-state\">{}</dd></dl>",
        t(l, "rule"), esc(&a.rule),
        t(l, "household"), url(&a.household_id), esc(&a.household_id),
        t(l, "village"), a.village_code,
        t(l, "year"), a.year,
        t(l, "value"), esc(&a.value),
        t(l, "threshold"), esc(&a.threshold),
        t(l, "state"), state_label(l, &a.state),
    );
    let _ = write!(b, "<h2>{}</h2>", t(l, "history"));
    let hist: Vec<Vec<String>> = a
        .transitions
        .iter()
        .map(|x| {
            vec![
                x.at.format("%Y-%m-%d %H:%M").to_string(),
                esc(&x.by),
                format!("{} → {}", state_label(l, &x.from), state_label(l, &x.to)),
                esc(&x.note),
            ]
        })
        .collect();
    b.push_str(&table(l, &["when", "who", "action", "note"], &hist));
    let _ = write!(b, "<h2>{}</h2>", t(l, "measures"));
    let ms: Vec<Vec<String>> = a
        .measures
        .iter()
        .map(|m| {
            vec![
                m.at.format("%Y-%m-%d %H:%M").to_string(),
                esc(&m.by),
                esc(&m.kind),
                m.amount.to_string(),
                esc(&m.note),
            ]
        })
        .collect();
    b.push_str(&table(l, &["when", "who", "kind", "amount", "note"], &ms));
    let open = !matches!(a.state.as_str(), "resolved" | "dismissed");
    if ctx.may(Permission::MoveAlerts) && open {
        let _ = write!(
            b,
            "<h2>{m}</h2><form method=\"post\" action=\"/alerts/{id}/measure\" class=\"stack\" id=\"measure-form\">{csrf}\
<label>{k}<input name=\"kind\" required placeholder=\"medical assistance / 临时救助\"></label>\
<label>{amt}<input name=\"amount\" inputmode=\"decimal\" value=\"0\" required></label>\
<label>{n}<input name=\"note\"></label><button type=\"submit\">{rec}</button></form>",
            m = t(l, "measure"),
            csrf = csrf_field(&ctx),
            k = t(l, "kind"),
            amt = t(l, "amount"),
            n = t(l, "note"),
            rec = t(l, "record"),
        );
        let nexts = next_states(&a.state);
        if !nexts.is_empty() {
            let _ = write!(
                b,
                "<h2>{mv}</h2><form method=\"post\" action=\"/alerts/{id}/transition\" class=\"stack\" id=\"transition-form\">{csrf}<label>{mv}<select name=\"to\">",
                mv = t(l, "move_to"),
                csrf = csrf_field(&ctx)
            );
            for s in nexts {
                let _ = write!(b, "<option value=\"{s}\">{}</option>", t(l, state_key(s)));
            }
            let _ = write!(
                b,
                "</select></label><label>{n}<input name=\"note\"></label><button type=\"submit\">{ap}</button></form>",
                n = t(l, "note"),
                ap = t(l, "apply")
            );
        }
    }
    html(page(&ctx, &format!("{} #{}", t(l, "alerts"), a.id), &b))
}

fn state_key(s: &str) -> &'static str {
    match s {
        "verifying" => "verifying",
        "assisting" => "assisting",
        "resolved" => "resolved",
        "dismissed" => "dismissed",
        _ => "open",
    }
}

#[derive(Deserialize)]
struct TransitionForm {
    to: String,
    #[serde(default)]
    note: String,
}

async fn alert_transition(
    State(state): State<AppState>,
    PageUser(ctx): PageUser,
    Path(id): Path<String>,
    Form(f): Form<TransitionForm>,
) -> PageResult {
    ctx.require(Permission::MoveAlerts)?;
    let id: i64 = id.parse().map_err(|_| PageError(WebError::not_found("alert")))?;
    let a = state.app.transition_alert(ctx.scope(), id, f.to.trim(), &ctx.user.username, f.note.trim()).await?;
    audit(
        &state,
        &ctx.user.username,
        "alert_transition",
        &format!("alert {id}"),
        &format!("to {}: {}", a.state, f.note.trim()),
    )
    .await?;
    Ok(Redirect::to(&format!("/alerts/{id}")).into_response())
}

#[derive(Deserialize)]
struct MeasureForm {
    kind: String,
    amount: String,
    #[serde(default)]
    note: String,
}

async fn alert_measure(
    State(state): State<AppState>,
    PageUser(ctx): PageUser,
    Path(id): Path<String>,
    Form(f): Form<MeasureForm>,
) -> PageResult {
    ctx.require(Permission::MoveAlerts)?;
    let id: i64 = id.parse().map_err(|_| PageError(WebError::not_found("alert")))?;
    let m = parse_measure(&ctx, &f.kind, &f.amount, &f.note)?;
    let detail = format!("{}: {} ({})", m.kind, m.amount, m.note);
    state.app.add_measure(ctx.scope(), id, m).await?;
    audit(&state, &ctx.user.username, "alert_measure", &format!("alert {id}"), &detail).await?;
    Ok(Redirect::to(&format!("/alerts/{id}")).into_response())
}

/// Validates an assistance measure from a form or a request.
pub fn parse_measure(ctx: &Ctx, kind: &str, amount: &str, note: &str) -> Result<Measure, WebError> {
    let kind = kind.trim();
    if kind.is_empty() || kind.chars().count() > 100 {
        return Err(WebError::BadRequest("the measure's kind is required (at most 100 characters)".into()));
    }
    let amount = Fen::parse_yuan(amount).map_err(|e| WebError::BadRequest(format!("amount: {e}")))?;
    Ok(Measure { kind: kind.into(), by: ctx.user.username.clone(), amount, note: note.trim().into(), at: Utc::now() })
}

// ---------------------------------------------------------------- audit, export (users: crate::accounts)

async fn audit_page(State(state): State<AppState>, PageUser(ctx): PageUser) -> PageResult {
    ctx.require(Permission::ViewAudit)?;
    let l = ctx.lang;
    let rows: Vec<Vec<String>> = state
        .app
        .audit_log_for(ctx.scope(), &ctx.user.username, 500)
        .await?
        .iter()
        .map(|e| {
            vec![
                e.at.format("%Y-%m-%d %H:%M:%S").to_string(),
                esc(&e.username),
                esc(&e.action),
                esc(&e.target),
                esc(&e.detail),
            ]
        })
        .collect();
    html(page(&ctx, t(l, "audit"), &table(l, &["when", "who", "action", "target", "detail"], &rows)))
}

/// Persons matching a search, as CSV, masked as the role requires, scoped, audited.
async fn export_persons(
    State(state): State<AppState>,
    PageUser(ctx): PageUser,
    Query(q): Query<SearchQuery>,
) -> PageResult {
    ctx.require(Permission::Export)?;
    let rows = state.app.search_persons(ctx.scope(), ctx.masking(), &q.q, 1_000_000).await?;
    let m = ctx.masking();
    let mut out = String::from("person_id,household_id,name,status,status_since,village_code\n");
    for p in &rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{}",
            csv_field(&m.id(p.person_id)),
            csv_field(&p.household_id),
            csv_field(&m.name(&p.name)),
            p.status,
            p.status_since,
            p.village_code
        );
    }
    audit(
        &state,
        &ctx.user.username,
        "export",
        "persons",
        &format!("{} rows, query {:?}, scope {}", rows.len(), q.q, ctx.scope()),
    )
    .await?;
    Ok((
        [(CONTENT_TYPE, "text/csv; charset=utf-8"), (CONTENT_DISPOSITION, "attachment; filename=\"persons.csv\"")],
        out,
    )
        .into_response())
}

fn csv_field(s: &str) -> String {
    let s = &*ingest::cells::guard(s);
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
