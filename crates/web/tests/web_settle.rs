//! Real-time settlement over HTTP: the spec's worked example to the fen,
//! idempotency by claim_id, serialisation of one person's concurrent claims,
//! voiding with re-settlement, and the calculator page.

mod common;

use common::*;
use serde_json::{json, Value};
use web::access::Role;

on_each_repo!(
    worked_example_to_the_fen_and_idempotent,
    void_resettles_later_claims_and_reports_differences,
    concurrent_claims_of_one_person_serialise,
    settlement_permissions_scope_and_bad_claims,
    calculator_page_shows_split_and_explanation,
);

async fn setup(kind: Kind) -> (Server, Fixture) {
    let (srv, fx) = start_filled(kind).await;
    srv.user("admin", Role::Administrator, "").await;
    srv.user("clerk_a", Role::Clerk, "341122").await;
    srv.user("analyst_a", Role::Analyst, "341122").await;
    (srv, fx)
}

/// A logged-in browser session that calls the API with its CSRF token.
async fn api(srv: &Server, user: &str) -> Client {
    let mut c = srv.login(user).await;
    c.csrf_header = Some(c.csrf().await);
    c
}

async fn post(c: &mut Client, path: &str, body: &Value) -> Resp {
    c.send("POST", path, Some(("application/json", body.to_string())), &[]).await
}

fn claim(id: &str, person: &str, discharged: &str, total: &str, eligible: &str) -> Value {
    json!({ "claim_id": id, "person_id": person, "facility_level": "county", "kind": "inpatient", "facility_id": "FA1",
            "admitted": discharged, "discharged": discharged, "total_cost": total, "eligible_cost": eligible, "diagnosis": "C16" })
}

fn pays(r: &Value) -> Vec<(String, String)> {
    r["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["tier"].as_str().unwrap().into(), p["amount"].as_str().unwrap().into()))
        .collect()
}

fn yuan(s: &str) -> i64 {
    domain::Fen::parse_yuan(s.trim_start_matches('-')).unwrap().0 * if s.starts_with('-') { -1 } else { 1 }
}

async fn worked_example_to_the_fen_and_idempotent(kind: Kind) {
    let (srv, fx) = setup(kind).await;
    let mut c = api(&srv, "clerk_a").await;
    let c1 = claim("W1", &fx.a_person, "2024-03-10", "60000.00", "50000.00");
    let r = post(&mut c, "/api/v1/settlements", &c1).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let j = r.json();
    let want1 = [("basic", "42287.50"), ("critical", "138.13"), ("assistance", "3944.62"), ("safety_net", "629.75")];
    assert_eq!(pays(&j), want1.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>());
    assert_eq!(j["out_of_pocket"], "13000.00");
    assert_eq!(j["replayed"], false);
    // numbers are accepted too
    let mut c2 = claim("W2", &fx.a_person, "2024-06-01", "20000", "20000");
    c2["total_cost"] = json!(20000);
    c2["eligible_cost"] = json!(20000.0);
    let r = post(&mut c, "/api/v1/settlements", &c2).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let j2 = r.json();
    assert_eq!(
        pays(&j2),
        [("basic", "16787.50"), ("critical", "2088.12"), ("assistance", "674.63"), ("safety_net", "449.75")]
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    );
    assert_eq!(j2["out_of_pocket"], "0.00");
    // the same claim again: same result, not counted twice
    let r = post(&mut c, "/api/v1/settlements", &c1).await;
    assert_eq!(r.status, 200);
    assert_eq!(pays(&r.json()), pays(&j));
    assert_eq!(r.json()["replayed"], true);
    let r = post(&mut c, "/api/v1/settlements", &claim("W3", &fx.a_person, "2024-07-01", "20000", "20000")).await;
    // critical continues from W1 and W2 only (the replay added nothing): S0 = 10925.00,
    // S1 = 10925.00 + 3212.50 = 14137.50; round(0.65 * 6637.50) - 2226.25 = 4314.38 - 2226.25.
    assert_eq!(r.json()["payments"][1]["amount"], "2088.13");
    // a different bill under a settled claim_id is a conflict
    let r = post(&mut c, "/api/v1/settlements", &claim("W1", &fx.a_person, "2024-03-10", "60000.00", "40000.00")).await;
    assert_eq!(r.status, 409, "{}", r.body);
    let settles = srv.state.app.audit_log(100).await.unwrap().iter().filter(|e| e.action == "settle").count();
    assert_eq!(settles, 3, "a replay writes no second settlement");
}

async fn void_resettles_later_claims_and_reports_differences(kind: Kind) {
    let (srv, fx) = setup(kind).await;
    let mut c = api(&srv, "clerk_a").await;
    post(&mut c, "/api/v1/settlements", &claim("V1", &fx.a_person, "2024-03-10", "60000.00", "50000.00")).await;
    post(&mut c, "/api/v1/settlements", &claim("V2", &fx.a_person, "2024-06-01", "20000.00", "20000.00")).await;
    let r = post(&mut c, "/api/v1/claims/V1/void?facility=FA1", &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    assert_eq!(j["voided"], "V1");
    let diffs = j["differences"].as_array().unwrap();
    let v1 = diffs.iter().find(|d| d["claim_id"] == "V1").expect("the voided claim is refunded");
    assert_eq!(v1["payments"][0]["amount"], "-42287.50");
    let v2 = diffs.iter().find(|d| d["claim_id"] == "V2").expect("the later claim changed");
    // V2 alone: basic unchanged; critical below the 7500 deductible now pays 0 -> -2088.12
    assert_eq!(v2["payments"][0]["amount"], "0.00");
    assert_eq!(v2["payments"][1]["amount"], "-2088.12");
    assert_eq!(j["settlements"].as_array().unwrap().len(), 1);
    // voiding twice is refused; voiding the unknown is not found
    assert_eq!(post(&mut c, "/api/v1/claims/V1/void?facility=FA1", &json!({})).await.status, 409);
    assert_eq!(post(&mut c, "/api/v1/claims/NOPE/void?facility=FA1", &json!({})).await.status, 404);
}

async fn concurrent_claims_of_one_person_serialise(kind: Kind) {
    let (srv, fx) = setup(kind).await;
    let c = api(&srv, "clerk_a").await;
    let csrf = c.csrf_header.clone();
    let cookies = c.cookies.clone();
    let mut tasks = vec![];
    for i in 0..24 {
        let mut c = srv.client();
        c.cookies = cookies.clone();
        c.csrf_header = csrf.clone();
        let body = claim(&format!("P{i:02}"), &fx.a_person, "2024-05-01", "20000.00", "20000.00");
        tasks.push(tokio::spawn(async move { post(&mut c, "/api/v1/settlements", &body).await }));
    }
    let mut assistance = 0;
    let mut total = 0;
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.status, 201, "{}", r.body);
        let j = r.json();
        let sum: i64 = pays(&j).iter().map(|(_, a)| yuan(a)).sum::<i64>() + yuan(j["out_of_pocket"].as_str().unwrap());
        assert_eq!(sum, 2_000_000, "each claim adds up to its total");
        assistance += yuan(&pays(&j)[2].1);
        total += yuan(&pays(&j)[0].1);
    }
    // The lifted assistance tier has an annual cap of 20000 yuan: racing claims
    // that read the same accumulators would exceed it.
    assert_eq!(assistance, 2_000_000, "assistance pays exactly its cap over the year");
    // 24 * 16787.50 = 402900.00 would exceed basic's annual cap of 300000 yuan.
    assert_eq!(total, 30_000_000, "basic pays exactly its cap over the year");
}

async fn settlement_permissions_scope_and_bad_claims(kind: Kind) {
    let (srv, fx) = setup(kind).await;
    let mut an = api(&srv, "analyst_a").await;
    let r = post(&mut an, "/api/v1/settlements", &claim("X1", &fx.a_person, "2024-03-10", "100", "100")).await;
    assert_eq!(r.status, 403, "an analyst may not settle");
    let mut c = api(&srv, "clerk_a").await;
    let r = post(&mut c, "/api/v1/settlements", &claim("X2", &fx.b_person, "2024-03-10", "100", "100")).await;
    assert_eq!(r.status, 404, "a person of another county is not found: {}", r.body);
    let r = post(&mut c, "/api/v1/settlements", &claim("X3", &fx.a_person, "2024-03-10", "100", "200")).await;
    assert_eq!(r.status, 422);
    assert!(r.json()["message"].as_str().unwrap().contains("eligible_cost"), "{}", r.body);
    let r = post(&mut c, "/api/v1/settlements", &claim("X4", &fx.a_person, "2024-03-10", "100.001", "100")).await;
    assert!(r.json()["message"].as_str().unwrap().contains("column total_cost"), "{}", r.body);
    let mut bad = claim("X5", &fx.a_person, "2024-03-10", "100", "100");
    bad["facility_level"] = json!("hospital");
    let r = post(&mut c, "/api/v1/settlements", &bad).await;
    assert!(r.json()["message"].as_str().unwrap().contains("facility_level"), "{}", r.body);
    bad["total_cost"] = json!(true);
    assert_eq!(post(&mut c, "/api/v1/settlements", &bad).await.status, 422);
    let r = post(&mut c, "/api/v1/settlements", &claim("X6", &fx.a_person, "2023-03-10", "100", "100")).await;
    assert_eq!(r.status, 422, "no policy for 2023: {}", r.body);
    assert!(r.json()["message"].as_str().unwrap().contains("no settlement policy"));
}

async fn calculator_page_shows_split_and_explanation(kind: Kind) {
    let (srv, _) = setup(kind).await;
    let mut c = srv.login("clerk_a").await;
    let page = c.get("/settle").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Demo county 2024"));
    let csrf = page.csrf();
    let policy = include_str!("data/policy.toml");
    let r = c
        .post_form(
            "/settle",
            &[
                ("csrf", &csrf),
                ("policy", policy),
                ("status", "lifted"),
                ("level", "county"),
                ("kind", "inpatient"),
                ("total", "60000"),
                ("eligible", "50000"),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    for want in ["42287.50", "138.13", "3944.62", "629.75", "13000.00", "assistance"] {
        assert!(r.body.contains(want), "calculator lacks {want}");
    }
    let r = c
        .post_form(
            "/settle",
            &[
                ("csrf", &csrf),
                ("policy", "name = 1"),
                ("status", "lifted"),
                ("level", "county"),
                ("kind", "inpatient"),
                ("total", "1"),
                ("eligible", "1"),
            ],
        )
        .await;
    assert!(r.body.contains("flash error"), "a bad policy is reported");
}
