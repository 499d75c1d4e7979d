//! What the programme report and the policy what-if read of a scope and a year:
//! the monitor's inputs ([`Store::monitor_inputs`]: households, persons, the
//! year's unvoided claims and their out-of-pocket, thresholds), and what they add
//! to it: each settled claim's payments by tier, the alerts of the year with the
//! day each was raised and the day it was resolved with assistance, the names of
//! the regions in scope, and the persons under a family-doctor contract.
//!
//! Nothing here computes an indicator: the facts, the cube and the comparison are
//! the `indicators` crate's, fed by the web layer.

use crate::alerts::MonitorInputs;
use crate::db::on_pool;
use crate::db::{Scope, Store};
use crate::error::{Ctx, StoreError};
use crate::settlements::region_of;
use chrono::{DateTime, NaiveDate, Utc};
use domain::{ClaimKey, Fen, Region, RegionCode, ResidentId};
use std::collections::{HashMap, HashSet};

/// An alert as the indicators count it: the household warned, in the alert's
/// year, from the day it was raised; assisted from the day it was resolved with
/// at least one assistance measure recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertDates {
    pub household_id: String,
    pub village: RegionCode,
    pub rule: String,
    pub year: i32,
    /// The day the alert was raised (UTC).
    pub raised_on: NaiveDate,
    /// The day it was last resolved, when it is resolved and holds a measure
    /// (its own, or one of the case it joined); `None` while open, when
    /// dismissed, or resolved without a measure.
    pub assisted_on: Option<NaiveDate>,
}

/// What the indicators read of a case: whose, its deadline to verify and when
/// verified, its deadline to close and the day it was closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseDates {
    pub household_id: String,
    pub due: NaiveDate,
    pub verified_on: Option<NaiveDate>,
    pub close_due: NaiveDate,
    pub closed_on: Option<NaiveDate>,
}

/// Everything the report and the what-if read of a scope and a year.
#[derive(Debug, Clone, Default)]
pub struct ReportInputs {
    pub monitor: MonitorInputs,
    /// The payments of each settled, unvoided claim of the year by claim key, as
    /// `(tier name, amount)` in the policy's tier order.
    pub payments: HashMap<ClaimKey, Vec<(String, Fen)>>,
    pub alerts: Vec<AlertDates>,
    /// The cases whose verification deadline falls in the year.
    pub cases: Vec<CaseDates>,
    /// Names of the regions in scope.
    pub names: HashMap<RegionCode, String>,
    /// Persons in scope with a family-doctor contract signed by the end of the year.
    pub contracted: HashSet<ResidentId>,
    /// Every registered facility's region ([`Store::facility_regions`]).
    pub facilities: Vec<(String, RegionCode)>,
}

/// Payments read as `(claim_id, facility_id, position, tier, amount)` rows in
/// any order, gathered by claim.
#[derive(Default)]
pub(crate) struct TiersByClaim(pub(crate) HashMap<ClaimKey, Vec<(i64, String, Fen)>>);

impl TiersByClaim {
    pub(crate) fn push(&mut self, r: &crate::raw::Row<'_>) -> Result<(), String> {
        let key = ClaimKey { claim_id: r.text(0)?.to_string(), facility_id: r.text(1)?.to_string() };
        let tier = (r.int(2), r.text(3)?.to_string(), Fen(r.int(4)));
        self.0.entry(key).or_default().push(tier);
        Ok(())
    }

    /// Each claim's `(tier, amount)` in the policy's tier order.
    pub(crate) fn in_order(self) -> HashMap<ClaimKey, Vec<(String, Fen)>> {
        self.0
            .into_iter()
            .map(|(claim, mut tiers)| {
                tiers.sort_unstable_by_key(|t| t.0);
                (claim, tiers.into_iter().map(|(_, tier, amount)| (tier, amount)).collect())
            })
            .collect()
    }
}

impl Store {
    /// The alerts of `year` of the households inside the scope (every state),
    /// with the days they were raised and, where resolved with assistance,
    /// resolved. Ordered by id.
    pub async fn alert_dates(&self, scope: &Scope, year: i32) -> Result<Vec<AlertDates>, StoreError> {
        let ctx = format!("reading the alerts of {year} for the indicators");
        let (lo, hi) = scope.code_range();
        // By the village the household lives in now, as the registry counts it
        // (an alert keeps the village it was raised in); from the scope's
        // households down (SQLite keeps the order of a CROSS JOIN).
        let where_ = "a.household_id = h.household_id AND a.year = $1 AND h.village_code BETWEEN $2 AND $3";
        let alerts_sql = format!(
            "SELECT a.id, a.household_id, h.village_code, a.rule, a.state, a.created_at
             FROM households h CROSS JOIN alerts a WHERE {where_} ORDER BY a.id"
        );
        let resolved_sql = format!(
            "SELECT e.alert_id, e.at FROM households h CROSS JOIN alerts a CROSS JOIN alert_events e
             WHERE {where_} AND e.alert_id = a.id AND e.to_state = 'resolved'"
        );
        // Assisted: a measure on the alert, or on the case it joined.
        let measured_sql = format!(
            "SELECT m.alert_id FROM households h CROSS JOIN alerts a CROSS JOIN assistance_measures m
             WHERE {where_} AND m.alert_id = a.id
             UNION
             SELECT a.id FROM households h CROSS JOIN alerts a CROSS JOIN case_measures m
             WHERE {where_} AND m.case_id = a.case_id"
        );
        type Row = (i64, String, i64, String, String, DateTime<Utc>);
        type Read = (Vec<Row>, Vec<(i64, DateTime<Utc>)>, Vec<(i64,)>);
        let (rows, resolved, measured): Read = match &self.pool {
            // Through SQLite's own interface: sqlx's cost per row is most of a read's.
            crate::db::Pool::Sqlite(p) => {
                use crate::vals::Val;
                let binds = [Val::I(Some(year as i64)), Val::I(Some(lo)), Val::I(Some(hi))];
                let (mut rows, mut resolved, mut measured) = (Vec::new(), Vec::new(), Vec::new());
                crate::raw::pool_each(p, &alerts_sql, &binds, &ctx, |r| {
                    rows.push((
                        r.int(0),
                        r.text(1)?.to_string(),
                        r.int(2),
                        r.text(3)?.to_string(),
                        r.text(4)?.to_string(),
                        r.instant(5)?,
                    ));
                    Ok(())
                })
                .await?;
                crate::raw::pool_each(p, &resolved_sql, &binds, &ctx, |r| {
                    resolved.push((r.int(0), r.instant(1)?));
                    Ok(())
                })
                .await?;
                crate::raw::pool_each(p, &measured_sql, &binds, &ctx, |r| {
                    measured.push((r.int(0),));
                    Ok(())
                })
                .await?;
                (rows, resolved, measured)
            }
            crate::db::Pool::Pg(p) => {
                let rows =
                    sqlx::query_as(&alerts_sql).bind(year as i64).bind(lo).bind(hi).fetch_all(p).await.ctx(&ctx)?;
                let resolved =
                    sqlx::query_as(&resolved_sql).bind(year as i64).bind(lo).bind(hi).fetch_all(p).await.ctx(&ctx)?;
                let measured =
                    sqlx::query_as(&measured_sql).bind(year as i64).bind(lo).bind(hi).fetch_all(p).await.ctx(&ctx)?;
                (rows, resolved, measured)
            }
        };
        let mut resolved_at: HashMap<i64, DateTime<Utc>> = HashMap::new();
        for (id, at) in resolved {
            let e = resolved_at.entry(id).or_insert(at);
            *e = (*e).max(at);
        }
        let measured: HashSet<i64> = measured.into_iter().map(|(id,)| id).collect();
        rows.into_iter()
            .map(|(id, household_id, village, rule, state, created)| {
                let assisted_on = (state == "resolved" && measured.contains(&id))
                    .then(|| resolved_at.get(&id).map(|t| domain::time::china_day(*t)))
                    .flatten();
                Ok(AlertDates {
                    household_id,
                    village: region_of(village, &ctx)?,
                    rule,
                    year,
                    raised_on: domain::time::china_day(created),
                    assisted_on,
                })
            })
            .collect()
    }

    /// The tier payments of every settled, unvoided claim of `year` inside the
    /// scope, by claim id, in the policy's tier order.
    pub async fn settlement_payments(
        &self,
        scope: &Scope,
        year: i32,
    ) -> Result<HashMap<ClaimKey, Vec<(String, Fen)>>, StoreError> {
        let ctx = format!("reading the settlement payments of {year}");
        let (lo, hi) = scope.code_range();
        // From the scope's households down (SQLite keeps the order of a CROSS JOIN,
        // PostgreSQL plans it freely), so that a village's read costs its own rows
        // rather than a scan of the year's settlements.
        let from = "FROM households h CROSS JOIN persons p
             CROSS JOIN settlements s CROSS JOIN claims c CROSS JOIN settlement_payments sp
             WHERE p.household_id = h.household_id AND s.person_id = p.person_id AND s.year = $1
             AND c.claim_id = s.claim_id AND c.facility_id = s.facility_id
             AND sp.claim_id = s.claim_id AND sp.facility_id = s.facility_id AND NOT c.voided
             AND h.village_code BETWEEN $2 AND $3";
        // Unsorted (a sort of every row costs a third of the read on SQLite, and
        // more on PostgreSQL, which compares the text keys by collation): each
        // claim's tiers are put in order here.
        let sql = format!("SELECT sp.claim_id, sp.facility_id, sp.position, sp.tier, sp.amount {from}");
        let mut by_claim = TiersByClaim::default();
        match &self.pool {
            // Through SQLite's own interface: sqlx's cost per row is most of the read's.
            crate::db::Pool::Sqlite(p) => {
                use crate::vals::Val;
                let binds = [Val::I(Some(year as i64)), Val::I(Some(lo)), Val::I(Some(hi))];
                crate::raw::pool_each(p, &sql, &binds, &ctx, |r| by_claim.push(r)).await?;
            }
            crate::db::Pool::Pg(p) => {
                let rows: Vec<(String, String, i64, String, i64)> =
                    sqlx::query_as(&sql).bind(year as i64).bind(lo).bind(hi).fetch_all(p).await.ctx(&ctx)?;
                for (claim_id, facility_id, position, tier, amount) in rows {
                    by_claim.0.entry(ClaimKey { facility_id, claim_id }).or_default().push((
                        position,
                        tier,
                        Fen(amount),
                    ));
                }
            }
        }
        Ok(by_claim.in_order())
    }

    /// The names of the regions inside the scope, by code.
    pub async fn region_names(&self, scope: &Scope) -> Result<HashMap<RegionCode, String>, StoreError> {
        let mut names = HashMap::new();
        self.export::<Region, std::convert::Infallible>(scope, |chunk| {
            names.extend(chunk.into_iter().map(|r| (r.code, r.name)));
            Ok(())
        })
        .await?;
        Ok(names)
    }

    /// Every registered facility with the region it stands in, whatever the
    /// scope: a patient is often treated outside the region that reports on
    /// them, and facilities are no one's personal data.
    pub async fn facility_regions(&self) -> Result<Vec<(String, RegionCode)>, StoreError> {
        let rows: Vec<(String, i64)> = on_pool!(self, p => sqlx::query_as(
            "SELECT facility_id, region_code FROM facilities ORDER BY facility_id",
        )
        .fetch_all(p)
        .await
        .ctx("reading the facilities' regions")?);
        rows.into_iter()
            .map(|(id, code)| {
                let region = RegionCode::from_u64(code as u64)
                    .map_err(|e| crate::error::corrupt(&format!("the region of facility {id}"), code, e))?;
                Ok((id, region))
            })
            .collect()
    }

    /// Everything the report and the what-if of `year` read inside the scope.
    pub async fn report_inputs(&self, scope: &Scope, year: i32) -> Result<ReportInputs, StoreError> {
        let monitor = self.monitor_inputs(scope, year).await?;
        let payments = self.settlement_payments(scope, year).await?;
        self.report_inputs_with(scope, year, monitor, payments).await
    }

    /// The cases of the households inside the scope (by the village they live
    /// in now) whose verification deadline or deadline to close falls in `year`.
    pub async fn case_dates(&self, scope: &Scope, year: i32) -> Result<Vec<CaseDates>, StoreError> {
        let ctx = format!("reading the cases of {year} for the indicators");
        let (lo, hi) = scope.code_range();
        let first = NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(|| StoreError::Invalid(format!("year {year}")))?;
        let last = NaiveDate::from_ymd_opt(year, 12, 31).ok_or_else(|| StoreError::Invalid(format!("year {year}")))?;
        type Row = (String, NaiveDate, Option<NaiveDate>, NaiveDate, Option<NaiveDate>);
        let rows: Vec<Row> = on_pool!(self, p => sqlx::query_as(
            "SELECT c.household_id, c.due, c.verified_on, c.close_due, c.closed_on
             FROM households h CROSS JOIN cases c
             WHERE c.household_id = h.household_id AND h.village_code BETWEEN $1 AND $2
             AND (c.due BETWEEN $3 AND $4 OR c.close_due BETWEEN $3 AND $4)
             ORDER BY c.id",
        )
        .bind(lo)
        .bind(hi)
        .bind(first)
        .bind(last)
        .fetch_all(p)
        .await
        .ctx(&ctx)?);
        Ok(rows
            .into_iter()
            .map(|(household_id, due, verified_on, close_due, closed_on)| CaseDates {
                household_id,
                due,
                verified_on,
                close_due,
                closed_on,
            })
            .collect())
    }

    /// What the report's facts of the registry and the alerts read inside the
    /// scope: [`Store::report_inputs`] without the claims, their settlements and
    /// the thresholds.
    pub async fn registry_report_inputs(&self, scope: &Scope, year: i32) -> Result<ReportInputs, StoreError> {
        let monitor = MonitorInputs {
            households: self.records_in(scope).await?,
            persons: self.records_in(scope).await?,
            ..MonitorInputs::default()
        };
        self.report_inputs_with(scope, year, monitor, HashMap::new()).await
    }

    async fn report_inputs_with(
        &self,
        scope: &Scope,
        year: i32,
        monitor: MonitorInputs,
        payments: HashMap<ClaimKey, Vec<(String, Fen)>>,
    ) -> Result<ReportInputs, StoreError> {
        let alerts = self.alert_dates(scope, year).await?;
        let cases = self.case_dates(scope, year).await?;
        let names = self.region_names(scope).await?;
        let end = NaiveDate::from_ymd_opt(year, 12, 31)
            .ok_or_else(|| StoreError::Invalid(format!("the year {year} is out of range")))?;
        let contracted =
            self.contracts(scope).await?.into_iter().filter(|(_, c)| c.signed <= end).map(|(p, _)| p).collect();
        let facilities = self.facility_regions().await?;
        Ok(ReportInputs { monitor, payments, alerts, cases, names, contracted, facilities })
    }
}
