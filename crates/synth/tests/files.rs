//! The written files of a small run: they parse with the domain's own parsers,
//! refer to each other correctly, repeat byte for byte under the same seed, and
//! have the shapes the generator promises.

use domain::{
    Catalogue, Claim, ClaimKind, ColumnMap, Facility, FacilityKind, FacilityLevel, Household, Person, PovertyStatus,
    Practitioner, Record, Region, RegionLevel, Threshold,
};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::OnceLock;
use synth::{Config, Scale, Written};

struct Run {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    written: Written,
}

fn small() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        let written = synth::write_dir(&Config { seed: 42, ..Config::default() }, &path).unwrap();
        Run { _dir: dir, path, written }
    })
}

/// Every row of a file through `ColumnMap` and `Record::from_fields`; a row that
/// fails names its file and line.
fn read<R: Record>(dir: &Path, name: &str) -> Vec<R> {
    let mut rdr = csv::Reader::from_path(dir.join(name)).unwrap();
    let header: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    let names: Vec<&str> = header.iter().map(String::as_str).collect();
    assert_eq!(names, R::COLUMNS.iter().map(|c| c.name).collect::<Vec<_>>(), "{name} header");
    let map = ColumnMap::new::<R>(&names).unwrap();
    rdr.records()
        .enumerate()
        .map(|(i, row)| {
            let row = row.unwrap();
            let fields: Vec<&str> = row.iter().collect();
            map.parse::<R>(&fields).unwrap_or_else(|e| panic!("{name} line {}: {e}", i + 2))
        })
        .collect()
}

struct Data {
    regions: Vec<Region>,
    households: Vec<Household>,
    persons: Vec<Person>,
    facilities: Vec<Facility>,
    practitioners: Vec<Practitioner>,
    claims: Vec<Claim>,
    thresholds: Vec<Threshold>,
}

fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(|| {
        let d = &small().path;
        Data {
            regions: read(d, "regions.csv"),
            households: read(d, "households.csv"),
            persons: read(d, "persons.csv"),
            facilities: read(d, "facilities.csv"),
            practitioners: read(d, "practitioners.csv"),
            claims: read(d, "claims.csv"),
            thresholds: read(d, "thresholds.csv"),
        }
    })
}

#[test]
fn every_file_parses_and_matches_the_manifest() {
    let d = data();
    let s = &small().written.summary;
    assert_eq!(d.regions.len() as u64, s.regions);
    assert_eq!(d.households.len() as u64, s.households);
    assert_eq!(d.persons.len() as u64, s.persons);
    assert_eq!(d.facilities.len() as u64, s.facilities);
    assert_eq!(d.practitioners.len() as u64, s.practitioners);
    assert_eq!(d.claims.len() as u64, s.claims);
    assert_eq!(d.thresholds.len() as u64, s.thresholds);
    assert!((4_000..=9_000).contains(&s.households), "{}", s.households);
    let manifest = std::fs::read_to_string(small().path.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"households\""), "{manifest}");
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let again = dir.path().join("again");
    synth::write_dir(&Config { seed: 42, ..Config::default() }, &again).unwrap();
    for f in [
        "regions.csv",
        "households.csv",
        "persons.csv",
        "facilities.csv",
        "practitioners.csv",
        "claims.csv",
        "thresholds.csv",
        "thresholds.toml",
        "policy.toml",
        "manifest.json",
    ] {
        let a = std::fs::read(small().path.join(f)).unwrap();
        let b = std::fs::read(again.join(f)).unwrap();
        assert!(a == b, "{f} differs between two runs with the same seed");
    }
    let other = dir.path().join("other");
    synth::write_dir(&Config { seed: 43, ..Config::default() }, &other).unwrap();
    let a = std::fs::read(small().path.join("persons.csv")).unwrap();
    let b = std::fs::read(other.join("persons.csv")).unwrap();
    assert_ne!(a, b);
}

#[test]
fn the_in_memory_sink_sees_what_the_files_hold() {
    let mut c = synth::Collect::default();
    let s = synth::generate(&Config { seed: 42, ..Config::default() }, &mut c).unwrap();
    let d = data();
    assert_eq!(s, small().written.summary);
    assert_eq!(c.regions, d.regions);
    assert_eq!(c.households, d.households);
    assert_eq!(c.persons, d.persons);
    assert_eq!(c.facilities, d.facilities);
    assert_eq!(c.practitioners, d.practitioners);
    assert_eq!(c.claims, d.claims);
    assert_eq!(c.thresholds, d.thresholds);
}

#[test]
fn records_refer_to_each_other() {
    let d = data();
    let regions: HashMap<_, _> = d.regions.iter().map(|r| (r.code, r)).collect();
    assert_eq!(regions.len(), d.regions.len(), "region codes repeat");
    for r in &d.regions {
        if let Some(p) = r.code.parent() {
            assert!(regions.contains_key(&p), "region {} has no parent {p}", r.code);
        }
        if r.level == RegionLevel::Village {
            assert!(r.population.is_some() && r.lon.is_some() && r.urban_rural.is_some(), "{r:?}");
        }
    }
    let mut households = HashSet::new();
    for h in &d.households {
        let v = regions.get(&h.village_code).unwrap_or_else(|| panic!("{} in no region", h.household_id));
        assert_eq!(v.level, RegionLevel::Village);
        assert!(households.insert(h.household_id.as_str()), "household {} repeats", h.household_id);
    }
    let mut persons = HashMap::new();
    let mut size: HashMap<&str, u16> = HashMap::new();
    for p in &d.persons {
        assert!(households.contains(p.household_id.as_str()), "{} in no household", p.person_id);
        assert!(persons.insert(p.person_id, p).is_none(), "person {} repeats", p.person_id);
        *size.entry(p.household_id.as_str()).or_default() += 1;
    }
    for h in &d.households {
        assert_eq!(size.get(h.household_id.as_str()), Some(&h.size), "{} size", h.household_id);
    }
    // persons' villages add up to the villages' populations
    let mut pop: HashMap<_, u32> = HashMap::new();
    for h in &d.households {
        *pop.entry(h.village_code).or_default() += h.size as u32;
    }
    for r in d.regions.iter().filter(|r| r.level == RegionLevel::Village) {
        assert_eq!(r.population, Some(*pop.get(&r.code).unwrap_or(&0)), "{}", r.code);
    }
    let facilities: HashMap<_, _> = d.facilities.iter().map(|f| (f.facility_id.as_str(), f)).collect();
    assert_eq!(facilities.len(), d.facilities.len(), "facility ids repeat");
    for f in &d.facilities {
        assert!(regions.contains_key(&f.region_code), "{} stands in no region", f.facility_id);
    }
    let mut ids = HashSet::new();
    for p in &d.practitioners {
        assert!(facilities.contains_key(p.facility_id.as_str()), "{} works nowhere", p.practitioner_id);
        assert!(ids.insert(p.practitioner_id.as_str()));
    }
    let mut claims = HashSet::new();
    for c in &d.claims {
        let p = persons.get(&c.person_id).unwrap_or_else(|| panic!("{} of no person", c.claim_id));
        assert!(claims.insert(c.claim_id.as_str()), "claim {} repeats", c.claim_id);
        assert!(c.discharged >= p.person_id.birth_date().unwrap());
        assert_eq!(c.year(), 2024);
        if c.facility_level == FacilityLevel::OutOfProvince {
            assert!(c.facility_id.is_empty());
        } else {
            let f = facilities.get(c.facility_id.as_str()).unwrap_or_else(|| panic!("{} at no facility", c.claim_id));
            assert_eq!(f.kind.level(), c.facility_level, "{}", c.claim_id);
        }
    }
    // every resident ID carries the county's code
    assert!(d.persons.iter().all(|p| p.person_id.address_code() == 341122));
}

#[test]
fn catalogue_diagnoses_of_claims_are_the_persons_own() {
    let d = data();
    let serious = Catalogue::serious();
    let chronic = Catalogue::chronic();
    let persons: HashMap<_, _> = d.persons.iter().map(|p| (p.person_id, p)).collect();
    let mut serious_claims = 0;
    for c in &d.claims {
        if serious.find(&c.diagnosis, 2024).is_some() || chronic.find(&c.diagnosis, 2024).is_some() {
            let p = persons[&c.person_id];
            assert!(
                p.diagnoses.contains(&c.diagnosis),
                "{} has {} not among {:?}",
                c.claim_id,
                c.diagnosis,
                p.diagnoses
            );
            serious_claims += serious.find(&c.diagnosis, 2024).is_some() as u32;
        }
        if c.kind == ClaimKind::ChronicOutpatient {
            assert!(!c.diagnosis.is_empty());
        }
    }
    assert!(serious_claims > 0);
}

fn share(n: usize, of: usize) -> f64 {
    n as f64 / of as f64
}

#[test]
fn statuses_sizes_incomes_and_diseases_have_believable_shares() {
    let d = data();
    let n = d.persons.len();
    let count = |s: PovertyStatus| d.persons.iter().filter(|p| p.status == s).count();
    let general = share(count(PovertyStatus::General), n);
    let lifted = share(count(PovertyStatus::Lifted), n);
    let monitored = share(count(PovertyStatus::Monitored), n);
    let low = share(count(PovertyStatus::LowIncome), n);
    let hardship = share(count(PovertyStatus::SpecialHardship), n);
    assert!((0.82..=0.89).contains(&general), "general {general}");
    assert!((0.07..=0.11).contains(&lifted), "lifted {lifted}");
    assert!((0.008..=0.025).contains(&monitored), "monitored {monitored}");
    assert!((0.02..=0.055).contains(&low), "low income {low}");
    assert!((0.004..=0.015).contains(&hardship), "special hardship {hardship}");
    // Households by their poorest member, as the indicators count them: a formerly
    // poor county where about one household in six is poor or monitored.
    let order = |s: PovertyStatus| PovertyStatus::ALL.iter().position(|x| *x == s).unwrap();
    let mut poorest: HashMap<&str, PovertyStatus> = HashMap::new();
    for p in &d.persons {
        let e = poorest.entry(p.household_id.as_str()).or_insert(p.status);
        if order(p.status) < order(*e) {
            *e = p.status;
        }
    }
    let households = |s: PovertyStatus| share(poorest.values().filter(|x| **x == s).count(), d.households.len());
    assert!((0.80..=0.87).contains(&households(PovertyStatus::General)), "general households");
    assert!((0.07..=0.12).contains(&households(PovertyStatus::Lifted)), "lifted households");
    assert!((0.03..=0.06).contains(&households(PovertyStatus::LowIncome)), "low-income households");
    assert!((0.01..=0.03).contains(&households(PovertyStatus::SpecialHardship)), "hardship households");
    assert!((0.005..=0.02).contains(&households(PovertyStatus::Monitored)), "monitored households");

    let mean_size = n as f64 / d.households.len() as f64;
    assert!((3.0..=3.45).contains(&mean_size), "mean household size {mean_size}");
    assert!(d.households.iter().all(|h| (1..=8).contains(&h.size)));

    let mut pc: Vec<f64> = d.households.iter().map(|h| h.income.as_yuan_f64() / h.size as f64).collect();
    pc.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let median = pc[pc.len() / 2];
    assert!((14_000.0..=21_000.0).contains(&median), "per-capita median {median}");
    let under_line = share(pc.iter().filter(|x| **x < 7_000.0).count(), pc.len());
    assert!((0.03..=0.25).contains(&under_line), "under the monitoring line {under_line}");
    assert!(d.households.iter().all(|h| h.food.unwrap() <= h.consumption.unwrap()));

    let birth = |p: &Person| p.person_id.birth_date().unwrap();
    let end = chrono::NaiveDate::from_ymd_opt(2024, 12, 31).unwrap();
    let adults: Vec<&Person> = d.persons.iter().filter(|p| domain::age_on(birth(p), end) >= 18).collect();
    let with = |code: &str| {
        share(adults.iter().filter(|p| p.diagnoses.iter().any(|x| x.starts_with(code))).count(), adults.len())
    };
    let hypertension = with("I10");
    let diabetes = with("E11");
    assert!((0.15..=0.27).contains(&hypertension), "hypertension {hypertension}");
    assert!((0.05..=0.11).contains(&diabetes), "diabetes {diabetes}");
    assert!(with("C") < 0.02);

    let per_person = d.claims.len() as f64 / n as f64;
    assert!((2.0..=3.0).contains(&per_person), "claims per person {per_person}");
    for c in &d.claims {
        let e = c.eligible_cost.0 as f64 / c.total_cost.0 as f64;
        assert!((0.69..=0.995).contains(&e) || c.total_cost.0 < 1000, "{} eligible share {e}", c.claim_id);
    }
    let median_of = |level: FacilityLevel, kind: ClaimKind| {
        let mut v: Vec<i64> =
            d.claims.iter().filter(|c| c.facility_level == level && c.kind == kind).map(|c| c.total_cost.0).collect();
        v.sort();
        v[v.len() / 2] as f64 / 100.0
    };
    let village = median_of(FacilityLevel::Village, ClaimKind::Outpatient);
    assert!((30.0..=80.0).contains(&village), "village outpatient {village}");
    let county = median_of(FacilityLevel::County, ClaimKind::Inpatient);
    assert!((5_000.0..=10_000.0).contains(&county), "county inpatient {county}");
}

#[test]
fn admissions_their_levels_and_costs_follow_the_programme() {
    let d = data();
    let poor: HashSet<_> = d.persons.iter().filter(|p| p.status.is_poor()).map(|p| p.person_id).collect();
    let admissions: Vec<&Claim> = d.claims.iter().filter(|c| c.kind == ClaimKind::Inpatient).collect();
    let (poor_in, general_in): (Vec<&Claim>, Vec<&Claim>) =
        admissions.iter().partition(|c| poor.contains(&c.person_id));
    // About 15 to 20 admissions per 100 rural residents a year, more among the poor.
    let per_100 = 100.0 * share(admissions.len(), d.persons.len());
    assert!((15.0..=20.0).contains(&per_100), "admissions per 100 persons: {per_100}");
    let poor_per_100 = 100.0 * share(poor_in.len(), poor.len());
    let general_per_100 = 100.0 * share(general_in.len(), d.persons.len() - poor.len());
    assert!(poor_per_100 >= 1.3 * general_per_100, "poor {poor_per_100}, general {general_per_100}");
    // Nine in ten admissions in the county (township centre or county hospital),
    // more among the poor.
    let in_county = |v: &[&Claim]| {
        let n = v.iter().filter(|c| c.facility_level <= FacilityLevel::County).count();
        share(n, v.len())
    };
    let all = in_county(&admissions);
    let of_poor = in_county(&poor_in);
    assert!((0.85..=0.95).contains(&all), "admissions in the county: {all}");
    assert!((0.9..=0.98).contains(&of_poor), "poor patients' admissions in the county: {of_poor}");
    // A few thousand yuan in a township centre, six to ten thousand in a county
    // hospital, much more above.
    let mean = |level: FacilityLevel| {
        let v: Vec<f64> =
            admissions.iter().filter(|c| c.facility_level == level).map(|c| c.total_cost.as_yuan_f64()).collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    let (township, county) = (mean(FacilityLevel::Township), mean(FacilityLevel::County));
    let (municipal, provincial) = (mean(FacilityLevel::Municipal), mean(FacilityLevel::Provincial));
    assert!((1_500.0..=3_500.0).contains(&township), "township admission {township}");
    assert!((5_500.0..=10_000.0).contains(&county), "county admission {county}");
    assert!(municipal > 1.5 * county && provincial > municipal, "{municipal} {provincial}");
}

#[test]
fn the_network_has_gaps_to_find() {
    let d = data();
    let villages: Vec<&Region> = d.regions.iter().filter(|r| r.level == RegionLevel::Village && r.is_rural()).collect();
    let clinics: HashSet<&str> =
        d.facilities.iter().filter(|f| f.kind == FacilityKind::VillageClinic).map(|f| f.facility_id.as_str()).collect();
    let end = chrono::NaiveDate::from_ymd_opt(2024, 12, 31).unwrap();
    // A village is blank without a clinic, or when no qualified doctor of its
    // clinic serves (active and under 65): coverage.md's rules.
    let serving: HashSet<&str> = d
        .practitioners
        .iter()
        .filter(|p| {
            clinics.contains(p.facility_id.as_str())
                && p.active
                && domain::age_on(p.birth_date, end) < 65
                && p.qualification != domain::Qualification::Nurse
                && p.qualification != domain::Qualification::Other
        })
        .map(|p| p.facility_id.as_str())
        .collect();
    let blank = villages.iter().filter(|v| !serving.contains(format!("VC{}", v.code).as_str())).count();
    // At least one in a county (for the planner), about 1.2% otherwise: one in the
    // small county's few dozen villages.
    assert_eq!(blank, 1, "blank villages among {}", villages.len());
    let village_doctors: Vec<&Practitioner> =
        d.practitioners.iter().filter(|p| clinics.contains(p.facility_id.as_str())).collect();
    let old = village_doctors.iter().filter(|p| domain::age_on(p.birth_date, end) >= 60).count();
    let old = share(old, village_doctors.len());
    assert!((0.15..=0.4).contains(&old), "village doctors aged 60 or more: {old}");
    assert!(village_doctors.iter().any(|p| domain::age_on(p.birth_date, end) >= 65));
    let centres = d.facilities.iter().filter(|f| f.kind == FacilityKind::TownshipCenter).count();
    assert!(centres >= 5);
    assert!(d.facilities.iter().any(|f| f.kind == FacilityKind::CountyHospital && f.grade.is_some_and(|g| g.0 >= 2)));
    assert!(d.facilities.iter().any(|f| f.kind == FacilityKind::ProvincialHospital));
}

#[test]
fn thresholds_and_policy_are_in_the_spec_forms() {
    let d = data();
    assert_eq!(d.thresholds[0].region, "34");
    assert!(d.thresholds.iter().any(|t| t.region == "341122"));
    let toml = std::fs::read_to_string(small().path.join("thresholds.toml")).unwrap();
    assert!(toml.contains("[[threshold]]\nregion = \"34\"\nyear = 2024\n"), "{toml}");
    let policy = std::fs::read_to_string(small().path.join("policy.toml")).unwrap();
    assert!(policy.contains("year = 2024\n") && policy.contains("name = \"safety_net\""));
    assert!(policy.contains("oop_cap = { village = 3000"));
    // The shipped Anhui file's tiers, whole, under the county's name and year.
    let shipped = include_str!("../../../examples/policies/anhui-351-180.toml");
    let tiers = &shipped[shipped.find("# ---- basic").unwrap()..];
    assert!(policy.ends_with(tiers) && policy.matches("\nyear = ").count() == 1, "{policy}");
    assert!(policy.contains("oop_cap_level = \"highest\"") && policy.contains("name = \"supplementary\""));
    // The layers of protection, each a fund of the indicators.
    for tier in ["basic", "critical", "assistance", "safety_net"] {
        assert!(policy.contains(&format!("name = \"{tier}\"")), "{tier}");
    }
}

#[test]
fn choices_are_checked() {
    let bad = |c: Config| synth::write_dir(&c, Path::new("/nonexistent/never")).unwrap_err().to_string();
    let e = bad(Config { county: Some("341199".into()), ..Config::default() });
    assert!(e.contains("341199"), "{e}");
    let e = bad(Config { province: Some("99".into()), ..Config::default() });
    assert!(e.contains("99"), "{e}");
    let e = bad(Config { scale: Scale::Province, county: Some("341122".into()), ..Config::default() });
    assert!(e.contains("--province"), "{e}");
    let e = bad(Config { province: Some("64".into()), county: Some("341122".into()), ..Config::default() });
    assert!(e.contains("not in the province"), "{e}");
    assert!("huge".parse::<Scale>().is_err());
}

#[test]
fn another_province_and_no_claims() {
    let dir = tempfile::tempdir().unwrap();
    let w = synth::write_dir(
        &Config { province: Some("64".into()), claims_per_person: 0.0, year: 2023, ..Config::default() },
        dir.path(),
    )
    .unwrap();
    assert_eq!(w.summary.province, "宁夏回族自治区");
    assert_eq!(w.summary.claims, 0);
    let regions: Vec<Region> = read(dir.path(), "regions.csv");
    assert!(regions.iter().all(|r| r.code.starts_with("64")));
    // Ningxia lies around 106E 37N
    let v = regions.iter().find(|r| r.level == RegionLevel::Village).unwrap();
    assert!((100.0..112.0).contains(&v.lon.unwrap()) && (33.0..41.0).contains(&v.lat.unwrap()), "{v:?}");
    let t: Vec<Threshold> = read(dir.path(), "thresholds.csv");
    assert!(t.iter().all(|t| t.year == 2023));
}

#[test]
fn a_county_less_city_works() {
    // 东莞 (4419) has towns directly under the city.
    let mut c = synth::Collect::default();
    synth::generate(&Config { county: Some("441900".into()), claims_per_person: 0.5, ..Config::default() }, &mut c)
        .unwrap();
    assert!(c.households.iter().all(|h| h.village_code.starts_with("4419")));
    assert!(c.persons.iter().all(|p| p.person_id.address_code() == 441900));
}
