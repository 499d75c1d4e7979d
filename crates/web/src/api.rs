//! The JSON API under `/api/v1`, for hospitals, agencies and scripts. It answers
//! with its own serializable types, converted from the domain's; bad input gets a
//! 4xx with a message (see [`crate::error`]), never a 500. Requests authenticate
//! with `Authorization: Bearer TOKEN` (or a browser session plus `X-CSRF-Token`).

use crate::access::Permission;
use crate::auth::{audit, ApiUser, Ctx};
use crate::error::WebError;
use crate::AppState;
use app::{AlertFilter, AlertRow, Masking, Measure, PersonRefs, PersonRow, Transition};
use axum::extract::{FromRequest, FromRequestParts, Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::{Household, ResidentId};
use serde::{Deserialize, Serialize};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(|| async { Json(crate::openapi::document()) }))
        .route("/persons", get(search_persons))
        .route("/persons/{id}", get(get_person))
        .route("/households", get(search_households))
        .route("/households/{id}", get(get_household))
        .route("/alerts", get(list_alerts))
        .route("/alerts/{id}", get(get_alert))
        .route("/alerts/{id}/transition", post(transition))
        .route("/alerts/{id}/measures", post(add_measure))
        .route("/indicators/summary", get(summary))
}

/// `Json` whose rejections are [`WebError`]s (a JSON message, never plain text).
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(WebError))]
pub struct ApiJson<T>(pub T);

/// `Query` whose rejections are [`WebError`]s.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(WebError))]
pub struct ApiQuery<T>(pub T);

type ApiResult<T> = Result<Json<T>, WebError>;

#[derive(Serialize)]
pub struct PersonOut {
    /// The opaque reference of the person: what links and later calls use
    /// (`/persons/{person_ref}`), for every role.
    pub person_ref: String,
    /// The resident ID, masked for a role that sees persons masked.
    pub person_id: String,
    pub household_id: String,
    pub name: String,
    pub status: String,
    pub status_since: String,
    pub village_code: String,
    pub diagnoses: Vec<String>,
}

pub(crate) fn person_out(ctx: &Ctx, refs: &PersonRefs, p: &PersonRow) -> PersonOut {
    let m = ctx.masking();
    PersonOut {
        person_ref: refs.reference(p.person_id),
        person_id: m.id(p.person_id),
        household_id: p.household_id.clone(),
        name: m.name(&p.name),
        status: p.status.to_string(),
        status_since: p.status_since.to_string(),
        village_code: p.village_code.to_string(),
        diagnoses: p.diagnoses.clone(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    limit: Option<usize>,
}

pub(crate) fn limit(l: Option<usize>) -> Result<usize, WebError> {
    match l {
        None => Ok(100),
        Some(n) if (1..=1000).contains(&n) => Ok(n),
        Some(n) => Err(WebError::BadRequest(format!("limit {n} is out of range (1 to 1000)"))),
    }
}

#[derive(Serialize)]
pub(crate) struct List<T> {
    pub(crate) items: Vec<T>,
}

async fn search_persons(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> ApiResult<List<PersonOut>> {
    let rows = st.app.search_persons(ctx.scope(), ctx.masking(), &q.q, limit(q.limit)?).await?;
    audit_list(&st, &ctx, "persons", &format!("q={}", q.q), rows.len()).await?;
    let refs = st.app.person_refs().await?;
    Ok(Json(List { items: rows.iter().map(|p| person_out(&ctx, refs, p)).collect() }))
}

#[derive(Serialize)]
struct ClaimOut {
    claim_id: String,
    /// The facility that submitted the claim (empty for a claim imported
    /// without one); with `claim_id`, the claim's key.
    facility_id: String,
    discharged: String,
    kind: String,
    facility_level: String,
    diagnosis: String,
    total_cost: String,
    payments: Vec<PaymentOut>,
    out_of_pocket: Option<String>,
}

#[derive(Serialize)]
struct PaymentOut {
    tier: String,
    amount: String,
}

#[derive(Serialize)]
struct PersonRecordOut {
    #[serde(flatten)]
    person: PersonOut,
    /// The tag to send with a change (`PATCH /persons/{id}`); none for a role
    /// that sees the person masked (the tag is made of the fields in clear).
    etag: Option<String>,
    batches: Vec<String>,
    claims: Vec<ClaimOut>,
    alerts: Vec<AlertOut>,
}

/// Audits a list or a search that returns personal data: who asked, what, and how
/// many records came back.
pub(crate) async fn audit_list(st: &AppState, ctx: &Ctx, what: &str, query: &str, n: usize) -> Result<(), WebError> {
    let via = if ctx.session.is_some() { "session" } else { "token" };
    audit(st, &ctx.user.username, &format!("list_{what}"), query, &format!("{n} records ({via})")).await
}

/// The answer to a record named by its key that is not in the user's scope: "not
/// found", exactly as for a key that names nothing; when the record does exist
/// elsewhere, the refused attempt is audited (with the key in clear).
pub(crate) async fn not_in_scope(
    st: &AppState,
    ctx: &Ctx,
    kind: &'static str,
    key: &str,
    exists_elsewhere: bool,
) -> Result<WebError, WebError> {
    if exists_elsewhere {
        let detail = format!("{kind} outside the scope {}", ctx.scope());
        audit(st, &ctx.user.username, "refused_out_of_scope", key, &detail).await?;
    }
    Ok(WebError::not_found(kind))
}

/// The page of a person, under their opaque reference.
pub(crate) fn person_path(refs: &PersonRefs, pid: ResidentId) -> String {
    format!("/persons/{}", refs.reference(pid))
}

/// The person a path or filter names: by their opaque reference, which every
/// role may use, or by resident ID, which only a role that sees IDs in clear may
/// use. For a masked role an ID answers exactly as an unknown person does: a
/// lookup by ID would let it test guesses of the digits its mask hides. The
/// answer never repeats what was sent.
pub(crate) async fn person_param(st: &AppState, ctx: &Ctx, id: &str) -> Result<ResidentId, WebError> {
    let id = id.trim();
    if PersonRefs::looks_like(id) {
        return st.app.person_refs().await?.person(id).ok_or_else(|| WebError::not_found("person"));
    }
    if ctx.masking() == Masking::Masked {
        return Err(WebError::not_found("person"));
    }
    ResidentId::parse(id).map_err(|e| {
        WebError::BadRequest(format!("invalid resident ID: {e} (or name the person by their reference, 32 hex digits)"))
    })
}

async fn get_person(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
) -> ApiResult<PersonRecordOut> {
    let pid = person_param(&st, &ctx, &id).await?;
    // The tag is read before the record: a change made in between makes the
    // tag stale (a 409 on the change), never newer than what the client saw.
    let Some(rec) = st.app.person(ctx.scope(), pid).await? else {
        let elsewhere = st.app.person(&crate::access::Scope::all(), pid).await?.is_some();
        return Err(not_in_scope(&st, &ctx, "person", &pid.to_string(), elsewhere).await?);
    };
    let etag = crate::registry::person_etag(&st, &ctx, pid).await?;
    // Audited with the person in clear, whatever the role saw.
    audit(&st, &ctx.user.username, "view_person", &pid.to_string(), "api").await?;
    let refs = st.app.person_refs().await?;
    Ok(Json(PersonRecordOut {
        person: person_out(&ctx, refs, &rec.person),
        etag,
        batches: rec.batches,
        claims: rec
            .claims
            .into_iter()
            .map(|c| ClaimOut {
                claim_id: c.claim_id,
                facility_id: c.facility_id,
                discharged: c.discharged.to_string(),
                kind: c.kind,
                facility_level: c.facility_level,
                diagnosis: c.diagnosis,
                total_cost: c.total_cost.to_string(),
                payments: c.payments.into_iter().map(|(tier, f)| PaymentOut { tier, amount: f.to_string() }).collect(),
                out_of_pocket: c.out_of_pocket.map(|f| f.to_string()),
            })
            .collect(),
        alerts: rec.alerts.iter().map(alert_out).collect(),
    }))
}

#[derive(Serialize)]
pub struct HouseholdOut {
    household_id: String,
    village_code: String,
    size: u16,
    income: String,
    consumption: Option<String>,
    food: Option<String>,
}

pub(crate) fn household_out(h: &Household) -> HouseholdOut {
    HouseholdOut {
        household_id: h.household_id.clone(),
        village_code: h.village_code.to_string(),
        size: h.size,
        income: h.income.to_string(),
        consumption: h.consumption.map(|f| f.to_string()),
        food: h.food.map(|f| f.to_string()),
    }
}

async fn search_households(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> ApiResult<List<HouseholdOut>> {
    let rows = st.app.search_households(ctx.scope(), &q.q, limit(q.limit)?).await?;
    audit_list(&st, &ctx, "households", &format!("q={}", q.q), rows.len()).await?;
    Ok(Json(List { items: rows.iter().map(household_out).collect() }))
}

#[derive(Serialize)]
struct HouseholdRecordOut {
    #[serde(flatten)]
    household: HouseholdOut,
    /// The tag to send with a change (`PATCH /households/{id}`).
    etag: String,
    members: Vec<PersonOut>,
    alerts: Vec<AlertOut>,
}

async fn get_household(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
) -> ApiResult<HouseholdRecordOut> {
    // An identifier as the document states it (1 to 64 characters, no control
    // characters): anything else is a 400, as on the household's other paths.
    let id = crate::work::text("household ID", &id, true, 64, false)?;
    let Some(rec) = st.app.household(ctx.scope(), &id).await? else {
        let elsewhere = st.app.household(&crate::access::Scope::all(), &id).await?.is_some();
        return Err(not_in_scope(&st, &ctx, "household", &id, elsewhere).await?);
    };
    audit(&st, &ctx.user.username, "view_household", &id, "api").await?;
    let refs = st.app.person_refs().await?;
    Ok(Json(HouseholdRecordOut {
        household: household_out(&rec.household),
        etag: app::registry::etag(&rec.household),
        members: rec.members.iter().map(|p| person_out(&ctx, refs, p)).collect(),
        alerts: rec.alerts.iter().map(alert_out).collect(),
    }))
}

#[derive(Serialize)]
pub struct AlertOut {
    id: i64,
    rule: String,
    household_id: String,
    village_code: String,
    year: i32,
    value: String,
    threshold: String,
    state: String,
    transitions: Vec<Transition>,
    measures: Vec<MeasureOut>,
}

#[derive(Serialize)]
struct MeasureOut {
    kind: String,
    by: String,
    amount: String,
    note: String,
    at: String,
}

fn alert_out(a: &AlertRow) -> AlertOut {
    AlertOut {
        id: a.id,
        rule: a.rule.clone(),
        household_id: a.household_id.clone(),
        village_code: a.village_code.to_string(),
        year: a.year,
        value: a.value.clone(),
        threshold: a.threshold.clone(),
        state: a.state.clone(),
        transitions: a.transitions.clone(),
        measures: a
            .measures
            .iter()
            .map(|m: &Measure| MeasureOut {
                kind: m.kind.clone(),
                by: m.by.clone(),
                amount: m.amount.to_string(),
                note: m.note.clone(),
                at: m.at.to_rfc3339(),
            })
            .collect(),
    }
}

const STATES: [&str; 5] = ["open", "verifying", "assisting", "resolved", "dismissed"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertQuery {
    state: Option<String>,
    rule: Option<String>,
    region: Option<String>,
    limit: Option<usize>,
}

async fn list_alerts(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    ApiQuery(q): ApiQuery<AlertQuery>,
) -> ApiResult<List<AlertOut>> {
    if let Some(s) = &q.state {
        if !STATES.contains(&s.as_str()) {
            return Err(WebError::BadRequest(format!("unknown state {s:?}; expected one of {}", STATES.join(", "))));
        }
    }
    let region = match &q.region {
        None => None,
        Some(r) => {
            let r = crate::access::Scope::parse(r).map_err(WebError::BadRequest)?;
            // A region outside the scope shows nothing, like any other filter.
            Some(ctx.scope().narrow(r.prefix()).unwrap_or_else(|| "0".into()))
        }
    };
    let query = format!("state={:?} rule={:?} region={:?}", q.state, q.rule, region);
    let f = AlertFilter { state: q.state, rule: q.rule, region, limit: limit(q.limit)? };
    let rows = st.app.alerts(ctx.scope(), &f).await?;
    audit_list(&st, &ctx, "alerts", &query, rows.len()).await?;
    Ok(Json(List { items: rows.iter().map(alert_out).collect() }))
}

fn parse_alert_id(id: &str) -> Result<i64, WebError> {
    id.parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| WebError::BadRequest(format!("invalid alert ID {id:?}: a positive whole number")))
}

async fn get_alert(State(st): State<AppState>, ApiUser(ctx): ApiUser, Path(id): Path<String>) -> ApiResult<AlertOut> {
    let id = parse_alert_id(&id)?;
    let Some(a) = st.app.alert(ctx.scope(), id).await? else {
        let elsewhere = st.app.alert(&crate::access::Scope::all(), id).await?.is_some();
        return Err(not_in_scope(&st, &ctx, "alert", &format!("alert {id}"), elsewhere).await?);
    };
    audit(&st, &ctx.user.username, "view_alert", &format!("alert {id}"), "api").await?;
    Ok(Json(alert_out(&a)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TransitionIn {
    to: String,
    #[serde(default)]
    note: String,
}

async fn transition(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<TransitionIn>,
) -> ApiResult<AlertOut> {
    ctx.require(Permission::MoveAlerts)?;
    let id = parse_alert_id(&id)?;
    if !STATES.contains(&b.to.as_str()) {
        return Err(WebError::BadRequest(format!("unknown state {:?}; expected one of {}", b.to, STATES.join(", "))));
    }
    let a = st.app.transition_alert(ctx.scope(), id, &b.to, &ctx.user.username, b.note.trim()).await?;
    audit(
        &st,
        &ctx.user.username,
        "alert_transition",
        &format!("alert {id}"),
        &format!("to {}: {}", b.to, b.note.trim()),
    )
    .await?;
    Ok(Json(alert_out(&a)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MeasureIn {
    kind: String,
    /// Yuan with at most two decimals, as a string (`"1500.00"`) to keep it exact.
    amount: String,
    #[serde(default)]
    note: String,
}

async fn add_measure(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<MeasureIn>,
) -> Result<Response, WebError> {
    ctx.require(Permission::MoveAlerts)?;
    let id = parse_alert_id(&id)?;
    let m = crate::pages::parse_measure(&ctx, &b.kind, &b.amount, &b.note)?;
    let detail = format!("{}: {} ({})", m.kind, m.amount, m.note);
    let a = st.app.add_measure(ctx.scope(), id, m).await?;
    audit(&st, &ctx.user.username, "alert_measure", &format!("alert {id}"), &detail).await?;
    Ok((axum::http::StatusCode::CREATED, Json(alert_out(&a))).into_response())
}

#[derive(Serialize)]
struct SummaryOut {
    scope: String,
    households: u64,
    persons: u64,
    poor_persons: u64,
    claims: u64,
    settled_total: String,
    out_of_pocket: String,
    /// Out-of-pocket share of settled costs, 0 to 1; null without claims.
    oop_share: Option<f64>,
    open_alerts: u64,
    villages: u64,
    blank_villages: Option<u64>,
}

async fn summary(State(st): State<AppState>, ApiUser(ctx): ApiUser) -> ApiResult<SummaryOut> {
    let s = st.app.summary(ctx.scope()).await?;
    Ok(Json(SummaryOut {
        scope: ctx.scope().to_string(),
        households: s.households,
        persons: s.persons,
        poor_persons: s.poor_persons,
        claims: s.claims,
        settled_total: s.settled_total.to_string(),
        out_of_pocket: s.out_of_pocket.to_string(),
        oop_share: (s.settled_total.0 > 0).then(|| s.out_of_pocket.0 as f64 / s.settled_total.0 as f64),
        open_alerts: s.open_alerts,
        villages: s.villages,
        blank_villages: s.blank_villages,
    }))
}
