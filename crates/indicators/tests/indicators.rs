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
    report::write_csv(
        cube.definitions(),
        &rows,
        &names(),
        &Targets::default(),
        indicators::Comparisons::NONE,
        &mut csv,
    )
    .unwrap();
    let text = String::from_utf8(csv).unwrap();
    assert!(text.starts_with("level,region_code,region_name,period,poor_patients_treated_share,"), "{text}");
    assert!(text.contains("county,341122,某县,2024-Q1,"), "{text}");
    assert!(!text.contains("341123") && !text.contains("另县"), "{text}");
    // The county's year OOP share as a percent, with numerator and denominator in yuan.
    let spec =
        ReportSpec { levels: vec![RegionLevel::County], periods: vec![Period::Year(2024)], scope: "341122".into() };
    let mut csv = Vec::new();
    report::write_csv(
        cube.definitions(),
        &report::build(&cube, &spec),
        &names(),
        &Targets::shipped(),
        indicators::Comparisons::NONE,
        &mut csv,
    )
    .unwrap();
    let text = String::from_utf8(csv).unwrap();
    assert!(text.contains(",39.38,630.00,1600.00,"), "{text}");

    let mut xlsx = Vec::new();
    report::write_xlsx(
        cube.definitions(),
        &rows,
        &names(),
        &spec.levels,
        &Targets::shipped(),
        indicators::Compare::PreviousYear.into(),
        &mut xlsx,
    )
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

/// The township-and-village share as data (a numerator filter on facility
/// levels) counts what the measure `treated_at_primary` counts, and any level
/// filter is data too.
#[test]
fn facility_levels_filter_the_claim_facts_as_data() {
    let mut defs = defs();
    defs.merge(
        r#"
[[indicator]]
id = "primary_care_by_measure"
name_zh = "乡村两级（度量）"
name_en = "primary care by the measure"
numerator = "treated_at_primary"
denominator = "treated_in_county"
filter = { kinds = ["outpatient", "chronic_outpatient"] }
unit = "percent"

[[indicator]]
id = "inpatient_at_county_or_below"
name_zh = "县及以下住院占比"
name_en = "stays at county level or below"
numerator = "claims"
denominator = "claims"
filter = { kinds = ["inpatient"] }
numerator_filter = { levels = ["village", "township", "county"] }
unit = "percent"
"#,
        "levels.toml",
    )
    .unwrap();
    let mut w = world();
    // More outpatient visits: a village visit of P4 (county 341123) and a county one of P2.
    w.claims.push(claim("C5", 4, FacilityLevel::Village, ClaimKind::Outpatient, "2024-08-01", 30, 30));
    w.claims.push(claim("C6", 2, FacilityLevel::County, ClaimKind::ChronicOutpatient, "2024-09-01", 80, 80));
    w.settlements.push((paid(20, 0, 0, 0), Fen::from_yuan(10)));
    w.settlements.push((paid(60, 0, 0, 0), Fen::from_yuan(20)));
    let cube = IndicatorCube::build(&defs, &w.facts());
    for region in ["34", "341122", "341123", "341122100201"] {
        for period in ["2024", "2024-Q3", "2024-04"] {
            let data = value(&cube, "primary_care_visit_share", region, period);
            let measure = value(&cube, "primary_care_by_measure", region, period);
            assert_eq!(data, measure, "{region} {period}");
        }
    }
    // Outpatient visits in the county: C3 (township), C5 (village), C6 (county): 2 of 3.
    let v = value(&cube, "primary_care_visit_share", "34", "2024");
    assert_eq!((v.0, v.1), (2, Some(3)));
    // Stays: C1 county, C2 provincial, C4 village: 2 of 3 at county level or below.
    let v = value(&cube, "inpatient_at_county_or_below", "34", "2024");
    assert_eq!((v.0, v.1), (2, Some(3)));
    let f = defs.get("inpatient_at_county_or_below").unwrap().formula();
    assert!(f.contains("claims[levels: village, township, county] / claims") && f.contains("kinds: inpatient"), "{f}");
}

/// The world with a copy of village V1's facts in a village of another
/// province (Fujian, 35): each row beside its province's and the nation's values.
#[test]
fn rows_compare_with_their_province_and_the_nation() {
    let w = world();
    let mut facts = w.facts();
    let fujian = code("350102001001");
    let copy: Vec<indicators::Fact> = facts
        .iter()
        .filter(|f| f.village == code("341122100201"))
        .map(|f| indicators::Fact { village: fujian, ..*f })
        .collect();
    facts.extend(copy);
    let cube = IndicatorCube::build(&defs(), &facts);
    let spec =
        ReportSpec { levels: vec![RegionLevel::County], periods: vec![Period::Year(2024)], scope: "341122".into() };
    let mut rows = report::build(&cube, &spec);
    assert_eq!(rows.len(), 1);
    report::add_regions(&mut rows, &defs(), &cube);
    let i = defs().indicators.iter().position(|d| d.id == "poor_out_of_pocket_share").unwrap();
    let wider = rows[0].wider.as_ref().unwrap();
    assert_eq!(wider.province, code("34"));
    // Anhui: 650 of 1,800 yuan; V1 (C1, C2): 630 of 1,600; the nation: both.
    assert!(close(wider.province_values[i], 100.0 * 650.0 / 1800.0), "{wider:?}");
    assert!(close(wider.nation[i], 100.0 * (650.0 + 630.0) / (1800.0 + 1600.0)), "{wider:?}");
    assert!(close(rows[0].values[i].value, 100.0 * 630.0 / 1600.0));
    let shipped = Targets::shipped();
    let drawn = report::draw(&defs(), &shipped, &rows[0]);
    assert_eq!((drawn[i].province, drawn[i].nation), (wider.province_values[i], wider.nation[i]));
    // The CSV: two more columns per indicator, values only.
    let mut out = Vec::new();
    let both = indicators::Comparisons::from(indicators::Compare::Regions);
    report::write_csv(&defs(), &rows, &names(), &Targets::shipped(), both, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let head: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let row: Vec<&str> = text.lines().nth(1).unwrap().split(',').collect();
    let cell = |h: &str| row[head.iter().position(|x| *x == h).unwrap()];
    assert_eq!(cell("poor_out_of_pocket_share_province"), "36.11");
    assert_eq!(cell("poor_out_of_pocket_share_nation"), "37.65");
    assert!(!head.iter().any(|h| h.contains("province_numerator") || h.contains("nation_denominator")));
    assert!(!text.contains("350102") && !text.contains("341123"), "no other region's code: {text}");
    // Both comparisons at once.
    let both: indicators::Comparisons = "previous-year,regions".parse().unwrap();
    assert!(both.previous_year && both.regions);
    assert_eq!(both.to_string(), "previous-year,regions");
    assert!("regions,nearby".parse::<indicators::Comparisons>().unwrap_err().contains("regions"));
    let h = report::header(&defs(), both);
    let at = |s: &str| h.iter().position(|x| x == s).unwrap();
    assert!(at("funds_paid_previous") < at("funds_paid_province"));
}

/// What the charts draw: each indicator month by month, for a region or the nation.
#[test]
fn monthly_series_of_a_region_and_of_the_nation() {
    let w = world();
    let cube = IndicatorCube::build(&defs(), &w.facts());
    let i = defs().indicators.iter().position(|d| d.id == "poor_out_of_pocket_share").unwrap();
    let county = report::monthly(&cube, Some(code("341122")), 2024);
    let s = &county[i];
    assert_eq!(s.len(), 12);
    // C1 in March: 230 of 600; C2 in May: 400 of 1,000; no claims otherwise.
    assert!(close(s[2], 100.0 * 230.0 / 600.0) && close(s[4], 40.0), "{s:?}");
    assert_eq!(s.iter().filter(|v| v.is_some()).count(), 2, "{s:?}");
    let nation = report::monthly(&cube, None, 2024);
    // July: C4, 20 of 200 yuan, in county 341123.
    assert!(close(nation[i][6], 10.0), "{:?}", nation[i]);
    let warned = defs().indicators.iter().position(|d| d.id == "households_warned").unwrap();
    // Year to date: H2 in November, H1 in December.
    assert_eq!(nation[warned][10], Some(1.0));
    assert_eq!(nation[warned][11], Some(2.0));
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
