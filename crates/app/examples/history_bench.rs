//! Timings of coverage from the network's history (docs/coverage.md,
//! "History", "Network alerts") on a synthetic province, for BENCHMARKS.md.
//!
//! ```text
//! cargo run --release -p app --example history_bench -- [PROVINCE]   # default 34 (Anhui)
//! ```
//!
//! The network is `synth`'s (`generate_network`, every county of the province).
//! A history is laid over it, seeded: every 5th practitioner posted to their
//! own facility from 2020 to a day within the next two years, every 7th holding
//! their qualification until a day within the next two years, every 50th
//! facility closing on a day within the next two years. Timed: the projection
//! without history (the engine's `project` on the registry as it stands), the
//! projection from the history (a snapshot for each horizon), and the network
//! alerts of one year (the blank spots on every day the history changes).

use app::history::{project as project_history, snapshot};
use app::network_alerts::{change_days, network_alerts};
use app::NetworkData;
use chrono::{Duration, NaiveDate};
use domain::{Posting, PostingRole, QualificationHeld};
use std::time::Instant;

fn main() {
    let province = std::env::args().nth(1).unwrap_or_else(|| "34".into());
    let config =
        synth::Config { scale: synth::Scale::Province, province: Some(province.clone()), ..Default::default() };
    let mut c = synth::Collect::default();
    let t = Instant::now();
    let summary = synth::generate_network(&config, &mut c).expect("the synthetic network");
    eprintln!("generated in {:.1?}", t.elapsed());
    let as_of = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    // A seeded day within two years of `as_of` (a plain LCG: the same each run).
    let mut state: u64 = 0x5eed;
    let mut within = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        as_of + Duration::days(1 + ((state >> 33) % 730) as i64)
    };
    let mut postings = Vec::new();
    let mut qualifications = Vec::new();
    for (i, p) in c.practitioners.iter().enumerate() {
        if i % 5 == 0 {
            postings.push(Posting {
                practitioner_id: p.practitioner_id.clone(),
                facility_id: p.facility_id.clone(),
                role: PostingRole::Posting,
                start: NaiveDate::from_ymd_opt(2020, 1, 1),
                end: Some(within()),
            });
        }
        if i % 7 == 0 {
            qualifications.push(QualificationHeld {
                practitioner_id: p.practitioner_id.clone(),
                qualification: p.qualification,
                obtained: None,
                lapses: Some(within()),
            });
        }
    }
    let mut facilities = c.facilities.clone();
    for f in facilities.iter_mut().step_by(50) {
        f.closed = Some(within());
    }
    let h = NetworkData {
        regions: c.regions.clone(),
        facilities,
        practitioners: c.practitioners.clone(),
        postings,
        qualifications,
    };
    println!(
        "province {province}: {} counties, {} villages, {} facilities, {} practitioners; history: {} postings, {} qualifications, {} closures",
        summary.counties,
        summary.villages,
        h.facilities.len(),
        h.practitioners.len(),
        h.postings.len(),
        h.qualifications.len(),
        h.facilities.iter().filter(|f| f.closed.is_some()).count()
    );
    let s = coverage::Settings::default();

    let t = Instant::now();
    let net = coverage::Network::new(c.regions.clone(), c.facilities.clone(), c.practitioners.clone()).unwrap();
    let plain = coverage::project(&net, as_of, &s);
    println!("projection without history (Network::new + project): {:.2?}, {} spots", t.elapsed(), plain.len());

    let t = Instant::now();
    let one = snapshot(&h, as_of);
    println!("one snapshot: {:.2?} ({} practitioners placed)", t.elapsed(), one.practitioners.len());

    let t = Instant::now();
    let spots = project_history(&h, as_of, &s).unwrap();
    println!("projection from history (4 snapshots): {:.2?}, {} spots", t.elapsed(), spots.len());

    let until = domain::add_years(as_of, 1);
    let days = change_days(&h, as_of, until, &s).len();
    let t = Instant::now();
    let alerts = network_alerts(&h, as_of, until, &s).unwrap();
    println!(
        "network alerts of one year: {:.2?}, {} change days, {} alerts ({} blank now)",
        t.elapsed(),
        days,
        alerts.len(),
        alerts.iter().filter(|a| a.now).count()
    );
}
