//! Pairing and telemedicine over HTTP (docs/coverage.md, "Pairing and
//! telemedicine"): the page `/pairing` with the pairing indicators of a day,
//! the pairings and telemedicine links of the user's scope and, for the roles
//! that do the work, the forms to record or end them; the same under
//! `/api/v1/pairings`, `/api/v1/telemedicine` and `/api/v1/pairings/indicators`.
//!
//! Recording needs [`Permission::Work`] (officers and administrators); the
//! application checks the facilities, their kinds, the scope and the overlaps
//! (422 naming the field) and audits every write. A field of the wrong form is
//! a 400 naming it. A pairing or link is ended by giving it again (same
//! facilities and start) with its last day.

use crate::access::Permission;
use crate::api::{ApiJson, ApiQuery};
use crate::auth::{ApiUser, Ctx, PageUser};
use crate::error::{PageError, WebError};
use crate::html::{csrf_field, esc, page};
use crate::i18n::Lang;
use crate::AppState;
use app::history::today;
use app::pairing::{IndicatorRow, PairingIndicators};
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::NaiveDate;
use domain::{PairingRow, Record, TelemedicineKind, TelemedicineLink};
use serde::{Deserialize, Serialize};
use std::fmt::Write;
use store::{StoredLink, StoredPairing};

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/pairings", get(pairings_api).post(add_pairing_api))
        .route("/pairings/indicators", get(indicators_api))
        .route("/telemedicine", get(links_api).post(add_link_api))
}

pub fn page_routes() -> Router<AppState> {
    Router::new()
        .route("/pairing", get(pairing_page))
        .route("/pairing/pairings", post(pairing_form))
        .route("/pairing/telemedicine", post(link_form))
}

fn lbl(l: Lang, en: &'static str, zh: &'static str) -> &'static str {
    if l == Lang::En {
        en
    } else {
        zh
    }
}

fn day(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.to_string())
}

fn bad(e: domain::FieldError) -> WebError {
    WebError::BadRequest(format!("{}: {}", e.column, e.reason))
}

// ---------------------------------------------------------------- JSON

#[derive(Serialize)]
pub struct StaffOut {
    pub practitioner_id: Option<String>,
    pub name: String,
    pub role: String,
    pub from: String,
    pub to: Option<String>,
}

#[derive(Serialize)]
pub struct PairingOut {
    pub id: i64,
    pub helping_id: String,
    pub helping_name: String,
    pub county_hospital_id: String,
    pub county_hospital_name: String,
    pub region_code: String,
    pub start: String,
    pub end: Option<String>,
    pub staff: Vec<StaffOut>,
    pub changed_by: String,
    pub changed_at: String,
}

#[derive(Serialize)]
pub struct LinkOut {
    pub id: i64,
    pub county_hospital_id: String,
    pub county_hospital_name: String,
    pub township_id: String,
    pub township_name: String,
    pub region_code: String,
    pub kind: String,
    pub start: String,
    pub end: Option<String>,
    pub changed_by: String,
    pub changed_at: String,
}

#[derive(Serialize)]
pub struct Items<T> {
    items: Vec<T>,
}

fn pairing_out(p: &StoredPairing) -> PairingOut {
    PairingOut {
        id: p.id,
        helping_id: p.pairing.helping_id.clone(),
        helping_name: p.helping_name.clone(),
        county_hospital_id: p.pairing.county_hospital_id.clone(),
        county_hospital_name: p.county_hospital_name.clone(),
        region_code: p.region_code.to_string(),
        start: p.pairing.start.to_string(),
        end: day(p.pairing.end),
        staff: p
            .staff
            .iter()
            .map(|s| StaffOut {
                practitioner_id: s.staff.practitioner_id.clone(),
                name: s.staff.name.clone(),
                role: s.staff.role.clone(),
                from: s.staff.from.to_string(),
                to: day(s.staff.to),
            })
            .collect(),
        changed_by: p.changed_by.clone(),
        changed_at: p.changed_at.to_rfc3339(),
    }
}

fn link_out(l: &StoredLink) -> LinkOut {
    LinkOut {
        id: l.id,
        county_hospital_id: l.link.county_hospital_id.clone(),
        county_hospital_name: l.county_hospital_name.clone(),
        township_id: l.link.township_id.clone(),
        township_name: l.township_name.clone(),
        region_code: l.region_code.to_string(),
        kind: l.link.kind.to_string(),
        start: l.link.start.to_string(),
        end: day(l.link.end),
        changed_by: l.changed_by.clone(),
        changed_at: l.changed_at.to_rfc3339(),
    }
}

/// One of the staff sent, in a request.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffIn {
    #[serde(default)]
    pub practitioner_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    pub role: String,
    pub from: String,
    #[serde(default)]
    pub to: Option<String>,
}

/// A pairing to record (or to end: the same hospitals and start with an end),
/// with one of its staff optionally.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairingIn {
    pub helping_id: String,
    pub county_hospital_id: String,
    pub start: String,
    #[serde(default)]
    pub end: Option<String>,
    #[serde(default)]
    pub staff: Option<StaffIn>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkIn {
    pub county_hospital_id: String,
    pub township_id: String,
    pub kind: String,
    pub start: String,
    #[serde(default)]
    pub end: Option<String>,
}

fn o(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("")
}

fn pairing_of(b: &PairingIn) -> Result<PairingRow, WebError> {
    let (pid, name, role, from, to) = match &b.staff {
        Some(s) => (o(&s.practitioner_id), o(&s.name), s.role.as_str(), s.from.as_str(), o(&s.to)),
        None => ("", "", "", "", ""),
    };
    PairingRow::from_fields(&[&b.helping_id, &b.county_hospital_id, &b.start, o(&b.end), pid, name, role, from, to])
        .map_err(bad)
}

fn link_of(b: &LinkIn) -> Result<TelemedicineLink, WebError> {
    TelemedicineLink::from_fields(&[&b.county_hospital_id, &b.township_id, &b.kind, &b.start, o(&b.end)]).map_err(bad)
}

async fn pairings_api(State(st): State<AppState>, ApiUser(ctx): ApiUser) -> Result<Json<Items<PairingOut>>, WebError> {
    let items = st.app.pairings(ctx.scope()).await?.iter().map(pairing_out).collect();
    Ok(Json(Items { items }))
}

async fn add_pairing_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    ApiJson(b): ApiJson<PairingIn>,
) -> Result<Json<Items<PairingOut>>, WebError> {
    ctx.require(Permission::Work)?;
    let row = pairing_of(&b)?;
    st.app.record_pairings(ctx.scope(), &[("the pairing".into(), row)], &ctx.user.username).await?;
    pairings_api(State(st), ApiUser(ctx)).await
}

async fn links_api(State(st): State<AppState>, ApiUser(ctx): ApiUser) -> Result<Json<Items<LinkOut>>, WebError> {
    let items = st.app.telemedicine_links(ctx.scope()).await?.iter().map(link_out).collect();
    Ok(Json(Items { items }))
}

async fn add_link_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    ApiJson(b): ApiJson<LinkIn>,
) -> Result<Json<Items<LinkOut>>, WebError> {
    ctx.require(Permission::Work)?;
    let link = link_of(&b)?;
    st.app.record_telemedicine(ctx.scope(), &[("the link".into(), link)], &ctx.user.username).await?;
    links_api(State(st), ApiUser(ctx)).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnQuery {
    #[serde(default)]
    pub on: Option<String>,
}

/// The day of `?on=`: a date, or today when absent or blank.
fn on_day(v: Option<&str>) -> Result<NaiveDate, WebError> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => domain::parse_date(s).map_err(|e| WebError::BadRequest(format!("on: {e}"))),
        None => Ok(today()),
    }
}

#[derive(Serialize)]
pub struct RowOut {
    pub level: &'static str,
    pub code: Option<String>,
    pub name: String,
    pub poor_counties: u32,
    pub poor_counties_paired: u32,
    pub paired_share: Option<f64>,
    pub townships: u32,
    pub townships_linked: u32,
    pub linked_share: Option<f64>,
    pub inpatients: i64,
    pub inpatients_outside: i64,
    pub outside_share: Option<f64>,
    pub counties_with_hospital: u32,
    pub diseases: Option<f64>,
    pub median: Option<f64>,
    pub diseases_of_median: Option<f64>,
    pub counties_at_median: u32,
}

#[derive(Serialize)]
pub struct IndicatorsOut {
    pub on: String,
    pub from: String,
    pub rows: Vec<RowOut>,
    pub notes: Vec<String>,
}

fn row_out(r: &IndicatorRow) -> RowOut {
    RowOut {
        level: r.level.as_str(),
        code: r.code.map(|c| c.short()),
        name: r.name.clone(),
        poor_counties: r.poor_counties,
        poor_counties_paired: r.poor_counties_paired,
        paired_share: r.paired_share(),
        townships: r.townships,
        townships_linked: r.townships_linked,
        linked_share: r.linked_share(),
        inpatients: r.inpatients,
        inpatients_outside: r.inpatients_outside,
        outside_share: r.outside_share(),
        counties_with_hospital: r.counties_with_hospital,
        diseases: r.diseases,
        median: r.median,
        diseases_of_median: r.diseases_of_median(),
        counties_at_median: r.counties_at_median,
    }
}

async fn indicators_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    ApiQuery(q): ApiQuery<OnQuery>,
) -> Result<Json<IndicatorsOut>, WebError> {
    let on = on_day(q.on.as_deref())?;
    let r = st.app.pairing_indicators(ctx.scope(), on).await?;
    Ok(Json(IndicatorsOut {
        on: r.on.to_string(),
        from: r.from.to_string(),
        rows: r.rows.iter().map(row_out).collect(),
        notes: r.notes.clone(),
    }))
}

// ---------------------------------------------------------------- page

#[derive(Deserialize)]
struct PageQuery {
    on: Option<String>,
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_string(), |x| format!("{:.1}%", x * 100.0))
}

fn count_of(n: impl std::fmt::Display, d: impl std::fmt::Display, s: Option<f64>) -> String {
    format!("{n} / {d} ({})", pct(s))
}

fn num(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_string(), |x| if x.fract() == 0.0 { format!("{x:.0}") } else { format!("{x:.1}") })
}

async fn pairing_page(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Query(q): Query<PageQuery>,
) -> Result<Response, PageError> {
    let on = on_day(q.on.as_deref())?;
    render(&st, &ctx, on, None).await
}

fn indicators_html(l: Lang, r: &PairingIndicators, b: &mut String) {
    let _ = write!(
        b,
        "<section id=\"pairing-indicators\"><h2>{}</h2><p class=\"note\">{} {} – {}.</p>\
<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        lbl(l, "Indicators", "指标"),
        lbl(l, "Registers as they stand on the day; claims discharged", "帮扶与远程医疗按当日状态；病例出院日期"),
        r.from,
        r.on,
        lbl(l, "Level", "层级"),
        lbl(l, "Region", "地区"),
        lbl(l, "Poor counties whose county hospital is paired", "县医院获对口帮扶的贫困县"),
        lbl(l, "Township centres linked by telemedicine", "开通远程医疗的乡镇卫生院"),
        lbl(l, "Inpatients treated outside their county", "县外住院"),
        lbl(
            l,
            "Diseases treated (3-character ICD-10) / province median",
            "县级医院收治病种数（ICD-10 类目）/ 全省中位数"
        ),
        lbl(l, "Counties at 90% of the median or more", "达中位数90%的县"),
    );
    for x in &r.rows {
        let diseases = match x.level {
            app::pairing::RowLevel::County => match x.diseases {
                Some(d) => format!("{} / {} ({})", num(Some(d)), num(x.median), pct(x.diseases_of_median())),
                None => lbl(l, "no county hospital", "无县级医院").to_string(),
            },
            _ => format!("{} {}", lbl(l, "median", "中位数"), num(x.diseases)),
        };
        let _ = write!(
            b,
            "<tr class=\"{lv}\"><td>{lv}</td><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td><td>{diseases}</td><td>{}</td></tr>",
            x.code.map(|c| c.short()).unwrap_or_default(),
            esc(&x.name),
            count_of(x.poor_counties_paired, x.poor_counties, x.paired_share()),
            count_of(x.townships_linked, x.townships, x.linked_share()),
            count_of(x.inpatients_outside, x.inpatients, x.outside_share()),
            count_of(x.counties_at_median, x.counties_with_hospital, share(x.counties_at_median, x.counties_with_hospital)),
            lv = x.level.as_str(),
        );
    }
    b.push_str("</tbody></table>");
    for n in &r.notes {
        let _ = write!(b, "<p class=\"note\">{}</p>", esc(n));
    }
    b.push_str("</section>");
}

fn share(n: u32, d: u32) -> Option<f64> {
    app::pairing::share(n as i64, d as i64)
}

async fn render(st: &AppState, ctx: &Ctx, on: NaiveDate, error: Option<WebError>) -> Result<Response, PageError> {
    let l = ctx.lang;
    let indicators = st.app.pairing_indicators(ctx.scope(), on).await?;
    let pairings = st.app.pairings(ctx.scope()).await?;
    let links = st.app.telemedicine_links(ctx.scope()).await?;
    let may = ctx.may(Permission::Work);
    let mut b = String::new();
    if let Some(e) = &error {
        let _ = write!(b, "<p class=\"flash error\">{}</p>", esc(&e.to_string()));
    }
    let _ = write!(
        b,
        "<form method=\"get\" class=\"inline\"><label>{} <input type=\"date\" name=\"on\" value=\"{on}\"></label> <button>OK</button></form>",
        lbl(l, "On", "统计日期")
    );
    indicators_html(l, &indicators, &mut b);
    let open = |d: Option<NaiveDate>| d.map_or_else(|| "—".to_string(), |d| d.to_string());
    let end_form = |action: &str, hidden: &[(&str, String)]| {
        if !may {
            return String::new();
        }
        let fields: String =
            hidden.iter().map(|(k, v)| format!("<input type=\"hidden\" name=\"{k}\" value=\"{}\">", esc(v))).collect();
        format!(
            "<form method=\"post\" action=\"{action}\" class=\"inline end-form\">{}{fields}<input type=\"date\" name=\"end\" required> <button>{}</button></form>",
            csrf_field(ctx),
            lbl(l, "End", "结束")
        )
    };

    let _ = write!(
        b,
        "<section id=\"pairings\"><h2>{}</h2><table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th></th></tr></thead><tbody>",
        lbl(l, "Paired hospitals (对口帮扶)", "对口帮扶"),
        lbl(l, "Helping hospital", "支援医院"),
        lbl(l, "County hospital", "受援县级医院"),
        lbl(l, "Start", "开始"),
        lbl(l, "End (last day)", "结束（含）"),
        lbl(l, "Staff sent", "派驻人员"),
    );
    for p in &pairings {
        let staff: Vec<String> = p
            .staff
            .iter()
            .map(|s| format!("{} ({}) {} – {}", esc(s.staff.who()), esc(&s.staff.role), s.staff.from, open(s.staff.to)))
            .collect();
        let form = end_form(
            "/pairing/pairings",
            &[
                ("helping_id", p.pairing.helping_id.clone()),
                ("county_hospital_id", p.pairing.county_hospital_id.clone()),
                ("start", p.pairing.start.to_string()),
            ],
        );
        let _ = write!(
            b,
            "<tr><td>{} {}</td><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td><td>{form}</td></tr>",
            esc(&p.pairing.helping_id),
            esc(&p.helping_name),
            esc(&p.pairing.county_hospital_id),
            esc(&p.county_hospital_name),
            p.pairing.start,
            open(p.pairing.end),
            staff.join("<br>"),
        );
    }
    b.push_str("</tbody></table>");
    if pairings.is_empty() {
        let _ = write!(b, "<p class=\"empty\">{}</p>", lbl(l, "None.", "无。"));
    }
    if may {
        let _ = write!(
            b,
            "<form method=\"post\" action=\"/pairing/pairings\" class=\"stack\" id=\"pairing-form\">{csrf}\
<label>{hl}<input name=\"helping_id\" required maxlength=\"64\"></label>\
<label>{cl}<input name=\"county_hospital_id\" required maxlength=\"64\"></label>\
<label>{sl}<input name=\"start\" type=\"date\" required></label>\
<label>{el}<input name=\"end\" type=\"date\"></label>\
<fieldset><legend>{staff}</legend>\
<label>{pl}<input name=\"staff_practitioner_id\" maxlength=\"64\"></label>\
<label>{nl}<input name=\"staff_name\"></label>\
<label>{rl}<input name=\"staff_role\"></label>\
<label>{fl}<input name=\"staff_from\" type=\"date\"></label>\
<label>{tl}<input name=\"staff_to\" type=\"date\"></label></fieldset>\
<button type=\"submit\">{save}</button></form>",
            csrf = csrf_field(ctx),
            hl = lbl(l, "Helping hospital (municipal or provincial)", "支援医院（市级或省级）"),
            cl = lbl(l, "County hospital", "受援县级医院"),
            sl = lbl(l, "Start", "开始"),
            el = lbl(l, "End, the last day (empty: none yet)", "结束日（含；空：未结束）"),
            staff = lbl(l, "One of the staff sent (optional)", "派驻人员（可选）"),
            pl = lbl(l, "Practitioner ID (if registered)", "人员编号（已登记的）"),
            nl = lbl(l, "Name", "姓名"),
            rl = lbl(l, "Role", "职务"),
            fl = lbl(l, "From", "起"),
            tl = lbl(l, "To (last day)", "止（含）"),
            save = lbl(l, "Record the pairing", "记录对口帮扶"),
        );
    }
    b.push_str("</section>");

    let _ = write!(
        b,
        "<section id=\"telemedicine\"><h2>{}</h2><table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th></th></tr></thead><tbody>",
        lbl(l, "Telemedicine links", "远程医疗"),
        lbl(l, "County hospital", "县级医院"),
        lbl(l, "Township centre", "乡镇卫生院"),
        lbl(l, "Kind", "类别"),
        lbl(l, "Start", "开始"),
        lbl(l, "End (last day)", "结束（含）"),
    );
    for x in &links {
        let form = end_form(
            "/pairing/telemedicine",
            &[
                ("county_hospital_id", x.link.county_hospital_id.clone()),
                ("township_id", x.link.township_id.clone()),
                ("kind", x.link.kind.to_string()),
                ("start", x.link.start.to_string()),
            ],
        );
        let _ = write!(
            b,
            "<tr><td>{} {}</td><td>{} {}</td><td>{} ({})</td><td>{}</td><td>{}</td><td>{form}</td></tr>",
            esc(&x.link.county_hospital_id),
            esc(&x.county_hospital_name),
            esc(&x.link.township_id),
            esc(&x.township_name),
            x.link.kind,
            x.link.kind.zh(),
            x.link.start,
            open(x.link.end),
        );
    }
    b.push_str("</tbody></table>");
    if links.is_empty() {
        let _ = write!(b, "<p class=\"empty\">{}</p>", lbl(l, "None.", "无。"));
    }
    if may {
        let kinds: String = TelemedicineKind::ALL
            .iter()
            .map(|k| format!("<option value=\"{}\">{} ({})</option>", k, k, k.zh()))
            .collect();
        let _ = write!(
            b,
            "<form method=\"post\" action=\"/pairing/telemedicine\" class=\"stack\" id=\"link-form\">{csrf}\
<label>{cl}<input name=\"county_hospital_id\" required maxlength=\"64\"></label>\
<label>{tl}<input name=\"township_id\" required maxlength=\"64\"></label>\
<label>{kl}<select name=\"kind\">{kinds}</select></label>\
<label>{sl}<input name=\"start\" type=\"date\" required></label>\
<label>{el}<input name=\"end\" type=\"date\"></label>\
<button type=\"submit\">{save}</button></form>",
            csrf = csrf_field(ctx),
            cl = lbl(l, "County hospital", "县级医院"),
            tl = lbl(l, "Township centre of its county", "本县乡镇卫生院"),
            kl = lbl(l, "Kind", "类别"),
            sl = lbl(l, "Start", "开始"),
            el = lbl(l, "End, the last day (empty: none yet)", "结束日（含；空：未结束）"),
            save = lbl(l, "Record the link", "记录远程医疗"),
        );
    }
    b.push_str("</section>");
    Ok(Html(page(ctx, lbl(l, "Pairing and telemedicine", "对口帮扶与远程医疗"), &b)).into_response())
}

#[derive(Deserialize)]
struct PairingForm {
    helping_id: String,
    county_hospital_id: String,
    start: String,
    #[serde(default)]
    end: String,
    #[serde(default)]
    staff_practitioner_id: String,
    #[serde(default)]
    staff_name: String,
    #[serde(default)]
    staff_role: String,
    #[serde(default)]
    staff_from: String,
    #[serde(default)]
    staff_to: String,
}

#[derive(Deserialize)]
struct LinkForm {
    county_hospital_id: String,
    township_id: String,
    kind: String,
    start: String,
    #[serde(default)]
    end: String,
}

/// After a form: back to the page, or the page again with the error of a
/// form refused for its content.
async fn after_form(st: &AppState, ctx: &Ctx, r: Result<(), WebError>) -> Result<Response, PageError> {
    match r {
        Ok(()) => Ok(Redirect::to("/pairing").into_response()),
        Err(e @ (WebError::BadRequest(_) | WebError::Unprocessable(_))) => render(st, ctx, today(), Some(e)).await,
        Err(e) => Err(e.into()),
    }
}

async fn pairing_form(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Form(f): Form<PairingForm>,
) -> Result<Response, PageError> {
    ctx.require(Permission::Work)?;
    let r = async {
        let row = PairingRow::from_fields(&[
            &f.helping_id,
            &f.county_hospital_id,
            &f.start,
            &f.end,
            &f.staff_practitioner_id,
            &f.staff_name,
            &f.staff_role,
            &f.staff_from,
            &f.staff_to,
        ])
        .map_err(bad)?;
        st.app.record_pairings(ctx.scope(), &[("the pairing".into(), row)], &ctx.user.username).await?;
        Ok::<_, WebError>(())
    }
    .await;
    after_form(&st, &ctx, r).await
}

async fn link_form(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Form(f): Form<LinkForm>,
) -> Result<Response, PageError> {
    ctx.require(Permission::Work)?;
    let r = async {
        let link = TelemedicineLink::from_fields(&[&f.county_hospital_id, &f.township_id, &f.kind, &f.start, &f.end])
            .map_err(bad)?;
        st.app.record_telemedicine(ctx.scope(), &[("the link".into(), link)], &ctx.user.username).await?;
        Ok::<_, WebError>(())
    }
    .await;
    after_form(&st, &ctx, r).await
}
