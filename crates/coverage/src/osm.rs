//! The road-network loader: an OpenStreetMap extract (`.osm.pbf`) into a
//! [`Graph`]. This is the one module of the crate that reads a file; everything
//! else takes plain data.
//!
//! Two streaming passes keep a province in memory: the first keeps only the ways
//! tagged `highway=*` that one travels on (their node references in one flat
//! array), the second keeps the coordinates of just the nodes those ways use.
//! Every highway node becomes a graph node; consecutive nodes of a way become an
//! edge whose time is its great-circle length at the way's class speed.

use crate::geo::haversine_km;
use crate::roads::{ticks_at, Graph, GraphBuilder, SpeedClass};
use crate::CoverageError;
use osmpbf::{Element, ElementReader};
use std::path::Path;

/// What a load found, for the command's report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OsmStats {
    pub ways: usize,
    pub nodes: usize,
    pub arcs: usize,
    /// Node references whose node the extract lacks (ways cut at its border).
    pub missing_nodes: usize,
}

/// The direction rule of a way.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Oneway {
    No,
    Forward,
    Backward,
}

fn err(path: &Path, reason: impl Into<String>) -> CoverageError {
    CoverageError::Roads { path: path.display().to_string(), reason: reason.into() }
}

/// Loads the highway network of an extract, each class at its assumed speed
/// ([`SpeedClass::kmh`]).
pub fn load(path: &Path) -> Result<(Graph, OsmStats), CoverageError> {
    load_with(path, SpeedClass::kmh)
}

/// Loads the highway network of an extract with the speed of each class given
/// by `kmh`: a uniform speed makes the graph's times distances, which is how
/// the tests compare road distances with straight lines.
pub fn load_with(path: &Path, kmh: impl Fn(SpeedClass) -> f64) -> Result<(Graph, OsmStats), CoverageError> {
    std::fs::metadata(path).map_err(|e| err(path, format!("cannot be read: {e}")))?;

    // Pass 1: highway ways.
    let mut refs: Vec<i64> = Vec::new();
    let mut ways: Vec<(usize, SpeedClass, Oneway)> = Vec::new();
    let reader = ElementReader::from_path(path).map_err(|e| err(path, format!("cannot be opened: {e}")))?;
    reader
        .for_each(|el| {
            let Element::Way(w) = el else { return };
            let mut class = None;
            let mut oneway = Oneway::No;
            let mut roundabout = false;
            for (k, v) in w.tags() {
                match k {
                    "highway" => class = SpeedClass::from_highway(v),
                    "oneway" => {
                        oneway = match v {
                            "yes" | "true" | "1" => Oneway::Forward,
                            "-1" | "reverse" => Oneway::Backward,
                            _ => Oneway::No,
                        }
                    }
                    "junction" => roundabout = v == "roundabout",
                    _ => {}
                }
            }
            let Some(class) = class else { return };
            if roundabout && oneway == Oneway::No {
                oneway = Oneway::Forward;
            }
            ways.push((refs.len(), class, oneway));
            refs.extend(w.refs());
        })
        .map_err(|e| err(path, format!("is not a readable OpenStreetMap PBF file: {e}")))?;
    if ways.is_empty() {
        return Err(err(path, "holds no highway=* way: is it an OpenStreetMap extract with roads?"));
    }

    // Pass 2: the coordinates of the nodes the highways use.
    let mut ids: Vec<i64> = refs.clone();
    ids.sort_unstable();
    ids.dedup();
    let mut lon = vec![f64::NAN; ids.len()];
    let mut lat = vec![f64::NAN; ids.len()];
    let reader = ElementReader::from_path(path).map_err(|e| err(path, format!("cannot be opened: {e}")))?;
    let mut put = |id: i64, x: f64, y: f64| {
        if let Ok(i) = ids.binary_search(&id) {
            lon[i] = x;
            lat[i] = y;
        }
    };
    reader
        .for_each(|el| match el {
            Element::Node(n) => put(n.id(), n.lon(), n.lat()),
            Element::DenseNode(n) => put(n.id(), n.lon(), n.lat()),
            _ => {}
        })
        .map_err(|e| err(path, format!("is not a readable OpenStreetMap PBF file: {e}")))?;

    // Graph nodes: the referenced nodes the extract has, numbered in id order.
    let mut node_of = vec![u32::MAX; ids.len()];
    let mut b = GraphBuilder::with_capacity(ids.len(), refs.len() * 2);
    let mut stats = OsmStats { ways: ways.len(), ..Default::default() };
    for i in 0..ids.len() {
        if lon[i].is_nan() {
            stats.missing_nodes += 1;
        } else {
            node_of[i] = b.add_node(lon[i], lat[i]);
        }
    }
    let node = |id: i64| -> Option<u32> {
        let i = ids.binary_search(&id).ok()?;
        (node_of[i] != u32::MAX).then_some(node_of[i])
    };
    for (k, &(start, class, oneway)) in ways.iter().enumerate() {
        let end = ways.get(k + 1).map(|w| w.0).unwrap_or(refs.len());
        for pair in refs[start..end].windows(2) {
            let (Some(a), Some(c)) = (node(pair[0]), node(pair[1])) else { continue };
            if a == c {
                continue;
            }
            let (pa, pc) = (b_point(&lon, &lat, &ids, pair[0]), b_point(&lon, &lat, &ids, pair[1]));
            let t = ticks_at(kmh(class), haversine_km(pa, pc) * 1000.0);
            match oneway {
                Oneway::No => b.add_timed_road(a, c, t, false),
                Oneway::Forward => b.add_timed_road(a, c, t, true),
                Oneway::Backward => b.add_timed_road(c, a, t, true),
            }
        }
    }
    let g = b.build();
    stats.nodes = g.node_count();
    stats.arcs = g.arc_count();
    if stats.arcs == 0 {
        return Err(err(path, "its highways have no two consecutive nodes with coordinates in the extract"));
    }
    Ok((g, stats))
}

fn b_point(lon: &[f64], lat: &[f64], ids: &[i64], id: i64) -> (f64, f64) {
    let i = ids.binary_search(&id).expect("checked by the caller");
    (lon[i], lat[i])
}
