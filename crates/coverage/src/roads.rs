//! A road network in compact arrays and the multi-source Dijkstra that measures,
//! in one pass over the graph, how far every node is from the nearest of many
//! facilities.
//!
//! Nodes are u32 ids with f32 points; edges sit in compressed rows (`offsets`,
//! `targets`, `weights`), weights being travel times in tenths of a second, so a
//! province of tens of millions of nodes fits in a few hundred megabytes and the
//! inner loop reads memory in order.

use crate::geo::PointIndex;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Weights are travel times in this many units per second.
pub const TICKS_PER_SECOND: f64 = 10.0;
/// The distance of a node not reached.
pub const UNREACHED: u32 = u32::MAX;

/// Road classes and their assumed average speeds on rural roads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpeedClass {
    Motorway,
    Trunk,
    Primary,
    Secondary,
    Tertiary,
    Unclassified,
    Residential,
    Service,
    Track,
    Path,
}

impl SpeedClass {
    /// Average speed in km/h: posted limits on highways, much less on the
    /// unpaved and mountain roads that reach villages.
    pub fn kmh(self) -> f64 {
        match self {
            SpeedClass::Motorway => 100.0,
            SpeedClass::Trunk => 70.0,
            SpeedClass::Primary => 60.0,
            SpeedClass::Secondary => 50.0,
            SpeedClass::Tertiary => 40.0,
            SpeedClass::Unclassified => 30.0,
            SpeedClass::Residential => 20.0,
            SpeedClass::Service => 15.0,
            SpeedClass::Track => 15.0,
            SpeedClass::Path => 5.0,
        }
    }

    /// The class of an OpenStreetMap `highway=*` value; `None` for ways that are
    /// not roads one travels on (construction, proposed, platforms, ...).
    pub fn from_highway(v: &str) -> Option<SpeedClass> {
        Some(match v {
            "motorway" | "motorway_link" => SpeedClass::Motorway,
            "trunk" | "trunk_link" => SpeedClass::Trunk,
            "primary" | "primary_link" => SpeedClass::Primary,
            "secondary" | "secondary_link" => SpeedClass::Secondary,
            "tertiary" | "tertiary_link" => SpeedClass::Tertiary,
            "unclassified" | "road" => SpeedClass::Unclassified,
            "residential" | "living_street" => SpeedClass::Residential,
            "service" => SpeedClass::Service,
            "track" => SpeedClass::Track,
            "path" | "footway" | "bridleway" | "steps" | "pedestrian" | "cycleway" => SpeedClass::Path,
            _ => return None,
        })
    }

    /// Travel time in ticks over `metres` at this class's speed (at least 1, so
    /// that no edge is free).
    pub fn ticks(self, metres: f64) -> u32 {
        ticks_at(self.kmh(), metres)
    }
}

/// Travel time in ticks over `metres` at `kmh` (at least 1, so that no edge is
/// free).
pub fn ticks_at(kmh: f64, metres: f64) -> u32 {
    let s = metres / (kmh / 3.6) * TICKS_PER_SECOND;
    s.round().clamp(1.0, (u32::MAX / 4) as f64) as u32
}

/// Collects nodes and edges, then packs them into a [`Graph`].
#[derive(Debug, Default, Clone)]
pub struct GraphBuilder {
    lon: Vec<f32>,
    lat: Vec<f32>,
    edges: Vec<(u32, u32, u32)>,
}

impl GraphBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(nodes: usize, edges: usize) -> Self {
        GraphBuilder {
            lon: Vec::with_capacity(nodes),
            lat: Vec::with_capacity(nodes),
            edges: Vec::with_capacity(edges),
        }
    }

    pub fn add_node(&mut self, lon: f64, lat: f64) -> u32 {
        self.lon.push(lon as f32);
        self.lat.push(lat as f32);
        (self.lon.len() - 1) as u32
    }

    pub fn node_count(&self) -> usize {
        self.lon.len()
    }

    /// A directed edge with a travel time in ticks.
    pub fn add_arc(&mut self, from: u32, to: u32, ticks: u32) {
        debug_assert!((from as usize) < self.lon.len() && (to as usize) < self.lon.len());
        self.edges.push((from, to, ticks));
    }

    /// A road segment of `metres` of class `class`, both ways unless `oneway`.
    pub fn add_road(&mut self, a: u32, b: u32, metres: f64, class: SpeedClass, oneway: bool) {
        self.add_timed_road(a, b, class.ticks(metres), oneway);
    }

    /// A road segment that takes `t` ticks, both ways unless `oneway`.
    pub fn add_timed_road(&mut self, a: u32, b: u32, t: u32, oneway: bool) {
        self.add_arc(a, b, t);
        if !oneway {
            self.add_arc(b, a, t);
        }
    }

    /// Packs the edges into compressed rows by a counting sort on their source.
    pub fn build(self) -> Graph {
        let n = self.lon.len();
        let mut offsets = vec![0u32; n + 1];
        for &(a, _, _) in &self.edges {
            offsets[a as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let mut fill: Vec<u32> = offsets[..n].to_vec();
        let m = self.edges.len();
        let mut targets = vec![0u32; m];
        let mut weights = vec![0u32; m];
        for (a, b, w) in self.edges {
            let k = fill[a as usize] as usize;
            targets[k] = b;
            weights[k] = w;
            fill[a as usize] += 1;
        }
        Graph { lon: self.lon, lat: self.lat, offsets, targets, weights }
    }
}

/// A directed road graph in compressed rows.
#[derive(Debug, Clone)]
pub struct Graph {
    lon: Vec<f32>,
    lat: Vec<f32>,
    offsets: Vec<u32>,
    targets: Vec<u32>,
    weights: Vec<u32>,
}

/// The outcome of one multi-source Dijkstra.
#[derive(Debug, Clone)]
pub struct Distances {
    /// Ticks from the nearest source, [`UNREACHED`] where none reaches.
    pub ticks: Vec<u32>,
    /// For each node, the position in `sources` of the source it is nearest to
    /// ([`UNREACHED`] where none reaches).
    pub origin: Vec<u32>,
    /// Nodes settled (popped with their final distance).
    pub settled: usize,
}

impl Distances {
    /// Minutes to node `v`, `None` when unreached.
    pub fn minutes(&self, v: u32) -> Option<f64> {
        let t = self.ticks[v as usize];
        (t != UNREACHED).then(|| t as f64 / TICKS_PER_SECOND / 60.0)
    }
}

impl Graph {
    pub fn node_count(&self) -> usize {
        self.lon.len()
    }

    pub fn arc_count(&self) -> usize {
        self.targets.len()
    }

    pub fn point(&self, v: u32) -> (f64, f64) {
        (self.lon[v as usize] as f64, self.lat[v as usize] as f64)
    }

    /// The arcs leaving `v`, as (target, ticks).
    pub fn arcs(&self, v: u32) -> impl Iterator<Item = (u32, u32)> + '_ {
        let r = self.offsets[v as usize] as usize..self.offsets[v as usize + 1] as usize;
        self.targets[r.clone()].iter().copied().zip(self.weights[r].iter().copied())
    }

    /// Bytes held by the arrays, for reports.
    pub fn heap_bytes(&self) -> usize {
        4 * (self.lon.len() + self.lat.len() + self.offsets.len() + self.targets.len() + self.weights.len())
    }

    /// Shortest travel times from a set of sources, each with a starting time (the
    /// access leg from a facility to its snapped node), to every node: Dijkstra
    /// with a binary heap and lazy deletion, all sources seeded at once so one
    /// pass answers "how far is the nearest".
    pub fn multi_source(&self, sources: &[(u32, u32)]) -> Distances {
        let n = self.node_count();
        let mut dist = vec![UNREACHED; n];
        let mut origin = vec![UNREACHED; n];
        let mut heap: BinaryHeap<Reverse<(u32, u32)>> = BinaryHeap::with_capacity(sources.len().max(1024));
        for (i, &(v, t)) in sources.iter().enumerate() {
            if t < dist[v as usize] {
                dist[v as usize] = t;
                origin[v as usize] = i as u32;
                heap.push(Reverse((t, v)));
            }
        }
        let mut settled = 0usize;
        while let Some(Reverse((d, v))) = heap.pop() {
            if d > dist[v as usize] {
                continue;
            }
            settled += 1;
            let (a, b) = (self.offsets[v as usize] as usize, self.offsets[v as usize + 1] as usize);
            for k in a..b {
                let w = self.targets[k];
                let nd = d.saturating_add(self.weights[k]);
                if nd < dist[w as usize] {
                    dist[w as usize] = nd;
                    origin[w as usize] = origin[v as usize];
                    heap.push(Reverse((nd, w)));
                }
            }
        }
        Distances { ticks: dist, origin, settled }
    }

    /// An index of the nodes that have at least one arc, to snap points to the
    /// network (an isolated node would strand whatever snaps to it).
    pub fn snapper(&self) -> Snapper {
        let mut linked = vec![false; self.node_count()];
        for (v, l) in linked.iter_mut().enumerate() {
            *l = self.offsets[v + 1] > self.offsets[v];
        }
        for &w in &self.targets {
            linked[w as usize] = true;
        }
        let mut nodes = Vec::new();
        let mut pts = Vec::new();
        for v in 0..self.node_count() as u32 {
            if linked[v as usize] {
                nodes.push(v);
                pts.push(self.point(v));
            }
        }
        Snapper { index: PointIndex::new(pts), nodes }
    }
}

/// Finds the network node nearest a point.
#[derive(Debug, Clone)]
pub struct Snapper {
    index: PointIndex,
    nodes: Vec<u32>,
}

impl Snapper {
    /// The nearest connected node and the straight-line km to it.
    pub fn snap(&self, q: (f64, f64)) -> Option<(u32, f64)> {
        self.index.nearest(q).map(|(i, km)| (self.nodes[i as usize], km))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-made graph:
    ///
    /// ```text
    ///   0 --10-- 1 --10-- 2
    ///   |                 |
    ///   50                5
    ///   |                 |
    ///   3 ------ 40 ----- 4 --> 5 (one way, 7)      6 (isolated)
    /// ```
    fn hand() -> Graph {
        let mut b = GraphBuilder::new();
        for i in 0..7 {
            b.add_node(110.0 + i as f64 * 0.01, 30.0);
        }
        for (x, y, w) in [(0, 1, 10), (1, 2, 10), (0, 3, 50), (2, 4, 5), (3, 4, 40)] {
            b.add_arc(x, y, w);
            b.add_arc(y, x, w);
        }
        b.add_arc(4, 5, 7);
        b.build()
    }

    #[test]
    fn dijkstra_on_a_hand_made_graph() {
        let g = hand();
        assert_eq!(g.node_count(), 7);
        assert_eq!(g.arc_count(), 11);
        let d = g.multi_source(&[(0, 0)]);
        assert_eq!(&d.ticks[..6], &[0, 10, 20, 50, 25, 32]);
        assert_eq!(d.ticks[6], UNREACHED);
        assert_eq!(d.settled, 6);
        // From 5 nothing leaves: the one-way arc is not walked backwards.
        let d = g.multi_source(&[(5, 0)]);
        assert_eq!(d.settled, 1);
        assert_eq!(d.ticks[4], UNREACHED);
    }

    #[test]
    fn multi_source_takes_the_nearest_source_with_its_start_time() {
        let g = hand();
        // Source 3 starts at 0, source 2 starts 30 late (a long access leg):
        // node 0 is 50 from 3 directly and 30 + 20 through 2.
        let d = g.multi_source(&[(3, 0), (2, 30)]);
        assert_eq!(&d.ticks[..6], &[50, 40, 30, 0, 35, 42]);
        assert_eq!(&d.origin[..7], &[0, 1, 1, 0, 1, 1, UNREACHED]);
        // Without the delay node 2 wins everything near it.
        let d = g.multi_source(&[(3, 0), (2, 0)]);
        assert_eq!(&d.ticks[..6], &[20, 10, 0, 0, 5, 12]);
        assert_eq!(d.minutes(6), None);
        assert!((d.minutes(5).unwrap() - 1.2 / 60.0).abs() < 1e-12);
    }

    #[test]
    fn speeds_and_snapping() {
        // 1 km of tertiary road at 40 km/h: 90 s = 900 ticks.
        assert_eq!(SpeedClass::Tertiary.ticks(1000.0), 900);
        assert_eq!(SpeedClass::from_highway("track"), Some(SpeedClass::Track));
        assert_eq!(SpeedClass::from_highway("proposed"), None);
        let g = hand();
        let s = g.snapper();
        // The isolated node 6 is never a snap target.
        assert_eq!(s.snap((110.06, 30.0)).unwrap().0, 5);
        assert_eq!(s.snap((110.011, 30.0)).unwrap().0, 1);
    }
}
