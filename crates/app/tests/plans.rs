//! Kept roving and dispatch plans (docs/plans.md), on both engines: the life
//! cycle (drafts from the planner and by hand, edits of drafts only, moves by
//! the roles allowed, versions superseding one another, scope), visits
//! recorded against the plan in force and refused where the plan does not
//! hold, and the share of planned visits made, against a count made here one
//! day at a time.

mod common;

use app::plans::PlanDraft;
use app::{App, AppError, Role, Scope};
use chrono::{Datelike, NaiveDate};
use common::*;
use coverage::PlanSettings;
use domain::*;
use store::Store;

both_backends!(
    a_plan_moves_from_draft_to_in_force_by_the_roles_allowed,
    visits_are_recorded_and_counted,
    tours_are_kept_with_the_plan_and_read_back_equal,
    tours_are_checked_and_a_refused_plan_writes_nothing
);

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

fn doctor(id: &str, at: &str, q: Qualification) -> Practitioner {
    Practitioner {
        practitioner_id: id.into(),
        facility_id: at.into(),
        name: format!("doctor {id}"),
        qualification: q,
        gp: false,
        birth_date: d("1975-01-01"),
        active: true,
    }
}

/// County 341122: township centre FT (physician T1) in town A, clinic FA with
/// V1 in village A1, clinic FA2 without a doctor in A2 (blank, 1,200
/// people: roved). County 341123 with clinic FB (B1) in B1.
async fn setup(store: &Store) -> App {
    let mut rs = regions();
    rs.push(Region {
        code: code("341123"),
        name: "Other county".into(),
        level: RegionLevel::County,
        urban_rural: None,
        population: None,
        lon: None,
        lat: None,
    });
    rs.push(Region {
        code: code("341123100"),
        name: "Town B".into(),
        level: RegionLevel::Township,
        urban_rural: None,
        population: None,
        lon: None,
        lat: None,
    });
    store.import_regions(&rs).await.unwrap();
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
            doctor("T1", "FT", Qualification::Physician),
            doctor("V1", "FA", Qualification::RuralDoctor),
            doctor("B1", "FB", Qualification::RuralDoctor),
        ])
        .await
        .unwrap();
    App::new(store.clone())
}

fn scope(s: &str) -> Scope {
    Scope::parse(s).unwrap()
}

const YEAR: (&str, &str) = ("2027-01-01", "2027-12-31");

fn period() -> (NaiveDate, NaiveDate) {
    (d(YEAR.0), d(YEAR.1))
}

fn rove(village: &str, who: &str, days: &str) -> PlanLine {
    PlanLine {
        village: code(village),
        kind: LineKind::Rove,
        practitioner_id: Some(who.into()),
        term_start: None,
        term_end: None,
        days: PlanDays::parse(days).unwrap(),
        halfdays: String::new(),
        travel_minutes: None,
    }
}

fn dispatch(village: &str, who: Option<&str>, term: (&str, &str)) -> PlanLine {
    PlanLine {
        village: code(village),
        kind: LineKind::Dispatch,
        practitioner_id: who.map(str::to_string),
        term_start: Some(d(term.0)),
        term_end: Some(d(term.1)),
        days: PlanDays::WORKING_WEEK,
        halfdays: String::new(),
        travel_minutes: None,
    }
}

fn err_of<T: std::fmt::Debug>(r: Result<T, AppError>) -> AppError {
    r.expect_err("refused")
}

async fn a_plan_moves_from_draft_to_in_force_by_the_roles_allowed(store: &Store) {
    let app = setup(store).await;
    let county = scope("341122");
    let settings = PlanSettings::default();
    let net = coverage::Settings::default();
    let from_planner = |s: Scope, role: Role| {
        let app = app.clone();
        async move {
            app.draft_plan_from_planner(
                &s,
                role,
                code("341122"),
                period(),
                d("2026-12-01"),
                &settings,
                None,
                &net,
                "officer_a",
            )
            .await
        }
    };

    // The planner's plan saved as a draft: A2 roved by T1 twice a week.
    let v1 = from_planner(county.clone(), Role::Officer).await.unwrap();
    assert_eq!((v1.version, v1.state), (1, PlanState::Draft));
    let kept = app.kept_plan(&county, v1.id).await.unwrap();
    assert_eq!(kept.lines.len(), 1);
    let l = &kept.lines[0].line;
    assert_eq!((l.village, l.kind, l.practitioner_id.as_deref()), (code("341122100202"), LineKind::Rove, Some("T1")));
    assert_eq!(l.days.per_week(), 2, "{}", l.days);
    assert_eq!(kept.planner.covered_population, 1200);
    assert!(kept.planner.from_planner);
    assert!(kept.gap() >= 0.0);

    // Who may draft, and where.
    assert!(matches!(err_of(from_planner(county.clone(), Role::Viewer).await), AppError::Forbidden(_)));
    assert!(matches!(err_of(from_planner(county.clone(), Role::VillageDoctor).await), AppError::Forbidden(_)));
    assert!(matches!(err_of(from_planner(scope("341123"), Role::Officer).await), AppError::NotFound(_)));
    let village_plan = app
        .draft_plan_from_planner(
            &county,
            Role::Officer,
            code("341122100202"),
            period(),
            d("2026-12-01"),
            &settings,
            None,
            &net,
            "a",
        )
        .await;
    assert!(matches!(err_of(village_plan), AppError::Invalid(m) if m.contains("county's")));
    let backwards = app
        .draft_plan_from_planner(
            &county,
            Role::Officer,
            code("341122"),
            (d(YEAR.1), d(YEAR.0)),
            d(YEAR.0),
            &settings,
            None,
            &net,
            "a",
        )
        .await;
    assert!(matches!(err_of(backwards), AppError::Invalid(m) if m.contains("period_end")));

    // Edits of the draft: each line checked, naming it.
    let edit = |lines: Vec<PlanLine>| {
        let app = app.clone();
        let county = county.clone();
        async move { app.edit_plan_lines(&county, Role::Officer, v1.id, &lines, "officer_a").await }
    };
    let base = rove("341122100202", "T1", "Mon;Wed");
    let e = err_of(edit(vec![base.clone(), rove("341122100202", "NOBODY", "Tue")]).await);
    assert!(
        matches!(&e, AppError::Invalid(m) if m.contains("line 2") && m.contains("NOBODY is not in the store")),
        "{e}"
    );
    let e = err_of(edit(vec![rove("341122100209", "T1", "Tue")]).await);
    assert!(matches!(&e, AppError::Invalid(m) if m.contains("no such village")), "{e}");
    let e = err_of(edit(vec![rove("341123100201", "T1", "Tue")]).await);
    assert!(matches!(&e, AppError::Invalid(m) if m.contains("outside the plan's region")), "{e}");
    let e = err_of(edit(vec![dispatch("341122100201", Some("V1"), ("2028-12-31", "2027-03-01"))]).await);
    assert!(matches!(&e, AppError::Invalid(m) if m.contains("term_end")), "{e}");
    // A refused edit changed nothing.
    assert_eq!(app.kept_plan(&county, v1.id).await.unwrap().lines.len(), 1);

    // A dispatch line without its doctor: the draft is kept, but not approved.
    edit(vec![base.clone(), dispatch("341122100201", None, ("2027-03-01", "2028-12-31"))]).await.unwrap();
    let e = err_of(app.move_plan(&county, Role::Officer, v1.id, PlanState::Approved, d("2026-12-10"), "chief").await);
    assert!(matches!(&e, AppError::Invalid(m) if m.contains("name the dispatched doctor")), "{e}");
    edit(vec![base.clone(), dispatch("341122100201", Some("V1"), ("2027-03-01", "2028-12-31"))]).await.unwrap();

    // Who may approve: a county officer or an administrator, of the plan's county.
    for (s, role) in [("341122100", Role::Officer), ("341122", Role::VillageDoctor), ("341122", Role::Clerk)] {
        let e = err_of(app.move_plan(&scope(s), role, v1.id, PlanState::Approved, d("2026-12-10"), "x").await);
        assert!(matches!(e, AppError::Forbidden(_)), "{s} {role}: {e}");
    }
    let e =
        err_of(app.move_plan(&scope("341123"), Role::Officer, v1.id, PlanState::Approved, d("2026-12-10"), "x").await);
    assert!(matches!(e, AppError::NotFound(_)), "{e}");
    // Not in force before approval; not moved back by hand to superseded.
    let e = err_of(app.move_plan(&county, Role::Officer, v1.id, PlanState::InForce, d("2026-12-10"), "chief").await);
    assert!(matches!(&e, AppError::Conflict(m) if m.contains("draft")), "{e}");
    let e = err_of(app.move_plan(&county, Role::Officer, v1.id, PlanState::Superseded, d("2026-12-10"), "chief").await);
    assert!(matches!(e, AppError::Invalid(_)), "{e}");

    let approved = app.move_plan(&county, Role::Officer, v1.id, PlanState::Approved, d("2026-12-10"), "chief").await;
    assert_eq!(approved.unwrap().state, PlanState::Approved);
    // An approved plan is not edited.
    let e = err_of(edit(vec![base.clone()]).await);
    assert!(matches!(&e, AppError::Conflict(m) if m.contains("only a draft is edited")), "{e}");
    // In force from the period's start when put in force before it.
    let on = app.move_plan(&county, Role::Administrator, v1.id, PlanState::InForce, d("2026-12-20"), "admin").await;
    let on = on.unwrap();
    assert_eq!((on.state, on.in_force_from), (PlanState::InForce, Some(d(YEAR.0))));

    // A new version of the same region and period: a draft while v1 stays
    // in force, superseding it once put in force itself.
    let v2 = from_planner(county.clone(), Role::Officer).await.unwrap();
    assert_eq!((v2.version, v2.state), (2, PlanState::Draft));
    let v3 = from_planner(county.clone(), Role::Administrator).await.unwrap();
    assert_eq!(v3.version, 3);
    let all = app.plans(&county).await.unwrap();
    let states: Vec<(i64, PlanState)> = all.iter().map(|p| (p.version, p.state)).collect();
    assert_eq!(states, [(3, PlanState::Draft), (2, PlanState::Superseded), (1, PlanState::InForce)]);
    let e = err_of(app.move_plan(&county, Role::Officer, v2.id, PlanState::Approved, d("2027-01-10"), "chief").await);
    assert!(matches!(e, AppError::Conflict(_)), "a superseded draft stays as it is: {e}");
    app.move_plan(&county, Role::Officer, v3.id, PlanState::Approved, d("2027-01-10"), "chief").await.unwrap();
    app.move_plan(&county, Role::Officer, v3.id, PlanState::InForce, d("2027-02-01"), "chief").await.unwrap();
    let v1_now = app.kept_plan(&county, v1.id).await.unwrap().plan;
    assert_eq!((v1_now.state, v1_now.in_force_until), (PlanState::Superseded, Some(d("2027-02-01"))));
    let e = err_of(app.move_plan(&county, Role::Officer, v1.id, PlanState::Withdrawn, d("2027-02-02"), "chief").await);
    assert!(matches!(e, AppError::Conflict(_)), "{e}");

    // Scope: the county's plans are seen from its township and villages, not
    // from another county.
    assert_eq!(app.plans(&scope("341122100")).await.unwrap().len(), 3);
    assert_eq!(app.plans(&scope("341122100202")).await.unwrap().len(), 3);
    assert!(app.plans(&scope("341123")).await.unwrap().is_empty());
    assert!(matches!(err_of(app.kept_plan(&scope("341123"), v1.id).await), AppError::NotFound(_)));
    // A township's own plan is not seen from the county next door either,
    // and a township officer drafts it.
    let town = app
        .draft_plan(
            &scope("341122100"),
            Role::Officer,
            &app::plans::PlanDraft {
                region: code("341122100"),
                period_start: d(YEAR.0),
                period_end: d(YEAR.1),
                lines: vec![rove("341122100202", "T1", "Fri")],
            },
            "township_officer",
        )
        .await
        .unwrap();
    assert_eq!(town.version, 1, "a township's versions are its own");
    assert_eq!(app.plans(&county).await.unwrap().len(), 4);
    assert_eq!(app.plans(&scope("341123")).await.unwrap().len(), 0);

    // Every write audited, with the plan's region.
    let log = app.audit_log(200).await.unwrap();
    let saved = log.iter().filter(|e| e.action == "plan_saved").count();
    let moved = log.iter().filter(|e| e.action == "plan_moved").count();
    let edited = log.iter().filter(|e| e.action == "plan_edited").count();
    assert_eq!((saved, moved, edited), (4, 4, 2));
    assert!(log.iter().filter(|e| e.action.starts_with("plan_")).all(|e| e.region.is_some()));
}

/// The plans' visits due on each day from `from` to `to`, counted one day at
/// a time for lines on named weekdays: (in force from, until, weekdays, visits
/// recorded).
type Window<'a> = (NaiveDate, Option<NaiveDate>, &'a [chrono::Weekday], &'a [NaiveDate]);

fn count_by_hand(windows: &[Window<'_>], from: NaiveDate, to: NaiveDate, today: NaiveDate) -> (u64, u64) {
    let (mut due, mut made) = (0, 0);
    for (start, until, days, visits) in windows {
        let mut n = 0;
        let mut x = from;
        while x <= to.min(today) {
            if x >= *start && until.is_none_or(|u| x < u) && days.contains(&x.weekday()) {
                n += 1;
            }
            x = x.succ_opt().unwrap();
        }
        let v = visits.iter().filter(|v| (from..=to).contains(*v)).count() as u64;
        due += n;
        made += v.min(n);
    }
    (due, made)
}

async fn visits_are_recorded_and_counted(store: &Store) {
    use chrono::Weekday::*;
    let app = setup(store).await;
    let county = scope("341122");
    let draft = |lines: Vec<PlanLine>| app::plans::PlanDraft {
        region: code("341122"),
        period_start: d(YEAR.0),
        period_end: d(YEAR.1),
        lines,
    };
    let v1 = app.draft_plan(&county, Role::Officer, &draft(vec![rove("341122100202", "T1", "Mon;Wed")]), "o").await;
    let v1 = v1.unwrap();
    let visit = |plan: i64, village: &str, who: Option<&str>, day: &str| PlanVisit {
        plan_id: plan,
        village: code(village),
        practitioner_id: who.map(str::to_string),
        date: d(day),
        note: String::new(),
    };
    let record = |s: Scope, role: Role, rows: Vec<PlanVisit>, today: &str| {
        let app = app.clone();
        let today = d(today);
        async move {
            let rows: Vec<(String, PlanVisit)> =
                rows.into_iter().enumerate().map(|(i, v)| (format!("line {}", i + 2), v)).collect();
            app.record_plan_visits(&s, role, &rows, "doctor_t1", today).await
        }
    };
    let refused = |r: Result<store::PlanVisitWrites, AppError>, want: &str| {
        let e = err_of(r);
        assert!(matches!(&e, AppError::Invalid(m) if m.contains(want)), "want {want:?}: {e}");
    };

    // Not in force yet.
    let a2 = |day: &str| visit(v1.id, "341122100202", None, day);
    refused(record(county.clone(), Role::Officer, vec![a2("2027-01-04")], "2027-01-20").await, "the plan is draft");
    app.move_plan(&county, Role::Officer, v1.id, PlanState::Approved, d("2027-01-02"), "chief").await.unwrap();
    refused(record(county.clone(), Role::Officer, vec![a2("2027-01-04")], "2027-01-20").await, "the plan is approved");
    app.move_plan(&county, Role::Officer, v1.id, PlanState::InForce, d("2027-01-04"), "chief").await.unwrap();

    // Refused where the plan does not hold, naming the row.
    refused(
        record(county.clone(), Role::Officer, vec![a2("2028-01-03")], "2028-01-20").await,
        "outside the plan's period",
    );
    refused(
        record(county.clone(), Role::Officer, vec![a2("2027-01-03")], "2027-01-20").await,
        "before the plan was in force",
    );
    refused(record(county.clone(), Role::Officer, vec![a2("2027-01-25")], "2027-01-20").await, "after today");
    refused(
        record(county.clone(), Role::Officer, vec![visit(v1.id, "341122100201", None, "2027-01-04")], "2027-01-20")
            .await,
        "the village is not in the plan",
    );
    refused(
        record(
            county.clone(),
            Role::Officer,
            vec![visit(v1.id, "341122100202", Some("V1"), "2027-01-04")],
            "2027-01-20",
        )
        .await,
        "V1 has no line",
    );
    refused(
        record(
            county.clone(),
            Role::Officer,
            vec![visit(v1.id + 100, "341122100202", None, "2027-01-04")],
            "2027-01-20",
        )
        .await,
        "no such plan",
    );
    // A village doctor of A1 records nothing in A2; of another county, sees no plan.
    refused(
        record(scope("341122100201"), Role::VillageDoctor, vec![a2("2027-01-04")], "2027-01-20").await,
        "outside your scope",
    );
    refused(
        record(scope("341123100201"), Role::VillageDoctor, vec![a2("2027-01-04")], "2027-01-20").await,
        "no such plan",
    );
    let e = err_of(record(county.clone(), Role::Viewer, vec![a2("2027-01-04")], "2027-01-20").await);
    assert!(matches!(e, AppError::Forbidden(_)), "{e}");
    // One bad row refuses the batch, naming it; nothing written.
    let e = err_of(record(county.clone(), Role::Officer, vec![a2("2027-01-04"), a2("2027-01-21")], "2027-01-20").await);
    assert!(matches!(&e, AppError::Invalid(m) if m.contains("line 3") && m.contains("after today")), "{e}");
    assert!(app.kept_plan(&county, v1.id).await.unwrap().visits.is_empty());

    // The doctor of A2's village records visits, in force from 2027-01-04: two
    // on Mondays, one on a Wednesday, one on a Tuesday (not planned, still made).
    let made = ["2027-01-04", "2027-01-06", "2027-01-11", "2027-01-12"];
    let rows: Vec<PlanVisit> = made.iter().map(|x| a2(x)).collect();
    let done = record(scope("341122100202"), Role::VillageDoctor, rows, "2027-01-20").await.unwrap();
    assert_eq!((done.inserted, done.unchanged), (4, 0));
    let again = record(county.clone(), Role::Officer, vec![a2("2027-01-11")], "2027-01-20").await.unwrap();
    assert_eq!((again.inserted, again.unchanged), (0, 1), "a visit given again is kept as it was");

    // The share of planned visits made, against a count made by hand.
    let made_days: Vec<NaiveDate> = made.iter().map(|x| d(x)).collect();
    let check = |from: &str, to: &str, today: &str, windows: Vec<Window<'_>>| {
        let app = app.clone();
        let (from, to, today) = (d(from), d(to), d(today));
        let want = count_by_hand(&windows, from, to, today);
        async move {
            let got = app.planned_visits_made(&scope("34"), from, to, today).await.unwrap();
            let of = |r: &str| got.iter().find(|s| s.region == code(r)).map(|s| (s.due, s.made));
            assert_eq!(of("341122100"), Some(want), "township, {from} to {to}, today {today}");
            assert_eq!(of("341122"), Some(want), "county");
            assert_eq!(got.len(), 2, "{got:?}");
            want
        }
    };
    let jan =
        check("2027-01-01", "2027-01-31", "2027-01-20", vec![(d("2027-01-04"), None, &[Mon, Wed], &made_days)]).await;
    assert_eq!(jan, (6, 4), "Jan 4, 6, 11, 13, 18, 20 due; 4 made");
    // The plan page's figures: the same for the plan's one line.
    let kept = app.kept_plan(&county, v1.id).await.unwrap();
    let p = kept.progress(d("2027-01-20"));
    assert_eq!((p[0].1, p[0].2), (6, 4));
    // Narrower: the second week alone.
    check("2027-01-11", "2027-01-17", "2027-01-20", vec![(d("2027-01-04"), None, &[Mon, Wed], &made_days)]).await;

    // A new version (Fridays) put in force on 2027-02-01 supersedes v1 from then.
    let v2 =
        app.draft_plan(&county, Role::Officer, &draft(vec![rove("341122100202", "T1", "Fri")]), "o").await.unwrap();
    app.move_plan(&county, Role::Officer, v2.id, PlanState::Approved, d("2027-01-30"), "chief").await.unwrap();
    app.move_plan(&county, Role::Officer, v2.id, PlanState::InForce, d("2027-02-01"), "chief").await.unwrap();
    refused(record(county.clone(), Role::Officer, vec![a2("2027-02-03")], "2027-02-10").await, "superseded");
    let fri = ["2027-02-05"];
    record(county.clone(), Role::Officer, vec![visit(v2.id, "341122100202", Some("T1"), fri[0])], "2027-02-10")
        .await
        .unwrap();
    let fri_days: Vec<NaiveDate> = fri.iter().map(|x| d(x)).collect();
    let both = check(
        "2027-01-01",
        "2027-02-28",
        "2027-02-10",
        vec![
            (d("2027-01-04"), Some(d("2027-02-01")), &[Mon, Wed], &made_days),
            (d("2027-02-01"), None, &[Fri], &fri_days),
        ],
    )
    .await;
    assert_eq!(both, (8 + 1, 4 + 1), "v1: 8 days due in January; v2: Feb 5 (to the 10th)");

    // Withdrawn, the plan takes no visit, and stops counting from that day.
    app.move_plan(&county, Role::Officer, v2.id, PlanState::Withdrawn, d("2027-02-08"), "chief").await.unwrap();
    refused(
        record(county.clone(), Role::Officer, vec![visit(v2.id, "341122100202", None, "2027-02-05")], "2027-02-10")
            .await,
        "withdrawn",
    );
    check(
        "2027-01-01",
        "2027-03-31",
        "2027-03-31",
        vec![
            (d("2027-01-04"), Some(d("2027-02-01")), &[Mon, Wed], &made_days),
            (d("2027-02-01"), Some(d("2027-02-08")), &[Fri], &fri_days),
        ],
    )
    .await;

    // Audited.
    let log = app.audit_log(200).await.unwrap();
    assert_eq!(log.iter().filter(|e| e.action == "plan_visits_recorded").count(), 3);
}

/// Three more blank villages of town A, without a clinic, a few kilometres
/// from the township centre (the fixture's A2, at the centre, is blank too).
async fn more_blank_villages(store: &Store) {
    let v = |c: &str, name: &str, pop: u32, lon: f64, lat: f64| Region {
        code: code(c),
        name: name.into(),
        level: RegionLevel::Village,
        urban_rural: Some(220),
        population: Some(pop),
        lon: Some(lon),
        lat: Some(lat),
    };
    store
        .import_regions(&[
            v("341122100203", "Village A3", 900, 117.55, 31.5),
            v("341122100204", "Village A4", 700, 117.5, 31.56),
            v("341122100205", "Village A5", 500, 117.58, 31.55),
        ])
        .await
        .unwrap();
}

async fn tours_are_kept_with_the_plan_and_read_back_equal(store: &Store) {
    let app = setup(store).await;
    more_blank_villages(store).await;
    let county = scope("341122");
    let (as_of, ns) = (d("2026-12-01"), coverage::Settings::default());
    let ts = coverage::TourSettings::default();
    let saved = app
        .draft_plan_from_planner(
            &county,
            Role::Officer,
            code("341122"),
            period(),
            as_of,
            &PlanSettings::default(),
            Some(&ts),
            &ns,
            "officer_a",
        )
        .await
        .unwrap();
    let kept = app.kept_plan(&county, saved.id).await.unwrap();

    // The tours computed again from the same network: the kept ones are equal.
    let c = app.coverage_on(&county, as_of, &ns).await.unwrap();
    let (record, tours) = app::plans::planned_tours(&c.network, as_of, &ns, &ts).unwrap();
    assert!(!tours.is_empty(), "the township centre's doctor tours the blank villages");
    let read: Vec<PlanTour> = kept.tours.iter().map(|t| t.tour.clone()).collect();
    assert_eq!(read, tours);
    assert_eq!(kept.tours.iter().map(|t| t.tour_no).collect::<Vec<_>>(), (1..=tours.len() as i64).collect::<Vec<_>>());
    assert_eq!(kept.planner.tours.as_ref(), Some(&record));
    assert!(record.not_planned.is_empty());
    assert_eq!((record.visits_per_month, record.halfdays_per_month), (4, 8));
    // The figures agree with the tours: each toured village once, its people
    // counted once, four runs of every tour a month.
    let toured: Vec<RegionCode> = tours.iter().flat_map(|t| t.villages.clone()).collect();
    assert_eq!(toured.len(), record.toured_villages);
    assert_eq!(tours.iter().map(|t| t.population).sum::<u64>(), record.covered_population);
    let travel: f64 = tours.iter().map(|t| t.travel_minutes).sum::<f64>() * 4.0;
    assert!((travel - record.travel_minutes).abs() < 1e-6, "{travel} vs {}", record.travel_minutes);
    assert!(record.covered_population <= record.population_bound);
    assert!(record.travel_bound_minutes <= record.travel_minutes + 1e-9);
    assert!((0.0..=1.0).contains(&record.population_gap()) && record.travel_gap() >= -1e-9);
    for t in &tours {
        assert_eq!((t.practitioner_id.as_str(), t.facility_id.as_str()), ("T1", "FT"));
        assert!(t.halfdays.starts_with('W'), "{}", t.halfdays);
        assert!(t.duration_minutes <= ts.halfday_minutes + 1e-9);
    }

    // The weekly plan keeps its population bound; its gap is shown.
    let bound = kept.planner.population_bound.expect("the planner's bound is kept");
    assert!(kept.planner.covered_population <= bound);
    let g = kept.population_gap().unwrap();
    assert!((0.0..=1.0).contains(&g), "{g}");

    // Without tour settings, no tours and no tour figures; by hand, no bound.
    let bare = app
        .draft_plan_from_planner(
            &county,
            Role::Officer,
            code("341122"),
            period(),
            as_of,
            &PlanSettings::default(),
            None,
            &ns,
            "officer_a",
        )
        .await
        .unwrap();
    let bare = app.kept_plan(&county, bare.id).await.unwrap();
    assert!(bare.tours.is_empty() && bare.planner.tours.is_none());
    assert!(bare.planner.population_bound.is_some());
    let by_hand = PlanDraft {
        region: code("341122"),
        period_start: d(YEAR.0),
        period_end: d(YEAR.1),
        lines: vec![rove("341122100202", "T1", "Mon")],
    };
    let hand = app.draft_plan(&county, Role::Officer, &by_hand, "officer_a").await.unwrap();
    let hand = app.kept_plan(&county, hand.id).await.unwrap();
    assert!(hand.tours.is_empty() && hand.population_gap().is_none());
    // The first version's tours stay with it, superseded.
    assert_eq!(app.kept_plan(&county, saved.id).await.unwrap().tours.len(), tours.len());
}

async fn tours_are_checked_and_a_refused_plan_writes_nothing(store: &Store) {
    let _app = setup(store).await;
    more_blank_villages(store).await;
    let all = store::Scope::all();
    let tour = PlanTour {
        practitioner_id: "T1".into(),
        facility_id: "FT".into(),
        halfdays: "W1 Mon AM;W3 Mon AM".into(),
        villages: vec![code("341122100204"), code("341122100203")],
        travel_minutes: 12.345_678_9,
        duration_minutes: 102.345_678_9,
        population: 1600,
    };
    let plan = |tours: Vec<PlanTour>| store::NewPlan {
        region: code("341122"),
        period_start: d(YEAR.0),
        period_end: d(YEAR.1),
        as_of: d(YEAR.0),
        planner: "{}".into(),
        travel_minutes: 0.0,
        lower_bound_minutes: 0.0,
        lines: vec![rove("341122100203", "T1", "Mon")],
        tours,
    };
    let second = PlanTour { villages: vec![code("341122100205")], population: 500, ..tour.clone() };
    let saved = store.save_plan(&all, &plan(vec![tour.clone(), second.clone()]), "officer").await.unwrap();
    let read = store.plan_tours(saved.id).await.unwrap();
    assert_eq!(
        read.iter().map(|t| (t.tour_no, t.tour.clone())).collect::<Vec<_>>(),
        vec![(1, tour.clone()), (2, second)]
    );
    assert!(read.iter().all(|t| t.plan_id == saved.id));

    let count = || async { store.plans(&all).await.unwrap().len() };
    let before = count().await;
    for (bad, why) in [
        (PlanTour { practitioner_id: "NOBODY".into(), ..tour.clone() }, "practitioner_id: NOBODY is not in the store"),
        (PlanTour { facility_id: "NOWHERE".into(), ..tour.clone() }, "facility_id: NOWHERE is not in the store"),
        (PlanTour { villages: vec![code("341123100201")], ..tour.clone() }, "outside the plan's region"),
        (PlanTour { villages: vec![code("341122100299")], ..tour.clone() }, "no village in the store"),
        (PlanTour { villages: vec![], ..tour.clone() }, "at least one village"),
        (PlanTour { villages: vec![code("341122100203"), code("341122100203")], ..tour.clone() }, "visited twice"),
        (PlanTour { travel_minutes: -1.0, ..tour.clone() }, "travel_minutes"),
    ] {
        let e = store.save_plan(&all, &plan(vec![tour.clone(), bad]), "officer").await.unwrap_err().to_string();
        assert!(e.contains(why) && e.contains("tour 2"), "{why}: {e}");
    }
    assert_eq!(count().await, before, "a refused plan writes nothing");
    assert_eq!(store.plan_tours(saved.id).await.unwrap().len(), 2);
}
