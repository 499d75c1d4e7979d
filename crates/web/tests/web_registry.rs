//! The registry by hand and the work ledger over HTTP: households and persons
//! created and changed through the API with their entity tags (a stale tag is
//! a 409 and the first change stands), bad fields named, the region scope and
//! the roles on every path; catalogues and case deadlines; the ledger in JSON,
//! CSV and XLSX, scoped, masked and audited; the edit forms of the pages.

mod common;

use chrono::{Duration, NaiveDate};
use common::*;
use serde_json::{json, Value};
use web::access::Role;

on_each_repo!(
    households_and_persons_are_created_and_changed_through_the_api,
    bad_fields_are_refused_naming_them,
    scope_hides_other_counties_and_roles_limit_writes,
    catalogues_and_deadlines_are_kept_per_region,
    the_ledger_is_scoped_masked_and_audited,
    the_pages_create_and_change_the_registry,
);

async fn setup(kind: Kind) -> (Server, Fixture) {
    let (srv, fx) = start_filled(kind).await;
    srv.user("admin", Role::Administrator, "").await;
    srv.user("officer_a", Role::Officer, "341122").await;
    srv.user("officer_b", Role::Officer, "341123").await;
    srv.user("clerk_a", Role::Clerk, "341122").await;
    srv.user("analyst_a", Role::Analyst, "341122").await;
    srv.user("viewer_a", Role::Viewer, "341122").await;
    (srv, fx)
}

fn today() -> NaiveDate {
    domain::time::china_today()
}

/// A valid resident ID of a county.
fn resident(county: u32, seq: u16) -> String {
    let born = NaiveDate::from_ymd_opt(1980, 2, 14).unwrap();
    domain::ResidentId::from_parts(county, born, seq).unwrap().to_string()
}

/// A logged-in browser session that calls the API with its CSRF token.
async fn api(srv: &Server, user: &str) -> Client {
    let mut c = srv.login(user).await;
    c.csrf_header = Some(c.csrf().await);
    c
}

async fn send(c: &mut Client, method: &str, path: &str, body: &Value) -> Resp {
    c.send(method, path, Some(("application/json", body.to_string())), &[]).await
}

fn assert_error(r: &Resp, status: u16, needle: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    let j = r.json();
    let msg = j["message"].as_str().unwrap_or_else(|| panic!("no message in {}", r.body));
    assert!(msg.contains(needle), "message {msg:?} lacks {needle:?}");
    assert!(j["error"].is_string());
}

async fn audit_rows(srv: &Server, user: &str, action: &str) -> Vec<(String, String)> {
    let log = srv.state.app.audit_log(1000).await.unwrap();
    log.iter()
        .filter(|e| e.username == user && e.action == action)
        .map(|e| (e.target.clone(), e.detail.clone()))
        .collect()
}

fn is_tag(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.len() == 16 && s.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A form's fields as the client sends them.
fn pairs(f: &[(String, String)]) -> Vec<(&str, &str)> {
    f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// The hidden etag of the form `form` on a page.
fn form_tag(body: &str, form: &str) -> String {
    let at = body.find(&format!("id=\"{form}\"")).unwrap_or_else(|| panic!("no {form} in {body}"));
    let i = body[at..].find("name=\"etag\" value=\"").expect("an etag field") + at + 19;
    body[i..i + 16].to_string()
}

async fn households_and_persons_are_created_and_changed_through_the_api(kind: Kind) {
    let (srv, fx) = setup(kind).await;
    let mut c = api(&srv, "officer_a").await;

    let hh =
        json!({ "fields": { "household_id": "HA2", "village_code": "341122100201", "size": 3, "income": "18000.50" } });
    let r = send(&mut c, "POST", "/api/v1/households", &hh).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let h = r.json();
    assert_eq!(
        (h["household_id"].clone(), h["size"].clone(), h["income"].clone()),
        (json!("HA2"), json!(3), json!("18000.50"))
    );
    assert_eq!(h["consumption"], Value::Null);
    assert!(is_tag(&h["etag"]), "{h}");
    let read = c.get("/api/v1/households/HA2").await.json();
    assert_eq!(read["etag"], h["etag"], "GET answers the tag the creation did");
    assert_eq!(read["members"], json!([]));
    // the existing record answers its tag too, beside its other fields
    let ha1 = c.get("/api/v1/households/HA1").await.json();
    assert!(is_tag(&ha1["etag"]) && ha1["members"].as_array().unwrap().len() == 1, "{ha1}");
    assert_error(&send(&mut c, "POST", "/api/v1/households", &hh).await, 409, "taken");

    // two changes made on the same read: the second is refused, the first stands
    let tag = h["etag"].as_str().unwrap().to_string();
    let first = json!({ "etag": tag, "reason": "a child was born", "fields": { "size": "4" } });
    let r = send(&mut c, "PATCH", "/api/v1/households/HA2", &first).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let changed = r.json();
    assert_eq!(changed["size"], 4);
    assert!(is_tag(&changed["etag"]) && changed["etag"] != tag, "a new tag: {changed}");
    let second = json!({ "etag": tag, "reason": "income checked", "fields": { "income": "1.00", "size": 2 } });
    assert_error(&send(&mut c, "PATCH", "/api/v1/households/HA2", &second).await, 409, "changed since you read it");
    let now = c.get("/api/v1/households/HA2").await.json();
    assert_eq!((now["size"].clone(), now["income"].clone()), (json!(4), json!("18000.50")));
    assert_eq!(now["etag"], changed["etag"]);
    // on the new tag the change goes through; an optional field may be cleared again
    let third = json!({ "etag": now["etag"], "reason": "spending surveyed", "fields": { "consumption": 12000, "food": "5000" } });
    let r = send(&mut c, "PATCH", "/api/v1/households/HA2", &third).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((r.json()["consumption"].clone(), r.json()["food"].clone()), (json!("12000.00"), json!("5000.00")));
    let clear = json!({ "etag": r.json()["etag"], "reason": "survey withdrawn", "fields": { "consumption": null, "food": "" } });
    let r = send(&mut c, "PATCH", "/api/v1/households/HA2", &clear).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["food"], Value::Null);

    // a person
    let pid = resident(341122, 77);
    let person = json!({ "fields": { "person_id": pid, "household_id": "HA2", "name": "王五", "status": "general",
        "status_since": "2020-01-01", "diagnoses": ["I10"] } });
    let r = send(&mut c, "POST", "/api/v1/persons", &person).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let p = r.json();
    assert_eq!((p["person_id"].clone(), p["name"].clone()), (json!(pid), json!("王五")), "an officer sees it in clear");
    assert_eq!((p["village_code"].clone(), p["diagnoses"].clone()), (json!("341122100201"), json!(["I10"])));
    assert!(is_tag(&p["etag"]), "{p}");
    let read = c.get(&format!("/api/v1/persons/{pid}")).await.json();
    assert_eq!(read["etag"], p["etag"]);
    assert_eq!(read["status"], "general");
    assert_error(&send(&mut c, "POST", "/api/v1/persons", &person).await, 409, "taken");
    let dup = json!({ "fields": { "person_id": fx.a_person, "household_id": "HA2", "name": "x", "status": "general", "status_since": "2020-01-01" } });
    assert_error(&send(&mut c, "POST", "/api/v1/persons", &dup).await, 409, "taken");

    let tag = p["etag"].as_str().unwrap().to_string();
    let monitored = json!({ "etag": tag, "reason": "verified on a visit", "fields": { "status": "monitored", "status_since": "2024-06-01" } });
    let r = send(&mut c, "PATCH", &format!("/api/v1/persons/{pid}"), &monitored).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (r.json()["status"].clone(), r.json()["status_since"].clone()),
        (json!("monitored"), json!("2024-06-01"))
    );
    let moved = json!({ "etag": tag, "reason": "moved", "fields": { "household_id": "HA1" } });
    assert_error(
        &send(&mut c, "PATCH", &format!("/api/v1/persons/{pid}"), &moved).await,
        409,
        "changed since you read it",
    );
    let now = c.get(&format!("/api/v1/persons/{pid}")).await.json();
    assert_eq!((now["household_id"].clone(), now["status"].clone()), (json!("HA2"), json!("monitored")));
    let moved = json!({ "etag": now["etag"], "reason": "married into HA1", "fields": { "household_id": "HA1", "diagnoses": "I10;E11" } });
    let r = send(&mut c, "PATCH", &format!("/api/v1/persons/{pid}"), &moved).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (r.json()["household_id"].clone(), r.json()["diagnoses"].clone()),
        (json!("HA1"), json!(["I10", "E11"]))
    );
    let members = c.get("/api/v1/households/HA1").await.json()["members"].as_array().unwrap().len();
    assert_eq!(members, 2);
    // the status change went to the history
    let rec = srv.state.app.person(&web::access::Scope::all(), pid.parse().unwrap()).await.unwrap().unwrap();
    assert!(
        rec.status_history.iter().any(|s| s.status == domain::PovertyStatus::Monitored),
        "{:?}",
        rec.status_history
    );

    // the application audited each write once, with the reason; the refused ones not at all
    let changes = audit_rows(&srv, "officer_a", "household_change").await;
    assert_eq!(changes.len(), 3, "{changes:?}");
    assert!(changes.iter().any(|(t, d)| t == "household HA2" && d.contains("a child was born") && d.contains("size")));
    assert_eq!(audit_rows(&srv, "officer_a", "household_create").await.len(), 1);
    assert_eq!(audit_rows(&srv, "officer_a", "person_create").await.len(), 1);
    assert_eq!(audit_rows(&srv, "officer_a", "person_change").await.len(), 2);
}

async fn bad_fields_are_refused_naming_them(kind: Kind) {
    let (srv, fx) = setup(kind).await;
    let mut c = api(&srv, "officer_a").await;
    let hh = |k: &str, v: Value| {
        let mut f = json!({ "household_id": "HA9", "village_code": "341122100201", "size": 2, "income": "100" });
        f[k] = v;
        json!({ "fields": f })
    };
    for (k, v, needle) in [
        ("size", json!("0"), "size:"),
        ("size", json!("two"), "size:"),
        ("village_code", json!("341122100"), "village_code:"),
        ("income", json!("12.345"), "income:"),
        ("household_id", json!(" "), "household_id:"),
        ("household_id", json!("a\u{0}b"), "household_id:"),
        ("colour", json!("red"), "colour:"),
        ("size", json!([2]), "size:"),
        ("food", json!("200"), "food"),
    ] {
        let mut body = hh(k, v);
        if k == "food" {
            body["fields"]["consumption"] = json!("100");
        }
        assert_error(&send(&mut c, "POST", "/api/v1/households", &body).await, 400, needle);
    }
    let mut extra = hh("size", json!(2));
    extra["colour"] = json!("red");
    assert_error(&send(&mut c, "POST", "/api/v1/households", &extra).await, 422, "unknown field `colour`");
    assert_error(&send(&mut c, "POST", "/api/v1/households", &json!({})).await, 422, "fields");

    let tag = c.get("/api/v1/households/HA1").await.json()["etag"].as_str().unwrap().to_string();
    let patch = |etag: &str, reason: &str, fields: Value| json!({ "etag": etag, "reason": reason, "fields": fields });
    let r = send(&mut c, "PATCH", "/api/v1/households/HA1", &patch(&tag, " ", json!({ "size": 3 }))).await;
    assert_error(&r, 400, "reason:");
    let r = send(&mut c, "PATCH", "/api/v1/households/HA1", &patch("abc", "x", json!({ "size": 3 }))).await;
    assert_error(&r, 400, "etag:");
    let r = send(&mut c, "PATCH", "/api/v1/households/HA1", &patch(&tag, "x", json!({ "household_id": "HA7" }))).await;
    assert_error(&r, 400, "household_id:");
    let r = send(&mut c, "PATCH", "/api/v1/households/HA1", &patch(&tag, "x", json!({}))).await;
    assert_error(&r, 400, "fields:");
    let r = send(&mut c, "PATCH", "/api/v1/households/HA1", &patch(&tag, "x", json!({ "income": "24000" }))).await;
    assert_error(&r, 400, "nothing changes");
    let r = send(&mut c, "PATCH", "/api/v1/households/HA1", &patch(&tag, "x", json!({ "size": 100 }))).await;
    assert_error(&r, 400, "size:");
    let r = send(&mut c, "PATCH", "/api/v1/households/HA1", &patch(&tag, "a\u{0}", json!({ "size": 3 }))).await;
    assert_error(&r, 400, "reason:");
    let r = send(&mut c, "PATCH", "/api/v1/households/HA1", &json!({ "etag": tag, "fields": { "size": 3 } })).await;
    assert_error(&r, 422, "reason");
    // nothing above changed the household
    assert_eq!(c.get("/api/v1/households/HA1").await.json()["etag"], json!(tag));

    let ptag = c.get(&format!("/api/v1/persons/{}", fx.a_person)).await.json()["etag"].as_str().unwrap().to_string();
    let path = format!("/api/v1/persons/{}", fx.a_person);
    for (fields, needle) in [
        (json!({ "status": "rich" }), "status:"),
        (json!({ "status_since": "1950-01-01" }), "status_since:"),
        (json!({ "status_since": "2024-02-30" }), "status_since:"),
        (json!({ "diagnoses": "XYZ" }), "diagnoses:"),
        (json!({ "diagnoses": [1] }), "diagnoses:"),
        (json!({ "name": "" }), "name:"),
        (json!({ "name": "a\u{7}b" }), "name:"),
        (json!({ "person_id": resident(341122, 5) }), "person_id:"),
    ] {
        let r = send(&mut c, "PATCH", &path, &patch(&ptag, "x", fields)).await;
        assert_error(&r, 400, needle);
    }
    assert_error(
        &send(&mut c, "PATCH", "/api/v1/persons/123", &patch(&ptag, "x", json!({ "name": "x" }))).await,
        400,
        "resident ID",
    );
    let bad = json!({ "fields": { "person_id": "12345", "household_id": "HA1", "name": "x", "status": "general", "status_since": "2020-01-01" } });
    assert_error(&send(&mut c, "POST", "/api/v1/persons", &bad).await, 400, "person_id:");
    let bad = json!({ "fields": { "person_id": resident(341122, 9), "household_id": "HA1", "name": "x", "status_since": "2020-01-01" } });
    assert_error(&send(&mut c, "POST", "/api/v1/persons", &bad).await, 400, "status:");
    assert_eq!(c.get(&path).await.json()["etag"], json!(ptag), "the person is untouched");
}

async fn scope_hides_other_counties_and_roles_limit_writes(kind: Kind) {
    let (srv, fx) = setup(kind).await;
    let mut a = api(&srv, "officer_a").await;
    let htag = a.get("/api/v1/households/HA1").await.json()["etag"].as_str().unwrap().to_string();
    let ptag = a.get(&format!("/api/v1/persons/{}", fx.a_person)).await.json()["etag"].as_str().unwrap().to_string();
    let writes: Vec<(&str, String, Value)> = vec![
        ("PATCH", "/api/v1/households/HA1".into(), json!({ "etag": htag, "reason": "x", "fields": { "size": 5 } })),
        (
            "PATCH",
            format!("/api/v1/persons/{}", fx.a_person),
            json!({ "etag": ptag, "reason": "x", "fields": { "name": "某某" } }),
        ),
        (
            "POST",
            "/api/v1/households".into(),
            json!({ "fields": { "household_id": "HX1", "village_code": "341122100201", "size": 1, "income": "1" } }),
        ),
        (
            "POST",
            "/api/v1/persons".into(),
            json!({ "fields": { "person_id": resident(341122, 31), "household_id": "HA1", "name": "某某", "status": "general", "status_since": "2020-01-01" } }),
        ),
    ];

    // another county's officer: not found on every path, as if nothing were there
    let mut b = api(&srv, "officer_b").await;
    assert_error(&b.get("/api/v1/households/HA1").await, 404, "not found");
    assert_error(&b.get(&format!("/api/v1/persons/{}", fx.a_person)).await, 404, "not found");
    for (method, path, body) in &writes {
        let r = send(&mut b, method, path, body).await;
        assert_eq!(r.status, 404, "officer_b {method} {path}: {}", r.body);
    }
    // and a household that does not exist answers alike
    let r = send(&mut b, "PATCH", "/api/v1/households/NOWHERE", &writes[0].2).await;
    assert_error(&r, 404, "household not found");
    assert_error(&send(&mut b, "PATCH", "/api/v1/households/HA1", &writes[0].2).await, 404, "household not found");
    // officer A cannot move anything out of the county
    let r = send(
        &mut a,
        "PATCH",
        "/api/v1/households/HA1",
        &json!({ "etag": htag, "reason": "x", "fields": { "village_code": "341123100201" } }),
    )
    .await;
    assert_error(&r, 404, "village_code:");
    let r = send(
        &mut a,
        "PATCH",
        &format!("/api/v1/persons/{}", fx.a_person),
        &json!({ "etag": ptag, "reason": "x", "fields": { "household_id": "HB1" } }),
    )
    .await;
    assert_error(&r, 404, "household_id:");
    let into_b = json!({ "fields": { "person_id": resident(341122, 32), "household_id": "HB1", "name": "某", "status": "general", "status_since": "2020-01-01" } });
    assert_error(&send(&mut a, "POST", "/api/v1/persons", &into_b).await, 404, "household_id:");
    // nothing moved
    assert_eq!(a.get("/api/v1/households/HA1").await.json()["etag"], json!(htag));
    assert_eq!(a.get(&format!("/api/v1/persons/{}", fx.a_person)).await.json()["etag"], json!(ptag));
    // B works in its own county
    let own = json!({ "fields": { "household_id": "HB2", "village_code": "341123100201", "size": 1, "income": "1" } });
    assert_eq!(send(&mut b, "POST", "/api/v1/households", &own).await.status, 201);

    // roles without the casework: forbidden on every write
    for user in ["viewer_a", "analyst_a", "clerk_a"] {
        let mut u = api(&srv, user).await;
        for (method, path, body) in &writes {
            assert_error(&send(&mut u, method, path, body).await, 403, "casework");
        }
        let p = u.get(&format!("/api/v1/persons/{}", srv.person_ref(&fx.a_person).await)).await.json();
        if user == "clerk_a" {
            assert_eq!(p["etag"], json!(ptag), "a clerk sees the person in clear");
        } else {
            let id = p["person_id"].as_str().unwrap();
            assert!(id.contains('*'), "{user}: {id}");
            assert_eq!(p["etag"], Value::Null, "{user}: no tag of what the role sees masked");
        }
        assert_eq!(u.get("/api/v1/households/HA1").await.json()["etag"], json!(htag));
    }
    let log = srv.state.app.audit_log(1000).await.unwrap();
    assert!(
        !log.iter().any(|e| e.action.ends_with("_change") && e.username != "officer_a"),
        "no refused change audited"
    );
}

async fn catalogues_and_deadlines_are_kept_per_region(kind: Kind) {
    let (srv, _fx) = setup(kind).await;
    let mut a = api(&srv, "officer_a").await;
    let gout = json!({ "region": "341122", "name_zh": "痛风", "name_en": "gout", "icd10_prefixes": ["m10", "M10.0"], "since": 2024 });
    let r = send(&mut a, "POST", "/api/v1/catalogues/chronic", &gout).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["icd10_prefixes"], json!(["M10", "M10.0"]));
    assert_eq!((r.json()["kind"].clone(), r.json()["region"].clone()), (json!("chronic"), json!("341122")));
    let mut village = gout.clone();
    village["region"] = json!("341122100201");
    assert_eq!(send(&mut a, "POST", "/api/v1/catalogues/serious", &village).await.status, 201);
    let mut other = gout.clone();
    other["region"] = json!("341123");
    assert_error(&send(&mut a, "POST", "/api/v1/catalogues/chronic", &other).await, 404, "region:");
    other["region"] = json!("34");
    assert_error(&send(&mut a, "POST", "/api/v1/catalogues/chronic", &other).await, 404, "region:");
    assert_error(&send(&mut a, "POST", "/api/v1/catalogues/rare", &gout).await, 400, "kind:");
    for (k, v, needle) in [
        ("region", json!("3411"), "region"),
        ("region", json!("12345"), "region:"),
        ("icd10_prefixes", json!([]), "icd10_prefixes:"),
        ("icd10_prefixes", json!(["gout"]), "icd10_prefixes:"),
        ("name_zh", json!(" "), "name_zh:"),
        ("since", json!(1800), "since:"),
    ] {
        let mut b = gout.clone();
        b[k] = v;
        let r = send(&mut a, "POST", "/api/v1/catalogues/chronic", &b).await;
        // a city is outside a county officer's scope; the rest is bad input
        let status = if k == "region" && needle == "region" { 404 } else { 400 };
        assert_error(&r, status, needle);
    }
    let mut extra = gout.clone();
    extra["colour"] = json!("red");
    assert_error(&send(&mut a, "POST", "/api/v1/catalogues/chronic", &extra).await, 422, "unknown field");
    assert_eq!(audit_rows(&srv, "officer_a", "catalogue_add").await.len(), 2);

    // a county's own deadline: cases opened there are due within it
    let r = send(&mut a, "PUT", "/api/v1/case-deadlines/341122", &json!({ "verify_days": 30, "close_days": 90 })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json(), json!({ "region": "341122", "verify_days": 30, "close_days": 90 }));
    let case = send(&mut a, "POST", "/api/v1/cases", &json!({ "household_id": "HA1" })).await;
    assert_eq!(case.status, 201, "{}", case.body);
    assert_eq!(case.json()["due"], (today() + Duration::days(30)).to_string());
    assert_eq!(case.json()["close_due"], (today() + Duration::days(90)).to_string());
    assert_eq!(case.json()["late_to_close"], json!(false));
    assert_error(
        &send(&mut a, "PUT", "/api/v1/case-deadlines/341122", &json!({ "verify_days": 30, "close_days": 20 })).await,
        400,
        "close_days:",
    );
    assert_error(
        &send(&mut a, "PUT", "/api/v1/case-deadlines/341123", &json!({ "verify_days": 5 })).await,
        404,
        "region:",
    );
    assert_error(
        &send(&mut a, "PUT", "/api/v1/case-deadlines/341122", &json!({ "verify_days": 0 })).await,
        400,
        "verify_days:",
    );
    assert_error(
        &send(&mut a, "PUT", "/api/v1/case-deadlines/341122", &json!({ "verify_days": 366 })).await,
        400,
        "verify_days:",
    );
    assert_error(
        &send(&mut a, "PUT", "/api/v1/case-deadlines/3411x", &json!({ "verify_days": 5 })).await,
        400,
        "region:",
    );
    assert_error(
        &send(&mut a, "PUT", "/api/v1/case-deadlines/341122", &json!({ "days": 5 })).await,
        422,
        "unknown field",
    );
    assert_eq!(audit_rows(&srv, "officer_a", "case_deadline").await.len(), 1);
    // B's county keeps the default
    let mut b = api(&srv, "officer_b").await;
    let case = send(&mut b, "POST", "/api/v1/cases", &json!({ "household_id": "HB1" })).await;
    assert_eq!(case.json()["due"], (today() + Duration::days(15)).to_string());
    // an administrator sets a province's
    let mut adm = api(&srv, "admin").await;
    assert_eq!(send(&mut adm, "PUT", "/api/v1/case-deadlines/34", &json!({ "verify_days": 10 })).await.status, 200);

    for user in ["viewer_a", "analyst_a", "clerk_a"] {
        let mut u = api(&srv, user).await;
        assert_error(&send(&mut u, "POST", "/api/v1/catalogues/chronic", &gout).await, 403, "casework");
        assert_error(
            &send(&mut u, "PUT", "/api/v1/case-deadlines/341122", &json!({ "verify_days": 3 })).await,
            403,
            "casework",
        );
    }
}

async fn the_ledger_is_scoped_masked_and_audited(kind: Kind) {
    let (srv, fx) = setup(kind).await;
    let day = today().to_string();
    // a case and a follow-up in each county
    let mut adm = api(&srv, "admin").await;
    for (hh, person) in [("HA1", &fx.a_person), ("HB1", &fx.b_person)] {
        assert_eq!(send(&mut adm, "POST", "/api/v1/cases", &json!({ "household_id": hh })).await.status, 201);
        let v =
            json!({ "household_id": hh, "person_id": person, "kind": "follow_up", "date": day, "visitors": "王医生" });
        let r = send(&mut adm, "POST", "/api/v1/visits", &v).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }

    let mut a = api(&srv, "officer_a").await;
    let r = a.get("/api/v1/ledger?level=county").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.header("content-type").unwrap().starts_with("application/json"));
    let l = r.json();
    assert_eq!(
        (l["scope"].clone(), l["level"].clone(), l["as_of"].clone()),
        (json!("341122"), json!("county"), json!(day))
    );
    let keys: Vec<&str> = l["tables"].as_array().unwrap().iter().map(|t| t["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["summary", "serious", "chronic", "severe", "cases", "visits", "network_cases"]);
    let summary = &l["tables"][0];
    assert_eq!(summary["name"], "汇总");
    assert_eq!(summary["rows"].as_array().unwrap().len(), 1, "{summary}");
    assert_eq!(summary["rows"][0][0], "341122");
    assert_eq!(summary["rows"][0][8], 1, "one open case: {summary}");
    assert_eq!(summary["rows"][0][11], "0.00", "money in yuan");
    let text = l.to_string();
    assert!(text.contains("HA1") && text.contains(&fx.a_person), "officer A sees its county in clear");
    assert!(!text.contains("HB1") && !text.contains(&fx.b_person[..14]) && !text.contains("341123"), "{text}");
    let one = a.get("/api/v1/ledger?table=visits").await.json();
    assert_eq!(one["tables"].as_array().unwrap().len(), 1);
    assert_eq!(one["tables"][0]["rows"].as_array().unwrap().len(), 1);

    let r = a.get("/api/v1/ledger?format=csv&level=township").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(r.header("content-disposition").unwrap().starts_with("attachment"), "{:?}", r.headers);
    assert!(
        r.body.starts_with('\u{feff}') && r.body.contains("乡镇代码") && r.body.contains("341122100"),
        "{}",
        r.body
    );
    assert!(!r.body.contains("341123"), "{}", r.body);
    let r = a.get("/api/v1/ledger?format=csv&table=%E4%B8%AA%E6%A1%88%E4%B8%8E%E5%B8%AE%E6%89%B6").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("HA1") && !r.body.contains("HB1"), "{}", r.body);
    let r = a.get("/api/v1/ledger?format=xlsx&year=2024").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"));
    assert!(r.header("content-disposition").unwrap().starts_with("attachment; filename=\"ledger_2024"));
    assert!(r.body.starts_with("PK"), "a zip container");
    let exports = audit_rows(&srv, "officer_a", "export").await;
    assert_eq!(exports.iter().filter(|(t, _)| t == "ledger").count(), 3, "{exports:?}");
    assert!(exports.iter().any(|(_, d)| d.starts_with("xlsx") && d.contains("scope 341122")), "{exports:?}");
    assert_eq!(audit_rows(&srv, "officer_a", "view_ledger").await.len(), 2);

    // a role that masks: IDs masked in JSON and CSV
    let mut an = api(&srv, "analyst_a").await;
    let visits = an.get("/api/v1/ledger?table=visits").await.json();
    let pid = visits["tables"][0]["rows"][0][6].as_str().unwrap().to_string();
    assert!(pid.contains('*') && !pid.contains(&fx.a_person[6..14]), "masked: {pid}");
    let csv = an.get("/api/v1/ledger?format=csv&table=visits").await;
    assert_eq!(csv.status, 200);
    assert!(csv.body.contains(&pid) && !csv.body.contains(&fx.a_person), "{}", csv.body);
    assert!(!audit_rows(&srv, "analyst_a", "export").await.is_empty());
    // a viewer reads, masked, and may not download
    let mut v = api(&srv, "viewer_a").await;
    assert_eq!(v.get("/api/v1/ledger").await.status, 200);
    assert_error(&v.get("/api/v1/ledger?format=csv").await, 403, "export");
    assert_error(&v.get("/api/v1/ledger?format=xlsx").await, 403, "export");

    // bad parameters name themselves
    assert_error(&a.get("/api/v1/ledger?level=province").await, 400, "level:");
    assert_error(&a.get("/api/v1/ledger?format=pdf").await, 400, "format:");
    assert_error(&a.get("/api/v1/ledger?table=gone").await, 400, "table:");
    assert_error(&a.get("/api/v1/ledger?format=xlsx&table=cases").await, 400, "table:");
    assert_error(&a.get("/api/v1/ledger?year=1900").await, 400, "year:");
    assert_error(&a.get("/api/v1/ledger?colour=red").await, 400, "unknown field");

    // the page
    let mut o = srv.login("officer_a").await;
    let p = o.get("/ledger?level=village").await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("href=\"/ledger\"") && p.body.contains("台账"), "the navigation links the ledger");
    assert!(p.body.contains("id=\"ledger-summary\"") && p.body.contains("341122100201"), "{}", p.body);
    assert!(!p.body.contains("341123"), "{}", p.body);
    assert!(p.body.contains("id=\"ledger-xlsx\"") && p.body.contains("format=xlsx") && p.body.contains("format=csv"));
    o.get("/lang/en").await;
    let en = o.get("/ledger").await.body;
    assert!(en.contains(">Ledger<") && en.contains("Open cases"), "{en}");
    assert_eq!(o.get("/ledger?level=nation").await.status, 400);
    let mut vp = srv.login("viewer_a").await;
    let page = vp.get("/ledger").await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("ledger-xlsx"), "no download for a role that may not export");
}

async fn the_pages_create_and_change_the_registry(kind: Kind) {
    let (srv, fx) = setup(kind).await;
    let mut o = srv.login("officer_a").await;
    let page = o.get("/households/HA1").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"household-form\"") && page.body.contains("id=\"new-person-form\""));
    let csrf = page.csrf();
    let tag = form_tag(&page.body, "household-form");
    let api_tag = o.get("/api/v1/households/HA1").await.json()["etag"].as_str().unwrap().to_string();
    assert_eq!(tag, api_tag, "the form carries the tag of the record as drawn");
    assert!(page.body.contains("name=\"income\" inputmode=\"decimal\" value=\"24000.00\""), "prefilled");

    let edit = |etag: &str, size: &str, village: &str| {
        vec![
            ("csrf".to_string(), csrf.clone()),
            ("etag".to_string(), etag.to_string()),
            ("reason".to_string(), "a new member".to_string()),
            ("village_code".to_string(), village.to_string()),
            ("size".to_string(), size.to_string()),
            ("income".to_string(), "24000.00".to_string()),
            ("consumption".to_string(), String::new()),
            ("food".to_string(), String::new()),
        ]
    };
    let r = o.post_form("/households/HA1/edit", &pairs(&edit(&tag, "3", "341122100201"))).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some("/households/HA1"));
    assert_eq!(o.get("/api/v1/households/HA1").await.json()["size"], 3);
    // the same form again, on the tag it was drawn with: a conflict shown on the page
    let r = o.post_form("/households/HA1/edit", &pairs(&edit(&tag, "5", "341122100201"))).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("id=\"form-error\"") && r.body.contains("changed since you read it"), "{}", r.body);
    let fresh = form_tag(&r.body, "household-form");
    assert_ne!(fresh, tag, "the page is drawn again with the record as it is now");
    assert!(r.body.contains("name=\"size\" type=\"number\" min=\"1\" max=\"99\" value=\"3\""), "the current size");
    assert_eq!(o.get("/api/v1/households/HA1").await.json()["size"], 3, "the first change stands");
    // a bad field: the form comes back as sent, with the message
    let r = o.post_form("/households/HA1/edit", &pairs(&edit(&fresh, "many", "341122100201"))).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body.contains("size:") && r.body.contains("value=\"many\"") && r.body.contains("a new member"),
        "{}",
        r.body
    );
    assert_eq!(form_tag(&r.body, "household-form"), fresh);
    // a village outside the scope: not found, on the page
    let r = o.post_form("/households/HA1/edit", &pairs(&edit(&fresh, "3", "341123100201"))).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(r.body.contains("form-error") && r.body.contains("village_code:"), "{}", r.body);
    let mut no_reason = edit(&fresh, "4", "341122100201");
    no_reason[2].1 = String::new();
    let r = o.post_form("/households/HA1/edit", &pairs(&no_reason)).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("reason:"), "{}", r.body);

    // a new household from the households page
    let list = o.get("/households").await.body;
    assert!(list.contains("id=\"new-household-form\""), "{list}");
    let new_hh = |id: &str, village: &str| {
        vec![
            ("csrf".to_string(), csrf.clone()),
            ("household_id".to_string(), id.to_string()),
            ("village_code".to_string(), village.to_string()),
            ("size".to_string(), "2".to_string()),
            ("income".to_string(), "9000".to_string()),
            ("consumption".to_string(), String::new()),
            ("food".to_string(), String::new()),
        ]
    };
    let r = o.post_form("/households", &pairs(&new_hh("HA3", "341122100201"))).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some("/households/HA3"));
    let r = o.post_form("/households", &pairs(&new_hh("HA3", "341122100201"))).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(
        r.body.contains("form-error") && r.body.contains("taken") && r.body.contains("value=\"HA3\""),
        "{}",
        r.body
    );
    let r = o.post_form("/households", &pairs(&new_hh("HA4", "341123100201"))).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(r.body.contains("new-household-form"), "{}", r.body);
    let r = o.post_form("/households", &pairs(&new_hh("HA4", "34112210020"))).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("village_code:"), "{}", r.body);

    // a new member from the household page, then changed on the person page
    let pid = resident(341122, 88);
    let new_p = |id: &str| {
        vec![
            ("csrf".to_string(), csrf.clone()),
            ("household_id".to_string(), "HA3".to_string()),
            ("person_id".to_string(), id.to_string()),
            ("name".to_string(), "赵六".to_string()),
            ("status".to_string(), "low_income".to_string()),
            ("status_since".to_string(), "2023-03-01".to_string()),
            ("diagnoses".to_string(), "I10".to_string()),
        ]
    };
    let r = o.post_form("/persons", &pairs(&new_p(&pid))).await;
    assert_eq!(r.status, 303, "{}", r.body);
    // The new person's page, under their reference (no resident ID in a URL).
    assert_eq!(r.header("location"), Some(format!("/persons/{}", srv.person_ref(&pid).await).as_str()));
    let r = o.post_form("/persons", &pairs(&new_p("123"))).await;
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("person_id:") && r.body.contains("new-person-form") && r.body.contains("赵六"),
        "{}",
        r.body
    );
    let p = o.get(&format!("/persons/{pid}")).await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("id=\"person-form\"") && p.body.contains("value=\"赵六\""), "{}", p.body);
    let ptag = form_tag(&p.body, "person-form");
    let change = |etag: &str, status: &str| {
        vec![
            ("csrf".to_string(), csrf.clone()),
            ("etag".to_string(), etag.to_string()),
            ("reason".to_string(), "verified".to_string()),
            ("name".to_string(), "赵六".to_string()),
            ("household_id".to_string(), "HA3".to_string()),
            ("status".to_string(), status.to_string()),
            ("status_since".to_string(), "2024-05-01".to_string()),
            ("diagnoses".to_string(), "I10;E11".to_string()),
        ]
    };
    let r = o.post_form(&format!("/persons/{pid}/edit"), &pairs(&change(&ptag, "monitored"))).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let p = o.get(&format!("/api/v1/persons/{pid}")).await.json();
    assert_eq!((p["status"].clone(), p["diagnoses"].clone()), (json!("monitored"), json!(["I10", "E11"])));
    let r = o.post_form(&format!("/persons/{pid}/edit"), &pairs(&change(&ptag, "general"))).await;
    assert_eq!(r.status, 409, "a stale tag on the person page: {}", r.body);
    assert!(r.body.contains("form-error") && r.body.contains("person-form"), "{}", r.body);
    let r = o.post_form(&format!("/persons/{pid}/edit"), &pairs(&change(p["etag"].as_str().unwrap(), "poor"))).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("status:"), "{}", r.body);

    // English pages
    o.get("/lang/en").await;
    let en = o.get("/households/HA1").await.body;
    assert!(en.contains("Change the household") && en.contains("New member"), "{en}");
    o.get("/lang/zh").await;

    // another county's officer and the roles without the casework
    let mut b = srv.login("officer_b").await;
    let bcsrf = b.csrf().await;
    let mut f = edit(&fresh, "3", "341122100201");
    f[0].1 = bcsrf.clone();
    assert_eq!(b.post_form("/households/HA1/edit", &pairs(&f)).await.status, 404);
    let mut f = change(&ptag, "general");
    f[0].1 = bcsrf;
    assert_eq!(b.post_form(&format!("/persons/{}/edit", fx.a_person), &pairs(&f)).await.status, 404);
    for user in ["viewer_a", "analyst_a", "clerk_a"] {
        let mut u = srv.login(user).await;
        let hh = u.get("/households/HA1").await.body;
        assert!(!hh.contains("household-form") && !hh.contains("new-person-form"), "{user}");
        assert!(!u.get("/households").await.body.contains("new-household-form"), "{user}");
        assert!(!u.get(&format!("/persons/{}", fx.a_person)).await.body.contains("person-form"), "{user}");
        let ucsrf = u.csrf().await;
        let mut f = edit(&fresh, "3", "341122100201");
        f[0].1 = ucsrf;
        assert_eq!(u.post_form("/households/HA1/edit", &pairs(&f)).await.status, 403, "{user}");
    }
}
