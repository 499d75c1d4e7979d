//! The OpenStreetMap loader on real PBF files: the `osmpbf` crate's own fixture
//! (no highway: refused), files this test encodes with highways, and unreadable
//! files.

use coverage::osm::load;
use coverage::CoverageError;
use std::path::Path;

#[test]
fn a_real_extract_without_roads_is_refused() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/test.osm.pbf");
    let e = load(&p).unwrap_err();
    assert!(matches!(e, CoverageError::Roads { .. }));
    assert!(e.to_string().contains("holds no highway"), "{e}");
}

#[test]
fn unreadable_files_are_refused_clearly() {
    let e = load(Path::new("/nonexistent/roads.osm.pbf")).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("/nonexistent/roads.osm.pbf") && msg.contains("cannot be read"), "{msg}");
    let dir = tempdir();
    let p = dir.join("garbage.osm.pbf");
    std::fs::write(&p, b"this is not a protobuf file at all, just text").unwrap();
    let msg = load(&p).unwrap_err().to_string();
    assert!(msg.contains("not a readable OpenStreetMap PBF file"), "{msg}");
}

fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("coverage-osm-{}-{:?}", std::process::id(), std::thread::current().id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

// ---- a minimal PBF writer: protobuf by hand, blobs stored raw ----

fn varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}
fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}
fn key(out: &mut Vec<u8>, field: u32, wire: u8) {
    varint(out, ((field as u64) << 3) | wire as u64);
}
fn bytes(out: &mut Vec<u8>, field: u32, b: &[u8]) {
    key(out, field, 2);
    varint(out, b.len() as u64);
    out.extend_from_slice(b);
}
fn uint(out: &mut Vec<u8>, field: u32, v: u64) {
    key(out, field, 0);
    varint(out, v);
}
fn packed(out: &mut Vec<u8>, field: u32, vals: impl IntoIterator<Item = u64>) {
    let mut b = Vec::new();
    for v in vals {
        varint(&mut b, v);
    }
    bytes(out, field, &b);
}

fn blob(out: &mut Vec<u8>, kind: &str, data: &[u8]) {
    let mut blob = Vec::new();
    bytes(&mut blob, 1, data); // raw
    uint(&mut blob, 2, data.len() as u64); // raw_size
    let mut header = Vec::new();
    bytes(&mut header, 1, kind.as_bytes());
    uint(&mut header, 3, blob.len() as u64);
    out.extend_from_slice(&(header.len() as u32).to_be_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(&blob);
}

/// A way: id, node refs, tags.
type Way<'a> = (i64, Vec<i64>, Vec<(&'a str, &'a str)>);

/// A PBF file with plain nodes (id, lon, lat) and ways (id, node refs, tags).
fn encode(nodes: &[(i64, f64, f64)], ways: &[Way]) -> Vec<u8> {
    let mut file = Vec::new();
    let mut hb = Vec::new();
    bytes(&mut hb, 4, b"OsmSchema-V0.6");
    blob(&mut file, "OSMHeader", &hb);

    let mut strings: Vec<String> = vec![String::new()];
    let mut sid = |s: &str| -> u64 {
        if let Some(i) = strings.iter().position(|x| x == s) {
            return i as u64;
        }
        strings.push(s.to_string());
        (strings.len() - 1) as u64
    };
    let mut group_nodes = Vec::new();
    for &(id, lon, lat) in nodes {
        let mut n = Vec::new();
        uint(&mut n, 1, zigzag(id));
        uint(&mut n, 8, zigzag((lat * 1e7).round() as i64));
        uint(&mut n, 9, zigzag((lon * 1e7).round() as i64));
        bytes(&mut group_nodes, 1, &n);
    }
    let mut group_ways = Vec::new();
    for (id, refs, tags) in ways {
        let mut w = Vec::new();
        uint(&mut w, 1, *id as u64);
        let keys: Vec<u64> = tags.iter().map(|t| sid(t.0)).collect();
        let vals: Vec<u64> = tags.iter().map(|t| sid(t.1)).collect();
        packed(&mut w, 2, keys);
        packed(&mut w, 3, vals);
        let mut last = 0;
        let deltas: Vec<u64> = refs
            .iter()
            .map(|&r| {
                let d = zigzag(r - last);
                last = r;
                d
            })
            .collect();
        packed(&mut w, 8, deltas);
        bytes(&mut group_ways, 3, &w);
    }
    let mut st = Vec::new();
    for s in &strings {
        bytes(&mut st, 1, s.as_bytes());
    }
    let mut block = Vec::new();
    bytes(&mut block, 1, &st);
    bytes(&mut block, 2, &group_nodes);
    bytes(&mut block, 2, &group_ways);
    blob(&mut file, "OSMData", &block);
    file
}

#[test]
fn highways_become_a_graph_with_class_speeds_and_one_ways() {
    // Nodes along the meridian 118.4 E, 0.01° apart (1111.95 m).
    let nodes: Vec<(i64, f64, f64)> = (0..6).map(|i| (100 + i, 118.4, 32.0 + i as f64 * 0.01)).collect();
    let ways = vec![
        // Tertiary (40 km/h) 100-101-102, both ways.
        (1, vec![100, 101, 102], vec![("highway", "tertiary"), ("name", "X")]),
        // A one-way primary (60 km/h) 102 -> 103.
        (2, vec![102, 103], vec![("highway", "primary"), ("oneway", "yes")]),
        // A footpath 103-104, and a reference to node 999 the file lacks.
        (3, vec![103, 104, 999], vec![("highway", "footway")]),
        // Not roads: a building and a proposed road.
        (4, vec![104, 105], vec![("building", "yes")]),
        (5, vec![104, 105], vec![("highway", "proposed")]),
    ];
    let dir = tempdir();
    let p = dir.join("roads.osm.pbf");
    std::fs::write(&p, encode(&nodes, &ways)).unwrap();
    let (g, stats) = load(&p).unwrap();
    assert_eq!(stats.ways, 3);
    assert_eq!(stats.nodes, 5, "105 is used by no highway");
    assert_eq!(stats.missing_nodes, 1);
    // 2 tertiary segments both ways + 1 one-way + 1 footway both ways.
    assert_eq!(stats.arcs, 7);
    // Node ids are numbered in OSM id order: 100 -> 0, ..., 104 -> 4.
    let d = g.multi_source(&[(0, 0)]);
    let tert = (1111.95 / (40.0 / 3.6) * 10.0_f64).round() as u32;
    let prim = (1111.95 / (60.0 / 3.6) * 10.0_f64).round() as u32;
    let foot = (1111.95 / (5.0 / 3.6) * 10.0_f64).round() as u32;
    let near = |a: u32, b: u32| a.abs_diff(b) <= 2;
    assert!(near(d.ticks[2], 2 * tert), "{:?}", d.ticks);
    assert!(near(d.ticks[3], 2 * tert + prim), "{:?}", d.ticks);
    assert!(near(d.ticks[4], 2 * tert + prim + foot), "{:?}", d.ticks);
    // Against the one-way: from 103 nothing reaches 102.
    let back = g.multi_source(&[(3, 0)]);
    assert_eq!(back.ticks[2], coverage::roads::UNREACHED);
    let (x, y) = g.point(4);
    assert!((x - 118.4).abs() < 1e-5 && (y - 32.04).abs() < 1e-5);
}
