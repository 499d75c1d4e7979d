//! The batch monitor of one year: households' measures (docs/monitoring.md,
//! "Measures, per household and year"), then every enabled rule over them.
//!
//! Plain data in, plain data out: the caller reads files or the store; this module
//! joins persons to households and settlements to persons, refuses data that cannot
//! be joined, and returns the alerts raised, sorted by rule then household, with the
//! households whose region has no threshold for the year listed, not guessed.

use crate::compile::{Env, Fast, Slot};
use crate::error::MonitorError;
use crate::rules::{base_context, Expr, Rule, RuleSet};
use crate::thresholds::{Applied, ThresholdTable};
use cel_interpreter::Value;
use chrono::NaiveDate;
pub use domain::alert::{Figure, Finding, Member, SettledCost};
use domain::{Catalogue, Claim, Fen, Household, RegionCode, ResidentId};
use serde::Serialize;
use std::fmt;
use std::sync::Arc;

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

/// What [`find_alerts`] gives: [`MonitorResult`] without the measures.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Alerts {
    /// Sorted by rule, then household.
    pub alerts: Vec<Finding>,
    pub missing_thresholds: Vec<MissingThreshold>,
    /// How many households were measured.
    pub households: usize,
}

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
    let (found, measures) =
        run_year(year, households, persons, claims, settlements, thresholds, rules, catalogue, true)?;
    Ok(MonitorResult { alerts: found.alerts, missing_thresholds: found.missing_thresholds, measures })
}

/// [`monitor_year`] for callers that need the alerts and not every household's
/// measures (the batch command): the same alerts, in less memory and time.
#[allow(clippy::too_many_arguments)]
pub fn find_alerts(
    year: i32,
    households: &[Household],
    persons: &[Member],
    claims: &[Claim],
    settlements: &[SettledCost],
    thresholds: &ThresholdTable,
    rules: &RuleSet,
    catalogue: &Catalogue,
) -> Result<Alerts, MonitorError> {
    let (found, _) = run_year(year, households, persons, claims, settlements, thresholds, rules, catalogue, false)?;
    Ok(found)
}

#[allow(clippy::too_many_arguments)]
fn run_year(
    year: i32,
    households: &[Household],
    persons: &[Member],
    claims: &[Claim],
    settlements: &[SettledCost],
    thresholds: &ThresholdTable,
    rules: &RuleSet,
    catalogue: &Catalogue,
    keep_measures: bool,
) -> Result<(Alerts, Vec<HouseholdMeasures>), MonitorError> {
    let joined = join_year(year, households, persons, claims, settlements, catalogue)?;
    let enabled: Vec<&Rule> = rules.enabled().collect();
    // Each household is measured and judged at once, while its measures are in
    // the cache; the households are split over the cores.
    let runs = in_parallel(households.len(), |range| {
        let mut judge = Judge::new(&enabled);
        let mut thresholds = ThresholdMemo::new(thresholds);
        let mut measures = Vec::with_capacity(if keep_measures { range.len() } else { 0 });
        let mut missing = Vec::new();
        for i in range {
            let m = joined.measure(i, households, &mut thresholds);
            judge.judge(i, &m)?;
            if m.rural_income.is_none() {
                missing.push(MissingThreshold {
                    household_id: m.household_id.to_string(),
                    village_code: m.village_code,
                    year,
                });
            }
            if keep_measures {
                measures.push(m.to_owned());
            }
        }
        Ok((measures, missing, judge.found))
    })?;
    let mut measures: Vec<HouseholdMeasures> = Vec::new();
    let mut missing_thresholds = Vec::new();
    let mut found = Vec::with_capacity(runs.len());
    for (m, missing, f) in runs {
        if measures.is_empty() {
            measures = m;
        } else {
            measures.extend(m);
        }
        missing_thresholds.extend(missing);
        found.push(f);
    }
    let alerts =
        sort_alerts(&enabled, found, |i| (households[i].household_id.as_str(), households[i].village_code, year));
    Ok((Alerts { alerts, missing_thresholds, households: households.len() }, measures))
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
    let joined = join_year(year, households, persons, claims, settlements, catalogue)?;
    let mut thresholds = ThresholdMemo::new(thresholds);
    Ok((0..households.len()).map(|i| joined.measure(i, households, &mut thresholds).to_owned()).collect())
}

/// Runs `work` over `0..n` split into one run of indices per core (at least 1024
/// each), and gives the results in the runs' order, or the first run's error.
fn in_parallel<T: Send>(
    n: usize,
    work: impl Fn(std::ops::Range<usize>) -> Result<T, MonitorError> + Sync,
) -> Result<Vec<T>, MonitorError> {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(16);
    let chunk = n.div_ceil(threads).max(1024);
    let work = &work;
    std::thread::scope(|scope| {
        let handles: Vec<_> =
            (0..n).step_by(chunk).map(|start| scope.spawn(move || work(start..(start + chunk).min(n)))).collect();
        handles.into_iter().map(|h| h.join().expect("a monitoring thread panicked")).collect()
    })
}

/// A household's measures as the rules see them, borrowing its texts.
#[derive(Debug, Clone, Copy)]
struct Measured<'a> {
    household_id: &'a str,
    village_code: RegionCode,
    year: i32,
    size: u16,
    income: Fen,
    consumption: Option<Fen>,
    food: Option<Fen>,
    oop: Fen,
    budget: Fen,
    per_capita_income: Fen,
    per_capita_after: Fen,
    poor: bool,
    rural_income: Option<Fen>,
    monitoring_line: Option<Fen>,
    serious_diagnosis: Option<&'a str>,
}

impl<'a> Measured<'a> {
    fn of(m: &'a HouseholdMeasures) -> Measured<'a> {
        Measured {
            household_id: &m.household_id,
            village_code: m.village_code,
            year: m.year,
            size: m.size,
            income: m.income,
            consumption: m.consumption,
            food: m.food,
            oop: m.oop,
            budget: m.budget,
            per_capita_income: m.per_capita_income,
            per_capita_after: m.per_capita_after,
            poor: m.poor,
            rural_income: m.rural_income,
            monitoring_line: m.monitoring_line,
            serious_diagnosis: m.serious_diagnosis.as_deref(),
        }
    }

    fn to_owned(self) -> HouseholdMeasures {
        HouseholdMeasures {
            household_id: self.household_id.to_string(),
            village_code: self.village_code,
            year: self.year,
            size: self.size,
            income: self.income,
            consumption: self.consumption,
            food: self.food,
            oop: self.oop,
            budget: self.budget,
            per_capita_income: self.per_capita_income,
            per_capita_after: self.per_capita_after,
            poor: self.poor,
            rural_income: self.rural_income,
            monitoring_line: self.monitoring_line,
            serious_diagnosis: self.serious_diagnosis.map(str::to_string),
        }
    }
}

/// What the households' measures are made of: persons, settlements and claims
/// joined to households.
struct Joined<'c> {
    year: i32,
    poor: Vec<bool>,
    /// Out-of-pocket sums in fen.
    oop: Vec<i64>,
    /// The diagnosis of the first serious claim, if any.
    serious: Vec<Option<&'c str>>,
}

/// [`ThresholdTable::find`] remembered per village: villages are few.
struct ThresholdMemo<'t> {
    table: &'t ThresholdTable,
    found: IntMap<RegionCode, Option<Applied>>,
}

impl<'t> ThresholdMemo<'t> {
    fn new(table: &'t ThresholdTable) -> ThresholdMemo<'t> {
        ThresholdMemo { table, found: IntMap::default() }
    }

    fn find(&mut self, village: RegionCode, year: i32) -> Option<Applied> {
        *self.found.entry(village).or_insert_with(|| self.table.find(village, year))
    }
}

impl<'c> Joined<'c> {
    /// The measures of household `i`.
    fn measure<'h>(&self, i: usize, households: &'h [Household], thresholds: &mut ThresholdMemo) -> Measured<'h>
    where
        'c: 'h,
    {
        let h = &households[i];
        let size = h.size as i64;
        let oop = Fen(self.oop[i]);
        let applied = thresholds.find(h.village_code, self.year);
        Measured {
            household_id: &h.household_id,
            village_code: h.village_code,
            year: self.year,
            size: h.size,
            income: h.income,
            consumption: h.consumption,
            food: h.food,
            oop,
            budget: h.consumption.unwrap_or(h.income),
            per_capita_income: Fen(div_half_up(h.income.0, size)),
            per_capita_after: Fen(div_half_up(h.income.0 - oop.0, size)),
            poor: self.poor[i],
            rural_income: applied.map(|a| a.rural_income),
            monitoring_line: applied.map(|a| a.monitoring_line),
            serious_diagnosis: self.serious[i],
        }
    }
}

/// Joins persons to households, and settlements and claims to persons, refusing
/// what cannot be joined.
fn join_year<'c>(
    year: i32,
    households: &[Household],
    persons: &[Member],
    claims: &'c [Claim],
    settlements: &[SettledCost],
    catalogue: &Catalogue,
) -> Result<Joined<'c>, MonitorError> {
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
    let mut member_of = PersonIndex::with_capacity(persons.len());
    // Persons usually come grouped by household, in the households' order: try the
    // last person's household and the next one before the hash table.
    let mut last = usize::MAX;
    for p in persons {
        let id = p.household_id.as_str();
        let h = if households.get(last).is_some_and(|h| h.household_id == id) {
            last
        } else if households.get(last.wrapping_add(1)).is_some_and(|h| h.household_id == id) {
            last.wrapping_add(1)
        } else {
            match index.get(id) {
                Some(&h) => h as usize,
                None => {
                    return Err(MonitorError::UnknownHousehold {
                        person_id: p.person_id,
                        household_id: p.household_id.clone(),
                    })
                }
            }
        };
        last = h;
        if !member_of.insert(p.person_id, h as u32) {
            return Err(MonitorError::DuplicatePerson { person_id: p.person_id });
        }
        if p.status.is_poor() {
            poor[h] = true;
        }
    }
    drop(index);
    // Out-of-pocket sums and first serious claims are independent passes over the
    // person table: one thread each. A settlement error is reported before a
    // claim error, as a single pass in that order would.
    let (oop, serious) = std::thread::scope(|scope| {
        let sums = scope.spawn(|| {
            let mut oop = vec![0i64; n];
            in_batches(
                settlements,
                &member_of,
                |s| s.person_id,
                |_, s, h| {
                    let Some(h) = h else {
                        return Err(MonitorError::SettlementForUnknownPerson { person_id: s.person_id, year: s.year });
                    };
                    if s.year == year {
                        oop[h as usize] += s.out_of_pocket.0;
                    }
                    Ok(())
                },
            )?;
            Ok(oop)
        });
        let first = first_serious_claims(year, n, claims, &member_of, catalogue);
        let oop = sums.join().expect("the out-of-pocket thread panicked");
        Ok::<_, MonitorError>((oop?, first?))
    })?;
    Ok(Joined { year, poor, oop, serious })
}

/// Resident ID -> household index, for the lookups of every settlement and claim:
/// an open-addressing table of (ID, household) pairs, probed linearly, at most
/// two-thirds full, so that a lookup usually reads one cache line where a general
/// map reads its control bytes and then its slot.
struct PersonIndex {
    slots: Vec<(u64, u32)>,
    mask: usize,
    /// The household of the one key that marks an empty slot, if that is a person.
    empty_key: Option<u32>,
}

impl PersonIndex {
    /// Marks an empty slot. A valid resident ID is below 10^17, so never this.
    const EMPTY: u64 = u64::MAX;

    fn with_capacity(n: usize) -> PersonIndex {
        let size = (n + n / 2).max(16).next_power_of_two();
        PersonIndex { slots: vec![(Self::EMPTY, 0); size], mask: size - 1, empty_key: None }
    }

    fn slot(&self, key: u64) -> usize {
        // MurmurHash3's 64-bit finaliser: serial IDs spread over the table.
        let mut x = key;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        x ^= x >> 33;
        x as usize & self.mask
    }

    /// Adds a person; false if the ID is there already.
    fn insert(&mut self, id: ResidentId, household: u32) -> bool {
        let key = id.as_u64();
        if key == Self::EMPTY {
            return self.empty_key.replace(household).is_none();
        }
        let mut i = self.slot(key);
        loop {
            let (k, _) = self.slots[i];
            if k == key {
                return false;
            }
            if k == Self::EMPTY {
                self.slots[i] = (key, household);
                return true;
            }
            i = (i + 1) & self.mask;
        }
    }

    fn get(&self, id: ResidentId) -> Option<u32> {
        let key = id.as_u64();
        if key == Self::EMPTY {
            return self.empty_key;
        }
        let mut i = self.slot(key);
        loop {
            let (k, h) = self.slots[i];
            if k == key {
                return Some(h);
            }
            if k == Self::EMPTY {
                return None;
            }
            i = (i + 1) & self.mask;
        }
    }
}

/// Looks up the households of `items` in batches, handing each item with its index
/// and household to `each`: the lookups of a batch are independent of each other,
/// so the processor waits for their cache misses together, not one by one.
fn in_batches<'a, T, E>(
    items: &'a [T],
    member_of: &PersonIndex,
    id: impl Fn(&T) -> ResidentId,
    mut each: impl FnMut(usize, &'a T, Option<u32>) -> Result<(), E>,
) -> Result<(), E> {
    const BATCH: usize = 32;
    let mut found = [None; BATCH];
    for (b, part) in items.chunks(BATCH).enumerate() {
        for (f, item) in found.iter_mut().zip(part) {
            *f = member_of.get(id(item));
        }
        for (k, (item, &h)) in part.iter().zip(&found).enumerate() {
            each(b * BATCH + k, item, h)?;
        }
    }
    Ok(())
}

/// The diagnosis of the first serious claim of each of `n` households in
/// `(discharged, claim_id)` order, by household index.
fn first_serious_claims<'c>(
    year: i32,
    n: usize,
    claims: &'c [Claim],
    member_of: &PersonIndex,
    catalogue: &Catalogue,
) -> Result<Vec<Option<&'c str>>, MonitorError> {
    let serious = SeriousMatcher::new(catalogue, year);
    // A year's claims carry a few thousand distinct codes: match each once.
    let mut matched: IntMap<&str, bool> = IntMap::default();
    // The discharge day beside the claim's index, so that comparing with the first
    // claim so far rarely has to read that claim.
    let mut first: Vec<Option<(NaiveDate, usize)>> = vec![None; n];
    in_batches(
        claims,
        member_of,
        |c| c.person_id,
        |i, c, h| {
            if c.year() != year || c.diagnosis.is_empty() {
                return Ok(());
            }
            let Some(h) = h else {
                return Err(MonitorError::ClaimForUnknownPerson {
                    person_id: c.person_id,
                    claim_id: c.claim_id.clone(),
                });
            };
            if !*matched.entry(c.diagnosis.as_str()).or_insert_with(|| serious.matches(&c.diagnosis)) {
                return Ok(());
            }
            let f = &mut first[h as usize];
            let earlier = match *f {
                None => true,
                Some((day, j)) => {
                    c.discharged < day || (c.discharged == day && c.claim_id.as_str() < claims[j].claim_id.as_str())
                }
            };
            if earlier {
                *f = Some((c.discharged, i));
            }
            Ok(())
        },
    )?;
    Ok(first.into_iter().map(|f| f.map(|(_, i)| claims[i].diagnosis.as_str())).collect())
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
    let found = in_parallel(measures.len(), |range| {
        let mut judge = Judge::new(&enabled);
        for i in range {
            judge.judge(i, &Measured::of(&measures[i]))?;
        }
        Ok(judge.found)
    })?;
    Ok(sort_alerts(&enabled, found, |i| {
        (measures[i].household_id.as_str(), measures[i].village_code, measures[i].year)
    }))
}

/// An alert before it is a [`Finding`]: the household by index.
struct Hit {
    household: usize,
    value: Figure,
    threshold: Option<Figure>,
}

/// The alerts of runs of households, each run's rule by rule (in `rules`' order)
/// and each rule's in the households' order, as findings sorted by rule name,
/// then household. `household` gives a household's ID, village and year.
fn sort_alerts<'h>(
    rules: &[&Rule],
    runs: Vec<Vec<Vec<Hit>>>,
    household: impl Fn(usize) -> (&'h str, RegionCode, i32),
) -> Vec<Finding> {
    let mut by_rule: Vec<Vec<Hit>> = rules.iter().map(|_| Vec::new()).collect();
    for run in runs {
        for (all, part) in by_rule.iter_mut().zip(run) {
            if all.is_empty() {
                *all = part;
            } else {
                all.extend(part);
            }
        }
    }
    // Rule names are unique and a household is measured once, so (rule, household)
    // orders the alerts totally: sorting each rule's alerts by household and the
    // rules by name gives the one order there is. Households often come sorted,
    // which the sort finds in one pass.
    for hits in &mut by_rule {
        hits.sort_by(|a, b| household(a.household).0.cmp(household(b.household).0));
    }
    let mut order: Vec<usize> = (0..rules.len()).collect();
    order.sort_by(|&a, &b| rules[a].name.cmp(&rules[b].name));
    let mut alerts = Vec::with_capacity(by_rule.iter().map(Vec::len).sum());
    for i in order {
        for hit in std::mem::take(&mut by_rule[i]) {
            let (id, village_code, year) = household(hit.household);
            alerts.push(Finding {
                rule: rules[i].name.clone(),
                household_id: id.to_string(),
                village_code,
                year,
                value: hit.value,
                threshold: hit.threshold,
            });
        }
    }
    alerts
}

/// The measures a rule may name, as indices into [`MEASURE_NAMES`].
const MEASURE_NAMES: [&str; 14] = [
    "oop",
    "income",
    "consumption",
    "has_consumption",
    "food",
    "budget",
    "size",
    "per_capita_income",
    "per_capita_after",
    "poor",
    "year",
    "serious_diagnosis",
    "rural_income",
    "monitoring_line",
];

/// Hands a household's measures to CEL: only those some rule names, as each costs
/// a map insert.
struct CelMeasures {
    used: [bool; MEASURE_NAMES.len()],
    empty: Value,
}

impl CelMeasures {
    fn new(rules: &[&Rule]) -> CelMeasures {
        let mut used = [false; MEASURE_NAMES.len()];
        for name in rules.iter().flat_map(|r| r.variables()) {
            if let Some(i) = MEASURE_NAMES.iter().position(|m| *m == name) {
                used[i] = true;
            }
        }
        CelMeasures { used, empty: Value::String(Arc::new(String::new())) }
    }

    fn fill(&self, ctx: &mut cel_interpreter::Context, m: &Measured) {
        let mut set = |i: usize, v: Value| {
            if self.used[i] {
                ctx.add_variable_from_value(MEASURE_NAMES[i], v);
            }
        };
        set(0, Value::Int(m.oop.0));
        set(1, Value::Int(m.income.0));
        set(2, Value::Int(m.consumption.unwrap_or(Fen::ZERO).0));
        set(3, Value::Bool(m.consumption.is_some()));
        set(4, Value::Int(m.food.unwrap_or(Fen::ZERO).0));
        set(5, Value::Int(m.budget.0));
        set(6, Value::Int(m.size as i64));
        set(7, Value::Int(m.per_capita_income.0));
        set(8, Value::Int(m.per_capita_after.0));
        set(9, Value::Bool(m.poor));
        set(10, Value::Int(m.year as i64));
        if self.used[11] {
            let serious = match m.serious_diagnosis {
                Some(d) => Value::String(Arc::new(d.to_string())),
                None => self.empty.clone(),
            };
            set(11, serious);
        }
        // Without a threshold the rules that name these are not evaluated.
        if let (Some(r), Some(l)) = (m.rural_income, m.monitoring_line) {
            set(12, Value::Int(r.0));
            set(13, Value::Int(l.0));
        }
    }
}

/// Applies rules to one household after another, keeping the alerts rule by rule
/// (in the rules' order), each rule's in the households' order.
struct Judge<'r> {
    rules: &'r [&'r Rule],
    ctx: cel_interpreter::Context<'static>,
    cel: CelMeasures,
    found: Vec<Vec<Hit>>,
}

impl<'r> Judge<'r> {
    fn new(rules: &'r [&'r Rule]) -> Judge<'r> {
        Judge {
            rules,
            ctx: base_context(),
            cel: CelMeasures::new(rules),
            found: rules.iter().map(|_| Vec::new()).collect(),
        }
    }

    /// Applies the rules to household `i`.
    fn judge(&mut self, i: usize, m: &Measured) -> Result<(), MonitorError> {
        let Judge { rules, ctx, cel, found } = self;
        // Compiled expressions read the measures from `env`; CEL gets them only
        // when some expression needs it (an interpreted one, or a failure).
        let mut filled = false;
        let mut env = Env::new(m.serious_diagnosis.unwrap_or(""));
        env.set(Slot::Oop, m.oop.0);
        env.set(Slot::Income, m.income.0);
        env.set(Slot::Consumption, m.consumption.unwrap_or(Fen::ZERO).0);
        env.set(Slot::HasConsumption, m.consumption.is_some() as i64);
        env.set(Slot::Food, m.food.unwrap_or(Fen::ZERO).0);
        env.set(Slot::Budget, m.budget.0);
        env.set(Slot::Size, m.size as i64);
        env.set(Slot::PerCapitaIncome, m.per_capita_income.0);
        env.set(Slot::PerCapitaAfter, m.per_capita_after.0);
        env.set(Slot::Poor, m.poor as i64);
        env.set(Slot::Year, m.year as i64);
        // Without a threshold the rules that name these are not evaluated.
        env.set(Slot::RuralIncome, m.rural_income.unwrap_or(Fen::ZERO).0);
        env.set(Slot::MonitoringLine, m.monitoring_line.unwrap_or(Fen::ZERO).0);
        let has_threshold = m.rural_income.is_some();
        for (rule, out) in rules.iter().zip(found.iter_mut()) {
            if !rule.who.admits(m.poor) || (!has_threshold && rule.needs_threshold()) {
                continue;
            }
            // A rule names `factor` only when it has one.
            env.set(Slot::Factor, rule.factor.unwrap_or(0));
            let fail = |message: String| MonitorError::Evaluation {
                rule: rule.name.clone(),
                household_id: m.household_id.to_string(),
                message,
            };
            let mut cel_eval = |expr: &Expr| -> Result<Value, cel_interpreter::ExecutionError> {
                if !filled {
                    cel.fill(ctx, m);
                    filled = true;
                }
                if let Some(f) = rule.factor {
                    ctx.add_variable_from_value("factor", Value::Int(f));
                }
                expr.eval(ctx)
            };
            let raised = match rule.condition.compiled().and_then(|c| c.eval_bool(&env)) {
                Some(b) => b,
                None => match cel_eval(&rule.condition) {
                    Ok(Value::Bool(b)) => b,
                    Ok(other) => return Err(fail(format!("the condition gave {other:?}, not true or false"))),
                    Err(e) => return Err(fail(format!("the condition failed: {e}"))),
                },
            };
            if !raised {
                continue;
            }
            let mut figure_of = |expr: &Expr| match expr.compiled().and_then(|c| c.eval(&env)) {
                Some(Fast::Int(i)) => Ok(Figure::Money(Fen(i))),
                Some(Fast::Text(t)) => Ok(Figure::Text(t.to_string())),
                // Anything else is not a figure: CEL says what it is.
                _ => figure(cel_eval(expr)),
            };
            let value = figure_of(&rule.value).map_err(|e| fail(format!("the value {e}")))?;
            let threshold = match &rule.threshold {
                Some(t) => Some(figure_of(t).map_err(|e| fail(format!("the threshold {e}")))?),
                None => None,
            };
            out.push(Hit { household: i, value, threshold });
        }
        Ok(())
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_person_index_finds_what_was_put_and_refuses_twice() {
        let ids: Vec<ResidentId> = (0..5000u16)
            .map(|i| {
                let birth = chrono::NaiveDate::from_ymd_opt(1960 + (i / 1000) as i32, 1, 1).unwrap();
                ResidentId::from_parts(341122, birth, i % 1000).unwrap()
            })
            .collect();
        let mut index = PersonIndex::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            assert!(index.insert(*id, i as u32));
        }
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(index.get(*id), Some(i as u32));
            assert!(!index.insert(*id, 0));
        }
        let other = ResidentId::from_parts(341122, chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap(), 1).unwrap();
        assert_eq!(index.get(other), None);
    }

    /// `n` households' measures around the thresholds of the default rules: about
    /// one alert a household, as in `bench/monitor.sh`, or with `quiet` few alerts.
    fn synthetic_measures(n: usize, quiet: bool) -> Vec<HouseholdMeasures> {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut below = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let village = RegionCode::parse("341122100201").unwrap();
        (0..n)
            .map(|i| {
                let size = 1 + below(6) as u16;
                let income = size as i64 * (500_000 + below(400_000) as i64);
                let consumption = (below(3) > 0).then(|| Fen(income / 100 * (60 + below(40) as i64)));
                let oop = match below(4) {
                    _ if quiet => below(60_000) as i64,
                    0 => 0,
                    1 => below(100_000) as i64,
                    _ => below(3_000_000) as i64,
                };
                let threshold = below(10) > 0;
                HouseholdMeasures {
                    household_id: format!("H{i:07}"),
                    village_code: village,
                    year: 2024,
                    size,
                    income: Fen(income),
                    consumption,
                    food: None,
                    oop: Fen(oop),
                    budget: consumption.unwrap_or(Fen(income)),
                    per_capita_income: Fen(div_half_up(income, size as i64)),
                    per_capita_after: Fen(div_half_up(income - oop, size as i64)),
                    poor: below(3) == 0,
                    rural_income: threshold.then_some(Fen(1_957_501)),
                    monitoring_line: threshold.then_some(Fen(700_000)),
                    serious_diagnosis: (below(20) == 0).then(|| "C16.9".to_string()),
                }
            })
            .collect()
    }

    /// Nanoseconds a household for `rules` over `measures`, on one thread, best of
    /// `rounds`, and the alerts raised.
    fn time_rules(rules: &RuleSet, measures: &[HouseholdMeasures], rounds: usize) -> (f64, usize) {
        let enabled: Vec<&Rule> = rules.enabled().collect();
        let mut best = f64::INFINITY;
        let mut alerts = 0;
        for _ in 0..rounds {
            let start = std::time::Instant::now();
            let mut judge = Judge::new(&enabled);
            for (i, m) in measures.iter().enumerate() {
                judge.judge(i, &Measured::of(m)).unwrap();
            }
            let found = std::hint::black_box(judge.found);
            best = best.min(start.elapsed().as_secs_f64() * 1e9 / measures.len() as f64);
            alerts = found.iter().map(Vec::len).sum();
        }
        (best, alerts)
    }

    /// The default rules written otherwise (blanks, parentheses, operands swapped).
    const EDITED_RULES: &str = r#"
        [[rule]]
        name = "medical_burden_poor"
        condition = "rural_income*factor < (oop * 10000)"
        [[rule]]
        name = "catastrophic_10"
        condition = "(oop * 10000) > (budget * factor)"
        threshold = "round_div( budget*factor , 10000 )"
        [[rule]]
        name = "impoverishing"
        condition = "income >= size * monitoring_line && (income - oop) < size * monitoring_line"
    "#;

    /// The timing of the rules over two million households, single-threaded:
    /// `cargo test -p monitor --release --lib -- --ignored --nocapture timing`.
    #[test]
    #[ignore = "a timing, not a test: run it in release"]
    fn timing_of_the_rules() {
        for quiet in [false, true] {
            let measures = synthetic_measures(2_000_000, quiet);
            for (name, rules) in [
                ("shipped rules", RuleSet::defaults()),
                ("edited rules", RuleSet::from_region_toml(EDITED_RULES).unwrap()),
            ] {
                let (ns, alerts) = time_rules(&rules, &measures, 5);
                println!("{name}: {ns:.1} ns a household, {alerts} alerts over {} households", measures.len());
            }
        }
    }
}
