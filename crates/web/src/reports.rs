//! The programme report over the store: `/reports` (a form and the indicator
//! table of the user's scope, with XLSX and CSV downloads) and `GET
//! /api/v1/reports` (JSON, CSV or XLSX). The repository reads only the scope's
//! data, and the report keeps only rows inside the scope, so no row of another
//! region can appear; the figures are the `indicators` crate's
//! ([`crate::analysis::build_report`]). Each value is drawn against its target
//! (`/targets`) with a status, with `compare=previous-year` beside the same
//! period of the year before, and with `compare=regions` beside the values of
//! its province and of the nation: aggregate figures, values only (no sums, no
//! rows, no names or links of other regions), shown to every scope as a
//! programme publishes provincial and national averages (SECURITY.md). The page
//! draws each indicator as two small charts (`charts.rs`).

use crate::access::{Permission, Scope};
use crate::analysis::{slot, Report};
use crate::api::ApiQuery;
use crate::auth::{audit, ApiUser, Ctx, PageUser};
use crate::error::{PageError, WebError};
use crate::html::{esc, page, url};
use crate::i18n::{t, Lang};
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Datelike;
use domain::{Fen, RegionLevel};
use indicators::report::{draw, Drawn};
use indicators::{Comparisons, Direction, PeriodKind, Status, Unit};
use serde::Serialize;
use std::fmt::Write;

pub fn page_routes() -> Router<AppState> {
    Router::new().route("/reports", get(reports_page))
}

pub fn api_routes() -> Router<AppState> {
    Router::new().route("/reports", get(reports_api))
}

/// What a report is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportParams {
    pub year: i32,
    pub levels: Vec<RegionLevel>,
    pub period: PeriodKind,
    /// `json`, `csv` or `xlsx`.
    pub format: String,
    /// `compare=previous-year`: each row beside the same period of the year
    /// before; `compare=regions`: beside its province's and the nation's values
    /// (both: comma-separated or repeated).
    pub compare: Comparisons,
    /// `counties=poverty|other`: only the national poverty counties, or the rest.
    pub counties: domain::CountyGroup,
}

fn period_str(p: PeriodKind) -> &'static str {
    match p {
        PeriodKind::Year => "year",
        PeriodKind::Quarter => "quarter",
        PeriodKind::Month => "month",
    }
}

/// The scope's own level and the one below (the whole country: provinces).
fn default_levels(scope: &Scope) -> Vec<RegionLevel> {
    use RegionLevel::*;
    match scope.prefix().len() {
        0 => vec![Province],
        2 => vec![Province, City],
        4 => vec![City, County],
        6 => vec![County, Township],
        _ => vec![Township, Village],
    }
}

/// The latest year of a policy in the scope, not after this one; this year if none.
pub async fn default_year(st: &AppState, scope: &Scope) -> Result<i32, WebError> {
    let now = chrono::Utc::now().year();
    let policies = st.app.policies(scope).await?;
    Ok(policies.iter().map(|p| p.year).filter(|&y| y <= now).max().unwrap_or(now))
}

/// A year as the forms and the API take it.
pub fn parse_year(s: &str) -> Result<i32, WebError> {
    domain::parse_year(s).map_err(|e| WebError::BadRequest(format!("year: {e}")))
}

impl ReportParams {
    /// From the query's pairs: `year`, `level` (repeated or comma-separated),
    /// `period`, `format`, `compare`; anything else is refused.
    pub async fn from_pairs(st: &AppState, scope: &Scope, pairs: &[(String, String)]) -> Result<Self, WebError> {
        let (mut year, mut levels, mut period, mut format) = (None, Vec::new(), PeriodKind::Year, "json".to_string());
        let mut compare = Comparisons::NONE;
        let mut counties = domain::CountyGroup::All;
        for (k, v) in pairs {
            match k.as_str() {
                "year" if !v.trim().is_empty() => year = Some(parse_year(v)?),
                "year" => {}
                "level" => {
                    for l in v.split(',').map(str::trim).filter(|l| !l.is_empty()) {
                        let l: RegionLevel = l
                            .parse()
                            .map_err(|e: domain::DomainError| WebError::BadRequest(format!("level: {}", e.0)))?;
                        if !levels.contains(&l) {
                            levels.push(l);
                        }
                    }
                }
                "period" => period = v.parse().map_err(|e: String| WebError::BadRequest(format!("period: {e}")))?,
                "format" => match v.trim() {
                    f @ ("json" | "csv" | "xlsx") => format = f.to_string(),
                    other => {
                        return Err(WebError::BadRequest(format!(
                            "format: {other:?} is not a report format; expected json, csv or xlsx"
                        )))
                    }
                },
                "counties" => {
                    counties = v.parse().map_err(|e: String| WebError::BadRequest(format!("counties: {e}")))?
                }
                "compare" => {
                    let more: Comparisons =
                        v.parse().map_err(|e: String| WebError::BadRequest(format!("compare: {e}")))?;
                    compare = more.iter().fold(compare, Comparisons::with);
                }
                other => {
                    return Err(WebError::BadRequest(format!(
                        "unknown query parameter {other:?}; expected year, level, period, format, compare or counties"
                    )))
                }
            }
        }
        levels.sort();
        let year = match year {
            Some(y) => y,
            None => default_year(st, scope).await?,
        };
        Ok(ReportParams {
            year,
            levels: if levels.is_empty() { default_levels(scope) } else { levels },
            period,
            format,
            compare,
            counties,
        })
    }

    /// The query string of these parameters in another format.
    fn query(&self, format: &str) -> String {
        let levels: Vec<&str> = self.levels.iter().map(|l| l.as_str()).collect();
        let compare = match self.compare.is_empty() {
            true => String::new(),
            false => format!("&compare={}", url(&self.compare.to_string())),
        };
        let counties = match self.counties {
            domain::CountyGroup::All => String::new(),
            c => format!("&counties={}", c.as_str()),
        };
        format!(
            "year={}&level={}&period={}&format={format}{compare}{counties}",
            self.year,
            url(&levels.join(",")),
            period_str(self.period)
        )
    }
}

/// The report of the scope, from the indicator facts the store keeps.
pub async fn report_for(st: &AppState, scope: &Scope, p: &ReportParams) -> Result<Report, WebError> {
    let _turn = slot().await?;
    Ok(st
        .app
        .report_compared(
            indicators::Definitions::shipped(),
            scope,
            p.year,
            p.levels.clone(),
            p.period,
            p.compare,
            p.counties,
        )
        .await?)
}

/// A downloaded report: CSV or XLSX, audited.
async fn download(st: &AppState, ctx: &Ctx, r: &Report, p: &ReportParams) -> Result<Response, WebError> {
    ctx.require(Permission::Export)?;
    let (body, ctype) = if p.format == "xlsx" {
        (r.xlsx().map_err(WebError::Internal)?, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    } else {
        (r.csv().map_err(WebError::Internal)?, "text/csv; charset=utf-8")
    };
    audit(
        st,
        &ctx.user.username,
        "export",
        "report",
        &format!("{} rows, {}, scope {}", r.rows.len(), p.query(&p.format), ctx.scope()),
    )
    .await?;
    let name = format!("attachment; filename=\"report_{}_{}.{}\"", r.year, period_str(r.period), p.format);
    Ok(([(CONTENT_TYPE, ctype.to_string()), (CONTENT_DISPOSITION, name)], body).into_response())
}

#[derive(Serialize)]
struct IndicatorOut {
    id: String,
    name_zh: String,
    name_en: String,
    unit: String,
    formula: String,
}

/// The target a value is drawn against.
#[derive(Serialize)]
struct TargetOut {
    direction: Direction,
    /// In the indicator's unit.
    value: f64,
    /// The band of "near".
    tolerance: f64,
    /// The target's region prefix (`""`: the nation) and year (`null`: every year).
    region: String,
    year: Option<i32>,
    /// `≥ 90`, `≤ 10`, `10 ± 3`.
    text: String,
}

#[derive(Serialize)]
struct ValueOut {
    id: String,
    /// In the indicator's unit; `null` when the denominator is zero.
    value: Option<f64>,
    /// Counts, or yuan for amounts.
    numerator: f64,
    denominator: Option<f64>,
    /// The target in force for the indicator, region and year; `null` if none.
    target: Option<TargetOut>,
    /// `met`, `near` or `missed`; `null` without a target or a value.
    status: Option<Status>,
    /// With `compare=previous-year`: the value of the same period a year before.
    previous: Option<f64>,
    /// With `compare=previous-year`: value − previous.
    change: Option<f64>,
    /// With `compare=regions`: the value of the row's province, and of the nation.
    province: Option<f64>,
    nation: Option<f64>,
}

#[derive(Serialize)]
struct RowOut {
    level: String,
    region_code: String,
    region_name: String,
    period: String,
    /// With `compare=regions`: the code of the province whose values are given.
    province_code: Option<String>,
    values: Vec<ValueOut>,
}

#[derive(Serialize)]
struct ReportOut {
    scope: String,
    year: i32,
    period: String,
    levels: Vec<String>,
    unsettled_claims: usize,
    notes: Vec<String>,
    /// `previous-year`, `regions` or both (`previous-year,regions`) when
    /// compared, else `null`.
    compare: Option<String>,
    indicators: Vec<IndicatorOut>,
    rows: Vec<RowOut>,
}

fn notes(r: &Report, l: Lang) -> Vec<String> {
    let mut out = Vec::new();
    if r.unsettled > 0 {
        out.push(match l {
            Lang::En => format!(
                "{} claims of {} are not settled yet and are left out of the claim figures.",
                r.unsettled, r.year
            ),
            Lang::Zh => format!("{} 年有 {} 笔就诊尚未结算，未计入费用类指标。", r.year, r.unsettled),
        });
    }
    if let Some(n) = &r.coverage_note {
        out.push(match l {
            Lang::En => format!("Village reach could not be measured: {n}"),
            Lang::Zh => format!("无法测算村级服务可及性：{n}"),
        });
    }
    out
}

fn report_json(ctx: &Ctx, r: &Report) -> ReportOut {
    let as_num = |money: bool, v: i64| if money { v as f64 / 100.0 } else { v as f64 };
    ReportOut {
        scope: ctx.scope().to_string(),
        year: r.year,
        period: period_str(r.period).into(),
        levels: r.levels.iter().map(|l| l.as_str().to_string()).collect(),
        unsettled_claims: r.unsettled,
        notes: notes(r, Lang::En),
        compare: (!r.compare.is_empty()).then(|| r.compare.to_string()),
        indicators: r
            .defs
            .indicators
            .iter()
            .map(|d| IndicatorOut {
                id: d.id.clone(),
                name_zh: d.name_zh.clone(),
                name_en: d.name_en.clone(),
                unit: d.unit.as_str().into(),
                formula: d.formula(),
            })
            .collect(),
        rows: r
            .rows
            .iter()
            .map(|row| RowOut {
                level: row.level.as_str().into(),
                region_code: row.region.short(),
                region_name: r.names.get(&row.region).cloned().unwrap_or_default(),
                period: row.period.to_string(),
                province_code: row.wider.as_ref().map(|w| w.province.short()),
                values: r
                    .defs
                    .indicators
                    .iter()
                    .zip(&row.values)
                    .zip(draw(&r.defs, &r.targets, row))
                    .map(|((d, v), x)| ValueOut {
                        id: d.id.clone(),
                        value: v.value,
                        numerator: as_num(d.numerator_is_money(), v.numerator),
                        denominator: v.denominator.map(|x| as_num(d.denominator_is_money(), x)),
                        target: x.target.map(|t| TargetOut {
                            direction: t.direction,
                            value: t.value,
                            tolerance: t.tolerance,
                            region: t.region.clone(),
                            year: t.year,
                            text: t.describe(),
                        }),
                        status: x.status,
                        previous: x.previous,
                        change: x.change,
                        province: x.province,
                        nation: x.nation,
                    })
                    .collect(),
            })
            .collect(),
    }
}

async fn reports_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    ApiQuery(pairs): ApiQuery<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let p = ReportParams::from_pairs(&st, ctx.scope(), &pairs).await?;
    if p.format != "json" {
        ctx.require(Permission::Export)?;
    }
    let r = report_for(&st, ctx.scope(), &p).await?;
    if p.format == "json" {
        Ok(Json(report_json(&ctx, &r)).into_response())
    } else {
        download(&st, &ctx, &r, &p).await
    }
}

/// A value as the table shows it, in the indicator's unit.
pub(crate) fn shown(unit: Unit, v: Option<f64>) -> String {
    match (unit, v) {
        (_, None) => "—".into(),
        (Unit::Percent, Some(x)) => format!("{x:.1}%"),
        (Unit::Share, Some(x)) => format!("{x:.3}"),
        (Unit::Amount, Some(x)) => Fen((x * 100.0).round() as i64).to_string(),
        (Unit::Count, Some(x)) => {
            if x.fract() == 0.0 {
                format!("{x:.0}")
            } else {
                format!("{x:.2}")
            }
        }
    }
}

/// A change as the table shows it, signed, in the indicator's unit.
fn change_shown(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Percent => format!("{v:+.1}"),
        Unit::Share => format!("{v:+.3}"),
        Unit::Amount => {
            let f = Fen((v * 100.0).round() as i64);
            if f.0 > 0 {
                format!("+{f}")
            } else {
                f.to_string()
            }
        }
        Unit::Count if v.fract() == 0.0 => format!("{v:+.0}"),
        Unit::Count => format!("{v:+.2}"),
    }
}

/// What a cell shows below a value: its target with the status, the year
/// before with the change, and its province's and the nation's values.
fn drawn_cell(l: Lang, unit: Unit, x: &Drawn, regions: bool) -> String {
    let mut s = String::new();
    if let Some(t) = x.target {
        let _ = write!(s, "<small class=\"target\">{} {}", lbl(l, "target", "目标"), esc(&t.describe()));
        if let Some(st) = x.status {
            let _ = write!(
                s,
                " <span class=\"target-status {k}\" data-status=\"{k}\">{}</span>",
                t_status(l, st),
                k = st.as_str()
            );
        }
        s.push_str("</small>");
    }
    if x.previous.is_some() || x.change.is_some() {
        let _ = write!(
            s,
            "<small class=\"previous\">{} {}{}</small>",
            lbl(l, "year before", "上年"),
            shown(unit, x.previous),
            x.change.map(|c| format!(" ({})", change_shown(unit, c))).unwrap_or_default()
        );
    }
    if regions {
        let _ = write!(
            s,
            "<small class=\"wider\">{} {} · {} {}</small>",
            lbl(l, "province", "全省"),
            shown(unit, x.province),
            lbl(l, "nation", "全国"),
            shown(unit, x.nation)
        );
    }
    s
}

pub(crate) fn t_status(l: Lang, s: Status) -> &'static str {
    match s {
        Status::Met => t(l, "met"),
        Status::Near => t(l, "near"),
        Status::Missed => t(l, "missed"),
    }
}

/// The charts of each indicator: the scope's region by month (the year before
/// beside it when compared) and its year's value beside its province's and the
/// nation's (when compared with them), each with the target in force.
fn charts(b: &mut String, l: Lang, r: &Report, scope: &str) {
    let c = &r.charts;
    if c.months.len() != r.defs.indicators.len() {
        return;
    }
    let region_code = c.region.map(|r| r.short()).unwrap_or_default();
    let region_label = match c.region {
        Some(code) => r.names.get(&code).cloned().unwrap_or_else(|| code.short()),
        None => lbl(l, "all", "全部").to_string(),
    };
    let province_label = lbl(l, "province", "全省");
    let _ = write!(
        b,
        "<section id=\"report-charts\" data-region=\"{}\"><h2>{}</h2><p class=\"note\">{}</p>",
        esc(&region_code),
        lbl(l, "Charts", "图表"),
        esc(&match l {
            Lang::En => format!(
                "{region_label} ({}), {}: by month, and the year against its province and the nation when compared with them; the red line is the target.",
                if scope.is_empty() { "all" } else { scope },
                r.year
            ),
            Lang::Zh => format!("{region_label}（{}）{} 年：逐月走势；选择与全省、全国比较时，另有全年值对比。红线为目标。", if scope.is_empty() { "全部" } else { scope }, r.year),
        })
    );
    for (i, d) in r.defs.indicators.iter().enumerate() {
        let target = r.targets.find(&d.id, &region_code, r.year);
        let name = if l == Lang::En { &d.name_en } else { &d.name_zh };
        let _ = write!(
            b,
            "<figure class=\"chart report-chart\" data-indicator=\"{}\"><figcaption>{}</figcaption>",
            esc(&d.id),
            esc(name)
        );
        let before = c.months_before.as_ref().and_then(|m| m.get(i)).map(Vec::as_slice);
        b.push_str(&crate::charts::months_svg(l, d, r.year, &c.months[i], before, target));
        let mut bars =
            vec![crate::charts::Bar { key: "region", label: &region_label, value: c.year.get(i).copied().flatten() }];
        if let Some((_, pv)) = &c.province {
            bars.push(crate::charts::Bar {
                key: "province",
                label: province_label,
                value: pv.get(i).copied().flatten(),
            });
        }
        let nation_label = lbl(l, "nation", "全国");
        if let Some(nv) = &c.nation {
            bars.push(crate::charts::Bar { key: "nation", label: nation_label, value: nv.get(i).copied().flatten() });
        }
        b.push_str(&crate::charts::bars_svg(l, d, &bars, target));
        b.push_str("</figure>");
    }
    b.push_str("</section>");
}

fn level_name(l: Lang, level: RegionLevel) -> &'static str {
    use RegionLevel::*;
    match (l, level) {
        (Lang::En, _) => level.as_str(),
        (Lang::Zh, Province) => "省",
        (Lang::Zh, City) => "市",
        (Lang::Zh, County) => "县",
        (Lang::Zh, Township) => "乡镇",
        (Lang::Zh, Village) => "村",
    }
}

fn lbl(l: Lang, en: &'static str, zh: &'static str) -> &'static str {
    if l == Lang::En {
        en
    } else {
        zh
    }
}

async fn reports_page(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    q: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let l = ctx.lang;
    let Query(pairs) = q?;
    let p = ReportParams::from_pairs(&st, ctx.scope(), &pairs).await?;
    if p.format != "json" {
        ctx.require(Permission::Export)?;
        let r = report_for(&st, ctx.scope(), &p).await?;
        return Ok(download(&st, &ctx, &r, &p).await?);
    }
    let r = report_for(&st, ctx.scope(), &p).await?;
    let mut b = String::new();
    // The form.
    let _ = write!(
        b,
        "<form method=\"get\" action=\"/reports\" class=\"inline\" id=\"report-form\">\
<label>{y_l} <input name=\"year\" type=\"number\" min=\"1990\" max=\"2100\" value=\"{year}\" required></label> <fieldset class=\"inline\"><legend>{lv_l}</legend>",
        y_l = t(l, "year"),
        year = p.year,
        lv_l = lbl(l, "Levels", "区划级别"),
    );
    for lv in
        [RegionLevel::Province, RegionLevel::City, RegionLevel::County, RegionLevel::Township, RegionLevel::Village]
    {
        let _ = write!(
            b,
            "<label><input type=\"checkbox\" name=\"level\" value=\"{v}\"{c}> {name}</label> ",
            v = lv.as_str(),
            c = if p.levels.contains(&lv) { " checked" } else { "" },
            name = level_name(l, lv),
        );
    }
    b.push_str("</fieldset> <label>");
    b.push_str(lbl(l, "Period", "统计周期"));
    b.push_str(" <select name=\"period\">");
    for (v, en, zh) in [("year", "year", "年"), ("quarter", "quarter", "季度"), ("month", "month", "月")] {
        let _ = write!(
            b,
            "<option value=\"{v}\"{}>{}</option>",
            if v == period_str(p.period) { " selected" } else { "" },
            lbl(l, en, zh)
        );
    }
    b.push_str("</select></label> <label>");
    b.push_str(lbl(l, "Counties", "县别"));
    b.push_str(" <select name=\"counties\">");
    for (c, en, zh) in [
        (domain::CountyGroup::All, "all", "全部"),
        (domain::CountyGroup::Poverty, "national poverty counties", "原国家级贫困县"),
        (domain::CountyGroup::Other, "other counties", "其他县"),
    ] {
        let _ = write!(
            b,
            "<option value=\"{}\"{}>{}</option>",
            c.as_str(),
            if c == p.counties { " selected" } else { "" },
            lbl(l, en, zh)
        );
    }
    let _ = write!(
        b,
        "</select></label> <label><input type=\"checkbox\" name=\"compare\" value=\"previous-year\"{}> {}</label> \
         <label><input type=\"checkbox\" name=\"compare\" value=\"regions\"{}> {}</label> <button type=\"submit\">{}</button></form>",
        if p.compare.previous_year { " checked" } else { "" },
        lbl(l, "Compare with the year before", "与上年同期比较"),
        if p.compare.regions { " checked" } else { "" },
        lbl(l, "Compare with the province and the nation", "与全省、全国比较"),
        lbl(l, "Show", "查询")
    );
    if ctx.may(Permission::Export) {
        let _ = write!(
            b,
            "<p class=\"downloads\"><a href=\"/api/v1/reports?{x}\" id=\"report-xlsx\" download>{xl}</a> · <a href=\"/api/v1/reports?{c}\" id=\"report-csv\" download>{cl}</a></p>",
            x = esc(&p.query("xlsx")),
            c = esc(&p.query("csv")),
            xl = lbl(l, "Download XLSX", "下载 XLSX"),
            cl = lbl(l, "Download CSV", "下载 CSV"),
        );
    }
    for n in notes(&r, l) {
        let _ = write!(b, "<p class=\"note\">{}</p>", esc(&n));
    }
    let _ =
        write!(b, "<p class=\"note\">{} {}</p>", lbl(l, "Region scope:", "管辖区域："), esc(&ctx.scope().to_string()));
    let _ = write!(
        b,
        "<p class=\"note\">{} <a href=\"/targets\">{}</a></p>",
        lbl(l, "Values are drawn against the targets in force:", "指标值与现行目标比较："),
        t(l, "targets")
    );
    // The table.
    if r.rows.is_empty() {
        let _ = write!(b, "<p class=\"empty\">{}</p>", t(l, "none"));
    } else {
        let _ = write!(
            b,
            "<div class=\"scroll\"><table id=\"report-table\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th>",
            lbl(l, "Level", "级别"),
            lbl(l, "Code", "区划代码"),
            t(l, "name"),
            lbl(l, "Period", "统计周期"),
        );
        for d in &r.defs.indicators {
            let name = if l == Lang::En { &d.name_en } else { &d.name_zh };
            let _ = write!(b, "<th title=\"{}\">{}</th>", esc(&d.formula()), esc(name));
        }
        b.push_str("</tr></thead><tbody>");
        for row in &r.rows {
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
                level_name(l, row.level),
                row.region.short(),
                esc(r.names.get(&row.region).map(String::as_str).unwrap_or("")),
                row.period
            );
            for ((d, v), x) in r.defs.indicators.iter().zip(&row.values).zip(draw(&r.defs, &r.targets, row)) {
                let money = |m: bool, x: i64| if m { Fen(x).to_string() } else { x.to_string() };
                let title = match v.denominator {
                    Some(den) => format!(
                        "{} / {}",
                        money(d.numerator_is_money(), v.numerator),
                        money(d.denominator_is_money(), den)
                    ),
                    None => money(d.numerator_is_money(), v.numerator),
                };
                let _ = write!(
                    b,
                    "<td class=\"num\" title=\"{}\">{}{}</td>",
                    esc(&title),
                    shown(d.unit, v.value),
                    drawn_cell(l, d.unit, &x, r.compare.regions)
                );
            }
            b.push_str("</tr>");
        }
        b.push_str("</tbody></table></div>");
    }
    charts(&mut b, l, &r, &ctx.scope().to_string());
    Ok(Html(page(&ctx, t(l, "reports"), &b)).into_response())
}
