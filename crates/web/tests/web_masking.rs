//! A role that sees persons masked finds no resident ID in clear, and no name in
//! clear, anywhere the server answers it: pages, links, forms, JSON, exports,
//! redirects or error texts. Links name persons by an opaque reference; views are
//! still audited with the person in clear.

mod common;

use common::*;
use serde_json::json;
use std::collections::{BTreeSet, VecDeque};
use web::access::Role;

on_each_repo!(
    masked_roles_find_no_clear_id_anywhere,
    a_masked_role_names_persons_by_reference_only,
    every_role_links_persons_by_reference,
);

async fn setup(kind: Kind) -> (Server, Fixture) {
    let (srv, fx) = start_filled(kind).await;
    srv.user("admin", Role::Administrator, "").await;
    srv.user("officer_a", Role::Officer, "341122").await;
    srv.user("analyst_a", Role::Analyst, "341122").await;
    srv.user("viewer_a", Role::Viewer, "341122").await;
    srv.user("viewer_all", Role::Viewer, "").await;
    // A contract and a follow-up of person A, so that the lists of the work carry
    // the person too.
    let mut o = srv.login("officer_a").await;
    o.csrf_header = Some(o.csrf().await);
    let today = chrono::Local::now().date_naive();
    let contract = json!({ "person_id": fx.a_person, "practitioner_id": "PA1", "signed": today.to_string(),
        "ends": (today + chrono::Duration::days(365)).to_string() });
    let r = o.post_json("/api/v1/contracts", &contract.to_string()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let follow_up = json!({ "household_id": "HA1", "person_id": fx.a_person, "kind": "follow_up",
        "date": today.to_string(), "visitors": "王医生", "findings": "血压平稳" });
    let r = o.post_json("/api/v1/visits", &follow_up.to_string()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    (srv, fx)
}

/// What must not be found: each person's ID in clear (all 18 characters, and the
/// 17 digits before the check digit), and their names in clear.
fn secrets(fx: &Fixture) -> Vec<String> {
    let mut s = vec![];
    for id in [&fx.a_person, &fx.b_person] {
        s.push(id.clone());
        s.push(id[..17].to_string());
    }
    s.push(A_NAME.into());
    s.push(B_NAME.into());
    s
}

/// The same-origin links and GET form targets of a page.
fn links(body: &str) -> Vec<String> {
    let mut out = vec![];
    for attr in ["href=\"", "action=\""] {
        let mut rest = body;
        while let Some(i) = rest.find(attr) {
            rest = &rest[i + attr.len()..];
            let Some(end) = rest.find('"') else { break };
            let link = rest[..end].replace("&amp;", "&");
            rest = &rest[end..];
            if link.starts_with('/') && !link.starts_with("//") {
                out.push(link.split('#').next().unwrap().to_string());
            }
        }
    }
    out
}

/// Everything a user reaches by following links from `starts` (at most `limit`
/// answers), with every answer checked against `secrets`. Returns the paths seen.
async fn crawl(c: &mut Client, starts: &[String], secrets: &[String], limit: usize) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut queue: VecDeque<String> = starts.iter().cloned().collect();
    while let Some(path) = queue.pop_front() {
        if seen.len() >= limit {
            break;
        }
        // Leaving the session or changing the language is not reading.
        if path.starts_with("/logout") || path.starts_with("/lang/") || path.starts_with("/static/") {
            continue;
        }
        if !seen.insert(path.clone()) {
            continue;
        }
        let r = c.get(&path).await;
        assert!(r.status < 500, "{path}: {} {}", r.status, r.body);
        for s in secrets {
            assert!(!r.body.contains(s.as_str()), "{path} answers {s} in clear:\n{}", r.body);
            for (k, v) in &r.headers {
                assert!(!v.contains(s.as_str()), "{path}: header {k} carries {s}");
            }
        }
        if r.header("content-type").is_some_and(|t| t.starts_with("text/html")) {
            queue.extend(links(&r.body).into_iter().filter(|l| !seen.contains(l)));
        }
        if let Some(to) = r.header("location") {
            queue.push_back(to.to_string());
        }
    }
    seen
}

async fn masked_roles_find_no_clear_id_anywhere(kind: Kind) {
    let (srv, fx) = setup(kind).await;
    let secrets = secrets(&fx);
    let a_ref = srv.person_ref(&fx.a_person).await;
    let year = chrono::Local::now().date_naive().format("%Y").to_string();
    for user in ["viewer_a", "analyst_a", "viewer_all"] {
        let mut c = srv.login(user).await;
        let mut starts: Vec<String> = [
            "/",
            "/persons",
            "/households",
            "/households/HA1",
            "/alerts",
            "/cases",
            "/ledger",
            "/reports",
            "/export/persons.csv",
            "/api/v1/persons",
            "/api/v1/persons?q=HA1",
            "/api/v1/households/HA1",
            "/api/v1/alerts",
            "/api/v1/cases",
            "/api/v1/visits",
            "/api/v1/contracts",
            "/api/v1/households/HA1/visits",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        starts.push(format!("/persons/{a_ref}"));
        starts.push(format!("/api/v1/persons/{a_ref}"));
        starts.push(format!("/api/v1/visits?person={a_ref}"));
        starts.push(format!("/api/v1/contracts?person={a_ref}"));
        for level in ["household", "person"] {
            for format in ["json", "csv"] {
                starts.push(format!("/api/v1/ledger?year={year}&level={level}&format={format}"));
            }
        }
        // Asking by the clear ID, or searching by it or by name, finds nothing and
        // repeats nothing.
        for id in [&fx.a_person, &fx.b_person] {
            starts.push(format!("/persons/{id}"));
            starts.push(format!("/api/v1/persons/{id}"));
            starts.push(format!("/api/v1/visits?person={id}"));
            starts.push(format!("/persons?q={}", &id[..14]));
            starts.push(format!("/api/v1/persons?q={}", &id[..14]));
        }
        let seen = crawl(&mut c, &starts, &secrets, 400).await;
        assert!(seen.iter().any(|p| p.starts_with("/persons/")), "{user} reached a person page: {seen:?}");
        // The person list of a masked role does link to the person, by reference.
        let list = c.get("/persons").await.body;
        assert!(list.contains(&format!("/persons/{a_ref}")), "{user}: {list}");
        let api = c.get("/api/v1/persons").await.json();
        assert!(api["items"].as_array().unwrap().iter().any(|p| p["person_ref"] == json!(a_ref)), "{user}: {api}");
    }
}

async fn a_masked_role_names_persons_by_reference_only(kind: Kind) {
    let (srv, fx) = setup(kind).await;
    let a_ref = srv.person_ref(&fx.a_person).await;
    let b_ref = srv.person_ref(&fx.b_person).await;
    let mut v = srv.login("viewer_a").await;
    // By reference: the page and the record, masked.
    let page = v.get(&format!("/persons/{a_ref}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("张**"));
    let rec = v.get(&format!("/api/v1/persons/{a_ref}")).await;
    assert_eq!(rec.status, 200);
    assert_eq!(rec.json()["person_ref"], json!(a_ref));
    assert!(rec.json()["person_id"].as_str().unwrap().contains('*'));
    // By the clear ID: exactly as an unknown person, and as a person of another
    // county named by reference.
    let unknown = v.get("/api/v1/persons/110101199003070011").await;
    let by_id = v.get(&format!("/api/v1/persons/{}", fx.a_person)).await;
    let elsewhere = v.get(&format!("/api/v1/persons/{b_ref}")).await;
    let forged = v.get(&format!("/api/v1/persons/{}", "0".repeat(32))).await;
    for r in [&by_id, &elsewhere, &forged] {
        assert_eq!((r.status, &r.body), (unknown.status, &unknown.body));
    }
    assert_eq!(unknown.status, 404);
    assert_eq!(v.get(&format!("/persons/{}", fx.a_person)).await.status, 404);
    // Searching by name or by the digits of the ID finds nothing; by household, the
    // household's members.
    for q in [A_NAME.to_string(), "张".to_string(), fx.a_person[..10].to_string()] {
        let found = v.get(&format!("/api/v1/persons?q={}", urlenc(&q))).await.json();
        assert_eq!(found["items"], json!([]), "search {q}");
    }
    let found = v.get("/api/v1/persons?q=HA1").await.json();
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    // The views are audited with the person in clear.
    let log = srv.state.app.audit_log(1000).await.unwrap();
    let views: Vec<_> = log.iter().filter(|e| e.username == "viewer_a" && e.action == "view_person").collect();
    assert_eq!(views.len(), 2, "{views:?}");
    assert!(views.iter().all(|e| e.target == fx.a_person), "{views:?}");
    // A role that sees in clear may still name a person by ID.
    let mut o = srv.login("officer_a").await;
    assert_eq!(o.get(&format!("/api/v1/persons/{}", fx.a_person)).await.json()["person_ref"], json!(a_ref));
    assert!(o.get(&format!("/api/v1/persons?q={}", urlenc(A_NAME))).await.body.contains(&a_ref));
}

async fn every_role_links_persons_by_reference(kind: Kind) {
    let (srv, fx) = setup(kind).await;
    let a_ref = srv.person_ref(&fx.a_person).await;
    for user in ["admin", "officer_a"] {
        let mut c = srv.login(user).await;
        for page in ["/persons", "/households/HA1"] {
            let body = c.get(page).await.body;
            assert!(body.contains(&format!("href=\"/persons/{a_ref}\"")), "{user} {page}");
            assert!(!body.contains(&format!("/persons/{}", fx.a_person)), "{user} {page}");
        }
        // The person's own forms post to the reference.
        let body = c.get(&format!("/persons/{a_ref}")).await.body;
        assert!(!body.contains(&format!("/persons/{}", fx.a_person)), "{user}");
        assert!(body.contains(&format!("action=\"/persons/{a_ref}/")), "{user}");
    }
}

fn urlenc(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}
