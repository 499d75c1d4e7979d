//! The roving (巡诊) and dispatch (派驻) plan: which doctors of the township
//! centres and county hospitals visit which blank villages, on which half-days;
//! which villages need a stationed doctor instead (docs/coverage.md, "Roving and
//! dispatch plan").
//!
//! The assignment is a transportation problem: villages demand `visits_per_week`
//! half-day visits, each facility supplies `outreach_halfdays` per serving doctor,
//! a village and a facility are linked when the one-way trip is at most
//! `max_travel_minutes`. A min-cost flow ([`crate::mcf`]) gives most population
//! first, then least travel; villages it could only partly serve are dropped and
//! the rest solved again, and dropped villages are tried back one by one (local
//! improvement). The facility's visits are then shared among its doctors, and the
//! visits are given distinct weekday half-days by colouring the edges of the
//! doctor-village multigraph (by König's theorem, ten colours always suffice when
//! no doctor and no village has more than ten visits).
//!
//! The plan reports its travel and a lower bound on the travel of any plan that
//! covers the same villages: each visit at its village's nearest feasible
//! facility, capacities ignored. The min-cost flow is exact for its villages, so
//! the gap measures what capacity costs, not what the heuristic loses.
//!
//! It also reports an upper bound on the population any plan covers by roving
//! ([`population_bound`]): the same transportation problem with the
//! all-or-nothing rule dropped, each village's visits weighted by its
//! population over `visits_per_week`. Its optimum is reached by an integral
//! flow, so the min-cost flow solves it exactly; a plan covers a village only
//! with all its visits, a feasible flow of the relaxation, so it covers no
//! more than the bound.

use crate::blank::blank_spots;
use crate::geo::TravelModel;
use crate::mcf::MinCostFlow;
use crate::network::{Network, Settings};
use crate::CoverageError;
use chrono::NaiveDate;
use domain::{FacilityKind, RegionCode};
use std::collections::HashMap;

/// The working half-days of a week, in slot order.
pub const SLOTS: [&str; 10] =
    ["Mon AM", "Mon PM", "Tue AM", "Tue PM", "Wed AM", "Wed PM", "Thu AM", "Thu PM", "Fri AM", "Fri PM"];

/// The order in which free slots are taken, so that a village's visits spread
/// over the week (Mon AM, Wed AM, Fri AM, Tue PM, ...) rather than bunch.
const SLOT_PREFERENCE: [u8; 10] = [0, 4, 8, 3, 7, 2, 6, 1, 5, 9];

/// The planner's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlanSettings {
    /// Half-day visits a blank village needs each week (2).
    pub visits_per_week: u32,
    /// Most outreach half-days a doctor gives each week (4).
    pub outreach_halfdays: u32,
    /// Longest one-way trip, in minutes (60).
    pub max_travel_minutes: f64,
    /// Villages of more people than this get a dispatched doctor (1,500).
    pub dispatch_population: u32,
    /// The travel model for the trips.
    pub model: TravelModel,
}

impl Default for PlanSettings {
    fn default() -> Self {
        PlanSettings {
            visits_per_week: 2,
            outreach_halfdays: 4,
            max_travel_minutes: 60.0,
            dispatch_population: 1500,
            model: TravelModel::default(),
        }
    }
}

impl PlanSettings {
    pub fn validate(&self) -> Result<(), CoverageError> {
        let week = SLOTS.len() as u32;
        if !(1..=week).contains(&self.visits_per_week) {
            return Err(CoverageError::Setting {
                name: "visits_per_week",
                value: self.visits_per_week.to_string(),
                why: format!("a week has {week} working half-days; give 1 to {week}"),
            });
        }
        if !(1..=week).contains(&self.outreach_halfdays) {
            return Err(CoverageError::Setting {
                name: "outreach_halfdays",
                value: self.outreach_halfdays.to_string(),
                why: format!("a week has {week} working half-days; give 1 to {week}"),
            });
        }
        if !(self.max_travel_minutes > 0.0 && self.max_travel_minutes <= 600.0) {
            return Err(CoverageError::Setting {
                name: "max_travel_minutes",
                value: self.max_travel_minutes.to_string(),
                why: "give above 0 and at most 600 minutes".into(),
            });
        }
        self.model.validate()
    }
}

/// A blank village to plan for.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanVillage {
    pub code: RegionCode,
    pub name: String,
    pub population: u32,
    pub point: Option<(f64, f64)>,
}

/// A doctor who can rove: a serving physician or assistant physician of a
/// township centre or county hospital.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanDoctor {
    pub practitioner_id: String,
    pub facility_id: String,
    pub point: (f64, f64),
}

/// What the plan proposes for a village.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Roving doctors visit.
    Rove,
    /// A doctor should be stationed there.
    Dispatch,
    /// Not covered by this plan.
    Uncovered,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Rove => "rove",
            Action::Dispatch => "dispatch",
            Action::Uncovered => "uncovered",
        }
    }
}

/// One doctor's visits to one village.
#[derive(Debug, Clone, PartialEq)]
pub struct Visit {
    /// Position in the doctors given to [`plan`].
    pub doctor: usize,
    /// Slots (indices into [`SLOTS`]), ascending.
    pub slots: Vec<u8>,
    /// One-way travel minutes.
    pub minutes: f64,
}

/// The plan for one village.
#[derive(Debug, Clone, PartialEq)]
pub struct VillagePlan {
    /// Position in the villages given to [`plan`].
    pub village: usize,
    pub action: Action,
    pub visits: Vec<Visit>,
    /// Why a village is dispatched or uncovered; empty when roving.
    pub reason: String,
}

/// A roving and dispatch plan with its figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// One entry per village given, in the order given.
    pub villages: Vec<VillagePlan>,
    /// People of the villages covered by roving doctors.
    pub covered_population: u64,
    /// No plan covers more people by roving ([`population_bound`]).
    pub population_bound: u64,
    /// One-way travel minutes of all visits in a week.
    pub total_travel_minutes: f64,
    /// No plan covering the same villages travels less than this.
    pub lower_bound_minutes: f64,
}

impl Plan {
    /// (travel - bound) / bound; 0 when both are 0.
    pub fn gap(&self) -> f64 {
        if self.lower_bound_minutes <= 0.0 {
            0.0
        } else {
            (self.total_travel_minutes - self.lower_bound_minutes) / self.lower_bound_minutes
        }
    }

    /// (bound − covered) / bound; 0 when the bound is 0.
    pub fn population_gap(&self) -> f64 {
        population_gap(self.covered_population, self.population_bound)
    }

    pub fn count(&self, a: Action) -> usize {
        self.villages.iter().filter(|v| v.action == a).count()
    }
}

/// (bound − covered) / bound; 0 when the bound is 0.
pub fn population_gap(covered: u64, bound: u64) -> f64 {
    if bound == 0 {
        0.0
    } else {
        (bound as f64 - covered as f64) / bound as f64
    }
}

/// The planner's inputs from the registry at `d`: the blank villages
/// (`village_no_clinic`, `village_no_doctor`) and the serving physicians and
/// assistant physicians of township centres and county hospitals that have a
/// location.
pub fn plan_inputs(net: &Network, d: NaiveDate, s: &Settings) -> (Vec<PlanVillage>, Vec<PlanDoctor>) {
    inputs_from(net, d, s, &[FacilityKind::TownshipCenter, FacilityKind::CountyHospital])
}

/// The blank villages at `d` and the serving physicians and assistant
/// physicians, with a location, of the facilities of the `kinds` given (the
/// weekly plan's and the tours' inputs differ only in those kinds).
pub(crate) fn inputs_from(
    net: &Network,
    d: NaiveDate,
    s: &Settings,
    kinds: &[FacilityKind],
) -> (Vec<PlanVillage>, Vec<PlanDoctor>) {
    let villages = blank_spots(net, d, s)
        .into_iter()
        .filter(|b| b.kind.is_village())
        .map(|b| {
            let r = net.region(b.region_code).expect("a blank village is a region of the table");
            PlanVillage {
                code: r.code,
                name: r.name.clone(),
                population: r.population.unwrap_or(0),
                point: r.lon.zip(r.lat),
            }
        })
        .collect();
    let mut doctors = Vec::new();
    for (f, fac) in net.facilities.iter().enumerate() {
        if !kinds.contains(&fac.kind) {
            continue;
        }
        let Some(point) = net.location(f) else { continue };
        for p in net.qualified_staff(f, d, s) {
            doctors.push(PlanDoctor {
                practitioner_id: p.practitioner_id.clone(),
                facility_id: fac.facility_id.clone(),
                point,
            });
        }
    }
    (villages, doctors)
}

/// Travel in tenths of a minute, the integer cost of the flow.
fn tenths(m: f64) -> i64 {
    (m * 10.0).round() as i64
}

/// A site doctors leave from: a facility and its doctors.
struct Site {
    point: (f64, f64),
    doctors: Vec<usize>,
}

/// Plans roving and dispatched doctors. Every village comes back once, in the
/// order given.
pub fn plan(villages: &[PlanVillage], doctors: &[PlanDoctor], s: &PlanSettings) -> Result<Plan, CoverageError> {
    s.validate()?;
    let k = s.visits_per_week as i64;
    let h = s.outreach_halfdays as i64;

    // Doctors of one facility leave from one place: plan per facility.
    let mut site_of: HashMap<&str, usize> = HashMap::new();
    let mut sites: Vec<Site> = Vec::new();
    for (i, d) in doctors.iter().enumerate() {
        let si = *site_of.entry(d.facility_id.as_str()).or_insert_with(|| {
            sites.push(Site { point: d.point, doctors: Vec::new() });
            sites.len() - 1
        });
        sites[si].doctors.push(i);
    }
    let site_index = crate::geo::PointIndex::new(sites.iter().map(|x| x.point).collect());
    let radius_km = s.model.km_for_minutes(s.max_travel_minutes);

    let mut out: Vec<VillagePlan> = (0..villages.len())
        .map(|v| VillagePlan { village: v, action: Action::Uncovered, visits: Vec::new(), reason: String::new() })
        .collect();
    // Feasible (site, minutes) per candidate village.
    let mut options: HashMap<usize, Vec<(usize, f64)>> = HashMap::new();
    let mut candidates: Vec<usize> = Vec::new();
    let mut found = Vec::new();
    for (v, vil) in villages.iter().enumerate() {
        if vil.population > s.dispatch_population {
            out[v].action = Action::Dispatch;
            out[v].reason = format!("{} people, more than {}: station a doctor", vil.population, s.dispatch_population);
            continue;
        }
        let Some(p) = vil.point else {
            out[v].reason = "the village has no location (lon, lat) in the region table".into();
            continue;
        };
        found.clear();
        site_index.within(p, radius_km, &mut found);
        let mut opts: Vec<(usize, f64)> = found
            .iter()
            .map(|&(si, km)| (si as usize, s.model.minutes_for_km(km)))
            .filter(|&(_, m)| m <= s.max_travel_minutes)
            .collect();
        if opts.is_empty() {
            out[v].action = Action::Dispatch;
            out[v].reason =
                format!("no township centre or county hospital doctor within {} minutes", s.max_travel_minutes);
            continue;
        }
        opts.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        options.insert(v, opts);
        candidates.push(v);
    }

    /// Villages served, and for each site the villages it takes with their minutes.
    type Assignment = (Vec<usize>, HashMap<usize, Vec<(usize, i64)>>);
    // Most population first, then least travel; all-or-nothing per village.
    let solve = |set: &[usize]| -> Assignment {
        let (src, sink) = (0, 1);
        let mut g = MinCostFlow::new(2 + set.len() + sites.len());
        let site_node = |si: usize| 2 + set.len() + si;
        let big: i64 = 10_000_000;
        let mut supply = Vec::with_capacity(set.len());
        let mut arcs: Vec<Vec<(usize, usize)>> = Vec::with_capacity(set.len());
        for (i, &v) in set.iter().enumerate() {
            let weight = villages[v].population as i64 + 1;
            supply.push(g.add_arc(src, 2 + i, k, -weight * big));
            arcs.push(options[&v].iter().map(|&(si, m)| (si, g.add_arc(2 + i, site_node(si), k, tenths(m)))).collect());
        }
        for (si, site) in sites.iter().enumerate() {
            g.add_arc(site_node(si), sink, h * site.doctors.len() as i64, 0);
        }
        g.solve(src, sink, i64::MAX);
        let mut short = Vec::new();
        let mut flows = HashMap::new();
        for (i, &v) in set.iter().enumerate() {
            if g.flow(supply[i]) < k {
                short.push(v);
            } else {
                flows.insert(v, arcs[i].iter().map(|&(si, a)| (si, g.flow(a))).filter(|x| x.1 > 0).collect());
            }
        }
        (short, flows)
    };

    let population_bound = relaxed_population(villages, &candidates, &options, &sites, k, h);

    let mut set = candidates.clone();
    let mut dropped: Vec<usize> = Vec::new();
    let mut flows;
    loop {
        let (short, f) = solve(&set);
        flows = f;
        if short.is_empty() {
            break;
        }
        set.retain(|v| !short.contains(v));
        dropped.extend(short);
    }
    // Local improvement: try the dropped villages back, largest first.
    dropped.sort_by(|a, b| villages[*b].population.cmp(&villages[*a].population).then(a.cmp(b)));
    for &v in dropped.iter().take(64) {
        set.push(v);
        let (short, f) = solve(&set);
        if short.is_empty() {
            flows = f;
        } else {
            set.pop();
        }
    }
    for &v in &dropped {
        if !flows.contains_key(&v) {
            let n = options[&v].len();
            out[v].reason = format!(
                "the {n} township centre{} or hospital{} within {} minutes have no outreach half-days left",
                if n == 1 { "" } else { "s" },
                if n == 1 { "" } else { "s" },
                s.max_travel_minutes
            );
        }
    }

    // Share each site's visits among its doctors, keeping a village with one
    // doctor where it fits (continuity of care).
    let mut per_site: Vec<Vec<(usize, i64)>> = vec![Vec::new(); sites.len()];
    let mut planned: Vec<usize> = flows.keys().copied().collect();
    planned.sort_unstable();
    for &v in &planned {
        for &(si, units) in &flows[&v] {
            per_site[si].push((v, units));
        }
    }
    let mut edges: Vec<(usize, usize)> = Vec::new(); // (doctor, village), one per visit
    for (si, list) in per_site.iter_mut().enumerate() {
        list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut left: Vec<i64> = vec![h; sites[si].doctors.len()];
        for &(v, units) in list.iter() {
            let mut need = units;
            while need > 0 {
                // Best fit: the doctor with the least room that takes it all,
                // else the one with the most room.
                let pick = (0..left.len())
                    .filter(|&j| left[j] >= need)
                    .min_by_key(|&j| left[j])
                    .or_else(|| (0..left.len()).filter(|&j| left[j] > 0).max_by_key(|&j| left[j]))
                    .expect("the flow respects the site's capacity");
                let take = need.min(left[pick]);
                left[pick] -= take;
                need -= take;
                for _ in 0..take {
                    edges.push((sites[si].doctors[pick], v));
                }
            }
        }
    }
    let colours = colour_edges(&edges, doctors.len(), villages.len());

    let mut visits: HashMap<(usize, usize), Vec<u8>> = HashMap::new();
    for (e, &(d, v)) in edges.iter().enumerate() {
        visits.entry((v, d)).or_default().push(colours[e]);
    }
    let mut keys: Vec<(usize, usize)> = visits.keys().copied().collect();
    keys.sort_unstable();
    let (mut covered, mut travel) = (0u64, 0f64);
    for (v, d) in keys {
        let mut slots = visits.remove(&(v, d)).expect("key from the map");
        slots.sort_unstable();
        let p = villages[v].point.expect("planned villages have points");
        let minutes = s.model.minutes(doctors[d].point, p);
        travel += minutes * slots.len() as f64;
        out[v].action = Action::Rove;
        out[v].visits.push(Visit { doctor: d, slots, minutes });
    }
    let mut bound = 0.0;
    for o in &out {
        if o.action == Action::Rove {
            covered += villages[o.village].population as u64;
            bound += options[&o.village][0].1 * k as f64;
        }
    }
    debug_assert!(covered <= population_bound, "covered {covered} above the bound {population_bound}");
    Ok(Plan {
        villages: out,
        covered_population: covered,
        population_bound,
        total_travel_minutes: travel,
        lower_bound_minutes: bound,
    })
}

/// The upper bound on the population a plan covers by roving: the most of
/// `Σ population × visits / k` over the flows that give each candidate village
/// at most `k` visits from the facilities in its reach and each facility at
/// most `h` visits per doctor (docs/coverage.md, "Roving and dispatch plan").
/// Rounded down: a plan's covered population is a whole number.
fn relaxed_population(
    villages: &[PlanVillage],
    candidates: &[usize],
    options: &HashMap<usize, Vec<(usize, f64)>>,
    sites: &[Site],
    k: i64,
    h: i64,
) -> u64 {
    let (src, sink) = (0, 1);
    let n = candidates.len();
    let mut g = MinCostFlow::new(2 + n + sites.len());
    let site_node = |si: usize| 2 + n + si;
    for (i, &v) in candidates.iter().enumerate() {
        let pop = villages[v].population as i64;
        if pop == 0 {
            continue;
        }
        g.add_arc(src, 2 + i, k, -pop);
        for &(si, _) in &options[&v] {
            g.add_arc(2 + i, site_node(si), k, 0);
        }
    }
    for (si, site) in sites.iter().enumerate() {
        g.add_arc(site_node(si), sink, h * site.doctors.len() as i64, 0);
    }
    let (_, cost) = g.solve(src, sink, i64::MAX);
    ((-cost).max(0) / k) as u64
}

/// Gives each edge of a bipartite multigraph (doctor, village) a slot so that no
/// doctor and no village has two edges in one slot: the alternating-path
/// (Kempe chain) edge colouring, which needs no more colours than the largest
/// degree. Degrees are at most [`SLOTS`]`.len()` by the settings' validation.
fn colour_edges(edges: &[(usize, usize)], doctors: usize, villages: usize) -> Vec<u8> {
    const C: usize = SLOTS.len();
    const NONE: u32 = u32::MAX;
    // at[node][colour] = edge; doctors first, then villages.
    let mut at = vec![[NONE; C]; doctors + villages];
    let mut colour = vec![0u8; edges.len()];
    let ends = |e: usize| (edges[e].0, doctors + edges[e].1);
    let free = |at: &Vec<[u32; C]>, n: usize| SLOT_PREFERENCE.iter().map(|&c| c as usize).find(|&c| at[n][c] == NONE);
    for e in 0..edges.len() {
        let (u, w) = ends(e);
        let a = free(&at, u).expect("doctor degree within the week");
        let b = free(&at, w).expect("village degree within the week");
        let c = if at[w][a] == NONE {
            a
        } else if at[u][b] == NONE {
            b
        } else {
            // Swap a and b along the path from w that alternates a, b, a, ...;
            // it cannot reach u (bipartite parity), and frees a at w.
            let mut path = Vec::new();
            let (mut node, mut col) = (w, a);
            while at[node][col] != NONE {
                let f = at[node][col] as usize;
                path.push(f);
                let (x, y) = ends(f);
                node = if x == node { y } else { x };
                col = if col == a { b } else { a };
            }
            for &f in &path {
                let (x, y) = ends(f);
                let old = colour[f] as usize;
                at[x][old] = NONE;
                at[y][old] = NONE;
            }
            for &f in &path {
                let (x, y) = ends(f);
                let new = if colour[f] as usize == a { b } else { a };
                colour[f] = new as u8;
                at[x][new] = f as u32;
                at[y][new] = f as u32;
            }
            a
        };
        colour[e] = c as u8;
        at[u][c] = e as u32;
        at[w][c] = e as u32;
    }
    colour
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_colouring_is_proper_on_a_dense_multigraph() {
        // 6 doctors x 4 villages, every doctor 4 visits, every village 6.
        let mut edges = Vec::new();
        for d in 0..6 {
            for v in 0..4 {
                edges.push((d, v));
            }
        }
        let c = colour_edges(&edges, 6, 4);
        for (i, &(d1, v1)) in edges.iter().enumerate() {
            for (j, &(d2, v2)) in edges.iter().enumerate() {
                if i < j && (d1 == d2 || v1 == v2) {
                    assert_ne!(c[i], c[j], "edges {i} and {j} share a slot");
                }
            }
        }
    }
}
