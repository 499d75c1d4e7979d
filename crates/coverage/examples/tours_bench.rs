//! The tour planner on generated cases where capacity binds (few doctors,
//! short half-days), for bench/tours.sh and BENCHMARKS.md, and the same cases
//! exported as JSON for the VROOM comparison (bench/planner_vroom.py).
//!
//! ```text
//! cargo run --release -p coverage --example tours_bench -- cases
//! cargo run --release -p coverage --example tours_bench -- weekly [OUTREACH_HALFDAYS]
//! cargo run --release -p coverage --example tours_bench -- export CASE FILE.json
//! ```
//!
//! `weekly` runs the weekly roving plan (one village a half-day) on the same
//! cases, with its default settings: its population against its bound (the
//! relaxation solved exactly) and its travel against its lower bound.

use coverage::plan::{plan, Action, PlanDoctor, PlanSettings, PlanVillage};
use coverage::tours::{generated_case, tours, TourPlan, TourSettings};
use std::fmt::Write as _;
use std::time::Instant;

/// A generated case: name, seed, villages, facilities, doctors each, side in km.
struct Case {
    name: &'static str,
    seed: u64,
    villages: usize,
    sites: usize,
    doctors: usize,
    side_km: f64,
}

const CASES: [Case; 5] = [
    Case { name: "A", seed: 11, villages: 40, sites: 2, doctors: 1, side_km: 30.0 },
    Case { name: "B", seed: 12, villages: 80, sites: 3, doctors: 1, side_km: 40.0 },
    Case { name: "C", seed: 13, villages: 200, sites: 6, doctors: 2, side_km: 60.0 },
    Case { name: "D", seed: 14, villages: 500, sites: 12, doctors: 2, side_km: 90.0 },
    Case { name: "E", seed: 15, villages: 2000, sites: 40, doctors: 2, side_km: 180.0 },
];

/// Short half-days (3 hours), weekly visits, two tours a doctor a month.
fn settings() -> TourSettings {
    TourSettings {
        visits_per_month: 4,
        halfdays_per_month: 8,
        halfday_minutes: 180.0,
        service_minutes: 30.0,
        ..TourSettings::default()
    }
}

fn run(c: &Case) -> (Vec<PlanVillage>, Vec<PlanDoctor>, TourPlan, f64) {
    let (v, d) = generated_case(c.seed, c.villages, c.sites, c.doctors, c.side_km);
    let t = Instant::now();
    let p = tours(&v, &d, &settings()).expect("valid settings");
    (v, d, p, t.elapsed().as_secs_f64())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("cases") => {
            let s = settings();
            println!(
                "settings: {} visits a month, {} half-days a doctor ({} tours), half-day {} min, service {} min",
                s.visits_per_month,
                s.halfdays_per_month,
                s.tours_per_doctor(),
                s.halfday_minutes,
                s.service_minutes
            );
            println!("case villages doctors tours toured covered bound pop_gap% travel bound travel_gap% seconds");
            for c in &CASES {
                let (_, d, p, secs) = run(c);
                println!(
                    "{} {} {} {} {} {} {} {:.2} {:.0} {:.0} {:.2} {:.3}",
                    c.name,
                    c.villages,
                    d.len(),
                    p.tours.len(),
                    p.count(Action::Rove),
                    p.covered_population,
                    p.population_bound,
                    p.population_gap() * 100.0,
                    p.travel_minutes,
                    p.travel_bound_minutes,
                    p.travel_gap() * 100.0,
                    secs
                );
            }
        }
        Some("weekly") => {
            // An optional number of outreach half-days a doctor (default 4).
            let h = args.get(2).and_then(|h| h.parse().ok()).unwrap_or(PlanSettings::default().outreach_halfdays);
            let s = PlanSettings { outreach_halfdays: h, ..PlanSettings::default() };
            println!(
                "weekly plan settings: {} visits a week, {} outreach half-days a doctor, trips up to {} min, dispatch above {} people",
                s.visits_per_week, s.outreach_halfdays, s.max_travel_minutes, s.dispatch_population
            );
            println!("case villages doctors roved dispatched covered bound pop_gap% travel bound travel_gap% seconds");
            for c in &CASES {
                let (v, d) = generated_case(c.seed, c.villages, c.sites, c.doctors, c.side_km);
                let t = Instant::now();
                let p = plan(&v, &d, &s).expect("valid settings");
                let secs = t.elapsed().as_secs_f64();
                println!(
                    "{} {} {} {} {} {} {} {:.2} {:.0} {:.0} {:.2} {:.3}",
                    c.name,
                    c.villages,
                    d.len(),
                    p.count(Action::Rove),
                    p.count(Action::Dispatch),
                    p.covered_population,
                    p.population_bound,
                    p.population_gap() * 100.0,
                    p.total_travel_minutes,
                    p.lower_bound_minutes,
                    p.gap() * 100.0,
                    secs
                );
            }
        }
        Some("export") if args.len() == 4 => {
            let c = CASES.iter().find(|c| c.name == args[2]).expect("a case: A to E");
            let (v, d, p, secs) = run(c);
            std::fs::write(&args[3], export(c, &v, &d, &p, secs)).expect("writing the JSON file");
        }
        _ => eprintln!("use: tours_bench cases | tours_bench weekly | tours_bench export CASE FILE.json"),
    }
}

/// The instance (sites first, then villages, one travel matrix in minutes)
/// and our plan, as JSON.
fn export(c: &Case, v: &[PlanVillage], d: &[PlanDoctor], p: &TourPlan, secs: f64) -> String {
    let s = settings();
    let mut sites: Vec<(String, (f64, f64), usize)> = Vec::new();
    for doc in d {
        match sites.iter_mut().find(|x| x.0 == doc.facility_id) {
            Some(x) => x.2 += 1,
            None => sites.push((doc.facility_id.clone(), doc.point, 1)),
        }
    }
    let points: Vec<(f64, f64)> =
        sites.iter().map(|x| x.1).chain(v.iter().map(|x| x.point.expect("generated villages have points"))).collect();
    let mut o = String::new();
    let _ = write!(
        o,
        "{{\"case\":\"{}\",\"settings\":{{\"visits_per_month\":{},\"halfdays_per_month\":{},\"tours_per_doctor\":{},\"halfday_minutes\":{},\"service_minutes\":{}}},",
        c.name,
        s.visits_per_month,
        s.halfdays_per_month,
        s.tours_per_doctor(),
        s.halfday_minutes,
        s.service_minutes
    );
    o.push_str("\"sites\":[");
    for (i, x) in sites.iter().enumerate() {
        let _ = write!(o, "{}{{\"id\":\"{}\",\"doctors\":{}}}", if i > 0 { "," } else { "" }, x.0, x.2);
    }
    o.push_str("],\"villages\":[");
    for (i, x) in v.iter().enumerate() {
        let eligible = p.villages[i].action != Action::Dispatch;
        let _ =
            write!(o, "{}{{\"population\":{},\"eligible\":{}}}", if i > 0 { "," } else { "" }, x.population, eligible);
    }
    o.push_str("],\"minutes\":[");
    for (i, a) in points.iter().enumerate() {
        o.push_str(if i > 0 { ",[" } else { "[" });
        for (j, b) in points.iter().enumerate() {
            let _ = write!(o, "{}{:.4}", if j > 0 { "," } else { "" }, s.model.minutes(*a, *b));
        }
        o.push(']');
    }
    let _ = write!(
        o,
        "],\"ours\":{{\"tours\":{},\"toured\":{},\"covered\":{},\"population_bound\":{},\"travel\":{:.4},\"travel_bound\":{:.4},\"seconds\":{:.4}}}}}",
        p.tours.len(),
        p.count(Action::Rove),
        p.covered_population,
        p.population_bound,
        p.travel_minutes,
        p.travel_bound_minutes,
        secs
    );
    o
}
