//! Tours keep every constraint of the spec and their bounds hold: on random
//! generated instances (proptest), on tiny ones against exhaustive search, and
//! on generated cases where capacity binds.

use coverage::plan::{Action, PlanDoctor, PlanVillage};
use coverage::tours::{bounds, generated_case, halfday_name, tours, TourSettings, MONTH_HALFDAYS};
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};

/// Checks every constraint and identity; returns the plan.
fn check(
    villages: &[PlanVillage],
    doctors: &[PlanDoctor],
    s: &TourSettings,
) -> Result<coverage::TourPlan, TestCaseError> {
    let p = tours(villages, doctors, s).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(p.villages.len(), villages.len());
    let k = s.visits_per_month as usize;
    let mut seen: HashSet<usize> = HashSet::new();
    let mut halfdays_of: HashMap<usize, Vec<u8>> = HashMap::new();
    let (mut travel, mut covered) = (0.0, 0u64);
    for (ti, t) in p.tours.iter().enumerate() {
        prop_assert!(!t.villages.is_empty(), "tour {} is empty", ti);
        // Travel out, between, back; within the half-day with service.
        let d = doctors[t.doctor].point;
        let mut prev = d;
        let mut tt = 0.0;
        for &v in &t.villages {
            let pt = villages[v].point.expect("toured villages have points");
            tt += s.model.minutes(prev, pt);
            prev = pt;
            prop_assert!(seen.insert(v), "village {} toured twice", v);
            prop_assert!(villages[v].population <= s.dispatch_population);
            prop_assert_eq!(p.villages[v].tour, Some(ti));
            prop_assert_eq!(p.villages[v].action, Action::Rove);
            covered += villages[v].population as u64;
        }
        tt += s.model.minutes(prev, d);
        prop_assert!((tt - t.travel_minutes).abs() < 1e-6, "tour {} travel {} vs {}", ti, tt, t.travel_minutes);
        let dur = tt + s.service_minutes * t.villages.len() as f64;
        prop_assert!((dur - t.duration_minutes).abs() < 1e-6);
        prop_assert!(dur <= s.halfday_minutes + 1e-6, "tour {} takes {} > {}", ti, dur, s.halfday_minutes);
        prop_assert_eq!(t.halfdays.len(), k, "tour {} runs", ti);
        prop_assert!(t.halfdays.iter().all(|&h| (h as u32) < MONTH_HALFDAYS));
        halfdays_of.entry(t.doctor).or_default().extend(&t.halfdays);
        travel += tt * k as f64;
    }
    for (d, hs) in &halfdays_of {
        prop_assert!(hs.len() as u32 <= s.halfdays_per_month, "doctor {} has {} half-days", d, hs.len());
        let distinct: HashSet<u8> = hs.iter().copied().collect();
        prop_assert_eq!(distinct.len(), hs.len(), "doctor {} has two tours in one half-day", d);
    }
    for (v, tv) in p.villages.iter().enumerate() {
        prop_assert_eq!(tv.village, v);
        match tv.action {
            Action::Rove => prop_assert!(seen.contains(&v)),
            Action::Dispatch => {
                let vil = &villages[v];
                let fits = vil.point.is_some_and(|pt| {
                    doctors.iter().any(|d| 2.0 * s.model.minutes(d.point, pt) + s.service_minutes <= s.halfday_minutes)
                });
                prop_assert!(
                    vil.population > s.dispatch_population || !fits,
                    "village {} dispatched: {}",
                    v,
                    tv.reason
                );
            }
            Action::Uncovered => {
                prop_assert!(!seen.contains(&v));
                prop_assert!(!tv.reason.is_empty());
            }
        }
    }
    prop_assert_eq!(covered, p.covered_population);
    prop_assert!((travel - p.travel_minutes).abs() < 1e-6 * (1.0 + travel));
    prop_assert!(
        p.covered_population <= p.population_bound,
        "covered {} above its bound {}",
        p.covered_population,
        p.population_bound
    );
    prop_assert!(
        p.travel_minutes >= p.travel_bound_minutes - 1e-6,
        "travel {} below its bound {}",
        p.travel_minutes,
        p.travel_bound_minutes
    );
    prop_assert!(p.population_gap() >= 0.0 && p.travel_gap() >= -1e-9);
    Ok(p)
}

fn settings(visits: u32, halfdays: u32, budget: f64, service: f64) -> TourSettings {
    TourSettings {
        visits_per_month: visits,
        halfdays_per_month: halfdays,
        halfday_minutes: budget,
        service_minutes: service,
        ..TourSettings::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn tours_keep_every_constraint(
        seed in 0u64..1_000_000,
        n in 1usize..40,
        sites in 1usize..4,
        per_site in 1usize..3,
        side in 10.0f64..60.0,
        visits in 1u32..5,
        extra in 0u32..6,
        budget in 90.0f64..260.0,
        service in 10.0f64..60.0,
    ) {
        let (v, d) = generated_case(seed, n, sites, per_site, side);
        check(&v, &d, &settings(visits, visits + extra, budget, service))?;
    }
}

/// The best plan by exhaustive search on a tiny instance: every way to give
/// each village to one of the doctors' tours or to none, each tour at its best
/// order. Most population, then least travel: (population, monthly travel).
fn brute_force(villages: &[PlanVillage], doctors: &[PlanDoctor], s: &TourSettings) -> (u64, f64) {
    let k = s.visits_per_month as f64;
    // Tour slots: (doctor point) per doctor tour.
    let mut slots: Vec<(f64, f64)> = Vec::new();
    for d in doctors {
        for _ in 0..s.tours_per_doctor() {
            slots.push(d.point);
        }
    }
    let eligible: Vec<usize> =
        (0..villages.len()).filter(|&v| villages[v].population <= s.dispatch_population).collect();
    let n = eligible.len();
    let base = slots.len() + 1;
    let mut best = (0u64, 0.0f64);
    let total = base.pow(n as u32);
    let mut memo: HashMap<(usize, Vec<usize>), Option<f64>> = HashMap::new();
    for code in 0..total {
        let mut c = code;
        let mut groups: Vec<Vec<usize>> = vec![Vec::new(); slots.len()];
        let mut pop = 0u64;
        for &v in &eligible {
            let g = c % base;
            c /= base;
            if g > 0 {
                groups[g - 1].push(v);
                pop += villages[v].population as u64;
            }
        }
        if pop < best.0 {
            continue;
        }
        let mut travel = 0.0;
        let mut ok = true;
        for (g, members) in groups.iter().enumerate() {
            if members.is_empty() {
                continue;
            }
            let t = *memo.entry((g, members.clone())).or_insert_with(|| best_order(slots[g], members, villages, s));
            match t {
                Some(t) => travel += t * k,
                None => {
                    ok = false;
                    break;
                }
            }
        }
        if ok && (pop > best.0 || travel < best.1 - 1e-9) {
            best = (pop, travel);
        }
    }
    best
}

/// The shortest order of a tour from `depot` through `members` that fits the
/// half-day: its travel, or none.
fn best_order(depot: (f64, f64), members: &[usize], villages: &[PlanVillage], s: &TourSettings) -> Option<f64> {
    let mut perm: Vec<usize> = members.to_vec();
    let mut best: Option<f64> = None;
    permute(&mut perm, 0, &mut |p| {
        let mut prev = depot;
        let mut t = 0.0;
        for &v in p {
            let pt = villages[v].point.unwrap();
            t += s.model.minutes(prev, pt);
            prev = pt;
        }
        t += s.model.minutes(prev, depot);
        if t + s.service_minutes * p.len() as f64 <= s.halfday_minutes + 1e-6 && best.is_none_or(|b| t < b) {
            best = Some(t);
        }
    });
    best
}

fn permute(a: &mut Vec<usize>, i: usize, f: &mut dyn FnMut(&[usize])) {
    if i == a.len() {
        f(a);
        return;
    }
    for j in i..a.len() {
        a.swap(i, j);
        permute(a, i + 1, f);
        a.swap(i, j);
    }
}

#[test]
fn tiny_instances_against_exhaustive_search() {
    let (mut same_population, mut same_both, mut cases) = (0, 0, 0);
    for seed in 0..60u64 {
        let n = 3 + (seed % 3) as usize; // 3 to 5 villages
        let sites = 1 + (seed % 2) as usize;
        let (v, d) = generated_case(seed, n, sites, 1, 25.0);
        // Short half-days and one or two tours a doctor: capacity binds.
        let s = settings(2, 2 + 2 * (seed % 2) as u32, 150.0, 30.0);
        let p = check(&v, &d, &s).unwrap();
        let (opt_pop, opt_travel) = brute_force(&v, &d, &s);
        // The optimum lies between ours and the bound: within the reported gap.
        assert!(
            p.covered_population <= opt_pop,
            "seed {seed}: ours {} above the optimum {opt_pop}",
            p.covered_population
        );
        assert!(opt_pop <= p.population_bound, "seed {seed}: optimum {opt_pop} above the bound {}", p.population_bound);
        // The travel bound holds for the optimum's villages too, through the
        // same bound: at equal population it is below the optimum's travel.
        if p.covered_population == opt_pop {
            same_population += 1;
            assert!(p.travel_minutes >= opt_travel - 1e-6, "seed {seed}: ours travels less than the optimum");
            assert!(p.travel_bound_minutes <= p.travel_minutes + 1e-6);
            if (p.travel_minutes - opt_travel).abs() < 1e-6 {
                same_both += 1;
            }
        }
        cases += 1;
    }
    eprintln!(
        "tiny instances: {cases}; optimal population {same_population}; optimal population and travel {same_both}"
    );
    // The heuristic finds the best population on most tiny instances.
    assert!(same_population * 10 >= cases * 8, "only {same_population} of {cases} optimal");
}

#[test]
fn bounds_hold_for_the_optimum_of_tiny_instances() {
    // The travel bound of the optimum's own villages is below its travel:
    // checked through `bounds` on the instance restricted to those villages.
    for seed in 100..130u64 {
        let (v, d) = generated_case(seed, 4, 1, 1, 20.0);
        let s = settings(1, 2, 140.0, 20.0);
        let b = bounds(&v, &d, &s).unwrap();
        let (opt_pop, opt_travel) = brute_force(&v, &d, &s);
        assert!(opt_pop <= b.population, "seed {seed}");
        // Any set of villages that fits: the whole of those the optimum tours
        // is unknown here, so check the bound on every subset's best plan.
        for mask in 1u32..(1 << v.len()) {
            let set: Vec<usize> = (0..v.len()).filter(|i| mask & (1 << i) != 0).collect();
            let sub: Vec<PlanVillage> = set.iter().map(|&i| v[i].clone()).collect();
            let (pop, travel) = brute_force(&sub, &d, &s);
            let all: u64 = sub.iter().map(|x| x.population as u64).sum();
            if pop == all && all > 0 {
                assert!(b.travel(set.iter().copied()) <= travel + 1e-6, "seed {seed} set {set:?}");
            }
        }
        let _ = opt_travel;
    }
}

#[test]
fn one_tour_visits_several_villages() {
    // Three villages close together 20 km from one doctor: one half-day.
    let (mut v, d) = generated_case(7, 3, 1, 1, 1.0);
    let base = d[0].point;
    for (i, x) in v.iter_mut().enumerate() {
        x.point = Some((base.0 + 0.2 + 0.01 * i as f64, base.1));
        x.population = 500;
    }
    let s = settings(4, 4, 240.0, 30.0);
    let p = check(&v, &d, &s).unwrap();
    assert_eq!(p.tours.len(), 1);
    assert_eq!(p.tours[0].villages.len(), 3);
    assert_eq!(p.covered_population, 1500);
    assert_eq!(p.population_bound, 1500);
    // Weekly on one half-day.
    let names: Vec<String> = p.tours[0].halfdays.iter().map(|&h| halfday_name(h)).collect();
    assert_eq!(names, ["W1 Mon AM", "W2 Mon AM", "W3 Mon AM", "W4 Mon AM"]);
}

#[test]
fn a_half_day_too_short_dispatches() {
    let (v, d) = generated_case(3, 5, 1, 1, 40.0);
    let s = settings(1, 1, 40.0, 30.0);
    let p = check(&v, &d, &s).unwrap();
    assert!(p
        .villages
        .iter()
        .all(|x| x.action != Action::Rove || p.tours.iter().any(|t| t.villages.contains(&x.village))));
    assert!(TourSettings { service_minutes: 50.0, ..s }.validate().is_err());
    assert!(TourSettings { visits_per_month: 2, ..s }.validate().is_err());
}

/// Generated cases where capacity binds: few doctors, short half-days. The
/// gaps are printed (run with --nocapture) and kept under what BENCHMARKS.md
/// reports.
#[test]
fn gaps_where_capacity_binds() {
    let s = settings(4, 8, 180.0, 30.0);
    for seed in 1..=5u64 {
        let (v, d) = generated_case(seed, 80, 3, 1, 40.0);
        let p = check(&v, &d, &s).unwrap();
        let reachable: u64 = p
            .villages
            .iter()
            .filter(|x| x.action != Action::Dispatch && v[x.village].point.is_some())
            .map(|x| v[x.village].population as u64)
            .sum();
        eprintln!(
            "seed {seed}: tours {}, covered {} of {} in reach, bound {} (gap {:.2}%), travel {:.0}, bound {:.0} (gap {:.2}%)",
            p.tours.len(),
            p.covered_population,
            reachable,
            p.population_bound,
            p.population_gap() * 100.0,
            p.travel_minutes,
            p.travel_bound_minutes,
            p.travel_gap() * 100.0
        );
        assert!(p.population_bound < reachable, "seed {seed}: capacity does not bind");
        assert!(p.population_gap() < 0.45, "seed {seed}: population gap {:.3}", p.population_gap());
    }
}
