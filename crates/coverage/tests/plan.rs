//! The roving plan respects every constraint of the spec on random instances,
//! and chooses as the spec asks on hand-made ones.

mod common;
use common::*;
use coverage::plan::{plan, plan_inputs, Action, PlanDoctor, PlanSettings, PlanVillage};
use coverage::{Network, Settings, TravelModel};
use domain::{FacilityKind as K, Qualification as Q};
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};

fn village_at(i: usize, population: u32, pt: Option<(f64, f64)>) -> PlanVillage {
    PlanVillage { code: code(&format!("341122100{:03}", 201 + i)), name: format!("v{i}"), population, point: pt }
}

fn doctor(id: &str, facility: &str, pt: (f64, f64)) -> PlanDoctor {
    PlanDoctor { practitioner_id: id.into(), facility_id: facility.into(), point: pt }
}

/// Checks every constraint of the spec and the figures' consistency.
fn check(villages: &[PlanVillage], doctors: &[PlanDoctor], s: &PlanSettings) -> Result<coverage::Plan, TestCaseError> {
    let p = plan(villages, doctors, s).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(p.villages.len(), villages.len());
    let mut per_doctor: HashMap<usize, Vec<u8>> = HashMap::new();
    let (mut travel, mut covered) = (0.0, 0u64);
    for (i, vp) in p.villages.iter().enumerate() {
        prop_assert_eq!(vp.village, i);
        let v = &villages[i];
        match vp.action {
            Action::Rove => {
                prop_assert!(v.population <= s.dispatch_population);
                let slots: Vec<u8> = vp.visits.iter().flat_map(|x| x.slots.clone()).collect();
                prop_assert_eq!(slots.len() as u32, s.visits_per_week, "visits of village {}", i);
                let distinct: HashSet<u8> = slots.iter().copied().collect();
                prop_assert_eq!(distinct.len(), slots.len(), "a village visited twice in one half-day");
                for x in &vp.visits {
                    let m = s.model.minutes(doctors[x.doctor].point, v.point.unwrap());
                    prop_assert!((m - x.minutes).abs() < 1e-9);
                    prop_assert!(x.minutes <= s.max_travel_minutes + 1e-9, "trip of {} minutes", x.minutes);
                    per_doctor.entry(x.doctor).or_default().extend(&x.slots);
                    travel += x.minutes * x.slots.len() as f64;
                }
                covered += v.population as u64;
                prop_assert!(vp.reason.is_empty());
            }
            Action::Dispatch => {
                prop_assert!(vp.visits.is_empty());
                let reachable = v
                    .point
                    .is_some_and(|pt| doctors.iter().any(|d| s.model.minutes(d.point, pt) <= s.max_travel_minutes));
                prop_assert!(
                    v.population > s.dispatch_population || !reachable,
                    "village {} dispatched: {}",
                    i,
                    vp.reason
                );
            }
            Action::Uncovered => {
                prop_assert!(vp.visits.is_empty());
                prop_assert!(!vp.reason.is_empty());
            }
        }
    }
    for (d, slots) in &per_doctor {
        prop_assert!(slots.len() as u32 <= s.outreach_halfdays, "doctor {} has {} half-days", d, slots.len());
        let distinct: HashSet<u8> = slots.iter().copied().collect();
        prop_assert_eq!(distinct.len(), slots.len(), "doctor {} double-booked", d);
    }
    prop_assert!((travel - p.total_travel_minutes).abs() < 1e-6);
    prop_assert_eq!(covered, p.covered_population);
    prop_assert!(
        p.lower_bound_minutes <= p.total_travel_minutes + 1e-6,
        "bound {} > plan {}",
        p.lower_bound_minutes,
        p.total_travel_minutes
    );
    prop_assert!(p.gap() >= -1e-9);
    prop_assert!(
        p.covered_population <= p.population_bound,
        "covered {} above the population bound {}",
        p.covered_population,
        p.population_bound
    );
    let candidates: u64 = villages
        .iter()
        .filter(|v| {
            v.population <= s.dispatch_population
                && v.point
                    .is_some_and(|pt| doctors.iter().any(|d| s.model.minutes(d.point, pt) <= s.max_travel_minutes))
        })
        .map(|v| v.population as u64)
        .sum();
    prop_assert!(p.population_bound <= candidates, "bound {} above the candidates' {}", p.population_bound, candidates);
    prop_assert!((0.0..=1.0).contains(&p.population_gap()));
    Ok(p)
}

/// The relaxation's optimum where all doctors work from one place: a
/// fractional knapsack, the largest villages in reach first, each taking up to
/// `k` of the `h × doctors` visits (the bound computed another way).
fn one_site_bound(villages: &[PlanVillage], doctors: &[PlanDoctor], s: &PlanSettings) -> u64 {
    let Some(site) = doctors.first().map(|d| d.point) else { return 0 };
    let mut pops: Vec<u64> = villages
        .iter()
        .filter(|v| {
            v.population <= s.dispatch_population
                && v.point.is_some_and(|pt| s.model.minutes(site, pt) <= s.max_travel_minutes)
        })
        .map(|v| v.population as u64)
        .collect();
    pops.sort_unstable_by(|a, b| b.cmp(a));
    let (k, mut left) = (s.visits_per_week as u64, s.outreach_halfdays as u64 * doctors.len() as u64);
    let mut weighted = 0u64;
    for p in pops {
        let take = k.min(left);
        weighted += p * take;
        left -= take;
    }
    weighted / k
}

fn instance() -> impl Strategy<Value = (Vec<PlanVillage>, Vec<PlanDoctor>, PlanSettings)> {
    let village = (0u32..2000, 0.0f64..0.5, 0.0f64..0.5, 0u8..20);
    let facility = (0.0f64..0.5, 0.0f64..0.5, 1usize..4);
    (
        proptest::collection::vec(village, 1..30),
        proptest::collection::vec(facility, 0..6),
        1u32..4,
        1u32..6,
        20.0f64..70.0,
        500u32..1600,
    )
        .prop_map(|(vs, fs, k, h, max, dispatch)| {
            let villages = vs
                .iter()
                .enumerate()
                .map(|(i, &(pop, x, y, nopt))| village_at(i, pop, (nopt != 0).then_some((118.0 + x, 32.0 + y))))
                .collect();
            let mut doctors = Vec::new();
            for (j, &(x, y, n)) in fs.iter().enumerate() {
                for m in 0..n {
                    doctors.push(doctor(&format!("d{j}.{m}"), &format!("f{j}"), (118.0 + x, 32.0 + y)));
                }
            }
            let s = PlanSettings {
                visits_per_week: k,
                outreach_halfdays: h,
                max_travel_minutes: max,
                dispatch_population: dispatch,
                model: TravelModel::default(),
            };
            (villages, doctors, s)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn plans_respect_every_constraint((villages, doctors, s) in instance()) {
        check(&villages, &doctors, &s)?;
    }

    #[test]
    fn the_population_bound_is_the_relaxations_optimum_on_one_site((villages, doctors, s) in instance()) {
        let doctors: Vec<PlanDoctor> = doctors.iter().map(|d| PlanDoctor { point: (118.25, 32.25), ..d.clone() }).map(|d| PlanDoctor { facility_id: "f0".into(), ..d }).collect();
        let p = check(&villages, &doctors, &s)?;
        prop_assert_eq!(p.population_bound, one_site_bound(&villages, &doctors, &s));
    }
}

#[test]
fn the_population_bound_counts_the_visits_capacity_leaves_over() {
    // One doctor with 3 half-days, villages needing 2 visits: the plan covers
    // the larger village (300); the relaxation gives it 2 visits and the other
    // 1 of its 2, so the bound is 300 + 200 / 2 = 400 and the gap 25%.
    let villages = vec![village_at(0, 300, Some((118.0, 32.01))), village_at(1, 200, Some((118.0, 32.02)))];
    let doctors = vec![doctor("d1", "T1", (118.0, 32.0))];
    let s = PlanSettings { outreach_halfdays: 3, ..PlanSettings::default() };
    let p = check(&villages, &doctors, &s).unwrap();
    assert_eq!(p.covered_population, 300);
    assert_eq!(p.population_bound, 400);
    assert!((p.population_gap() - 0.25).abs() < 1e-12);
    // Room for both: the bound is met.
    let p = check(&villages, &doctors, &PlanSettings::default()).unwrap();
    assert_eq!((p.covered_population, p.population_bound), (500, 500));
    assert_eq!(p.population_gap(), 0.0);
}

#[test]
fn capacity_goes_to_the_larger_village_and_the_rest_is_explained() {
    // One doctor, 4 half-days, villages needing 2 visits each: three villages in
    // reach, room for two; the smallest is left uncovered.
    let villages = vec![
        village_at(0, 300, Some((118.0, 32.01))),
        village_at(1, 900, Some((118.0, 32.02))),
        village_at(2, 600, Some((118.0, 32.03))),
        village_at(3, 2000, Some((118.0, 32.01))),
        village_at(4, 100, Some((119.0, 33.0))),
        village_at(5, 100, None),
    ];
    let doctors = vec![doctor("d1", "T1", (118.0, 32.0))];
    let p = check(&villages, &doctors, &PlanSettings::default()).unwrap();
    let actions: Vec<Action> = p.villages.iter().map(|v| v.action).collect();
    assert_eq!(
        actions,
        vec![Action::Uncovered, Action::Rove, Action::Rove, Action::Dispatch, Action::Dispatch, Action::Uncovered]
    );
    assert!(p.villages[0].reason.contains("no outreach half-days left"), "{}", p.villages[0].reason);
    assert!(p.villages[3].reason.contains("2000 people"), "{}", p.villages[3].reason);
    assert!(p.villages[4].reason.contains("within 60 minutes"), "{}", p.villages[4].reason);
    assert!(p.villages[5].reason.contains("no location"), "{}", p.villages[5].reason);
    assert_eq!(p.covered_population, 1500);
    // Capacity binds, but the two largest fill it exactly: no gap to the bound.
    assert_eq!(p.population_bound, 1500);
    // The one doctor is the nearest for both: the plan meets its bound.
    assert!((p.total_travel_minutes - p.lower_bound_minutes).abs() < 1e-9);
    let slots: Vec<u8> = p.villages[1].visits[0].slots.iter().chain(&p.villages[2].visits[0].slots).copied().collect();
    assert_eq!(slots.iter().collect::<HashSet<_>>().len(), 4);
}

#[test]
fn least_travel_when_capacity_allows() {
    // Two sites; village A is near site 1, B near site 2; each site has one
    // doctor with room for both villages. The plan sends each to its nearest.
    let villages = vec![village_at(0, 500, Some((118.0, 32.0))), village_at(1, 500, Some((118.2, 32.0)))];
    let doctors = vec![doctor("d1", "S1", (118.02, 32.0)), doctor("d2", "S2", (118.18, 32.0))];
    let s = PlanSettings { outreach_halfdays: 4, ..PlanSettings::default() };
    let p = check(&villages, &doctors, &s).unwrap();
    assert_eq!(p.villages[0].visits[0].doctor, 0);
    assert_eq!(p.villages[1].visits[0].doctor, 1);
    assert!(p.gap().abs() < 1e-12);
}

#[test]
fn bad_settings_are_refused() {
    for s in [
        PlanSettings { visits_per_week: 0, ..PlanSettings::default() },
        PlanSettings { outreach_halfdays: 11, ..PlanSettings::default() },
        PlanSettings { max_travel_minutes: -1.0, ..PlanSettings::default() },
    ] {
        assert!(plan(&[], &[], &s).is_err());
    }
}

#[test]
fn inputs_from_the_registry() {
    let mut regions = frame();
    regions.push(village("341122100201", "东村", 800, (118.4, 32.45)));
    regions.push(village("341122100202", "西村", 900, (118.4, 32.40)));
    let facilities = vec![
        facility("H1", K::CountyHospital, Some(2), "341122000000", Some((118.4, 32.3))),
        facility("T1", K::TownshipCenter, None, "341122100202", Some((118.4, 32.40))),
        facility("M1", K::MunicipalHospital, Some(3), "341122000000", Some((118.4, 32.44))),
    ];
    let people = vec![
        person("p1", "T1", Q::Physician, "1980-01-01", true),
        person("p2", "T1", Q::AssistantPhysician, "1960-01-01", true), // over 60: not serving
        person("p3", "H1", Q::Physician, "1980-01-01", true),
        person("n1", "H1", Q::Nurse, "1980-01-01", true),
        person("p4", "M1", Q::Physician, "1980-01-01", true), // municipal: not a roving source
    ];
    let net = Network::new(regions, facilities, people).unwrap();
    let (villages, doctors) = plan_inputs(&net, day("2025-01-01"), &Settings::default());
    assert_eq!(villages.len(), 1);
    assert_eq!(villages[0].name, "东村");
    let ids: Vec<&str> = doctors.iter().map(|d| d.practitioner_id.as_str()).collect();
    assert_eq!(ids, vec!["p3", "p1"]);
    let p = plan(&villages, &doctors, &PlanSettings::default()).unwrap();
    assert_eq!(p.villages[0].action, Action::Rove);
    // T1 is 0.05° away (14.5 min) and H1 0.15° (43.4 min): T1's doctor goes.
    assert_eq!(doctors[p.villages[0].visits[0].doctor].practitioner_id, "p1");
}

#[test]
fn tours_take_doctors_of_municipal_and_provincial_hospitals_too() {
    let mut regions = frame();
    regions.push(village("341122100201", "东村", 800, (118.4, 32.45)));
    regions.push(village("341122100202", "西村", 900, (118.4, 32.40)));
    let facilities = vec![
        facility("T1", K::TownshipCenter, None, "341122100202", Some((118.4, 32.40))),
        facility("M1", K::MunicipalHospital, Some(3), "341122000000", Some((118.4, 32.44))),
        facility("P1", K::ProvincialHospital, Some(3), "341122000000", Some((118.5, 32.44))),
    ];
    let people = vec![
        person("p1", "T1", Q::Physician, "1980-01-01", true),
        person("p4", "M1", Q::Physician, "1980-01-01", true),
        person("p5", "P1", Q::Physician, "1980-01-01", true),
    ];
    let net = Network::new(regions, facilities, people).unwrap();
    let (villages, doctors) = coverage::tours::tour_inputs(&net, day("2025-01-01"), &Settings::default());
    let mut ids: Vec<&str> = doctors.iter().map(|d| d.practitioner_id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, vec!["p1", "p4", "p5"]);
    // M1 is nearest (0.01°): its doctor tours 东村.
    let t = coverage::tours(&villages, &doctors, &coverage::TourSettings::default()).unwrap();
    assert_eq!(t.tours.len(), 1);
    assert_eq!(doctors[t.tours[0].doctor].practitioner_id, "p4");
    assert_eq!((t.covered_population, t.population_bound), (800, 800));
}
