//! The indicators' targets in the web application, on SQLite and on PostgreSQL
//! when SAFETYNET_TEST_PG names a server: the report (JSON and page) draws each
//! value against the shipped target with its status; an administrator changes a
//! target and the status follows at once, audited; other roles are refused; the
//! report compares with the year before; the overview shows the targets' cards.
//!
//! The fixture (tests/common): counties 341122 and 341123, one lifted patient
//! each with one 2024 inpatient claim at a county hospital, 60,000.00 yuan of
//! which the patient pays 13,000.00 under the demo policy: an out-of-pocket
//! share of 21.67 %, all treated inside the county.

mod common;

use common::*;
use serde_json::{json, Value};
use std::sync::Arc;
use web::access::Role;

on_each_repo!(targets_are_drawn_on_the_report_and_changed_by_administrators_only);

/// The application holding the fixture, its claims settled.
async fn app(kind: Kind) -> Server {
    let (url, keep): (String, Box<dyn std::any::Any + Send + Sync>) = if kind != Kind::Postgres {
        let dir = tempfile::tempdir().unwrap();
        (dir.path().join("web.db").to_str().unwrap().to_string(), Box::new(dir))
    } else {
        let db = PgDatabase::create(&pg_admin_url().unwrap()).await;
        (db.url.clone(), Box::new(db))
    };
    let repo = web::App::open(&url).await.unwrap();
    fill_store(repo.store()).await;
    let counts = app::settlement::settle_stored(repo.store(), &store::Scope::all(), 2024, "test").await.unwrap();
    assert_eq!(counts.settled, 2);
    let mut srv = start(Arc::new(repo)).await;
    srv.keep.push(keep);
    srv
}

async fn api(srv: &Server, user: &str) -> Client {
    let mut c = srv.login(user).await;
    c.csrf_header = Some(c.csrf().await);
    c
}

async fn put(c: &mut Client, body: &Value) -> Resp {
    c.send("PUT", "/api/v1/targets", Some(("application/json", body.to_string())), &[]).await
}

/// An indicator's value object on the row of a region.
fn value(report: &Value, region: &str, id: &str) -> Value {
    let row = report["rows"].as_array().unwrap().iter().find(|r| r["region_code"] == region).unwrap();
    row["values"].as_array().unwrap().iter().find(|v| v["id"] == id).unwrap().clone()
}

async fn targets_are_drawn_on_the_report_and_changed_by_administrators_only(kind: Kind) {
    let srv = app(kind).await;
    srv.user("admin", Role::Administrator, "").await;
    srv.user("officer_a", Role::Officer, "341122").await;
    srv.user("analyst", Role::Analyst, "").await;
    let mut a = api(&srv, "admin").await;
    let mut o = api(&srv, "officer_a").await;
    let report = "/api/v1/reports?year=2024&level=county";

    // The shipped targets: out-of-pocket share about 10 ± 3 (21.67 % misses it),
    // treated inside the county at least 90 % (100 % meets it).
    let r = a.get(report).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    assert_eq!(j["compare"], Value::Null);
    let oop = value(&j, "341122", "poor_out_of_pocket_share");
    assert_eq!(oop["target"]["text"], "10 ± 3", "{oop}");
    assert_eq!((oop["target"]["direction"].clone(), oop["target"]["region"].clone()), (json!("about"), json!("")));
    assert_eq!(oop["status"], "missed", "{oop}");
    let in_county = value(&j, "341122", "poor_treated_in_county_share");
    assert_eq!((in_county["target"]["value"].clone(), in_county["status"].clone()), (json!(90.0), json!("met")));
    let funds = value(&j, "341122", "funds_paid");
    assert_eq!((funds["target"].clone(), funds["status"].clone()), (Value::Null, Value::Null));
    let page = a.get("/reports?year=2024&level=county").await.body;
    assert!(
        page.contains("10 ± 3") && page.contains("data-status=\"missed\"") && page.contains("data-status=\"met\""),
        "{page}"
    );

    // Everyone reads the targets; the shipped ones say so.
    let t = o.get("/api/v1/targets").await;
    assert_eq!(t.status, 200, "{}", t.body);
    let items = t.json()["items"].as_array().unwrap().clone();
    let shipped = items.iter().find(|i| i["indicator"] == "poor_out_of_pocket_share").unwrap();
    assert_eq!((shipped["origin"].clone(), shipped["version"].clone()), (json!("shipped"), Value::Null));
    assert!(shipped["source"].as_str().unwrap().contains("10%"), "{shipped}");
    let page = o.get("/targets").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("10 ± 3") && !page.body.contains("target-form"), "{}", page.body);

    // Only an administrator changes them: an officer and an analyst are refused,
    // on the API and the form, and nothing is stored.
    let province = json!({ "indicator": "poor_out_of_pocket_share", "region": "34", "direction": "at_most",
                           "value": 25, "tolerance": 2, "source": "provincial plan 2024" });
    assert_eq!(put(&mut o, &province).await.status, 403);
    let mut an = api(&srv, "analyst").await;
    assert_eq!(put(&mut an, &province).await.status, 403);
    let csrf = o.csrf().await;
    let r = o
        .post_form(
            "/targets",
            &[
                ("indicator", "poor_out_of_pocket_share"),
                ("region", "341122"),
                ("direction", "at_most"),
                ("value", "25"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(a.get("/api/v1/targets").await.json()["changes"], json!([]));

    // Refusals name the field.
    for (bad, status, why) in [
        (json!({ "indicator": "catastrophic_spending_share", "direction": "at_least", "value": 90 }), 422, "indicator"),
        (json!({ "indicator": "poor_out_of_pocket_share", "direction": "above", "value": 10 }), 400, "direction"),
        (json!({ "indicator": "poor_out_of_pocket_share", "direction": "about" }), 400, "value"),
        (
            json!({ "indicator": "poor_out_of_pocket_share", "region": "341", "direction": "about", "value": 10 }),
            422,
            "region",
        ),
        (
            json!({ "indicator": "poor_out_of_pocket_share", "direction": "about", "value": 10, "tolerance": -1 }),
            422,
            "tolerance",
        ),
        (json!({ "indicator": "poor_out_of_pocket_share", "region": "34", "remove": true }), 404, "no target"),
        (
            json!({ "indicator": "poor_out_of_pocket_share", "direction": "about", "value": 10, "colour": "red" }),
            422,
            "colour",
        ),
    ] {
        let r = put(&mut a, &bad).await;
        assert_eq!(r.status, status, "{bad}: {}", r.body);
        assert!(r.json()["message"].as_str().unwrap().contains(why), "{bad}: {}", r.body);
    }

    // The administrator's province target: at most 25 %. The status follows at once.
    let r = put(&mut a, &province).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    let stored = j["items"].as_array().unwrap().iter().find(|i| i["region"] == "34").unwrap().clone();
    assert_eq!(
        (stored["origin"].clone(), stored["version"].clone(), stored["changed_by"].clone()),
        (json!("stored"), json!(1), json!("admin"))
    );
    assert_eq!(j["changes"].as_array().unwrap().len(), 1);
    let oop = value(&a.get(report).await.json(), "341122", "poor_out_of_pocket_share");
    assert_eq!(
        (oop["target"]["text"].clone(), oop["target"]["region"].clone(), oop["status"].clone()),
        (json!("≤ 25"), json!("34"), json!("met"))
    );
    // The county officer sees it too (the province lies above the county).
    let oop = value(&o.get(report).await.json(), "341122", "poor_out_of_pocket_share");
    assert_eq!(oop["status"], "met");
    assert!(o.get("/api/v1/targets").await.json()["items"].as_array().unwrap().iter().any(|i| i["region"] == "34"));

    // The administrator's form: a bad value is shown on the page, a good one stored.
    let page = a.get("/targets").await.body;
    assert!(page.contains("target-form"), "{page}");
    let csrf = a.csrf().await;
    let r = a
        .post_form(
            "/targets",
            &[
                ("indicator", "poor_out_of_pocket_share"),
                ("region", "34"),
                ("direction", "at_most"),
                ("value", "lots"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("form-error") && r.body.contains("lots"), "{}", r.body);
    let r = a
        .post_form(
            "/targets",
            &[
                ("indicator", "poor_out_of_pocket_share"),
                ("region", "34"),
                ("year", "2024"),
                ("direction", "at_most"),
                ("value", "15"),
                ("tolerance", "1"),
                ("source", "2024 only"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let oop = value(&a.get(report).await.json(), "341122", "poor_out_of_pocket_share");
    assert_eq!(
        (oop["target"]["year"].clone(), oop["status"].clone()),
        (json!(2024), json!("missed")),
        "the year's own target first"
    );

    // Audited, with who and what.
    let log = srv.state.app.audit_log(1000).await.unwrap();
    let rows: Vec<_> = log.iter().filter(|e| e.action == "set_target").collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.iter().all(|e| e.username == "admin" && e.target.contains("poor_out_of_pocket_share")), "{rows:?}");
    assert!(rows.iter().any(|e| e.detail.contains("at_most 25")), "{rows:?}");

    // Removed: the province's 2024 target goes, its every-year one applies again.
    let r =
        put(&mut a, &json!({ "indicator": "poor_out_of_pocket_share", "region": "34", "year": 2024, "remove": true }))
            .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let oop = value(&a.get(report).await.json(), "341122", "poor_out_of_pocket_share");
    assert_eq!((oop["target"]["text"].clone(), oop["status"].clone()), (json!("≤ 25"), json!("met")));
    assert_eq!(srv.state.app.audit_log(1000).await.unwrap().iter().filter(|e| e.action == "remove_target").count(), 1);

    // Compared with the year before (no claims in 2023: no ratio then).
    let r = a.get(&format!("{report}&compare=previous-year")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    assert_eq!(j["compare"], "previous-year");
    let oop = value(&j, "341122", "poor_out_of_pocket_share");
    assert_eq!((oop["previous"].clone(), oop["change"].clone()), (Value::Null, Value::Null), "{oop}");
    let warned = value(&j, "341122", "households_warned");
    assert_eq!((warned["previous"].clone(), warned["change"].clone()), (json!(0.0), json!(1.0)), "{warned}");
    let csv = a.get(&format!("{report}&compare=previous-year&format=csv")).await;
    assert_eq!(csv.status, 200);
    let head = csv.body.lines().next().unwrap().to_string();
    assert!(
        head.contains(
            "households_warned_target,households_warned_status,households_warned_previous,households_warned_change"
        ),
        "{head}"
    );
    let page = a.get("/reports?year=2024&level=county&compare=previous-year").await.body;
    assert!(
        page.contains("name=\"compare\" value=\"previous-year\" checked") && page.contains("class=\"previous\""),
        "{page}"
    );
    assert_eq!(a.get(&format!("{report}&compare=last-week")).await.status, 400);

    // The overview's cards of the indicators with a target, for the kept year.
    let page = a.get("/").await.body;
    assert!(page.contains("id=\"target-cards\"") && page.contains("data-k=\"poor_out_of_pocket_share\""), "{page}");
    assert!(!page.contains("data-k=\"funds_paid\""), "no target, no card");
}
