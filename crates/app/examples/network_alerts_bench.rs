//! Timings of the network alerts kept in a store (docs/coverage.md, "Kept
//! alerts and the cases they raise"): the whole recompute of a province
//! against the incremental one after one posting changes, for BENCHMARKS.md.
//!
//! ```text
//! cargo run --release -p app --example network_alerts_bench -- DB [PROVINCE] [CHANGES]
//! ```
//!
//! DB: a SQLite file (made afresh) or a `postgres://` URL of an empty
//! database. The network is `synth`'s (`generate_network`, every county of the
//! province, the scale `safetynet synth --scale province` writes), with the
//! history of `history_bench` laid over it (every 5th practitioner posted to
//! their own facility from 2020 to a day within two years, every 7th holding
//! their qualification until a day within two years, every 50th facility
//! closing within two years), loaded into the store through the application.
//! Today is 2025-01-01, the horizon one year.
//!
//! Timed: the whole recompute (`raise_network_alerts` over the province: read
//! the network, compute, keep), first and again; then CHANGES times (default
//! 5) one posting of a village doctor recorded (their posting made to end
//! 30 days from today) and the incremental recompute at the places it
//! touches (`network_places` and `raise_network_alerts_at`). After the
//! changes, a whole recompute must raise and resolve nothing: the check that
//! the incremental recompute kept what the whole one keeps.

use app::{App, Scope};
use chrono::{Duration, NaiveDate};
use domain::{FacilityKind, Posting, PostingRole, QualificationHeld};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let db = args.next().expect("usage: network_alerts_bench DB [PROVINCE] [CHANGES]");
    let province = args.next().unwrap_or_else(|| "34".into());
    let changes: usize = args.next().map_or(5, |n| n.parse().expect("CHANGES: a number"));
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    rt.block_on(run(&db, &province, changes));
}

async fn run(db: &str, province: &str, changes: usize) {
    let config =
        synth::Config { scale: synth::Scale::Province, province: Some(province.to_string()), ..Default::default() };
    let mut c = synth::Collect::default();
    let t = Instant::now();
    let summary = synth::generate_network(&config, &mut c).expect("the synthetic network");
    let today = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    // A seeded day within two years of today (a plain LCG: the same each run).
    let mut state: u64 = 0x5eed;
    let mut within = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        today + Duration::days(1 + ((state >> 33) % 730) as i64)
    };
    let mut postings = Vec::new();
    let mut qualifications = Vec::new();
    for (i, p) in c.practitioners.iter().enumerate() {
        if i % 5 == 0 {
            let p = Posting {
                practitioner_id: p.practitioner_id.clone(),
                facility_id: p.facility_id.clone(),
                role: PostingRole::Posting,
                start: NaiveDate::from_ymd_opt(2020, 1, 1),
                end: Some(within()),
            };
            postings.push((format!("posting {i}"), p));
        }
        if i % 7 == 0 {
            let q = QualificationHeld {
                practitioner_id: p.practitioner_id.clone(),
                qualification: p.qualification,
                obtained: None,
                lapses: Some(within()),
            };
            qualifications.push((format!("qualification {i}"), q));
        }
    }
    let mut facilities = c.facilities.clone();
    for f in facilities.iter_mut().step_by(50) {
        f.closed = Some(within());
    }
    eprintln!("generated in {:.1?}", t.elapsed());

    let t = Instant::now();
    let app = App::open(db).await.expect("the store");
    let store = app.store();
    store.import_regions(&c.regions).await.expect("regions");
    store.import_facilities(&facilities).await.expect("facilities");
    store.import_practitioners(&c.practitioners).await.expect("practitioners");
    let all = Scope::all();
    for chunk in postings.chunks(5000) {
        app.record_postings(&all, chunk, "bench").await.expect("postings");
    }
    for chunk in qualifications.chunks(5000) {
        app.record_qualifications(&all, chunk, "bench").await.expect("qualifications");
    }
    println!(
        "province {province}: {} counties, {} villages, {} facilities, {} practitioners; history: {} postings, {} qualifications, {} closures; loaded in {:.1?}",
        summary.counties,
        summary.villages,
        facilities.len(),
        c.practitioners.len(),
        postings.len(),
        qualifications.len(),
        facilities.iter().filter(|f| f.closed.is_some()).count(),
        t.elapsed()
    );

    let s = coverage::Settings::default();
    for pass in ["first", "again"] {
        let t = Instant::now();
        let r = app.raise_network_alerts(&all, today, 1, &s, "bench").await.expect("the whole recompute");
        println!(
            "whole recompute ({pass}): {:.3} s; {} found, {} raised, {} seen, {} resolved",
            t.elapsed().as_secs_f64(),
            r.found,
            r.kept.raised.len(),
            r.kept.seen,
            r.kept.resolved.len()
        );
    }

    // Village doctors with a posting, spread over the province.
    let clinic: std::collections::HashSet<&str> =
        facilities.iter().filter(|f| f.kind == FacilityKind::VillageClinic).map(|f| f.facility_id.as_str()).collect();
    let posted: Vec<&Posting> =
        postings.iter().map(|(_, p)| p).filter(|p| clinic.contains(p.facility_id.as_str())).collect();
    let step = (posted.len() / changes.max(1)).max(1);
    for (n, p) in posted.iter().step_by(step).take(changes).enumerate() {
        let changed = Posting { end: Some(today + Duration::days(30)), ..(*p).clone() };
        let t = Instant::now();
        app.record_postings(&all, &[("the change".into(), changed)], "bench").await.expect("the posting");
        let write = t.elapsed();
        let t = Instant::now();
        let places = app.network_places(&all, std::slice::from_ref(&p.practitioner_id), &[]).await.expect("the places");
        let r = app.raise_network_alerts_at(&all, &places, today, 1, &s, "bench").await.expect("the incremental");
        println!(
            "change {}: posting of {} at {} recorded in {:.3} s; incremental recompute {:.3} s at {} places: {} found, {} raised, {} seen, {} resolved",
            n + 1,
            p.practitioner_id,
            p.facility_id,
            write.as_secs_f64(),
            t.elapsed().as_secs_f64(),
            places.len(),
            r.found,
            r.kept.raised.len(),
            r.kept.seen,
            r.kept.resolved.len()
        );
    }
    let t = Instant::now();
    let r = app.raise_network_alerts(&all, today, 1, &s, "bench").await.expect("the whole recompute");
    println!(
        "whole recompute after the changes: {:.3} s; {} found, {} raised, {} seen, {} resolved ({})",
        t.elapsed().as_secs_f64(),
        r.found,
        r.kept.raised.len(),
        r.kept.seen,
        r.kept.resolved.len(),
        if r.kept.raised.is_empty() && r.kept.resolved.is_empty() {
            "the incremental recomputes kept what the whole one keeps"
        } else {
            "MISMATCH: the incremental recomputes left work to the whole one"
        }
    );
    app.close().await;
    assert!(r.kept.raised.is_empty() && r.kept.resolved.is_empty(), "the incremental and the whole recompute differ");
}
