//! The health network of a county and of a province against the figures it is
//! calibrated to (docs/synth.md): staff per 1,000 people served, the age of village
//! doctors, and the blank villages that the coverage rules find now and in one,
//! three and five years. Only the network is generated (no people), so the
//! county and province scales stay quick.

use chrono::NaiveDate;
use coverage::{BlankKind, Network, Settings};
use domain::{FacilityKind, RegionLevel};
use std::collections::{HashMap, HashSet};
use synth::{Collect, Config, Scale};

fn network(config: Config) -> Collect {
    let mut c = Collect::default();
    synth::generate_network(&config, &mut c).unwrap();
    c
}

fn county() -> Collect {
    network(Config { scale: Scale::County, ..Config::default() })
}

fn end() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 12, 31).unwrap()
}

/// The shares of rural villages that are blank spots (no clinic, or no serving
/// qualified doctor) now and at +1, +3 and +5 years, by coverage's own rules.
fn blank_shares(c: &Collect) -> [f64; 4] {
    let rural = c.regions.iter().filter(|r| r.level == RegionLevel::Village && r.is_rural()).count();
    let net = Network::new(c.regions.clone(), c.facilities.clone(), c.practitioners.clone()).unwrap();
    let spots = coverage::project(&net, end(), &Settings::default());
    let mut out = [0.0; 4];
    for (i, years) in [0, 1, 3, 5].into_iter().enumerate() {
        let villages: HashSet<_> = spots
            .iter()
            .filter(|s| {
                s.in_years == years && matches!(s.kind, BlankKind::VillageNoClinic | BlankKind::VillageNoDoctor)
            })
            .map(|s| s.region_code)
            .collect();
        out[i] = villages.len() as f64 / rural as f64;
    }
    out
}

#[test]
fn a_county_has_about_the_yearbooks_staff_per_thousand() {
    let c = county();
    let kind: HashMap<&str, FacilityKind> = c.facilities.iter().map(|f| (f.facility_id.as_str(), f.kind)).collect();
    let staff = |k: FacilityKind| c.practitioners.iter().filter(|p| kind[p.facility_id.as_str()] == k).count() as f64;
    let villages = c.regions.iter().filter(|r| r.level == RegionLevel::Village);
    let population: f64 = villages.clone().map(|r| r.population.unwrap() as f64).sum();
    let rural: f64 = villages.filter(|r| r.is_rural()).map(|r| r.population.unwrap() as f64).sum();
    assert!((300_000.0..500_000.0).contains(&population), "{population}");
    // About 1.5 village clinic staff per 1,000 rural residents, and as many
    // township centre staff per 1,000 residents.
    let clinics = 1000.0 * staff(FacilityKind::VillageClinic) / rural;
    assert!((1.2..=2.2).contains(&clinics), "village clinic staff per 1,000 rural residents: {clinics}");
    let centres = 1000.0 * (staff(FacilityKind::TownshipCenter) + staff(FacilityKind::CommunityCenter)) / population;
    assert!((1.2..=2.0).contains(&centres), "township centre staff per 1,000 residents: {centres}");
    // Every practitioner the run's people are served by, hospitals included.
    let all = 1000.0 * c.practitioners.len() as f64 / population;
    assert!((5.0..=12.0).contains(&all), "practitioners per 1,000 residents: {all}");
}

#[test]
fn many_village_doctors_are_old_but_few_villages_lose_their_last_one() {
    let c = county();
    let clinics: HashSet<&str> =
        c.facilities.iter().filter(|f| f.kind == FacilityKind::VillageClinic).map(|f| f.facility_id.as_str()).collect();
    let ages: Vec<i32> = c
        .practitioners
        .iter()
        .filter(|p| clinics.contains(p.facility_id.as_str()))
        .map(|p| domain::age_on(p.birth_date, end()))
        .collect();
    let share = |f: &dyn Fn(i32) -> bool| ages.iter().filter(|a| f(**a)).count() as f64 / ages.len() as f64;
    let sixty = share(&|a| a >= 60);
    assert!((0.2..=0.35).contains(&sixty), "village clinic staff aged 60 or more: {sixty}");
    let past = share(&|a| a >= 65);
    assert!((0.05..=0.2).contains(&past), "aged 65 or more: {past}");

    // Anhui: 168 of 14,022 villages without a qualified doctor (1.2%); a few
    // percent more as doctors reach 65, not most villages.
    let [now, one, three, five] = blank_shares(&c);
    assert!((0.005..=0.025).contains(&now), "blank villages now: {now}");
    assert!(now <= one && one <= three && three <= five, "{now} {one} {three} {five}");
    assert!(one <= 0.035 && three <= 0.05 && five <= 0.08, "blank at +1/+3/+5: {one} {three} {five}");
    assert!(five > now, "some doctors retire within five years");
}

#[test]
fn a_province_has_anhuis_share_of_blank_villages() {
    // Ningxia: 22 county-level units, some 2,000 rural villages.
    let c = network(Config { scale: Scale::Province, province: Some("64".into()), ..Config::default() });
    let [now, _, _, five] = blank_shares(&c);
    assert!((0.006..=0.02).contains(&now), "blank villages now: {now}");
    assert!(five <= 0.08, "blank villages in five years: {five}");
    // Hospitals are staffed for the people they serve: the province's for all of
    // them, a county's for its own.
    let population: f64 =
        c.regions.iter().filter(|r| r.level == RegionLevel::Village).map(|r| r.population.unwrap() as f64).sum();
    let all = 1000.0 * c.practitioners.len() as f64 / population;
    assert!((5.0..=12.0).contains(&all), "practitioners per 1,000 residents: {all}");
    let provincial = c.practitioners.iter().filter(|p| p.practitioner_id.starts_with("PH64-")).count() as f64;
    let per_1000 = 1000.0 * provincial / population;
    assert!((0.3..=0.5).contains(&per_1000), "provincial hospital staff per 1,000: {per_1000}");
}

#[test]
fn the_network_alone_is_what_the_full_run_writes() {
    let config = Config { claims_per_person: 0.5, ..Config::default() };
    let mut full = Collect::default();
    synth::generate(&config, &mut full).unwrap();
    let alone = network(config);
    assert_eq!(alone.regions, full.regions);
    assert_eq!(alone.facilities, full.facilities);
    assert_eq!(alone.practitioners, full.practitioners);
    assert_eq!(alone.thresholds, full.thresholds);
    assert!(alone.persons.is_empty() && alone.claims.is_empty());
}
