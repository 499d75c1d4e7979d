//! Itemised bills over HTTP (issue 16, docs/catalogue.md), on both engines: the
//! real-time API settles a claim from its items (the eligible cost computed,
//! the answer and the slip listing the items with category and eligible part)
//! and refuses an unknown item, an amount that does not add up, a total that
//! is not the items' sum and an eligible cost given with items; the desk's form
//! settles an itemised bill and names it on the admission; the catalogue reads
//! by province, year and text; another county's clerk is answered not-found.

mod common;

use chrono::{Datelike, Duration, NaiveDate};
use common::*;
use serde_json::{json, Value};
use web::access::Role;

on_each_repo!(the_api_settles_a_claim_from_its_items, the_desk_settles_an_itemised_bill);

fn today() -> NaiveDate {
    domain::time::china_today()
}

fn hospital(id: &str, village: &str) -> domain::Facility {
    domain::Facility {
        facility_id: id.into(),
        name: format!("县医院{id}"),
        kind: domain::FacilityKind::CountyHospital,
        grade: None,
        region_code: domain::RegionCode::parse(village).unwrap(),
        lon: None,
        lat: None,
        opened: None,
        closed: None,
    }
}

/// This year's catalogue of Anhui: the shipped sample.
async fn setup(kind: Kind) -> (Server, Fixture) {
    let (srv, fx) = start_filled(kind).await;
    let store = srv.state.app.store();
    store.import_facilities(&[hospital("HA", "341122100201"), hospital("HB", "341123100201")]).await.unwrap();
    let policy = include_str!("data/policy.toml").replace("year = 2024", &format!("year = {}", today().year()));
    app::settlement::put_policy(store, "34", today().year(), &policy, "test").await.unwrap();
    let sample = include_str!("../../../examples/catalogue/anhui-2024-sample.csv");
    let mut rows = Vec::new();
    for (i, line) in sample.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let year = today().year().to_string();
        let mut f = f.clone();
        f[1] = &year;
        let item = <domain::CatalogueItem as domain::Record>::from_fields(&f).unwrap();
        rows.push((format!("sample:{}", i + 1), item));
    }
    srv.state.app.put_catalogue(&rows, "test").await.unwrap();
    srv.user("clerk_a", Role::Clerk, "341122").await;
    srv.user("clerk_b", Role::Clerk, "341123").await;
    (srv, fx)
}

fn claim(fx: &Fixture, id: &str, items: Value) -> Value {
    json!({
        "claim_id": id, "person_id": fx.a_person, "facility_level": "county", "kind": "inpatient",
        "admitted": (today() - Duration::days(5)).to_string(), "discharged": (today() - Duration::days(1)).to_string(),
        "diagnosis": "C16", "facility_id": "HA", "items": items,
    })
}

async fn post(c: &mut Client, body: &Value) -> Resp {
    c.csrf_header = Some(c.csrf().await);
    let r = c.post_json("/api/v1/settlements", &body.to_string()).await;
    c.csrf_header = None;
    r
}

fn bill() -> Value {
    json!([
        { "item_code": "XJ01CAA040", "quantity": 3, "unit_price": "12.50" },
        { "item_code": "XJ01MAA120", "quantity": "2", "unit_price": "45.30", "amount": "90.60" },
        { "item_code": "ZZ0001", "quantity": 1, "unit_price": 198 },
        { "item_code": "110900001a", "quantity": 4, "unit_price": "25.00" },
        { "item_code": "210400001", "quantity": "1", "unit_price": "555.55" },
    ])
}

async fn the_api_settles_a_claim_from_its_items(kind: Kind) {
    let (srv, fx) = setup(kind).await;
    let mut c = srv.login("clerk_a").await;

    // Refusals first: nothing is stored by any of them.
    let mut bad = bill();
    bad[1]["item_code"] = json!("NOT-IN-IT");
    let r = post(&mut c, &claim(&fx, "HA-I0", bad)).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("items[1]") && r.body.contains("NOT-IN-IT"), "{}", r.body);
    let mut bad = bill();
    bad[1]["amount"] = json!("90.61");
    let r = post(&mut c, &claim(&fx, "HA-I0", bad)).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("items[1].amount") && r.body.contains("90.60"), "{}", r.body);
    let mut bad = claim(&fx, "HA-I0", bill());
    bad["total_cost"] = json!("1000.00");
    let r = post(&mut c, &bad).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("total_cost") && r.body.contains("sum of its items"), "{}", r.body);
    let mut bad = claim(&fx, "HA-I0", bill());
    bad["eligible_cost"] = json!("100.00");
    let r = post(&mut c, &bad).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("eligible_cost"), "{}", r.body);
    let r = post(&mut c, &claim(&fx, "HA-I0", json!([]))).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(srv.state.app.store().claim_facilities(&store::Scope::all(), "HA-I0").await.unwrap().is_empty());

    // The bill: 37.50 (甲) + 90.60 (乙 10%: 9.06 first) + 198.00 (丙) + 100.00
    // (甲) + 555.55 (乙 20%: 111.11 first) = 981.65, eligible 37.50 + 81.54 +
    // 100.00 + 444.44 = 663.48.
    let mut body = claim(&fx, "HA-I1", bill());
    body["total_cost"] = json!("981.65");
    let r = post(&mut c, &body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let s = r.json();
    assert_eq!((s["total_cost"].as_str(), s["eligible_cost"].as_str()), (Some("981.65"), Some("663.48")), "{s}");
    let items = s["items"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    assert_eq!(items[1]["category"], "b");
    assert_eq!((items[1]["self_pay_first"].as_str(), items[1]["eligible"].as_str()), (Some("9.06"), Some("81.54")));
    assert_eq!((items[2]["category"].as_str(), items[2]["eligible"].as_str()), (Some("c"), Some("0.00")));
    assert_eq!(items[0]["amount"], "37.50");
    // The same again: a replay with the same items.
    let r = post(&mut c, &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 5);
    // The slip (API and page) lists them.
    let r = c.get("/api/v1/claims/HA-I1/slip?facility=HA").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let slip = r.json();
    assert_eq!(slip["items"].as_array().unwrap().len(), 5);
    assert_eq!(slip["eligible_cost"], "663.48");
    let r = c.get("/claims/HA-I1/slip?facility=HA").await;
    assert!(
        r.body.contains("id=\"slip-items\"") && r.body.contains("阿莫西林胶囊") && r.body.contains("乙类"),
        "{}",
        r.body
    );
    assert!(r.body.contains(">663.48<"), "{}", r.body);

    // Another county's clerk: HA is unknown, so is the claim's slip.
    let mut b = srv.login("clerk_b").await;
    let r = post(&mut b, &claim(&fx, "HA-I2", bill())).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(b.get("/api/v1/claims/HA-I1/slip?facility=HA").await.status, 404);

    // The catalogue.
    let y = today().year();
    let r = c.get(&format!("/api/v1/catalogue?province=34&year={y}&q=XJ01")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    let codes: Vec<&str> = j["items"].as_array().unwrap().iter().map(|i| i["code"].as_str().unwrap()).collect();
    assert!(codes.len() >= 4 && codes.iter().all(|c| c.starts_with("XJ01")), "{codes:?}");
    let r = c.get(&format!("/api/v1/catalogue?year={y}&q=床位费")).await;
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 2, "{}", r.body);
    assert_eq!(c.get("/api/v1/catalogue?province=3411").await.status, 400);
    assert_eq!(c.get("/api/v1/catalogue?province=34&year=2023").await.json()["items"].as_array().unwrap().len(), 0);
}

async fn the_desk_settles_an_itemised_bill(kind: Kind) {
    let (srv, fx) = setup(kind).await;
    let mut c = srv.login("clerk_a").await;
    let reference = srv.person_ref(&fx.a_person).await;
    let csrf = c.csrf().await;
    let r = c
        .post_form(
            "/desk/admit",
            &[("csrf", &csrf), ("facility", "HA"), ("person", &reference), ("admitted", &today().to_string())],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let a = srv.state.app.facility_admissions(&app::Scope::all(), "HA").await.unwrap().remove(0);
    let r = c.get("/desk?facility=HA").await;
    assert!(r.body.contains("name=\"item_code\"") && r.body.contains("name=\"unit_price\""), "{}", r.body);

    let path = format!("/desk/admissions/{}/settle", a.id);
    let admitted = a.admitted.to_string();
    let day = today().to_string();
    let form = |rows: &[(&'static str, &'static str, &'static str)], eligible: &'static str| {
        let mut f: Vec<(&str, String)> = vec![
            ("csrf", csrf.clone()),
            ("claim_id", "HA-D9".to_string()),
            ("kind", "inpatient".to_string()),
            ("admitted", admitted.clone()),
            ("discharged", day.clone()),
            ("total_cost", String::new()),
            ("eligible_cost", eligible.to_string()),
            ("diagnosis", "K35".to_string()),
        ];
        for (code, q, p) in rows {
            f.push(("item_code", code.to_string()));
            f.push(("quantity", q.to_string()));
            f.push(("unit_price", p.to_string()));
        }
        // The rows left empty.
        for _ in 0..3 {
            f.extend([("item_code", String::new()), ("quantity", String::new()), ("unit_price", String::new())]);
        }
        f
    };
    let send = |f: Vec<(&'static str, String)>| f;
    // An unknown item: 422 on the page, naming the line; nothing settled.
    let bad = send(form(&[("331001001", "1", "800.00"), ("NOPE", "1", "1.00")], ""));
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = c.post_form(&path, &bad).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("id=\"form-error\"") && r.body.contains("items[1]"), "{}", r.body);
    // An eligible cost typed with items: 422.
    let bad = form(&[("331001001", "1", "800.00")], "700.00");
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(c.post_form(&path, &bad).await.status, 422);
    assert!(srv.state.app.facility_admissions(&app::Scope::all(), "HA").await.unwrap()[0].claim_id.is_none());

    // The bill: 800.00 (甲) + 2 × 1,200.00 (全身麻醉, 乙 10%) + 5 × 60.00 (蛋白粉, 丙)
    // = 3,500.00, eligible 800 + 2,160 = 2,960.00.
    let good = form(&[("331001001", "1", "800.00"), ("330100001", "2", "1200"), ("ZZ0002", "5", "60")], "");
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = c.post_form(&path, &good).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let a = srv.state.app.facility_admissions(&app::Scope::all(), "HA").await.unwrap().remove(0);
    assert_eq!(a.claim_id.as_deref(), Some("HA-D9"));
    let slip = c.get("/api/v1/claims/HA-D9/slip?facility=HA").await.json();
    assert_eq!(
        (slip["total_cost"].as_str(), slip["eligible_cost"].as_str()),
        (Some("3500.00"), Some("2960.00")),
        "{slip}"
    );
    assert_eq!(slip["items"].as_array().unwrap().len(), 3);
    assert_eq!(a.owed, domain::Fen::parse_yuan(slip["out_of_pocket"].as_str().unwrap()).unwrap());
}
