//! Builders for small hand-made registries.
#![allow(dead_code)]

use chrono::NaiveDate;
use domain::{Facility, FacilityKind, Grade, Practitioner, Qualification, Region, RegionCode};

pub fn day(s: &str) -> NaiveDate {
    domain::parse_date(s).unwrap()
}

pub fn code(s: &str) -> RegionCode {
    RegionCode::parse(s).unwrap()
}

pub fn region(
    c: &str,
    name: &str,
    urban_rural: Option<u16>,
    population: Option<u32>,
    pt: Option<(f64, f64)>,
) -> Region {
    let code = code(c);
    Region {
        code,
        name: name.into(),
        level: code.level(),
        urban_rural,
        population,
        lon: pt.map(|p| p.0),
        lat: pt.map(|p| p.1),
    }
}

pub fn village(c: &str, name: &str, population: u32, pt: (f64, f64)) -> Region {
    region(c, name, Some(220), Some(population), Some(pt))
}

pub fn facility(
    id: &str,
    kind: FacilityKind,
    grade: Option<u8>,
    region_code: &str,
    pt: Option<(f64, f64)>,
) -> Facility {
    Facility {
        opened: None,
        closed: None,
        facility_id: id.into(),
        name: format!("{id} name"),
        kind,
        grade: grade.map(Grade),
        region_code: code(region_code),
        lon: pt.map(|p| p.0),
        lat: pt.map(|p| p.1),
    }
}

pub fn person(id: &str, facility: &str, q: Qualification, birth: &str, active: bool) -> Practitioner {
    Practitioner {
        practitioner_id: id.into(),
        facility_id: facility.into(),
        name: format!("Dr {id}"),
        qualification: q,
        gp: false,
        birth_date: day(birth),
        active,
    }
}

/// A province, a county and a township above the villages of a test.
pub fn frame() -> Vec<Region> {
    vec![
        region("340000000000", "安徽省", None, None, None),
        region("341122000000", "来安县", None, None, None),
        region("341122100000", "新安镇", Some(220), None, None),
    ]
}
