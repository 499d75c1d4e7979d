//! The policy what-if over the store: `/whatif`, where an analyst pastes a draft
//! settlement policy and picks a year, and `POST /api/v1/whatif`. The scope's
//! stored claims of the year are settled again under the policies in force (the
//! stored ones, by region and year) and under the draft, both results monitored,
//! and the two compared by county ([`crate::analysis::whatif`], over
//! `indicators::whatif`). Nothing is stored. Roles that may analyse only.

use crate::access::{Permission, Scope};
use crate::analysis::{self, WhatIf};
use crate::api::ApiJson;
use crate::auth::{audit, ApiUser, Ctx, PageUser};
use crate::error::{PageError, WebError};
use crate::html::{csrf_field, esc, page};
use crate::i18n::{t, Lang};
use crate::reports::{default_year, parse_year};
use crate::AppState;
use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use domain::RegionCode;
use indicators::whatif::{ComparisonRow, Figure};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt::Write;

pub fn page_routes() -> Router<AppState> {
    Router::new().route("/whatif", get(whatif_form).post(whatif_submit))
}

pub fn api_routes() -> Router<AppState> {
    Router::new().route("/whatif", post(whatif_api))
}

/// The longest draft accepted.
const MAX_POLICY_BYTES: usize = 256 * 1024;

/// A what-if and what the pages need to show it.
pub struct Outcome {
    pub year: i32,
    pub draft: String,
    pub result: WhatIf,
    pub names: HashMap<RegionCode, String>,
}

/// Checks the draft and the year, reads the scope's data and runs the comparison.
pub async fn run(st: &AppState, scope: &Scope, year: i32, policy_toml: &str) -> Result<Outcome, WebError> {
    if !(1990..=2100).contains(&year) {
        return Err(WebError::Unprocessable(format!("year: {year} is not a year (1990 to 2100)")));
    }
    let text = policy_toml.trim_start_matches('\u{feff}');
    if text.trim().is_empty() {
        return Err(WebError::Unprocessable(
            "the draft policy is empty: paste a settlement policy in TOML (docs/settlement.md)".into(),
        ));
    }
    if text.len() > MAX_POLICY_BYTES {
        return Err(WebError::Unprocessable(format!(
            "the draft policy is {} bytes; at most {MAX_POLICY_BYTES} are taken",
            text.len()
        )));
    }
    let draft = settle::Policy::parse(text)
        .map_err(|e| WebError::Unprocessable(format!("the draft policy is refused: {e}")))?;
    if let Some(y) = draft.year.filter(|&y| y != year) {
        return Err(WebError::Unprocessable(format!(
            "the draft policy is for {y}, but the claims compared are of {year}: change the year asked or the policy's year"
        )));
    }
    let policies = st.app.policies(scope).await?;
    if !policies.iter().any(|p| p.year == year) {
        return Err(WebError::Unprocessable(format!(
            "no settlement policy is in force in your region scope for {year}: there is nothing to compare the draft with"
        )));
    }
    let _turn = analysis::slot().await?;
    let data = st.app.indicator_data(scope, year).await?;
    let name = draft.name.clone();
    let (result, names) = analysis::run_blocking(move || {
        analysis::whatif(&data, &policies, &draft, year, &monitor::RuleSet::defaults()).map(|r| {
            let counties: HashMap<RegionCode, String> = data
                .names
                .iter()
                .filter(|(c, _)| c.level() == domain::RegionLevel::County)
                .map(|(c, n)| (*c, n.clone()))
                .collect();
            (r, counties)
        })
    })
    .await?;
    Ok(Outcome { year, draft: name, result, names })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WhatIfIn {
    year: i32,
    policy_toml: String,
}

#[derive(Serialize)]
struct RowOut {
    /// A county code, or `all` for the whole scope.
    county: String,
    county_name: String,
    item: String,
    /// Yuan for money, a count, or yuan per household; `null` where it does not apply.
    in_force: Option<String>,
    draft: Option<String>,
    /// Draft minus in force.
    difference: Option<String>,
}

#[derive(Serialize)]
struct WhatIfOut {
    scope: String,
    year: i32,
    draft: String,
    in_force: Vec<String>,
    claims: usize,
    claims_without_policy: usize,
    households_without_threshold: usize,
    unchanged: bool,
    rows: Vec<RowOut>,
}

fn text(f: Figure) -> Option<String> {
    Some(f.text()).filter(|s| !s.is_empty())
}

fn county_of(r: &ComparisonRow) -> String {
    r.county.map(|c| c.short()).unwrap_or_else(|| "all".into())
}

async fn whatif_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    ApiJson(body): ApiJson<WhatIfIn>,
) -> Result<Json<WhatIfOut>, WebError> {
    ctx.require(Permission::Analyse)?;
    let o = run(&st, ctx.scope(), body.year, &body.policy_toml).await?;
    audit_run(&st, &ctx, &o).await?;
    Ok(Json(WhatIfOut {
        scope: ctx.scope().to_string(),
        year: o.year,
        draft: o.draft.clone(),
        in_force: o.result.in_force.clone(),
        claims: o.result.claims,
        claims_without_policy: o.result.without_policy,
        households_without_threshold: o.result.missing_thresholds,
        unchanged: o.result.comparison.is_unchanged(),
        rows: o
            .result
            .comparison
            .rows
            .iter()
            .map(|r| RowOut {
                county: county_of(r),
                county_name: r.county.and_then(|c| o.names.get(&c)).cloned().unwrap_or_default(),
                item: r.item.clone(),
                in_force: r.in_force.and_then(text),
                draft: r.draft.and_then(text),
                difference: text(r.difference),
            })
            .collect(),
    }))
}

async fn audit_run(st: &AppState, ctx: &Ctx, o: &Outcome) -> Result<(), WebError> {
    let detail = format!("draft {:?}, {} claims of {}, scope {}", o.draft, o.result.claims, o.year, ctx.scope());
    audit(st, &ctx.user.username, "whatif", &o.draft, &detail).await
}

// ---------------------------------------------------------------- page

fn lbl(l: Lang, en: &'static str, zh: &'static str) -> &'static str {
    if l == Lang::En {
        en
    } else {
        zh
    }
}

/// An item of the comparison in words.
fn item_label(l: Lang, item: &str) -> String {
    let fixed = match item {
        "paid_basic" => Some(("Basic medical insurance paid", "基本医保支付")),
        "paid_critical" => Some(("Critical-illness insurance paid", "大病保险支付")),
        "paid_assistance" => Some(("Medical assistance paid", "医疗救助支付")),
        "paid_safety_net" => Some(("Safety net paid", "兜底保障支付")),
        "paid_other" => Some(("Other tiers paid", "其他支付")),
        "paid_total" => Some(("All funds paid", "基金支付合计")),
        "out_of_pocket" => Some(("Out of pocket", "个人自付")),
        "households_with_claims" => Some(("Households with claims", "有就诊的家庭户")),
        "households_alerted_any_rule" => Some(("Households alerted by any rule", "任一规则预警户数")),
        "households_kept_off" => Some(("Households kept off the warning list", "减少的预警户数")),
        "cost_per_household_kept_off" => {
            Some(("Extra fund cost per household kept off (yuan)", "每减少一户预警的基金新增支出（元）"))
        }
        _ => None,
    };
    if let Some((en, zh)) = fixed {
        return lbl(l, en, zh).to_string();
    }
    if let Some(p) = item.strip_prefix("household_out_of_pocket_p") {
        return match l {
            Lang::En => format!("Household out of pocket, {p}th percentile"),
            Lang::Zh => format!("户年度自付 第{p}百分位"),
        };
    }
    if let Some(rule) = item.strip_prefix("households_alerted_") {
        return match l {
            Lang::En => format!("Households alerted: {rule}"),
            Lang::Zh => format!("预警户数：{rule}"),
        };
    }
    item.to_string()
}

fn number(f: Option<Figure>) -> f64 {
    match f {
        Some(Figure::Money(v)) => v as f64 / 100.0,
        Some(Figure::Count(v)) => v as f64,
        Some(Figure::Yuan(Some(v))) => v,
        _ => 0.0,
    }
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// Horizontal paired bars: for each item, the policy in force above and the
/// draft below, on one scale.
pub fn pair_chart(id: &str, title: &str, items: &[(String, f64, f64)], legend: (&str, &str)) -> String {
    if items.is_empty() {
        return String::new();
    }
    let (w, label_w, row_h) = (640.0, 230.0, 30.0);
    let h = 40.0 + items.len() as f64 * row_h;
    let max = items.iter().map(|(_, a, b)| a.abs().max(b.abs())).fold(0.0, f64::max).max(1e-9);
    let bar_w = w - label_w - 80.0;
    let mut s = format!(
        "<figure class=\"chart\" id=\"{id}\"><figcaption>{}</figcaption><svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\">",
        esc(title),
        esc(title)
    );
    for (i, (label, a, b)) in items.iter().enumerate() {
        let y = 8.0 + i as f64 * row_h;
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\">{}</text>",
            label_w - 6.0,
            y + 15.0,
            esc(label)
        );
        for (k, (v, colour, who)) in [(*a, "#6baed6", legend.0), (*b, "#fd8d3c", legend.1)].into_iter().enumerate() {
            let len = v.abs() / max * bar_w;
            let by = y + k as f64 * 11.0 + 2.0;
            let _ = write!(
                s,
                "<rect x=\"{label_w}\" y=\"{by:.1}\" width=\"{len:.1}\" height=\"10\" fill=\"{colour}\"><title>{} — {}: {}</title></rect>\
                 <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\">{}</text>",
                esc(label),
                esc(who),
                fmt_num(v),
                label_w + len + 4.0,
                by + 9.0,
                fmt_num(v)
            );
        }
    }
    let ly = h - 14.0;
    let _ = write!(
        s,
        "<rect x=\"{label_w}\" y=\"{ly}\" width=\"10\" height=\"8\" fill=\"#6baed6\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\">{}</text>\
         <rect x=\"{:.1}\" y=\"{ly}\" width=\"10\" height=\"8\" fill=\"#fd8d3c\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\">{}</text>",
        label_w + 14.0,
        ly + 8.0,
        esc(legend.0),
        label_w + 180.0,
        label_w + 194.0,
        ly + 8.0,
        esc(legend.1)
    );
    s.push_str("</svg></figure>");
    s
}

fn charts(l: Lang, rows: &[ComparisonRow]) -> String {
    let whole: Vec<&ComparisonRow> = rows.iter().filter(|r| r.county.is_none()).collect();
    let pick = |pred: &dyn Fn(&str) -> bool| -> Vec<(String, f64, f64)> {
        whole
            .iter()
            .filter(|r| pred(&r.item) && r.in_force.is_some())
            .map(|r| (item_label(l, &r.item), number(r.in_force), number(r.draft)))
            .collect()
    };
    let legend = (lbl(l, "policy in force", "现行政策"), lbl(l, "draft", "草案"));
    let mut s = String::new();
    s.push_str(&pair_chart(
        "chart-funds",
        lbl(l, "What each fund pays, and out of pocket (yuan)", "各项基金支付与个人自付（元）"),
        &pick(&|i| (i.starts_with("paid_") && i != "paid_other") || i == "out_of_pocket"),
        legend,
    ));
    s.push_str(&pair_chart(
        "chart-deciles",
        lbl(l, "Households' yearly out of pocket by decile (yuan)", "家庭户年度自付分位数（元）"),
        &pick(&|i| i.starts_with("household_out_of_pocket_p")),
        legend,
    ));
    s.push_str(&pair_chart(
        "chart-alerts",
        lbl(l, "Households crossing each warning rule", "触发各预警规则的家庭户数"),
        &pick(&|i| i.starts_with("households_alerted_")),
        legend,
    ));
    s
}

fn result_html(l: Lang, o: &Outcome) -> String {
    let r = &o.result;
    let mut b = String::from("<section id=\"whatif-result\">");
    let _ = write!(
        b,
        "<p class=\"note\">{}: {} · {}: {} · {}: {}</p>",
        lbl(l, "Draft", "草案"),
        esc(&o.draft),
        lbl(l, "policies in force", "现行政策"),
        esc(&r.in_force.join(", ")),
        lbl(l, "claims compared", "参与测算的就诊"),
        r.claims
    );
    if r.without_policy > 0 {
        let _ = write!(
            b,
            "<p class=\"note\">{} {}</p>",
            r.without_policy,
            lbl(
                l,
                "claims are left out: no policy is in force for their region and year.",
                "笔就诊因所在地区当年无现行政策而未计入。"
            )
        );
    }
    if r.missing_thresholds > 0 {
        let _ = write!(
            b,
            "<p class=\"note\">{} {}</p>",
            r.missing_thresholds,
            lbl(
                l,
                "households have no threshold for the year; the income rules skip them.",
                "户所在地区当年无收入阈值，收入类规则不作判断。"
            )
        );
    }
    if r.comparison.is_unchanged() {
        let _ = write!(
            b,
            "<p class=\"flash\" id=\"whatif-unchanged\">{}</p>",
            lbl(l, "The draft changes nothing: every difference is zero.", "草案与现行政策结果相同：各项差额均为零。")
        );
    }
    b.push_str(&charts(l, &r.comparison.rows));
    // One table per county, then the whole scope.
    let mut groups: Vec<(Option<RegionCode>, Vec<&ComparisonRow>)> = Vec::new();
    for row in &r.comparison.rows {
        match groups.last_mut() {
            Some((c, v)) if *c == row.county => v.push(row),
            _ => groups.push((row.county, vec![row])),
        }
    }
    for (county, rows) in groups {
        let title = match county {
            Some(c) => format!("{} {}", c.short(), o.names.get(&c).map(String::as_str).unwrap_or("")),
            None => lbl(l, "Whole region scope", "管辖区域合计").to_string(),
        };
        let _ = write!(
            b,
            "<h2>{}</h2><table class=\"whatif\" data-county=\"{}\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
            esc(title.trim()),
            county.map(|c| c.short()).unwrap_or_else(|| "all".into()),
            lbl(l, "Item", "项目"),
            lbl(l, "Policy in force", "现行政策"),
            lbl(l, "Draft", "草案"),
            lbl(l, "Difference", "差额"),
        );
        for row in rows {
            let diff = row.difference.text();
            let class = match diff.chars().next() {
                Some('-') => " class=\"num down\"",
                Some(_) if !matches!(row.difference, Figure::Money(0) | Figure::Count(0)) => " class=\"num up\"",
                _ => " class=\"num\"",
            };
            let _ = write!(
                b,
                "<tr data-item=\"{}\"><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td{class}>{}</td></tr>",
                esc(&row.item),
                esc(&item_label(l, &row.item)),
                row.in_force.map(Figure::text).unwrap_or_default(),
                row.draft.map(Figure::text).unwrap_or_default(),
                diff
            );
        }
        b.push_str("</tbody></table>");
    }
    b.push_str("</section>");
    b
}

#[derive(Deserialize, Default)]
struct WhatIfForm {
    #[serde(default)]
    year: String,
    #[serde(default)]
    policy: String,
    /// Empty to show the comparison; `csv` or `xlsx` to download it.
    #[serde(default)]
    format: String,
}

/// The form, with what it was given (or the policy in force), and below it the
/// result or the error.
fn form_page(ctx: &Ctx, year: i32, policy: &str, below: &str) -> String {
    let l = ctx.lang;
    let mut b = format!(
        "<p class=\"note\">{}</p>",
        lbl(
            l,
            "Paste a draft settlement policy (TOML). Your region scope's stored claims of the year are settled again under the policies in force and under the draft, both are monitored, and the two are compared county by county. Nothing is stored.",
            "粘贴政策草案（TOML）。系统将管辖区域内该年度已存储的就诊分别按现行政策和草案重新结算、重新预警，并按县比较。测算结果不写入系统。"
        )
    );
    let _ = write!(
        b,
        "<form method=\"post\" action=\"/whatif\" class=\"stack wide\" id=\"whatif-form\">{csrf}\
<label>{y_l}<input name=\"year\" type=\"number\" min=\"1990\" max=\"2100\" value=\"{year}\" required></label>\
<label>{p_l}<textarea name=\"policy\" rows=\"16\" spellcheck=\"false\" required>{src}</textarea></label>\
<p><button type=\"submit\">{go}</button>{dl}</p></form>",
        csrf = csrf_field(ctx),
        dl = if ctx.may(Permission::Export) {
            format!(
                " <button type=\"submit\" name=\"format\" value=\"xlsx\" class=\"secondary\" id=\"whatif-xlsx\">{}</button> \
                 <button type=\"submit\" name=\"format\" value=\"csv\" class=\"secondary\" id=\"whatif-csv\">{}</button>",
                lbl(l, "Compare and download XLSX", "测算并下载 XLSX"),
                lbl(l, "… CSV", "… CSV")
            )
        } else {
            String::new()
        },
        y_l = t(l, "year"),
        p_l = lbl(l, "Draft policy (TOML)", "政策草案（TOML）"),
        src = esc(policy),
        go = lbl(l, "Compare", "测算比较"),
    );
    b.push_str(below);
    page(ctx, t(l, "whatif"), &b)
}

/// The source of the policy in force for the scope in `year`: the one of the
/// longest region containing the scope, else any of the year.
async fn in_force_source(st: &AppState, scope: &Scope, year: i32) -> Result<String, WebError> {
    let policies = st.app.policies(scope).await?;
    let mine = policies.iter().filter(|p| p.year == year);
    let best = mine
        .clone()
        .filter(|p| scope.prefix().starts_with(&p.region))
        .max_by_key(|p| p.region.len())
        .or_else(|| mine.clone().next());
    Ok(best.map(|p| p.policy.source().to_string()).unwrap_or_default())
}

async fn whatif_form(State(st): State<AppState>, PageUser(ctx): PageUser) -> Result<Response, PageError> {
    ctx.require(Permission::Analyse)?;
    let year = default_year(&st, ctx.scope()).await?;
    let source = in_force_source(&st, ctx.scope(), year).await?;
    Ok(Html(form_page(&ctx, year, &source, "")).into_response())
}

async fn whatif_submit(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Form(f): Form<WhatIfForm>,
) -> Result<Response, PageError> {
    ctx.require(Permission::Analyse)?;
    let l = ctx.lang;
    let format = match f.format.trim() {
        "" => None,
        x @ ("csv" | "xlsx") => {
            ctx.require(Permission::Export)?;
            Some(x)
        }
        other => return Err(WebError::BadRequest(format!("format {other:?}: expected csv or xlsx")).into()),
    };
    let outcome = match parse_year(&f.year) {
        Ok(year) => run(&st, ctx.scope(), year, &f.policy).await.map(|o| (year, o)),
        Err(e) => Err(e),
    };
    let year = f.year.trim().parse().unwrap_or(0);
    match outcome {
        Ok((year, o)) => {
            audit_run(&st, &ctx, &o).await?;
            match format {
                Some(fmt) => Ok(download(&o, fmt)?),
                None => Ok(Html(form_page(&ctx, year, &f.policy, &result_html(l, &o))).into_response()),
            }
        }
        Err(e) if e.status().is_client_error() => {
            let msg =
                format!("<p class=\"flash error\" role=\"alert\" id=\"whatif-error\">{}</p>", esc(&e.to_string()));
            Ok((e.status(), Html(form_page(&ctx, year, &f.policy, &msg))).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// The comparison as a file, in the `indicators` crate's layout.
fn download(o: &Outcome, format: &str) -> Result<Response, WebError> {
    let mut body = Vec::new();
    let ctype = if format == "xlsx" {
        o.result.comparison.write_xlsx(&o.names, &mut body).map_err(|e| WebError::Internal(e.to_string()))?;
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    } else {
        o.result.comparison.write_csv(&o.names, &mut body).map_err(|e| WebError::Internal(e.to_string()))?;
        "text/csv; charset=utf-8"
    };
    let name = format!("attachment; filename=\"whatif_{}.{format}\"", o.year);
    Ok(([(CONTENT_TYPE, ctype.to_string()), (CONTENT_DISPOSITION, name)], body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_charts() {
        assert_eq!(item_label(Lang::En, "household_out_of_pocket_p50"), "Household out of pocket, 50th percentile");
        assert_eq!(item_label(Lang::En, "households_alerted_catastrophic_25"), "Households alerted: catastrophic_25");
        assert_eq!(item_label(Lang::Zh, "paid_basic"), "基本医保支付");
        let svg = pair_chart("c", "t<", &[("a&b".into(), 10.0, 5.0)], ("x", "y"));
        assert!(svg.contains("t&lt;") && svg.contains("a&amp;b") && svg.matches("<rect").count() == 4);
        assert!(pair_chart("c", "t", &[], ("x", "y")).is_empty());
    }
}
