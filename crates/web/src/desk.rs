//! The hospital desk over HTTP (docs/desk.md): admissions under "treat first,
//! pay later" and the patient's instalments, a facility's arrears, and its
//! reconciliation with the funds (JSON, or the statement as CSV or XLSX).
//! Handlers translate; the rules are [`app::desk`]'s and
//! [`app::reconcile`]'s. Writes need the `Settle` permission (clerk, officer,
//! administrator); persons are named by reference and masked as the role
//! requires; another county's admission or facility answers 404.

use crate::access::Permission;
use crate::api::{person_param, ApiJson, ApiQuery};
use crate::auth::{audit, ApiUser, Ctx};
use crate::error::WebError;
use crate::settlement::Amount;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use domain::Fen;
use serde::{Deserialize, Serialize};

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/admissions", post(admit_api))
        .route("/admissions/{id}", get(admission_api))
        .route("/admissions/{id}/claim", post(link_api))
        .route("/admissions/{id}/payments", post(pay_api))
        .route("/facilities/{id}/arrears", get(arrears_api))
        .route("/facilities/{id}/reconciliation", get(reconcile_api))
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn date_field(field: &str, v: &str) -> Result<NaiveDate, WebError> {
    domain::parse_date(v.trim()).map_err(|e| WebError::BadRequest(format!("{field}: {e}")))
}

fn admission_id(id: &str) -> Result<i64, WebError> {
    match id.trim().parse::<i64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(WebError::BadRequest("invalid admission number: a whole number from 1".into())),
    }
}

fn facility_id(id: &str) -> Result<String, WebError> {
    domain::parse_id("facility", id).map_err(|e| WebError::BadRequest(format!("invalid facility ID: {}", e.reason)))
}

#[derive(Serialize)]
pub struct PaymentOut {
    amount: String,
    paid_on: String,
    method: String,
    recorded_by: String,
}

#[derive(Serialize)]
pub struct AdmissionOut {
    id: i64,
    person_ref: String,
    person_id: String,
    name: String,
    facility_id: String,
    admitted: String,
    status: String,
    deposit_waived: bool,
    claim_id: Option<String>,
    claim_voided: bool,
    discharged: Option<String>,
    owed: String,
    paid: String,
    /// Owed minus paid; negative: to refund (after a void).
    balance: String,
    payments: Vec<PaymentOut>,
}

pub(crate) async fn admission_out(
    st: &AppState,
    ctx: &Ctx,
    a: &app::desk::Admission,
) -> Result<AdmissionOut, WebError> {
    let refs = st.app.person_refs().await?;
    let m = ctx.masking();
    Ok(AdmissionOut {
        id: a.id,
        person_ref: refs.reference(a.person),
        person_id: m.id(a.person),
        name: m.name(&a.name),
        facility_id: a.facility_id.clone(),
        admitted: a.admitted.to_string(),
        status: a.status.to_string(),
        deposit_waived: a.deposit_waived,
        claim_id: a.claim_id.clone(),
        claim_voided: a.claim_voided,
        discharged: a.discharged.map(|d| d.to_string()),
        owed: a.owed.to_string(),
        paid: a.paid.to_string(),
        balance: a.balance().to_string(),
        payments: a
            .payments
            .iter()
            .map(|p| PaymentOut {
                amount: p.amount.to_string(),
                paid_on: p.paid_on.to_string(),
                method: p.method.clone(),
                recorded_by: p.recorded_by.clone(),
            })
            .collect(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdmitIn {
    pub person: String,
    pub facility_id: String,
    pub admitted: Option<String>,
}

async fn admit_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    ApiJson(body): ApiJson<AdmitIn>,
) -> Result<Response, WebError> {
    ctx.require(Permission::Settle)?;
    let person = person_param(&st, &ctx, &body.person).await?;
    let facility = facility_id(&body.facility_id)?;
    let admitted = match body.admitted.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(d) => date_field("admitted", d)?,
        None => crate::work::today(),
    };
    let a = st.app.admit(ctx.scope(), person, &facility, admitted, &ctx.user.username).await?;
    Ok((StatusCode::CREATED, Json(admission_out(&st, &ctx, &a).await?)).into_response())
}

async fn admission_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<AdmissionOut>, WebError> {
    let id = admission_id(&id)?;
    let found = match st.app.admission(ctx.scope(), id).await {
        // Another facility's admission to a clerk bound to one: refused, audited.
        Err(app::AppError::Forbidden(m)) => {
            audit(&st, &ctx.user.username, "facility_refused", &format!("admission {id}"), &m).await?;
            return Err(WebError::Forbidden(m));
        }
        r => r?,
    };
    let Some(a) = found else { return Err(WebError::not_found("admission")) };
    audit(&st, &ctx.user.username, "view_admission", &format!("admission {id}"), &a.person.to_string()).await?;
    Ok(Json(admission_out(&st, &ctx, &a).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkIn {
    pub claim_id: String,
}

async fn link_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<LinkIn>,
) -> Result<Json<AdmissionOut>, WebError> {
    ctx.require(Permission::Settle)?;
    let id = admission_id(&id)?;
    let claim = domain::parse_id("claim_id", &body.claim_id)
        .map_err(|e| WebError::BadRequest(format!("claim_id: {}", e.reason)))?;
    let a = st.app.link_admission_claim(ctx.scope(), id, &claim, &ctx.user.username).await?;
    Ok(Json(admission_out(&st, &ctx, &a).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentIn {
    pub amount: Amount,
    pub paid_on: Option<String>,
    pub method: String,
}

async fn pay_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PaymentIn>,
) -> Result<Response, WebError> {
    ctx.require(Permission::Settle)?;
    let id = admission_id(&id)?;
    let amount = Fen::parse_yuan(body.amount.0.trim()).map_err(|e| WebError::BadRequest(format!("amount: {e}")))?;
    if amount <= Fen::ZERO {
        return Err(WebError::BadRequest("amount: a payment must be more than zero".into()));
    }
    let paid_on = match body.paid_on.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(d) => date_field("paid_on", d)?,
        None => crate::work::today(),
    };
    let a = st.app.take_admission_payment(ctx.scope(), id, amount, paid_on, &body.method, &ctx.user.username).await?;
    Ok((StatusCode::CREATED, Json(admission_out(&st, &ctx, &a).await?)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AsOfQuery {
    as_of: Option<String>,
}

#[derive(Serialize)]
struct ArrearOut {
    days_outstanding: i64,
    admission: AdmissionOut,
}

#[derive(Serialize)]
struct ArrearsOut {
    facility_id: String,
    as_of: String,
    total: String,
    /// Waived admissions whose bill is settled with a share for the patient.
    waived_settled: u64,
    /// Of those, the ones paid up.
    waived_paid_up: u64,
    /// waived_paid_up / waived_settled, or null without any.
    paid_up_share: Option<f64>,
    rows: Vec<ArrearOut>,
}

async fn arrears_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<AsOfQuery>,
) -> Result<Json<ArrearsOut>, WebError> {
    let facility = facility_id(&id)?;
    let as_of = match q.as_of.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(d) => date_field("as_of", d)?,
        None => crate::work::today(),
    };
    st.app.refuse_other_facility(ctx.scope(), &facility, &ctx.user.username, "the arrears").await?;
    let a = st.app.arrears(ctx.scope(), &facility, as_of).await?;
    let mut rows = Vec::with_capacity(a.rows.len());
    for r in &a.rows {
        rows.push(ArrearOut {
            days_outstanding: r.days_outstanding,
            admission: admission_out(&st, &ctx, &r.admission).await?,
        });
    }
    let detail = format!("{} admissions in arrears, as of {as_of}", a.rows.len());
    audit(&st, &ctx.user.username, "view_arrears", &facility, &detail).await?;
    Ok(Json(ArrearsOut {
        facility_id: a.facility_id.clone(),
        as_of: as_of.to_string(),
        total: a.total.to_string(),
        waived_settled: a.waived_settled,
        waived_paid_up: a.waived_paid_up,
        paid_up_share: a.paid_up_share(),
        rows,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReconcileQuery {
    from: String,
    to: String,
    format: Option<String>,
    fund: Option<String>,
}

#[derive(Serialize)]
struct TotalsOut {
    day: Option<String>,
    fund: String,
    settled: String,
    voided: String,
    corrected: String,
    net: String,
}

#[derive(Serialize)]
struct LineOut {
    day: String,
    kind: &'static str,
    claim_id: String,
    person_id: String,
    fund: String,
    amount: String,
    cause: String,
}

#[derive(Serialize)]
struct ReconciliationOut {
    facility_id: String,
    from: String,
    to: String,
    funds: Vec<String>,
    days: Vec<TotalsOut>,
    totals: Vec<TotalsOut>,
    lines: Vec<LineOut>,
}

fn totals_out(t: &app::reconcile::Totals) -> TotalsOut {
    TotalsOut {
        day: t.day.map(|d| d.to_string()),
        fund: t.fund.clone(),
        settled: t.settled.to_string(),
        voided: t.voided.to_string(),
        corrected: t.corrected.to_string(),
        net: t.net.to_string(),
    }
}

async fn reconcile_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ReconcileQuery>,
) -> Result<Response, WebError> {
    if !(ctx.may(Permission::Settle) || ctx.may(Permission::Export)) {
        ctx.require(Permission::Settle)?;
    }
    let facility = facility_id(&id)?;
    let from = date_field("from", &q.from)?;
    let to = date_field("to", &q.to)?;
    let format = match q.format.as_deref().map(str::trim).filter(|f| !f.is_empty()).unwrap_or("json") {
        f @ ("json" | "csv" | "xlsx") => f.to_string(),
        _ => return Err(WebError::BadRequest("format: expected json, csv or xlsx".into())),
    };
    st.app.refuse_other_facility(ctx.scope(), &facility, &ctx.user.username, "the reconciliation").await?;
    let r = st.app.reconcile(ctx.scope(), &facility, from, to).await?;
    let fund = q.fund.as_deref().map(str::trim).filter(|f| !f.is_empty());
    if let Some(f) = fund {
        if !r.funds.iter().any(|x| x == f) {
            return Err(WebError::BadRequest(format!(
                "fund: not a fund of this reconciliation; expected one of {}",
                r.funds.join(", ")
            )));
        }
    }
    let detail = format!("{format}: {facility} from {from} to {to}, {} lines", r.lines.len());
    let action = if format == "json" { "view_reconciliation" } else { "export" };
    let body = match format.as_str() {
        "csv" | "xlsx" => {
            let tables = r.tables(ctx.masking());
            let name = format!("reconciliation_{facility}_{from}_{to}");
            if format == "csv" {
                let t = match fund {
                    Some(f) => tables.iter().find(|t| t.name == f.chars().take(31).collect::<String>()),
                    None => tables.first(),
                }
                .ok_or_else(|| WebError::Internal("the statement has no such table".into()))?;
                let mut out = Vec::new();
                ingest::tables::write_csv(t, &mut out).map_err(|e| WebError::Internal(e.to_string()))?;
                let disp = format!("attachment; filename=\"{}.csv\"", crate::html::url(&name));
                ([(CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (CONTENT_DISPOSITION, disp)], out)
                    .into_response()
            } else {
                let out = ingest::tables::xlsx_bytes(&tables).map_err(|e| WebError::Internal(e.to_string()))?;
                let disp = format!("attachment; filename=\"{}.xlsx\"", crate::html::url(&name));
                ([(CONTENT_TYPE, XLSX.to_string()), (CONTENT_DISPOSITION, disp)], out).into_response()
            }
        }
        _ => {
            let m = ctx.masking();
            Json(ReconciliationOut {
                facility_id: r.facility_id.clone(),
                from: from.to_string(),
                to: to.to_string(),
                funds: r.funds.clone(),
                days: r.days.iter().map(totals_out).collect(),
                totals: r.totals.iter().map(totals_out).collect(),
                lines: r
                    .lines
                    .iter()
                    .filter(|l| fund.is_none_or(|f| l.fund == f))
                    .map(|l| LineOut {
                        day: l.day.to_string(),
                        kind: l.kind.as_str(),
                        claim_id: l.claim_id.clone(),
                        person_id: m.id(l.person),
                        fund: l.fund.clone(),
                        amount: l.amount.to_string(),
                        cause: l.cause.clone(),
                    })
                    .collect(),
            })
            .into_response()
        }
    };
    audit(&st, &ctx.user.username, action, &facility, &detail).await?;
    Ok(body)
}
