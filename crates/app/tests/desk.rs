//! The hospital desk over the store, on both engines: admissions with the
//! deposit waived by status, the patient's share taken in instalments never
//! above the balance, voids, the arrears and their indicator, the scope; and
//! the daily reconciliation against the sum of the slips, to the fen.

mod common;
use app::access::Masking;
use chrono::{Datelike, Duration, NaiveDate};
use common::*;
use domain::*;
use std::collections::BTreeMap;
use store::Store;

both_backends!(treat_first_pay_later, the_reconciliation_equals_the_sum_of_the_slips);

const POLICY: &str = include_str!("../../settle/tests/data/demo_county_2024.toml");

fn today() -> NaiveDate {
    domain::time::china_today()
}

fn facility(id: &str, village: &str) -> Facility {
    Facility {
        opened: None,
        closed: None,
        facility_id: id.into(),
        name: format!("hospital {id}"),
        kind: FacilityKind::CountyHospital,
        grade: None,
        region_code: code(village),
        lon: None,
        lat: None,
    }
}

/// The seed, two hospitals (one per county) and the policy of this year and
/// the last, for both counties.
async fn setup(store: &Store) -> app::App {
    seed(store).await;
    store.import_facilities(&[facility("FA", "341122100201"), facility("FB", "341123100201")]).await.unwrap();
    for y in [today().year() - 1, today().year()] {
        let text = POLICY.replace("year = 2024", &format!("year = {y}"));
        app::settlement::put_policy(store, "34", y, &text, "admin").await.unwrap();
    }
    app::App::new(store.clone())
}

/// A claim of person `seq` at a facility, discharged `days_ago`.
fn bill(id: &str, seq: u16, facility: &str, days_ago: i64, total: i64) -> Claim {
    let day = today() - Duration::days(days_ago);
    Claim { facility_id: facility.into(), ..claim(id, seq, &day.to_string(), total, total * 9 / 10) }
}

fn county(p: &str) -> app::Scope {
    app::Scope::parse(p).unwrap()
}

async fn treat_first_pay_later(store: &Store) {
    let app = setup(store).await;
    let laian = county("341122");
    let other = county("341123");
    let admitted = today() - Duration::days(10);

    // Entitled (lifted) patients are admitted without a deposit; general ones are not.
    let a1 = app.admit(&laian, pid(1), "FA", admitted, "clerk").await.unwrap();
    assert!(a1.deposit_waived);
    assert_eq!(a1.status, PovertyStatus::Lifted);
    let a5 = app.admit(&laian, pid(5), "FA", admitted, "clerk").await.unwrap();
    assert!(!a5.deposit_waived);
    assert_eq!((a1.owed, a1.paid, a1.claim_id.clone()), (Fen::ZERO, Fen::ZERO, None));

    // Scope: another county's facility or person is unknown; so is its view of ours.
    assert!(matches!(app.admit(&laian, pid(1), "FB", admitted, "clerk").await, Err(app::AppError::NotFound(_))));
    assert!(matches!(app.admit(&other, pid(1), "FB", admitted, "clerk").await, Err(app::AppError::NotFound(_))));
    assert!(app.admission(&other, a1.id).await.unwrap().is_none());
    assert!(matches!(
        app.take_admission_payment(&other, a1.id, Fen(100), today(), "cash", "clerk").await,
        Err(app::AppError::NotFound(_))
    ));
    assert!(matches!(app.arrears(&other, "FA", today()).await, Err(app::AppError::NotFound(_))));
    // Plausibility: not in the future.
    assert!(matches!(
        app.admit(&laian, pid(1), "FA", today() + Duration::days(1), "clerk").await,
        Err(app::AppError::Invalid(_))
    ));

    // Nothing is owed before the bill is settled.
    assert!(matches!(
        app.take_admission_payment(&laian, a1.id, Fen(100), today(), "cash", "clerk").await,
        Err(app::AppError::Conflict(_))
    ));

    // The bill settled in real time, then named on the admission.
    let s1 = app.settle_claim(&laian, bill("B1", 1, "FA", 3, 20_000), "clerk").await.unwrap();
    let owed = s1.settlement.out_of_pocket;
    assert!(owed > Fen::ZERO, "the patient pays a share: {owed}");
    // Another patient's claim may not be named.
    app.settle_claim(&laian, bill("B5", 5, "FA", 2, 8_000), "clerk").await.unwrap();
    assert!(matches!(app.link_admission_claim(&laian, a1.id, "B5", "clerk").await, Err(app::AppError::Invalid(_))));
    assert!(matches!(app.link_admission_claim(&laian, a1.id, "nope", "clerk").await, Err(app::AppError::NotFound(_))));
    let a1 = app.link_admission_claim(&laian, a1.id, "B1", "clerk").await.unwrap();
    assert_eq!((a1.owed, a1.balance()), (owed, owed));
    let a5 = app.link_admission_claim(&laian, a5.id, "B5", "clerk").await.unwrap();
    // One claim, one admission.
    let again = app.admit(&laian, pid(1), "FA", admitted, "clerk").await.unwrap();
    assert!(matches!(app.link_admission_claim(&laian, again.id, "B1", "clerk").await, Err(app::AppError::Conflict(_))));

    // Instalments: positive, never above the balance, by a known method.
    for (amount, method) in [(Fen::ZERO, "cash"), (Fen(-5), "cash"), (Fen(100), "barter")] {
        assert!(matches!(
            app.take_admission_payment(&laian, a1.id, amount, today(), method, "clerk").await,
            Err(app::AppError::Invalid(_))
        ));
    }
    assert!(matches!(
        app.take_admission_payment(&laian, a1.id, owed + Fen(1), today(), "cash", "clerk").await,
        Err(app::AppError::Conflict(_))
    ));
    let first = Fen(owed.0 / 3);
    let a1 = app.take_admission_payment(&laian, a1.id, first, today(), "cash", "clerk").await.unwrap();
    assert_eq!((a1.paid, a1.balance()), (first, owed - first));
    assert_eq!(a1.payments.len(), 1);

    // The arrears: both admissions owe; the older bill first; the indicator
    // counts the waived admission, not paid up yet.
    let arrears = app.arrears(&laian, "FA", today()).await.unwrap();
    let ids: Vec<i64> = arrears.rows.iter().map(|r| r.admission.id).collect();
    assert_eq!(ids, [a1.id, a5.id]);
    assert_eq!(arrears.rows[0].days_outstanding, 3);
    assert_eq!(arrears.total, (owed - first) + a5.owed);
    assert_eq!((arrears.waived_settled, arrears.waived_paid_up), (1, 0));

    // Above the rest is refused; the rest pays it up.
    assert!(matches!(
        app.take_admission_payment(&laian, a1.id, owed - first + Fen(1), today(), "card", "clerk").await,
        Err(app::AppError::Conflict(_))
    ));
    let a1 = app.take_admission_payment(&laian, a1.id, owed - first, today(), "mobile", "clerk").await.unwrap();
    assert_eq!(a1.balance(), Fen::ZERO);
    let arrears = app.arrears(&laian, "FA", today()).await.unwrap();
    assert_eq!(arrears.rows.iter().map(|r| r.admission.id).collect::<Vec<_>>(), [a5.id]);
    assert_eq!((arrears.waived_settled, arrears.waived_paid_up), (1, 1));
    assert_eq!(arrears.paid_up_share(), Some(1.0));

    // A void: nothing is owed on the voided claim; what was paid is to refund
    // (a negative balance), out of the arrears; the bill settled again may be named.
    app.void_claim(&laian, &ClaimKey::new("FA", "B1"), "clerk").await.unwrap();
    let a1 = app.admission(&laian, a1.id).await.unwrap().unwrap();
    assert!(a1.claim_voided);
    assert_eq!((a1.owed, a1.balance()), (Fen::ZERO, Fen::ZERO - owed));
    assert!(matches!(
        app.take_admission_payment(&laian, a1.id, Fen(1), today(), "cash", "clerk").await,
        Err(app::AppError::Conflict(_))
    ));
    let s2 = app.settle_claim(&laian, bill("B1R", 1, "FA", 3, 15_000), "clerk").await.unwrap();
    let a1 = app.link_admission_claim(&laian, a1.id, "B1R", "clerk").await.unwrap();
    assert_eq!(a1.owed, s2.settlement.out_of_pocket);
    assert_eq!(a1.balance(), s2.settlement.out_of_pocket - owed);

    // Every write was audited with the facility's region.
    let log = app.audit_log(100).await.unwrap();
    let n = |action: &str| log.iter().filter(|e| e.action == action).count();
    assert_eq!((n("admission_create"), n("admission_claim"), n("admission_payment")), (3, 3, 2));
    assert!(log.iter().filter(|e| e.action.starts_with("admission")).all(|e| e.region == Some(code("341122100201"))));
}

async fn the_reconciliation_equals_the_sum_of_the_slips(store: &Store) {
    let app = setup(store).await;
    let laian = county("341122");
    // Several real-time claims at FA (one at FB, another county's), one of
    // person 1's voided, which re-settles the later one (a correction).
    let bills = [
        bill("R1", 1, "FA", 6, 60_000),
        bill("R2", 1, "FA", 4, 30_000),
        bill("R3", 3, "FA", 4, 12_000),
        bill("R4", 5, "FA", 2, 9_000),
    ];
    for b in &bills {
        app.settle_claim(&laian, b.clone(), "clerk").await.unwrap();
    }
    app.settle_claim(&county("341123"), bill("R9", 7, "FB", 2, 9_000), "clerk").await.unwrap();
    let r2_before = app.slip(&laian, &ClaimKey::new("FA", "R2")).await.unwrap().unwrap();
    let voided = app.void_claim(&laian, &ClaimKey::new("FA", "R1"), "clerk").await.unwrap();
    assert!(voided.differences.len() >= 2, "the void corrects R2: {:?}", voided.differences);
    // The bill settled again under another ID.
    app.settle_claim(&laian, bill("R1B", 1, "FA", 6, 50_000), "clerk").await.unwrap();

    let from = today() - Duration::days(30);
    let rec = app.reconcile(&laian, "FA", from, today()).await.unwrap();

    // The slips, summed per fund: what the standing claims pay now.
    let mut slips: BTreeMap<String, Fen> = BTreeMap::new();
    let mut voided_slips: BTreeMap<String, Fen> = BTreeMap::new();
    for id in ["R1", "R2", "R3", "R4", "R1B"] {
        let slip = app.slip(&laian, &ClaimKey::new("FA", id)).await.unwrap().unwrap();
        let into = if slip.voided { &mut voided_slips } else { &mut slips };
        for (fund, amount) in &slip.payments {
            *into.entry(fund.clone()).or_default() += *amount;
        }
    }
    assert!(slips.values().any(|f| *f > Fen::ZERO));
    for fund in &rec.funds {
        let t = rec.totals.iter().find(|t| t.fund == *fund).unwrap();
        assert_eq!(t.net, slips.get(fund).copied().unwrap_or_default(), "fund {fund}: net against the slips");
        // A void's lines are the voided slip's amounts, negative.
        assert_eq!(t.voided, Fen::ZERO - voided_slips.get(fund).copied().unwrap_or_default(), "fund {fund}");
        assert_eq!(t.net, t.settled + t.voided + t.corrected);
        // The days add up to the period.
        let days: Fen = rec.days.iter().filter(|d| d.fund == *fund).map(|d| d.net).sum();
        assert_eq!(days, t.net);
    }
    assert_eq!(rec.funds.len(), slips.len().max(voided_slips.len()));
    // The correction of R2 is its own line: new minus old per fund.
    let r2_now = app.slip(&laian, &ClaimKey::new("FA", "R2")).await.unwrap().unwrap();
    for ((fund, now), (_, before)) in r2_now.payments.iter().zip(&r2_before.payments) {
        let corrected: Fen = rec
            .lines
            .iter()
            .filter(|l| l.claim_id == "R2" && l.fund == *fund && l.kind == app::reconcile::LineKind::Correction)
            .map(|l| l.amount)
            .sum();
        assert_eq!(corrected, *now - *before, "R2's correction in {fund}");
        let settled: Fen = rec
            .lines
            .iter()
            .filter(|l| l.claim_id == "R2" && l.fund == *fund && l.kind == app::reconcile::LineKind::Settlement)
            .map(|l| l.amount)
            .sum();
        assert_eq!(settled, *before, "R2 as first settled in {fund}");
    }
    assert!(rec.lines.iter().all(|l| l.claim_id != "R9"), "another facility's claim");
    // A period before the claims holds nothing; another county's scope, nothing either.
    let empty = app.reconcile(&laian, "FA", from - Duration::days(60), from - Duration::days(31)).await.unwrap();
    assert!(empty.lines.is_empty());
    assert!(matches!(app.reconcile(&county("341123"), "FA", from, today()).await, Err(app::AppError::NotFound(_))));
    assert!(matches!(app.reconcile(&laian, "FA", today(), from).await, Err(app::AppError::Invalid(_))));

    // The statement: a summary, then a sheet per fund whose total is the net.
    let tables = rec.tables(Masking::Masked);
    assert_eq!(tables.len(), 1 + rec.funds.len());
    for (t, fund) in tables[1..].iter().zip(&rec.funds) {
        let last = t.rows.last().unwrap();
        assert_eq!(last[4], ingest::tables::Cell::Money(slips.get(fund).copied().unwrap_or_default()));
        assert!(t.rows.iter().all(|r| !r[3].as_text().contains(&pid(1).to_string())), "masked");
    }
    let xlsx = ingest::tables::xlsx_bytes(&tables).unwrap();
    assert!(xlsx.starts_with(b"PK"));
}
