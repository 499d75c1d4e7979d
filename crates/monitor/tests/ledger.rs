//! The patient ledger: each of the three batches, treatment status, treatment in
//! the county, family-doctor contracts, regional catalogues.

use chrono::NaiveDate;
use domain::{
    Catalogue, CatalogueEntry, Claim, ClaimKind, FacilityLevel, Fen, Person, PovertyStatus, RegionCode, ResidentId,
};
use monitor::ledger::{CatalogueMode, RegionalCatalogue, SevereCost};
use monitor::{
    patient_ledger, Batch, CatalogueSet, Contract, LedgerEntry, LedgerSettings, RegionalCatalogues, TreatmentStatus,
};
use std::collections::HashMap;

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, m, d).unwrap()
}

fn pid(n: u16) -> ResidentId {
    ResidentId::from_parts(341122, NaiveDate::from_ymd_opt(1960, 5, 5).unwrap(), n).unwrap()
}

fn person(n: u16, hh: &str, diagnoses: &[&str]) -> Person {
    Person {
        person_id: pid(n),
        household_id: hh.into(),
        name: "x".into(),
        status: PovertyStatus::Lifted,
        status_since: day(1, 1),
        diagnoses: diagnoses.iter().map(|s| s.to_string()).collect(),
    }
}

fn claim(
    id: &str,
    n: u16,
    level: FacilityLevel,
    admitted: NaiveDate,
    discharged: NaiveDate,
    dx: &str,
    total: i64,
) -> Claim {
    Claim {
        claim_id: id.into(),
        person_id: pid(n),
        facility_level: level,
        kind: ClaimKind::Inpatient,
        admitted,
        discharged,
        total_cost: Fen::from_yuan(total),
        eligible_cost: Fen::from_yuan(total),
        diagnosis: dx.into(),
        facility_id: String::new(),
        referred: false,
    }
}

fn villages() -> HashMap<String, RegionCode> {
    ["H1", "H2", "H3", "H4", "H5"].iter().map(|h| (h.to_string(), RegionCode::parse("341122100201").unwrap())).collect()
}

fn ledger(
    persons: &[Person],
    claims: &[Claim],
    oop: &HashMap<domain::ClaimKey, Fen>,
    cats: &RegionalCatalogues,
    settings: &LedgerSettings,
) -> Vec<LedgerEntry> {
    let contracts: HashMap<ResidentId, Contract> =
        [(pid(2), Contract { doctor: "Dr Zhang".into(), signed: day(1, 15) })].into_iter().collect();
    patient_ledger(2024, day(9, 30), persons, &villages(), claims, oop, cats, &contracts, settings)
}

fn national() -> RegionalCatalogues {
    RegionalCatalogues { national: CatalogueSet::national(), regional: vec![] }
}

#[test]
fn each_batch_and_its_status() {
    let persons = [
        person(1, "H1", &["C16.9"]), // serious, treated at the municipal hospital
        person(2, "H2", &["I10"]),   // chronic, no claim yet, has a contract
        person(3, "H3", &[]),        // severe: costly illness outside both lists
        person(4, "H4", &["J18"]),   // neither: a cheap pneumonia
        person(5, "H5", &[]),        // no diagnosis at all
    ];
    let claims = [
        claim("A", 1, FacilityLevel::Municipal, day(3, 1), day(3, 20), "C16.9", 60_000),
        claim("B", 1, FacilityLevel::County, day(9, 20), day(10, 5), "C16.9", 8_000),
        claim("C", 3, FacilityLevel::County, day(2, 1), day(2, 10), "K74.6", 40_000),
        claim("D", 4, FacilityLevel::Township, day(1, 3), day(1, 5), "J18", 900),
    ];
    let oop: HashMap<domain::ClaimKey, Fen> = [("A", 9_000), ("B", 1_000), ("C", 12_000), ("D", 100)]
        .iter()
        .map(|(c, y)| (domain::ClaimKey::new("", c), Fen::from_yuan(*y)))
        .collect();
    let l = ledger(&persons, &claims, &oop, &national(), &LedgerSettings::default());
    let got: Vec<(Batch, ResidentId, &str, TreatmentStatus, Option<bool>)> =
        l.iter().map(|e| (e.batch, e.person_id, e.diagnosis.as_str(), e.status, e.treated_in_county)).collect();
    assert_eq!(
        got,
        vec![
            // Claim B is still open on 30 September: in treatment; A was municipal.
            (Batch::Serious, pid(1), "C16.9", TreatmentStatus::InTreatment, Some(false)),
            (Batch::Chronic, pid(2), "I10", TreatmentStatus::ToTreat, None),
            (Batch::Severe, pid(3), "K74.6", TreatmentStatus::Treated, Some(true)),
        ]
    );
    assert_eq!(l[0].disease, "stomach cancer");
    assert_eq!(l[1].contract, Some(Contract { doctor: "Dr Zhang".into(), signed: day(1, 15) }));
    assert_eq!(l[2].year_cost, Fen::from_yuan(12_000));
}

#[test]
fn severe_threshold_and_cost_measure_are_settings() {
    let persons = [person(3, "H3", &[])];
    let claims = [claim("C", 3, FacilityLevel::County, day(2, 1), day(2, 10), "K74.6", 40_000)];
    let oop: HashMap<domain::ClaimKey, Fen> =
        [(domain::ClaimKey::new("", "C"), Fen::from_yuan(9_999))].into_iter().collect();
    let by_oop = LedgerSettings::default();
    assert!(ledger(&persons, &claims, &oop, &national(), &by_oop).is_empty(), "9999 OOP is under 10000");
    let exactly = LedgerSettings { severe_threshold: Fen::from_yuan(9_999), ..by_oop };
    assert_eq!(ledger(&persons, &claims, &oop, &national(), &exactly).len(), 1, "the threshold is reached at equality");
    let by_total = LedgerSettings { severe_cost: SevereCost::Total, ..by_oop };
    let l = ledger(&persons, &claims, &oop, &national(), &by_total);
    assert_eq!(l[0].year_cost, Fen::from_yuan(40_000));
}

#[test]
fn recent_discharge_is_in_treatment_and_older_is_treated() {
    let persons = [person(1, "H1", &["C50"]), person(3, "H3", &["C50"])];
    let claims = [
        claim("A", 1, FacilityLevel::County, day(8, 20), day(9, 1), "C50.1", 1000), // 29 days before
        claim("B", 3, FacilityLevel::County, day(8, 1), day(8, 30), "C50.1", 1000), // 31 days before
    ];
    let l = ledger(&persons, &claims, &HashMap::new(), &national(), &LedgerSettings::default());
    assert_eq!(l[0].status, TreatmentStatus::InTreatment);
    assert_eq!(l[1].status, TreatmentStatus::Treated);
}

#[test]
fn a_region_extends_or_replaces_the_national_catalogue() {
    let local = Catalogue {
        entries: vec![CatalogueEntry {
            name_zh: "包虫病".into(),
            name_en: "echinococcosis".into(),
            icd10_prefixes: vec!["B67".into()],
            since: None,
        }],
    };
    let persons = [person(1, "H1", &["B67.0"]), person(2, "H2", &["C16"])];
    let extend = RegionalCatalogues {
        national: CatalogueSet::national(),
        regional: vec![RegionalCatalogue {
            region: "3411".into(),
            batch: Batch::Serious,
            mode: CatalogueMode::Extend,
            catalogue: local.clone(),
        }],
    };
    let l = ledger(&persons, &[], &HashMap::new(), &extend, &LedgerSettings::default());
    assert_eq!(l.iter().filter(|e| e.batch == Batch::Serious).count(), 2);
    assert_eq!(l[0].disease, "echinococcosis");
    let replace = RegionalCatalogues {
        national: CatalogueSet::national(),
        regional: vec![RegionalCatalogue {
            region: "341122".into(),
            batch: Batch::Serious,
            mode: CatalogueMode::Replace,
            catalogue: local.clone(),
        }],
    };
    let l = ledger(&persons, &[], &HashMap::new(), &replace, &LedgerSettings::default());
    let serious: Vec<ResidentId> = l.iter().filter(|e| e.batch == Batch::Serious).map(|e| e.person_id).collect();
    assert_eq!(serious, vec![pid(1)], "stomach cancer is off this region's replaced list");
    // Another province keeps the national list.
    let elsewhere = replace.for_region(RegionCode::parse("351122100201").unwrap());
    assert!(elsewhere.serious.find("C16", 2024).is_some());
}
