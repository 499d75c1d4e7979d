//! The programme report and the policy what-if over a scope's data, as the
//! store hands it over ([`IndicatorData`]). This module only wires: the
//! facts, the cube, the tables and the comparison are the `indicators` crate's,
//! the settling `settle`'s, the monitoring `monitor`'s, the village reach
//! `coverage`'s. Nothing here does IO; the handlers run it off the async threads.

use crate::model::{AppError, IndicatorData, NetworkData, PolicyRow};
use chrono::{Datelike, NaiveDate};
use domain::{Catalogue, RegionCode, RegionLevel};
use indicators::extract::{coverage_facts, FundAmounts, Registry, Spending, VillageInputs, VillageReach};
use indicators::report::{self, Compare, Comparisons, ReportRow, ReportSpec};
use indicators::whatif::{compare, Comparison, Scenario};
use indicators::{Definitions, Fact, IndicatorCube, Month, Period, PeriodKind, Targets};
use monitor::{Member, RuleSet, SettledCost, ThresholdTable};
use settle::{BatchClaim, ClaimInput, Policy};
use std::collections::{HashMap, HashSet};

/// At most this many reports and what-ifs are read and computed at once; the
/// others wait their turn, so that a few large requests cannot take all the memory.
static SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// A turn to read and compute an analysis, held until dropped.
pub async fn slot() -> Result<tokio::sync::SemaphorePermit<'static>, AppError> {
    SLOTS.acquire().await.map_err(|e| AppError::Store(e.to_string()))
}

/// Runs an analysis off the async threads.
pub async fn run_blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::Store(format!("the analysis failed: {e}")))?
        .map_err(AppError::Invalid)
}

/// A report built for a scope.
#[derive(Debug, Clone)]
pub struct Report {
    pub defs: Definitions,
    pub rows: Vec<ReportRow>,
    pub names: HashMap<RegionCode, String>,
    pub levels: Vec<RegionLevel>,
    pub year: i32,
    pub period: PeriodKind,
    /// Claims of the year with no stored settlement yet: left out of the claim
    /// indicators until they are settled.
    pub unsettled: usize,
    /// Why the villages' reach could not be measured, if it could not.
    pub coverage_note: Option<String>,
    /// The targets its values are drawn against (none unless the caller sets
    /// them: [`crate::App::report`] sets those in force).
    pub targets: Targets,
    /// What its rows are compared with, if anything (each row's `previous`
    /// and `wider`).
    pub compare: Comparisons,
    /// What the page's charts draw.
    pub charts: Charts,
}

/// What the report page's charts draw for each indicator (lists in definition
/// order): the scope's own region month by month in the year and, when
/// compared with it, the year before; its value of the year beside its
/// province's and the nation's, when compared with the regions. Values only.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Charts {
    /// The scope's region; `None` for the whole country's scope.
    pub region: Option<RegionCode>,
    /// 12 values per indicator.
    pub months: Vec<Vec<Option<f64>>>,
    pub months_before: Option<Vec<Vec<Option<f64>>>>,
    /// The year's value per indicator.
    pub year: Vec<Option<f64>>,
    /// The region's province and its year values (none for a nation's scope).
    pub province: Option<(RegionCode, Vec<Option<f64>>)>,
    pub nation: Option<Vec<Option<f64>>>,
}

/// The region a scope prefix names (`None` for the whole country).
pub fn scope_region(scope: &str) -> Option<RegionCode> {
    if scope.is_empty() {
        None
    } else {
        RegionCode::parse(scope).ok()
    }
}

/// Each indicator's value of `year` for `region` (everything in the cube when `None`).
fn year_values(cube: &IndicatorCube, region: Option<RegionCode>, year: i32) -> Vec<Option<f64>> {
    (0..cube.definitions().indicators.len())
        .map(|i| match region {
            Some(r) => cube.indicator(i, r, Period::Year(year)).value,
            None => cube.indicator_total(i, Period::Year(year)).value,
        })
        .collect()
}

impl Report {
    pub fn csv(&self) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        report::write_csv(&self.defs, &self.rows, &self.names, &self.targets, self.compare, &mut out)
            .map_err(|e| e.to_string())?;
        Ok(out)
    }

    pub fn xlsx(&self) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        report::write_xlsx(&self.defs, &self.rows, &self.names, &self.levels, &self.targets, self.compare, &mut out)
            .map_err(|e| e.to_string())?;
        Ok(out)
    }

    /// Gives each row the values it is compared with: with
    /// [`Compare::PreviousYear`], `facts` are the year before's (of the same
    /// scope), and each row gets the same period's values; with
    /// [`Compare::Regions`], `facts` are the whole country's of the year (of
    /// the same counties), and each row gets its province's and the nation's
    /// values. The charts get the same.
    pub fn compare_with(&mut self, compare: Compare, facts: &[Fact]) {
        let cube = IndicatorCube::build(&self.defs, facts);
        let region = self.charts.region;
        match compare {
            Compare::PreviousYear => {
                report::add_previous(&mut self.rows, &self.defs, &cube);
                self.charts.months_before = Some(report::monthly(&cube, region, self.year - 1));
            }
            Compare::Regions => {
                report::add_regions(&mut self.rows, &self.defs, &cube);
                self.charts.province = region
                    .and_then(|r| r.ancestor(RegionLevel::Province))
                    .map(|p| (p, year_values(&cube, Some(p), self.year)));
                self.charts.nation = Some(year_values(&cube, None, self.year));
            }
        }
        self.compare = self.compare.with(compare);
    }
}

/// The day the villages' reach of `year` is measured on: its last day, or
/// `today` if earlier.
pub fn coverage_day(year: i32, today: NaiveDate) -> Result<NaiveDate, String> {
    let end = NaiveDate::from_ymd_opt(year, 12, 31).ok_or("a year out of range")?;
    Ok(end.min(today))
}

/// The reach of the network's villages on `as_of` (the network as its history
/// has it that day): a qualified doctor serving in
/// the village, and a qualified village clinic or township centre within 15
/// minutes.
fn village_reach(network: NetworkData, as_of: NaiveDate) -> Result<Vec<VillageReach>, String> {
    let net = crate::history::network_on(&network, as_of).map_err(|e| e.to_string())?;
    let settings = coverage::Settings::default();
    let blank: HashSet<RegionCode> = coverage::blank_spots(&net, as_of, &settings)
        .into_iter()
        .filter(|b| b.kind.is_village())
        .map(|b| b.region_code)
        .collect();
    Ok(coverage::reach(&net, as_of, &settings, &coverage::TravelModel::default())
        .into_iter()
        .map(|r| VillageReach {
            village: r.village,
            rural: r.rural,
            population: r.population,
            has_qualified_doctor: !blank.contains(&r.village),
            within_15min: r.in_circle(),
        })
        .collect())
}

/// The coverage facts of `year` (recorded in January, as the registry's stocks)
/// from the reach of the network's villages on `as_of`.
pub fn network_facts(network: NetworkData, year: i32, as_of: NaiveDate) -> Result<Vec<Fact>, String> {
    Ok(coverage_facts(&village_reach(network, as_of)?, Month::new(year, 1)))
}

pub use indicators::extract::PersonClaimFacts;

/// The settled claims' out-of-pocket spending of `data`: as read alone, or,
/// where the claims are read whole, from them and their settlements.
fn spending_of(data: &IndicatorData) -> std::borrow::Cow<'_, [Spending]> {
    if !data.spending.is_empty() || data.claims.is_empty() {
        return std::borrow::Cow::Borrowed(&data.spending);
    }
    std::borrow::Cow::Owned(
        data.claims
            .iter()
            .filter_map(|c| {
                data.settlements.get(&c.claim_key()).map(|s| Spending {
                    person: c.person_id,
                    discharged: c.discharged,
                    out_of_pocket: s.out_of_pocket,
                })
            })
            .collect(),
    )
}

/// The registry's stocks of `year`, its alerts' facts, its cases' deadlines
/// and its households' spending.
pub fn registry_alert_facts(data: &IndicatorData, registry: &Registry, year: i32) -> Result<Vec<Fact>, String> {
    let spending = spending_of(data);
    let input = VillageInputs {
        households: &data.households,
        persons: &data.persons,
        contracted: &data.contracted,
        alerts: &data.alerts,
        cases: &data.cases,
        spending: &spending,
    };
    indicators::extract::village_facts(registry, input, year).map_err(|e| e.to_string())
}

/// The registry of `data` indexed for the facts, with the facilities' regions.
pub fn registry_of(data: &IndicatorData) -> Result<Registry, String> {
    Ok(Registry::new(&data.households, &data.persons)
        .map_err(|e| e.to_string())?
        .with_facilities(data.facilities.iter().cloned()))
}

/// The claim facts of `year` of each person of the registry with a claim of
/// the year (settled or not), in the order of the persons' first claims
/// (`indicators::extract::claim_facts_by_person`, over the stored settlements).
pub fn claim_facts_by_person(
    data: &IndicatorData,
    registry: &Registry,
    year: i32,
) -> Result<Vec<PersonClaimFacts>, String> {
    let settled = |c: &domain::Claim| {
        data.settlements.get(&c.claim_key()).map(|s| {
            let names: Vec<&str> = s.payments.iter().map(|(n, _)| n.as_str()).collect();
            let amounts: Vec<domain::Fen> = s.payments.iter().map(|(_, a)| *a).collect();
            (FundAmounts::from_tiers(&names, &amounts), s.out_of_pocket)
        })
    };
    indicators::extract::claim_facts_by_person(registry, &data.persons, &data.claims, settled, year)
        .map_err(|e| e.to_string())
}

/// The facts of `year` that lie in the villages themselves: the registry's
/// stocks, the settled claims and the alerts. Also returns the number of claims
/// of the year with no settlement (left out of the facts).
pub fn local_facts(data: &IndicatorData, year: i32) -> Result<(Vec<Fact>, usize), String> {
    let registry = registry_of(data)?;
    let mut facts = registry_alert_facts(data, &registry, year)?;
    let mut unsettled = 0;
    for p in claim_facts_by_person(data, &registry, year)? {
        facts.extend(p.facts);
        unsettled += p.unsettled;
    }
    Ok((facts, unsettled))
}

/// What a report is made of besides its facts.
#[derive(Debug, Clone)]
pub struct ReportFrame {
    pub scope: String,
    pub year: i32,
    pub levels: Vec<RegionLevel>,
    pub period: PeriodKind,
    pub names: HashMap<RegionCode, String>,
    pub unsettled: usize,
    pub coverage_note: Option<String>,
}

/// The report of `facts` (of the scope and the year) for `defs`.
pub fn report_of_facts(defs: Definitions, facts: &[Fact], frame: ReportFrame) -> Report {
    let cube = IndicatorCube::build(&defs, facts);
    let spec = ReportSpec {
        levels: frame.levels.clone(),
        periods: Period::of_year(frame.year, frame.period),
        scope: frame.scope.clone(),
    };
    let rows = report::build(&cube, &spec);
    let names = frame.names.into_iter().filter(|(c, _)| c.starts_with(&frame.scope)).collect();
    let region = scope_region(&frame.scope);
    let charts = Charts {
        region,
        months: report::monthly(&cube, region, frame.year),
        year: year_values(&cube, region, frame.year),
        ..Charts::default()
    };
    Report {
        defs,
        rows,
        names,
        levels: frame.levels,
        year: frame.year,
        period: frame.period,
        unsettled: frame.unsettled,
        coverage_note: frame.coverage_note,
        targets: Targets::default(),
        compare: Comparisons::NONE,
        charts,
    }
}

/// The indicator report of `year` by `levels` and periods of `period`, for the
/// rows inside `scope` (a code prefix), with the indicators of `defs`, computed
/// from the scope's data at once. `network` adds the coverage indicators.
pub fn build_report(
    defs: Definitions,
    data: &IndicatorData,
    network: Option<NetworkData>,
    scope: &str,
    year: i32,
    levels: Vec<RegionLevel>,
    period: PeriodKind,
) -> Result<Report, String> {
    let (mut facts, unsettled) = local_facts(data, year)?;
    let mut coverage_note = None;
    if let Some(n) = network {
        match coverage_day(year, domain::time::china_today()).and_then(|d| network_facts(n, year, d)) {
            Ok(f) => facts.extend(f),
            Err(e) => coverage_note = Some(e),
        }
    }
    let frame = ReportFrame {
        scope: scope.to_string(),
        year,
        levels,
        period,
        names: data.names.clone(),
        unsettled,
        coverage_note,
    };
    Ok(report_of_facts(defs, &facts, frame))
}

/// The outcome of a what-if.
#[derive(Debug, Clone)]
pub struct WhatIf {
    pub comparison: Comparison,
    /// Claims of the year compared (settled under both policies).
    pub claims: usize,
    /// Claims left out because no policy is in force for their village and year.
    pub without_policy: usize,
    /// The names of the policies in force that settled the claims.
    pub in_force: Vec<String>,
    /// Households whose region has no threshold for the year (income rules skip them).
    pub missing_thresholds: usize,
}

/// The year's claims joined with their persons and households, ready to settle
/// under any policy.
struct Joined<'a> {
    data: &'a IndicatorData,
    claims: Vec<&'a domain::Claim>,
    batch: Vec<BatchClaim>,
    order: Vec<u32>,
    statuses: Vec<domain::PovertyStatus>,
    claim_household: Vec<u32>,
    /// The policy in force of each claim, as an index into the policies.
    claim_policy: Vec<usize>,
    households: HashMap<&'a str, u32>,
    members: Vec<Member>,
    thresholds: ThresholdTable,
    year: i32,
}

impl Joined<'_> {
    /// Settles the claims, each under `policy_of` its index, in the one
    /// settlement order, and monitors the year.
    fn scenario(
        &self,
        policies: &[&Policy],
        policy_of: impl Fn(usize) -> usize,
        rules: &RuleSet,
    ) -> Result<(Scenario, usize), String> {
        let villages: Vec<RegionCode> = self.data.households.iter().map(|h| h.village_code).collect();
        let mut s = Scenario::new(&villages);
        let mut costs = Vec::with_capacity(self.claims.len());
        for (k, policy) in policies.iter().enumerate() {
            let order: Vec<u32> = self.order.iter().copied().filter(|&i| policy_of(i as usize) == k).collect();
            settle::settle_in_order(policy, &self.batch, &order, &self.statuses, |i, payments, oop| {
                s.add_claim(self.claim_household[i], &FundAmounts::from_tiers(&policy.names, payments), oop);
                costs.push(SettledCost { person_id: self.claims[i].person_id, year: self.year, out_of_pocket: oop });
                true
            });
        }
        let claims: Vec<domain::Claim> = self.claims.iter().map(|c| (*c).clone()).collect();
        let result = monitor::monitor_year(
            self.year,
            &self.data.households,
            &self.members,
            &claims,
            &costs,
            &self.thresholds,
            rules,
            &Catalogue::serious(),
        )
        .map_err(|e| format!("monitoring: {e}"))?;
        for a in &result.alerts {
            if let Some(&h) = self.households.get(a.household_id.as_str()) {
                s.add_alert(&a.rule, h);
            }
        }
        Ok((s, result.missing_thresholds.len()))
    }
}

/// The policy in force for a village in a year among `policies` (the latest
/// version of each region and year, as [`crate::App::policies`] lists them), by
/// the one rule, `settle::policy_in_force`.
pub fn policy_in_force(policies: &[PolicyRow], village: RegionCode, year: i32) -> Option<usize> {
    settle::policy_in_force(policies.iter().map(|p| (p.region.as_str(), p.year, 0)), village, year)
}

/// Settles the scope's claims of `year` under the policies in force and under
/// `draft`, monitors both under `rules`, and compares them by county.
pub fn whatif(
    data: &IndicatorData,
    policies: &[PolicyRow],
    draft: &Policy,
    year: i32,
    rules: &RuleSet,
) -> Result<WhatIf, String> {
    let households: HashMap<&str, u32> =
        data.households.iter().enumerate().map(|(i, h)| (h.household_id.as_str(), i as u32)).collect();
    let mut persons = HashMap::with_capacity(data.persons.len());
    let mut statuses = Vec::with_capacity(data.persons.len());
    let mut person_household = Vec::with_capacity(data.persons.len());
    for p in &data.persons {
        let Some(&h) = households.get(p.household_id.as_str()) else {
            return Err(format!("person {} names the household {}, which is not there", p.person_id, p.household_id));
        };
        persons.insert(p.person_id, statuses.len() as u32);
        statuses.push(p.status);
        person_household.push(h);
    }
    let mut in_force: HashMap<RegionCode, Option<usize>> = HashMap::new();
    let mut claims = Vec::new();
    let mut batch = Vec::new();
    let mut claim_household = Vec::new();
    let mut claim_policy = Vec::new();
    let mut without_policy = 0;
    for c in data.claims.iter().filter(|c| c.discharged.year() == year) {
        let Some(&p) = persons.get(&c.person_id) else {
            return Err(format!("claim {} names a person who is not there", c.claim_id));
        };
        let h = person_household[p as usize];
        let village = data.households[h as usize].village_code;
        let Some(k) = *in_force.entry(village).or_insert_with(|| policy_in_force(policies, village, year)) else {
            without_policy += 1;
            continue;
        };
        claims.push(c);
        batch.push(BatchClaim { person: p, discharged: c.discharged, input: ClaimInput::from(c) });
        claim_household.push(h);
        claim_policy.push(k);
    }
    let order =
        settle::settlement_order_at(&batch, |i| claims[i].claim_id.as_str(), |i| claims[i].facility_id.as_str());
    let joined = Joined {
        data,
        claims,
        batch,
        order,
        statuses,
        claim_household,
        claim_policy,
        households,
        members: data.persons.iter().map(Member::from).collect(),
        thresholds: ThresholdTable::new(&data.thresholds),
        year,
    };
    let mut used: Vec<usize> = joined.claim_policy.clone();
    used.sort_unstable();
    used.dedup();
    let in_force_policies: Vec<&Policy> = used.iter().map(|&k| policies[k].policy.as_ref()).collect();
    let slot: HashMap<usize, usize> = used.iter().enumerate().map(|(s, &k)| (k, s)).collect();
    let (a, b) = std::thread::scope(|sc| {
        let a = sc.spawn(|| joined.scenario(&in_force_policies, |i| slot[&joined.claim_policy[i]], rules));
        let b = joined.scenario(&[draft], |_| 0, rules);
        (a.join(), b)
    });
    let (a, missing) = a.map_err(|_| "the settlement thread panicked".to_string())??;
    let (b, _) = b?;
    let mut names: Vec<String> = in_force_policies.iter().map(|p| p.name.clone()).collect();
    names.dedup();
    Ok(WhatIf {
        comparison: compare(&a, &b),
        claims: joined.claims.len(),
        without_policy,
        in_force: names,
        missing_thresholds: missing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ClaimSettlement;
    use domain::{ClaimKind, FacilityLevel, Fen, Household, Person, PovertyStatus, ResidentId};
    use indicators::extract::AlertEvent;
    use std::sync::Arc;

    fn d(s: &str) -> NaiveDate {
        domain::parse_date(s).unwrap()
    }

    fn code(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }

    /// Two counties, one household of one poor person each, one claim each.
    fn data() -> IndicatorData {
        let mut data = IndicatorData::default();
        for (i, county) in ["341122", "341123"].into_iter().enumerate() {
            let hh = format!("H{i}");
            data.households.push(Household {
                household_id: hh.clone(),
                village_code: code(&format!("{county}100201")),
                size: 1,
                income: Fen::from_yuan(20_000),
                consumption: None,
                food: None,
            });
            let pid = ResidentId::from_parts(county.parse().unwrap(), d("1970-01-01"), 1).unwrap();
            data.persons.push(Person {
                person_id: pid,
                household_id: hh.clone(),
                name: "x".into(),
                status: PovertyStatus::LowIncome,
                status_since: d("2020-01-01"),
                diagnoses: vec![],
            });
            let claim_id = format!("C{i}");
            data.claims.push(domain::Claim {
                claim_id: claim_id.clone(),
                person_id: pid,
                facility_level: FacilityLevel::Municipal,
                kind: ClaimKind::Inpatient,
                admitted: d("2024-05-01"),
                discharged: d("2024-05-03"),
                total_cost: Fen::from_yuan(10_000),
                eligible_cost: Fen::from_yuan(8_000),
                diagnosis: "J18".into(),
                facility_id: String::new(),
                referred: false,
            });
            data.settlements.insert(
                domain::ClaimKey::new("", &claim_id),
                ClaimSettlement {
                    payments: vec![
                        ("basic".into(), Fen::from_yuan(6_000)),
                        ("assistance".into(), Fen::from_yuan(1_000)),
                    ],
                    out_of_pocket: Fen::from_yuan(3_000),
                },
            );
            data.alerts.push(AlertEvent {
                household_id: hh,
                year: 2024,
                raised_on: d("2024-06-01"),
                assisted_on: (i == 0).then(|| d("2024-07-15")),
            });
        }
        data
    }

    #[test]
    fn a_report_counts_settlements_alerts_and_keeps_to_the_scope() {
        let mut data = data();
        data.claims.push(domain::Claim { claim_id: "C9".into(), ..data.claims[0].clone() });
        let r = build_report(
            Definitions::shipped(),
            &data,
            None,
            "341122",
            2024,
            vec![RegionLevel::County],
            PeriodKind::Year,
        )
        .unwrap();
        assert_eq!(r.unsettled, 1, "a claim without a settlement is counted aside");
        assert_eq!(r.rows.len(), 1, "the other county is outside the scope");
        let row = &r.rows[0];
        assert_eq!(row.region, code("341122"));
        let at = |id: &str| row.values[r.defs.indicators.iter().position(|d| d.id == id).unwrap()];
        assert_eq!(at("funds_paid").numerator, 700_000, "6,000.00 + 1,000.00 yuan in fen");
        assert_eq!(at("poor_out_of_pocket_share").numerator, 300_000);
        assert_eq!(at("poor_treated_in_county_share").value, Some(0.0), "a municipal hospital is outside the county");
        assert_eq!(at("warned_households_assisted_share").value, Some(100.0));
        let csv = String::from_utf8(r.csv().unwrap()).unwrap();
        assert_eq!(csv.lines().count(), 2);
        assert!(csv.lines().nth(1).unwrap().starts_with("county,341122,,2024,"));
        assert!(r.xlsx().unwrap().starts_with(b"PK"));
    }

    fn row(w: &WhatIf, county: Option<&str>, item: &str) -> indicators::whatif::ComparisonRow {
        w.comparison.rows.iter().find(|r| r.county == county.map(code) && r.item == item).unwrap().clone()
    }

    #[test]
    fn the_policy_in_force_is_the_longest_prefix_and_claims_without_one_are_left_out() {
        let demo = Arc::new(Policy::parse(include_str!("../../web/tests/data/policy.toml")).unwrap());
        let policies = vec![
            PolicyRow { region: "34".into(), year: 2023, policy: demo.clone() },
            PolicyRow { region: "341122".into(), year: 2024, policy: demo.clone() },
            PolicyRow { region: "3411".into(), year: 2024, policy: demo.clone() },
        ];
        assert_eq!(policy_in_force(&policies, code("341122100201"), 2024), Some(1));
        assert_eq!(policy_in_force(&policies, code("341123100201"), 2024), Some(2));
        assert_eq!(policy_in_force(&policies, code("341123100201"), 2023), Some(0));
        assert_eq!(policy_in_force(&policies, code("341123100201"), 2025), None);

        let data = data();
        let only_a = vec![policies[1].clone()];
        let w = whatif(&data, &only_a, &demo, 2024, &RuleSet::defaults()).unwrap();
        assert_eq!((w.claims, w.without_policy), (1, 1));
        assert!(w.comparison.is_unchanged());
        assert_eq!(w.in_force, ["Demo county 2024"]);
        assert_eq!(row(&w, None, "households_with_claims").in_force, Some(indicators::whatif::Figure::Count(1)));

        // A draft without the assistance tier: the assistance fund pays nothing, the patients more.
        let text = include_str!("../../web/tests/data/policy.toml");
        let cut = text.find("[[tier]]\nname = \"assistance\"").unwrap();
        let safety = text.find("[[tier]]                       # safety net").unwrap();
        let draft = Policy::parse(&format!("{}{}", &text[..cut], &text[safety..])).unwrap();
        let w = whatif(&data, &policies[1..], &draft, 2024, &RuleSet::defaults()).unwrap();
        assert_eq!(w.claims, 2);
        let assistance = row(&w, None, "paid_assistance");
        assert!(matches!(assistance.draft, Some(indicators::whatif::Figure::Money(0))), "{assistance:?}");
        assert!(matches!(assistance.in_force, Some(indicators::whatif::Figure::Money(v)) if v > 0), "{assistance:?}");
        let oop = row(&w, Some("341123"), "out_of_pocket");
        assert!(matches!(oop.difference, indicators::whatif::Figure::Money(v) if v > 0), "{oop:?}");
    }
}
