//! Pairing and telemedicine (docs/coverage.md, "Pairing and telemedicine"):
//! the register of hospitals paired with county hospitals (对口帮扶) and the
//! staff they send, and of the telemedicine links of county hospitals to the
//! township centres of their county, recorded inside a scope and audited; and
//! the four pairing indicators of a day (docs/indicators.md, "Pairing and
//! telemedicine"), by county, city, province and nation:
//!
//! - the share of poor counties (the national list of 832,
//!   `domain::poverty_counties`) whose county hospital is paired that day;
//! - the share of township centres open that day linked to their county
//!   hospital by telemedicine;
//! - the diseases the county hospitals of a county treat: the distinct
//!   3-character ICD-10 categories of their inpatient claims of the year to
//!   the day, against the median of the counties of the province;
//! - the share of a county's inpatients (by the patient's village) treated
//!   outside the county in the year to the day.
//!
//! These are computed here from counts the store makes in SQL, not kept as
//! indicator facts: the registers are not village-month facts, and a count of
//! distinct diseases and a median do not add up over villages and months.

use crate::access::Scope;
use crate::model::AppResult;
use crate::service::{scope, App};
use chrono::{Datelike, NaiveDate};
use domain::pairing::county_of;
use domain::{FacilityKind, PairingRow, PovertyCounties, RegionCode, RegionLevel, TelemedicineLink};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use store::{PairingFacts, PairingWrites, StoredLink, StoredPairing};

/// The share of the median a county hospital's diseases should reach (the
/// programme's capacity benchmark: 90% of the median).
pub const DISEASES_SHARE_OF_MEDIAN: f64 = 0.9;

/// The level of a row of the indicators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowLevel {
    Nation,
    Province,
    City,
    County,
}

impl RowLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            RowLevel::Nation => "nation",
            RowLevel::Province => "province",
            RowLevel::City => "city",
            RowLevel::County => "county",
        }
    }
}

/// The pairing indicators of one region (or of the whole scope, `nation`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndicatorRow {
    pub level: RowLevel,
    /// The region's code; `None` for the nation.
    pub code: Option<RegionCode>,
    pub name: String,
    /// Counties on the national list of poverty counties.
    pub poor_counties: u32,
    /// Of those, the counties with a county hospital paired on the day.
    pub poor_counties_paired: u32,
    /// Township health centres open on the day.
    pub townships: u32,
    /// Of those, the ones linked by telemedicine to a county hospital on the day.
    pub townships_linked: u32,
    /// Inpatient claims (unvoided) of the patients of the region in the year to the day.
    pub inpatients: i64,
    /// Of those, treated outside the patient's county.
    pub inpatients_outside: i64,
    /// Counties with a county hospital.
    pub counties_with_hospital: u32,
    /// A county: the diseases its county hospitals treat. Higher: the median
    /// of its counties'. `None` without a county hospital.
    pub diseases: Option<f64>,
    /// A county: the median of the counties of its province. Higher: `None`.
    pub median: Option<f64>,
    /// Counties whose diseases reach 90% of their province's median.
    pub counties_at_median: u32,
}

impl IndicatorRow {
    fn new(level: RowLevel, code: Option<RegionCode>, name: String) -> IndicatorRow {
        IndicatorRow {
            level,
            code,
            name,
            poor_counties: 0,
            poor_counties_paired: 0,
            townships: 0,
            townships_linked: 0,
            inpatients: 0,
            inpatients_outside: 0,
            counties_with_hospital: 0,
            diseases: None,
            median: None,
            counties_at_median: 0,
        }
    }

    /// The share of poor counties paired; `None` without a poor county.
    pub fn paired_share(&self) -> Option<f64> {
        share(self.poor_counties_paired as i64, self.poor_counties as i64)
    }

    pub fn linked_share(&self) -> Option<f64> {
        share(self.townships_linked as i64, self.townships as i64)
    }

    pub fn outside_share(&self) -> Option<f64> {
        share(self.inpatients_outside, self.inpatients)
    }

    /// A county's diseases as a share of its province's median.
    pub fn diseases_of_median(&self) -> Option<f64> {
        match (self.diseases, self.median) {
            (Some(d), Some(m)) if m > 0.0 => Some(d / m),
            _ => None,
        }
    }
}

pub fn share(n: i64, d: i64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

/// The median of values (the mean of the middle two of an even count).
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 })
}

/// The pairing indicators of a scope on a day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairingIndicators {
    /// The day the registers are read on.
    pub on: NaiveDate,
    /// The first day of the claims counted (1 January of the day's year).
    pub from: NaiveDate,
    /// Nation, provinces, cities and counties, each level in code order; the
    /// levels above the scope's are left out.
    pub rows: Vec<IndicatorRow>,
    /// What the figures could not say (no listed poor county, say).
    pub notes: Vec<String>,
}

/// The indicators from the store's counts and the registers, on `on`.
pub fn compute(
    facts: &PairingFacts,
    pairings: &[StoredPairing],
    links: &[StoredLink],
    on: NaiveDate,
    prefix: &str,
    poor: &PovertyCounties,
) -> PairingIndicators {
    let from = NaiveDate::from_ymd_opt(on.year(), 1, 1).expect("1 January");
    let paired: HashSet<&str> =
        pairings.iter().filter(|p| p.pairing.covers(on)).map(|p| p.pairing.county_hospital_id.as_str()).collect();
    let linked: HashSet<&str> =
        links.iter().filter(|l| l.link.covers(on)).map(|l| l.link.township_id.as_str()).collect();
    // The diseases of the reference's counties with a county hospital, and
    // their median by province.
    let treated: HashMap<u64, i64> = facts.diseases.iter().copied().collect();
    let mut by_province: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
    for c in &facts.reference_counties {
        by_province.entry(c / 10_000).or_default().push(treated.get(c).copied().unwrap_or(0) as f64);
    }
    let medians: HashMap<u64, f64> = by_province.iter().filter_map(|(p, v)| Some((*p, median(v)?))).collect();
    let with_hospital: HashSet<u64> = facts.reference_counties.iter().copied().collect();
    let inpatients: HashMap<u64, (i64, i64)> = facts.inpatients.iter().map(|(c, n, o)| (*c, (*n, *o))).collect();

    let mut counties: Vec<IndicatorRow> = Vec::new();
    for (code, name) in &facts.counties {
        let c6 = county_of(*code);
        let mut r = IndicatorRow::new(RowLevel::County, Some(*code), name.clone());
        let hospitals: Vec<&str> = facts
            .facilities
            .iter()
            .filter(|f| f.kind == FacilityKind::CountyHospital && county_of(f.region_code) == c6)
            .map(|f| f.facility_id.as_str())
            .collect();
        if poor.contains(*code) {
            r.poor_counties = 1;
            r.poor_counties_paired = u32::from(hospitals.iter().any(|h| paired.contains(h)));
        }
        for t in facts.facilities.iter().filter(|f| {
            f.kind == FacilityKind::TownshipCenter
                && county_of(f.region_code) == c6
                && domain::history::open_on(f.opened, f.closed, on)
        }) {
            r.townships += 1;
            r.townships_linked += u32::from(linked.contains(t.facility_id.as_str()));
        }
        let (n, o) = inpatients.get(&c6).copied().unwrap_or((0, 0));
        r.inpatients = n;
        r.inpatients_outside = o;
        if with_hospital.contains(&c6) {
            r.counties_with_hospital = 1;
            let d = treated.get(&c6).copied().unwrap_or(0) as f64;
            r.diseases = Some(d);
            r.median = medians.get(&(c6 / 10_000)).copied();
            r.counties_at_median = u32::from(r.median.is_some_and(|m| d >= DISEASES_SHARE_OF_MEDIAN * m));
        }
        counties.push(r);
    }

    let names: HashMap<RegionCode, &str> = facts.higher.iter().map(|(c, n)| (*c, n.as_str())).collect();
    let depth = prefix.len();
    let mut rows = Vec::new();
    let mut roll = |level: RowLevel, key: &dyn Fn(RegionCode) -> Option<RegionCode>| {
        let mut groups: BTreeMap<Option<RegionCode>, (IndicatorRow, Vec<f64>)> = BTreeMap::new();
        for c in &counties {
            let Some(code) = c.code else { continue };
            let k = key(code);
            let name = match k {
                None => "全国 / nation".to_string(),
                Some(k) => names.get(&k).map_or_else(|| k.short(), |n| n.to_string()),
            };
            let (g, diseases) = groups.entry(k).or_insert_with(|| (IndicatorRow::new(level, k, name), Vec::new()));
            g.poor_counties += c.poor_counties;
            g.poor_counties_paired += c.poor_counties_paired;
            g.townships += c.townships;
            g.townships_linked += c.townships_linked;
            g.inpatients += c.inpatients;
            g.inpatients_outside += c.inpatients_outside;
            g.counties_with_hospital += c.counties_with_hospital;
            g.counties_at_median += c.counties_at_median;
            diseases.extend(c.diseases);
        }
        for (_, (mut g, d)) in groups {
            g.diseases = median(&d);
            rows.push(g);
        }
    };
    if depth == 0 {
        roll(RowLevel::Nation, &|_| None);
    }
    if depth <= 2 {
        roll(RowLevel::Province, &|c| c.ancestor(RegionLevel::Province));
    }
    if depth <= 4 {
        roll(RowLevel::City, &|c| c.ancestor(RegionLevel::City));
    }
    rows.extend(counties);

    let mut notes = Vec::new();
    if rows.iter().all(|r| r.poor_counties == 0) {
        notes.push(
            "No county of this scope is on the national list of 832 poverty counties, and the store's division table \
             carries no poverty flag: the share of poor counties paired is not computed here."
                .to_string(),
        );
    }
    if facts.reference_counties.is_empty() {
        notes.push("No county hospital is registered in the province: the diseases treated are not compared.".into());
    }
    PairingIndicators { on, from, rows, notes }
}

/// The scope the diseases are compared over: the province of the scope (the
/// whole country for a national scope).
fn reference_prefix(prefix: &str) -> &str {
    &prefix[..prefix.len().min(2)]
}

impl App {
    /// The pairings whose county hospital lies inside the scope, with their staff.
    pub async fn pairings(&self, s: &Scope) -> AppResult<Vec<StoredPairing>> {
        Ok(self.store().pairings(&scope(s)?).await?)
    }

    /// The telemedicine links whose county hospital lies inside the scope.
    pub async fn telemedicine_links(&self, s: &Scope) -> AppResult<Vec<StoredLink>> {
        Ok(self.store().telemedicine_links(&scope(s)?).await?)
    }

    /// Records pairings and the staff they send (each labelled for its
    /// refusal), all or none (`Store::record_pairings`); audited: one row for
    /// one pairing, one for a file.
    pub async fn record_pairings(
        &self,
        s: &Scope,
        rows: &[(String, PairingRow)],
        actor: &str,
    ) -> AppResult<PairingWrites> {
        let done = {
            let _turn = self.writing().await;
            self.store().record_pairings(&scope(s)?, rows, actor).await?
        };
        let (target, detail, region) = match rows {
            [(_, r)] => {
                let p = &r.pairing;
                let staff = r
                    .staff
                    .as_ref()
                    .map_or(String::new(), |t| format!("; {} sent as {} {}", t.who(), t.role, span(t.from, t.to)));
                (
                    format!("pairing {} with {}", p.helping_id, p.county_hospital_id),
                    format!("{}{staff}", span(p.start, p.end)),
                    done.regions.first().copied(),
                )
            }
            _ => ("pairings".to_string(), summary(rows.len(), &done), crate::work::region_of_prefix(s.prefix())),
        };
        self.audit_event(actor, "pairings_recorded", target, detail, region).await?;
        Ok(done)
    }

    /// Records telemedicine links, all or none; audited.
    pub async fn record_telemedicine(
        &self,
        s: &Scope,
        rows: &[(String, TelemedicineLink)],
        actor: &str,
    ) -> AppResult<PairingWrites> {
        let done = {
            let _turn = self.writing().await;
            self.store().record_telemedicine(&scope(s)?, rows, actor).await?
        };
        let (target, detail, region) = match rows {
            [(_, l)] => (
                format!("telemedicine {} to {}", l.county_hospital_id, l.township_id),
                format!("{} {}", l.kind, span(l.start, l.end)),
                done.regions.first().copied(),
            ),
            _ => ("telemedicine".to_string(), summary(rows.len(), &done), crate::work::region_of_prefix(s.prefix())),
        };
        self.audit_event(actor, "telemedicine_recorded", target, detail, region).await?;
        Ok(done)
    }

    /// The pairing indicators of the scope on `on` ([`compute`]).
    pub async fn pairing_indicators(&self, s: &Scope, on: NaiveDate) -> AppResult<PairingIndicators> {
        let from = NaiveDate::from_ymd_opt(on.year(), 1, 1).expect("1 January");
        let inside = scope(s)?;
        let reference = store::Scope::new(reference_prefix(s.prefix()))?;
        let facts = self.store().pairing_facts(&inside, &reference, from, on).await?;
        let pairings = self.store().pairings(&inside).await?;
        let links = self.store().telemedicine_links(&inside).await?;
        Ok(compute(&facts, &pairings, &links, on, s.prefix(), PovertyCounties::shipped()))
    }
}

fn span(start: NaiveDate, end: Option<NaiveDate>) -> String {
    format!("from {start} to {}", end.map_or_else(|| "no end".to_string(), |d| d.to_string()))
}

fn summary(n: usize, d: &PairingWrites) -> String {
    format!(
        "{n} rows: {} new, {} ends set, {} unchanged; staff terms: {} new, {} changed",
        d.inserted, d.updated, d.unchanged, d.staff_inserted, d.staff_updated
    )
}

impl crate::import::WorkRecord for PairingRow {
    async fn write(app: &App, rows: Vec<(String, Self)>, actor: &str, _today: NaiveDate) -> AppResult<usize> {
        app.record_pairings(&Scope::all(), &rows, actor).await.map(|_| rows.len())
    }
}

impl crate::import::WorkRecord for TelemedicineLink {
    async fn write(app: &App, rows: Vec<(String, Self)>, actor: &str, _today: NaiveDate) -> AppResult<usize> {
        app.record_telemedicine(&Scope::all(), &rows, actor).await.map(|_| rows.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[9.0, 1.0, 4.0]), Some(4.0));
        assert_eq!(median(&[1.0, 10.0, 2.0, 4.0]), Some(3.0));
        assert_eq!(share(1, 0), None);
        assert_eq!(share(1, 4), Some(0.25));
        assert_eq!(reference_prefix("341122"), "34");
        assert_eq!(reference_prefix(""), "");
    }
}
