//! `safetynet monitor` on small hand-made files: the exact output of the spec,
//! thresholds from TOML or CSV, households without a threshold reported, bad input
//! refused with file:line: column: reason and nothing written.

use chrono::NaiveDate;
use domain::ResidentId;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn pid(n: u16) -> String {
    ResidentId::from_parts(341122, NaiveDate::from_ymd_opt(1975, 6, 1).unwrap(), n).unwrap().to_string()
}

struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path(name), text).unwrap();
    }
}

fn files() -> Files {
    let f = Files { dir: tempfile::tempdir().unwrap() };
    f.write(
        "households.csv",
        "household_id,village_code,size,income,consumption,food\n\
         H1,341122100201,2,20000,15000,\n\
         H2,341122100202,4,60000,,\n\
         H3,351122100201,1,5000,,\n\
         H4,341122100201,3,30000,,\n",
    );
    f.write(
        "persons.csv",
        &format!(
            "person_id,household_id,name,status,status_since\n\
             {},H1,Li Wei,lifted,2020-01-01\n\
             {},H1,Li Na,general,2020-01-01\n\
             {},H2,Wang Fang,general,2020-01-01\n\
             {},H3,Zhao Lei,general,2020-01-01\n\
             {},H4,Chen Jie,low_income,2021-03-01\n",
            pid(1),
            pid(2),
            pid(3),
            pid(4),
            pid(5)
        ),
    );
    f.write(
        "claims.csv",
        &format!(
            "claim_id,person_id,facility_level,kind,admitted,discharged,total_cost,eligible_cost,diagnosis\n\
             K1,{p5},county,outpatient,2024-02-01,2024-02-01,300,300,I10\n\
             K3,{p5},municipal,inpatient,2024-02-20,2024-03-05,40000,35000,C34.1\n\
             K2,{p5},county,inpatient,2024-02-25,2024-03-05,20000,18000,C16.9\n\
             K0,{p5},county,inpatient,2023-02-25,2023-03-05,20000,18000,C50\n",
            p5 = pid(5)
        ),
    );
    // As `settle` writes them: more columns than monitoring reads.
    f.write(
        "settlements.csv",
        &format!(
            "claim_id,person_id,year,total_cost,eligible_cost,basic,critical,assistance,safety_net,out_of_pocket\n\
             S1,{p1},2024,9000.00,8000.00,3000.00,0.00,1000.00,0.00,5000.00\n\
             S2,{p2},2024,5000.00,4000.00,1599.99,0.00,0.00,0.00,3400.01\n\
             S0,{p1},2023,99999.00,0.00,0.00,0.00,0.00,0.00,99999.00\n\
             S3,{p3},2024,30000.00,20000.00,13200.00,0.00,0.00,0.00,16800.00\n\
             S4,{p4},2024,1000.00,1000.00,400.00,0.00,0.00,0.00,600.00\n",
            p1 = pid(1),
            p2 = pid(2),
            p3 = pid(3),
            p4 = pid(4)
        ),
    );
    f.write(
        "thresholds.toml",
        "[[threshold]]\nregion = \"34\"\nyear = 2024\nrural_income = 19575\nmonitoring_line = 7000\n\n\
         [[threshold]]\nregion = \"341122\"\nyear = 2024\nrural_income = 16800\nmonitoring_line = 7000\n",
    );
    f
}

const EXPECTED: &str = "rule,household_id,village_code,year,value,threshold
catastrophic_10,H1,341122100201,2024,8400.01,1500.00
catastrophic_10,H2,341122100202,2024,16800.00,6000.00
catastrophic_10,H3,351122100201,2024,600.00,500.00
catastrophic_25,H1,341122100201,2024,8400.01,3750.00
catastrophic_25,H2,341122100202,2024,16800.00,15000.00
impoverishing,H1,341122100201,2024,5800.00,7000.00
medical_burden_poor,H1,341122100201,2024,8400.01,8400.00
serious_diagnosis,H4,341122100201,2024,C16.9,
";

fn monitor(f: &Files, thresholds: &str, extra: &[&str]) -> Output {
    let p = |n: &str| f.path(n).to_string_lossy().into_owned();
    Command::new(env!("CARGO_BIN_EXE_safetynet"))
        .args(["--quiet", "monitor", "--year", "2024"])
        .args(["--persons", &p("persons.csv"), "--households", &p("households.csv")])
        .args(["--claims", &p("claims.csv"), "--settlements", &p("settlements.csv")])
        .args(["--thresholds", &p(thresholds), "--out", &p("alerts.csv")])
        .args(extra)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_no_output(f: &Files) {
    assert!(!f.path("alerts.csv").exists(), "an output was written for refused input");
    let left: Vec<_> = std::fs::read_dir(f.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "temporary files left behind");
}

#[test]
fn writes_the_alerts_of_the_spec_exactly() {
    let f = files();
    let o = monitor(&f, "thresholds.toml", &["--missing", &f.path("missing.csv").to_string_lossy()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(f.path("alerts.csv")).unwrap(), EXPECTED);
    // H3's province has no threshold: reported on stderr and in the file, not guessed.
    let err = stderr(&o);
    assert!(err.contains("household H3") && err.contains("no threshold for 2024"), "{err}");
    assert_eq!(
        std::fs::read_to_string(f.path("missing.csv")).unwrap(),
        "household_id,village_code,year\nH3,351122100201,2024\n"
    );
}

#[test]
fn thresholds_from_csv_give_the_same_output() {
    let f = files();
    f.write("thresholds.csv", "region,year,rural_income,monitoring_line\n34,2024,19575,7000\n341122,2024,16800,7000\n");
    let o = monitor(&f, "thresholds.csv", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(f.path("alerts.csv")).unwrap(), EXPECTED);
}

#[test]
fn rerunning_gives_the_same_file() {
    let f = files();
    assert!(monitor(&f, "thresholds.toml", &[]).status.success());
    let first = std::fs::read(f.path("alerts.csv")).unwrap();
    assert!(monitor(&f, "thresholds.toml", &[]).status.success());
    assert_eq!(std::fs::read(f.path("alerts.csv")).unwrap(), first);
}

#[test]
fn a_region_rules_file_changes_a_factor_and_switches_rules_off() {
    let f = files();
    f.write(
        "rules.toml",
        "[[rule]]\nname = \"medical_burden_general\"\nfactor = 0.5\n\n[[rule]]\nname = \"catastrophic_10\"\nenabled = false\n",
    );
    let o = monitor(&f, "thresholds.toml", &["--rules", &f.path("rules.toml").to_string_lossy()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = std::fs::read_to_string(f.path("alerts.csv")).unwrap();
    assert!(!out.contains("catastrophic_10"), "{out}");
    assert!(out.contains("medical_burden_general,H2,341122100202,2024,16800.00,8400.00"), "{out}");
}

#[test]
fn a_bad_rule_is_refused_with_its_place() {
    let f = files();
    f.write("rules.toml", "[[rule]]\nname = \"mine\"\nwho = \"all\"\ncondition = \"oop > incme\"\nvalue = \"oop\"\n");
    let o = monitor(&f, "thresholds.toml", &["--rules", &f.path("rules.toml").to_string_lossy()]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("rule mine") && err.contains("line 1 column 7") && err.contains("incme"), "{err}");
    assert_no_output(&f);
}

#[test]
fn a_bad_row_is_refused_with_file_line_and_column() {
    let f = files();
    f.write(
        "households.csv",
        "household_id,village_code,size,income\nH1,341122100201,2,20000\nH2,341122100202,0,60000\nH3,351122100201,1,12.345\n",
    );
    let o = monitor(&f, "thresholds.toml", &[]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("households.csv:3: column size"), "{err}");
    assert!(err.contains("households.csv:4: column income") && err.contains("more than two decimals"), "{err}");
    assert_no_output(&f);
}

#[test]
fn a_missing_column_is_named() {
    let f = files();
    f.write("settlements.csv", "claim_id,person_id,year\nS1,x,2024\n");
    let o = monitor(&f, "thresholds.toml", &[]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("settlements.csv:1") && err.contains("out_of_pocket"), "{err}");
    assert_no_output(&f);
}

#[test]
fn a_settlement_for_an_unknown_person_is_refused() {
    let f = files();
    let stranger = pid(77);
    f.write(
        "settlements.csv",
        &format!("claim_id,person_id,year,out_of_pocket\nS1,{},2024,5.00\nS2,{stranger},2024,1.00\n", pid(1)),
    );
    let o = monitor(&f, "thresholds.toml", &[]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains(&stranger) && err.contains("not in the persons"), "{err}");
    assert_no_output(&f);
}

#[test]
fn a_bad_threshold_is_refused() {
    let f = files();
    f.write(
        "thresholds.toml",
        "[[threshold]]\nregion = \"341\"\nyear = 2024\nrural_income = 16800\nmonitoring_line = 7000\n",
    );
    let o = monitor(&f, "thresholds.toml", &[]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("threshold #1") && err.contains("column region"), "{err}");
    assert_no_output(&f);
}

#[test]
fn file_mode_needs_every_file() {
    let f = files();
    let o = Command::new(env!("CARGO_BIN_EXE_safetynet"))
        .args(["monitor", "--year", "2024", "--persons"])
        .arg(f.path("persons.csv"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--households"), "{}", stderr(&o));
    let _ = Path::new("");
}
