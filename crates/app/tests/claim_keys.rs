//! Claims keyed by the facility that submitted them (issue 20, item 4), on both
//! engines: two facilities' claims of one ID settle, read and void apart; a
//! facility or a claim outside the caller's scope is answered as an unknown
//! one; the batch and the order keep to the key; and a store that migration 13
//! left, with settled claims, reads, settles and voids the same once migrated.

mod common;
use common::*;
use domain::*;
use store::{Scope, Store, StoreError};

both_backends!(two_facilities_claims_of_one_id_are_two_claims, the_batch_settles_each_key_once);

const POLICY: &str = include_str!("../../settle/tests/data/demo_county_2024.toml");

fn at(facility: &str, c: Claim) -> Claim {
    Claim { facility_id: facility.into(), ..c }
}

fn facility(id: &str, village: &str) -> Facility {
    Facility {
        opened: None,
        closed: None,
        facility_id: id.into(),
        name: format!("Clinic {id}"),
        kind: FacilityKind::VillageClinic,
        grade: None,
        region_code: code(village),
        lon: None,
        lat: None,
    }
}

async fn setup(store: &Store) {
    seed(store).await;
    store.import_facilities(&[facility("FA", "341122100201"), facility("FB", "341123100201")]).await.unwrap();
    app::settlement::put_policy(store, "34", 2024, POLICY, "admin").await.unwrap();
}

async fn two_facilities_claims_of_one_id_are_two_claims(store: &Store) {
    setup(store).await;
    let (a, b, all) = (Scope::new("341122").unwrap(), Scope::new("341123").unwrap(), Scope::all());
    let xa = at("FA", claim("X", 1, "2024-03-10", 60_000, 50_000));
    let xb = at("FB", claim("X", 7, "2024-04-10", 20_000, 18_000));
    // Before county A's hospital uses the ID, county B's clerk asks about it.
    let (fa_x, fb_x) = (ClaimKey::new("FA", "X"), ClaimKey::new("FB", "X"));
    let void_before = app::settlement::void_claim(store, &b, &fa_x, "clerk_b").await.unwrap_err().to_string();
    let xb_at_fa = at("FA", claim("X", 7, "2024-04-10", 20_000, 18_000));
    let settle_before =
        app::settlement::settle_realtime(store, &b, &xb_at_fa, "clerk_b").await.unwrap_err().to_string();

    // Each county settles X at its own facility: two claims.
    let ra = app::settlement::settle_realtime(store, &a, &xa, "clerk_a").await.unwrap();
    let rb = app::settlement::settle_realtime(store, &b, &xb, "clerk_b").await.unwrap();
    assert!(!ra.replayed && !rb.replayed, "the same ID at another facility is another claim");
    assert_ne!(ra.out_of_pocket, rb.out_of_pocket);

    // County B's clerk settling X at county A's facility: an unknown facility,
    // answered as before A's claim existed and as for a facility never stored.
    let e = app::settlement::settle_realtime(store, &b, &xb_at_fa, "clerk_b").await.unwrap_err();
    assert!(matches!(e, StoreError::NotFound { kind: "facility", .. }), "{e}");
    assert_eq!(e.to_string(), settle_before);
    let nowhere = at("NOPE", claim("X", 7, "2024-04-10", 20_000, 18_000));
    let unknown = app::settlement::settle_realtime(store, &b, &nowhere, "clerk_b").await.unwrap_err();
    assert_eq!(e.to_string(), unknown.to_string().replace("NOPE", "FA"));

    // Reads by key: each scope finds its own claim, and not the other's.
    assert_eq!(store.settlement(&a, &fa_x).await.unwrap().unwrap().out_of_pocket, ra.out_of_pocket);
    assert_eq!(store.settlement(&b, &fb_x).await.unwrap().unwrap().facility_id, "FB");
    assert!(store.settlement(&b, &fa_x).await.unwrap().is_none());
    assert!(store.settlement(&a, &fb_x).await.unwrap().is_none());
    assert!(app::settlement::explain_stored(store, &b, &fa_x).await.unwrap().is_none());
    assert_eq!(app::settlement::explain_stored(store, &a, &fa_x).await.unwrap().unwrap(), ra.explanation);
    // A claim named by ID alone: one in scope is found, several are listed, none
    // outside the scope is named.
    assert_eq!(store.claim_facilities(&all, "X").await.unwrap(), ["FA", "FB"]);
    assert_eq!(store.claim_facilities(&b, "X").await.unwrap(), ["FB"]);
    assert_eq!(app::settlement::claim_key_in_scope(store, &b, "X").await.unwrap(), fb_x);
    let e = app::settlement::claim_key_in_scope(store, &all, "X").await.unwrap_err();
    assert!(e.to_string().contains("FA, FB"), "{e}");

    // B voiding A's X: answered as before it existed.
    let e = app::settlement::void_claim(store, &b, &fa_x, "clerk_b").await.unwrap_err();
    assert!(matches!(e, StoreError::NotFound { kind: "claim", .. }), "{e}");
    assert_eq!(e.to_string(), void_before);

    // The same claim again at its facility is the stored result; other data under
    // its key is a conflict, for its owner only.
    assert!(app::settlement::settle_realtime(store, &a, &xa, "clerk_a").await.unwrap().replayed);
    let changed = at("FA", claim("X", 1, "2024-03-10", 61_000, 50_000));
    let e = app::settlement::settle_realtime(store, &a, &changed, "clerk_a").await.unwrap_err();
    assert!(matches!(e, StoreError::Constraint { .. }), "{e}");

    // A voids its own X; B's X stands.
    let v = app::settlement::void_claim(store, &a, &fa_x, "clerk_a").await.unwrap();
    assert_eq!((v.claim_id.as_str(), v.facility_id.as_str()), ("X", "FA"));
    assert!(store.settlement(&a, &fa_x).await.unwrap().unwrap().voided);
    let theirs = store.settlement(&b, &fb_x).await.unwrap().unwrap();
    assert!(!theirs.voided);
    assert_eq!(theirs.out_of_pocket, rb.out_of_pocket);
    // The audit rows name the claims by key.
    let rows = store.audit_log(100).await.unwrap();
    let named: Vec<(&str, &str)> = rows.iter().map(|r| (r.action.as_str(), r.object_id.as_str())).collect();
    for want in [("settle", "X at FA"), ("settle", "X at FB"), ("void_claim", "X at FA")] {
        assert!(named.contains(&want), "{named:?}");
    }
}

async fn the_batch_settles_each_key_once(store: &Store) {
    setup(store).await;
    let all = Scope::all();
    // One person's two claims of one ID and one day, at two facilities, and a
    // third without a facility (a file without the column).
    let claims = [
        at("FA", claim("Y", 1, "2024-05-01", 30_000, 25_000)),
        claim("Y", 1, "2024-05-01", 10_000, 9_000),
        at("FB", claim("Y", 1, "2024-05-01", 5_000, 4_000)),
    ];
    store.import_claims(&claims).await.unwrap();
    // Imported again: the same keys, unchanged; a key twice in one file is refused.
    assert_eq!(store.import_claims(&claims).await.unwrap().unchanged, 3);
    assert!(store.import_claims(&[claims[0].clone(), claims[0].clone()]).await.is_err());
    let counts = app::settlement::settle_stored(store, &all, 2024, "batch").await.unwrap();
    assert_eq!(counts.settled, 3);
    let stored = store.settlements_of(&all, pid(1)).await.unwrap();
    let keys: Vec<(&str, &str)> = stored.iter().map(|s| (s.claim_id.as_str(), s.facility_id.as_str())).collect();
    assert_eq!(keys, [("Y", ""), ("Y", "FA"), ("Y", "FB")], "(discharged, claim_id, facility_id)");
    // In that order, as the engine settles them one after the other.
    let policy = settle::Policy::parse(POLICY).unwrap();
    let mut acc = settle::Accumulators::new(&policy);
    for (s, c) in stored.iter().zip([&claims[1], &claims[0], &claims[2]]) {
        let want = settle::settle_claim(&policy, &settle::ClaimInput::from(c), PovertyStatus::Lifted, &mut acc);
        assert_eq!(s.out_of_pocket, want.out_of_pocket, "{} at {}", s.claim_id, s.facility_id);
    }
    // Exported by key, each once.
    let mut exported = Vec::new();
    store
        .export::<Claim, std::convert::Infallible>(&all, |chunk| {
            exported.extend(chunk.into_iter().map(|c| c.claim_key()));
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(exported, [ClaimKey::new("", "Y"), ClaimKey::new("FA", "Y"), ClaimKey::new("FB", "Y")]);
    assert_eq!(store.get::<Claim>("Y at FB").await.unwrap().unwrap(), claims[2]);
    assert_eq!(store.get::<Claim>("Y").await.unwrap().unwrap(), claims[1]);
    // A void of one re-settles the others, each by its key.
    let v = app::settlement::void_claim(store, &all, &ClaimKey::new("", "Y"), "clerk").await.unwrap();
    let rest: Vec<&ClaimKey> = v.settlements.iter().map(|(k, ..)| k).collect();
    assert_eq!(rest, [&ClaimKey::new("FA", "Y"), &ClaimKey::new("FB", "Y")]);
    for c in v.changes.iter().filter(|c| !c.facility_id.is_empty()) {
        let s = store.settlement(&all, &ClaimKey::new(&c.facility_id, &c.claim_id)).await.unwrap().unwrap();
        assert_eq!(s.out_of_pocket, c.new_out_of_pocket);
    }
}

/// The facilities of `setup`, as a store before migration 20 held them.
const OLD_FACILITIES: &str = "INSERT INTO facilities (facility_id, name, kind, grade, region_code, lon, lat) VALUES
    ('FA', 'Clinic FA', 'village_clinic', NULL, 341122100201, NULL, NULL),
    ('FB', 'Clinic FB', 'village_clinic', NULL, 341123100201, NULL, NULL)";

/// The claims, settlements, their payments and the accumulators, copied row by row from
/// one store into another of the same contents, as migration 13 keeps them
/// (no facility in the settlements' rows).
macro_rules! copy_settled {
    ($from:expr, $to:expr) => {{
        // The claims first, in the columns migration 13 knew (the claims
        // table learnt `referred` in migration 25).
        type OldClaim = (String, i64, String, String, chrono::NaiveDate, chrono::NaiveDate, i64, i64, i64, String, String);
        let claims: Vec<OldClaim> = sqlx::query_as(
            "SELECT claim_id, person_id, facility_level, kind, admitted, discharged, year, total_cost, eligible_cost,
                    diagnosis, facility_id FROM claims ORDER BY claim_id, facility_id",
        )
        .fetch_all(&$from)
        .await
        .unwrap();
        for c in claims {
            sqlx::query(
                "INSERT INTO claims (claim_id, person_id, facility_level, kind, admitted, discharged, year, total_cost,
                 eligible_cost, diagnosis, facility_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(c.0).bind(c.1).bind(c.2).bind(c.3).bind(c.4).bind(c.5).bind(c.6).bind(c.7).bind(c.8).bind(c.9).bind(c.10)
            .execute(&$to)
            .await
            .unwrap();
        }
        let rows: Vec<(String, i64, i64, Option<i64>, Option<i64>, i64, i64, i64, String, chrono::DateTime<chrono::Utc>, String, Option<String>)> =
            sqlx::query_as(
                "SELECT claim_id, person_id, year, policy_id, policy_version, total_cost, eligible_cost, out_of_pocket,
                        status, settled_at, settled_by, explanation FROM settlements ORDER BY claim_id",
            )
            .fetch_all(&$from)
            .await
            .unwrap();
        for r in rows {
            sqlx::query(
                "INSERT INTO settlements (claim_id, person_id, year, policy_id, policy_version, total_cost, eligible_cost,
                 out_of_pocket, status, settled_at, settled_by, explanation) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(r.0).bind(r.1).bind(r.2).bind(r.3).bind(r.4).bind(r.5).bind(r.6).bind(r.7).bind(r.8).bind(r.9).bind(r.10).bind(r.11)
            .execute(&$to)
            .await
            .unwrap();
        }
        let pays: Vec<(String, i64, String, i64)> =
            sqlx::query_as("SELECT claim_id, position, tier, amount FROM settlement_payments").fetch_all(&$from).await.unwrap();
        for p in pays {
            sqlx::query("INSERT INTO settlement_payments (claim_id, position, tier, amount) VALUES ($1, $2, $3, $4)")
                .bind(p.0).bind(p.1).bind(p.2).bind(p.3)
                .execute(&$to)
                .await
                .unwrap();
        }
        let acc: Vec<(i64, i64, String, i64, i64, i64)> =
            sqlx::query_as("SELECT person_id, year, tier, base, oop, paid FROM accumulators").fetch_all(&$from).await.unwrap();
        for a in acc {
            sqlx::query("INSERT INTO accumulators (person_id, year, tier, base, oop, paid) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(a.0).bind(a.1).bind(a.2).bind(a.3).bind(a.4).bind(a.5)
                .execute(&$to)
                .await
                .unwrap();
        }
    }};
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_store_left_by_migration_13_keeps_its_claims_sqlite() {
    let (now, old) = (TestDb::sqlite().await, TestDb::sqlite_at(13).await);
    let (from, to) =
        (sqlx::SqlitePool::connect(&now.url).await.unwrap(), sqlx::SqlitePool::connect(&old.url).await.unwrap());
    let facilities = async { sqlx::query(OLD_FACILITIES).execute(&to).await.map(|_| ()).unwrap() };
    the_migration_keeps_settled_claims(&now.store, &old.store, facilities, || async { copy_settled!(from, to) }).await;
    from.close().await;
    to.close().await;
    now.finish().await;
    old.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_store_left_by_migration_13_keeps_its_claims_postgres() {
    let (Some(now), Some(old)) = (TestDb::pg().await, TestDb::pg_at(13).await) else { return };
    let (from, to) = (sqlx::PgPool::connect(&now.url).await.unwrap(), sqlx::PgPool::connect(&old.url).await.unwrap());
    let facilities = async { sqlx::query(OLD_FACILITIES).execute(&to).await.map(|_| ()).unwrap() };
    the_migration_keeps_settled_claims(&now.store, &old.store, facilities, || async { copy_settled!(from, to) }).await;
    from.close().await;
    to.close().await;
    now.finish().await;
    old.finish().await;
}

/// `now` is migrated, `old` at migration 13; both get the same registry and
/// claims (some with facilities, the IDs unique as they had to be), `now`
/// settles them and `copy` writes its settlements into `old` as migration 13
/// kept them. Once `old` is migrated, the two read, settle and void the same.
async fn the_migration_keeps_settled_claims<F, Fut>(
    now: &Store,
    old: &Store,
    old_facilities: impl std::future::Future<Output = ()>,
    copy: F,
) where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    assert_eq!(old.schema_version().await.unwrap(), 13);
    let claims = [
        claim("C1", 1, "2024-03-10", 60_000, 50_000),
        at("FA", claim("C2", 1, "2024-06-01", 20_000, 20_000)),
        at("FA", claim("C3", 3, "2024-04-01", 8_000, 6_000)),
        claim("C4", 7, "2024-05-01", 30_000, 20_000),
        claim("C5", 1, "2024-08-01", 5_000, 4_000),
    ];
    setup(now).await;
    // The old store's facilities as migration 13 kept them (no days of
    // opening and closing, migration 20).
    seed(old).await;
    old_facilities.await;
    app::settlement::put_policy(old, "34", 2024, POLICY, "admin").await.unwrap();
    // The old store's claims are copied as migration 13 kept them, with the
    // settlements (`copy`).
    now.import_claims(&claims).await.unwrap();
    let all = Scope::all();
    let enrolled: Vec<(String, domain::Enrolment)> = [pid(1), pid(3), pid(7)]
        .into_iter()
        .enumerate()
        .map(|(line, person_id)| {
            let day = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
            let e = domain::Enrolment {
                person_id,
                year: 2024,
                category: domain::SubsidyCategory::Partial,
                enrolled_on: day,
            };
            (format!("line {}", line + 2), e)
        })
        .collect();
    now.set_enrolments(&all, &enrolled, "test").await.unwrap();
    app::settlement::settle_stored(now, &all, 2024, "batch").await.unwrap();
    copy().await;
    assert_eq!(old.migrate().await.unwrap(), store::SCHEMA_VERSION);
    assert_eq!(old.migrate().await.unwrap(), store::SCHEMA_VERSION, "once");
    for p in [pid(1), pid(3), pid(7)] {
        // Made before migration 17, a settlement counts as made for an enrolled
        // person, as the fresh store's are (its persons are enrolled).
        assert!(old.settlements_of(&all, p).await.unwrap().iter().all(|s| s.enrolled));
        assert_eq!(old.settlements_of(&all, p).await.unwrap(), now.settlements_of(&all, p).await.unwrap());
        assert_eq!(old.claim_views(p).await.unwrap(), now.claim_views(p).await.unwrap());
    }
    let c2 = ClaimKey::new("FA", "C2");
    assert_eq!(
        app::settlement::explain_stored(old, &all, &c2).await.unwrap(),
        app::settlement::explain_stored(now, &all, &c2).await.unwrap()
    );
    assert_eq!(old.settlement_payments(&all, 2024).await.unwrap(), now.settlement_payments(&all, 2024).await.unwrap());
    // Settles and voids the same.
    let next = at("FA", claim("C6", 1, "2024-09-01", 9_000, 8_000));
    let (a, b) = (
        app::settlement::settle_realtime(now, &all, &next, "clerk").await.unwrap(),
        app::settlement::settle_realtime(old, &all, &next, "clerk").await.unwrap(),
    );
    assert_eq!((a.payments, a.out_of_pocket), (b.payments, b.out_of_pocket));
    let (a, b) = (
        app::settlement::void_claim(now, &all, &c2, "clerk").await.unwrap(),
        app::settlement::void_claim(old, &all, &c2, "clerk").await.unwrap(),
    );
    assert_eq!((a.changes, a.settlements), (b.changes, b.settlements));
    for p in [pid(1), pid(3), pid(7)] {
        let strip = |v: Vec<store::StoredSettlement>| {
            v.into_iter()
                .map(|s| (s.claim_id, s.facility_id, s.payments, s.out_of_pocket, s.voided))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            strip(old.settlements_of(&all, p).await.unwrap()),
            strip(now.settlements_of(&all, p).await.unwrap())
        );
    }
    // And the migrated store takes another facility's claim of a stored ID.
    let again = at("FB", claim("C4", 7, "2024-10-01", 1_000, 900));
    assert!(!app::settlement::settle_realtime(old, &all, &again, "clerk").await.unwrap().replayed);
}
