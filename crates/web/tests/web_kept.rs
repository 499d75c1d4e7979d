//! The indicator facts kept in the store (`app::kept`), on SQLite and on
//! PostgreSQL when SAFETYNET_TEST_PG names a server: after each kind of write
//! (claims imported and settled, a real-time settlement, a void, alert work, a
//! contract, a person moving to another village, a household moving, a new
//! practitioner) the report from the kept facts equals the report computed from
//! the whole store at once, and the refresh recomputed only the villages and
//! persons written.

mod common;

use chrono::NaiveDate;
use common::*;
use domain::{RegionLevel, ResidentId};
use indicators::{Definitions, PeriodKind};
use web::App;

fn levels() -> Vec<RegionLevel> {
    vec![RegionLevel::Province, RegionLevel::City, RegionLevel::County, RegionLevel::Township, RegionLevel::Village]
}

fn today() -> NaiveDate {
    domain::time::china_today()
}

/// The report of 2024 by month from the kept facts, as CSV after the count of
/// claims left unsettled.
async fn kept(repo: &App, scope: &str) -> String {
    let r = app::kept::report(
        repo.store(),
        Definitions::shipped(),
        scope,
        2024,
        levels(),
        PeriodKind::Month,
        today(),
        None,
    )
    .await
    .unwrap();
    format!("{} unsettled\n{}", r.unsettled, String::from_utf8(r.csv().unwrap()).unwrap())
}

/// The same report computed from the whole store at once.
async fn scratch(repo: &App, scope: &str) -> String {
    let s = web::access::Scope::parse(scope).unwrap();
    let data = repo.indicator_data(&s, 2024).await.unwrap();
    let network = repo.network(&s).await.unwrap();
    let r = web::analysis::build_report(
        Definitions::shipped(),
        &data,
        Some(network),
        scope,
        2024,
        levels(),
        PeriodKind::Month,
    )
    .unwrap();
    format!("{} unsettled\n{}", r.unsettled, String::from_utf8(r.csv().unwrap()).unwrap())
}

/// Refreshes, checks what it recomputed (the villages whose registry or alerts
/// changed, the persons whose claims or registry entries did), and compares the
/// two reports.
async fn same_after(repo: &App, what: &str, stale: usize, persons: usize) {
    let done = app::kept::refresh(repo.store(), None, today(), None).await.unwrap();
    assert!(done.built.is_empty(), "{what}: {done:?}");
    assert_eq!((done.stale, done.persons), (stale, persons), "{what}: the villages and persons written: {done:?}");
    for scope in ["", "341122"] {
        assert_eq!(kept(repo, scope).await, scratch(repo, scope).await, "{what}, scope {scope:?}");
    }
}

async fn kept_facts_follow_every_write(kind: Kind) {
    let (url, _keep): (String, Box<dyn std::any::Any>) = if kind == Kind::Sqlite {
        let dir = tempfile::tempdir().unwrap();
        (dir.path().join("kept.db").to_str().unwrap().to_string(), Box::new(dir))
    } else {
        let db = PgDatabase::create(&pg_admin_url().unwrap()).await;
        (db.url.clone(), Box::new(db))
    };
    let repo = App::open(&url).await.unwrap();
    let fx = fill_store(repo.store()).await;
    let store = repo.store();
    let all = web::access::Scope::parse("").unwrap();

    // Nothing is kept before a report asks for a year.
    assert!(store.indicator_years().await.unwrap().is_empty());
    assert_eq!(app::kept::refresh(store, None, today(), None).await.unwrap(), app::kept::Refreshed::default());

    // The first report builds the year: every county.
    let first = app::kept::refresh(store, Some(2024), today(), None).await.unwrap();
    assert_eq!((first.built.as_slice(), first.ranges, first.coverage.as_slice()), (&[2024][..], 2, &[2024][..]));
    let years = store.indicator_years().await.unwrap();
    assert!(years[0].complete && years[0].coverage_as_of == Some(NaiveDate::from_ymd_opt(2024, 12, 31).unwrap()));
    assert_eq!(kept(&repo, "").await, scratch(&repo, "").await, "the first build");
    let unsettled = kept(&repo, "").await;
    assert!(unsettled.starts_with("2 unsettled\n"), "{unsettled}");

    // A second claim of each person, imported: the persons' facts change (one
    // more unsettled claim each); no village's registry or alerts did.
    let a: ResidentId = fx.a_person.parse().unwrap();
    let b: ResidentId = fx.b_person.parse().unwrap();
    let second = |id: &str, person: ResidentId| domain::Claim {
        claim_id: id.into(),
        person_id: person,
        facility_level: domain::FacilityLevel::County,
        kind: domain::ClaimKind::Outpatient,
        admitted: domain::parse_date("2024-03-02").unwrap(),
        discharged: domain::parse_date("2024-03-02").unwrap(),
        total_cost: domain::Fen::from_yuan(300),
        eligible_cost: domain::Fen::from_yuan(250),
        diagnosis: "I10".into(),
        facility_id: String::new(),
        referred: false,
    };
    store.import_claims(&[second("HA1-C3", a), second("HB1-C3", b)]).await.unwrap();
    same_after(&repo, "claims imported", 0, 2).await;
    assert!(kept(&repo, "").await.starts_with("4 unsettled\n"));

    // Settling the stored claims changes the two persons' facts.
    app::settlement::settle_stored(store, &store::Scope::all(), 2024, "test").await.unwrap();
    same_after(&repo, "settled", 0, 2).await;
    assert_ne!(kept(&repo, "").await, unsettled, "the settlements count");

    // A real-time settlement in one village.
    let claim = domain::Claim {
        claim_id: "HA1-C2".into(),
        person_id: a,
        facility_level: domain::FacilityLevel::Township,
        kind: domain::ClaimKind::Inpatient,
        admitted: domain::parse_date("2024-07-02").unwrap(),
        discharged: domain::parse_date("2024-07-09").unwrap(),
        total_cost: domain::Fen::from_yuan(8_000),
        eligible_cost: domain::Fen::from_yuan(7_000),
        diagnosis: "C16".into(),
        facility_id: "FA1".into(),
        referred: false,
    };
    repo.settle_claim(&all, claim, "clerk").await.unwrap();
    same_after(&repo, "a real-time settlement", 0, 1).await;

    // Voiding it.
    repo.void_claim(&all, &domain::ClaimKey::new("FA1", "HA1-C2"), "clerk").await.unwrap();
    same_after(&repo, "a void", 0, 1).await;

    // Alert work: verified, assisted with a measure, resolved.
    for to in ["verifying", "assisting"] {
        repo.transition_alert(&all, fx.b_alert, to, "officer", "").await.unwrap();
    }
    let m = app::Measure {
        kind: "temporary_relief".into(),
        by: "officer".into(),
        amount: domain::Fen::from_yuan(800),
        note: String::new(),
        at: chrono::Utc::now(),
    };
    repo.add_measure(&all, fx.b_alert, m).await.unwrap();
    repo.transition_alert(&all, fx.b_alert, "resolved", "officer", "relief paid").await.unwrap();
    same_after(&repo, "an alert resolved with assistance", 1, 0).await;

    // A family-doctor contract recorded on the ledger (after a monitor run wrote it).
    let entry = monitor::LedgerEntry {
        person_id: b,
        household_id: "HB1".into(),
        batch: monitor::Batch::Serious,
        diagnosis: "C16".into(),
        disease: "胃癌".into(),
        status: monitor::TreatmentStatus::Treated,
        treated_in_county: Some(true),
        year_cost: domain::Fen::from_yuan(60_000),
        contract: None,
    };
    store.put_ledger(&store::Scope::all(), 2024, &[entry]).await.unwrap();
    // A line without a contract feeds no kept fact: nothing is stale.
    same_after(&repo, "a ledger stored", 0, 0).await;
    let contract = monitor::Contract { doctor: "王医生".into(), signed: domain::parse_date("2024-02-01").unwrap() };
    assert_eq!(store.set_contract(&store::Scope::all(), b, &contract).await.unwrap(), 1);
    same_after(&repo, "a contract", 1, 0).await;

    // A person of 341122 moves into the household of 341123: both villages change.
    let mut p = store.household_members("HA1").await.unwrap().remove(0);
    p.household_id = "HB1".into();
    store.import_persons(&[p]).await.unwrap();
    same_after(&repo, "a person moved", 2, 1).await;

    // The household of 341123 (now of both persons) moves to the village of
    // 341122: both villages, and its members' claims, move.
    let mut hb: domain::Household = store.get("HB1").await.unwrap().unwrap();
    let ha: domain::Household = store.get("HA1").await.unwrap().unwrap();
    hb.village_code = ha.village_code;
    store.import_households(&[hb]).await.unwrap();
    same_after(&repo, "a household moved", 2, 2).await;

    // A new practitioner: the reach is measured again; no village is stale.
    store
        .import_practitioners(&[domain::Practitioner {
            practitioner_id: "PA2".into(),
            facility_id: "FA1".into(),
            name: "李医生".into(),
            qualification: domain::Qualification::AssistantPhysician,
            gp: false,
            birth_date: domain::parse_date("1990-03-01").unwrap(),
            active: true,
        }])
        .await
        .unwrap();
    assert_eq!(store.indicator_years().await.unwrap()[0].coverage_as_of, None, "the network changed");
    let done = app::kept::refresh(store, None, today(), None).await.unwrap();
    assert_eq!((done.stale, done.coverage.as_slice()), (0, &[2024][..]));
    assert_eq!(kept(&repo, "").await, scratch(&repo, "").await, "after a new practitioner");

    // A quiet refresh does nothing.
    let done = app::kept::refresh(store, None, today(), None).await.unwrap();
    assert_eq!(done, app::kept::Refreshed::default());
    store.close().await;
}

/// The server's background refresh keeps the year of the latest claims from the
/// start, so that the first report of it does not wait for its build.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_refresh_builds_the_latest_year() {
    let dir = tempfile::tempdir().unwrap();
    let repo = App::open(dir.path().join("bg.db").to_str().unwrap()).await.unwrap();
    fill_store(repo.store()).await;
    assert!(repo.store().indicator_years().await.unwrap().is_empty());
    repo.refresh_precomputed().await.unwrap();
    let years = repo.store().indicator_years().await.unwrap();
    assert_eq!(years.iter().map(|y| (y.year, y.complete)).collect::<Vec<_>>(), [(2024, true)]);
    assert_eq!(kept(&repo, "").await, scratch(&repo, "").await);
    repo.store().close().await;
}

mod sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn kept_facts_follow_every_write() {
        super::kept_facts_follow_every_write(crate::common::Kind::Sqlite).await;
    }
}

mod postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn kept_facts_follow_every_write() {
        if crate::common::pg_admin_url().is_none() {
            return;
        }
        super::kept_facts_follow_every_write(crate::common::Kind::Postgres).await;
    }
}
