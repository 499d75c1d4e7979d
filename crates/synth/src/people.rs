//! Households, persons and their claims, one township at a time.
//!
//! Each village draws from its own streams (`Shape` for household sizes, `People`
//! for everything else), so a village's people are the same whatever ran before.
//! Resident IDs must be unique within a county (address code, birth date and a
//! sequence number of 000 to 999, odd for men): a county's townships split the 500
//! sequence slots of each birth date and sex between them (township `i` of `n` takes
//! slots `i, i + n, i + 2n, ...`), so townships never collide and can run apart.

use crate::plan::{birth_date, household_sizes, Plan, VillagePlan};
use crate::rng::{self, lognormal, poisson, stream, Purpose, Stream};
use crate::tables::{self, Disease, DISEASES};
use crate::{Sink, Summary};
use chrono::{Datelike, Duration, NaiveDate};
use domain::{Claim, ClaimKind, FacilityLevel, Fen, Household, Person, PovertyStatus, ResidentId};
use rand::Rng;
use std::collections::HashMap;
use std::fmt::Write as _;

/// Reused records and the township's resident-ID slots.
pub(crate) struct Scratch {
    household: Household,
    person: Person,
    claim: Claim,
    members: Vec<Member>,
    /// (days since 1800, male) -> how many IDs the township has used.
    slots: HashMap<(i32, bool), u32>,
}

#[derive(Debug, Clone, Copy)]
struct Member {
    age: i32,
    male: bool,
    surname: usize,
}

impl Scratch {
    pub fn new(plan: &Plan) -> Scratch {
        let placeholder = ResidentId::from_parts(110_101, plan.year_end, 1).expect("valid");
        let village = plan.villages.first().map(|v| v.code).unwrap_or(plan.province.code);
        Scratch {
            household: Household {
                household_id: String::new(),
                village_code: village,
                size: 1,
                income: Fen::ZERO,
                consumption: None,
                food: None,
            },
            person: Person {
                person_id: placeholder,
                household_id: String::new(),
                name: String::new(),
                status: PovertyStatus::General,
                status_since: plan.year_end,
                diagnoses: Vec::new(),
            },
            claim: Claim {
                claim_id: String::new(),
                person_id: placeholder,
                facility_level: FacilityLevel::Village,
                kind: ClaimKind::Outpatient,
                admitted: plan.year_end,
                discharged: plan.year_end,
                total_cost: Fen::ZERO,
                eligible_cost: Fen::ZERO,
                diagnosis: String::new(),
                facility_id: String::new(),
            },
            members: Vec::with_capacity(8),
            slots: HashMap::new(),
        }
    }
}

/// Generates the households, persons and claims of township `t` into the sink.
pub(crate) fn township<S: Sink + ?Sized>(
    plan: &Plan,
    t: usize,
    sc: &mut Scratch,
    sink: &mut S,
) -> std::io::Result<Summary> {
    let mut s = Summary::default();
    sc.slots.clear();
    for v in plan.townships[t].villages.clone() {
        village(plan, t, &plan.villages[v], sc, sink, &mut s)?;
    }
    Ok(s)
}

const STATUSES: [PovertyStatus; 5] = [
    PovertyStatus::SpecialHardship,
    PovertyStatus::LowIncome,
    PovertyStatus::Lifted,
    PovertyStatus::Monitored,
    PovertyStatus::General,
];

/// Household status weights (per 10,000) by household size: extreme hardship
/// mostly lives alone, low-income and lifted households are of all sizes.
fn status_weights(size: u8) -> [u32; 5] {
    match size {
        1 => [500, 600, 900, 150, 7_850],
        2 => [100, 350, 850, 120, 8_580],
        _ => [10, 250, 800, 100, 8_840],
    }
}

fn village<S: Sink + ?Sized>(
    plan: &Plan,
    t: usize,
    v: &VillagePlan,
    sc: &mut Scratch,
    sink: &mut S,
    s: &mut Summary,
) -> std::io::Result<()> {
    let mut r = stream(plan.seed, v.code.as_u64(), Purpose::People);
    let county = plan.county_of(t);
    let address = (county.unit.code.as_u64() / 1_000_000) as u32;
    let mut claim_no = 0u32;
    for (k, size) in household_sizes(plan.seed, v.code, v.households).enumerate() {
        let hstatus = STATUSES[rng::weighted(&mut r, &status_weights(size))];
        members(&mut r, size, hstatus, &mut sc.members);

        // Income: per-capita log-normal around 0.9 of the province's rural income,
        // much lower for poor households, with a tail of general households hit by
        // a shock; consumption near income (above it for the poorest, who live on
        // transfers), food a third of it.
        let factor = match hstatus {
            PovertyStatus::SpecialHardship => 0.30,
            PovertyStatus::LowIncome => 0.35,
            PovertyStatus::Monitored => 0.40,
            PovertyStatus::Lifted => 0.55,
            PovertyStatus::General => {
                if r.gen_bool(0.03) {
                    0.35
                } else {
                    1.0
                }
            }
        };
        let pc = lognormal(&mut r, 0.9 * plan.rural_income * factor, 0.5).max(1_200.0);
        let income = (pc * size as f64).round();
        let ratio: f64 = if hstatus.is_poor() { r.gen_range(0.85..1.10) } else { r.gen_range(0.60..0.95) };
        let consumption = (income * ratio).max(3_000.0 * size as f64).round();
        let food = (consumption * r.gen_range(0.28..0.42)).round();
        let h = &mut sc.household;
        h.household_id.clear();
        let _ = write!(h.household_id, "H{}{:04}", v.code, k + 1);
        h.village_code = v.code;
        h.size = size as u16;
        h.income = Fen::from_yuan(income as i64);
        h.consumption = Some(Fen::from_yuan(consumption as i64));
        h.food = Some(Fen::from_yuan(food as i64));
        sink.household(h)?;
        s.households += 1;

        for mi in 0..sc.members.len() {
            let m = sc.members[mi];
            let birth = birth_date(plan.year_end, m.age, &mut r);
            let (id, birth) = resident_id(plan, t, address, birth, m.male, &mut sc.slots);
            let status = if hstatus.is_poor() && r.gen_bool(0.07) {
                // A member whose own status differs from the household's.
                match hstatus {
                    PovertyStatus::SpecialHardship => PovertyStatus::LowIncome,
                    PovertyStatus::LowIncome | PovertyStatus::Monitored => PovertyStatus::Lifted,
                    _ => PovertyStatus::Monitored,
                }
            } else {
                hstatus
            };
            let p = &mut sc.person;
            p.person_id = id;
            p.household_id.clone_from(&sc.household.household_id);
            p.name.clear();
            let surname = if r.gen_bool(0.95) { Some(m.surname) } else { None };
            person_name(&mut r, m.male, surname, &mut p.name);
            p.status = status;
            p.status_since = status_since(plan.year, status, birth, &mut r);
            let age = domain::age_on(birth, plan.year_end);
            let mut dx: [Option<&'static Disease>; 8] = [None; 8];
            let mut nd = 0;
            for d in DISEASES {
                if nd < dx.len() && has_disease(d, age, m.male, &mut r) {
                    dx[nd] = Some(d);
                    nd += 1;
                }
            }
            p.diagnoses.truncate(nd);
            for (i, d) in dx[..nd].iter().enumerate() {
                let code = d.expect("filled").code;
                match p.diagnoses.get_mut(i) {
                    Some(s) => {
                        s.clear();
                        s.push_str(code)
                    }
                    None => p.diagnoses.push(code.to_string()),
                }
            }
            sink.person(p)?;
            s.persons += 1;
            s.persons_by_status[status.index()] += 1;
            s.claims +=
                claims(plan, t, v, id, birth, age, m.male, &dx[..nd], &mut r, &mut claim_no, &mut sc.claim, sink)?;
        }
    }
    Ok(())
}

/// The members of a household: the head, a spouse, an elderly parent sometimes,
/// children (and grandchildren in older households). Ages reflect a rural
/// population whose young adults often work away.
fn members(r: &mut Stream, size: u8, status: PovertyStatus, out: &mut Vec<Member>) {
    out.clear();
    let surname = rng::weighted(r, &SURNAME_WEIGHTS);
    let head_age = if size == 1 || status == PovertyStatus::SpecialHardship {
        if r.gen_bool(0.7) {
            r.gen_range(60..92)
        } else {
            r.gen_range(30..60)
        }
    } else {
        r.gen_range(26..78)
    };
    let head_male = r.gen_bool(0.82);
    out.push(Member { age: head_age, male: head_male, surname });
    if size >= 2 && r.gen_bool(0.9) {
        let age = (head_age + r.gen_range(-4..=3)).clamp(20, 98);
        out.push(Member { age, male: !head_male, surname: rng::weighted(r, &SURNAME_WEIGHTS) });
    }
    if (out.len() as u8) < size && head_age < 55 && r.gen_bool(0.3) {
        let age = (head_age + r.gen_range(24..32)).min(99);
        out.push(Member { age, male: r.gen_bool(0.4), surname });
    }
    while (out.len() as u8) < size {
        let i = out.len();
        let age = if head_age <= 52 || i <= 2 {
            (head_age - r.gen_range(22..34) - (i as i32 - 2).max(0) * 2).max(r.gen_range(0..4))
        } else {
            // grandchildren of an older head
            (head_age - r.gen_range(46..60)).max(r.gen_range(0..6))
        };
        out.push(Member { age, male: r.gen_bool(0.52), surname });
    }
}

static SURNAME_WEIGHTS: std::sync::LazyLock<Vec<u32>> =
    std::sync::LazyLock::new(|| tables::SURNAMES.iter().map(|s| s.1).collect());

/// A Chinese name: the surname (drawn when not given), then one or two characters.
pub(crate) fn person_name(r: &mut Stream, male: bool, surname: Option<usize>, out: &mut String) {
    let s = surname.unwrap_or_else(|| rng::weighted(r, &SURNAME_WEIGHTS));
    out.push_str(tables::SURNAMES[s].0);
    let chars = if male { tables::MALE_CHARS } else { tables::FEMALE_CHARS };
    let n = if r.gen_bool(0.3) { 1 } else { 2 };
    for _ in 0..n {
        out.push_str(chars[r.gen_range(0..chars.len())]);
    }
}

/// A resident ID unique in the county: the township's next free slot for the birth
/// date and sex; when the township's slots of a day are used up, the birth moves a
/// day earlier (it is invented anyway).
fn resident_id(
    plan: &Plan,
    t: usize,
    address: u32,
    mut birth: NaiveDate,
    male: bool,
    slots: &mut HashMap<(i32, bool), u32>,
) -> (ResidentId, NaiveDate) {
    let town = &plan.townships[t];
    let (i, n) = (town.index_in_county, town.townships_in_county.max(1));
    loop {
        let used = slots.entry((birth.num_days_from_ce(), male)).or_insert(0);
        let slot = i + *used * n;
        if slot < 500 {
            *used += 1;
            let seq = (slot * 2 + u32::from(male)) as u16;
            let id = ResidentId::from_parts(address, birth, seq).expect("valid parts");
            return (id, birth);
        }
        birth -= Duration::days(1);
    }
}

/// The day the status began: exits from poverty in 2016-2020, monitoring from
/// 2021, allowances and hardship support at any time; never before birth, never
/// after the year.
fn status_since(year: i32, status: PovertyStatus, birth: NaiveDate, r: &mut Stream) -> NaiveDate {
    let day = |y: i32| NaiveDate::from_ymd_opt(y, 1, 1).expect("valid");
    let (from, to) = match status {
        PovertyStatus::General => (day(2021), day(2021)),
        PovertyStatus::Lifted => (day(2016), day(2021)),
        PovertyStatus::Monitored => (day(2021), day(year + 1)),
        PovertyStatus::LowIncome => (day(2012), day(year + 1)),
        PovertyStatus::SpecialHardship => (day(2014), day(year + 1)),
    };
    let span = (to - from).num_days().max(1);
    let d = from + Duration::days(r.gen_range(0..span));
    let last = day(year + 1) - Duration::days(1);
    d.min(last).max(birth)
}

fn band(age: i32) -> usize {
    match age {
        ..=17 => 0,
        18..=44 => 1,
        45..=59 => 2,
        _ => 3,
    }
}

fn has_disease(d: &Disease, age: i32, male: bool, r: &mut Stream) -> bool {
    if d.male.is_some_and(|m| m != male) {
        return false;
    }
    let p = d.per_10k[band(age)];
    p > 0 && r.gen_range(0..10_000) < p
}

/// Per facility level: the median cost (yuan) of an outpatient visit, a chronic
/// outpatient visit and an admission; the median length of stay; the eligible
/// share's range.
const LEVELS: [FacilityLevel; 6] = [
    FacilityLevel::Village,
    FacilityLevel::Township,
    FacilityLevel::County,
    FacilityLevel::Municipal,
    FacilityLevel::Provincial,
    FacilityLevel::OutOfProvince,
];
const OUT_MEDIAN: [f64; 6] = [50.0, 110.0, 320.0, 550.0, 850.0, 1_100.0];
const CHRONIC_MEDIAN: [f64; 6] = [160.0, 260.0, 480.0, 750.0, 950.0, 1_100.0];
const IN_MEDIAN: [f64; 6] = [1_500.0, 2_500.0, 6_500.0, 10_000.0, 18_000.0, 30_000.0];
const STAY: [f64; 6] = [3.0, 6.0, 8.0, 10.0, 12.0, 14.0];
const ELIGIBLE: [(f64, f64); 6] = [(0.85, 0.95), (0.82, 0.95), (0.78, 0.92), (0.74, 0.90), (0.70, 0.88), (0.70, 0.85)];

/// Which level treats a claim (per mille by level, village first).
fn level_weights(kind: ClaimKind, serious: bool) -> [u32; 6] {
    match (kind, serious) {
        (ClaimKind::Outpatient, _) => [550, 300, 120, 25, 5, 0],
        (ClaimKind::ChronicOutpatient, false) => [350, 400, 200, 40, 10, 0],
        (ClaimKind::ChronicOutpatient, true) => [0, 100, 500, 250, 130, 20],
        (ClaimKind::Inpatient, false) => [0, 320, 480, 120, 50, 30],
        (ClaimKind::Inpatient, true) => [0, 50, 350, 300, 220, 80],
    }
}

fn is_serious(d: &Disease) -> bool {
    d.cost >= 1.5
}

/// The person's claims of the year. Rates are set so that a county averages
/// about 2.5 claims per person; `claims_per_person` scales them.
#[allow(clippy::too_many_arguments)]
fn claims<S: Sink + ?Sized>(
    plan: &Plan,
    t: usize,
    v: &VillagePlan,
    person: ResidentId,
    birth: NaiveDate,
    age: i32,
    male: bool,
    dx: &[Option<&'static Disease>],
    r: &mut Stream,
    claim_no: &mut u32,
    c: &mut Claim,
    sink: &mut S,
) -> std::io::Result<u64> {
    if plan.claims_per_person <= 0.0 {
        return Ok(0);
    }
    // The rates below give about 2.33 claims per person in a county of this age
    // shape; `scale` brings the mean to the configured figure.
    let scale = plan.claims_per_person / 2.33;
    let mut n = 0u64;
    let out_rate = match age {
        ..=5 => 2.0,
        6..=17 => 0.75,
        18..=44 => 0.75,
        45..=59 => 1.1,
        _ => 1.6,
    } + 0.25 * dx.len() as f64;
    let in_rate = match age {
        ..=5 => 0.09,
        6..=17 => 0.035,
        18..=44 => 0.06,
        45..=59 => 0.11,
        _ => 0.22,
    } + if !male && (20..=40).contains(&age) { 0.05 } else { 0.0 };

    // (kind, disease or none) for each claim, generated in a fixed order.
    let mut emit = |kind: ClaimKind,
                    d: Option<&'static Disease>,
                    r: &mut Stream,
                    c: &mut Claim|
     -> std::io::Result<()> {
        let serious = d.is_some_and(is_serious);
        let mut li = rng::weighted(r, &level_weights(kind, serious));
        // A village without a clinic (or an urban community) goes to its centre;
        // a county without a hospital sends its patients to the city.
        if li == 0 && v.clinic.is_none() {
            li = 1;
        }
        let county = plan.county_of(t);
        if li == 2 && county.hospitals.is_empty() {
            li = 3;
        }
        let level = LEVELS[li];
        c.facility_id.clear();
        let fac = match level {
            FacilityLevel::Village => v.clinic,
            FacilityLevel::Township => Some(plan.townships[t].centre),
            FacilityLevel::County => Some(county.hospitals[r.gen_range(0..county.hospitals.len())]),
            FacilityLevel::Municipal => {
                let hs = &plan.city_hospitals[county.city];
                Some(hs[r.gen_range(0..hs.len())])
            }
            FacilityLevel::Provincial => Some(plan.provincial[r.gen_range(0..plan.provincial.len())]),
            FacilityLevel::OutOfProvince => None,
        };
        if let Some(f) = fac {
            c.facility_id.push_str(&plan.facilities[f].facility_id);
        }
        let mult = d.map(|d| d.cost).unwrap_or(1.0);
        let (median, sigma) = match kind {
            ClaimKind::Outpatient => (OUT_MEDIAN[li], 0.7),
            ClaimKind::ChronicOutpatient => (CHRONIC_MEDIAN[li] * mult.max(1.0), 0.55),
            ClaimKind::Inpatient => (IN_MEDIAN[li] * mult, 0.75),
        };
        let total = (lognormal(r, median, sigma).clamp(5.0, 3_000_000.0) * 100.0).round() as i64;
        let (lo, hi) = ELIGIBLE[li];
        let eligible = (total as f64 * r.gen_range(lo..hi)).round() as i64;
        c.total_cost = Fen(total);
        c.eligible_cost = Fen(eligible.min(total));
        c.kind = kind;
        c.facility_level = level;
        // The discharge falls in the year, on or after birth; a stay may begin in
        // the year before.
        let first = NaiveDate::from_ymd_opt(plan.year, 1, 1).expect("valid").max(birth);
        let span = (plan.year_end - first).num_days() + 1;
        c.discharged = first + Duration::days(r.gen_range(0..span));
        let stay =
            if kind == ClaimKind::Inpatient { lognormal(r, STAY[li], 0.5).round().clamp(1.0, 90.0) as i64 } else { 0 };
        c.admitted = (c.discharged - Duration::days(stay)).max(birth);
        c.diagnosis.clear();
        match (kind, d) {
            (_, Some(d)) => c.diagnosis.push_str(d.code),
            (ClaimKind::Inpatient, None) => {
                if !male && (20..=40).contains(&age) && r.gen_bool(0.4) {
                    c.diagnosis.push_str("O80.0")
                } else {
                    c.diagnosis.push_str(tables::INPATIENT_CODES[r.gen_range(0..tables::INPATIENT_CODES.len())])
                }
            }
            _ => c.diagnosis.push_str(tables::OUTPATIENT_CODES[r.gen_range(0..tables::OUTPATIENT_CODES.len())]),
        }
        *claim_no += 1;
        c.claim_id.clear();
        let _ = write!(c.claim_id, "C{}{:06}", v.code, claim_no);
        c.person_id = person;
        sink.claim(c)
    };

    for _ in 0..poisson(r, out_rate * scale) {
        // Some visits are for a recorded condition, most for everyday complaints.
        let d = if !dx.is_empty() && r.gen_bool(0.3) { dx[r.gen_range(0..dx.len())] } else { None };
        let d = d.filter(|d| !is_serious(d));
        emit(ClaimKind::Outpatient, d, r, c)?;
        n += 1;
    }
    for d in dx.iter().flatten() {
        for _ in 0..poisson(r, d.chronic_visits * scale) {
            emit(ClaimKind::ChronicOutpatient, Some(d), r, c)?;
            n += 1;
        }
        for _ in 0..poisson(r, d.admissions * scale) {
            emit(ClaimKind::Inpatient, Some(d), r, c)?;
            n += 1;
        }
    }
    for _ in 0..poisson(r, in_rate * scale) {
        emit(ClaimKind::Inpatient, None, r, c)?;
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn households_have_believable_members() {
        let mut r = stream(3, 3, Purpose::People);
        let mut out = Vec::new();
        for size in 1..=8u8 {
            for _ in 0..200 {
                members(&mut r, size, PovertyStatus::General, &mut out);
                assert_eq!(out.len(), size as usize);
                assert!(out.iter().all(|m| (0..100).contains(&m.age)), "{out:?}");
            }
        }
    }

    #[test]
    fn names_are_two_to_four_characters() {
        let mut r = stream(3, 4, Purpose::People);
        for _ in 0..500 {
            let mut s = String::new();
            let male = r.gen_bool(0.5);
            person_name(&mut r, male, None, &mut s);
            let n = s.chars().count();
            assert!((2..=4).contains(&n), "{s}");
        }
    }
}
