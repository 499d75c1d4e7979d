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

/// The rows of a plain CSV file (no quoted commas) by column name.
fn table(path: &Path) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let head: Vec<String> = lines.next().unwrap().split(',').map(str::to_string).collect();
    lines.map(|l| head.iter().cloned().zip(l.split(',').map(str::to_string)).collect()).collect()
}

fn fen(yuan: &str) -> i64 {
    let (whole, frac) = yuan.split_once('.').unwrap_or((yuan, "0"));
    whole.parse::<i64>().unwrap() * 100 + format!("{frac:0<2}")[..2].parse::<i64>().unwrap()
}

/// On a synthetic county settled by `safetynet settle`, the households'
/// spending indicators (SDG 3.8.2 and its 2025 form) and the township-and-village
/// share count what this test counts from the raw files; the report over the
/// store counts the same, and compared with the regions a one-county store
/// gives the county's figures for its province and the nation.
#[test]
fn household_spending_and_primary_care_match_counts_from_the_raw_files() {
    let e = Env::new();
    let syn = e.dir.path().join("synth");
    e.ok(&["synth", "--scale", "small", "--claims-per-person", "1", "--out", path(&syn)]);
    let f = |name: &str| syn.join(name);
    e.ok(&[
        "settle",
        "--policy",
        path(&f("policy.toml")),
        "--persons",
        path(&f("persons.csv")),
        "--claims",
        path(&f("claims.csv")),
        "--out",
        path(&f("settlements.csv")),
    ]);
    let out = e.dir.path().join("report.csv");
    e.ok(&[
        "report",
        "--year",
        "2024",
        "--level",
        "county",
        "--persons",
        path(&f("persons.csv")),
        "--households",
        path(&f("households.csv")),
        "--claims",
        path(&f("claims.csv")),
        "--settlements",
        path(&f("settlements.csv")),
        "--facilities",
        path(&f("facilities.csv")),
        "--compare",
        "regions",
        "--out",
        path(&out),
    ]);
    let report = std::fs::read_to_string(&out).unwrap();
    assert_eq!(report.lines().count(), 2, "one county");
    let county = report.lines().nth(1).unwrap().split(',').nth(1).unwrap().to_string();
    let r = row(&report, &county);

    // Counted here from the raw files.
    let households = table(&f("households.csv"));
    let household_of: HashMap<String, String> =
        table(&f("persons.csv")).into_iter().map(|p| (p["person_id"].clone(), p["household_id"].clone())).collect();
    let village_of: HashMap<String, String> =
        households.iter().map(|h| (h["household_id"].clone(), h["village_code"].clone())).collect();
    let oop: HashMap<String, i64> =
        table(&f("settlements.csv")).into_iter().map(|s| (s["claim_id"].clone(), fen(&s["out_of_pocket"]))).collect();
    let facility_county: HashMap<String, String> = table(&f("facilities.csv"))
        .into_iter()
        .map(|x| (x["facility_id"].clone(), x["region_code"][..6].to_string()))
        .collect();
    let mut spent: HashMap<String, i64> = HashMap::new();
    let (mut visits_in_county, mut visits_at_primary) = (0, 0);
    for c in table(&f("claims.csv")) {
        if !c["discharged"].starts_with("2024") {
            continue;
        }
        let household = &household_of[&c["person_id"]];
        *spent.entry(household.clone()).or_default() += oop[&c["claim_id"]];
        if c["kind"] == "outpatient" || c["kind"] == "chronic_outpatient" {
            let home = &village_of[household][..6];
            let level = c["facility_level"].as_str();
            let inside = match facility_county.get(c.get("facility_id").map(String::as_str).unwrap_or("")) {
                Some(fc) => fc == home,
                None => ["village", "township", "county"].contains(&level),
            };
            if inside {
                visits_in_county += 1;
                visits_at_primary += ["village", "township"].contains(&level) as i64;
            }
        }
    }
    // SDG 3.8.2: above 10% and 25% of consumption (else income); 2025: above 40%
    // of what is left after 10,800 yuan a person, and above all of it.
    let line = 1_080_000i64;
    let (mut over10, mut over25, mut hardship, mut impoverished) = (0, 0, 0, 0);
    for h in &households {
        let spent = spent.get(&h["household_id"]).copied().unwrap_or(0);
        if spent == 0 {
            continue;
        }
        let budget = if h["consumption"].is_empty() { fen(&h["income"]) } else { fen(&h["consumption"]) };
        let left = budget - line * h["size"].parse::<i64>().unwrap();
        over10 += (spent as f64 > 0.10 * budget as f64) as i64;
        over25 += (spent as f64 > 0.25 * budget as f64) as i64;
        hardship += (left <= 0 || spent as f64 > 0.40 * left as f64) as i64;
        impoverished += (spent > left) as i64;
    }
    let n = households.len().to_string();
    for (id, want) in [
        ("catastrophic_spending_10_share", over10),
        ("catastrophic_spending_25_share", over25),
        ("financial_hardship_share", hardship),
        ("impoverishing_spending_share", impoverished),
    ] {
        assert_eq!(r[&format!("{id}_numerator")], want.to_string(), "{id}");
        assert_eq!(r[&format!("{id}_denominator")], n, "{id}");
        let value = 100.0 * want as f64 / households.len() as f64;
        assert_eq!(r[id], format!("{value:.2}"), "{id}");
        // One county: its province and the nation are the county.
        assert_eq!((&r[&format!("{id}_province")], &r[&format!("{id}_nation")]), (&r[id], &r[id]));
    }
    assert!(over25 > 0 && over25 < over10 && impoverished < hardship, "{over10} {over25} {hardship} {impoverished}");
    assert_eq!(r["primary_care_visit_share_numerator"], visits_at_primary.to_string());
    assert_eq!(r["primary_care_visit_share_denominator"], visits_in_county.to_string());

    // The store counts the same.
    for kind in ["regions", "households", "persons", "facilities", "practitioners", "claims", "thresholds"] {
        e.ok(&["import", kind, path(&f(&format!("{kind}.csv")))]);
    }
    e.ok(&["settle", "--store-policy", path(&f("policy.toml")), "--region", "", "--year", "2024"]);
    e.ok(&["settle", "--year", "2024"]);
    let stored = e.dir.path().join("stored.csv");
    e.ok(&[
        "report",
        "--year",
        "2024",
        "--level",
        "county",
        "--compare",
        "previous-year,regions",
        "--out",
        path(&stored),
    ]);
    let s = row(&std::fs::read_to_string(&stored).unwrap(), &county);
    for id in [
        "catastrophic_spending_10_share",
        "catastrophic_spending_25_share",
        "financial_hardship_share",
        "impoverishing_spending_share",
        "primary_care_visit_share",
    ] {
        for col in ["", "_numerator", "_denominator", "_province", "_nation"] {
            let k = format!("{id}{col}");
            assert_eq!(s[&k], r[&k], "{k}: the store against the files");
        }
        // No claims in 2023: no spending among the households then, no visits.
        let none = if id == "primary_care_visit_share" { "" } else { "0.00" };
        assert_eq!(s[&format!("{id}_previous")], none, "{id}: no 2023 claims");
    }
}
