//! Kept roving and dispatch plans over HTTP (docs/plans.md): the plans of the
//! caller's scope, one plan with its lines and the visits made against it,
//! drafts saved from the planner (the coverage page's "save this plan"),
//! moves by the roles allowed, visits recorded; the share of planned visits
//! made by township and county. Pages under `/plans`, JSON under
//! `/api/v1/plans`.
//!
//! A plan not seen from the caller's scope is a 404; a role that may not make
//! the move or the write is a 403 (checked again by the application); a field
//! of the wrong form is a 400 naming it; a refusal of the content (a village
//! outside the region, a visit outside the period) a 422; a move the plan's
//! state does not allow, or an edit of a plan no longer a draft, a 409.

use crate::api::{ApiJson, ApiQuery};
use crate::auth::{ApiUser, Ctx, PageUser};
use crate::error::{PageError, WebError};
use crate::html::{csrf_field, esc, page};
use crate::i18n::Lang;
use crate::AppState;
use app::history::today;
use app::plans::{may_decide, may_draft, may_record_visits, KeptPlan, PlanDraft, VisitShare};
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post, put};
use axum::{Form, Json, Router};
use chrono::{Datelike, NaiveDate};
use coverage::{PlanSettings, TourSettings};
use domain::{LineKind, PlanDays, PlanLine, PlanState, PlanVisit, RegionCode};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write;
use store::StoredPlan;

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/plans", get(list_api).post(create_api))
        .route("/plans/indicator", get(indicator_api))
        .route("/plans/{id}", get(get_api))
        .route("/plans/{id}/lines", put(lines_api))
        .route("/plans/{id}/moves", post(move_api))
        .route("/plans/{id}/visits", post(visit_api))
}

pub fn page_routes() -> Router<AppState> {
    Router::new()
        .route("/plans", get(list_page).post(create_form))
        .route("/plans/{id}", get(plan_page))
        .route("/plans/{id}/move", post(move_form))
        .route("/plans/{id}/visits", post(visit_form))
}

fn lbl(l: Lang, en: &'static str, zh: &'static str) -> &'static str {
    if l == Lang::En {
        en
    } else {
        zh
    }
}

fn plan_id(id: &str) -> Result<i64, WebError> {
    id.parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| WebError::BadRequest(format!("id: {id:?} is not a plan's number (a positive whole number)")))
}

fn date(field: &str, v: &str) -> Result<NaiveDate, WebError> {
    domain::parse_date(v).map_err(|e| WebError::BadRequest(format!("{field}: {e}")))
}

fn opt_date(field: &str, v: Option<&str>) -> Result<Option<NaiveDate>, WebError> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => date(field, s).map(Some),
        None => Ok(None),
    }
}

fn region(field: &str, v: &str) -> Result<RegionCode, WebError> {
    RegionCode::parse(v).map_err(|e| WebError::BadRequest(format!("{field}: {e}")))
}

fn forbidden(r: Result<(), String>) -> Result<(), WebError> {
    r.map_err(WebError::Forbidden)
}

// ---------------------------------------------------------------- JSON

#[derive(Serialize)]
pub struct PlanOut {
    pub id: i64,
    pub region_code: String,
    pub period_start: String,
    pub period_end: String,
    pub version: i64,
    pub state: &'static str,
    pub as_of: String,
    pub travel_minutes: f64,
    pub lower_bound_minutes: f64,
    pub gap: f64,
    pub in_force_from: Option<String>,
    pub in_force_until: Option<String>,
    pub made_by: String,
    pub made_at: String,
    pub changed_by: String,
    pub changed_at: String,
}

fn plan_out(p: &StoredPlan) -> PlanOut {
    PlanOut {
        id: p.id,
        region_code: p.region.short(),
        period_start: p.period_start.to_string(),
        period_end: p.period_end.to_string(),
        version: p.version,
        state: p.state.as_str(),
        as_of: p.as_of.to_string(),
        travel_minutes: p.travel_minutes,
        lower_bound_minutes: p.lower_bound_minutes,
        gap: app::plans::gap(p.travel_minutes, p.lower_bound_minutes),
        in_force_from: p.in_force_from.map(|d| d.to_string()),
        in_force_until: p.in_force_until.map(|d| d.to_string()),
        made_by: p.made_by.clone(),
        made_at: p.made_at.to_rfc3339(),
        changed_by: p.changed_by.clone(),
        changed_at: p.changed_at.to_rfc3339(),
    }
}

#[derive(Serialize)]
pub struct LineOut {
    pub line_no: i64,
    pub village_code: String,
    pub kind: &'static str,
    pub practitioner_id: Option<String>,
    pub term_start: Option<String>,
    pub term_end: Option<String>,
    pub days: String,
    pub halfdays: String,
    pub travel_minutes: Option<f64>,
    pub due: u64,
    pub made: u64,
}

#[derive(Serialize)]
pub struct VisitOut {
    pub line_no: i64,
    pub village_code: String,
    pub practitioner_id: Option<String>,
    pub date: String,
    pub note: String,
    pub recorded_by: String,
    pub recorded_at: String,
}

/// The weekly plan's population covered by roving against its bound.
#[derive(Serialize)]
pub struct PopulationOut {
    pub covered: u64,
    pub bound: u64,
    pub gap: f64,
}

#[derive(Serialize)]
pub struct TourOut {
    pub tour_no: i64,
    pub practitioner_id: String,
    pub facility_id: String,
    pub halfdays: String,
    pub village_codes: Vec<String>,
    pub travel_minutes: f64,
    pub duration_minutes: f64,
    pub population: u64,
}

/// The tours kept with a plan, their settings, figures and gaps.
#[derive(Serialize)]
pub struct ToursOut {
    pub visits_per_month: u32,
    pub halfdays_per_month: u32,
    pub halfday_minutes: f64,
    pub service_minutes: f64,
    pub doctors: usize,
    pub toured_villages: usize,
    pub covered_population: u64,
    pub population_bound: u64,
    pub population_gap: f64,
    pub travel_minutes: f64,
    pub travel_bound_minutes: f64,
    pub travel_gap: f64,
    /// Why no tours were planned; empty when they were.
    pub not_planned: String,
    pub items: Vec<TourOut>,
}

#[derive(Serialize)]
pub struct PlanDetailOut {
    pub plan: PlanOut,
    pub today: String,
    /// The weekly plan's population against its bound; null for a plan given
    /// by hand or saved before the bound was kept.
    pub population: Option<PopulationOut>,
    /// The tours kept with the plan; null when none were planned with it.
    pub tours: Option<ToursOut>,
    pub lines: Vec<LineOut>,
    pub visits: Vec<VisitOut>,
}

/// The tours kept with a plan: their figures with both gaps, as on the
/// coverage page, and each tour.
fn render_tours(b: &mut String, l: Lang, k: &KeptPlan) {
    let Some(r) = &k.planner.tours else { return };
    let _ = write!(b, "<h2>{}</h2>", lbl(l, "Roving tours", "巡诊路线"));
    if !r.not_planned.is_empty() {
        let _ = write!(b, "<p class=\"note\" id=\"plan-tours-none\">{}</p>", esc(&r.not_planned));
        return;
    }
    let population = (r.covered_population, r.population_bound, r.population_gap());
    let travel = (r.travel_minutes, r.travel_bound_minutes, r.travel_gap());
    let labels = [lbl(l, "Population covered by tours", "路线覆盖人口"), lbl(l, "monthly travel", "每月路途")];
    crate::coverage_pages::bounds_paragraph(b, l, " id=\"plan-tours-gap\"", labels, population, travel);
    let _ = write!(
        b,
        "<p class=\"note\">{} {} · {} {} · {} {} min · {} {} min</p>",
        lbl(l, "visits a month", "每月巡诊次数"),
        r.visits_per_month,
        lbl(l, "half-days a doctor", "每名医生半天数"),
        r.halfdays_per_month,
        lbl(l, "half-day", "半天"),
        r.halfday_minutes,
        lbl(l, "in each village", "每村停留"),
        r.service_minutes
    );
    let _ = write!(
        b,
        "<table id=\"plan-tours\"><thead><tr><th>#</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        lbl(l, "Doctor", "医生"),
        lbl(l, "Facility", "机构"),
        lbl(l, "Half-days", "半天"),
        lbl(l, "Villages, in order", "行政村（按顺序）"),
        lbl(l, "Travel (min)", "路途（分钟）"),
        lbl(l, "Population", "人口"),
    );
    for t in &k.tours {
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.0}</td><td>{}</td></tr>",
            t.tour_no,
            esc(&t.tour.practitioner_id),
            esc(&t.tour.facility_id),
            esc(&t.tour.halfdays).replace(';', "<br>"),
            t.tour.villages.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(" → "),
            t.tour.travel_minutes,
            t.tour.population
        );
    }
    b.push_str("</tbody></table>");
}

fn tours_out(k: &KeptPlan) -> Option<ToursOut> {
    let r = k.planner.tours.as_ref()?;
    Some(ToursOut {
        visits_per_month: r.visits_per_month,
        halfdays_per_month: r.halfdays_per_month,
        halfday_minutes: r.halfday_minutes,
        service_minutes: r.service_minutes,
        doctors: r.doctors,
        toured_villages: r.toured_villages,
        covered_population: r.covered_population,
        population_bound: r.population_bound,
        population_gap: r.population_gap(),
        travel_minutes: r.travel_minutes,
        travel_bound_minutes: r.travel_bound_minutes,
        travel_gap: r.travel_gap(),
        not_planned: r.not_planned.clone(),
        items: k
            .tours
            .iter()
            .map(|t| TourOut {
                tour_no: t.tour_no,
                practitioner_id: t.tour.practitioner_id.clone(),
                facility_id: t.tour.facility_id.clone(),
                halfdays: t.tour.halfdays.clone(),
                village_codes: t.tour.villages.iter().map(|v| v.to_string()).collect(),
                travel_minutes: t.tour.travel_minutes,
                duration_minutes: t.tour.duration_minutes,
                population: t.tour.population,
            })
            .collect(),
    })
}

fn detail_out(k: &KeptPlan, today: NaiveDate) -> PlanDetailOut {
    let lines = k
        .progress(today)
        .into_iter()
        .map(|(l, due, made)| LineOut {
            line_no: l.line_no,
            village_code: l.line.village.to_string(),
            kind: l.line.kind.as_str(),
            practitioner_id: l.line.practitioner_id.clone(),
            term_start: l.line.term_start.map(|d| d.to_string()),
            term_end: l.line.term_end.map(|d| d.to_string()),
            days: l.line.days.to_string(),
            halfdays: l.line.halfdays.clone(),
            travel_minutes: l.line.travel_minutes,
            due,
            made,
        })
        .collect();
    let visits = k
        .visits
        .iter()
        .map(|v| VisitOut {
            line_no: v.line_no,
            village_code: v.village.to_string(),
            practitioner_id: v.practitioner_id.clone(),
            date: v.visited_on.to_string(),
            note: v.note.clone(),
            recorded_by: v.recorded_by.clone(),
            recorded_at: v.recorded_at.to_rfc3339(),
        })
        .collect();
    let population = k.planner.population_bound.map(|bound| PopulationOut {
        covered: k.planner.covered_population,
        bound,
        gap: coverage::population_gap(k.planner.covered_population, bound),
    });
    PlanDetailOut { plan: plan_out(&k.plan), today: today.to_string(), population, tours: tours_out(k), lines, visits }
}

#[derive(Serialize)]
pub struct Items<T> {
    items: Vec<T>,
}

/// A planned line given by hand.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineIn {
    pub village_code: String,
    pub kind: String,
    #[serde(default)]
    pub practitioner_id: Option<String>,
    #[serde(default)]
    pub term_start: Option<String>,
    #[serde(default)]
    pub term_end: Option<String>,
    /// Weekdays or dates; a dispatch line without them serves Monday to Friday.
    #[serde(default)]
    pub days: Option<String>,
}

fn line_of(i: usize, b: &LineIn) -> Result<PlanLine, WebError> {
    let at = |e: String| WebError::BadRequest(format!("lines[{i}].{e}"));
    let village = RegionCode::parse(&b.village_code).map_err(|e| at(format!("village_code: {e}")))?;
    let kind: LineKind = b.kind.parse().map_err(|e: String| at(format!("kind: {e}")))?;
    let practitioner_id = match b.practitioner_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(p) => Some(
            domain::records::parse_id("practitioner_id", p)
                .map_err(|e| at(format!("practitioner_id: {}", e.reason)))?,
        ),
        None => None,
    };
    let term_start = opt_date("term_start", b.term_start.as_deref()).map_err(|e| at(e.to_string()))?;
    let term_end = opt_date("term_end", b.term_end.as_deref()).map_err(|e| at(e.to_string()))?;
    let days = match b.days.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => PlanDays::parse(s).map_err(|e| at(format!("days: {e}")))?,
        None if kind == LineKind::Dispatch => PlanDays::WORKING_WEEK,
        None => return Err(at("days: a roving line names its days (Mon;Wed, or dates)".into())),
    };
    Ok(PlanLine {
        village,
        kind,
        practitioner_id,
        term_start,
        term_end,
        days,
        halfdays: String::new(),
        travel_minutes: None,
    })
}

/// A plan to save: with `lines`, as given; without, the planner's for the
/// region on `as_of` (default today) with its settings.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanIn {
    pub region_code: String,
    pub period_start: String,
    pub period_end: String,
    #[serde(default)]
    pub as_of: Option<String>,
    #[serde(default)]
    pub lines: Option<Vec<LineIn>>,
    #[serde(default)]
    pub visits_per_week: Option<u32>,
    #[serde(default)]
    pub outreach_halfdays: Option<u32>,
    #[serde(default)]
    pub max_travel_minutes: Option<f64>,
    #[serde(default)]
    pub dispatch_population: Option<u32>,
    /// Tours: visits a toured village gets a month.
    #[serde(default)]
    pub visits_per_month: Option<u32>,
    /// Tours: most half-days a doctor gives to tours a month.
    #[serde(default)]
    pub halfdays_per_month: Option<u32>,
    /// Tours: minutes of a half-day, travel and service together.
    #[serde(default)]
    pub halfday_minutes: Option<f64>,
    /// Tours: minutes spent in each village.
    #[serde(default)]
    pub service_minutes: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinesIn {
    pub lines: Vec<LineIn>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveIn {
    pub to: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitIn {
    pub village_code: String,
    pub date: String,
    #[serde(default)]
    pub practitioner_id: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Serialize)]
pub struct VisitsDone {
    pub inserted: u64,
    pub unchanged: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorQuery {
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
}

#[derive(Serialize)]
pub struct ShareOut {
    pub level: &'static str,
    pub region_code: String,
    pub due: u64,
    pub made: u64,
    pub share: Option<f64>,
}

#[derive(Serialize)]
pub struct IndicatorOut {
    pub from: String,
    pub to: String,
    pub today: String,
    pub items: Vec<ShareOut>,
}

fn share_out(s: &VisitShare) -> ShareOut {
    ShareOut {
        level: if s.level == domain::RegionLevel::Township { "township" } else { "county" },
        region_code: s.region.short(),
        due: s.due,
        made: s.made,
        share: s.share(),
    }
}

/// The period of the indicator: `from` (default the year's first day) to
/// `to` (default today).
fn indicator_period(from: Option<&str>, to: Option<&str>) -> Result<(NaiveDate, NaiveDate), WebError> {
    let now = today();
    let from = opt_date("from", from)?.unwrap_or_else(|| NaiveDate::from_ymd_opt(now.year(), 1, 1).unwrap_or(now));
    let to = opt_date("to", to)?.unwrap_or(now);
    Ok((from, to))
}

async fn list_api(State(st): State<AppState>, ApiUser(ctx): ApiUser) -> Result<Json<Items<PlanOut>>, WebError> {
    let plans = st.app.plans(ctx.scope()).await?;
    Ok(Json(Items { items: plans.iter().map(plan_out).collect() }))
}

async fn create(st: &AppState, ctx: &Ctx, b: &PlanIn) -> Result<StoredPlan, WebError> {
    forbidden(may_draft(ctx.user.role))?;
    let region = region("region_code", &b.region_code)?;
    let period = (date("period_start", &b.period_start)?, date("period_end", &b.period_end)?);
    let actor = &ctx.user.username;
    match &b.lines {
        Some(lines) => {
            let lines = lines.iter().enumerate().map(|(i, l)| line_of(i, l)).collect::<Result<Vec<_>, _>>()?;
            let d = PlanDraft { region, period_start: period.0, period_end: period.1, lines };
            Ok(st.app.draft_plan(ctx.scope(), ctx.user.role, &d, actor).await?)
        }
        None => {
            let as_of = opt_date("as_of", b.as_of.as_deref())?.unwrap_or_else(today);
            let d = PlanSettings::default();
            let settings = PlanSettings {
                visits_per_week: b.visits_per_week.unwrap_or(d.visits_per_week),
                outreach_halfdays: b.outreach_halfdays.unwrap_or(d.outreach_halfdays),
                max_travel_minutes: b.max_travel_minutes.unwrap_or(d.max_travel_minutes),
                dispatch_population: b.dispatch_population.unwrap_or(d.dispatch_population),
                model: d.model,
            };
            let t = TourSettings::default();
            let tours = TourSettings {
                visits_per_month: b.visits_per_month.unwrap_or(t.visits_per_month),
                halfdays_per_month: b.halfdays_per_month.unwrap_or(t.halfdays_per_month),
                halfday_minutes: b.halfday_minutes.unwrap_or(t.halfday_minutes),
                service_minutes: b.service_minutes.unwrap_or(t.service_minutes),
                dispatch_population: settings.dispatch_population,
                model: settings.model,
            };
            let p = st
                .app
                .draft_plan_from_planner(
                    ctx.scope(),
                    ctx.user.role,
                    region,
                    period,
                    as_of,
                    &settings,
                    Some(&tours),
                    &coverage::Settings::default(),
                    actor,
                )
                .await?;
            Ok(p)
        }
    }
}

async fn create_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    ApiJson(b): ApiJson<PlanIn>,
) -> Result<Json<PlanOut>, WebError> {
    let p = create(&st, &ctx, &b).await?;
    Ok(Json(plan_out(&p)))
}

async fn get_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<PlanDetailOut>, WebError> {
    let id = plan_id(&id)?;
    let k = st.app.kept_plan(ctx.scope(), id).await?;
    Ok(Json(detail_out(&k, today())))
}

async fn lines_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<LinesIn>,
) -> Result<Json<PlanOut>, WebError> {
    forbidden(may_draft(ctx.user.role))?;
    let id = plan_id(&id)?;
    let lines = b.lines.iter().enumerate().map(|(i, l)| line_of(i, l)).collect::<Result<Vec<_>, _>>()?;
    let p = st.app.edit_plan_lines(ctx.scope(), ctx.user.role, id, &lines, &ctx.user.username).await?;
    Ok(Json(plan_out(&p)))
}

fn target_state(to: &str) -> Result<PlanState, WebError> {
    to.parse::<PlanState>().map_err(|e| WebError::BadRequest(format!("to: {e}")))
}

async fn move_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<MoveIn>,
) -> Result<Json<PlanOut>, WebError> {
    forbidden(may_decide(ctx.user.role, ctx.scope()))?;
    let id = plan_id(&id)?;
    let to = target_state(&b.to)?;
    let p = st.app.move_plan(ctx.scope(), ctx.user.role, id, to, today(), &ctx.user.username).await?;
    Ok(Json(plan_out(&p)))
}

fn visit_of(id: i64, village: &str, date_: &str, who: Option<&str>, note: Option<&str>) -> Result<PlanVisit, WebError> {
    use domain::Record;
    PlanVisit::from_fields(&[&id.to_string(), village, date_, who.unwrap_or(""), note.unwrap_or("")])
        .map_err(|e| WebError::BadRequest(format!("{}: {}", e.column, e.reason)))
}

async fn visit_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<VisitIn>,
) -> Result<Json<VisitsDone>, WebError> {
    forbidden(may_record_visits(ctx.user.role))?;
    let id = plan_id(&id)?;
    let v = visit_of(id, &b.village_code, &b.date, b.practitioner_id.as_deref(), b.note.as_deref())?;
    let done = st
        .app
        .record_plan_visits(ctx.scope(), ctx.user.role, &[("the visit".into(), v)], &ctx.user.username, today())
        .await?;
    Ok(Json(VisitsDone { inserted: done.inserted, unchanged: done.unchanged }))
}

async fn indicator_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    ApiQuery(q): ApiQuery<IndicatorQuery>,
) -> Result<Json<IndicatorOut>, WebError> {
    let (from, to) = indicator_period(q.from.as_deref(), q.to.as_deref())?;
    let now = today();
    let rows = st.app.planned_visits_made(ctx.scope(), from, to, now).await?;
    Ok(Json(IndicatorOut {
        from: from.to_string(),
        to: to.to_string(),
        today: now.to_string(),
        items: rows.iter().map(share_out).collect(),
    }))
}

// ---------------------------------------------------------------- pages

fn state_label(l: Lang, s: PlanState) -> String {
    if l == Lang::En {
        s.as_str().replace('_', " ")
    } else {
        s.zh().to_string()
    }
}

fn pct(made: u64, due: u64) -> String {
    if due == 0 {
        "—".into()
    } else {
        format!("{:.1}%", made as f64 * 100.0 / due as f64)
    }
}

#[derive(Deserialize)]
struct ListQuery {
    from: Option<String>,
    to: Option<String>,
}

/// The plans of the scope with their state and version, the form that saves
/// the planner's plan as a draft, and the share of planned visits made.
async fn list_page(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    render_list(&st, &ctx, q.from.as_deref(), q.to.as_deref(), None).await
}

async fn render_list(
    st: &AppState,
    ctx: &Ctx,
    from: Option<&str>,
    to: Option<&str>,
    error: Option<WebError>,
) -> Result<Response, PageError> {
    let l = ctx.lang;
    let mut b = String::new();
    if let Some(e) = &error {
        let _ = write!(b, "<p class=\"flash error\">{}</p>", esc(&e.to_string()));
    }
    let plans = st.app.plans(ctx.scope()).await?;
    let _ = write!(
        b,
        "<table id=\"plans\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        lbl(l, "Plan", "计划"),
        lbl(l, "Region", "地区"),
        lbl(l, "Period", "期间"),
        lbl(l, "Version", "版本"),
        lbl(l, "State", "状态"),
        lbl(l, "Made by", "制定人"),
        lbl(l, "Travel gap", "路途差距"),
        lbl(l, "Population gap", "人口差距"),
    );
    for p in &plans {
        let r = app::plans::planner_record(p);
        let travel = if r.from_planner {
            format!("{:.2}%", app::plans::gap(p.travel_minutes, p.lower_bound_minutes) * 100.0)
        } else {
            "—".into()
        };
        let population = r.population_bound.map_or("—".into(), |bound| {
            format!("{:.2}%", coverage::population_gap(r.covered_population, bound) * 100.0)
        });
        let _ = write!(
            b,
            "<tr><td><a href=\"/plans/{id}\">{id}</a></td><td>{}</td><td>{} – {}</td><td>{}</td><td class=\"state-{}\">{}</td><td>{}</td><td>{travel}</td><td>{population}</td></tr>",
            p.region.short(),
            p.period_start,
            p.period_end,
            p.version,
            p.state.as_str(),
            state_label(l, p.state),
            esc(&p.made_by),
            id = p.id,
        );
    }
    b.push_str("</tbody></table>");
    if plans.is_empty() {
        let _ = write!(b, "<p class=\"empty\">{}</p>", lbl(l, "No plan kept yet.", "尚无保存的计划。"));
    }
    if may_draft(ctx.user.role).is_ok() {
        let region = ctx.scope().prefix();
        let region = if matches!(region.len(), 6 | 9) { region } else { "" };
        b.push_str(&save_form(ctx, region, today()));
    }

    // The share of planned visits made.
    let (from, to) = indicator_period(from, to)?;
    let rows = st.app.planned_visits_made(ctx.scope(), from, to, today()).await?;
    let _ = write!(
        b,
        "<h2>{}</h2><form method=\"get\" class=\"inline\"><label>{} <input type=\"date\" name=\"from\" value=\"{from}\"></label> \
<label>{} <input type=\"date\" name=\"to\" value=\"{to}\"></label> <button>OK</button></form>\
<table id=\"visit-share\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        lbl(l, "Share of planned visits made", "计划巡诊完成率"),
        lbl(l, "From", "自"),
        lbl(l, "To", "至"),
        lbl(l, "Level", "级别"),
        lbl(l, "Region", "地区"),
        lbl(l, "Due", "应巡"),
        lbl(l, "Made", "已巡"),
        lbl(l, "Share", "完成率"),
    );
    for r in &rows {
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            share_out(r).level,
            r.region.short(),
            r.due,
            r.made,
            pct(r.made, r.due)
        );
    }
    b.push_str("</tbody></table>");
    Ok(Html(page(ctx, lbl(l, "Roving and dispatch plans", "巡诊派驻计划"), &b)).into_response())
}

/// The form that saves the planner's plan for a region as a draft (on the
/// plans page and under the coverage page's plan).
pub fn save_form(ctx: &Ctx, region: &str, as_of: NaiveDate) -> String {
    let l = ctx.lang;
    let y = as_of.year();
    format!(
        "<form method=\"post\" action=\"/plans\" class=\"stack\" id=\"save-plan-form\">{csrf}\
<label>{rl}<input name=\"region_code\" required value=\"{region}\" pattern=\"[0-9]{{6}}|[0-9]{{9}}\"></label>\
<label>{fl}<input name=\"period_start\" type=\"date\" required value=\"{y}-01-01\"></label>\
<label>{tl}<input name=\"period_end\" type=\"date\" required value=\"{y}-12-31\"></label>\
<label>{al}<input name=\"as_of\" type=\"date\" value=\"{as_of}\"></label>\
<button type=\"submit\">{save}</button></form>",
        csrf = csrf_field(ctx),
        region = esc(region),
        rl = lbl(l, "County or township (6 or 9 digits)", "县或乡镇（6 或 9 位）"),
        fl = lbl(l, "Period from", "期间自"),
        tl = lbl(l, "to", "至"),
        al = lbl(l, "Network as of", "网络日期"),
        save = lbl(l, "Save this plan as a draft", "保存此计划为草案"),
    )
}

#[derive(Deserialize)]
struct SaveForm {
    region_code: String,
    period_start: String,
    period_end: String,
    #[serde(default)]
    as_of: String,
}

async fn create_form(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Form(f): Form<SaveForm>,
) -> Result<Response, PageError> {
    forbidden(may_draft(ctx.user.role))?;
    let b = PlanIn {
        region_code: f.region_code,
        period_start: f.period_start,
        period_end: f.period_end,
        as_of: Some(f.as_of),
        lines: None,
        visits_per_week: None,
        outreach_halfdays: None,
        max_travel_minutes: None,
        dispatch_population: None,
        visits_per_month: None,
        halfdays_per_month: None,
        halfday_minutes: None,
        service_minutes: None,
    };
    match create(&st, &ctx, &b).await {
        Ok(p) => Ok(Redirect::to(&format!("/plans/{}", p.id)).into_response()),
        Err(e @ (WebError::BadRequest(_) | WebError::Unprocessable(_))) => {
            render_list(&st, &ctx, None, None, Some(e)).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn plan_page(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = plan_id(&id)?;
    render_plan(&st, &ctx, id, None).await
}

/// One plan: what it is, its lines with the visits due and made, by village,
/// the buttons of the moves the user may make, the visit form, the visits.
async fn render_plan(st: &AppState, ctx: &Ctx, id: i64, error: Option<WebError>) -> Result<Response, PageError> {
    let l = ctx.lang;
    let k = st.app.kept_plan(ctx.scope(), id).await?;
    let now = today();
    let p = &k.plan;
    let mut b = String::new();
    if let Some(e) = &error {
        let _ = write!(b, "<p class=\"flash error\">{}</p>", esc(&e.to_string()));
    }
    let _ = write!(
        b,
        "<dl><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{} – {}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd id=\"plan-state\">{}</dd>\
<dt>{}</dt><dd>{} {}</dd><dt>{}</dt><dd>{}</dd>",
        lbl(l, "Region", "地区"),
        p.region.short(),
        lbl(l, "Period", "期间"),
        p.period_start,
        p.period_end,
        lbl(l, "Version", "版本"),
        p.version,
        lbl(l, "State", "状态"),
        state_label(l, p.state),
        lbl(l, "Made by", "制定人"),
        esc(&p.made_by),
        p.made_at.format("%Y-%m-%d %H:%M"),
        lbl(l, "Network as of", "网络日期"),
        p.as_of,
    );
    if let Some(f) = p.in_force_from {
        let _ = write!(
            b,
            "<dt>{}</dt><dd>{f}{}</dd>",
            lbl(l, "In force from", "执行自"),
            p.in_force_until.map_or(String::new(), |u| format!(" – {}", u.pred_opt().unwrap_or(u)))
        );
    }
    if k.planner.from_planner {
        let _ = write!(
            b,
            "<dt>{}</dt><dd id=\"plan-gap\">{:.0} min; {} {:.0} min; {} {:.2}%</dd>",
            lbl(l, "Weekly travel", "每周路途"),
            p.travel_minutes,
            lbl(l, "lower bound", "下界"),
            p.lower_bound_minutes,
            lbl(l, "gap to the bound", "与下界差距"),
            k.gap() * 100.0
        );
    }
    // The population covered by roving against its bound, on every plan.
    let _ =
        write!(b, "<dt>{}</dt><dd id=\"plan-population-gap\">", lbl(l, "Population covered by roving", "巡诊覆盖人口"));
    match (k.planner.population_bound, k.population_gap()) {
        (Some(bound), Some(g)) => {
            let _ = write!(
                b,
                "{}; {} {}; {} {:.2}%",
                k.planner.covered_population,
                lbl(l, "upper bound", "上界"),
                bound,
                lbl(l, "gap to the bound", "与上界差距"),
                g * 100.0
            );
        }
        _ if !k.planner.from_planner => b.push_str(lbl(
            l,
            "no bound: the lines were given by hand, not by the planner",
            "无上界：条目为手工填写，非规划器生成",
        )),
        _ => b.push_str(lbl(
            l,
            "no bound kept: the plan was saved before bounds were kept",
            "未保存上界：此计划保存于记录上界之前",
        )),
    }
    b.push_str("</dd></dl>");
    render_tours(&mut b, l, &k);

    // The moves the user may make.
    if may_decide(ctx.user.role, ctx.scope()).is_ok() && ctx.scope().admits(p.region) {
        for (to, en, zh) in [
            (PlanState::Approved, "Approve", "批准"),
            (PlanState::InForce, "Put in force", "执行"),
            (PlanState::Withdrawn, "Withdraw", "撤回"),
        ] {
            if p.state.may_move(to) {
                let _ = write!(
                    b,
                    "<form method=\"post\" action=\"/plans/{id}/move\" class=\"inline\" id=\"move-{to}\">{csrf}\
<input type=\"hidden\" name=\"to\" value=\"{to}\"><button type=\"submit\">{label}</button></form> ",
                    csrf = csrf_field(ctx),
                    label = lbl(l, en, zh)
                );
            }
        }
    }

    // The lines, with the visits due and made up to today.
    let progress = k.progress(now);
    let recording = p.state == PlanState::InForce && may_record_visits(ctx.user.role).is_ok();
    let _ = write!(
        b,
        "<h2>{}</h2><table id=\"plan-lines\"><thead><tr><th>#</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>{}</tr></thead><tbody>",
        lbl(l, "Planned lines", "计划条目"),
        lbl(l, "Village", "行政村"),
        lbl(l, "Kind", "方式"),
        lbl(l, "Doctor", "医生"),
        lbl(l, "Term", "派驻期"),
        lbl(l, "Days", "日期"),
        lbl(l, "Visits due", "应巡"),
        lbl(l, "Made", "已巡"),
        if recording { format!("<th>{}</th>", lbl(l, "Record a visit", "记录巡诊")) } else { String::new() },
    );
    for (line, due, made) in &progress {
        let x = &line.line;
        let term = match (x.term_start, x.term_end) {
            (Some(s), Some(e)) => format!("{s} – {e}"),
            _ => String::new(),
        };
        let days = if x.halfdays.is_empty() { x.days.to_string() } else { x.halfdays.clone() };
        let form = if recording && ctx.scope().admits(x.village) {
            format!(
                "<td><form method=\"post\" action=\"/plans/{id}/visits\" class=\"inline\">{csrf}\
<input type=\"hidden\" name=\"village_code\" value=\"{v}\"><input type=\"hidden\" name=\"practitioner_id\" value=\"{who}\">\
<input type=\"date\" name=\"date\" required value=\"{now}\"><button type=\"submit\">{ok}</button></form></td>",
                csrf = csrf_field(ctx),
                v = x.village,
                who = esc(x.practitioner_id.as_deref().unwrap_or("")),
                ok = lbl(l, "Record", "记录"),
            )
        } else if recording {
            "<td></td>".into()
        } else {
            String::new()
        };
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{} ({})</td><td>{}</td><td>{term}</td><td>{}</td><td>{due}</td><td>{made}</td>{form}</tr>",
            line.line_no,
            x.village,
            x.kind.as_str(),
            x.kind.zh(),
            esc(x.practitioner_id.as_deref().unwrap_or("—")),
            esc(&days),
        );
    }
    b.push_str("</tbody></table>");

    // By village: planned vs done.
    let mut by_village: BTreeMap<RegionCode, (u64, u64)> = BTreeMap::new();
    for (line, due, made) in &progress {
        let e = by_village.entry(line.line.village).or_default();
        e.0 += due;
        e.1 += made;
    }
    let _ = write!(
        b,
        "<h2>{}</h2><table id=\"plan-villages\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        lbl(l, "Visits due and made, by village, to today", "各村应巡与已巡（截至今日）"),
        lbl(l, "Village", "行政村"),
        lbl(l, "Due", "应巡"),
        lbl(l, "Made", "已巡"),
        lbl(l, "Share", "完成率"),
    );
    let (mut due_all, mut made_all) = (0, 0);
    for (v, (due, made)) in &by_village {
        due_all += due;
        made_all += made;
        let _ = write!(b, "<tr><td>{v}</td><td>{due}</td><td>{made}</td><td>{}</td></tr>", pct(*made, *due));
    }
    let _ = write!(
        b,
        "<tr class=\"total\"><td>{}</td><td>{due_all}</td><td>{made_all}</td><td>{}</td></tr></tbody></table>",
        lbl(l, "All", "合计"),
        pct(made_all, due_all)
    );

    // The visits recorded.
    let _ = write!(
        b,
        "<h2>{}</h2><table id=\"plan-visits\"><thead><tr><th>{}</th><th>#</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        lbl(l, "Visits recorded", "巡诊记录"),
        lbl(l, "Date", "日期"),
        lbl(l, "Village", "行政村"),
        lbl(l, "Doctor", "医生"),
        lbl(l, "Recorded by", "记录人"),
    );
    for v in &k.visits {
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            v.visited_on,
            v.line_no,
            v.village,
            esc(v.practitioner_id.as_deref().unwrap_or("")),
            esc(&v.recorded_by)
        );
    }
    b.push_str("</tbody></table>");
    let title = format!("{} {} · v{}", lbl(l, "Plan", "计划"), p.region.short(), p.version);
    Ok(Html(page(ctx, &title, &b)).into_response())
}

#[derive(Deserialize)]
struct MoveForm {
    to: String,
}

#[derive(Deserialize)]
struct VisitForm {
    village_code: String,
    date: String,
    #[serde(default)]
    practitioner_id: String,
    #[serde(default)]
    note: String,
}

async fn after_form(st: &AppState, ctx: &Ctx, id: i64, r: Result<(), WebError>) -> Result<Response, PageError> {
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/plans/{id}")).into_response()),
        Err(e @ (WebError::BadRequest(_) | WebError::Unprocessable(_) | WebError::Conflict(_))) => {
            render_plan(st, ctx, id, Some(e)).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn move_form(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Path(id): Path<String>,
    Form(f): Form<MoveForm>,
) -> Result<Response, PageError> {
    forbidden(may_decide(ctx.user.role, ctx.scope()))?;
    let id = plan_id(&id)?;
    let r = async {
        let to = target_state(&f.to)?;
        st.app.move_plan(ctx.scope(), ctx.user.role, id, to, today(), &ctx.user.username).await?;
        Ok::<_, WebError>(())
    }
    .await;
    after_form(&st, &ctx, id, r).await
}

async fn visit_form(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Path(id): Path<String>,
    Form(f): Form<VisitForm>,
) -> Result<Response, PageError> {
    forbidden(may_record_visits(ctx.user.role))?;
    let id = plan_id(&id)?;
    let r = async {
        let v = visit_of(id, &f.village_code, &f.date, Some(&f.practitioner_id), Some(&f.note))?;
        st.app
            .record_plan_visits(ctx.scope(), ctx.user.role, &[("the visit".into(), v)], &ctx.user.username, today())
            .await?;
        Ok::<_, WebError>(())
    }
    .await;
    after_form(&st, &ctx, id, r).await
}
