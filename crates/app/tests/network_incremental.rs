//! The incremental recompute of the network alerts (docs/coverage.md, "Kept
//! alerts and the cases they raise", "After a change"), on both engines,
//! through the application: the alerts of a county are raised whole once;
//! then each change of the network (a posting filling a village, a posting
//! extended, a licence lapsing, a doctor moving to a township centre, a clinic
//! closing) is followed by the recompute at the places it touches only. After
//! each, the kept alerts are what the whole recompute keeps: raising the
//! whole county again raises nothing, resolves nothing and changes no kept
//! alert; and the alerts kept at the other places were not even marked seen.

mod common;

use app::{App, Scope};
use chrono::NaiveDate;
use common::*;
use domain::*;
use std::collections::BTreeSet;
use store::{Store, StoredNetworkAlert};

both_backends!(each_change_recomputed_at_its_places_keeps_what_the_whole_recompute_keeps);

const TODAY: &str = "2025-01-01";

fn county() -> Scope {
    Scope::parse("341122").unwrap()
}

fn region(c: &str, name: &str, ur: Option<u16>) -> Region {
    Region {
        code: code(c),
        name: name.into(),
        level: code(c).level(),
        urban_rural: ur,
        population: ur.map(|_| 500),
        lon: None,
        lat: None,
    }
}

fn facility(id: &str, at: &str, kind: FacilityKind) -> Facility {
    Facility {
        facility_id: id.into(),
        name: format!("{id} name"),
        kind,
        grade: None,
        region_code: code(at),
        lon: None,
        lat: None,
        opened: None,
        closed: None,
    }
}

fn doctor(id: &str, at: &str, q: Qualification, born: &str) -> Practitioner {
    Practitioner {
        practitioner_id: id.into(),
        facility_id: at.into(),
        name: format!("doctor {id}"),
        qualification: q,
        gp: false,
        birth_date: d(born),
        active: true,
    }
}

fn posting(who: &str, at: &str, start: &str, end: Option<&str>) -> Vec<(String, Posting)> {
    let p = Posting {
        practitioner_id: who.into(),
        facility_id: at.into(),
        role: PostingRole::Posting,
        start: Some(d(start)),
        end: end.map(d),
    };
    vec![("the posting".into(), p)]
}

/// Township 341122100 (centre FT0, physician P0, spare rural doctor R) with
/// villages 201 to 206: clinics C1 to C5, none in 206. P1 (C1) turns 65 on
/// 2025-03-01; P2 is posted at C2 until 2025-06-30; P3 (C3) holds their
/// licence until 2025-05-01. Township 341122101: centre FT1, whose physician
/// Q1 turns 60 on 2025-08-01, and village 201 with clinic C7.
async fn setup(store: &Store) -> App {
    let mut regions = vec![
        region("34", "Anhui", None),
        region("341122", "Laian", None),
        region("341122100", "Town A", None),
        region("341122101", "Town B", None),
        region("341122101201", "Village B1", Some(220)),
    ];
    regions.extend((201..=206).map(|v| region(&format!("341122100{v}"), &format!("Village A{v}"), Some(220))));
    store.import_regions(&regions).await.unwrap();
    let mut facilities = vec![
        facility("FT0", "341122100", FacilityKind::TownshipCenter),
        facility("FT1", "341122101", FacilityKind::TownshipCenter),
        facility("C7", "341122101201", FacilityKind::VillageClinic),
    ];
    facilities.extend(
        (1..=5).map(|i| facility(&format!("C{i}"), &format!("341122100{}", 200 + i), FacilityKind::VillageClinic)),
    );
    store.import_facilities(&facilities).await.unwrap();
    store
        .import_practitioners(&[
            doctor("P0", "FT0", Qualification::Physician, "1975-01-01"),
            doctor("R", "FT0", Qualification::RuralDoctor, "1985-01-01"),
            doctor("P1", "C1", Qualification::RuralDoctor, "1960-03-01"),
            doctor("P2", "C2", Qualification::RuralDoctor, "1980-01-01"),
            doctor("P3", "C3", Qualification::RuralDoctor, "1980-01-01"),
            doctor("P4", "C4", Qualification::RuralDoctor, "1980-01-01"),
            doctor("P5", "C5", Qualification::RuralDoctor, "1980-01-01"),
            doctor("Q1", "FT1", Qualification::Physician, "1965-08-01"),
            doctor("P7", "C7", Qualification::RuralDoctor, "1980-01-01"),
        ])
        .await
        .unwrap();
    let app = App::new(store.clone());
    app.record_postings(&county(), &posting("P2", "C2", "2020-01-01", Some("2025-06-30")), "wang").await.unwrap();
    let lapse = QualificationHeld {
        practitioner_id: "P3".into(),
        qualification: Qualification::RuralDoctor,
        obtained: None,
        lapses: Some(d("2025-05-01")),
    };
    app.record_qualifications(&county(), &[("the licence".into(), lapse)], "wang").await.unwrap();
    app
}

/// The open kept alerts, by id.
async fn open_alerts(app: &App) -> Vec<StoredNetworkAlert> {
    let mut v = app.kept_network_alerts(&county(), true, 1000).await.unwrap();
    v.sort_by_key(|a| a.id);
    v
}

/// One change, made through the application (or the store, for a facility),
/// with the practitioners and facilities it concerns and what its recompute
/// must do: (raised, resolved).
enum Change {
    Postings(Vec<(String, Posting)>),
    Qualification(QualificationHeld),
    Facility(Facility),
}

async fn each_change_recomputed_at_its_places_keeps_what_the_whole_recompute_keeps(store: &Store) {
    let app = setup(store).await;
    let today = d(TODAY);
    let s = coverage::Settings::default();
    let whole = app.raise_network_alerts(&county(), today, 1, &s, "wang").await.unwrap();
    // 206 has no clinic; P1 retires; P2's posting ends; P3's licence lapses; Q1 retires.
    assert_eq!((whole.found, whole.kept.raised.len(), whole.places), (5, 5, None), "{whole:?}");

    let lapses = |who: &str, on: &str| QualificationHeld {
        practitioner_id: who.into(),
        qualification: Qualification::RuralDoctor,
        obtained: None,
        lapses: Some(d(on)),
    };
    let mut closed = facility("C3", "341122100203", FacilityKind::VillageClinic);
    closed.closed = Some(d("2025-03-01"));
    let steps: Vec<(&str, Change, (usize, usize))> = vec![
        // R posted to C1 before P1 retires: village 201 is filled.
        ("a posting fills a village", Change::Postings(posting("R", "C1", "2025-02-01", None)), (0, 1)),
        // P2's posting extended beyond the horizon: 202 no longer blank within it.
        ("a posting extended", Change::Postings(posting("P2", "C2", "2020-01-01", Some("2026-06-30"))), (0, 1)),
        // P4's licence lapses within the year: 204 becomes blank.
        ("a licence lapsing", Change::Qualification(lapses("P4", "2025-09-01")), (1, 0)),
        // P5 goes to work at the other township's centre: 205 is left blank.
        ("a doctor moving", Change::Postings(posting("P5", "FT1", "2025-04-01", None)), (1, 0)),
        // C3 closes: 203 lacks a clinic rather than a doctor.
        ("a clinic closing", Change::Facility(closed), (1, 1)),
    ];
    for (what, change, (raised, resolved)) in steps {
        let before_alerts = open_alerts(&app).await;
        let (who, facilities): (Vec<String>, Vec<String>) = match &change {
            Change::Postings(p) => (vec![p[0].1.practitioner_id.clone()], vec![]),
            Change::Qualification(q) => (vec![q.practitioner_id.clone()], vec![]),
            Change::Facility(f) => (vec![], vec![f.facility_id.clone()]),
        };
        let mut places: BTreeSet<RegionCode> = app.network_places(&county(), &who, &facilities).await.unwrap();
        match change {
            Change::Postings(p) => {
                app.record_postings(&county(), &p, "wang").await.unwrap();
            }
            Change::Qualification(q) => {
                app.record_qualifications(&county(), &[("the licence".into(), q)], "wang").await.unwrap();
            }
            Change::Facility(f) => {
                store.import_facilities(&[f]).await.unwrap();
            }
        }
        places.extend(app.network_places(&county(), &who, &facilities).await.unwrap());
        // The places in reach of the change only: never the whole township.
        assert!(!places.is_empty() && places.len() <= 3, "{what}: {places:?}");
        let r = app.raise_network_alerts_at(&county(), &places, today, 1, &s, "wang").await.unwrap();
        assert_eq!(r.places, Some(places.len()), "{what}");
        assert_eq!((r.kept.raised.len(), r.kept.resolved.len()), (raised, resolved), "{what}: {r:?}");
        let incremental = open_alerts(&app).await;
        // The alerts kept elsewhere were not touched, not even marked seen.
        for a in before_alerts.iter().filter(|a| !places.contains(&a.found.region)) {
            let now = incremental.iter().find(|b| b.id == a.id);
            assert_eq!(now, Some(a), "{what}: the alert at {} was touched", a.found.region);
        }
        // The whole recompute keeps exactly what the incremental one kept.
        let again = app.raise_network_alerts(&county(), today, 1, &s, "wang").await.unwrap();
        assert_eq!((again.kept.raised.len(), again.kept.resolved.len()), (0, 0), "{what}: {again:?}");
        assert_eq!(again.kept.seen, incremental.len(), "{what}");
        let whole: Vec<(String, RegionCode, NaiveDate, String, String)> = open_alerts(&app)
            .await
            .into_iter()
            .map(|a| (a.found.kind, a.found.region, a.found.blank_from, a.found.change, a.found.detail))
            .collect();
        let kept: Vec<(String, RegionCode, NaiveDate, String, String)> = incremental
            .into_iter()
            .map(|a| (a.found.kind, a.found.region, a.found.blank_from, a.found.change, a.found.detail))
            .collect();
        assert_eq!(kept, whole, "{what}");
    }
    // An empty set of places computes and writes nothing.
    let none = app.raise_network_alerts_at(&county(), &BTreeSet::new(), today, 1, &s, "wang").await.unwrap();
    assert_eq!((none.found, none.places, none.kept.raised.len()), (0, Some(0), 0));
    // A horizon beyond five years is refused.
    let place: BTreeSet<RegionCode> = [code("341122100201")].into_iter().collect();
    assert!(app.raise_network_alerts_at(&county(), &place, today, 6, &s, "wang").await.is_err());
}
