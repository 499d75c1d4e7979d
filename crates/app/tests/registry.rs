//! The registry against both engines: migrations, idempotent imports, updates,
//! status history, all-or-nothing failures, scopes and paging.

mod common;
use common::*;
use domain::*;
use store::{ImportCounts, Page, Scope, Store, StoreError};

both_backends!(
    migrate_twice_is_a_no_op,
    reimport_identical_changes_nothing,
    an_updated_row_updates,
    a_status_change_writes_history,
    a_failing_import_leaves_the_store_as_before,
    a_duplicate_key_is_refused,
    scopes_and_paging,
    export_reads_everything_in_chunks,
    lookups_for_validation,
);

async fn migrate_twice_is_a_no_op(store: &Store) {
    assert_eq!(store.schema_version().await.unwrap(), store::SCHEMA_VERSION);
    assert_eq!(store.migrate().await.unwrap(), store::SCHEMA_VERSION);
    assert_eq!(store.migrate().await.unwrap(), store::SCHEMA_VERSION);
    seed(store).await;
    assert_eq!(store.migrate().await.unwrap(), store::SCHEMA_VERSION);
    assert_eq!(store.count::<Person>(&Scope::all()).await.unwrap(), 5);
}

async fn reimport_identical_changes_nothing(store: &Store) {
    let regions = regions();
    let first = store.import_regions(&regions).await.unwrap();
    assert_eq!(first, ImportCounts { inserted: 6, updated: 0, unchanged: 0 });
    let again = store.import_regions(&regions).await.unwrap();
    assert_eq!(again, ImportCounts { inserted: 0, updated: 0, unchanged: 6 });
    seed(store).await;
    let persons: Vec<Person> = store.list(&Scope::all(), Page::first(100)).await.unwrap();
    let again = store.import_persons(&persons).await.unwrap();
    assert_eq!(again, ImportCounts { inserted: 0, updated: 0, unchanged: 5 });
    // What comes back is what went in.
    assert_eq!(persons[0], person(1, "H1", PovertyStatus::Lifted));
    let back: Vec<Region> = store.list(&Scope::all(), Page::first(100)).await.unwrap();
    let mut want = regions.clone();
    want.sort_by_key(|r| r.code);
    assert_eq!(back, want);
}

async fn an_updated_row_updates(store: &Store) {
    seed(store).await;
    let mut h = household("H2", "341122100202");
    h.income = Fen::from_yuan(12_345);
    h.food = Some(Fen(99));
    let counts = store.import_households(&[h.clone(), household("H9", "341122100201")]).await.unwrap();
    assert_eq!(counts, ImportCounts { inserted: 1, updated: 1, unchanged: 0 });
    let back: Household = store.get("H2").await.unwrap().unwrap();
    assert_eq!(back, h);
    assert_eq!(store.count::<Household>(&Scope::all()).await.unwrap(), 4);
}

async fn a_status_change_writes_history(store: &Store) {
    seed(store).await;
    let mut p = person(1, "H1", PovertyStatus::Monitored);
    p.status_since = d("2024-02-01");
    let counts = store.import_persons(&[p.clone(), person(3, "H1", PovertyStatus::Lifted)]).await.unwrap();
    assert_eq!(counts, ImportCounts { inserted: 0, updated: 1, unchanged: 1 });
    let h = store.status_history(pid(1)).await.unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].old_status, Some(PovertyStatus::Lifted));
    assert_eq!(h[0].new_status, PovertyStatus::Monitored);
    assert_eq!(h[0].since, d("2024-02-01"));
    // The same status again changes nothing; a name change updates without history.
    let mut renamed = p.clone();
    renamed.name = "Renamed".into();
    let counts = store.import_persons(&[p.clone()]).await.unwrap();
    assert_eq!(counts.unchanged, 1);
    let counts = store.import_persons(&[renamed]).await.unwrap();
    assert_eq!(counts.updated, 1);
    assert_eq!(store.status_history(pid(1)).await.unwrap().len(), 1);
    assert!(store.status_history(pid(3)).await.unwrap().is_empty());
}

async fn a_failing_import_leaves_the_store_as_before(store: &Store) {
    seed(store).await;
    let before: Vec<Person> = store.list(&Scope::all(), Page::first(100)).await.unwrap();
    let mut changed = person(1, "H1", PovertyStatus::General);
    changed.name = "Changed".into();
    // A valid update, a valid new person, then one whose household is unknown.
    let batch = vec![changed, person(11, "H2", PovertyStatus::General), person(13, "NOPE", PovertyStatus::General)];
    let err = store.import_persons(&batch).await.unwrap_err();
    match &err {
        StoreError::Constraint { detail, .. } => {
            assert!(detail.contains("row 3") && detail.contains("NOPE"), "{err}")
        }
        other => panic!("expected a constraint error, got {other}"),
    }
    let after: Vec<Person> = store.list(&Scope::all(), Page::first(100)).await.unwrap();
    assert_eq!(before, after);
    assert!(store.status_history(pid(1)).await.unwrap().is_empty());
    // A bad village code in households, likewise.
    let err = store.import_households(&[household("H7", "341122100299")]).await.unwrap_err();
    assert!(err.to_string().contains("341122100299"), "{err}");
    assert_eq!(store.count::<Household>(&Scope::all()).await.unwrap(), 3);
}

async fn a_duplicate_key_is_refused(store: &Store) {
    seed(store).await;
    let err =
        store.import_households(&[household("H5", "341122100201"), household("H5", "341122100202")]).await.unwrap_err();
    assert!(matches!(err, StoreError::DuplicateKey { first: 1, second: 2, .. }), "{err}");
    assert_eq!(store.count::<Household>(&Scope::all()).await.unwrap(), 3);
}

async fn scopes_and_paging(store: &Store) {
    seed(store).await;
    let county = Scope::new("341122").unwrap();
    assert_eq!(store.count::<Person>(&county).await.unwrap(), 3);
    assert_eq!(store.count::<Person>(&Scope::new("341123").unwrap()).await.unwrap(), 2);
    assert_eq!(store.count::<Household>(&Scope::new("341122100").unwrap()).await.unwrap(), 2);
    assert_eq!(store.count::<Region>(&county).await.unwrap(), 4);
    let p1: Vec<Person> = store.list(&county, Page { offset: 0, limit: 2 }).await.unwrap();
    let p2: Vec<Person> = store.list(&county, Page { offset: 2, limit: 2 }).await.unwrap();
    assert_eq!(p1.len(), 2);
    assert_eq!(p2.len(), 1);
    assert!(p1[1].person_id < p2[0].person_id);
    store
        .import_thresholds(&[
            Threshold {
                region: "34".into(),
                year: 2024,
                rural_income: Fen::from_yuan(19_575),
                monitoring_line: Fen::from_yuan(7000),
            },
            Threshold {
                region: "341122".into(),
                year: 2024,
                rural_income: Fen::from_yuan(16_800),
                monitoring_line: Fen::from_yuan(7000),
            },
            Threshold {
                region: "3412".into(),
                year: 2024,
                rural_income: Fen::from_yuan(1),
                monitoring_line: Fen::from_yuan(1),
            },
        ])
        .await
        .unwrap();
    let t: Vec<Threshold> = store.list(&county, Page::first(10)).await.unwrap();
    assert_eq!(t.iter().map(|t| t.region.as_str()).collect::<Vec<_>>(), ["34", "341122"]);
}

async fn export_reads_everything_in_chunks(store: &Store) {
    store.import_regions(&regions()).await.unwrap();
    let hs: Vec<Household> = (0..25_000).map(|i| household(&format!("H{i:06}"), "341122100201")).collect();
    let c = store.import_households(&hs).await.unwrap();
    assert_eq!(c.inserted, 25_000);
    let mut seen = Vec::new();
    let mut chunks = 0;
    let n = store
        .export::<Household, String>(&Scope::new("3411").unwrap(), |batch| {
            chunks += 1;
            seen.extend(batch.into_iter().map(|h| h.household_id));
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(n, 25_000);
    assert_eq!(chunks, 3);
    let want: Vec<String> = hs.iter().map(|h| h.household_id.clone()).collect();
    assert_eq!(seen, want);
    // Re-importing 25,000 identical rows is counted as unchanged.
    assert_eq!(store.import_households(&hs).await.unwrap().unchanged, 25_000);
}

async fn lookups_for_validation(store: &Store) {
    seed(store).await;
    let codes = [code("341122100201"), code("341122100299")];
    let found = store.existing_region_codes(&codes).await.unwrap();
    assert!(found.contains(&codes[0]) && !found.contains(&codes[1]));
    let h = store.existing_households(&["H1", "H4"]).await.unwrap();
    assert_eq!(h.into_iter().collect::<Vec<_>>(), ["H1"]);
    let p = store.existing_persons(&[pid(1), pid(2)]).await.unwrap();
    assert_eq!(p.into_iter().collect::<Vec<_>>(), [pid(1)]);
    assert!(store.existing_facilities(&["F1"]).await.unwrap().is_empty());
}
