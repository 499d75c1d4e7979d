//! Basic medical insurance enrolment over HTTP (docs/desk.md, "Enrolment"): a
//! person's enrolment by year, read (`GET /api/v1/persons/{id}/enrolments`) and
//! set for a year (`PUT /api/v1/persons/{id}/enrolments/{year}`), and on the
//! person's page as a table with a form. A person outside the caller's scope is
//! answered as an unknown one; setting needs [`Permission::Work`], as the
//! registry's edits do; the application audits every change.

use crate::access::Permission;
use crate::api::{person_param, person_path, ApiJson};
use crate::auth::{ApiUser, Ctx, PageUser};
use crate::error::WebError;
use crate::html::{csrf_field, esc};
use crate::i18n::Lang;
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post, put};
use axum::{Form, Json, Router};
use domain::{Enrolment, ResidentId, SubsidyCategory};
use serde::{Deserialize, Serialize};
use std::fmt::Write;

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/persons/{id}/enrolments", get(list_api))
        .route("/persons/{id}/enrolments/{year}", put(set_api))
}

pub fn page_routes() -> Router<AppState> {
    Router::new().route("/persons/{id}/enrolments", post(set_form))
}

/// One year's enrolment as the API gives it.
#[derive(Serialize)]
pub struct EnrolmentOut {
    pub year: i32,
    pub category: String,
    pub category_zh: String,
    pub enrolled_on: String,
    pub changed_by: String,
    pub changed_at: String,
}

fn out(e: &store::StoredEnrolment) -> EnrolmentOut {
    EnrolmentOut {
        year: e.enrolment.year,
        category: e.enrolment.category.to_string(),
        category_zh: e.enrolment.category.zh().to_string(),
        enrolled_on: e.enrolment.enrolled_on.to_string(),
        changed_by: e.changed_by.clone(),
        changed_at: e.changed_at.to_rfc3339(),
    }
}

/// A year's enrolment to set.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolmentIn {
    pub category: String,
    pub enrolled_on: String,
}

/// A person's enrolments by year, as the API's other lists answer (`items`).
#[derive(Serialize)]
pub struct EnrolmentList {
    items: Vec<EnrolmentOut>,
}

/// The enrolment of a form or a body, checked as a file row is.
fn enrolment(pid: ResidentId, year: &str, category: &str, enrolled_on: &str) -> Result<Enrolment, WebError> {
    use domain::Record;
    let pid = pid.to_string();
    Enrolment::from_fields(&[&pid, year, category, enrolled_on])
        .map_err(|e| WebError::BadRequest(format!("{}: {}", e.column, e.reason)))
}

async fn list_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<EnrolmentList>, WebError> {
    let pid = person_param(&st, &ctx, &id).await?;
    let kept = st.app.enrolments(ctx.scope(), pid).await?;
    Ok(Json(EnrolmentList { items: kept.iter().map(out).collect() }))
}

async fn set_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path((id, year)): Path<(String, String)>,
    ApiJson(b): ApiJson<EnrolmentIn>,
) -> Result<Json<EnrolmentList>, WebError> {
    ctx.require(Permission::Work)?;
    let pid = person_param(&st, &ctx, &id).await?;
    // A person outside the scope is unknown (404) before the body is read.
    st.app.enrolments(ctx.scope(), pid).await?;
    let e = enrolment(pid, &year, &b.category, &b.enrolled_on)?;
    st.app.set_enrolments(ctx.scope(), &[("the enrolment".into(), e)], &ctx.user.username).await?;
    let kept = st.app.enrolments(ctx.scope(), pid).await?;
    Ok(Json(EnrolmentList { items: kept.iter().map(out).collect() }))
}

#[derive(Deserialize)]
struct EnrolmentForm {
    year: String,
    category: String,
    enrolled_on: String,
}

async fn set_form(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Path(id): Path<String>,
    Form(f): Form<EnrolmentForm>,
) -> Result<Response, crate::error::PageError> {
    ctx.require(Permission::Work)?;
    let pid = person_param(&st, &ctx, &id).await?;
    st.app.enrolments(ctx.scope(), pid).await?;
    let r = async {
        let e = enrolment(pid, &f.year, &f.category, &f.enrolled_on)?;
        st.app.set_enrolments(ctx.scope(), &[("the enrolment".into(), e)], &ctx.user.username).await?;
        Ok::<_, WebError>(())
    }
    .await;
    match r {
        Ok(()) => Ok(Redirect::to(&person_path(st.app.person_refs().await?, pid)).into_response()),
        Err(e @ (WebError::BadRequest(_) | WebError::Unprocessable(_))) => {
            crate::pages::person_page(&st, &ctx, pid, Some(e), None).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The person page's enrolment: the years kept, and for users who do the work
/// the form to set a year's.
pub(crate) async fn person_section(st: &AppState, ctx: &Ctx, pid: ResidentId) -> Result<String, WebError> {
    let l = ctx.lang;
    let en = l == Lang::En;
    let lbl = |e: &'static str, z: &'static str| if en { e } else { z };
    let kept = st.app.enrolments(ctx.scope(), pid).await?;
    let mut b = format!("<section id=\"enrolment\"><h2>{}</h2>", lbl("Basic insurance enrolment", "基本医保参保"));
    if kept.is_empty() {
        let _ = write!(b, "<p>{}</p>", lbl("No year of enrolment is kept.", "无参保记录。"));
    } else {
        let _ = write!(
            b,
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
            lbl("Year", "年度"),
            lbl("Premium subsidy", "缴费资助"),
            lbl("Enrolled on", "参保日期"),
            lbl("Set by", "设置人"),
        );
        for e in &kept {
            let c = e.enrolment.category;
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{} ({})</td><td>{}</td><td>{}</td></tr>",
                e.enrolment.year,
                esc(c.as_str()),
                c.zh(),
                e.enrolment.enrolled_on,
                esc(&e.changed_by)
            );
        }
        b.push_str("</tbody></table>");
    }
    if ctx.may(Permission::Work) {
        let refs = st.app.person_refs().await?;
        let options: String = SubsidyCategory::ALL
            .iter()
            .map(|c| format!("<option value=\"{}\">{} ({})</option>", c.as_str(), c.as_str(), c.zh()))
            .collect();
        let _ = write!(
            b,
            "<form method=\"post\" action=\"{path}/enrolments\" class=\"stack\" id=\"enrolment-form\">{csrf}\
<label>{yl}<input name=\"year\" required inputmode=\"numeric\" maxlength=\"4\"></label>\
<label>{cl}<select name=\"category\">{options}</select></label>\
<label>{dl}<input name=\"enrolled_on\" type=\"date\" required></label>\
<button type=\"submit\">{save}</button></form>",
            path = person_path(refs, pid),
            csrf = csrf_field(ctx),
            yl = lbl("Year", "年度"),
            cl = lbl("Premium subsidy", "缴费资助"),
            dl = lbl("Enrolled on", "参保日期"),
            save = lbl("Set the enrolment", "保存参保"),
        );
    }
    b.push_str("</section>");
    Ok(b)
}
