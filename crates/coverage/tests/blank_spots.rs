//! The blank-spot rules of docs/coverage.md, one by one, and the projection at
//! its boundaries.

mod common;
use common::*;
use coverage::{blank_spots, project, BlankKind, CoverageError, Network, Settings};
use domain::{FacilityKind as K, Qualification as Q};

fn kinds_at(net: &Network, d: &str, s: &Settings) -> Vec<(BlankKind, String)> {
    blank_spots(net, day(d), s).into_iter().map(|b| (b.kind, b.region_code.to_string())).collect()
}

fn hospital() -> domain::Facility {
    facility("H1", K::CountyHospital, Some(2), "341122000000", Some((118.4, 32.4)))
}

#[test]
fn village_without_clinic_or_township_centre() {
    let mut regions = frame();
    regions.push(village("341122100201", "东村", 800, (118.4, 32.45)));
    regions.push(village("341122100202", "西村", 900, (118.41, 32.45)));
    // An urban village (1xx) is never a rural blank spot.
    regions.push(region("341122100203", "城中村", Some(111), Some(500), None));
    let facilities = vec![hospital(), facility("T1", K::TownshipCenter, None, "341122100202", None)];
    let people = vec![
        person("p1", "T1", Q::Physician, "1980-01-01", true),
        person("p2", "H1", Q::Physician, "1980-01-01", true),
    ];
    let net = Network::new(regions, facilities, people).unwrap();
    let s = Settings::default();
    // 西村 has a township centre standing in it: no blank spot there.
    assert_eq!(kinds_at(&net, "2025-01-01", &s), vec![(BlankKind::VillageNoClinic, "341122100201".into())]);
    let b = &blank_spots(&net, day("2025-01-01"), &s)[0];
    assert_eq!(b.name, "东村");
    assert!(b.detail.contains("800 people"), "{}", b.detail);
}

#[test]
fn village_without_a_serving_qualified_doctor() {
    let mut regions = frame();
    for (c, n) in [
        ("341122100201", "甲"),
        ("341122100202", "乙"),
        ("341122100203", "丙"),
        ("341122100204", "丁"),
        ("341122100205", "戊"),
    ] {
        regions.push(village(c, n, 500, (118.4, 32.4)));
    }
    let facilities = vec![
        hospital(),
        facility("V1", K::VillageClinic, None, "341122100201", None),
        facility("V2", K::VillageClinic, None, "341122100202", None),
        facility("V3", K::VillageClinic, None, "341122100203", None),
        facility("V4", K::VillageClinic, None, "341122100204", None),
        facility("V5a", K::VillageClinic, None, "341122100205", None),
        facility("V5b", K::VillageClinic, None, "341122100205", None),
    ];
    let people = vec![
        person("h", "H1", Q::Physician, "1980-01-01", true),
        // 甲: only a nurse.
        person("n1", "V1", Q::Nurse, "1990-01-01", true),
        // 乙: a rural doctor of 64 serves.
        person("r2", "V2", Q::RuralDoctor, "1960-06-01", true),
        // 丙: a rural doctor who turned 65 on the day.
        person("r3", "V3", Q::RuralDoctor, "1960-01-01", true),
        // 丁: an assistant physician who is not active.
        person("a4", "V4", Q::AssistantPhysician, "1985-01-01", false),
        // 戊: two clinics, the second one has a young physician.
        person("n5", "V5a", Q::Nurse, "1990-01-01", true),
        person("p5", "V5b", Q::Physician, "1990-01-01", true),
    ];
    let net = Network::new(regions, facilities, people).unwrap();
    let s = Settings::default();
    let got = kinds_at(&net, "2025-01-01", &s);
    let want: Vec<(BlankKind, String)> = ["341122100201", "341122100203", "341122100204"]
        .iter()
        .map(|c| (BlankKind::VillageNoDoctor, c.to_string()))
        .collect();
    assert_eq!(got, want);
    let spots = blank_spots(&net, day("2025-01-01"), &s);
    assert!(spots[0].detail.contains("no physician, assistant physician or rural doctor"), "{}", spots[0].detail);
    assert!(spots[1].detail.contains("turned 65 on 2025-01-01"), "{}", spots[1].detail);
    assert!(spots[2].detail.contains("not active"), "{}", spots[2].detail);
    // The retirement age is a setting: at 66, 丙's doctor still serves.
    let later = Settings { retire_village: 66, ..s };
    assert_eq!(kinds_at(&net, "2025-01-01", &later).len(), 2);
}

#[test]
fn township_centre_without_a_physician() {
    let mut regions = frame();
    regions.push(region("341122101000", "半塔镇", Some(220), None, None));
    let facilities = vec![
        hospital(),
        facility("T1", K::TownshipCenter, None, "341122100000", None),
        facility("T2", K::TownshipCenter, None, "341122101000", None),
    ];
    let people = vec![
        person("h", "H1", Q::Physician, "1980-01-01", true),
        // T1: a rural doctor does not count in a township centre; the physician turned 60.
        person("r1", "T1", Q::RuralDoctor, "1980-01-01", true),
        person("p1", "T1", Q::Physician, "1965-01-01", true),
        // T2: an assistant physician of 59.
        person("p2", "T2", Q::AssistantPhysician, "1965-01-02", true),
    ];
    let net = Network::new(regions, facilities, people).unwrap();
    let spots = blank_spots(&net, day("2025-01-01"), &Settings::default());
    assert_eq!(spots.len(), 1);
    assert_eq!(spots[0].kind, BlankKind::TownshipNoPhysician);
    assert_eq!(spots[0].region_code.to_string(), "341122100000");
    assert_eq!(spots[0].name, "T1 name");
    assert!(spots[0].detail.contains("turned 60 on 2025-01-01"), "{}", spots[0].detail);
}

#[test]
fn county_without_a_hospital_of_grade_two() {
    let regions = vec![
        region("340000000000", "安徽省", None, None, None),
        region("341100000000", "滁州市", None, None, None),
        region("341122000000", "来安县", None, None, None),
        region("341124000000", "全椒县", None, None, None),
        region("341125000000", "定远县", None, None, None),
        region("341126000000", "凤阳县", None, None, None),
    ];
    let facilities = vec![
        // 来安: only a grade-1 hospital.
        facility("H1", K::CountyHospital, Some(1), "341122000000", None),
        // 全椒: a grade-3 municipal hospital standing in a town of the county.
        facility("H2", K::MunicipalHospital, Some(3), "341124100000", None),
        // 定远: a grade-2 county hospital.
        facility("H3", K::CountyHospital, Some(2), "341125000000", None),
        // 凤阳: nothing; the city's hospital stands at the city level, not in the county.
        facility("H4", K::MunicipalHospital, Some(3), "341100000000", None),
        // A township centre is not a hospital whatever its grade.
        facility("T", K::TownshipCenter, Some(2), "341126100000", None),
    ];
    let mut regions = regions;
    regions.push(region("341124100000", "襄河镇", Some(121), None, None));
    regions.push(region("341126100000", "府城镇", Some(220), None, None));
    let net = Network::new(regions, facilities, vec![person("p", "T", Q::Physician, "1980-01-01", true)]).unwrap();
    let got = kinds_at(&net, "2025-01-01", &Settings::default());
    assert_eq!(
        got,
        vec![
            (BlankKind::CountyNoHospital, "341122000000".into()),
            (BlankKind::CountyNoHospital, "341126000000".into())
        ]
    );
    let spots = blank_spots(&net, day("2025-01-01"), &Settings::default());
    assert!(spots[0].detail.contains("none of grade 2"), "{}", spots[0].detail);
    assert!(spots[1].detail.contains("no hospital"), "{}", spots[1].detail);
}

#[test]
fn projection_at_its_boundaries() {
    let mut regions = frame();
    regions.push(village("341122100201", "东村", 500, (118.4, 32.4)));
    regions.push(village("341122100202", "西村", 500, (118.4, 32.4)));
    let facilities = vec![
        hospital(),
        facility("V1", K::VillageClinic, None, "341122100201", None),
        facility("V2", K::VillageClinic, None, "341122100202", None),
    ];
    let people = vec![
        person("h", "H1", Q::Physician, "1990-01-01", true),
        // Turns 65 exactly on d + 1 year: no longer serving then.
        person("张三", "V1", Q::RuralDoctor, "1961-01-01", true),
        // Turns 65 one day after d + 1 year: still serving then, gone by d + 3.
        person("李四", "V2", Q::RuralDoctor, "1961-01-02", true),
    ];
    let net = Network::new(regions, facilities, people).unwrap();
    let rows = project(&net, day("2025-01-01"), &Settings::default());
    let got: Vec<(i32, String)> = rows.iter().map(|b| (b.in_years, b.region_code.to_string())).collect();
    assert_eq!(
        got,
        vec![
            (1, "341122100201".into()),
            (3, "341122100201".into()),
            (3, "341122100202".into()),
            (5, "341122100201".into()),
            (5, "341122100202".into()),
        ]
    );
    assert!(
        rows[0].detail.contains("last qualified doctor Dr 张三 (张三) turns 65 on 2026-01-01"),
        "{}",
        rows[0].detail
    );
    assert!(rows.iter().all(|b| b.kind == BlankKind::VillageNoDoctor));
    // The hospital physician born 1990 never ages out within five years.
    assert!(rows.iter().all(|b| b.kind != BlankKind::CountyNoHospital));
}

#[test]
fn projection_lists_every_horizon_sorted() {
    let mut regions = frame();
    regions.push(village("341122100202", "乙", 500, (118.4, 32.4)));
    regions.push(village("341122100201", "甲", 500, (118.4, 32.4)));
    let net = Network::new(regions, vec![], vec![]).unwrap();
    let rows = project(&net, day("2025-06-30"), &Settings::default());
    let got: Vec<(i32, &str, String)> =
        rows.iter().map(|b| (b.in_years, b.kind.as_str(), b.region_code.to_string())).collect();
    let mut want = Vec::new();
    for y in [0, 1, 3, 5] {
        want.push((y, "county_no_hospital", "341122000000".to_string()));
        want.push((y, "village_no_clinic", "341122100201".to_string()));
        want.push((y, "village_no_clinic", "341122100202".to_string()));
    }
    assert_eq!(got, want);
}

#[test]
fn inconsistent_registries_are_refused_with_the_offenders() {
    let regions = frame();
    let facilities = vec![
        facility("F9", K::VillageClinic, None, "341122100299", None),
        facility("F1", K::VillageClinic, None, "341122100000", None),
    ];
    let e = Network::new(regions.clone(), facilities, vec![]).unwrap_err();
    assert!(matches!(e, CoverageError::UnknownRegions(ref v) if v == &vec!["F9 (341122100299)".to_string()]), "{e}");
    assert!(e.to_string().contains("F9 (341122100299)"), "{e}");

    let facilities = vec![facility("F1", K::VillageClinic, None, "341122100000", None)];
    let people = vec![
        person("p1", "F1", Q::Nurse, "1990-01-01", true),
        person("p2", "F2", Q::Nurse, "1990-01-01", true),
        person("p3", "F3", Q::Nurse, "1990-01-01", true),
    ];
    let e = Network::new(regions.clone(), facilities.clone(), people).unwrap_err();
    assert!(matches!(e, CoverageError::UnknownFacilities(ref v) if v.len() == 2), "{e}");
    assert!(e.to_string().contains("2 practitioners") && e.to_string().contains("p2 (F2), p3 (F3)"), "{e}");

    let e = Network::new(regions, vec![facilities[0].clone(), facilities[0].clone()], vec![]).unwrap_err();
    assert!(e.to_string().contains("duplicate facility ids: F1"), "{e}");
    assert!(Settings { retire_village: 5, retire_other: 60 }.validate().is_err());
}
