//! What the programme report and the policy what-if read from the store, on both
//! engines: tier payments of the year's unvoided settlements, alerts with the days
//! they were raised and assisted, region names, all inside the scope.

mod common;
use common::*;
use domain::*;
use monitor::{AlertState, Figure, Finding};
use store::{NewMeasure, Scope, Store};

both_backends!(payments_alerts_and_names_inside_the_scope);

fn finding(rule: &str, hh: &str, village: &str, year: i32) -> Finding {
    Finding {
        rule: rule.into(),
        household_id: hh.into(),
        village_code: code(village),
        year,
        value: Figure::Money(Fen::from_yuan(12_000)),
        threshold: Some(Figure::Money(Fen::from_yuan(9_000))),
    }
}

async fn payments_alerts_and_names_inside_the_scope(store: &Store) {
    seed(store).await;
    let all = Scope::all();
    app::settlement::put_policy(
        store,
        "34",
        2024,
        include_str!("../../settle/tests/data/demo_county_2024.toml"),
        "admin",
    )
    .await
    .unwrap();
    // H1 (county 341122) two claims, one voided later; H3 (county 341123) one claim;
    // a claim of 2023 is of another year.
    let mut c2023 = claim("R0", 1, "2023-12-01", 1_000, 1_000);
    c2023.admitted = d("2023-11-30");
    store
        .import_claims(&[
            claim("R1", 1, "2024-03-01", 20_000, 15_000),
            claim("R2", 3, "2024-04-01", 8_000, 6_000),
            claim("R3", 7, "2024-05-01", 30_000, 20_000),
            c2023,
        ])
        .await
        .unwrap();
    app::settlement::settle_stored(store, &all, 2024, "batch").await.unwrap();
    app::settlement::void_claim(store, &all, &ClaimKey::new("", "R2"), "clerk").await.unwrap();

    let pays = store.settlement_payments(&all, 2024).await.unwrap();
    let mut ids: Vec<&str> = pays.keys().map(|k| k.claim_id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["R1", "R3"], "the voided claim and other years are left out");
    for (id, p) in &pays {
        let s = store.settlement(&all, id).await.unwrap().unwrap();
        assert_eq!(p, &s.payments, "{id}: the stored payments, in tier order");
        let paid: Fen = p.iter().map(|(_, a)| *a).sum();
        assert_eq!(paid + s.out_of_pocket, s.total_cost, "{id}: payments and out-of-pocket make the total");
    }
    let county = Scope::new("341122").unwrap();
    let mine = store.settlement_payments(&county, 2024).await.unwrap();
    assert_eq!(mine.keys().map(|k| k.claim_id.as_str()).collect::<Vec<_>>(), ["R1"], "only the scope's claims");

    // Alerts: H1's resolved with a measure, H2's dismissed, H3's open (other county).
    app::monitoring::apply_findings(
        store,
        &all,
        2024,
        &[
            finding("medical_burden_poor", "H1", "341122100201", 2024),
            finding("catastrophic_10", "H2", "341122100202", 2024),
            finding("catastrophic_10", "H3", "341123100201", 2024),
        ],
        "monitor",
    )
    .await
    .unwrap();
    app::monitoring::apply_findings(
        store,
        &all,
        2023,
        &[finding("catastrophic_10", "H1", "341122100201", 2023)],
        "monitor",
    )
    .await
    .unwrap();
    let q = store::AlertQuery { year: Some(2024), ..Default::default() };
    let listed = store.alerts(&all, &q, store::Page::first(10)).await.unwrap();
    let id_of = |hh: &str| listed.iter().find(|a| a.household_id == hh).unwrap().id;
    let (h1, h2) = (id_of("H1"), id_of("H2"));
    for to in [AlertState::Verifying, AlertState::Assisting] {
        app::monitoring::transition_alert(store, &all, h1, to, "wang", "").await.unwrap();
    }
    let m = NewMeasure {
        kind: "temporary_relief".into(),
        amount: Fen::from_yuan(2_000),
        by: "civil affairs".into(),
        date: d("2024-10-03"),
        note: String::new(),
    };
    app::monitoring::add_assistance(store, &all, h1, &m, "wang").await.unwrap();
    app::monitoring::transition_alert(store, &all, h1, AlertState::Resolved, "wang", "paid").await.unwrap();
    app::monitoring::transition_alert(store, &all, h2, AlertState::Verifying, "wang", "").await.unwrap();
    app::monitoring::transition_alert(store, &all, h2, AlertState::Dismissed, "wang", "income was misreported")
        .await
        .unwrap();

    let today = domain::time::china_today();
    let alerts = store.alert_dates(&all, 2024).await.unwrap();
    let got: Vec<(&str, &str, Option<chrono::NaiveDate>)> =
        alerts.iter().map(|a| (a.household_id.as_str(), a.rule.as_str(), a.assisted_on)).collect();
    assert_eq!(
        got,
        [("H1", "medical_burden_poor", Some(today)), ("H2", "catastrophic_10", None), ("H3", "catastrophic_10", None)],
        "only the resolved alert with a measure is assisted; the 2023 alert is of another year"
    );
    assert!(alerts.iter().all(|a| a.raised_on == today && a.year == 2024));
    assert_eq!(alerts[2].village, code("341123100201"));
    let mine = store.alert_dates(&county, 2024).await.unwrap();
    assert_eq!(mine.iter().map(|a| a.household_id.as_str()).collect::<Vec<_>>(), ["H1", "H2"]);

    // Names of the regions inside the scope only.
    let names = store.region_names(&county).await.unwrap();
    assert_eq!(names.get(&code("341122100201")).map(String::as_str), Some("Village A1"));
    assert_eq!(names.get(&code("341122")).map(String::as_str), Some("Laian"));
    assert!(!names.contains_key(&code("341123100201")) && !names.contains_key(&code("34")));

    // All together, as the web reads it.
    let inputs = store.report_inputs(&county, 2024).await.unwrap();
    assert_eq!(inputs.monitor.households.len(), 2);
    assert_eq!(inputs.monitor.claims.iter().map(|c| c.claim_id.as_str()).collect::<Vec<_>>(), ["R1"]);
    assert_eq!(inputs.payments.len(), 1);
    assert_eq!(inputs.alerts.len(), 2);
    assert!(inputs.contracted.is_empty());
    assert!(inputs.names.len() >= 4);
}
