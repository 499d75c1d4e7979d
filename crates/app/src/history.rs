//! The history of the rural health network (docs/coverage.md, "History") and
//! coverage at any date.
//!
//! The coverage engine knows one network: who works where, qualified as what.
//! This module builds that network as it stood on a day from the store's
//! history ([`snapshot`]): the facilities open on the day, each practitioner
//! at the facility where they worked that day (their posting, else their
//! employer) with the best qualification they held that day. Blank spots,
//! reach and the roving plan of a day are the engine's over that snapshot;
//! the projection at +1, +3 and +5 years is the engine's over the snapshot of
//! each of those days ([`project`]), so that postings ending, facilities
//! closing and licences lapsing count where they fall. "Now" is today.
//!
//! The records of before the history: a practitioner with no posting recorded
//! works at the facility of their record, from an unknown day, with no end; one
//! with no qualification recorded holds the qualification of their record from
//! an unknown day, never lapsing. Once a posting (or a qualification) is
//! recorded for someone, their recorded history is the whole of it.

use crate::access::Scope;
use crate::model::{AppError, AppResult, NetworkData};
use crate::service::{scope, App};
use chrono::NaiveDate;
use coverage::{BlankSpot, Settings};
use domain::{
    add_years, history::qualification_rank, Facility, Posting, PostingRole, Practitioner, Qualification,
    QualificationHeld,
};
use std::collections::{HashMap, HashSet};
use store::{HistoryWrites, StoredPosting, StoredQualification};

/// Today, the day "now" means (the calendar day in UTC, as the other pages count it).
pub fn today() -> NaiveDate {
    domain::time::china_today()
}

/// Where a practitioner works on `d`, given the postings recorded for them
/// (of any role; others' are ignored): the facility of the posting of role
/// `posting` that covers `d`, else of the one of role `employer`; with no
/// posting recorded at all, the facility of their record. `None`: nowhere.
pub fn workplace<'a>(p: &'a Practitioner, postings: &[&'a Posting], d: NaiveDate) -> Option<&'a str> {
    let mine: Vec<&&Posting> = postings.iter().filter(|x| x.practitioner_id == p.practitioner_id).collect();
    if mine.is_empty() {
        return Some(&p.facility_id);
    }
    // Postings of one role never share a day (the store refuses it); were two to,
    // the later start wins, then the facility id, so the answer is still one.
    let on = |role: PostingRole| {
        mine.iter()
            .filter(|x| x.role == role && x.covers(d))
            .max_by(|a, b| (a.start, &a.facility_id).cmp(&(b.start, &b.facility_id)))
            .map(|x| x.facility_id.as_str())
    };
    on(PostingRole::Posting).or_else(|| on(PostingRole::Employer))
}

/// What a practitioner is qualified as on `d`, given the qualifications
/// recorded for them: the best one held that day ([`qualification_rank`]),
/// `other` when none is; with none recorded at all, their record's.
pub fn qualification_on(p: &Practitioner, held: &[&QualificationHeld], d: NaiveDate) -> Qualification {
    let mine: Vec<&&QualificationHeld> = held.iter().filter(|q| q.practitioner_id == p.practitioner_id).collect();
    if mine.is_empty() {
        return p.qualification;
    }
    mine.iter()
        .filter(|q| q.holds(d))
        .map(|q| q.qualification)
        .max_by_key(|q| qualification_rank(*q))
        .unwrap_or(Qualification::Other)
}

/// The history indexed by practitioner, to place practitioners on any day.
pub struct HistoryIndex<'a> {
    postings: HashMap<&'a str, Vec<&'a Posting>>,
    held: HashMap<&'a str, Vec<&'a QualificationHeld>>,
}

impl<'a> HistoryIndex<'a> {
    pub fn new(h: &'a NetworkData) -> HistoryIndex<'a> {
        let mut postings: HashMap<&str, Vec<&Posting>> = HashMap::new();
        for x in &h.postings {
            postings.entry(x.practitioner_id.as_str()).or_default().push(x);
        }
        let mut held: HashMap<&str, Vec<&QualificationHeld>> = HashMap::new();
        for q in &h.qualifications {
            held.entry(q.practitioner_id.as_str()).or_default().push(q);
        }
        HistoryIndex { postings, held }
    }

    /// The postings recorded for a practitioner.
    pub fn postings_of(&self, id: &str) -> &[&'a Posting] {
        self.postings.get(id).map_or(&[][..], Vec::as_slice)
    }

    /// The qualifications recorded for a practitioner.
    pub fn held_of(&self, id: &str) -> &[&'a QualificationHeld] {
        self.held.get(id).map_or(&[][..], Vec::as_slice)
    }

    /// The practitioner as they stood on `d`: at the facility where they
    /// worked that day, with the qualification they held; `None` when they
    /// worked nowhere (open or not: the caller keeps the open facilities).
    pub fn placed(&self, p: &Practitioner, d: NaiveDate) -> Option<Practitioner> {
        let id = p.practitioner_id.as_str();
        let at = workplace(p, self.postings_of(id), d)?;
        let qualification = qualification_on(p, self.held_of(id), d);
        Some(Practitioner { facility_id: at.to_string(), qualification, ..p.clone() })
    }
}

/// The facilities of `h` open on `d`, without days of their own (a snapshot has
/// no history).
pub fn open_facilities<'a>(facilities: impl Iterator<Item = &'a Facility>, d: NaiveDate) -> Vec<Facility> {
    facilities.filter(|f| f.open_on(d)).map(|f| Facility { opened: None, closed: None, ..f.clone() }).collect()
}

/// The network as it stood on `d`, without history: the facilities open on
/// `d`, and each practitioner who worked that day at one of them, placed there
/// with the qualification they held that day. A snapshot's snapshot is itself.
pub fn snapshot(h: &NetworkData, d: NaiveDate) -> NetworkData {
    let facilities = open_facilities(h.facilities.iter(), d);
    let open: HashSet<&str> = facilities.iter().map(|f| f.facility_id.as_str()).collect();
    let index = HistoryIndex::new(h);
    let practitioners = h
        .practitioners
        .iter()
        .filter_map(|p| index.placed(p, d))
        .filter(|p| open.contains(p.facility_id.as_str()))
        .collect();
    NetworkData { regions: h.regions.clone(), facilities, practitioners, postings: vec![], qualifications: vec![] }
}

/// The coverage engine's network of the snapshot on `d`.
pub fn network_on(h: &NetworkData, d: NaiveDate) -> Result<coverage::Network, AppError> {
    let s = snapshot(h, d);
    coverage::Network::new(s.regions, s.facilities, s.practitioners)
        .map_err(|e| AppError::Invalid(format!("the health network on {d}: {e}")))
}

/// The blank spots on `d` and at each later horizon (`coverage::HORIZONS`),
/// each over the network as the history has it on that day, everyone older by
/// the years passed. Sorted as the coverage file lists them.
pub fn project(h: &NetworkData, d: NaiveDate, s: &Settings) -> Result<Vec<BlankSpot>, AppError> {
    let mut v = Vec::new();
    for y in coverage::HORIZONS {
        let net = network_on(h, add_years(d, y))?;
        v.extend(coverage::blank_spots_in(&net, d, y, s));
    }
    coverage::blank::sort(&mut v);
    Ok(v)
}

/// The coverage of a scope on a day.
pub struct CoverageOn {
    pub as_of: NaiveDate,
    /// The network as it stood on `as_of` (for reach, the map and the plan).
    pub network: coverage::Network,
    /// The blank spots on `as_of` and at each horizon, from the history.
    pub spots: Vec<BlankSpot>,
}

impl CoverageOn {
    /// The villages blank on `as_of` (no clinic, or no qualified doctor serving).
    pub fn blank_villages_now(&self) -> usize {
        self.spots.iter().filter(|b| b.in_years == 0 && b.kind.is_village()).count()
    }
}

/// A practitioner with their history, as their page shows it.
#[derive(Debug, Clone)]
pub struct PractitionerHistory {
    pub practitioner: Practitioner,
    /// The postings recorded; none: they work at their record's facility.
    pub postings: Vec<StoredPosting>,
    /// The qualifications recorded; none: they hold their record's.
    pub qualifications: Vec<StoredQualification>,
}

impl PractitionerHistory {
    /// Where they work on `d` (see [`workplace`]).
    pub fn workplace_on(&self, d: NaiveDate) -> Option<&str> {
        let p: Vec<&Posting> = self.postings.iter().map(|s| &s.posting).collect();
        workplace(&self.practitioner, &p, d)
    }

    /// What they are qualified as on `d` (see [`qualification_on`]).
    pub fn qualification_on(&self, d: NaiveDate) -> Qualification {
        let q: Vec<&QualificationHeld> = self.qualifications.iter().map(|s| &s.held).collect();
        qualification_on(&self.practitioner, &q, d)
    }
}

impl App {
    /// The health network of a scope with its history: the regions and
    /// facilities inside it, the practitioners whose record or posting lies
    /// inside it, and their postings and qualifications.
    pub async fn network(&self, s: &Scope) -> AppResult<NetworkData> {
        let n = self.store().network_history(&scope(s)?).await?;
        Ok(NetworkData {
            regions: n.regions,
            facilities: n.facilities,
            practitioners: n.practitioners,
            postings: n.postings,
            qualifications: n.qualifications,
        })
    }

    /// The network of a scope as it stood on `d` ([`snapshot`]).
    pub async fn network_on(&self, s: &Scope, d: NaiveDate) -> AppResult<NetworkData> {
        Ok(snapshot(&self.network(s).await?, d))
    }

    /// The coverage of a scope on `as_of`: the network that day, the blank spots
    /// then and at each horizon.
    pub async fn coverage_on(&self, s: &Scope, as_of: NaiveDate, settings: &Settings) -> AppResult<CoverageOn> {
        let h = self.network(s).await?;
        let settings = *settings;
        tokio::task::spawn_blocking(move || {
            let spots = project(&h, as_of, &settings)?;
            let network = network_on(&h, as_of)?;
            Ok(CoverageOn { as_of, network, spots })
        })
        .await
        .map_err(|e| AppError::Store(format!("computing the coverage failed: {e}")))?
    }

    /// A practitioner with their postings and qualifications; one outside the
    /// scope (neither their record nor a posting inside it) is not found.
    pub async fn practitioner_history(&self, s: &Scope, id: &str) -> AppResult<PractitionerHistory> {
        let practitioner = self
            .store()
            .practitioner_in_scope(&scope(s)?, id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("practitioner {id} is not in your scope")))?;
        let postings = self.store().postings_of(id).await?;
        let qualifications = self.store().qualifications_of(id).await?;
        Ok(PractitionerHistory { practitioner, postings, qualifications })
    }

    /// Records postings (each labelled for its refusal: a file's line, a
    /// request), all or none: a practitioner or facility outside the scope, or a
    /// posting sharing a day with another of the same role, refuses them all.
    /// Audited: one row for one posting, one for a file.
    pub async fn record_postings(
        &self,
        s: &Scope,
        rows: &[(String, Posting)],
        actor: &str,
    ) -> AppResult<HistoryWrites> {
        let done = {
            let _turn = self.writing().await;
            self.store().record_postings(&scope(s)?, rows, actor).await?
        };
        self.network_changed();
        let (target, detail, region) = match rows {
            [(_, p)] => (
                format!("practitioner {}", p.practitioner_id),
                format!("{} at {} {}", p.role, p.facility_id, span(p.start, p.end)),
                done.regions.first().copied(),
            ),
            _ => (
                "postings".to_string(),
                format!(
                    "{} postings: {} new, {} ends set, {} unchanged",
                    rows.len(),
                    done.inserted,
                    done.updated,
                    done.unchanged
                ),
                crate::work::region_of_prefix(s.prefix()),
            ),
        };
        self.audit_event(actor, "postings_recorded", target, detail, region).await?;
        Ok(done)
    }

    /// Records qualifications with their days, all or none; audited.
    pub async fn record_qualifications(
        &self,
        s: &Scope,
        rows: &[(String, QualificationHeld)],
        actor: &str,
    ) -> AppResult<HistoryWrites> {
        let done = {
            let _turn = self.writing().await;
            self.store().record_qualifications(&scope(s)?, rows, actor).await?
        };
        self.network_changed();
        let (target, detail, region) = match rows {
            [(_, q)] => (
                format!("practitioner {}", q.practitioner_id),
                format!(
                    "{} obtained {}, lapses {}",
                    q.qualification,
                    q.obtained.map_or("on an unknown day".into(), |d| d.to_string()),
                    q.lapses.map_or("never".into(), |d| d.to_string())
                ),
                done.regions.first().copied(),
            ),
            _ => (
                "qualifications".to_string(),
                format!(
                    "{} qualifications: {} new, {} lapses set, {} unchanged",
                    rows.len(),
                    done.inserted,
                    done.updated,
                    done.unchanged
                ),
                crate::work::region_of_prefix(s.prefix()),
            ),
        };
        self.audit_event(actor, "qualifications_recorded", target, detail, region).await?;
        Ok(done)
    }
}

fn span(start: Option<NaiveDate>, end: Option<NaiveDate>) -> String {
    format!(
        "from {} to {}",
        start.map_or("an unknown day".into(), |d| d.to_string()),
        end.map_or("no end".into(), |d| d.to_string())
    )
}

impl crate::import::WorkRecord for Posting {
    async fn write(app: &App, rows: Vec<(String, Self)>, actor: &str, _today: NaiveDate) -> AppResult<usize> {
        app.record_postings(&Scope::all(), &rows, actor).await.map(|_| rows.len())
    }
}

impl crate::import::WorkRecord for QualificationHeld {
    async fn write(app: &App, rows: Vec<(String, Self)>, actor: &str, _today: NaiveDate) -> AppResult<usize> {
        app.record_qualifications(&Scope::all(), &rows, actor).await.map(|_| rows.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{FacilityKind, RegionCode};

    fn d(s: &str) -> NaiveDate {
        domain::parse_date(s).unwrap()
    }

    fn facility(id: &str, opened: Option<&str>, closed: Option<&str>) -> Facility {
        Facility {
            facility_id: id.into(),
            name: id.into(),
            kind: FacilityKind::VillageClinic,
            grade: None,
            region_code: RegionCode::parse("341122100201").unwrap(),
            lon: None,
            lat: None,
            opened: opened.map(d),
            closed: closed.map(d),
        }
    }

    fn doctor(id: &str, at: &str) -> Practitioner {
        Practitioner {
            practitioner_id: id.into(),
            facility_id: at.into(),
            name: String::new(),
            qualification: Qualification::RuralDoctor,
            gp: false,
            birth_date: d("1980-01-01"),
            active: true,
        }
    }

    fn posting(who: &str, at: &str, role: PostingRole, start: Option<&str>, end: Option<&str>) -> Posting {
        Posting { practitioner_id: who.into(), facility_id: at.into(), role, start: start.map(d), end: end.map(d) }
    }

    #[test]
    fn the_snapshot_places_each_practitioner_where_the_history_says() {
        let h = NetworkData {
            regions: vec![],
            facilities: vec![facility("V1", None, None), facility("V2", Some("2020-01-01"), Some("2025-01-01"))],
            practitioners: vec![doctor("A", "V1"), doctor("B", "V1"), doctor("C", "V1")],
            postings: vec![
                // B: employed by V1, posted to V2 for 2022.
                posting("B", "V1", PostingRole::Employer, None, None),
                posting("B", "V2", PostingRole::Posting, Some("2022-01-01"), Some("2022-12-31")),
                // C: at V2 until it closed, and nowhere since.
                posting("C", "V2", PostingRole::Posting, Some("2020-01-01"), None),
            ],
            qualifications: vec![QualificationHeld {
                practitioner_id: "A".into(),
                qualification: Qualification::RuralDoctor,
                obtained: Some(d("2010-01-01")),
                lapses: Some(d("2023-01-01")),
            }],
        };
        let at = |day: &str| {
            let s = snapshot(&h, d(day));
            s.practitioners
                .iter()
                .map(|p| format!("{}@{}:{}", p.practitioner_id, p.facility_id, p.qualification))
                .collect::<Vec<_>>()
        };
        // A: no posting recorded, at the record's V1; licence lapsed in 2023.
        assert_eq!(at("2019-06-01"), ["A@V1:rural_doctor", "B@V1:rural_doctor"], "V2 not open yet: C nowhere");
        assert_eq!(at("2022-06-01"), ["A@V1:rural_doctor", "B@V2:rural_doctor", "C@V2:rural_doctor"]);
        assert_eq!(at("2023-06-01"), ["A@V1:other", "B@V1:rural_doctor", "C@V2:rural_doctor"]);
        assert_eq!(at("2025-01-01"), ["A@V1:other", "B@V1:rural_doctor"], "V2 closed");
        assert_eq!(snapshot(&h, d("2025-01-01")).facilities.len(), 1);
        // A snapshot has no history left: its own snapshot is itself.
        let s = snapshot(&h, d("2022-06-01"));
        let again = snapshot(&s, d("1990-01-01"));
        assert_eq!(again.practitioners, s.practitioners);
    }
}
