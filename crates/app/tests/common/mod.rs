//! The test fixture: a fresh store per test, on SQLite (a temporary file) and on
//! PostgreSQL (a fresh database on the server named by SAFETYNET_TEST_PG, dropped
//! after the test). Without SAFETYNET_TEST_PG the PostgreSQL variants print a skip
//! note, unless CI is set, where a missing server fails the test.
#![allow(dead_code)]

use chrono::NaiveDate;
use domain::*;
use sqlx::Connection;
use std::sync::atomic::{AtomicU32, Ordering};
use store::Store;

pub struct TestDb {
    pub store: Store,
    /// What the store was opened with (a file path, or a PostgreSQL URL).
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn in_ci() -> bool {
    std::env::var("CI").map(|v| !v.is_empty() && v != "false" && v != "0").unwrap_or(false)
}

/// The URL of `admin` with its database replaced by `db`.
fn with_database(admin: &str, db: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin, String::new()),
    };
    let after = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[after..].find('/').map(|i| after + i).unwrap_or(base.len());
    format!("{}/{db}{query}", &base[..host_end])
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        TestDb::sqlite_at(store::SCHEMA_VERSION).await
    }

    /// A fresh SQLite store migrated up to `version` (an older one, to test a migration).
    pub async fn sqlite_at(version: i64) -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test.db");
        let url = path.to_str().unwrap().to_string();
        let store = Store::open(&url).await.unwrap();
        store.migrate_to(version).await.unwrap();
        TestDb { store, url, _dir: Some(dir), pg: None }
    }

    /// A fresh PostgreSQL database, or `None` (with a note) when no server is configured.
    pub async fn pg() -> Option<TestDb> {
        TestDb::pg_at(store::SCHEMA_VERSION).await
    }

    /// [`TestDb::pg`] migrated up to `version`.
    pub async fn pg_at(version: i64) -> Option<TestDb> {
        let admin = match std::env::var("SAFETYNET_TEST_PG") {
            Ok(u) if !u.is_empty() => u,
            _ => {
                if in_ci() {
                    panic!("CI is set but SAFETYNET_TEST_PG is not: the PostgreSQL tests must run in CI");
                }
                eprintln!("note: SAFETYNET_TEST_PG is not set; skipping the PostgreSQL variant");
                return None;
            }
        };
        let name = format!(
            "safetynet_t_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            chrono::Utc::now().timestamp_subsec_nanos()
        );
        let mut conn = match sqlx::PgConnection::connect(&admin).await {
            Ok(c) => c,
            Err(e) => {
                if in_ci() {
                    panic!("cannot reach PostgreSQL at SAFETYNET_TEST_PG: {e}");
                }
                eprintln!("note: cannot reach PostgreSQL at SAFETYNET_TEST_PG ({e}); skipping");
                return None;
            }
        };
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
        conn.close().await.ok();
        let url = with_database(&admin, &name);
        let store = Store::open(&url).await.unwrap();
        store.migrate_to(version).await.unwrap();
        Some(TestDb { store, url, _dir: None, pg: Some((admin, name)) })
    }

    pub async fn finish(self) {
        self.store.close().await;
        if let Some((admin, name)) = self.pg {
            if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await;
            }
        }
    }
}

/// Runs each named async test function `fn(&Store)` against both engines.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let db = $crate::common::TestDb::sqlite().await;
                    super::$name(&db.store).await;
                    db.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let Some(db) = $crate::common::TestDb::pg().await else { return };
                    super::$name(&db.store).await;
                    db.finish().await;
                }
            )*
        }
    };
}

pub fn d(s: &str) -> NaiveDate {
    parse_date(s).unwrap()
}

pub fn code(s: &str) -> RegionCode {
    RegionCode::parse(s).unwrap()
}

/// A province, a county, a township and three villages (two in the township,
/// one in another county).
pub fn regions() -> Vec<Region> {
    let r = |c: &str, name: &str, ur: Option<u16>, pop: Option<u32>| Region {
        code: code(c),
        name: name.into(),
        level: code(c).level(),
        urban_rural: ur,
        population: pop,
        lon: pop.map(|_| 117.5),
        lat: pop.map(|_| 31.5),
    };
    vec![
        r("34", "Anhui", None, None),
        r("341122", "Laian", None, None),
        r("341122100", "Town A", None, None),
        r("341122100201", "Village A1", Some(220), Some(800)),
        r("341122100202", "Village A2", Some(210), Some(1200)),
        r("341123100201", "Village B1", Some(220), Some(600)),
    ]
}

pub fn household(id: &str, village: &str) -> Household {
    Household {
        household_id: id.into(),
        village_code: code(village),
        size: 3,
        income: Fen::from_yuan(30_000),
        consumption: Some(Fen::from_yuan(20_000)),
        food: None,
    }
}

pub fn pid(seq: u16) -> ResidentId {
    ResidentId::from_parts(341122, d("1960-05-04"), seq).unwrap()
}

pub fn person(seq: u16, household: &str, status: PovertyStatus) -> Person {
    Person {
        person_id: pid(seq),
        household_id: household.into(),
        name: format!("Person {seq}"),
        status,
        status_since: d("2021-01-01"),
        diagnoses: vec![],
    }
}

pub fn claim(id: &str, seq: u16, discharged: &str, total: i64, eligible: i64) -> Claim {
    Claim {
        claim_id: id.into(),
        person_id: pid(seq),
        facility_level: FacilityLevel::County,
        kind: ClaimKind::Inpatient,
        admitted: d(discharged) - chrono::Duration::days(5),
        discharged: d(discharged),
        total_cost: Fen::from_yuan(total),
        eligible_cost: Fen::from_yuan(eligible),
        diagnosis: "C16".into(),
        facility_id: String::new(),
        referred: false,
    }
}

/// Regions, three households and five persons.
pub async fn seed(store: &Store) {
    store.import_regions(&regions()).await.unwrap();
    store
        .import_households(&[
            household("H1", "341122100201"),
            household("H2", "341122100202"),
            household("H3", "341123100201"),
        ])
        .await
        .unwrap();
    store
        .import_persons(&[
            person(1, "H1", PovertyStatus::Lifted),
            person(3, "H1", PovertyStatus::Lifted),
            person(5, "H2", PovertyStatus::General),
            person(7, "H3", PovertyStatus::LowIncome),
            person(9, "H3", PovertyStatus::LowIncome),
        ])
        .await
        .unwrap();
}
