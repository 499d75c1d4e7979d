//! The plan of a run: which real units it covers, the invented villages under their
//! townships (names, class codes, household counts, points), the facilities, and
//! the thresholds. A plan is small (one record per village and facility, about
//! 50,000 for a province) and is what the people generator reads.

use crate::rng::{self, near, normal, stream, Purpose};
use crate::tables::{self, ProvinceFacts};
use crate::{Config, Scale, Sink, Summary, SynthError};
use chrono::NaiveDate;
use domain::divisions::Divisions;
use domain::{
    Facility, FacilityKind, Fen, Grade, Practitioner, Qualification, Region, RegionCode, RegionLevel, Threshold,
};
use rand::Rng;
use std::collections::{HashMap, HashSet};
use std::ops::Range;

const PROVINCES_CSV: &str = include_str!("../../../data/divisions/provinces.csv");
const CITIES_CSV: &str = include_str!("../../../data/divisions/cities.csv");
const AREAS_CSV: &str = include_str!("../../../data/divisions/areas.csv");
const STREETS_CSV: &str = include_str!("../../../data/divisions/streets.csv");

/// The county a `small` or `county` run uses when none is named: 来安县 of Anhui,
/// the county of the specs' examples.
pub fn default_county() -> &'static str {
    "341122"
}

/// A real unit above the township, with the point the generator gave it.
#[derive(Debug, Clone)]
pub(crate) struct Unit {
    pub code: RegionCode,
    pub name: String,
    pub lon: f64,
    pub lat: f64,
    pub population: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct CountyPlan {
    pub unit: Unit,
    pub city: usize,
    pub townships: Range<usize>,
    /// Facility indices of its hospitals, whatever their grade.
    pub hospitals: Vec<usize>,
}

#[derive(Debug, Clone)]
pub(crate) struct TownPlan {
    pub unit: Unit,
    pub county: usize,
    /// Position among its county's townships: it partitions resident-ID sequence
    /// numbers so townships can be generated apart (see `people`).
    pub index_in_county: u32,
    pub townships_in_county: u32,
    pub villages: Range<usize>,
    /// Facility index of its health centre.
    pub centre: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct VillagePlan {
    pub code: RegionCode,
    pub name: String,
    /// Urban-rural class: 111 and 121/122 urban, 210 and 220 rural.
    pub urban_rural: u16,
    pub households: u32,
    pub population: u32,
    pub lon: f64,
    pub lat: f64,
    /// Facility index of its clinic; `None` for a blank village or an urban unit.
    pub clinic: Option<usize>,
}

/// Whom a facility serves: its staff are sized by the population behind it
/// (docs/synth.md, "Health workers").
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Served {
    /// A village clinic: its village's population, and whether its last qualified
    /// doctor has retired (a `village_no_doctor` blank spot on the coverage day).
    Clinic { population: u32, no_doctor: bool },
    /// A township or community centre: its township's population.
    Centre { population: u64 },
    /// A county hospital: its share of the county's hospital staff.
    County { county: usize, share: f64 },
    /// A municipal hospital: its share of the city's hospital staff for the run's
    /// people in that city.
    City { city: usize, share: f64 },
    /// A provincial hospital: its share of the provincial hospitals' staff for the
    /// run's people.
    Province { share: f64 },
}

/// Staff per 1,000 people served, approximations of the order of magnitude of
/// China's health statistics yearbook (docs/synth.md, "Health workers"):
/// village clinics per rural resident of their village,
pub(crate) const CLINIC_STAFF_PER_1000: f64 = 1.5;
/// township (and community) centres per resident of their township,
pub(crate) const CENTRE_STAFF_PER_1000: f64 = 1.5;
/// a county's hospitals together per resident of the county,
pub(crate) const COUNTY_STAFF_PER_1000: f64 = 3.0;
/// a city's two hospitals per resident of the run in the city (the share of their
/// work that the run's people make up),
pub(crate) const CITY_STAFF_PER_1000: f64 = 1.0;
/// and the four provincial hospitals per resident of the run.
pub(crate) const PROVINCE_STAFF_PER_1000: f64 = 0.4;

/// The share of rural villages that are blank spots on the coverage day: Anhui's
/// 168 villages without a qualified doctor among 14,022 (issue 18). About a third
/// of them have no clinic at all, the others a clinic whose last doctor retired.
pub(crate) const BLANK_VILLAGE_SHARE: f64 = 168.0 / 14_022.0;

/// The chance that a clinic whose youngest serving qualified doctor is 60 or older
/// already has a younger one beside them (a successor: a graduate of the rural
/// doctors' training schemes or a township doctor posted to the village).
pub(crate) const SUCCESSION: f64 = 0.7;

/// Age bands (first age, last age, weight per 100) of village clinic staff: many
/// are 60 or older and some work on past 65 (estimates, docs/synth.md).
const CLINIC_AGES: [(i32, i32, u32); 6] =
    [(25, 34, 8), (35, 44, 14), (45, 54, 28), (55, 59, 20), (60, 64, 15), (65, 74, 15)];

pub(crate) struct Plan {
    pub seed: u64,
    pub year: i32,
    pub claims_per_person: f64,
    pub province: Unit,
    pub cities: Vec<Unit>,
    /// Per city, facility indices of its municipal hospitals.
    pub city_hospitals: Vec<Vec<usize>>,
    pub counties: Vec<CountyPlan>,
    pub townships: Vec<TownPlan>,
    pub villages: Vec<VillagePlan>,
    pub facilities: Vec<Facility>,
    /// Per facility (same index): whom it serves, which sizes its staff.
    pub served: Vec<Served>,
    pub provincial: Vec<usize>,
    pub thresholds: Vec<Threshold>,
    /// The province's rural per-capita income figure of the thresholds, yuan.
    pub rural_income: f64,
    /// The last day of the year: ages and dates are reckoned to it.
    pub year_end: NaiveDate,
    /// Whether the run covers the whole province (its and its cities' populations
    /// are then complete).
    pub whole_province: bool,
}

/// Household sizes 1 to 8, per mille; mean about 3.2.
pub(crate) const SIZE_WEIGHTS: [u32; 8] = [140, 240, 210, 200, 120, 60, 20, 10];

/// The sizes of a village's households, from the village's own stream: drawn once
/// when planning (for populations) and again when generating, with equal results.
pub(crate) fn household_sizes(seed: u64, village: RegionCode, households: u32) -> impl Iterator<Item = u8> {
    let mut r = stream(seed, village.as_u64(), Purpose::Shape);
    (0..households).map(move |_| rng::weighted(&mut r, &SIZE_WEIGHTS) as u8 + 1)
}

fn divisions() -> Result<Divisions, SynthError> {
    Ok(Divisions::parse(PROVINCES_CSV, CITIES_CSV, AREAS_CSV, STREETS_CSV)?)
}

fn parse_code(what: &str, s: &str, digits: usize) -> Result<RegionCode, SynthError> {
    let t = s.trim();
    if t.len() != digits || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SynthError::Config(format!("the {what} code {t:?} must have {digits} digits")));
    }
    RegionCode::parse(t).map_err(|e| SynthError::Config(format!("the {what} code {t:?}: {e}")))
}

/// The county-level units of a province: its counties and districts, and the
/// prefecture-level cities that have townships directly (东莞, 中山, 儋州).
fn county_units(d: &Divisions, province: RegionCode) -> Vec<&Region> {
    d.within(province)
        .iter()
        .filter(|r| match r.level {
            RegionLevel::County => true,
            RegionLevel::City => d.children(r.code).any(|c| c.level == RegionLevel::Township),
            _ => false,
        })
        .collect()
}

/// A unit's point inside the finest real outline held for it (`domain::outlines`:
/// its county's, else its city's or province's where no county line is held, as
/// for a development zone): `first` when it lies
/// inside, else the first of up to 64 redraws from the unit's own stream that does,
/// else a point drawn evenly in the outline's box until one lies inside. The
/// redraws come from a stream of their own, so a point already inside leaves every
/// other draw as it was; all is deterministic by the seed.
fn inside(
    seed: u64,
    unit: RegionCode,
    first: (f64, f64),
    mut redraw: impl FnMut(&mut rng::Stream) -> (f64, f64),
) -> (f64, f64) {
    let Some(o) = domain::outlines::outlines().finest(unit) else { return first };
    if o.contains(first.0, first.1) {
        return first;
    }
    let mut r = stream(seed, unit.as_u64(), Purpose::Inside);
    for _ in 0..64 {
        let p = redraw(&mut r);
        if o.contains(p.0, p.1) {
            return p;
        }
    }
    let b = o.bbox;
    for _ in 0..10_000 {
        let p = (rng::round6(r.gen_range(b.min_lon..=b.max_lon)), rng::round6(r.gen_range(b.min_lat..=b.max_lat)));
        if o.contains(p.0, p.1) {
            return p;
        }
    }
    first
}

fn is_street(name: &str) -> bool {
    name.ends_with("街道") || name.ends_with("街道办事处") || name.ends_with("办事处")
}

impl Plan {
    pub fn build(config: &Config) -> Result<Plan, SynthError> {
        if !(1990..=2100).contains(&config.year) {
            return Err(SynthError::Config(format!("the year {} is out of range (1990 to 2100)", config.year)));
        }
        if !(config.claims_per_person.is_finite() && (0.0..=100.0).contains(&config.claims_per_person)) {
            return Err(SynthError::Config(format!(
                "claims per person {} must be between 0 and 100",
                config.claims_per_person
            )));
        }
        let d = divisions()?;
        let province_code = match (&config.province, &config.county) {
            (Some(p), _) => parse_code("province", p, 2)?,
            (None, Some(c)) => {
                parse_code("county", c, 6)?.ancestor(RegionLevel::Province).expect("a county has a province")
            }
            (None, None) => RegionCode::parse(&default_county()[..2]).expect("valid"),
        };
        let province = d.get(province_code).ok_or_else(|| {
            SynthError::Config(format!("no province {} in the division table", province_code.short()))
        })?;
        let units = county_units(&d, province_code);
        let chosen: Vec<&Region> = match config.scale {
            Scale::Province => {
                if let Some(c) = &config.county {
                    return Err(SynthError::Config(format!(
                        "--county {c} is for the small and county scales; a province run takes --province"
                    )));
                }
                units
            }
            Scale::Small | Scale::County => {
                let code = match &config.county {
                    Some(c) => {
                        let code = parse_code("county", c, 6)?;
                        if !code.is_within(province_code) {
                            return Err(SynthError::Config(format!(
                                "the county {c} is not in the province {}",
                                province_code.short()
                            )));
                        }
                        code
                    }
                    None if config.province.is_none() => parse_code("county", default_county(), 6)?,
                    // The first rural county (县) of the named province.
                    None => {
                        units.iter().find(|u| u.name.ends_with('县')).or(units.first()).map(|u| u.code).ok_or_else(
                            || SynthError::Config(format!("the province {} has no counties", province.name)),
                        )?
                    }
                };
                let u = units
                    .iter()
                    .find(|u| u.code == code)
                    .ok_or_else(|| SynthError::Config(format!("no county {} in the division table", code.short())))?;
                vec![*u]
            }
        };
        let facts = tables::province_facts(province_code.short().parse().expect("two digits"))
            .ok_or_else(|| SynthError::Config(format!("no facts for the province {}", province.name)))?;
        let mut plan = Plan::new(config, province, facts);
        plan.place_cities(&d, &chosen, facts);
        plan.place_counties(&d, &chosen, config.scale, facts);
        plan.thresholds(config, &chosen);
        Ok(plan)
    }

    fn new(config: &Config, province: &Region, facts: &ProvinceFacts) -> Plan {
        let years = (config.year - 2024) as f64;
        // The thresholds carry the previous year's rural income: the 2023 figure for
        // 2024, grown or shrunk by about 6.5% a year for other years.
        let rural_income = (facts.rural_income_2023 as f64 * 1.065f64.powf(years)).round();
        Plan {
            seed: config.seed,
            year: config.year,
            claims_per_person: config.claims_per_person,
            province: Unit {
                code: province.code,
                name: province.name.clone(),
                lon: facts.lon,
                lat: facts.lat,
                population: 0,
            },
            cities: Vec::new(),
            city_hospitals: Vec::new(),
            counties: Vec::new(),
            townships: Vec::new(),
            villages: Vec::new(),
            facilities: Vec::new(),
            served: Vec::new(),
            provincial: Vec::new(),
            thresholds: Vec::new(),
            rural_income,
            year_end: NaiveDate::from_ymd_opt(config.year, 12, 31).expect("valid year"),
            whole_province: config.scale == Scale::Province,
        }
    }

    /// The cities the run needs: the chosen counties' own, and the capital (where
    /// the provincial hospitals stand). The capital sits near the province's centre,
    /// other cities around it.
    fn place_cities(&mut self, d: &Divisions, chosen: &[&Region], facts: &ProvinceFacts) {
        let mut codes: Vec<RegionCode> = chosen.iter().map(|c| city_of(c.code)).collect();
        let capital = d
            .under(self.province.code, RegionLevel::City)
            .next()
            .map(|c| c.code)
            .unwrap_or_else(|| city_of(chosen[0].code));
        codes.push(capital);
        codes.sort();
        codes.dedup();
        for code in codes {
            let mut r = stream(self.seed, code.as_u64(), Purpose::Place);
            let spread = if code == capital { 0.15 } else { 0.8 };
            let first = near(&mut r, facts.lon, facts.lat, facts.radius * spread);
            let (lon, lat) = inside(self.seed, code, first, |r| near(r, facts.lon, facts.lat, facts.radius * spread));
            let name = d.get(code).map(|c| c.name.clone()).unwrap_or_else(|| self.province.name.clone());
            self.cities.push(Unit { code, name, lon, lat, population: 0 });
        }
        // Provincial hospitals stand in the capital.
        let cap = self.cities.iter().position(|c| c.code == capital).expect("capital placed");
        let full = &self.province.name;
        let first = if full.ends_with('省') { format!("{full}立医院") } else { format!("{full}人民医院") };
        let names = [first, format!("{full}第二人民医院"), format!("{full}肿瘤医院"), format!("{full}儿童医院")];
        let (clon, clat) = (self.cities[cap].lon, self.cities[cap].lat);
        for (i, name) in names.into_iter().enumerate() {
            let mut r = stream(self.seed, self.province.code.as_u64() + i as u64, Purpose::Facilities);
            let (lon, lat) = near(&mut r, clon, clat, 0.05);
            let idx = self.add_facility(
                format!("PH{}-{:02}", self.province.code.short(), i + 1),
                name,
                FacilityKind::ProvincialHospital,
                Some(Grade(3)),
                capital,
                lon,
                lat,
                Served::Province { share: [0.35, 0.25, 0.2, 0.2][i] },
            );
            self.provincial.push(idx);
        }
        for c in 0..self.cities.len() {
            let unit = self.cities[c].clone();
            let mut r = stream(self.seed, unit.code.as_u64(), Purpose::Facilities);
            let city_name = if unit.name == "市辖区" || unit.name.contains("直辖") {
                self.province.name.clone()
            } else {
                unit.name.clone()
            };
            let mut hs = Vec::new();
            for (i, (suffix, grade)) in
                [("第一人民医院", 3u8), ("中医院", if r.gen_bool(0.6) { 3 } else { 2 })].iter().enumerate()
            {
                let (lon, lat) = near(&mut r, unit.lon, unit.lat, 0.04);
                hs.push(self.add_facility(
                    format!("MH{}-{:02}", unit.code.short(), i + 1),
                    format!("{city_name}{suffix}"),
                    FacilityKind::MunicipalHospital,
                    Some(Grade(*grade)),
                    unit.code,
                    lon,
                    lat,
                    Served::City { city: c, share: if i == 0 { 0.6 } else { 0.4 } },
                ));
            }
            self.city_hospitals.push(hs);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn add_facility(
        &mut self,
        facility_id: String,
        name: String,
        kind: FacilityKind,
        grade: Option<Grade>,
        region_code: RegionCode,
        lon: f64,
        lat: f64,
        served: Served,
    ) -> usize {
        self.facilities.push(Facility {
            opened: None,
            closed: None,
            facility_id,
            name,
            kind,
            grade,
            region_code,
            lon: Some(lon),
            lat: Some(lat),
        });
        self.served.push(served);
        self.facilities.len() - 1
    }

    fn place_counties(&mut self, d: &Divisions, chosen: &[&Region], scale: Scale, facts: &ProvinceFacts) {
        for county in chosen {
            let city = self.cities.iter().position(|c| c.code == city_of(county.code)).expect("city placed");
            let mut r = stream(self.seed, county.code.as_u64(), Purpose::Place);
            // Districts (区) crowd around their city; counties spread over it.
            let spread = if county.name.ends_with('区') { 0.06 } else { 0.35 };
            let (clon, clat) = (self.cities[city].lon, self.cities[city].lat);
            let first = near(&mut r, clon, clat, facts.radius * spread);
            let (lon, lat) = inside(self.seed, county.code, first, |r| near(r, clon, clat, facts.radius * spread));
            let towns: Vec<&Region> = d.children(county.code).filter(|t| t.level == RegionLevel::Township).collect();
            let ci = self.counties.len();
            let t0 = self.townships.len();
            // Per township: how many villages and households per village.
            let shape: Vec<(u32, f64)> = match scale {
                Scale::Province => towns
                    .iter()
                    .map(|t| {
                        let mut tr = stream(self.seed, t.code.as_u64(), Purpose::Place);
                        let n = if is_street(&t.name) {
                            tr.gen_range(3..=8)
                        } else {
                            rng::lognormal(&mut tr, 14.0, 0.35).round().clamp(4.0, 40.0) as u32
                        };
                        (n, 450.0)
                    })
                    .collect(),
                Scale::Small | Scale::County => {
                    let (villages, households) = if scale == Scale::Small {
                        ((towns.len() * 4).clamp(24, 60), 6_000.0)
                    } else {
                        (300, 120_000.0)
                    };
                    let weights: Vec<f64> = towns
                        .iter()
                        .map(|t| {
                            let mut tr = stream(self.seed, t.code.as_u64(), Purpose::Place);
                            let w: f64 = tr.gen_range(0.6..1.4);
                            if is_street(&t.name) {
                                w * 0.5
                            } else {
                                w
                            }
                        })
                        .collect();
                    let total: f64 = weights.iter().sum();
                    let per_village = households / villages as f64;
                    weights
                        .iter()
                        .map(|w| (((villages as f64) * w / total).round().max(1.0) as u32, per_village))
                        .collect()
                }
            };
            let first_town_point = (lon, lat);
            for (ti, (t, (n_villages, hh_mean))) in towns.iter().zip(shape).enumerate() {
                let mut tr = stream(self.seed, t.code.as_u64(), Purpose::Place);
                // The first township is the county seat, at the county's point.
                let (from, radius) = if ti == 0 {
                    (first_town_point, 0.01)
                } else {
                    ((lon, lat), if is_street(&t.name) { 0.06 } else { 0.3 })
                };
                let first = near(&mut tr, from.0, from.1, radius);
                let (tlon, tlat) = inside(self.seed, t.code, first, |r| near(r, from.0, from.1, radius));
                let v0 = self.villages.len();
                self.plan_villages(t, n_villages, hh_mean, tlon, tlat, &mut tr);
                let v1 = self.villages.len();
                let population: u64 = self.villages[v0..v1].iter().map(|v| v.population as u64).sum();
                // The centre stands in the seat (the first unit).
                let seat = self.villages[v0].clone();
                let (kind, name) = if is_street(&t.name) {
                    (FacilityKind::CommunityCenter, format!("{}社区卫生服务中心", tables::township_stem(&t.name)))
                } else {
                    (FacilityKind::TownshipCenter, format!("{}卫生院", t.name))
                };
                let grade = if tr.gen_bool(0.8) { Some(Grade(1)) } else { None };
                let centre = self.add_facility(
                    format!("TC{}", t.code.short()),
                    name,
                    kind,
                    grade,
                    seat.code,
                    seat.lon,
                    seat.lat,
                    Served::Centre { population },
                );
                self.townships.push(TownPlan {
                    unit: Unit { code: t.code, name: t.name.clone(), lon: tlon, lat: tlat, population },
                    county: ci,
                    index_in_county: ti as u32,
                    townships_in_county: towns.len() as u32,
                    villages: v0..v1,
                    centre,
                });
            }
            let t1 = self.townships.len();
            self.clinics(ci, t0..t1, &mut r);
            let population: u64 = self.townships[t0..t1].iter().map(|t| t.unit.population).sum();
            self.cities[city].population += population;
            self.province.population += population;
            // Hospitals: a people's hospital of grade 2 (sometimes 3) and often a
            // hospital of traditional medicine; about 4% of counties have no
            // hospital of grade 2 or more (a county_no_hospital blank spot).
            let mut fr = stream(self.seed, county.code.as_u64(), Purpose::Facilities);
            let seat_code = if t0 < t1 { self.villages[self.townships[t0].villages.start].code } else { county.code };
            let mut hospitals = Vec::new();
            let roll: f64 = fr.gen();
            let list: Vec<(&str, Option<u8>)> = if roll < 0.02 {
                vec![]
            } else if roll < 0.04 {
                vec![("医院", Some(1))]
            } else {
                let mut v = vec![("人民医院", Some(if fr.gen_bool(0.2) { 3 } else { 2 }))];
                if fr.gen_bool(0.7) {
                    v.push(("中医院", Some(2)));
                }
                v
            };
            let n_hospitals = list.len();
            for (i, (suffix, grade)) in list.into_iter().enumerate() {
                let (hlon, hlat) = near(&mut fr, lon, lat, 0.02);
                // The people's hospital has about two thirds of the county's staff.
                let share = match (n_hospitals, i) {
                    (1, _) => 1.0,
                    (_, 0) => 0.65,
                    _ => 0.35,
                };
                hospitals.push(self.add_facility(
                    format!("CH{}-{:02}", county.code.short(), i + 1),
                    format!("{}{suffix}", county.name),
                    FacilityKind::CountyHospital,
                    grade.map(Grade),
                    seat_code,
                    hlon,
                    hlat,
                    Served::County { county: ci, share },
                ));
            }
            self.counties.push(CountyPlan {
                unit: Unit { code: county.code, name: county.name.clone(), lon, lat, population },
                city,
                townships: t0..t1,
                hospitals,
            });
        }
    }

    /// Invents a township's villages: the seat first (an urban community in a town,
    /// the centre village of a 乡), communities in sub-districts, rural villages
    /// numbered from 200 as the NBS numbers them, about 3% without a clinic.
    fn plan_villages(&mut self, t: &Region, n: u32, hh_mean: f64, tlon: f64, tlat: f64, r: &mut rng::Stream) {
        let stem = tables::township_stem(&t.name);
        let street = is_street(&t.name);
        let town = t.name.ends_with('镇');
        let mut names: HashSet<String> = HashSet::new();
        let mut next_urban = 1u64;
        let mut next_rural = 200u64;
        let urban_units = if street {
            (n as f64 * 0.6).ceil() as u32
        } else if town {
            1 + u32::from(n > 6 && r.gen_bool(0.3))
        } else {
            0
        };
        for i in 0..n {
            let urban = i < urban_units;
            let (num, ur) = if urban {
                next_urban += 1;
                (
                    next_urban - 1,
                    if street {
                        111
                    } else if i == 0 {
                        121
                    } else {
                        122
                    },
                )
            } else {
                next_rural += 1;
                (next_rural - 1, if i == 0 { 210 } else { 220 })
            };
            if num > 999 {
                break;
            }
            let code = RegionCode::from_u64(t.code.as_u64() + num).expect("a village under a real township");
            let suffix = if urban { "社区" } else { "村" };
            let mut name = if i == 0 && !street { format!("{stem}{suffix}") } else { String::new() };
            let mut tries = 0;
            while name.is_empty() || names.contains(&name) {
                tries += 1;
                name = if tries > 40 {
                    format!("{stem}{}{suffix}", tries)
                } else {
                    let h = tables::VILLAGE_HEADS[r.gen_range(0..tables::VILLAGE_HEADS.len())];
                    let tl = tables::VILLAGE_TAILS[r.gen_range(0..tables::VILLAGE_TAILS.len())];
                    format!("{h}{tl}{suffix}")
                };
            }
            names.insert(name.clone());
            let radius = if street { 0.02 } else { 0.06 };
            let (lon, lat) = if i == 0 {
                (tlon, tlat)
            } else {
                let first = near(r, tlon, tlat, radius);
                inside(self.seed, code, first, |r| near(r, tlon, tlat, radius))
            };
            // Log-normal around the mean (the -σ²/2 keeps the mean where it is).
            let households = (hh_mean * (0.35 * normal(r) - 0.06125).exp()).round().clamp(20.0, 4_000.0) as u32;
            let population: u32 = household_sizes(self.seed, code, households).map(u32::from).sum();
            // Clinics come once the county's blank villages are chosen.
            self.villages.push(VillagePlan {
                code,
                name,
                urban_rural: ur,
                households,
                population,
                lon,
                lat,
                clinic: None,
            });
        }
    }

    /// A clinic in every rural village of a county, and a qualified doctor in
    /// every clinic, but for about 1.2% of the villages (Anhui's published share,
    /// at least one in a county of ten villages or more, never a township's seat):
    /// a third of those have no clinic, the others a clinic whose last doctor has
    /// retired. Urban units are served by their centre.
    fn clinics(&mut self, _county: usize, towns: Range<usize>, r: &mut rng::Stream) {
        let candidates: Vec<usize> = self.townships[towns.clone()]
            .iter()
            .flat_map(|t| t.villages.clone().skip(1))
            .filter(|&v| self.villages[v].urban_rural / 100 == 2)
            .collect();
        let expected = candidates.len() as f64 * BLANK_VILLAGE_SHARE;
        let mut blanks = expected.floor() as usize + usize::from(r.gen_bool(expected.fract()));
        if candidates.len() >= 10 {
            blanks = blanks.max(1);
        }
        // Each blank village with whether it keeps a clinic (without a doctor).
        let mut blank: HashMap<usize, bool> = HashMap::new();
        while blank.len() < blanks.min(candidates.len()) {
            let v = candidates[r.gen_range(0..candidates.len())];
            blank.entry(v).or_insert_with(|| r.gen_bool(2.0 / 3.0));
        }
        for t in towns {
            let town_name = self.townships[t].unit.name.clone();
            for v in self.townships[t].villages.clone() {
                let vp = &self.villages[v];
                let no_doctor = match blank.get(&v) {
                    Some(false) => continue,
                    Some(true) => true,
                    None => false,
                };
                if vp.urban_rural / 100 != 2 {
                    continue;
                }
                let (code, lon, lat, population) = (vp.code, vp.lon, vp.lat, vp.population);
                let name = format!("{town_name}{}卫生室", vp.name);
                let served = Served::Clinic { population, no_doctor };
                let f = self.add_facility(
                    format!("VC{code}"),
                    name,
                    FacilityKind::VillageClinic,
                    None,
                    code,
                    lon,
                    lat,
                    served,
                );
                self.villages[v].clinic = Some(f);
            }
        }
    }

    /// The province's threshold and county overrides (a poorer county's own lower
    /// income figure): the run's county for a county run, two counties for a
    /// province run.
    fn thresholds(&mut self, config: &Config, chosen: &[&Region]) {
        let years = config.year - 2024;
        let line = ((7_000 + 300 * years) as f64 / 100.0).round().max(30.0) * 100.0;
        let t = |region: String, income: f64| Threshold {
            region,
            year: config.year,
            rural_income: Fen::from_yuan(income as i64),
            monitoring_line: Fen::from_yuan(line as i64),
        };
        self.thresholds.push(t(self.province.code.short(), self.rural_income));
        let mut r = stream(self.seed, self.province.code.as_u64(), Purpose::Shape);
        let mut overrides: Vec<&Region> = Vec::new();
        if let Some(c) = chosen.iter().find(|c| c.name.ends_with('县')).or(chosen.first()) {
            overrides.push(c);
        }
        if config.scale == Scale::Province && chosen.len() > 2 {
            let other = chosen[r.gen_range(0..chosen.len())];
            if !overrides.iter().any(|o| o.code == other.code) {
                overrides.push(other);
            }
        }
        overrides.sort_by_key(|c| c.code);
        for c in overrides {
            let f: f64 = r.gen_range(0.78..0.92);
            self.thresholds.push(t(c.code.short(), (self.rural_income * f).round()));
        }
    }

    /// Writes thresholds, regions, facilities and practitioners to the sink; the
    /// summary counts them.
    pub fn emit_fixed<S: Sink + ?Sized>(&self, sink: &mut S) -> std::io::Result<Summary> {
        let mut s = Summary {
            province: self.province.name.clone(),
            counties: self.counties.len(),
            townships: self.townships.len(),
            villages: self.villages.len(),
            ..Summary::default()
        };
        for t in &self.thresholds {
            sink.threshold(t)?;
            s.thresholds += 1;
        }
        for r in self.regions() {
            sink.region(&r)?;
            s.regions += 1;
        }
        for f in &self.facilities {
            sink.facility(f)?;
            s.facilities += 1;
        }
        s.villages_without_clinic =
            self.villages.iter().filter(|v| v.urban_rural / 100 == 2 && v.clinic.is_none()).count() as u64;
        let mut p = Practitioner {
            practitioner_id: String::new(),
            facility_id: String::new(),
            name: String::new(),
            qualification: Qualification::Other,
            gp: false,
            birth_date: self.year_end,
            active: true,
        };
        for fi in 0..self.facilities.len() {
            s.practitioners += self.staff(fi, &mut p, sink)?;
        }
        Ok(s)
    }

    /// Every region of the run, parents before children: the province, its cities,
    /// counties, townships (in code order within each) and villages.
    fn regions(&self) -> impl Iterator<Item = Region> + '_ {
        // A city's or the province's population is known only when the run covers
        // all of it (a province run).
        let whole = self.whole_province;
        let unit = move |u: &Unit, level: RegionLevel| Region {
            code: u.code,
            name: u.name.clone(),
            level,
            urban_rural: None,
            population: if whole || level >= RegionLevel::County { u32::try_from(u.population).ok() } else { None },
            lon: Some(u.lon),
            lat: Some(u.lat),
        };
        let top = std::iter::once(unit(&self.province, RegionLevel::Province))
            .chain(self.cities.iter().map(move |c| unit(c, RegionLevel::City)));
        let counties = self.counties.iter().flat_map(move |c| {
            // A county-less city (东莞) is its own county unit and already listed.
            let own = (c.unit.code.level() == RegionLevel::County).then(|| unit(&c.unit, RegionLevel::County));
            own.into_iter().chain(self.townships[c.townships.clone()].iter().flat_map(move |t| {
                std::iter::once(unit(&t.unit, RegionLevel::Township)).chain(
                    self.villages[t.villages.clone()].iter().map(|v| Region {
                        code: v.code,
                        name: v.name.clone(),
                        level: RegionLevel::Village,
                        urban_rural: Some(v.urban_rural),
                        population: Some(v.population),
                        lon: Some(v.lon),
                        lat: Some(v.lat),
                    }),
                )
            }))
        });
        top.chain(counties)
    }

    /// How many people a facility serves, and its staff per 1,000 of them.
    fn served_by(&self, served: Served) -> (f64, f64) {
        match served {
            Served::Clinic { population, .. } => (population as f64, CLINIC_STAFF_PER_1000),
            Served::Centre { population } => (population as f64, CENTRE_STAFF_PER_1000),
            Served::County { county, share } => {
                (self.counties[county].unit.population as f64 * share, COUNTY_STAFF_PER_1000)
            }
            Served::City { city, share } => (self.cities[city].population as f64 * share, CITY_STAFF_PER_1000),
            Served::Province { share } => (self.province.population as f64 * share, PROVINCE_STAFF_PER_1000),
        }
    }

    /// Generates one facility's staff into the sink; returns how many. Headcounts
    /// follow the people served (`Served`); a village clinic's staff are drawn so
    /// that its village is a blank spot only when the plan says so, and becomes one
    /// in the coming years only where no younger doctor has joined.
    fn staff<S: Sink + ?Sized>(&self, fi: usize, p: &mut Practitioner, sink: &mut S) -> std::io::Result<u64> {
        let f = &self.facilities[fi];
        let mut r = stream(self.seed, fnv(f.facility_id.as_bytes()), Purpose::Staff);
        use Qualification::*;
        let (people, per_1000) = self.served_by(self.served[fi]);
        let expected = people * per_1000 / 1000.0;
        let mut st = Staffer { plan: self, f, n: 0, p, sink };
        if let Served::Clinic { no_doctor, .. } = self.served[fi] {
            if no_doctor {
                // The last qualified doctor, past retirement and still on the list,
                // sometimes with a nurse or helper.
                let age = r.gen_range(65..=72);
                st.one(RuralDoctor, age, true, &mut r)?;
                if r.gen_bool(0.3) {
                    let q = if r.gen_bool(0.5) { Nurse } else { Other };
                    let age = r.gen_range(30..=55);
                    st.one(q, age, true, &mut r)?;
                }
                return Ok(st.n);
            }
            // One for a village of up to 1,000 rural residents, more for larger ones.
            let n = 1 + rng::poisson(&mut r, (expected - 1.0).max(0.0)).min(4);
            let ages: Vec<u32> = CLINIC_AGES.iter().map(|b| b.2).collect();
            let mut youngest: Option<i32> = None;
            for i in 0..n {
                let weights = if i == 0 { [6, 15, 72, 4, 3] } else { [3, 10, 55, 25, 7] };
                let q = QUALS[rng::weighted(&mut r, &weights)];
                let (lo, hi, _) = CLINIC_AGES[rng::weighted(&mut r, &ages)];
                let age = r.gen_range(lo..=hi);
                let active = r.gen_bool(0.97);
                if active && age < 65 && matches!(q, Physician | AssistantPhysician | RuralDoctor) {
                    youngest = Some(youngest.map_or(age, |y| y.min(age)));
                }
                st.one(q, age, active, &mut r)?;
            }
            // A clinic without a serving doctor gets one (the plan's blank villages are
            // chosen above); one whose youngest doctor is 60 or older usually has a
            // successor already.
            let successor = match youngest {
                None => true,
                Some(a) if a >= 60 => r.gen_bool(SUCCESSION),
                Some(_) => false,
            };
            if successor {
                let q = QUALS[rng::weighted(&mut r, &[10, 40, 50, 0, 0])];
                let age = r.gen_range(24..=40);
                st.one(q, age, true, &mut r)?;
            }
            return Ok(st.n);
        }
        // (qualification weights: physician, assistant, rural doctor, nurse, other)
        let (least, first_q, rest_q): (u32, [u32; 5], [u32; 5]) = match f.kind {
            FacilityKind::TownshipCenter | FacilityKind::CommunityCenter => {
                // About 4% of centres have no physician at all.
                if r.gen_bool(0.04) {
                    (3, [0, 0, 40, 40, 20], [0, 0, 40, 40, 20])
                } else {
                    (3, [70, 30, 0, 0, 0], [35, 18, 4, 35, 8])
                }
            }
            FacilityKind::CountyHospital => (10, [100, 0, 0, 0, 0], [45, 5, 0, 45, 5]),
            FacilityKind::MunicipalHospital => (8, [100, 0, 0, 0, 0], [48, 2, 0, 45, 5]),
            _ => (5, [100, 0, 0, 0, 0], [50, 0, 0, 45, 5]),
        };
        let n = (expected * rng::lognormal(&mut r, 1.0, 0.15)).round().clamp(least as f64, 20_000.0) as u32;
        // (age band weights: 25-34, 35-44, 45-54, 55-64; nobody past 62 still works)
        let ages = if f.kind == FacilityKind::TownshipCenter || f.kind == FacilityKind::CommunityCenter {
            [30, 28, 25, 17]
        } else {
            [32, 30, 24, 14]
        };
        for i in 0..n {
            let q = QUALS[rng::weighted(&mut r, if i == 0 { &first_q } else { &rest_q })];
            let age = if i == 0 {
                // The head of the facility serves for some years yet.
                r.gen_range(30..=55)
            } else {
                (25 + rng::weighted(&mut r, &ages) as i32 * 10 + r.gen_range(0..10)).min(62)
            };
            let active = r.gen_bool(0.95);
            st.one(q, age, active, &mut r)?;
        }
        Ok(st.n)
    }

    pub fn county_of(&self, t: usize) -> &CountyPlan {
        &self.counties[self.townships[t].county]
    }
}

const QUALS: [Qualification; 5] = [
    Qualification::Physician,
    Qualification::AssistantPhysician,
    Qualification::RuralDoctor,
    Qualification::Nurse,
    Qualification::Other,
];

/// Writes a facility's staff one by one, numbering them.
struct Staffer<'a, S: Sink + ?Sized> {
    plan: &'a Plan,
    f: &'a Facility,
    n: u64,
    p: &'a mut Practitioner,
    sink: &'a mut S,
}

impl<S: Sink + ?Sized> Staffer<'_, S> {
    fn one(&mut self, q: Qualification, age: i32, active: bool, r: &mut rng::Stream) -> std::io::Result<()> {
        use Qualification::*;
        self.n += 1;
        let p = &mut *self.p;
        p.practitioner_id.clear();
        p.practitioner_id.push_str(&self.f.facility_id);
        p.practitioner_id.push_str(&format!("-{:03}", self.n));
        p.facility_id.clone_from(&self.f.facility_id);
        p.qualification = q;
        p.gp = r.gen_bool(match q {
            Physician => 0.3,
            AssistantPhysician => 0.15,
            RuralDoctor => 0.08,
            _ => 0.0,
        });
        p.birth_date = birth_date(self.plan.year_end, age, r);
        p.active = active;
        p.name.clear();
        let male = r.gen_bool(if q == Nurse { 0.1 } else { 0.6 });
        crate::people::person_name(r, male, None, &mut p.name);
        self.sink.practitioner(p)
    }
}

/// A birth date that makes the person `age` on the year's last day.
pub(crate) fn birth_date(year_end: NaiveDate, age: i32, r: &mut rng::Stream) -> NaiveDate {
    let latest = domain::add_years(year_end, -age);
    let d = latest - chrono::Duration::days(r.gen_range(0..365));
    d.min(year_end)
}

/// The city of a county-level unit (a county-less city is its own).
fn city_of(code: RegionCode) -> RegionCode {
    code.ancestor(RegionLevel::City).expect("a county-level unit has a city")
}

/// FNV-1a, to seed a stream from a facility's id.
fn fnv(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &c| (h ^ c as u64).wrapping_mul(0x100_0000_01b3))
}
