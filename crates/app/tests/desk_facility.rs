//! The desk's two rules of issue 16 over the store, on both engines: a clerk
//! bound to a facility (and every token of theirs) handles that facility's
//! claims and admissions only, refused with `Forbidden` and audited otherwise;
//! and a claim's referral, kept on the claim, chooses the policy's rates above
//! the county, to the fen, in real time, on the slip, in batch and after a void.

mod common;
use chrono::{Datelike, Duration, NaiveDate};
use common::*;
use domain::*;
use store::Store;

both_backends!(
    a_clerk_bound_to_a_facility_handles_its_own_only,
    a_referral_chooses_the_rates_above_the_county,
    the_desk_pages_open_admissions_by_key,
);

/// Basic insurance pays half of an unreferred claim above the county, 0.8 of
/// any other (the policy of `settle/tests/cases/15_referral`).
const REFERRAL: &str = include_str!("../../settle/tests/cases/15_referral/policy.toml");
const POLICY: &str = include_str!("../../settle/tests/data/demo_county_2024.toml");

fn today() -> NaiveDate {
    domain::time::china_today()
}

fn hospital(id: &str, village: &str, kind: FacilityKind) -> Facility {
    Facility {
        opened: None,
        closed: None,
        facility_id: id.into(),
        name: format!("hospital {id}"),
        kind,
        grade: None,
        region_code: code(village),
        lon: None,
        lat: None,
    }
}

fn bill(id: &str, seq: u16, facility: &str, days_ago: i64, total: i64) -> Claim {
    let day = today() - Duration::days(days_ago);
    Claim { facility_id: facility.into(), ..claim(id, seq, &day.to_string(), total, total * 9 / 10) }
}

fn forbidden<T: std::fmt::Debug>(r: app::AppResult<T>) -> String {
    match r {
        Err(app::AppError::Forbidden(m)) => m,
        other => panic!("expected a refusal for another facility, got {other:?}"),
    }
}

async fn a_clerk_bound_to_a_facility_handles_its_own_only(store: &Store) {
    seed(store).await;
    // FA and FC are two hospitals of one county; FB is another county's.
    let hospitals = [
        hospital("FA", "341122100201", FacilityKind::CountyHospital),
        hospital("FC", "341122100202", FacilityKind::CountyHospital),
        hospital("FB", "341123100201", FacilityKind::CountyHospital),
    ];
    store.import_facilities(&hospitals).await.unwrap();
    let y = today().year();
    app::settlement::put_policy(store, "34", y, &POLICY.replace("year = 2024", &format!("year = {y}")), "a")
        .await
        .unwrap();
    let app = app::App::new(store.clone());
    let new = |name: &str, role, scope: &str, facility: Option<&str>| app::NewUser {
        username: name.into(),
        password_hash: "$argon2id$x".into(),
        role,
        scope: app::Scope::parse(scope).unwrap().with_facility(facility.map(str::to_string)),
    };
    let admin = app.create_user(new("admin", app::Role::Administrator, "341122", None)).await.unwrap();
    // Only a clerk is bound, to a stored facility of their own region.
    for (role, facility, why) in [
        (app::Role::Officer, "FA", "only a clerk"),
        (app::Role::Clerk, "FB", "outside the account's region"),
        (app::Role::Clerk, "NOPE", "not in the store"),
    ] {
        match app.create_user(new("x", role, "341122", Some(facility))).await {
            Err(app::AppError::Invalid(m)) => assert!(m.contains(why), "{m}"),
            other => panic!("{role} at {facility}: {other:?}"),
        }
    }
    let clerk = app.create_user(new("li.clerk", app::Role::Clerk, "341122", None)).await.unwrap();
    assert_eq!(clerk.scope.facility(), None);
    let clerk = app.set_user_facility(&admin, clerk.id, Some("FA")).await.unwrap();
    assert_eq!(clerk.scope.facility(), Some("FA"));
    assert!(matches!(app.set_user_facility(&admin, admin.id, Some("FA")).await, Err(app::AppError::Invalid(_))));
    assert!(matches!(app.set_user_facility(&clerk, clerk.id, None).await, Err(app::AppError::Invalid(_))));
    let s = clerk.scope.clone();

    // A token of the clerk acts for FA only, whatever scope it was made with.
    let t = app
        .create_token(&clerk, app::NewToken { name: "his".into(), ..Default::default() }, &"ab".repeat(32))
        .await
        .unwrap();
    let (acting, _) = app.token_identity(&"ab".repeat(32)).await.unwrap().unwrap();
    assert_eq!((acting.scope.facility(), t.scope.prefix()), (Some("FA"), "341122"));

    // The county's office (no facility) settles at FC; the clerk may not touch it.
    let county = app::Scope::parse("341122").unwrap();
    let fc = app.settle_claim(&county, bill("C1", 1, "FC", 2, 5_000), "office").await.unwrap();
    let m = forbidden(app.settle_claim(&acting.scope, bill("C2", 1, "FC", 2, 5_000), "li.clerk").await);
    assert!(m.contains("bound to facility FA") && m.contains("facility FC"), "{m}");
    forbidden(app.void_claim(&s, &fc.claim.claim_key(), "li.clerk").await);
    forbidden(app.slip(&s, &fc.claim.claim_key()).await);
    forbidden(app.admit(&s, pid(3), "FC", today(), "li.clerk").await);
    let at_fc = app.admit(&county, pid(1), "FC", today(), "office").await.unwrap();
    forbidden(app.admission(&s, at_fc.id).await);
    forbidden(app.link_admission_claim(&s, at_fc.id, "C1", "li.clerk").await);
    app.link_admission_claim(&county, at_fc.id, "C1", "office").await.unwrap();
    forbidden(app.take_admission_payment(&s, at_fc.id, Fen(100), today(), "cash", "li.clerk").await);
    forbidden(app.facility_admissions(&s, "FC").await);
    forbidden(app.arrears(&s, "FC", today()).await);
    forbidden(app.reconcile(&s, "FC", today(), today()).await);
    // Nothing was written by the refusals: FC's claim stands, unpaid.
    assert!(!app.slip(&county, &fc.claim.claim_key()).await.unwrap().unwrap().voided);
    assert_eq!(app.admission(&county, at_fc.id).await.unwrap().unwrap().paid, Fen::ZERO);
    assert!(app.store().settlement(&store::Scope::all(), &ClaimKey::new("FC", "C2")).await.unwrap().is_none());
    // Another county's facility, or an unknown one, is refused alike: the
    // answer tells nothing of what exists elsewhere.
    assert_eq!(
        forbidden(app.admit(&s, pid(7), "FB", today(), "li.clerk").await),
        forbidden(app.admit(&s, pid(7), "FB", today(), "li.clerk").await)
    );
    let unknown = forbidden(app.admit(&s, pid(7), "NOPE", today(), "li.clerk").await);
    assert!(unknown.contains("facility NOPE"), "{unknown}");

    // Its own facility's work goes through.
    let a = app.admit(&s, pid(1), "FA", today(), "li.clerk").await.unwrap();
    let fa = app.settle_claim(&s, bill("A1", 1, "FA", 1, 8_000), "li.clerk").await.unwrap();
    app.link_admission_claim(&s, a.id, "A1", "li.clerk").await.unwrap();
    let a = app.take_admission_payment(&s, a.id, Fen(100), today(), "cash", "li.clerk").await.unwrap();
    assert_eq!(a.paid, Fen(100));
    assert!(app.slip(&s, &fa.claim.claim_key()).await.unwrap().is_some());
    assert_eq!(app.facility_admissions(&s, "FA").await.unwrap().len(), 1);
    assert_eq!(app.admissions_of(&s, pid(1)).await.unwrap().len(), 1, "FC's admission is not listed to FA's clerk");
    assert_eq!(app.admissions_of(&county, pid(1)).await.unwrap().len(), 2);
    app.void_claim(&s, &fa.claim.claim_key(), "li.clerk").await.unwrap();

    // Every refusal is audited, with the facility asked for.
    let log = app.audit_log(1000).await.unwrap();
    let refused: Vec<_> = log.iter().filter(|e| e.action == "facility_refused").collect();
    assert_eq!(refused.len(), 8, "settle, void, admit, link, pay at FC; FB twice, NOPE");
    assert!(refused.iter().all(|e| e.username == "li.clerk" && e.detail.contains("bound to facility FA")));
    assert_eq!(refused.iter().filter(|e| e.detail.contains("facility FC")).count(), 5);
    // Filed under the county's region only for a facility of the county.
    assert!(refused.iter().all(|e| e.region.is_some() == e.detail.contains("facility FC")));
    assert!(log.iter().any(|e| e.action == "set_user_facility" && e.target == "li.clerk"));

    // Freed again, the clerk works across the county as before.
    let freed = app.set_user_facility(&admin, clerk.id, None).await.unwrap();
    assert_eq!(freed.scope.facility(), None);
    assert!(app.slip(&freed.scope, &fc.claim.claim_key()).await.unwrap().is_some());
    let (acting, _) = app.token_identity(&"ab".repeat(32)).await.unwrap().unwrap();
    assert_eq!(acting.scope.facility(), None, "the token follows its owner");
}

async fn a_referral_chooses_the_rates_above_the_county(store: &Store) {
    seed(store).await;
    store
        .import_facilities(&[
            hospital("FM", "341122100201", FacilityKind::MunicipalHospital),
            hospital("FA", "341122100201", FacilityKind::CountyHospital),
        ])
        .await
        .unwrap();
    let y = today().year();
    app::settlement::put_policy(store, "34", y, &REFERRAL.replace("year = 2024", &format!("year = {y}")), "a")
        .await
        .unwrap();
    let app = app::App::new(store.clone());
    let county = app::Scope::parse("341122").unwrap();
    let at = |id: &str, seq: u16, level, facility: &str, days: i64, referred: bool| Claim {
        facility_level: level,
        referred,
        eligible_cost: Fen(333_333),
        total_cost: Fen(400_000),
        ..bill(id, seq, facility, days, 0)
    };
    // The same bill of 4,000.00 with 3,333.33 eligible at a municipal hospital.
    let referred = app.settle_claim(&county, at("M1", 1, FacilityLevel::Municipal, "FM", 5, true), "c").await.unwrap();
    let not = app.settle_claim(&county, at("M2", 3, FacilityLevel::Municipal, "FM", 5, false), "c").await.unwrap();
    // 0.8 × 3,333.33 = 2,666.664 -> 2,666.66; 0.5 × 3,333.33 = 1,666.665 -> 1,666.67.
    assert_eq!(referred.settlement.payments, vec![Fen(266_666)]);
    assert_eq!(referred.settlement.out_of_pocket, Fen(133_334));
    assert_eq!(not.settlement.payments, vec![Fen(166_667)]);
    assert_eq!(not.settlement.out_of_pocket, Fen(233_333));
    // At the county a referral changes nothing.
    let c = app.settle_claim(&county, at("K1", 5, FacilityLevel::County, "FA", 5, false), "c").await.unwrap();
    assert_eq!(c.settlement.payments, vec![Fen(266_666)]);

    // The claim keeps its referral: a replay with another one is a conflict.
    let changed = at("M2", 3, FacilityLevel::Municipal, "FM", 5, true);
    assert!(matches!(app.settle_claim(&county, changed, "c").await, Err(app::AppError::Conflict(_))));
    let replay = app.settle_claim(&county, at("M2", 3, FacilityLevel::Municipal, "FM", 5, false), "c").await.unwrap();
    assert!(replay.replayed && !replay.claim.referred);

    // The slip says so, and its explanation names the rule that applied.
    let slip = app.slip(&county, &ClaimKey::new("FM", "M2")).await.unwrap().unwrap();
    assert!(!slip.claim.referred);
    assert!(slip.explanation.contains("Without referral 未转诊"), "{}", slip.explanation);
    assert!(slip.explanation.contains("referred = false"), "{}", slip.explanation);
    let slip = app.slip(&county, &ClaimKey::new("FM", "M1")).await.unwrap().unwrap();
    assert!(slip.claim.referred && slip.explanation.contains("Referred 已转诊"), "{}", slip.explanation);

    // A void re-settles the person's year with each claim's own referral: a
    // later unreferred claim of person 3 keeps the lower rate.
    let later = app.settle_claim(&county, at("M3", 3, FacilityLevel::Municipal, "FM", 2, false), "c").await.unwrap();
    assert_eq!(later.settlement.payments, vec![Fen(166_667)]);
    let v = app.void_claim(&county, &ClaimKey::new("FM", "M2"), "c").await.unwrap();
    let m3 = v.settlements.iter().find(|(k, _)| k.claim_id == "M3").expect("M3 re-settled");
    assert_eq!(m3.1.payments, vec![Fen(166_667)]);

    // In batch: claims imported with their referral, settled from the store.
    let last = y - 1;
    app::settlement::put_policy(store, "34", last, &REFERRAL.replace("year = 2024", &format!("year = {last}")), "a")
        .await
        .unwrap();
    let day = format!("{last}-06-01");
    let imported = [
        Claim {
            facility_id: "FM".into(),
            facility_level: FacilityLevel::Provincial,
            referred: true,
            ..claim("B1", 1, &day, 1_000, 1_000)
        },
        Claim {
            facility_id: "FM".into(),
            facility_level: FacilityLevel::Provincial,
            ..claim("B2", 3, &day, 1_000, 1_000)
        },
    ];
    store.import_claims(&imported).await.unwrap();
    let stored = store.claims_of(pid(1)).await.unwrap();
    assert!(stored.iter().find(|c| c.claim_id == "B1").unwrap().referred, "kept on the claim");
    let counts = app::settlement::settle_stored(store, &store::Scope::all(), last, "batch").await.unwrap();
    assert_eq!(counts.settled, 2);
    for (id, paid) in [("B1", Fen(80_000)), ("B2", Fen(50_000))] {
        let s = app.slip(&county, &ClaimKey::new("FM", id)).await.unwrap().unwrap();
        assert_eq!(s.payments, vec![("basic".to_string(), paid)], "{id}");
    }
}

async fn the_desk_pages_open_admissions_by_key(store: &Store) {
    seed(store).await;
    store.import_facilities(&[hospital("FA", "341122100201", FacilityKind::CountyHospital)]).await.unwrap();
    let y = today().year();
    app::settlement::put_policy(store, "34", y, &POLICY.replace("year = 2024", &format!("year = {y}")), "a")
        .await
        .unwrap();
    let app = app::App::new(store.clone());
    let s = app::Scope::parse("341122").unwrap();
    // Nine admissions over four days, several on one day (the key's second part).
    let mut ids = Vec::new();
    for (k, days) in [5, 5, 5, 4, 9, 4, 1, 5, 9].into_iter().enumerate() {
        let person = [1, 3, 5][k % 3];
        ids.push(app.admit(&s, pid(person), "FA", today() - Duration::days(days), "c").await.unwrap());
    }
    // One paid up: no longer open.
    let paid = &ids[6];
    app.settle_claim(&s, bill("P1", 1, "FA", 0, 2_000), "c").await.unwrap();
    let a = app.link_admission_claim(&s, paid.id, "P1", "c").await.unwrap();
    app.take_admission_payment(&s, a.id, a.owed, today(), "cash", "c").await.unwrap();
    let mut open: Vec<(NaiveDate, i64)> = ids.iter().filter(|a| a.id != paid.id).map(|a| (a.admitted, a.id)).collect();
    open.sort();

    let mut seen = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let (rows, next) = app.open_admissions(&s, "FA", after, 3).await.unwrap();
        pages += 1;
        assert!(rows.len() <= 3);
        seen.extend(rows.iter().map(|a| (a.admitted, a.id)));
        match next {
            Some(k) => {
                assert_eq!(Some((k.admitted, k.id)), seen.last().copied(), "the key is the page's last row");
                after = Some(k);
            }
            None => break,
        }
        // An admission made between two pages, earlier than the key, does not shift the next page.
        if pages == 1 {
            app.admit(&s, pid(3), "FA", today() - Duration::days(20), "c").await.unwrap();
        }
    }
    assert_eq!(seen, open, "every open admission once, in (admitted, id) order, the paid-up one left out");
    assert_eq!(pages, 3);
    // The first page now starts with the later admission.
    let (first, _) = app.open_admissions(&s, "FA", None, 3).await.unwrap();
    assert_eq!(first[0].admitted, today() - Duration::days(20));
    // Another county asks for nothing.
    let other = app::Scope::parse("341123").unwrap();
    assert!(matches!(app.open_admissions(&other, "FA", None, 3).await, Err(app::AppError::NotFound(_))));
}

const FIRST_PERSON: &str = "SELECT person_id FROM persons ORDER BY person_id LIMIT 1";
const OLD_CLAIM: &str = "INSERT INTO claims (claim_id, person_id, facility_level, kind, admitted, discharged, year,
     total_cost, eligible_cost, diagnosis, facility_id)
     VALUES ('O1', $1, 'municipal', 'inpatient', '2024-03-01', '2024-03-05', 2024, 10000, 10000, '', 'FM')";
const OLD_USER: &str = "INSERT INTO users (username, password_hash, role, region_scope, created_at)
     VALUES ('old.clerk', 'x', 'clerk', '341122', '2024-01-01T00:00:00Z')";

/// A store left by the migration before 25: its claims read as not referred,
/// its clerks are bound to no facility.
async fn migration_25_keeps_older_rows(old: &Store) {
    let claims = old.claims_of(pid(1)).await.unwrap();
    assert_eq!(claims.len(), 1);
    assert!(!claims[0].referred, "a claim stored before referral is not referred");
    let u = old.user_by_name("old.clerk").await.unwrap().unwrap();
    assert_eq!(u.facility_id, None);
    let app = app::App::new(old.clone());
    assert_eq!(app.user_by_name("old.clerk").await.unwrap().unwrap().scope.facility(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migration_25_keeps_older_rows_sqlite() {
    let old = TestDb::sqlite_at(21).await;
    seed(&old.store).await;
    let pool = sqlx::SqlitePool::connect(&old.url).await.unwrap();
    let person: i64 = sqlx::query_scalar(FIRST_PERSON).fetch_one(&pool).await.unwrap();
    sqlx::query(OLD_CLAIM).bind(person).execute(&pool).await.unwrap();
    sqlx::query(OLD_USER).execute(&pool).await.unwrap();
    pool.close().await;
    assert_eq!(old.store.migrate().await.unwrap(), store::SCHEMA_VERSION);
    migration_25_keeps_older_rows(&old.store).await;
    old.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migration_25_keeps_older_rows_postgres() {
    let Some(old) = TestDb::pg_at(21).await else { return };
    seed(&old.store).await;
    let pool = sqlx::PgPool::connect(&old.url).await.unwrap();
    let person: i64 = sqlx::query_scalar(FIRST_PERSON).fetch_one(&pool).await.unwrap();
    sqlx::query(OLD_CLAIM).bind(person).execute(&pool).await.unwrap();
    sqlx::query(OLD_USER).execute(&pool).await.unwrap();
    pool.close().await;
    assert_eq!(old.store.migrate().await.unwrap(), store::SCHEMA_VERSION);
    migration_25_keeps_older_rows(&old.store).await;
    old.finish().await;
}
