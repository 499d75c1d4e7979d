//! The catalogue of drugs and services over HTTP (docs/catalogue.md):
//! `GET /api/v1/catalogue?province=P&year=Y&q=TEXT[&limit=N&offset=N]`. The
//! catalogue is public reference data, readable by every signed-in role, and
//! holds no personal data: reads are not audited. It is written by
//! `safetynet import catalogue FILE`.

use crate::api::{limit, ApiQuery, List};
use crate::auth::ApiUser;
use crate::error::WebError;
use crate::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

pub fn api_routes() -> Router<AppState> {
    Router::new().route("/catalogue", get(catalogue_api))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueQuery {
    #[serde(default)]
    province: Option<String>,
    #[serde(default)]
    year: Option<String>,
    #[serde(default)]
    q: String,
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    offset: Option<u32>,
}

#[derive(Serialize)]
struct CatalogueItemOut {
    province: String,
    year: i32,
    code: String,
    name: String,
    /// `a` (甲: eligible in full), `b` (乙: eligible after the self-pay-first
    /// share), `c` (丙: not eligible).
    category: String,
    self_pay_share: String,
}

async fn catalogue_api(
    State(st): State<AppState>,
    ApiUser(_ctx): ApiUser,
    ApiQuery(q): ApiQuery<CatalogueQuery>,
) -> Result<Json<List<CatalogueItemOut>>, WebError> {
    let province = match q.province.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => Some(domain::items::parse_province(p).map_err(|e| WebError::BadRequest(format!("province: {e}")))?),
        None => None,
    };
    let year = match q.year.as_deref().map(str::trim).filter(|y| !y.is_empty()) {
        Some(y) => Some(domain::enrolment::parse_year(y).map_err(|e| WebError::BadRequest(format!("year: {e}")))?),
        None => None,
    };
    if q.q.chars().count() > 64 {
        return Err(WebError::BadRequest("q: at most 64 characters".into()));
    }
    let n = limit(q.limit)? as u32;
    let rows = st.app.catalogue(province, year, &q.q, n, q.offset.unwrap_or(0)).await?;
    Ok(Json(List {
        items: rows
            .into_iter()
            .map(|i| CatalogueItemOut {
                province: format!("{:02}", i.province),
                year: i.year,
                code: i.code,
                name: i.name,
                category: i.category.to_string(),
                self_pay_share: i.self_pay_share.to_string(),
            })
            .collect(),
    }))
}
