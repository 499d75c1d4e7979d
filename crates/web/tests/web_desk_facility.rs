//! The desk's rules of issue 16 over HTTP: an administrator binds a clerk to a
//! facility (users page and API); the clerk, by token and by page, is refused
//! another facility's claims and admissions with 403, audited, nothing
//! stored; and a claim's referral, sent by the API or ticked on the desk's
//! settle form, chooses the policy's rates above the county, to the fen, and
//! is shown on the slip.

mod common;

use chrono::{Datelike, Duration, NaiveDate};
use common::*;
use serde_json::{json, Value};
use web::access::{Role, Scope};

on_each_repo!(
    a_clerk_bound_to_a_facility_is_refused_another_by_token_and_by_page,
    a_referral_chooses_the_rates_to_the_fen,
    a_facility_with_more_than_a_page_links_the_next_without_duplicates,
);

fn today() -> NaiveDate {
    domain::time::china_today()
}

fn hospital(id: &str, village: &str, kind: domain::FacilityKind) -> domain::Facility {
    domain::Facility {
        opened: None,
        closed: None,
        facility_id: id.into(),
        name: format!("医院{id}"),
        kind,
        grade: None,
        region_code: domain::RegionCode::parse(village).unwrap(),
        lon: None,
        lat: None,
    }
}

/// Two county hospitals (HA, HC) and a municipal one (HM) in county A, one
/// (HB) in county B; this year's policy; an administrator and clerk_a.
async fn setup(kind: Kind, policy: &str) -> (Server, Fixture) {
    let (srv, fx) = start_filled(kind).await;
    let store = srv.state.app.store();
    let county = domain::FacilityKind::CountyHospital;
    store
        .import_facilities(&[
            hospital("HA", "341122100201", county),
            hospital("HC", "341122100201", county),
            hospital("HM", "341122100201", domain::FacilityKind::MunicipalHospital),
            hospital("HB", "341123100201", county),
        ])
        .await
        .unwrap();
    let policy = policy.replace("year = 2024", &format!("year = {}", today().year()));
    app::settlement::put_policy(store, "34", today().year(), &policy, "test").await.unwrap();
    srv.user("admin", Role::Administrator, "").await;
    srv.user("clerk_a", Role::Clerk, "341122").await;
    srv.user("officer_a", Role::Officer, "341122").await;
    (srv, fx)
}

async fn user_id(srv: &Server, name: &str) -> i64 {
    srv.state.app.user_by_name(name).await.unwrap().unwrap().id
}

fn claim(fx: &Fixture, id: &str, facility: &str, level: &str) -> Value {
    json!({
        "claim_id": id, "person_id": fx.a_person, "facility_level": level, "kind": "inpatient",
        "admitted": (today() - Duration::days(3)).to_string(), "discharged": (today() - Duration::days(1)).to_string(),
        "total_cost": "4000.00", "eligible_cost": "3333.33", "facility_id": facility,
    })
}

async fn refusals(srv: &Server) -> usize {
    let log = srv.state.app.audit_log(1000).await.unwrap();
    log.iter().filter(|e| e.action == "facility_refused" && e.username == "clerk_a").count()
}

async fn a_clerk_bound_to_a_facility_is_refused_another_by_token_and_by_page(kind: Kind) {
    let (srv, fx) = setup(kind, include_str!("data/policy.toml")).await;
    let clerk = user_id(&srv, "clerk_a").await;

    // The administrator binds the clerk on the users page, then moves them by the API.
    let mut admin = srv.login("admin").await;
    let csrf = admin.csrf().await;
    let r = admin.post_form(&format!("/users/{clerk}/facility"), &[("csrf", &csrf), ("facility_id", "HC")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("clerk_a 已绑定机构 HC"), "{}", r.body);
    assert!(r.body.contains(&format!("action=\"/users/{clerk}/facility\"")) && r.body.contains("value=\"HC\""));
    admin.csrf_header = Some(csrf.clone());
    let r = admin.post_json(&format!("/api/v1/users/{clerk}/facility"), r#"{"facility_id":"HA"}"#).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["facility_id"], "HA");
    // Only a clerk, only a facility of their region.
    let officer = user_id(&srv, "officer_a").await;
    let r = admin.post_json(&format!("/api/v1/users/{officer}/facility"), r#"{"facility_id":"HA"}"#).await;
    assert_eq!(r.status, 422, "{}", r.body);
    let r = admin.post_json(&format!("/api/v1/users/{clerk}/facility"), r#"{"facility_id":"HB"}"#).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.json()["message"].as_str().unwrap().contains("outside"), "{}", r.body);
    admin.csrf_header = None;
    // The county's office (admin) settles at HC and admits there.
    admin.csrf_header = Some(admin.csrf().await);
    let r = admin.post_json("/api/v1/settlements", &claim(&fx, "C-1", "HC", "county").to_string()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    admin.csrf_header = None;
    let at_hc = srv
        .state
        .app
        .admit(&Scope::all(), domain::ResidentId::parse(&fx.a_person).unwrap(), "HC", today(), "admin")
        .await
        .unwrap();

    // The clerk's token, made on their account page.
    let mut page = srv.login("clerk_a").await;
    let csrf = page.csrf().await;
    let r = page.post_form("/account/tokens", &[("csrf", &csrf), ("name", "his-ha")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let i = r.body.find("id=\"new-token\">").unwrap() + 15;
    let mut token = srv.client();
    token.bearer = Some(r.body[i..i + 64].to_string());

    // By token: another facility's claim is refused, 403, and not stored.
    let r = token.post_json("/api/v1/settlements", &claim(&fx, "C-2", "HC", "county").to_string()).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let m = r.json()["message"].as_str().unwrap().to_string();
    assert!(m.contains("bound to facility HA") && m.contains("facility HC"), "{m}");
    let store = srv.state.app.store();
    assert!(store.settlement(&store::Scope::all(), &domain::ClaimKey::new("HC", "C-2")).await.unwrap().is_none());
    let r = token.post_json("/api/v1/claims/C-1/void?facility=HC", "").await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = token.get("/api/v1/claims/C-1/slip?facility=HC").await;
    assert_eq!(r.status, 403, "{}", r.body);
    // Its own facility's claim goes through.
    let r = token.post_json("/api/v1/settlements", &claim(&fx, "A-1", "HA", "county").to_string()).await;
    assert_eq!(r.status, 201, "{}", r.body);

    // By page: another facility's desk, admission, slip and settle form.
    let r = page.get("/desk?facility=HC").await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("bound to facility HA"), "{}", r.body);
    let r = page.get("/desk").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("id=\"admit-form\"") || r.body.contains("HA"), "the clerk's own desk: {}", r.body);
    let r = page.get("/claims/C-1/slip?facility=HC").await;
    assert_eq!(r.status, 403, "{}", r.body);
    let csrf = page.csrf().await;
    let form = [
        ("csrf", csrf.as_str()),
        ("claim_id", "C-3"),
        ("kind", "inpatient"),
        ("admitted", &today().to_string()),
        ("discharged", &today().to_string()),
        ("total_cost", "100.00"),
        ("eligible_cost", "90.00"),
    ];
    let r = page.post_form(&format!("/desk/admissions/{}/settle", at_hc.id), &form).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = page
        .post_form(
            &format!("/desk/admissions/{}/payments", at_hc.id),
            &[("csrf", &csrf), ("amount", "1.00"), ("paid_on", &today().to_string()), ("method", "cash")],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let a = srv.state.app.admission(&Scope::all(), at_hc.id).await.unwrap().unwrap();
    assert!(a.claim_id.is_none() && a.paid == domain::Fen::ZERO, "nothing stored");
    assert!(store.settlement(&store::Scope::all(), &domain::ClaimKey::new("HC", "C-3")).await.unwrap().is_none());

    // Every refusal audited: settle, void and slip by token; desk, slip,
    // settle form and payment by page.
    assert_eq!(refusals(&srv).await, 7);
}

async fn a_referral_chooses_the_rates_to_the_fen(kind: Kind) {
    let (srv, fx) = setup(kind, include_str!("../../settle/tests/cases/15_referral/policy.toml")).await;
    let mut c = srv.login("clerk_a").await;
    c.csrf_header = Some(c.csrf().await);
    // The same bill at the municipal hospital, with and without a referral.
    let mut with = claim(&fx, "M-1", "HM", "municipal");
    with["referred"] = json!(true);
    let r = c.post_json("/api/v1/settlements", &with.to_string()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let s = r.json();
    // 0.8 × 3333.33 = 2666.664 -> 2666.66
    assert_eq!((s["referred"].clone(), s["payments"][0]["amount"].clone()), (json!(true), json!("2666.66")));
    assert_eq!(s["out_of_pocket"], "1333.34");
    let r = c.post_json("/api/v1/settlements", &claim(&fx, "M-2", "HM", "municipal").to_string()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let s = r.json();
    // 0.5 × 3333.33 = 1666.665 -> 1666.67 (half a fen up)
    assert_eq!((s["referred"].clone(), s["payments"][0]["amount"].clone()), (json!(false), json!("1666.67")));
    assert_eq!(s["out_of_pocket"], "2333.33");
    // A wrong type is refused.
    let mut bad = claim(&fx, "M-9", "HM", "municipal");
    bad["referred"] = json!("maybe");
    let r = c.post_json("/api/v1/settlements", &bad.to_string()).await;
    assert_eq!(r.status, 422, "{}", r.body);
    c.csrf_header = None;

    // The slip says whether referred, and which rule applied.
    let r = c.get("/api/v1/claims/M-2/slip?facility=HM").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let slip = r.json();
    assert_eq!(slip["referred"], false);
    let explanation = slip["explanation"].as_str().unwrap();
    assert!(explanation.contains("Without referral") && explanation.contains("referred = false"), "{explanation}");
    let r = c.get("/claims/M-1/slip?facility=HM").await;
    assert!(
        r.body.contains("id=\"slip-referred\">已转诊") || r.body.contains("id=\"slip-referred\">referred"),
        "{}",
        r.body
    );

    // The desk's settle form: the checkbox ticked.
    let a = srv
        .state
        .app
        .admit(&Scope::all(), domain::ResidentId::parse(&fx.a_person).unwrap(), "HM", today(), "clerk_a")
        .await
        .unwrap();
    let r = c.get("/desk?facility=HM").await;
    assert!(r.body.contains("name=\"referred\""), "{}", r.body);
    let csrf = c.csrf().await;
    let day = today().to_string();
    let form = [
        ("csrf", csrf.as_str()),
        ("claim_id", "M-3"),
        ("kind", "inpatient"),
        ("admitted", day.as_str()),
        ("discharged", day.as_str()),
        ("total_cost", "4000.00"),
        ("eligible_cost", "3333.33"),
        ("referred", "true"),
    ];
    let r = c.post_form(&format!("/desk/admissions/{}/settle", a.id), &form).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let slip = srv.state.app.slip(&Scope::all(), &domain::ClaimKey::new("HM", "M-3")).await.unwrap().unwrap();
    assert!(slip.claim.referred);
    assert_eq!(slip.payments[0].1, domain::Fen(266_666));
}

/// The admission IDs of the cards on a desk page, in order.
fn cards(body: &str) -> Vec<i64> {
    body.match_indices("<article class=\"admission\" id=\"admission-")
        .map(|(i, m)| {
            let rest = &body[i + m.len()..];
            rest[..rest.find('"').unwrap()].parse().unwrap()
        })
        .collect()
}

async fn a_facility_with_more_than_a_page_links_the_next_without_duplicates(kind: Kind) {
    let (srv, fx) = setup(kind, include_str!("data/policy.toml")).await;
    let person = domain::ResidentId::parse(&fx.a_person).unwrap();
    let mut made = Vec::new();
    for k in 0..53 {
        let day = today() - Duration::days(k % 7);
        made.push(srv.state.app.admit(&Scope::all(), person, "HA", day, "clerk_a").await.unwrap().id);
    }
    let mut c = srv.login("clerk_a").await;
    let r = c.get("/desk?facility=HA").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let first = cards(&r.body);
    assert_eq!(first.len(), 50, "a page of 50");
    let i = r.body.find("id=\"next-page\"").unwrap_or_else(|| panic!("no next-page link: {}", r.body));
    let href_at = r.body[..i].rfind("href=\"").unwrap() + 6;
    let href = r.body[href_at..href_at + r.body[href_at..].find('"').unwrap()].replace("&amp;", "&");
    assert!(href.starts_with("/desk?facility=HA&after="), "{href}");
    let r = c.get(&href).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let second = cards(&r.body);
    assert_eq!(second.len(), 3);
    assert!(!r.body.contains("id=\"next-page\""), "the last page links no further");
    assert!(r.body.contains("id=\"first-page\""));
    let mut all: Vec<i64> = first.iter().chain(&second).copied().collect();
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), n, "no admission on two pages");
    made.sort();
    assert_eq!(all, made, "every admission on one of the pages");
    // A key that is not one is refused.
    let r = c.get("/desk?facility=HA&after=yesterday").await;
    assert_eq!(r.status, 400, "{}", r.body);
}
