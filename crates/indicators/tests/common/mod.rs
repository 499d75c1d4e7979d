//! A small hand-made registry shared by the tests.
#![allow(dead_code)]

use chrono::NaiveDate;
use domain::{
    Catalogue, Claim, ClaimKind, FacilityLevel, Fen, Household, Person, PovertyStatus, RegionCode, ResidentId,
};
use indicators::extract::{
    coverage_facts, registry_facts, AlertEvent, AlertLedger, ClaimLedger, FundAmounts, Registry, SettledClaim,
    VillageReach,
};
use indicators::{Definitions, Fact, Month};
use std::collections::HashSet;

pub fn code(s: &str) -> RegionCode {
    RegionCode::parse(s).unwrap()
}

pub fn date(s: &str) -> NaiveDate {
    domain::parse_date(s).unwrap()
}

pub fn pid(seq: u16) -> ResidentId {
    ResidentId::from_parts(341122, date("1960-01-01"), seq).unwrap()
}

pub fn household(id: &str, village: &str) -> Household {
    Household {
        household_id: id.into(),
        village_code: code(village),
        size: 3,
        income: Fen::from_yuan(30000),
        consumption: None,
        food: None,
    }
}

pub fn person(seq: u16, household: &str, status: PovertyStatus, diagnoses: &[&str]) -> Person {
    Person {
        person_id: pid(seq),
        household_id: household.into(),
        name: format!("P{seq}"),
        status,
        status_since: date("2020-01-01"),
        diagnoses: diagnoses.iter().map(|s| s.to_string()).collect(),
    }
}

pub fn claim(
    id: &str,
    person: u16,
    level: FacilityLevel,
    kind: ClaimKind,
    discharged: &str,
    total: i64,
    eligible: i64,
) -> Claim {
    Claim {
        claim_id: id.into(),
        person_id: pid(person),
        facility_level: level,
        kind,
        admitted: date(discharged),
        discharged: date(discharged),
        total_cost: Fen::from_yuan(total),
        eligible_cost: Fen::from_yuan(eligible),
        diagnosis: String::new(),
        facility_id: String::new(),
        referred: false,
    }
}

/// Yuan per fund in [`indicators::extract::Fund`] order.
pub fn paid(basic: i64, critical: i64, assistance: i64, safety_net: i64) -> FundAmounts {
    FundAmounts([basic * 100, critical * 100, assistance * 100, safety_net * 100, 0])
}

pub struct World {
    pub households: Vec<Household>,
    pub persons: Vec<Person>,
    pub claims: Vec<Claim>,
    pub settlements: Vec<(FundAmounts, Fen)>,
    pub alerts: Vec<AlertEvent>,
    pub reach: Vec<VillageReach>,
    pub contracted: HashSet<ResidentId>,
}

/// Two counties of one city: villages V1, V2 in township 341122100, V3 in county
/// 341123. The figures the tests expect are worked out by hand in
/// `tests/indicators.rs`.
pub fn world() -> World {
    use ClaimKind::*;
    use FacilityLevel::*;
    use PovertyStatus::*;
    let households =
        vec![household("H1", "341122100201"), household("H2", "341122100202"), household("H3", "341123200301")];
    let persons = vec![
        person(1, "H1", Lifted, &["C16.9"]),
        person(2, "H1", General, &["I10"]),
        person(3, "H2", General, &[]),
        person(4, "H3", LowIncome, &["I10"]),
        person(5, "H3", LowIncome, &["C16"]),
    ];
    // P1 is treated for the disease registered (C16.9, stomach cancer) by C1.
    let mut c1 = claim("C1", 1, County, Inpatient, "2024-03-10", 600, 500);
    c1.diagnosis = "C16.2".into();
    let claims = vec![
        c1,
        claim("C2", 1, Provincial, Inpatient, "2024-05-02", 1000, 1000),
        claim("C3", 3, Township, Outpatient, "2024-04-01", 100, 100),
        claim("C4", 4, Village, Inpatient, "2024-07-15", 200, 200),
    ];
    let settlements = vec![
        (paid(300, 50, 20, 0), Fen::from_yuan(230)),
        (paid(600, 0, 0, 0), Fen::from_yuan(400)),
        (paid(50, 0, 0, 0), Fen::from_yuan(50)),
        (paid(150, 0, 30, 0), Fen::from_yuan(20)),
    ];
    let alerts = vec![
        AlertEvent {
            household_id: "H1".into(),
            year: 2024,
            raised_on: date("2024-12-20"),
            assisted_on: Some(date("2025-01-10")),
        },
        AlertEvent { household_id: "H2".into(), year: 2024, raised_on: date("2024-12-20"), assisted_on: None },
        AlertEvent { household_id: "H2".into(), year: 2024, raised_on: date("2024-11-02"), assisted_on: None },
    ];
    let reach = vec![
        VillageReach {
            village: code("341122100201"),
            rural: true,
            population: 800,
            has_qualified_doctor: true,
            within_15min: true,
        },
        VillageReach {
            village: code("341122100202"),
            rural: true,
            population: 200,
            has_qualified_doctor: false,
            within_15min: true,
        },
        VillageReach {
            village: code("341123200301"),
            rural: true,
            population: 1000,
            has_qualified_doctor: true,
            within_15min: false,
        },
        VillageReach {
            village: code("341123200302"),
            rural: false,
            population: 5000,
            has_qualified_doctor: true,
            within_15min: true,
        },
    ];
    let contracted = [pid(4)].into_iter().collect();
    World { households, persons, claims, settlements, alerts, reach, contracted }
}

impl World {
    pub fn registry(&self) -> Registry {
        Registry::new(&self.households, &self.persons).unwrap()
    }

    pub fn settled(&self) -> Vec<SettledClaim<'_>> {
        self.claims
            .iter()
            .zip(&self.settlements)
            .map(|(c, (p, o))| SettledClaim { claim: c, paid: *p, out_of_pocket: *o })
            .collect()
    }

    /// Every fact of the world for 2024.
    pub fn facts(&self) -> Vec<Fact> {
        let reg = self.registry();
        let as_of = Month::new(2024, 1);
        let mut f = registry_facts(
            &reg,
            &self.households,
            &self.persons,
            &Catalogue::serious(),
            &Catalogue::chronic(),
            &self.contracted,
            as_of,
        );
        let mut ledger = ClaimLedger::new(&self.persons, &Catalogue::serious(), 2024);
        f.extend(ledger.facts(&reg, &self.settled()).unwrap());
        f.extend(AlertLedger::new().facts(&reg, &self.alerts).unwrap());
        f.extend(coverage_facts(&self.reach, as_of));
        f
    }
}

pub fn defs() -> Definitions {
    Definitions::shipped()
}
