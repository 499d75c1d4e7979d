//! Network alerts kept and their cases over HTTP (docs/work.md, "Network
//! cases"): raising the network alerts of the caller's scope (computed from
//! the network's history and kept, each new gap opening a case), the alerts
//! kept, and the network cases with their moves; as JSON under `/api/v1` and
//! as pages (`/network-cases/{id}`, a section of `/cases` and of
//! `/network-alerts`).
//!
//! The rules are the application's ([`app::network_cases`]): it checks every
//! move on the version the user saw, keeps it in one transaction and audits
//! it. Here the input is parsed (a bad field is a 400 naming it); a case
//! outside the caller's scope is a 404, as one that does not exist. Moves and
//! raising need [`Permission::Work`]; pages' forms carry the CSRF token.

use crate::access::Permission;
use crate::api::{limit, ApiJson, ApiQuery, List};
use crate::auth::{ApiUser, Ctx, PageUser};
use crate::error::{PageError, WebError};
use crate::html::{csrf_field, esc, page};
use crate::i18n::Lang;
use crate::pages::{form_error, with_status};
use crate::work::{
    case_state, created, form_version, opt_date, overdue_mark, past_date, refused, shown_on_page, state_label, text,
    today, version,
};
use crate::AppState;
use app::network_cases::{NetworkCaseFilter, NetworkCaseRequest, Raised, StoredNetworkAlert, StoredNetworkCase};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::NaiveDate;
use domain::work::{CaseState, NetworkCloseReason};
use serde::{Deserialize, Serialize};
use std::fmt::Write;

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/network-alerts/kept", get(kept_api))
        .route("/network-alerts/raise", post(raise_api))
        .route("/network-cases", get(list_api))
        .route("/network-cases/{id}", get(get_api))
        .route("/network-cases/{id}/assign", post(assign_api))
        .route("/network-cases/{id}/verify", post(verify_api))
        .route("/network-cases/{id}/steps", post(step_api))
        .route("/network-cases/{id}/close", post(close_api))
}

pub fn page_routes() -> Router<AppState> {
    Router::new()
        .route("/network-alerts/raise", post(raise_form))
        .route("/network-cases/{id}", get(case_page))
        .route("/network-cases/{id}/assign", post(assign_form))
        .route("/network-cases/{id}/verify", post(verify_form))
        .route("/network-cases/{id}/step", post(step_form))
        .route("/network-cases/{id}/close", post(close_form))
}

fn lbl(l: Lang, en: &'static str, zh: &'static str) -> &'static str {
    if l == Lang::En {
        en
    } else {
        zh
    }
}

type ApiResult<T> = Result<Json<T>, WebError>;
type PageResult = Result<Response, PageError>;

// ---------------------------------------------------------------- input

fn case_id(id: &str) -> Result<i64, WebError> {
    id.parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| WebError::BadRequest(format!("invalid network case ID {id:?}: a positive whole number")))
}

/// The horizon of a raise: 0 to 5 years, 1 when absent.
pub(crate) fn years(v: Option<i32>) -> Result<i32, WebError> {
    let y = v.unwrap_or(1);
    if !(0..=app::network_alerts::MAX_YEARS).contains(&y) {
        return Err(WebError::BadRequest(format!("years: {y} is not 0 to {}", app::network_alerts::MAX_YEARS)));
    }
    Ok(y)
}

fn assign_request(assignee: &str, due: Option<&str>, today: NaiveDate) -> Result<NetworkCaseRequest, WebError> {
    let assignee = text("assignee", assignee, true, 64, false)?;
    let due = opt_date("due", due)?;
    if let Some(d) = due.filter(|d| *d < today) {
        return Err(WebError::BadRequest(format!("due: {d} has passed (today is {today})")));
    }
    Ok(NetworkCaseRequest::Assign { assignee, due })
}

fn dated(date: &str, note: &str, today: NaiveDate) -> Result<(NaiveDate, String), WebError> {
    Ok((past_date("date", date, today)?, text("note", note, true, 2000, true)?))
}

fn close_request(reason: &str, note: &str, plan: Option<&str>) -> Result<NetworkCaseRequest, WebError> {
    let reason: NetworkCloseReason = reason.parse().map_err(|e| WebError::BadRequest(format!("reason: {e}")))?;
    let plan = match plan.map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => Some(p.parse::<i64>().ok().filter(|v| *v > 0).ok_or_else(|| {
            WebError::BadRequest(format!("plan_id: {p:?} is not a plan's number (a positive whole number)"))
        })?),
        None => None,
    };
    Ok(NetworkCaseRequest::Close { reason, note: text("note", note, false, 2000, true)?, plan })
}

// ---------------------------------------------------------------- the application's calls

/// A network case of the scope, read: audited; one elsewhere is a 404, the
/// attempt audited.
async fn case_in_scope(st: &AppState, ctx: &Ctx, id: i64) -> Result<StoredNetworkCase, WebError> {
    match st.app.network_case(ctx.scope(), id).await.map_err(refused)? {
        Some(c) => {
            crate::auth::audit(st, &ctx.user.username, "view_network_case", &format!("network case {id}"), "").await?;
            Ok(c)
        }
        None => {
            let elsewhere = st.app.network_case(&crate::access::Scope::all(), id).await.map_err(refused)?.is_some();
            Err(crate::api::not_in_scope(st, ctx, "network case", &format!("network case {id}"), elsewhere).await?)
        }
    }
}

async fn move_case(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    req: NetworkCaseRequest,
) -> Result<StoredNetworkCase, WebError> {
    ctx.require(Permission::Work)?;
    st.app.move_network_case(ctx.scope(), id, version, req, &ctx.user.username, today()).await.map_err(|e| match e {
        app::AppError::NotFound(_) => WebError::not_found("network case"),
        other => refused(other),
    })
}

async fn raise(st: &AppState, ctx: &Ctx, y: i32) -> Result<Raised, WebError> {
    ctx.require(Permission::Work)?;
    st.app
        .raise_network_alerts(ctx.scope(), today(), y, &coverage::Settings::default(), &ctx.user.username)
        .await
        .map_err(refused)
}

/// Whether a network case awaits its verification past its deadline.
pub fn overdue(c: &StoredNetworkCase, today: NaiveDate) -> bool {
    c.state.awaits_verification() && c.due < today
}

/// Whether a network case is still open past its deadline to close.
pub fn late_to_close(c: &StoredNetworkCase, today: NaiveDate) -> bool {
    c.state != CaseState::Closed && c.close_due < today
}

// ---------------------------------------------------------------- JSON out

#[derive(Serialize)]
pub struct KeptAlertOut {
    id: i64,
    kind: String,
    region_code: String,
    name: String,
    township: Option<String>,
    county: Option<String>,
    blank_from: String,
    change: String,
    practitioner_id: Option<String>,
    facility_id: Option<String>,
    detail: String,
    raised_at: String,
    raised_by: String,
    seen_at: String,
    resolved_at: Option<String>,
    case_id: Option<i64>,
    case_state: Option<CaseState>,
}

fn alert_out(a: &StoredNetworkAlert) -> KeptAlertOut {
    let f = &a.found;
    KeptAlertOut {
        id: a.id,
        kind: f.kind.clone(),
        region_code: f.region.to_string(),
        name: f.name.clone(),
        township: f.township.map(|c| c.short()),
        county: f.county.map(|c| c.short()),
        blank_from: f.blank_from.to_string(),
        change: f.change.clone(),
        practitioner_id: f.practitioner_id.clone(),
        facility_id: f.facility_id.clone(),
        detail: f.detail.clone(),
        raised_at: a.raised_at.to_rfc3339(),
        raised_by: a.raised_by.clone(),
        seen_at: a.seen_at.to_rfc3339(),
        resolved_at: a.resolved_at.map(|d| d.to_rfc3339()),
        case_id: a.case_id,
        case_state: a.case_state,
    }
}

#[derive(Serialize)]
struct NetworkCaseOut {
    id: i64,
    alert: KeptAlertOut,
    region_code: String,
    state: CaseState,
    overdue: bool,
    opened_at: String,
    opened_by: String,
    assignee: String,
    due: String,
    close_due: String,
    late_to_close: bool,
    verified_on: Option<String>,
    closed_at: Option<String>,
    closed_on: Option<String>,
    close_reason: Option<NetworkCloseReason>,
    /// Closed as planned: the kept plan that fills the gap.
    plan_id: Option<i64>,
    plan_version: Option<i64>,
    version: i64,
    updated_at: String,
}

fn case_out(c: &StoredNetworkCase, today: NaiveDate) -> NetworkCaseOut {
    NetworkCaseOut {
        id: c.id,
        alert: alert_out(&c.alert),
        region_code: c.region.to_string(),
        state: c.state,
        overdue: overdue(c, today),
        opened_at: c.opened_at.to_rfc3339(),
        opened_by: c.opened_by.clone(),
        assignee: c.assignee.clone(),
        due: c.due.to_string(),
        close_due: c.close_due.to_string(),
        late_to_close: late_to_close(c, today),
        verified_on: c.verified_on.map(|d| d.to_string()),
        closed_at: c.closed_at.map(|d| d.to_rfc3339()),
        closed_on: c.closed_on.map(|d| d.to_string()),
        close_reason: c.close_reason,
        plan_id: c.plan.map(|p| p.0),
        plan_version: c.plan.map(|p| p.1),
        version: c.version,
        updated_at: c.updated_at.to_rfc3339(),
    }
}

#[derive(Serialize)]
struct EventOut {
    at: String,
    actor: String,
    action: String,
    from: Option<CaseState>,
    to: CaseState,
    detail: String,
}

#[derive(Serialize)]
struct NetworkCaseRecordOut {
    #[serde(flatten)]
    case: NetworkCaseOut,
    events: Vec<EventOut>,
}

fn record_out(c: &StoredNetworkCase) -> NetworkCaseRecordOut {
    NetworkCaseRecordOut {
        case: case_out(c, today()),
        events: c
            .events
            .iter()
            .map(|e| EventOut {
                at: e.at.to_rfc3339(),
                actor: e.actor.clone(),
                action: e.action.clone(),
                from: e.from,
                to: e.to,
                detail: e.detail.clone(),
            })
            .collect(),
    }
}

#[derive(Serialize)]
pub struct RaiseOut {
    today: String,
    until: String,
    found: usize,
    /// Computed at this many places only (after a change); absent: the whole scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    places: Option<usize>,
    /// The alerts raised, each with the case it opened.
    raised: Vec<RaisedOut>,
    seen: usize,
    resolved: Vec<i64>,
}

#[derive(Serialize)]
struct RaisedOut {
    alert_id: i64,
    case_id: i64,
}

// ---------------------------------------------------------------- JSON routes

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeptQuery {
    #[serde(default)]
    open: bool,
    limit: Option<usize>,
}

async fn kept_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    ApiQuery(q): ApiQuery<KeptQuery>,
) -> ApiResult<List<KeptAlertOut>> {
    let rows = st.app.kept_network_alerts(ctx.scope(), q.open, limit(q.limit)?).await.map_err(refused)?;
    crate::api::audit_list(&st, &ctx, "network_alerts", "api", rows.len()).await?;
    Ok(Json(List { items: rows.iter().map(alert_out).collect() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RaiseIn {
    years: Option<i32>,
}

async fn raise_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    ApiJson(b): ApiJson<RaiseIn>,
) -> ApiResult<RaiseOut> {
    let y = years(b.years)?;
    let r = raise(&st, &ctx, y).await?;
    Ok(Json(raise_out(r)))
}

/// A computation of the network alerts and its keeping, as JSON.
pub fn raise_out(r: Raised) -> RaiseOut {
    RaiseOut {
        today: r.today.to_string(),
        until: r.until.to_string(),
        found: r.found,
        places: r.places,
        raised: r.kept.raised.iter().map(|(a, c)| RaisedOut { alert_id: *a, case_id: *c }).collect(),
        seen: r.kept.seen,
        resolved: r.kept.resolved,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    state: Option<String>,
    #[serde(default)]
    open: bool,
    #[serde(default)]
    overdue: bool,
    limit: Option<usize>,
}

async fn list_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<List<NetworkCaseOut>> {
    let f = NetworkCaseFilter {
        state: case_state(q.state.as_deref())?,
        open: q.open,
        overdue: q.overdue,
        limit: limit(q.limit)?,
    };
    let day = today();
    let rows = st.app.network_cases(ctx.scope(), &f, day).await.map_err(refused)?;
    crate::api::audit_list(&st, &ctx, "network_cases", "api", rows.len()).await?;
    Ok(Json(List { items: rows.iter().map(|c| case_out(c, day)).collect() }))
}

async fn get_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
) -> ApiResult<NetworkCaseRecordOut> {
    let c = case_in_scope(&st, &ctx, case_id(&id)?).await?;
    Ok(Json(record_out(&c)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignIn {
    version: i64,
    assignee: String,
    due: Option<String>,
}

async fn assign_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<AssignIn>,
) -> ApiResult<NetworkCaseRecordOut> {
    ctx.require(Permission::Work)?;
    let id = case_id(&id)?;
    let req = assign_request(&b.assignee, b.due.as_deref(), today())?;
    let c = move_case(&st, &ctx, id, version(b.version)?, req).await?;
    Ok(Json(record_out(&c)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DatedIn {
    version: i64,
    date: String,
    note: String,
}

async fn verify_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<DatedIn>,
) -> ApiResult<NetworkCaseRecordOut> {
    ctx.require(Permission::Work)?;
    let id = case_id(&id)?;
    let (on, note) = dated(&b.date, &b.note, today())?;
    let c = move_case(&st, &ctx, id, version(b.version)?, NetworkCaseRequest::Verify { on, note }).await?;
    Ok(Json(record_out(&c)))
}

async fn step_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<DatedIn>,
) -> Result<Response, WebError> {
    ctx.require(Permission::Work)?;
    let id = case_id(&id)?;
    let (on, note) = dated(&b.date, &b.note, today())?;
    let c = move_case(&st, &ctx, id, version(b.version)?, NetworkCaseRequest::Step { on, note }).await?;
    Ok(created(record_out(&c)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CloseIn {
    version: i64,
    reason: String,
    #[serde(default)]
    note: String,
    /// Closed as planned: the kept plan that fills the gap; absent, the plan
    /// in force that covers the place.
    #[serde(default)]
    plan_id: Option<i64>,
}

async fn close_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<CloseIn>,
) -> ApiResult<NetworkCaseRecordOut> {
    ctx.require(Permission::Work)?;
    let id = case_id(&id)?;
    let plan = b.plan_id.map(|p| p.to_string());
    let req = close_request(&b.reason, &b.note, plan.as_deref())?;
    let c = move_case(&st, &ctx, id, version(b.version)?, req).await?;
    Ok(Json(record_out(&c)))
}

// ---------------------------------------------------------------- pages

fn reason_label(l: Lang, r: NetworkCloseReason) -> &'static str {
    match l {
        Lang::Zh => r.zh(),
        Lang::En => r.as_str(),
    }
}

fn case_link(id: Option<i64>, state: Option<CaseState>, l: Lang) -> String {
    match (id, state) {
        (Some(id), Some(s)) => format!("<a href=\"/network-cases/{id}\">#{id}</a> {}", state_label(l, s)),
        _ => String::new(),
    }
}

/// The section of the network-alerts page: the alerts kept with their case,
/// and (for the casework) the form that computes and keeps them again.
pub(crate) async fn kept_section(st: &AppState, ctx: &Ctx, y: i32) -> Result<String, WebError> {
    let l = ctx.lang;
    let rows = st.app.kept_network_alerts(ctx.scope(), false, 500).await.map_err(refused)?;
    crate::api::audit_list(st, ctx, "network_alerts", "page", rows.len()).await?;
    let mut b = format!("<h2>{}</h2>", lbl(l, "Kept alerts and their cases", "已登记的网络预警及其个案"));
    if ctx.may(Permission::Work) {
        let _ = write!(
            b,
            "<form method=\"post\" action=\"/network-alerts/raise\" class=\"inline\" id=\"raise-form\">{}\
<input type=\"hidden\" name=\"years\" value=\"{y}\"><button type=\"submit\">{}</button></form>",
            csrf_field(ctx),
            lbl(l, "Compute and keep (raise cases)", "计算并登记（生成个案）")
        );
    }
    let _ = write!(
        b,
        "<table id=\"kept-network-alerts\"><thead><tr><th>#</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        lbl(l, "Blank from", "空白起始"),
        lbl(l, "Kind", "类别"),
        lbl(l, "Village or centre", "行政村或卫生院"),
        lbl(l, "Township", "乡镇"),
        lbl(l, "County", "县"),
        lbl(l, "Change", "变化"),
        lbl(l, "Resolved", "已消除"),
        lbl(l, "Case", "个案"),
    );
    for a in &rows {
        let f = &a.found;
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td><td>{}: {}</td><td>{}</td><td>{}</td></tr>",
            a.id,
            f.blank_from,
            esc(&f.kind),
            f.region,
            esc(&f.name),
            f.township.map(|c| c.short()).unwrap_or_default(),
            f.county.map(|c| c.short()).unwrap_or_default(),
            esc(&f.change),
            esc(&f.detail),
            a.resolved_at.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default(),
            case_link(a.case_id, a.case_state, l),
        );
    }
    b.push_str("</tbody></table>");
    if rows.is_empty() {
        let _ = write!(b, "<p class=\"empty\">{}</p>", lbl(l, "None kept.", "尚无登记。"));
    }
    Ok(b)
}

/// The section of the cases page: the network cases of the scope with their
/// deadlines and overdue marks.
pub(crate) async fn cases_section(
    st: &AppState,
    ctx: &Ctx,
    state: Option<CaseState>,
    open: bool,
    overdue_only: bool,
) -> Result<String, WebError> {
    let l = ctx.lang;
    let f = NetworkCaseFilter { state, open, overdue: overdue_only, limit: 500 };
    let day = today();
    let rows = st.app.network_cases(ctx.scope(), &f, day).await.map_err(refused)?;
    crate::api::audit_list(st, ctx, "network_cases", "page", rows.len()).await?;
    let mut b = format!(
        "<h2 id=\"network-cases-head\">{}</h2><p class=\"note\">{}</p>",
        lbl(l, "Network cases", "网络个案"),
        lbl(
            l,
            "Villages and township centres left blank by a change in the health network, raised from the network alerts, for the township and county to fill.",
            "因卫生网络变化出现空白的行政村和乡镇卫生院，由网络预警生成，由乡镇和县负责补充。"
        )
    );
    let _ = write!(
        b,
        "<table id=\"network-cases\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        lbl(l, "Case", "个案"),
        lbl(l, "Village or centre", "行政村或卫生院"),
        lbl(l, "Kind", "类别"),
        lbl(l, "Blank from", "空白起始"),
        lbl(l, "State", "状态"),
        lbl(l, "Responsible", "责任人"),
        lbl(l, "Verify by", "核实期限"),
        lbl(l, "Close by", "办结期限"),
    );
    for c in &rows {
        let f = &c.alert.found;
        let late = if late_to_close(c, day) {
            format!(" <span class=\"overdue\">{}</span>", lbl(l, "past its deadline", "逾期未办结"))
        } else {
            String::new()
        };
        let _ = write!(
            b,
            "<tr><td><a href=\"/network-cases/{id}\">#{id}</a></td><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td><td>{}{late}</td></tr>",
            f.region,
            esc(&f.name),
            esc(&f.kind),
            f.blank_from,
            state_label(l, c.state),
            esc(&c.assignee),
            c.due,
            if overdue(c, day) { format!(" {}", overdue_mark(l)) } else { String::new() },
            c.close_due,
            id = c.id,
        );
    }
    b.push_str("</tbody></table>");
    if rows.is_empty() {
        let _ = write!(b, "<p class=\"empty\">{}</p>", lbl(l, "None.", "无。"));
    }
    Ok(b)
}

fn page_case_id(id: &str) -> Result<i64, PageError> {
    id.parse::<i64>().ok().filter(|v| *v > 0).ok_or_else(|| PageError(WebError::not_found("network case")))
}

async fn case_page(State(st): State<AppState>, PageUser(ctx): PageUser, Path(id): Path<String>) -> PageResult {
    let id = page_case_id(&id)?;
    case_view(&st, &ctx, id, None).await
}

async fn case_view(st: &AppState, ctx: &Ctx, id: i64, error: Option<WebError>) -> PageResult {
    let l = ctx.lang;
    let c = case_in_scope(st, ctx, id).await?;
    let day = today();
    let f = &c.alert.found;
    let mut b = String::new();
    if let Some(e) = &error {
        b.push_str(&form_error(e));
    }
    let _ = write!(
        b,
        "<dl class=\"facts\" id=\"network-case-facts\"><dt>{}</dt><dd>{} {} ({})</dd><dt>{}</dt><dd>{} · {}</dd>\
<dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}: {}</dd><dt>{}</dt><dd id=\"case-state\">{}</dd><dt>{}</dt><dd>{}</dd>\
<dt>{}</dt><dd>{}{}</dd><dt>{}</dt><dd>{}{}</dd><dt>{}</dt><dd id=\"case-version\">{}</dd><dt>{}</dt><dd>{}</dd>",
        lbl(l, "Village or centre", "行政村或卫生院"),
        f.region,
        esc(&f.name),
        esc(&f.kind),
        lbl(l, "Township · county", "乡镇 · 县"),
        f.township.map(|c| c.short()).unwrap_or_default(),
        f.county.map(|c| c.short()).unwrap_or_default(),
        lbl(l, "Blank from", "空白起始"),
        f.blank_from,
        lbl(l, "Change", "变化"),
        esc(&f.change),
        esc(&f.detail),
        lbl(l, "State", "状态"),
        state_label(l, c.state),
        lbl(l, "Responsible", "责任人"),
        esc(&c.assignee),
        lbl(l, "Verify by", "核实期限"),
        c.due,
        if overdue(&c, day) { format!(" {}", overdue_mark(l)) } else { String::new() },
        lbl(l, "Close by", "办结期限"),
        c.close_due,
        if late_to_close(&c, day) {
            format!(" <span class=\"overdue\">{}</span>", lbl(l, "past its deadline", "逾期未办结"))
        } else {
            String::new()
        },
        lbl(l, "Version", "版本"),
        c.version,
        lbl(l, "Alert", "预警"),
        match c.alert.resolved_at {
            Some(at) =>
                format!("#{} {} {}", c.alert.id, lbl(l, "resolved on", "已消除于"), at.format("%Y-%m-%d %H:%M")),
            None => format!("#{} {}", c.alert.id, lbl(l, "still found", "仍存在")),
        },
    );
    if let Some(r) = c.close_reason {
        let _ = write!(
            b,
            "<dt>{}</dt><dd id=\"close-reason\">{} · {}</dd>",
            lbl(l, "Reason for closing", "结案原因"),
            reason_label(l, r),
            c.closed_on.map(|d| d.to_string()).unwrap_or_default()
        );
    }
    if let Some((plan, v)) = c.plan {
        let _ = write!(
            b,
            "<dt>{}</dt><dd id=\"case-plan\"><a href=\"/plans/{plan}\">{} {plan}</a>, {} {v}</dd>",
            lbl(l, "Filled by the plan", "由计划补充"),
            lbl(l, "plan", "计划"),
            lbl(l, "version", "版本"),
        );
    }
    b.push_str("</dl>");
    let _ = write!(b, "<h2>{}</h2><table id=\"network-case-history\"><tbody>", lbl(l, "History", "历史"));
    for e in &c.events {
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} → {}</td><td>{}</td></tr>",
            e.at.format("%Y-%m-%d %H:%M"),
            esc(&e.actor),
            esc(&e.action),
            e.from.map(|s| state_label(l, s)).unwrap_or_else(|| "—".into()),
            state_label(l, e.to),
            esc(&e.detail)
        );
    }
    b.push_str("</tbody></table>");
    if ctx.may(Permission::Work) && c.state != CaseState::Closed {
        b.push_str(&forms(ctx, &c, day));
    }
    let title = format!("{} #{}", lbl(l, "Network case", "网络个案"), c.id);
    Ok(with_status(page(ctx, &title, &b), error.as_ref()))
}

/// The forms that move a network case, each with the version it was drawn on
/// and the CSRF token.
fn forms(ctx: &Ctx, c: &StoredNetworkCase, today: NaiveDate) -> String {
    let l = ctx.lang;
    let id = c.id;
    let hidden = format!("{}<input type=\"hidden\" name=\"version\" value=\"{}\">", csrf_field(ctx), c.version);
    let assignee = if c.assignee.is_empty() { ctx.user.username.clone() } else { c.assignee.clone() };
    let note = lbl(l, "Note", "备注");
    let date = lbl(l, "Date", "日期");
    let mut b = format!(
        "<h2>{a}</h2><form method=\"post\" action=\"/network-cases/{id}/assign\" class=\"stack\" id=\"assign-form\">{hidden}\
<label>{who}<input name=\"assignee\" value=\"{assignee}\" required maxlength=\"64\"></label>\
<label>{due}<input name=\"due\" type=\"date\" min=\"{today}\"></label><button type=\"submit\">{a}</button></form>",
        a = lbl(l, "Assign", "分派"),
        who = lbl(l, "Responsible", "责任人"),
        assignee = esc(&assignee),
        due = lbl(l, "Verify by", "核实期限"),
    );
    let _ = write!(
        b,
        "<h2>{v}</h2><form method=\"post\" action=\"/network-cases/{id}/verify\" class=\"stack\" id=\"verify-form\">{hidden}\
<label>{date}<input name=\"date\" type=\"date\" value=\"{today}\" max=\"{today}\" required></label>\
<label>{note}<textarea name=\"note\" rows=\"2\" required></textarea></label><button type=\"submit\">{v}</button></form>",
        v = lbl(l, "Verify", "核实"),
    );
    if !c.state.awaits_verification() {
        let _ = write!(
            b,
            "<h2>{s}</h2><form method=\"post\" action=\"/network-cases/{id}/step\" class=\"stack\" id=\"step-form\">{hidden}\
<label>{date}<input name=\"date\" type=\"date\" value=\"{today}\" max=\"{today}\" required></label>\
<label>{note}<textarea name=\"note\" rows=\"2\" required></textarea></label><button type=\"submit\">{s}</button></form>",
            s = lbl(l, "Record a step to fill it", "记录补充措施"),
        );
    }
    let options: String = NetworkCloseReason::ALL
        .iter()
        .map(|r| format!("<option value=\"{}\">{}</option>", r.as_str(), reason_label(l, *r)))
        .collect();
    let _ = write!(
        b,
        "<h2>{cl}</h2><form method=\"post\" action=\"/network-cases/{id}/close\" class=\"stack\" id=\"close-form\">{hidden}\
<label>{r}<select name=\"reason\">{options}</select></label>\
<label>{pl}<input name=\"plan_id\" inputmode=\"numeric\" pattern=\"[0-9]*\"></label>\
<label>{note}<textarea name=\"note\" rows=\"2\"></textarea></label><button type=\"submit\">{cl}</button></form>",
        cl = lbl(l, "Close", "结案"),
        r = lbl(l, "Reason for closing", "结案原因"),
        pl = lbl(
            l,
            "Plan (planned: its number; empty, the plan in force for the place)",
            "计划（派驻或巡诊：计划编号；留空则取该地在执行的计划）"
        ),
    );
    b
}

async fn after_move(st: &AppState, ctx: &Ctx, id: i64, r: Result<StoredNetworkCase, WebError>) -> PageResult {
    match r {
        Ok(_) => Ok(Redirect::to(&format!("/network-cases/{id}")).into_response()),
        Err(e) if shown_on_page(&e) => case_view(st, ctx, id, Some(e)).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct MoveForm {
    #[serde(default)]
    version: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    due: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    plan_id: String,
}

async fn form_move(st: &AppState, ctx: &Ctx, id: &str, f: &MoveForm, action: &str) -> PageResult {
    ctx.require(Permission::Work)?;
    let id = page_case_id(id)?;
    let day = today();
    let r = async {
        let version = form_version(&f.version)?;
        let req = match action {
            "assign" => assign_request(&f.assignee, Some(&f.due), day)?,
            "verify" => {
                let (on, note) = dated(&f.date, &f.note, day)?;
                NetworkCaseRequest::Verify { on, note }
            }
            "step" => {
                let (on, note) = dated(&f.date, &f.note, day)?;
                NetworkCaseRequest::Step { on, note }
            }
            _ => close_request(&f.reason, &f.note, Some(f.plan_id.as_str()))?,
        };
        move_case(st, ctx, id, version, req).await
    }
    .await;
    after_move(st, ctx, id, r).await
}

async fn assign_form(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Path(id): Path<String>,
    Form(f): Form<MoveForm>,
) -> PageResult {
    form_move(&st, &ctx, &id, &f, "assign").await
}

async fn verify_form(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Path(id): Path<String>,
    Form(f): Form<MoveForm>,
) -> PageResult {
    form_move(&st, &ctx, &id, &f, "verify").await
}

async fn step_form(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Path(id): Path<String>,
    Form(f): Form<MoveForm>,
) -> PageResult {
    form_move(&st, &ctx, &id, &f, "step").await
}

async fn close_form(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Path(id): Path<String>,
    Form(f): Form<MoveForm>,
) -> PageResult {
    form_move(&st, &ctx, &id, &f, "close").await
}

#[derive(Deserialize)]
struct RaiseForm {
    #[serde(default)]
    years: String,
}

/// Computes and keeps the network alerts of the scope, then back to the page.
async fn raise_form(State(st): State<AppState>, PageUser(ctx): PageUser, Form(f): Form<RaiseForm>) -> PageResult {
    let y = match f.years.trim() {
        "" => None,
        v => Some(v.parse::<i32>().map_err(|_| WebError::BadRequest(format!("years: {v:?} is not a number")))?),
    };
    let y = years(y)?;
    raise(&st, &ctx, y).await?;
    Ok(Redirect::to(&format!("/network-alerts?years={y}")).into_response())
}
