//! The worked example of docs/settlement.md, fen for fen, through the real-time
//! path, the batch path and the explanation.

use chrono::NaiveDate;
use domain::{ClaimKind, FacilityLevel, Fen, PovertyStatus};
use settle::*;

fn policy() -> Policy {
    Policy::parse(include_str!("data/demo_county_2024.toml")).expect("the spec's policy parses")
}

fn yuan(s: &str) -> Fen {
    Fen::parse_yuan(s).unwrap()
}

fn claim(total: &str, eligible: &str) -> ClaimInput {
    ClaimInput {
        level: FacilityLevel::County,
        kind: ClaimKind::Inpatient,
        total_cost: yuan(total),
        eligible_cost: yuan(eligible),
        enrolled: true,
        referred: true,
    }
}

#[test]
fn policy_names_in_order_of_first_appearance() {
    let p = policy();
    assert_eq!(p.names, ["basic", "critical", "assistance", "safety_net"]);
    assert_eq!(p.entries.len(), 9);
    assert_eq!(p.name, "Demo county 2024");
    assert_eq!(p.year, Some(2024));
    assert!(p.source().contains("Anhui-style \"351\""));
}

#[test]
fn worked_example_real_time() {
    let p = policy();
    let mut acc = Accumulators::new(&p);

    let s1 = settle_claim(&p, &claim("60000", "50000"), PovertyStatus::Lifted, &mut acc);
    assert_eq!(s1.payments, [yuan("42287.50"), yuan("138.13"), yuan("3944.62"), yuan("629.75")]);
    assert_eq!(s1.out_of_pocket, yuan("13000.00"));
    // Accumulators after claim 1: critical S = 7,712.50; assistance S = 7,574.37;
    // safety_net O = 3,000.00.
    assert_eq!(acc.tiers[1].base, yuan("7712.50"));
    assert_eq!(acc.tiers[2].base, yuan("7574.37"));
    assert_eq!(acc.tiers[3].unpaid, yuan("3000.00"));

    let s2 = settle_claim(&p, &claim("20000", "20000"), PovertyStatus::Lifted, &mut acc);
    assert_eq!(s2.payments, [yuan("16787.50"), yuan("2088.12"), yuan("674.63"), yuan("449.75")]);
    assert_eq!(s2.out_of_pocket, Fen::ZERO);
    assert_eq!(acc.tiers[1].base, yuan("10925.00"));
}

#[test]
fn worked_example_batch_in_any_input_order() {
    let p = policy();
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    // Claim 2 first in the input: the batch still settles claim 1 first.
    let claims = [
        BatchClaim { person: 0, discharged: d("2024-06-01"), input: claim("20000", "20000") },
        BatchClaim { person: 0, discharged: d("2024-03-10"), input: claim("60000", "50000") },
    ];
    let ids = ["C2", "C1"];
    let mut got = Vec::new();
    settle_batch(
        &p,
        &claims,
        |i| ids[i],
        &[PovertyStatus::Lifted],
        |i, pay, oop| got.push((ids[i], pay.to_vec(), oop)),
    );
    assert_eq!(got[0].0, "C1");
    assert_eq!(got[0].1, [yuan("42287.50"), yuan("138.13"), yuan("3944.62"), yuan("629.75")]);
    assert_eq!(got[0].2, yuan("13000"));
    assert_eq!(got[1].0, "C2");
    assert_eq!(got[1].1, [yuan("16787.50"), yuan("2088.12"), yuan("674.63"), yuan("449.75")]);
    assert_eq!(got[1].2, Fen::ZERO);
}

#[test]
fn worked_example_explained() {
    let p = policy();
    let mut acc = Accumulators::new(&p);
    settle_claim(&p, &claim("60000", "50000"), PovertyStatus::Lifted, &mut acc);
    let before = acc.clone();
    let ex = explain(&p, &claim("20000", "20000"), PovertyStatus::Lifted, &acc);
    assert_eq!(acc, before, "explaining does not settle");
    // basic: the poor variant (entry #2) matched, 250 deductible at a county hospital.
    assert_eq!(ex.steps[0].entry, Some(1));
    assert_eq!(ex.steps[0].claim_deductible, yuan("250"));
    assert_eq!(ex.steps[0].pay, yuan("16787.50"));
    // critical: the poor variant, all of 3,212.50 in the first band at 0.65.
    assert_eq!(ex.steps[1].entry, Some(4));
    assert_eq!(ex.steps[1].bands.len(), 1);
    assert_eq!(ex.steps[1].bands[0].amount, yuan("3212.50"));
    assert_eq!(ex.steps[1].before.base, yuan("7712.50"));
    assert_eq!(ex.steps[1].after.base, yuan("10925.00"));
    assert_eq!(ex.steps[1].pay, yuan("2088.12"));
    // assistance: the lifted/monitored variant (entry #8).
    assert_eq!(ex.steps[2].entry, Some(7));
    assert_eq!(ex.steps[2].counted, yuan("1124.38"));
    assert_eq!(ex.steps[3].before.unpaid, yuan("3000"));
    assert_eq!(ex.steps[3].pay, yuan("449.75"));
    assert_eq!(ex.steps[3].bound, Bound::None);
    assert_eq!(ex.settlement.out_of_pocket, Fen::ZERO);
    let text = ex.render(&p);
    assert!(text.contains("critical: policy entry #5 applies"), "{text}");
    assert!(text.contains("Band 分段 1 (0.00 to 50000.00): 3212.50 at rate 0.65"), "{text}");
    assert!(text.contains("Pays 支付 449.75 yuan"), "{text}");
    assert!(text.contains("out of pocket 个人自付 0.00 yuan"), "{text}");
}

#[test]
fn general_resident_takes_the_general_variant_and_hits_the_annual_cap() {
    let p = policy();
    let mut acc = Accumulators::new(&p);
    // A chronic outpatient claim of a general resident: basic pays 0.6, capped at
    // 10,000 a year.
    let c = ClaimInput {
        level: FacilityLevel::Township,
        kind: ClaimKind::ChronicOutpatient,
        total_cost: yuan("20000"),
        eligible_cost: yuan("20000"),
        enrolled: true,
        referred: true,
    };
    let ex = explain(&p, &c, PovertyStatus::General, &acc);
    assert_eq!(ex.steps[0].entry, Some(2));
    assert_eq!(ex.steps[0].raw, yuan("12000"));
    assert_eq!(ex.steps[0].bound, Bound::AnnualCap);
    let s = settle_claim(&p, &c, PovertyStatus::General, &mut acc);
    assert_eq!(s.payments[0], yuan("10000"));
    // Critical, general variant: S = 10,000 is below the 15,000 yearly deductible.
    assert_eq!(s.payments[1], Fen::ZERO);
    // Assistance and safety net: no entry for general residents.
    assert_eq!(&s.payments[2..], [Fen::ZERO, Fen::ZERO]);
    assert_eq!(s.out_of_pocket, yuan("10000"));
    let s = settle_claim(&p, &c, PovertyStatus::General, &mut acc);
    assert_eq!(s.payments[0], Fen::ZERO, "the yearly cap is spent");
    // critical: S 10,000 -> 30,000; above 15,000: 15,000 at 0.6 = 9,000.
    assert_eq!(s.payments[1], yuan("9000"));
}

#[test]
fn voiding_a_claim_resettles_the_year() {
    let p = policy();
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let claims = vec![
        PersonClaim {
            claim_id: "C1".into(),
            discharged: d("2024-03-10"),
            status: PovertyStatus::Lifted,
            input: claim("60000", "50000"),
        },
        PersonClaim {
            claim_id: "C2".into(),
            discharged: d("2024-06-01"),
            status: PovertyStatus::Lifted,
            input: claim("20000", "20000"),
        },
    ];
    let before = settle_person_year(&p, &claims);
    let r = resettle_person_year(&p, &claims, &before, "C1");
    assert_eq!(r.settlements.len(), 1);
    // Claim 2 alone: basic 16,787.50; critical S 0 -> 3,212.50, all under 7,500: 0;
    // assistance x = 3,212.50, x' = 2,212.50, 0.6 -> 1,327.50; E = 1,885.00, under the
    // 3,000 safety-net cap: 0.
    let s2 = &r.settlements[0].1;
    assert_eq!(s2.payments, [yuan("16787.50"), Fen::ZERO, yuan("1327.50"), Fen::ZERO]);
    assert_eq!(s2.out_of_pocket, yuan("1885.00"));
    assert_eq!(r.differences.len(), 2);
    assert_eq!(r.differences[0].claim_id, "C1");
    assert_eq!(r.differences[0].out_of_pocket, Fen(-1_300_000));
    assert_eq!(r.differences[1].claim_id, "C2");
    assert_eq!(r.differences[1].payments, [Fen::ZERO, Fen(-208_812), yuan("652.87"), Fen(-44_975)]);
    assert_eq!(r.differences[1].out_of_pocket, yuan("1885.00"));
}
