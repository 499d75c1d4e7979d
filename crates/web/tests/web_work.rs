//! The daily casework over HTTP (issue 15): a case from its opening to its close
//! through the API, with the refusals of the rules and of stale versions; the
//! region scope and the roles on every path of cases, visits and contracts; the
//! case pages and the casework parts of the household and person pages.

mod common;

use chrono::{Duration, NaiveDate};
use common::*;
use serde_json::{json, Value};
use web::access::{Role, Scope};

on_each_repo!(
    a_case_runs_its_course_through_the_api,
    bad_input_is_refused_naming_the_field,
    scope_hides_other_counties_and_roles_limit_writes,
    case_pages_show_overdue_cases_and_move_them,
    household_and_person_pages_record_visits_and_contracts,
    a_village_doctor_records_visits_and_contracts_and_nothing_else,
);

async fn setup(kind: Kind) -> (Server, Fixture) {
    let (srv, fx) = start_filled(kind).await;
    srv.user("admin", Role::Administrator, "").await;
    srv.user("officer_a", Role::Officer, "341122").await;
    srv.user("officer_b", Role::Officer, "341123").await;
    srv.user("clerk_a", Role::Clerk, "341122").await;
    srv.user("analyst_a", Role::Analyst, "341122").await;
    srv.user("viewer_a", Role::Viewer, "341122").await;
    srv.user("officer_a2", Role::Officer, "341122").await;
    (srv, fx)
}

fn today() -> NaiveDate {
    domain::time::china_today()
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

fn assert_error(r: &Resp, status: u16, needle: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    let j = r.json();
    let msg = j["message"].as_str().unwrap_or_else(|| panic!("no message in {}", r.body));
    assert!(msg.contains(needle), "message {msg:?} lacks {needle:?}");
    assert!(j["error"].is_string());
}

async fn audit_count(srv: &Server, action: &str, target: &str) -> usize {
    srv.state.app.audit_log(1000).await.unwrap().iter().filter(|e| e.action == action && e.target == target).count()
}

async fn a_case_runs_its_course_through_the_api(kind: Kind) {
    let (srv, fx) = setup(kind).await;
    let mut c = api(&srv, "officer_a").await;
    let (today, yesterday) = (today(), today() - Duration::days(1));

    let r = post(&mut c, "/api/v1/cases", &json!({ "household_id": "HA1", "note": "hospital bill" })).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let case = r.json();
    let id = case["id"].as_i64().unwrap();
    let base = format!("/api/v1/cases/{id}");
    assert_eq!(case["state"], "open");
    assert_eq!(case["version"], 1);
    assert_eq!(case["source"], "officer");
    assert_eq!(case["overdue"], false);
    assert_eq!(case["due"], (today + Duration::days(15)).to_string(), "the default deadline");
    assert_eq!(case["close_due"], (today + Duration::days(180)).to_string(), "the default deadline to close");
    assert_eq!(case["late_to_close"], false);
    assert_eq!(case["alerts"], json!([fx.a_alert]), "the household's open alert joins the case");
    // one open case per household
    let r = post(&mut c, "/api/v1/cases", &json!({ "household_id": "HA1" })).await;
    assert_error(&r, 409, "open case");

    let r = post(&mut c, &format!("{base}/assign"), &json!({ "version": 1, "assignee": "officer_a" })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((r.json()["state"].clone(), r.json()["version"].clone()), (json!("assigned"), json!(2)));
    // assistance follows the verification
    let measure = |version: i64, day: NaiveDate| json!({ "version": version, "kind": "medical assistance", "amount": "1500.50", "fund": "civil affairs", "date": day.to_string() });
    let r = post(&mut c, &format!("{base}/measures"), &measure(2, today)).await;
    assert_error(&r, 409, "verify the case first");
    assert!(r.json()["message"].as_str().unwrap().starts_with(&format!("case {id}")), "{}", r.body);

    let r = post(
        &mut c,
        &format!("{base}/verify"),
        &json!({ "version": 2, "date": yesterday.to_string(), "visitors": "王医生, 李干部", "findings": "a bill of 13000 yuan", "monitored": true }),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(
        (v["state"].clone(), v["version"].clone(), v["monitored"].clone()),
        (json!("verified"), json!(3), json!(true))
    );
    assert_eq!(v["visits"][0]["kind"], "verification");
    assert_eq!(v["visits"][0]["household_id"], "HA1");
    let p = c.get(&format!("/api/v1/persons/{}", fx.a_person)).await.json();
    assert_eq!(p["status"], "monitored", "the lifted member becomes monitored");

    let r = post(&mut c, &format!("{base}/measures"), &measure(3, today)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let m = r.json();
    assert_eq!((m["state"].clone(), m["version"].clone()), (json!("assisting"), json!(4)));
    assert_eq!(m["measures"][0]["amount"], "1500.50");

    // closing before a verification on or after the measure is refused, with the reason
    let close = |version: i64| json!({ "version": version, "reason": "risk_eliminated", "note": "the risk is gone" });
    let r = post(&mut c, &format!("{base}/close"), &close(4)).await;
    assert_error(&r, 409, "verification visit on or after the last measure");
    // a stale version is refused and changes nothing
    let r = post(&mut c, &format!("{base}/measures"), &measure(3, today)).await;
    assert_error(&r, 409, "changed since version 3");
    let r = post(&mut c, &format!("{base}/assign"), &json!({ "version": 2, "assignee": "officer_a2" })).await;
    assert_error(&r, 409, "reload it");
    let now = c.get(&base).await.json();
    assert_eq!(now["version"], 4);
    assert_eq!(now["state"], "assisting");
    assert_eq!(now["assignee"], "officer_a");
    assert_eq!(now["measures"].as_array().unwrap().len(), 1);
    assert_eq!(now["events"].as_array().unwrap().len(), 4, "open, assign, verify, measure: {now}");

    let r = post(
        &mut c,
        &format!("{base}/verify"),
        &json!({ "version": 4, "date": today.to_string(), "visitors": "王医生", "findings": "paid; recovering", "monitored": true }),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((r.json()["state"].clone(), r.json()["version"].clone()), (json!("assisting"), json!(5)));
    let r = post(&mut c, &format!("{base}/close"), &close(5)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let done = r.json();
    assert_eq!(done["state"], "closed");
    assert_eq!(done["close_reason"], "risk_eliminated");
    assert_eq!(done["version"], 6);
    let actions: Vec<&str> = done["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["open", "assign", "verify", "measure", "verify", "close"]);
    assert_eq!(c.get(&format!("/api/v1/alerts/{}", fx.a_alert)).await.json()["state"], "resolved");
    // a closed case moves no more
    assert_error(&post(&mut c, &format!("{base}/measures"), &measure(6, today)).await, 409, "closed");

    // listings
    assert_eq!(c.get("/api/v1/cases?open=true").await.json()["items"], json!([]));
    let all = c.get("/api/v1/cases").await.json();
    assert_eq!(all["items"].as_array().unwrap().len(), 1);
    assert_eq!(all["items"][0]["state"], "closed");
    assert_eq!(c.get("/api/v1/cases?state=closed&household=HA1").await.json()["items"][0]["id"], id);
    assert_eq!(c.get("/api/v1/cases?assignee=nobody").await.json()["items"], json!([]));

    // the application audits each move once; the refused ones not at all
    let target = format!("case {id}");
    assert_eq!(audit_count(&srv, "case_open", &target).await, 1);
    assert_eq!(audit_count(&srv, "case_assign", &target).await, 1);
    assert_eq!(audit_count(&srv, "case_verify", &target).await, 2);
    assert_eq!(audit_count(&srv, "case_measure", &target).await, 1);
    assert_eq!(audit_count(&srv, "case_close", &target).await, 1);

    // a new episode may open once the case is closed
    let r = post(&mut c, "/api/v1/cases", &json!({ "household_id": "HA1", "note": "a second bill" })).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_ne!(r.json()["id"], id);
}

async fn bad_input_is_refused_naming_the_field(kind: Kind) {
    let (srv, fx) = setup(kind).await;
    let mut c = api(&srv, "officer_a").await;
    let today = today();
    let r = post(&mut c, "/api/v1/cases", &json!({ "household_id": "HA1" })).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_i64().unwrap();
    let base = format!("/api/v1/cases/{id}");
    let verify =
        |date: &str| json!({ "version": 1, "date": date, "visitors": "li", "findings": "x", "monitored": false });
    assert_error(&post(&mut c, &format!("{base}/verify"), &verify("2024-02-30")).await, 400, "date:");
    let tomorrow = (today + Duration::days(1)).to_string();
    assert_error(&post(&mut c, &format!("{base}/verify"), &verify(&tomorrow)).await, 400, "in the future");
    let mut v = verify(&today.to_string());
    v["colour"] = json!("red");
    assert_error(&post(&mut c, &format!("{base}/verify"), &v).await, 422, "unknown field `colour`");
    let mut v = verify(&today.to_string());
    v["next_date"] = json!(today.to_string());
    assert_error(&post(&mut c, &format!("{base}/verify"), &v).await, 400, "next_date:");
    let mut v = verify(&today.to_string());
    v["visitors"] = json!("  ");
    assert_error(&post(&mut c, &format!("{base}/verify"), &v).await, 400, "visitors:");
    let mut v = verify(&today.to_string());
    v["version"] = json!(0);
    assert_error(&post(&mut c, &format!("{base}/verify"), &v).await, 400, "version:");
    let r = post(
        &mut c,
        &format!("{base}/assign"),
        &json!({ "version": 1, "assignee": "officer_a2", "due": "2020-01-01" }),
    )
    .await;
    assert_error(&r, 400, "due:");
    let r = post(&mut c, &format!("{base}/assign"), &json!({ "version": 1, "assignee": "" })).await;
    assert_error(&r, 400, "assignee:");
    // The responsible person is a user who does the casework in the village.
    for who in ["nobody", "viewer_a", "officer_b"] {
        let r = post(&mut c, &format!("{base}/assign"), &json!({ "version": 1, "assignee": who })).await;
        assert_error(&r, 400, "assignee:");
    }
    let r = post(&mut c, &format!("{base}/close"), &json!({ "version": 1, "reason": "done", "note": "x" })).await;
    assert_error(&r, 400, "reason:");
    let r = post(&mut c, &format!("{base}/close"), &json!({ "version": 1, "reason": "no_risk" })).await;
    assert_error(&r, 400, "note:");
    let m = json!({ "version": 1, "kind": "cash", "amount": "12.345", "fund": "f", "date": today.to_string() });
    assert_error(&post(&mut c, &format!("{base}/measures"), &m).await, 400, "amount:");
    let m = json!({ "version": 1, "kind": "cash", "amount": 12.5, "fund": "", "date": today.to_string() });
    assert_error(&post(&mut c, &format!("{base}/measures"), &m).await, 400, "fund:");
    let close = json!({ "version": 1, "reason": "no_risk", "note": "x" });
    assert_error(&post(&mut c, "/api/v1/cases/abc/close", &close).await, 400, "invalid case ID");
    assert_error(&c.get("/api/v1/cases/0").await, 400, "invalid case ID");
    assert_error(&c.get("/api/v1/cases/999999").await, 404, "not found");
    assert_error(&c.get("/api/v1/cases?state=gone").await, 400, "state:");
    assert_error(&c.get("/api/v1/cases?overdue=maybe").await, 400, "invalid query");
    assert_error(&c.get("/api/v1/cases?colour=red").await, 400, "unknown field");
    assert_error(&c.get("/api/v1/cases?limit=0").await, 400, "limit");
    assert_error(&c.get("/api/v1/visits?person=123").await, 400, "invalid resident ID");
    // text that no database keeps is refused, never a 500
    assert_error(&c.get("/api/v1/cases?assignee=a%00b").await, 400, "assignee:");
    assert_error(&c.get("/api/v1/visits?household=a%00b").await, 400, "household:");
    assert_error(&c.get("/api/v1/households/a%00b/visits").await, 400, "household ID:");
    let r = post(&mut c, "/api/v1/cases", &json!({ "household_id": "HA1", "note": "a\u{0}b" })).await;
    assert_error(&r, 400, "note:");
    assert_error(&post(&mut c, "/api/v1/cases", &json!({ "household_id": " " })).await, 400, "household_id:");

    let visit =
        |kind: &str| json!({ "household_id": "HA1", "kind": kind, "date": today.to_string(), "visitors": "li" });
    assert_error(&post(&mut c, "/api/v1/visits", &visit("verification")).await, 400, "kind:");
    assert_error(&post(&mut c, "/api/v1/visits", &visit("call")).await, 400, "kind:");
    assert_error(&post(&mut c, "/api/v1/visits", &visit("follow_up")).await, 400, "person_id:");
    let mut v = visit("household");
    v["person_id"] = json!(fx.b_person);
    assert_error(&post(&mut c, "/api/v1/visits", &v).await, 400, "person_id");
    let mut v = visit("household");
    v["case_id"] = json!(id + 100);
    assert_error(&post(&mut c, "/api/v1/visits", &v).await, 400, "case_id");
    let mut v = visit("follow_up");
    v["person_id"] = json!(fx.a_person);
    v["case_id"] = json!(id);
    let r = post(&mut c, "/api/v1/visits", &v).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["person_id"], fx.a_person.as_str());
    assert_eq!(r.json()["case_id"], id);

    let k = |signed: &str, ends: &str, doctor: &str| json!({ "person_id": fx.a_person, "practitioner_id": doctor, "signed": signed, "ends": ends });
    assert_error(&post(&mut c, "/api/v1/contracts", &k("2024-01-01", "2023-01-01", "PA1")).await, 400, "ends:");
    assert_error(
        &post(&mut c, "/api/v1/contracts", &k("2024-01-01", "2025-01-01", "NOBODY")).await,
        400,
        "practitioner_id",
    );
    let mut bad = k("2024-01-01", "2025-01-01", "PA1");
    bad["person_id"] = json!("12345");
    assert_error(&post(&mut c, "/api/v1/contracts", &bad).await, 400, "person_id:");
    let r = post(&mut c, "/api/v1/contracts", &k("2024-01-01", "2025-01-01", "PA1")).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["practitioner_id"], "PA1");
    let r = c.get(&format!("/api/v1/contracts?person={}", fx.a_person)).await;
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 1);
}

async fn scope_hides_other_counties_and_roles_limit_writes(kind: Kind) {
    let (srv, fx) = setup(kind).await;
    let today = today().to_string();
    let mut a = api(&srv, "officer_a").await;
    let r = post(&mut a, "/api/v1/cases", &json!({ "household_id": "HA1" })).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_i64().unwrap();
    let follow_up = json!({ "household_id": "HA1", "person_id": fx.a_person, "kind": "follow_up", "date": today, "visitors": "王医生" });
    assert_eq!(post(&mut a, "/api/v1/visits", &follow_up).await.status, 201);
    let contract =
        json!({ "person_id": fx.a_person, "practitioner_id": "PA1", "signed": "2024-01-01", "ends": "2025-01-01" });
    assert_eq!(post(&mut a, "/api/v1/contracts", &contract).await.status, 201);

    let writes: Vec<(String, Value)> = vec![
        (format!("/api/v1/cases/{id}/assign"), json!({ "version": 1, "assignee": "officer_b" })),
        (
            format!("/api/v1/cases/{id}/verify"),
            json!({ "version": 1, "date": today, "visitors": "b", "findings": "x", "monitored": true }),
        ),
        (
            format!("/api/v1/cases/{id}/measures"),
            json!({ "version": 1, "kind": "cash", "amount": "1", "fund": "f", "date": today }),
        ),
        (format!("/api/v1/cases/{id}/close"), json!({ "version": 1, "reason": "no_risk", "note": "none" })),
        ("/api/v1/cases".into(), json!({ "household_id": "HA1" })),
        (
            "/api/v1/visits".into(),
            json!({ "household_id": "HA1", "kind": "household", "date": today, "visitors": "b" }),
        ),
        ("/api/v1/contracts".into(), contract.clone()),
    ];

    // another county's officer: not found on every path, as if nothing were there
    let mut b = api(&srv, "officer_b").await;
    assert_error(&b.get(&format!("/api/v1/cases/{id}")).await, 404, "not found");
    assert_error(&b.get("/api/v1/households/HA1/visits").await, 404, "not found");
    for (path, body) in &writes {
        let r = post(&mut b, path, body).await;
        assert_eq!(r.status, 404, "officer_b {path}: {}", r.body);
        assert!(!r.body.contains("341122"), "officer_b {path} learns nothing: {}", r.body);
    }
    // a case that does not exist answers alike
    let r = post(&mut b, "/api/v1/cases/999999/assign", &json!({ "version": 1, "assignee": "x" })).await;
    assert_eq!(r.status, 404, "{}", r.body);
    for list in ["/api/v1/cases", "/api/v1/visits", "/api/v1/visits?household=HA1", "/api/v1/contracts"] {
        assert_eq!(b.get(list).await.json()["items"], json!([]), "officer_b {list}");
    }
    let r = b.get(&format!("/api/v1/contracts?person={}", fx.a_person)).await;
    assert_eq!(r.json()["items"], json!([]));
    // pages too
    assert_eq!(b.get(&format!("/cases/{id}")).await.status, 404);
    assert!(!b.get("/cases").await.body.contains("HA1"));
    let csrf = b.csrf().await;
    let r = b.post_form(&format!("/cases/{id}/assign"), &[("version", "1"), ("assignee", "b"), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 404);
    let r = b.post_form("/cases", &[("household_id", "HA1"), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 404);
    let r = b
        .post_form(
            "/households/HA1/visits",
            &[("kind", "household"), ("date", &today), ("visitors", "b"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 404);
    let r = b
        .post_form(
            &format!("/persons/{}/contracts", fx.a_person),
            &[("practitioner_id", "PA1"), ("signed", "2024-02-01"), ("ends", "2025-02-01"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 404);
    // the case is untouched
    let now = a.get(&format!("/api/v1/cases/{id}")).await.json();
    assert_eq!((now["version"].clone(), now["state"].clone()), (json!(1), json!("open")));
    // and B works in its own county
    assert_eq!(post(&mut b, "/api/v1/cases", &json!({ "household_id": "HB1" })).await.status, 201);

    // roles without the casework: forbidden on every write, reading allowed, masked
    for user in ["viewer_a", "analyst_a", "clerk_a"] {
        let mut u = api(&srv, user).await;
        for (path, body) in &writes {
            let r = post(&mut u, path, body).await;
            assert_error(&r, 403, "your role may not");
        }
        let r = u.get(&format!("/api/v1/cases/{id}")).await;
        assert_eq!(r.status, 200, "{user}: {}", r.body);
        let visits = u.get("/api/v1/visits?household=HA1").await.json();
        let contracts = u.get("/api/v1/contracts").await.json();
        let (vp, kp) = (visits["items"][0]["person_id"].clone(), contracts["items"][0]["person_id"].clone());
        if user == "clerk_a" {
            assert_eq!(vp, fx.a_person.as_str());
        } else {
            for p in [&vp, &kp] {
                let p = p.as_str().unwrap();
                assert!(p.contains('*') && !p.contains(&fx.a_person[6..14]), "{user} sees a masked ID: {p}");
            }
        }
        // the pages draw no forms
        let page = u.get(&format!("/cases/{id}")).await;
        assert_eq!(page.status, 200);
        for form in ["assign-form", "verify-form", "close-form"] {
            assert!(!page.body.contains(form), "{user} sees {form}");
        }
        let hh = u.get("/households/HA1").await.body;
        assert!(!hh.contains("visit-form") && !hh.contains("open-case-form"), "{user} household forms");
        assert!(hh.contains(&format!("/cases/{id}")), "{user} sees the link to the open case");
        let person = u.get(&format!("/persons/{}", fx.a_person)).await.body;
        assert!(!person.contains("contract-form") && !person.contains("follow-up-form"), "{user} person forms");
        let csrf = u.csrf().await;
        let r =
            u.post_form(&format!("/cases/{id}/assign"), &[("version", "1"), ("assignee", "x"), ("csrf", &csrf)]).await;
        assert_eq!(r.status, 403, "{user} assign form");
    }
}

async fn case_pages_show_overdue_cases_and_move_them(kind: Kind) {
    let (srv, _fx) = setup(kind).await;
    let today = today();
    // A case opened a month ago, its fifteen days to verify gone by.
    let old =
        srv.state.app.open_case(&Scope::all(), "HA1", "officer", "old bill", "admin", today - Duration::days(30)).await;
    let id = old.unwrap().id;
    let mut o = srv.login("officer_a").await;
    let list = o.get("/cases").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains(&format!("href=\"/cases/{id}\"")), "{}", list.body);
    assert!(list.body.contains("class=\"overdue\"") && list.body.contains("逾期"), "the overdue marker");
    assert!(list.body.contains("href=\"/cases\""), "the navigation links the cases");
    assert!(o.get("/cases?overdue=1").await.body.contains(&format!("href=\"/cases/{id}\"")));
    assert!(!o.get("/cases?state=closed").await.body.contains(&format!("href=\"/cases/{id}\"")));
    assert!(!o.get("/cases?mine=1").await.body.contains(&format!("href=\"/cases/{id}\"")), "nobody is assigned");

    let page = o.get(&format!("/cases/{id}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("class=\"overdue\""), "the case page marks it overdue");
    assert!(page.body.contains("<dd id=\"case-close-due\">"), "the case page shows its deadline to close");
    for form in ["assign-form", "verify-form", "close-form"] {
        assert!(page.body.contains(form), "{form}");
    }
    assert!(!page.body.contains("measure-form"), "assistance follows the verification");
    assert!(page.body.contains("name=\"version\" value=\"1\""));
    o.get("/lang/en").await;
    let en = o.get("/cases").await.body;
    assert!(en.contains(">Cases<") && en.contains(">overdue<"), "English: {en}");
    o.get("/lang/zh").await;

    let csrf = page.csrf();
    let path = |what: &str| format!("/cases/{id}/{what}");
    let r = o
        .post_form(&path("assign"), &[("version", "1"), ("assignee", "officer_a"), ("due", ""), ("csrf", &csrf)])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some(format!("/cases/{id}").as_str()));
    assert!(o.get("/cases?mine=1").await.body.contains(&format!("href=\"/cases/{id}\"")));
    assert!(!o.get(&format!("/cases/{id}")).await.body.contains("class=\"overdue\""), "a new deadline from today");
    // a form sent on an old version shows the reason on the page
    let r = o.post_form(&path("assign"), &[("version", "1"), ("assignee", "officer_a2"), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("id=\"form-error\"") && r.body.contains("changed since version 1"), "{}", r.body);
    assert!(r.body.contains("assign-form"), "the page is drawn again");
    let day = today.to_string();
    let r = o
        .post_form(
            &path("verify"),
            &[
                ("version", "2"),
                ("date", &day),
                ("visitors", "王医生"),
                ("findings", "a bill of 13000 yuan"),
                ("next_date", ""),
                ("monitored", "1"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = o.get(&format!("/cases/{id}")).await.body;
    assert!(page.contains("case-verified") && page.contains("measure-form"), "{page}");
    assert!(page.contains("a bill of 13000 yuan"));
    // refusals on the page: a bad field, a rule
    let r =
        o.post_form(&path("close"), &[("version", "3"), ("reason", "no_risk"), ("note", ""), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("note:"), "{}", r.body);
    let r = o.post_form(&path("close"), &[("version", "3"), ("reason", "risk_eliminated"), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 409);
    assert!(r.body.contains("at least one assistance measure") && r.body.contains("form-error"), "{}", r.body);
    let r = o.post_form(&path("verify"), &[("version", "3"), ("date", "2024-02-30"), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("date:"), "{}", r.body);
    let r = o
        .post_form(
            &path("measure"),
            &[
                ("version", "3"),
                ("kind", "临时救助"),
                ("amount", "800"),
                ("fund", "民政"),
                ("date", &day),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = o
        .post_form(&path("close"), &[("version", "4"), ("reason", "risk_eliminated"), ("note", "ok"), ("csrf", &csrf)])
        .await;
    assert_eq!(r.status, 303, "verified today, measured today: {}", r.body);
    let page = o.get(&format!("/cases/{id}")).await.body;
    assert!(page.contains("case-closed") && page.contains("风险消除") && page.contains("800.00"), "{page}");
    assert!(!page.contains("assign-form"), "a closed case has no forms");
    // no 500 for an unknown case, and a case ID that is no number is not found
    assert_eq!(o.get("/cases/999999").await.status, 404);
    assert_eq!(o.get("/cases/abc").await.status, 404);
}

async fn household_and_person_pages_record_visits_and_contracts(kind: Kind) {
    let (srv, fx) = setup(kind).await;
    let day = today().to_string();
    let mut o = srv.login("officer_a").await;
    let hh = o.get("/households/HA1").await;
    assert_eq!(hh.status, 200, "{}", hh.body);
    assert!(hh.body.contains("open-case-form") && hh.body.contains("visit-form"), "{}", hh.body);
    let csrf = hh.csrf();
    let r = o.post_form("/cases", &[("household_id", "HA1"), ("note", "seen at the clinic"), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let at = r.header("location").unwrap().to_string();
    assert!(at.starts_with("/cases/"), "{at}");
    let id: i64 = at.trim_start_matches("/cases/").parse().unwrap();
    // a second one is refused on the household page
    let r = o.post_form("/cases", &[("household_id", "HA1"), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 409);
    assert!(r.body.contains("form-error") && r.body.contains("open case"), "{}", r.body);
    let hh = o.get("/households/HA1").await.body;
    assert!(hh.contains("id=\"open-case\"") && hh.contains(&format!("href=\"/cases/{id}\"")));
    assert!(!hh.contains("open-case-form"));

    let r = o
        .post_form(
            "/households/HA1/visits",
            &[
                ("kind", "household"),
                ("person_id", ""),
                ("date", &day),
                ("visitors", "李干部"),
                ("findings", "the roof leaks"),
                ("next_date", ""),
                ("case_id", &id.to_string()),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let hh = o.get("/households/HA1").await.body;
    assert!(hh.contains("the roof leaks") && hh.contains("入户走访"), "{hh}");
    let r = o
        .post_form(
            "/households/HA1/visits",
            &[("kind", "household"), ("date", &day), ("visitors", ""), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("visitors:") && r.body.contains("visit-form"), "{}", r.body);
    let case = o.get(&format!("/cases/{id}")).await.body;
    assert!(case.contains("the roof leaks"), "the visit serves the case");

    let person = format!("/persons/{}", fx.a_person);
    let p = o.get(&person).await.body;
    assert!(p.contains("contract-form") && p.contains("follow-up-form"), "{p}");
    let r = o
        .post_form(
            &format!("{person}/contracts"),
            &[("practitioner_id", "PA1"), ("signed", "2024-01-01"), ("ends", "2026-12-31"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = o
        .post_form(
            &format!("{person}/contracts"),
            &[("practitioner_id", "NOBODY"), ("signed", "2024-01-01"), ("ends", "2026-12-31"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("practitioner_id") && r.body.contains("form-error"), "{}", r.body);
    let r = o
        .post_form(
            &format!("{person}/visits"),
            &[("date", &day), ("visitors", "王医生"), ("findings", "blood pressure 150/95"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let p = o.get(&person).await.body;
    assert!(p.contains("PA1") && p.contains("2026-12-31"), "the contract is listed");
    assert!(p.contains("blood pressure 150/95") && p.contains("随访"), "the follow-up is listed");
    // the application audited the writes itself
    let log = srv.state.app.audit_log(1000).await.unwrap();
    for action in ["case_open", "visit_record", "contract_sign"] {
        assert!(log.iter().any(|e| e.username == "officer_a" && e.action == action), "no {action}");
    }
}

/// The village doctor (乡村医生): records visits, follow-ups and family-doctor
/// contracts in their village, sees their patients in clear, and opens, moves
/// and edits nothing else; another village's households are not found.
async fn a_village_doctor_records_visits_and_contracts_and_nothing_else(kind: Kind) {
    let (srv, fx) = setup(kind).await;
    srv.user("dr_wang", Role::VillageDoctor, "341122100201").await;
    let mut d = api(&srv, "dr_wang").await;
    let today = chrono::Local::now().date_naive().to_string();
    let follow_up = json!({ "household_id": "HA1", "person_id": fx.a_person, "kind": "follow_up", "date": today,
        "visitors": "王医生", "findings": "血压 150/95，已调药" });
    let r = post(&mut d, "/api/v1/visits", &follow_up).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let ends = (chrono::Local::now().date_naive() + chrono::Duration::days(365)).to_string();
    let contract = json!({ "person_id": fx.a_person, "practitioner_id": "PA1", "signed": today, "ends": ends });
    let r = post(&mut d, "/api/v1/contracts", &contract).await;
    assert_eq!(r.status, 201, "{}", r.body);
    // Sees the patient in clear.
    let p = d.get(&format!("/api/v1/persons/{}", fx.a_person)).await.json();
    assert_eq!(p["name"], A_NAME);
    // No case, no registry change, no alert move, no settlement.
    assert_error(&post(&mut d, "/api/v1/cases", &json!({ "household_id": "HA1" })).await, 403, "");
    assert_error(
        &post(&mut d, &format!("/api/v1/alerts/{}/transition", fx.a_alert), &json!({ "to": "verifying" })).await,
        403,
        "",
    );
    let hh = d.get("/households/HA1").await.body;
    assert!(hh.contains("visit-form") && !hh.contains("open-case-form") && !hh.contains("household-form"), "{hh}");
    let person = d.get(&format!("/persons/{}", srv.person_ref(&fx.a_person).await)).await.body;
    assert!(person.contains("contract-form") && person.contains("follow-up-form") && !person.contains("person-form"));
    // Another county's household is not there for them.
    let other = json!({ "household_id": "HB1", "kind": "household", "date": today, "visitors": "王医生" });
    assert_eq!(post(&mut d, "/api/v1/visits", &other).await.status, 404);
    let log = srv.state.app.audit_log(1000).await.unwrap();
    assert!(log.iter().any(|e| e.username == "dr_wang" && e.action.contains("contract")), "{log:?}");
}
