//! The settlement slip: what the clerk prints for the patient. It ties to the
//! settlement to the fen (the funds and the patient's share add up to the bill),
//! is scoped and masked like every view of a person, audited, readable after a
//! void (marked void), and in both languages.

mod common;

use common::*;
use serde_json::{json, Value};
use web::access::Role;

on_each_repo!(the_slip_ties_to_the_settlement_and_is_scoped_masked_and_audited);

fn claim(id: &str, person: &str, total: &str, eligible: &str) -> Value {
    json!({ "claim_id": id, "person_id": person, "facility_level": "county", "kind": "inpatient", "facility_id": "FA1",
            "admitted": "2024-03-10", "discharged": "2024-03-12", "total_cost": total, "eligible_cost": eligible, "diagnosis": "C16" })
}

fn fen(s: &str) -> i64 {
    domain::Fen::parse_yuan(s).unwrap().0
}

async fn the_slip_ties_to_the_settlement_and_is_scoped_masked_and_audited(kind: Kind) {
    let (srv, fx) = start_filled(kind).await;
    srv.user("clerk_a", Role::Clerk, "341122").await;
    srv.user("viewer_a", Role::Viewer, "341122").await;
    srv.user("clerk_b", Role::Clerk, "341123").await;
    let mut c = srv.login("clerk_a").await;
    c.csrf_header = Some(c.csrf().await);
    let r = c.post_json("/api/v1/settlements", &claim("S1", &fx.a_person, "60000.00", "50000.00").to_string()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let settled = r.json();

    let slip = c.get("/api/v1/claims/S1/slip?facility=FA1").await;
    assert_eq!(slip.status, 200, "{}", slip.body);
    let s = slip.json();
    assert_eq!(s["payments"], settled["payments"], "the slip shows what was settled");
    assert_eq!(s["out_of_pocket"], settled["out_of_pocket"]);
    let funds: i64 = s["payments"].as_array().unwrap().iter().map(|p| fen(p["amount"].as_str().unwrap())).sum();
    assert_eq!(funds, fen(s["paid"].as_str().unwrap()));
    assert_eq!(
        funds + fen(s["out_of_pocket"].as_str().unwrap()),
        fen("60000.00"),
        "funds and patient add up to the bill"
    );
    assert_eq!((s["name"].as_str(), s["person_id"].as_str()), (Some(A_NAME), Some(fx.a_person.as_str())));
    assert!(s["explanation"].as_str().unwrap().contains("safety_net"), "{s}");
    assert!(s["policy"].as_str().unwrap().contains("version 1"), "{s}");

    // The page, in Chinese and in English, with the amount owed.
    let page = c.get("/claims/S1/slip?facility=FA1").await;
    assert_eq!(page.status, 200);
    let owed = s["out_of_pocket"].as_str().unwrap();
    assert!(page.body.contains(&format!("id=\"slip-owed\">{owed}<")), "{}", page.body);
    assert!(page.body.contains("医疗救助") && page.body.contains("个人自付"), "{}", page.body);
    c.get("/lang/en").await;
    let page = c.get("/claims/S1/slip?facility=FA1").await.body;
    assert!(page.contains("The patient pays") && page.contains("safety net"), "{page}");
    // The person page links to it.
    let person = c.get(&format!("/persons/{}", srv.person_ref(&fx.a_person).await)).await.body;
    assert!(person.contains("href=\"/claims/S1/slip?facility=FA1\""), "{person}");

    // Masked for a viewer; another county's clerk finds it as an unknown claim.
    let mut v = srv.login("viewer_a").await;
    let vs = v.get("/api/v1/claims/S1/slip?facility=FA1").await.json();
    assert_eq!(vs["name"], "张**");
    assert!(!v.get("/claims/S1/slip?facility=FA1").await.body.contains(&fx.a_person), "no clear ID for a masked role");
    let mut b = srv.login("clerk_b").await;
    let (other, unknown) =
        (b.get("/api/v1/claims/S1/slip?facility=FA1").await, b.get("/api/v1/claims/NOPE/slip?facility=FA1").await);
    assert_eq!((other.status, other.body.clone()), (unknown.status, unknown.body.clone()));
    assert_eq!(other.status, 404);

    // Voided: still readable, marked void.
    let r = c.post_json("/api/v1/claims/S1/void?facility=FA1", "{}").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(c.get("/api/v1/claims/S1/slip?facility=FA1").await.json()["voided"], true);
    assert!(c.get("/claims/S1/slip?facility=FA1").await.body.contains("id=\"slip-void\""));

    let log = srv.state.app.audit_log(1000).await.unwrap();
    let views = log.iter().filter(|e| e.action == "view_slip" && e.target == "S1 at FA1").count();
    assert!(views >= 5, "{views} view_slip rows");
}
