//! Indicator facts from Arrow (docs/indicators.md), in the two parts the store
//! keeps (`store::indicator_facts`) and the Parquet contract's `indicator-facts`
//! result carries: per village, the registry's stocks, the alerts, the cases
//! and the households' spending (`registry_facts`, `AlertLedger`, `case_facts`,
//! `spending_facts`: the village's claims and settlements are given for the
//! last); per person, the claim facts
//! (`ClaimLedger`), each encoded by `indicators::stored`. The wiring is the
//! `indicators` crate's own (`extract::village_facts`,
//! `extract::claim_facts_by_person`), the same the binary's report calls.
//!
//! Then the roll-up: each fact to its village and every region above it
//! ([`expand`]), summed by the cluster, and the report's lines of the regions of
//! one level from their sums ([`report_lines`]), as `safetynet report` writes them.

use crate::error::{EngineError, Result};
use crate::input::Table;
use crate::out::{self, Col};
use crate::warnings::{read_claims, read_households};
use arrow_array::RecordBatch;
use chrono::NaiveDate;
use domain::{Person, RegionCode, RegionLevel, ResidentId};
use indicators::extract::{
    claim_facts_by_person, village_facts, AlertEvent, CaseDeadline, FundAmounts, Registry, Spending, VillageInputs,
};
use indicators::report::{self, ReportSpec};
use indicators::{Definitions, Fact, IndicatorCube, Measure, Month, Period, PeriodKind, Slice, Targets};
use std::collections::{HashMap, HashSet};

pub struct Facts {
    pub year: i32,
    /// Registered facilities and their regions (the county of treatment).
    pub facilities: Vec<(String, RegionCode)>,
}

pub fn read_persons(t: &Table) -> Result<Vec<Person>> {
    let ids = t.parsed_from_str::<ResidentId>("person_id")?;
    let households = t.required_strings("household_id")?;
    let statuses = t.parsed_from_str::<domain::PovertyStatus>("status")?;
    let names = if t.has("name") { t.strings("name")? } else { vec![None; ids.len()] };
    let since = if t.has("status_since") { t.dates("status_since")? } else { vec![None; ids.len()] };
    let diagnoses = if t.has("diagnoses") { t.strings("diagnoses")? } else { vec![None; ids.len()] };
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date");
    Ok((0..ids.len())
        .map(|i| Person {
            person_id: ids[i],
            household_id: households[i].to_string(),
            name: names[i].unwrap_or("").to_string(),
            status: statuses[i],
            status_since: since[i].unwrap_or(epoch),
            diagnoses: diagnoses[i]
                .map(|d| d.split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect())
                .unwrap_or_default(),
        })
        .collect())
}

impl Facts {
    pub fn new(year: i32, facilities: Option<&Table>) -> Result<Facts> {
        let facilities = match facilities {
            Some(t) => {
                let ids = t.required_strings("facility_id")?;
                let regions = t.parsed_from_str::<RegionCode>("region_code")?;
                ids.into_iter().map(str::to_string).zip(regions).collect()
            }
            None => Vec::new(),
        };
        Ok(Facts { year, facilities })
    }

    fn registry(&self, households: &[domain::Household], persons: &[Person]) -> Result<Registry> {
        Ok(Registry::new(households, persons)
            .map_err(|e| EngineError::Engine(e.to_string()))?
            .with_facilities(self.facilities.iter().cloned()))
    }

    /// `year, village_code, facts`: the registry's stocks of the year, its alerts'
    /// and its cases' facts, and its households' spending (from the claims and
    /// their settlements, `claim_id, facility_id, out_of_pocket`, when given), by
    /// village.
    #[allow(clippy::too_many_arguments)]
    pub fn village_facts(
        &self,
        households: &Table,
        persons: &Table,
        alert_dates: Option<&Table>,
        cases: Option<&Table>,
        contracts: Option<&Table>,
        claims: Option<&Table>,
        settlements: Option<&Table>,
    ) -> Result<RecordBatch> {
        let year = self.year;
        let hs = read_households(households)?;
        let ps = read_persons(persons)?;
        let registry = self.registry(&hs, &ps)?;
        let contracted: HashSet<ResidentId> = match contracts {
            Some(t) => t.parsed_from_str::<ResidentId>("person_id")?.into_iter().collect(),
            None => HashSet::new(),
        };
        let alerts = match alert_dates {
            Some(t) => read_alert_dates(t)?,
            None => Vec::new(),
        };
        let cases = match cases {
            Some(t) => read_cases(t)?,
            None => Vec::new(),
        };
        let spending = match (claims, settlements) {
            (Some(c), Some(s)) => spending_of(c, s)?,
            _ => Vec::new(),
        };
        let input = VillageInputs {
            households: &hs,
            persons: &ps,
            contracted: &contracted,
            alerts: &alerts,
            cases: &cases,
            spending: &spending,
        };
        let facts = village_facts(&registry, input, year).map_err(|e| EngineError::Engine(e.to_string()))?;
        let by_village = indicators::stored::by_village(&facts);
        Ok(out::batch(vec![
            Col("year", out::ints(by_village.keys().map(|_| year as i64)), false),
            Col("village_code", out::strings(by_village.keys().map(|v| v.to_string())), false),
            Col("facts", out::binaries(by_village.values()), false),
        ]))
    }

    /// `year, person_id, village_code, facts, unsettled`: the claim facts of the
    /// year of each person with a claim of the year, from the claims and their
    /// settlements (`claim_id, out_of_pocket, payments`).
    pub fn person_facts(
        &self,
        households: &Table,
        persons: &Table,
        claims: &Table,
        settlements: &Table,
    ) -> Result<RecordBatch> {
        let year = self.year;
        let hs = read_households(households)?;
        let ps = read_persons(persons)?;
        let registry = self.registry(&hs, &ps)?;
        let claims = read_claims(claims)?;
        let ids = settlements.required_strings("claim_id")?;
        let facilities =
            if settlements.has("facility_id") { settlements.strings("facility_id")? } else { vec![None; ids.len()] };
        let oop = settlements.required_fen("out_of_pocket")?;
        let payments = settlements.payments("payments")?;
        let mut settled: HashMap<(&str, &str), (FundAmounts, domain::Fen)> = HashMap::with_capacity(ids.len());
        for i in 0..ids.len() {
            let names: Vec<&str> = payments[i].iter().map(|p| p.0).collect();
            let amounts: Vec<domain::Fen> = payments[i].iter().map(|p| domain::Fen(p.1)).collect();
            let key = (ids[i], facilities[i].unwrap_or(""));
            if settled.insert(key, (FundAmounts::from_tiers(&names, &amounts), oop[i])).is_some() {
                let key = domain::ClaimKey::new(key.1, key.0);
                return Err(settlements.bad(i, "claim_id", &format!("{key} is settled twice")));
            }
        }
        let by_person = claim_facts_by_person(
            &registry,
            &ps,
            &claims,
            |c| settled.get(&(c.claim_id.as_str(), c.facility_id.as_str())).copied(),
            year,
        )
        .map_err(|e| EngineError::Engine(e.to_string()))?;
        let rows: Vec<(ResidentId, RegionCode, Vec<u8>, i64)> = by_person
            .into_iter()
            .map(|p| (p.person, p.village, indicators::stored::encode(&p.facts), p.unsettled as i64))
            .collect();
        Ok(out::batch(vec![
            Col("year", out::ints(rows.iter().map(|_| year as i64)), false),
            Col("person_id", out::strings(rows.iter().map(|r| r.0.to_string())), false),
            Col("village_code", out::strings(rows.iter().map(|r| r.1.to_string())), false),
            Col("facts", out::binaries(rows.iter().map(|r| &r.2)), false),
            Col("unsettled", out::ints(rows.iter().map(|r| r.3)), false),
        ]))
    }
}

/// Each settled claim's out-of-pocket spending, from the claims (`claim_id,
/// person_id, discharged`, optional `facility_id`) and their settlements
/// (`claim_id, out_of_pocket`, optional `facility_id`), matched by claim key.
fn spending_of(claims: &Table, settlements: &Table) -> Result<Vec<Spending>> {
    let ids = settlements.required_strings("claim_id")?;
    let facilities =
        if settlements.has("facility_id") { settlements.strings("facility_id")? } else { vec![None; ids.len()] };
    let oop = settlements.required_fen("out_of_pocket")?;
    let settled: HashMap<(&str, &str), domain::Fen> =
        (0..ids.len()).map(|i| ((ids[i], facilities[i].unwrap_or("")), oop[i])).collect();
    let claim_ids = claims.required_strings("claim_id")?;
    let persons = claims.parsed_from_str::<ResidentId>("person_id")?;
    let discharged = claims.required_dates("discharged")?;
    let claim_facilities =
        if claims.has("facility_id") { claims.strings("facility_id")? } else { vec![None; claim_ids.len()] };
    Ok((0..claim_ids.len())
        .filter_map(|i| {
            settled.get(&(claim_ids[i], claim_facilities[i].unwrap_or(""))).map(|oop| Spending {
                person: persons[i],
                discharged: discharged[i],
                out_of_pocket: *oop,
            })
        })
        .collect())
}

fn read_alert_dates(t: &Table) -> Result<Vec<AlertEvent>> {
    let households = t.required_strings("household_id")?;
    let years = t.required_ints("year")?;
    let raised = if t.has("raised_on") { t.dates("raised_on")? } else { vec![None; households.len()] };
    let assisted = if t.has("assisted_on") { t.dates("assisted_on")? } else { vec![None; households.len()] };
    (0..households.len())
        .map(|i| {
            let year = years[i] as i32;
            // As the report's alerts file: without a day raised, December of its year.
            let december = NaiveDate::from_ymd_opt(year, 12, 31).ok_or_else(|| t.bad(i, "year", "is out of range"))?;
            Ok(AlertEvent {
                household_id: households[i].to_string(),
                year,
                raised_on: raised[i].unwrap_or(december),
                assisted_on: assisted[i],
            })
        })
        .collect()
}

fn read_cases(t: &Table) -> Result<Vec<CaseDeadline>> {
    let households = t.required_strings("household_id")?;
    let due = t.required_dates("due")?;
    let verified = t.dates("verified_on")?;
    let close_due = t.required_dates("close_due")?;
    let closed = t.dates("closed_on")?;
    Ok((0..households.len())
        .map(|i| CaseDeadline {
            household_id: households[i].to_string(),
            due: due[i],
            verified_on: verified[i],
            close_due: close_due[i],
            closed_on: closed[i],
        })
        .collect())
}

/// Each encoded fact of `village_code, facts` rows (either part) as rows
/// `region_code, level, month, measure, slice, value`, once for its village and
/// once for each region above it (the cube's chain: `RegionCode::parent`).
pub fn expand(t: &Table) -> Result<RecordBatch> {
    let villages = t.parsed_from_str::<RegionCode>("village_code")?;
    let bytes = t.binaries("facts")?;
    let mut chains: HashMap<RegionCode, Vec<RegionCode>> = HashMap::new();
    let (mut region, mut level, mut month, mut measure, mut slice, mut value) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..villages.len() {
        let facts = indicators::stored::decode(villages[i], bytes[i]).map_err(|e| t.bad(i, "facts", &e.to_string()))?;
        let chain = chains.entry(villages[i]).or_insert_with(|| {
            let mut c = vec![villages[i]];
            while let Some(p) = c.last().and_then(|r| r.parent()) {
                c.push(p);
            }
            c
        });
        for f in facts {
            for r in chain.iter() {
                region.push(r.to_string());
                level.push(r.level().as_str());
                month.push(f.month.0 as i64);
                measure.push(f.measure.index() as i64);
                slice.push(f.slice.index() as i64);
                value.push(f.value);
            }
        }
    }
    Ok(out::batch(vec![
        Col("region_code", out::strings(region), false),
        Col("level", out::strings(level), false),
        Col("month", out::ints(month), false),
        Col("measure", out::ints(measure), false),
        Col("slice", out::ints(slice), false),
        Col("value", out::ints(value), false),
    ]))
}

/// The definitions a report uses: the shipped ones, with a definitions file laid over.
pub fn definitions(text: Option<&str>) -> Result<Definitions> {
    let mut defs = Definitions::shipped();
    if let Some(t) = text {
        defs.merge(t, "indicators").map_err(|e| EngineError::Input(e.to_string()))?;
    }
    Ok(defs)
}

/// The CSV header line of a report (`safetynet report --out R.csv`).
pub fn report_header(defs: &Definitions) -> Result<String> {
    let mut buf = Vec::new();
    report::write_csv(defs, &[], &HashMap::new(), &Targets::shipped(), indicators::Comparisons::NONE, &mut buf)
        .map_err(|e| EngineError::Engine(e.to_string()))?;
    String::from_utf8(buf).map_err(|e| EngineError::Engine(e.to_string()))
}

/// The report lines of the regions of one `level` from their summed facts
/// (`region_code, month, measure, slice, value`, every region of that level):
/// `region_code, period, line`, the period's position in the year's periods.
pub fn report_lines(defs: &Definitions, year: i32, level: &str, period: &str, t: &Table) -> Result<RecordBatch> {
    let level: RegionLevel = level.parse().map_err(|e: domain::DomainError| EngineError::Input(e.to_string()))?;
    let kind: PeriodKind = period.parse().map_err(|e: String| EngineError::Input(e))?;
    let regions = t.parsed_from_str::<RegionCode>("region_code")?;
    let months = t.required_ints("month")?;
    let measures = t.required_ints("measure")?;
    let slices = t.required_ints("slice")?;
    let values = t.required_ints("value")?;
    let all_slices = Slice::all();
    let mut facts = Vec::with_capacity(regions.len());
    for i in 0..regions.len() {
        if regions[i].level() != level {
            return Err(t.bad(i, "region_code", &format!("is a {}, not a {level}", regions[i].level())));
        }
        let measure = *Measure::ALL.get(measures[i] as usize).ok_or_else(|| t.bad(i, "measure", "unknown measure"))?;
        let slice = *all_slices.get(slices[i] as usize).ok_or_else(|| t.bad(i, "slice", "unknown slice"))?;
        facts.push(Fact { village: regions[i], month: Month(months[i] as i32), slice, measure, value: values[i] });
    }
    // The regions of one level are never above one another: each is a leaf here.
    let cube = IndicatorCube::build(defs, &facts);
    let spec = ReportSpec { levels: vec![level], periods: Period::of_year(year, kind), scope: String::new() };
    let rows = report::build(&cube, &spec);
    let targets = Targets::shipped();
    let names = HashMap::new();
    let periods = Period::of_year(year, kind);
    let (mut codes, mut at, mut lines) = (Vec::new(), Vec::new(), Vec::new());
    for r in &rows {
        let mut buf = Vec::new();
        report::write_csv(defs, std::slice::from_ref(r), &names, &targets, indicators::Comparisons::NONE, &mut buf)
            .map_err(|e| EngineError::Engine(e.to_string()))?;
        let text = String::from_utf8(buf).map_err(|e| EngineError::Engine(e.to_string()))?;
        let line = text.split_once('\n').map(|(_, l)| l.trim_end_matches(['\r', '\n']).to_string()).unwrap_or_default();
        codes.push(r.region.to_string());
        at.push(periods.iter().position(|p| *p == r.period).unwrap_or(0) as i64);
        lines.push(line);
    }
    Ok(out::batch(vec![
        Col("region_code", out::strings(codes), false),
        Col("period", out::ints(at), false),
        Col("line", out::strings(lines), false),
    ]))
}
