//! The network's history over HTTP (docs/coverage.md, "History"): a
//! practitioner's postings and qualifications read and recorded under
//! `/api/v1/practitioners/{id}/...` inside the scope, by role, validated
//! (400 for a field of the wrong form, 422 for a rule, 404 outside the scope)
//! and audited; the coverage of any day from the history, over the API and on
//! the coverage page, the same numbers; the practitioner's page with its
//! dates and forms.

mod common;

use common::*;
use serde_json::{json, Value};
use web::access::Role;

on_each_repo!(
    postings_are_recorded_in_scope_and_coverage_follows_the_history,
    network_alerts_name_the_change_and_who_must_fill_it
);

async fn api(srv: &Server, user: &str) -> Client {
    let mut c = srv.login(user).await;
    c.csrf_header = Some(c.csrf().await);
    c
}

/// A second village of county A, 341122100202, with clinic FA2 and nobody on
/// its staff (the fixture's county A has village 201 with clinic FA1 and its
/// rural doctor PA1, born 1962).
async fn second_village(srv: &Server) {
    let store = srv.state.app.store();
    store
        .import_regions(&[domain::Region {
            code: domain::RegionCode::parse("341122100202").unwrap(),
            name: "村二".into(),
            level: domain::RegionLevel::Village,
            urban_rural: Some(220),
            population: Some(700),
            lon: Some(118.31),
            lat: Some(32.1),
        }])
        .await
        .unwrap();
    store
        .import_facilities(&[domain::Facility {
            facility_id: "FA2".into(),
            name: "二村卫生室".into(),
            kind: domain::FacilityKind::VillageClinic,
            grade: None,
            region_code: domain::RegionCode::parse("341122100202").unwrap(),
            lon: None,
            lat: None,
            opened: None,
            closed: None,
        }])
        .await
        .unwrap();
}

fn posting(facility: &str, role: &str, start: Value, end: Value) -> String {
    json!({ "facility_id": facility, "role": role, "start": start, "end": end }).to_string()
}

/// The coverage page's counts of village blank spots for now: without a
/// clinic, without a doctor.
fn page_now(body: &str) -> u64 {
    let row = body.split("<tr><td>当前</td>").nth(1).expect("the row for now");
    let cells: Vec<u64> = row
        .split("</tr>")
        .next()
        .unwrap()
        .split("<td>")
        .filter_map(|c| c.split("</td>").next()?.parse().ok())
        .collect();
    cells[0] + cells[1]
}

/// The villages blank on `day` (in_years 0) by the coverage API, with its answer.
async fn blank(c: &mut Client, day: &str) -> (Vec<String>, Value) {
    let r = c.get(&format!("/api/v1/coverage?as_of={day}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    let villages: Vec<String> = j["spots"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["in_years"] == 0 && s["kind"].as_str().unwrap().starts_with("village_"))
        .map(|s| s["region_code"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(j["blank_villages"], json!(villages.len()), "{j}");
    (villages, j)
}

async fn postings_are_recorded_in_scope_and_coverage_follows_the_history(kind: Kind) {
    let (srv, _fx) = start_filled(kind).await;
    second_village(&srv).await;
    srv.user("officer_a", Role::Officer, "341122").await;
    srv.user("officer_b", Role::Officer, "341123").await;
    srv.user("analyst_a", Role::Analyst, "341122").await;
    let mut a = api(&srv, "officer_a").await;
    let path = "/api/v1/practitioners/PA1/postings";

    // No posting recorded: the rule's, from the record.
    let r = a.get(path).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let items = r.json()["items"].clone();
    assert_eq!(items.as_array().unwrap().len(), 1, "{items}");
    assert_eq!((items[0]["facility_id"].clone(), items[0]["from_record"].clone()), (json!("FA1"), json!(true)));
    assert_eq!(items[0]["start"], Value::Null);

    // Another county's officer does not see PA1; an analyst may not record.
    let mut b = api(&srv, "officer_b").await;
    assert_eq!(b.get(path).await.status, 404);
    let good = posting("FA2", "posting", json!("2020-01-01"), json!("2025-06-30"));
    assert_eq!(b.post_json(path, &good).await.status, 404);
    let mut an = api(&srv, "analyst_a").await;
    assert_eq!(an.post_json(path, &good).await.status, 403);

    // A field of the wrong form: 400 naming it; a rule broken: 422 naming it.
    let r = a.post_json(path, &posting("FA2", "posting", json!("2025-01-01"), json!("2024-01-01"))).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("end"), "{}", r.body);
    let r = a.post_json(path, &posting("FA2", "boss", Value::Null, Value::Null)).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("role"), "{}", r.body);
    let r = a.post_json(path, &json!({ "facility_id": "FA2", "role": "posting", "extra": 1 }).to_string()).await;
    assert_eq!(r.status, 422, "an unknown field, as every body of the API: {}", r.body);
    let r = a.post_json(path, &posting("FB1", "posting", json!("2020-01-01"), Value::Null)).await;
    assert_eq!(r.status, 422, "a facility outside the county: {}", r.body);
    assert!(r.body.contains("facility_id"), "{}", r.body);

    // 乡聘村用: PA1 posted to the second village from 2020 to mid-2025.
    let r = a.post_json(path, &good).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let items = r.json()["items"].clone();
    assert_eq!(items.as_array().unwrap().len(), 1, "the recorded posting replaces the record's: {items}");
    assert_eq!(
        (items[0]["start"].clone(), items[0]["end"].clone(), items[0]["from_record"].clone()),
        (json!("2020-01-01"), json!("2025-06-30"), json!(false))
    );
    assert_eq!(items[0]["changed_by"], "officer_a");
    let r = a.post_json(path, &posting("FA1", "posting", json!("2025-06-30"), Value::Null)).await;
    assert_eq!(r.status, 422, "shares its first day with the posting to FA2: {}", r.body);
    assert!(r.body.contains("start") && r.body.contains("FA2"), "{}", r.body);
    // Blank or null days are absent ones (an employer from an unknown day).
    let r = a.post_json(path, &posting("FA1", "employer", json!(" "), Value::Null)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 2);

    // Coverage of any day: before the posting, village 202 is blank; during
    // it, village 201; after it PA1 is back at FA1, the employer.
    assert_eq!(blank(&mut a, "2019-06-01").await.0, ["341122100202"]);
    let (during, j) = blank(&mut a, "2024-08-01").await;
    assert_eq!(during, ["341122100201"]);
    // The projection from the history: in a year the posting has ended, and
    // PA1 is back at FA1 (turning 65 only in 2027).
    let next: Vec<&str> = j["spots"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["in_years"] == 1 && s["kind"] == "village_no_doctor")
        .map(|s| s["region_code"].as_str().unwrap())
        .collect();
    assert_eq!(next, ["341122100202"]);
    assert_eq!(blank(&mut a, "2026-01-01").await.0, ["341122100202"]);
    let r = a.get("/api/v1/coverage?as_of=2024-13-01").await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("as_of"), "{}", r.body);

    // The coverage page computes the same as the API on the same day.
    for day in ["2019-06-01", "2024-06-01", "2026-01-01"] {
        let page = a.get(&format!("/coverage?as_of={day}")).await;
        assert_eq!(page.status, 200);
        let (api_now, _) = blank(&mut a, day).await;
        assert_eq!(page_now(&page.body), api_now.len() as u64, "{day}");
    }

    // Qualifications with their days: PA1's certificate lapses in 2024.
    let qpath = "/api/v1/practitioners/PA1/qualifications";
    let r = a.get(qpath).await;
    assert_eq!(r.json()["items"][0]["from_record"], true);
    let r = a
        .post_json(
            qpath,
            &json!({ "qualification": "乡村医生", "obtained": "2000-01-01", "lapses": "1999-01-01" }).to_string(),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("lapses"), "{}", r.body);
    let r = a
        .post_json(
            qpath,
            &json!({ "qualification": "rural_doctor", "obtained": "2000-01-01", "lapses": "2024-01-01" }).to_string(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["items"][0]["lapses"], "2024-01-01");
    let (during, _) = blank(&mut a, "2024-06-01").await;
    assert_eq!(during, ["341122100201", "341122100202"], "PA1 no longer qualified");

    // The practitioner's page: the postings and qualifications with their
    // days, and the forms for an officer; a viewer sees no form.
    let page = a.get("/practitioners/PA1").await;
    assert_eq!(page.status, 200);
    for text in ["id=\"posting-form\"", "2025-06-30", "FA2", "聘用单位", "2024-01-01", "乡村医生"] {
        assert!(page.body.contains(text), "{text}: {}", page.body);
    }
    srv.user("viewer_a", Role::Viewer, "341122").await;
    let mut v = srv.login("viewer_a").await;
    let page = v.get("/practitioners/PA1").await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("posting-form"));
    assert_eq!(v.get("/practitioners/PA1?x=1").await.status, 200);
    assert_eq!(srv.login("officer_b").await.get("/practitioners/PA1").await.status, 404);

    // A form: refused with the reason on the page, or recorded and back.
    let mut a_page = srv.login("officer_a").await;
    let csrf = a_page.csrf().await;
    let r = a_page
        .post_form(
            "/practitioners/PA1/postings",
            &[("csrf", &csrf), ("facility_id", "FA2"), ("role", "posting"), ("start", "2025-01-01"), ("end", "")],
        )
        .await;
    assert_eq!(r.status, 200, "refused: the page again");
    assert!(r.body.contains("flash error") && r.body.contains("FA2"), "{}", r.body);
    let r = a_page
        .post_form(
            "/practitioners/PA1/postings",
            &[("csrf", &csrf), ("facility_id", "FA2"), ("role", "posting"), ("start", "2030-01-01"), ("end", "")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(a.get(path).await.json()["items"].as_array().unwrap().len(), 3);
    // Without the CSRF token the form is refused.
    let r = a_page
        .post_form(
            "/practitioners/PA1/postings",
            &[("facility_id", "FA2"), ("role", "posting"), ("start", "2031-01-01")],
        )
        .await;
    assert_eq!(r.status, 403);

    // The practitioners of the scope with where they worked on a day.
    let list = a.get("/practitioners?as_of=2024-06-01").await;
    assert!(list.body.contains("href=\"/practitioners/PA1\"") && list.body.contains("FA2 二村卫生室"), "{}", list.body);
    let list = a.get("/practitioners?as_of=2019-06-01").await;
    assert!(list.body.contains("FA1 A村卫生室"), "{}", list.body);
    assert!(!srv.login("officer_b").await.get("/practitioners").await.body.contains("PA1"));

    // Every write audited, with who did it.
    let audit = srv.state.app.audit_log(100).await.unwrap();
    let n = audit.iter().filter(|e| e.action == "postings_recorded" && e.username == "officer_a").count();
    assert_eq!(n, 3, "three postings recorded");
    assert!(audit.iter().any(|e| e.action == "qualifications_recorded" && e.target == "practitioner PA1"));
}

/// A posting ending within the year raises a network alert from the day after,
/// naming the change, the township and the county; a village blank today is
/// one now; each officer sees their county's.
async fn network_alerts_name_the_change_and_who_must_fill_it(kind: Kind) {
    let (srv, _fx) = start_filled(kind).await;
    srv.user("officer_a", Role::Officer, "341122").await;
    srv.user("officer_b", Role::Officer, "341123").await;
    let mut a = api(&srv, "officer_a").await;
    let today = domain::time::china_today();
    let end = today + chrono::Duration::days(30);
    let body = posting("FA1", "posting", json!("2000-01-01"), json!(end.to_string()));
    assert_eq!(a.post_json("/api/v1/practitioners/PA1/postings", &body).await.status, 200);

    let r = a.get("/api/v1/network-alerts").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    assert_eq!(j["today"], json!(today.to_string()));
    let items = j["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{j}");
    let x = &items[0];
    assert_eq!(x["region_code"], "341122100201");
    assert_eq!(x["kind"], "village_no_doctor");
    assert_eq!(x["from"], json!((end + chrono::Duration::days(1)).to_string()));
    assert_eq!((x["now"].clone(), x["county"].clone()), (json!(false), json!("341122")));
    let cause = x["causes"][0].as_str().unwrap();
    assert!(cause.contains("PA1") && cause.contains(&format!("posting at FA1 ends on {end}")), "{cause}");
    // Today only: nothing in county A.
    assert_eq!(a.get("/api/v1/network-alerts?years=0").await.json()["items"], json!([]));
    assert_eq!(a.get("/api/v1/network-alerts?years=6").await.status, 400);
    // County B's village has no clinic today: its officer's alert, now.
    let mut b = api(&srv, "officer_b").await;
    let j = b.get("/api/v1/network-alerts?years=0").await.json();
    assert_eq!(j["items"].as_array().unwrap().len(), 1, "{j}");
    assert_eq!(
        (j["items"][0]["kind"].clone(), j["items"][0]["now"].clone()),
        (json!("village_no_clinic"), json!(true))
    );
    // The page shows the same.
    let page = a.get("/network-alerts?years=1").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("341122100201") && page.body.contains("ends on"), "{}", page.body);
    assert!(!b.get("/network-alerts").await.body.contains("341122100201"));
}
