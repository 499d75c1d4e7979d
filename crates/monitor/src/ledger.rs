//! The patient ledger of the "three batches" of classified treatment (三个一批):
//! every person with a diagnosis, sorted into
//!
//! - `serious` (大病集中救治一批): a diagnosis in the serious-disease catalogue;
//! - `chronic` (慢病签约服务管理一批): else a diagnosis in the chronic-disease
//!   catalogue, managed under a family-doctor contract;
//! - `severe` (重病兜底保障一批): else a diagnosis outside both catalogues whose
//!   year's costs reach [`LedgerSettings::severe_threshold`].
//!
//! Which cost counts for `severe` is a setting ([`SevereCost`]); the default is
//! the out-of-pocket cost, because the safety-net batch exists for what the
//! patient is left to pay after insurance, not for what insurance already paid.
//!
//! Catalogues are per region: a region may extend or replace the national lists
//! ([`RegionalCatalogues`]), the longest region prefix winning.

use chrono::NaiveDate;
use domain::{Catalogue, Claim, FacilityLevel, Fen, Person, RegionCode, ResidentId};
use serde::Serialize;
use std::collections::HashMap;

pub use domain::ledger::{Batch, Contract, LedgerEntry, TreatmentStatus};

/// Which of a year's costs decides the severe batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SevereCost {
    /// The patient's out-of-pocket cost, from the settlements.
    OutOfPocket,
    /// The total cost of the claims.
    Total,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerSettings {
    pub severe_cost: SevereCost,
    /// The yearly cost from which an illness outside both catalogues is severe.
    pub severe_threshold: Fen,
    /// Days after discharge during which a patient still counts as in treatment.
    pub recent_days: i64,
}

impl Default for LedgerSettings {
    fn default() -> Self {
        // 10,000 yuan out of pocket in a year is the order of a rural household's
        // yearly per-capita income in the poorest counties: a cost that threatens it.
        LedgerSettings {
            severe_cost: SevereCost::OutOfPocket,
            severe_threshold: Fen::from_yuan(10_000),
            recent_days: 30,
        }
    }
}

/// The serious and chronic catalogues in force in one region.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogueSet {
    pub serious: Catalogue,
    pub chronic: Catalogue,
}

impl CatalogueSet {
    pub fn national() -> CatalogueSet {
        CatalogueSet { serious: Catalogue::serious(), chronic: Catalogue::chronic() }
    }
}

/// How a region's own catalogue relates to the national one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogueMode {
    /// The region's entries come first, then the national ones.
    Extend,
    /// The region's list alone.
    Replace,
}

/// A region's own serious or chronic list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionalCatalogue {
    /// A region-code prefix (2, 4, 6, 9 or 12 digits).
    pub region: String,
    pub batch: Batch,
    pub mode: CatalogueMode,
    pub catalogue: Catalogue,
}

/// The national catalogues and the regions' own.
#[derive(Debug, Clone, Default)]
pub struct RegionalCatalogues {
    pub national: CatalogueSet,
    pub regional: Vec<RegionalCatalogue>,
}

impl RegionalCatalogues {
    /// The catalogues in force for a village: for each of the two lists, the
    /// regional list of the longest prefix of the code, if any, over the national.
    pub fn for_region(&self, code: RegionCode) -> CatalogueSet {
        let digits = code.to_string();
        let pick = |batch: Batch, national: &Catalogue| -> Catalogue {
            let best = self
                .regional
                .iter()
                .filter(|r| r.batch == batch && digits.starts_with(&r.region))
                .max_by_key(|r| r.region.len());
            match best {
                None => national.clone(),
                Some(r) if r.mode == CatalogueMode::Replace => r.catalogue.clone(),
                Some(r) => {
                    let mut entries = r.catalogue.entries.clone();
                    entries.extend(national.entries.iter().cloned());
                    Catalogue { entries }
                }
            }
        };
        CatalogueSet {
            serious: pick(Batch::Serious, &self.national.serious),
            chronic: pick(Batch::Chronic, &self.national.chronic),
        }
    }
}

/// What the ledger needs of one settled claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimCost {
    pub claim_id: String,
    pub out_of_pocket: Fen,
}

/// Builds the ledger of `year` as of `as_of` (the reference day for treatment
/// status). `village_of` gives each household's village, for the regional
/// catalogues; `oop` gives each claim's out-of-pocket cost by claim key.
#[allow(clippy::too_many_arguments)]
pub fn patient_ledger(
    year: i32,
    as_of: NaiveDate,
    persons: &[Person],
    village_of: &HashMap<String, RegionCode>,
    claims: &[Claim],
    oop: &HashMap<domain::ClaimKey, Fen>,
    catalogues: &RegionalCatalogues,
    contracts: &HashMap<ResidentId, Contract>,
    settings: &LedgerSettings,
) -> Vec<LedgerEntry> {
    let mut by_person: HashMap<ResidentId, Vec<&Claim>> = HashMap::new();
    for c in claims.iter().filter(|c| c.year() == year) {
        by_person.entry(c.person_id).or_default().push(c);
    }
    let mut cache: HashMap<RegionCode, CatalogueSet> = HashMap::new();
    let mut out = Vec::new();
    for p in persons {
        let own: &[&Claim] = by_person.get(&p.person_id).map(|v| v.as_slice()).unwrap_or(&[]);
        // The person's diagnoses: the registry's, then the year's claims'.
        let mut codes: Vec<&str> = p.diagnoses.iter().map(|s| s.as_str()).collect();
        for c in own {
            if !c.diagnosis.is_empty() && !codes.contains(&c.diagnosis.as_str()) {
                codes.push(&c.diagnosis);
            }
        }
        if codes.is_empty() {
            continue;
        }
        let set = match village_of.get(&p.household_id) {
            Some(&v) => cache.entry(v).or_insert_with(|| catalogues.for_region(v)),
            None => &catalogues.national,
        };
        let year_cost = |cs: &[&Claim]| -> Fen {
            cs.iter()
                .map(|c| match settings.severe_cost {
                    SevereCost::Total => c.total_cost,
                    SevereCost::OutOfPocket => oop.get(&c.claim_key()).copied().unwrap_or(Fen::ZERO),
                })
                .sum()
        };
        let found = codes
            .iter()
            .find_map(|code| set.serious.find(code, year).map(|e| (Batch::Serious, *code, e.name_en.clone())))
            .or_else(|| {
                codes
                    .iter()
                    .find_map(|code| set.chronic.find(code, year).map(|e| (Batch::Chronic, *code, e.name_en.clone())))
            });
        let (batch, code, disease, of_disease): (Batch, &str, String, Vec<&Claim>) = match found {
            Some((batch, code, name)) => {
                let cat = if batch == Batch::Serious { &set.serious } else { &set.chronic };
                let entry = cat.find(code, year);
                let of: Vec<&Claim> = own
                    .iter()
                    .copied()
                    .filter(|c| !c.diagnosis.is_empty() && cat.find(&c.diagnosis, year) == entry)
                    .collect();
                (batch, code, name, of)
            }
            None => {
                if year_cost(own) < settings.severe_threshold {
                    continue;
                }
                let code =
                    own.iter().find(|c| !c.diagnosis.is_empty()).map(|c| c.diagnosis.as_str()).unwrap_or(codes[0]);
                (Batch::Severe, code, String::new(), own.to_vec())
            }
        };
        out.push(LedgerEntry {
            person_id: p.person_id,
            household_id: p.household_id.clone(),
            batch,
            diagnosis: code.to_string(),
            disease,
            status: treatment_status(&of_disease, as_of, settings.recent_days),
            treated_in_county: if of_disease.is_empty() {
                None
            } else {
                Some(of_disease.iter().all(|c| {
                    matches!(c.facility_level, FacilityLevel::Village | FacilityLevel::Township | FacilityLevel::County)
                }))
            },
            year_cost: year_cost(own),
            contract: contracts.get(&p.person_id).cloned(),
        });
    }
    out.sort_by(|a, b| {
        a.batch.cmp(&b.batch).then_with(|| a.household_id.cmp(&b.household_id)).then(a.person_id.cmp(&b.person_id))
    });
    out
}

fn treatment_status(claims: &[&Claim], as_of: NaiveDate, recent_days: i64) -> TreatmentStatus {
    if claims.is_empty() {
        return TreatmentStatus::ToTreat;
    }
    let ongoing = claims
        .iter()
        .any(|c| c.admitted <= as_of && (c.discharged > as_of || (as_of - c.discharged).num_days() <= recent_days));
    if ongoing {
        TreatmentStatus::InTreatment
    } else if claims.iter().all(|c| c.admitted > as_of) {
        // Every claim lies after the reference day: seen from then, still to treat.
        TreatmentStatus::ToTreat
    } else {
        TreatmentStatus::Treated
    }
}
