//! The default rules of docs/monitoring.md at, just under and just over their
//! thresholds, exact to the fen; thresholds by longest prefix; households without
//! one reported; input that cannot be joined refused.

use chrono::NaiveDate;
use domain::{
    Catalogue, Claim, ClaimKind, FacilityLevel, Fen, Household, Person, PovertyStatus, RegionCode, ResidentId,
    Threshold,
};
use monitor::{
    monitor_year, Figure, Finding, Member, MonitorError, MonitorResult, RuleSet, SettledCost, ThresholdTable,
};

fn members(p: &[Person]) -> Vec<Member> {
    p.iter().map(Member::from).collect()
}

const VILLAGE: &str = "341122100201";
const YEAR: i32 = 2024;

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(YEAR, m, d).unwrap()
}

fn pid(n: u16) -> ResidentId {
    ResidentId::from_parts(341122, NaiveDate::from_ymd_opt(1970, 1, 1).unwrap(), n).unwrap()
}

/// One household of one member, with its yearly out-of-pocket cost.
struct Case {
    id: &'static str,
    size: u16,
    income: i64,
    consumption: Option<i64>,
    status: PovertyStatus,
    oop: i64,
}

fn case(id: &'static str, status: PovertyStatus, income: i64, oop: i64) -> Case {
    Case { id, size: 1, income, consumption: None, status, oop }
}

/// Thresholds: the province's figure, and a county's own with odd fen so that
/// halves and tenths fall between fen.
fn thresholds() -> ThresholdTable {
    ThresholdTable::new(&[
        Threshold { region: "34".into(), year: YEAR, rural_income: Fen(1_957_500), monitoring_line: Fen(700_000) },
        Threshold { region: "341122".into(), year: YEAR, rural_income: Fen(1_957_501), monitoring_line: Fen(700_000) },
    ])
}

fn run_with(cases: &[Case], claims: &[Claim], rules: &RuleSet) -> MonitorResult {
    let mut households = Vec::new();
    let mut persons = Vec::new();
    let mut settlements = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        households.push(Household {
            household_id: c.id.into(),
            village_code: RegionCode::parse(VILLAGE).unwrap(),
            size: c.size,
            income: Fen(c.income),
            consumption: c.consumption.map(Fen),
            food: None,
        });
        let p = pid(i as u16 + 1);
        persons.push(Person {
            person_id: p,
            household_id: c.id.into(),
            name: "x".into(),
            status: c.status,
            status_since: day(1, 1),
            diagnoses: vec![],
        });
        // Two settlements, so the sum is what is compared.
        settlements.push(SettledCost { person_id: p, year: YEAR, out_of_pocket: Fen(c.oop / 2) });
        settlements.push(SettledCost { person_id: p, year: YEAR, out_of_pocket: Fen(c.oop - c.oop / 2) });
        // A settlement of another year never counts.
        settlements.push(SettledCost { person_id: p, year: YEAR - 1, out_of_pocket: Fen(99_999_999) });
    }
    monitor_year(
        YEAR,
        &households,
        &members(&persons),
        claims,
        &settlements,
        &thresholds(),
        rules,
        &Catalogue::serious(),
    )
    .unwrap()
}

fn run(cases: &[Case]) -> MonitorResult {
    run_with(cases, &[], &RuleSet::defaults())
}

fn raised<'a>(r: &'a MonitorResult, rule: &str) -> Vec<&'a Finding> {
    r.alerts.iter().filter(|a| a.rule == rule).collect()
}

fn ids(r: &MonitorResult, rule: &str) -> Vec<String> {
    raised(r, rule).iter().map(|a| a.household_id.clone()).collect()
}

use PovertyStatus::{General, Lifted, LowIncome};

#[test]
fn medical_burden_poor_at_half_the_rural_income() {
    // 0.5 * 19575.01 = 9787.505: 9787.50 is under, 9787.51 over.
    let income = 100_000_000;
    let r = run(&[
        case("under", Lifted, income, 978_750),
        case("over", Lifted, income, 978_751),
        case("general", General, income, 978_751),
    ]);
    assert_eq!(ids(&r, "medical_burden_poor"), ["over"]);
    let a = raised(&r, "medical_burden_poor")[0];
    assert_eq!(a.value, Figure::Money(Fen(978_751)));
    // The threshold 9787.505 is reported rounded half up.
    assert_eq!(a.threshold, Some(Figure::Money(Fen(978_751))));
    assert_eq!(a.threshold.as_ref().unwrap().to_string(), "9787.51");
}

#[test]
fn medical_burden_poor_at_exactly_the_threshold_does_not_raise() {
    // Under the province's 19575.00: half is exactly 9787.50 = 978,750 fen.
    let t = ThresholdTable::new(&[Threshold {
        region: "34".into(),
        year: YEAR,
        rural_income: Fen(1_957_500),
        monitoring_line: Fen(700_000),
    }]);
    let hh: Vec<Household> = ["at", "over"]
        .iter()
        .map(|id| Household {
            household_id: id.to_string(),
            village_code: RegionCode::parse(VILLAGE).unwrap(),
            size: 1,
            income: Fen(100_000_000),
            consumption: None,
            food: None,
        })
        .collect();
    let persons: Vec<Person> = hh
        .iter()
        .enumerate()
        .map(|(i, h)| Person {
            person_id: pid(i as u16 + 1),
            household_id: h.household_id.clone(),
            name: "x".into(),
            status: LowIncome,
            status_since: day(1, 1),
            diagnoses: vec![],
        })
        .collect();
    let s = [
        SettledCost { person_id: pid(1), year: YEAR, out_of_pocket: Fen(978_750) },
        SettledCost { person_id: pid(2), year: YEAR, out_of_pocket: Fen(978_751) },
    ];
    let r =
        monitor_year(YEAR, &hh, &members(&persons), &[], &s, &t, &RuleSet::defaults(), &Catalogue::serious()).unwrap();
    assert_eq!(ids(&r, "medical_burden_poor"), ["over"]);
    assert_eq!(raised(&r, "medical_burden_poor")[0].threshold.as_ref().unwrap().to_string(), "9787.50");
}

#[test]
fn medical_burden_general_at_the_rural_income() {
    let income = 100_000_000;
    let r = run(&[
        case("at", General, income, 1_957_501),
        case("over", General, income, 1_957_502),
        case("under", General, income, 1_957_500),
        case("poor", Lifted, income, 1_957_502),
    ]);
    assert_eq!(ids(&r, "medical_burden_general"), ["over"]);
    assert_eq!(raised(&r, "medical_burden_general")[0].threshold, Some(Figure::Money(Fen(1_957_501))));
}

#[test]
fn impoverishing_crosses_the_monitoring_line_per_capita() {
    // Three people, line 7000.00: income 21000.00 is exactly on the line.
    let on_line = 2_100_000;
    let mut cases = vec![
        case("on_line_no_cost", General, on_line, 0),
        case("on_line_one_fen", General, on_line, 1),
        case("below_already", General, on_line - 1, 1),
        case("stays_above", General, on_line + 3, 3),
        case("falls_by_a_fen", General, on_line + 3, 4),
    ];
    for c in &mut cases {
        c.size = 3;
    }
    let r = run(&cases);
    assert_eq!(ids(&r, "impoverishing"), ["falls_by_a_fen", "on_line_one_fen"]);
    let a = raised(&r, "impoverishing")[1];
    // (21000.00 - 0.01) / 3 = 6999.99666..., reported rounded half up; compared exactly.
    assert_eq!(a.value.to_string(), "7000.00");
    assert_eq!(a.threshold.as_ref().unwrap().to_string(), "7000.00");
    let m = r.measures.iter().find(|m| m.household_id == "on_line_one_fen").unwrap();
    assert_eq!(m.per_capita_income, Fen(700_000));
    assert_eq!(m.per_capita_after, Fen(700_000));
}

#[test]
fn catastrophic_rules_at_ten_and_twenty_five_percent_of_the_budget() {
    // Consumption 10000.05: 10% is 1000.005, 25% is 2500.0125.
    let mut cases = vec![
        case("c10_under", General, 50_000_000, 100_000),
        case("c10_over", General, 50_000_000, 100_001),
        case("c25_under", General, 50_000_000, 250_001),
        case("c25_over", General, 50_000_000, 250_002),
    ];
    for c in &mut cases {
        c.consumption = Some(1_000_005);
    }
    // Without consumption the budget is the income: 10% of 3000.00 is 300.00.
    cases.push(case("income_at", General, 300_000, 30_000));
    cases.push(case("income_over", General, 300_000, 30_001));
    let r = run(&cases);
    assert_eq!(ids(&r, "catastrophic_10"), ["c10_over", "c25_over", "c25_under", "income_over"]);
    assert_eq!(ids(&r, "catastrophic_25"), ["c25_over"]);
    let c10 = raised(&r, "catastrophic_10")[0];
    assert_eq!(c10.threshold.as_ref().unwrap().to_string(), "1000.01");
    let c25 = raised(&r, "catastrophic_25")[0];
    assert_eq!(c25.threshold.as_ref().unwrap().to_string(), "2500.01");
    assert_eq!(c25.value.to_string(), "2500.02");
}

fn claim(id: &str, person: ResidentId, discharged: NaiveDate, diagnosis: &str) -> Claim {
    Claim {
        claim_id: id.into(),
        person_id: person,
        facility_level: FacilityLevel::County,
        kind: ClaimKind::Inpatient,
        admitted: discharged,
        discharged,
        total_cost: Fen(1000),
        eligible_cost: Fen(1000),
        diagnosis: diagnosis.into(),
        facility_id: String::new(),
        referred: false,
    }
}

#[test]
fn serious_diagnosis_reports_the_first_serious_claim_of_poor_households() {
    let cases = [
        case("poor", Lifted, 10_000_000, 0),
        case("general", General, 10_000_000, 0),
        case("poor_other", LowIncome, 10_000_000, 0),
    ];
    let claims = [
        claim("C3", pid(1), day(2, 1), "I10"),   // chronic, not serious
        claim("C2", pid(1), day(3, 1), "C34.1"), // serious, same day as C1 but later id
        claim("C1", pid(1), day(3, 1), "C16.9"),
        claim("C0", pid(1), day(4, 1), "C50"),
        claim("C9", pid(2), day(3, 1), "C16.9"), // a general household: not this rule
        claim("C8", pid(3), NaiveDate::from_ymd_opt(YEAR - 1, 12, 30).unwrap(), "C16.9"), // last year
    ];
    let r = run_with(&cases, &claims, &RuleSet::defaults());
    let s = raised(&r, "serious_diagnosis");
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].household_id, "poor");
    assert_eq!(s[0].value, Figure::Text("C16.9".into()));
    assert_eq!(s[0].threshold, None);
}

#[test]
fn alerts_are_sorted_by_rule_then_household() {
    let r = run(&[case("b", Lifted, 1_000_000, 990_000), case("a", Lifted, 1_000_000, 990_000)]);
    let keys: Vec<(String, String)> = r.alerts.iter().map(|a| (a.rule.clone(), a.household_id.clone())).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert!(keys.len() >= 6, "{keys:?}");
}

#[test]
fn a_region_factor_changes_the_outcome() {
    let rules = RuleSet::from_region_toml("[[rule]]\nname = \"medical_burden_poor\"\nfactor = 0.4\n[[rule]]\nname = \"catastrophic_10\"\nenabled = false\n").unwrap();
    // 0.4 * 19575.01 = 7830.004: 7830.00 under, 7830.01 over.
    let cases = [case("under", Lifted, 100_000_000, 783_000), case("over", Lifted, 100_000_000, 783_001)];
    let r = run_with(&cases, &[], &rules);
    assert_eq!(ids(&r, "medical_burden_poor"), ["over"]);
    assert_eq!(raised(&r, "medical_burden_poor")[0].threshold.as_ref().unwrap().to_string(), "7830.00");
    assert!(ids(&r, "catastrophic_10").is_empty());
}

#[test]
fn a_household_without_threshold_is_reported_not_guessed() {
    let hh = vec![
        Household {
            household_id: "far".into(),
            village_code: RegionCode::parse("351122100201").unwrap(),
            size: 1,
            income: Fen(100),
            consumption: None,
            food: None,
        },
        Household {
            household_id: "near".into(),
            village_code: RegionCode::parse(VILLAGE).unwrap(),
            size: 1,
            income: Fen(100),
            consumption: None,
            food: None,
        },
    ];
    let persons: Vec<Person> = hh
        .iter()
        .enumerate()
        .map(|(i, h)| Person {
            person_id: pid(i as u16 + 1),
            household_id: h.household_id.clone(),
            name: "x".into(),
            status: Lifted,
            status_since: day(1, 1),
            diagnoses: vec![],
        })
        .collect();
    let s = [
        SettledCost { person_id: pid(1), year: YEAR, out_of_pocket: Fen(5_000_000) },
        SettledCost { person_id: pid(2), year: YEAR, out_of_pocket: Fen(5_000_000) },
    ];
    let r = monitor_year(
        YEAR,
        &hh,
        &members(&persons),
        &[],
        &s,
        &thresholds(),
        &RuleSet::defaults(),
        &Catalogue::serious(),
    )
    .unwrap();
    assert_eq!(r.missing_thresholds.len(), 1);
    assert_eq!(r.missing_thresholds[0].household_id, "far");
    assert!(r.missing_thresholds[0].to_string().contains("no threshold for 2024"));
    // No threshold-based alert was guessed for it; rules that need none still apply.
    let far: Vec<&str> = r.alerts.iter().filter(|a| a.household_id == "far").map(|a| a.rule.as_str()).collect();
    assert_eq!(far, ["catastrophic_10", "catastrophic_25"]);
    let near: Vec<&str> = r.alerts.iter().filter(|a| a.household_id == "near").map(|a| a.rule.as_str()).collect();
    assert!(near.contains(&"medical_burden_poor"), "{near:?}");
    // The county's own figure was used for the near household: the longest prefix.
    assert_eq!(r.measures[1].rural_income, Some(Fen(1_957_501)));
}

fn one_household(size: u16) -> Vec<Household> {
    vec![Household {
        household_id: "H1".into(),
        village_code: RegionCode::parse(VILLAGE).unwrap(),
        size,
        income: Fen(100),
        consumption: None,
        food: None,
    }]
}

fn one_person(household: &str) -> Vec<Person> {
    vec![Person {
        person_id: pid(1),
        household_id: household.into(),
        name: "x".into(),
        status: General,
        status_since: day(1, 1),
        diagnoses: vec![],
    }]
}

#[test]
fn input_that_cannot_be_joined_is_refused() {
    let rules = RuleSet::defaults();
    let cat = Catalogue::serious();
    let t = thresholds();
    let e = monitor_year(YEAR, &one_household(0), &members(&one_person("H1")), &[], &[], &t, &rules, &cat).unwrap_err();
    assert_eq!(e, MonitorError::HouseholdSizeZero { household_id: "H1".into() });
    assert!(e.to_string().contains("size 0"));
    let s = [SettledCost { person_id: pid(9), year: YEAR, out_of_pocket: Fen(1) }];
    let e = monitor_year(YEAR, &one_household(1), &members(&one_person("H1")), &[], &s, &t, &rules, &cat).unwrap_err();
    assert_eq!(e, MonitorError::SettlementForUnknownPerson { person_id: pid(9), year: YEAR });
    let e = monitor_year(YEAR, &one_household(1), &members(&one_person("H2")), &[], &[], &t, &rules, &cat).unwrap_err();
    assert!(matches!(e, MonitorError::UnknownHousehold { ref household_id, .. } if household_id == "H2"), "{e}");
    assert!(e.to_string().contains("H2"));
}

#[test]
fn overflow_in_a_rule_is_an_error_not_a_wrap() {
    let rules = RuleSet::from_region_toml(
        "[[rule]]\nname = \"huge\"\nwho = \"all\"\ncondition = \"oop * 9223372036854775807 > 0\"\nvalue = \"oop\"\n",
    )
    .unwrap();
    let s = [SettledCost { person_id: pid(1), year: YEAR, out_of_pocket: Fen(5) }];
    let e = monitor_year(
        YEAR,
        &one_household(1),
        &members(&one_person("H1")),
        &[],
        &s,
        &thresholds(),
        &rules,
        &Catalogue::serious(),
    )
    .unwrap_err();
    assert!(matches!(e, MonitorError::Evaluation { ref rule, .. } if rule == "huge"), "{e}");
}
