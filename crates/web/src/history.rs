//! The history of the rural health network over HTTP (docs/coverage.md,
//! "History"): a practitioner's postings (employer and place of work, with
//! their days) and qualifications (with the days obtained and lapsing), read
//! and recorded under `/api/v1/practitioners/{id}/postings` and
//! `.../qualifications`, and on the practitioner's page with forms; the
//! practitioners of a scope with where they worked on a day; and the coverage
//! of a day as JSON (`/api/v1/coverage?as_of=`), the figures of the coverage
//! page.
//!
//! A practitioner is in the caller's scope when their record's facility, or a
//! facility they are posted to, lies inside it; one outside is answered as an
//! unknown one (404). Recording needs [`Permission::Work`] (officers and
//! administrators); the application checks the facility's scope and the
//! overlap of postings (422 naming the field) and audits every write. A field
//! of the wrong form is a 400 naming it.

use crate::access::Permission;
use crate::api::{ApiJson, ApiQuery};
use crate::auth::{ApiUser, Ctx, PageUser};
use crate::error::{PageError, WebError};
use crate::html::{csrf_field, esc, page, url};
use crate::i18n::Lang;
use crate::AppState;
use app::history::{today, PractitionerHistory};
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use chrono::NaiveDate;
use domain::{Posting, PostingRole, Qualification, QualificationHeld, Record};
use serde::{Deserialize, Serialize};
use std::fmt::Write;

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/coverage", get(coverage_api))
        .route("/practitioners/{id}/postings", get(postings_api).post(add_posting_api))
        .route("/practitioners/{id}/qualifications", get(qualifications_api).post(add_qualification_api))
        .route("/network-alerts", get(network_alerts_api))
}

pub fn page_routes() -> Router<AppState> {
    Router::new()
        .route("/practitioners", get(practitioners_page))
        .route("/practitioners/{id}", get(practitioner_page))
        .route("/practitioners/{id}/postings", axum::routing::post(add_posting_form))
        .route("/practitioners/{id}/qualifications", axum::routing::post(add_qualification_form))
        .route("/network-alerts", get(network_alerts_page))
}

fn lbl(l: Lang, en: &'static str, zh: &'static str) -> &'static str {
    if l == Lang::En {
        en
    } else {
        zh
    }
}

/// A practitioner's id in a path: 1 to 64 characters, no control character.
fn practitioner_id(id: &str) -> Result<String, WebError> {
    domain::records::parse_id("id", id).map_err(|e| WebError::BadRequest(format!("id: {}", e.reason)))
}

/// The day of `?as_of=`: a date, or today when absent or blank.
pub(crate) fn as_of(v: Option<&str>) -> Result<NaiveDate, WebError> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => domain::parse_date(s).map_err(|e| WebError::BadRequest(format!("as_of: {e}"))),
        None => Ok(today()),
    }
}

fn day(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.to_string())
}

// ---------------------------------------------------------------- JSON

/// A posting as the API gives it. With no posting recorded, the one item is
/// the rule's: the record's facility, from an unknown day (`from_record`).
#[derive(Serialize)]
pub struct PostingOut {
    pub id: Option<i64>,
    pub facility_id: String,
    pub role: String,
    pub start: Option<String>,
    pub end: Option<String>,
    pub from_record: bool,
    pub changed_by: Option<String>,
    pub changed_at: Option<String>,
}

/// A qualification as the API gives it; with none recorded, the record's.
#[derive(Serialize)]
pub struct QualificationOut {
    pub id: Option<i64>,
    pub qualification: String,
    pub obtained: Option<String>,
    pub lapses: Option<String>,
    pub from_record: bool,
    pub changed_by: Option<String>,
    pub changed_at: Option<String>,
}

#[derive(Serialize)]
pub struct Items<T> {
    items: Vec<T>,
}

fn postings_out(h: &PractitionerHistory) -> Vec<PostingOut> {
    if h.postings.is_empty() {
        return vec![PostingOut {
            id: None,
            facility_id: h.practitioner.facility_id.clone(),
            role: PostingRole::Posting.to_string(),
            start: None,
            end: None,
            from_record: true,
            changed_by: None,
            changed_at: None,
        }];
    }
    h.postings
        .iter()
        .map(|s| PostingOut {
            id: Some(s.id),
            facility_id: s.posting.facility_id.clone(),
            role: s.posting.role.to_string(),
            start: day(s.posting.start),
            end: day(s.posting.end),
            from_record: false,
            changed_by: Some(s.changed_by.clone()),
            changed_at: Some(s.changed_at.to_rfc3339()),
        })
        .collect()
}

fn qualifications_out(h: &PractitionerHistory) -> Vec<QualificationOut> {
    if h.qualifications.is_empty() {
        return vec![QualificationOut {
            id: None,
            qualification: h.practitioner.qualification.to_string(),
            obtained: None,
            lapses: None,
            from_record: true,
            changed_by: None,
            changed_at: None,
        }];
    }
    h.qualifications
        .iter()
        .map(|s| QualificationOut {
            id: Some(s.id),
            qualification: s.held.qualification.to_string(),
            obtained: day(s.held.obtained),
            lapses: day(s.held.lapses),
            from_record: false,
            changed_by: Some(s.changed_by.clone()),
            changed_at: Some(s.changed_at.to_rfc3339()),
        })
        .collect()
}

/// A posting to record.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostingIn {
    pub facility_id: String,
    pub role: String,
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub end: Option<String>,
    /// Once recorded, raise the network alerts of the places where the
    /// practitioner may work, up to this many years ahead (0 to 5).
    #[serde(default)]
    pub raise_network_alerts: Option<i32>,
}

/// A qualification to record.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QualificationIn {
    pub qualification: String,
    #[serde(default)]
    pub obtained: Option<String>,
    #[serde(default)]
    pub lapses: Option<String>,
    /// As for a posting.
    #[serde(default)]
    pub raise_network_alerts: Option<i32>,
}

/// Postings or qualifications as they stand after a write, with the network
/// alerts raised after it when asked.
#[derive(Serialize)]
pub struct Recorded<T> {
    items: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    network_alerts: Option<crate::network_cases::RaiseOut>,
}

/// The horizon asked for a raise after a write: none, or 0 to 5 years.
fn raise_years(v: Option<i32>) -> Result<Option<i32>, WebError> {
    v.map(|y| crate::network_cases::years(Some(y))).transpose()
}

/// The field of a form that asks for the network alerts raised after it.
fn raise_select(l: Lang) -> String {
    format!(
        "<label>{}<select name=\"raise_network_alerts\"><option value=\"\">{}</option>\
<option value=\"1\">1</option><option value=\"3\">3</option><option value=\"5\">5</option></select></label>",
        lbl(l, "Then raise the network alerts of its places, years ahead", "随后更新相关村点的网络预警（年）"),
        lbl(l, "no", "否"),
    )
}

/// The horizon of a form's field: empty for none.
fn raise_years_field(v: &str) -> Result<Option<i32>, WebError> {
    match v.trim() {
        "" => Ok(None),
        y => {
            let y = y
                .parse()
                .map_err(|_| WebError::BadRequest(format!("raise_network_alerts: {y:?} is not a number of years")))?;
            raise_years(Some(y))
        }
    }
}

/// After a posting or qualification of `id` is recorded: the network alerts
/// of the places where they may work computed again and kept (the
/// incremental recompute, docs/coverage.md), when a horizon is asked.
async fn raise_after(
    st: &AppState,
    ctx: &Ctx,
    id: &str,
    years: Option<i32>,
) -> Result<Option<app::network_cases::Raised>, WebError> {
    let Some(y) = years else { return Ok(None) };
    ctx.require(Permission::Work)?;
    let places = st.app.network_places(ctx.scope(), &[id.to_string()], &[]).await?;
    let r = st
        .app
        .raise_network_alerts_at(ctx.scope(), &places, today(), y, &coverage::Settings::default(), &ctx.user.username)
        .await
        .map_err(crate::work::refused)?;
    Ok(Some(r))
}

/// The posting of a body or a form, checked as a file row is.
fn posting_of(id: &str, facility: &str, role: &str, start: &str, end: &str) -> Result<Posting, WebError> {
    Posting::from_fields(&[id, facility, role, start, end])
        .map_err(|e| WebError::BadRequest(format!("{}: {}", e.column, e.reason)))
}

fn qualification_of(id: &str, q: &str, obtained: &str, lapses: &str) -> Result<QualificationHeld, WebError> {
    QualificationHeld::from_fields(&[id, q, obtained, lapses])
        .map_err(|e| WebError::BadRequest(format!("{}: {}", e.column, e.reason)))
}

async fn postings_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Items<PostingOut>>, WebError> {
    let id = practitioner_id(&id)?;
    let h = st.app.practitioner_history(ctx.scope(), &id).await?;
    Ok(Json(Items { items: postings_out(&h) }))
}

async fn add_posting_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<PostingIn>,
) -> Result<Json<Recorded<PostingOut>>, WebError> {
    ctx.require(Permission::Work)?;
    let id = practitioner_id(&id)?;
    // A practitioner outside the scope is unknown (404) before the body is read.
    st.app.practitioner_history(ctx.scope(), &id).await?;
    let p = posting_of(&id, &b.facility_id, &b.role, b.start.as_deref().unwrap_or(""), b.end.as_deref().unwrap_or(""))?;
    let years = raise_years(b.raise_network_alerts)?;
    st.app.record_postings(ctx.scope(), &[("the posting".into(), p)], &ctx.user.username).await?;
    let raised = raise_after(&st, &ctx, &id, years).await?;
    let h = st.app.practitioner_history(ctx.scope(), &id).await?;
    Ok(Json(Recorded { items: postings_out(&h), network_alerts: raised.map(crate::network_cases::raise_out) }))
}

async fn qualifications_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Items<QualificationOut>>, WebError> {
    let id = practitioner_id(&id)?;
    let h = st.app.practitioner_history(ctx.scope(), &id).await?;
    Ok(Json(Items { items: qualifications_out(&h) }))
}

async fn add_qualification_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<QualificationIn>,
) -> Result<Json<Recorded<QualificationOut>>, WebError> {
    ctx.require(Permission::Work)?;
    let id = practitioner_id(&id)?;
    st.app.practitioner_history(ctx.scope(), &id).await?;
    let q = qualification_of(
        &id,
        &b.qualification,
        b.obtained.as_deref().unwrap_or(""),
        b.lapses.as_deref().unwrap_or(""),
    )?;
    let years = raise_years(b.raise_network_alerts)?;
    st.app.record_qualifications(ctx.scope(), &[("the qualification".into(), q)], &ctx.user.username).await?;
    let raised = raise_after(&st, &ctx, &id, years).await?;
    let h = st.app.practitioner_history(ctx.scope(), &id).await?;
    Ok(Json(Recorded { items: qualifications_out(&h), network_alerts: raised.map(crate::network_cases::raise_out) }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoverageQuery {
    #[serde(default)]
    pub as_of: Option<String>,
}

#[derive(Serialize)]
pub struct CountOut {
    pub in_years: i32,
    pub kind: &'static str,
    pub count: usize,
}

#[derive(Serialize)]
pub struct SpotOut {
    pub kind: &'static str,
    pub region_code: String,
    pub name: String,
    pub in_years: i32,
    pub detail: String,
}

#[derive(Serialize)]
pub struct CoverageOut {
    pub as_of: String,
    pub blank_villages: usize,
    pub counts: Vec<CountOut>,
    pub spots: Vec<SpotOut>,
}

/// The blank spots of the scope on `as_of` (today when absent) and at each
/// horizon, from the network's history: the coverage page's figures.
async fn coverage_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    ApiQuery(q): ApiQuery<CoverageQuery>,
) -> Result<Json<CoverageOut>, WebError> {
    let as_of = as_of(q.as_of.as_deref())?;
    let c = st.app.coverage_on(ctx.scope(), as_of, &coverage::Settings::default()).await?;
    let mut counts = Vec::new();
    for y in coverage::HORIZONS {
        for k in coverage::BlankKind::ALL {
            let count = c.spots.iter().filter(|s| s.in_years == y && s.kind == k).count();
            counts.push(CountOut { in_years: y, kind: k.as_str(), count });
        }
    }
    let spots = c
        .spots
        .iter()
        .map(|s| SpotOut {
            kind: s.kind.as_str(),
            region_code: s.region_code.to_string(),
            name: s.name.clone(),
            in_years: s.in_years,
            detail: s.detail.clone(),
        })
        .collect();
    Ok(Json(CoverageOut { as_of: as_of.to_string(), blank_villages: c.blank_villages_now(), counts, spots }))
}

// ---------------------------------------------------------------- pages

#[derive(Deserialize)]
struct ListQuery {
    as_of: Option<String>,
}

/// The practitioners of the scope with where they worked on a day and what
/// they were qualified as, each linking to their page (the first 1000).
async fn practitioners_page(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let l = ctx.lang;
    let d = as_of(q.as_of.as_deref())?;
    let net = st.app.network(ctx.scope()).await?;
    let mut b = format!(
        "<form method=\"get\" class=\"inline\"><label>{} <input type=\"date\" name=\"as_of\" value=\"{d}\"></label> <button>OK</button></form>",
        lbl(l, "As of", "统计日期")
    );
    let index = app::history::HistoryIndex::new(&net);
    let names: std::collections::HashMap<&str, &str> =
        net.facilities.iter().map(|f| (f.facility_id.as_str(), f.name.as_str())).collect();
    let mut people: Vec<&domain::Practitioner> = net.practitioners.iter().collect();
    people.sort_by(|a, b| a.practitioner_id.cmp(&b.practitioner_id));
    let _ = write!(
        b,
        "<table id=\"practitioners\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        lbl(l, "Practitioner", "人员"),
        lbl(l, "Name", "姓名"),
        lbl(l, "Record's facility", "登记机构"),
        lbl(l, "Works at on the day", "当日工作单位"),
        lbl(l, "Qualified as on the day", "当日资格"),
    );
    for p in people.iter().take(1000) {
        let at = app::history::workplace(p, index.postings_of(&p.practitioner_id), d);
        let at = match at {
            Some(f) => format!("{} {}", esc(f), esc(names.get(f).copied().unwrap_or(""))),
            None => lbl(l, "nowhere", "无").to_string(),
        };
        let q = app::history::qualification_on(p, index.held_of(&p.practitioner_id), d);
        let _ = write!(
            b,
            "<tr><td><a href=\"/practitioners/{}\">{}</a></td><td>{}</td><td>{}</td><td>{at}</td><td>{} ({})</td></tr>",
            url(&p.practitioner_id),
            esc(&p.practitioner_id),
            esc(&p.name),
            esc(&p.facility_id),
            q.as_str(),
            q.zh()
        );
    }
    b.push_str("</tbody></table>");
    if people.len() > 1000 {
        let _ = write!(b, "<p class=\"note\">{} 1000 / {}</p>", lbl(l, "Showing", "显示"), people.len());
    }
    Ok(Html(page(&ctx, lbl(l, "Practitioners", "卫生人员"), &b)).into_response())
}

async fn practitioner_page(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = practitioner_id(&id)?;
    render_practitioner(&st, &ctx, &id, None).await
}

/// The practitioner's page: their record, where they work and what they are
/// qualified as today, their postings and qualifications with their days,
/// and for users who do the work the forms to record more (with the error of
/// a form refused).
async fn render_practitioner(
    st: &AppState,
    ctx: &Ctx,
    id: &str,
    error: Option<WebError>,
) -> Result<Response, PageError> {
    let l = ctx.lang;
    let h = st.app.practitioner_history(ctx.scope(), id).await?;
    let p = &h.practitioner;
    let now = today();
    let mut b = String::new();
    if let Some(e) = &error {
        let _ = write!(b, "<p class=\"flash error\">{}</p>", esc(&e.to_string()));
    }
    let q = h.qualification_on(now);
    let _ = write!(
        b,
        "<dl><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd id=\"works-at\">{}</dd><dt>{}</dt><dd id=\"qualified-as\">{} ({})</dd></dl>",
        lbl(l, "Name", "姓名"),
        esc(&p.name),
        lbl(l, "Born", "出生日期"),
        p.birth_date,
        lbl(l, "Record's facility", "登记机构"),
        esc(&p.facility_id),
        lbl(l, "Works at today", "今日工作单位"),
        h.workplace_on(now).map_or_else(|| lbl(l, "nowhere", "无").to_string(), esc),
        lbl(l, "Qualified as today", "今日资格"),
        q.as_str(),
        q.zh(),
    );
    let open = |d: Option<String>| d.unwrap_or_else(|| "—".into());
    let _ = write!(
        b,
        "<section id=\"postings\"><h2>{}</h2><table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        lbl(l, "Postings", "任职与派驻"),
        lbl(l, "Role", "类别"),
        lbl(l, "Facility", "机构"),
        lbl(l, "Start", "开始"),
        lbl(l, "End (last day)", "结束（含）"),
        lbl(l, "Recorded by", "记录人"),
    );
    for x in postings_out(&h) {
        let role: PostingRole = x.role.parse().unwrap_or(PostingRole::Posting);
        let by = if x.from_record {
            lbl(l, "the practitioners file (no posting recorded)", "人员登记（未记录任职）").to_string()
        } else {
            esc(x.changed_by.as_deref().unwrap_or(""))
        };
        let _ = write!(
            b,
            "<tr><td>{} ({})</td><td>{}</td><td>{}</td><td>{}</td><td>{by}</td></tr>",
            role.as_str(),
            role.zh(),
            esc(&x.facility_id),
            open(x.start),
            open(x.end)
        );
    }
    b.push_str("</tbody></table>");
    if ctx.may(Permission::Work) {
        let roles: String =
            PostingRole::ALL.iter().map(|r| format!("<option value=\"{}\">{} ({})</option>", r, r, r.zh())).collect();
        let _ = write!(
            b,
            "<form method=\"post\" action=\"/practitioners/{path}/postings\" class=\"stack\" id=\"posting-form\">{csrf}\
<label>{fl}<input name=\"facility_id\" required maxlength=\"64\"></label>\
<label>{rl}<select name=\"role\">{roles}</select></label>\
<label>{sl}<input name=\"start\" type=\"date\"></label>\
<label>{el}<input name=\"end\" type=\"date\"></label>\
{raise}<button type=\"submit\">{save}</button></form>",
            raise = raise_select(l),
            path = url(id),
            csrf = csrf_field(ctx),
            fl = lbl(l, "Facility", "机构"),
            rl = lbl(l, "Role", "类别"),
            sl = lbl(l, "Start (empty: unknown)", "开始（空：未知）"),
            el = lbl(l, "End, the last day (empty: none yet)", "结束日（含；空：未结束）"),
            save = lbl(l, "Record the posting", "记录任职"),
        );
    }
    b.push_str("</section>");

    let _ = write!(
        b,
        "<section id=\"qualifications\"><h2>{}</h2><table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        lbl(l, "Qualifications", "执业资格"),
        lbl(l, "Qualification", "资格"),
        lbl(l, "Obtained", "取得"),
        lbl(l, "Lapses (first day not held)", "失效日"),
        lbl(l, "Recorded by", "记录人"),
    );
    for x in qualifications_out(&h) {
        let q: Qualification = x.qualification.parse().unwrap_or(Qualification::Other);
        let by = if x.from_record {
            lbl(l, "the practitioners file (none recorded)", "人员登记（未记录资格）").to_string()
        } else {
            esc(x.changed_by.as_deref().unwrap_or(""))
        };
        let _ = write!(
            b,
            "<tr><td>{} ({})</td><td>{}</td><td>{}</td><td>{by}</td></tr>",
            q.as_str(),
            q.zh(),
            open(x.obtained),
            open(x.lapses)
        );
    }
    b.push_str("</tbody></table>");
    if ctx.may(Permission::Work) {
        let options: String = [
            Qualification::Physician,
            Qualification::AssistantPhysician,
            Qualification::RuralDoctor,
            Qualification::Nurse,
            Qualification::Other,
        ]
        .iter()
        .map(|q| format!("<option value=\"{}\">{} ({})</option>", q.as_str(), q.as_str(), q.zh()))
        .collect();
        let _ = write!(
            b,
            "<form method=\"post\" action=\"/practitioners/{path}/qualifications\" class=\"stack\" id=\"qualification-form\">{csrf}\
<label>{ql}<select name=\"qualification\">{options}</select></label>\
<label>{ol}<input name=\"obtained\" type=\"date\"></label>\
<label>{ll}<input name=\"lapses\" type=\"date\"></label>\
{raise}<button type=\"submit\">{save}</button></form>",
            raise = raise_select(l),
            path = url(id),
            csrf = csrf_field(ctx),
            ql = lbl(l, "Qualification", "资格"),
            ol = lbl(l, "Obtained (empty: unknown)", "取得日（空：未知）"),
            ll = lbl(l, "Lapses (empty: never)", "失效日（空：长期）"),
            save = lbl(l, "Record the qualification", "记录资格"),
        );
    }
    b.push_str("</section>");
    let title = format!("{} {}", lbl(l, "Practitioner", "卫生人员"), p.practitioner_id);
    Ok(Html(page(ctx, &title, &b)).into_response())
}

#[derive(Deserialize)]
struct PostingForm {
    facility_id: String,
    role: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    #[serde(default)]
    raise_network_alerts: String,
}

#[derive(Deserialize)]
struct QualificationForm {
    qualification: String,
    #[serde(default)]
    obtained: String,
    #[serde(default)]
    lapses: String,
    #[serde(default)]
    raise_network_alerts: String,
}

/// After a form: back to the page, or the page again with the error of a
/// form refused for its content.
async fn after_form(st: &AppState, ctx: &Ctx, id: &str, r: Result<(), WebError>) -> Result<Response, PageError> {
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/practitioners/{}", url(id))).into_response()),
        Err(e @ (WebError::BadRequest(_) | WebError::Unprocessable(_))) => {
            render_practitioner(st, ctx, id, Some(e)).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn add_posting_form(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Path(id): Path<String>,
    Form(f): Form<PostingForm>,
) -> Result<Response, PageError> {
    ctx.require(Permission::Work)?;
    let id = practitioner_id(&id)?;
    st.app.practitioner_history(ctx.scope(), &id).await?;
    let r = async {
        let p = posting_of(&id, &f.facility_id, &f.role, &f.start, &f.end)?;
        let years = raise_years_field(&f.raise_network_alerts)?;
        st.app.record_postings(ctx.scope(), &[("the posting".into(), p)], &ctx.user.username).await?;
        raise_after(&st, &ctx, &id, years).await?;
        Ok::<_, WebError>(())
    }
    .await;
    after_form(&st, &ctx, &id, r).await
}

async fn add_qualification_form(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Path(id): Path<String>,
    Form(f): Form<QualificationForm>,
) -> Result<Response, PageError> {
    ctx.require(Permission::Work)?;
    let id = practitioner_id(&id)?;
    st.app.practitioner_history(ctx.scope(), &id).await?;
    let r = async {
        let q = qualification_of(&id, &f.qualification, &f.obtained, &f.lapses)?;
        let years = raise_years_field(&f.raise_network_alerts)?;
        st.app.record_qualifications(ctx.scope(), &[("the qualification".into(), q)], &ctx.user.username).await?;
        raise_after(&st, &ctx, &id, years).await?;
        Ok::<_, WebError>(())
    }
    .await;
    after_form(&st, &ctx, &id, r).await
}

// ---------------------------------------------------------------- network alerts

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsQuery {
    #[serde(default)]
    pub years: Option<i32>,
}

#[derive(Serialize)]
pub struct NetworkAlertOut {
    pub kind: &'static str,
    pub region_code: String,
    pub name: String,
    pub township: Option<String>,
    pub county: Option<String>,
    pub from: String,
    pub now: bool,
    pub causes: Vec<String>,
}

#[derive(Serialize)]
pub struct NetworkAlertsOut {
    pub today: String,
    pub until: String,
    pub items: Vec<NetworkAlertOut>,
}

/// The horizon of `?years=`: 0 to 5, 1 when absent.
fn years(v: Option<i32>) -> Result<i32, WebError> {
    let y = v.unwrap_or(1);
    if !(0..=app::network_alerts::MAX_YEARS).contains(&y) {
        return Err(WebError::BadRequest(format!("years: {y} is not 0 to {}", app::network_alerts::MAX_YEARS)));
    }
    Ok(y)
}

async fn alerts_of(st: &AppState, ctx: &Ctx, y: i32) -> Result<Vec<app::network_alerts::NetworkAlert>, WebError> {
    Ok(st.app.network_alerts(ctx.scope(), today(), y, &coverage::Settings::default()).await?)
}

/// The villages and township centres of the scope blank today, or made blank
/// within the horizon by a change in the history.
async fn network_alerts_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    ApiQuery(q): ApiQuery<AlertsQuery>,
) -> Result<Json<NetworkAlertsOut>, WebError> {
    let y = years(q.years)?;
    let alerts = alerts_of(&st, &ctx, y).await?;
    let items = alerts
        .iter()
        .map(|a| NetworkAlertOut {
            kind: a.kind.as_str(),
            region_code: a.region_code.to_string(),
            name: a.name.clone(),
            township: a.township.map(|c| c.short()),
            county: a.county.map(|c| c.short()),
            from: a.from.to_string(),
            now: a.now,
            causes: a.causes.clone(),
        })
        .collect();
    Ok(Json(NetworkAlertsOut { today: today().to_string(), until: domain::add_years(today(), y).to_string(), items }))
}

#[derive(Deserialize)]
struct AlertsPageQuery {
    years: Option<String>,
}

async fn network_alerts_page(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Query(q): Query<AlertsPageQuery>,
) -> Result<Response, PageError> {
    let l = ctx.lang;
    let y = match q.years.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => 1,
        Some(v) => v.parse().map_err(|_| WebError::BadRequest(format!("years: {v:?} is not a number")))?,
    };
    let y = years(Some(y))?;
    let kept = crate::network_cases::kept_section(&st, &ctx, y).await?;
    let alerts = alerts_of(&st, &ctx, y).await?;
    let options: String = (0..=app::network_alerts::MAX_YEARS)
        .map(|n| format!("<option value=\"{n}\"{}>{n}</option>", if n == y { " selected" } else { "" }))
        .collect();
    let mut b = format!(
        "<form method=\"get\" class=\"inline\"><label>{} <select name=\"years\">{options}</select></label> <button>OK</button></form>\
<p class=\"note\">{}</p>",
        lbl(l, "Within years", "预警年限"),
        lbl(
            l,
            "Villages and township centres blank today, or made blank within the horizon by a change recorded in the network's history: a doctor reaching the retirement age, a posting ending, a facility closing, a licence lapsing. For the township and county that must fill them.",
            "当前空白，或因网络历史中记录的变化（村医到龄退休、派驻期满、机构关闭、执业资格失效）将在预警期内出现空白的行政村和乡镇卫生院，由所在乡镇和县负责补充。"
        ),
    );
    b.push_str(&kept);
    let _ = write!(b, "<h2>{}</h2>", lbl(l, "Computed now", "当前计算结果"));
    let _ = write!(
        b,
        "<table id=\"network-alerts\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        lbl(l, "Blank from", "空白起始"),
        lbl(l, "Kind", "类别"),
        lbl(l, "Village or centre", "行政村或卫生院"),
        lbl(l, "Township", "乡镇"),
        lbl(l, "County", "县"),
        lbl(l, "Why", "原因"),
    );
    for a in &alerts {
        let when = if a.now { format!("{} ({})", a.from, lbl(l, "now", "当前")) } else { a.from.to_string() };
        let _ = write!(
            b,
            "<tr><td>{when}</td><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            a.kind.as_str(),
            a.region_code,
            esc(&a.name),
            a.township.map(|c| c.short()).unwrap_or_default(),
            a.county.map(|c| c.short()).unwrap_or_default(),
            a.causes.iter().map(|c| esc(c)).collect::<Vec<_>>().join("<br>")
        );
    }
    b.push_str("</tbody></table>");
    if alerts.is_empty() {
        let _ = write!(b, "<p class=\"empty\">{}</p>", lbl(l, "None.", "无。"));
    }
    Ok(Html(page(&ctx, lbl(l, "Network alerts", "网络预警"), &b)).into_response())
}
