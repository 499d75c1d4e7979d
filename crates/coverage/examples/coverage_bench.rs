//! Timings of the coverage engines on synthetic data of stated size, for
//! bench/coverage.sh and bench/results/coverage.md.
//!
//! ```text
//! cargo run --release -p coverage --example coverage_bench -- registry 2850   # national: 2,850 counties
//! cargo run --release -p coverage --example coverage_bench -- roads 10000000  # grid road graph of 10M nodes
//! cargo run --release -p coverage --example coverage_bench -- plan 1          # one county
//! cargo run --release -p coverage --example coverage_bench -- plan 100        # a province
//! ```
//!
//! The synthetic registry: ~14 townships a county and ~12 villages a township
//! (490k villages for 2,850 counties), villages scattered within ~4 km of their
//! township seat; one or two village clinics in 94% of villages with one or two
//! rural doctors aged 30 to 70, a township centre with 3 to 8 staff, 3 county
//! hospitals of 30 doctors. About 590k facilities nationally.

use coverage::plan::{plan, plan_inputs, PlanSettings};
use coverage::{project, reach, shares, GraphBuilder, Network, Settings, TravelModel};
use domain::{Facility, FacilityKind, Grade, Practitioner, Qualification, Region, RegionCode, RegionLevel};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

fn region(code: u64, name: String, ur: Option<u16>, pop: Option<u32>, pt: Option<(f64, f64)>) -> Region {
    let code = RegionCode::from_u64(code).unwrap();
    Region {
        code,
        name,
        level: code.level(),
        urban_rural: ur,
        population: pop,
        lon: pt.map(|p| p.0),
        lat: pt.map(|p| p.1),
    }
}

fn synth(counties: usize, seed: u64) -> (Vec<Region>, Vec<Facility>, Vec<Practitioner>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut regions, mut facilities, mut people) = (Vec::new(), Vec::new(), Vec::new());
    let per_province = 92;
    let provinces = counties.div_ceil(per_province);
    let mut pid = 0u64;
    let mut staff = |people: &mut Vec<Practitioner>,
                     rng: &mut ChaCha8Rng,
                     fid: &str,
                     q: Qualification,
                     n: usize,
                     ages: (i32, i32)| {
        for _ in 0..n {
            pid += 1;
            let age = rng.gen_range(ages.0..ages.1);
            let birth =
                chrono::NaiveDate::from_ymd_opt(2025 - age, rng.gen_range(1..=12), rng.gen_range(1..=28)).unwrap();
            people.push(Practitioner {
                practitioner_id: format!("P{pid}"),
                facility_id: fid.to_string(),
                name: String::new(),
                qualification: q,
                gp: false,
                birth_date: birth,
                active: rng.gen_bool(0.97),
            });
        }
    };
    let mut made = 0;
    for p in 0..provinces {
        let pcode = (11 + p as u64) * 10_000_000_000;
        regions.push(region(pcode, format!("省{p}"), None, None, None));
        let (plon, plat) = (rng.gen_range(80.0..125.0), rng.gen_range(22.0..48.0));
        for c in 0..per_province.min(counties - made) {
            made += 1;
            let city = (c / 10 + 1) as u64;
            let ccode = pcode + city * 100_000_000 + (c % 10 + 1) as u64 * 1_000_000;
            if c % 10 == 0 {
                regions.push(region(pcode + city * 100_000_000, format!("市{p}.{city}"), None, None, None));
            }
            regions.push(region(ccode, format!("县{p}.{c}"), None, None, None));
            let (clon, clat) = (plon + rng.gen_range(-4.0..4.0), plat + rng.gen_range(-3.0..3.0));
            for h in 0..3 {
                let fid = format!("H{ccode}.{h}");
                let grade = if h == 0 && rng.gen_bool(0.97) { Some(Grade(2)) } else { Some(Grade(1)) };
                facilities.push(Facility {
                    opened: None,
                    closed: None,
                    facility_id: fid.clone(),
                    name: fid.clone(),
                    kind: FacilityKind::CountyHospital,
                    grade,
                    region_code: RegionCode::from_u64(ccode).unwrap(),
                    lon: Some(clon),
                    lat: Some(clat),
                });
                staff(&mut people, &mut rng, &fid, Qualification::Physician, 30, (28, 62));
            }
            let towns = rng.gen_range(10..19);
            for t in 0..towns {
                let tcode = ccode + (100 + t as u64) * 1000;
                regions.push(region(tcode, format!("镇{tcode}"), Some(220), None, None));
                let (tlon, tlat) = (clon + rng.gen_range(-0.5..0.5), clat + rng.gen_range(-0.4..0.4));
                let tid = format!("T{tcode}");
                facilities.push(Facility {
                    opened: None,
                    closed: None,
                    facility_id: tid.clone(),
                    name: tid.clone(),
                    kind: FacilityKind::TownshipCenter,
                    grade: None,
                    region_code: RegionCode::from_u64(tcode).unwrap(),
                    lon: Some(tlon),
                    lat: Some(tlat),
                });
                let n = rng.gen_range(3..9);
                staff(&mut people, &mut rng, &tid, Qualification::Physician, n / 2, (28, 63));
                staff(&mut people, &mut rng, &tid, Qualification::AssistantPhysician, n - n / 2, (28, 63));
                staff(&mut people, &mut rng, &tid, Qualification::Nurse, 2, (25, 55));
                let villages = rng.gen_range(8..17);
                for v in 0..villages {
                    let vcode = tcode + 201 + v as u64;
                    let pt = (tlon + rng.gen_range(-0.04..0.04), tlat + rng.gen_range(-0.035..0.035));
                    let pop = rng.gen_range(300..2200);
                    regions.push(region(vcode, format!("村{vcode}"), Some(220), Some(pop), Some(pt)));
                    if rng.gen_bool(0.06) {
                        continue;
                    }
                    for k in 0..if rng.gen_bool(0.2) { 2 } else { 1 } {
                        let fid = format!("V{vcode}.{k}");
                        facilities.push(Facility {
                            opened: None,
                            closed: None,
                            facility_id: fid.clone(),
                            name: fid.clone(),
                            kind: FacilityKind::VillageClinic,
                            grade: None,
                            region_code: RegionCode::from_u64(vcode).unwrap(),
                            lon: None,
                            lat: None,
                        });
                        let n = rng.gen_range(1..3);
                        staff(&mut people, &mut rng, &fid, Qualification::RuralDoctor, n, (30, 71));
                    }
                }
            }
        }
    }
    (regions, facilities, people)
}

fn secs(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let what = args.get(1).map(|s| s.as_str()).unwrap_or("registry");
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2850);
    let d = chrono::NaiveDate::from_ymd_opt(2025, 6, 30).unwrap();
    let s = Settings::default();
    match what {
        "registry" => {
            let t = Instant::now();
            let (r, f, p) = synth(n, 1);
            let villages = r.iter().filter(|x| x.level == RegionLevel::Village).count();
            println!(
                "generated {} regions ({villages} villages), {} facilities, {} practitioners in {:.2} s",
                r.len(),
                f.len(),
                p.len(),
                secs(t)
            );
            let total = Instant::now();
            let t = Instant::now();
            let net = Network::new(r, f, p).unwrap();
            println!("index and check the registry: {:.2} s", secs(t));
            let t = Instant::now();
            let spots = project(&net, d, &s);
            let now = spots.iter().filter(|b| b.in_years == 0).count();
            println!("blank spots at 0/1/3/5 years: {} rows ({now} now) in {:.2} s", spots.len(), secs(t));
            let t = Instant::now();
            let rs = reach(&net, d, &s, &TravelModel::default());
            println!("straight-line reach of {} villages x 3 categories: {:.2} s", rs.len(), secs(t));
            let t = Instant::now();
            let sh = shares(&net, &rs);
            let nat: u64 = sh.iter().filter(|c| c.level == RegionLevel::Province).map(|c| c.within).sum();
            let pop: u64 = sh.iter().filter(|c| c.level == RegionLevel::Province).map(|c| c.population).sum();
            println!(
                "15-minute shares of {} regions: {:.2} s ({:.1}% of {pop} rural people inside)",
                sh.len(),
                secs(t),
                nat as f64 / pop as f64 * 100.0
            );
            println!("TOTAL blank spots + projection + reach + shares: {:.2} s", secs(total));
        }
        "roads" => {
            let side = (n as f64).sqrt().ceil() as usize;
            let t = Instant::now();
            let mut rng = ChaCha8Rng::seed_from_u64(2);
            let mut b = GraphBuilder::with_capacity(side * side, 4 * side * side);
            // A grid of ~100 m cells around (110 E, 30 N) with random road classes.
            for y in 0..side {
                for x in 0..side {
                    b.add_node(110.0 + x as f64 * 0.001, 30.0 + y as f64 * 0.0009);
                }
            }
            let classes = [
                coverage::SpeedClass::Tertiary,
                coverage::SpeedClass::Unclassified,
                coverage::SpeedClass::Residential,
                coverage::SpeedClass::Track,
            ];
            for y in 0..side {
                for x in 0..side {
                    let v = (y * side + x) as u32;
                    if x + 1 < side {
                        b.add_road(v, v + 1, rng.gen_range(90.0..110.0), classes[rng.gen_range(0..4)], false);
                    }
                    if y + 1 < side {
                        b.add_road(v, v + side as u32, rng.gen_range(90.0..110.0), classes[rng.gen_range(0..4)], false);
                    }
                }
            }
            let g = b.build();
            println!(
                "grid graph: {} nodes, {} arcs, {:.0} MB, built in {:.2} s",
                g.node_count(),
                g.arc_count(),
                g.heap_bytes() as f64 / 1e6,
                secs(t)
            );
            for sources in [1usize, 1000] {
                let seeds: Vec<(u32, u32)> =
                    (0..sources).map(|_| (rng.gen_range(0..g.node_count() as u32), 0)).collect();
                let t = Instant::now();
                let dist = g.multi_source(&seeds);
                let e = secs(t);
                println!(
                    "multi-source Dijkstra from {sources} sources: {} nodes settled in {:.2} s = {:.2} M nodes/s on one core",
                    dist.settled,
                    e,
                    dist.settled as f64 / e / 1e6
                );
            }
        }
        "plan" => {
            let (r, f, p) = synth(n, 3);
            let net = Network::new(r, f, p).unwrap();
            let t = Instant::now();
            let (villages, doctors) = plan_inputs(&net, d, &s);
            let ti = secs(t);
            let t = Instant::now();
            let pl = plan(&villages, &doctors, &PlanSettings::default()).unwrap();
            let e = secs(t);
            use coverage::plan::Action;
            println!(
                "plan for {n} count{}: {} blank villages, {} doctors; inputs {:.2} s, plan {:.2} s",
                if n == 1 { "y" } else { "ies" },
                villages.len(),
                doctors.len(),
                ti,
                e
            );
            println!(
                "  rove {}, dispatch {}, uncovered {}; covered population {}; travel {:.0} min, lower bound {:.0} min, gap {:.2}%",
                pl.count(Action::Rove),
                pl.count(Action::Dispatch),
                pl.count(Action::Uncovered),
                pl.covered_population,
                pl.total_travel_minutes,
                pl.lower_bound_minutes,
                pl.gap() * 100.0
            );
        }
        other => eprintln!("unknown benchmark {other}: use registry, roads or plan"),
    }
}
