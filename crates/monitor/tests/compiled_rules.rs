//! The rules' expressions run compiled from their parsed form (compile.rs)
//! rather than through the CEL interpreter, whatever their text. The same rules
//! left to the interpreter (`RuleSet::interpreted`) must raise the same alerts,
//! with the same figures, and fail with the same error, over households of every
//! kind: poor or not, with and without consumption, threshold or serious claim,
//! at the edges of the thresholds and at sums that overflow. Rules outside the
//! compiled subset are interpreted and still right.

use chrono::NaiveDate;
use domain::{
    Catalogue, Claim, ClaimKind, FacilityLevel, Fen, Household, PovertyStatus, RegionCode, ResidentId, Threshold,
};
use monitor::{find_alerts, monitor_year, Member, MonitorResult, Path, RuleSet, SettledCost, ThresholdTable};

const YEAR: i32 = 2024;

/// A small deterministic generator (xorshift), so the test needs no crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct Data {
    households: Vec<Household>,
    members: Vec<Member>,
    claims: Vec<Claim>,
    settlements: Vec<SettledCost>,
}

fn person(n: usize) -> ResidentId {
    let birth = NaiveDate::from_ymd_opt(1950, 1, 1).unwrap() + chrono::Days::new((n / 1000) as u64);
    ResidentId::from_parts(341122, birth, (n % 1000) as u16).unwrap()
}

/// `n` households of one to six persons; every tenth village has no threshold.
/// Persons come in the households' order except where `shuffle` moves them.
fn data(n: usize, seed: u64, shuffle: bool) -> Data {
    let mut rng = Rng(seed);
    let diagnoses = ["C16.9", "I10", "J18.9", "C34.1", "N18.5", "I63.9", ""];
    let statuses = [PovertyStatus::General, PovertyStatus::General, PovertyStatus::Lifted, PovertyStatus::LowIncome];
    let (mut households, mut members, mut claims, mut settlements) = (vec![], vec![], vec![], vec![]);
    let mut pid = 0;
    for i in 0..n {
        let size = 1 + rng.below(6) as u16;
        let village = if i % 10 == 9 { "351122100201" } else { "341122100201" };
        // Incomes around the monitoring line times the size, and now and then huge.
        let income = match rng.below(20) {
            0 => Fen::MAX.0,
            1 => 0,
            _ => size as i64 * (600_000 + rng.below(200_000) as i64),
        };
        let consumption = match rng.below(3) {
            0 => None,
            _ => Some(Fen(income / 100 * (60 + rng.below(40) as i64))),
        };
        households.push(Household {
            household_id: format!("H{:05}", (i * 7919) % 100_000),
            village_code: RegionCode::parse(village).unwrap(),
            size,
            income: Fen(income),
            consumption,
            food: None,
        });
        for _ in 0..size {
            let p = person(pid);
            pid += 1;
            let status = statuses[rng.below(statuses.len() as u64) as usize];
            members.push(Member { person_id: p, household_id: households[i].household_id.clone(), status });
            for k in 0..rng.below(3) {
                let oop = match rng.below(50) {
                    0 => Fen::MAX.0 / 2,
                    _ => rng.below(2_000_000) as i64,
                };
                settlements.push(SettledCost { person_id: p, year: YEAR, out_of_pocket: Fen(oop) });
                let day = NaiveDate::from_ymd_opt(YEAR, 1, 1).unwrap() + chrono::Days::new(rng.below(5));
                claims.push(Claim {
                    claim_id: format!("C{pid}-{k}"),
                    person_id: p,
                    facility_level: FacilityLevel::County,
                    kind: ClaimKind::Inpatient,
                    admitted: day,
                    discharged: day,
                    total_cost: Fen(1000),
                    eligible_cost: Fen(1000),
                    diagnosis: diagnoses[rng.below(diagnoses.len() as u64) as usize].into(),
                    facility_id: String::new(),
                    referred: false,
                });
            }
        }
    }
    if shuffle {
        for i in (1..members.len()).rev() {
            members.swap(i, rng.below(i as u64 + 1) as usize);
        }
    }
    Data { households, members, claims, settlements }
}

fn thresholds() -> ThresholdTable {
    ThresholdTable::new(&[Threshold {
        region: "34".into(),
        year: YEAR,
        rural_income: Fen(1_957_501),
        monitoring_line: Fen(700_000),
    }])
}

fn run(d: &Data, rules: &RuleSet) -> Result<MonitorResult, monitor::MonitorError> {
    monitor_year(
        YEAR,
        &d.households,
        &d.members,
        &d.claims,
        &d.settlements,
        &thresholds(),
        rules,
        &Catalogue::serious(),
    )
}

/// The default rules with `extra` lines added to a rule's table.
fn rules(extra: &[(&str, &str)]) -> RuleSet {
    let toml: String = extra.iter().map(|(name, lines)| format!("[[rule]]\nname = \"{name}\"\n{lines}")).collect();
    RuleSet::from_region_toml(&toml).unwrap()
}

/// Runs `rules` compiled and interpreted: the same outcome, alerts or error.
fn both(d: &Data, rules: &RuleSet) -> Result<MonitorResult, monitor::MonitorError> {
    let compiled = run(d, rules);
    let interpreted = run(d, &rules.interpreted());
    match (&compiled, &interpreted) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.alerts, b.alerts);
            assert_eq!(a.missing_thresholds, b.missing_thresholds);
            assert_eq!(a.measures, b.measures);
        }
        (a, b) => assert_eq!(a.as_ref().err(), b.as_ref().err()),
    }
    compiled
}

/// Sums that overflow make CEL fail; keep the households whose sums stay small
/// for the comparisons of alerts.
fn without_overflow(mut d: Data) -> Data {
    d.settlements.retain(|s| s.out_of_pocket.0 < 1_000_000_000);
    for h in &mut d.households {
        if h.income == Fen::MAX {
            h.income = Fen(1);
            h.consumption = None;
        }
    }
    d
}

#[test]
fn compiled_and_interpreted_raise_the_same_alerts() {
    let defaults = RuleSet::defaults();
    assert!(defaults.paths().iter().all(|(_, p)| *p == Path::Compiled));
    for seed in [1, 2, 3] {
        let d = without_overflow(data(3000, seed, false));
        let compiled = both(&d, &defaults).unwrap();
        assert!(compiled.alerts.len() > 500, "{}", compiled.alerts.len());
        // Every default rule raised something.
        for r in &defaults.rules {
            assert!(compiled.alerts.iter().any(|a| a.rule == r.name), "{} never raised", r.name);
        }
    }
}

#[test]
fn compiled_and_interpreted_agree_under_changed_factors_and_who() {
    let extra = [
        ("medical_burden_poor", "factor = 0.3333\nwho = \"all\"\n"),
        ("catastrophic_10", "factor = 0.0001\n"),
        ("serious_diagnosis", "who = \"general\"\n"),
    ];
    let d = without_overflow(data(2000, 9, false));
    let r = both(&d, &rules(&extra)).unwrap();
    assert!(r.alerts.iter().any(|a| a.rule == "serious_diagnosis"));
}

/// The default rules as an officer might rewrite them: other blanks, parentheses,
/// operands swapped, a comparison turned round. They stay compiled and raise what
/// the shipped text raises.
#[test]
fn rewritten_rules_stay_compiled_and_raise_the_same_alerts() {
    let extra = [
        (
            "medical_burden_poor",
            "condition = \"rural_income*factor<(oop*10000)\"\nthreshold = \"round_div((factor * rural_income), 10000)\"\n",
        ),
        ("medical_burden_general", "condition = \"!(oop * 10000 <= rural_income * factor)\"\n"),
        (
            "impoverishing",
            "condition = \"\"\"size * monitoring_line <= income\n  && (income - oop) < size * monitoring_line\"\"\"\n\
             value = \"round_div(-oop + income, size)\"\n",
        ),
        ("catastrophic_10", "condition = \"(oop * 10000) > (budget * factor)\"\nvalue = \"(oop)\"\n"),
        ("serious_diagnosis", "condition = \"'' != serious_diagnosis\"\n"),
    ];
    let rewritten = rules(&extra);
    assert!(rewritten.paths().iter().all(|(_, p)| *p == Path::Compiled), "{:?}", rewritten.paths());
    let d = without_overflow(data(3000, 11, false));
    let shipped = run(&d, &RuleSet::defaults()).unwrap();
    let r = both(&d, &rewritten).unwrap();
    assert_eq!(r.alerts, shipped.alerts);
}

#[test]
fn overflow_fails_as_cel_fails() {
    // Sums near Fen::MAX overflow `oop * 10000`: CEL reports it, compiled too.
    let d = data(500, 4, false);
    let e = both(&d, &RuleSet::defaults()).unwrap_err();
    assert!(e.to_string().contains("Overflow"), "{e}");
}

#[test]
fn custom_compiled_rules_run_beside_the_shipped_ones() {
    let region = "[[rule]]\nname = \"large_household_burden\"\nwho = \"all\"\nfactor = 0.3\n\
                  condition = \"size >= 5 && oop * 10000 > income * factor && has_consumption\"\n\
                  value = \"oop\"\nthreshold = \"round_div(income * factor, 10000)\"\n";
    let rules = RuleSet::from_region_toml(region).unwrap();
    assert_eq!(rules.get("large_household_burden").unwrap().path(), Path::Compiled);
    let d = without_overflow(data(2000, 5, false));
    let r = both(&d, &rules).unwrap();
    let custom: Vec<_> = r.alerts.iter().filter(|a| a.rule == "large_household_burden").collect();
    assert!(!custom.is_empty());
    for a in custom {
        let m = r.measures.iter().find(|m| m.household_id == a.household_id).unwrap();
        assert!(m.size >= 5 && m.consumption.is_some() && m.oop.0 * 10_000 > m.income.0 * 3000);
    }
}

/// Rules outside the compiled subset fall back to the interpreter and still raise
/// the right alerts, beside compiled ones.
#[test]
fn rules_outside_the_subset_are_interpreted_and_right() {
    let region = r#"
        [[rule]]
        name = "long_diagnosis"
        who = "all"
        condition = "size(serious_diagnosis) > 3 && oop > 0"
        value = "serious_diagnosis"
        [[rule]]
        name = "listed_cancer"
        who = "poor"
        condition = "serious_diagnosis in ['C16.9', 'C34.1']"
        value = "oop"
        threshold = "round_div(rural_income * 5, 10)"
    "#;
    let rules = RuleSet::from_region_toml(region).unwrap();
    assert_eq!(rules.get("long_diagnosis").unwrap().path(), Path::Interpreted);
    assert_eq!(rules.get("listed_cancer").unwrap().path(), Path::Interpreted);
    assert_eq!(rules.get("listed_cancer").unwrap().threshold.as_ref().unwrap().path(), Path::Compiled);
    let d = without_overflow(data(2000, 12, false));
    let r = both(&d, &rules).unwrap();
    let long: Vec<_> = r.alerts.iter().filter(|a| a.rule == "long_diagnosis").collect();
    let listed: Vec<_> = r.alerts.iter().filter(|a| a.rule == "listed_cancer").collect();
    assert!(!long.is_empty() && !listed.is_empty());
    for m in &r.measures {
        let diagnosis = m.serious_diagnosis.as_deref().unwrap_or("");
        let raised = long.iter().any(|a| a.household_id == m.household_id);
        assert_eq!(raised, diagnosis.len() > 3 && m.oop.0 > 0, "{}", m.household_id);
        let raised = listed.iter().find(|a| a.household_id == m.household_id);
        let expected = m.poor && m.rural_income.is_some() && ["C16.9", "C34.1"].contains(&diagnosis);
        assert_eq!(raised.is_some(), expected, "{}", m.household_id);
        if let Some(a) = raised {
            assert_eq!(a.value, monitor::Figure::Money(m.oop));
        }
    }
}

#[test]
fn find_alerts_gives_monitor_years_alerts() {
    let d = without_overflow(data(3000, 6, false));
    let full = run(&d, &RuleSet::defaults()).unwrap();
    let found = find_alerts(
        YEAR,
        &d.households,
        &d.members,
        &d.claims,
        &d.settlements,
        &thresholds(),
        &RuleSet::defaults(),
        &Catalogue::serious(),
    )
    .unwrap();
    assert_eq!(found.alerts, full.alerts);
    assert_eq!(found.missing_thresholds, full.missing_thresholds);
    assert_eq!(found.households, full.measures.len());
}

#[test]
fn persons_in_any_order_join_the_same() {
    let ordered = without_overflow(data(3000, 7, false));
    let shuffled = without_overflow(data(3000, 7, true));
    assert_ne!(ordered.members, shuffled.members);
    let a = run(&ordered, &RuleSet::defaults()).unwrap();
    let b = run(&shuffled, &RuleSet::defaults()).unwrap();
    assert_eq!(a.alerts, b.alerts);
    assert_eq!(a.measures, b.measures);
}

#[test]
fn a_person_twice_is_refused_wherever_it_comes() {
    let mut d = data(50, 8, false);
    let dup = d.members[10].clone();
    d.members.push(dup.clone());
    let e = run(&d, &RuleSet::defaults()).unwrap_err();
    assert_eq!(e, monitor::MonitorError::DuplicatePerson { person_id: dup.person_id });
}
