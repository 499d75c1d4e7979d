//! Travel times against hand-computed haversine cases, the 15-minute circle on a
//! hand-made instance, and reach over a hand-made road graph.

mod common;
use common::*;
use coverage::{reach, reach_on_roads, shares, GraphBuilder, Network, Settings, SpeedClass, TravelModel};
use domain::{FacilityKind as K, Qualification as Q, RegionLevel};

/// Along a meridian 0.01° of latitude is R·π/180·0.01 = 1.111951 km, which at the
/// default model (×1.3, 30 km/h) takes 2.891073 minutes.
const MIN_PER_CENTIDEGREE: f64 = 1.111_950_8 * 1.3 / 30.0 * 60.0;

fn instance() -> Network {
    let mut regions = frame();
    regions.push(region("341122101000", "半塔镇", Some(220), None, None));
    // Villages along the meridian 118.4 E.
    regions.push(village("341122100201", "甲", 1000, (118.4, 32.40)));
    regions.push(village("341122100202", "乙", 500, (118.4, 32.46)));
    regions.push(village("341122101201", "丙", 300, (118.4, 32.30)));
    // An urban village counts in reach but not in the rural circle.
    regions.push(region("341122101202", "丁", Some(112), Some(9999), Some((118.4, 32.40))));
    let facilities = vec![
        // A qualified clinic 0.05° north of 甲 (14.455 min), 0.01° south of 乙.
        facility("V1", K::VillageClinic, None, "341122100201", Some((118.4, 32.45))),
        // A clinic whose only doctor is retired: not a qualified site.
        facility("V2", K::VillageClinic, None, "341122101201", Some((118.4, 32.30))),
        // A township centre 0.06° south of 丙 (17.35 min).
        facility("T1", K::TownshipCenter, None, "341122101000", Some((118.4, 32.24))),
        facility("H1", K::CountyHospital, Some(2), "341122000000", Some((118.4, 32.00))),
    ];
    let people = vec![
        person("r1", "V1", Q::RuralDoctor, "1970-01-01", true),
        person("r2", "V2", Q::RuralDoctor, "1950-01-01", true),
        person("p1", "T1", Q::Physician, "1980-01-01", true),
        person("p2", "H1", Q::Physician, "1980-01-01", true),
    ];
    Network::new(regions, facilities, people).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-3
}

#[test]
fn straight_line_reach_matches_hand_computed_times() {
    let net = instance();
    let r = reach(&net, day("2025-01-01"), &Settings::default(), &TravelModel::default());
    assert_eq!(r.len(), 4);
    let a = &r[0];
    assert_eq!(a.village.to_string(), "341122100201");
    assert!(close(a.minutes[0].unwrap(), 5.0 * MIN_PER_CENTIDEGREE), "{:?}", a.minutes);
    assert_eq!(net.facilities[a.nearest[0].unwrap() as usize].facility_id, "V1");
    assert!(close(a.minutes[1].unwrap(), 16.0 * MIN_PER_CENTIDEGREE));
    assert!(close(a.minutes[2].unwrap(), 40.0 * MIN_PER_CENTIDEGREE));
    assert!(a.in_circle());
    let b = &r[1];
    assert!(close(b.minutes[0].unwrap(), MIN_PER_CENTIDEGREE));
    // 丙's own clinic has no serving doctor: the nearest qualified clinic is V1,
    // 0.15° away, and the township centre is 17.35 minutes: outside the circle.
    let c = &r[2];
    assert!(close(c.minutes[0].unwrap(), 15.0 * MIN_PER_CENTIDEGREE));
    assert!(close(c.minutes[1].unwrap(), 6.0 * MIN_PER_CENTIDEGREE));
    assert!(!c.in_circle());
    // A faster model brings 丙 inside: 6.6717 km × 1.3 at 40 km/h = 13.01 minutes.
    let fast = reach(&net, day("2025-01-01"), &Settings::default(), &TravelModel { detour: 1.3, speed_kmh: 40.0 });
    assert!(fast[2].in_circle());
}

#[test]
fn fifteen_minute_shares_by_township_county_province() {
    let net = instance();
    let r = reach(&net, day("2025-01-01"), &Settings::default(), &TravelModel::default());
    let s = shares(&net, &r);
    let row = |level: RegionLevel, code: &str| {
        s.iter().find(|x| x.level == level && x.code.to_string() == code).unwrap().clone()
    };
    // Township 100: 甲 (1000, inside) and 乙 (500, inside).
    let t = row(RegionLevel::Township, "341122100000");
    assert_eq!((t.villages, t.population, t.within), (2, 1500, 1500));
    assert_eq!(t.name, "新安镇");
    // Township 101: 丙 (300, outside); 丁 is urban and left out.
    let t = row(RegionLevel::Township, "341122101000");
    assert_eq!((t.villages, t.population, t.within), (1, 300, 0));
    assert_eq!(t.share(), 0.0);
    let c = row(RegionLevel::County, "341122000000");
    assert_eq!((c.villages, c.population, c.within), (3, 1800, 1500));
    assert!((c.share() - 1500.0 / 1800.0).abs() < 1e-12);
    let p = row(RegionLevel::Province, "340000000000");
    assert_eq!(p.within, 1500);
    assert_eq!(s[0].level, RegionLevel::Province);
    assert_eq!(s.len(), 4);
}

#[test]
fn reach_over_a_hand_made_road_graph() {
    let net = instance();
    // A road along the meridian from 32.00 to 32.46 in steps of 0.01°, tertiary
    // (40 km/h), and a village 乙 whose road detours: none; times are exact.
    let mut b = GraphBuilder::new();
    let mut prev = None;
    for i in 0..=46 {
        let v = b.add_node(118.4, 32.0 + i as f64 * 0.01);
        if let Some(p) = prev {
            b.add_road(p, v, 1111.9508, SpeedClass::Tertiary, false);
        }
        prev = Some(v);
    }
    let g = b.build();
    let (r, settled) = reach_on_roads(&net, day("2025-01-01"), &Settings::default(), &TravelModel::default(), &g);
    assert!(settled > 0);
    // 1111.95 m at 40 km/h = 100.0756 s = 1000.76 ticks -> 1001 ticks per step.
    let step_min = 1001.0 / 10.0 / 60.0;
    // 甲 at 32.40 to V1 at 32.45: five steps; both sit on nodes (no access leg).
    assert!((r[0].minutes[0].unwrap() - 5.0 * step_min).abs() < 1e-3, "{:?}", r[0].minutes);
    // 丙 at 32.30 to T1 at 32.24: six steps.
    assert!((r[2].minutes[1].unwrap() - 6.0 * step_min).abs() < 1e-3);
    assert_eq!(net.facilities[r[2].nearest[1].unwrap() as usize].facility_id, "T1");
    // To the hospital at 32.00: forty steps from 甲.
    assert!((r[0].minutes[2].unwrap() - 40.0 * step_min).abs() < 1e-3);
}
