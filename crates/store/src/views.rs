//! Read views for pages and reports: a person with everything about them, the
//! status history, counts per kind for a summary, and search.

use crate::db::{on_pool, Page, Scope, Store};
use crate::error::{corrupt, Ctx, StoreError};
use crate::registry::StoredRecord;
use chrono::{DateTime, NaiveDate, Utc};
use domain::{Claim, Facility, Fen, Household, Person, PovertyStatus, Practitioner, Region, RegionCode, ResidentId};
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// One change of a person's poverty status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    /// `None` for a status recorded without a previous one.
    pub old_status: Option<PovertyStatus>,
    pub new_status: PovertyStatus,
    /// The day the new status began.
    pub since: NaiveDate,
    /// When the store recorded the change.
    pub recorded_at: DateTime<Utc>,
}

/// Counts of each kind inside a scope.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub regions: u64,
    pub households: u64,
    pub persons: u64,
    /// Persons whose status is one of the four poor statuses.
    pub poor_persons: u64,
    pub facilities: u64,
    pub practitioners: u64,
    pub claims: u64,
    pub settlements: u64,
    pub open_alerts: u64,
}

fn status(s: &str, ctx: &str) -> Result<PovertyStatus, StoreError> {
    s.parse().map_err(|e| corrupt(ctx, s, e))
}

impl Store {
    /// Every recorded status change of a person, oldest first.
    pub async fn status_history(&self, person: ResidentId) -> Result<Vec<StatusChange>, StoreError> {
        let ctx = "reading the status history";
        let rows: Vec<(Option<String>, String, NaiveDate, DateTime<Utc>)> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT old_status, new_status, since, recorded_at FROM person_status_history
                 WHERE person_id = $1 ORDER BY id",
            )
            .bind(person.as_u64() as i64)
            .fetch_all(p)
            .await
            .ctx(ctx)?
        });
        rows.into_iter()
            .map(|(o, n, since, recorded_at)| {
                Ok(StatusChange {
                    old_status: o.map(|o| status(&o, ctx)).transpose()?,
                    new_status: status(&n, ctx)?,
                    since,
                    recorded_at,
                })
            })
            .collect()
    }

    /// Counts per kind inside a scope, for a summary page.
    pub async fn summary(&self, scope: &Scope) -> Result<Summary, StoreError> {
        let (lo, hi) = scope.code_range();
        let poor_sql = "SELECT COUNT(*) FROM persons t JOIN households h ON h.household_id = t.household_id
             WHERE h.village_code BETWEEN $1 AND $2 AND t.status <> 'general'";
        let settled_sql = "SELECT COUNT(*) FROM settlements s JOIN persons t ON t.person_id = s.person_id
             JOIN households h ON h.household_id = t.household_id WHERE h.village_code BETWEEN $1 AND $2";
        let alerts_sql = "SELECT COUNT(*) FROM alerts WHERE village_code BETWEEN $1 AND $2
             AND state IN ('open', 'verifying', 'assisting')";
        let mut extra = [0i64; 3];
        for (i, sql) in [poor_sql, settled_sql, alerts_sql].into_iter().enumerate() {
            extra[i] = on_pool!(self, p => {
                sqlx::query_scalar(sql).bind(lo).bind(hi).fetch_one(p).await.ctx("counting for the summary")?
            });
        }
        Ok(Summary {
            regions: self.count::<Region>(scope).await?,
            households: self.count::<Household>(scope).await?,
            persons: self.count::<Person>(scope).await?,
            poor_persons: extra[0] as u64,
            facilities: self.count::<Facility>(scope).await?,
            practitioners: self.count::<Practitioner>(scope).await?,
            claims: self.count::<Claim>(scope).await?,
            settlements: extra[1] as u64,
            open_alerts: extra[2] as u64,
        })
    }

    /// Persons inside a scope whose name contains `text`, or whose resident ID
    /// starts with it (digits), or who belong to the household `text`; by ID.
    pub async fn search_persons(&self, scope: &Scope, text: &str, page: Page) -> Result<Vec<Person>, StoreError> {
        let t = text.trim();
        if t.is_empty() {
            return self.list(scope, page).await;
        }
        let (lo, hi) = scope.code_range();
        // A resident ID prefix is a range of the stored 17-digit number.
        let digits: String = t.chars().take(17).collect();
        let (id_lo, id_hi) = if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            let n: i64 = digits.parse().unwrap_or(0);
            let unit = 10i64.pow(17 - digits.len() as u32);
            (n * unit, n * unit + unit - 1)
        } else {
            (-1, -1)
        };
        let like = format!("%{}%", t.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        let spec = Person::spec();
        let sql = "SELECT t.person_id, t.household_id, t.name, t.status, t.status_since, t.diagnoses
             FROM persons t JOIN households h ON h.household_id = t.household_id
             WHERE h.village_code BETWEEN $1 AND $2
               AND (t.name LIKE $3 ESCAPE '\\' OR t.person_id BETWEEN $4 AND $5 OR t.household_id = $6)
             ORDER BY t.person_id LIMIT $7 OFFSET $8";
        use crate::vals::Val;
        let rows = self
            .fetch_vals(
                spec,
                sql,
                vec![
                    Val::int(lo),
                    Val::int(hi),
                    Val::owned(like),
                    Val::int(id_lo),
                    Val::int(id_hi),
                    Val::owned(t.to_string()),
                    Val::int(page.lim()),
                    Val::int(page.off()),
                ],
            )
            .await?;
        rows.into_iter().map(Person::from_vals).collect()
    }

    /// The members of a household, by ID.
    pub async fn household_members(&self, household_id: &str) -> Result<Vec<Person>, StoreError> {
        use crate::vals::Val;
        let sql = "SELECT t.person_id, t.household_id, t.name, t.status, t.status_since, t.diagnoses
             FROM persons t WHERE t.household_id = $1 ORDER BY t.person_id";
        let rows = self.fetch_vals(Person::spec(), sql, vec![Val::owned(household_id.to_string())]).await?;
        rows.into_iter().map(Person::from_vals).collect()
    }

    /// The claims of a person (voided ones included), in settlement order.
    pub async fn claims_of(&self, person: ResidentId) -> Result<Vec<Claim>, StoreError> {
        use crate::vals::Val;
        let spec = Claim::spec();
        let cols: Vec<String> = spec.cols.iter().map(|c| format!("t.{}", c.0)).collect();
        let sql = format!(
            "SELECT {} FROM claims t WHERE t.person_id = $1 ORDER BY t.discharged, t.claim_id, t.facility_id",
            cols.join(", ")
        );
        let rows = self.fetch_vals(spec, &sql, vec![Val::int(person.as_u64() as i64)]).await?;
        rows.into_iter().map(Claim::from_vals).collect()
    }

    /// The region code of a person's village, if the person is stored.
    pub async fn village_of(&self, person: ResidentId) -> Result<Option<domain::RegionCode>, StoreError> {
        let v: Option<i64> = on_pool!(self, p => {
            sqlx::query("SELECT h.village_code FROM persons t JOIN households h ON h.household_id = t.household_id WHERE t.person_id = $1")
                .bind(person.as_u64() as i64)
                .fetch_optional(p)
                .await
                .ctx("finding a person's village")?
                .map(|r| r.get::<i64, _>(0))
        });
        v.map(|c| domain::RegionCode::from_u64(c as u64).map_err(|e| corrupt("reading a village code", c, e)))
            .transpose()
    }
}

// ---- the reads the web pages need ----

/// A person with the village their household lives in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonView {
    pub person: Person,
    pub village_code: RegionCode,
}

/// A claim of a person with its settlement, if it has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimView {
    pub claim: Claim,
    pub voided: bool,
    /// Tier payments in policy order; empty when not settled.
    pub payments: Vec<(String, Fen)>,
    /// `None` when not settled.
    pub out_of_pocket: Option<Fen>,
}

/// Everything about a person that their page shows, short of alerts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRecord {
    pub person: Person,
    pub village_code: RegionCode,
    pub household: Household,
    /// Voided claims included (flagged), in settlement order.
    pub claims: Vec<ClaimView>,
    pub status_history: Vec<StatusChange>,
}

/// A household with its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdRecord {
    pub household: Household,
    pub members: Vec<Person>,
}

/// The headline figures of a scope (voided claims left out).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub households: u64,
    pub persons: u64,
    pub poor_persons: u64,
    pub claims: u64,
    /// The total cost of the claims.
    pub total_cost: Fen,
    /// What the settled claims left to the patients.
    pub out_of_pocket: Fen,
    pub open_alerts: u64,
    pub villages: u64,
}

/// The figures of one region of a map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionFigures {
    pub code: RegionCode,
    pub name: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub households: u64,
    pub persons: u64,
    pub poor_persons: u64,
    pub open_alerts: u64,
    pub total_cost: Fen,
    pub out_of_pocket: Fen,
}

/// The claims discharged in one month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthFigures {
    /// `YYYY-MM`.
    pub month: String,
    pub claims: u64,
    pub total_cost: Fen,
    pub out_of_pocket: Fen,
}

/// The rural health network inside a scope.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Network {
    pub regions: Vec<Region>,
    pub facilities: Vec<Facility>,
    /// The staff of the facilities in scope.
    pub practitioners: Vec<Practitioner>,
}

/// The `LIKE` pattern of "contains `t`", with `\` as the escape character.
fn contains_pattern(t: &str) -> String {
    format!("%{}%", t.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
}

/// The inclusive range of numbers of `width` digits that start with `digits`;
/// `(-1, -1)` (matching nothing) when `digits` is not 1 to `width` ASCII digits.
fn digit_prefix_range(digits: &str, width: u32) -> (i64, i64) {
    if digits.is_empty() || digits.len() > width as usize || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return (-1, -1);
    }
    let n: i64 = digits.parse().unwrap_or(0);
    let unit = 10i64.pow(width - digits.len() as u32);
    (n * unit, n * unit + unit - 1)
}

fn code_of(n: i64, ctx: &str) -> Result<RegionCode, StoreError> {
    RegionCode::from_u64(n as u64).map_err(|e| corrupt(ctx, n, e))
}

fn count(n: i64) -> u64 {
    n.max(0) as u64
}

const PERSON_COLS: &str = "t.person_id, t.household_id, t.name, t.status, t.status_since, t.diagnoses";

impl Store {
    /// Runs a query whose first six columns are a person's and whose seventh is the
    /// village code.
    async fn persons_with_village(
        &self,
        sql: &str,
        binds: Vec<crate::vals::Val<'static>>,
    ) -> Result<Vec<PersonView>, StoreError> {
        use crate::vals::{bind_val, get_val};
        let ctx = "reading persons";
        let spec = Person::spec();
        let rows: Vec<(Vec<crate::vals::Val<'static>>, i64)> = on_pool!(self, p => {
            let mut q = sqlx::query(sql);
            for v in &binds {
                q = bind_val!(q, v);
            }
            let mut out = vec![];
            for row in q.fetch_all(p).await.ctx(ctx)? {
                let mut v = Vec::with_capacity(6);
                for (i, c) in spec.cols.iter().enumerate() {
                    v.push(get_val!(row, i, c.1).ctx(ctx)?);
                }
                out.push((v, row.try_get::<i64, _>(6).ctx(ctx)?));
            }
            out
        });
        rows.into_iter()
            .map(|(v, village)| Ok(PersonView { person: Person::from_vals(v)?, village_code: code_of(village, ctx)? }))
            .collect()
    }

    /// Like [`Store::search_persons`], with each person's village.
    pub async fn find_persons(&self, scope: &Scope, text: &str, page: Page) -> Result<Vec<PersonView>, StoreError> {
        use crate::vals::Val;
        let t = text.trim();
        let (lo, hi) = scope.code_range();
        let from = "FROM persons t JOIN households h ON h.household_id = t.household_id";
        if t.is_empty() {
            let sql = format!(
                "SELECT {PERSON_COLS}, h.village_code {from} WHERE h.village_code BETWEEN $1 AND $2
                 ORDER BY t.person_id LIMIT $3 OFFSET $4"
            );
            let binds = vec![Val::int(lo), Val::int(hi), Val::int(page.lim()), Val::int(page.off())];
            return self.persons_with_village(&sql, binds).await;
        }
        // A resident ID prefix is a range of the stored 17-digit number.
        let digits: String = t.chars().take(17).collect();
        let (id_lo, id_hi) = digit_prefix_range(&digits, 17);
        let sql = format!(
            "SELECT {PERSON_COLS}, h.village_code {from} WHERE h.village_code BETWEEN $1 AND $2
               AND (t.name LIKE $3 ESCAPE '\\' OR t.person_id BETWEEN $4 AND $5 OR t.household_id = $6)
             ORDER BY t.person_id LIMIT $7 OFFSET $8"
        );
        let binds = vec![
            Val::int(lo),
            Val::int(hi),
            Val::owned(contains_pattern(t)),
            Val::int(id_lo),
            Val::int(id_hi),
            Val::owned(t.to_string()),
            Val::int(page.lim()),
            Val::int(page.off()),
        ];
        self.persons_with_village(&sql, binds).await
    }

    /// The members of a household, if it lies inside the scope, with their village:
    /// the search of a role that may not search by name or resident ID.
    pub async fn find_household_persons(
        &self,
        scope: &Scope,
        household_id: &str,
        page: Page,
    ) -> Result<Vec<PersonView>, StoreError> {
        use crate::vals::Val;
        let (lo, hi) = scope.code_range();
        let sql = format!(
            "SELECT {PERSON_COLS}, h.village_code FROM persons t JOIN households h ON h.household_id = t.household_id
             WHERE h.village_code BETWEEN $1 AND $2 AND t.household_id = $3
             ORDER BY t.person_id LIMIT $4 OFFSET $5"
        );
        let binds = vec![
            Val::int(lo),
            Val::int(hi),
            Val::owned(household_id.trim().to_string()),
            Val::int(page.lim()),
            Val::int(page.off()),
        ];
        self.persons_with_village(&sql, binds).await
    }

    /// One person, if stored and inside the scope, with their village.
    pub async fn person_in_scope(&self, scope: &Scope, id: ResidentId) -> Result<Option<PersonView>, StoreError> {
        use crate::vals::Val;
        let (lo, hi) = scope.code_range();
        let sql = format!(
            "SELECT {PERSON_COLS}, h.village_code FROM persons t JOIN households h ON h.household_id = t.household_id
             WHERE t.person_id = $1 AND h.village_code BETWEEN $2 AND $3"
        );
        let mut v =
            self.persons_with_village(&sql, vec![Val::int(id.as_u64() as i64), Val::int(lo), Val::int(hi)]).await?;
        Ok(v.pop())
    }

    /// The claims of a person with their settlements, in settlement order.
    pub async fn claim_views(&self, person: ResidentId) -> Result<Vec<ClaimView>, StoreError> {
        use crate::vals::{bind_val, get_val, Val};
        let ctx = "reading a person's claims";
        let spec = Claim::spec();
        let cols: Vec<String> = spec.cols.iter().map(|c| format!("t.{}", c.0)).collect();
        let n = cols.len();
        let sql = format!(
            "SELECT {}, t.voided, s.out_of_pocket FROM claims t
             LEFT JOIN settlements s ON s.claim_id = t.claim_id AND s.facility_id = t.facility_id
             WHERE t.person_id = $1 ORDER BY t.discharged, t.claim_id, t.facility_id",
            cols.join(", ")
        );
        let pid = Val::int(person.as_u64() as i64);
        type Raw = (Vec<Val<'static>>, bool, Option<i64>);
        let (rows, pays): (Vec<Raw>, Vec<crate::settlements::PayRow>) = on_pool!(self, p => {
            let q = sqlx::query(&sql);
            let q = bind_val!(q, &pid);
            let mut out = vec![];
            for row in q.fetch_all(p).await.ctx(ctx)? {
                let mut v = Vec::with_capacity(n);
                for (i, c) in spec.cols.iter().enumerate() {
                    v.push(get_val!(row, i, c.1).ctx(ctx)?);
                }
                out.push((v, row.try_get::<bool, _>(n).ctx(ctx)?, row.try_get::<Option<i64>, _>(n + 1).ctx(ctx)?));
            }
            let pays: Vec<crate::settlements::PayRow> = sqlx::query_as(
                "SELECT sp.claim_id, sp.facility_id, sp.tier, sp.amount FROM settlement_payments sp
                 JOIN claims t ON t.claim_id = sp.claim_id AND t.facility_id = sp.facility_id
                 WHERE t.person_id = $1 ORDER BY sp.claim_id, sp.facility_id, sp.position",
            )
            .bind(person.as_u64() as i64)
            .fetch_all(p)
            .await
            .ctx(ctx)?;
            (out, pays)
        });
        let mut by_claim: std::collections::HashMap<domain::ClaimKey, Vec<(String, Fen)>> = Default::default();
        for (claim_id, facility_id, tier, amount) in pays {
            by_claim.entry(domain::ClaimKey { facility_id, claim_id }).or_default().push((tier, Fen(amount)));
        }
        rows.into_iter()
            .map(|(v, voided, oop)| {
                let claim = Claim::from_vals(v)?;
                let payments = by_claim.remove(&claim.claim_key()).unwrap_or_default();
                Ok(ClaimView { claim, voided, payments, out_of_pocket: oop.map(Fen) })
            })
            .collect()
    }

    /// A person's record, if stored and inside the scope.
    pub async fn person_record(&self, scope: &Scope, id: ResidentId) -> Result<Option<PersonRecord>, StoreError> {
        let Some(pv) = self.person_in_scope(scope, id).await? else { return Ok(None) };
        let household = self
            .get::<Household>(&pv.person.household_id)
            .await?
            .ok_or_else(|| StoreError::NotFound { kind: "household", key: pv.person.household_id.clone() })?;
        Ok(Some(PersonRecord {
            claims: self.claim_views(id).await?,
            status_history: self.status_history(id).await?,
            person: pv.person,
            village_code: pv.village_code,
            household,
        }))
    }

    /// Households inside a scope whose ID contains `text` or whose village code
    /// starts with it; by ID.
    pub async fn search_households(&self, scope: &Scope, text: &str, page: Page) -> Result<Vec<Household>, StoreError> {
        use crate::vals::Val;
        let t = text.trim();
        if t.is_empty() {
            return self.list(scope, page).await;
        }
        let (lo, hi) = scope.code_range();
        let (v_lo, v_hi) = digit_prefix_range(t, 12);
        let sql = "SELECT t.household_id, t.village_code, t.size, t.income, t.consumption, t.food FROM households t
             WHERE t.village_code BETWEEN $1 AND $2
               AND (t.household_id LIKE $3 ESCAPE '\\' OR t.village_code BETWEEN $4 AND $5)
             ORDER BY t.household_id LIMIT $6 OFFSET $7";
        let binds = vec![
            Val::int(lo),
            Val::int(hi),
            Val::owned(contains_pattern(t)),
            Val::int(v_lo),
            Val::int(v_hi),
            Val::int(page.lim()),
            Val::int(page.off()),
        ];
        let rows = self.fetch_vals(Household::spec(), sql, binds).await?;
        rows.into_iter().map(Household::from_vals).collect()
    }

    /// A household with its members, if stored and inside the scope.
    pub async fn household_record(&self, scope: &Scope, id: &str) -> Result<Option<HouseholdRecord>, StoreError> {
        let Some(household) = self.get::<Household>(id).await? else { return Ok(None) };
        if !scope.contains(household.village_code) {
            return Ok(None);
        }
        Ok(Some(HouseholdRecord { members: self.household_members(id).await?, household }))
    }

    /// The headline figures of a scope, summed from the figures by village
    /// (refreshed first where data changed; see `figures.rs`).
    pub async fn overview(&self, scope: &Scope) -> Result<Overview, StoreError> {
        let ctx = "computing the overview";
        self.refresh_figures(scope).await?;
        let (table, key) = crate::figures::figures_table(scope);
        let (lo, hi) = scope.code_range();
        type Figures = (i64, i64, i64, i64, i64, i64, i64);
        let (figures, villages): (Figures, i64) = on_pool!(self, p => {
            let figures: Figures = sqlx::query_as(&format!(
                "SELECT CAST(COALESCE(SUM(households), 0) AS BIGINT), CAST(COALESCE(SUM(persons), 0) AS BIGINT),
                        CAST(COALESCE(SUM(poor_persons), 0) AS BIGINT), CAST(COALESCE(SUM(claims), 0) AS BIGINT),
                        CAST(COALESCE(SUM(total_cost), 0) AS BIGINT), CAST(COALESCE(SUM(out_of_pocket), 0) AS BIGINT),
                        CAST(COALESCE(SUM(open_alerts), 0) AS BIGINT)
                 FROM {table} WHERE {key} BETWEEN $1 AND $2"
            ))
            .bind(lo)
            .bind(hi)
            .fetch_one(p)
            .await
            .ctx(ctx)?;
            let villages: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM regions WHERE level = 'village' AND code BETWEEN $1 AND $2")
                    .bind(lo)
                    .bind(hi)
                    .fetch_one(p)
                    .await
                    .ctx(ctx)?;
            (figures, villages)
        });
        let (households, persons, poor, claims, total, oop, open_alerts) = figures;
        Ok(Overview {
            households: count(households),
            persons: count(persons),
            poor_persons: count(poor),
            claims: count(claims),
            total_cost: Fen(total),
            out_of_pocket: Fen(oop),
            open_alerts: count(open_alerts),
            villages: count(villages),
        })
    }

    /// Figures per region for a map: per village inside a county (or a narrower
    /// scope), per county for a wider one. A county without coordinates of its own
    /// is placed at the mean of its villages'.
    pub async fn region_figures(&self, scope: &Scope) -> Result<Vec<RegionFigures>, StoreError> {
        let ctx = "computing figures per region";
        self.refresh_figures(scope).await?;
        let (table, key) = crate::figures::figures_table(scope);
        let (lo, hi) = scope.code_range();
        let villages = scope.prefix().len() >= 6;
        // 12-digit code / unit = the key of the region on the map.
        let unit: i64 = if villages { 1 } else { 1_000_000 };
        type Regions = Vec<(i64, String, Option<f64>, Option<f64>)>;
        type Placed = Vec<(i64, Option<f64>, Option<f64>)>;
        // key, households, persons, poor persons, total cost, out of pocket, open alerts
        type Figures = Vec<(i64, i64, i64, i64, i64, i64, i64)>;
        let (regions, placed, figures): (Regions, Placed, Figures) = on_pool!(self, p => {
            let regions = sqlx::query_as(
                "SELECT code, name, lon, lat FROM regions WHERE level = $1 AND code BETWEEN $2 AND $3 ORDER BY code",
            )
            .bind(if villages { "village" } else { "county" })
            .bind(lo)
            .bind(hi)
            .fetch_all(p)
            .await
            .ctx(ctx)?;
            let placed = if villages {
                vec![]
            } else {
                sqlx::query_as(
                    "SELECT code / $1, AVG(lon), AVG(lat) FROM regions
                     WHERE level = 'village' AND code BETWEEN $2 AND $3 GROUP BY 1",
                )
                .bind(unit)
                .bind(lo)
                .bind(hi)
                .fetch_all(p)
                .await
                .ctx(ctx)?
            };
            let figures: Figures = sqlx::query_as(&format!(
                "SELECT {key} / $1, CAST(SUM(households) AS BIGINT), CAST(SUM(persons) AS BIGINT),
                        CAST(SUM(poor_persons) AS BIGINT), CAST(SUM(total_cost) AS BIGINT),
                        CAST(SUM(out_of_pocket) AS BIGINT), CAST(SUM(open_alerts) AS BIGINT)
                 FROM {table} WHERE {key} BETWEEN $2 AND $3 GROUP BY 1"
            ))
            .bind(unit)
            .bind(lo)
            .bind(hi)
            .fetch_all(p)
            .await
            .ctx(ctx)?;
            (regions, placed, figures)
        });
        let mut out: Vec<RegionFigures> = Vec::with_capacity(regions.len());
        let mut at: std::collections::HashMap<i64, usize> = Default::default();
        for (code, name, lon, lat) in regions {
            at.insert(code / unit, out.len());
            out.push(RegionFigures {
                code: code_of(code, ctx)?,
                name,
                lon,
                lat,
                households: 0,
                persons: 0,
                poor_persons: 0,
                open_alerts: 0,
                total_cost: Fen::ZERO,
                out_of_pocket: Fen::ZERO,
            });
        }
        for (k, lon, lat) in placed {
            if let Some(&i) = at.get(&k) {
                let r = &mut out[i];
                if r.lon.is_none() || r.lat.is_none() {
                    r.lon = lon;
                    r.lat = lat;
                }
            }
        }
        for (k, households, persons, poor, total, oop, alerts) in figures {
            if let Some(&i) = at.get(&k) {
                let r = &mut out[i];
                r.households = count(households);
                r.persons = count(persons);
                r.poor_persons = count(poor);
                r.total_cost = Fen(total);
                r.out_of_pocket = Fen(oop);
                r.open_alerts = count(alerts);
            }
        }
        Ok(out)
    }

    /// Claims per month of discharge inside a scope (voided ones left out), oldest first.
    pub async fn monthly_trend(&self, scope: &Scope) -> Result<Vec<MonthFigures>, StoreError> {
        let ctx = "computing the monthly trend";
        let (lo, hi) = scope.code_range();
        self.refresh_figures(scope).await?;
        let (table, key) = crate::figures::figures_table(scope);
        let rows: Vec<(i64, i64, i64, i64)> = on_pool!(self, p => {
            sqlx::query_as(&format!(
                "SELECT month, CAST(SUM(claims) AS BIGINT), CAST(SUM(total_cost) AS BIGINT), CAST(SUM(out_of_pocket) AS BIGINT)
                 FROM {table} WHERE month > 0 AND {key} BETWEEN $1 AND $2 GROUP BY month ORDER BY month"
            ))
            .bind(lo)
            .bind(hi)
            .fetch_all(p)
            .await
            .ctx(ctx)?
        });
        let months: Vec<MonthFigures> = rows
            .into_iter()
            .filter(|r| r.1 > 0)
            .map(|(m, n, total, oop)| MonthFigures {
                month: format!("{:04}-{:02}", m / 100, m % 100),
                claims: count(n),
                total_cost: Fen(total),
                out_of_pocket: Fen(oop),
            })
            .collect();
        Ok(months)
    }

    /// Regions, facilities and their practitioners inside a scope.
    pub async fn network(&self, scope: &Scope) -> Result<Network, StoreError> {
        let mut n = Network::default();
        self.export::<Region, std::convert::Infallible>(scope, |rows| {
            n.regions.extend(rows);
            Ok(())
        })
        .await?;
        self.export::<Facility, std::convert::Infallible>(scope, |rows| {
            n.facilities.extend(rows);
            Ok(())
        })
        .await?;
        self.export::<Practitioner, std::convert::Infallible>(scope, |rows| {
            n.practitioners.extend(rows);
            Ok(())
        })
        .await?;
        Ok(n)
    }
}
