//! `safetynet reconcile` on the real binary over a store holding settlements
//! made in real time: the CSV summary's per-fund totals, and each fund's
//! statement total, equal the sums of the settlements' payments, to the fen;
//! an unknown facility is refused with a clear error and nothing written.

use chrono::{Datelike, Duration, NaiveDate};
use domain::{Fen, PovertyStatus, ResidentId};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

const POLICY: &str = include_str!("../../settle/tests/data/demo_county_2024.toml");

fn today() -> NaiveDate {
    domain::time::china_today()
}

fn run(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_safetynet"))
        .args(["--db", db, "--quiet", "reconcile"])
        .args(args)
        .output()
        .unwrap()
}

/// A store with one county hospital and three bills settled there; the sums
/// of the funds' payments, and how many of them are not nothing.
async fn fill(db: &str) -> (BTreeMap<String, Fen>, BTreeMap<String, usize>) {
    let d = |s: &str| domain::parse_date(s).unwrap();
    let app = app::App::open(db).await.unwrap();
    let store = app.store();
    let county = domain::RegionCode::parse("341122").unwrap();
    let village = domain::RegionCode::parse("341122100201").unwrap();
    let region = |code, name: &str, level, pop| domain::Region {
        code,
        name: name.into(),
        level,
        urban_rural: None,
        population: pop,
        lon: None,
        lat: None,
    };
    store
        .import_regions(&[
            region(county, "来安县", domain::RegionLevel::County, None),
            region(village, "一村", domain::RegionLevel::Village, Some(900)),
        ])
        .await
        .unwrap();
    store
        .import_households(&[domain::Household {
            household_id: "H1".into(),
            village_code: village,
            size: 2,
            income: Fen::from_yuan(20_000),
            consumption: None,
            food: None,
        }])
        .await
        .unwrap();
    let pids: Vec<ResidentId> =
        (1..=2).map(|seq| ResidentId::from_parts(341122, d("1960-05-01"), seq).unwrap()).collect();
    let persons: Vec<domain::Person> = pids
        .iter()
        .zip([PovertyStatus::Lifted, PovertyStatus::General])
        .map(|(pid, status)| domain::Person {
            person_id: *pid,
            household_id: "H1".into(),
            name: "张三".into(),
            status,
            status_since: d("2020-01-01"),
            diagnoses: vec![],
        })
        .collect();
    store.import_persons(&persons).await.unwrap();
    store
        .import_facilities(&[domain::Facility {
            opened: None,
            closed: None,
            facility_id: "FH".into(),
            name: "县医院".into(),
            kind: domain::FacilityKind::CountyHospital,
            grade: None,
            region_code: village,
            lon: None,
            lat: None,
        }])
        .await
        .unwrap();
    let year = today().year();
    let policy = POLICY.replace("year = 2024", &format!("year = {year}"));
    app::settlement::put_policy(store, "34", year, &policy, "test").await.unwrap();

    let mut sums: BTreeMap<String, Fen> = BTreeMap::new();
    let mut paid: BTreeMap<String, usize> = BTreeMap::new();
    let day = (today() - Duration::days(1)).to_string();
    for (id, pid, total) in [("B1", pids[0], 30_000), ("B2", pids[1], 8_000), ("B3", pids[0], 12_500)] {
        let claim = domain::Claim {
            claim_id: id.into(),
            person_id: pid,
            facility_level: domain::FacilityLevel::County,
            kind: domain::ClaimKind::Inpatient,
            admitted: d(&day),
            discharged: d(&day),
            total_cost: Fen::from_yuan(total),
            eligible_cost: Fen::from_yuan(total * 9 / 10),
            diagnosis: "C16".into(),
            facility_id: "FH".into(),
            referred: false,
        };
        let s = app.settle_claim(&app::Scope::all(), claim, "clerk").await.unwrap();
        for (name, amount) in s.policy.names.iter().zip(&s.settlement.payments) {
            *sums.entry(name.clone()).or_default() += *amount;
            *paid.entry(name.clone()).or_default() += usize::from(*amount != Fen::ZERO);
        }
    }
    app.close().await;
    (sums, paid)
}

fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    text.trim_start_matches('\u{feff}').lines().map(|l| l.split(',').map(str::to_string).collect()).collect()
}

#[test]
fn the_statements_add_up_to_the_settlements_and_an_unknown_facility_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db").display().to_string();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let (sums, paid) = rt.block_on(fill(&db));
    assert!(sums.values().any(|f| *f > Fen::ZERO), "the funds paid something: {sums:?}");
    let (from, to) = ((today() - Duration::days(2)).to_string(), (today() + Duration::days(1)).to_string());

    // The summary: one total row per fund, its net the sum of the settlements.
    let out = dir.path().join("summary.csv");
    let o = run(&db, &["--facility", "FH", "--from", &from, "--to", &to, "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = csv_rows(&out);
    assert_eq!(rows[0], ["日期 day", "基金 fund", "结算 settled", "冲销 voided", "更正 corrected", "净额 net"]);
    let totals: BTreeMap<String, Fen> =
        rows.iter().filter(|r| r[0] == "合计 total").map(|r| (r[1].clone(), Fen::parse_yuan(&r[5]).unwrap())).collect();
    assert_eq!(totals, sums, "the summary's totals against the settlements");
    let settled: BTreeMap<String, Fen> =
        rows.iter().filter(|r| r[0] == "合计 total").map(|r| (r[1].clone(), Fen::parse_yuan(&r[2]).unwrap())).collect();
    assert_eq!(settled, sums, "nothing voided: settled is the net");

    // Each fund's statement: its lines and its total equal the fund's sum.
    for (fund, sum) in &sums {
        let out = dir.path().join(format!("{fund}.csv"));
        let o = run(
            &db,
            &["--facility", "FH", "--from", &from, "--to", &to, "--out", out.to_str().unwrap(), "--fund", fund],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let rows = csv_rows(&out);
        let (last, lines) = rows[1..].split_last().unwrap();
        assert_eq!(last[0], "合计 total");
        assert_eq!(Fen::parse_yuan(&last[4]).unwrap(), *sum, "{fund}'s total");
        let added: Fen = lines.iter().map(|r| Fen::parse_yuan(&r[4]).unwrap()).sum();
        assert_eq!(added, *sum, "{fund}'s lines");
        assert_eq!(lines.len(), paid[fund], "one line per claim the fund paid for");
    }

    // An unknown facility: a clear error, no file.
    let out = dir.path().join("none.csv");
    let o = run(&db, &["--facility", "NOPE", "--from", &from, "--to", &to, "--out", out.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("NOPE") && err.contains("not"), "{err}");
    assert!(!out.exists(), "nothing written");
    // An unknown fund likewise.
    let o =
        run(&db, &["--facility", "FH", "--from", &from, "--to", &to, "--out", out.to_str().unwrap(), "--fund", "nope"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a fund"));
    assert!(!out.exists());
}
