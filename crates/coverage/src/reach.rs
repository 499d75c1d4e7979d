//! Reach: how long from each village to the nearest facility of each kind that has
//! a qualified doctor, and the share of the rural population inside the
//! 15-minute medical service circle (15分钟医疗服务圈) by township, county and
//! province (docs/coverage.md, "Reach").

use crate::geo::{PointIndex, TravelModel};
use crate::network::{Network, Settings};
use crate::roads::{Graph, TICKS_PER_SECOND};
use chrono::NaiveDate;
use domain::{FacilityKind, RegionCode, RegionLevel};
use std::collections::BTreeMap;

/// The kinds of qualified facility a village is measured against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReachCategory {
    /// A village clinic with a qualified village doctor serving.
    VillageClinic,
    /// A township centre with a physician or assistant physician serving.
    TownshipCenter,
    /// A county, municipal or provincial hospital with a physician serving.
    Hospital,
}

impl ReachCategory {
    pub const ALL: [ReachCategory; 3] =
        [ReachCategory::VillageClinic, ReachCategory::TownshipCenter, ReachCategory::Hospital];

    pub fn of(kind: FacilityKind) -> Option<ReachCategory> {
        match kind {
            FacilityKind::VillageClinic => Some(ReachCategory::VillageClinic),
            FacilityKind::TownshipCenter => Some(ReachCategory::TownshipCenter),
            k if k.is_hospital() => Some(ReachCategory::Hospital),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ReachCategory::VillageClinic => "village_clinic",
            ReachCategory::TownshipCenter => "township_center",
            ReachCategory::Hospital => "hospital",
        }
    }
}

/// The limit of the medical service circle, in minutes.
pub const CIRCLE_MINUTES: f64 = 15.0;

/// One village's reach, by [`ReachCategory`] (indexed as in `ALL`).
#[derive(Debug, Clone, PartialEq)]
pub struct Reach {
    pub village: RegionCode,
    pub rural: bool,
    pub population: u32,
    /// Minutes to the nearest qualified facility of each category; `None` when
    /// the village has no point or no such facility can be reached.
    pub minutes: [Option<f64>; 3],
    /// That facility's position in [`Network::facilities`].
    pub nearest: [Option<u32>; 3],
}

impl Reach {
    /// Inside the 15-minute circle: a qualified village clinic or township centre
    /// within [`CIRCLE_MINUTES`].
    pub fn in_circle(&self) -> bool {
        self.minutes[..2].iter().any(|m| m.is_some_and(|m| m <= CIRCLE_MINUTES))
    }
}

/// The facilities of each category with a qualified practitioner serving at `d`
/// and a location, as (facility position, point).
pub fn qualified_sites(net: &Network, d: NaiveDate, s: &Settings) -> [Vec<(u32, (f64, f64))>; 3] {
    let mut out: [Vec<(u32, (f64, f64))>; 3] = Default::default();
    for (f, fac) in net.facilities.iter().enumerate() {
        let Some(cat) = ReachCategory::of(fac.kind) else { continue };
        let Some(p) = net.location(f) else { continue };
        if net.has_qualified(f, d, s) {
            out[cat as usize].push((f as u32, p));
        }
    }
    out
}

fn villages(net: &Network) -> impl Iterator<Item = &domain::Region> + '_ {
    net.regions.iter().filter(|r| r.level == RegionLevel::Village)
}

/// Reach of every village (rural or not) by the straight-line travel model.
pub fn reach(net: &Network, d: NaiveDate, s: &Settings, model: &TravelModel) -> Vec<Reach> {
    let sites = qualified_sites(net, d, s);
    let indexes: Vec<(PointIndex, Vec<u32>)> = sites
        .iter()
        .map(|v| (PointIndex::new(v.iter().map(|x| x.1).collect()), v.iter().map(|x| x.0).collect()))
        .collect();
    villages(net)
        .map(|r| {
            let mut minutes = [None; 3];
            let mut nearest = [None; 3];
            if let (Some(x), Some(y)) = (r.lon, r.lat) {
                for (c, (idx, ids)) in indexes.iter().enumerate() {
                    if let Some((i, km)) = idx.nearest((x, y)) {
                        minutes[c] = Some(model.minutes_for_km(km));
                        nearest[c] = Some(ids[i as usize]);
                    }
                }
            }
            Reach { village: r.code, rural: r.is_rural(), population: r.population.unwrap_or(0), minutes, nearest }
        })
        .collect()
}

/// Reach of every village over a road network: each facility and each village
/// is snapped to its nearest road node, the legs to the road are covered by the
/// straight-line `model`, and one multi-source Dijkstra per category measures
/// the roads. Returns the reaches and the nodes settled in all passes.
pub fn reach_on_roads(
    net: &Network,
    d: NaiveDate,
    s: &Settings,
    model: &TravelModel,
    g: &Graph,
) -> (Vec<Reach>, usize) {
    let sites = qualified_sites(net, d, s);
    let snapper = g.snapper();
    let ticks_per_min = TICKS_PER_SECOND * 60.0;
    let vs: Vec<&domain::Region> = villages(net).collect();
    let village_snaps: Vec<Option<(u32, f64)>> =
        vs.iter().map(|r| Some((r.lon?, r.lat?)).and_then(|p| snapper.snap(p))).collect();
    let mut out: Vec<Reach> = vs
        .iter()
        .map(|r| Reach {
            village: r.code,
            rural: r.is_rural(),
            population: r.population.unwrap_or(0),
            minutes: [None; 3],
            nearest: [None; 3],
        })
        .collect();
    let mut settled = 0;
    for (c, list) in sites.iter().enumerate() {
        if list.is_empty() {
            continue;
        }
        // Seed each facility's node with its access time; the Dijkstra labels
        // every node with the seed it is nearest to.
        let mut seeds: Vec<(u32, u32)> = Vec::with_capacity(list.len());
        let mut seed_facility: Vec<u32> = Vec::with_capacity(list.len());
        for &(f, p) in list {
            if let Some((v, km)) = snapper.snap(p) {
                seeds.push((v, (model.minutes_for_km(km) * ticks_per_min).round() as u32));
                seed_facility.push(f);
            }
        }
        let dist = g.multi_source(&seeds);
        settled += dist.settled;
        for (i, snap) in village_snaps.iter().enumerate() {
            let Some((v, km)) = *snap else { continue };
            if let Some(m) = dist.minutes(v) {
                out[i].minutes[c] = Some(m + model.minutes_for_km(km));
                out[i].nearest[c] = Some(seed_facility[dist.origin[v as usize] as usize]);
            }
        }
    }
    (out, settled)
}

/// The 15-minute circle of one region: rural villages and population, and the
/// population inside the circle.
#[derive(Debug, Clone, PartialEq)]
pub struct CircleShare {
    pub level: RegionLevel,
    pub code: RegionCode,
    pub name: String,
    pub villages: u32,
    pub population: u64,
    pub within: u64,
}

impl CircleShare {
    /// The share of the rural population inside the circle (0 where nobody lives).
    pub fn share(&self) -> f64 {
        if self.population == 0 {
            0.0
        } else {
            self.within as f64 / self.population as f64
        }
    }
}

/// The share of the rural population inside the 15-minute circle, for every
/// township, county and province that has rural villages; sorted by level
/// (province first) then code.
pub fn shares(net: &Network, reaches: &[Reach]) -> Vec<CircleShare> {
    let mut acc: BTreeMap<(RegionLevel, RegionCode), (u32, u64, u64)> = BTreeMap::new();
    for r in reaches.iter().filter(|r| r.rural) {
        let inside = if r.in_circle() { r.population as u64 } else { 0 };
        for l in [RegionLevel::Province, RegionLevel::County, RegionLevel::Township] {
            if let Some(a) = r.village.ancestor(l) {
                let e = acc.entry((l, a)).or_default();
                e.0 += 1;
                e.1 += r.population as u64;
                e.2 += inside;
            }
        }
    }
    acc.into_iter()
        .map(|((level, code), (villages, population, within))| CircleShare {
            level,
            code,
            name: net.region(code).map(|r| r.name.clone()).unwrap_or_default(),
            villages,
            population,
            within,
        })
        .collect()
}
