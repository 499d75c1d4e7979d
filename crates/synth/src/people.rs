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
                referred: false,
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

/// Household status weights (per 10,000) by household size, for a formerly poor
/// county: about 1% of persons in special hardship (mostly living alone), 3.5% on
/// the minimum living allowance, 9% lifted out of poverty, 2% monitored
/// (docs/synth.md, "Households").
fn status_weights(size: u8) -> [u32; 5] {
    match size {
        1 => [1_200, 800, 900, 150, 6_950],
        2 => [200, 500, 950, 140, 8_210],
        _ => [15, 330, 900, 120, 8_635],
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

        // Income: per-capita log-normal with a median of 0.9 of the province's rural
        // income (a mean near it), lower for poor households: those in special
        // hardship and on the allowance live mostly on transfers, monitored ones
        // near the line, lifted ones a little under the general median; a thin
        // tail of general households hit by a shock and not yet monitored.
        let (factor, sigma) = match hstatus {
            PovertyStatus::SpecialHardship => (0.55, 0.3),
            PovertyStatus::LowIncome => (0.42, 0.35),
            PovertyStatus::Monitored => (0.42, 0.35),
            PovertyStatus::Lifted => (0.75, 0.4),
            PovertyStatus::General => {
                if r.gen_bool(0.015) {
                    (0.35, 0.5)
                } else {
                    (1.0, 0.5)
                }
            }
        };
        let pc = lognormal(&mut r, 0.9 * plan.rural_income * factor, sigma).max(1_200.0);
        let income = (pc * size as f64).round();
        // Consumption is smoother than income, food a third of it. The poor live
        // near their income, on transfers. Other households consume about 0.95 of
        // the median income (on average about 0.85 of their income, as rural China
        // did in 2023), scaled by their income to the power 0.6 (poorer ones spend
        // more than they earn, richer ones save more) and by size to the power
        // -0.2 (a person living alone spends more than a member of a large
        // household).
        let median = 0.9 * plan.rural_income;
        let pc_consumption = if hstatus.is_poor() {
            pc * r.gen_range(0.85..1.10)
        } else {
            let scale = (size as f64 / 3.0).powf(-0.2);
            0.95 * median * (pc / median).powf(0.6) * scale * r.gen_range(0.9..1.1)
        };
        let consumption = (pc_consumption * size as f64).max(3_000.0 * size as f64).round();
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
            let who = Who { person: id, birth, age, male: m.male, poor: status.is_poor() };
            s.claims += claims(plan, t, v, &who, &dx[..nd], &mut r, &mut claim_no, &mut sc.claim, sink)?;
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
/// share's range. Admissions cost a few thousand yuan in a township centre,
/// six to ten thousand in a county hospital and much more above it
/// (docs/synth.md, "Claims").
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
const IN_MEDIAN: [f64; 6] = [1_500.0, 2_000.0, 5_000.0, 9_000.0, 14_000.0, 22_000.0];
/// The log-scale spread of admission costs (the mean is about 1.16 times the median).
const IN_SIGMA: f64 = 0.55;
const STAY: [f64; 6] = [3.0, 6.0, 8.0, 10.0, 12.0, 14.0];
const ELIGIBLE: [(f64, f64); 6] = [(0.90, 0.98), (0.90, 0.98), (0.87, 0.97), (0.82, 0.94), (0.78, 0.92), (0.72, 0.88)];
/// The eligible share's range for a poor patient, in the province: designated
/// facilities keep the costs outside the catalogues low for them.
const ELIGIBLE_POOR: [(f64, f64); 6] =
    [(0.94, 0.99), (0.94, 0.99), (0.92, 0.99), (0.88, 0.97), (0.84, 0.95), (0.75, 0.90)];

/// Admissions a year per person, by age band (0-5, 6-17, 18-44, 45-59, 60+), before
/// the diseases' own admissions and births.
const IN_RATE: [f64; 5] = [0.095, 0.037, 0.048, 0.09, 0.19];
/// How much more often poor persons are admitted (older, sicker, and treated first
/// and paid after in the county).
const POOR_ADMISSIONS: f64 = 2.0;
/// The chance that a poor patient sent above the county is treated in the county
/// instead: the safety net's lower ceiling and the referral rules keep them there.
const POOR_KEPT_IN_COUNTY: f64 = 0.45;

/// Which level treats a claim (per mille by level, village first).
fn level_weights(kind: ClaimKind, serious: bool) -> [u32; 6] {
    match (kind, serious) {
        (ClaimKind::Outpatient, _) => [550, 300, 120, 25, 5, 0],
        (ClaimKind::ChronicOutpatient, false) => [350, 400, 200, 40, 10, 0],
        (ClaimKind::ChronicOutpatient, true) => [0, 100, 500, 250, 130, 20],
        (ClaimKind::Inpatient, false) => [0, 450, 500, 35, 12, 3],
        (ClaimKind::Inpatient, true) => [0, 60, 640, 180, 105, 15],
    }
}

fn is_serious(d: &Disease) -> bool {
    d.cost >= 1.5
}

/// The person whose claims are drawn.
pub(crate) struct Who {
    pub person: ResidentId,
    pub birth: NaiveDate,
    pub age: i32,
    pub male: bool,
    pub poor: bool,
}

/// The person's claims of the year. Rates are set so that a county averages
/// about 2.5 claims per person; `claims_per_person` scales them.
#[allow(clippy::too_many_arguments)]
fn claims<S: Sink + ?Sized>(
    plan: &Plan,
    t: usize,
    v: &VillagePlan,
    who: &Who,
    dx: &[Option<&'static Disease>],
    r: &mut Stream,
    claim_no: &mut u32,
    c: &mut Claim,
    sink: &mut S,
) -> std::io::Result<u64> {
    if plan.claims_per_person <= 0.0 {
        return Ok(0);
    }
    let Who { person, birth, age, male, poor } = *who;
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
    let births = if !male && (20..=40).contains(&age) { 0.05 } else { 0.0 };
    let age_band = match age {
        ..=5 => 0,
        6..=17 => 1,
        18..=44 => 2,
        45..=59 => 3,
        _ => 4,
    };
    let in_rate = IN_RATE[age_band] * if poor { POOR_ADMISSIONS } else { 1.0 } + births;

    // (kind, disease or none) for each claim, generated in a fixed order.
    let mut emit = |kind: ClaimKind,
                    d: Option<&'static Disease>,
                    r: &mut Stream,
                    c: &mut Claim|
     -> std::io::Result<()> {
        let serious = d.is_some_and(is_serious);
        let mut li = rng::weighted(r, &level_weights(kind, serious));
        if poor && kind == ClaimKind::Inpatient && li > 2 && r.gen_bool(POOR_KEPT_IN_COUNTY) {
            li = 2;
        }
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
            ClaimKind::Inpatient => (IN_MEDIAN[li] * mult, IN_SIGMA),
        };
        let total = (lognormal(r, median, sigma).clamp(5.0, 3_000_000.0) * 100.0).round() as i64;
        let (lo, hi) = if poor { ELIGIBLE_POOR[li] } else { ELIGIBLE[li] };
        let eligible = (total as f64 * r.gen_range(lo..hi)).round() as i64;
        c.total_cost = Fen(total);
        c.eligible_cost = Fen(eligible.min(total));
        c.kind = kind;
        c.facility_level = level;
        // A patient treated above the county was sent there (no draw: the
        // streams stay as they were); at or below it no referral is needed.
        c.referred = level.index() > FacilityLevel::County.index();
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
