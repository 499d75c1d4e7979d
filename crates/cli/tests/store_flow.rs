//! The store flow end to end through the binary: import a small registry, store a
//! policy (a bad one refused), settle the stored claims, explain one, monitor the
//! year into alerts and the patient ledger, and follow an alert to resolved with
//! its measure; a re-run changes nothing, a region scope hides another county's
//! alerts, and a void re-settles the person's year.

mod common;

use common::Env;
use std::path::Path;

const POLICY: &str = include_str!("../../settle/tests/data/demo_county_2024.toml");
const LIFTED: &str = "34010219800101001X";
const GENERAL: &str = "340102199001010022";

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The open alerts of a rule and household: (id, state, value).
fn find(list: &str, rule: &str, household: &str) -> Option<(String, String, String)> {
    list.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split(',').collect();
        (f[1] == rule && f[2] == household).then(|| (f[0].to_string(), f[5].to_string(), f[6].to_string()))
    })
}

#[test]
fn import_policy_settle_monitor_and_follow_an_alert() {
    let e = Env::new();
    let regions = e.write(
        "regions.csv",
        "code,name,level,urban_rural,population,lon,lat\n\
         34,Anhui,province,,,,\n\
         341122,Laian,county,,,,\n\
         341122100,Town A,township,,,,\n\
         341122100201,Village A1,village,220,800,118.4,32.4\n\
         341123,Other county,county,,,,\n\
         341123100,Town B,township,,,,\n\
         341123100201,Village B1,village,220,600,118.5,32.5\n",
    );
    let households = e.write(
        "households.csv",
        "household_id,village_code,size,income,consumption,food\n\
         H1,341122100201,2,20000,15000,\n\
         H2,341123100201,3,90000,,\n",
    );
    let persons = e.write(
        "persons.csv",
        &format!(
            "person_id,household_id,name,status,status_since\n\
             {LIFTED},H1,Li Wei,lifted,2020-01-01\n\
             {GENERAL},H2,Wang Fang,general,2020-01-01\n"
        ),
    );
    let claims = e.write(
        "claims.csv",
        &format!(
            "claim_id,person_id,facility_level,kind,admitted,discharged,total_cost,eligible_cost,diagnosis\n\
             C1,{LIFTED},county,inpatient,2024-03-01,2024-03-10,60000.00,50000,C16\n\
             C2,{LIFTED},county,inpatient,2024-05-20,2024-06-01,20000,20000,C16\n\
             G1,{GENERAL},township,inpatient,2024-02-01,2024-02-05,5000,4000,J18\n"
        ),
    );
    let thresholds = e.write("thresholds.csv", "region,year,rural_income,monitoring_line\n34,2024,19575,7000\n");
    for (kind, file) in [
        ("regions", &regions),
        ("households", &households),
        ("persons", &persons),
        ("claims", &claims),
        ("thresholds", &thresholds),
    ] {
        e.ok(&["import", kind, path(file)]);
    }

    // A bad policy is refused with the key named, and nothing is stored.
    let bad = e.write("bad.toml", &POLICY.replace("rate = 0.6\n", "rate = 1.6\n"));
    let err = e.fails(&["settle", "--store-policy", path(&bad), "--region", "341122", "--year", "2024"]);
    assert!(err.contains("rate"), "{err}");
    assert_eq!(e.ok(&["settle", "--policies"]).lines().count(), 1, "only the header");
    let good = e.write("policy.toml", POLICY);
    let out = e.ok(&["settle", "--store-policy", path(&good), "--region", "341122", "--year", "2024"]);
    assert!(out.contains("version 1"), "{out}");
    let list = e.ok(&["settle", "--policies"]);
    assert!(list.contains("341122,2024,1,\"Demo county 2024\",tester"), "{list}");

    // Settle the stored claims: the other county has no policy and is reported.
    let out = e.ok(&["settle", "--year", "2024"]);
    assert!(out.contains("settled 2 claims"), "{out}");
    assert!(out.contains("no settlement policy covers village 341123100201"), "{out}");
    let again = e.ok(&["settle", "--year", "2024"]);
    assert!(again.contains("settled 0 claims") && again.contains("2 were settled before"), "{again}");
    let explained = e.ok(&["settle", "--explain", "C2"]);
    assert!(explained.contains("2088.12"), "{explained}");
    // File-mode options do not mix with store mode.
    assert!(e.fails(&["settle", "--year", "2024", "--out", "x.csv"]).contains("file mode"));

    // Monitor the store: H1's out-of-pocket is 13,000.00 of an income of 20,000.
    let out = e.ok(&["monitor", "--year", "2024", "--actor", "monitor-job"]);
    assert!(out.contains("raised"), "{out}");
    let list = e.ok(&["alert", "list", "--year", "2024"]);
    let (id, state, value) = find(&list, "medical_burden_poor", "H1").expect("the burden alert");
    assert_eq!((state.as_str(), value.as_str()), ("open", "13000.00"));
    assert!(find(&list, "impoverishing", "H1").is_some(), "{list}");
    let before = list.lines().count();
    // Re-running the monitor changes nothing.
    let out = e.ok(&["monitor", "--year", "2024"]);
    assert!(out.contains(" 0 raised, 0 updated"), "{out}");
    assert_eq!(e.ok(&["alert", "list", "--year", "2024"]), list);
    // The patient ledger has the serious patient (see the monitor's summary line).
    assert!(out.contains("1 serious"), "{out}");

    // Another county's officer neither sees nor moves it.
    let other = e.ok(&["alert", "list", "--region", "341123"]);
    assert_eq!(other.lines().count(), 1, "{other}");
    let err = e.fails(&["alert", "move", &id, "--to", "verifying", "--region", "341123", "--actor", "zhao"]);
    assert!(err.contains("not in the store"), "{err}");

    // Follow it to resolved.
    e.ok(&["alert", "move", &id, "--to", "verifying", "--actor", "wang", "--note", "visited", "--region", "341122"]);
    e.ok(&["alert", "move", &id, "--to", "assisting", "--actor", "wang", "--note", "income loss confirmed"]);
    let err = e.fails(&["alert", "move", &id, "--to", "resolved", "--actor", "wang"]);
    assert!(err.contains("measure"), "{err}");
    e.ok(&[
        "alert",
        "assist",
        &id,
        "--kind",
        "temporary_relief",
        "--amount",
        "2000",
        "--by",
        "civil affairs bureau",
        "--date",
        "2024-10-03",
        "--actor",
        "wang",
    ]);
    let out = e.ok(&["alert", "move", &id, "--to", "resolved", "--actor", "li", "--note", "relief paid"]);
    assert!(out.contains("is now resolved"), "{out}");
    let shown = e.ok(&["alert", "show", &id]);
    assert!(shown.contains("state: resolved"), "{shown}");
    assert!(shown.contains("assisting -> resolved  by li  relief paid"), "{shown}");
    assert!(shown.contains("- -> open  by monitor-job"), "{shown}");
    assert!(
        shown.contains("2024-10-03  temporary_relief  2000.00 yuan  by civil affairs bureau  (recorded by wang)"),
        "{shown}"
    );

    // The report over the store (no file options): the county's row counts the
    // warned household and its assistance; a file option alone is refused.
    let rep = e.dir.path().join("report.csv");
    e.ok(&["report", "--year", "2024", "--level", "county", "--out", path(&rep)]);
    let text = std::fs::read_to_string(&rep).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.find(|l| l.starts_with("county,341122")).expect("the county's row").split(',').collect();
    let at = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no {name} in {header:?}"));
    assert_eq!(row[at("households_warned")], "1", "{text}");
    assert_eq!(row[at("warned_households_assisted_share")], "100.00", "{text}");
    let err = e.fails(&["report", "--year", "2024", "--persons", "p.csv", "--out", path(&rep)]);
    assert!(err.contains("--households"), "{err}");

    // A void re-settles C2 and reports it; the next monitor run updates the open
    // alerts' values but leaves the resolved one as it was, without duplicates.
    let out = e.ok(&["settle", "--void", "C1", "--actor", "supervisor"]);
    // Named by its ID alone: the one claim C1 in the store (at no facility).
    assert!(out.contains("C1,,out_of_pocket,13000.00,0.00,-13000.00"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("C2,,out_of_pocket,0.00,")), "{out}");
    e.ok(&["monitor", "--year", "2024"]);
    let after = e.ok(&["alert", "list", "--year", "2024"]);
    assert_eq!(after.lines().count(), before, "{after}");
    let (_, state, value) = find(&after, "medical_burden_poor", "H1").unwrap();
    assert_eq!((state.as_str(), value.as_str()), ("resolved", "13000.00"));
}

/// Claims are keyed by facility: one ID at two facilities is two claims. A
/// claim named by its ID alone must be the only one of that ID inside the
/// region; else the facilities (inside the region) are listed and nothing is
/// done, and `--facility` names the one meant.
#[test]
fn a_claim_id_at_two_facilities_is_named_with_its_facility() {
    let e = Env::new();
    let regions = e.write(
        "regions.csv",
        "code,name,level,urban_rural,population,lon,lat\n\
         34,Anhui,province,,,,\n\
         341122,Laian,county,,,,\n\
         341122100,Town A,township,,,,\n\
         341122100201,Village A1,village,220,800,118.4,32.4\n\
         341123,Other county,county,,,,\n\
         341123100,Town B,township,,,,\n\
         341123100201,Village B1,village,220,600,118.5,32.5\n",
    );
    let households = e.write(
        "households.csv",
        "household_id,village_code,size,income\nH1,341122100201,2,20000\nH2,341123100201,3,90000\n",
    );
    let persons = e.write(
        "persons.csv",
        &format!(
            "person_id,household_id,name,status,status_since\n\
             {LIFTED},H1,Li Wei,lifted,2020-01-01\n\
             {GENERAL},H2,Wang Fang,general,2020-01-01\n"
        ),
    );
    let claims = e.write(
        "claims.csv",
        &format!(
            "claim_id,person_id,facility_level,kind,admitted,discharged,total_cost,eligible_cost,diagnosis,facility_id\n\
             X,{LIFTED},county,inpatient,2024-03-01,2024-03-10,60000.00,50000,C16,HA\n\
             X,{GENERAL},township,inpatient,2024-02-01,2024-02-05,5000,4000,J18,HB\n"
        ),
    );
    for (kind, file) in [("regions", &regions), ("households", &households), ("persons", &persons), ("claims", &claims)]
    {
        e.ok(&["import", kind, path(file)]);
    }
    let policy = e.write("policy.toml", POLICY);
    e.ok(&["settle", "--store-policy", path(&policy), "--region", "34", "--year", "2024"]);
    e.ok(&["settle", "--year", "2024"]);
    // Ambiguous in the nation: both facilities listed, nothing voided.
    let err = e.fails(&["settle", "--void", "X"]);
    assert!(err.contains("HA, HB") && err.contains("name the facility"), "{err}");
    // Inside county B's region there is one X: B's, named without its facility;
    // county A's is not named there.
    let text = e.ok(&["settle", "--explain", "X", "--region", "341123"]);
    assert!(!text.is_empty());
    let err = e.fails(&["settle", "--void", "X", "--facility", "HA", "--region", "341123"]);
    assert!(err.contains("not in the store") && !err.contains("HB"), "{err}");
    // With its facility, A's X is voided and B's stands.
    let out = e.ok(&["settle", "--void", "X", "--facility", "HA"]);
    assert!(out.contains("voided claim X at HA"), "{out}");
    let out = e.ok(&["settle", "--void", "X", "--region", "341123"]);
    assert!(out.contains("voided claim X at HB"), "{out}");
}
