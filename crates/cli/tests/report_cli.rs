//! `safetynet report --compare previous-year` through the binary, over the store
//! and over files: each row gains the value of the same period a year before and
//! the change, and each value its target and status (met, near, missed).

mod common;

use common::Env;
use std::collections::HashMap;
use std::path::Path;

const POLICY: &str = include_str!("../../settle/tests/data/demo_county_2024.toml");
const LIFTED: &str = "34010219800101001X";

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The cells of the row of `region` by column name.
fn row(csv: &str, region: &str) -> HashMap<String, String> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|r| r[1] == region)
        .unwrap_or_else(|| panic!("no row {region} in {csv}"));
    header.iter().zip(row).map(|(h, c)| (h.to_string(), c.to_string())).collect()
}

const REGIONS: &str = "code,name,level,urban_rural,population,lon,lat\n\
    34,Anhui,province,,,,\n\
    341122,Laian,county,,,,\n\
    341122100,Town A,township,,,,\n\
    341122100201,Village A1,village,220,800,118.4,32.4\n";
const HOUSEHOLDS: &str = "household_id,village_code,size,income,consumption,food\nH1,341122100201,2,20000,15000,\n";

/// One claim in 2023 at a county hospital; in 2024 one at a township centre
/// and one at a provincial hospital: half of 2024's stays inside the county.
fn claims() -> String {
    format!(
        "claim_id,person_id,facility_level,kind,admitted,discharged,total_cost,eligible_cost,diagnosis\n\
         C23,{LIFTED},county,inpatient,2023-03-01,2023-03-10,10000,10000,C16\n\
         C24,{LIFTED},township,inpatient,2024-03-01,2024-03-05,20000,20000,C16\n\
         P24,{LIFTED},provincial,inpatient,2024-06-01,2024-06-09,20000,20000,C16\n"
    )
}

fn persons() -> String {
    format!("person_id,household_id,name,status,status_since\n{LIFTED},H1,Li Wei,lifted,2020-01-01\n")
}

/// The in-county share of the county's row: 50 % in 2024 against 100 % in 2023,
/// below the target of at least 90.
fn assert_compared(csv: &str) {
    let header = csv.lines().next().unwrap();
    assert!(
        header.contains(
            "poor_treated_in_county_share_target,poor_treated_in_county_share_status,poor_treated_in_county_share_previous,poor_treated_in_county_share_change"
        ),
        "{header}"
    );
    let r = row(csv, "341122");
    assert_eq!(r["poor_treated_in_county_share"], "50.00", "{csv}");
    assert_eq!(r["poor_treated_in_county_share_previous"], "100.00", "{csv}");
    assert_eq!(r["poor_treated_in_county_share_change"], "-50.00", "{csv}");
    assert_eq!(r["poor_treated_in_county_share_target"], "≥ 90", "{csv}");
    assert_eq!(r["poor_treated_in_county_share_status"], "missed", "{csv}");
    assert_eq!(r["poor_out_of_pocket_share_target"], "10 ± 3", "{csv}");
    assert!(["met", "near", "missed"].contains(&r["poor_out_of_pocket_share_status"].as_str()), "{csv}");
    // A plain count: claims' patients are not counted, warned households are (none).
    assert_eq!((r["households_warned_previous"].as_str(), r["households_warned_change"].as_str()), ("0", "0"));
}

#[test]
fn report_compares_with_the_previous_year_over_the_store() {
    let e = Env::new();
    for (kind, name, text) in [
        ("regions", "regions.csv", REGIONS.to_string()),
        ("households", "households.csv", HOUSEHOLDS.to_string()),
        ("persons", "persons.csv", persons()),
        ("claims", "claims.csv", claims()),
    ] {
        let f = e.write(name, &text);
        e.ok(&["import", kind, path(&f)]);
    }
    for year in ["2023", "2024"] {
        let policy = e.write(&format!("policy{year}.toml"), &POLICY.replace("year = 2024", &format!("year = {year}")));
        e.ok(&["settle", "--store-policy", path(&policy), "--region", "34", "--year", year]);
        e.ok(&["settle", "--year", year]);
    }
    let out = e.dir.path().join("report.csv");
    let args = ["report", "--year", "2024", "--level", "county", "--compare", "previous-year", "--out", path(&out)];
    e.ok(&args);
    assert_compared(&std::fs::read_to_string(&out).unwrap());

    // Without the comparison: the target and status columns, no previous ones.
    e.ok(&["report", "--year", "2024", "--level", "county", "--out", path(&out)]);
    let plain = std::fs::read_to_string(&out).unwrap();
    assert!(!plain.lines().next().unwrap().contains("_previous"), "{plain}");
    assert_eq!(row(&plain, "341122")["poor_treated_in_county_share_status"], "missed");

    // A workbook too; an unknown comparison is refused with what is known.
    let xlsx = e.dir.path().join("report.xlsx");
    e.ok(&["report", "--year", "2024", "--level", "county", "--compare", "previous-year", "--out", path(&xlsx)]);
    assert_eq!(&std::fs::read(&xlsx).unwrap()[..2], b"PK");
    let err = e.fails(&["report", "--year", "2024", "--compare", "last-week", "--out", path(&out)]);
    assert!(err.contains("previous-year"), "{err}");
}

#[test]
fn report_compares_with_the_previous_year_over_files() {
    let e = Env::new();
    let households = e.write("households.csv", HOUSEHOLDS);
    let persons = e.write("persons.csv", &persons());
    let claims = e.write("claims.csv", &claims());
    // As `safetynet settle` writes them: the tiers between eligible_cost and out_of_pocket.
    let settlements = e.write(
        "settlements.csv",
        "claim_id,eligible_cost,basic,out_of_pocket\n\
         C23,10000,9000,1000\n\
         C24,20000,18000,2000\n\
         P24,20000,12000,8000\n",
    );
    let out = e.dir.path().join("report.csv");
    let base = [
        "report",
        "--year",
        "2024",
        "--level",
        "county",
        "--persons",
        path(&persons),
        "--households",
        path(&households),
        "--claims",
        path(&claims),
        "--settlements",
        path(&settlements),
        "--out",
        path(&out),
    ];
    let mut args = base.to_vec();
    args.extend(["--compare", "previous-year"]);
    e.ok(&args);
    let csv = std::fs::read_to_string(&out).unwrap();
    assert_compared(&csv);
    // 10,000 of 40,000 yuan in 2024 against 1,000 of 10,000 in 2023.
    let r = row(&csv, "341122");
    assert_eq!(
        (r["poor_out_of_pocket_share"].as_str(), r["poor_out_of_pocket_share_previous"].as_str()),
        ("25.00", "10.00")
    );
    assert_eq!(
        (r["poor_out_of_pocket_share_change"].as_str(), r["poor_out_of_pocket_share_status"].as_str()),
        ("15.00", "missed")
    );

    // A claim of the year before needs its settlement too.
    let partial = e.write(
        "partial.csv",
        "claim_id,eligible_cost,basic,out_of_pocket\nC24,20000,18000,2000\nP24,20000,12000,8000\n",
    );
    let mut args = base.to_vec();
    args[12] = path(&partial);
    e.ok(&args);
    args.extend(["--compare", "previous-year"]);
    let err = e.fails(&args);
    assert!(err.contains("C23") && err.contains("no settlement"), "{err}");
}

/// `--counties` splits the national poverty counties from the rest, and with
/// `--facilities` a claim counts in the patient's county by its facility's region.
#[test]
fn report_splits_poverty_counties_and_places_claims_by_their_facility() {
    let e = Env::new();
    // H1 in 来安县 (341122, not listed); H2 in 宿松县 (340826, a national poverty county).
    let households = e.write(
        "households.csv",
        "household_id,village_code,size,income,consumption,food\n\
         H1,341122100201,2,20000,15000,\nH2,340826100201,3,9000,8000,\n",
    );
    const SUSONG: &str = "340826197005050021";
    let persons = e.write(
        "persons.csv",
        &format!(
            "person_id,household_id,name,status,status_since\n\
             {LIFTED},H1,Li Wei,lifted,2020-01-01\n{SUSONG},H2,Wang Fang,lifted,2020-01-01\n"
        ),
    );
    // Both stays are at a county hospital, but F1 stands in 来安县: Wang Fang was
    // treated outside her county.
    let claims = e.write(
        "claims.csv",
        &format!(
            "claim_id,person_id,facility_level,kind,admitted,discharged,total_cost,eligible_cost,diagnosis,facility_id\n\
             A1,{LIFTED},county,inpatient,2024-03-01,2024-03-05,20000,20000,C16,F1\n\
             B1,{SUSONG},county,inpatient,2024-04-01,2024-04-05,10000,10000,C16,F1\n"
        ),
    );
    let settlements = e.write(
        "settlements.csv",
        "claim_id,eligible_cost,basic,out_of_pocket\nA1,20000,18000,2000\nB1,10000,9000,1000\n",
    );
    let facilities = e.write(
        "facilities.csv",
        "facility_id,name,kind,grade,region_code\nF1,Laian hospital,county_hospital,2,341122\n",
    );
    let out = e.dir.path().join("report.csv");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "report",
            "--year",
            "2024",
            "--level",
            "county",
            "--persons",
            path(&persons),
            "--households",
            path(&households),
            "--claims",
            path(&claims),
            "--settlements",
            path(&settlements),
            "--out",
            path(&out),
        ];
        args.extend_from_slice(extra);
        e.ok(&args);
        std::fs::read_to_string(&out).unwrap()
    };
    let counties =
        |csv: &str| csv.lines().skip(1).map(|l| l.split(',').nth(1).unwrap().to_string()).collect::<Vec<_>>();

    let all = run(&[]);
    assert_eq!(counties(&all), ["340826", "341122"]);
    // By level alone both stays are in their county.
    assert_eq!(row(&all, "340826")["poor_treated_in_county_share"], "100.00");
    assert_eq!(counties(&run(&["--counties", "poverty"])), ["340826"]);
    assert_eq!(counties(&run(&["--counties", "other"])), ["341122"]);

    let placed = run(&["--facilities", path(&facilities)]);
    assert_eq!(row(&placed, "340826")["poor_treated_in_county_share"], "0.00", "{placed}");
    assert_eq!(row(&placed, "341122")["poor_treated_in_county_share"], "100.00");

    let err = e.fails(&["report", "--year", "2024", "--counties", "poor", "--out", path(&out)]);
    assert!(err.contains("counties") && err.contains("poverty"), "{err}");
}
