//! Network alerts kept and their cases over HTTP (docs/work.md, "Network
//! cases"): raised from the network-alerts page (a form with its CSRF token)
//! or the API, shown with their case on that page and beside the households'
//! cases on `/cases`, moved by the county's officer from the case's page; an
//! officer of another county gets 404 for it, page or API; a form without its
//! token is refused and writes nothing.

mod common;

use common::*;
use serde_json::{json, Value};
use web::access::Role;

on_each_repo!(a_kept_network_alert_is_a_case_of_its_county);

async fn a_kept_network_alert_is_a_case_of_its_county(kind: Kind) {
    let (srv, _fx) = start_filled(kind).await;
    srv.user("officer_a", Role::Officer, "341122").await;
    srv.user("officer_b", Role::Officer, "341123").await;
    srv.user("viewer_a", Role::Viewer, "341122").await;
    let mut a = srv.login("officer_a").await;
    let csrf = a.csrf().await;
    // PA1, village 201's doctor, posted there until 30 days from now.
    let today = domain::time::china_today();
    let end = today + chrono::Duration::days(30);
    let body = json!({ "facility_id": "FA1", "role": "posting", "start": "2000-01-01", "end": end.to_string() });
    let mut api_a = srv.login("officer_a").await;
    api_a.csrf_header = Some(api_a.csrf().await);
    let r = api_a.post_json("/api/v1/practitioners/PA1/postings", &body.to_string()).await;
    assert_eq!(r.status, 200, "{}", r.body);

    // The page offers the raise to the officer, not to a viewer.
    let page = a.get("/network-alerts").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"raise-form\"") && page.body.contains("id=\"kept-network-alerts\""));
    let mut viewer = srv.login("viewer_a").await;
    assert!(!viewer.get("/network-alerts").await.body.contains("id=\"raise-form\""));
    // Without the form's token: refused, nothing kept.
    let r = a.post_form("/network-alerts/raise", &[("years", "1")]).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(api_a.get("/api/v1/network-alerts/kept").await.json()["items"], json!([]));
    // A viewer may not raise.
    let vcsrf = viewer.csrf().await;
    assert_eq!(viewer.post_form("/network-alerts/raise", &[("years", "1"), ("csrf", &vcsrf)]).await.status, 403);
    let r = a.post_form("/network-alerts/raise", &[("years", "1"), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.body);

    // One alert kept, naming the change; its case on both pages.
    let kept = api_a.get("/api/v1/network-alerts/kept").await.json();
    let items = kept["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{kept}");
    let x = &items[0];
    assert_eq!((x["region_code"].clone(), x["kind"].clone()), (json!("341122100201"), json!("village_no_doctor")));
    assert_eq!((x["change"].clone(), x["practitioner_id"].clone()), (json!("posting_end"), json!("PA1")));
    assert_eq!((x["township"].clone(), x["county"].clone()), (json!("341122100"), json!("341122")));
    assert_eq!(x["blank_from"], json!((end + chrono::Duration::days(1)).to_string()));
    let id = x["case_id"].as_i64().unwrap();
    let link = format!("href=\"/network-cases/{id}\"");
    let page = a.get("/network-alerts").await;
    assert!(page.body.contains(&link), "{}", page.body);
    let cases = a.get("/cases").await;
    assert!(cases.body.contains("id=\"network-cases\"") && cases.body.contains(&link), "{}", cases.body);

    // Raising again over the API: no duplicate.
    let r = api_a.post_json("/api/v1/network-alerts/raise", "{\"years\": 1}").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let j: Value = r.json();
    assert_eq!((j["raised"].clone(), j["seen"].clone()), (json!([]), json!(1)), "{j}");
    let list = api_a.get("/api/v1/network-cases?open=true").await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["items"][0]["state"], "open");

    // The other county's officer: 404 on the page and the API, nothing listed,
    // no move.
    let mut b = srv.login("officer_b").await;
    let bcsrf = b.csrf().await;
    assert_eq!(b.get(&format!("/network-cases/{id}")).await.status, 404);
    assert!(!b.get("/cases").await.body.contains(&link));
    let mut api_b = srv.login("officer_b").await;
    api_b.csrf_header = Some(api_b.csrf().await);
    assert_eq!(api_b.get(&format!("/api/v1/network-cases/{id}")).await.status, 404);
    assert_eq!(api_b.get("/api/v1/network-cases").await.json()["items"], json!([]));
    let verify = json!({ "version": 1, "date": today.to_string(), "note": "seen" }).to_string();
    assert_eq!(api_b.post_json(&format!("/api/v1/network-cases/{id}/verify"), &verify).await.status, 404);
    let form = [("version", "1"), ("assignee", "officer_b"), ("csrf", bcsrf.as_str())];
    assert_eq!(b.post_form(&format!("/network-cases/{id}/assign"), &form).await.status, 404);

    // The county's officer moves it from its page; a form without its token
    // is refused and writes nothing; a stale version is shown on the page.
    let page = a.get(&format!("/network-cases/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"assign-form\"") && page.body.contains("posting at FA1 ends"), "{}", page.body);
    let r = a.post_form(&format!("/network-cases/{id}/assign"), &[("version", "1"), ("assignee", "officer_a")]).await;
    assert_eq!(r.status, 403);
    assert_eq!(api_a.get(&format!("/api/v1/network-cases/{id}")).await.json()["version"], 1);
    let form = [("version", "1"), ("assignee", "officer_a"), ("due", ""), ("csrf", csrf.as_str())];
    let r = a.post_form(&format!("/network-cases/{id}/assign"), &form).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = a.post_form(&format!("/network-cases/{id}/assign"), &form).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("changed since version 1"), "{}", r.body);
    let form = [("version", "2"), ("reason", "filled"), ("note", ""), ("csrf", csrf.as_str())];
    let r = a.post_form(&format!("/network-cases/{id}/close"), &form).await;
    assert_eq!(r.status, 409, "the gap is not filled yet: {}", r.body);
    let c = api_a.get(&format!("/api/v1/network-cases/{id}")).await.json();
    assert_eq!(
        (c["state"].clone(), c["assignee"].clone(), c["version"].clone()),
        (json!("assigned"), json!("officer_a"), json!(2))
    );
    // Planned needs a kept plan in force with a line for the village.
    let close = |plan: Value| {
        json!({ "version": 2, "reason": "planned", "note": "roving team on Tuesdays", "plan_id": plan }).to_string()
    };
    let r = api_a.post_json(&format!("/api/v1/network-cases/{id}/close"), &close(Value::Null)).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("plan in force") && r.body.contains("341122100201"), "{}", r.body);
    let period_end = (today + chrono::Duration::days(365)).to_string();
    let plan = json!({ "region_code": "341122", "period_start": today.to_string(), "period_end": period_end,
                       "lines": [{ "village_code": "341122100201", "kind": "rove", "practitioner_id": "PA1", "days": "Tue" }] })
    .to_string();
    let r = api_a.post_json("/api/v1/plans", &plan).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let covering = r.json()["id"].as_i64().unwrap();
    // Named while a draft: not in force, refused, naming it.
    let r = api_a.post_json(&format!("/api/v1/network-cases/{id}/close"), &close(json!(covering))).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains(&format!("plan {covering}")), "{}", r.body);
    for to in ["approved", "in_force"] {
        let r = api_a.post_json(&format!("/api/v1/plans/{covering}/moves"), &json!({ "to": to }).to_string()).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    // In force: found without being named, and linked.
    let r = api_a.post_json(&format!("/api/v1/network-cases/{id}/close"), &close(Value::Null)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    assert_eq!(j["close_reason"], "planned");
    assert_eq!((j["plan_id"].clone(), j["plan_version"].clone()), (json!(covering), json!(1)));
    let page = a.get(&format!("/network-cases/{id}")).await;
    assert!(page.body.contains(&format!("href=\"/plans/{covering}\"")), "{}", page.body);
    // The ledger's sheet of network cases: the county's case, with its plan;
    // none for the other county.
    let ledger = api_a.get("/api/v1/ledger?table=network_cases").await;
    assert_eq!(ledger.status, 200, "{}", ledger.body);
    let t = &ledger.json()["tables"][0];
    assert_eq!(t["key"], "network_cases", "{t}");
    assert_eq!(t["rows"].as_array().unwrap().len(), 1, "{t}");
    assert_eq!(t["rows"][0][0], json!(id), "{t}");
    assert_eq!(t["rows"][0][16], json!(format!("计划 {covering} 第 1 版")), "{t}");
    let theirs = api_b.get("/api/v1/ledger?table=network_cases").await.json();
    assert_eq!(theirs["tables"][0]["rows"], json!([]), "{theirs}");

    // Audited.
    let audit = srv.state.app.audit_log(200).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "network_alerts_raise" && e.username == "officer_a"));
    assert!(audit.iter().any(|e| e.action == "network_case_close" && e.target == format!("network case {id}")));
    assert!(audit.iter().any(|e| e.action == "refused_out_of_scope" && e.username == "officer_b"));
}
