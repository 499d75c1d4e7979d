//! Roving tours (巡诊路线): a roving doctor leaves a township centre or a
//! county, municipal or provincial hospital for a half-day, visits one or
//! several blank villages in order, and comes back within the half-day's time
//! (docs/coverage.md, "Roving tours").
//!
//! A month has [`MONTH_HALFDAYS`] working half-days (four weeks of ten). Each
//! doctor gives at most `halfdays_per_month` of them, and each toured village
//! gets `visits_per_month` visits. A tour is planned once and run
//! `visits_per_month` times on distinct half-days of its doctor, so a doctor
//! has `halfdays_per_month / visits_per_month` tours (rounded down). A tour's
//! time is the travel out, between the villages and back, plus
//! `service_minutes` in each village, at most `halfday_minutes`.
//!
//! Two objectives, in this order, each with a bound that any plan obeys:
//!
//! 1. **Population covered**, most first. Its upper bound is the optimum of a
//!    relaxation that ignores the order of the villages: villages supply
//!    `visits_per_month` visits weighted by their population, a facility's
//!    doctors take at most `halfdays_per_month × m` visits where `m` is the most
//!    villages one of its tours can hold (from the cheapest villages' service
//!    time plus their nearest-neighbour travel), and a village and a facility
//!    are linked when a round trip to it fits in a half-day. That is a
//!    transportation problem, solved exactly by the min-cost flow
//!    ([`crate::mcf`]); a plan's covered population is at most its value.
//! 2. **Travel**, least next. Its lower bound, for the villages the plan covers,
//!    is the bound the weekly plan keeps (each visit at its village's nearest
//!    facility in reach, capacities ignored) carried over to round trips: a
//!    tour travels at least twice its farthest village's trip, so at least
//!    `2 × Σ nearest / m_max` where `m_max` bounds any tour's size; and each
//!    village's two legs are each at least its nearest neighbour (a facility
//!    or another village), so at least `Σ min(nearest facility, nearest
//!    village)`. The bound is the larger of the two sums, times the runs.
//!
//! The heuristic builds tours by cheapest insertion, villages of more people
//! first, then improves them: 2-opt inside a tour, relocating a village to
//! another tour or position, inserting villages left out, and swapping a
//! left-out village for a smaller one where it fits. Every move keeps every
//! tour within its half-day and every facility within its doctors' tours.

use crate::geo::{PointIndex, TravelModel};
use crate::mcf::MinCostFlow;
use crate::network::{Network, Settings};
use crate::plan::{Action, PlanDoctor, PlanVillage, SLOTS};
use crate::CoverageError;
use chrono::NaiveDate;
use domain::FacilityKind;
use std::collections::HashMap;

/// Working half-days in a planning month: four weeks of [`SLOTS`].
pub const MONTH_HALFDAYS: u32 = 4 * SLOTS.len() as u32;

/// Slack on time comparisons, in minutes.
const EPS: f64 = 1e-6;

/// The tour planner's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TourSettings {
    /// Visits a toured village gets a month (4: weekly).
    pub visits_per_month: u32,
    /// Most half-days a doctor gives to tours a month (8).
    pub halfdays_per_month: u32,
    /// A half-day's time for one tour: travel and service (240 minutes).
    pub halfday_minutes: f64,
    /// Time spent in each village of a tour (45 minutes).
    pub service_minutes: f64,
    /// Villages of more people than this get a dispatched doctor (1,500).
    pub dispatch_population: u32,
    /// The travel model for every leg.
    pub model: TravelModel,
}

impl Default for TourSettings {
    fn default() -> Self {
        TourSettings {
            visits_per_month: 4,
            halfdays_per_month: 8,
            halfday_minutes: 240.0,
            service_minutes: 45.0,
            dispatch_population: 1500,
            model: TravelModel::default(),
        }
    }
}

impl TourSettings {
    pub fn validate(&self) -> Result<(), CoverageError> {
        if !(1..=MONTH_HALFDAYS).contains(&self.halfdays_per_month) {
            return Err(CoverageError::Setting {
                name: "halfdays_per_month",
                value: self.halfdays_per_month.to_string(),
                why: format!("a month has {MONTH_HALFDAYS} working half-days; give 1 to {MONTH_HALFDAYS}"),
            });
        }
        if !(1..=self.halfdays_per_month).contains(&self.visits_per_month) {
            return Err(CoverageError::Setting {
                name: "visits_per_month",
                value: self.visits_per_month.to_string(),
                why: format!(
                    "one doctor gives a village all its visits; give 1 to halfdays_per_month ({})",
                    self.halfdays_per_month
                ),
            });
        }
        if !(self.halfday_minutes > 0.0 && self.halfday_minutes <= 720.0) {
            return Err(CoverageError::Setting {
                name: "halfday_minutes",
                value: self.halfday_minutes.to_string(),
                why: "give above 0 and at most 720 minutes".into(),
            });
        }
        if !(self.service_minutes >= 0.0 && self.service_minutes < self.halfday_minutes) {
            return Err(CoverageError::Setting {
                name: "service_minutes",
                value: self.service_minutes.to_string(),
                why: "give 0 or more, and less than halfday_minutes".into(),
            });
        }
        self.model.validate()
    }

    /// Tours one doctor has a month.
    pub fn tours_per_doctor(&self) -> usize {
        (self.halfdays_per_month / self.visits_per_month) as usize
    }
}

/// The name of a month's half-day (`0..MONTH_HALFDAYS`): `W2 Tue PM`.
pub fn halfday_name(h: u8) -> String {
    let n = SLOTS.len() as u8;
    format!("W{} {}", h / n + 1, SLOTS[(h % n) as usize])
}

/// One doctor's tour, run on several half-days.
#[derive(Debug, Clone, PartialEq)]
pub struct Tour {
    /// Position in the doctors given to [`tours`].
    pub doctor: usize,
    /// The half-days it is run (indices of the month, see [`halfday_name`]), ascending.
    pub halfdays: Vec<u8>,
    /// Positions in the villages given, in the order visited.
    pub villages: Vec<usize>,
    /// Travel of one run: out, between the villages and back.
    pub travel_minutes: f64,
    /// Travel plus service of one run; at most the half-day.
    pub duration_minutes: f64,
}

/// What the tours give a village.
#[derive(Debug, Clone, PartialEq)]
pub struct TourVillage {
    /// Position in the villages given.
    pub village: usize,
    /// `Rove` when a tour visits it.
    pub action: Action,
    /// The tour that visits it (index into [`TourPlan::tours`]).
    pub tour: Option<usize>,
    /// Why it is dispatched or uncovered; empty when toured.
    pub reason: String,
}

/// Tours with their two objectives and bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct TourPlan {
    pub tours: Vec<Tour>,
    /// One entry per village given, in the order given.
    pub villages: Vec<TourVillage>,
    /// People of the toured villages.
    pub covered_population: u64,
    /// No plan covers more people (the relaxation's optimum, rounded down).
    pub population_bound: u64,
    /// Travel of all runs in a month, in minutes.
    pub travel_minutes: f64,
    /// No plan touring the same villages travels less in a month.
    pub travel_bound_minutes: f64,
    /// Most villages any one tour could hold (`m_max` of the travel bound).
    pub max_tour_size: usize,
}

impl TourPlan {
    /// (bound − covered) / bound; 0 when the bound is 0.
    pub fn population_gap(&self) -> f64 {
        if self.population_bound == 0 {
            0.0
        } else {
            (self.population_bound as f64 - self.covered_population as f64) / self.population_bound as f64
        }
    }

    /// (travel − bound) / bound; 0 when the bound is 0.
    pub fn travel_gap(&self) -> f64 {
        if self.travel_bound_minutes <= 0.0 {
            0.0
        } else {
            (self.travel_minutes - self.travel_bound_minutes) / self.travel_bound_minutes
        }
    }

    pub fn count(&self, a: Action) -> usize {
        self.villages.iter().filter(|v| v.action == a).count()
    }
}

/// The tour planner's inputs at `d`: the blank villages, as for the weekly
/// plan, and the serving physicians and assistant physicians of township
/// centres and of county, municipal and provincial hospitals with a location.
pub fn tour_inputs(net: &Network, d: NaiveDate, s: &Settings) -> (Vec<PlanVillage>, Vec<PlanDoctor>) {
    let kinds = [
        FacilityKind::TownshipCenter,
        FacilityKind::CountyHospital,
        FacilityKind::MunicipalHospital,
        FacilityKind::ProvincialHospital,
    ];
    crate::plan::inputs_from(net, d, s, &kinds)
}

/// The half-days of the month in the order tours take them, so that a tour's
/// runs spread over the weeks (weeks 1, 3, 2, 4 of Mon AM, then of Wed AM, …).
fn halfday_order() -> Vec<u8> {
    let n = SLOTS.len() as u8;
    let pref = [0u8, 4, 8, 3, 7, 2, 6, 1, 5, 9];
    let mut out = Vec::with_capacity(MONTH_HALFDAYS as usize);
    for &s in &pref {
        for w in [0u8, 2, 1, 3] {
            out.push(w * n + s);
        }
    }
    out
}

/// A facility's place and its doctors.
struct Site {
    point: (f64, f64),
    doctors: Vec<usize>,
    /// Tours its doctors have a month.
    slots: usize,
}

/// A tour being built: its facility and villages in order.
#[derive(Clone)]
struct Route {
    site: usize,
    seq: Vec<usize>,
    travel: f64,
}

struct Planner<'a> {
    villages: &'a [PlanVillage],
    sites: &'a [Site],
    s: &'a TourSettings,
    /// Per village: the sites whose round trip fits, with one-way minutes.
    reach: &'a [Vec<(usize, f64)>],
    routes: Vec<Route>,
    /// Per site: how many routes it has.
    used: Vec<usize>,
    /// Per village: its route, if any.
    route_of: Vec<Option<usize>>,
}

impl Planner<'_> {
    fn vp(&self, v: usize) -> (f64, f64) {
        self.villages[v].point.expect("candidates have points")
    }

    fn t(&self, a: (f64, f64), b: (f64, f64)) -> f64 {
        self.s.model.minutes(a, b)
    }

    fn travel_of(&self, site: usize, seq: &[usize]) -> f64 {
        let mut prev = self.sites[site].point;
        let mut sum = 0.0;
        for &v in seq {
            let p = self.vp(v);
            sum += self.t(prev, p);
            prev = p;
        }
        sum + self.t(prev, self.sites[site].point)
    }

    fn duration(&self, travel: f64, n: usize) -> f64 {
        travel + self.s.service_minutes * n as f64
    }

    fn reaches(&self, site: usize, v: usize) -> bool {
        self.reach[v].iter().any(|&(si, _)| si == site)
    }

    /// Cheapest feasible position for `v` in route `r`: (added travel, position).
    fn best_insert(&self, r: usize, v: usize) -> Option<(f64, usize)> {
        let route = &self.routes[r];
        if !self.reaches(route.site, v) {
            return None;
        }
        let depot = self.sites[route.site].point;
        let p = self.vp(v);
        let mut best: Option<(f64, usize)> = None;
        for pos in 0..=route.seq.len() {
            let a = if pos == 0 { depot } else { self.vp(route.seq[pos - 1]) };
            let b = if pos == route.seq.len() { depot } else { self.vp(route.seq[pos]) };
            let delta = self.t(a, p) + self.t(p, b) - self.t(a, b);
            if self.duration(route.travel + delta, route.seq.len() + 1) <= self.s.halfday_minutes + EPS
                && best.is_none_or(|(d, _)| delta < d - EPS)
            {
                best = Some((delta, pos));
            }
        }
        best
    }

    /// The cheapest place for `v`: an existing route (index, position) or a new
    /// route at a site with a tour left (`usize::MAX`, site); with the added travel.
    fn best_place(&self, v: usize) -> Option<(f64, usize, usize)> {
        let mut best: Option<(f64, usize, usize)> = None;
        for (r, route) in self.routes.iter().enumerate() {
            if route.seq.is_empty() {
                continue;
            }
            if let Some((d, pos)) = self.best_insert(r, v) {
                if best.is_none_or(|b| d < b.0 - EPS) {
                    best = Some((d, r, pos));
                }
            }
        }
        for &(si, m) in &self.reach[v] {
            if self.used[si] < self.sites[si].slots && best.is_none_or(|b| 2.0 * m < b.0 - EPS) {
                best = Some((2.0 * m, usize::MAX, si));
            }
        }
        best
    }

    fn place(&mut self, v: usize, r: usize, pos_or_site: usize) {
        let r = if r == usize::MAX {
            // Reuse an emptied route of the site if there is one.
            let site = pos_or_site;
            let reuse = self.routes.iter().position(|x| x.site == site && x.seq.is_empty());
            let r = reuse.unwrap_or_else(|| {
                self.routes.push(Route { site, seq: Vec::new(), travel: 0.0 });
                self.routes.len() - 1
            });
            self.used[site] += 1;
            self.routes[r].seq.push(v);
            r
        } else {
            if self.routes[r].seq.is_empty() {
                self.used[self.routes[r].site] += 1;
            }
            self.routes[r].seq.insert(pos_or_site, v);
            r
        };
        self.routes[r].travel = self.travel_of(self.routes[r].site, &self.routes[r].seq);
        self.route_of[v] = Some(r);
    }

    fn remove(&mut self, v: usize) {
        let r = self.route_of[v].take().expect("v is routed");
        self.routes[r].seq.retain(|&x| x != v);
        self.routes[r].travel = self.travel_of(self.routes[r].site, &self.routes[r].seq);
        if self.routes[r].seq.is_empty() {
            self.used[self.routes[r].site] -= 1;
        }
    }

    /// Inserts the villages left out, most people first, where they fit.
    fn insert_all(&mut self, order: &[usize]) -> bool {
        let mut any = false;
        for &v in order {
            if self.route_of[v].is_some() {
                continue;
            }
            if let Some((_, r, x)) = self.best_place(v) {
                self.place(v, r, x);
                any = true;
            }
        }
        any
    }

    /// 2-opt inside every route until no reversal shortens it.
    fn two_opt(&mut self) {
        for r in 0..self.routes.len() {
            let site = self.routes[r].site;
            let mut seq = self.routes[r].seq.clone();
            let mut travel = self.routes[r].travel;
            let mut improved = true;
            while improved {
                improved = false;
                for i in 0..seq.len() {
                    for j in i + 1..seq.len() {
                        let mut cand = seq.clone();
                        cand[i..=j].reverse();
                        let t = self.travel_of(site, &cand);
                        if t < travel - EPS {
                            seq = cand;
                            travel = t;
                            improved = true;
                        }
                    }
                }
            }
            self.routes[r].seq = seq;
            self.routes[r].travel = travel;
        }
    }

    /// Moves single villages to a cheaper place (another route, another
    /// position, or a new route). Returns whether any moved.
    fn relocate(&mut self) -> bool {
        let mut any = false;
        let routed: Vec<usize> = (0..self.villages.len()).filter(|&v| self.route_of[v].is_some()).collect();
        for v in routed {
            let r = self.route_of[v].expect("routed");
            let site = self.routes[r].site;
            let without: Vec<usize> = self.routes[r].seq.iter().copied().filter(|&x| x != v).collect();
            let saving = self.routes[r].travel - self.travel_of(site, &without);
            self.remove(v);
            match self.best_place(v) {
                Some((d, nr, x)) if d < saving - 1e-3 => {
                    self.place(v, nr, x);
                    any = true;
                }
                _ => {
                    // Put it back where it was, at its best position.
                    let (_, pos) = self.best_insert(r, v).expect("v fitted there before");
                    self.place(v, r, pos);
                }
            }
        }
        any
    }

    fn value(&self) -> (u64, f64) {
        let pop = self.routes.iter().flat_map(|r| r.seq.iter()).map(|&v| self.villages[v].population as u64).sum();
        (pop, self.routes.iter().map(|r| r.travel).sum())
    }

    /// Inserts the villages left out, those bringing the most people for the
    /// time they add (travel and service) first.
    fn insert_by_ratio(&mut self, candidates: &[usize]) {
        let mut left: Vec<(f64, usize)> = candidates
            .iter()
            .filter(|&&v| self.route_of[v].is_none())
            .filter_map(|&v| {
                self.best_place(v)
                    .map(|(d, _, _)| (self.villages[v].population as f64 / (d + self.s.service_minutes + 1.0), v))
            })
            .collect();
        left.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for (_, v) in left {
            if let Some((_, r, x)) = self.best_place(v) {
                self.place(v, r, x);
            }
        }
    }

    /// Ruin and recreate: take out a village and its nearest toured
    /// neighbours, insert the left-out villages the emptied facilities reach
    /// by people for the time, and keep the result only if it covers more
    /// people, or as many with less travel; at most `iterations` rounds, and
    /// none after 150 rounds without a gain. Deterministic for a seed.
    fn ruin_and_recreate(&mut self, candidates: &[usize], by_population: &[usize], iterations: usize, seed: u64) {
        let mut state = seed ^ 0x2545_F491_4F6C_DD1D;
        let mut rnd = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n.max(1) as u64) as usize
        };
        let mut best = self.value();
        let mut idle = 0;
        for _ in 0..iterations {
            if idle >= 150 {
                break;
            }
            idle += 1;
            let routed: Vec<usize> = candidates.iter().copied().filter(|&v| self.route_of[v].is_some()).collect();
            if routed.is_empty() {
                break;
            }
            let saved = (self.routes.clone(), self.used.clone(), self.route_of.clone());
            let centre = routed[rnd(routed.len())];
            let p = self.vp(centre);
            let mut near: Vec<(f64, usize)> = routed.iter().map(|&v| (self.t(p, self.vp(v)), v)).collect();
            near.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let q = 2 + rnd(5);
            let mut touched: Vec<usize> = Vec::with_capacity(q);
            for &(_, v) in near.iter().take(q) {
                touched.push(self.routes[self.route_of[v].expect("routed")].site);
                self.remove(v);
            }
            // Only villages the emptied facilities reach can take the room.
            let local: Vec<usize> = candidates
                .iter()
                .copied()
                .filter(|&v| self.route_of[v].is_none() && self.reach[v].iter().any(|x| touched.contains(&x.0)))
                .collect();
            let local_pop: Vec<usize> = by_population.iter().copied().filter(|v| local.contains(v)).collect();
            self.insert_by_ratio(&local);
            self.swap_in(&local_pop);
            self.two_opt();
            let now = self.value();
            if now.0 > best.0 || (now.0 == best.0 && now.1 < best.1 - 1e-3) {
                best = now;
                idle = 0;
            } else {
                (self.routes, self.used, self.route_of) = saved;
            }
        }
    }

    /// Swaps a left-out village for a smaller one in a route where it fits.
    fn swap_in(&mut self, order: &[usize]) -> bool {
        let mut any = false;
        for &u in order {
            if self.route_of[u].is_some() {
                continue;
            }
            let pu = self.villages[u].population;
            // (population given up, added travel, route, village out, position)
            let mut best: Option<(u32, f64, usize, usize, usize)> = None;
            for r in 0..self.routes.len() {
                let site = self.routes[r].site;
                if self.routes[r].seq.is_empty() || !self.reaches(site, u) {
                    continue;
                }
                for (k, &w) in self.routes[r].seq.iter().enumerate() {
                    let pw = self.villages[w].population;
                    if pw >= pu {
                        continue;
                    }
                    let mut seq = self.routes[r].seq.clone();
                    seq.remove(k);
                    for pos in 0..=seq.len() {
                        let mut cand = seq.clone();
                        cand.insert(pos, u);
                        let t = self.travel_of(site, &cand);
                        if self.duration(t, cand.len()) <= self.s.halfday_minutes + EPS {
                            let added = t - self.routes[r].travel;
                            if best.is_none_or(|b| pw < b.0 || (pw == b.0 && added < b.1 - EPS)) {
                                best = Some((pw, added, r, w, pos));
                            }
                        }
                    }
                }
            }
            if let Some((_, _, r, w, pos)) = best {
                self.remove(w);
                self.place(u, r, pos);
                any = true;
                // The village swapped out may fit elsewhere.
                if let Some((_, nr, x)) = self.best_place(w) {
                    self.place(w, nr, x);
                }
            }
        }
        any
    }
}

/// What both the bounds and the heuristic start from: the facilities, which
/// villages are candidates and which facilities reach each.
struct Prepared {
    sites: Vec<Site>,
    reach: Vec<Vec<(usize, f64)>>,
    candidates: Vec<usize>,
    out: Vec<TourVillage>,
}

fn prepare(villages: &[PlanVillage], doctors: &[PlanDoctor], s: &TourSettings) -> Prepared {
    let per_doctor = s.tours_per_doctor();
    let mut site_of: HashMap<&str, usize> = HashMap::new();
    let mut sites: Vec<Site> = Vec::new();
    for (i, d) in doctors.iter().enumerate() {
        let si = *site_of.entry(d.facility_id.as_str()).or_insert_with(|| {
            sites.push(Site { point: d.point, doctors: Vec::new(), slots: 0 });
            sites.len() - 1
        });
        sites[si].doctors.push(i);
        sites[si].slots += per_doctor;
    }
    let site_index = PointIndex::new(sites.iter().map(|x| x.point).collect());
    // A village is in reach of a site when the round trip and the service fit.
    let one_way = (s.halfday_minutes - s.service_minutes) / 2.0;
    let radius_km = s.model.km_for_minutes(one_way);

    let mut out: Vec<TourVillage> = (0..villages.len())
        .map(|v| TourVillage { village: v, action: Action::Uncovered, tour: None, reason: String::new() })
        .collect();
    let mut reach: Vec<Vec<(usize, f64)>> = vec![Vec::new(); villages.len()];
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
        site_index.within(p, radius_km * 1.000_001 + 1e-9, &mut found);
        let mut opts: Vec<(usize, f64)> = found
            .iter()
            .map(|&(si, _)| (si as usize, s.model.minutes(sites[si as usize].point, p)))
            .filter(|&(si, m)| 2.0 * m + s.service_minutes <= s.halfday_minutes + EPS && sites[si].slots > 0)
            .collect();
        if opts.is_empty() {
            out[v].action = Action::Dispatch;
            out[v].reason =
                format!("no roving doctor's round trip to it fits in a half-day of {} minutes", s.halfday_minutes);
            continue;
        }
        opts.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        reach[v] = opts;
        candidates.push(v);
    }
    Prepared { sites, reach, candidates, out }
}

/// The bounds of an instance, whatever plan is made for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Bounds {
    /// No plan covers more people: the relaxation's optimum, rounded down.
    pub population: u64,
    /// Most villages any one tour could hold.
    pub max_tour_size: usize,
    /// Per village: minutes to its nearest facility in reach (0 if none).
    near: Vec<f64>,
    /// Per village: minutes to its nearest neighbour, a facility in reach or
    /// another candidate village.
    neighbour: Vec<f64>,
    runs: f64,
}

impl Bounds {
    /// No plan that tours exactly these villages travels less in a month.
    ///
    /// A tour's travel is half the sum of each village's two legs plus half
    /// its two legs to the facility; each leg is at least the village's
    /// nearest-neighbour minutes, and the legs to the facility at least the
    /// nearest facility's. With at least ⌈n / m_max⌉ tours for n villages, the
    /// travel is at least Σ neighbour + the ⌈n / m_max⌉ smallest nearest
    /// facilities. It is also at least twice each tour's farthest trip, so at
    /// least 2 × Σ nearest / m_max. The bound is the larger, times the runs.
    pub fn travel(&self, toured: impl IntoIterator<Item = usize>) -> f64 {
        if self.max_tour_size == 0 {
            return 0.0;
        }
        let (mut a, mut b) = (0.0, 0.0);
        let mut nears = Vec::new();
        for v in toured {
            a += self.neighbour[v];
            b += self.near[v];
            nears.push(self.near[v]);
        }
        let tours = nears.len().div_ceil(self.max_tour_size);
        nears.sort_by(|x, y| x.total_cmp(y));
        let legs: f64 = nears[..tours].iter().sum();
        self.runs * (a + legs).max(2.0 * b / self.max_tour_size as f64)
    }
}

fn bounds_of(villages: &[PlanVillage], s: &TourSettings, pr: &Prepared) -> Bounds {
    let k = s.visits_per_month as i64;
    let candidates = &pr.candidates;
    let reach = &pr.reach;
    // Nearest neighbour of each candidate: a site in reach or another candidate.
    let cand_index = PointIndex::new(candidates.iter().map(|&v| villages[v].point.expect("candidate")).collect());
    let mut neighbour = vec![0.0f64; villages.len()];
    let mut near = vec![0.0f64; villages.len()];
    for (i, &v) in candidates.iter().enumerate() {
        let p = villages[v].point.expect("candidate");
        near[v] = reach[v][0].1;
        let other = cand_index
            .nearest_where(p, |j| j as usize != i)
            .map(|(j, _)| s.model.minutes(p, cand_index.point(j)))
            .unwrap_or(f64::INFINITY);
        neighbour[v] = near[v].min(other);
    }
    // The most villages a tour from each site can hold. A tour of n villages
    // from d spends n × service, travels at least twice its farthest village's
    // trip and at least the sum of its villages' nearest-neighbour minutes; so
    // n is possible only if n villages with a trip within (B − n × service) / 2
    // have nearest-neighbour minutes summing to at most B − n × service.
    let mut members: Vec<Vec<(f64, f64)>> = vec![Vec::new(); pr.sites.len()];
    for &v in candidates {
        for &(si, m) in &reach[v] {
            members[si].push((m, neighbour[v]));
        }
    }
    let cap_size: Vec<usize> = members
        .iter()
        .map(|c| {
            let mut best = 0;
            let mut nbs: Vec<f64> = Vec::with_capacity(c.len());
            for n in 1..=c.len() {
                let left = s.halfday_minutes - n as f64 * s.service_minutes;
                if left < -EPS {
                    break;
                }
                nbs.clear();
                nbs.extend(c.iter().filter(|x| 2.0 * x.0 <= left + EPS).map(|x| x.1));
                if nbs.len() < n {
                    break;
                }
                nbs.sort_by(|a, b| a.total_cmp(b));
                if nbs[..n].iter().sum::<f64>() <= left + EPS {
                    best = n;
                } else {
                    break;
                }
            }
            best
        })
        .collect();
    let max_tour_size = cap_size.iter().copied().max().unwrap_or(0);

    // Upper bound on population: the transportation relaxation, solved
    // exactly. A site's doctors give at most H × m_d visits a month. A tour
    // holding a village whose round trip is 2t holds at most
    // ⌊(B − 2t) / service⌋ villages, so the visits to villages allowing at
    // most j a tour are at most H × j: nested caps, a chain of nodes per site
    // (the farthest band first) that the flow passes through.
    let (src, sink) = (0, 1);
    let mut g = MinCostFlow::new(2 + candidates.len());
    let mut site_node = Vec::with_capacity(pr.sites.len());
    let mut band_node: Vec<Vec<usize>> = Vec::with_capacity(pr.sites.len());
    for (si, site) in pr.sites.iter().enumerate() {
        let h = site.doctors.len() as i64 * s.halfdays_per_month as i64;
        let node = g.add_node();
        g.add_arc(node, sink, h * cap_size[si] as i64, 0);
        // bands[j - 1] takes villages allowing at most j a tour, j < m_d.
        let bands: Vec<usize> = (1..cap_size[si]).map(|_| g.add_node()).collect();
        for (i, &b) in bands.iter().enumerate() {
            let j = i as i64 + 1;
            let next = bands.get(i + 1).copied().unwrap_or(node);
            g.add_arc(b, next, h * j, 0);
        }
        site_node.push(node);
        band_node.push(bands);
    }
    let limit = |si: usize, t: f64| -> usize {
        let m = cap_size[si];
        if s.service_minutes <= 0.0 {
            return m;
        }
        let j = ((s.halfday_minutes - 2.0 * t) / s.service_minutes + EPS).floor().max(0.0) as usize;
        j.min(m)
    };
    let mut supply = Vec::with_capacity(candidates.len());
    for (i, &v) in candidates.iter().enumerate() {
        supply.push(g.add_arc(src, 2 + i, k, -(villages[v].population as i64)));
        for &(si, t) in &reach[v] {
            let j = limit(si, t);
            if j == 0 {
                continue;
            }
            let to = if j >= cap_size[si] { site_node[si] } else { band_node[si][j - 1] };
            g.add_arc(2 + i, to, k, 0);
        }
    }
    g.solve(src, sink, i64::MAX);
    let weighted: i64 =
        candidates.iter().enumerate().map(|(i, &v)| villages[v].population as i64 * g.flow(supply[i])).sum();
    Bounds { population: (weighted / k) as u64, max_tour_size, near, neighbour, runs: k as f64 }
}

/// The bounds of an instance alone (what [`tours`] reports, without planning).
pub fn bounds(villages: &[PlanVillage], doctors: &[PlanDoctor], s: &TourSettings) -> Result<Bounds, CoverageError> {
    s.validate()?;
    let pr = prepare(villages, doctors, s);
    Ok(bounds_of(villages, s, &pr))
}

/// Plans tours for the villages. Every village comes back once, in the order
/// given; every tour fits its half-day; every doctor has at most
/// `halfdays_per_month / visits_per_month` tours.
pub fn tours(villages: &[PlanVillage], doctors: &[PlanDoctor], s: &TourSettings) -> Result<TourPlan, CoverageError> {
    s.validate()?;
    let k = s.visits_per_month as i64;
    let per_doctor = s.tours_per_doctor();
    let pr = prepare(villages, doctors, s);
    let bounds = bounds_of(villages, s, &pr);
    let Prepared { sites, reach, candidates, mut out } = pr;

    // The heuristic, from three orders of insertion: most people first; most
    // people for the time a visit costs at the least (service and nearest
    // facility); most people for the time in a cluster (service and nearest
    // neighbour). The best plan is kept: most population, then least travel.
    let n_sites = sites.len();
    let score = |v: usize, cost: f64| villages[v].population as f64 / (s.service_minutes + cost + 1.0);
    let mut orders: Vec<Vec<usize>> = Vec::new();
    for key in 0..3 {
        let mut order = candidates.clone();
        match key {
            0 => order.sort_by(|a, b| villages[*b].population.cmp(&villages[*a].population).then(a.cmp(b))),
            1 => order.sort_by(|a, b| {
                score(*b, 2.0 * bounds.near[*b]).total_cmp(&score(*a, 2.0 * bounds.near[*a])).then(a.cmp(b))
            }),
            _ => order.sort_by(|a, b| {
                score(*b, 2.0 * bounds.neighbour[*b]).total_cmp(&score(*a, 2.0 * bounds.neighbour[*a])).then(a.cmp(b))
            }),
        }
        orders.push(order);
    }
    let by_population = orders[0].clone();
    let mut best: Option<(u64, f64, Vec<Route>)> = None;
    for (key, order) in orders.iter().enumerate() {
        let mut pl = Planner {
            villages,
            sites: &sites,
            s,
            reach: &reach,
            routes: Vec::new(),
            used: vec![0; n_sites],
            route_of: vec![None; villages.len()],
        };
        pl.insert_all(order);
        for _ in 0..8 {
            pl.two_opt();
            let moved = pl.relocate();
            let added = pl.insert_all(&by_population);
            let swapped = pl.swap_in(&by_population);
            if !(moved || added || swapped) {
                break;
            }
        }
        pl.two_opt();
        // Ruin and recreate, more rounds on small instances than on large.
        let rounds = (200_000 / (candidates.len() + 1)).clamp(100, 2_000);
        pl.ruin_and_recreate(&candidates, &by_population, rounds, 7 + key as u64);
        let (pop, travel) = pl.value();
        if best.as_ref().is_none_or(|b| pop > b.0 || (pop == b.0 && travel < b.1 - EPS)) {
            best = Some((pop, travel, pl.routes));
        }
    }
    let routes = best.map(|b| b.2).unwrap_or_default();
    let duration = |r: &Route| r.travel + s.service_minutes * r.seq.len() as f64;

    // Give the routes to doctors and half-days.
    let halfdays = halfday_order();
    let mut tours_out: Vec<Tour> = Vec::new();
    let mut next_of_site = vec![0usize; n_sites];
    for route in routes.iter().filter(|r| !r.seq.is_empty()) {
        let j = next_of_site[route.site];
        next_of_site[route.site] += 1;
        let site = &sites[route.site];
        let doctor = site.doctors[j / per_doctor];
        let pattern = j % per_doctor;
        let mut hd: Vec<u8> = halfdays[pattern * k as usize..(pattern + 1) * k as usize].to_vec();
        hd.sort_unstable();
        tours_out.push(Tour {
            doctor,
            halfdays: hd,
            villages: route.seq.clone(),
            travel_minutes: route.travel,
            duration_minutes: duration(route),
        });
    }
    tours_out.sort_by(|a, b| a.doctor.cmp(&b.doctor).then(a.halfdays.cmp(&b.halfdays)));
    let (mut covered, mut travel) = (0u64, 0.0f64);
    for (ti, t) in tours_out.iter().enumerate() {
        travel += t.travel_minutes * k as f64;
        for &v in &t.villages {
            out[v].action = Action::Rove;
            out[v].tour = Some(ti);
            covered += villages[v].population as u64;
        }
    }
    for &v in &candidates {
        if out[v].action != Action::Rove {
            let n = reach[v].len();
            out[v].reason = format!(
                "the {n} facilit{} in reach ha{} no tours left that can take it",
                if n == 1 { "y" } else { "ies" },
                if n == 1 { "s" } else { "ve" }
            );
        }
    }
    let travel_bound = bounds.travel(tours_out.iter().flat_map(|t| t.villages.iter().copied()));
    Ok(TourPlan {
        tours: tours_out,
        villages: out,
        covered_population: covered,
        population_bound: bounds.population,
        travel_minutes: travel,
        travel_bound_minutes: travel_bound,
        max_tour_size: bounds.max_tour_size,
    })
}

/// A generated case where capacity binds: `villages` blank villages of 150 to
/// 1,400 people spread over a square of `side_km`, and `sites` facilities with
/// `doctors_per_site` doctors each, all from `seed` (the same seed gives the
/// same case). With few doctors and a short half-day, not every village can
/// be toured, which is what the bounds are for.
pub fn generated_case(
    seed: u64,
    villages: usize,
    sites: usize,
    doctors_per_site: usize,
    side_km: f64,
) -> (Vec<PlanVillage>, Vec<PlanDoctor>) {
    // splitmix64: small, deterministic, no dependency.
    let mut state = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut unit = move || (next() >> 11) as f64 / (1u64 << 53) as f64;
    // Around (117.0 E, 31.0 N); degrees per km there.
    let (lon0, lat0) = (117.0f64, 31.0f64);
    let dlat = 1.0 / 111.2;
    let dlon = 1.0 / (111.2 * lat0.to_radians().cos());
    let point = |u: &mut dyn FnMut() -> f64| (lon0 + u() * side_km * dlon, lat0 + u() * side_km * dlat);
    let mut vs = Vec::with_capacity(villages);
    for i in 0..villages {
        let p = point(&mut unit);
        let population = 150 + (unit() * 1250.0) as u32;
        let code = format!("341122{:03}{:03}", 101 + i / 500, 201 + i % 500);
        vs.push(PlanVillage {
            code: domain::RegionCode::parse(&code).expect("a valid village code"),
            name: format!("village {}", i + 1),
            population,
            point: Some(p),
        });
    }
    let mut ds = Vec::with_capacity(sites * doctors_per_site);
    for f in 0..sites {
        let p = point(&mut unit);
        for d in 0..doctors_per_site {
            ds.push(PlanDoctor {
                practitioner_id: format!("F{}D{}", f + 1, d + 1),
                facility_id: format!("F{}", f + 1),
                point: p,
            });
        }
    }
    (vs, ds)
}
