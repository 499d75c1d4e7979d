//! Claims are keyed by the facility that submitted them (issue 20, item 4): two
//! counties' clerks settle one claim ID, each at their own facility; neither can
//! settle at, read, print or void the other's; and every such attempt is
//! answered exactly as for something that does not exist (byte for byte).

mod common;

use common::*;
use serde_json::{json, Value};
use web::access::Role;

on_each_repo!(two_counties_settle_one_claim_id_and_neither_sees_the_others);

fn claim(id: &str, facility: &str, person: &str, total: &str) -> Value {
    json!({ "claim_id": id, "facility_id": facility, "person_id": person, "facility_level": "county",
            "kind": "inpatient", "admitted": "2024-03-10", "discharged": "2024-03-10",
            "total_cost": total, "eligible_cost": total, "diagnosis": "C16" })
}

async fn api(srv: &Server, user: &str) -> Client {
    let mut c = srv.login(user).await;
    c.csrf_header = Some(c.csrf().await);
    c
}

/// Status, content type and body: what must not tell two answers apart.
fn answer(r: &Resp) -> (u16, Option<String>, String) {
    (r.status, r.header("content-type").map(str::to_string), r.body.clone())
}

fn clinic(id: &str, village: &str) -> domain::Facility {
    domain::Facility {
        opened: None,
        closed: None,
        facility_id: id.into(),
        name: format!("{id} 卫生院"),
        kind: domain::FacilityKind::TownshipCenter,
        grade: None,
        region_code: domain::RegionCode::parse(village).unwrap(),
        lon: None,
        lat: None,
    }
}

async fn two_counties_settle_one_claim_id_and_neither_sees_the_others(kind: Kind) {
    let (srv, fx) = start_filled(kind).await;
    let store = srv.state.app.store().clone();
    // County B's hospital; county A's FA1 is in the fixture.
    store.import_facilities(&[clinic("FB1", "341123100201")]).await.unwrap();
    srv.user("clerk_a", Role::Clerk, "341122").await;
    srv.user("clerk_b", Role::Clerk, "341123").await;
    let (mut a, mut b) = (api(&srv, "clerk_a").await, api(&srv, "clerk_b").await);

    // What B is told before county A has a claim X, or a facility FA2.
    let b_at_fa2 = claim("X", "FA2", &fx.b_person, "100.00").to_string();
    let settle_unknown_facility = b.post_json("/api/v1/settlements", &b_at_fa2).await;
    let void_unknown = b.post_json("/api/v1/claims/X/void?facility=FA1", "{}").await;
    let slip_unknown = b.get("/api/v1/claims/X/slip?facility=FA1").await;
    let page_unknown = b.get("/claims/X/slip?facility=FA1").await;
    assert_eq!(settle_unknown_facility.status, 404, "{}", settle_unknown_facility.body);
    assert_eq!((void_unknown.status, slip_unknown.status, page_unknown.status), (404, 404, 404));

    // Both counties settle claim X, each at its own facility: two claims.
    store.import_facilities(&[clinic("FA2", "341122100201")]).await.unwrap();
    let ra = a.post_json("/api/v1/settlements", &claim("X", "FA1", &fx.a_person, "60000.00").to_string()).await;
    assert_eq!(ra.status, 201, "{}", ra.body);
    assert_eq!(ra.json()["facility_id"], "FA1");
    let rb = b.post_json("/api/v1/settlements", &claim("X", "FB1", &fx.b_person, "20000.00").to_string()).await;
    assert_eq!(rb.status, 201, "the same ID at another facility is another claim: {}", rb.body);
    assert_ne!(ra.json()["out_of_pocket"], rb.json()["out_of_pocket"]);

    // B settling X at county A's facilities: the unknown facility, as before
    // FA2 existed; the same bytes.
    let r = b.post_json("/api/v1/settlements", &b_at_fa2).await;
    assert_eq!(answer(&r), answer(&settle_unknown_facility));
    let b_at_fa1 = b.post_json("/api/v1/settlements", &claim("X", "FA1", &fx.b_person, "100.00").to_string()).await;
    assert_eq!(b_at_fa1.status, 404);
    assert_eq!(b_at_fa1.body, settle_unknown_facility.body.replace("FA2", "FA1"));
    // A facility is required of a real-time claim.
    let r = a.post_json("/api/v1/settlements", &claim("Y", "", &fx.a_person, "100.00").to_string()).await;
    assert_eq!(r.status, 422, "{}", r.body);

    // B reading, printing or voiding A's X: exactly as before it existed.
    assert_eq!(answer(&b.get("/api/v1/claims/X/slip?facility=FA1").await), answer(&slip_unknown));
    assert_eq!(answer(&b.get("/claims/X/slip?facility=FA1").await), answer(&page_unknown));
    assert_eq!(answer(&b.post_json("/api/v1/claims/X/void?facility=FA1", "{}").await), answer(&void_unknown));
    // ...and as for an ID never used.
    let never = b.get("/api/v1/claims/NEVER/slip?facility=FA1").await;
    assert_eq!(answer(&never), answer(&slip_unknown));
    let never = b.post_json("/api/v1/claims/NEVER/void?facility=FA1", "{}").await;
    assert_eq!((never.status, never.body.replace("NEVER", "X")), (void_unknown.status, void_unknown.body.clone()));

    // Each reads its own X, by its key; the other's stays unknown to it.
    let sa = a.get("/api/v1/claims/X/slip?facility=FA1").await;
    assert_eq!(sa.status, 200, "{}", sa.body);
    assert_eq!(sa.json()["facility_id"], "FA1");
    assert_eq!(sa.json()["out_of_pocket"], ra.json()["out_of_pocket"]);
    assert_eq!(b.get("/api/v1/claims/X/slip?facility=FB1").await.json()["out_of_pocket"], rb.json()["out_of_pocket"]);
    assert_eq!(a.get("/api/v1/claims/X/slip?facility=FB1").await.status, 404);
    // A claim named without its facility is refused, whoever asks.
    let r = a.get("/api/v1/claims/X/slip").await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("facility"), "{}", r.body);
    // The person page links to the slip by the claim's key.
    let person = a.get(&format!("/persons/{}", srv.person_ref(&fx.a_person).await)).await.body;
    assert!(person.contains("href=\"/claims/X/slip?facility=FA1\""), "{person}");

    // A's replay of its X is the stored result; A voids its own X; B's X stands.
    let again = a.post_json("/api/v1/settlements", &claim("X", "FA1", &fx.a_person, "60000.00").to_string()).await;
    assert_eq!((again.status, again.json()["replayed"].clone()), (200, json!(true)));
    let v = a.post_json("/api/v1/claims/X/void?facility=FA1", "{}").await;
    assert_eq!(v.status, 200, "{}", v.body);
    assert_eq!((v.json()["voided"].clone(), v.json()["facility_id"].clone()), (json!("X"), json!("FA1")));
    assert_eq!(a.get("/api/v1/claims/X/slip?facility=FA1").await.json()["voided"], true);
    assert_eq!(b.get("/api/v1/claims/X/slip?facility=FB1").await.json()["voided"], false);
    let v = b.post_json("/api/v1/claims/X/void?facility=FB1", "{}").await;
    assert_eq!(v.status, 200, "B voids its own X: {}", v.body);

    // B's attempts on what exists in county A are audited as refused; those on
    // what existed nowhere are not.
    let log = srv.state.app.audit_log(1000).await.unwrap();
    let refused: Vec<&str> = log
        .iter()
        .filter(|e| e.action == "refused_out_of_scope" && e.username == "clerk_b")
        .map(|e| e.target.as_str())
        .collect();
    assert_eq!(refused.iter().filter(|k| **k == "FA2").count(), 1, "{refused:?}");
    assert_eq!(refused.iter().filter(|k| **k == "FA1").count(), 1, "{refused:?}");
    assert_eq!(refused.iter().filter(|k| **k == "X at FA1").count(), 3, "slip, page and void: {refused:?}");
    assert!(!refused.iter().any(|k| k.contains("NEVER")), "{refused:?}");
}
