//! The batch monitor of one year: households' measures (specs/monitoring.md,
//! "Measures, per household and year"), then every enabled rule over them.
//!
//! Plain data in, plain data out: the caller reads files or the store; this module
//! joins persons to households and settlements to persons, refuses data that cannot
//! be joined, and returns the alerts raised, sorted by rule then household, with the
//! households whose region has no threshold for the year listed, not guessed.

use crate::error::MonitorError;
use crate::rules::{base_context, Rule, RuleSet};
use crate::thresholds::ThresholdTable;
use cel_interpreter::Value;
use domain::{Catalogue, Claim, Fen, Household, Person, PovertyStatus, RegionCode, ResidentId};
use serde::Serialize;
use std::fmt;
use std::sync::Arc;

/// The out-of-pocket cost of one settled claim: what monitoring needs of a
/// settlement (specs/settlement.md, "Output").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettledCost {
    pub person_id: ResidentId,
    /// The policy year of the claim.
    pub year: i32,
    pub out_of_pocket: Fen,
}

/// What monitoring needs of a person: who, of which household, with which
/// status. Files and the store may carry more; monitoring reads no more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub person_id: ResidentId,
    pub household_id: String,
    pub status: PovertyStatus,
}

impl From<&Person> for Member {
    fn from(p: &Person) -> Self {
        Member { person_id: p.person_id, household_id: p.household_id.clone(), status: p.status }
    }
}

/// A figure an alert reports: money, or a text such as a diagnosis code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Figure {
    Money(Fen),
    Text(String),
}

impl fmt::Display for Figure {
    /// Money in yuan with two decimals; text as it is.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Figure::Money(m) => write!(f, "{m}"),
            Figure::Text(t) => f.write_str(t),
        }
    }
}

/// One alert raised by one rule for one household and year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: String,
    pub household_id: String,
    pub village_code: RegionCode,
    pub year: i32,
    pub value: Figure,
    pub threshold: Option<Figure>,
}

/// A household that had no threshold for the year: the rules that need one were
/// not applied to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingThreshold {
    pub household_id: String,
    pub village_code: RegionCode,
    pub year: i32,
}

impl fmt::Display for MissingThreshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "household {} (village {}): no threshold for {} is given for any prefix of the village code; rules that need rural_income or monitoring_line were not applied",
            self.household_id, self.village_code, self.year
        )
    }
}

/// A household's measures for a year. Money in fen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HouseholdMeasures {
    pub household_id: String,
    pub village_code: RegionCode,
    pub year: i32,
    pub size: u16,
    pub income: Fen,
    pub consumption: Option<Fen>,
    pub food: Option<Fen>,
    pub oop: Fen,
    /// `consumption` when given, else `income`.
    pub budget: Fen,
    /// `income / size`, rounded half up to the fen (for reports; rules compare exactly).
    pub per_capita_income: Fen,
    /// `(income - oop) / size`, rounded half up to the fen.
    pub per_capita_after: Fen,
    pub poor: bool,
    pub rural_income: Option<Fen>,
    pub monitoring_line: Option<Fen>,
    /// The diagnosis of the household's first serious-catalogue claim of the year,
    /// in `(discharged, claim_id)` order.
    pub serious_diagnosis: Option<String>,
}

/// What one run of the monitor gives.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MonitorResult {
    /// Sorted by rule, then household.
    pub alerts: Vec<Finding>,
    pub missing_thresholds: Vec<MissingThreshold>,
    /// In the households' input order.
    pub measures: Vec<HouseholdMeasures>,
}

type IntMap<K, V> = domain::FastMap<K, V>;

/// Measures every household for `year` and applies every enabled rule.
#[allow(clippy::too_many_arguments)]
pub fn monitor_year(
    year: i32,
    households: &[Household],
    persons: &[Member],
    claims: &[Claim],
    settlements: &[SettledCost],
    thresholds: &ThresholdTable,
    rules: &RuleSet,
    catalogue: &Catalogue,
) -> Result<MonitorResult, MonitorError> {
    let measures = measure_year(year, households, persons, claims, settlements, thresholds, catalogue)?;
    let missing_thresholds = measures
        .iter()
        .filter(|m| m.rural_income.is_none())
        .map(|m| MissingThreshold { household_id: m.household_id.clone(), village_code: m.village_code, year })
        .collect();
    let alerts = apply_rules(&measures, rules)?;
    Ok(MonitorResult { alerts, missing_thresholds, measures })
}

/// The measures of every household for `year`, in the households' order.
pub fn measure_year(
    year: i32,
    households: &[Household],
    persons: &[Member],
    claims: &[Claim],
    settlements: &[SettledCost],
    thresholds: &ThresholdTable,
    catalogue: &Catalogue,
) -> Result<Vec<HouseholdMeasures>, MonitorError> {
    let mut index: IntMap<&str, u32> = IntMap::default();
    index.reserve(households.len());
    for (i, h) in households.iter().enumerate() {
        if h.size == 0 {
            return Err(MonitorError::HouseholdSizeZero { household_id: h.household_id.clone() });
        }
        if index.insert(h.household_id.as_str(), i as u32).is_some() {
            return Err(MonitorError::DuplicateHousehold { household_id: h.household_id.clone() });
        }
    }
    let n = households.len();
    let mut poor = vec![false; n];
    let mut member_of: IntMap<ResidentId, u32> = IntMap::default();
    member_of.reserve(persons.len());
    for p in persons {
        let Some(&h) = index.get(p.household_id.as_str()) else {
            return Err(MonitorError::UnknownHousehold {
                person_id: p.person_id,
                household_id: p.household_id.clone(),
            });
        };
        if member_of.insert(p.person_id, h).is_some() {
            return Err(MonitorError::DuplicatePerson { person_id: p.person_id });
        }
        if p.status.is_poor() {
            poor[h as usize] = true;
        }
    }
    // Out-of-pocket sums and first serious claims are independent passes over the
    // person table: one thread each. A settlement error is reported before a
    // claim error, as a single pass in that order would.
    let (oop, first) = std::thread::scope(|scope| {
        let sums = scope.spawn(|| {
            let mut oop = vec![0i64; n];
            for s in settlements {
                let Some(&h) = member_of.get(&s.person_id) else {
                    return Err(MonitorError::SettlementForUnknownPerson { person_id: s.person_id, year: s.year });
                };
                if s.year == year {
                    oop[h as usize] += s.out_of_pocket.0;
                }
            }
            Ok(oop)
        });
        let first = first_serious_claims(year, claims, &member_of, catalogue);
        let oop = sums.join().expect("the out-of-pocket thread panicked");
        Ok::<_, MonitorError>((oop?, first?))
    })?;
    let mut out = Vec::with_capacity(n);
    for (i, h) in households.iter().enumerate() {
        let size = h.size as i64;
        let oop = Fen(oop[i]);
        let applied = thresholds.find(h.village_code, year);
        out.push(HouseholdMeasures {
            household_id: h.household_id.clone(),
            village_code: h.village_code,
            year,
            size: h.size,
            income: h.income,
            consumption: h.consumption,
            food: h.food,
            oop,
            budget: h.consumption.unwrap_or(h.income),
            per_capita_income: Fen(div_half_up(h.income.0, size)),
            per_capita_after: Fen(div_half_up(h.income.0 - oop.0, size)),
            poor: poor[i],
            rural_income: applied.map(|a| a.rural_income),
            monitoring_line: applied.map(|a| a.monitoring_line),
            serious_diagnosis: first.get(&(i as u32)).map(|c| c.diagnosis.clone()),
        });
    }
    Ok(out)
}

/// The first serious claim of each household in `(discharged, claim_id)` order.
fn first_serious_claims<'c>(
    year: i32,
    claims: &'c [Claim],
    member_of: &IntMap<ResidentId, u32>,
    catalogue: &Catalogue,
) -> Result<IntMap<u32, &'c Claim>, MonitorError> {
    let serious = SeriousMatcher::new(catalogue, year);
    // A year's claims carry a few thousand distinct codes: match each once.
    let mut matched: IntMap<&str, bool> = IntMap::default();
    let mut first: IntMap<u32, &Claim> = IntMap::default();
    for c in claims {
        if c.year() != year || c.diagnosis.is_empty() {
            continue;
        }
        let Some(&h) = member_of.get(&c.person_id) else {
            return Err(MonitorError::ClaimForUnknownPerson { person_id: c.person_id, claim_id: c.claim_id.clone() });
        };
        if !*matched.entry(c.diagnosis.as_str()).or_insert_with(|| serious.matches(&c.diagnosis)) {
            continue;
        }
        first
            .entry(h)
            .and_modify(|f| {
                if (c.discharged, c.claim_id.as_str()) < (f.discharged, f.claim_id.as_str()) {
                    *f = c;
                }
            })
            .or_insert(c);
    }
    Ok(first)
}

fn div_half_up(a: i64, b: i64) -> i64 {
    let (a, b) = (a as i128, b as i128);
    (2 * a + b).div_euclid(2 * b) as i64
}

/// Matches diagnosis codes against the catalogue's prefixes in force in a year,
/// by looking up each prefix of the code instead of scanning the catalogue.
struct SeriousMatcher {
    prefixes: std::collections::HashSet<String>,
    /// The distinct prefix lengths, so a code is looked up once per length.
    lengths: Vec<usize>,
}

impl SeriousMatcher {
    fn new(catalogue: &Catalogue, year: i32) -> SeriousMatcher {
        let prefixes: std::collections::HashSet<String> = catalogue
            .entries
            .iter()
            .filter(|e| e.since.map(|s| s <= year).unwrap_or(true))
            .flat_map(|e| e.icd10_prefixes.iter().map(|p| p.to_ascii_uppercase()))
            .collect();
        let mut lengths: Vec<usize> = prefixes.iter().map(|p| p.len()).collect();
        lengths.sort_unstable();
        lengths.dedup();
        SeriousMatcher { prefixes, lengths }
    }

    fn matches(&self, code: &str) -> bool {
        let code = code.trim();
        self.lengths.iter().any(|&l| l <= code.len() && code.is_char_boundary(l) && self.prefixes.contains(&code[..l]))
    }
}

/// Applies the enabled rules to measured households, on all cores; the alerts come
/// back sorted by rule, then household.
pub fn apply_rules(measures: &[HouseholdMeasures], rules: &RuleSet) -> Result<Vec<Finding>, MonitorError> {
    let enabled: Vec<&Rule> = rules.enabled().collect();
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(16);
    let chunk = measures.len().div_ceil(threads).max(1024);
    let mut alerts: Vec<Finding> = std::thread::scope(|scope| {
        let handles: Vec<_> =
            measures.chunks(chunk).map(|part| scope.spawn(|| evaluate_chunk(part, &enabled))).collect();
        let mut all = Vec::new();
        for h in handles {
            all.extend(h.join().expect("a rule evaluation thread panicked")?);
        }
        Ok::<_, MonitorError>(all)
    })?;
    alerts.sort_by(|a, b| a.rule.cmp(&b.rule).then_with(|| a.household_id.cmp(&b.household_id)));
    Ok(alerts)
}

fn evaluate_chunk(measures: &[HouseholdMeasures], rules: &[&Rule]) -> Result<Vec<Finding>, MonitorError> {
    let mut ctx = base_context();
    let empty = Value::String(Arc::new(String::new()));
    let mut out = Vec::new();
    // Only the measures some rule reads are handed to CEL: each costs a map insert
    // per household.
    let used: std::collections::HashSet<&str> = rules.iter().flat_map(|r| r.variables()).collect();
    let set = |ctx: &mut cel_interpreter::Context, name: &'static str, v: Value| {
        if used.contains(name) {
            ctx.add_variable_from_value(name, v);
        }
    };
    for m in measures {
        let ctx = &mut ctx;
        set(ctx, "oop", Value::Int(m.oop.0));
        set(ctx, "income", Value::Int(m.income.0));
        set(ctx, "consumption", Value::Int(m.consumption.unwrap_or(Fen::ZERO).0));
        set(ctx, "has_consumption", Value::Bool(m.consumption.is_some()));
        set(ctx, "food", Value::Int(m.food.unwrap_or(Fen::ZERO).0));
        set(ctx, "budget", Value::Int(m.budget.0));
        set(ctx, "size", Value::Int(m.size as i64));
        set(ctx, "per_capita_income", Value::Int(m.per_capita_income.0));
        set(ctx, "per_capita_after", Value::Int(m.per_capita_after.0));
        set(ctx, "poor", Value::Bool(m.poor));
        set(ctx, "year", Value::Int(m.year as i64));
        let serious = match &m.serious_diagnosis {
            Some(d) => Value::String(Arc::new(d.clone())),
            None => empty.clone(),
        };
        set(ctx, "serious_diagnosis", serious);
        let has_threshold = m.rural_income.is_some();
        if let (Some(r), Some(l)) = (m.rural_income, m.monitoring_line) {
            set(ctx, "rural_income", Value::Int(r.0));
            set(ctx, "monitoring_line", Value::Int(l.0));
        }
        for rule in rules {
            if !rule.who.admits(m.poor) || (!has_threshold && rule.needs_threshold()) {
                continue;
            }
            if let Some(f) = rule.factor {
                set(ctx, "factor", Value::Int(f));
            }
            let fail = |message: String| MonitorError::Evaluation {
                rule: rule.name.clone(),
                household_id: m.household_id.clone(),
                message,
            };
            let raised = match rule.condition.eval(ctx) {
                Ok(Value::Bool(b)) => b,
                Ok(other) => return Err(fail(format!("the condition gave {other:?}, not true or false"))),
                Err(e) => return Err(fail(format!("the condition failed: {e}"))),
            };
            if !raised {
                continue;
            }
            let value = figure(rule.value.eval(ctx)).map_err(|e| fail(format!("the value {e}")))?;
            let threshold = match &rule.threshold {
                Some(t) => Some(figure(t.eval(ctx)).map_err(|e| fail(format!("the threshold {e}")))?),
                None => None,
            };
            out.push(Finding {
                rule: rule.name.clone(),
                household_id: m.household_id.clone(),
                village_code: m.village_code,
                year: m.year,
                value,
                threshold,
            });
        }
    }
    Ok(out)
}

fn figure(v: Result<Value, cel_interpreter::ExecutionError>) -> Result<Figure, String> {
    match v {
        Ok(Value::Int(i)) => Ok(Figure::Money(Fen(i))),
        Ok(Value::UInt(u)) => i64::try_from(u).map(|i| Figure::Money(Fen(i))).map_err(|_| "is too large".to_string()),
        Ok(Value::String(s)) => Ok(Figure::Text(s.as_str().to_string())),
        Ok(other) => Err(format!("gave {other:?}; a figure is an integer in fen or a text")),
        Err(e) => Err(format!("failed: {e}")),
    }
}
