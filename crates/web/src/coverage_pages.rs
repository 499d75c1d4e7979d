//! Pages of the second bottom line and of the system's data: coverage (blank
//! spots now and projected, the villages map, the roving plan, all computed by the
//! `coverage` engine over the scope's network), policies, and import runs.

use crate::auth::PageUser;
use crate::error::{PageError, WebError};
use crate::html::{esc, page, table};
use crate::i18n::{t, Lang};
use crate::AppState;
use app::RegionStat;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::NaiveDate;
use coverage::{BlankSpot, PlanSettings, Settings};
use domain::{Fen, RegionLevel};
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt::Write;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/coverage", get(coverage_page))
        .route("/policies", get(policies_page))
        .route("/imports", get(imports_page))
}

#[derive(Deserialize)]
struct CoverageQuery {
    as_of: Option<String>,
}

/// A planner's two objectives against their bounds, as one paragraph: the
/// population covered (at most its upper bound) and the travel (at least its
/// lower bound), each with its gap. `attrs` go into the `<p>` tag.
pub(crate) fn bounds_paragraph(
    b: &mut String,
    l: Lang,
    attrs: &str,
    [population_label, travel_label]: [&str; 2],
    (covered, bound, population_gap): (impl std::fmt::Display, impl std::fmt::Display, f64),
    (travel, travel_bound, travel_gap): (f64, f64, f64),
) {
    let _ = write!(
        b,
        "<p{attrs}>{population_label}: {covered} · {}: {bound} ({} {:.2}%) · {travel_label}: {travel:.0} min · {}: {travel_bound:.0} min ({} {:.2}%)</p>",
        lbl(l, "upper bound", "上界"),
        lbl(l, "gap", "差距"),
        population_gap * 100.0,
        lbl(l, "lower bound", "下界"),
        lbl(l, "gap", "差距"),
        travel_gap * 100.0
    );
}

fn lbl(l: Lang, en: &'static str, zh: &'static str) -> &'static str {
    if l == Lang::En {
        en
    } else {
        zh
    }
}

async fn coverage_page(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Query(q): Query<CoverageQuery>,
) -> Result<Response, PageError> {
    let l = ctx.lang;
    let as_of: NaiveDate = crate::history::as_of(q.as_of.as_deref())?;
    let mut b = format!(
        "<form method=\"get\" class=\"inline\"><label>{} <input type=\"date\" name=\"as_of\" value=\"{as_of}\"></label> <button>OK</button></form>",
        lbl(l, "As of", "统计日期")
    );
    let settings = Settings::default();
    // The network as its history has it on the day, and the blank spots then
    // and at each horizon (docs/coverage.md, "History").
    let c = match st.app.coverage_on(ctx.scope(), as_of, &settings).await {
        Ok(c) => c,
        Err(app::AppError::Invalid(e)) => {
            let _ = write!(b, "<p class=\"flash error\">{}</p>", esc(&e));
            return Ok(Html(page(&ctx, t(l, "coverage"), &b)).into_response());
        }
        Err(e) => return Err(e.into()),
    };
    let net = c.network;
    let spots = c.spots;
    let villages: Vec<domain::Region> =
        net.regions.iter().filter(|r| r.level == RegionLevel::Village && r.is_rural()).cloned().collect();
    let _ = write!(
        b,
        "<p class=\"note\">{} <a href=\"/practitioners?as_of={as_of}\">{}</a></p>",
        lbl(
            l,
            "Computed from the network's history: who was posted where, qualified, and which facilities were open on the day; each horizon from the history of its own day.",
            "按网络历史计算：当日谁在何处任职、持何资格、哪些机构开业；各预测年份按其当日的历史计算。"
        ),
        lbl(l, "Practitioners on the day", "当日卫生人员")
    );
    let _ = write!(
        b,
        "<p><a href=\"/network-alerts\">{}</a></p>",
        lbl(
            l,
            "Network alerts: blank now or made blank within a year by a change",
            "网络预警：当前空白及一年内因变化将出现的空白"
        )
    );

    // counts by horizon and kind
    let mut counts: HashMap<(i32, &'static str), usize> = HashMap::new();
    for s in &spots {
        *counts.entry((s.in_years, s.kind.as_str())).or_default() += 1;
    }
    let kinds = ["village_no_clinic", "village_no_doctor", "township_no_physician", "county_no_hospital"];
    let _ = write!(
        b,
        "<h2>{}</h2><table><thead><tr><th>{}</th>",
        lbl(l, "Blank spots", "空白点"),
        lbl(l, "In years", "年后")
    );
    for k in kinds {
        let _ = write!(b, "<th>{k}</th>");
    }
    b.push_str("</tr></thead><tbody>");
    for y in coverage::HORIZONS {
        let _ = write!(b, "<tr><td>{}</td>", if y == 0 { lbl(l, "now", "当前").to_string() } else { format!("+{y}") });
        for k in kinds {
            let _ = write!(b, "<td>{}</td>", counts.get(&(y, k)).copied().unwrap_or(0));
        }
        b.push_str("</tr>");
    }
    b.push_str("</tbody></table>");

    // the villages map: blank now, blank within five years, served
    let now: HashMap<_, _> =
        spots.iter().filter(|s| s.in_years == 0 && s.kind.is_village()).map(|s| (s.region_code, ())).collect();
    let later: HashMap<_, _> =
        spots.iter().filter(|s| s.in_years > 0 && s.kind.is_village()).map(|s| (s.region_code, ())).collect();
    let stats: Vec<RegionStat> = villages
        .iter()
        .map(|r| RegionStat {
            code: r.code,
            name: r.name.clone(),
            lon: r.lon,
            lat: r.lat,
            households: 0,
            persons: r.population.unwrap_or(0) as u64,
            poor_persons: 0,
            open_alerts: if now.contains_key(&r.code) {
                2
            } else if later.contains_key(&r.code) {
                1
            } else {
                0
            },
            out_of_pocket: Fen::ZERO,
            settled_total: Fen::ZERO,
        })
        .collect();
    let _ = write!(b, "<h2>{}</h2>", lbl(l, "Villages", "行政村"));
    b.push_str(&crate::html::region_map(
        ctx.scope().prefix(),
        &stats,
        |r| r.open_alerts as f64,
        crate::html::Shade::None,
        lbl(l, "blank: 2 now, 1 within five years, 0 served", "空白：2 当前，1 五年内，0 有合格村医"),
    ));
    let _ = write!(
        b,
        "<p class=\"note\">{}</p>",
        lbl(
            l,
            "Darkest: blank now; middle: a blank spot within five years as doctors age out; lightest: served.",
            "最深：当前空白；中间：五年内因村医退休将出现空白；最浅：有合格村医。"
        )
    );

    // the list
    let rows: Vec<Vec<String>> = spots
        .iter()
        .take(500)
        .map(|s: &BlankSpot| {
            vec![
                s.in_years.to_string(),
                s.kind.as_str().into(),
                s.region_code.to_string(),
                esc(&s.name),
                esc(&s.detail),
            ]
        })
        .collect();
    let _ = write!(b, "<h2>{}</h2>", lbl(l, "Blank spots, now and coming", "当前及将出现的空白点"));
    b.push_str(&table(l, &["year", "kind", "village", "name", "detail"], &rows));

    // the roving plan for today's blank villages
    let (pv, pd) = coverage::plan::plan_inputs(&net, as_of, &settings);
    let _ = write!(b, "<h2>{}</h2>", lbl(l, "Roving and dispatch plan", "巡诊派驻计划"));
    match coverage::plan(&pv, &pd, &PlanSettings::default()) {
        Ok(p) => {
            let population = (p.covered_population, p.population_bound, p.population_gap());
            let travel = (p.total_travel_minutes, p.lower_bound_minutes, p.gap());
            let labels =
                [lbl(l, "Population covered by roving doctors", "巡诊覆盖人口"), lbl(l, "weekly travel", "每周路途")];
            bounds_paragraph(&mut b, l, " id=\"plan-bounds\"", labels, population, travel);
            let rows: Vec<Vec<String>> = p
                .villages
                .iter()
                .map(|v| {
                    let village = &pv[v.village];
                    let who = v
                        .visits
                        .iter()
                        .map(|x| {
                            format!(
                                "{} ({} × ½d, {:.0} min)",
                                esc(&pd[x.doctor].practitioner_id),
                                x.slots.len(),
                                x.minutes
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("<br>");
                    vec![
                        village.code.to_string(),
                        esc(&village.name),
                        village.population.to_string(),
                        v.action.as_str().into(),
                        who,
                        esc(&v.reason),
                    ]
                })
                .collect();
            b.push_str(&table(l, &["village", "name", "size", "action", "who", "detail"], &rows));
            // Kept: the planner's plan saved as a draft of a county or township
            // (docs/plans.md), for those who make plans.
            if app::plans::may_draft(ctx.user.role).is_ok() {
                let region = ctx.scope().prefix();
                let region = if matches!(region.len(), 6 | 9) { region } else { "" };
                let _ = write!(
                    b,
                    "<p class=\"note\">{} <a href=\"/plans\">{}</a></p>",
                    lbl(
                        l,
                        "Plans are recomputed on every visit to this page until one is kept.",
                        "本页计划每次打开时重新计算；保存后方可审批执行。"
                    ),
                    lbl(l, "Kept plans", "已保存的计划")
                );
                b.push_str(&crate::plans::save_form(&ctx, region, as_of));
            }
        }
        Err(e) => {
            let _ = write!(b, "<p class=\"flash error\">{}</p>", esc(&e.to_string()));
        }
    }

    // Tours: several villages in one half-day, with both bounds.
    let (tv, td) = coverage::tours::tour_inputs(&net, as_of, &settings);
    let _ = write!(b, "<h2>{}</h2>", lbl(l, "Roving tours", "巡诊路线"));
    // Tours are a county's plan: on a wider scope their search would hold the
    // page for seconds, so the page sends the user to the county or to `plan`.
    let (tv, td, planned) = if tv.len() > TOURS_ON_PAGE {
        let _ = write!(
            b,
            "<p class=\"note\">{} ({}: {})</p>",
            lbl(
                l,
                "Tours are planned by county: open a county's page, or run `safetynet plan --tours-out FILE` for the whole scope.",
                "巡诊路线按县编排：请打开县级页面，或在命令行运行 `safetynet plan --tours-out 文件`。"
            ),
            lbl(l, "blank villages in this scope", "本范围空白村"),
            tv.len()
        );
        (tv, td, None)
    } else {
        let run = tokio::task::spawn_blocking(move || {
            let planned = coverage::tours(&tv, &td, &coverage::TourSettings::default());
            (tv, td, planned)
        });
        let (tv, td, planned) = run.await.map_err(|e| WebError::Internal(format!("planning tours: {e}")))?;
        (tv, td, Some(planned))
    };
    match planned {
        None => {}
        Some(Ok(tp)) => {
            let population = (tp.covered_population, tp.population_bound, tp.population_gap());
            let travel = (tp.travel_minutes, tp.travel_bound_minutes, tp.travel_gap());
            let labels = [lbl(l, "Population covered by tours", "路线覆盖人口"), lbl(l, "monthly travel", "每月路途")];
            bounds_paragraph(&mut b, l, "", labels, population, travel);
            let rows: Vec<Vec<String>> = tp
                .tours
                .iter()
                .take(500)
                .map(|t| {
                    vec![
                        esc(&td[t.doctor].practitioner_id),
                        esc(&td[t.doctor].facility_id),
                        t.halfdays.iter().map(|&h| coverage::tours::halfday_name(h)).collect::<Vec<_>>().join("<br>"),
                        t.villages
                            .iter()
                            .map(|&v| format!("{} {}", tv[v].code, esc(&tv[v].name)))
                            .collect::<Vec<_>>()
                            .join(" → "),
                        format!("{:.0}", t.travel_minutes),
                    ]
                })
                .collect();
            b.push_str(&table(
                l,
                &["tour_doctor", "tour_facility", "tour_halfdays", "tour_villages", "tour_travel"],
                &rows,
            ));
        }
        Some(Err(e)) => {
            let _ = write!(b, "<p class=\"flash error\">{}</p>", esc(&e.to_string()));
        }
    }
    Ok(Html(page(&ctx, t(l, "coverage"), &b)).into_response())
}

/// The most blank villages whose tours the coverage page plans itself.
const TOURS_ON_PAGE: usize = 400;

async fn policies_page(State(st): State<AppState>, PageUser(ctx): PageUser) -> Result<Response, PageError> {
    let l = ctx.lang;
    let policies = st.app.policies(ctx.scope()).await?;
    let mut b = String::new();
    if policies.is_empty() {
        let _ = write!(b, "<p class=\"empty\">{}</p>", t(l, "none"));
    }
    for p in &policies {
        let _ = write!(
            b,
            "<section><h2>{} · {} · {}</h2><p>{}: {}</p><pre class=\"explain\">{}</pre></section>",
            esc(&p.policy.name),
            if p.region.is_empty() { "*" } else { &p.region },
            p.year,
            lbl(l, "Tiers in payment order", "支付顺序"),
            esc(&p.policy.names.join(" → ")),
            esc(p.policy.source())
        );
    }
    Ok(Html(page(&ctx, t(l, "policies"), &b)).into_response())
}

/// The import runs with their error reports, which quote the files' rows
/// (resident IDs, names): for the roles that import.
async fn imports_page(State(st): State<AppState>, PageUser(ctx): PageUser) -> Result<Response, PageError> {
    ctx.require(crate::access::Permission::Import)?;
    let l = ctx.lang;
    let runs = st.app.import_runs(ctx.scope(), 200).await?;
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            let report = if r.report.is_empty() {
                String::new()
            } else {
                format!("<details><summary>{}</summary><pre>{}</pre></details>", r.errors, esc(&r.report))
            };
            vec![
                r.at.format("%Y-%m-%d %H:%M").to_string(),
                esc(&r.kind),
                esc(&r.file_name),
                r.rows.to_string(),
                if report.is_empty() { r.errors.to_string() } else { report },
            ]
        })
        .collect();
    let heads = ["when", "kind", "name", "record", "detail"];
    Ok(Html(page(&ctx, t(l, "imports"), &table(l, &heads, &rows))).into_response())
}
