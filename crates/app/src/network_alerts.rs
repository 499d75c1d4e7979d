//! Network alerts (docs/coverage.md, "Network alerts"): the villages and
//! township centres of a scope that are blank today, or that a change
//! recorded in the network's history makes blank within a horizon (a doctor
//! reaching the retirement age, a posting ending, a facility closing, a
//! licence lapsing), each with the first day it is blank, what makes it so,
//! and the township and county that must fill it.
//!
//! Computed from the history on each read, not kept. The blank spots of today
//! are the engine's over the whole network of today. After that a village or a
//! centre changes only on a day the history changes something of its own
//! facilities (a posting of someone who may work there starting or ending, a
//! qualification of theirs, their 60th or 65th birthday, a facility opening or
//! closing), and only its own facilities (village clinics and township
//! centres) and their staff decide whether it is blank. So on each such day within the horizon the engine's rules run over
//! the network of that day restricted to the regions touched (their facilities
//! and the staff placed there that day): a change touches only the villages it
//! concerns. A spot's first day is the first day it is blank.

use crate::access::Scope;
use crate::history::HistoryIndex;
use crate::model::{AppError, AppResult, NetworkData};
use crate::service::App;
use chrono::NaiveDate;
use coverage::network::{qualifies, retires_on, serves};
use coverage::{BlankKind, Settings};
use domain::{add_years, age_on, Facility, FacilityKind, Practitioner, RegionCode, RegionLevel};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// The longest horizon, in years.
pub const MAX_YEARS: i32 = 5;

/// A village or township centre blank today or within the horizon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkAlert {
    /// `village_no_clinic`, `village_no_doctor` or `township_no_physician`.
    pub kind: BlankKind,
    /// The village, or the centre's region.
    pub region_code: RegionCode,
    /// The village's name, or the centre's.
    pub name: String,
    /// The township and county that must fill it.
    pub township: Option<RegionCode>,
    pub county: Option<RegionCode>,
    /// The first day it is blank: today when it is blank now.
    pub from: NaiveDate,
    /// Whether it is blank today.
    pub now: bool,
    /// What makes it blank, in words: the changes of that day (or, blank
    /// today, the blank spot's detail).
    pub causes: Vec<String>,
    /// The same changes, each with what it concerns (one per cause, in order).
    pub changes: Vec<Cause>,
}

/// The kind of change that makes a village or centre blank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Change {
    /// Blank today (no change of the history named: the spot as it stands).
    BlankNow,
    /// A practitioner reaches the retirement age.
    Retirement,
    /// A posting ends.
    PostingEnd,
    /// A practitioner leaves the facility (their placement changes).
    Departure,
    /// A facility closes.
    Closure,
    /// A qualification lapses.
    LicenceLapse,
    /// Anything else (blank from a day with no change of its own found).
    Other,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::BlankNow => "blank_now",
            Change::Retirement => "retirement",
            Change::PostingEnd => "posting_end",
            Change::Departure => "departure",
            Change::Closure => "closure",
            Change::LicenceLapse => "licence_lapse",
            Change::Other => "other",
        }
    }
}

/// One change that makes a spot blank: its kind, the practitioner and the
/// facility it concerns, and the words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    pub change: Change,
    pub practitioner_id: Option<String>,
    pub facility_id: Option<String>,
    pub text: String,
}

impl Cause {
    fn new(change: Change, practitioner: Option<&str>, facility: Option<&str>, text: String) -> Cause {
        Cause { change, practitioner_id: practitioner.map(String::from), facility_id: facility.map(String::from), text }
    }
}

/// The days after `today` up to `until` on which the network of `h` may
/// change: postings starting and ending, facilities opening and closing,
/// qualifications obtained and lapsing, practitioners reaching a retirement
/// age. With `today` first.
pub fn change_days(h: &NetworkData, today: NaiveDate, until: NaiveDate, s: &Settings) -> Vec<NaiveDate> {
    let mut days = BTreeSet::new();
    let mut add = |d: Option<NaiveDate>| {
        if let Some(d) = d.filter(|d| *d > today && *d <= until) {
            days.insert(d);
        }
    };
    for p in &h.postings {
        add(p.start);
        add(p.end.and_then(|e| e.succ_opt()));
    }
    for f in &h.facilities {
        add(f.opened);
        add(f.closed);
    }
    for q in &h.qualifications {
        add(q.obtained);
        add(q.lapses);
    }
    for p in &h.practitioners {
        add(Some(retires_on(p, FacilityKind::VillageClinic, s)));
        add(Some(retires_on(p, FacilityKind::TownshipCenter, s)));
    }
    std::iter::once(today).chain(days).collect()
}

/// The network alerts of `h` from `today` to `until` (both included).
pub fn network_alerts(
    h: &NetworkData,
    today: NaiveDate,
    until: NaiveDate,
    s: &Settings,
) -> Result<Vec<NetworkAlert>, AppError> {
    let index = HistoryIndex::new(h);
    let engine = |part: &NetworkData, day: NaiveDate| {
        let net = coverage::Network::new(part.regions.clone(), part.facilities.clone(), part.practitioners.clone())
            .map_err(|e| AppError::Invalid(format!("the health network on {day}: {e}")))?;
        Ok::<_, AppError>(coverage::blank_spots(&net, day, s))
    };
    let mut out: Vec<NetworkAlert> = Vec::new();
    let mut seen: HashSet<(BlankKind, RegionCode, String)> = HashSet::new();
    // Today: the whole network.
    for spot in engine(&crate::history::snapshot(h, today), today)? {
        let detail = Cause::new(Change::BlankNow, None, None, spot.detail.clone());
        raise(&mut out, &mut seen, spot, today, today, vec![detail]);
    }

    // Where each practitioner may work (their record's facility and every
    // facility of their postings), who may work at each facility, and the
    // facilities standing in each region.
    let mut may_work: HashMap<&str, Vec<&str>> = HashMap::new();
    for p in &h.practitioners {
        let mut at: Vec<&str> = vec![p.facility_id.as_str()];
        at.extend(index.postings_of(&p.practitioner_id).iter().map(|x| x.facility_id.as_str()));
        at.sort_unstable();
        at.dedup();
        may_work.insert(p.practitioner_id.as_str(), at);
    }
    let mut staff_of: HashMap<&str, Vec<&Practitioner>> = HashMap::new();
    for p in &h.practitioners {
        for f in &may_work[p.practitioner_id.as_str()] {
            staff_of.entry(f).or_default().push(p);
        }
    }
    // Only village clinics and township centres make or fill a village's or a
    // centre's blank spot; hospitals never do (and county hospitals, with large
    // staffs, would otherwise be touched nearly every day).
    let counts = |f: &&Facility| matches!(f.kind, FacilityKind::VillageClinic | FacilityKind::TownshipCenter);
    let facility: HashMap<&str, &Facility> =
        h.facilities.iter().filter(counts).map(|f| (f.facility_id.as_str(), f)).collect();
    let mut standing: HashMap<RegionCode, Vec<&Facility>> = HashMap::new();
    for f in h.facilities.iter().filter(counts) {
        standing.entry(f.region_code).or_default().push(f);
    }
    let region: HashMap<RegionCode, &domain::Region> = h.regions.iter().map(|r| (r.code, r)).collect();

    // The facilities each later day touches.
    let mut touched: BTreeMap<NaiveDate, HashSet<&str>> = BTreeMap::new();
    let window = |d: Option<NaiveDate>| d.filter(|d| *d > today && *d <= until);
    let none: Vec<&str> = Vec::new();
    let of = |id: &str| may_work.get(id).unwrap_or(&none);
    let mut days: Vec<(Option<NaiveDate>, &[&str])> = Vec::new();
    for x in &h.postings {
        days.push((x.start, of(&x.practitioner_id)));
        days.push((x.end.and_then(|e| e.succ_opt()), of(&x.practitioner_id)));
    }
    for q in &h.qualifications {
        days.push((q.obtained, of(&q.practitioner_id)));
        days.push((q.lapses, of(&q.practitioner_id)));
    }
    for p in &h.practitioners {
        for kind in [FacilityKind::VillageClinic, FacilityKind::TownshipCenter] {
            days.push((Some(retires_on(p, kind, s)), of(&p.practitioner_id)));
        }
    }
    for (d, facilities) in days {
        if let Some(d) = window(d) {
            touched.entry(d).or_default().extend(facilities.iter().copied());
        }
    }
    for f in &h.facilities {
        for d in [f.opened, f.closed] {
            if let Some(d) = window(d) {
                touched.entry(d).or_default().insert(f.facility_id.as_str());
            }
        }
    }

    // Each day: the regions of the facilities touched, their facilities and
    // the staff placed there, the day before and the day itself.
    for (day, facilities) in touched {
        let regions: BTreeSet<RegionCode> =
            facilities.iter().filter_map(|f| facility.get(f)).map(|f| f.region_code).collect();
        let part = |d: NaiveDate| {
            let standing: Vec<&Facility> =
                regions.iter().flat_map(|r| standing.get(r).into_iter().flatten().copied()).collect();
            let open = crate::history::open_facilities(standing.iter().copied(), d);
            let here: HashSet<&str> = open.iter().map(|f| f.facility_id.as_str()).collect();
            let mut people: Vec<&Practitioner> = standing
                .iter()
                .flat_map(|f| staff_of.get(f.facility_id.as_str()).into_iter().flatten().copied())
                .collect();
            people.sort_by(|a, b| a.practitioner_id.cmp(&b.practitioner_id));
            people.dedup_by(|a, b| a.practitioner_id == b.practitioner_id);
            let practitioners = people
                .into_iter()
                .filter_map(|p| index.placed(p, d))
                .filter(|p| here.contains(p.facility_id.as_str()))
                .collect();
            NetworkData {
                regions: regions.iter().filter_map(|r| region.get(r).map(|r| (*r).clone())).collect(),
                facilities: open,
                practitioners,
                postings: vec![],
                qualifications: vec![],
            }
        };
        let now = part(day);
        let spots: Vec<coverage::BlankSpot> = engine(&now, day)?
            .into_iter()
            .filter(|b| {
                b.kind != BlankKind::CountyNoHospital && !seen.contains(&(b.kind, b.region_code, b.name.clone()))
            })
            .collect();
        if spots.is_empty() {
            continue;
        }
        let prev = part(day.pred_opt().unwrap_or(day));
        for spot in spots {
            let causes = causes(h, &prev, &now, spot.kind, spot.region_code, &spot.name, day, s);
            raise(&mut out, &mut seen, spot, day, today, causes);
        }
    }
    out.sort_by(|a, b| {
        (a.from, a.county, a.township, a.kind, a.region_code, &a.name).cmp(&(
            b.from,
            b.county,
            b.township,
            b.kind,
            b.region_code,
            &b.name,
        ))
    });
    Ok(out)
}

/// Whether a facility of this kind makes or fills a village's or a centre's
/// blank spot (hospitals never do).
fn counts_for_places(kind: FacilityKind) -> bool {
    matches!(kind, FacilityKind::VillageClinic | FacilityKind::TownshipCenter)
}

/// The places (villages and the regions of township centres) whose network
/// alerts a change of these practitioners or facilities may change, in `h`:
/// the region of each facility named, and of each village clinic or township
/// centre where one of the practitioners may work (their record's facility and
/// the facility of each of their postings). A change is seen through the
/// history before it and after it: the places of both are the places it
/// touches ([`network_alerts_at`]).
pub fn places_of(h: &NetworkData, practitioners: &[&str], facilities: &[&str]) -> BTreeSet<RegionCode> {
    let named: HashSet<&str> = facilities.iter().copied().collect();
    let people: HashSet<&str> = practitioners.iter().copied().collect();
    let mut may_work: HashSet<&str> = HashSet::new();
    for p in h.practitioners.iter().filter(|p| people.contains(p.practitioner_id.as_str())) {
        may_work.insert(p.facility_id.as_str());
    }
    for x in h.postings.iter().filter(|x| people.contains(x.practitioner_id.as_str())) {
        may_work.insert(x.facility_id.as_str());
    }
    h.facilities
        .iter()
        .filter(|f| {
            named.contains(f.facility_id.as_str())
                || (counts_for_places(f.kind) && may_work.contains(f.facility_id.as_str()))
        })
        .map(|f| f.region_code)
        .collect()
}

/// The part of `h` that the network alerts of `places` depend on: the places'
/// regions and the facilities standing in them; everyone who may work at one
/// of those facilities (by record or by a posting), with all their postings
/// and qualifications; and the other facilities where those people may work,
/// with their regions, so that a departure names where the person goes. The
/// alerts of `places` computed over this part are those of the whole `h`
/// (checked by a property test below).
pub fn around(h: &NetworkData, places: &BTreeSet<RegionCode>) -> NetworkData {
    let standing: HashSet<&str> =
        h.facilities.iter().filter(|f| places.contains(&f.region_code)).map(|f| f.facility_id.as_str()).collect();
    let mut people: HashSet<&str> = h
        .practitioners
        .iter()
        .filter(|p| standing.contains(p.facility_id.as_str()))
        .map(|p| p.practitioner_id.as_str())
        .collect();
    people.extend(
        h.postings.iter().filter(|x| standing.contains(x.facility_id.as_str())).map(|x| x.practitioner_id.as_str()),
    );
    let practitioners: Vec<Practitioner> =
        h.practitioners.iter().filter(|p| people.contains(p.practitioner_id.as_str())).cloned().collect();
    let postings: Vec<domain::Posting> =
        h.postings.iter().filter(|x| people.contains(x.practitioner_id.as_str())).cloned().collect();
    let mut wanted: HashSet<&str> = standing.clone();
    wanted.extend(practitioners.iter().map(|p| p.facility_id.as_str()));
    wanted.extend(postings.iter().map(|x| x.facility_id.as_str()));
    let facilities: Vec<Facility> =
        h.facilities.iter().filter(|f| wanted.contains(f.facility_id.as_str())).cloned().collect();
    let codes: HashSet<RegionCode> = facilities.iter().map(|f| f.region_code).chain(places.iter().copied()).collect();
    NetworkData {
        regions: h.regions.iter().filter(|r| codes.contains(&r.code)).cloned().collect(),
        facilities,
        practitioners,
        postings,
        qualifications: h
            .qualifications
            .iter()
            .filter(|q| people.contains(q.practitioner_id.as_str()))
            .cloned()
            .collect(),
    }
}

/// The network alerts of `places` only, from `today` to `until`: those of
/// [`network_alerts`] over the whole of `h` whose place is one of `places`,
/// computed over the part of `h` around them ([`around`]). With `places` the
/// places a change touches ([`places_of`], before and after the change), the
/// alerts of every other place are as they were: this is the incremental
/// recompute after one posting, qualification or facility changes.
pub fn network_alerts_at(
    h: &NetworkData,
    places: &BTreeSet<RegionCode>,
    today: NaiveDate,
    until: NaiveDate,
    s: &Settings,
) -> Result<Vec<NetworkAlert>, AppError> {
    if places.is_empty() {
        return Ok(Vec::new());
    }
    let part = around(h, places);
    let mut out = network_alerts(&part, today, until, s)?;
    out.retain(|a| places.contains(&a.region_code));
    Ok(out)
}

/// Adds the alert of a blank spot first found on `day`, once.
fn raise(
    out: &mut Vec<NetworkAlert>,
    seen: &mut HashSet<(BlankKind, RegionCode, String)>,
    spot: coverage::BlankSpot,
    day: NaiveDate,
    today: NaiveDate,
    changes: Vec<Cause>,
) {
    if spot.kind == BlankKind::CountyNoHospital || !seen.insert((spot.kind, spot.region_code, spot.name.clone())) {
        return;
    }
    out.push(NetworkAlert {
        kind: spot.kind,
        region_code: spot.region_code,
        name: spot.name,
        township: spot.region_code.ancestor(RegionLevel::Township),
        county: spot.region_code.ancestor(RegionLevel::County),
        from: day,
        now: day == today,
        causes: changes.iter().map(|c| c.text.clone()).collect(),
        changes,
    });
}

fn who(p: &Practitioner) -> String {
    if p.name.is_empty() {
        p.practitioner_id.clone()
    } else {
        format!("{} ({})", p.name, p.practitioner_id)
    }
}

/// What changed on `day` that made the spot blank: the facilities concerned
/// (a village's clinics and centres, or the centre itself) as they stood the
/// day before (`prev`) against `day` (`now`).
#[allow(clippy::too_many_arguments)]
fn causes(
    h: &NetworkData,
    prev: &NetworkData,
    now: &NetworkData,
    kind: BlankKind,
    region: RegionCode,
    name: &str,
    day: NaiveDate,
    s: &Settings,
) -> Vec<Cause> {
    let eve = day.pred_opt().unwrap_or(day);
    let concerned: Vec<&domain::Facility> = prev
        .facilities
        .iter()
        .filter(|f| f.region_code == region)
        .filter(|f| match kind {
            BlankKind::TownshipNoPhysician => f.kind == FacilityKind::TownshipCenter && f.name == name,
            _ => matches!(f.kind, FacilityKind::VillageClinic | FacilityKind::TownshipCenter),
        })
        .collect();
    let open_now: HashMap<&str, &domain::Facility> =
        now.facilities.iter().map(|f| (f.facility_id.as_str(), f)).collect();
    let place_now: HashMap<&str, &Practitioner> =
        now.practitioners.iter().map(|p| (p.practitioner_id.as_str(), p)).collect();
    let mut out = Vec::new();
    for f in &concerned {
        if !open_now.contains_key(f.facility_id.as_str()) {
            let text = format!("{} {} closes on {day}", f.facility_id, f.name);
            out.push(Cause::new(Change::Closure, None, Some(f.facility_id.as_str()), text));
            continue;
        }
        for p in prev.practitioners.iter().filter(|p| p.facility_id == f.facility_id) {
            if !(qualifies(f.kind, p.qualification) && serves(p, f.kind, eve, s)) {
                continue;
            }
            match place_now.get(p.practitioner_id.as_str()) {
                Some(q) if q.facility_id == f.facility_id => {
                    if !qualifies(f.kind, q.qualification) {
                        let text = format!("{}'s qualification {} lapses on {day}", who(p), p.qualification);
                        out.push(Cause::new(
                            Change::LicenceLapse,
                            Some(p.practitioner_id.as_str()),
                            Some(f.facility_id.as_str()),
                            text,
                        ));
                    } else if !serves(q, f.kind, day, s) {
                        let text = format!("{} turns {} on {day}", who(p), age_on(p.birth_date, day));
                        out.push(Cause::new(
                            Change::Retirement,
                            Some(p.practitioner_id.as_str()),
                            Some(f.facility_id.as_str()),
                            text,
                        ));
                    }
                }
                moved => {
                    let ended = h.postings.iter().any(|x| {
                        x.practitioner_id == p.practitioner_id && x.facility_id == f.facility_id && x.end == Some(eve)
                    });
                    let then = moved.map_or_else(
                        || "works nowhere recorded".to_string(),
                        |q| format!("works at {}", q.facility_id),
                    );
                    let (change, text) = if ended {
                        (
                            Change::PostingEnd,
                            format!("{}'s posting at {} ends on {eve}; then {then}", who(p), f.facility_id),
                        )
                    } else {
                        (Change::Departure, format!("{} leaves {} on {day}; then {then}", who(p), f.facility_id))
                    };
                    out.push(Cause::new(change, Some(p.practitioner_id.as_str()), Some(f.facility_id.as_str()), text));
                }
            }
        }
    }
    if out.is_empty() {
        out.push(Cause::new(Change::Other, None, None, format!("blank from {day}")));
    }
    out
}

impl App {
    /// The network alerts of a scope from today to `years` ahead (0 to
    /// [`MAX_YEARS`]).
    pub async fn network_alerts(
        &self,
        s: &Scope,
        today: NaiveDate,
        years: i32,
        settings: &Settings,
    ) -> AppResult<Vec<NetworkAlert>> {
        if !(0..=MAX_YEARS).contains(&years) {
            return Err(AppError::Invalid(format!("years: {years} is not 0 to {MAX_YEARS}")));
        }
        let h = self.network(s).await?;
        let until = add_years(today, years);
        let settings = *settings;
        tokio::task::spawn_blocking(move || network_alerts(&h, today, until, &settings))
            .await
            .map_err(|e| AppError::Store(format!("computing the network alerts failed: {e}")))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{Facility, Posting, PostingRole, Qualification, QualificationHeld, Region};

    fn d(s: &str) -> NaiveDate {
        domain::parse_date(s).unwrap()
    }

    fn village(n: u32) -> Region {
        Region {
            code: RegionCode::parse(&format!("341122100{n:03}")).unwrap(),
            name: format!("village {n}"),
            level: RegionLevel::Village,
            urban_rural: Some(220),
            population: Some(500),
            lon: None,
            lat: None,
        }
    }

    fn clinic(id: &str, n: u32, closed: Option<&str>) -> Facility {
        Facility {
            facility_id: id.into(),
            name: format!("clinic {id}"),
            kind: FacilityKind::VillageClinic,
            grade: None,
            region_code: RegionCode::parse(&format!("341122100{n:03}")).unwrap(),
            lon: None,
            lat: None,
            opened: None,
            closed: closed.map(d),
        }
    }

    fn doctor(id: &str, at: &str, q: Qualification, born: &str) -> Practitioner {
        Practitioner {
            practitioner_id: id.into(),
            facility_id: at.into(),
            name: String::new(),
            qualification: q,
            gp: false,
            birth_date: d(born),
            active: true,
        }
    }

    #[test]
    fn each_change_that_blanks_a_village_raises_an_alert_from_its_day() {
        let mut centre = clinic("T1", 0, None);
        centre.kind = FacilityKind::TownshipCenter;
        centre.region_code = RegionCode::parse("341122100").unwrap();
        let h = NetworkData {
            regions: std::iter::once(Region {
                code: RegionCode::parse("341122100").unwrap(),
                name: "town".into(),
                level: RegionLevel::Township,
                ..village(201)
            })
            .chain((201..=206).map(village))
            .collect(),
            facilities: vec![
                clinic("V1", 201, None),
                clinic("V2", 202, None),
                clinic("V3", 203, Some("2025-03-01")),
                clinic("V4", 204, None),
                // 205 has no clinic at all; 206's doctor stays.
                clinic("V6", 206, None),
                centre,
            ],
            practitioners: vec![
                // Turns 65 on 2025-02-01.
                doctor("r1", "V1", Qualification::RuralDoctor, "1960-02-01"),
                doctor("r2", "V2", Qualification::RuralDoctor, "1980-01-01"),
                doctor("r3", "V3", Qualification::RuralDoctor, "1980-01-01"),
                doctor("r4", "V4", Qualification::RuralDoctor, "1980-01-01"),
                doctor("r6", "V6", Qualification::RuralDoctor, "1980-01-01"),
                // The centre's physician turns 60 on 2025-09-01: beyond the horizon.
                doctor("t1", "T1", Qualification::Physician, "1965-09-01"),
            ],
            postings: vec![Posting {
                practitioner_id: "r2".into(),
                facility_id: "V2".into(),
                role: PostingRole::Posting,
                start: Some(d("2023-01-01")),
                end: Some(d("2025-04-30")),
            }],
            qualifications: vec![QualificationHeld {
                practitioner_id: "r4".into(),
                qualification: Qualification::RuralDoctor,
                obtained: None,
                lapses: Some(d("2025-05-15")),
            }],
        };
        let s = Settings::default();
        let alerts = network_alerts(&h, d("2025-01-01"), d("2025-06-30"), &s).unwrap();
        let got: Vec<(String, &str, String, bool)> =
            alerts.iter().map(|a| (a.region_code.to_string(), a.kind.as_str(), a.from.to_string(), a.now)).collect();
        assert_eq!(
            got,
            [
                ("341122100205".to_string(), "village_no_clinic", "2025-01-01".to_string(), true),
                ("341122100201".into(), "village_no_doctor", "2025-02-01".into(), false),
                ("341122100203".into(), "village_no_clinic", "2025-03-01".into(), false),
                ("341122100202".into(), "village_no_doctor", "2025-05-01".into(), false),
                ("341122100204".into(), "village_no_doctor", "2025-05-15".into(), false),
            ]
        );
        let cause = |code: &str| alerts.iter().find(|a| a.region_code.to_string() == code).unwrap().causes.join("; ");
        assert_eq!(cause("341122100201"), "r1 turns 65 on 2025-02-01");
        assert_eq!(cause("341122100203"), "V3 clinic V3 closes on 2025-03-01");
        assert_eq!(cause("341122100202"), "r2's posting at V2 ends on 2025-04-30; then works nowhere recorded");
        assert_eq!(cause("341122100204"), "r4's qualification rural_doctor lapses on 2025-05-15");
        let change = |code: &str| {
            let c = &alerts.iter().find(|a| a.region_code.to_string() == code).unwrap().changes[0];
            (c.change, c.practitioner_id.as_deref(), c.facility_id.as_deref())
        };
        assert_eq!(change("341122100201"), (Change::Retirement, Some("r1"), Some("V1")));
        assert_eq!(change("341122100203"), (Change::Closure, None, Some("V3")));
        assert_eq!(change("341122100202"), (Change::PostingEnd, Some("r2"), Some("V2")));
        assert_eq!(change("341122100204"), (Change::LicenceLapse, Some("r4"), Some("V4")));
        assert_eq!(change("341122100205").0, Change::BlankNow);
        assert!(alerts.iter().all(|a| a.township == RegionCode::parse("341122100").ok()));
        assert!(alerts.iter().all(|a| a.county == RegionCode::parse("341122").ok()));
        // A longer horizon finds the centre's physician retiring.
        let later = network_alerts(&h, d("2025-01-01"), d("2026-01-01"), &s).unwrap();
        let t = later.iter().find(|a| a.kind == BlankKind::TownshipNoPhysician).unwrap();
        assert_eq!((t.from, t.causes.join("; ")), (d("2025-09-01"), "t1 turns 60 on 2025-09-01".to_string()));
        // Today only: only what is blank today.
        assert_eq!(network_alerts(&h, d("2025-01-01"), d("2025-01-01"), &s).unwrap().len(), 1);
    }
}

#[cfg(test)]
mod incremental {
    //! The incremental recompute equals the whole one: on generated histories,
    //! after any single change (a posting recorded or ended, a qualification
    //! recorded or lapsing, a facility opening or closing), the alerts of the
    //! places the change touches, computed around them, together with the
    //! alerts of every other place as they were, are the alerts of the whole
    //! network computed again.
    use super::*;
    use chrono::Duration;
    use domain::{Posting, PostingRole, Qualification, QualificationHeld, Region};
    use proptest::prelude::*;

    const VILLAGES: u32 = 6;
    const FACILITIES: usize = 9;
    const PEOPLE: usize = 9;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 1, 1).unwrap()
    }

    fn day(offset: i64) -> NaiveDate {
        today() + Duration::days(offset)
    }

    fn village(n: u32) -> RegionCode {
        RegionCode::parse(&format!("34112210{}{:03}", n / 100, 201 + n % 100)).unwrap()
    }

    fn kind(k: u8) -> FacilityKind {
        match k % 4 {
            0 | 1 => FacilityKind::VillageClinic,
            2 => FacilityKind::TownshipCenter,
            _ => FacilityKind::CountyHospital,
        }
    }

    fn qualification(q: u8) -> Qualification {
        [
            Qualification::Physician,
            Qualification::AssistantPhysician,
            Qualification::RuralDoctor,
            Qualification::Nurse,
            Qualification::Other,
        ][q as usize % 5]
    }

    /// An optional day from -400 to +500 days of today.
    fn some_day() -> impl Strategy<Value = Option<NaiveDate>> {
        prop_oneof![1 => Just(None), 3 => (-400i64..500).prop_map(|o| Some(day(o)))]
    }

    /// Two optional days in order (a start and an end, both included).
    fn span() -> impl Strategy<Value = (Option<NaiveDate>, Option<NaiveDate>)> {
        (some_day(), some_day()).prop_map(|(a, b)| match (a, b) {
            (Some(a), Some(b)) if b < a => (Some(b), Some(a)),
            x => x,
        })
    }

    /// Opened and closed days: closed after opened.
    fn open_span() -> impl Strategy<Value = (Option<NaiveDate>, Option<NaiveDate>)> {
        span().prop_map(|(a, b)| match (a, b) {
            (Some(a), Some(b)) if b <= a => (Some(a), Some(a + Duration::days(1))),
            x => x,
        })
    }

    fn posting() -> impl Strategy<Value = Posting> {
        (0..PEOPLE, 0..FACILITIES, any::<bool>(), span()).prop_map(|(p, f, employer, (start, end))| Posting {
            practitioner_id: format!("P{p}"),
            facility_id: format!("F{f}"),
            role: if employer { PostingRole::Employer } else { PostingRole::Posting },
            start,
            end,
        })
    }

    fn held() -> impl Strategy<Value = QualificationHeld> {
        (0..PEOPLE, any::<u8>(), span()).prop_map(|(p, q, (obtained, lapses))| {
            let lapses = match (obtained, lapses) {
                (Some(a), Some(b)) if b <= a => Some(a + Duration::days(1)),
                (_, l) => l,
            };
            QualificationHeld { practitioner_id: format!("P{p}"), qualification: qualification(q), obtained, lapses }
        })
    }

    fn history() -> impl Strategy<Value = NetworkData> {
        let facilities = proptest::collection::vec((any::<u8>(), 0..VILLAGES + 1, open_span()), FACILITIES);
        let people = proptest::collection::vec((0..FACILITIES, any::<u8>(), 0i64..3000, any::<u8>()), PEOPLE);
        (facilities, people, proptest::collection::vec(posting(), 0..8), proptest::collection::vec(held(), 0..6))
            .prop_map(|(facilities, people, postings, qualifications)| {
                let township = RegionCode::parse("341122100").unwrap();
                let mut regions = vec![Region {
                    code: township,
                    name: "town".into(),
                    level: RegionLevel::Township,
                    urban_rural: None,
                    population: None,
                    lon: None,
                    lat: None,
                }];
                regions.extend((0..VILLAGES).map(|n| Region {
                    code: village(n),
                    name: format!("village {n}"),
                    level: RegionLevel::Village,
                    urban_rural: Some(if n == 5 { 111 } else { 220 }),
                    population: Some(300),
                    lon: None,
                    lat: None,
                }));
                let facilities = facilities
                    .into_iter()
                    .enumerate()
                    .map(|(i, (k, at, (opened, closed)))| Facility {
                        facility_id: format!("F{i}"),
                        name: format!("facility {i}"),
                        kind: kind(k),
                        grade: None,
                        // The last "village" is the township itself.
                        region_code: if at == VILLAGES { township } else { village(at) },
                        lon: None,
                        lat: None,
                        opened,
                        closed,
                    })
                    .collect();
                let practitioners = people
                    .into_iter()
                    .enumerate()
                    .map(|(i, (f, q, age, active))| Practitioner {
                        practitioner_id: format!("P{i}"),
                        facility_id: format!("F{f}"),
                        name: String::new(),
                        qualification: qualification(q),
                        gp: false,
                        // Born so that the 60th and 65th birthdays fall around the horizon.
                        birth_date: NaiveDate::from_ymd_opt(1958, 6, 1).unwrap() + Duration::days(age),
                        active: active % 8 != 0,
                    })
                    .collect();
                NetworkData { regions, facilities, practitioners, postings, qualifications }
            })
    }

    /// One change to a history, and what it concerns.
    #[derive(Debug, Clone)]
    enum Edit {
        AddPosting(Posting),
        EndPosting(usize, Option<NaiveDate>),
        AddQualification(QualificationHeld),
        Lapse(usize, Option<NaiveDate>),
        Facility(usize, (Option<NaiveDate>, Option<NaiveDate>)),
    }

    fn edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            posting().prop_map(Edit::AddPosting),
            (any::<usize>(), some_day()).prop_map(|(i, d)| Edit::EndPosting(i, d)),
            held().prop_map(Edit::AddQualification),
            (any::<usize>(), some_day()).prop_map(|(i, d)| Edit::Lapse(i, d)),
            (0..FACILITIES, open_span()).prop_map(|(i, d)| Edit::Facility(i, d)),
        ]
    }

    /// The history after the edit, and the practitioners and facilities it concerns.
    fn apply(h: &NetworkData, e: &Edit) -> (NetworkData, Vec<String>, Vec<String>) {
        let mut h = h.clone();
        let (who, what) = match e {
            Edit::AddPosting(p) => {
                h.postings.push(p.clone());
                (vec![p.practitioner_id.clone()], vec![])
            }
            Edit::EndPosting(i, end) if !h.postings.is_empty() => {
                let n = h.postings.len();
                let p = &mut h.postings[i % n];
                p.end = end.map(|e| p.start.map_or(e, |s| e.max(s)));
                (vec![p.practitioner_id.clone()], vec![])
            }
            Edit::AddQualification(q) => {
                h.qualifications.push(q.clone());
                (vec![q.practitioner_id.clone()], vec![])
            }
            Edit::Lapse(i, lapses) if !h.qualifications.is_empty() => {
                let n = h.qualifications.len();
                let q = &mut h.qualifications[i % n];
                q.lapses = lapses.map(|l| q.obtained.map_or(l, |o| l.max(o + Duration::days(1))));
                (vec![q.practitioner_id.clone()], vec![])
            }
            Edit::Facility(i, (opened, closed)) => {
                let f = &mut h.facilities[*i];
                f.opened = *opened;
                f.closed = *closed;
                (vec![], vec![f.facility_id.clone()])
            }
            _ => (vec![], vec![]),
        };
        (h, who, what)
    }

    fn order(mut v: Vec<NetworkAlert>) -> Vec<NetworkAlert> {
        v.sort_by(|a, b| {
            (a.from, a.county, a.township, a.kind, a.region_code, &a.name).cmp(&(
                b.from,
                b.county,
                b.township,
                b.kind,
                b.region_code,
                &b.name,
            ))
        });
        v
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn after_one_change_the_places_it_touches_recomputed_equal_the_whole(
            h in history(),
            e in edit(),
            years in 0i32..=2,
        ) {
            let s = Settings::default();
            let until = add_years(today(), years);
            let before = network_alerts(&h, today(), until, &s).unwrap();
            let (after_h, who, what) = apply(&h, &e);
            let who: Vec<&str> = who.iter().map(String::as_str).collect();
            let what: Vec<&str> = what.iter().map(String::as_str).collect();
            let mut places = places_of(&h, &who, &what);
            places.extend(places_of(&after_h, &who, &what));
            let whole = network_alerts(&after_h, today(), until, &s).unwrap();
            let mut merged: Vec<NetworkAlert> =
                before.iter().filter(|a| !places.contains(&a.region_code)).cloned().collect();
            merged.extend(network_alerts_at(&after_h, &places, today(), until, &s).unwrap());
            prop_assert_eq!(order(merged), whole.clone());
            // Only the places in reach of the change moved.
            let untouched = |v: &[NetworkAlert]| -> Vec<NetworkAlert> {
                v.iter().filter(|a| !places.contains(&a.region_code)).cloned().collect()
            };
            prop_assert_eq!(untouched(&before), untouched(&whole));
        }
    }

    #[test]
    fn a_posting_touches_the_places_of_its_practitioner_only() {
        let h = NetworkData {
            regions: vec![],
            facilities: (0..4)
                .map(|i| Facility {
                    facility_id: format!("F{i}"),
                    name: String::new(),
                    kind: if i == 3 { FacilityKind::CountyHospital } else { FacilityKind::VillageClinic },
                    grade: None,
                    region_code: village(i),
                    lon: None,
                    lat: None,
                    opened: None,
                    closed: None,
                })
                .collect(),
            practitioners: vec![Practitioner {
                practitioner_id: "P0".into(),
                facility_id: "F0".into(),
                name: String::new(),
                qualification: Qualification::RuralDoctor,
                gp: false,
                birth_date: day(-20000),
                active: true,
            }],
            postings: vec![
                Posting {
                    practitioner_id: "P0".into(),
                    facility_id: "F1".into(),
                    role: PostingRole::Posting,
                    start: None,
                    end: None,
                },
                Posting {
                    practitioner_id: "P0".into(),
                    facility_id: "F3".into(),
                    role: PostingRole::Employer,
                    start: None,
                    end: None,
                },
            ],
            qualifications: vec![],
        };
        // The record's clinic and the posting's; not the hospital, not F2.
        assert_eq!(places_of(&h, &["P0"], &[]), [village(0), village(1)].into_iter().collect());
        // A facility named: its own region, whatever its kind.
        assert_eq!(places_of(&h, &[], &["F3"]), [village(3)].into_iter().collect());
        assert!(network_alerts_at(&h, &BTreeSet::new(), today(), today(), &Settings::default()).unwrap().is_empty());
    }
}
