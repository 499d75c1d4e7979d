//! The registry of the rural health network as the engines see it: regions,
//! facilities and their staff, checked for consistency and indexed once, and the
//! rule of who *serves* at a date (docs/coverage.md, "Precisely").

use crate::CoverageError;
use chrono::{Datelike, NaiveDate};
use domain::{age_on, Facility, FacilityKind, Practitioner, Qualification, Region, RegionCode, RegionLevel};
use std::collections::{HashMap, HashSet};

/// Retirement ages: the policy settings of the "serves" rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// For practitioners of village clinics (65).
    pub retire_village: i32,
    /// For all other practitioners (60).
    pub retire_other: i32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { retire_village: 65, retire_other: 60 }
    }
}

impl Settings {
    pub fn validate(&self) -> Result<(), CoverageError> {
        for (name, v) in [("retire_village", self.retire_village), ("retire_other", self.retire_other)] {
            if !(18..=100).contains(&v) {
                return Err(CoverageError::Setting {
                    name,
                    value: v.to_string(),
                    why: "a retirement age is 18 to 100 years".into(),
                });
            }
        }
        Ok(())
    }

    /// The retirement age of a practitioner of a facility of this kind.
    pub fn retirement_age(&self, kind: FacilityKind) -> i32 {
        if kind == FacilityKind::VillageClinic {
            self.retire_village
        } else {
            self.retire_other
        }
    }
}

/// Whether a practitioner serves at `d` in a facility of `kind`: active, and their
/// age at `d` (birthdays on or before `d`) under the retirement age.
pub fn serves(p: &Practitioner, kind: FacilityKind, d: NaiveDate, s: &Settings) -> bool {
    p.active && age_on(p.birth_date, d) < s.retirement_age(kind)
}

/// The day a practitioner reaches the retirement age of `kind`: their birthday of
/// that year, 29 February falling on 1 March in other years as in [`age_on`].
pub fn retires_on(p: &Practitioner, kind: FacilityKind, s: &Settings) -> NaiveDate {
    let b = p.birth_date;
    let y = b.year() + s.retirement_age(kind);
    NaiveDate::from_ymd_opt(y, b.month(), b.day())
        .unwrap_or_else(|| NaiveDate::from_ymd_opt(y, 3, 1).expect("1 March exists"))
}

/// Whether a qualification makes a doctor of a facility of `kind` "qualified":
/// any doctor (physician, assistant physician, rural doctor) in a village clinic,
/// a licensed physician or assistant physician anywhere else.
pub fn qualifies(kind: FacilityKind, q: Qualification) -> bool {
    if kind == FacilityKind::VillageClinic {
        q.is_doctor()
    } else {
        q.is_physician()
    }
}

/// The registry, validated and indexed. Built once, read by every engine.
#[derive(Debug, Clone)]
pub struct Network {
    pub regions: Vec<Region>,
    pub facilities: Vec<Facility>,
    pub practitioners: Vec<Practitioner>,
    region_index: HashMap<RegionCode, u32>,
    facility_index: HashMap<String, u32>,
    /// For each facility, the positions of its practitioners.
    staff: Vec<Vec<u32>>,
    /// For each region code, the positions of the facilities standing in it.
    standing: HashMap<RegionCode, Vec<u32>>,
}

impl Network {
    /// Checks and indexes a registry. Refuses, naming every offender: duplicate
    /// region codes, facility ids or practitioner ids; facilities whose region is
    /// not in the table; practitioners whose facility is not in the table.
    pub fn new(
        regions: Vec<Region>,
        facilities: Vec<Facility>,
        practitioners: Vec<Practitioner>,
    ) -> Result<Network, CoverageError> {
        let mut region_index = HashMap::with_capacity(regions.len());
        let mut dups = Vec::new();
        for (i, r) in regions.iter().enumerate() {
            if region_index.insert(r.code, i as u32).is_some() {
                dups.push(r.code.to_string());
            }
        }
        if !dups.is_empty() {
            return Err(CoverageError::Duplicate { what: "region codes", ids: dups });
        }
        let mut facility_index = HashMap::with_capacity(facilities.len());
        for (i, f) in facilities.iter().enumerate() {
            if facility_index.insert(f.facility_id.clone(), i as u32).is_some() {
                dups.push(f.facility_id.clone());
            }
        }
        if !dups.is_empty() {
            return Err(CoverageError::Duplicate { what: "facility ids", ids: dups });
        }
        let unknown: Vec<String> = facilities
            .iter()
            .filter(|f| !region_index.contains_key(&f.region_code))
            .map(|f| format!("{} ({})", f.facility_id, f.region_code))
            .collect();
        if !unknown.is_empty() {
            return Err(CoverageError::UnknownRegions(unknown));
        }
        let mut seen = HashSet::with_capacity(practitioners.len());
        for p in &practitioners {
            if !seen.insert(p.practitioner_id.as_str()) {
                dups.push(p.practitioner_id.clone());
            }
        }
        if !dups.is_empty() {
            return Err(CoverageError::Duplicate { what: "practitioner ids", ids: dups });
        }
        let mut staff = vec![Vec::new(); facilities.len()];
        let mut unknown = Vec::new();
        for (i, p) in practitioners.iter().enumerate() {
            match facility_index.get(&p.facility_id) {
                Some(&f) => staff[f as usize].push(i as u32),
                None => unknown.push(format!("{} ({})", p.practitioner_id, p.facility_id)),
            }
        }
        if !unknown.is_empty() {
            return Err(CoverageError::UnknownFacilities(unknown));
        }
        let mut standing: HashMap<RegionCode, Vec<u32>> = HashMap::new();
        for (i, f) in facilities.iter().enumerate() {
            standing.entry(f.region_code).or_default().push(i as u32);
        }
        Ok(Network { regions, facilities, practitioners, region_index, facility_index, staff, standing })
    }

    pub fn region(&self, code: RegionCode) -> Option<&Region> {
        self.region_index.get(&code).map(|&i| &self.regions[i as usize])
    }

    /// The position of a facility by its id.
    pub fn facility_position(&self, id: &str) -> Option<usize> {
        self.facility_index.get(id).map(|&i| i as usize)
    }

    /// The practitioners of the facility at position `f`.
    pub fn staff(&self, f: usize) -> impl Iterator<Item = &Practitioner> + '_ {
        self.staff[f].iter().map(move |&i| &self.practitioners[i as usize])
    }

    /// The positions of the facilities standing in a region (same `region_code`).
    pub fn standing_in(&self, code: RegionCode) -> &[u32] {
        self.standing.get(&code).map(|v| v.as_slice()).unwrap_or(&[])
    }

    /// Rural villages: regions of level village whose urban-rural code is 2xx.
    pub fn rural_villages(&self) -> impl Iterator<Item = &Region> + '_ {
        self.regions.iter().filter(|r| r.level == RegionLevel::Village && r.is_rural())
    }

    /// Where a facility is: its own point, or else its region's point (a village
    /// clinic without coordinates sits in its village).
    pub fn location(&self, f: usize) -> Option<(f64, f64)> {
        let fac = &self.facilities[f];
        match (fac.lon, fac.lat) {
            (Some(x), Some(y)) => Some((x, y)),
            _ => self.region(fac.region_code).and_then(|r| Some((r.lon?, r.lat?))),
        }
    }

    /// Whether the facility at `f` has at least one qualified practitioner
    /// serving at `d`: a qualified village doctor for a clinic, a physician or
    /// assistant physician elsewhere.
    pub fn has_qualified(&self, f: usize, d: NaiveDate, s: &Settings) -> bool {
        let kind = self.facilities[f].kind;
        self.staff(f).any(|p| qualifies(kind, p.qualification) && serves(p, kind, d, s))
    }

    /// The qualified practitioners serving at `d` in the facility at `f`.
    pub fn qualified_staff(&self, f: usize, d: NaiveDate, s: &Settings) -> Vec<&Practitioner> {
        let kind = self.facilities[f].kind;
        self.staff(f).filter(|p| qualifies(kind, p.qualification) && serves(p, kind, d, s)).collect()
    }
}
