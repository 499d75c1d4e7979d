//! The JSON API: tokens, bad input answered 4xx with a message, the OpenAPI
//! document matching the real endpoints.

mod common;

use common::*;
use web::access::Role;

on_each_repo!(
    bearer_tokens_work_and_bad_ones_do_not,
    bad_input_gets_a_4xx_with_a_message,
    openapi_document_describes_the_real_endpoints,
);

async fn setup(kind: Kind) -> (Server, Fixture) {
    let (srv, fx) = start_filled(kind).await;
    srv.user("admin", Role::Administrator, "").await;
    srv.user("officer_a", Role::Officer, "341122").await;
    (srv, fx)
}

/// An API client with a Bearer token made on the users page.
async fn token_client(srv: &Server) -> Client {
    let mut admin = srv.login("admin").await;
    let csrf = admin.csrf().await;
    let r = admin.post_form("/users/token", &[("name", "hospital-1"), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let i = r.body.find("id=\"new-token\">").unwrap() + 15;
    let token = r.body[i..i + 64].to_string();
    let mut c = srv.client();
    c.bearer = Some(token);
    c
}

fn assert_error(r: &Resp, status: u16, needle: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    let j = r.json();
    let msg = j["message"].as_str().unwrap_or_else(|| panic!("no message in {}", r.body));
    assert!(msg.contains(needle), "message {msg:?} lacks {needle:?}");
    assert!(j["error"].is_string());
}

async fn bearer_tokens_work_and_bad_ones_do_not(kind: Kind) {
    let (srv, fx) = setup(kind).await;
    let mut c = token_client(&srv).await;
    let r = c.get(&format!("/api/v1/persons/{}", fx.b_person)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["name"], B_NAME, "an administrator sees names");
    // a token needs no CSRF header: it is no ambient credential
    let r = c
        .post_json(&format!("/api/v1/alerts/{}/transition", fx.a_alert), r#"{"to":"verifying","note":"phoned"}"#)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["state"], "verifying");
    let r = c
        .post_json(
            &format!("/api/v1/alerts/{}/measures", fx.a_alert),
            r#"{"kind":"medical assistance","amount":"800.00"}"#,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["measures"][0]["amount"], "800.00");
    c.bearer = Some("0".repeat(64));
    assert_error(&c.get("/api/v1/persons").await, 401, "log in");
}

async fn bad_input_gets_a_4xx_with_a_message(kind: Kind) {
    let (srv, fx) = setup(kind).await;
    let mut c = token_client(&srv).await;
    let t = format!("/api/v1/alerts/{}/transition", fx.a_alert);
    assert_error(&c.post_json(&t, "{\"to\": ").await, 400, "malformed JSON");
    assert_error(&c.post_json(&t, r#"{"to":"verifying","colour":"red"}"#).await, 422, "unknown field `colour`");
    assert_error(&c.post_json(&t, r#"{"to":5}"#).await, 422, "invalid type");
    assert_error(&c.post_json(&t, r#"{"note":"x"}"#).await, 422, "missing field `to`");
    assert_error(&c.post_json(&t, r#"{"to":"closed"}"#).await, 400, "unknown state");
    assert_error(&c.post_json(&t, r#"{"to":"resolved"}"#).await, 409, "cannot move from open to resolved");
    assert_error(&c.post_json(&t, r#"{"to":"dismissed"}"#).await, 409, "reason");
    let r = c.send("POST", &t, Some(("text/plain", "{}".into())), &[]).await;
    assert_error(&r, 400, "Content-Type: application/json");
    assert_error(&c.post_json("/api/v1/alerts/abc/transition", r#"{"to":"verifying"}"#).await, 400, "invalid alert ID");
    assert_error(&c.get("/api/v1/alerts/-3").await, 400, "invalid alert ID");
    assert_error(&c.get("/api/v1/alerts/99999").await, 404, "not found");
    assert_error(&c.get("/api/v1/persons/12345").await, 400, "invalid resident ID");
    let mut bad = fx.a_person.clone();
    bad.replace_range(17..18, if bad.ends_with('1') { "2" } else { "1" });
    assert_error(&c.get(&format!("/api/v1/persons/{bad}")).await, 400, "check digit");
    assert_error(&c.get("/api/v1/persons?limit=0").await, 400, "limit");
    assert_error(&c.get("/api/v1/persons?limit=x").await, 400, "invalid query");
    assert_error(&c.get("/api/v1/persons?colour=red").await, 400, "unknown field");
    assert_error(&c.get("/api/v1/alerts?state=closed").await, 400, "unknown state");
    assert_error(&c.get("/api/v1/alerts?region=3411229").await, 400, "scope");
    let m = format!("/api/v1/alerts/{}/measures", fx.a_alert);
    assert_error(&c.post_json(&m, r#"{"kind":"cash","amount":"12.345"}"#).await, 400, "two decimals");
    assert_error(&c.post_json(&m, r#"{"kind":"cash","amount":"-5"}"#).await, 400, "negative");
    assert_error(&c.post_json(&m, r#"{"kind":"","amount":"5"}"#).await, 400, "kind");
    assert_error(&c.get("/api/v1/nothing-here").await, 404, "no endpoint");
}

async fn openapi_document_describes_the_real_endpoints(kind: Kind) {
    let (srv, fx) = setup(kind).await;
    let mut anon = srv.client();
    let doc = anon.get("/api/v1/openapi.json").await;
    assert_eq!(doc.status, 200);
    let doc = doc.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    let mut c = token_client(&srv).await;
    for (path, ops) in paths {
        let concrete = path.replace(
            "{id}",
            if path.starts_with("/persons") {
                &fx.a_person
            } else if path.starts_with("/households") {
                "HA1"
            } else {
                "1"
            },
        );
        for (method, op) in ops.as_object().unwrap() {
            assert!(op["responses"].is_object(), "{method} {path} has responses");
            let r = match method.as_str() {
                "get" => c.get(&format!("/api/v1{concrete}")).await,
                "post" => c.post_json(&format!("/api/v1{concrete}"), "{}").await,
                "patch" | "put" => {
                    let body = Some(("application/json", "{}".to_string()));
                    c.send(&method.to_uppercase(), &format!("/api/v1{concrete}"), body, &[]).await
                }
                m => panic!("unexpected method {m}"),
            };
            // Each documented endpoint exists: it answers something other than the fallback.
            assert!(!r.body.contains("no endpoint"), "{method} {path} is documented but not served: {}", r.body);
            let code = r.status.to_string();
            assert!(op["responses"].get(&code).is_some(), "{method} {path} answered {code}, which is not documented");
        }
    }
    // every schema reference resolves
    let text = doc.to_string();
    for part in text.split("#/components/schemas/").skip(1) {
        let name: String = part.chars().take_while(|c| c.is_alphanumeric()).collect();
        assert!(doc["components"]["schemas"].get(&name).is_some(), "dangling $ref {name}");
    }
}
