//! Every indicator of the demo's report, checked against a count made here from
//! the demo's raw files (and, for the casework, which no file holds, from the
//! store's tables by plain SQL), without the indicators crate: its definitions
//! as docs/indicators.md states them, worked out again. A new indicator fails
//! this test until it is counted here too.

use chrono::{Datelike, NaiveDate};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::process::Command;

const YEAR: i32 = 2024;
const POOR: [&str; 4] = ["special_hardship", "low_income", "lifted", "monitored"];

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_safetynet"))
}

fn rows(dir: &Path, name: &str) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(dir.join(name)).unwrap();
    let head: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    r.records().map(|rec| head.iter().cloned().zip(rec.unwrap().iter().map(str::to_string)).collect()).collect()
}

/// Yuan written with up to two decimals, in fen.
fn fen(s: &str) -> i64 {
    let (whole, frac) = s.trim().split_once('.').unwrap_or((s.trim(), ""));
    let frac = format!("{frac:0<2}");
    let sign = if whole.starts_with('-') { -1 } else { 1 };
    sign * (whole.trim_start_matches('-').parse::<i64>().unwrap() * 100 + frac[..2].parse::<i64>().unwrap())
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").unwrap()
}

/// A disease catalogue as the shipped CSV lists it: each entry's ICD-10
/// prefixes and the year it was listed from.
struct Catalogue(Vec<(Vec<String>, Option<i32>)>);

impl Catalogue {
    fn read(file: &str) -> Catalogue {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data").join(file);
        let mut r = csv::Reader::from_path(path).unwrap();
        Catalogue(
            r.records()
                .map(|rec| {
                    let rec = rec.unwrap();
                    let prefixes = rec[2].split(';').map(|p| p.trim().to_uppercase()).collect();
                    (prefixes, rec.get(3).filter(|s| !s.trim().is_empty()).map(|s| s.trim().parse().unwrap()))
                })
                .collect(),
        )
    }

    /// The first entry listed by `YEAR` that one of the prefixes starts `code`.
    fn entry(&self, code: &str) -> Option<usize> {
        let code = code.trim().to_uppercase();
        if code.is_empty() {
            return None;
        }
        self.0.iter().position(|(prefixes, since)| {
            since.is_none_or(|s| s <= YEAR) && prefixes.iter().any(|p| code.starts_with(p.as_str()))
        })
    }
}

/// The report's (numerator, denominator) of each indicator of the county row,
/// money in fen.
fn report(db: &Path, dir: &Path, year: i32) -> BTreeMap<String, (i64, Option<i64>)> {
    let name = format!("county-{year}.csv");
    let out = dir.join(&name);
    let r = bin()
        .args(["--quiet", "--db"])
        .arg(db)
        .args(["report", "--year", &year.to_string(), "--level", "county", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let row = rows(dir, &name).into_iter().find(|r| r["region_code"] == "341122").expect("the county's row");
    let mut got = BTreeMap::new();
    for (k, v) in &row {
        let Some(id) = k.strip_suffix("_numerator") else { continue };
        let den = &row[&format!("{id}_denominator")];
        let num = |s: &str| if s.contains('.') { fen(s) } else { s.parse::<i64>().unwrap() };
        got.insert(id.to_string(), (num(v), (!den.is_empty()).then(|| num(den))));
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_indicator_of_the_demo_equals_a_count_from_its_raw_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let out = bin().args(["--quiet", "demo", "--no-serve", "--dir"]).arg(dir).output().unwrap();
    assert!(out.status.success(), "demo failed: {}", String::from_utf8_lossy(&out.stderr));
    let db = dir.join("safetynet.db");
    let got = report(&db, dir, YEAR);
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", db.display())).await.unwrap();
    // The statuses as the casework left them: a verification that decides a
    // household is monitored turns its general and lifted members monitored
    // (docs/work.md), so the store's registry differs from persons.csv there and
    // only there.
    let stored: HashMap<i64, String> = sqlx::query_as::<_, (i64, String)>("SELECT person_id, status FROM persons")
        .fetch_all(&pool)
        .await
        .unwrap()
        .into_iter()
        .collect();

    // The registry.
    let households: HashMap<String, String> = rows(dir, "households.csv")
        .into_iter()
        .map(|h| (h["household_id"].clone(), h["village_code"].clone()))
        .collect();
    let mut persons = rows(dir, "persons.csv");
    let mut changed = 0;
    for p in &mut persons {
        let now = &stored[&p["person_id"][..17].parse::<i64>().unwrap()];
        if *now != p["status"] {
            assert!(now == "monitored" && ["general", "lifted"].contains(&p["status"].as_str()), "{p:?} is now {now}");
            p.insert("status".into(), now.clone());
            changed += 1;
        }
    }
    assert!(changed > 0, "the demo's casework decided some households are monitored");
    let person: HashMap<&str, &HashMap<String, String>> =
        persons.iter().map(|p| (p["person_id"].as_str(), p)).collect();
    let poor = |p: &HashMap<String, String>| POOR.contains(&p["status"].as_str());
    let village_of = |p: &HashMap<String, String>| households[&p["household_id"]].clone();
    let facilities: HashMap<String, String> =
        rows(dir, "facilities.csv").into_iter().map(|f| (f["facility_id"].clone(), f["region_code"].clone())).collect();

    // The claims of the year with their settlements (every demo claim is settled).
    let settlements: HashMap<String, HashMap<String, String>> =
        rows(dir, "settlements.csv").into_iter().map(|s| (s["claim_id"].clone(), s)).collect();
    let claims: Vec<HashMap<String, String>> =
        rows(dir, "claims.csv").into_iter().filter(|c| day(&c["discharged"]).year() == YEAR).collect();
    assert!(claims.iter().all(|c| settlements.contains_key(&c["claim_id"])), "every claim settled");
    // Treated in the patient's county: at a registered facility of that county
    // (or of a township or village in it), else, where the claim names no
    // registered facility, at a village, township or county level.
    let in_county = |c: &HashMap<String, String>| -> bool {
        let patient_county = village_of(person[c["person_id"].as_str()])[..6].to_string();
        match facilities.get(&c["facility_id"]) {
            Some(region) => &region[4..6] != "00" && region[..6] == patient_county,
            None => ["village", "township", "county"].contains(&c["facility_level"].as_str()),
        }
    };
    let mut want: BTreeMap<String, (i64, Option<i64>)> = BTreeMap::new();

    // Serious poor patients, and those treated for a disease they are registered with.
    let serious = Catalogue::read("serious_diseases.csv");
    let registered: HashMap<&str, HashSet<usize>> = persons
        .iter()
        .filter(|p| poor(p))
        .map(|p| (p["person_id"].as_str(), p["diagnoses"].split(';').filter_map(|d| serious.entry(d)).collect()))
        .filter(|(_, d): &(&str, HashSet<usize>)| !d.is_empty())
        .collect();
    let treated: HashSet<&str> = claims
        .iter()
        .filter(|c| {
            registered
                .get(c["person_id"].as_str())
                .is_some_and(|d| serious.entry(&c["diagnosis"]).is_some_and(|e| d.contains(&e)))
        })
        .map(|c| c["person_id"].as_str())
        .collect();
    want.insert("poor_patients_treated_share".into(), (treated.len() as i64, Some(registered.len() as i64)));

    // Treated in the county: by the facility's region, else by the claim's level.
    let count = |f: &dyn Fn(&HashMap<String, String>) -> bool| claims.iter().filter(|c| f(c)).count() as i64;
    let poor_inpatient =
        |c: &HashMap<String, String>| poor(person[c["person_id"].as_str()]) && c["kind"] == "inpatient";
    want.insert(
        "poor_treated_in_county_share".into(),
        (count(&|c| poor_inpatient(c) && in_county(c)), Some(count(&poor_inpatient))),
    );
    want.insert("consultations_in_county_share".into(), (count(&|c| in_county(c)), Some(claims.len() as i64)));
    let outpatient = |c: &HashMap<String, String>| ["outpatient", "chronic_outpatient"].contains(&c["kind"].as_str());
    let primary = |c: &HashMap<String, String>| ["village", "township"].contains(&c["facility_level"].as_str());
    want.insert(
        "primary_care_visit_share".into(),
        (count(&|c| outpatient(c) && in_county(c) && primary(c)), Some(count(&|c| outpatient(c) && in_county(c)))),
    );

    // Money of the poor's claims, and every fund's payments.
    let sum = |f: &dyn Fn(&HashMap<String, String>) -> bool, col: &[&str]| -> i64 {
        claims
            .iter()
            .filter(|c| f(c))
            .map(|c| col.iter().map(|k| fen(&settlements[&c["claim_id"]][*k])).sum::<i64>())
            .sum()
    };
    let of_poor = |c: &HashMap<String, String>| poor(person[c["person_id"].as_str()]);
    want.insert(
        "poor_out_of_pocket_share".into(),
        (sum(&of_poor, &["out_of_pocket"]), Some(sum(&of_poor, &["total_cost"]))),
    );
    let funds = ["basic", "critical", "assistance", "safety_net", "supplementary"];
    want.insert("funds_paid".into(), (sum(&|_| true, &funds), None));

    // Households warned: the file-mode monitor's alerts of the year.
    let warned: HashSet<String> = rows(dir, "alerts.csv")
        .into_iter()
        .filter(|a| a["year"] == YEAR.to_string())
        .map(|a| a["household_id"].clone())
        .collect();
    want.insert("households_warned".into(), (warned.len() as i64, None));

    // Household spending (SDG 3.8.2): the members' out-of-pocket of the year
    // against the household's consumption (else income), above 10% and 25%; and
    // against what is left after 10,800 yuan a person (its 2025 form), above 40%
    // of it and above all of it (at or below the line, any spending is both).
    let all_households = rows(dir, "households.csv");
    let mut spent: HashMap<&str, i64> = HashMap::new();
    for c in &claims {
        let h = person[c["person_id"].as_str()]["household_id"].as_str();
        *spent.entry(h).or_default() += fen(&settlements[&c["claim_id"]]["out_of_pocket"]);
    }
    let line = 1_080_000i64;
    let (mut over10, mut over25, mut hardship, mut impoverished) = (0, 0, 0, 0);
    for h in &all_households {
        let s = spent.get(h["household_id"].as_str()).copied().unwrap_or(0);
        if s == 0 {
            continue;
        }
        let budget = if h["consumption"].trim().is_empty() { fen(&h["income"]) } else { fen(&h["consumption"]) };
        let left = budget - line * h["size"].parse::<i64>().unwrap();
        over10 += (s * 100 > budget * 10) as i64;
        over25 += (s * 100 > budget * 25) as i64;
        hardship += (left <= 0 || s * 100 > left * 40) as i64;
        impoverished += (left <= 0 || s > left) as i64;
    }
    let n = Some(all_households.len() as i64);
    want.insert("catastrophic_spending_10_share".into(), (over10, n));
    want.insert("catastrophic_spending_25_share".into(), (over25, n));
    want.insert("financial_hardship_share".into(), (hardship, n));
    want.insert("impoverishing_spending_share".into(), (impoverished, n));

    // The network: rural villages, those without a qualified doctor now (the
    // coverage command's blank spots), and the reach of the 15-minute circle.
    let rural: HashSet<String> = rows(dir, "regions.csv")
        .into_iter()
        .filter(|r| r["level"] == "village" && r["urban_rural"].starts_with('2'))
        .map(|r| r["code"].clone())
        .collect();
    let blank: HashSet<String> = rows(dir, "blank_spots.csv")
        .into_iter()
        .filter(|b| b["in_years"] == "0" && ["village_no_clinic", "village_no_doctor"].contains(&b["kind"].as_str()))
        .map(|b| b["region_code"].clone())
        .collect();
    let villages = rural.len() as i64;
    want.insert(
        "villages_with_qualified_doctor_share".into(),
        (rural.iter().filter(|v| !blank.contains(*v)).count() as i64, Some(villages)),
    );
    let reach = rows(dir, "reach.csv");
    let people = |f: &dyn Fn(&HashMap<String, String>) -> bool| -> i64 {
        reach
            .iter()
            .filter(|r| rural.contains(&r["village_code"]) && f(r))
            .map(|r| r["population"].parse::<i64>().unwrap())
            .sum()
    };
    want.insert(
        "population_within_15min_share".into(),
        (people(&|r| r["within_15_minutes"] == "true"), Some(people(&|_| true))),
    );

    // Poor chronic patients, and those under a contract signed by the end of the year.
    let chronic = Catalogue::read("chronic_diseases.csv");
    let contracted: HashSet<String> = rows(dir, "contracts.csv")
        .into_iter()
        .filter(|c| day(&c["signed"]).year() <= YEAR)
        .map(|c| c["person_id"].clone())
        .collect();
    let chronic_poor: Vec<&HashMap<String, String>> =
        persons.iter().filter(|p| poor(p) && p["diagnoses"].split(';').any(|d| chronic.entry(d).is_some())).collect();
    want.insert(
        "poor_chronic_contracted_share".into(),
        (
            chronic_poor.iter().filter(|p| contracted.contains(&p["person_id"])).count() as i64,
            Some(chronic_poor.len() as i64),
        ),
    );

    // The casework, which lives in the store only: plain SQL over its tables.
    let assisted: i64 = sqlx::query_scalar(
        "SELECT COUNT(DISTINCT a.household_id) FROM alerts a WHERE a.year = ?1 AND a.state = 'resolved'
         AND (EXISTS (SELECT 1 FROM assistance_measures m WHERE m.alert_id = a.id)
              OR EXISTS (SELECT 1 FROM case_measures m WHERE m.case_id = a.case_id))",
    )
    .bind(YEAR)
    .fetch_one(&pool)
    .await
    .unwrap();
    let warned_in_store: i64 = sqlx::query_scalar("SELECT COUNT(DISTINCT household_id) FROM alerts WHERE year = ?1")
        .bind(YEAR)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(warned_in_store, warned.len() as i64, "the store's alerts are the file-mode monitor's");
    want.insert("warned_households_assisted_share".into(), (assisted, Some(warned_in_store)));
    let cases: Vec<Case> =
        sqlx::query_as("SELECT due, verified_on, close_due, closed_on FROM cases").fetch_all(&pool).await.unwrap();
    pool.close().await;
    want.extend(case_counts(&cases, YEAR));
    let ids: Vec<&String> = got.keys().collect();
    assert_eq!(ids, want.keys().collect::<Vec<_>>(), "an indicator of the report is not counted here");
    for (id, w) in &want {
        assert_eq!(&got[id], w, "{id}: the report (left) against the raw files (right)");
    }
    // The demo's casework is dated in the January after the year, so its
    // deadlines fall in the next year: that year's report counts them.
    let next = report(&db, dir, YEAR + 1);
    for (id, w) in case_counts(&cases, YEAR + 1) {
        assert!(w.1.is_some_and(|d| d > 0), "{id}: the demo's cases are due in {}", YEAR + 1);
        assert_eq!(next[&id], w, "{id} of {}: the report (left) against the store's cases (right)", YEAR + 1);
    }
}

type Case = (NaiveDate, Option<NaiveDate>, NaiveDate, Option<NaiveDate>);

/// The two case indicators of `year` (docs/indicators.md): cases whose
/// deadline to verify falls in the year and those verified by it; cases whose
/// deadline to close falls in the year and those closed by it.
fn case_counts(cases: &[Case], year: i32) -> Vec<(String, (i64, Option<i64>))> {
    let in_year = |d: &NaiveDate| d.year() == year;
    let due: Vec<_> = cases.iter().filter(|c| in_year(&c.0)).collect();
    let verified = due.iter().filter(|c| c.1.is_some_and(|v| v <= c.0)).count() as i64;
    let close_due: Vec<_> = cases.iter().filter(|c| in_year(&c.2)).collect();
    let closed = close_due.iter().filter(|c| c.3.is_some_and(|on| on <= c.2)).count() as i64;
    vec![
        ("cases_verified_in_time_share".into(), (verified, Some(due.len() as i64))),
        ("cases_closed_in_time_share".into(), (closed, Some(close_due.len() as i64))),
    ]
}
