//! Plausibility limits on amounts: a claim or a measure above its limit is refused
//! with the limit, stores nothing, and an administrator (only) changes the limits,
//! audited.

mod common;

use common::*;
use serde_json::{json, Value};
use web::access::Role;

on_each_repo!(implausible_amounts_are_refused_and_store_nothing, administrators_set_the_limits);

async fn setup(kind: Kind) -> (Server, Fixture) {
    let (srv, fx) = start_filled(kind).await;
    srv.user("admin", Role::Administrator, "").await;
    srv.user("clerk_a", Role::Clerk, "341122").await;
    srv.user("officer_a", Role::Officer, "341122").await;
    (srv, fx)
}

async fn api(srv: &Server, user: &str) -> Client {
    let mut c = srv.login(user).await;
    c.csrf_header = Some(c.csrf().await);
    c
}

async fn send(c: &mut Client, method: &str, path: &str, body: &Value) -> Resp {
    c.send(method, path, Some(("application/json", body.to_string())), &[]).await
}

fn claim(id: &str, person: &str, total: &str) -> Value {
    json!({ "claim_id": id, "person_id": person, "facility_level": "county", "kind": "inpatient", "facility_id": "FA1",
            "admitted": "2024-05-01", "discharged": "2024-05-03", "total_cost": total, "eligible_cost": total, "diagnosis": "C16" })
}

async fn implausible_amounts_are_refused_and_store_nothing(kind: Kind) {
    let (srv, fx) = setup(kind).await;
    let mut c = api(&srv, "clerk_a").await;
    // The tester's claim: refused with the limit it passed, and not kept.
    let r = send(&mut c, "POST", "/api/v1/settlements", &claim("BIG1", &fx.a_person, "999999999999.99")).await;
    assert_eq!(r.status, 422, "{}", r.body);
    let msg = r.json()["message"].as_str().unwrap().to_string();
    assert!(msg.contains("1000000.00") && msg.contains("inpatient") && msg.contains("county"), "{msg}");
    assert_eq!(c.get("/api/v1/claims/BIG1/slip?facility=FA1").await.status, 404, "nothing settled");
    // Just under the limit of a county stay is settled.
    let r = send(&mut c, "POST", "/api/v1/settlements", &claim("OK1", &fx.a_person, "999999.00")).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(c.get("/api/v1/claims/OK1/slip?facility=FA1").await.status, 200);

    // The tester's measure, on an alert and on a case: refused, nothing recorded.
    let mut o = api(&srv, "officer_a").await;
    let m = json!({ "kind": "临时救助", "amount": "99999999999.99", "note": "typo" });
    let r = send(&mut o, "POST", &format!("/api/v1/alerts/{}/measures", fx.a_alert), &m).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.json()["message"].as_str().unwrap().contains("500000.00"), "{}", r.body);
    let alert = o.get(&format!("/api/v1/alerts/{}", fx.a_alert)).await.json();
    assert_eq!(alert["measures"], json!([]), "{alert}");
    let case = send(&mut o, "POST", "/api/v1/cases", &json!({ "household_id": "HA1" })).await.json();
    let id = case["id"].as_i64().unwrap();
    let today = chrono::Local::now().date_naive().to_string();
    let cm = json!({ "version": case["version"], "kind": "临时救助", "amount": "99999999999.99", "fund": "民政", "date": today });
    let r = send(&mut o, "POST", &format!("/api/v1/cases/{id}/measures"), &cm).await;
    assert!(r.status == 400 || r.status == 422, "{} {}", r.status, r.body);
    assert!(r.json()["message"].as_str().unwrap().contains("500000.00"), "{}", r.body);
    let after = o.get(&format!("/api/v1/cases/{id}")).await.json();
    assert_eq!((after["measures"].clone(), after["version"].clone()), (json!([]), case["version"].clone()));
}

async fn administrators_set_the_limits(kind: Kind) {
    let (srv, fx) = setup(kind).await;
    let mut o = api(&srv, "officer_a").await;
    let shipped = o.get("/api/v1/limits").await.json();
    assert!(
        shipped["items"].as_array().unwrap().iter().any(|l| l["subject"] == "measure" && l["max"] == "500000.00"),
        "{shipped}"
    );
    let lower = json!({ "subject": "measure", "kind": "临时救助", "level": "*", "max": "1000" });
    // Not an officer's to change.
    assert_eq!(send(&mut o, "PUT", "/api/v1/limits", &lower).await.status, 403);
    let mut a = api(&srv, "admin").await;
    for (bad, why) in [
        (json!({ "subject": "bill", "kind": "x", "max": "1" }), "subject"),
        (json!({ "subject": "claim", "kind": "surgery", "max": "1" }), "claim kind"),
        (json!({ "subject": "measure", "kind": "x", "max": "-5" }), "max"),
        (json!({ "subject": "measure", "kind": "x", "level": "county", "max": "5" }), "level"),
    ] {
        let r = send(&mut a, "PUT", "/api/v1/limits", &bad).await;
        assert!(r.status == 400 || r.status == 422, "{bad}: {} {}", r.status, r.body);
        assert!(r.json()["message"].as_str().unwrap().contains(why), "{bad}: {}", r.body);
    }
    let r = send(&mut a, "PUT", "/api/v1/limits", &lower).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Applies at once: 1,500 yuan of temporary assistance is now refused, other
    // kinds keep the general limit.
    let m = |kind: &str| json!({ "kind": kind, "amount": "1500", "note": "" });
    let r = send(&mut o, "POST", &format!("/api/v1/alerts/{}/measures", fx.a_alert), &m("临时救助")).await;
    assert_eq!(r.status, 422, "{}", r.body);
    let r = send(&mut o, "POST", &format!("/api/v1/alerts/{}/measures", fx.a_alert), &m("医疗救助")).await;
    assert_eq!(r.status, 201, "{}", r.body);
    // Removing the row restores the general limit.
    let r =
        send(&mut a, "PUT", "/api/v1/limits", &json!({ "subject": "measure", "kind": "临时救助", "max": null })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = send(&mut o, "POST", &format!("/api/v1/alerts/{}/measures", fx.a_alert), &m("临时救助")).await;
    assert_eq!(r.status, 201, "{}", r.body);
    // Audited; and the page shows the limits to all, the form to administrators.
    let log = srv.state.app.audit_log(1000).await.unwrap();
    assert_eq!(log.iter().filter(|e| e.action == "set_amount_limit" && e.username == "admin").count(), 2);
    assert!(!o.get("/limits").await.body.contains("limit-form"));
    let page = a.get("/limits").await.body;
    assert!(page.contains("limit-form") && page.contains("500000.00"), "{page}");
    let csrf = a.csrf().await;
    let r = a
        .post_form(
            "/limits",
            &[("subject", "claim"), ("kind", "inpatient"), ("level", "moon"), ("max", "1"), ("csrf", &csrf)],
        )
        .await;
    assert!(r.status == 400 || r.status == 422, "{} {}", r.status, r.body);
    assert!(r.body.contains("form-error") && r.body.contains("moon"), "{}", r.body);
}
