//! The hospital desk's pages (issue 16): a clerk finds a poor patient, admits
//! them with the deposit waived, settles the bill in real time, names the claim,
//! takes the share in two instalments and sees the arrears empty; refusals drawn
//! on the page with the API's status and nothing stored; another county's clerk
//! answered not-found; a masked role shown no clear resident ID.

mod common;

use chrono::{Datelike, Duration, NaiveDate};
use common::*;
use serde_json::{json, Value};
use web::access::{Role, Scope};

on_each_repo!(
    a_clerk_admits_settles_and_collects_in_instalments,
    refusals_are_drawn_on_the_desk_and_nothing_is_stored,
    another_county_finds_neither_the_admission_nor_the_facility,
    a_masked_role_sees_no_clear_resident_id_on_the_desk,
);

fn today() -> NaiveDate {
    domain::time::china_today()
}

fn hospital(id: &str, village: &str) -> domain::Facility {
    domain::Facility {
        opened: None,
        closed: None,
        facility_id: id.into(),
        name: format!("县医院{id}"),
        kind: domain::FacilityKind::CountyHospital,
        grade: None,
        region_code: domain::RegionCode::parse(village).unwrap(),
        lon: None,
        lat: None,
    }
}

/// The fixture, a county hospital in each county, this year's policy, and the
/// desk's users.
async fn setup(kind: Kind) -> (Server, Fixture) {
    let (srv, fx) = start_filled(kind).await;
    let store = srv.state.app.store();
    store.import_facilities(&[hospital("HA", "341122100201"), hospital("HB", "341123100201")]).await.unwrap();
    let policy = include_str!("data/policy.toml").replace("year = 2024", &format!("year = {}", today().year()));
    app::settlement::put_policy(store, "34", today().year(), &policy, "test").await.unwrap();
    srv.user("clerk_a", Role::Clerk, "341122").await;
    srv.user("clerk_b", Role::Clerk, "341123").await;
    srv.user("viewer_a", Role::Viewer, "341122").await;
    srv.user("analyst_a", Role::Analyst, "341122").await;
    (srv, fx)
}

async fn admissions_at(srv: &Server, facility: &str) -> Vec<app::desk::Admission> {
    srv.state.app.facility_admissions(&Scope::all(), facility).await.unwrap()
}

/// Admits the fixture's person of county A at HA through the desk's form.
async fn admit(srv: &Server, c: &mut Client, fx: &Fixture, admitted: NaiveDate) -> app::desk::Admission {
    let reference = srv.person_ref(&fx.a_person).await;
    let csrf = c.csrf().await;
    let before = admissions_at(srv, "HA").await.len();
    let r = c
        .post_form(
            "/desk/admit",
            &[("csrf", &csrf), ("facility", "HA"), ("person", &reference), ("admitted", &admitted.to_string())],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some(format!("/desk?facility=HA&person={reference}").as_str()));
    let all = admissions_at(srv, "HA").await;
    assert_eq!(all.len(), before + 1);
    all.last().unwrap().clone()
}

/// Settles a bill of the person at HA through the real-time API.
async fn settle_api(c: &mut Client, fx: &Fixture, claim: &str, total: &str, eligible: &str) -> Value {
    c.csrf_header = Some(c.csrf().await);
    let body = json!({
        "claim_id": claim, "person_id": fx.a_person, "facility_level": "county", "kind": "inpatient",
        "admitted": (today() - Duration::days(2)).to_string(), "discharged": (today() - Duration::days(1)).to_string(),
        "total_cost": total, "eligible_cost": eligible, "diagnosis": "C16", "facility_id": "HA",
    });
    let r = c.post_json("/api/v1/settlements", &body.to_string()).await;
    c.csrf_header = None;
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()
}

async fn pay(c: &mut Client, id: i64, amount: &str, method: &str) -> Resp {
    let csrf = c.csrf().await;
    let path = format!("/desk/admissions/{id}/payments");
    c.post_form(&path, &[("csrf", &csrf), ("amount", amount), ("paid_on", &today().to_string()), ("method", method)])
        .await
}

fn yuan(s: &str) -> domain::Fen {
    domain::Fen::parse_yuan(s).unwrap()
}

async fn a_clerk_admits_settles_and_collects_in_instalments(kind: Kind) {
    let (srv, fx) = setup(kind).await;
    let mut c = srv.login("clerk_a").await;

    // The nav links the desk; the selector offers the county's facilities only.
    let r = c.get("/desk").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("href=\"/desk\""));
    assert!(r.body.contains("value=\"HA\"") && !r.body.contains("value=\"HB\""), "{}", r.body);

    // Found by resident ID: a lifted patient, the deposit would be waived; audited as a view.
    let r = c.get(&format!("/desk?facility=HA&person={}", fx.a_person)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("id=\"deposit-waived\">是"), "{}", r.body);
    assert!(r.body.contains("id=\"admit-form\""));
    let log = srv.state.app.audit_log(1000).await.unwrap();
    assert!(log.iter().any(|e| e.action == "view_person" && e.target == fx.a_person && e.detail == "desk"));

    let a = admit(&srv, &mut c, &fx, today() - Duration::days(2)).await;
    assert!(a.deposit_waived, "a poor patient is admitted without a deposit");
    assert_eq!(a.status, domain::PovertyStatus::Lifted);
    assert!(a.claim_id.is_none());
    let r = c.get("/desk?facility=HA").await;
    assert!(r.body.contains(&format!("id=\"settle-form-{}\"", a.id)), "{}", r.body);
    assert!(r.body.contains(&format!("id=\"link-form-{}\"", a.id)));

    // Settled in real time, then named on the admission from the desk.
    let s = settle_api(&mut c, &fx, "HA-B1", "20000.00", "18000.00").await;
    let owed = yuan(s["out_of_pocket"].as_str().unwrap());
    assert!(owed > domain::Fen::ZERO, "{s}");
    let csrf = c.csrf().await;
    let r = c.post_form(&format!("/desk/admissions/{}/claim", a.id), &[("csrf", &csrf), ("claim_id", "HA-B1")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = c.get("/desk?facility=HA").await;
    assert!(r.body.contains("href=\"/claims/HA-B1/slip?facility=HA\""), "the slip is linked: {}", r.body);
    assert!(r.body.contains(&format!("id=\"pay-form-{}\"", a.id)));
    let r = c.get("/claims/HA-B1/slip?facility=HA").await;
    assert_eq!(r.status, 200);

    // In the arrears until paid.
    let r = c.get("/desk/arrears?facility=HA").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains(&format!("#admission-{}", a.id)), "{}", r.body);
    assert!(r.body.contains(&format!("id=\"arrears-total\">{owed}<")), "{}", r.body);
    assert!(r.body.contains("id=\"paid-up-share\">0.0% (0/1)"), "{}", r.body);

    // Two instalments.
    let first = domain::Fen(owed.0 / 3);
    let rest = owed - first;
    assert_eq!(pay(&mut c, a.id, &first.to_string(), "cash").await.status, 303);
    let r = c.get("/desk/arrears?facility=HA").await;
    assert!(r.body.contains(&format!("id=\"arrears-total\">{rest}<")), "{}", r.body);
    assert_eq!(pay(&mut c, a.id, &rest.to_string(), "mobile").await.status, 303);

    let r = c.get("/desk/arrears?facility=HA").await;
    assert!(r.body.contains("id=\"no-arrears\""), "{}", r.body);
    assert!(r.body.contains("id=\"paid-up-share\">100.0% (1/1)"), "{}", r.body);
    let r = c.get(&format!("/api/v1/admissions/{}", a.id)).await;
    let j = r.json();
    assert_eq!((j["paid"].as_str(), j["balance"].as_str()), (Some(owed.to_string().as_str()), Some("0.00")));
    assert_eq!(j["payments"].as_array().unwrap().len(), 2);
    // Paid up: no longer among the open admissions.
    let r = c.get("/desk?facility=HA").await;
    assert!(!r.body.contains(&format!("id=\"admission-{}\"", a.id)), "{}", r.body);

    // The reconciliation shows the funds' shares and links the downloads.
    let (from, to) = (today() - Duration::days(1), today() + Duration::days(1));
    let r = c.get(&format!("/desk/reconciliation?facility=HA&from={from}&to={to}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    for p in s["payments"].as_array().unwrap() {
        let (tier, amount) = (p["tier"].as_str().unwrap(), p["amount"].as_str().unwrap());
        assert!(
            r.body.contains(&format!("<tr><td>{tier}</td><td class=\"num\">{amount}</td>")),
            "{tier} {amount}: {}",
            r.body
        );
        assert!(r.body.contains(&format!("format=csv&amp;fund={tier}\"")));
    }
    let api = format!("/api/v1/facilities/HA/reconciliation?from={from}&to={to}&format=xlsx");
    assert!(r.body.contains(&api.replace('&', "&amp;")));
    assert_eq!(c.get(&api).await.status, 200);
}

async fn refusals_are_drawn_on_the_desk_and_nothing_is_stored(kind: Kind) {
    let (srv, fx) = setup(kind).await;
    let mut c = srv.login("clerk_a").await;
    let a = admit(&srv, &mut c, &fx, today() - Duration::days(3)).await;

    // Nothing is owed before the bill: 409.
    let r = pay(&mut c, a.id, "10.00", "cash").await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("id=\"form-error\""));

    // A bill settled from the desk's own form, named at once.
    let csrf = c.csrf().await;
    let path = format!("/desk/admissions/{}/settle", a.id);
    let form = |total: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("claim_id", "HA-D1".to_string()),
            ("kind", "inpatient".to_string()),
            ("admitted", a.admitted.to_string()),
            ("discharged", today().to_string()),
            ("total_cost", total.to_string()),
            ("eligible_cost", "9000.00".to_string()),
            ("diagnosis", "C16".to_string()),
        ]
    };
    // eligible above total: the claim's own check, 422, nothing settled
    let bad = form("100.00");
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = c.post_form(&path, &bad).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("id=\"form-error\"") && r.body.contains("invalid claim"), "{}", r.body);
    assert!(admissions_at(&srv, "HA").await[0].claim_id.is_none());
    let good = form("10000.00");
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = c.post_form(&path, &good).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let a = admissions_at(&srv, "HA").await.remove(0);
    assert_eq!(a.claim_id.as_deref(), Some("HA-D1"));
    assert!(a.owed > domain::Fen::ZERO);

    // Above the balance: 409 on the page, nothing stored.
    let r = pay(&mut c, a.id, &(a.owed + domain::Fen(1)).to_string(), "cash").await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("id=\"form-error\""), "{}", r.body);
    assert!(r.body.contains(&format!("id=\"admission-{}\"", a.id)), "the desk is drawn again");
    // An unknown method: 422; a malformed amount: 400.
    assert_eq!(pay(&mut c, a.id, "1.00", "barter").await.status, 422);
    assert_eq!(pay(&mut c, a.id, "abc", "cash").await.status, 400);
    let after = admissions_at(&srv, "HA").await.remove(0);
    assert!(after.payments.is_empty());
    assert_eq!(after.paid, domain::Fen::ZERO);
    // A claim named twice: 409.
    let b = admit(&srv, &mut c, &fx, today()).await;
    let csrf = c.csrf().await;
    let r = c.post_form(&format!("/desk/admissions/{}/claim", b.id), &[("csrf", &csrf), ("claim_id", "HA-D1")]).await;
    assert_eq!(r.status, 409, "{}", r.body);
    // A form without the CSRF token is refused.
    let r =
        c.post_form(&format!("/desk/admissions/{}/payments", a.id), &[("amount", "1.00"), ("method", "cash")]).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(admissions_at(&srv, "HA").await[0].payments.is_empty());
}

async fn another_county_finds_neither_the_admission_nor_the_facility(kind: Kind) {
    let (srv, fx) = setup(kind).await;
    let mut a_clerk = srv.login("clerk_a").await;
    let a = admit(&srv, &mut a_clerk, &fx, today()).await;

    let mut c = srv.login("clerk_b").await;
    let r = c.get("/desk").await;
    assert!(r.body.contains("value=\"HB\"") && !r.body.contains("value=\"HA\""), "{}", r.body);
    for path in ["/desk?facility=HA", "/desk/arrears?facility=HA", "/desk/reconciliation?facility=HA"] {
        let r = c.get(path).await;
        assert_eq!(r.status, 404, "{path}: {}", r.body);
        // Answered as a facility that does not exist.
        let unknown = c.get(&path.replace("HA", "NOPE")).await;
        assert_eq!(unknown.status, 404);
    }
    assert_eq!(c.get(&format!("/api/v1/admissions/{}", a.id)).await.status, 404);
    let csrf = c.csrf().await;
    for (path, form) in [
        (format!("/desk/admissions/{}/payments", a.id), vec![("amount", "1.00"), ("method", "cash")]),
        (format!("/desk/admissions/{}/claim", a.id), vec![("claim_id", "X1")]),
        ("/desk/admissions/999999/payments".to_string(), vec![("amount", "1.00"), ("method", "cash")]),
    ] {
        let mut f = form.clone();
        f.push(("csrf", &csrf));
        let r = c.post_form(&path, &f).await;
        assert_eq!(r.status, 404, "{path}: {}", r.body);
    }
    let reference = srv.person_ref(&fx.a_person).await;
    let r = c.post_form("/desk/admit", &[("csrf", &csrf), ("facility", "HA"), ("person", &reference)]).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(admissions_at(&srv, "HA").await.len(), 1);
    assert!(admissions_at(&srv, "HA").await[0].payments.is_empty());
}

async fn a_masked_role_sees_no_clear_resident_id_on_the_desk(kind: Kind) {
    let (srv, fx) = setup(kind).await;
    let mut clerk = srv.login("clerk_a").await;
    let a = admit(&srv, &mut clerk, &fx, today() - Duration::days(2)).await;
    settle_api(&mut clerk, &fx, "HA-M1", "20000.00", "18000.00").await;
    let csrf = clerk.csrf().await;
    let r =
        clerk.post_form(&format!("/desk/admissions/{}/claim", a.id), &[("csrf", &csrf), ("claim_id", "HA-M1")]).await;
    assert_eq!(r.status, 303);
    // The clerk sees the ID in clear (the check below can fail).
    assert!(clerk.get("/desk/arrears?facility=HA").await.body.contains(&fx.a_person));

    let reference = srv.person_ref(&fx.a_person).await;
    let mut v = srv.login("viewer_a").await;
    let r = v.get("/").await;
    assert!(!r.body.contains("href=\"/desk\""), "no desk link for a role that may not settle");
    let mut pages = vec![];
    for path in [
        "/desk".to_string(),
        "/desk?facility=HA".to_string(),
        format!("/desk?facility=HA&person={reference}"),
        "/desk/arrears?facility=HA".to_string(),
    ] {
        let r = v.get(&path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        pages.push((path, r.body));
    }
    assert!(pages[2].1.contains("id=\"desk-patient\""), "found by reference");
    assert!(pages[3].1.contains(&format!("#admission-{}", a.id)), "the arrears are listed");
    assert!(!pages[2].1.contains("id=\"admit-form\"") && !pages[1].1.contains("pay-form"), "no forms");
    // By clear ID: answered as an unknown person is.
    let unknown = domain::ResidentId::from_parts(341122, NaiveDate::from_ymd_opt(1970, 1, 1).unwrap(), 77).unwrap();
    let by_id = v.get(&format!("/desk?facility=HA&person={}", fx.a_person)).await;
    let by_unknown = v.get(&format!("/desk?facility=HA&person={unknown}")).await;
    assert_eq!((by_id.status, by_unknown.status), (404, 404));
    let msg = |b: &str| b.split("id=\"form-error\">").nth(1).and_then(|s| s.split('<').next()).map(str::to_string);
    assert_eq!(msg(&by_id.body), msg(&by_unknown.body));
    assert!(msg(&by_id.body).is_some());
    pages.push(("by id".into(), by_id.body));
    // The reconciliation: refused to the viewer, masked for the analyst.
    let (from, to) = (today() - Duration::days(1), today() + Duration::days(1));
    let path = format!("/desk/reconciliation?facility=HA&from={from}&to={to}");
    assert_eq!(v.get(&path).await.status, 403);
    let mut an = srv.login("analyst_a").await;
    let r = an.get(&path).await;
    assert_eq!(r.status, 200, "{}", r.body);
    pages.push((path, r.body));
    let r = an.get("/desk/arrears?facility=HA").await;
    pages.push(("analyst arrears".into(), r.body));
    for (path, body) in &pages {
        assert!(!body.contains(&fx.a_person), "{path} shows the clear ID");
    }
}
