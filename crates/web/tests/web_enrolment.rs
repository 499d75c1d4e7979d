//! Enrolment at the hospital desk (docs/desk.md): a person's enrolment read and
//! set over the API inside the scope and by role, audited; a real-time
//! settlement under a policy whose basic tier requires enrolment pays nothing
//! from it to a person not enrolled for the year and says so, and pays once
//! the person is enrolled; the person's page shows the years.

mod common;

use common::*;
use serde_json::{json, Value};
use web::access::Role;

on_each_repo!(enrolment_is_set_in_scope_and_settlement_warns_when_missing);

const POLICY: &str = r#"
name = "Desk 2024"
year = 2024

[[tier]]
name = "basic"
requires_enrolment = true
rate = 0.8

[[tier]]
name = "assistance"
rate = 0.5
"#;

async fn api(srv: &Server, user: &str) -> Client {
    let mut c = srv.login(user).await;
    c.csrf_header = Some(c.csrf().await);
    c
}

fn claim(id: &str, person: &str) -> Value {
    json!({ "claim_id": id, "person_id": person, "facility_level": "county", "kind": "inpatient", "facility_id": "FA1",
            "admitted": "2024-05-01", "discharged": "2024-05-03", "total_cost": "1000.00", "eligible_cost": "1000.00" })
}

fn paid(r: &Value, tier: &str) -> String {
    let p = r["payments"].as_array().unwrap().iter().find(|p| p["tier"] == tier).unwrap();
    p["amount"].as_str().unwrap().to_string()
}

async fn enrolment_is_set_in_scope_and_settlement_warns_when_missing(kind: Kind) {
    let (srv, fx) = start_filled(kind).await;
    srv.user("officer_a", Role::Officer, "341122").await;
    srv.user("officer_b", Role::Officer, "341123").await;
    srv.user("analyst_a", Role::Analyst, "341122").await;
    app::settlement::put_policy(srv.state.app.store(), "341122", 2024, POLICY, "test").await.unwrap();
    let a_ref = srv.person_ref(&fx.a_person).await;
    let mut a = api(&srv, "officer_a").await;

    // Not enrolled: basic pays nothing, and the answer says why.
    let r = a
        .send("POST", "/api/v1/settlements", Some(("application/json", claim("D1", &fx.a_person).to_string())), &[])
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let j = r.json();
    assert_eq!((paid(&j, "basic"), paid(&j, "assistance")), ("0.00".into(), "500.00".into()));
    assert_eq!(j["enrolled"], false);
    assert!(j["warnings"][0].as_str().unwrap().starts_with("not_enrolled"), "{j}");
    let slip = a.get("/api/v1/claims/D1/slip?facility=FA1").await.json();
    assert_eq!(slip["enrolled"], false, "{slip}");

    // Set over the API: a bad category is a 400 naming it; another county's
    // officer and an analyst cannot set it.
    let path = format!("/api/v1/persons/{a_ref}/enrolments/2024");
    let bad = json!({ "category": "free", "enrolled_on": "2023-12-01" }).to_string();
    let r = a.send("PUT", &path, Some(("application/json", bad)), &[]).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("category"), "{}", r.body);
    let good = json!({ "category": "partial", "enrolled_on": "2023-12-01" }).to_string();
    let mut b = api(&srv, "officer_b").await;
    assert_eq!(b.send("PUT", &path, Some(("application/json", good.clone())), &[]).await.status, 404);
    let mut an = api(&srv, "analyst_a").await;
    assert_eq!(an.send("PUT", &path, Some(("application/json", good.clone())), &[]).await.status, 403);
    assert_eq!(a.get(&format!("/api/v1/persons/{a_ref}/enrolments")).await.json(), json!({ "items": [] }));
    let r = a.send("PUT", &path, Some(("application/json", good)), &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let kept = a.get(&format!("/api/v1/persons/{a_ref}/enrolments")).await.json()["items"].clone();
    assert_eq!((kept[0]["year"].clone(), kept[0]["category"].clone()), (json!(2024), json!("partial")), "{kept}");
    assert_eq!(b.get(&format!("/api/v1/persons/{a_ref}/enrolments")).await.status, 404);
    let audit = srv.state.app.audit_log(50).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "enrolment_set" && e.username == "officer_a"), "audited");

    // Enrolled: the next claim is paid by basic, with no warning; the first
    // keeps the enrolment it was settled with.
    let r = a
        .send("POST", "/api/v1/settlements", Some(("application/json", claim("D2", &fx.a_person).to_string())), &[])
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let j = r.json();
    assert_eq!((paid(&j, "basic"), paid(&j, "assistance")), ("800.00".into(), "100.00".into()));
    assert_eq!((j["enrolled"].clone(), j["warnings"].clone()), (json!(true), json!([])));
    let r = a
        .send("POST", "/api/v1/settlements", Some(("application/json", claim("D1", &fx.a_person).to_string())), &[])
        .await;
    assert_eq!(r.status, 200, "a replay");
    assert_eq!(r.json()["enrolled"], false, "as settled");

    // The person's page shows the year and, to an officer, the form.
    let page = a.get(&format!("/persons/{a_ref}")).await;
    assert!(page.body.contains("id=\"enrolment-form\"") && page.body.contains("partial (定额资助)"), "{}", page.body);
}
