//! Alerts and the patient ledger over the store, on both engines: findings
//! reconciled without duplicates, the life cycle with its records, scopes, and a
//! whole monitor run over stored data.

mod common;
use common::*;
use domain::*;
use monitor::{AlertState, Figure, Finding};
use store::{AlertQuery, NewMeasure, Page, ReconcileCounts, Scope, Store, StoreError};

both_backends!(
    a_rerun_on_the_same_data_changes_nothing,
    new_data_updates_values_without_duplicates,
    a_resolved_alert_stays_resolved,
    the_life_cycle_is_enforced_and_recorded,
    the_scope_is_respected,
    a_monitor_run_over_the_store,
);

fn finding(rule: &str, hh: &str, village: &str, oop: i64) -> Finding {
    Finding {
        rule: rule.into(),
        household_id: hh.into(),
        village_code: code(village),
        year: 2024,
        value: Figure::Money(Fen::from_yuan(oop)),
        threshold: Some(Figure::Money(Fen::parse_yuan("9787.50").unwrap())),
    }
}

fn findings() -> Vec<Finding> {
    vec![
        finding("medical_burden_poor", "H1", "341122100201", 12_000),
        finding("catastrophic_10", "H2", "341122100202", 5_000),
        Finding {
            rule: "serious_diagnosis".into(),
            household_id: "H3".into(),
            village_code: code("341123100201"),
            year: 2024,
            value: Figure::Text("C16".into()),
            threshold: None,
        },
    ]
}

fn measure() -> NewMeasure {
    NewMeasure {
        kind: "temporary_relief".into(),
        amount: Fen::from_yuan(2_000),
        by: "civil affairs bureau".into(),
        date: d("2024-10-03"),
        note: "paid in cash".into(),
    }
}

async fn id_of(store: &Store, rule: &str, hh: &str) -> i64 {
    let q = AlertQuery { rule: Some(rule.into()), household: Some(hh.into()), ..Default::default() };
    let found = store.alerts(&Scope::all(), &q, Page::default()).await.unwrap();
    assert_eq!(found.len(), 1, "{rule} {hh}: {found:?}");
    found[0].id
}

async fn a_rerun_on_the_same_data_changes_nothing(store: &Store) {
    seed(store).await;
    let all = Scope::all();
    let first = app::monitoring::apply_findings(store, &all, 2024, &findings(), "monitor").await.unwrap();
    assert_eq!(first, ReconcileCounts { raised: 3, ..Default::default() });
    let before = store.alerts(&all, &AlertQuery::default(), Page::default()).await.unwrap();
    assert_eq!(before.len(), 3);
    let again = app::monitoring::apply_findings(store, &all, 2024, &findings(), "monitor").await.unwrap();
    assert_eq!(again, ReconcileCounts { unchanged: 3, ..Default::default() });
    let after = store.alerts(&all, &AlertQuery::default(), Page::default()).await.unwrap();
    assert_eq!(after, before, "ids, values and times as they were");
    // A finding given twice in one run is one alert.
    let mut twice = findings();
    twice.push(twice[0].clone());
    let third = app::monitoring::apply_findings(store, &all, 2024, &twice, "monitor").await.unwrap();
    assert_eq!(third.unchanged, 3);
    assert_eq!(store.count_alerts(&all, &AlertQuery::default()).await.unwrap(), 3);
    // The raise is recorded, once.
    let a = store.alert(&all, id_of(store, "serious_diagnosis", "H3").await).await.unwrap().unwrap();
    assert_eq!(a.value, "C16");
    assert_eq!(a.threshold, "");
    assert_eq!(a.state, AlertState::Open);
    assert_eq!(a.events.len(), 1);
    assert_eq!((a.events[0].from, a.events[0].to, a.events[0].actor.as_str()), (None, AlertState::Open, "monitor"));
    let b = store.alert(&all, id_of(store, "medical_burden_poor", "H1").await).await.unwrap().unwrap();
    assert_eq!((b.value.as_str(), b.threshold.as_str()), ("12000.00", "9787.50"));
}

async fn new_data_updates_values_without_duplicates(store: &Store) {
    seed(store).await;
    let all = Scope::all();
    app::monitoring::apply_findings(store, &all, 2024, &findings(), "monitor").await.unwrap();
    let id = id_of(store, "medical_burden_poor", "H1").await;
    app::monitoring::transition_alert(store, &all, id, AlertState::Verifying, "wang", "visiting on Monday")
        .await
        .unwrap();
    let mut new = findings();
    new[0].value = Figure::Money(Fen::from_yuan(15_500));
    new.push(finding("catastrophic_25", "H2", "341122100202", 5_000));
    new.remove(1); // H2's catastrophic_10 no longer crosses
    let counts = app::monitoring::apply_findings(store, &all, 2024, &new, "monitor").await.unwrap();
    assert_eq!(
        counts,
        ReconcileCounts { raised: 1, updated: 1, unchanged: 1, no_longer_raised: 1, ..Default::default() }
    );
    assert_eq!(store.count_alerts(&all, &AlertQuery::default()).await.unwrap(), 4);
    let a = store.alert(&all, id).await.unwrap().unwrap();
    assert_eq!(a.id, id, "the same alert, updated");
    assert_eq!(a.value, "15500.00");
    assert_eq!(a.state, AlertState::Verifying, "an update keeps the state");
    let last = a.events.last().unwrap();
    assert_eq!((last.from, last.to), (Some(AlertState::Verifying), AlertState::Verifying));
    assert!(last.note.contains("12000.00") && last.note.contains("15500.00"), "{}", last.note);
    // The alert no longer raised is left as it was, for a person to close.
    let gone = store.alert(&all, id_of(store, "catastrophic_10", "H2").await).await.unwrap().unwrap();
    assert_eq!(gone.state, AlertState::Open);
    // Filters.
    let verifying = AlertQuery { state: Some(AlertState::Verifying), ..Default::default() };
    assert_eq!(store.alerts(&all, &verifying, Page::default()).await.unwrap().len(), 1);
    let by_year = AlertQuery { year: Some(2023), ..Default::default() };
    assert!(store.alerts(&all, &by_year, Page::default()).await.unwrap().is_empty());
    let town = AlertQuery { region: Some("341122100".into()), ..Default::default() };
    assert_eq!(store.count_alerts(&all, &town).await.unwrap(), 3);
    assert_eq!(store.alerts(&all, &AlertQuery::default(), Page { offset: 1, limit: 2 }).await.unwrap().len(), 2);
}

async fn a_resolved_alert_stays_resolved(store: &Store) {
    seed(store).await;
    let all = Scope::all();
    app::monitoring::apply_findings(store, &all, 2024, &findings(), "monitor").await.unwrap();
    let id = id_of(store, "medical_burden_poor", "H1").await;
    app::monitoring::transition_alert(store, &all, id, AlertState::Verifying, "wang", "").await.unwrap();
    app::monitoring::transition_alert(store, &all, id, AlertState::Assisting, "wang", "confirmed").await.unwrap();
    app::monitoring::add_assistance(store, &all, id, &measure(), "wang").await.unwrap();
    app::monitoring::transition_alert(store, &all, id, AlertState::Resolved, "li", "relief paid").await.unwrap();
    let mut new = findings();
    new[0].value = Figure::Money(Fen::from_yuan(20_000));
    let counts = app::monitoring::apply_findings(store, &all, 2024, &new, "monitor").await.unwrap();
    assert_eq!(counts, ReconcileCounts { unchanged: 2, closed_kept: 1, ..Default::default() });
    let a = store.alert(&all, id).await.unwrap().unwrap();
    assert_eq!(a.state, AlertState::Resolved);
    assert_eq!(a.value, "12000.00");
    // Closed: no move, no measure.
    let e = app::monitoring::transition_alert(store, &all, id, AlertState::Open, "li", "").await.unwrap_err();
    assert!(matches!(e, StoreError::IllegalTransition { .. }), "{e}");
    let e = app::monitoring::add_assistance(store, &all, id, &measure(), "li").await.unwrap_err();
    assert!(matches!(e, StoreError::Constraint { .. }), "{e}");
    // The next year's crossing is a new alert.
    let mut next = new[0].clone();
    next.year = 2025;
    let counts = app::monitoring::apply_findings(store, &all, 2025, &[next], "monitor").await.unwrap();
    assert_eq!(counts.raised, 1);
    let q = AlertQuery { household: Some("H1".into()), ..Default::default() };
    let both = store.alerts(&all, &q, Page::default()).await.unwrap();
    assert_eq!(both.iter().map(|a| a.year).collect::<Vec<_>>(), vec![2025, 2024]);
}

async fn the_life_cycle_is_enforced_and_recorded(store: &Store) {
    seed(store).await;
    let all = Scope::all();
    app::monitoring::apply_findings(store, &all, 2024, &findings(), "monitor").await.unwrap();
    let id = id_of(store, "catastrophic_10", "H2").await;
    // open -> assisting skips verifying.
    let e = app::monitoring::transition_alert(store, &all, id, AlertState::Assisting, "wang", "").await.unwrap_err();
    assert!(matches!(&e, StoreError::IllegalTransition { from, to, .. } if from == "open" && to == "assisting"), "{e}");
    // No actor.
    assert!(app::monitoring::transition_alert(store, &all, id, AlertState::Verifying, " ", "").await.is_err());
    app::monitoring::transition_alert(store, &all, id, AlertState::Verifying, "wang", "called the village doctor")
        .await
        .unwrap();
    app::monitoring::transition_alert(store, &all, id, AlertState::Assisting, "wang", "income loss confirmed")
        .await
        .unwrap();
    // Resolving without a measure is refused and records nothing.
    let e = app::monitoring::transition_alert(store, &all, id, AlertState::Resolved, "wang", "done").await.unwrap_err();
    assert!(matches!(e, StoreError::IllegalTransition { .. }), "{e}");
    assert!(e.to_string().contains("measure"), "{e}");
    let a = store.alert(&all, id).await.unwrap().unwrap();
    assert_eq!((a.state, a.events.len()), (AlertState::Assisting, 3));
    // A bad measure is refused.
    let mut bad = measure();
    bad.kind = " ".into();
    assert!(matches!(
        app::monitoring::add_assistance(store, &all, id, &bad, "wang").await,
        Err(StoreError::Rejected { .. })
    ));
    let mut bad = measure();
    bad.amount = Fen(-1);
    assert!(matches!(
        app::monitoring::add_assistance(store, &all, id, &bad, "wang").await,
        Err(StoreError::Rejected { .. })
    ));
    let a = app::monitoring::add_assistance(store, &all, id, &measure(), "wang").await.unwrap();
    assert_eq!(a.measures.len(), 1);
    let m = &a.measures[0];
    assert_eq!(
        (m.kind.as_str(), m.amount, m.by.as_str(), m.date),
        ("temporary_relief", Fen(200_000), "civil affairs bureau", d("2024-10-03"))
    );
    assert_eq!((m.note.as_str(), m.recorded_by.as_str()), ("paid in cash", "wang"));
    let before = chrono::Utc::now() - chrono::Duration::seconds(2);
    let a =
        app::monitoring::transition_alert(store, &all, id, AlertState::Resolved, "li", "relief paid, income restored")
            .await
            .unwrap();
    assert_eq!(a.state, AlertState::Resolved);
    let last = a.events.last().unwrap();
    assert_eq!(last.from, Some(AlertState::Assisting));
    assert_eq!(last.to, AlertState::Resolved);
    assert_eq!(last.actor, "li");
    assert_eq!(last.note, "relief paid, income restored");
    assert!(last.at >= before && last.at <= chrono::Utc::now() + chrono::Duration::seconds(1));
    let moves: Vec<(Option<AlertState>, AlertState)> = a.events.iter().map(|e| (e.from, e.to)).collect();
    assert_eq!(
        moves,
        vec![
            (None, AlertState::Open),
            (Some(AlertState::Open), AlertState::Verifying),
            (Some(AlertState::Verifying), AlertState::Assisting),
            (Some(AlertState::Assisting), AlertState::Resolved),
        ]
    );
    // Dismissing needs a reason.
    let other = id_of(store, "medical_burden_poor", "H1").await;
    let e =
        app::monitoring::transition_alert(store, &all, other, AlertState::Dismissed, "wang", "  ").await.unwrap_err();
    assert!(e.to_string().contains("reason"), "{e}");
    let a = app::monitoring::transition_alert(
        store,
        &all,
        other,
        AlertState::Dismissed,
        "wang",
        "reimbursed by commercial insurance",
    )
    .await
    .unwrap();
    assert_eq!(a.state, AlertState::Dismissed);
}

async fn the_scope_is_respected(store: &Store) {
    seed(store).await;
    let all = Scope::all();
    app::monitoring::apply_findings(store, &all, 2024, &findings(), "monitor").await.unwrap();
    let id = id_of(store, "medical_burden_poor", "H1").await; // county 341122
    let other = Scope::new("341123").unwrap();
    assert!(store.alert(&other, id).await.unwrap().is_none());
    let seen = store.alerts(&other, &AlertQuery::default(), Page::default()).await.unwrap();
    assert_eq!(seen.iter().map(|a| a.household_id.as_str()).collect::<Vec<_>>(), vec!["H3"]);
    assert_eq!(store.count_alerts(&other, &AlertQuery::default()).await.unwrap(), 1);
    let e = app::monitoring::transition_alert(store, &other, id, AlertState::Verifying, "zhao", "").await.unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e}");
    let e = app::monitoring::add_assistance(store, &other, id, &measure(), "zhao").await.unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e}");
    assert_eq!(store.alert(&all, id).await.unwrap().unwrap().events.len(), 1, "nothing recorded");
    // Its own county: fine.
    let mine = Scope::new("341122").unwrap();
    assert_eq!(
        app::monitoring::transition_alert(store, &mine, id, AlertState::Verifying, "wang", "").await.unwrap().state,
        AlertState::Verifying
    );
    // A run over one county leaves the other's alerts alone and ignores its findings.
    let mut new = findings();
    new[2].value = Figure::Text("C34".into());
    let counts = app::monitoring::apply_findings(store, &mine, 2024, &new, "monitor").await.unwrap();
    assert_eq!((counts.unchanged, counts.outside_scope, counts.no_longer_raised), (2, 1, 0));
    let h3 = store.alert(&all, id_of(store, "serious_diagnosis", "H3").await).await.unwrap().unwrap();
    assert_eq!(h3.value, "C16");
}

async fn a_monitor_run_over_the_store(store: &Store) {
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
    store
        .import_thresholds(&[Threshold {
            region: "34".into(),
            year: 2024,
            rural_income: Fen::from_yuan(19_575),
            monitoring_line: Fen::from_yuan(7_000),
        }])
        .await
        .unwrap();
    // H2 (general, income 30,000, consumption 20,000) gets a big bill; H1 (lifted) a
    // serious diagnosis; a voided claim of H3 must not count.
    let mut big = claim("M1", 5, "2024-04-01", 90_000, 60_000);
    big.diagnosis = "J18".into();
    let serious = claim("M2", 1, "2024-05-01", 3_000, 3_000);
    let voided = claim("M3", 7, "2024-06-01", 200_000, 10_000);
    store.import_claims(&[big, serious, voided]).await.unwrap();
    assert_eq!(app::settlement::settle_stored(store, &all, 2024, "batch").await.unwrap().settled, 3);
    app::settlement::void_claim(store, &all, &ClaimKey::new("", "M3"), "clerk").await.unwrap();
    let inputs = store.monitor_inputs(&all, 2024).await.unwrap();
    assert_eq!((inputs.households.len(), inputs.persons.len(), inputs.claims.len()), (3, 5, 2));
    assert_eq!(inputs.settlements.len(), 2);
    assert_eq!(inputs.thresholds.len(), 1);
    let r = monitor::monitor_year(
        2024,
        &inputs.households,
        &inputs.members,
        &inputs.claims,
        &inputs.settlements,
        &monitor::ThresholdTable::new(&inputs.thresholds),
        &monitor::RuleSet::defaults(),
        &Catalogue::serious(),
    )
    .unwrap();
    let raised: Vec<(&str, &str)> = r.alerts.iter().map(|f| (f.rule.as_str(), f.household_id.as_str())).collect();
    assert!(raised.contains(&("catastrophic_25", "H2")), "{raised:?}");
    assert!(raised.contains(&("serious_diagnosis", "H1")), "{raised:?}");
    assert!(!raised.iter().any(|(_, h)| *h == "H3"), "the voided claim does not count: {raised:?}");
    let counts = app::monitoring::apply_findings(store, &all, 2024, &r.alerts, "monitor").await.unwrap();
    assert_eq!(counts.raised as usize, r.alerts.len());
    assert_eq!(
        app::monitoring::apply_findings(store, &all, 2024, &r.alerts, "monitor").await.unwrap().unchanged as usize,
        r.alerts.len()
    );
    // The patient ledger of the same run.
    let villages = inputs.households.iter().map(|h| (h.household_id.clone(), h.village_code)).collect();
    let entries = monitor::patient_ledger(
        2024,
        d("2024-12-31"),
        &inputs.persons,
        &villages,
        &inputs.claims,
        &inputs.oop_by_claim,
        &monitor::RegionalCatalogues { national: monitor::CatalogueSet::national(), regional: vec![] },
        &store.contracts(&all).await.unwrap(),
        &monitor::LedgerSettings::default(),
    );
    assert!(!entries.is_empty());
    let first = store.put_ledger(&all, 2024, &entries).await.unwrap();
    assert_eq!(first.inserted as usize, entries.len());
    let again = store.put_ledger(&all, 2024, &entries).await.unwrap();
    assert_eq!((again.unchanged as usize, again.inserted, again.updated), (entries.len(), 0, 0));
    let rows = store
        .ledger(&all, &store::LedgerQuery { year: Some(2024), ..Default::default() }, Page::default())
        .await
        .unwrap();
    assert_eq!(rows.len(), entries.len());
    let h1 = rows.iter().find(|e| e.person == pid(1)).expect("the serious patient is in the ledger");
    assert_eq!(h1.batch, monitor::Batch::Serious);
    assert_eq!(h1.diagnosis, "C16");
    // A contract recorded by a person survives the next run.
    let contract = monitor::Contract { doctor: "Dr Sun".into(), signed: d("2024-02-01") };
    assert_eq!(store.set_contract(&all, pid(1), &contract).await.unwrap(), 1);
    assert_eq!(store.set_contract(&Scope::new("341123").unwrap(), pid(1), &contract).await.unwrap(), 0);
    let counts = store.put_ledger(&all, 2024, &entries).await.unwrap();
    assert_eq!(counts.updated, 0, "an entry without a contract keeps the stored one");
    let q = store::LedgerQuery { person: Some(pid(1)), ..Default::default() };
    assert_eq!(store.ledger(&all, &q, Page::default()).await.unwrap()[0].contract, Some(contract.clone()));
    assert_eq!(store.contracts(&all).await.unwrap().get(&pid(1)), Some(&contract));
    // A person out of the new ledger is removed; another county sees none of it.
    let fewer: Vec<_> = entries.iter().filter(|e| e.person_id != pid(1)).cloned().collect();
    assert_eq!(store.put_ledger(&all, 2024, &fewer).await.unwrap().removed, 1);
    assert!(store
        .ledger(&Scope::new("341123").unwrap(), &Default::default(), Page::default())
        .await
        .unwrap()
        .iter()
        .all(|e| e.village == code("341123100201")));
}
