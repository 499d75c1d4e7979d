//! The network's history (docs/coverage.md, "History"), on both engines:
//! postings and qualifications recorded inside a scope, checked and audited;
//! a store left by migration 17 reads as open-ended history; and the quality
//! bar: the blank spots of a past day computed from the history equal those
//! computed from the data of that day (a snapshot filtered by hand from the
//! history, imported into a store of its own without any history), on
//! generated histories.

mod common;

use app::history::{project, snapshot};
use app::{App, NetworkData, Scope};
use chrono::{Duration, NaiveDate};
use common::*;
use domain::*;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use store::Store;

both_backends!(postings_are_checked_in_scope_without_overlap_and_audited, a_past_day_is_computed_from_its_history);

fn facility(id: &str, region: &str, kind: FacilityKind) -> Facility {
    Facility {
        facility_id: id.into(),
        name: format!("{id} name"),
        kind,
        grade: kind.is_hospital().then_some(Grade(2)),
        region_code: code(region),
        lon: Some(117.5),
        lat: Some(31.5),
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

fn posting(who: &str, at: &str, role: PostingRole, start: Option<&str>, end: Option<&str>) -> Posting {
    Posting { practitioner_id: who.into(), facility_id: at.into(), role, start: start.map(d), end: end.map(d) }
}

fn labelled<T: Clone>(rows: &[T]) -> Vec<(String, T)> {
    rows.iter().enumerate().map(|(i, r)| (format!("line {}", i + 2), r.clone())).collect()
}

/// County 341122 with township centre FT, clinics FA (village A1) and FA2 (A2);
/// county 341123 with clinic FB in village B1.
async fn setup(store: &Store) {
    store.import_regions(&regions()).await.unwrap();
    store
        .import_facilities(&[
            facility("FT", "341122100", FacilityKind::TownshipCenter),
            facility("FA", "341122100201", FacilityKind::VillageClinic),
            facility("FA2", "341122100202", FacilityKind::VillageClinic),
            facility("FB", "341123100201", FacilityKind::VillageClinic),
        ])
        .await
        .unwrap();
    store
        .import_practitioners(&[
            doctor("T1", "FT", Qualification::Physician, "1975-01-01"),
            doctor("V1", "FA", Qualification::RuralDoctor, "1970-01-01"),
            doctor("B1", "FB", Qualification::RuralDoctor, "1970-01-01"),
        ])
        .await
        .unwrap();
}

fn blank_villages(spots: &[coverage::BlankSpot], years: i32) -> Vec<String> {
    spots.iter().filter(|s| s.in_years == years && s.kind.is_village()).map(|s| s.region_code.to_string()).collect()
}

async fn postings_are_checked_in_scope_without_overlap_and_audited(store: &Store) {
    setup(store).await;
    let app = App::new(store.clone());
    let county = Scope::parse("341122").unwrap();
    let settings = coverage::Settings::default();
    // Before any posting, each works at their record's facility: A2 has a
    // clinic and no doctor.
    let c = app.coverage_on(&county, d("2024-06-01"), &settings).await.unwrap();
    assert_eq!(blank_villages(&c.spots, 0), ["341122100202"]);
    let h = app.practitioner_history(&county, "V1").await.unwrap();
    assert!(h.postings.is_empty() && h.qualifications.is_empty());
    assert_eq!(h.workplace_on(d("1990-01-01")), Some("FA"), "the record's facility from an unknown day");

    // 乡聘村用: V1 employed by the township centre, posted to A2 for two years.
    let rows = [
        posting("V1", "FT", PostingRole::Employer, Some("2015-01-01"), None),
        posting("V1", "FA2", PostingRole::Posting, Some("2024-01-01"), Some("2025-12-31")),
    ];
    let done = app.record_postings(&county, &labelled(&rows), "officer_a").await.unwrap();
    assert_eq!((done.inserted, done.updated, done.unchanged), (2, 0, 0));
    let c = app.coverage_on(&county, d("2024-06-01"), &settings).await.unwrap();
    assert_eq!(blank_villages(&c.spots, 0), ["341122100201"], "A1 lost its doctor to A2");
    // At +1 year the posting still holds; at +3 it has ended and V1 is back
    // at the township centre, its employer: both villages are blank.
    assert_eq!(blank_villages(&c.spots, 1), ["341122100201"]);
    assert_eq!(blank_villages(&c.spots, 3), ["341122100201", "341122100202"]);
    // Before the employment, V1 worked nowhere the history knows.
    let h = app.practitioner_history(&county, "V1").await.unwrap();
    assert_eq!(h.workplace_on(d("2014-12-31")), None);
    assert_eq!(h.workplace_on(d("2026-01-01")), Some("FT"));

    // Given again, unchanged; with another end, the end is set.
    let again = app.record_postings(&county, &labelled(&rows), "officer_a").await.unwrap();
    assert_eq!((again.inserted, again.updated, again.unchanged), (0, 0, 2));
    let longer = posting("V1", "FA2", PostingRole::Posting, Some("2024-01-01"), Some("2027-12-31"));
    let set = app.record_postings(&county, &labelled(&[longer]), "officer_a").await.unwrap();
    assert_eq!((set.inserted, set.updated), (0, 1));
    let c = app.coverage_on(&county, d("2024-06-01"), &settings).await.unwrap();
    assert_eq!(blank_villages(&c.spots, 3), ["341122100201"], "the posting now runs to 2027");

    // Refusals name the row and the field, and write nothing of the batch.
    let refuse = |rows: Vec<Posting>, scope: Scope| {
        let app = app.clone();
        async move {
            let before = app.store().network_history(&store::Scope::all()).await.unwrap().postings;
            let e = app.record_postings(&scope, &labelled(&rows), "officer_a").await.unwrap_err().to_string();
            let after = app.store().network_history(&store::Scope::all()).await.unwrap().postings;
            assert_eq!(before, after, "nothing written: {e}");
            e
        }
    };
    let ok = posting("T1", "FA", PostingRole::Posting, Some("2030-01-01"), None);
    let overlap = posting("V1", "FA", PostingRole::Posting, Some("2027-06-01"), None);
    let e = refuse(vec![ok.clone(), overlap], county.clone()).await;
    assert!(e.contains("line 3") && e.contains("start:") && e.contains("FA2"), "{e}");
    // Postings of the same batch count against each other.
    let twice = posting("T1", "FT", PostingRole::Posting, Some("2031-01-01"), Some("2031-06-30"));
    let e = refuse(vec![ok.clone(), twice], county.clone()).await;
    assert!(e.contains("line 3") && e.contains("shares days"), "{e}");
    // Another role may overlap: an employer and a posting at once.
    app.record_postings(&county, &labelled(&[posting("T1", "FT", PostingRole::Employer, None, None)]), "officer_a")
        .await
        .unwrap();
    // A facility of another county, a practitioner of another county, an
    // unknown facility: not in the store inside the scope.
    let e = refuse(vec![posting("V1", "FB", PostingRole::Posting, Some("2040-01-01"), None)], county.clone()).await;
    assert!(e.contains("facility_id:") && e.contains("inside your scope"), "{e}");
    let e = refuse(vec![posting("B1", "FA", PostingRole::Posting, Some("2040-01-01"), None)], county.clone()).await;
    assert!(e.contains("practitioner_id:"), "{e}");
    let e = refuse(vec![posting("V1", "NOPE", PostingRole::Posting, Some("2040-01-01"), None)], county.clone()).await;
    assert!(e.contains("facility_id:"), "{e}");
    // An officer of the other county does not see V1 at all.
    let other = Scope::parse("341123").unwrap();
    assert!(matches!(app.practitioner_history(&other, "V1").await, Err(app::AppError::NotFound(_))));
    // A practitioner posted into a scope is seen there: B1 of county 341123 is
    // employed by 341122's township centre from 2030 (whole country writes).
    app.record_postings(
        &Scope::all(),
        &labelled(&[posting("B1", "FT", PostingRole::Employer, Some("2030-01-01"), None)]),
        "admin",
    )
    .await
    .unwrap();
    assert_eq!(app.practitioner_history(&county, "B1").await.unwrap().postings.len(), 1);
    let net = app.network(&county).await.unwrap();
    assert!(net.practitioners.iter().any(|p| p.practitioner_id == "B1"), "posted into the county");
    let on = snapshot(&net, d("2031-01-01"));
    assert!(on.practitioners.iter().any(|p| p.practitioner_id == "B1" && p.facility_id == "FT"));

    // Qualifications with their days: V1's certificate lapses in 2025.
    let cert = QualificationHeld {
        practitioner_id: "V1".into(),
        qualification: Qualification::RuralDoctor,
        obtained: Some(d("2000-01-01")),
        lapses: Some(d("2025-01-01")),
    };
    app.record_qualifications(&county, &labelled(&[cert]), "officer_a").await.unwrap();
    let c = app.coverage_on(&county, d("2024-06-01"), &settings).await.unwrap();
    assert_eq!(blank_villages(&c.spots, 0), ["341122100201"]);
    assert_eq!(blank_villages(&c.spots, 1), ["341122100201", "341122100202"], "the certificate lapsed");
    let h = app.practitioner_history(&county, "V1").await.unwrap();
    assert_eq!(h.qualification_on(d("2024-12-31")), Qualification::RuralDoctor);
    assert_eq!(h.qualification_on(d("2025-01-01")), Qualification::Other);
    let e = app
        .record_qualifications(&other, &labelled(&[h.qualifications[0].held.clone()]), "officer_a")
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 2") && e.contains("practitioner_id:"), "{e}");

    // A facility's closing day: FT closes at the end of 2029.
    let mut ft = facility("FT", "341122100", FacilityKind::TownshipCenter);
    ft.closed = Some(d("2030-01-01"));
    store.import_facilities(&[ft]).await.unwrap();
    let c = app.coverage_on(&county, d("2029-06-01"), &settings).await.unwrap();
    assert!(!c.spots.iter().any(|s| s.in_years == 0 && s.kind == coverage::BlankKind::TownshipNoPhysician));
    assert!(
        !c.spots.iter().any(|s| s.in_years == 1 && s.kind == coverage::BlankKind::TownshipNoPhysician),
        "a closed centre is no blank spot of its own: it is gone"
    );
    assert!(c.network.facility_position("FT").is_some());
    let later = app.coverage_on(&county, d("2030-06-01"), &settings).await.unwrap();
    assert!(later.network.facility_position("FT").is_none());

    // Every write is audited, with the region of the facility.
    let log = app.audit_log(100).await.unwrap();
    let recorded: Vec<_> = log.iter().filter(|e| e.action == "postings_recorded").collect();
    assert_eq!(recorded.len(), 5, "{recorded:?}");
    assert!(recorded.iter().any(|e| e.username == "officer_a" && e.target == "postings"));
    assert!(log.iter().any(|e| e.action == "qualifications_recorded" && e.target == "practitioner V1"));
}

// ------------------------------------------------------------ the quality bar

/// One generated county: its villages, facilities and practitioners with their
/// history, and the day asked about.
#[derive(Debug, Clone)]
struct Case {
    /// Population and whether rural, by village.
    villages: Vec<(u32, bool)>,
    facilities: Vec<GenFacility>,
    practitioners: Vec<GenPractitioner>,
    day: u16,
}

#[derive(Debug, Clone)]
struct GenFacility {
    kind: FacilityKind,
    /// The village it stands in; `None`: the township's own region.
    village: Option<usize>,
    opened: Option<u16>,
    closed: Option<u16>,
}

#[derive(Debug, Clone)]
struct GenPractitioner {
    facility: usize,
    qualification: Qualification,
    born: u16,
    active: bool,
    /// Per role: (facility, start, end), not sharing days.
    postings: Vec<(PostingRole, usize, Option<u16>, Option<u16>)>,
    qualifications: Vec<(Qualification, Option<u16>, Option<u16>)>,
}

/// Days from 2005-01-01.
fn day_of(n: u16) -> NaiveDate {
    d("2005-01-01") + Duration::days(n as i64)
}

fn qualification() -> impl Strategy<Value = Qualification> {
    prop_oneof![
        Just(Qualification::Physician),
        Just(Qualification::AssistantPhysician),
        Just(Qualification::RuralDoctor),
        Just(Qualification::Nurse),
        Just(Qualification::Other),
    ]
}

/// Up to two intervals of one role that share no day, each end open or not.
fn intervals() -> impl Strategy<Value = Vec<(Option<u16>, Option<u16>)>> {
    (0usize..=2, proptest::collection::btree_set(0u16..9000, 4), any::<bool>(), any::<bool>()).prop_map(
        |(k, days, open_start, open_end)| {
            let days: Vec<u16> = days.into_iter().collect();
            let mut v: Vec<(Option<u16>, Option<u16>)> =
                (0..k).map(|i| (Some(days[2 * i]), Some(days[2 * i + 1]))).collect();
            if let Some(first) = v.first_mut().filter(|_| open_start) {
                first.0 = None;
            }
            if let Some(last) = v.last_mut().filter(|_| open_end) {
                last.1 = None;
            }
            v
        },
    )
}

fn case() -> impl Strategy<Value = Case> {
    let villages = proptest::collection::vec((0u32..3000, prop_oneof![4 => Just(true), 1 => Just(false)]), 1..5);
    villages.prop_flat_map(|villages| {
        let nv = villages.len();
        let fac = (
            prop_oneof![
                5 => Just(FacilityKind::VillageClinic),
                2 => Just(FacilityKind::TownshipCenter),
                1 => Just(FacilityKind::CountyHospital),
            ],
            proptest::option::of(0..nv),
            proptest::option::of(0u16..9000),
            proptest::option::of(0u16..9000),
        )
            .prop_map(|(kind, village, opened, closed)| {
                // A facility closes after it opens.
                let closed = match (opened, closed) {
                    (Some(o), Some(c)) if c <= o => None,
                    (_, c) => c,
                };
                GenFacility { kind, village, opened, closed }
            });
        (Just(villages), proptest::collection::vec(fac, 1..7)).prop_flat_map(|(villages, facilities)| {
            let nf = facilities.len();
            let held = (qualification(), proptest::option::of(0u16..9000), proptest::option::of(0u16..9000)).prop_map(
                |(q, o, l)| match (o, l) {
                    (Some(o), Some(l)) if l <= o => (q, Some(o), None),
                    (o, l) => (q, o, l),
                },
            );
            let practitioner = (
                0..nf,
                qualification(),
                0u16..16000,
                prop_oneof![9 => Just(true), 1 => Just(false)],
                intervals(),
                proptest::collection::vec(0..nf, 2),
                intervals(),
                proptest::collection::vec(0..nf, 2),
                proptest::collection::vec(held, 0..3),
            )
                .prop_map(
                    |(facility, qualification, born, active, posts, pf, jobs, jf, qualifications)| {
                        let mut postings = Vec::new();
                        for (i, (s, e)) in posts.into_iter().enumerate() {
                            postings.push((PostingRole::Posting, pf[i], s, e));
                        }
                        for (i, (s, e)) in jobs.into_iter().enumerate() {
                            postings.push((PostingRole::Employer, jf[i], s, e));
                        }
                        GenPractitioner { facility, qualification, born, active, postings, qualifications }
                    },
                );
            (
                Just(villages),
                Just(facilities),
                proptest::collection::vec(practitioner, 0..8),
                // The day asked about: 2005 to 2029.
                0u16..9000,
            )
                .prop_map(|(villages, facilities, practitioners, day)| Case {
                    villages,
                    facilities,
                    practitioners,
                    day,
                })
        })
    })
}

/// The county of case `n`: 34CCNN, distinct for each case of a store.
fn county_of(n: usize) -> String {
    format!("34{:02}{:02}", 1 + n / 98, 1 + n % 98)
}

/// The case's network with its history, in county `county` (ids prefixed with
/// it, so that many cases share a store).
fn history_of(c: &Case, county: &str) -> NetworkData {
    let town = format!("{county}100");
    let village = |i: usize| format!("{town}{:03}", 201 + i);
    let mut regions = vec![
        Region {
            code: code(county),
            name: format!("county {county}"),
            level: RegionLevel::County,
            urban_rural: None,
            population: None,
            lon: None,
            lat: None,
        },
        Region {
            code: code(&town),
            name: "town".into(),
            level: RegionLevel::Township,
            urban_rural: None,
            population: None,
            lon: Some(117.5),
            lat: Some(31.5),
        },
    ];
    for (i, (pop, rural)) in c.villages.iter().enumerate() {
        regions.push(Region {
            code: code(&village(i)),
            name: format!("village {i}"),
            level: RegionLevel::Village,
            urban_rural: Some(if *rural { 220 } else { 111 }),
            population: Some(*pop),
            lon: Some(117.5 + i as f64 * 0.01),
            lat: Some(31.5),
        });
    }
    let fid = |i: usize| format!("{county}-F{i}");
    let facilities = c
        .facilities
        .iter()
        .enumerate()
        .map(|(i, f)| Facility {
            facility_id: fid(i),
            name: format!("facility {i}"),
            kind: f.kind,
            grade: (f.kind == FacilityKind::CountyHospital).then_some(Grade(2)),
            region_code: code(&f.village.map_or(town.clone(), village)),
            lon: None,
            lat: None,
            opened: f.opened.map(day_of),
            closed: f.closed.map(day_of),
        })
        .collect();
    let pid = |i: usize| format!("{county}-P{i}");
    let mut practitioners = Vec::new();
    let mut postings = Vec::new();
    let mut qualifications = Vec::new();
    for (i, p) in c.practitioners.iter().enumerate() {
        practitioners.push(Practitioner {
            practitioner_id: pid(i),
            facility_id: fid(p.facility),
            name: format!("doctor {i}"),
            qualification: p.qualification,
            gp: false,
            birth_date: d("1950-01-01") + Duration::days(p.born as i64),
            active: p.active,
        });
        for (role, f, s, e) in &p.postings {
            postings.push(Posting {
                practitioner_id: pid(i),
                facility_id: fid(*f),
                role: *role,
                start: s.map(day_of),
                end: e.map(day_of),
            });
        }
        for (j, (q, o, l)) in p.qualifications.iter().enumerate() {
            // The same grant given twice is one grant (the second sets its lapse).
            if p.qualifications[..j].iter().any(|(q2, o2, _)| (q2, o2) == (q, o)) {
                continue;
            }
            qualifications.push(QualificationHeld {
                practitioner_id: pid(i),
                qualification: *q,
                obtained: o.map(day_of),
                lapses: l.map(day_of),
            });
        }
    }
    NetworkData { regions, facilities, practitioners, postings, qualifications }
}

/// The network on `day` filtered from the history by hand, as the data of that
/// day would have been kept without any history: the facilities open that
/// day; each practitioner at the facility of the posting covering the day, or
/// else of the employment covering it, or with none recorded at the record's;
/// with the best qualification held that day, or with none recorded the
/// record's. Written apart from `app::history::snapshot`.
fn by_hand(h: &NetworkData, day: NaiveDate) -> NetworkData {
    let facilities: Vec<Facility> = h
        .facilities
        .iter()
        .filter(|f| f.opened.is_none_or(|o| o <= day) && f.closed.is_none_or(|c| day < c))
        .map(|f| Facility { opened: None, closed: None, ..f.clone() })
        .collect();
    let mut practitioners = Vec::new();
    for p in &h.practitioners {
        let mine: Vec<&Posting> = h.postings.iter().filter(|x| x.practitioner_id == p.practitioner_id).collect();
        let covering = |role: PostingRole| {
            mine.iter().find(|x| x.role == role && x.start.is_none_or(|s| s <= day) && x.end.is_none_or(|e| day <= e))
        };
        let at = if mine.is_empty() {
            Some(p.facility_id.clone())
        } else {
            covering(PostingRole::Posting).or(covering(PostingRole::Employer)).map(|x| x.facility_id.clone())
        };
        let Some(at) = at else { continue };
        if !facilities.iter().any(|f| f.facility_id == at) {
            continue;
        }
        let quals: Vec<&QualificationHeld> =
            h.qualifications.iter().filter(|q| q.practitioner_id == p.practitioner_id).collect();
        let qualification = if quals.is_empty() {
            p.qualification
        } else {
            let order = [
                Qualification::Physician,
                Qualification::AssistantPhysician,
                Qualification::RuralDoctor,
                Qualification::Nurse,
            ];
            let holds = |q: Qualification| {
                quals.iter().any(|x| {
                    x.qualification == q && x.obtained.is_none_or(|o| o <= day) && x.lapses.is_none_or(|l| day < l)
                })
            };
            order.into_iter().find(|q| holds(*q)).unwrap_or(Qualification::Other)
        };
        practitioners.push(Practitioner { facility_id: at, qualification, ..p.clone() });
    }
    NetworkData { regions: h.regions.clone(), facilities, practitioners, postings: vec![], qualifications: vec![] }
}

fn generated(cases: u32, seed: u8) -> Vec<Case> {
    let mut runner = TestRunner::new_with_rng(
        Config { cases, ..Config::default() },
        proptest::test_runner::TestRng::from_seed(proptest::test_runner::RngAlgorithm::ChaCha, &[seed; 32]),
    );
    (0..cases).map(|_| case().new_tree(&mut runner).unwrap().current()).collect()
}

fn rows(spots: &[coverage::BlankSpot]) -> Vec<(i32, String, String, String)> {
    spots.iter().map(|s| (s.in_years, s.kind.to_string(), s.region_code.to_string(), s.name.clone())).collect()
}

/// The network alerts the slow way: the blank spots of the whole network on
/// every day the history changes anything, each spot at the first day found.
fn alerts_by_every_day(h: &NetworkData, today: NaiveDate, until: NaiveDate) -> Vec<(String, String, String, bool)> {
    let s = coverage::Settings::default();
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for day in app::network_alerts::change_days(h, today, until, &s) {
        let on = snapshot(h, day);
        let net = coverage::Network::new(on.regions, on.facilities, on.practitioners).unwrap();
        for b in coverage::blank_spots(&net, day, &s) {
            if b.kind != coverage::BlankKind::CountyNoHospital && seen.insert((b.kind, b.region_code, b.name.clone())) {
                out.push((day, b.kind, b.region_code, b.name));
            }
        }
    }
    out.sort();
    out.into_iter().map(|(d, k, r, n)| (d.to_string(), k.to_string(), format!("{r} {n}"), d == today)).collect()
}

proptest! {
    #![proptest_config(Config { cases: 400, ..Config::default() })]

    /// The network alerts, found on the regions each change touches, are those
    /// of the whole network computed on every day the history changes.
    #[test]
    fn network_alerts_touch_only_what_changed_and_miss_nothing(c in case()) {
        let h = history_of(&c, "340101");
        let today = day_of(c.day);
        let until = add_years(today, 2);
        let mut got: Vec<(String, String, String, bool)> =
            app::network_alerts::network_alerts(&h, today, until, &coverage::Settings::default())
                .unwrap()
                .into_iter()
                .map(|a| (a.from.to_string(), a.kind.to_string(), format!("{} {}", a.region_code, a.name), a.now))
                .collect();
        got.sort();
        prop_assert_eq!(got, alerts_by_every_day(&h, today, until));
    }

    /// The application's snapshot equals the history filtered by hand, and so
    /// the blank spots computed over each agree, now and at every horizon.
    #[test]
    fn the_snapshot_of_a_day_is_the_history_filtered_to_that_day(c in case()) {
        let h = history_of(&c, "340101");
        let day = day_of(c.day);
        let s = coverage::Settings::default();
        for y in coverage::HORIZONS {
            let on = add_years(day, y);
            let (a, b) = (snapshot(&h, on), by_hand(&h, on));
            prop_assert_eq!(&a.facilities, &b.facilities);
            let mut pa = a.practitioners.clone();
            let mut pb = b.practitioners.clone();
            pa.sort_by(|x, y| x.practitioner_id.cmp(&y.practitioner_id));
            pb.sort_by(|x, y| x.practitioner_id.cmp(&y.practitioner_id));
            prop_assert_eq!(pa, pb);
        }
        let projected = project(&h, day, &s).unwrap();
        for y in coverage::HORIZONS {
            let hand = by_hand(&h, add_years(day, y));
            let net = coverage::Network::new(hand.regions, hand.facilities, hand.practitioners).unwrap();
            let want = coverage::blank_spots_in(&net, day, y, &s);
            let got: Vec<_> = projected.iter().filter(|b| b.in_years == y).cloned().collect();
            prop_assert_eq!(rows(&got), rows(&want), "horizon {}", y);
        }
    }
}

/// The quality bar through the store: each generated history is recorded in
/// one store (its facilities with their days, its postings and qualifications
/// through the application), the data of the day asked about, filtered by
/// hand, is imported into another store as a plain registry with no history,
/// and the blank spots of that day on the two agree.
async fn a_past_day_is_computed_from_its_history(store: &Store) {
    // The store of the plain data of each day: a second database of the same engine.
    let plain = if store.backend() == store::Backend::Postgres {
        TestDb::pg().await.expect("the other PostgreSQL store")
    } else {
        TestDb::sqlite().await
    };
    let (with_history, without) = (App::new(store.clone()), App::new(plain.store.clone()));
    let s = coverage::Settings::default();
    let cases = generated(40, store.backend() as u8 + 7);
    let mut blank = 0;
    for (n, c) in cases.iter().enumerate() {
        let county = county_of(n);
        let scope = Scope::parse(&county).unwrap();
        let h = history_of(c, &county);
        let day = day_of(c.day);
        store.import_regions(&h.regions).await.unwrap();
        store.import_facilities(&h.facilities).await.unwrap();
        store.import_practitioners(&h.practitioners).await.unwrap();
        if !h.postings.is_empty() {
            with_history.record_postings(&scope, &labelled(&h.postings), "test").await.unwrap();
        }
        if !h.qualifications.is_empty() {
            with_history.record_qualifications(&scope, &labelled(&h.qualifications), "test").await.unwrap();
        }
        let then = by_hand(&h, day);
        plain.store.import_regions(&then.regions).await.unwrap();
        plain.store.import_facilities(&then.facilities).await.unwrap();
        plain.store.import_practitioners(&then.practitioners).await.unwrap();

        let got = with_history.coverage_on(&scope, day, &s).await.unwrap();
        let want = without.coverage_on(&scope, day, &s).await.unwrap();
        let now = |spots: &[coverage::BlankSpot]| {
            spots
                .iter()
                .filter(|b| b.in_years == 0)
                .map(|b| (b.kind, b.region_code, b.name.clone(), b.detail.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(now(&got.spots), now(&want.spots), "case {n} on {day}: {c:?}");
        blank += got.blank_villages_now();
        // The reach of that day agrees too.
        let reach = |net: &coverage::Network| {
            coverage::reach(net, day, &s, &coverage::TravelModel::default())
                .into_iter()
                .map(|r| (r.village, r.minutes))
                .collect::<Vec<_>>()
        };
        assert_eq!(reach(&got.network), reach(&want.network), "case {n}: reach");
    }
    assert!(blank > 0, "the cases make some villages blank");
    plain.finish().await;
}

// ------------------------------------------------------------ migration 20

/// A store left by migration 17, with a registry written as it kept it (no
/// days on facilities), migrates to open-ended history: the same coverage as a
/// store built new, every practitioner at their record's facility from an
/// unknown day, with their record's qualification.
async fn the_migration_reads_as_open_ended_history(
    new: &Store,
    old: &Store,
    facilities: impl std::future::Future<Output = ()>,
) {
    assert_eq!(old.schema_version().await.unwrap(), 17);
    old.import_regions(&regions()).await.unwrap();
    facilities.await;
    for store in [new, old] {
        store
            .import_practitioners(&[
                doctor("T1", "FT", Qualification::Physician, "1975-01-01"),
                doctor("V1", "FA", Qualification::RuralDoctor, "1962-01-01"),
            ])
            .await
            .unwrap();
    }
    assert_eq!(old.migrate().await.unwrap(), store::SCHEMA_VERSION);
    assert_eq!(old.migrate().await.unwrap(), store::SCHEMA_VERSION, "once");
    let (a, b) = (App::new(new.clone()), App::new(old.clone()));
    let all = Scope::all();
    let s = coverage::Settings::default();
    let (x, y) = (
        a.coverage_on(&all, d("2024-06-01"), &s).await.unwrap(),
        b.coverage_on(&all, d("2024-06-01"), &s).await.unwrap(),
    );
    assert_eq!(x.spots, y.spots);
    // V1 turns 65 in 2027: the projection of the record alone (B1 of the other
    // county has no clinic at all).
    assert_eq!(blank_villages(&y.spots, 0), ["341123100201", "341122100202"]);
    assert_eq!(blank_villages(&y.spots, 3), ["341123100201", "341122100201", "341122100202"]);
    let h = b.practitioner_history(&all, "V1").await.unwrap();
    assert!(h.postings.is_empty() && h.qualifications.is_empty());
    assert_eq!(h.workplace_on(d("1900-01-01")), Some("FA"));
    let f = b.network(&all).await.unwrap().facilities;
    assert!(f.iter().all(|f| f.opened.is_none() && f.closed.is_none()), "{f:?}");
}

const OLD_FACILITIES: &str = "INSERT INTO facilities (facility_id, name, kind, grade, region_code, lon, lat) VALUES
    ('FT', 'FT name', 'township_center', NULL, 341122100000, 117.5, 31.5),
    ('FA', 'FA name', 'village_clinic', NULL, 341122100201, 117.5, 31.5),
    ('FA2', 'FA2 name', 'village_clinic', NULL, 341122100202, 117.5, 31.5)";

async fn new_facilities(store: &Store) {
    store.import_regions(&regions()).await.unwrap();
    store
        .import_facilities(&[
            facility("FT", "341122100", FacilityKind::TownshipCenter),
            facility("FA", "341122100201", FacilityKind::VillageClinic),
            facility("FA2", "341122100202", FacilityKind::VillageClinic),
        ])
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_store_left_by_migration_17_reads_as_open_ended_history_sqlite() {
    let (new, old) = (TestDb::sqlite().await, TestDb::sqlite_at(17).await);
    new_facilities(&new.store).await;
    let url = old.url.clone();
    the_migration_reads_as_open_ended_history(&new.store, &old.store, async move {
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        sqlx::query(OLD_FACILITIES).execute(&pool).await.unwrap();
        pool.close().await;
    })
    .await;
    new.finish().await;
    old.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_store_left_by_migration_17_reads_as_open_ended_history_postgres() {
    let (Some(new), Some(old)) = (TestDb::pg().await, TestDb::pg_at(17).await) else { return };
    new_facilities(&new.store).await;
    let url = old.url.clone();
    the_migration_reads_as_open_ended_history(&new.store, &old.store, async move {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        sqlx::query(OLD_FACILITIES).execute(&pool).await.unwrap();
        pool.close().await;
    })
    .await;
    new.finish().await;
    old.finish().await;
}
