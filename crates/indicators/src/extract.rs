//! Facts from plain data: the registry (households, persons, family-doctor
//! contracts), settled claims, alerts and village reach. Each function turns
//! records into [`Fact`] deltas for the cube; nothing here reads a file.
//!
//! Distinct counts (persons treated, households warned) are counted once a year,
//! in the month they are first seen. A ledger ([`FirstSeen`]) remembers that
//! month, so that a later delta holding an earlier event moves the count rather
//! than counting twice: an incremental refresh then equals a rebuild.

use crate::cube::Fact;
use crate::measure::{Measure, Slice};
use crate::period::Month;
use chrono::NaiveDate;
use domain::{
    Catalogue, Claim, ClaimKind, FacilityLevel, Fen, Household, Person, PovertyStatus, RegionCode, RegionLevel,
    ResidentId,
};
use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use thiserror::Error;

/// Data that cannot be turned into facts.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ExtractError {
    #[error("person {person_id} belongs to household {household_id}, which is not in the households")]
    UnknownHousehold { person_id: String, household_id: String },
    #[error("{count} claim(s) name a person who is not in the registry (first: claim {claim_id}, person {person_id})")]
    UnknownPerson { count: usize, claim_id: String, person_id: String },
    #[error("{count} alert(s) name a household that is not in the registry (first: {household_id})")]
    UnknownAlertHousehold { count: usize, household_id: String },
}

/// The funds of one-stop settlement, in payment order, and the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fund {
    Basic,
    Critical,
    Assistance,
    SafetyNet,
    /// A tier of another name.
    Other,
}

impl Fund {
    pub const ALL: [Fund; 5] = [Fund::Basic, Fund::Critical, Fund::Assistance, Fund::SafetyNet, Fund::Other];

    /// The fund a policy tier's name pays from (docs/settlement.md names them
    /// `basic`, `critical`, `assistance`, `safety_net`).
    pub fn of_tier(name: &str) -> Fund {
        match name.trim() {
            "basic" => Fund::Basic,
            "critical" => Fund::Critical,
            "assistance" => Fund::Assistance,
            "safety_net" => Fund::SafetyNet,
            _ => Fund::Other,
        }
    }

    pub fn measure(self) -> Measure {
        match self {
            Fund::Basic => Measure::PaidBasic,
            Fund::Critical => Measure::PaidCritical,
            Fund::Assistance => Measure::PaidAssistance,
            Fund::SafetyNet => Measure::PaidSafetyNet,
            Fund::Other => Measure::PaidOther,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Fund::Basic => "basic",
            Fund::Critical => "critical",
            Fund::Assistance => "assistance",
            Fund::SafetyNet => "safety_net",
            Fund::Other => "other",
        }
    }
}

/// What each fund paid on a claim, in fen, by [`Fund`] order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FundAmounts(pub [i64; 5]);

impl FundAmounts {
    /// From a settlement's payments, one per tier name.
    pub fn from_tiers<S: AsRef<str>>(names: &[S], payments: &[Fen]) -> FundAmounts {
        let mut a = [0i64; 5];
        for (n, p) in names.iter().zip(payments) {
            a[Fund::of_tier(n.as_ref()) as usize] += p.0;
        }
        FundAmounts(a)
    }

    pub fn get(&self, f: Fund) -> i64 {
        self.0[f as usize]
    }

    pub fn total(&self) -> i64 {
        self.0.iter().sum()
    }
}

/// A claim with its settlement.
#[derive(Debug, Clone, Copy)]
pub struct SettledClaim<'a> {
    pub claim: &'a Claim,
    pub paid: FundAmounts,
    pub out_of_pocket: Fen,
}

#[derive(Debug, Clone, Copy)]
struct PersonEntry {
    household: u32,
    status: PovertyStatus,
}

#[derive(Debug, Clone)]
struct HouseholdEntry {
    village: RegionCode,
    /// The poorest status among its members (special hardship first).
    status: PovertyStatus,
    /// Yearly consumption where recorded, else income (fen): monitoring's `budget`.
    budget: i64,
    size: u16,
}

/// The registry, indexed: each person's household, village and status, and each
/// household's village and poorest member's status.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    persons: HashMap<ResidentId, PersonEntry>,
    households: Vec<HouseholdEntry>,
    household_index: HashMap<String, u32>,
    /// Each registered facility's region, for the county of treatment.
    facilities: HashMap<String, RegionCode>,
}

impl Registry {
    pub fn new(households: &[Household], persons: &[Person]) -> Result<Registry, ExtractError> {
        let mut household_index = HashMap::with_capacity(households.len());
        let mut hs = Vec::with_capacity(households.len());
        for h in households {
            household_index.insert(h.household_id.clone(), hs.len() as u32);
            hs.push(HouseholdEntry {
                village: h.village_code,
                status: PovertyStatus::General,
                budget: h.consumption.unwrap_or(h.income).0,
                size: h.size,
            });
        }
        let mut ps = HashMap::with_capacity(persons.len());
        for p in persons {
            let Some(&hi) = household_index.get(&p.household_id) else {
                return Err(ExtractError::UnknownHousehold {
                    person_id: p.person_id.to_string(),
                    household_id: p.household_id.clone(),
                });
            };
            let h = &mut hs[hi as usize];
            h.status = h.status.min(p.status);
            ps.insert(p.person_id, PersonEntry { household: hi, status: p.status });
        }
        Ok(Registry { persons: ps, households: hs, household_index, facilities: HashMap::new() })
    }

    /// The registered facilities with the region each stands in. A claim at one of
    /// them is counted in the patient's county when the facility's county is the
    /// patient's; a claim naming no registered facility is judged by its level.
    pub fn with_facilities(mut self, facilities: impl IntoIterator<Item = (String, RegionCode)>) -> Registry {
        self.facilities.extend(facilities);
        self
    }

    /// Whether a claim was treated in the patient's own county (县域内就诊):
    /// by the region of its facility where the facility is registered, else by
    /// its level (village, township and county facilities are in the county).
    pub fn treated_in_county(&self, claim: &Claim, patient_village: RegionCode) -> bool {
        match self.facilities.get(&claim.facility_id) {
            Some(region) => {
                let county = |r: RegionCode| r.ancestor(RegionLevel::County);
                region.level() >= RegionLevel::County && county(*region) == county(patient_village)
            }
            None => {
                matches!(claim.facility_level, FacilityLevel::Village | FacilityLevel::Township | FacilityLevel::County)
            }
        }
    }

    /// A person's village and status.
    pub fn person(&self, id: &ResidentId) -> Option<(RegionCode, PovertyStatus)> {
        self.persons.get(id).map(|p| (self.households[p.household as usize].village, p.status))
    }

    /// A person's household index.
    pub fn household_of(&self, id: &ResidentId) -> Option<u32> {
        self.persons.get(id).map(|p| p.household)
    }

    /// A household's index, village and poorest status.
    pub fn household(&self, id: &str) -> Option<(u32, RegionCode, PovertyStatus)> {
        let &i = self.household_index.get(id)?;
        let h = &self.households[i as usize];
        Some((i, h.village, h.status))
    }

    pub fn household_village(&self, index: u32) -> RegionCode {
        self.households[index as usize].village
    }

    pub fn household_count(&self) -> usize {
        self.households.len()
    }
}

/// Remembers the month a key was first seen in each year, and says how a count
/// kept at that month must change when a new event arrives.
#[derive(Debug, Clone, Default)]
pub struct FirstSeen<K: Hash + Eq> {
    first: HashMap<(K, i32), Month>,
}

impl<K: Hash + Eq> FirstSeen<K> {
    pub fn new() -> Self {
        FirstSeen { first: HashMap::new() }
    }

    /// Records an event of `key` in `month`. Returns `(remove_from, add_to)`: the
    /// month whose count loses one (an earlier first sighting was later than this)
    /// and the month that gains one; both `None` when nothing changes.
    pub fn see(&mut self, key: K, month: Month) -> (Option<Month>, Option<Month>) {
        match self.first.entry((key, month.year())) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(month);
                (None, Some(month))
            }
            std::collections::hash_map::Entry::Occupied(mut o) => {
                let old = *o.get();
                if month < old {
                    o.insert(month);
                    (Some(old), Some(month))
                } else {
                    (None, None)
                }
            }
        }
    }
}

fn push_move(
    out: &mut Vec<Fact>,
    village: RegionCode,
    slice: Slice,
    measure: Measure,
    mv: (Option<Month>, Option<Month>),
) {
    if let Some(m) = mv.0 {
        out.push(Fact { village, month: m, slice, measure, value: -1 });
    }
    if let Some(m) = mv.1 {
        out.push(Fact { village, month: m, slice, measure, value: 1 });
    }
}

/// Turns settled claims into facts, remembering which persons it has counted.
/// Feed it every claim once: in one batch for a rebuild, or in deltas as they come.
#[derive(Debug, Clone)]
pub struct ClaimLedger {
    /// The registered serious patients, each with the catalogue positions of the
    /// diseases they are registered with.
    serious: HashMap<ResidentId, Vec<usize>>,
    catalogue: Catalogue,
    year: i32,
    patients: FirstSeen<ResidentId>,
    serious_treated: FirstSeen<ResidentId>,
}

impl ClaimLedger {
    /// `persons` tells which are registered serious patients (a diagnosis of the
    /// serious-disease catalogue), whose treatment is counted: a patient is treated
    /// by a claim whose main diagnosis is one of the diseases they are registered
    /// with, not by any claim.
    pub fn new(persons: &[Person], serious: &Catalogue, year: i32) -> ClaimLedger {
        let registered = persons
            .iter()
            .filter_map(|p| {
                let mut diseases: Vec<usize> = p.diagnoses.iter().filter_map(|d| serious.position(d, year)).collect();
                diseases.sort_unstable();
                diseases.dedup();
                (!diseases.is_empty()).then_some((p.person_id, diseases))
            })
            .collect();
        ClaimLedger {
            serious: registered,
            catalogue: serious.clone(),
            year,
            patients: FirstSeen::new(),
            serious_treated: FirstSeen::new(),
        }
    }

    /// Whether a claim treats one of its patient's registered serious diseases.
    fn treats_registered_disease(&self, claim: &Claim) -> bool {
        self.serious.get(&claim.person_id).is_some_and(|diseases| {
            self.catalogue.position(&claim.diagnosis, self.year).is_some_and(|d| diseases.binary_search(&d).is_ok())
        })
    }

    /// The facts of new claims. Every claim must name a registered person.
    pub fn facts(&mut self, registry: &Registry, claims: &[SettledClaim]) -> Result<Vec<Fact>, ExtractError> {
        let mut out = Vec::with_capacity(claims.len() * 10);
        let mut unknown: Option<(usize, String, String)> = None;
        for sc in claims {
            let c = sc.claim;
            let Some((village, status)) = registry.person(&c.person_id) else {
                let u = unknown.get_or_insert_with(|| (0, c.claim_id.clone(), c.person_id.to_string()));
                u.0 += 1;
                continue;
            };
            let month = Month::of(c.discharged);
            let slice = Slice::of_claim(status, c.kind, c.facility_level);
            let mut put = |measure: Measure, value: i64| {
                if value != 0 {
                    out.push(Fact { village, month, slice, measure, value });
                }
            };
            put(Measure::Claims, 1);
            if registry.treated_in_county(c, village) {
                put(Measure::TreatedInCounty, 1);
                if matches!(c.facility_level, FacilityLevel::Village | FacilityLevel::Township) {
                    put(Measure::TreatedAtPrimary, 1);
                }
            }
            put(Measure::TotalCost, c.total_cost.0);
            put(Measure::EligibleCost, c.eligible_cost.0);
            put(Measure::OutOfPocket, sc.out_of_pocket.0);
            for f in Fund::ALL {
                put(f.measure(), sc.paid.get(f));
            }
            let person_slice = Slice::of_status(status);
            let mv = self.patients.see(c.person_id, month);
            push_move(&mut out, village, person_slice, Measure::Patients, mv);
            if self.treats_registered_disease(c) {
                let mv = self.serious_treated.see(c.person_id, month);
                push_move(&mut out, village, person_slice, Measure::SeriousPatientsTreated, mv);
            }
        }
        if let Some((count, claim_id, person_id)) = unknown {
            return Err(ExtractError::UnknownPerson { count, claim_id, person_id });
        }
        Ok(out)
    }
}

/// The registry's stocks as of a month: households, registered serious and
/// chronic patients, and chronic patients under a family-doctor contract.
/// `contracted` holds the persons with a contract in force at `as_of`.
pub fn registry_facts(
    registry: &Registry,
    households: &[Household],
    persons: &[Person],
    serious: &Catalogue,
    chronic: &Catalogue,
    contracted: &HashSet<ResidentId>,
    as_of: Month,
) -> Vec<Fact> {
    let year = as_of.year();
    let mut out = Vec::new();
    for h in households {
        if let Some((_, village, status)) = registry.household(&h.household_id) {
            out.push(Fact {
                village,
                month: as_of,
                slice: Slice::of_status(status),
                measure: Measure::Households,
                value: 1,
            });
        }
    }
    for p in persons {
        let Some((village, status)) = registry.person(&p.person_id) else {
            continue;
        };
        let slice = Slice::of_status(status);
        let mut put = |measure| out.push(Fact { village, month: as_of, slice, measure, value: 1 });
        if p.diagnoses.iter().any(|d| serious.find(d, year).is_some()) {
            put(Measure::SeriousPatients);
        }
        if p.diagnoses.iter().any(|d| chronic.find(d, year).is_some()) {
            put(Measure::ChronicPatients);
            if contracted.contains(&p.person_id) {
                put(Measure::ChronicPatientsContracted);
            }
        }
    }
    out
}

/// What the indicators need of an alert (monitoring's `Alert`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertEvent {
    pub household_id: String,
    /// The alert's year (the year of the costs it measured).
    pub year: i32,
    pub raised_on: NaiveDate,
    /// When it was resolved with at least one assistance measure; `None` if open,
    /// dismissed, or resolved without one.
    pub assisted_on: Option<NaiveDate>,
}

/// Turns alerts into households warned and assisted, each household counted once
/// a year (an alert's year, in the month of its first alert or assistance).
#[derive(Debug, Clone, Default)]
pub struct AlertLedger {
    warned: FirstSeen<u32>,
    assisted: FirstSeen<u32>,
}

impl AlertLedger {
    pub fn new() -> AlertLedger {
        AlertLedger::default()
    }

    pub fn facts(&mut self, registry: &Registry, alerts: &[AlertEvent]) -> Result<Vec<Fact>, ExtractError> {
        let mut out = Vec::new();
        let mut unknown: Option<(usize, String)> = None;
        for a in alerts {
            let Some((hi, village, status)) = registry.household(&a.household_id) else {
                unknown.get_or_insert_with(|| (0, a.household_id.clone())).0 += 1;
                continue;
            };
            let slice = Slice::of_status(status);
            // The month counts within the alert's year: an alert of 2024 raised in
            // January 2025 is counted in December 2024's figures at the latest.
            let in_year = |d: NaiveDate| Month::of(d).min(Month::new(a.year, 12)).max(Month::new(a.year, 1));
            let mv = self.warned.see(hi, in_year(a.raised_on));
            push_move(&mut out, village, slice, Measure::HouseholdsWarned, mv);
            if let Some(d) = a.assisted_on {
                let mv = self.assisted.see(hi, in_year(d));
                push_move(&mut out, village, slice, Measure::HouseholdsAssisted, mv);
            }
        }
        if let Some((count, household_id)) = unknown {
            return Err(ExtractError::UnknownAlertHousehold { count, household_id });
        }
        Ok(out)
    }
}

/// What the indicators need of a case (docs/work.md): whose, the deadline of
/// its verification and the day it was verified, the deadline to close it and
/// the day it was closed (in China's calendar).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseDeadline {
    pub household_id: String,
    pub due: NaiveDate,
    pub verified_on: Option<NaiveDate>,
    pub close_due: NaiveDate,
    pub closed_on: Option<NaiveDate>,
}

/// Turns cases into the facts of `year`, sliced by the household's poorest
/// member's status: cases due and cases verified in time, in the month of the
/// verification deadline; cases due to close and cases closed in time, in the
/// month of the deadline to close. A case counts in each pair in the year of
/// that pair's deadline, so one case may count in two years.
pub fn case_facts(registry: &Registry, cases: &[CaseDeadline], year: i32) -> Result<Vec<Fact>, ExtractError> {
    use chrono::Datelike;
    let mut out = Vec::new();
    let mut unknown: Option<(usize, String)> = None;
    for c in cases.iter().filter(|c| c.due.year() == year || c.close_due.year() == year) {
        let Some((_, village, status)) = registry.household(&c.household_id) else {
            unknown.get_or_insert_with(|| (0, c.household_id.clone())).0 += 1;
            continue;
        };
        let slice = Slice::of_status(status);
        let mut pair = |deadline: NaiveDate, done: Option<NaiveDate>, due: Measure, in_time: Measure| {
            if deadline.year() != year {
                return;
            }
            let month = Month::of(deadline);
            out.push(Fact { village, month, slice, measure: due, value: 1 });
            if done.is_some_and(|d| d <= deadline) {
                out.push(Fact { village, month, slice, measure: in_time, value: 1 });
            }
        };
        pair(c.due, c.verified_on, Measure::CasesDue, Measure::CasesVerifiedInTime);
        pair(c.close_due, c.closed_on, Measure::CasesCloseDue, Measure::CasesClosedInTime);
    }
    if let Some((count, household_id)) = unknown {
        return Err(ExtractError::UnknownAlertHousehold { count, household_id });
    }
    Ok(out)
}

/// A village's reach, from coverage analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VillageReach {
    pub village: RegionCode,
    /// Only rural villages count.
    pub rural: bool,
    pub population: u32,
    pub has_qualified_doctor: bool,
    /// Within 15 minutes of a qualified village clinic or township centre.
    pub within_15min: bool,
}

/// Village stocks as of a month.
pub fn coverage_facts(villages: &[VillageReach], as_of: Month) -> Vec<Fact> {
    let mut out = Vec::new();
    for v in villages.iter().filter(|v| v.rural) {
        let mut put = |measure, value: i64| {
            if value != 0 {
                out.push(Fact { village: v.village, month: as_of, slice: Slice::NONE, measure, value });
            }
        };
        put(Measure::Villages, 1);
        put(Measure::VillagesWithQualifiedDoctor, v.has_qualified_doctor as i64);
        put(Measure::RuralPopulation, v.population as i64);
        put(Measure::PopulationWithin15Min, if v.within_15min { v.population as i64 } else { 0 });
    }
    out
}

/// The facts that undo others (for a correction: apply the negation of the old
/// facts, then the new ones).
pub fn negate(facts: &[Fact]) -> Vec<Fact> {
    facts.iter().map(|f| Fact { value: -f.value, ..*f }).collect()
}

/// The slice of a claim, for callers that build facts of their own.
pub fn claim_slice(status: PovertyStatus, kind: ClaimKind, level: FacilityLevel) -> Slice {
    Slice::of_claim(status, kind, level)
}

/// What the facts of a registry's villages are read from, besides the claims.
#[derive(Debug, Clone, Copy)]
pub struct VillageInputs<'a> {
    pub households: &'a [Household],
    pub persons: &'a [Person],
    /// Persons under a family-doctor contract.
    pub contracted: &'a HashSet<ResidentId>,
    /// Alerts of any year (those of `year` are counted).
    pub alerts: &'a [AlertEvent],
    /// Cases of any year (each counts in the years of its two deadlines).
    pub cases: &'a [CaseDeadline],
    /// The out-of-pocket spending of the persons' settled claims (those
    /// discharged in `year` are counted): the households' SDG 3.8.2 measures.
    pub spending: &'a [Spending],
}

/// The facts of `year` that lie in the villages themselves: the registry's
/// stocks as of January, the alerts' facts and the cases' deadlines. The one
/// wiring of the extractors that the report over the store, the report over
/// files and the cluster's indicator job share.
pub fn village_facts(registry: &Registry, input: VillageInputs, year: i32) -> Result<Vec<Fact>, ExtractError> {
    let mut facts = registry_facts(
        registry,
        input.households,
        input.persons,
        &Catalogue::serious(),
        &Catalogue::chronic(),
        input.contracted,
        Month::new(year, 1),
    );
    let alerts: Vec<AlertEvent> = input.alerts.iter().filter(|a| a.year == year).cloned().collect();
    facts.extend(AlertLedger::new().facts(registry, &alerts)?);
    facts.extend(case_facts(registry, input.cases, year)?);
    facts.extend(spending_facts(registry, input.spending, SOCIETAL_POVERTY_LINE, year));
    Ok(facts)
}

/// One settled claim's out-of-pocket spending: whose, when discharged, how
/// much. The households' spending measures add up their members' claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spending {
    pub person: ResidentId,
    pub discharged: NaiveDate,
    pub out_of_pocket: Fen,
}

/// The societal poverty line per person and year that SafetyNet applies in the
/// SDG 3.8.2 measures of 2025: 10,800 yuan (docs/indicators.md, "Household
/// spending", says how it is made and from what). It is part of the facts:
/// changing it needs the kept years rebuilt.
pub const SOCIETAL_POVERTY_LINE: Fen = Fen(1_080_000);

/// How a household's out-of-pocket spending `oop` of the year so far stands
/// against its yearly `budget` and its discretionary budget `budget - line *
/// size` (all in fen): the spending measures it counts in. Exact integer
/// comparisons: above 10% is `10 oop > budget`, above 40% of the
/// discretionary budget `5 oop > 2 d`. A household at or below the line (no
/// discretionary budget) that pays anything is in hardship and impoverished.
pub fn spending_measures(oop: i64, budget: i64, line: i64, size: u16) -> [(Measure, bool); 4] {
    let d = budget - line * size as i64;
    let pays = oop > 0;
    [
        (Measure::HouseholdsOopOver10Pct, pays && 10 * oop > budget),
        (Measure::HouseholdsOopOver25Pct, pays && 4 * oop > budget),
        (Measure::HouseholdsFinancialHardship, pays && 5 * oop > 2 * d),
        (Measure::HouseholdsImpoverishingSpending, pays && oop > d),
    ]
}

/// The households' spending measures of `year` (SDG 3.8.2, before and after
/// 2025): each household's members' out-of-pocket spending of the year summed
/// month by month, and the household counted once, in the month its spending
/// so far first crosses each line, in the household's village and under its
/// poorest member's status. `line` is the societal poverty line per person and
/// year. Spending of persons outside the registry is left out (their claims
/// are refused by the claim facts).
pub fn spending_facts(registry: &Registry, spending: &[Spending], line: Fen, year: i32) -> Vec<Fact> {
    use chrono::Datelike;
    let mut by_household: HashMap<u32, [i64; 12]> = HashMap::new();
    for s in spending.iter().filter(|s| s.discharged.year() == year) {
        let Some(h) = registry.household_of(&s.person) else {
            continue;
        };
        by_household.entry(h).or_insert([0; 12])[s.discharged.month0() as usize] += s.out_of_pocket.0;
    }
    let mut households: Vec<(u32, [i64; 12])> = by_household.into_iter().collect();
    households.sort_unstable_by_key(|(h, _)| *h);
    let mut out = Vec::new();
    for (h, months) in households {
        let e = &registry.households[h as usize];
        let slice = Slice::of_status(e.status);
        let mut counted = [false; 4];
        let mut so_far = 0i64;
        for (m, spent) in months.iter().enumerate() {
            so_far += spent;
            for (k, (measure, crossed)) in spending_measures(so_far, e.budget, line.0, e.size).into_iter().enumerate() {
                if crossed && !counted[k] {
                    counted[k] = true;
                    out.push(Fact {
                        village: e.village,
                        month: Month::new(year, m as u32 + 1),
                        slice,
                        measure,
                        value: 1,
                    });
                }
            }
        }
    }
    out
}

/// One person's claim facts of a year: the person's settled claims, counted in
/// the person's village, and the claims left unsettled (outside the facts).
#[derive(Debug, Clone)]
pub struct PersonClaimFacts {
    pub person: ResidentId,
    pub village: RegionCode,
    pub facts: Vec<Fact>,
    pub unsettled: usize,
}

/// The claim facts of `year` of each registered person with a claim of the
/// year (settled or not), in the order of the persons' first claims; `settled`
/// gives a claim's payments by fund and out-of-pocket amount where it is
/// settled. A person's facts depend on the person and the person's claims
/// alone, so they can be kept and recomputed person by person. A settled claim
/// of a person outside the registry is an error.
pub fn claim_facts_by_person<'c>(
    registry: &Registry,
    persons: &[Person],
    claims: &'c [Claim],
    settled: impl Fn(&Claim) -> Option<(FundAmounts, Fen)>,
    year: i32,
) -> Result<Vec<PersonClaimFacts>, ExtractError> {
    use chrono::Datelike;
    let mut ledger = ClaimLedger::new(persons, &Catalogue::serious(), year);
    let mut of_person: HashMap<ResidentId, usize> = HashMap::new();
    let mut groups: Vec<(ResidentId, RegionCode, Vec<SettledClaim<'c>>, usize)> = Vec::new();
    let mut unknown = Vec::new();
    for c in claims.iter().filter(|c| c.discharged.year() == year) {
        let s = settled(c).map(|(paid, out_of_pocket)| SettledClaim { claim: c, paid, out_of_pocket });
        let Some((village, _)) = registry.person(&c.person_id) else {
            unknown.extend(s);
            continue;
        };
        let g = *of_person.entry(c.person_id).or_insert_with(|| {
            groups.push((c.person_id, village, Vec::new(), 0));
            groups.len() - 1
        });
        match s {
            Some(s) => groups[g].2.push(s),
            None => groups[g].3 += 1,
        }
    }
    if !unknown.is_empty() {
        ledger.facts(registry, &unknown)?;
    }
    groups
        .into_iter()
        .map(|(person, village, settled, unsettled)| {
            let facts = ledger.facts(registry, &settled)?;
            Ok(PersonClaimFacts { person, village, facts, unsettled })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        domain::parse_date(s).unwrap()
    }

    fn pid(seq: u16) -> ResidentId {
        ResidentId::from_parts(341122, d("1960-01-01"), seq).unwrap()
    }

    /// Households of `size` persons each, budget in yuan (consumption when
    /// `consumption`, else income), the first member of each poor.
    fn registry(budgets: &[(i64, Option<i64>, u16)]) -> (Registry, Vec<Household>) {
        let mut households = Vec::new();
        let mut persons = Vec::new();
        for (i, &(income, consumption, size)) in budgets.iter().enumerate() {
            let id = format!("H{i}");
            households.push(Household {
                household_id: id.clone(),
                village_code: "341122100201".parse().unwrap(),
                size,
                income: Fen::from_yuan(income),
                consumption: consumption.map(Fen::from_yuan),
                food: None,
            });
            for m in 0..size {
                persons.push(Person {
                    person_id: pid(i as u16 * 10 + m),
                    household_id: id.clone(),
                    name: String::new(),
                    status: if m == 0 { PovertyStatus::Lifted } else { PovertyStatus::General },
                    status_since: d("2020-01-01"),
                    diagnoses: vec![],
                });
            }
        }
        (Registry::new(&households, &persons).unwrap(), households)
    }

    fn count(facts: &[Fact], m: Measure) -> i64 {
        facts.iter().filter(|f| f.measure == m).map(|f| f.value).sum()
    }

    #[test]
    fn the_lines_of_the_spending_measures() {
        // Budget 20,000.00 yuan, two persons, a line of 5,000.00 each: 10,000.00 left.
        let at = |oop_yuan: i64| -> Vec<bool> {
            spending_measures(oop_yuan * 100, 2_000_000, 500_000, 2).iter().map(|(_, b)| *b).collect()
        };
        assert_eq!(at(0), [false, false, false, false]);
        assert_eq!(at(2_000), [false, false, false, false], "10% exactly is not above it");
        assert_eq!(at(2_001), [true, false, false, false]);
        assert_eq!(at(4_000), [true, false, false, false], "40% of the 10,000 left exactly");
        assert_eq!(at(4_001), [true, false, true, false]);
        assert_eq!(at(5_001), [true, true, true, false]);
        assert_eq!(at(10_001), [true, true, true, true], "below the line after paying");
        // At or below the line, anything paid is hardship and impoverishing.
        let poor: Vec<bool> = spending_measures(1, 800_000, 500_000, 2).iter().map(|(_, b)| *b).collect();
        assert_eq!(poor, [false, false, true, true]);
        let unpaid: Vec<bool> = spending_measures(0, 800_000, 500_000, 2).iter().map(|(_, b)| *b).collect();
        assert_eq!(unpaid, [false, false, false, false]);
    }

    #[test]
    fn a_household_counts_once_in_the_month_it_crosses_each_line() {
        // H0: consumption 30,000 of an income of 50,000, 3 persons, a line of 5,000 each:
        // 15,000 left; H1: no consumption recorded, income 10,000, 1 person.
        let (reg, _) = registry(&[(50_000, Some(30_000), 3), (10_000, None, 1)]);
        let line = Fen::from_yuan(5_000);
        let spend = |seq: u16, day: &str, yuan: i64| Spending {
            person: pid(seq),
            discharged: d(day),
            out_of_pocket: Fen::from_yuan(yuan),
        };
        let spending = [
            spend(0, "2024-02-10", 2_000),
            spend(1, "2024-03-05", 1_500),  // H0: 3,500 by March (above 10% of 30,000)
            spend(2, "2024-07-01", 4_100),  // 7,600 by July: above 25%, above 40% of 15,000
            spend(0, "2023-12-30", 50_000), // another year
            spend(10, "2024-05-01", 1),     // H1: 1 yuan of a budget of 10,000 that is 5,000 above the line
            spend(10, "2024-11-01", 5_000), // 5,001 by November: above the whole 5,000 left
        ];
        let facts = spending_facts(&reg, &spending, line, 2024);
        let at = |m: Measure| -> Vec<(String, u32, i64)> {
            let mut v: Vec<_> = facts
                .iter()
                .filter(|f| f.measure == m)
                .map(|f| (f.village.short(), f.month.month(), f.value))
                .collect();
            v.sort();
            v
        };
        let v = "341122100201".to_string();
        assert_eq!(at(Measure::HouseholdsOopOver10Pct), [(v.clone(), 3, 1), (v.clone(), 11, 1)]);
        assert_eq!(at(Measure::HouseholdsOopOver25Pct), [(v.clone(), 7, 1), (v.clone(), 11, 1)]);
        assert_eq!(at(Measure::HouseholdsFinancialHardship), [(v.clone(), 7, 1), (v.clone(), 11, 1)]);
        assert_eq!(at(Measure::HouseholdsImpoverishingSpending), [(v.clone(), 11, 1)]);
        assert!(facts.iter().all(|f| f.slice == Slice::of_status(PovertyStatus::Lifted)), "the poorest member's");
        // An unknown person's spending is left out.
        let stranger = Spending { person: pid(999), discharged: d("2024-01-01"), out_of_pocket: Fen::from_yuan(9) };
        assert!(spending_facts(&reg, &[stranger], line, 2024).is_empty());
    }

    proptest! {
        /// Counted over any households and spending: 25% ⊆ 10%, impoverishing
        /// ⊆ hardship, every count at most the households with spending, and
        /// each household counted at most once per measure, whatever the order.
        #[test]
        fn the_spending_measures_nest(
            budgets in proptest::collection::vec((0i64..60_000, proptest::option::of(0i64..60_000), 1u16..6), 1..8),
            spends in proptest::collection::vec((0usize..8, 0u16..6, 1u32..=12, 0i64..20_000), 0..40),
            line in 0i64..12_000,
        ) {
            let (reg, households) = registry(&budgets);
            let spending: Vec<Spending> = spends.iter()
                .filter(|(h, m, _, _)| *h < budgets.len() && *m < budgets[*h].2)
                .map(|&(h, m, month, yuan)| Spending {
                    person: pid(h as u16 * 10 + m),
                    discharged: NaiveDate::from_ymd_opt(2024, month, 1).unwrap(),
                    out_of_pocket: Fen::from_yuan(yuan),
                })
                .collect();
            let facts = spending_facts(&reg, &spending, Fen::from_yuan(line), 2024);
            let mut reversed = spending.clone();
            reversed.reverse();
            let mut again = spending_facts(&reg, &reversed, Fen::from_yuan(line), 2024);
            let mut sorted = facts.clone();
            let key = |f: &Fact| (f.measure, f.month, f.value);
            sorted.sort_by_key(key);
            again.sort_by_key(key);
            prop_assert_eq!(&sorted, &again);
            let paying: HashSet<u32> = spending.iter().filter(|s| s.out_of_pocket.0 > 0)
                .filter_map(|s| reg.household_of(&s.person)).collect();
            let (c10, c25) = (count(&facts, Measure::HouseholdsOopOver10Pct), count(&facts, Measure::HouseholdsOopOver25Pct));
            let (hard, imp) = (count(&facts, Measure::HouseholdsFinancialHardship), count(&facts, Measure::HouseholdsImpoverishingSpending));
            prop_assert!(c25 <= c10 && c10 <= paying.len() as i64);
            prop_assert!(imp <= hard && hard <= paying.len() as i64);
            prop_assert!(paying.len() <= households.len());
            // The year's counts, computed here afresh from each household's total.
            let (mut want10, mut want25, mut want_hard, mut want_imp) = (0, 0, 0, 0);
            for (i, h) in households.iter().enumerate() {
                let total: i64 = spending.iter().filter(|s| reg.household_of(&s.person) == Some(i as u32))
                    .map(|s| s.out_of_pocket.0).sum();
                let budget = h.consumption.unwrap_or(h.income).0;
                let left = budget - line * 100 * h.size as i64;
                if total == 0 {
                    continue;
                }
                want10 += (total * 100 > budget * 10) as i64;
                want25 += (total * 100 > budget * 25) as i64;
                want_hard += (left <= 0 || total * 100 > left * 40) as i64;
                want_imp += (left <= 0 || total > left) as i64;
            }
            prop_assert_eq!((c10, c25, hard, imp), (want10, want25, want_hard, want_imp));
            // Month by month the year so far nests too.
            for m in 1..=12u32 {
                let upto = |me: Measure| facts.iter().filter(|f| f.measure == me && f.month.month() <= m).count();
                prop_assert!(upto(Measure::HouseholdsOopOver25Pct) <= upto(Measure::HouseholdsOopOver10Pct));
                prop_assert!(upto(Measure::HouseholdsImpoverishingSpending) <= upto(Measure::HouseholdsFinancialHardship));
            }
        }
    }
}
