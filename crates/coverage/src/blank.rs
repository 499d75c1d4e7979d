//! Blank spots of the rural health network (空白点) at a date, and their projection
//! at +1, +3 and +5 years as doctors age out (docs/coverage.md, "Blank spots").

use crate::network::{qualifies, retires_on, serves, Network, Settings};
use chrono::NaiveDate;
use domain::{add_years, FacilityKind, Practitioner, RegionCode, RegionLevel};
use std::collections::HashSet;
use std::fmt;

/// The horizons of the projection, in years from the as-of date.
pub const HORIZONS: [i32; 4] = [0, 1, 3, 5];

/// The four kinds of blank spot. Declared in the order of their names, so that
/// sorting by kind sorts as the file's text does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BlankKind {
    /// A county without a hospital of grade 2 or more.
    CountyNoHospital,
    /// A township centre without a serving physician or assistant physician.
    TownshipNoPhysician,
    /// A rural village without a village clinic or a township centre in it.
    VillageNoClinic,
    /// A rural village whose clinics have no qualified doctor serving.
    VillageNoDoctor,
}

impl BlankKind {
    pub const ALL: [BlankKind; 4] = [
        BlankKind::CountyNoHospital,
        BlankKind::TownshipNoPhysician,
        BlankKind::VillageNoClinic,
        BlankKind::VillageNoDoctor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BlankKind::CountyNoHospital => "county_no_hospital",
            BlankKind::TownshipNoPhysician => "township_no_physician",
            BlankKind::VillageNoClinic => "village_no_clinic",
            BlankKind::VillageNoDoctor => "village_no_doctor",
        }
    }

    /// Whether the blank spot is a village (the ones roving doctors fill).
    pub fn is_village(self) -> bool {
        matches!(self, BlankKind::VillageNoClinic | BlankKind::VillageNoDoctor)
    }
}

impl fmt::Display for BlankKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One blank spot at one horizon: a row of the coverage file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlankSpot {
    pub kind: BlankKind,
    pub region_code: RegionCode,
    /// The village's or county's name, or the township centre's.
    pub name: String,
    /// 0 (now), 1, 3 or 5.
    pub in_years: i32,
    /// Why, for people: who aged out when, what is missing.
    pub detail: String,
}

/// The blank spots at `d` (all with `in_years` 0), sorted by kind and region.
pub fn blank_spots(net: &Network, d: NaiveDate, s: &Settings) -> Vec<BlankSpot> {
    let mut v = spots_at(net, d, 0, s);
    sort(&mut v);
    v
}

/// The blank spots at `d` and at each later horizon of [`HORIZONS`], every
/// practitioner older by the years passed and nobody joining or leaving otherwise.
/// A blank spot is listed at every horizon where it exists. Sorted by `in_years`,
/// kind and region code.
pub fn project(net: &Network, d: NaiveDate, s: &Settings) -> Vec<BlankSpot> {
    let mut v = Vec::new();
    for y in HORIZONS {
        v.extend(spots_at(net, d, y, s));
    }
    sort(&mut v);
    v
}

/// The blank spots `years` after `base` on `net`, the network as it stands on
/// that day (every practitioner's age counted then), listed with `in_years`
/// `years`; `base` only sets the tense of the details. With one network for
/// every horizon this is a row of [`project`]; a caller that knows the network's
/// history hands the network of each horizon's day (docs/coverage.md,
/// "History"). Sorted as [`project`] sorts.
pub fn blank_spots_in(net: &Network, base: NaiveDate, years: i32, s: &Settings) -> Vec<BlankSpot> {
    let mut v = spots_at(net, base, years, s);
    sort(&mut v);
    v
}

/// Sorts blank spots as the coverage file lists them: by `in_years`, kind,
/// region code, name and detail.
pub fn sort(v: &mut [BlankSpot]) {
    v.sort_by(|a, b| {
        (a.in_years, a.kind, a.region_code, &a.name, &a.detail).cmp(&(
            b.in_years,
            b.kind,
            b.region_code,
            &b.name,
            &b.detail,
        ))
    });
}

/// The blank spots at `base + years`; `base` only sets the tense of the details.
fn spots_at(net: &Network, base: NaiveDate, years: i32, s: &Settings) -> Vec<BlankSpot> {
    let d = add_years(base, years);
    let mut out = Vec::new();

    for r in net.rural_villages() {
        let standing = net.standing_in(r.code);
        let kind_of = |i: &u32| net.facilities[*i as usize].kind;
        if standing.iter().any(|i| kind_of(i) == FacilityKind::TownshipCenter) {
            continue;
        }
        let clinics: Vec<usize> =
            standing.iter().filter(|i| kind_of(i) == FacilityKind::VillageClinic).map(|&i| i as usize).collect();
        if clinics.is_empty() {
            let pop = r.population.map(|p| format!("; {p} people")).unwrap_or_default();
            out.push(BlankSpot {
                kind: BlankKind::VillageNoClinic,
                region_code: r.code,
                name: r.name.clone(),
                in_years: years,
                detail: format!("no village clinic and no township centre in the village{pop}"),
            });
            continue;
        }
        if clinics.iter().any(|&f| net.has_qualified(f, d, s)) {
            continue;
        }
        let ids: Vec<&str> = clinics.iter().map(|&f| net.facilities[f].facility_id.as_str()).collect();
        let why = why_nobody(net, &clinics, base, d, s, "no physician, assistant physician or rural doctor on staff");
        out.push(BlankSpot {
            kind: BlankKind::VillageNoDoctor,
            region_code: r.code,
            name: r.name.clone(),
            in_years: years,
            detail: format!("clinic {}: {why}", ids.join(", ")),
        });
    }

    for (f, fac) in net.facilities.iter().enumerate() {
        if fac.kind != FacilityKind::TownshipCenter || net.has_qualified(f, d, s) {
            continue;
        }
        let why = why_nobody(net, &[f], base, d, s, "no physician or assistant physician on staff");
        out.push(BlankSpot {
            kind: BlankKind::TownshipNoPhysician,
            region_code: fac.region_code,
            name: fac.name.clone(),
            in_years: years,
            detail: format!("centre {}: {why}", fac.facility_id),
        });
    }

    // County hospitals do not age out, but a county without one is a blank spot
    // at every horizon, so it is listed at each.
    let mut with_hospital: HashSet<RegionCode> = HashSet::new();
    let mut any_hospital: HashSet<RegionCode> = HashSet::new();
    for fac in &net.facilities {
        if !fac.kind.is_hospital() {
            continue;
        }
        if let Some(c) = fac.region_code.ancestor(RegionLevel::County) {
            any_hospital.insert(c);
            if fac.grade.is_some_and(|g| g.0 >= 2) {
                with_hospital.insert(c);
            }
        }
    }
    for r in net.regions.iter().filter(|r| r.level == RegionLevel::County) {
        if with_hospital.contains(&r.code) {
            continue;
        }
        let detail = if any_hospital.contains(&r.code) {
            "hospitals in the county, none of grade 2 or more".to_string()
        } else {
            "no hospital in the county".to_string()
        };
        out.push(BlankSpot {
            kind: BlankKind::CountyNoHospital,
            region_code: r.code,
            name: r.name.clone(),
            in_years: years,
            detail,
        });
    }
    out
}

/// Why no qualified practitioner serves at `d` in these facilities: each
/// qualified one who does not, inactive or with the day they reach retirement age.
fn why_nobody(net: &Network, facilities: &[usize], base: NaiveDate, d: NaiveDate, s: &Settings, none: &str) -> String {
    let mut reasons = Vec::new();
    let mut people: Vec<(&Practitioner, FacilityKind)> = Vec::new();
    for &f in facilities {
        let kind = net.facilities[f].kind;
        people.extend(net.staff(f).filter(|p| qualifies(kind, p.qualification)).map(|p| (p, kind)));
    }
    people.sort_by(|a, b| a.0.practitioner_id.cmp(&b.0.practitioner_id));
    let last = people.iter().filter(|(p, _)| p.active).count() == 1;
    for (p, kind) in &people {
        debug_assert!(!serves(p, *kind, d, s));
        let who =
            if p.name.is_empty() { p.practitioner_id.clone() } else { format!("{} ({})", p.name, p.practitioner_id) };
        if !p.active {
            reasons.push(format!("{who} is not active"));
            continue;
        }
        let on = retires_on(p, *kind, s);
        let verb = if on <= base { "turned" } else { "turns" };
        let lead = if last { "last qualified doctor " } else { "" };
        reasons.push(format!("{lead}{who} {verb} {} on {on}", s.retirement_age(*kind)));
    }
    if reasons.is_empty() {
        none.to_string()
    } else {
        reasons.join("; ")
    }
}
