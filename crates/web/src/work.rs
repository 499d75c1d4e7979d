//! The daily casework over HTTP (docs/work.md, issue 15): cases of households at
//! risk from their opening to their close, household visits and follow-ups, and
//! family-doctor contracts; as JSON under `/api/v1` and as pages.
//!
//! The rules are the application's ([`app::work`]): it checks every move of a
//! case on the version the user saw, keeps it in one transaction and writes the
//! audit row itself, so nothing here audits again. What this module checks is
//! the input: every field is parsed here, and a bad one is a 400 naming the field
//! and why. A case, household or person outside the caller's scope is a 404 on
//! every path, read or write, exactly like one that does not exist.
//!
//! "Today" (the day no visit or measure may be after, the day deadlines are
//! counted from) is the UTC calendar day, [`today`], everywhere in this module.

use crate::access::Permission;
use crate::api::{limit, person_param, person_path, ApiJson, ApiQuery, List};
use crate::auth::{ApiUser, Ctx, PageUser};
use crate::error::{PageError, WebError};
use crate::html::{csrf_field, esc, page, table, url};
use crate::i18n::{t, Lang};
use crate::pages::{form_error, with_status};
use crate::settlement::Amount;
use crate::AppState;
use app::work::{CaseFilter, CaseRequest};
use app::PersonRefs;
use app::{AppError, HouseholdRecord, PersonRecord};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::NaiveDate;
use domain::work::{CaseMeasure, CaseState, CloseReason, DoctorContract, Visit, VisitKind};
use domain::{Fen, ResidentId};
use serde::{Deserialize, Serialize};
use std::fmt::Write;
use store::{StoredCase, StoredContract, StoredVisit};

/// The day of the casework: the UTC calendar day.
pub fn today() -> NaiveDate {
    domain::time::china_today()
}

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/cases", get(list_cases).post(open_case))
        .route("/cases/{id}", get(get_case))
        .route("/cases/{id}/assign", post(assign))
        .route("/cases/{id}/verify", post(verify))
        .route("/cases/{id}/measures", post(add_measure))
        .route("/cases/{id}/close", post(close))
        .route("/visits", get(list_visits).post(record_visit))
        .route("/households/{id}/visits", get(household_visits))
        .route("/contracts", get(list_contracts).post(sign_contract))
}

pub fn page_routes() -> Router<AppState> {
    Router::new()
        .route("/cases", get(cases_page).post(open_case_form))
        .route("/cases/{id}", get(case_page))
        .route("/cases/{id}/assign", post(assign_form))
        .route("/cases/{id}/verify", post(verify_form))
        .route("/cases/{id}/measure", post(measure_form))
        .route("/cases/{id}/close", post(close_form))
        .route("/households/{id}/visits", post(household_visit_form))
        .route("/persons/{id}/visits", post(follow_up_form))
        .route("/persons/{id}/contracts", post(contract_form))
}

// ---------------------------------------------------------------- input

/// A text field: trimmed, at most `max` characters, no control characters
/// (line breaks and tabs allowed where `multiline`); `required` refuses it empty.
pub(crate) fn text(field: &str, v: &str, required: bool, max: usize, multiline: bool) -> Result<String, WebError> {
    let v = v.trim();
    if required && v.is_empty() {
        return Err(WebError::BadRequest(format!("{field}: required")));
    }
    if v.chars().count() > max {
        return Err(WebError::BadRequest(format!("{field}: at most {max} characters")));
    }
    if v.chars().any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t'))) {
        return Err(WebError::BadRequest(format!("{field}: control characters are not allowed")));
    }
    Ok(v.to_string())
}

pub(crate) fn date(field: &str, v: &str) -> Result<NaiveDate, WebError> {
    domain::parse_date(v).map_err(|e| WebError::BadRequest(format!("{field}: {e}")))
}

/// An optional date: absent or empty is none.
pub(crate) fn opt_date(field: &str, v: Option<&str>) -> Result<Option<NaiveDate>, WebError> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => date(field, s).map(Some),
    }
}

/// A day that has happened: today or before.
pub(crate) fn past_date(field: &str, v: &str, today: NaiveDate) -> Result<NaiveDate, WebError> {
    let d = date(field, v)?;
    if d > today {
        return Err(WebError::BadRequest(format!("{field}: {d} is in the future (today is {today})")));
    }
    Ok(d)
}

fn next_date(v: Option<&str>, visit: NaiveDate) -> Result<Option<NaiveDate>, WebError> {
    let n = opt_date("next_date", v)?;
    if let Some(n) = n.filter(|n| *n <= visit) {
        return Err(WebError::BadRequest(format!("next_date: {n} is not after the visit's day {visit}")));
    }
    Ok(n)
}

pub(crate) fn version(v: i64) -> Result<i64, WebError> {
    if v < 1 {
        return Err(WebError::BadRequest(format!("version: {v} is not a version (a whole number from 1)")));
    }
    Ok(v)
}

/// A version from a form field.
pub(crate) fn form_version(v: &str) -> Result<i64, WebError> {
    let n = v.trim().parse::<i64>().map_err(|_| WebError::BadRequest(format!("version: {v:?} is not a number")))?;
    version(n)
}

fn person(field: &str, v: &str) -> Result<ResidentId, WebError> {
    ResidentId::parse(v.trim()).map_err(|e| WebError::BadRequest(format!("{field}: {e}")))
}

fn parse_case_id(id: &str) -> Result<i64, WebError> {
    id.parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| WebError::BadRequest(format!("invalid case ID {id:?}: a positive whole number")))
}

fn assign_request(assignee: &str, due: Option<&str>, today: NaiveDate) -> Result<CaseRequest, WebError> {
    let assignee = text("assignee", assignee, true, 64, false)?;
    let due = opt_date("due", due)?;
    if let Some(d) = due.filter(|d| *d < today) {
        return Err(WebError::BadRequest(format!("due: {d} has passed (today is {today})")));
    }
    Ok(CaseRequest::Assign { assignee, due })
}

/// A verification of the case of `household`.
fn verify_request(
    household: &str,
    day: &str,
    visitors: &str,
    findings: &str,
    next: Option<&str>,
    monitored: bool,
    today: NaiveDate,
) -> Result<CaseRequest, WebError> {
    let day = past_date("date", day, today)?;
    let visit = Visit {
        household_id: household.to_string(),
        person_id: None,
        kind: VisitKind::Verification,
        date: day,
        visitors: text("visitors", visitors, true, 200, false)?,
        findings: text("findings", findings, true, 2000, true)?,
        next_date: next_date(next, day)?,
    };
    Ok(CaseRequest::Verify { visit, monitored })
}

fn measure_request(
    kind: &str,
    amount: &str,
    fund: &str,
    day: &str,
    note: &str,
    today: NaiveDate,
) -> Result<CaseRequest, WebError> {
    Ok(CaseRequest::Measure(CaseMeasure {
        kind: text("kind", kind, true, 100, false)?,
        amount: Fen::parse_yuan(amount).map_err(|e| WebError::BadRequest(format!("amount: {e}")))?,
        fund: text("fund", fund, true, 100, false)?,
        date: past_date("date", day, today)?,
        note: text("note", note, false, 2000, true)?,
    }))
}

fn close_request(reason: &str, note: &str) -> Result<CaseRequest, WebError> {
    let reason: CloseReason = reason.parse().map_err(|e| WebError::BadRequest(format!("reason: {e}")))?;
    let note = text("note", note, false, 2000, true)?;
    if reason == CloseReason::NoRisk && note.is_empty() {
        return Err(WebError::BadRequest("note: say why there is no risk".into()));
    }
    Ok(CaseRequest::Close { reason, note })
}

/// A household visit or a follow-up (verifications are made on their case).
#[allow(clippy::too_many_arguments)]
fn visit_of(
    household: &str,
    person_id: Option<&str>,
    kind: &str,
    day: &str,
    visitors: &str,
    findings: &str,
    next: Option<&str>,
    today: NaiveDate,
) -> Result<Visit, WebError> {
    let kind = match kind.trim() {
        "household" => VisitKind::Household,
        "follow_up" => VisitKind::FollowUp,
        "verification" => {
            return Err(WebError::BadRequest(
                "kind: a verification is recorded on its case (POST /api/v1/cases/{id}/verify)".into(),
            ))
        }
        other => {
            return Err(WebError::BadRequest(format!("kind: unknown visit kind {other:?} (household, follow_up)")))
        }
    };
    let person_id = match person_id.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(p) => Some(person("person_id", p)?),
    };
    if kind == VisitKind::FollowUp && person_id.is_none() {
        return Err(WebError::BadRequest("person_id: a follow-up is of one patient; name them".into()));
    }
    let day = past_date("date", day, today)?;
    Ok(Visit {
        household_id: text("household_id", household, true, 64, false)?,
        person_id,
        kind,
        date: day,
        visitors: text("visitors", visitors, true, 200, false)?,
        findings: text("findings", findings, false, 2000, true)?,
        next_date: next_date(next, day)?,
    })
}

fn contract_of(person_id: &str, practitioner: &str, signed: &str, ends: &str) -> Result<DoctorContract, WebError> {
    let c = DoctorContract {
        person_id: person("person_id", person_id)?,
        practitioner_id: text("practitioner_id", practitioner, true, 64, false)?,
        signed: date("signed", signed)?,
        ends: date("ends", ends)?,
    };
    if c.ends <= c.signed {
        return Err(WebError::BadRequest(format!("ends: {} is not after signed {}", c.ends, c.signed)));
    }
    Ok(c)
}

/// The application's refusals as this module answers them: bad input
/// (`Invalid`, a field the store refused) is a 400 like the input checked here.
pub(crate) fn refused(e: AppError) -> WebError {
    match e {
        AppError::Invalid(m) => WebError::BadRequest(m),
        other => other.into(),
    }
}

// ---------------------------------------------------------------- the application's calls

/// A case of the scope, read: audited, as a refused attempt when it lies elsewhere.
async fn case_in_scope(st: &AppState, ctx: &Ctx, id: i64) -> Result<StoredCase, WebError> {
    match st.app.case(ctx.scope(), id).await.map_err(refused)? {
        Some(c) => {
            crate::auth::audit(st, &ctx.user.username, "view_case", &format!("case {id}"), "").await?;
            Ok(c)
        }
        None => {
            let elsewhere = st.app.case(&crate::access::Scope::all(), id).await.map_err(refused)?.is_some();
            Err(crate::api::not_in_scope(st, ctx, "case", &format!("case {id}"), elsewhere).await?)
        }
    }
}

/// Moves a case made on `version`; a stale version or a move the rules refuse
/// is a 409 with the reason.
async fn move_case(st: &AppState, ctx: &Ctx, id: i64, version: i64, req: CaseRequest) -> Result<StoredCase, WebError> {
    st.app.move_case(ctx.scope(), id, version, req, &ctx.user.username, today()).await.map_err(refused)
}

async fn verify_case(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    f: VerifyFields<'_>,
) -> Result<StoredCase, WebError> {
    let case = case_in_scope(st, ctx, id).await?;
    let req = verify_request(&case.household_id, f.date, f.visitors, f.findings, f.next_date, f.monitored, today())?;
    move_case(st, ctx, id, version, req).await
}

struct VerifyFields<'a> {
    date: &'a str,
    visitors: &'a str,
    findings: &'a str,
    next_date: Option<&'a str>,
    monitored: bool,
}

/// Records one visit; returns it as kept.
async fn record(st: &AppState, ctx: &Ctx, v: Visit, case: Option<i64>) -> Result<StoredVisit, WebError> {
    if let Some(c) = case.filter(|c| *c < 1) {
        return Err(WebError::BadRequest(format!("case_id: {c} is not a case ID")));
    }
    let household = v.household_id.clone();
    let ids = st
        .app
        .record_visits(ctx.scope(), &[("the visit".into(), v, case)], &ctx.user.username, today())
        .await
        .map_err(refused)?;
    let id = ids.first().copied().ok_or_else(|| WebError::Internal("no visit was recorded".into()))?;
    st.app
        .visits(ctx.scope(), Some(&household), None, 100_000)
        .await
        .map_err(refused)?
        .into_iter()
        .find(|x| x.id == id)
        .ok_or_else(|| WebError::Internal(format!("visit {id} was recorded but cannot be read back")))
}

async fn sign(st: &AppState, ctx: &Ctx, k: DoctorContract) -> Result<StoredContract, WebError> {
    let person = k.person_id;
    let ids =
        st.app.sign_contracts(ctx.scope(), &[("the contract".into(), k)], &ctx.user.username).await.map_err(refused)?;
    let id = ids.first().copied().ok_or_else(|| WebError::Internal("no contract was recorded".into()))?;
    st.app
        .doctor_contracts(ctx.scope(), Some(person), 100_000)
        .await
        .map_err(refused)?
        .into_iter()
        .find(|x| x.id == id)
        .ok_or_else(|| WebError::Internal(format!("contract {id} was recorded but cannot be read back")))
}

/// Whether a case awaits its verification past its deadline.
pub fn overdue(c: &StoredCase, today: NaiveDate) -> bool {
    c.state.awaits_verification() && c.due < today
}

/// Whether a case is still open past its deadline to close.
pub fn late_to_close(c: &StoredCase, today: NaiveDate) -> bool {
    c.state != CaseState::Closed && c.close_due < today
}

// ---------------------------------------------------------------- JSON out

#[derive(Serialize)]
struct CaseOut {
    id: i64,
    household_id: String,
    village_code: String,
    state: CaseState,
    /// Awaiting verification past its deadline.
    overdue: bool,
    source: String,
    opened_at: String,
    opened_by: String,
    assignee: String,
    due: String,
    verified_on: Option<String>,
    /// The day by which it should be closed.
    close_due: String,
    /// Still open past that day.
    late_to_close: bool,
    monitored: Option<bool>,
    closed_at: Option<String>,
    /// The day it was closed.
    closed_on: Option<String>,
    close_reason: Option<CloseReason>,
    note: String,
    version: i64,
    updated_at: String,
}

fn case_out(c: &StoredCase, today: NaiveDate) -> CaseOut {
    CaseOut {
        id: c.id,
        household_id: c.household_id.clone(),
        village_code: c.village.to_string(),
        state: c.state,
        overdue: overdue(c, today),
        source: c.source.clone(),
        opened_at: c.opened_at.to_rfc3339(),
        opened_by: c.opened_by.clone(),
        assignee: c.assignee.clone(),
        due: c.due.to_string(),
        verified_on: c.verified_on.map(|d| d.to_string()),
        close_due: c.close_due.to_string(),
        late_to_close: late_to_close(c, today),
        monitored: c.monitored,
        closed_at: c.closed_at.map(|d| d.to_rfc3339()),
        closed_on: c.closed_on.map(|d| d.to_string()),
        close_reason: c.close_reason,
        note: c.note.clone(),
        version: c.version,
        updated_at: c.updated_at.to_rfc3339(),
    }
}

#[derive(Serialize)]
struct CaseMeasureOut {
    id: i64,
    kind: String,
    amount: String,
    fund: String,
    date: String,
    note: String,
    recorded_by: String,
    recorded_at: String,
}

#[derive(Serialize)]
struct CaseEventOut {
    at: String,
    actor: String,
    action: String,
    from: Option<CaseState>,
    to: CaseState,
    detail: String,
}

#[derive(Serialize)]
struct CaseRecordOut {
    #[serde(flatten)]
    case: CaseOut,
    alerts: Vec<i64>,
    measures: Vec<CaseMeasureOut>,
    visits: Vec<VisitOut>,
    events: Vec<CaseEventOut>,
}

fn case_record_out(ctx: &Ctx, refs: &PersonRefs, c: &StoredCase) -> CaseRecordOut {
    CaseRecordOut {
        case: case_out(c, today()),
        alerts: c.alerts.clone(),
        measures: c
            .measures
            .iter()
            .map(|m| CaseMeasureOut {
                id: m.id,
                kind: m.measure.kind.clone(),
                amount: m.measure.amount.to_string(),
                fund: m.measure.fund.clone(),
                date: m.measure.date.to_string(),
                note: m.measure.note.clone(),
                recorded_by: m.recorded_by.clone(),
                recorded_at: m.recorded_at.to_rfc3339(),
            })
            .collect(),
        visits: c.visits.iter().map(|v| visit_out(ctx, refs, v)).collect(),
        events: c
            .events
            .iter()
            .map(|e| CaseEventOut {
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
struct VisitOut {
    id: i64,
    household_id: String,
    village_code: String,
    /// The follow-up's patient: their opaque reference, for every role.
    person_ref: Option<String>,
    /// Masked unless the role may see it.
    person_id: Option<String>,
    kind: VisitKind,
    date: String,
    visitors: String,
    findings: String,
    next_date: Option<String>,
    case_id: Option<i64>,
    recorded_by: String,
    recorded_at: String,
}

fn visit_out(ctx: &Ctx, refs: &PersonRefs, v: &StoredVisit) -> VisitOut {
    let m = ctx.masking();
    VisitOut {
        id: v.id,
        person_ref: v.visit.person_id.map(|p| refs.reference(p)),
        household_id: v.visit.household_id.clone(),
        village_code: v.village.to_string(),
        person_id: v.visit.person_id.map(|p| m.id(p)),
        kind: v.visit.kind,
        date: v.visit.date.to_string(),
        visitors: v.visit.visitors.clone(),
        findings: v.visit.findings.clone(),
        next_date: v.visit.next_date.map(|d| d.to_string()),
        case_id: v.case_id,
        recorded_by: v.recorded_by.clone(),
        recorded_at: v.recorded_at.to_rfc3339(),
    }
}

#[derive(Serialize)]
struct ContractOut {
    id: i64,
    /// The patient's opaque reference, for every role.
    person_ref: String,
    /// Masked unless the role may see it.
    person_id: String,
    practitioner_id: String,
    village_code: String,
    signed: String,
    ends: String,
    recorded_by: String,
    recorded_at: String,
}

fn contract_out(ctx: &Ctx, refs: &PersonRefs, k: &StoredContract) -> ContractOut {
    ContractOut {
        id: k.id,
        person_ref: refs.reference(k.contract.person_id),
        person_id: ctx.masking().id(k.contract.person_id),
        practitioner_id: k.contract.practitioner_id.clone(),
        village_code: k.village.to_string(),
        signed: k.contract.signed.to_string(),
        ends: k.contract.ends.to_string(),
        recorded_by: k.recorded_by.clone(),
        recorded_at: k.recorded_at.to_rfc3339(),
    }
}

// ---------------------------------------------------------------- API handlers

type ApiResult<T> = Result<Json<T>, WebError>;

pub(crate) fn created<T: Serialize>(body: T) -> Response {
    (StatusCode::CREATED, Json(body)).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseListQuery {
    state: Option<String>,
    #[serde(default)]
    open: bool,
    #[serde(default)]
    overdue: bool,
    assignee: Option<String>,
    household: Option<String>,
    limit: Option<usize>,
}

pub(crate) fn case_state(v: Option<&str>) -> Result<Option<CaseState>, WebError> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|e| WebError::BadRequest(format!("state: {e}"))),
    }
}

async fn list_cases(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    ApiQuery(q): ApiQuery<CaseListQuery>,
) -> ApiResult<List<CaseOut>> {
    let f = CaseFilter {
        state: case_state(q.state.as_deref())?,
        open: q.open,
        overdue: q.overdue,
        assignee: q.assignee.as_deref().map(|a| text("assignee", a, false, 64, false)).transpose()?,
        household: q.household.as_deref().map(|h| text("household", h, false, 64, false)).transpose()?,
        limit: limit(q.limit)?,
    };
    let day = today();
    let rows = st.app.cases(ctx.scope(), &f, day).await.map_err(refused)?;
    crate::api::audit_list(&st, &ctx, "cases", "api", rows.len()).await?;
    Ok(Json(List { items: rows.iter().map(|c| case_out(c, day)).collect() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenCaseIn {
    household_id: String,
    #[serde(default)]
    note: String,
}

async fn open_case(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    ApiJson(b): ApiJson<OpenCaseIn>,
) -> Result<Response, WebError> {
    ctx.require(Permission::Work)?;
    let c = open(&st, &ctx, &b.household_id, &b.note).await?;
    Ok(created(case_record_out(&ctx, st.app.person_refs().await?, &c)))
}

async fn open(st: &AppState, ctx: &Ctx, household: &str, note: &str) -> Result<StoredCase, WebError> {
    let household = text("household_id", household, true, 64, false)?;
    let note = text("note", note, false, 2000, true)?;
    st.app.open_case(ctx.scope(), &household, "officer", &note, &ctx.user.username, today()).await.map_err(
        |e| match e {
            // Not in the scope and not in the store are answered alike.
            AppError::NotFound(_) => WebError::not_found("household"),
            other => refused(other),
        },
    )
}

async fn get_case(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
) -> ApiResult<CaseRecordOut> {
    let id = parse_case_id(&id)?;
    let c = case_in_scope(&st, &ctx, id).await?;
    Ok(Json(case_record_out(&ctx, st.app.person_refs().await?, &c)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignIn {
    version: i64,
    assignee: String,
    due: Option<String>,
}

async fn assign(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<AssignIn>,
) -> ApiResult<CaseRecordOut> {
    ctx.require(Permission::Work)?;
    let id = parse_case_id(&id)?;
    let version = version(b.version)?;
    let req = assign_request(&b.assignee, b.due.as_deref(), today())?;
    let c = move_case(&st, &ctx, id, version, req).await?;
    Ok(Json(case_record_out(&ctx, st.app.person_refs().await?, &c)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyIn {
    version: i64,
    date: String,
    visitors: String,
    findings: String,
    next_date: Option<String>,
    /// Whether the household becomes monitored (监测对象).
    monitored: bool,
}

async fn verify(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<VerifyIn>,
) -> ApiResult<CaseRecordOut> {
    ctx.require(Permission::Work)?;
    let id = parse_case_id(&id)?;
    let version = version(b.version)?;
    let f = VerifyFields {
        date: &b.date,
        visitors: &b.visitors,
        findings: &b.findings,
        next_date: b.next_date.as_deref(),
        monitored: b.monitored,
    };
    let c = verify_case(&st, &ctx, id, version, f).await?;
    Ok(Json(case_record_out(&ctx, st.app.person_refs().await?, &c)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseMeasureIn {
    version: i64,
    kind: String,
    /// Yuan, at most two decimals: a string (`"1500.00"`) or a number.
    amount: Amount,
    fund: String,
    date: String,
    #[serde(default)]
    note: String,
}

async fn add_measure(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<CaseMeasureIn>,
) -> Result<Response, WebError> {
    ctx.require(Permission::Work)?;
    let id = parse_case_id(&id)?;
    let version = version(b.version)?;
    let req = measure_request(&b.kind, &b.amount.0, &b.fund, &b.date, &b.note, today())?;
    let c = move_case(&st, &ctx, id, version, req).await?;
    Ok(created(case_record_out(&ctx, st.app.person_refs().await?, &c)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CloseIn {
    version: i64,
    reason: String,
    #[serde(default)]
    note: String,
}

async fn close(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<CloseIn>,
) -> ApiResult<CaseRecordOut> {
    ctx.require(Permission::Work)?;
    let id = parse_case_id(&id)?;
    let version = version(b.version)?;
    let req = close_request(&b.reason, &b.note)?;
    let c = move_case(&st, &ctx, id, version, req).await?;
    Ok(Json(case_record_out(&ctx, st.app.person_refs().await?, &c)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VisitQuery {
    household: Option<String>,
    person: Option<String>,
    limit: Option<usize>,
}

/// A `person` filter of a listing: absent or empty for none.
async fn optional_person(st: &AppState, ctx: &Ctx, p: Option<&str>) -> Result<Option<ResidentId>, WebError> {
    match p.map(str::trim).filter(|s| !s.is_empty()) {
        Some(p) => Ok(Some(person_param(st, ctx, p).await?)),
        None => Ok(None),
    }
}

async fn list_visits(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    ApiQuery(q): ApiQuery<VisitQuery>,
) -> ApiResult<List<VisitOut>> {
    let person = optional_person(&st, &ctx, q.person.as_deref()).await?;
    let household = q.household.as_deref().map(|h| text("household", h, false, 64, false)).transpose()?;
    let household = household.as_deref().filter(|s| !s.is_empty());
    let rows = st.app.visits(ctx.scope(), household, person, limit(q.limit)?).await.map_err(refused)?;
    let query = format!("household={household:?} person={}", person.map(|p| p.to_string()).unwrap_or_default());
    crate::api::audit_list(&st, &ctx, "visits", &query, rows.len()).await?;
    let refs = st.app.person_refs().await?;
    Ok(Json(List { items: rows.iter().map(|v| visit_out(&ctx, refs, v)).collect() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitQuery {
    limit: Option<usize>,
}

async fn household_visits(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<LimitQuery>,
) -> ApiResult<List<VisitOut>> {
    let n = limit(q.limit)?;
    let id = text("household ID", &id, true, 64, false)?;
    st.app.household(ctx.scope(), &id).await?.ok_or_else(|| WebError::not_found("household"))?;
    let rows = st.app.visits(ctx.scope(), Some(&id), None, n).await.map_err(refused)?;
    crate::api::audit_list(&st, &ctx, "visits", &format!("household={id}"), rows.len()).await?;
    let refs = st.app.person_refs().await?;
    Ok(Json(List { items: rows.iter().map(|v| visit_out(&ctx, refs, v)).collect() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VisitIn {
    household_id: String,
    person_id: Option<String>,
    kind: String,
    date: String,
    visitors: String,
    #[serde(default)]
    findings: String,
    next_date: Option<String>,
    case_id: Option<i64>,
}

async fn record_visit(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    ApiJson(b): ApiJson<VisitIn>,
) -> Result<Response, WebError> {
    ctx.require(Permission::Visit)?;
    let v = visit_of(
        &b.household_id,
        b.person_id.as_deref(),
        &b.kind,
        &b.date,
        &b.visitors,
        &b.findings,
        b.next_date.as_deref(),
        today(),
    )?;
    let kept = record(&st, &ctx, v, b.case_id).await?;
    Ok(created(visit_out(&ctx, st.app.person_refs().await?, &kept)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContractQuery {
    person: Option<String>,
    limit: Option<usize>,
}

async fn list_contracts(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    ApiQuery(q): ApiQuery<ContractQuery>,
) -> ApiResult<List<ContractOut>> {
    let person = optional_person(&st, &ctx, q.person.as_deref()).await?;
    let rows = st.app.doctor_contracts(ctx.scope(), person, limit(q.limit)?).await.map_err(refused)?;
    let query = format!("person={}", person.map(|p| p.to_string()).unwrap_or_default());
    crate::api::audit_list(&st, &ctx, "contracts", &query, rows.len()).await?;
    let refs = st.app.person_refs().await?;
    Ok(Json(List { items: rows.iter().map(|k| contract_out(&ctx, refs, k)).collect() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContractIn {
    person_id: String,
    practitioner_id: String,
    signed: String,
    ends: String,
}

async fn sign_contract(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    ApiJson(b): ApiJson<ContractIn>,
) -> Result<Response, WebError> {
    ctx.require(Permission::Visit)?;
    let k = contract_of(&b.person_id, &b.practitioner_id, &b.signed, &b.ends)?;
    let kept = sign(&st, &ctx, k).await.map_err(|e| match e {
        WebError::NotFound(_) => WebError::not_found("person"),
        other => other,
    })?;
    Ok(created(contract_out(&ctx, st.app.person_refs().await?, &kept)))
}

// ---------------------------------------------------------------- pages: labels

pub(crate) fn state_label(l: Lang, s: CaseState) -> String {
    let text = match l {
        Lang::Zh => s.zh(),
        Lang::En => s.as_str(),
    };
    format!("<span class=\"state case-{}\">{}</span>", s.as_str(), esc(text))
}

fn reason_label(l: Lang, r: CloseReason) -> &'static str {
    match l {
        Lang::Zh => r.zh(),
        Lang::En => r.as_str(),
    }
}

fn kind_label(l: Lang, k: VisitKind) -> &'static str {
    match l {
        Lang::Zh => k.zh(),
        Lang::En => k.as_str(),
    }
}

pub(crate) fn overdue_mark(l: Lang) -> String {
    format!("<span class=\"overdue\">{}</span>", t(l, "overdue"))
}

fn yes_no(l: Lang, b: Option<bool>) -> &'static str {
    match b {
        Some(true) => t(l, "yes"),
        Some(false) => t(l, "no"),
        None => "",
    }
}

/// The errors a form answers on its page (with the page drawn again); the rest
/// (not found, forbidden, failures) are answered as error pages.
pub(crate) fn shown_on_page(e: &WebError) -> bool {
    matches!(e, WebError::BadRequest(_) | WebError::Conflict(_) | WebError::Unprocessable(_))
}

type PageResult = Result<Response, PageError>;

fn case_rows(l: Lang, cases: &[StoredCase], today: NaiveDate) -> Vec<Vec<String>> {
    cases
        .iter()
        .map(|c| {
            let late = overdue(c, today);
            vec![
                format!("<a href=\"/cases/{}\">#{}</a>", c.id, c.id),
                format!("<a href=\"/households/{}\">{}</a>", url(&c.household_id), esc(&c.household_id)),
                c.village.to_string(),
                state_label(l, c.state),
                esc(&c.assignee),
                if late { format!("{} {}", c.due, overdue_mark(l)) } else { c.due.to_string() },
                esc(&c.source),
                c.updated_at.format("%Y-%m-%d %H:%M").to_string(),
            ]
        })
        .collect()
}

const CASE_HEADS: [&str; 8] = ["case", "household", "village", "state", "assignee", "due", "source", "updated"];

fn visit_rows(ctx: &Ctx, visits: &[StoredVisit]) -> Vec<Vec<String>> {
    let l = ctx.lang;
    let m = ctx.masking();
    visits
        .iter()
        .map(|v| {
            vec![
                v.visit.date.to_string(),
                kind_label(l, v.visit.kind).to_string(),
                format!("<a href=\"/households/{}\">{}</a>", url(&v.visit.household_id), esc(&v.visit.household_id)),
                v.visit.person_id.map(|p| esc(&m.id(p))).unwrap_or_default(),
                esc(&v.visit.visitors),
                esc(&v.visit.findings),
                v.visit.next_date.map(|d| d.to_string()).unwrap_or_default(),
                v.case_id.map(|c| format!("<a href=\"/cases/{c}\">#{c}</a>")).unwrap_or_default(),
            ]
        })
        .collect()
}

const VISIT_HEADS: [&str; 8] = ["date", "kind", "household", "person_id", "visitors", "findings", "next_date", "case"];

// ---------------------------------------------------------------- pages: cases

#[derive(Deserialize, Default)]
struct CasesPageQuery {
    #[serde(default)]
    state: String,
    #[serde(default)]
    open: String,
    #[serde(default)]
    overdue: String,
    #[serde(default)]
    mine: String,
}

pub(crate) fn checked(v: &str) -> bool {
    matches!(v, "1" | "on" | "true" | "yes")
}

async fn cases_page(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Query(q): Query<CasesPageQuery>,
) -> PageResult {
    let l = ctx.lang;
    let state = case_state(Some(&q.state))?;
    let (open, late, mine) = (checked(&q.open), checked(&q.overdue), checked(&q.mine));
    let f = CaseFilter {
        state,
        open,
        overdue: late,
        assignee: mine.then(|| ctx.user.username.clone()),
        household: None,
        limit: 500,
    };
    let day = today();
    let rows = st.app.cases(ctx.scope(), &f, day).await.map_err(refused)?;
    crate::api::audit_list(&st, &ctx, "cases", "page", rows.len()).await?;
    let mut b = format!(
        "<form method=\"get\" action=\"/cases\" class=\"filters\" id=\"case-filters\"><label>{} <select name=\"state\"><option value=\"\">{}</option>",
        t(l, "state"),
        t(l, "all")
    );
    for s in CaseState::ALL {
        let sel = if state == Some(s) { " selected" } else { "" };
        let text = match l {
            Lang::Zh => s.zh(),
            Lang::En => s.as_str(),
        };
        let _ = write!(b, "<option value=\"{}\"{sel}>{}</option>", s.as_str(), esc(text));
    }
    b.push_str("</select></label>");
    for (name, on, key) in [("open", open, "open_only"), ("overdue", late, "overdue_only"), ("mine", mine, "mine")] {
        let _ = write!(
            b,
            " <label><input type=\"checkbox\" name=\"{name}\" value=\"1\"{}> {}</label>",
            if on { " checked" } else { "" },
            t(l, key)
        );
    }
    let _ = write!(b, " <button type=\"submit\">{}</button></form>", t(l, "filter"));
    let late_n = rows.iter().filter(|c| overdue(c, day)).count();
    if late_n > 0 {
        let _ = write!(b, "<p class=\"note\">{} {}: {late_n}</p>", overdue_mark(l), t(l, "cases"));
    }
    b.push_str(&table(l, &CASE_HEADS, &case_rows(l, &rows, day)));
    // The network cases beside the households' (mine: the assignee's own only).
    if !mine {
        b.push_str(&crate::network_cases::cases_section(&st, &ctx, state, open, late).await?);
    }
    Ok(Html(page(&ctx, t(l, "cases"), &b)).into_response())
}

fn page_case_id(id: &str) -> Result<i64, PageError> {
    id.parse::<i64>().ok().filter(|v| *v > 0).ok_or_else(|| PageError(WebError::not_found("case")))
}

async fn case_page(State(st): State<AppState>, PageUser(ctx): PageUser, Path(id): Path<String>) -> PageResult {
    let id = page_case_id(&id)?;
    case_view(&st, &ctx, id, None).await
}

/// The case page, with a refused move shown above the forms.
async fn case_view(st: &AppState, ctx: &Ctx, id: i64, error: Option<WebError>) -> PageResult {
    let l = ctx.lang;
    let c = case_in_scope(st, ctx, id).await?;
    let day = today();
    let late = overdue(&c, day);
    let mut b = String::new();
    if let Some(e) = &error {
        b.push_str(&form_error(e));
    }
    let _ = write!(
        b,
        "<dl class=\"facts\" id=\"case-facts\"><dt>{}</dt><dd><a href=\"/households/{}\">{}</a></dd><dt>{}</dt><dd>{}</dd>\
<dt>{}</dt><dd id=\"case-state\">{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}{}</dd><dt>{}</dt><dd id=\"case-version\">{}</dd>\
<dt>{}</dt><dd>{} · {} · {}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd id=\"case-close-due\">{}{}</dd><dt>{}</dt><dd>{}</dd>",
        t(l, "household"),
        url(&c.household_id),
        esc(&c.household_id),
        t(l, "village"),
        c.village,
        t(l, "state"),
        state_label(l, c.state),
        t(l, "assignee"),
        esc(&c.assignee),
        t(l, "due"),
        c.due,
        if late { format!(" {}", overdue_mark(l)) } else { String::new() },
        t(l, "version"),
        c.version,
        t(l, "opened"),
        c.opened_at.format("%Y-%m-%d %H:%M"),
        esc(&c.opened_by),
        esc(&c.source),
        t(l, "verified_on"),
        c.verified_on.map(|d| d.to_string()).unwrap_or_default(),
        t(l, "close_due"),
        c.close_due,
        if late_to_close(&c, day) {
            format!(" <span class=\"overdue\">{}</span>", t(l, "late_to_close"))
        } else {
            String::new()
        },
        t(l, "monitored"),
        yes_no(l, c.monitored),
    );
    if let Some(r) = c.close_reason {
        // The close's note is in its event ("REASON: NOTE").
        let note = c
            .events
            .iter()
            .rev()
            .find(|e| e.action == "close")
            .and_then(|e| e.detail.split_once(": ").map(|(_, n)| n.trim().to_string()))
            .filter(|n| !n.is_empty())
            .map(|n| format!(" · {}", esc(&n)))
            .unwrap_or_default();
        let _ = write!(
            b,
            "<dt>{}</dt><dd>{} · {}{note}</dd>",
            t(l, "close_reason"),
            reason_label(l, r),
            c.closed_at.map(|d| d.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
        );
    }
    if !c.note.is_empty() {
        let _ = write!(b, "<dt>{}</dt><dd>{}</dd>", t(l, "note"), esc(&c.note));
    }
    b.push_str("</dl>");
    let _ = write!(b, "<h2>{}</h2>", t(l, "alerts"));
    let alerts: Vec<Vec<String>> = c.alerts.iter().map(|a| vec![format!("<a href=\"/alerts/{a}\">#{a}</a>")]).collect();
    b.push_str(&table(l, &["alerts"], &alerts));
    let _ = write!(b, "<h2>{}</h2>", t(l, "measures"));
    let ms: Vec<Vec<String>> = c
        .measures
        .iter()
        .map(|m| {
            vec![
                m.measure.date.to_string(),
                esc(&m.measure.kind),
                m.measure.amount.to_string(),
                esc(&m.measure.fund),
                esc(&m.measure.note),
                esc(&m.recorded_by),
            ]
        })
        .collect();
    b.push_str(&table(l, &["date", "kind", "amount", "fund", "note", "who"], &ms));
    let _ = write!(b, "<h2>{}</h2>", t(l, "visits"));
    b.push_str(&table(l, &VISIT_HEADS, &visit_rows(ctx, &c.visits)));
    let _ = write!(b, "<h2>{}</h2>", t(l, "history"));
    let hist: Vec<Vec<String>> = c
        .events
        .iter()
        .map(|e| {
            vec![
                e.at.format("%Y-%m-%d %H:%M").to_string(),
                esc(&e.actor),
                esc(&e.action),
                format!(
                    "{} → {}",
                    e.from.map(|s| state_label(l, s)).unwrap_or_else(|| "—".into()),
                    state_label(l, e.to)
                ),
                esc(&e.detail),
            ]
        })
        .collect();
    b.push_str(&table(l, &["when", "who", "action", "state", "detail"], &hist));
    if ctx.may(Permission::Work) && c.state != CaseState::Closed {
        b.push_str(&case_forms(ctx, &c, day));
    }
    let title = format!("{} #{}", t(l, "case"), c.id);
    Ok(with_status(page(ctx, &title, &b), error.as_ref()))
}

/// The forms that move a case, each with the version it was drawn on.
fn case_forms(ctx: &Ctx, c: &StoredCase, today: NaiveDate) -> String {
    let l = ctx.lang;
    let id = c.id;
    let hidden = format!("{}<input type=\"hidden\" name=\"version\" value=\"{}\">", csrf_field(ctx), c.version);
    let assignee = if c.assignee.is_empty() { ctx.user.username.clone() } else { c.assignee.clone() };
    let mut b = format!(
        "<h2>{a}</h2><form method=\"post\" action=\"/cases/{id}/assign\" class=\"stack\" id=\"assign-form\">{hidden}\
<label>{who}<input name=\"assignee\" value=\"{assignee}\" required maxlength=\"64\"></label>\
<label>{due}<input name=\"due\" type=\"date\" value=\"{d}\" min=\"{today}\"></label><button type=\"submit\">{a}</button></form>",
        a = t(l, "assign"),
        who = t(l, "assignee"),
        assignee = esc(&assignee),
        due = t(l, "due"),
        // A deadline that has passed is not offered again: left empty, the
        // region's number of days is counted from today.
        d = if c.state.awaits_verification() && c.due >= today { c.due.to_string() } else { String::new() },
    );
    let _ = write!(
        b,
        "<h2>{v}</h2><form method=\"post\" action=\"/cases/{id}/verify\" class=\"stack\" id=\"verify-form\">{hidden}\
<label>{date}<input name=\"date\" type=\"date\" value=\"{today}\" max=\"{today}\" required></label>\
<label>{vis}<input name=\"visitors\" required maxlength=\"200\"></label>\
<label>{fin}<textarea name=\"findings\" rows=\"3\" required></textarea></label>\
<label>{next}<input name=\"next_date\" type=\"date\"></label>\
<label><span><input type=\"checkbox\" name=\"monitored\" value=\"1\"> {mon}</span></label>\
<button type=\"submit\">{v}</button></form>",
        v = t(l, "verify"),
        date = t(l, "date"),
        vis = t(l, "visitors"),
        fin = t(l, "findings"),
        next = t(l, "next_date"),
        mon = t(l, "becomes_monitored"),
    );
    if !c.state.awaits_verification() {
        let _ = write!(
            b,
            "<h2>{m}</h2><form method=\"post\" action=\"/cases/{id}/measure\" class=\"stack\" id=\"measure-form\">{hidden}\
<label>{k}<input name=\"kind\" required maxlength=\"100\" placeholder=\"medical assistance / 临时救助\"></label>\
<label>{amt}<input name=\"amount\" inputmode=\"decimal\" value=\"0\" required></label>\
<label>{fund}<input name=\"fund\" required maxlength=\"100\" placeholder=\"civil affairs / 民政\"></label>\
<label>{date}<input name=\"date\" type=\"date\" value=\"{today}\" max=\"{today}\" required></label>\
<label>{n}<input name=\"note\"></label><button type=\"submit\">{rec}</button></form>",
            m = t(l, "measure"),
            k = t(l, "kind"),
            amt = t(l, "amount"),
            fund = t(l, "fund"),
            date = t(l, "date"),
            n = t(l, "note"),
            rec = t(l, "record"),
        );
    }
    let _ = write!(
        b,
        "<h2>{cl}</h2><form method=\"post\" action=\"/cases/{id}/close\" class=\"stack\" id=\"close-form\">{hidden}\
<label>{r}<select name=\"reason\"><option value=\"risk_eliminated\">{re}</option><option value=\"no_risk\">{nr}</option></select></label>\
<label>{n}<textarea name=\"note\" rows=\"2\"></textarea></label><button type=\"submit\">{cl}</button></form>",
        cl = t(l, "close_case"),
        r = t(l, "close_reason"),
        re = reason_label(l, CloseReason::RiskEliminated),
        nr = reason_label(l, CloseReason::NoRisk),
        n = t(l, "note"),
    );
    b
}

/// After a form's move: back to the case, or the case drawn again with the refusal.
async fn after_move(st: &AppState, ctx: &Ctx, id: i64, r: Result<StoredCase, WebError>) -> PageResult {
    match r {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}")).into_response()),
        Err(e) if shown_on_page(&e) => case_view(st, ctx, id, Some(e)).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct AssignForm {
    #[serde(default)]
    version: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    due: String,
}

async fn assign_form(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Path(id): Path<String>,
    Form(f): Form<AssignForm>,
) -> PageResult {
    ctx.require(Permission::Work)?;
    let id = page_case_id(&id)?;
    let r = async {
        let version = form_version(&f.version)?;
        let req = assign_request(&f.assignee, Some(&f.due), today())?;
        move_case(&st, &ctx, id, version, req).await
    }
    .await;
    after_move(&st, &ctx, id, r).await
}

#[derive(Deserialize)]
struct VerifyForm {
    #[serde(default)]
    version: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    visitors: String,
    #[serde(default)]
    findings: String,
    #[serde(default)]
    next_date: String,
    #[serde(default)]
    monitored: String,
}

async fn verify_form(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Path(id): Path<String>,
    Form(f): Form<VerifyForm>,
) -> PageResult {
    ctx.require(Permission::Work)?;
    let id = page_case_id(&id)?;
    let r = async {
        let version = form_version(&f.version)?;
        let fields = VerifyFields {
            date: &f.date,
            visitors: &f.visitors,
            findings: &f.findings,
            next_date: Some(&f.next_date),
            monitored: checked(&f.monitored),
        };
        verify_case(&st, &ctx, id, version, fields).await
    }
    .await;
    after_move(&st, &ctx, id, r).await
}

#[derive(Deserialize)]
struct MeasureForm {
    #[serde(default)]
    version: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    fund: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    note: String,
}

async fn measure_form(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Path(id): Path<String>,
    Form(f): Form<MeasureForm>,
) -> PageResult {
    ctx.require(Permission::Work)?;
    let id = page_case_id(&id)?;
    let r = async {
        let version = form_version(&f.version)?;
        let req = measure_request(&f.kind, &f.amount, &f.fund, &f.date, &f.note, today())?;
        move_case(&st, &ctx, id, version, req).await
    }
    .await;
    after_move(&st, &ctx, id, r).await
}

#[derive(Deserialize)]
struct CloseForm {
    #[serde(default)]
    version: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    note: String,
}

async fn close_form(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Path(id): Path<String>,
    Form(f): Form<CloseForm>,
) -> PageResult {
    ctx.require(Permission::Work)?;
    let id = page_case_id(&id)?;
    let r = async {
        let version = form_version(&f.version)?;
        let req = close_request(&f.reason, &f.note)?;
        move_case(&st, &ctx, id, version, req).await
    }
    .await;
    after_move(&st, &ctx, id, r).await
}

// ---------------------------------------------------------------- pages: household and person

#[derive(Deserialize)]
struct OpenCaseForm {
    #[serde(default)]
    household_id: String,
    #[serde(default)]
    note: String,
}

/// Opens a case from the household page.
async fn open_case_form(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Form(f): Form<OpenCaseForm>,
) -> PageResult {
    ctx.require(Permission::Work)?;
    let household = text("household_id", &f.household_id, true, 64, false)?;
    match open(&st, &ctx, &household, &f.note).await {
        Ok(c) => Ok(Redirect::to(&format!("/cases/{}", c.id)).into_response()),
        Err(e) if shown_on_page(&e) => crate::pages::household_view(&st, &ctx, &household, Some(e)).await,
        Err(e) => Err(e.into()),
    }
}

/// The household page's part of the casework: its cases (a link to the open
/// one, or a button to open one), its visits, and the form to record a visit.
pub(crate) async fn household_section(st: &AppState, ctx: &Ctx, rec: &HouseholdRecord) -> Result<String, WebError> {
    let l = ctx.lang;
    let id = &rec.household.household_id;
    let day = today();
    let f = CaseFilter { household: Some(id.clone()), limit: 100, ..Default::default() };
    let cases = st.app.cases(ctx.scope(), &f, day).await.map_err(refused)?;
    let open = cases.iter().find(|c| c.state != CaseState::Closed);
    let mut b = format!("<h2>{}</h2>", t(l, "cases"));
    match open {
        Some(c) => {
            let _ = write!(
                b,
                "<p id=\"open-case\"><a href=\"/cases/{}\">{} #{}</a> {}{}</p>",
                c.id,
                t(l, "open_case_link"),
                c.id,
                state_label(l, c.state),
                if overdue(c, day) { format!(" {}", overdue_mark(l)) } else { String::new() }
            );
        }
        None if ctx.may(Permission::Work) => {
            let _ = write!(
                b,
                "<form method=\"post\" action=\"/cases\" class=\"stack\" id=\"open-case-form\">{}\
<input type=\"hidden\" name=\"household_id\" value=\"{}\"><label>{}<input name=\"note\"></label>\
<button type=\"submit\">{}</button></form>",
                csrf_field(ctx),
                esc(id),
                t(l, "note"),
                t(l, "open_case")
            );
        }
        None => {}
    }
    if cases.iter().any(|c| c.state == CaseState::Closed) {
        b.push_str(&table(l, &CASE_HEADS, &case_rows(l, &cases, day)));
    }
    let visits = st.app.visits(ctx.scope(), Some(id), None, 100).await.map_err(refused)?;
    let _ = write!(b, "<h2>{}</h2>", t(l, "visits"));
    b.push_str(&table(l, &VISIT_HEADS, &visit_rows(ctx, &visits)));
    if ctx.may(Permission::Visit) {
        let m = ctx.masking();
        let mut people = format!("<option value=\"\">{}</option>", t(l, "whole_household"));
        for p in &rec.members {
            let _ = write!(
                people,
                "<option value=\"{}\">{} {}</option>",
                p.person_id,
                esc(&m.name(&p.name)),
                esc(&m.id(p.person_id))
            );
        }
        let for_case = open
            .map(|c| {
                format!(
                    "<label><span><input type=\"checkbox\" name=\"case_id\" value=\"{}\" checked> {} #{}</span></label>",
                    c.id,
                    t(l, "for_case"),
                    c.id
                )
            })
            .unwrap_or_default();
        let _ = write!(
            b,
            "<h2>{rv}</h2><form method=\"post\" action=\"/households/{hid}/visits\" class=\"stack\" id=\"visit-form\">{csrf}\
<label>{k}<select name=\"kind\"><option value=\"household\">{kh}</option><option value=\"follow_up\">{kf}</option></select></label>\
<label>{who}<select name=\"person_id\">{people}</select></label>\
<label>{date}<input name=\"date\" type=\"date\" value=\"{day}\" max=\"{day}\" required></label>\
<label>{vis}<input name=\"visitors\" required maxlength=\"200\"></label>\
<label>{fin}<textarea name=\"findings\" rows=\"3\"></textarea></label>\
<label>{next}<input name=\"next_date\" type=\"date\"></label>{for_case}\
<button type=\"submit\">{rec}</button></form>",
            rv = t(l, "record_visit"),
            hid = url(id),
            csrf = csrf_field(ctx),
            k = t(l, "kind"),
            kh = kind_label(l, VisitKind::Household),
            kf = kind_label(l, VisitKind::FollowUp),
            who = t(l, "persons"),
            date = t(l, "date"),
            vis = t(l, "visitors"),
            fin = t(l, "findings"),
            next = t(l, "next_date"),
            rec = t(l, "record"),
        );
    }
    Ok(b)
}

#[derive(Deserialize)]
struct VisitForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    person_id: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    visitors: String,
    #[serde(default)]
    findings: String,
    #[serde(default)]
    next_date: String,
    #[serde(default)]
    case_id: String,
}

fn form_case_id(v: &str) -> Result<Option<i64>, WebError> {
    match v.trim() {
        "" => Ok(None),
        s => s
            .parse::<i64>()
            .ok()
            .filter(|c| *c > 0)
            .map(Some)
            .ok_or_else(|| WebError::BadRequest(format!("case_id: {s:?} is not a case ID"))),
    }
}

async fn household_visit_form(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Path(id): Path<String>,
    Form(f): Form<VisitForm>,
) -> PageResult {
    ctx.require(Permission::Visit)?;
    let id = text("household ID", &id, true, 64, false)?;
    let r = async {
        let v =
            visit_of(&id, Some(&f.person_id), &f.kind, &f.date, &f.visitors, &f.findings, Some(&f.next_date), today())?;
        record(&st, &ctx, v, form_case_id(&f.case_id)?).await
    }
    .await;
    match r {
        Ok(_) => Ok(Redirect::to(&format!("/households/{}", url(&id))).into_response()),
        Err(e) if shown_on_page(&e) => crate::pages::household_view(&st, &ctx, &id, Some(e)).await,
        Err(e) => Err(e.into()),
    }
}

/// The person page's part of the casework: the person's contracts and visits,
/// and the forms to sign a contract and to record a follow-up.
pub(crate) async fn person_section(st: &AppState, ctx: &Ctx, rec: &PersonRecord) -> Result<String, WebError> {
    let l = ctx.lang;
    let pid = rec.person.person_id;
    let day = today();
    let contracts = st.app.doctor_contracts(ctx.scope(), Some(pid), 100).await.map_err(refused)?;
    let mut b = format!("<h2>{}</h2>", t(l, "contracts"));
    let rows: Vec<Vec<String>> = contracts
        .iter()
        .map(|k| {
            vec![
                esc(&k.contract.practitioner_id),
                k.contract.signed.to_string(),
                k.contract.ends.to_string(),
                if k.contract.ends < day { t(l, "expired").to_string() } else { String::new() },
                esc(&k.recorded_by),
            ]
        })
        .collect();
    b.push_str(&table(l, &["practitioner", "signed", "ends", "state", "who"], &rows));
    let visits = st.app.visits(ctx.scope(), None, Some(pid), 100).await.map_err(refused)?;
    let _ = write!(b, "<h2>{}</h2>", t(l, "visits"));
    b.push_str(&table(l, &VISIT_HEADS, &visit_rows(ctx, &visits)));
    if ctx.may(Permission::Visit) {
        let path = crate::api::person_path(st.app.person_refs().await.map_err(refused)?, pid);
        let _ = write!(
            b,
            "<h2>{sc}</h2><form method=\"post\" action=\"{path}/contracts\" class=\"stack\" id=\"contract-form\">{csrf}\
<label>{pr}<input name=\"practitioner_id\" required maxlength=\"64\"></label>\
<label>{sg}<input name=\"signed\" type=\"date\" value=\"{day}\" required></label>\
<label>{en}<input name=\"ends\" type=\"date\" value=\"{end}\" required></label>\
<button type=\"submit\">{sc}</button></form>\
<h2>{fu}</h2><form method=\"post\" action=\"{path}/visits\" class=\"stack\" id=\"follow-up-form\">{csrf}\
<label>{date}<input name=\"date\" type=\"date\" value=\"{day}\" max=\"{day}\" required></label>\
<label>{vis}<input name=\"visitors\" required maxlength=\"200\"></label>\
<label>{fin}<textarea name=\"findings\" rows=\"3\"></textarea></label>\
<label>{next}<input name=\"next_date\" type=\"date\"></label>\
<button type=\"submit\">{rec}</button></form>",
            sc = t(l, "sign_contract"),
            csrf = csrf_field(ctx),
            pr = t(l, "practitioner"),
            sg = t(l, "signed"),
            en = t(l, "ends"),
            end = day.checked_add_months(chrono::Months::new(12)).unwrap_or(day),
            fu = t(l, "record_follow_up"),
            date = t(l, "date"),
            vis = t(l, "visitors"),
            fin = t(l, "findings"),
            next = t(l, "next_date"),
            rec = t(l, "record"),
        );
    }
    Ok(b)
}

#[derive(Deserialize)]
struct ContractForm {
    #[serde(default)]
    practitioner_id: String,
    #[serde(default)]
    signed: String,
    #[serde(default)]
    ends: String,
}

async fn contract_form(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Path(id): Path<String>,
    Form(f): Form<ContractForm>,
) -> PageResult {
    ctx.require(Permission::Visit)?;
    let pid = person_param(&st, &ctx, &id).await?;
    let r = async {
        let k = contract_of(&pid.to_string(), &f.practitioner_id, &f.signed, &f.ends)?;
        sign(&st, &ctx, k).await
    }
    .await;
    match r {
        Ok(_) => Ok(Redirect::to(&person_path(st.app.person_refs().await?, pid)).into_response()),
        Err(e) if shown_on_page(&e) => crate::pages::person_view(&st, &ctx, pid, Some(e)).await,
        Err(WebError::NotFound(_)) => Err(WebError::not_found("person").into()),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct FollowUpForm {
    #[serde(default)]
    date: String,
    #[serde(default)]
    visitors: String,
    #[serde(default)]
    findings: String,
    #[serde(default)]
    next_date: String,
}

async fn follow_up_form(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Path(id): Path<String>,
    Form(f): Form<FollowUpForm>,
) -> PageResult {
    ctx.require(Permission::Visit)?;
    let pid = person_param(&st, &ctx, &id).await?;
    let rec = st.app.person(ctx.scope(), pid).await?.ok_or_else(|| PageError(WebError::not_found("person")))?;
    let r = async {
        let v = visit_of(
            &rec.person.household_id,
            Some(&pid.to_string()),
            "follow_up",
            &f.date,
            &f.visitors,
            &f.findings,
            Some(&f.next_date),
            today(),
        )?;
        record(&st, &ctx, v, None).await
    }
    .await;
    match r {
        Ok(_) => Ok(Redirect::to(&person_path(st.app.person_refs().await?, pid)).into_response()),
        Err(e) if shown_on_page(&e) => crate::pages::person_view(&st, &ctx, pid, Some(e)).await,
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn msg(e: WebError) -> String {
        assert_eq!(e.status(), StatusCode::BAD_REQUEST, "{e}");
        e.to_string()
    }

    #[test]
    fn fields_are_named_in_the_refusals() {
        let today = day("2026-06-30");
        assert!(msg(text("visitors", "  ", true, 10, false).unwrap_err()).starts_with("visitors:"));
        assert!(msg(text("note", "a\u{0}b", false, 10, true).unwrap_err()).contains("control"));
        assert_eq!(text("note", " a\nb ", false, 10, true).unwrap(), "a\nb");
        assert!(msg(past_date("date", "2026-07-01", today).unwrap_err()).contains("future"));
        assert!(msg(date("date", "2026-02-30").unwrap_err()).starts_with("date:"));
        assert!(msg(next_date(Some("2026-06-01"), day("2026-06-01")).unwrap_err()).starts_with("next_date:"));
        assert_eq!(next_date(Some(""), today).unwrap(), None);
        assert!(msg(assign_request("li", Some("2026-06-01"), today).unwrap_err()).contains("has passed"));
        assert!(msg(close_request("done", "x").unwrap_err()).starts_with("reason:"));
        assert!(msg(close_request("no_risk", " ").unwrap_err()).starts_with("note:"));
        assert!(
            msg(measure_request("cash", "12.345", "f", "2026-06-01", "", today).unwrap_err()).starts_with("amount:")
        );
        assert!(msg(version(0).unwrap_err()).starts_with("version:"));
        assert!(msg(form_version("x").unwrap_err()).starts_with("version:"));
        let v = |kind: &str, person: Option<&str>| {
            visit_of("HA1", person, kind, "2026-06-01", "li", "", None, today).map(|v| v.kind)
        };
        assert!(msg(v("verification", None).unwrap_err()).contains("on its case"));
        assert!(msg(v("follow_up", None).unwrap_err()).starts_with("person_id:"));
        assert!(msg(v("call", None).unwrap_err()).starts_with("kind:"));
        assert_eq!(v("household", Some("")).unwrap(), VisitKind::Household);
        assert!(msg(contract_of("12", "PA1", "2026-01-01", "2027-01-01").unwrap_err()).starts_with("person_id:"));
    }

    #[test]
    fn overdue_is_awaiting_verification_past_the_deadline() {
        let today = day("2026-06-30");
        let at = chrono::Utc::now();
        let mut c = StoredCase {
            id: 1,
            household_id: "HA1".into(),
            village: "341122100201".parse().unwrap(),
            state: CaseState::Assigned,
            source: "officer".into(),
            opened_at: at,
            opened_by: "li".into(),
            assignee: "li".into(),
            due: day("2026-06-29"),
            verified_on: None,
            close_due: day("2026-12-01"),
            monitored: None,
            closed_at: None,
            closed_on: None,
            close_reason: None,
            note: String::new(),
            version: 2,
            updated_at: at,
            alerts: vec![],
            measures: vec![],
            visits: vec![],
            events: vec![],
        };
        assert!(overdue(&c, today));
        c.due = today;
        assert!(!overdue(&c, today), "due today is not late yet");
        c.due = day("2026-06-01");
        c.state = CaseState::Verified;
        assert!(!overdue(&c, today), "verified cases have met their deadline");
    }
}
