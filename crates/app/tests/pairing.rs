//! Pairing and telemedicine (docs/coverage.md, "Pairing and telemedicine";
//! docs/indicators.md, "Pairing and telemedicine"), on both engines: the
//! registers recorded inside a scope, checked (a refused batch writes nothing)
//! and audited; and each pairing indicator equal to a count made here, claim by
//! claim and facility by facility, on a small network made by hand.

mod common;

use app::pairing::{IndicatorRow, RowLevel};
use app::{App, Scope};
use common::*;
use domain::*;
use std::collections::{BTreeSet, HashMap};
use store::Store;

both_backends!(the_registers_are_checked_in_scope_and_audited, each_indicator_equals_a_count_by_hand);

fn facility(id: &str, region: &str, kind: FacilityKind, closed: Option<&str>) -> Facility {
    Facility {
        facility_id: id.into(),
        name: format!("{id} name"),
        kind,
        grade: kind.is_hospital().then_some(Grade(2)),
        region_code: code(region),
        lon: Some(117.5),
        lat: Some(31.5),
        opened: None,
        closed: closed.map(d),
    }
}

fn labelled<T: Clone>(rows: &[T]) -> Vec<(String, T)> {
    rows.iter().enumerate().map(|(i, r)| (format!("line {}", i + 2), r.clone())).collect()
}

fn pairing(helping: &str, county: &str, start: &str, end: Option<&str>) -> PairingRow {
    PairingRow {
        pairing: Pairing {
            helping_id: helping.into(),
            county_hospital_id: county.into(),
            start: d(start),
            end: end.map(d),
        },
        staff: None,
    }
}

fn with_staff(mut p: PairingRow, who: &str, from: &str, to: Option<&str>) -> PairingRow {
    let registered = who.starts_with('D');
    p.staff = Some(StaffSent {
        practitioner_id: registered.then(|| who.to_string()),
        name: if registered { String::new() } else { who.to_string() },
        role: "department head".into(),
        from: d(from),
        to: to.map(d),
    });
    p
}

fn link(hospital: &str, township: &str, kind: TelemedicineKind, start: &str, end: Option<&str>) -> TelemedicineLink {
    TelemedicineLink {
        county_hospital_id: hospital.into(),
        township_id: township.into(),
        kind,
        start: d(start),
        end: end.map(d),
    }
}

/// Anhui: the city of Hefei (3401) with the provincial hospital PH; the city
/// of Suzhou (3413) with the municipal hospital MH and three counties: 砀山
/// 341321 (A) and 萧县 341322 (B), both on the national list of poverty
/// counties, and 埇桥区 341302 (C), not on it. A has two county hospitals (CA,
/// CA2) and three township centres (TA1, TA2, and TA3 closed in 2023); B has
/// CB and TB; C has CC and TC.
async fn network(store: &Store) {
    let r = |c: &str, name: &str| Region {
        code: code(c),
        name: name.into(),
        level: code(c).level(),
        urban_rural: (c.len() == 12).then_some(220),
        population: (c.len() == 12).then_some(1000),
        lon: Some(117.0),
        lat: Some(33.5),
    };
    store
        .import_regions(&[
            r("34", "安徽省"),
            r("3401", "合肥市"),
            r("3413", "宿州市"),
            r("341302", "埇桥区"),
            r("341321", "砀山县"),
            r("341322", "萧县"),
            r("341302100", "C town"),
            r("341321100", "A town 1"),
            r("341321101", "A town 2"),
            r("341322100", "B town"),
            r("341302100201", "C village"),
            r("341321100201", "A village"),
            r("341322100201", "B village"),
        ])
        .await
        .unwrap();
    use FacilityKind::*;
    store
        .import_facilities(&[
            facility("PH", "3401", ProvincialHospital, None),
            facility("MH", "3413", MunicipalHospital, None),
            facility("CA", "341321", CountyHospital, None),
            facility("CA2", "341321", CountyHospital, None),
            facility("CB", "341322", CountyHospital, None),
            facility("CC", "341302", CountyHospital, None),
            facility("TA1", "341321100", TownshipCenter, None),
            facility("TA2", "341321101", TownshipCenter, None),
            facility("TA3", "341321101", TownshipCenter, Some("2023-01-01")),
            facility("TB", "341322100", TownshipCenter, None),
            facility("TC", "341302100", TownshipCenter, None),
            facility("VA", "341321100201", VillageClinic, None),
        ])
        .await
        .unwrap();
    store
        .import_practitioners(&[Practitioner {
            practitioner_id: "D1".into(),
            facility_id: "PH".into(),
            name: "Dr Zhang".into(),
            qualification: Qualification::Physician,
            gp: false,
            birth_date: d("1975-01-01"),
            active: true,
        }])
        .await
        .unwrap();
    store
        .import_households(&[
            household("HA", "341321100201"),
            household("HB", "341322100201"),
            household("HC", "341302100201"),
        ])
        .await
        .unwrap();
    store
        .import_persons(&[
            person(1, "HA", PovertyStatus::Lifted),
            person(2, "HB", PovertyStatus::Lifted),
            person(3, "HC", PovertyStatus::General),
        ])
        .await
        .unwrap();
}

async fn all_registers(app: &App) -> (Vec<store::StoredPairing>, Vec<store::StoredLink>) {
    (app.pairings(&Scope::all()).await.unwrap(), app.telemedicine_links(&Scope::all()).await.unwrap())
}

async fn the_registers_are_checked_in_scope_and_audited(store: &Store) {
    network(store).await;
    let app = App::new(store.clone());
    let county_a = Scope::parse("341321").unwrap();
    let good = with_staff(pairing("PH", "CA", "2021-01-01", None), "D1", "2021-03-01", Some("2022-02-28"));
    let done = app.record_pairings(&county_a, &labelled(std::slice::from_ref(&good)), "officer_a").await.unwrap();
    assert_eq!((done.inserted, done.staff_inserted), (1, 1));
    let ps = app.pairings(&county_a).await.unwrap();
    assert_eq!(ps.len(), 1);
    assert_eq!(
        ps[0].staff[0].staff.name, "Dr Zhang",
        "the name of a registered practitioner is taken from the registry"
    );
    assert_eq!((ps[0].helping_name.as_str(), ps[0].region_code), ("PH name", code("341321")));
    // Given again: unchanged. A second term of another person joins the pairing.
    let again = app.record_pairings(&county_a, &labelled(std::slice::from_ref(&good)), "officer_a").await.unwrap();
    assert_eq!((again.inserted, again.unchanged, again.staff_inserted), (0, 1, 0));
    let second = with_staff(pairing("PH", "CA", "2021-01-01", None), "王护士长", "2022-01-01", None);
    app.record_pairings(&county_a, &labelled(&[second]), "officer_a").await.unwrap();
    assert_eq!(app.pairings(&county_a).await.unwrap()[0].staff.len(), 2);
    // Other counties do not see it.
    assert!(app.pairings(&Scope::parse("341322").unwrap()).await.unwrap().is_empty());

    // Refusals name the row and the field, and write nothing of the batch.
    let refuse_pairings = |rows: Vec<PairingRow>, scope: Scope| {
        let app = app.clone();
        async move {
            let before = all_registers(&app).await;
            let e = app.record_pairings(&scope, &labelled(&rows), "officer_a").await.unwrap_err().to_string();
            assert_eq!(before, all_registers(&app).await, "nothing written: {e}");
            e
        }
    };
    let fine = pairing("MH", "CA2", "2024-01-01", None);
    let cases: Vec<(Vec<PairingRow>, &str, &str)> = vec![
        // The helping hospital must be above the county.
        (vec![fine.clone(), pairing("CA2", "CA", "2024-01-01", None)], "helping_id:", "municipal or provincial"),
        // The helped one must be a county hospital.
        (vec![fine.clone(), pairing("PH", "TA1", "2024-01-01", None)], "county_hospital_id:", "county hospital"),
        // Unknown facility.
        (vec![fine.clone(), pairing("NOPE", "CA", "2024-01-01", None)], "helping_id:", "not in the store"),
        // The same hospitals, sharing days with the kept pairing.
        (vec![fine.clone(), pairing("PH", "CA", "2026-01-01", None)], "start:", "shares days"),
        // The same hospitals twice in one batch.
        (vec![fine.clone(), pairing("MH", "CA2", "2025-01-01", None)], "start:", "shares days"),
        // A practitioner sent who is not in the store.
        (
            vec![fine.clone(), with_staff(fine.clone(), "D9", "2024-02-01", None)],
            "staff_practitioner_id:",
            "not in the store",
        ),
        // A second term of the same person sharing days with the first.
        (
            vec![fine.clone(), with_staff(pairing("PH", "CA", "2021-01-01", None), "D1", "2022-01-01", None)],
            "staff_from:",
            "shares days",
        ),
    ];
    for (rows, field, why) in cases {
        let e = refuse_pairings(rows, county_a.clone()).await;
        assert!(e.contains("line 3") && e.contains(field) && e.contains(why), "{e}");
    }
    // The county hospital outside the writer's scope (B's, from A).
    let e = refuse_pairings(vec![pairing("MH", "CB", "2024-01-01", None)], county_a.clone()).await;
    assert!(e.contains("county_hospital_id:") && e.contains("inside your scope"), "{e}");
    // Ending the pairing before a term begins refuses; ending it after the
    // first term ends the running second term with it.
    let e = refuse_pairings(vec![pairing("PH", "CA", "2021-01-01", Some("2021-12-31"))], county_a.clone()).await;
    assert!(e.contains("end:") && e.contains("王护士长"), "{e}");
    let ended = app
        .record_pairings(&county_a, &labelled(&[pairing("PH", "CA", "2021-01-01", Some("2023-06-30"))]), "officer_a")
        .await
        .unwrap();
    assert_eq!((ended.updated, ended.staff_updated), (1, 1));
    let p = &app.pairings(&county_a).await.unwrap()[0];
    assert_eq!(p.pairing.end, Some(d("2023-06-30")));
    assert_eq!(p.staff[1].staff.to, Some(d("2023-06-30")), "the running term ends with the pairing");
    assert_eq!(p.staff[0].staff.to, Some(d("2022-02-28")), "an ended term is left as it was");

    // Telemedicine links.
    use TelemedicineKind::*;
    app.record_telemedicine(&county_a, &labelled(&[link("CA", "TA1", Consultation, "2022-01-01", None)]), "officer_a")
        .await
        .unwrap();
    let refuse_links = |rows: Vec<TelemedicineLink>, scope: Scope| {
        let app = app.clone();
        async move {
            let before = all_registers(&app).await;
            let e = app.record_telemedicine(&scope, &labelled(&rows), "officer_a").await.unwrap_err().to_string();
            assert_eq!(before, all_registers(&app).await, "nothing written: {e}");
            e
        }
    };
    let fine = link("CA2", "TA2", Ecg, "2023-01-01", None);
    let cases: Vec<(Vec<TelemedicineLink>, &str, &str)> = vec![
        // A township centre of another county.
        (vec![fine.clone(), link("CA", "TB", Imaging, "2023-01-01", None)], "township_id:", "own county"),
        // Not a township centre.
        (vec![fine.clone(), link("CA", "VA", Imaging, "2023-01-01", None)], "township_id:", "township health centre"),
        // Not from a county hospital (a provincial one lies outside the scope too).
        (vec![fine.clone(), link("TA1", "TA2", Imaging, "2023-01-01", None)], "county_hospital_id:", "county hospital"),
        // The same link sharing days.
        (vec![fine.clone(), link("CA", "TA1", Consultation, "2023-01-01", None)], "start:", "shares days"),
        // A centre closed before the start.
        (vec![fine.clone(), link("CA", "TA3", Imaging, "2023-01-01", None)], "township_id:", "closed on 2023-01-01"),
    ];
    for (rows, field, why) in cases {
        let e = refuse_links(rows, county_a.clone()).await;
        assert!(e.contains("line 3") && e.contains(field) && e.contains(why), "{e}");
    }
    let e = refuse_links(vec![link("CB", "TB", Imaging, "2023-01-01", None)], county_a.clone()).await;
    assert!(e.contains("county_hospital_id:") && e.contains("inside your scope"), "{e}");
    // Another kind between the same facilities is another link; an end set.
    app.record_telemedicine(&county_a, &labelled(&[link("CA", "TA1", Imaging, "2023-01-01", None)]), "officer_a")
        .await
        .unwrap();
    let set = app
        .record_telemedicine(
            &county_a,
            &labelled(&[link("CA", "TA1", Consultation, "2022-01-01", Some("2024-12-31"))]),
            "officer_a",
        )
        .await
        .unwrap();
    assert_eq!((set.inserted, set.updated), (0, 1));
    let links = app.telemedicine_links(&county_a).await.unwrap();
    assert_eq!(links.len(), 2);
    assert_eq!(links[0].link.end, Some(d("2024-12-31")));

    // Every write is audited, with the county hospital's region.
    let log = app.audit_log(100).await.unwrap();
    let pairings: Vec<_> = log.iter().filter(|e| e.action == "pairings_recorded").collect();
    assert_eq!(pairings.len(), 4, "{pairings:?}");
    assert!(pairings.iter().all(|e| e.username == "officer_a" && e.target == "pairing PH with CA"));
    assert_eq!(log.iter().filter(|e| e.action == "telemedicine_recorded").count(), 3);
}

/// A claim of the hand-made network, with what the test expects of it.
struct Case {
    claim: Claim,
    /// The patient's county (6 digits).
    county: &'static str,
    /// Whether it is treated outside that county, as the rule says by hand.
    outside: bool,
}

#[allow(clippy::too_many_arguments)]
fn case(
    id: &str,
    seq: u16,
    county: &'static str,
    facility: &str,
    level: FacilityLevel,
    kind: ClaimKind,
    discharged: &str,
    diagnosis: &str,
    outside: bool,
) -> Case {
    let mut c = claim(id, seq, discharged, 1_000, 800);
    c.facility_id = facility.into();
    c.facility_level = level;
    c.kind = kind;
    c.diagnosis = diagnosis.into();
    Case { claim: c, county, outside }
}

async fn each_indicator_equals_a_count_by_hand(store: &Store) {
    network(store).await;
    let app = App::new(store.clone());
    let all = Scope::all();
    use TelemedicineKind::*;
    // Pairings: A's CA paired from 2021 to 2025; B's CB from 2020 to 2023 only;
    // C's CC (not a poor county) from 2024.
    app.record_pairings(
        &all,
        &labelled(&[
            pairing("PH", "CA", "2021-01-01", Some("2025-12-31")),
            pairing("MH", "CB", "2020-01-01", Some("2023-12-31")),
            pairing("MH", "CC", "2024-01-01", None),
        ]),
        "admin",
    )
    .await
    .unwrap();
    // Links: TA1 twice (two kinds); TA2's ended in March; TB's starts in July;
    // TC's runs.
    app.record_telemedicine(
        &all,
        &labelled(&[
            link("CA", "TA1", Consultation, "2022-01-01", None),
            link("CA", "TA1", Imaging, "2022-01-01", None),
            link("CA2", "TA2", Ecg, "2023-01-01", Some("2024-03-31")),
            link("CB", "TB", Education, "2024-07-01", None),
            link("CC", "TC", Consultation, "2020-01-01", None),
        ]),
        "admin",
    )
    .await
    .unwrap();
    use ClaimKind::*;
    use FacilityLevel as L;
    let cases = vec![
        // A's patient (1): at its county hospitals, at the provincial hospital
        // (a city's code: outside every county), unregistered facilities by
        // their level, at C's county hospital.
        case("A1", 1, "341321", "CA", L::County, Inpatient, "2024-02-01", "C16.0", false),
        case("A2", 1, "341321", "CA", L::County, Inpatient, "2024-03-01", "C16.9", false),
        case("A3", 1, "341321", "CA", L::County, Inpatient, "2024-04-01", "I10", false),
        case("A4", 1, "341321", "CA", L::County, Inpatient, "2024-05-01", "J18.0", false),
        case("A5", 1, "341321", "CA2", L::County, Inpatient, "2024-05-02", "E11.9", false),
        case("A6", 1, "341321", "PH", L::Provincial, Inpatient, "2024-06-01", "C16", true),
        case("A7", 1, "341321", "", L::Provincial, Inpatient, "2024-06-02", "C16", true),
        case("A8", 1, "341321", "", L::County, Inpatient, "2024-06-03", "C16", false),
        case("A9", 1, "341321", "CC", L::County, Inpatient, "2024-06-04", "K35", true),
        case("A10", 1, "341321", "X-REMOTE", L::OutOfProvince, Inpatient, "2024-06-05", "C16", true),
        // Not counted: an outpatient visit, a claim after the day, one of 2023.
        case("A11", 1, "341321", "CA", L::County, Outpatient, "2024-02-01", "Z00", false),
        case("A12", 1, "341321", "CA", L::County, Inpatient, "2024-07-15", "M54", false),
        case("A13", 1, "341321", "CA", L::County, Inpatient, "2023-12-31", "N18", false),
        // B's patient (2).
        case("B1", 2, "341322", "CB", L::County, Inpatient, "2024-01-10", "I10", false),
        case("B2", 2, "341322", "CB", L::County, Inpatient, "2024-01-11", "I10.x05", false),
        case("B3", 2, "341322", "MH", L::Municipal, Inpatient, "2024-01-12", "I10", true),
        // C's patient (3).
        case("C1", 3, "341302", "CC", L::County, Inpatient, "2024-01-10", "C16", false),
        case("C2", 3, "341302", "CC", L::County, Inpatient, "2024-01-11", "I10", false),
        case("C3", 3, "341302", "CC", L::County, Inpatient, "2024-01-12", "J18", false),
        case("C4", 3, "341302", "CC", L::County, Inpatient, "2024-01-13", "N18", false),
    ];
    let claims: Vec<Claim> = cases.iter().map(|c| c.claim.clone()).collect();
    store.import_claims(&claims).await.unwrap();
    let on = d("2024-06-30");
    let from = d("2024-01-01");
    let counted = |c: &&Case| c.claim.kind == Inpatient && c.claim.discharged >= from && c.claim.discharged <= on;

    // By hand: inpatients and those outside by the patient's county.
    let mut inpatients: HashMap<&str, (i64, i64)> = HashMap::new();
    for c in cases.iter().filter(counted) {
        let e = inpatients.entry(c.county).or_default();
        e.0 += 1;
        e.1 += i64::from(c.outside);
    }
    // By hand: the distinct categories of each county's county hospitals.
    let hospitals: HashMap<&str, &str> =
        [("CA", "341321"), ("CA2", "341321"), ("CB", "341322"), ("CC", "341302")].into();
    let mut diseases: HashMap<&str, BTreeSet<String>> = HashMap::new();
    for c in cases.iter().filter(counted) {
        if let Some(county) = hospitals.get(c.claim.facility_id.as_str()) {
            diseases.entry(*county).or_default().insert(c.claim.diagnosis[..3].to_string());
        }
    }
    let n = |c: &str| diseases.get(c).map_or(0, |s| s.len()) as f64;
    assert_eq!((n("341321"), n("341322"), n("341302")), (4.0, 1.0, 5.0), "the hand count itself");
    let median = 4.0; // of 1, 4, 5

    let r = app.pairing_indicators(&all, on).await.unwrap();
    assert_eq!((r.on, r.from), (on, from));
    let row = |level: RowLevel, code: Option<&str>| -> &IndicatorRow {
        r.rows
            .iter()
            .find(|x| x.level == level && x.code.map(|c| c.short()).as_deref() == code)
            .unwrap_or_else(|| panic!("no row {level:?} {code:?} in {:?}", r.rows))
    };
    for county in ["341321", "341322", "341302"] {
        let x = row(RowLevel::County, Some(county));
        let (ni, no) = inpatients.get(county).copied().unwrap_or_default();
        assert_eq!((x.inpatients, x.inpatients_outside), (ni, no), "inpatients of {county}");
        assert_eq!(x.diseases, Some(n(county)), "diseases of {county}");
        assert_eq!(x.median, Some(median));
        assert_eq!(x.counties_at_median, u32::from(n(county) >= 0.9 * median));
    }
    // Poor counties: A (paired on the day) and B (its pairing ended in 2023).
    let a = row(RowLevel::County, Some("341321"));
    let b = row(RowLevel::County, Some("341322"));
    let c = row(RowLevel::County, Some("341302"));
    assert_eq!((a.poor_counties, a.poor_counties_paired), (1, 1));
    assert_eq!((b.poor_counties, b.poor_counties_paired), (1, 0));
    assert_eq!((c.poor_counties, c.poor_counties_paired), (0, 0), "not on the list, though paired");
    // Township centres open on the day: A's TA1 (linked) and TA2 (its link
    // ended), not TA3 (closed); B's TB (its link starts later); C's TC (linked).
    assert_eq!((a.townships, a.townships_linked), (2, 1));
    assert_eq!((b.townships, b.townships_linked), (1, 0));
    assert_eq!((c.townships, c.townships_linked), (1, 1));

    // The city and the province add the counties up; the nation too.
    for (level, code) in [(RowLevel::City, Some("3413")), (RowLevel::Province, Some("34")), (RowLevel::Nation, None)] {
        let x = row(level, code);
        assert_eq!((x.poor_counties, x.poor_counties_paired), (2, 1), "{level:?}");
        assert_eq!(x.paired_share(), Some(0.5));
        assert_eq!((x.townships, x.townships_linked), (4, 2));
        let (ni, no) = inpatients.values().fold((0, 0), |s, v| (s.0 + v.0, s.1 + v.1));
        assert_eq!((x.inpatients, x.inpatients_outside), (ni, no));
        assert_eq!(x.diseases, Some(median), "the median of the counties'");
        assert_eq!((x.counties_with_hospital, x.counties_at_median), (3, 2));
    }
    assert!(r.notes.is_empty(), "{:?}", r.notes);

    // A county's officer sees their county alone, against the province's median.
    let only = app.pairing_indicators(&Scope::parse("341322").unwrap(), on).await.unwrap();
    assert_eq!(only.rows.len(), 1);
    assert_eq!((only.rows[0].diseases, only.rows[0].median), (Some(1.0), Some(median)));
    assert_eq!(only.rows[0].outside_share(), Some(1.0 / 3.0));
    // C alone has no listed poor county: said, not counted.
    let c_only = app.pairing_indicators(&Scope::parse("341302").unwrap(), on).await.unwrap();
    assert!(c_only.notes.iter().any(|n| n.contains("832")), "{:?}", c_only.notes);
    // Another day: in 2025 A is still paired, the links as they stand then.
    let later = app.pairing_indicators(&all, d("2026-01-01")).await.unwrap();
    let nation = later.rows.iter().find(|x| x.level == RowLevel::Nation).unwrap();
    assert_eq!(nation.poor_counties_paired, 0, "A's pairing ended on 2025-12-31");
    assert_eq!((nation.townships, nation.townships_linked), (4, 3), "TA1, TB, TC");
    assert_eq!(nation.inpatients, 0, "no claim of 2026");
}
