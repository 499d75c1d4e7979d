//! The plausibility limits on amounts (`domain::limits`): every signed-in user
//! reads them (a clerk whose bill was refused sees the limit it passed), an
//! administrator changes them, on a page and through the API
//! (`GET`/`PUT /api/v1/limits`). Each change is audited by the application.

use crate::access::Permission;
use crate::api::ApiJson;
use crate::auth::{ApiUser, Ctx, PageUser};
use crate::error::{PageError, WebError};
use crate::html::{csrf_field, esc, page, table};
use crate::i18n::t;
use crate::settlement::Amount;
use crate::AppState;
use axum::extract::{Form, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use domain::{AmountLimits, Fen, LimitSubject};
use serde::{Deserialize, Serialize};
use std::fmt::Write;

pub fn api_routes() -> Router<AppState> {
    Router::new().route("/limits", get(list).put(set))
}

pub fn page_routes() -> Router<AppState> {
    Router::new().route("/limits", get(limits_page).post(limits_form))
}

#[derive(Serialize)]
struct LimitOut {
    subject: LimitSubject,
    kind: String,
    level: String,
    /// Yuan, as a string with two decimals.
    max: String,
}

#[derive(Serialize)]
struct LimitsOut {
    items: Vec<LimitOut>,
}

fn limits_out(l: &AmountLimits) -> LimitsOut {
    LimitsOut {
        items: l
            .0
            .iter()
            .map(|l| LimitOut {
                subject: l.subject,
                kind: l.kind.clone(),
                level: l.level.clone(),
                max: l.max.to_string(),
            })
            .collect(),
    }
}

async fn list(State(st): State<AppState>, ApiUser(_ctx): ApiUser) -> Result<Json<LimitsOut>, WebError> {
    Ok(Json(limits_out(&*st.app.amount_limits().await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitIn {
    subject: String,
    kind: String,
    #[serde(default)]
    level: String,
    /// The new maximum in yuan; `null` removes the limit.
    max: Option<Amount>,
}

/// Checks a change and makes it.
async fn change(
    st: &AppState,
    ctx: &Ctx,
    subject: &str,
    kind: &str,
    level: &str,
    max: Option<&str>,
) -> Result<(), WebError> {
    ctx.require(Permission::SetLimits)?;
    let subject = LimitSubject::parse(subject).map_err(|e| WebError::BadRequest(format!("subject: {e}")))?;
    let max = max.map(|m| Fen::parse_yuan(m).map_err(|e| WebError::BadRequest(format!("max: {e}")))).transpose()?;
    Ok(st.app.set_amount_limit(&ctx.user.username, subject, kind, level, max).await?)
}

async fn set(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    ApiJson(b): ApiJson<LimitIn>,
) -> Result<Json<LimitsOut>, WebError> {
    change(&st, &ctx, &b.subject, &b.kind, &b.level, b.max.as_ref().map(|a| a.0.as_str())).await?;
    Ok(Json(limits_out(&*st.app.amount_limits().await?)))
}

async fn limits_page(State(st): State<AppState>, PageUser(ctx): PageUser) -> Result<Response, PageError> {
    draw(&st, &ctx, None).await
}

async fn draw(st: &AppState, ctx: &Ctx, error: Option<WebError>) -> Result<Response, PageError> {
    let l = ctx.lang;
    let limits = st.app.amount_limits().await?;
    let rows: Vec<Vec<String>> =
        limits.0.iter().map(|x| vec![x.subject.to_string(), esc(&x.kind), esc(&x.level), x.max.to_string()]).collect();
    let mut b = error.as_ref().map(crate::pages::form_error).unwrap_or_default();
    let _ = write!(b, "<p class=\"note\">{}</p>", t(l, "limits_note"));
    b.push_str(&table(l, &["subject", "kind", "care_level", "max_yuan"], &rows));
    if ctx.may(Permission::SetLimits) {
        let _ = write!(
            b,
            "<h2>{title}</h2><form method=\"post\" action=\"/limits\" class=\"stack\" id=\"limit-form\">{csrf}\
<label>{subject}<select name=\"subject\"><option value=\"claim\">claim</option><option value=\"measure\">measure</option></select></label>\
<label>{kind}<input name=\"kind\" required maxlength=\"64\" placeholder=\"inpatient, 临时救助, *\"></label>\
<label>{level}<input name=\"level\" maxlength=\"32\" placeholder=\"county, *\"></label>\
<label>{max}<input name=\"max\" inputmode=\"decimal\" placeholder=\"{remove}\"></label>\
<button type=\"submit\">{save}</button></form>",
            title = t(l, "change_limit"),
            csrf = csrf_field(ctx),
            subject = t(l, "subject"),
            kind = t(l, "kind"),
            level = t(l, "care_level"),
            max = t(l, "max_yuan"),
            remove = t(l, "limit_remove_hint"),
            save = t(l, "save"),
        );
    }
    let body = page(ctx, t(l, "limits"), &b);
    Ok(match error {
        Some(e) => (e.status(), Html(body)).into_response(),
        None => Html(body).into_response(),
    })
}

#[derive(Deserialize)]
struct LimitForm {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    max: String,
}

async fn limits_form(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Form(f): Form<LimitForm>,
) -> Result<Response, PageError> {
    let max = Some(f.max.trim()).filter(|m| !m.is_empty());
    match change(&st, &ctx, &f.subject, &f.kind, &f.level, max).await {
        Ok(()) => Ok(Redirect::to("/limits").into_response()),
        Err(e @ WebError::Forbidden(_)) => Err(e.into()),
        Err(e) => draw(&st, &ctx, Some(e)).await,
    }
}
