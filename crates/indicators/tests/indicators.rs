//! Each shipped indicator on a small world whose figures are worked out by hand,
//! the roll-up across levels, and reports that respect the region scope.

mod common;

use common::*;
use domain::{Catalogue, Claim, ClaimKind, FacilityLevel, Fen, RegionLevel};
use indicators::extract::{ClaimLedger, SettledClaim};
use indicators::report::{self, ReportSpec};
use indicators::{IndicatorCube, Period, PeriodKind, Targets};
use std::collections::HashMap;

fn value(cube: &IndicatorCube, id: &str, region: &str, period: &str) -> (i64, Option<i64>, Option<f64>) {
    let v = cube.indicator_by_id(id, code(region), period.parse().unwrap()).unwrap();
    (v.numerator, v.denominator, v.value)
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

#[test]
fn every_shipped_indicator_matches_the_hand_computed_figure() {
    let w = world();
    let cube = IndicatorCube::build(&defs(), &w.facts());

    // Serious poor patients: P1 (lifted), P5 (low income); treated in 2024: P1 only.
    let v = value(&cube, "poor_patients_treated_share", "34", "2024");
    assert_eq!((v.0, v.1), (1, Some(2)));
    assert!(close(v.2, 50.0), "{v:?}");

    // Poor inpatient claims: C1 (county), C2 (provincial), C4 (village): 2 of 3 inside.
    let v = value(&cube, "poor_treated_in_county_share", "34", "2024");
    assert_eq!((v.0, v.1), (2, Some(3)));
    assert!(close(v.2, 200.0 / 3.0), "{v:?}");

    // Poor patients' OOP: 230 + 400 + 20 = 650 of 600 + 1000 + 200 = 1800 yuan; the
    // general patient's C3 is filtered out.
    let v = value(&cube, "poor_out_of_pocket_share", "34", "2024");
    assert_eq!((v.0, v.1), (65_000, Some(180_000)));
    assert!(close(v.2, 650.0 / 1800.0 * 100.0), "{v:?}");
    // County 341122 alone: C1 and C2.
    let v = value(&cube, "poor_out_of_pocket_share", "341122", "2024");
    assert_eq!((v.0, v.1), (63_000, Some(160_000)));

    // H1 and H2 warned (H2 twice, counted once); H1 assisted in January 2025 for a
    // 2024 alert, counted in 2024.
    let v = value(&cube, "households_warned", "34", "2024");
    assert_eq!(v.0, 2);
    assert!(close(v.2, 2.0));
    let v = value(&cube, "warned_households_assisted_share", "34", "2024");
    assert_eq!((v.0, v.1), (1, Some(2)));

    // Rural villages V1, V2, V3 (V4 is urban): doctors in V1 and V3.
    let v = value(&cube, "villages_with_qualified_doctor_share", "34", "2024");
    assert_eq!((v.0, v.1), (2, Some(3)));
    // Within 15 minutes: V1 800 + V2 200 of 2000.
    let v = value(&cube, "population_within_15min_share", "34", "2024");
    assert_eq!((v.0, v.1), (1000, Some(2000)));
    assert!(close(v.2, 50.0));

    // Poor chronic patients: P4 only (P2 is general), under contract.
    let v = value(&cube, "poor_chronic_contracted_share", "34", "2024");
    assert_eq!((v.0, v.1), (1, Some(1)));
    assert!(close(v.2, 100.0));

    // Funds: 370 + 600 + 50 + 180 = 1200 yuan.
    let v = value(&cube, "funds_paid", "34", "2024");
    assert_eq!(v.0, 120_000);
    assert!(close(v.2, 1200.0));
}

#[test]
fn periods_follow_each_measure_over_time() {
    let w = world();
    let cube = IndicatorCube::build(&defs(), &w.facts());
    // Q1 holds only C1 (March): flows of the quarter.
    let v = value(&cube, "poor_out_of_pocket_share", "34", "2024-Q1");
    assert_eq!((v.0, v.1), (23_000, Some(60_000)));
    // Q2 holds C2 only, not C1.
    let v = value(&cube, "poor_out_of_pocket_share", "34", "2024-Q2");
    assert_eq!((v.0, v.1), (40_000, Some(100_000)));
    // Persons treated are counted to date: P1 by March, still one in Q2 (not twice).
    assert_eq!(value(&cube, "poor_patients_treated_share", "34", "2024-Q2").0, 1);
    assert_eq!(value(&cube, "poor_patients_treated_share", "34", "2024-02").0, 0);
    // Stocks recorded in January hold in every later period.
    assert_eq!(value(&cube, "villages_with_qualified_doctor_share", "34", "2024-10").1, Some(3));
    // Households warned: H2 in November, H1 in December.
    assert_eq!(value(&cube, "households_warned", "34", "2024-11").0, 1);
    assert_eq!(value(&cube, "households_warned", "34", "2024-Q4").0, 2);
    // No figures before the data: a zero denominator gives no value.
    let v = value(&cube, "poor_out_of_pocket_share", "34", "2023");
    assert_eq!((v.0, v.1, v.2), (0, Some(0), None));
}

#[test]
fn a_later_earlier_claim_moves_a_person_count_rather_than_doubling_it() {
    let w = world();
    let reg = w.registry();
    let mut ledger = indicators::extract::ClaimLedger::new(&w.persons, &domain::Catalogue::serious(), 2024);
    let settled = w.settled();
    // C2 (May) first, then C1 (March) in a later delta.
    let mut cube = IndicatorCube::new(&defs());
    cube.apply_delta(&ledger.facts(&reg, &settled[1..2]).unwrap());
    assert_eq!(value(&cube, "poor_patients_treated_share", "34", "2024-Q1").0, 0);
    cube.apply_delta(&ledger.facts(&reg, &settled[0..1]).unwrap());
    assert_eq!(value(&cube, "poor_patients_treated_share", "34", "2024-Q1").0, 1);
    assert_eq!(value(&cube, "poor_patients_treated_share", "34", "2024").0, 1);
}

#[test]
fn claims_of_unknown_persons_are_refused_with_their_ids() {
    let w = world();
    let reg = w.registry();
    let mut c = w.claims[0].clone();
    c.person_id = pid(99);
    let sc = indicators::extract::SettledClaim { claim: &c, paid: paid(0, 0, 0, 0), out_of_pocket: domain::Fen::ZERO };
    let mut ledger = indicators::extract::ClaimLedger::new(&w.persons, &domain::Catalogue::serious(), 2024);
    let e = ledger.facts(&reg, &[sc]).unwrap_err().to_string();
    assert!(e.contains("C1") && e.contains("not in the registry"), "{e}");
}

fn names() -> HashMap<domain::RegionCode, String> {
    [("341122", "某县"), ("341123", "另县")].iter().map(|(c, n)| (code(c), n.to_string())).collect()
}

#[test]
fn reports_keep_inside_their_scope() {
    let w = world();
    let cube = IndicatorCube::build(&defs(), &w.facts());
    let spec = ReportSpec {
        levels: RegionLevel::ALL.to_vec(),
        periods: Period::of_year(2024, PeriodKind::Quarter),
        scope: "341122".into(),
    };
    let rows = report::build(&cube, &spec);
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r.region.starts_with("341122")), "a row outside the scope");
    // Neither the province nor the city (which hold the other county's data) appear.
    assert!(rows.iter().all(|r| r.level >= RegionLevel::County));
    let villages: Vec<_> = rows.iter().filter(|r| r.level == RegionLevel::Village).map(|r| r.region.short()).collect();
    assert!(villages.contains(&"341122100201".to_string()) && !villages.iter().any(|v| v.starts_with("341123")));

    let mut csv = Vec::new();
    report::write_csv(cube.definitions(), &rows, &names(), &Targets::default(), false, &mut csv).unwrap();
    let text = String::from_utf8(csv).unwrap();
    assert!(text.starts_with("level,region_code,region_name,period,poor_patients_treated_share,"), "{text}");
    assert!(text.contains("county,341122,某县,2024-Q1,"), "{text}");
    assert!(!text.contains("341123") && !text.contains("另县"), "{text}");
    // The county's year OOP share as a percent, with numerator and denominator in yuan.
    let spec =
        ReportSpec { levels: vec![RegionLevel::County], periods: vec![Period::Year(2024)], scope: "341122".into() };
    let mut csv = Vec::new();
    report::write_csv(cube.definitions(), &report::build(&cube, &spec), &names(), &Targets::shipped(), false, &mut csv)
        .unwrap();
    let text = String::from_utf8(csv).unwrap();
    assert!(text.contains(",39.38,630.00,1600.00,"), "{text}");

    let mut xlsx = Vec::new();
    report::write_xlsx(cube.definitions(), &rows, &names(), &spec.levels, &Targets::shipped(), true, &mut xlsx)
        .unwrap();
    assert_eq!(&xlsx[..2], b"PK");
}

/// One claim, settled.
fn settled(c: &Claim) -> Vec<SettledClaim<'_>> {
    vec![SettledClaim { claim: c, paid: paid(100, 0, 0, 0), out_of_pocket: Fen(0) }]
}

/// The values of one measure among facts, summed.
fn measure_total(facts: &[indicators::Fact], m: indicators::measure::Measure) -> i64 {
    facts.iter().filter(|f| f.measure == m).map(|f| f.value).sum()
}

#[test]
fn a_serious_patient_is_treated_only_by_a_claim_for_a_registered_disease() {
    use indicators::measure::Measure;
    let w = world();
    let reg = w.registry();
    // P5 is registered with C16 (stomach cancer).
    let mut pneumonia = claim("X1", 5, FacilityLevel::County, ClaimKind::Inpatient, "2024-06-01", 300, 300);
    pneumonia.diagnosis = "J18.9".into();
    let mut undiagnosed = pneumonia.clone();
    undiagnosed.claim_id = "X2".into();
    undiagnosed.diagnosis.clear();
    let mut cancer = pneumonia.clone();
    cancer.claim_id = "X3".into();
    cancer.diagnosis = "c16.0".into();
    for (c, treated) in [(&pneumonia, 0), (&undiagnosed, 0), (&cancer, 1)] {
        let mut ledger = ClaimLedger::new(&w.persons, &Catalogue::serious(), 2024);
        let facts = ledger.facts(&reg, &settled(c)).unwrap();
        assert_eq!(measure_total(&facts, Measure::SeriousPatientsTreated), treated, "{} {}", c.claim_id, c.diagnosis);
        assert_eq!(measure_total(&facts, Measure::Patients), 1, "every claim counts its patient");
    }
    // A person registered with no serious disease is never counted, whatever the claim says.
    let mut other = cancer.clone();
    other.person_id = pid(3);
    let facts = ClaimLedger::new(&w.persons, &Catalogue::serious(), 2024).facts(&reg, &settled(&other)).unwrap();
    assert_eq!(measure_total(&facts, Measure::SeriousPatientsTreated), 0);
}

#[test]
fn treated_in_county_follows_the_facility_region_and_else_its_level() {
    use indicators::measure::Measure;
    let w = world();
    // P1 lives in 341122100201 (county 341122).
    let reg = w.registry().with_facilities([
        ("HOME".to_string(), code("341122100000")),
        ("NEXT".to_string(), code("341123000000")),
        ("CITY".to_string(), code("341100000000")),
    ]);
    let cases = [
        ("HOME", FacilityLevel::County, 1),
        ("NEXT", FacilityLevel::County, 0),
        ("HOME", FacilityLevel::Municipal, 1),
        ("CITY", FacilityLevel::Municipal, 0),
        ("CITY", FacilityLevel::County, 0),
        ("UNLISTED", FacilityLevel::County, 1),
        ("UNLISTED", FacilityLevel::Provincial, 0),
        ("", FacilityLevel::Township, 1),
    ];
    for (facility, level, inside) in cases {
        let mut c = claim("Y1", 1, level, ClaimKind::Inpatient, "2024-06-01", 300, 300);
        c.facility_id = facility.into();
        let s = [SettledClaim { claim: &c, paid: paid(100, 0, 0, 0), out_of_pocket: Fen(0) }];
        let facts = ClaimLedger::new(&w.persons, &Catalogue::serious(), 2024).facts(&reg, &s).unwrap();
        assert_eq!(measure_total(&facts, Measure::TreatedInCounty), inside, "{facility} {level:?}");
    }
}

#[test]
fn cases_count_in_the_years_of_their_two_deadlines() {
    use domain::PovertyStatus;
    use indicators::extract::{case_facts, CaseDeadline, Registry};
    use indicators::measure::Measure;
    use indicators::Month;
    let households = [household("H1", "341122100201"), household("H2", "341122100202")];
    let persons = [person(1, "H1", PovertyStatus::Lifted, &[]), person(2, "H2", PovertyStatus::General, &[])];
    let registry = Registry::new(&households, &persons).unwrap();
    let case = |h: &str, due: &str, verified: Option<&str>, close_due: &str, closed: Option<&str>| CaseDeadline {
        household_id: h.into(),
        due: date(due),
        verified_on: verified.map(date),
        close_due: date(close_due),
        closed_on: closed.map(date),
    };
    let cases = [
        // Verified and closed in time, both deadlines in 2024.
        case("H1", "2024-03-15", Some("2024-03-10"), "2024-08-31", Some("2024-08-31")),
        // Verified late; closed a day late, in 2025.
        case("H2", "2024-11-15", Some("2024-11-16"), "2025-05-14", Some("2025-05-15")),
        // Opened late in 2024: verification due in 2024, close due in 2025, still open.
        case("H1", "2024-12-20", None, "2025-06-10", None),
    ];
    let count = |year: i32, m: Measure| -> i64 {
        case_facts(&registry, &cases, year).unwrap().iter().filter(|f| f.measure == m).map(|f| f.value).sum()
    };
    assert_eq!((count(2024, Measure::CasesDue), count(2024, Measure::CasesVerifiedInTime)), (3, 1));
    assert_eq!((count(2024, Measure::CasesCloseDue), count(2024, Measure::CasesClosedInTime)), (1, 1));
    assert_eq!((count(2025, Measure::CasesDue), count(2025, Measure::CasesVerifiedInTime)), (0, 0));
    assert_eq!((count(2025, Measure::CasesCloseDue), count(2025, Measure::CasesClosedInTime)), (2, 0));
    // Each counts in the month of its deadline, in its household's village and status.
    let facts = case_facts(&registry, &cases, 2025).unwrap();
    let late = facts.iter().find(|f| f.measure == Measure::CasesCloseDue && f.month == Month::new(2025, 5)).unwrap();
    assert_eq!((late.village, late.slice.status), (code("341122100202"), Some(PovertyStatus::General)));
    // A case of a household outside the registry is refused, not dropped.
    let stray = [case("H9", "2024-01-10", None, "2024-06-10", None)];
    assert!(case_facts(&registry, &stray, 2024).is_err());
}
