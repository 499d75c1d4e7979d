//! Network alerts (docs/coverage.md, "Network alerts"): the villages and
//! township centres of a scope that are blank today, or that a change
//! recorded in the network's history makes blank within a horizon (a doctor
//! reaching the retirement age, a posting ending, a facility closing, a
//! licence lapsing), each with the first day it is blank, what makes it so,
//! and the township and county that must fill it.
//!
//! Computed from the history on each read, not kept: the network is the same
//! between two days on which nothing in the history changes, so the blank
//! spots are computed on today and on each such day within the horizon (the
//! engine's rules over [`crate::history::snapshot`]), and a spot's first day
//! is the first of those days it appears on.

use crate::access::Scope;
use crate::history::snapshot;
use crate::model::{AppError, AppResult, NetworkData};
use crate::service::App;
use chrono::NaiveDate;
use coverage::network::{qualifies, retires_on, serves};
use coverage::{BlankKind, Settings};
use domain::{age_on, add_years, FacilityKind, Practitioner, RegionCode, RegionLevel};
use std::collections::{BTreeSet, HashMap, HashSet};

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
    let mut out: Vec<NetworkAlert> = Vec::new();
    let mut seen: HashSet<(BlankKind, RegionCode, String)> = HashSet::new();
    let mut before: Option<NetworkData> = None;
    for day in change_days(h, today, until, s) {
        let snap = snapshot(h, day);
        let net = coverage::Network::new(snap.regions.clone(), snap.facilities.clone(), snap.practitioners.clone())
            .map_err(|e| AppError::Invalid(format!("the health network on {day}: {e}")))?;
        for spot in coverage::blank_spots(&net, day, s) {
            if spot.kind == BlankKind::CountyNoHospital
                || !seen.insert((spot.kind, spot.region_code, spot.name.clone()))
            {
                continue;
            }
            let causes = match &before {
                None => vec![spot.detail.clone()],
                Some(prev) => causes(h, prev, &snap, spot.kind, spot.region_code, &spot.name, day, s),
            };
            out.push(NetworkAlert {
                kind: spot.kind,
                region_code: spot.region_code,
                name: spot.name,
                township: spot.region_code.ancestor(RegionLevel::Township),
                county: spot.region_code.ancestor(RegionLevel::County),
                from: day,
                now: day == today,
                causes,
            });
        }
        before = Some(snap);
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
) -> Vec<String> {
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
            out.push(format!("{} {} closes on {day}", f.facility_id, f.name));
            continue;
        }
        for p in prev.practitioners.iter().filter(|p| p.facility_id == f.facility_id) {
            if !(qualifies(f.kind, p.qualification) && serves(p, f.kind, eve, s)) {
                continue;
            }
            match place_now.get(p.practitioner_id.as_str()) {
                Some(q) if q.facility_id == f.facility_id => {
                    if !qualifies(f.kind, q.qualification) {
                        out.push(format!("{}'s qualification {} lapses on {day}", who(p), p.qualification));
                    } else if !serves(q, f.kind, day, s) {
                        out.push(format!("{} turns {} on {day}", who(p), age_on(p.birth_date, day)));
                    }
                }
                moved => {
                    let ended = h.postings.iter().any(|x| {
                        x.practitioner_id == p.practitioner_id && x.facility_id == f.facility_id && x.end == Some(eve)
                    });
                    let then = moved.map_or_else(|| "works nowhere recorded".to_string(), |q| format!("works at {}", q.facility_id));
                    if ended {
                        out.push(format!("{}'s posting at {} ends on {eve}; then {then}", who(p), f.facility_id));
                    } else {
                        out.push(format!("{} leaves {} on {day}; then {then}", who(p), f.facility_id));
                    }
                }
            }
        }
    }
    if out.is_empty() {
        out.push(format!("blank from {day}"));
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
            regions: (201..=206).map(village).collect(),
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
        let got: Vec<(String, &str, String, bool)> = alerts
            .iter()
            .map(|a| (a.region_code.to_string(), a.kind.as_str(), a.from.to_string(), a.now))
            .collect();
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
