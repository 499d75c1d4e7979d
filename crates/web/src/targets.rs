//! The targets of the programme indicators (docs/indicators.md, "Targets"):
//! every signed-in user reads those that concern their scope (the page
//! `/targets` and `GET /api/v1/targets`); an administrator adds, replaces or
//! removes one inside their scope (the page's form, `PUT /api/v1/targets`).
//! Each change is a new stored version, audited by the application; reports draw
//! their values against the targets when they are drawn.

use crate::access::Permission;
use crate::api::ApiJson;
use crate::auth::{ApiUser, Ctx, PageUser};
use crate::error::{PageError, WebError};
use crate::html::{csrf_field, esc, page, table};
use crate::i18n::{t, Lang};
use crate::AppState;
use app::targets::{TargetChange, TargetEdit, TargetInForce, TargetSet, HISTORY};
use axum::extract::{Form, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use indicators::{Definitions, Direction, Target};
use serde::{Deserialize, Serialize};
use std::fmt::Write;

pub fn api_routes() -> Router<AppState> {
    Router::new().route("/targets", get(list).put(set))
}

pub fn page_routes() -> Router<AppState> {
    Router::new().route("/targets", get(targets_page).post(targets_form))
}

/// Whether a target's region concerns a scope: inside it, or above it (a
/// national target applies to a county).
fn concerns(region: &str, scope: &str) -> bool {
    region.starts_with(scope) || scope.starts_with(region)
}

#[derive(Serialize)]
struct TargetOut {
    indicator: String,
    name_zh: String,
    name_en: String,
    /// The indicator's unit: the target's too.
    unit: String,
    /// A region-code prefix, `""` for the nation.
    region: String,
    /// `null`: every year.
    year: Option<i32>,
    direction: Direction,
    value: f64,
    tolerance: f64,
    /// `≥ 90`, `≤ 10`, `10 ± 3`.
    text: String,
    source: String,
    /// `shipped` (targets.toml) or `stored` (changed by an administrator).
    origin: &'static str,
    version: Option<i64>,
    changed_by: Option<String>,
    changed_at: Option<DateTime<Utc>>,
}

#[derive(Serialize)]
struct ChangeOut {
    indicator: String,
    region: String,
    year: Option<i32>,
    version: i64,
    /// Whether this change removed the target.
    removed: bool,
    direction: Option<Direction>,
    value: Option<f64>,
    tolerance: Option<f64>,
    source: Option<String>,
    changed_by: String,
    changed_at: DateTime<Utc>,
}

#[derive(Serialize)]
struct TargetsOut {
    /// The targets in force that concern the caller's scope.
    items: Vec<TargetOut>,
    /// Their latest stored changes, newest first.
    changes: Vec<ChangeOut>,
}

fn target_out(defs: &Definitions, r: &TargetInForce) -> TargetOut {
    let t = &r.target;
    let d = defs.get(&t.indicator);
    TargetOut {
        indicator: t.indicator.clone(),
        name_zh: d.map(|d| d.name_zh.clone()).unwrap_or_default(),
        name_en: d.map(|d| d.name_en.clone()).unwrap_or_default(),
        unit: d.map(|d| d.unit.as_str().to_string()).unwrap_or_default(),
        region: t.region.clone(),
        year: t.year,
        direction: t.direction,
        value: t.value,
        tolerance: t.tolerance,
        text: t.describe(),
        source: t.source.clone(),
        origin: if r.changed.is_some() { "stored" } else { "shipped" },
        version: r.changed.as_ref().map(|c| c.version),
        changed_by: r.changed.as_ref().map(|c| c.by.clone()),
        changed_at: r.changed.as_ref().map(|c| c.at),
    }
}

fn change_out(c: &TargetChange) -> ChangeOut {
    ChangeOut {
        indicator: c.indicator.clone(),
        region: c.region.clone(),
        year: c.year,
        version: c.changed.version,
        removed: c.target.is_none(),
        direction: c.target.as_ref().map(|t| t.direction),
        value: c.target.as_ref().map(|t| t.value),
        tolerance: c.target.as_ref().map(|t| t.tolerance),
        source: c.target.as_ref().map(|t| t.source.clone()),
        changed_by: c.changed.by.clone(),
        changed_at: c.changed.at,
    }
}

/// The targets and changes that concern the user's scope.
async fn read(st: &AppState, ctx: &Ctx) -> Result<(std::sync::Arc<TargetSet>, Vec<TargetChange>), WebError> {
    let set = st.app.indicator_targets().await?;
    let scope = ctx.scope().prefix();
    let changes = st.app.target_changes(HISTORY).await?.into_iter().filter(|c| concerns(&c.region, scope)).collect();
    Ok((set, changes))
}

async fn targets_out(st: &AppState, ctx: &Ctx) -> Result<TargetsOut, WebError> {
    let (set, changes) = read(st, ctx).await?;
    let defs = Definitions::shipped();
    let scope = ctx.scope().prefix();
    Ok(TargetsOut {
        items: set.rows.iter().filter(|r| concerns(&r.target.region, scope)).map(|r| target_out(&defs, r)).collect(),
        changes: changes.iter().map(change_out).collect(),
    })
}

async fn list(State(st): State<AppState>, ApiUser(ctx): ApiUser) -> Result<Json<TargetsOut>, WebError> {
    Ok(Json(targets_out(&st, &ctx).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetIn {
    indicator: String,
    /// A region-code prefix; absent or `""`: the nation.
    #[serde(default)]
    region: String,
    /// Absent or `null`: every year.
    #[serde(default)]
    year: Option<i32>,
    #[serde(default)]
    direction: Option<String>,
    #[serde(default)]
    value: Option<f64>,
    #[serde(default)]
    tolerance: Option<f64>,
    #[serde(default)]
    source: String,
    /// `true` removes the target of the indicator, region and year.
    #[serde(default)]
    remove: bool,
}

/// Checks a change and makes it.
async fn change(st: &AppState, ctx: &Ctx, b: TargetIn) -> Result<TargetChange, WebError> {
    ctx.require(Permission::SetTargets)?;
    let region = b.region.trim().to_string();
    if !region.starts_with(ctx.scope().prefix()) {
        return Err(WebError::Forbidden(format!(
            "the region {region:?} lies outside your region scope {}",
            ctx.scope()
        )));
    }
    let set = if b.remove {
        if b.direction.is_some() || b.value.is_some() || b.tolerance.is_some() {
            return Err(WebError::BadRequest("remove: give no direction, value or tolerance with remove".into()));
        }
        None
    } else {
        let direction = b
            .direction
            .as_deref()
            .ok_or_else(|| {
                WebError::BadRequest("direction: required (at_least, at_most or about) unless remove".into())
            })?
            .parse::<Direction>()
            .map_err(|e| WebError::BadRequest(format!("direction: {e}")))?;
        let value = b.value.ok_or_else(|| WebError::BadRequest("value: required unless remove".into()))?;
        Some((direction, value, b.tolerance.unwrap_or(0.0)))
    };
    let edit = TargetEdit { indicator: b.indicator, region, year: b.year, set, source: b.source };
    Ok(st.app.set_target(ctx.scope(), &ctx.user.username, edit).await?)
}

async fn set(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    ApiJson(b): ApiJson<TargetIn>,
) -> Result<Json<TargetsOut>, WebError> {
    change(&st, &ctx, b).await?;
    Ok(Json(targets_out(&st, &ctx).await?))
}

async fn targets_page(State(st): State<AppState>, PageUser(ctx): PageUser) -> Result<Response, PageError> {
    draw(&st, &ctx, None).await
}

fn lbl(l: Lang, en: &'static str, zh: &'static str) -> &'static str {
    if l == Lang::En {
        en
    } else {
        zh
    }
}

fn region_cell(l: Lang, region: &str) -> String {
    if region.is_empty() {
        lbl(l, "the nation", "全国").to_string()
    } else {
        esc(region)
    }
}

fn year_cell(l: Lang, year: Option<i32>) -> String {
    year.map(|y| y.to_string()).unwrap_or_else(|| lbl(l, "every year", "各年").to_string())
}

fn direction_label(l: Lang, d: Direction) -> &'static str {
    match d {
        Direction::AtLeast => lbl(l, "at least", "不低于"),
        Direction::AtMost => lbl(l, "at most", "不高于"),
        Direction::About => lbl(l, "about", "左右"),
    }
}

/// The bands of a target in words: what is met and what is near.
fn bands(l: Lang, t: &Target) -> String {
    let (v, tol) = (t.value, t.tolerance);
    match (t.direction, l) {
        (Direction::AtLeast, Lang::En) => format!("met ≥ {v}; near ≥ {}", v - tol),
        (Direction::AtLeast, Lang::Zh) => format!("达标 ≥ {v}；接近 ≥ {}", v - tol),
        (Direction::AtMost, Lang::En) => format!("met ≤ {v}; near ≤ {}", v + tol),
        (Direction::AtMost, Lang::Zh) => format!("达标 ≤ {v}；接近 ≤ {}", v + tol),
        (Direction::About, Lang::En) => format!("met {v} ± {tol}; near {v} ± {}", 2.0 * tol),
        (Direction::About, Lang::Zh) => format!("达标 {v} ± {tol}；接近 {v} ± {}", 2.0 * tol),
    }
}

async fn draw(st: &AppState, ctx: &Ctx, error: Option<WebError>) -> Result<Response, PageError> {
    let l = ctx.lang;
    let (set, changes) = read(st, ctx).await?;
    let defs = Definitions::shipped();
    let scope = ctx.scope().prefix();
    let name = |id: &str| {
        defs.get(id)
            .map(|d| if l == Lang::En { d.name_en.clone() } else { d.name_zh.clone() })
            .unwrap_or_else(|| id.to_string())
    };
    let rows: Vec<Vec<String>> = set
        .rows
        .iter()
        .filter(|r| concerns(&r.target.region, scope))
        .map(|r| {
            let t = &r.target;
            let origin = match &r.changed {
                None => lbl(l, "shipped", "系统内置").to_string(),
                Some(c) => format!(
                    "{} {} · {} · {}",
                    lbl(l, "version", "版本"),
                    c.version,
                    esc(&c.by),
                    c.at.format("%Y-%m-%d %H:%M")
                ),
            };
            vec![
                format!("{}<br><code>{}</code>", esc(&name(&t.indicator)), esc(&t.indicator)),
                region_cell(l, &t.region),
                year_cell(l, t.year),
                format!("{} <strong>{}</strong>", direction_label(l, t.direction), esc(&t.describe())),
                esc(&bands(l, t)),
                esc(&t.source),
                origin,
            ]
        })
        .collect();
    let mut b = error.as_ref().map(crate::pages::form_error).unwrap_or_default();
    let _ = write!(b, "<p class=\"note\">{}</p>", t(l, "targets_note"));
    b.push_str(&table(
        l,
        &["indicator", "region_prefix", "year", "target_value", "target_bands", "source", "origin"],
        &rows,
    ));
    if ctx.may(Permission::SetTargets) {
        let mut options = String::new();
        for d in &defs.indicators {
            let _ = write!(
                options,
                "<option value=\"{}\">{}</option>",
                esc(&d.id),
                esc(if l == Lang::En { &d.name_en } else { &d.name_zh })
            );
        }
        let mut directions = String::new();
        for d in Direction::ALL {
            let _ = write!(directions, "<option value=\"{}\">{}</option>", d.as_str(), direction_label(l, d));
        }
        let _ = write!(
            b,
            "<h2>{title}</h2><form method=\"post\" action=\"/targets\" class=\"stack\" id=\"target-form\">{csrf}\
<label>{ind}<select name=\"indicator\">{options}</select></label>\
<label>{region}<input name=\"region\" maxlength=\"12\" inputmode=\"numeric\" value=\"{scope}\" placeholder=\"{nation}\"></label>\
<label>{year}<input name=\"year\" type=\"number\" min=\"1990\" max=\"2100\" placeholder=\"{every}\"></label>\
<label>{dir}<select name=\"direction\">{directions}</select></label>\
<label>{value}<input name=\"value\" inputmode=\"decimal\" required></label>\
<label>{tol}<input name=\"tolerance\" inputmode=\"decimal\" value=\"0\"></label>\
<label>{source}<input name=\"source\" maxlength=\"500\"></label>\
<label><span><input type=\"checkbox\" name=\"remove\" value=\"1\"> {remove}</span></label>\
<button type=\"submit\">{save}</button></form>",
            title = t(l, "set_target"),
            csrf = csrf_field(ctx),
            ind = t(l, "indicator"),
            region = t(l, "region_prefix"),
            scope = esc(scope),
            nation = lbl(l, "empty: the nation", "留空：全国"),
            year = t(l, "year"),
            every = lbl(l, "empty: every year", "留空：各年"),
            dir = lbl(l, "Direction", "方向"),
            value = lbl(l, "Target value (in the indicator's unit)", "目标值（指标单位）"),
            tol = lbl(l, "Tolerance (band of \"near\")", "容差（“接近”区间）"),
            source = t(l, "source"),
            remove = lbl(l, "Remove this target (the value is then ignored)", "删除此目标（忽略目标值）"),
            save = t(l, "save"),
        );
    }
    if !changes.is_empty() {
        let _ = write!(b, "<h2>{}</h2>", lbl(l, "Changes", "修改记录"));
        let rows: Vec<Vec<String>> = changes
            .iter()
            .map(|c| {
                vec![
                    c.changed.at.format("%Y-%m-%d %H:%M").to_string(),
                    esc(&c.changed.by),
                    format!("<code>{}</code>", esc(&c.indicator)),
                    region_cell(l, &c.region),
                    year_cell(l, c.year),
                    c.changed.version.to_string(),
                    match &c.target {
                        Some(t) => format!("{} {}", direction_label(l, t.direction), esc(&t.describe())),
                        None => lbl(l, "removed", "已删除").to_string(),
                    },
                ]
            })
            .collect();
        b.push_str(&table(
            l,
            &["when", "username", "indicator", "region_prefix", "year", "version", "target_value"],
            &rows,
        ));
    }
    let body = page(ctx, t(l, "targets"), &b);
    Ok(match error {
        Some(e) => (e.status(), Html(body)).into_response(),
        None => Html(body).into_response(),
    })
}

#[derive(Deserialize)]
struct TargetForm {
    #[serde(default)]
    indicator: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    year: String,
    #[serde(default)]
    direction: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    tolerance: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    remove: Option<String>,
}

/// A number of the form, or a 400 naming the field.
fn number(field: &str, s: &str) -> Result<Option<f64>, WebError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    s.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .map(Some)
        .ok_or_else(|| WebError::BadRequest(format!("{field}: {s:?} is not a number")))
}

fn form_change(f: TargetForm) -> Result<TargetIn, WebError> {
    let remove = f.remove.is_some();
    let year = match f.year.trim() {
        "" => None,
        y => Some(crate::reports::parse_year(y)?),
    };
    Ok(TargetIn {
        indicator: f.indicator,
        region: f.region,
        year,
        direction: (!remove).then_some(f.direction),
        value: if remove { None } else { number("value", &f.value)? },
        tolerance: if remove { None } else { number("tolerance", &f.tolerance)? },
        source: f.source,
        remove,
    })
}

async fn targets_form(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Form(f): Form<TargetForm>,
) -> Result<Response, PageError> {
    let r = match form_change(f) {
        Ok(b) => change(&st, &ctx, b).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(_) => Ok(Redirect::to("/targets").into_response()),
        Err(e @ WebError::Forbidden(_)) if !ctx.may(Permission::SetTargets) => Err(e.into()),
        Err(e) => draw(&st, &ctx, Some(e)).await,
    }
}
