//! The programme report and the policy what-if in the web application, on the
//! in-memory repository, on the store over SQLite, and on PostgreSQL when
//! SAFETYNET_TEST_PG names a server: figures checked by hand, the region scope on
//! the page, the CSV and the JSON, the identical policy changing nothing, broken
//! drafts refused with where and why, and roles that may not analyse refused.
//!
//! The fixture (tests/common): two counties, 341122 and 341123, each with one
//! village, one household (HA1, HB1) of one lifted person with stomach cancer
//! (C16, a serious disease), one open 2024 alert, and one inpatient claim of
//! 2024-03-10 at a county hospital costing 60,000.00 yuan of which the patient
//! pays 13,000.00 under the demo policy.

mod common;

use common::*;
use serde_json::{json, Value};
use std::sync::Arc;
use web::access::Role;

/// The application holding the fixture, its claims settled.
async fn app(kind: Kind) -> Server {
    match kind {
        Kind::Memory | Kind::Sqlite | Kind::Postgres => {
            let (url, keep): (String, Box<dyn std::any::Any + Send + Sync>) = if kind != Kind::Postgres {
                let dir = tempfile::tempdir().unwrap();
                (dir.path().join("web.db").to_str().unwrap().to_string(), Box::new(dir))
            } else {
                let db = PgDatabase::create(&pg_admin_url().unwrap()).await;
                (db.url.clone(), Box::new(db))
            };
            let repo = web::App::open(&url).await.unwrap();
            fill_store(repo.store()).await;
            let counts =
                app::settlement::settle_stored(repo.store(), &store::Scope::all(), 2024, "test").await.unwrap();
            assert_eq!(counts.settled, 2);
            let mut srv = start(Arc::new(repo)).await;
            srv.keep.push(keep);
            srv
        }
    }
}

on_each_repo!(
    the_report_has_hand_checked_figures,
    a_county_user_sees_only_their_county,
    the_identical_policy_changes_nothing,
    a_broken_draft_is_refused_with_where_and_why,
    roles_that_may_not_analyse_are_refused,
    a_county_compares_with_its_province_and_the_nation_without_seeing_them,
);

fn value<'a>(row: &'a Value, id: &str) -> &'a Value {
    row["values"].as_array().unwrap().iter().find(|v| v["id"] == id).unwrap_or_else(|| panic!("no {id} in {row}"))
}

async fn the_report_has_hand_checked_figures(kind: Kind) {
    let srv = app(kind).await;
    srv.user("admin", Role::Administrator, "").await;
    let mut c = srv.login("admin").await;
    let r = c.get("/api/v1/reports?year=2024&level=province,county&period=year").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    assert_eq!(j["levels"], json!(["province", "county"]));
    let rows = j["rows"].as_array().unwrap();
    let codes: Vec<&str> = rows.iter().map(|r| r["region_code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["34", "341122", "341123"]);
    for row in rows {
        assert_eq!(row["period"], "2024");
        let county = row["level"] == "county";
        let n = if county { 1.0 } else { 2.0 };
        // 13,000.00 of 60,000.00 per claim: 21.67 %.
        let oop = value(row, "poor_out_of_pocket_share");
        assert_eq!(oop["numerator"], json!(13_000.0 * n), "{row}");
        assert_eq!(oop["denominator"], json!(60_000.0 * n), "{row}");
        assert!((oop["value"].as_f64().unwrap() - 100.0 * 13.0 / 60.0).abs() < 1e-9, "{row}");
        // Treated in a county hospital, a serious patient treated, a household warned.
        let in_county = value(row, "poor_treated_in_county_share");
        assert_eq!((in_county["numerator"].as_f64(), in_county["value"].as_f64()), (Some(n), Some(100.0)));
        let serious = value(row, "poor_patients_treated_share");
        assert_eq!((serious["numerator"].as_f64(), serious["denominator"].as_f64()), (Some(n), Some(n)));
        let warned = value(row, "households_warned");
        assert_eq!(warned["numerator"].as_f64(), Some(n), "{row}");
        assert_eq!(value(row, "warned_households_assisted_share")["value"], json!(0.0));
        // The store's settlements: all of the 47,000.00 the patient did not pay.
        assert_eq!(value(row, "funds_paid")["numerator"], json!(47_000.0 * n), "{row}");
    }
    assert_eq!(rows[1]["region_name"], "县341122");

    // Quarters: the claim falls in the first.
    let r = c.get("/api/v1/reports?year=2024&level=county&period=quarter").await;
    let j = r.json();
    let a: Vec<&Value> = j["rows"].as_array().unwrap().iter().filter(|r| r["region_code"] == "341122").collect();
    assert_eq!(a.len(), 4);
    assert_eq!(a[0]["period"], "2024-Q1");
    assert_eq!(value(a[0], "poor_out_of_pocket_share")["numerator"], json!(13_000.0));
    assert_eq!(value(a[1], "poor_out_of_pocket_share")["numerator"], json!(0.0));

    // Another year has no claims.
    let j = c.get("/api/v1/reports?year=2023&level=county").await.json();
    for row in j["rows"].as_array().unwrap() {
        assert_eq!(value(row, "poor_out_of_pocket_share")["numerator"], json!(0.0));
    }

    // The page, and its downloads.
    let page = c.get("/reports?year=2024&level=county").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"report-table\"") && page.body.contains("21.7%"), "{}", page.body);
    assert!(page.body.contains("href=\"/reports\""), "linked from the navigation");
    assert!(page.body.contains("id=\"report-xlsx\"") && page.body.contains("id=\"report-csv\""));
    let csv = c.get("/api/v1/reports?year=2024&level=county&format=csv").await;
    assert_eq!(csv.status, 200, "{}", csv.body);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let lines: Vec<&str> = csv.body.lines().collect();
    assert!(lines[0].starts_with("level,region_code,region_name,period,poor_patients_treated_share"), "{}", lines[0]);
    assert_eq!(lines.len(), 3, "{}", csv.body);
    assert!(lines[1].starts_with("county,341122,县341122,2024,"), "{}", lines[1]);
    let xlsx = c.get("/api/v1/reports?year=2024&level=county,township&format=xlsx").await;
    assert_eq!(xlsx.status, 200);
    assert!(xlsx.header("content-type").unwrap().contains("spreadsheetml"));
    assert!(xlsx.body.starts_with("PK"), "a zip file");
    let log = srv.state.app.audit_log(10).await.unwrap();
    assert!(log.iter().any(|e| e.action == "export" && e.target == "report"), "downloads are audited");

    // Neither 来安县 (341122) nor 全椒县 (341123) is a national poverty county.
    let mut rows: Vec<Vec<String>> = Vec::new();
    for q in ["counties=poverty", "counties=other"] {
        let j = c.get(&format!("/api/v1/reports?year=2024&level=county&{q}")).await.json();
        rows.push(
            j["rows"].as_array().unwrap().iter().map(|r| r["region_code"].as_str().unwrap().to_string()).collect(),
        );
    }
    assert_eq!(rows, [vec![], vec!["341122".to_string(), "341123".to_string()]]);
    let page = c.get("/reports?year=2024&level=county&counties=other").await;
    assert!(page.body.contains("<option value=\"other\" selected>"), "{}", page.body);

    // Bad parameters are the caller's error, said in words.
    for (q, word) in [
        ("year=2024&counties=poor", "counties"),
        ("year=1800", "year"),
        ("year=2024&level=galaxy", "level"),
        ("year=2024&period=week", "period"),
        ("year=2024&format=pdf", "format"),
        ("year=2024&colour=red", "colour"),
    ] {
        let r = c.get(&format!("/api/v1/reports?{q}")).await;
        assert_eq!(r.status, 400, "{q}: {}", r.body);
        assert!(r.json()["message"].as_str().unwrap().contains(word), "{q}: {}", r.body);
    }
}

async fn a_county_user_sees_only_their_county(kind: Kind) {
    let srv = app(kind).await;
    srv.user("analyst_a", Role::Analyst, "341122").await;
    let mut c = srv.login("analyst_a").await;
    let all_levels = "year=2024&level=province,city,county,township,village&period=month";

    let j = c.get(&format!("/api/v1/reports?{all_levels}")).await.json();
    let rows = j["rows"].as_array().unwrap();
    assert!(!rows.is_empty());
    for row in rows {
        let code = row["region_code"].as_str().unwrap();
        assert!(code.starts_with("341122"), "a row outside the scope: {row}");
    }
    assert!(rows.iter().any(|r| r["level"] == "village"));
    let county: Vec<&Value> = rows.iter().filter(|r| r["level"] == "county").collect();
    assert_eq!(county.len(), 12, "one row per month");
    let total: f64 = county.iter().map(|r| value(r, "poor_out_of_pocket_share")["numerator"].as_f64().unwrap()).sum();
    assert_eq!(total, 13_000.0, "only the county's own claim");

    let csv = c.get(&format!("/api/v1/reports?{all_levels}&format=csv")).await;
    assert_eq!(csv.status, 200, "{}", csv.body);
    for line in csv.body.lines().skip(1) {
        let code = line.split(',').nth(1).unwrap();
        assert!(code.starts_with("341122"), "a CSV row outside the scope: {line}");
    }
    assert!(!csv.body.contains("341123") && !csv.body.contains("县341123"));

    let page = c.get(&format!("/reports?{all_levels}")).await;
    assert_eq!(page.status, 200);
    let table = &page.body[page.body.find("id=\"report-table\"").unwrap()..];
    assert!(table.contains("341122") && !table.contains("341123"), "the page shows the county only");

    // The what-if too: one county.
    let policy = include_str!("data/policy.toml");
    c.csrf_header = Some(c.csrf().await);
    let r = c.post_json("/api/v1/whatif", &json!({ "year": 2024, "policy_toml": policy }).to_string()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    assert_eq!(j["claims"], 1);
    let counties: std::collections::BTreeSet<&str> =
        j["rows"].as_array().unwrap().iter().map(|r| r["county"].as_str().unwrap()).collect();
    assert_eq!(counties.into_iter().collect::<Vec<_>>(), ["341122", "all"]);
}

/// The demo policy with the poor's basic insurance rate at county hospitals
/// raised from 0.85 to 0.95.
fn generous_policy() -> String {
    let p = include_str!("data/policy.toml");
    let needle = "rate = { village = 0.95, township = 0.95, county = 0.85";
    assert!(p.contains(needle));
    p.replace(needle, "rate = { village = 0.95, township = 0.95, county = 0.95").replace("Demo county 2024", "Generous")
}

fn row<'a>(j: &'a Value, county: &str, item: &str) -> &'a Value {
    j["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["county"] == county && r["item"] == item)
        .unwrap_or_else(|| panic!("no {county} {item}"))
}

async fn the_identical_policy_changes_nothing(kind: Kind) {
    let srv = app(kind).await;
    srv.user("analyst", Role::Analyst, "").await;
    let mut c = srv.login("analyst").await;
    c.csrf_header = Some(c.csrf().await);
    let policy = include_str!("data/policy.toml");
    let r = c.post_json("/api/v1/whatif", &json!({ "year": 2024, "policy_toml": policy }).to_string()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    assert_eq!(j["unchanged"], true, "{j}");
    assert_eq!(j["claims"], 2);
    assert_eq!(j["in_force"], json!(["Demo county 2024"]));
    for r in j["rows"].as_array().unwrap() {
        let d = r["difference"].as_str().unwrap_or("0");
        assert!(d == "0" || d == "0.00", "{r}");
    }
    assert_eq!(row(&j, "all", "households_with_claims")["in_force"], "2");
    // As the store settled them.
    assert_eq!(row(&j, "all", "out_of_pocket")["in_force"], "26000.00");
    assert_eq!(row(&j, "341122", "paid_total")["draft"], "47000.00");
    assert_eq!(row(&j, "341123", "household_out_of_pocket_p50")["in_force"], "13000.00");

    // A more generous draft: basic insurance pays more, the difference shows.
    let r = c.post_json("/api/v1/whatif", &json!({ "year": 2024, "policy_toml": generous_policy() }).to_string()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    assert_eq!(j["unchanged"], false);
    assert_eq!(j["draft"], "Generous");
    let d: f64 = row(&j, "all", "paid_basic")["difference"].as_str().unwrap().parse().unwrap();
    assert!(d > 0.0, "{j}");

    // The page: the form with CSRF, the table and the charts.
    let mut p = srv.login("analyst").await;
    let form = p.get("/whatif").await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("Demo county 2024"), "the policy in force is the starting draft");
    let csrf = form.csrf();
    let r = p.post_form("/whatif", &[("year", "2024"), ("policy", policy)]).await;
    assert_eq!(r.status, 403, "no CSRF token, no what-if");
    let r = p.post_form("/whatif", &[("year", "2024"), ("policy", policy), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("id=\"whatif-unchanged\""), "{}", r.body);
    assert!(r.body.contains("id=\"chart-funds\"") && r.body.contains("<svg"), "inline SVG charts");
    assert!(r.body.contains("data-county=\"341122\"") && r.body.contains("data-county=\"all\""));
    assert!(!r.body.contains("<script src=\"http"), "nothing from outside");
    assert!(r.body.contains("id=\"whatif-xlsx\""), "an analyst may download the comparison");
    let x = p.post_form("/whatif", &[("year", "2024"), ("policy", policy), ("format", "xlsx"), ("csrf", &csrf)]).await;
    assert_eq!(x.status, 200, "{}", x.body);
    assert!(x.header("content-type").unwrap().contains("spreadsheetml") && x.body.starts_with("PK"));
    let c = p.post_form("/whatif", &[("year", "2024"), ("policy", policy), ("format", "csv"), ("csrf", &csrf)]).await;
    assert_eq!(c.status, 200, "{}", c.body);
    assert!(c.body.starts_with("county,county_name,item,in_force,draft,difference"), "{}", c.body);
    assert!(c.body.contains("\n341122,县341122,paid_basic,"), "{}", c.body);
}

async fn a_broken_draft_is_refused_with_where_and_why(kind: Kind) {
    let srv = app(kind).await;
    srv.user("analyst", Role::Analyst, "").await;
    let mut c = srv.login("analyst").await;
    c.csrf_header = Some(c.csrf().await);
    let post = |year: i32, toml: &str| json!({ "year": year, "policy_toml": toml }).to_string();
    let cases: [(String, &[&str]); 5] = [
        ("name = \"x\"\n[[tier]\nname = \"basic\"\n".into(), &["not valid TOML", "line 2"]),
        ("name = \"x\"\n[[tier]]\nname = \"basic\"\nrate = 1.5\n".into(), &["tier 1", "rate"]),
        ("name = \"x\"\n[[tier]]\nname = \"basic\"\nrate = 0.5\nspeed = 3\n".into(), &["tier 1", "speed"]),
        ("   ".into(), &["empty"]),
        (include_str!("data/policy.toml").replace("year = 2024", "year = 2025"), &["2025", "2024"]),
    ];
    for (toml, words) in cases.iter() {
        let r = c.post_json("/api/v1/whatif", &post(2024, toml)).await;
        assert_eq!(r.status, 422, "{toml}: {}", r.body);
        let j = r.json();
        assert_eq!(j["error"], "unprocessable");
        let msg = j["message"].as_str().unwrap();
        for w in *words {
            assert!(msg.contains(w), "{toml}: {msg:?} does not say {w:?}");
        }
    }
    let r = c
        .post_json(
            "/api/v1/whatif",
            &post(2023, include_str!("data/policy.toml").replace("year = 2024\n", "").as_str()),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.json()["message"].as_str().unwrap().contains("no settlement policy is in force"));
    let r = c.post_json("/api/v1/whatif", "{\"year\": 2024}").await;
    assert_eq!(r.status, 422, "{}", r.body);
    let r = c.post_json("/api/v1/whatif", "{\"year\": ").await;
    assert_eq!(r.status, 400, "{}", r.body);

    // On the page: 422, the form kept, the message shown.
    let mut p = srv.login("analyst").await;
    let csrf = p.get("/whatif").await.csrf();
    let bad = "name = \"x\"\n[[tier]]\nname = \"basic\"\nrate = 1.5\n";
    let r = p.post_form("/whatif", &[("year", "2024"), ("policy", bad), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("id=\"whatif-error\"") && r.body.contains("tier 1"), "{}", r.body);
    assert!(r.body.contains("rate = 1.5"), "the draft is kept in the form");
}

async fn roles_that_may_not_analyse_are_refused(kind: Kind) {
    let srv = app(kind).await;
    srv.user("viewer", Role::Viewer, "341122").await;
    srv.user("clerk", Role::Clerk, "").await;
    let policy = include_str!("data/policy.toml");
    for who in ["viewer", "clerk"] {
        let mut c = srv.login(who).await;
        let home = c.get("/").await;
        assert!(!home.body.contains("href=\"/whatif\""), "{who}: no what-if link");
        assert!(home.body.contains("href=\"/reports\""), "{who}: the report is linked");
        assert_eq!(c.get("/whatif").await.status, 403, "{who}");
        let csrf = home.csrf();
        let r = c.post_form("/whatif", &[("year", "2024"), ("policy", policy), ("csrf", &csrf)]).await;
        assert_eq!(r.status, 403, "{who}: {}", r.body);
        c.csrf_header = Some(csrf);
        let r = c.post_json("/api/v1/whatif", &json!({ "year": 2024, "policy_toml": policy }).to_string()).await;
        assert_eq!(r.status, 403, "{who}: {}", r.body);
        assert_eq!(r.json()["error"], "forbidden");
    }
    // A viewer reads the report, scoped, but may not download it.
    let mut v = srv.login("viewer").await;
    let r = v.get("/reports?year=2024").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body.contains("id=\"report-csv\""), "no download links without the export permission");
    assert_eq!(v.get("/api/v1/reports?year=2024&format=csv").await.status, 403);
    assert_eq!(v.get("/api/v1/reports?year=2024&format=json").await.status, 200);
    // Nobody signed in: nothing.
    let mut anon = srv.client();
    assert_eq!(anon.get("/api/v1/reports?year=2024").await.status, 401);
    assert_eq!(
        anon.post_json("/api/v1/whatif", &json!({ "year": 2024, "policy_toml": policy }).to_string()).await.status,
        401
    );
}

/// More data beside the fixture: a second, dearer stay of HB1's patient in county
/// 341123 (June, a provincial hospital), and a household of Fujian (35) with a
/// stay of its own, under the demo policy there too; all settled.
async fn wider_regions(store: &store::Store) {
    use domain::{Fen, Household, Person, PovertyStatus, Region, RegionCode, RegionLevel, ResidentId};
    let d = |s: &str| domain::parse_date(s).unwrap();
    let village = RegionCode::parse("350102001001").unwrap();
    let region = |code: &str, name: &str, level| Region {
        code: RegionCode::parse(code).unwrap(),
        name: name.into(),
        level,
        urban_rural: Some(220),
        population: Some(500),
        lon: None,
        lat: None,
    };
    store
        .import_regions(&[
            region("350102", "鼓楼区F", RegionLevel::County),
            region("350102001001", "村F", RegionLevel::Village),
        ])
        .await
        .unwrap();
    store
        .import_households(&[Household {
            household_id: "HF1".into(),
            village_code: village,
            size: 1,
            income: Fen::from_yuan(9_000),
            consumption: None,
            food: None,
        }])
        .await
        .unwrap();
    let fujian = ResidentId::from_parts(350102, d("1958-02-01"), 21).unwrap();
    store
        .import_persons(&[Person {
            person_id: fujian,
            household_id: "HF1".into(),
            name: "福建人".into(),
            status: PovertyStatus::LowIncome,
            status_since: d("2020-01-01"),
            diagnoses: vec![],
        }])
        .await
        .unwrap();
    let b_person = ResidentId::from_parts(341123, d("1960-05-01"), 12).unwrap();
    let claim = |id: &str, person, level, day: &str, total: i64| domain::Claim {
        claim_id: id.into(),
        person_id: person,
        facility_level: level,
        kind: domain::ClaimKind::Inpatient,
        admitted: d(day),
        discharged: d(day),
        total_cost: Fen::from_yuan(total),
        eligible_cost: Fen::from_yuan(total * 3 / 4),
        diagnosis: "J18".into(),
        facility_id: String::new(),
        referred: false,
    };
    store
        .import_claims(&[
            claim("HB1-C2", b_person, domain::FacilityLevel::Provincial, "2024-06-02", 40_000),
            claim("HF1-C1", fujian, domain::FacilityLevel::County, "2024-08-20", 8_000),
        ])
        .await
        .unwrap();
    app::settlement::put_policy(store, "35", 2024, include_str!("data/policy.toml"), "test").await.unwrap();
    let counts = app::settlement::settle_stored(store, &store::Scope::all(), 2024, "test").await.unwrap();
    assert_eq!(counts.settled, 2);
}

/// A county analyst compares the county with its province and the nation: the
/// province's and the nation's values are those the administrator's report
/// gives the province and the country, as values only; no row, code, name or
/// sum of another county or province reaches the analyst (JSON, CSV, page and
/// its charts). The charts carry the month's and the year's values drawn.
async fn a_county_compares_with_its_province_and_the_nation_without_seeing_them(kind: Kind) {
    let srv = app(kind).await;
    wider_regions(srv.state.app.store()).await;
    srv.user("admin", Role::Administrator, "").await;
    srv.user("analyst_a", Role::Analyst, "341122").await;
    let ids = ["poor_out_of_pocket_share", "poor_treated_in_county_share", "funds_paid", "households_warned"];

    // What the whole country's administrator sees: the provinces' rows.
    let mut admin = srv.login("admin").await;
    let j = admin.get("/api/v1/reports?year=2024&level=province").await.json();
    let provinces = j["rows"].as_array().unwrap().clone();
    let codes: Vec<&str> = provinces.iter().map(|r| r["region_code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["34", "35"]);
    let nation = |id: &str| -> Option<f64> {
        let (mut n, mut d) = (0.0, 0.0);
        for p in &provinces {
            n += value(p, id)["numerator"].as_f64().unwrap();
            d += value(p, id)["denominator"].as_f64().unwrap_or(0.0);
        }
        let unit_percent = id.ends_with("_share");
        match (value(&provinces[0], id)["denominator"].is_null(), d) {
            (true, _) => Some(n),
            (false, 0.0) => None,
            (false, d) => Some(if unit_percent { 100.0 * n / d } else { n / d }),
        }
    };
    let close = |a: &Value, b: Option<f64>| match (a.as_f64(), b) {
        (Some(a), Some(b)) => (a - b).abs() < 1e-9,
        (None, None) => true,
        _ => false,
    };

    let mut c = srv.login("analyst_a").await;
    let r = c.get("/api/v1/reports?year=2024&level=county,village&compare=regions").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    assert_eq!(j["compare"], "regions");
    let rows = j["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "the county and its village");
    for row in rows {
        assert!(row["region_code"].as_str().unwrap().starts_with("341122"), "{row}");
        assert_eq!(row["province_code"], "34");
        for id in ids {
            let v = value(row, id);
            assert!(
                close(&v["province"], value(&provinces[0], id)["value"].as_f64()),
                "{id}: {v} against {}",
                provinces[0]
            );
            assert!(close(&v["nation"], nation(id)), "{id}: {v}");
            let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
            assert!(!keys.iter().any(|k| k.contains("province_") || k.contains("nation_")), "values only: {keys:?}");
        }
    }
    // The three differ: county A alone, Anhui with county B's dearer stay, and Fujian.
    let county = value(&rows[0], "poor_out_of_pocket_share");
    assert!((county["value"].as_f64().unwrap() - 100.0 * 13.0 / 60.0).abs() < 1e-9, "{county}");
    assert_ne!(county["value"], county["province"]);
    assert_ne!(county["province"], county["nation"]);
    for other in ["341123", "350102", "县341123", "鼓楼区F", "村F", "HB1", "HF1", B_NAME] {
        assert!(!r.body.contains(other), "the report of county A names {other}: {}", r.body);
    }

    // Both comparisons at once, and the CSV.
    let j = c.get("/api/v1/reports?year=2024&level=county&compare=previous-year&compare=regions").await.json();
    assert_eq!(j["compare"], "previous-year,regions");
    let v = value(&j["rows"][0], "poor_out_of_pocket_share");
    assert!(v["province"].is_number() && v.get("previous").is_some(), "{v}");
    let csv = c.get("/api/v1/reports?year=2024&level=county&compare=previous-year,regions&format=csv").await;
    assert_eq!(csv.status, 200, "{}", csv.body);
    let head = csv.body.lines().next().unwrap();
    assert!(head.contains("poor_out_of_pocket_share_previous,poor_out_of_pocket_share_change,poor_out_of_pocket_share_province,poor_out_of_pocket_share_nation"), "{head}");
    assert_eq!(csv.body.lines().count(), 2);
    for other in ["341123", "350102", "鼓楼区F"] {
        assert!(!csv.body.contains(other), "{}", csv.body);
    }

    // The page: the cells and the charts, one pair per indicator.
    let page = c.get("/reports?year=2024&level=county&compare=regions").await;
    assert_eq!(page.status, 200, "{}", page.body);
    for other in ["341123", "350102", "县341123", "鼓楼区F", "村F", B_NAME] {
        assert!(!page.body.contains(other), "the page of county A names {other}");
    }
    assert!(page.body.contains("<input type=\"checkbox\" name=\"compare\" value=\"regions\" checked>"));
    assert!(page.body.contains("class=\"wider\""), "province and nation in the cells");
    let charts = &page.body[page.body.find("id=\"report-charts\"").expect("the charts")..];
    assert_eq!(
        charts.matches("<figure class=\"chart report-chart\"").count(),
        j["indicators"].as_array().unwrap().len()
    );
    assert!(!charts.contains("<script"), "no script");
    let figure = |id: &str| -> &str {
        let at = charts.find(&format!("data-indicator=\"{id}\"")).unwrap();
        &charts[at..at + charts[at..].find("</figure>").unwrap()]
    };
    let oop = figure("poor_out_of_pocket_share");
    let dv = |x: f64| web::charts::data_value(x);
    // March: the county's one stay, 13,000 of 60,000; no other month has a figure.
    assert!(
        oop.contains(&format!("class=\"year\" data-month=\"2024-03\" data-value=\"{}\"", dv(100.0 * 13.0 / 60.0))),
        "{oop}"
    );
    assert_eq!(oop.matches("class=\"year\" data-month=").count(), 1, "{oop}");
    assert!(
        oop.contains(&format!("data-region=\"region\" data-value=\"{}\"", dv(county["value"].as_f64().unwrap()))),
        "{oop}"
    );
    assert!(
        oop.contains(&format!("data-region=\"province\" data-value=\"{}\"", dv(county["province"].as_f64().unwrap()))),
        "{oop}"
    );
    assert!(
        oop.contains(&format!("data-region=\"nation\" data-value=\"{}\"", dv(county["nation"].as_f64().unwrap()))),
        "{oop}"
    );
    assert!(oop.contains("class=\"target\" data-value=\"10\" data-direction=\"about\""), "{oop}");

    // Without the comparison: the month chart and the region's own bar alone.
    let page = c.get("/reports?year=2024&level=county").await;
    let charts = &page.body[page.body.find("id=\"report-charts\"").unwrap()..];
    assert!(charts.contains("data-region=\"region\"") && !charts.contains("data-region=\"province\""));
    assert!(!page.body.contains("class=\"wider\""));

    // An unknown comparison is the caller's error.
    let r = c.get("/api/v1/reports?year=2024&compare=neighbours").await;
    assert_eq!(r.status, 400);
    assert!(r.json()["message"].as_str().unwrap().contains("regions"), "{}", r.body);
}
