//! Warnings from Arrow: `monitor::find_alerts` over the households, members,
//! claims and settled out-of-pocket costs handed over (docs/monitoring.md), as
//! `safetynet monitor` runs it. The households of a call are any whole set (one
//! village, many); a household's measures need only its own members' rows.

use crate::error::{EngineError, Result};
use crate::input::Table;
use crate::out::{self, Col};
use arrow_array::RecordBatch;
use domain::alert::{Figure, Finding, Member, SettledCost};
use domain::{Catalogue, Claim, Household, ResidentId, Threshold};
use monitor::{RuleSet, ThresholdTable};

pub struct Monitor {
    pub year: i32,
    pub thresholds: ThresholdTable,
    pub rules: RuleSet,
    pub catalogue: Catalogue,
}

impl Monitor {
    /// `thresholds`: `region, year, rural_income, monitoring_line` (fen); `rules`:
    /// a region's rules file laid over the defaults, or the defaults.
    pub fn new(year: i32, thresholds: &Table, rules: Option<&str>) -> Result<Monitor> {
        let regions = thresholds.strings("region")?;
        let years = thresholds.required_ints("year")?;
        let rural = thresholds.required_fen("rural_income")?;
        let line = thresholds.required_fen("monitoring_line")?;
        let mut rows = Vec::with_capacity(years.len());
        for i in 0..years.len() {
            let region = regions[i].unwrap_or("");
            let region =
                domain::region::parse_prefix(region).map_err(|e| thresholds.bad(i, "region", &e.to_string()))?;
            rows.push(Threshold { region, year: years[i] as i32, rural_income: rural[i], monitoring_line: line[i] });
        }
        let rules = match rules {
            Some(text) => RuleSet::from_region_toml(text.trim_start_matches('\u{feff}'))
                .map_err(|e| EngineError::Input(format!("rules: {e}")))?,
            None => RuleSet::defaults(),
        };
        Ok(Monitor { year, thresholds: ThresholdTable::new(&rows), rules, catalogue: Catalogue::serious() })
    }

    /// The alerts (in the contract's result schema, sorted by rule then household)
    /// and the households without a threshold.
    pub fn alerts(
        &self,
        households: &Table,
        persons: &Table,
        claims: &Table,
        settlements: &Table,
    ) -> Result<(RecordBatch, RecordBatch)> {
        let households = read_households(households)?;
        let members = read_members(persons)?;
        let claims = read_claims(claims)?;
        let settled = read_settled(settlements)?;
        let found = monitor::find_alerts(
            self.year,
            &households,
            &members,
            &claims,
            &settled,
            &self.thresholds,
            &self.rules,
            &self.catalogue,
        )
        .map_err(|e| EngineError::Engine(e.to_string()))?;
        let missing = out::batch(vec![
            Col("household_id", out::strings(found.missing_thresholds.iter().map(|m| m.household_id.as_str())), false),
            Col(
                "village_code",
                out::strings(found.missing_thresholds.iter().map(|m| m.village_code.to_string())),
                false,
            ),
            Col("year", out::ints(found.missing_thresholds.iter().map(|m| m.year as i64)), false),
        ]);
        Ok((alerts_batch(&found.alerts), missing))
    }
}

fn money(f: Option<&Figure>) -> Option<i64> {
    match f {
        Some(Figure::Money(m)) => Some(m.0),
        _ => None,
    }
}

fn text(f: Option<&Figure>) -> Option<&str> {
    match f {
        Some(Figure::Text(t)) => Some(t.as_str()),
        _ => None,
    }
}

/// Findings in the `alerts` result schema (docs: the Parquet contract).
pub fn alerts_batch(alerts: &[Finding]) -> RecordBatch {
    out::batch(vec![
        Col("rule", out::strings(alerts.iter().map(|a| a.rule.as_str())), false),
        Col("household_id", out::strings(alerts.iter().map(|a| a.household_id.as_str())), false),
        Col("village_code", out::strings(alerts.iter().map(|a| a.village_code.to_string())), false),
        Col("year", out::ints(alerts.iter().map(|a| a.year as i64)), false),
        Col("value", out::opt_ints(alerts.iter().map(|a| money(Some(&a.value)))), true),
        Col("value_text", out::opt_strings(alerts.iter().map(|a| text(Some(&a.value)))), true),
        Col("threshold", out::opt_ints(alerts.iter().map(|a| money(a.threshold.as_ref()))), true),
        Col("threshold_text", out::opt_strings(alerts.iter().map(|a| text(a.threshold.as_ref()))), true),
    ])
}

/// Findings back from the `alerts` result schema.
pub fn read_findings(t: &Table) -> Result<Vec<Finding>> {
    let rules = t.required_strings("rule")?;
    let households = t.required_strings("household_id")?;
    let villages = t.parsed_from_str::<domain::RegionCode>("village_code")?;
    let years = t.required_ints("year")?;
    let values = t.ints("value")?;
    let value_texts = t.strings("value_text")?;
    let thresholds = t.ints("threshold")?;
    let threshold_texts = t.strings("threshold_text")?;
    (0..rules.len())
        .map(|i| {
            let value = match (values[i], value_texts[i]) {
                (Some(v), None) => Figure::Money(domain::Fen(v)),
                (None, Some(s)) => Figure::Text(s.to_string()),
                _ => return Err(t.bad(i, "value", "exactly one of value and value_text must be given")),
            };
            let threshold = match (thresholds[i], threshold_texts[i]) {
                (Some(v), None) => Some(Figure::Money(domain::Fen(v))),
                (None, Some(s)) => Some(Figure::Text(s.to_string())),
                (None, None) => None,
                _ => return Err(t.bad(i, "threshold", "both threshold and threshold_text are given")),
            };
            Ok(Finding {
                rule: rules[i].to_string(),
                household_id: households[i].to_string(),
                village_code: villages[i],
                year: years[i] as i32,
                value,
                threshold,
            })
        })
        .collect()
}

pub fn read_households(t: &Table) -> Result<Vec<Household>> {
    let ids = t.required_strings("household_id")?;
    let villages = t.parsed_from_str::<domain::RegionCode>("village_code")?;
    let sizes = t.required_ints("size")?;
    let income = t.required_fen("income")?;
    let consumption = if t.has("consumption") { t.fen("consumption")? } else { vec![None; ids.len()] };
    let food = if t.has("food") { t.fen("food")? } else { vec![None; ids.len()] };
    (0..ids.len())
        .map(|i| {
            let size = u16::try_from(sizes[i])
                .ok()
                .filter(|s| (1..=99).contains(s))
                .ok_or_else(|| t.bad(i, "size", &format!("{} is not a household size (1 to 99)", sizes[i])))?;
            Ok(Household {
                household_id: ids[i].to_string(),
                village_code: villages[i],
                size,
                income: income[i],
                consumption: consumption[i],
                food: food[i],
            })
        })
        .collect()
}

pub fn read_members(t: &Table) -> Result<Vec<Member>> {
    let ids = t.parsed_from_str::<ResidentId>("person_id")?;
    let households = t.required_strings("household_id")?;
    let statuses = t.parsed_from_str::<domain::PovertyStatus>("status")?;
    Ok((0..ids.len())
        .map(|i| Member { person_id: ids[i], household_id: households[i].to_string(), status: statuses[i] })
        .collect())
}

pub fn read_claims(t: &Table) -> Result<Vec<Claim>> {
    let ids = t.required_strings("claim_id")?;
    let persons = t.parsed_from_str::<ResidentId>("person_id")?;
    let levels = t.parsed_from_str::<domain::FacilityLevel>("facility_level")?;
    let kinds = t.parsed_from_str::<domain::ClaimKind>("kind")?;
    let admitted = t.required_dates("admitted")?;
    let discharged = t.required_dates("discharged")?;
    let totals = t.required_fen("total_cost")?;
    let eligibles = t.required_fen("eligible_cost")?;
    let diagnoses = if t.has("diagnosis") { t.strings("diagnosis")? } else { vec![None; ids.len()] };
    let facilities = if t.has("facility_id") { t.strings("facility_id")? } else { vec![None; ids.len()] };
    (0..ids.len())
        .map(|i| {
            if eligibles[i] > totals[i] {
                return Err(t.bad(i, "eligible_cost", "is more than total_cost"));
            }
            if discharged[i] < admitted[i] {
                return Err(t.bad(i, "discharged", "is before admitted"));
            }
            Ok(Claim {
                claim_id: ids[i].to_string(),
                person_id: persons[i],
                facility_level: levels[i],
                kind: kinds[i],
                admitted: admitted[i],
                discharged: discharged[i],
                total_cost: totals[i],
                eligible_cost: eligibles[i],
                diagnosis: diagnoses[i].map(|d| d.trim().to_ascii_uppercase()).unwrap_or_default(),
                facility_id: facilities[i].unwrap_or("").to_string(),
                // The warnings read no referral; the exchange does not carry it.
                referred: false,
            })
        })
        .collect()
}

pub fn read_settled(t: &Table) -> Result<Vec<SettledCost>> {
    let persons = t.parsed_from_str::<ResidentId>("person_id")?;
    let years = t.required_ints("year")?;
    let oop = t.required_fen("out_of_pocket")?;
    Ok((0..persons.len())
        .map(|i| SettledCost { person_id: persons[i], year: years[i] as i32, out_of_pocket: oop[i] })
        .collect())
}
