//! Pairing and telemedicine over HTTP (docs/coverage.md, "Pairing and
//! telemedicine"): recorded under `/api/v1/pairings` and `/api/v1/telemedicine`
//! inside the scope, by role (403 without the right), validated (400 for a
//! field of the wrong form, 422 for a rule) and audited; the indicators over
//! the API and on the page `/pairing`, the same numbers; the page's forms for
//! an officer and none for a viewer; CSRF on the forms.

mod common;

use common::*;
use serde_json::{json, Value};
use web::access::Role;

on_each_repo!(pairings_and_links_are_recorded_in_scope_and_counted);

async fn api(srv: &Server, user: &str) -> Client {
    let mut c = srv.login(user).await;
    c.csrf_header = Some(c.csrf().await);
    c
}

/// The provincial hospital P1 in Hefei, county hospitals H1 (county A,
/// 341122) and H2 (county B, 341123), township centre T1 of county A.
async fn hospitals(srv: &Server) {
    let store = srv.state.app.store();
    let region = |code: &str, name: &str| domain::Region {
        code: domain::RegionCode::parse(code).unwrap(),
        name: name.into(),
        level: domain::RegionCode::parse(code).unwrap().level(),
        urban_rural: None,
        population: None,
        lon: None,
        lat: None,
    };
    store
        .import_regions(&[region("34", "安徽省"), region("3401", "合肥市"), region("341122100", "镇一")])
        .await
        .unwrap();
    let facility = |id: &str, region: &str, kind: domain::FacilityKind| domain::Facility {
        facility_id: id.into(),
        name: format!("{id}医院"),
        kind,
        grade: None,
        region_code: domain::RegionCode::parse(region).unwrap(),
        lon: None,
        lat: None,
        opened: None,
        closed: None,
    };
    use domain::FacilityKind::*;
    store
        .import_facilities(&[
            facility("P1", "3401", ProvincialHospital),
            facility("H1", "341122", CountyHospital),
            facility("H2", "341123", CountyHospital),
            facility("T1", "341122100", TownshipCenter),
        ])
        .await
        .unwrap();
}

fn pairing(helping: &str, county: &str, start: &str, end: Value) -> String {
    json!({ "helping_id": helping, "county_hospital_id": county, "start": start, "end": end }).to_string()
}

async fn pairings_and_links_are_recorded_in_scope_and_counted(kind: Kind) {
    let (srv, _fx) = start_filled(kind).await;
    hospitals(&srv).await;
    srv.user("officer_a", Role::Officer, "341122").await;
    srv.user("analyst_a", Role::Analyst, "341122").await;
    srv.user("viewer_a", Role::Viewer, "341122").await;
    let mut a = api(&srv, "officer_a").await;

    // An analyst may read but not record.
    let mut an = api(&srv, "analyst_a").await;
    let good = pairing("P1", "H1", "2021-01-01", json!("2025-12-31"));
    assert_eq!(an.post_json("/api/v1/pairings", &good).await.status, 403);
    assert_eq!(an.get("/api/v1/pairings").await.status, 200);
    // A field of the wrong form: 400 naming it; a rule: 422 naming it.
    let r = a.post_json("/api/v1/pairings", &pairing("P1", "H1", "2021-01-01", json!("2020-01-01"))).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("end"), "{}", r.body);
    let r = a.post_json("/api/v1/pairings", &pairing("P1", "H2", "2021-01-01", Value::Null)).await;
    assert_eq!(r.status, 422, "county B's hospital, outside the scope: {}", r.body);
    assert!(r.body.contains("county_hospital_id"), "{}", r.body);
    let r = a.post_json("/api/v1/pairings", &pairing("H1", "H1", "2021-01-01", Value::Null)).await;
    assert_eq!(r.status, 400, "{}", r.body);

    // Recorded, with one of the staff sent.
    let with_staff = json!({ "helping_id": "P1", "county_hospital_id": "H1", "start": "2021-01-01", "end": "2025-12-31",
                             "staff": { "name": "李主任", "role": "外科主任", "from": "2021-03-01", "to": "2022-02-28" } });
    let r = a.post_json("/api/v1/pairings", &with_staff.to_string()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let items = r.json()["items"].clone();
    assert_eq!(items.as_array().unwrap().len(), 1, "{items}");
    assert_eq!(items[0]["staff"][0]["name"], "李主任");
    assert_eq!(items[0]["changed_by"], "officer_a");
    let r = a.post_json("/api/v1/pairings", &pairing("P1", "H1", "2024-01-01", Value::Null)).await;
    assert_eq!(r.status, 422, "shares days with the pairing: {}", r.body);
    assert!(r.body.contains("start"), "{}", r.body);

    // A telemedicine link; another county's centre refused.
    let link = json!({ "county_hospital_id": "H1", "township_id": "T1", "kind": "远程会诊", "start": "2022-01-01" });
    let r = a.post_json("/api/v1/telemedicine", &link.to_string()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["items"][0]["kind"], "consultation");
    let r = a
        .post_json(
            "/api/v1/telemedicine",
            &json!({ "county_hospital_id": "H1", "township_id": "T1", "kind": "radio", "start": "2022-01-01" })
                .to_string(),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("kind"), "{}", r.body);

    // The indicators of county A: its centre linked; its hospital's diseases
    // (the fixture's claims name no facility: none) against the median.
    let r = a.get("/api/v1/pairings/indicators?on=2024-06-30").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    let rows = j["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "a county officer sees their county: {j}");
    assert_eq!((rows[0]["code"].clone(), rows[0]["townships"].clone()), (json!("341122"), json!(1)));
    assert_eq!((rows[0]["townships_linked"].clone(), rows[0]["linked_share"].clone()), (json!(1), json!(1.0)));
    assert_eq!(rows[0]["inpatients"], 1, "the fixture's inpatient claim of county A: {j}");
    assert_eq!(rows[0]["poor_counties"], 0, "来安 is not on the list");
    assert!(j["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().contains("832")), "{j}");
    assert_eq!(a.get("/api/v1/pairings/indicators?on=2024-02-30").await.status, 400);

    // The page: the same figures, the registers, the forms for the officer.
    let page = a.get("/pairing?on=2024-06-30").await;
    assert_eq!(page.status, 200);
    for text in
        ["id=\"pairing-form\"", "id=\"link-form\"", "P1医院", "李主任", "1 / 1 (100.0%)", "远程会诊", "end-form"]
    {
        assert!(page.body.contains(text), "{text}: {}", page.body);
    }
    let mut v = srv.login("viewer_a").await;
    let page = v.get("/pairing").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("P1医院") && !page.body.contains("pairing-form") && !page.body.contains("end-form"));
    // A viewer's form is refused, with the CSRF token or without.
    let vcsrf = v.csrf().await;
    let r = v
        .post_form(
            "/pairing/pairings",
            &[("csrf", &vcsrf), ("helping_id", "P1"), ("county_hospital_id", "H1"), ("start", "2030-01-01")],
        )
        .await;
    assert_eq!(r.status, 403);

    // The officer's forms: refused with the reason on the page; recorded and
    // back; ended; without the CSRF token refused.
    let mut f = srv.login("officer_a").await;
    let csrf = f.csrf().await;
    let r = f
        .post_form(
            "/pairing/telemedicine",
            &[
                ("csrf", &csrf),
                ("county_hospital_id", "P1"),
                ("township_id", "T1"),
                ("kind", "ecg"),
                ("start", "2023-01-01"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "refused: the page again");
    assert!(r.body.contains("flash error") && r.body.contains("county_hospital_id"), "{}", r.body);
    let r = f
        .post_form(
            "/pairing/telemedicine",
            &[
                ("csrf", &csrf),
                ("county_hospital_id", "H1"),
                ("township_id", "T1"),
                ("kind", "ecg"),
                ("start", "2023-01-01"),
                ("end", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(a.get("/api/v1/telemedicine").await.json()["items"].as_array().unwrap().len(), 2);
    let r = f
        .post_form(
            "/pairing/pairings",
            &[
                ("csrf", &csrf),
                ("helping_id", "P1"),
                ("county_hospital_id", "H1"),
                ("start", "2021-01-01"),
                ("end", "2023-12-31"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "the pairing ended: {}", r.body);
    let items = a.get("/api/v1/pairings").await.json()["items"].clone();
    assert_eq!(items[0]["end"], "2023-12-31");
    let r = f
        .post_form("/pairing/pairings", &[("helping_id", "P1"), ("county_hospital_id", "H1"), ("start", "2030-01-01")])
        .await;
    assert_eq!(r.status, 403, "no CSRF token");
    assert_eq!(a.get("/api/v1/pairings").await.json()["items"].as_array().unwrap().len(), 1);

    // Every write audited, with who did it.
    let audit = srv.state.app.audit_log(100).await.unwrap();
    let n = audit.iter().filter(|e| e.action == "pairings_recorded" && e.username == "officer_a").count();
    assert_eq!(n, 2, "recorded, then ended");
    assert_eq!(audit.iter().filter(|e| e.action == "telemedicine_recorded").count(), 2);
}
