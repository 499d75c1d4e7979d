//! `safetynet whatif` on small hand-made files: a draft equal to the policy in
//! force changes nothing; a more generous draft shows what each fund pays more and
//! what households pay less, by county and in all; a bad draft is refused and
//! nothing is written.

use chrono::NaiveDate;
use domain::ResidentId;
use std::path::PathBuf;
use std::process::{Command, Output};

const POLICY: &str = include_str!("../../settle/tests/data/demo_county_2024.toml");

fn pid(n: u16) -> String {
    ResidentId::from_parts(341122, NaiveDate::from_ymd_opt(1975, 6, 1).unwrap(), n).unwrap().to_string()
}

struct Files(tempfile::TempDir);

impl Files {
    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path(name), text).unwrap();
    }
}

fn files() -> Files {
    let f = Files(tempfile::tempdir().unwrap());
    f.write(
        "households.csv",
        "household_id,village_code,size,income,consumption,food\n\
         H1,341122100201,2,20000,15000,\n\
         H2,341122100202,4,60000,,\n",
    );
    f.write(
        "persons.csv",
        &format!(
            "person_id,household_id,name,status,status_since\n\
             {},H1,Li Wei,lifted,2020-01-01\n\
             {},H2,Wang Fang,general,2020-01-01\n",
            pid(1),
            pid(2)
        ),
    );
    f.write(
        "claims.csv",
        &format!(
            "claim_id,person_id,facility_level,kind,admitted,discharged,total_cost,eligible_cost,diagnosis\n\
             K1,{p1},county,inpatient,2024-02-01,2024-02-10,60000,50000,C16.9\n\
             K2,{p2},county,inpatient,2024-05-01,2024-05-09,30000,25000,I63\n\
             K0,{p2},county,inpatient,2023-05-01,2023-05-09,30000,25000,I63\n",
            p1 = pid(1),
            p2 = pid(2)
        ),
    );
    f.write(
        "thresholds.toml",
        "[[threshold]]\nregion = \"34\"\nyear = 2024\nrural_income = 19575\nmonitoring_line = 7000\n",
    );
    f.write("in_force.toml", POLICY);
    f
}

fn whatif(f: &Files, draft: &str) -> Output {
    let p = |n: &str| f.path(n).to_string_lossy().into_owned();
    Command::new(env!("CARGO_BIN_EXE_safetynet"))
        .args(["--quiet", "whatif", "--year", "2024"])
        .args(["--policy-in-force", &p("in_force.toml"), "--draft", &p(draft)])
        .args(["--persons", &p("persons.csv"), "--households", &p("households.csv")])
        .args(["--claims", &p("claims.csv"), "--thresholds", &p("thresholds.toml"), "--out", &p("whatif.csv")])
        .output()
        .unwrap()
}

/// The comparison's rows: (county, item) -> (in force, draft, difference).
fn rows(f: &Files) -> Vec<(String, String, String, String, String)> {
    let text = std::fs::read_to_string(f.path("whatif.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("county,county_name,item,in_force,draft,difference"));
    lines
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[0].into(), c[2].into(), c[3].into(), c[4].into(), c[5].into())
        })
        .collect()
}

fn get(rows: &[(String, String, String, String, String)], county: &str, item: &str) -> (f64, f64, f64) {
    let r = rows.iter().find(|r| r.0 == county && r.1 == item).unwrap_or_else(|| panic!("no row {county} {item}"));
    let n = |s: &str| s.parse::<f64>().unwrap_or_else(|_| panic!("{item}: {s:?} is not a number"));
    (n(&r.2), n(&r.3), n(&r.4))
}

#[test]
fn the_same_policy_as_draft_changes_nothing() {
    let f = files();
    let o = whatif(&f, "in_force.toml");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = rows(&f);
    assert!(!rows.is_empty());
    for r in &rows {
        assert!(r.4.is_empty() || r.4.parse::<f64>().unwrap() == 0.0, "{r:?}");
    }
    // Both claims of 2024 were settled, the one of 2023 left out.
    let (claims, _, _) = get(&rows, "all", "households_with_claims");
    assert_eq!(claims, 2.0);
}

#[test]
fn a_more_generous_draft_pays_more_and_leaves_households_less() {
    let f = files();
    // The general residents' county inpatient rate from 0.8 to 0.9.
    let draft = POLICY.replacen("county = 0.8,", "county = 0.9,", 1).replace("Demo county 2024", "Generous draft");
    assert_ne!(draft, POLICY);
    f.write("draft.toml", &draft);
    let o = whatif(&f, "draft.toml");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = rows(&f);
    let (a, b, d) = get(&rows, "all", "paid_basic");
    assert!(b > a && (d - (b - a)).abs() < 0.005, "basic pays more: {a} -> {b} ({d})");
    let (a, b, _) = get(&rows, "all", "out_of_pocket");
    assert!(b < a, "households pay less: {a} -> {b}");
    let (_, _, d) = get(&rows, "341122", "paid_basic");
    assert!(d > 0.0, "and so in the county");
}

#[test]
fn a_bad_draft_is_refused_and_nothing_is_written() {
    let f = files();
    f.write("draft.toml", &POLICY.replacen("rate = 0.6", "rate = 1.6", 1));
    let o = whatif(&f, "draft.toml");
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("draft.toml"), "the error names the file: {err}");
    assert!(!f.path("whatif.csv").exists());
}
