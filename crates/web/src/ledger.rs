//! The work ledger (台账) of the user's scope over HTTP (docs/work.md, "The work
//! ledger"): `GET /api/v1/ledger` answers its tables as JSON, one of them as
//! CSV, or all of them as a workbook; `/ledger` shows the summary with the
//! downloads. The tables are the application's ([`app::ledger::ledger_book`]),
//! read inside the scope only, with resident IDs masked as the role requires.
//!
//! The ledger lists patients and visits by resident ID: every answer of the
//! API is audited (a download as an `export`, like the other downloads); CSV
//! and XLSX need a role that may export. The page shows only the summary
//! (counts by region), which names nobody.

use crate::access::Permission;
use crate::analysis::slot;
use crate::api::ApiQuery;
use crate::auth::{audit, ApiUser, Ctx, PageUser};
use crate::error::{PageError, WebError};
use crate::html::{esc, page, url};
use crate::i18n::{t, Lang};
use crate::work::today;
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{Datelike, NaiveDate};
use domain::RegionLevel;
use ingest::tables::{Cell, Table};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt::Write;

pub fn api_routes() -> Router<AppState> {
    Router::new().route("/ledger", get(ledger_api))
}

pub fn page_routes() -> Router<AppState> {
    Router::new().route("/ledger", get(ledger_page))
}

/// The tables of the ledger in the order the application makes them: the key a
/// request names one by, and its English name (the sheets are named in Chinese).
const TABLES: [(&str, &str); 7] = [
    ("summary", "Summary"),
    ("serious", "Serious illness: concentrated treatment"),
    ("chronic", "Chronic illness: contracted services"),
    ("severe", "Severe illness: safety net"),
    ("cases", "Cases and assistance"),
    ("visits", "Visits"),
    ("network_cases", "Network cases: gaps in the health network"),
];

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// What a ledger is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LedgerParams {
    year: i32,
    level: RegionLevel,
    /// `json`, `csv` or `xlsx`.
    format: String,
    /// The index of the one table asked for, if any.
    table: Option<usize>,
}

fn level_of(v: &str) -> Result<RegionLevel, WebError> {
    match v.trim() {
        "village" => Ok(RegionLevel::Village),
        "township" => Ok(RegionLevel::Township),
        "county" => Ok(RegionLevel::County),
        other => Err(WebError::BadRequest(format!(
            "level: {:?} is not a level of the ledger; expected village, township or county",
            other.chars().take(40).collect::<String>()
        ))),
    }
}

/// The table a request names, by its key or its sheet's name.
fn table_of(v: &str) -> Result<usize, WebError> {
    let v = v.trim();
    const SHEETS: [&str; 7] =
        ["汇总", "大病集中救治", "慢病签约服务", "重病兜底保障", "个案与帮扶", "走访记录", "网络个案"];
    TABLES.iter().position(|(k, _)| *k == v).or_else(|| SHEETS.iter().position(|s| *s == v)).ok_or_else(|| {
        WebError::BadRequest(format!(
            "table: {:?} is not a table of the ledger; expected one of {} (or its sheet's name: {})",
            v.chars().take(40).collect::<String>(),
            TABLES.map(|(k, _)| k).join(", "),
            SHEETS.join(", ")
        ))
    })
}

impl LedgerParams {
    fn parse(
        year: Option<&str>,
        level: Option<&str>,
        format: Option<&str>,
        table: Option<&str>,
    ) -> Result<LedgerParams, WebError> {
        let year = match year.map(str::trim).filter(|y| !y.is_empty()) {
            Some(y) => crate::reports::parse_year(y)?,
            None => today().year(),
        };
        let level = match level.map(str::trim).filter(|l| !l.is_empty()) {
            Some(l) => level_of(l)?,
            None => RegionLevel::Township,
        };
        let format = match format.map(str::trim).filter(|f| !f.is_empty()).unwrap_or("json") {
            f @ ("json" | "csv" | "xlsx") => f.to_string(),
            other => {
                return Err(WebError::BadRequest(format!(
                    "format: {:?} is not a ledger format; expected json, csv or xlsx",
                    other.chars().take(40).collect::<String>()
                )))
            }
        };
        let table = table.map(str::trim).filter(|t| !t.is_empty()).map(table_of).transpose()?;
        if table.is_some() && format == "xlsx" {
            return Err(WebError::BadRequest(
                "table: a workbook holds every table; leave table out, or ask for one table as csv or json".into(),
            ));
        }
        Ok(LedgerParams { year, level, format, table })
    }

    /// The query string of these parameters in a format (and for one table).
    fn query(&self, format: &str, table: Option<usize>) -> String {
        let mut q = format!("year={}&level={}&format={format}", self.year, self.level.as_str());
        if let Some(i) = table {
            let _ = write!(q, "&table={}", url(TABLES[i].0));
        }
        q
    }
}

/// The ledger of the caller's scope, masked as the role requires.
async fn book(st: &AppState, ctx: &Ctx, p: &LedgerParams, day: NaiveDate) -> Result<Vec<Table>, WebError> {
    let _turn = slot().await?;
    let tables = app::ledger::ledger_book(&st.app, ctx.scope(), p.year, p.level, day, ctx.masking())
        .await
        .map_err(crate::work::refused)?;
    if tables.len() != TABLES.len() {
        return Err(WebError::Internal(format!("the ledger has {} tables, not {}", tables.len(), TABLES.len())));
    }
    Ok(tables)
}

#[derive(Serialize)]
struct TableOut {
    /// The key a request names the table by (`table=`).
    key: &'static str,
    /// The sheet's name.
    name: String,
    header: Vec<String>,
    /// Text, whole numbers, money in yuan as text with two decimals, or null.
    rows: Vec<Vec<Value>>,
}

#[derive(Serialize)]
struct LedgerOut {
    scope: String,
    year: i32,
    level: String,
    /// The day overdue cases and this quarter's follow-ups are counted on.
    as_of: String,
    tables: Vec<TableOut>,
}

fn cell_json(c: &Cell) -> Value {
    match c {
        Cell::Text(s) => Value::String(s.clone()),
        Cell::Int(n) => Value::from(*n),
        Cell::Money(f) => Value::String(f.to_string()),
        Cell::Empty => Value::Null,
    }
}

fn table_out(i: usize, t: &Table) -> TableOut {
    TableOut {
        key: TABLES[i].0,
        name: t.name.clone(),
        header: t.header.clone(),
        rows: t.rows.iter().map(|r| r.iter().map(cell_json).collect()).collect(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LedgerQuery {
    year: Option<String>,
    level: Option<String>,
    format: Option<String>,
    table: Option<String>,
}

async fn ledger_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    ApiQuery(q): ApiQuery<LedgerQuery>,
) -> Result<Response, WebError> {
    let p = LedgerParams::parse(q.year.as_deref(), q.level.as_deref(), q.format.as_deref(), q.table.as_deref())?;
    if p.format != "json" {
        ctx.require(Permission::Export)?;
    }
    let day = today();
    let tables = book(&st, &ctx, &p, day).await?;
    let chosen: Vec<usize> = match (p.format.as_str(), p.table) {
        ("csv", None) => vec![0],
        (_, Some(i)) => vec![i],
        _ => (0..tables.len()).collect(),
    };
    let rows: usize = chosen.iter().map(|i| tables[*i].rows.len()).sum();
    let names: Vec<&str> = chosen.iter().map(|i| TABLES[*i].0).collect();
    let detail = format!(
        "{}: {} ({rows} rows), year {}, level {}, as of {day}, scope {}",
        p.format,
        names.join(", "),
        p.year,
        p.level.as_str(),
        ctx.scope()
    );
    let action = if p.format == "json" { "view_ledger" } else { "export" };
    let body = match p.format.as_str() {
        "csv" => {
            let mut out = Vec::new();
            ingest::tables::write_csv(&tables[chosen[0]], &mut out).map_err(|e| WebError::Internal(e.to_string()))?;
            let name = format!("attachment; filename=\"ledger_{}_{}.csv\"", p.year, TABLES[chosen[0]].0);
            ([(CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (CONTENT_DISPOSITION, name)], out).into_response()
        }
        "xlsx" => {
            let out = ingest::tables::xlsx_bytes(&tables).map_err(|e| WebError::Internal(e.to_string()))?;
            let name = format!("attachment; filename=\"ledger_{}_{}.xlsx\"", p.year, p.level.as_str());
            ([(CONTENT_TYPE, XLSX.to_string()), (CONTENT_DISPOSITION, name)], out).into_response()
        }
        _ => Json(LedgerOut {
            scope: ctx.scope().to_string(),
            year: p.year,
            level: p.level.as_str().into(),
            as_of: day.to_string(),
            tables: chosen.iter().map(|i| table_out(*i, &tables[*i])).collect(),
        })
        .into_response(),
    };
    // Written before the answer leaves: no ledger goes out unaudited.
    audit(&st, &ctx.user.username, action, "ledger", &detail).await?;
    Ok(body)
}

// ---------------------------------------------------------------- the page

#[derive(Deserialize, Default)]
struct LedgerPageQuery {
    #[serde(default)]
    year: String,
    #[serde(default)]
    level: String,
}

fn level_label(l: Lang, level: RegionLevel) -> &'static str {
    match level {
        RegionLevel::Village => t(l, "village"),
        RegionLevel::Township => t(l, "township"),
        _ => t(l, "county"),
    }
}

/// The summary's header as the page shows it: in English on English pages.
fn summary_header(l: Lang, level: RegionLevel, header: &[String]) -> Vec<String> {
    const EN: [&str; 11] = [
        "Name",
        "Serious patients",
        "Serious treated",
        "Chronic patients",
        "Chronic contracted",
        "Followed up this quarter",
        "Severe patients",
        "Open cases",
        "Overdue cases",
        "Closed cases",
        "Assistance (yuan)",
    ];
    if l == Lang::Zh || header.len() != EN.len() + 1 {
        return header.to_vec();
    }
    std::iter::once(format!("{} code", level.as_str())).chain(EN.iter().map(|s| s.to_string())).collect()
}

fn cell_html(c: &Cell) -> String {
    match c {
        Cell::Text(s) => esc(s),
        Cell::Int(n) => n.to_string(),
        Cell::Money(f) => f.to_string(),
        Cell::Empty => String::new(),
    }
}

async fn ledger_page(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    q: Result<Query<LedgerPageQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let l = ctx.lang;
    let Query(q) = q?;
    let p = LedgerParams::parse(Some(&q.year), Some(&q.level), None, None)?;
    let day = today();
    let tables = book(&st, &ctx, &p, day).await?;
    let mut b = format!(
        "<form method=\"get\" action=\"/ledger\" class=\"inline\" id=\"ledger-form\">\
<label>{yl} <input name=\"year\" type=\"number\" min=\"1990\" max=\"2100\" value=\"{year}\" required></label> \
<label>{ll} <select name=\"level\">",
        yl = t(l, "year"),
        year = p.year,
        ll = t(l, "level"),
    );
    for lv in [RegionLevel::County, RegionLevel::Township, RegionLevel::Village] {
        let _ = write!(
            b,
            "<option value=\"{}\"{}>{}</option>",
            lv.as_str(),
            if lv == p.level { " selected" } else { "" },
            level_label(l, lv)
        );
    }
    let _ = write!(b, "</select></label> <button type=\"submit\">{}</button></form>", t(l, "show"));
    if ctx.may(Permission::Export) {
        let _ = write!(
            b,
            "<p class=\"downloads\"><a href=\"/api/v1/ledger?{x}\" id=\"ledger-xlsx\" download>{xl}</a> · \
<a href=\"/api/v1/ledger?{c}\" id=\"ledger-csv\" download>{cl}</a></p>",
            x = esc(&p.query("xlsx", None)),
            c = esc(&p.query("csv", None)),
            xl = t(l, "download_xlsx"),
            cl = t(l, "download_csv"),
        );
    }
    let _ = write!(
        b,
        "<p class=\"note\">{} {} · {} {day}</p>",
        t(l, "scope"),
        esc(&ctx.scope().to_string()),
        t(l, "as_of")
    );
    let summary = &tables[0];
    let _ = write!(b, "<h2>{}</h2>", t(l, "summary"));
    if summary.rows.is_empty() {
        let _ = write!(b, "<p class=\"empty\">{}</p>", t(l, "none"));
    } else {
        b.push_str("<div class=\"scroll\"><table id=\"ledger-summary\"><thead><tr>");
        for h in summary_header(l, p.level, &summary.header) {
            let _ = write!(b, "<th>{}</th>", esc(&h));
        }
        b.push_str("</tr></thead><tbody>");
        for row in &summary.rows {
            b.push_str("<tr>");
            for (i, c) in row.iter().enumerate() {
                let class = if i >= 2 { " class=\"num\"" } else { "" };
                let _ = write!(b, "<td{class}>{}</td>", cell_html(c));
            }
            b.push_str("</tr>");
        }
        b.push_str("</tbody></table></div>");
    }
    // The other tables: how many rows each, and each as CSV for those who may export.
    let _ = write!(
        b,
        "<h2>{}</h2><table id=\"ledger-tables\"><thead><tr><th>{}</th><th>{}</th></tr></thead><tbody>",
        t(l, "ledger_tables"),
        t(l, "table"),
        t(l, "rows")
    );
    for (i, tb) in tables.iter().enumerate().skip(1) {
        let name = if l == Lang::En { TABLES[i].1.to_string() } else { tb.name.clone() };
        let shown = if ctx.may(Permission::Export) {
            format!("<a href=\"/api/v1/ledger?{}\" download>{}</a>", esc(&p.query("csv", Some(i))), esc(&name))
        } else {
            esc(&name)
        };
        let _ = write!(b, "<tr><td>{shown}</td><td class=\"num\">{}</td></tr>", tb.rows.len());
    }
    b.push_str("</tbody></table>");
    Ok(Html(page(&ctx, t(l, "ledger"), &b)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    fn msg(e: WebError) -> String {
        assert_eq!(e.status(), StatusCode::BAD_REQUEST, "{e}");
        e.to_string()
    }

    #[test]
    fn parameters_are_checked_naming_the_field() {
        let p = LedgerParams::parse(Some("2024"), Some("county"), Some("csv"), Some("个案与帮扶")).unwrap();
        assert_eq!((p.year, p.level, p.table), (2024, RegionLevel::County, Some(4)));
        assert_eq!(p.query("csv", Some(4)), "year=2024&level=county&format=csv&table=cases");
        let d = LedgerParams::parse(None, None, None, None).unwrap();
        assert_eq!((d.level, d.format.as_str(), d.table), (RegionLevel::Township, "json", None));
        assert!(msg(LedgerParams::parse(Some("1900"), None, None, None).unwrap_err()).starts_with("year:"));
        assert!(msg(LedgerParams::parse(None, Some("province"), None, None).unwrap_err()).starts_with("level:"));
        assert!(msg(LedgerParams::parse(None, None, Some("pdf"), None).unwrap_err()).starts_with("format:"));
        assert!(msg(LedgerParams::parse(None, None, None, Some("nope")).unwrap_err()).starts_with("table:"));
        assert!(msg(LedgerParams::parse(None, None, Some("xlsx"), Some("cases")).unwrap_err()).starts_with("table:"));
    }
}
