//! The daily work over the store, on both engines: a case from the alerts that
//! open it to its close by the rules, with the household's members becoming
//! monitored; conflicts on stale versions; one open case per household; the
//! region scope on every path; visits and contracts checked and counted.

mod common;
use app::work::{CaseFilter, CaseRequest};
use app::{App, AppError, Scope as AppScope};
use chrono::Datelike;
use common::*;
use domain::work::{CaseMeasure, CaseState, CloseReason, DoctorContract, Visit, VisitKind};
use domain::*;
use monitor::{Figure, Finding};
use store::{Page, Scope, Store};

both_backends!(
    a_case_from_its_alerts_to_risk_eliminated,
    a_case_closed_by_its_deadline_counts_in_time,
    a_stale_version_is_a_conflict_and_changes_nothing,
    a_case_is_assigned_to_a_user_who_does_the_casework_there,
    one_open_case_per_household,
    no_path_crosses_the_scope,
    visits_and_contracts_are_checked_and_counted,
    the_registry_by_hand_is_checked_scoped_and_never_loses_a_change,
    a_county_s_catalogue_addition_reaches_the_patient_ledger,
);

const TODAY: &str = "2024-11-20";

fn today() -> chrono::NaiveDate {
    d(TODAY)
}

fn finding(rule: &str, hh: &str, village: &str) -> Finding {
    Finding {
        rule: rule.into(),
        household_id: hh.into(),
        village_code: code(village),
        year: 2024,
        value: Figure::Money(Fen::from_yuan(12_000)),
        threshold: Some(Figure::Money(Fen::from_yuan(9_000))),
    }
}

fn verification(hh: &str, day: &str) -> Visit {
    Visit {
        household_id: hh.into(),
        person_id: None,
        kind: VisitKind::Verification,
        date: d(day),
        visitors: "Wang (township), Li (village doctor)".into(),
        findings: "hospital bills of 12,000 yuan; income fell".into(),
        next_date: None,
    }
}

fn measure(day: &str) -> CaseMeasure {
    CaseMeasure {
        kind: "medical assistance".into(),
        amount: Fen::from_yuan(3_000),
        fund: "county civil affairs bureau".into(),
        date: d(day),
        note: String::new(),
    }
}

async fn with_network(store: &Store) -> App {
    seed(store).await;
    store
        .import_facilities(&[Facility {
            opened: None,
            closed: None,
            facility_id: "F1".into(),
            name: "clinic A1".into(),
            kind: FacilityKind::VillageClinic,
            grade: None,
            region_code: code("341122100201"),
            lon: Some(117.51),
            lat: Some(31.49),
        }])
        .await
        .unwrap();
    store
        .import_practitioners(&[Practitioner {
            practitioner_id: "P1".into(),
            facility_id: "F1".into(),
            name: "doctor Li".into(),
            qualification: Qualification::RuralDoctor,
            gp: false,
            birth_date: d("1970-03-01"),
            active: true,
        }])
        .await
        .unwrap();
    let app = App::new(store.clone());
    // The county's officers, to whom cases are assigned.
    for name in ["wang", "li"] {
        let u = app::NewUser {
            username: name.into(),
            password_hash: "not a hash: no login".into(),
            role: app::Role::Officer,
            scope: county(),
        };
        app.create_user(u).await.unwrap();
    }
    app
}

fn county() -> AppScope {
    AppScope::parse("341122").unwrap()
}

async fn a_case_from_its_alerts_to_risk_eliminated(store: &Store) {
    let app = with_network(store).await;
    let other = AppScope::parse("341123").unwrap();
    assert!(matches!(app.set_case_deadline(&other, "341122", 5, None, "x").await, Err(AppError::NotFound(_))));
    app.set_case_deadline(&county(), "341122", 10, None, "admin").await.unwrap();
    let all = Scope::all();
    let findings =
        [finding("medical_burden_poor", "H1", "341122100201"), finding("catastrophic_10", "H1", "341122100201")];
    app::monitoring::apply_findings(store, &all, 2024, &findings, "monitor").await.unwrap();
    assert_eq!(app.join_alerts_to_cases(&AppScope::all(), "monitor", today()).await.unwrap(), (1, 2));
    assert_eq!(app.join_alerts_to_cases(&AppScope::all(), "monitor", today()).await.unwrap(), (0, 0), "idempotent");

    let listed = app.cases(&county(), &CaseFilter { open: true, ..Default::default() }, today()).await.unwrap();
    assert_eq!(listed.len(), 1);
    let case = app.case(&county(), listed[0].id).await.unwrap().unwrap();
    assert_eq!((case.state, case.household_id.as_str(), case.source.as_str()), (CaseState::Open, "H1", "alert"));
    assert_eq!(case.due, d("2024-11-30"), "the county's 10 days");
    assert_eq!(case.close_due, d("2025-05-19"), "the default 180 days to close");
    assert_eq!(case.alerts.len(), 2, "both alerts joined the one case");
    let id = case.id;

    let mv = |version, req| {
        let app = app.clone();
        async move { app.move_case(&county(), id, version, req, "wang", today()).await }
    };
    let c = mv(1, CaseRequest::Assign { assignee: "wang".into(), due: None }).await.unwrap();
    assert_eq!((c.state, c.assignee.as_str(), c.due, c.version), (CaseState::Assigned, "wang", d("2024-11-30"), 2));
    let refused = mv(2, CaseRequest::Measure(measure("2024-11-18"))).await.unwrap_err();
    assert!(matches!(&refused, AppError::Conflict(m) if m.contains("verify the case first")), "{refused}");
    let c = mv(2, CaseRequest::Verify { visit: verification("H1", "2024-11-15"), monitored: true }).await.unwrap();
    assert_eq!((c.state, c.verified_on, c.monitored), (CaseState::Verified, Some(d("2024-11-15")), Some(true)));
    // The household's lifted members became monitored from the visit's day, with history.
    for seq in [1, 3] {
        let p = store.get::<Person>(&pid(seq).to_string()).await.unwrap().unwrap();
        assert_eq!((p.status, p.status_since), (PovertyStatus::Monitored, d("2024-11-15")));
        let history = store.status_history(pid(seq)).await.unwrap();
        assert!(history.iter().any(|h| h.new_status == PovertyStatus::Monitored), "{history:?}");
    }
    let early = mv(3, CaseRequest::Close { reason: CloseReason::RiskEliminated, note: "paid".into() }).await;
    assert!(matches!(&early, Err(AppError::Conflict(m)) if m.contains("at least one")), "{early:?}");
    let c = mv(3, CaseRequest::Measure(measure("2024-11-18"))).await.unwrap();
    assert_eq!((c.state, c.measures.len(), c.version), (CaseState::Assisting, 1, 4));
    let stale = mv(4, CaseRequest::Close { reason: CloseReason::RiskEliminated, note: "paid".into() }).await;
    assert!(matches!(&stale, Err(AppError::Conflict(m)) if m.contains("on or after the last measure")), "{stale:?}");
    let c = mv(4, CaseRequest::Verify { visit: verification("H1", "2024-11-19"), monitored: true }).await.unwrap();
    assert_eq!(c.state, CaseState::Assisting, "a second verification keeps the assistance going");
    let c =
        mv(5, CaseRequest::Close { reason: CloseReason::RiskEliminated, note: "bills covered".into() }).await.unwrap();
    assert_eq!((c.state, c.close_reason, c.version), (CaseState::Closed, Some(CloseReason::RiskEliminated), 6));
    assert_eq!(c.visits.len(), 2);
    let actions: Vec<&str> = c.events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["open", "assign", "verify", "measure", "verify", "close"]);
    // Its alerts closed with it.
    for a in &c.alerts {
        let alert = store.alert(&all, *a).await.unwrap().unwrap();
        assert_eq!(alert.state, monitor::AlertState::Resolved);
    }
    // The new indicator: the case was verified (Nov 15) before its deadline (Nov 30).
    let defs = indicators::Definitions::shipped();
    let at = defs.indicators.iter().position(|d| d.id == "cases_verified_in_time_share").unwrap();
    let levels = vec![RegionLevel::County];
    let r = app::kept::report(store, defs, "341122", 2024, levels, indicators::PeriodKind::Year, today(), None);
    let r = r.await.unwrap();
    let row = r.rows.iter().find(|row| row.region.to_string().starts_with("341122")).unwrap();
    assert_eq!((row.values[at].numerator, row.values[at].denominator, row.values[at].value), (1, Some(1), Some(100.0)));
    // The indicators count the household assisted: its alerts resolved, the measure on their case.
    let dates = store.alert_dates(&all, 2024).await.unwrap();
    assert!(dates.iter().filter(|a| a.household_id == "H1").all(|a| a.assisted_on.is_some()), "{dates:?}");
    let after = mv(6, CaseRequest::Assign { assignee: "li".into(), due: None }).await;
    assert!(matches!(&after, Err(AppError::Conflict(m)) if m.contains("closed")), "{after:?}");
    // Every move is in the audit log.
    let audit = app.audit_log(50).await.unwrap();
    for action in ["case_assign", "case_verify", "case_measure", "case_close", "case_deadline"] {
        assert!(audit.iter().any(|e| e.action == action), "{action} not audited");
    }
    // The audit log a user reads holds the events of their scope, and their own.
    let other = AppScope::parse("341123").unwrap();
    let seen_by_b = app.audit_log_for(&other, "officer_b", 100).await.unwrap();
    assert!(!seen_by_b.iter().any(|e| e.action.starts_with("case_")), "another county's casework: {seen_by_b:?}");
    let seen_by_a = app.audit_log_for(&county(), "zhao", 100).await.unwrap();
    assert!(seen_by_a.iter().any(|e| e.action == "case_close"), "the county's own casework");
    let own = app.audit_log_for(&other, "wang", 100).await.unwrap();
    assert!(own.iter().any(|e| e.action == "case_close"), "a user's own events, wherever they were");
    let national = app.audit_log_for(&AppScope::all(), "admin", 100).await.unwrap();
    assert_eq!(national.len(), app.audit_log(100).await.unwrap().len());
    // A new risk episode opens a new case.
    let again = app.open_case(&county(), "H1", "officer", "new bills", "wang", today()).await.unwrap();
    assert_ne!(again.id, id);
}

/// The value, numerator and denominator of an indicator for the county.
async fn county_indicator(store: &Store, id: &str, year: i32, today: chrono::NaiveDate) -> (i64, Option<i64>) {
    let defs = indicators::Definitions::shipped();
    let at = defs.indicators.iter().position(|d| d.id == id).unwrap();
    let levels = vec![RegionLevel::County];
    let r = app::kept::report(store, defs, "341122", year, levels, indicators::PeriodKind::Year, today, None);
    let r = r.await.unwrap();
    let row = r.rows.iter().find(|row| row.region.to_string().starts_with("341122")).unwrap();
    (row.values[at].numerator, row.values[at].denominator)
}

async fn a_case_closed_by_its_deadline_counts_in_time(store: &Store) {
    let app = with_network(store).await;
    // Days to close are checked: within 1..=730 and no fewer than the days to verify.
    for (verify, close) in [(10, 0), (10, 731), (20, 10)] {
        let e = app.set_case_deadline(&county(), "341122", verify, Some(close), "admin").await.unwrap_err();
        assert!(e.to_string().contains("close_days"), "{verify}, {close}: {e}");
    }
    assert!(app.store().case_deadlines().await.unwrap().is_empty(), "nothing written");
    // A case opened 30 days ago in a county that gives 30 days to close is due today.
    let now = domain::time::china_day(chrono::Utc::now());
    let opened = now - chrono::Duration::days(30);
    app.set_case_deadline(&AppScope::parse("34").unwrap(), "34", 10, Some(30), "admin").await.unwrap();
    app.set_case_deadline(&county(), "341122", 12, None, "admin").await.unwrap();
    let c = app.open_case(&county(), "H2", "officer", "visit found debts", "wang", opened).await.unwrap();
    assert_eq!((c.due, c.close_due), (opened + chrono::Duration::days(12), now), "the province's days to close");
    let id = "cases_closed_in_time_share";
    assert_eq!(county_indicator(store, id, now.year(), now).await, (0, Some(1)), "due, not closed");
    // Verified, found no risk, closed today: in time.
    let verify = CaseRequest::Verify { visit: verification("H2", &opened.to_string()), monitored: false };
    app.move_case(&county(), c.id, 1, verify, "wang", now).await.unwrap();
    let close = CaseRequest::Close { reason: CloseReason::NoRisk, note: "income recovered".into() };
    let closed = app.move_case(&county(), c.id, 2, close, "wang", now).await.unwrap();
    assert_eq!(closed.state, CaseState::Closed);
    assert_eq!(county_indicator(store, id, now.year(), now).await, (1, Some(1)), "the kept facts saw the close");
    // Changing the region's days moves no case already opened.
    app.set_case_deadline(&county(), "341122", 12, Some(100), "admin").await.unwrap();
    assert_eq!(app.case(&county(), c.id).await.unwrap().unwrap().close_due, now);
    let audit = app.audit_log(20).await.unwrap();
    assert!(
        audit.iter().any(|e| e.action == "case_deadline" && e.detail.contains("close within 100 days")),
        "{audit:?}"
    );
}

async fn a_case_is_assigned_to_a_user_who_does_the_casework_there(store: &Store) {
    let app = with_network(store).await;
    let c = app.open_case(&county(), "H2", "officer", "", "wang", today()).await.unwrap();
    let mk = |name: &str, role: app::Role, scope: &str| app::NewUser {
        username: name.into(),
        password_hash: "x".into(),
        role,
        scope: AppScope::parse(scope).unwrap(),
    };
    app.create_user(mk("viewer_a", app::Role::Viewer, "341122")).await.unwrap();
    app.create_user(mk("officer_b", app::Role::Officer, "341123")).await.unwrap();
    let off = app.create_user(mk("gone", app::Role::Officer, "341122")).await.unwrap();
    app.store().set_user_active(off.id, false).await.unwrap();
    let assign = |who: &str| CaseRequest::Assign { assignee: who.into(), due: None };
    for who in ["nobody", "viewer_a", "officer_b", "gone"] {
        let e = app.move_case(&county(), c.id, 1, assign(who), "wang", today()).await.unwrap_err();
        assert!(matches!(&e, AppError::Invalid(m) if m.starts_with("assignee:")), "{who}: {e}");
    }
    let kept = app.case(&county(), c.id).await.unwrap().unwrap();
    assert_eq!((kept.version, kept.assignee.as_str()), (1, ""), "nothing changed");
    // The name as the account spells it, whatever the case it was typed in.
    let c = app.move_case(&county(), c.id, 1, assign(" LI "), "wang", today()).await.unwrap();
    assert_eq!(c.assignee, "li");
}

async fn a_stale_version_is_a_conflict_and_changes_nothing(store: &Store) {
    let app = with_network(store).await;
    let c = app.open_case(&county(), "H2", "officer", "visit found debts", "wang", today()).await.unwrap();
    assert_eq!(c.due, d("2024-12-05"), "the default 15 days");
    let assign = |who: &str| CaseRequest::Assign { assignee: who.into(), due: None };
    app.move_case(&county(), c.id, 1, assign("wang"), "a", today()).await.unwrap();
    let second = app
        .move_case(&county(), c.id, 1, CaseRequest::Assign { assignee: "li".into(), due: None }, "b", today())
        .await
        .unwrap_err();
    assert!(matches!(&second, AppError::Conflict(m) if m.contains("changed since version 1")), "{second}");
    let kept = app.case(&county(), c.id).await.unwrap().unwrap();
    assert_eq!((kept.assignee.as_str(), kept.version, kept.events.len()), ("wang", 2, 2));
}

async fn one_open_case_per_household(store: &Store) {
    let app = with_network(store).await;
    let c = app.open_case(&county(), "H2", "officer", "", "wang", today()).await.unwrap();
    let again = app.open_case(&county(), "H2", "visit", "", "li", today()).await.unwrap_err();
    assert!(matches!(&again, AppError::Conflict(m) if m.contains(&format!("case {}", c.id))), "{again}");
    // An alert of the household joins the open case.
    let all = Scope::all();
    app::monitoring::apply_findings(store, &all, 2024, &[finding("catastrophic_10", "H2", "341122100202")], "m")
        .await
        .unwrap();
    assert_eq!(app.join_alerts_to_cases(&AppScope::all(), "m", today()).await.unwrap(), (0, 1));
    assert_eq!(app.case(&county(), c.id).await.unwrap().unwrap().alerts.len(), 1);
    // Overdue: the cases awaiting verification past their deadline, first.
    let overdue = CaseFilter { overdue: true, ..Default::default() };
    assert!(app.cases(&county(), &overdue, today()).await.unwrap().is_empty());
    let later = d("2024-12-06");
    assert_eq!(app.cases(&county(), &overdue, later).await.unwrap().len(), 1);
}

async fn no_path_crosses_the_scope(store: &Store) {
    let app = with_network(store).await;
    let c = app.open_case(&county(), "H1", "officer", "", "wang", today()).await.unwrap();
    let other = AppScope::parse("341123").unwrap();
    fn not_found<T>(r: Result<T, AppError>) -> bool {
        matches!(r, Err(AppError::NotFound(_)))
    }
    assert!(app.case(&other, c.id).await.unwrap().is_none());
    assert!(app.cases(&other, &CaseFilter::default(), today()).await.unwrap().is_empty());
    assert!(not_found(app.open_case(&other, "H1", "officer", "", "x", today()).await));
    for req in [
        CaseRequest::Assign { assignee: "x".into(), due: Some(d("2024-12-30")) },
        CaseRequest::Verify { visit: verification("H1", TODAY), monitored: false },
        CaseRequest::Measure(measure(TODAY)),
        CaseRequest::Close { reason: CloseReason::NoRisk, note: "x".into() },
    ] {
        assert!(not_found(app.move_case(&other, c.id, 1, req, "x", today()).await));
    }
    let visit = Visit { kind: VisitKind::Household, ..verification("H1", TODAY) };
    assert!(not_found(app.record_visits(&other, &[("the visit".into(), visit.clone(), None)], "x", today()).await));
    let contract = DoctorContract {
        person_id: pid(1),
        practitioner_id: "P1".into(),
        signed: d("2024-01-10"),
        ends: d("2025-01-09"),
    };
    assert!(not_found(app.sign_contracts(&other, &[("the contract".into(), contract.clone())], "x").await));
    // Inside the scope both are recorded, and the other county still sees nothing.
    app.record_visits(&county(), &[("the visit".into(), visit, Some(c.id))], "li", today()).await.unwrap();
    app.sign_contracts(&county(), &[("the contract".into(), contract)], "li").await.unwrap();
    assert!(app.visits(&other, None, None, 100).await.unwrap().is_empty());
    assert!(app.doctor_contracts(&other, None, 100).await.unwrap().is_empty());
    assert_eq!(app.visits(&county(), Some("H1"), None, 100).await.unwrap().len(), 1);
    assert_eq!(app.case(&county(), c.id).await.unwrap().unwrap().visits.len(), 1);
    // A NUL in a key is bad input on both engines, never a failure of the store.
    let nul = app.household_in_scope(&county(), "H\u{0}1").await.unwrap_err();
    assert!(matches!(nul, AppError::NotFound(_) | AppError::Invalid(_)), "{nul:?}");
    let unchanged = app.case(&county(), c.id).await.unwrap().unwrap();
    assert_eq!((unchanged.version, unchanged.state), (1, CaseState::Open));
}

async fn visits_and_contracts_are_checked_and_counted(store: &Store) {
    let app = with_network(store).await;
    let follow_up = |person: Option<ResidentId>| Visit {
        household_id: "H1".into(),
        person_id: person,
        kind: VisitKind::FollowUp,
        date: d("2024-11-01"),
        visitors: "doctor Li".into(),
        findings: "blood pressure 150/95".into(),
        next_date: Some(d("2025-02-01")),
    };
    let refused = |r: Result<Vec<i64>, AppError>| match r {
        Err(AppError::Invalid(m)) => m,
        other => panic!("not refused: {other:?}"),
    };
    let m = refused(app.record_visits(&county(), &[("line 2".into(), follow_up(None), None)], "li", today()).await);
    assert!(m.contains("line 2") && m.contains("person_id"), "{m}");
    let m =
        refused(app.record_visits(&county(), &[("line 3".into(), follow_up(Some(pid(5))), None)], "li", today()).await);
    assert!(m.contains("not a member"), "{m}");
    let future = Visit { date: d("2024-12-01"), next_date: None, ..follow_up(Some(pid(1))) };
    let m = refused(app.record_visits(&county(), &[("line 4".into(), future, None)], "li", today()).await);
    assert!(m.contains("future"), "{m}");
    // All or none: a good row with a bad one writes nothing.
    let rows = [("line 2".into(), follow_up(Some(pid(1))), None), ("line 3".into(), follow_up(None), None)];
    refused(app.record_visits(&county(), &rows, "li", today()).await);
    assert!(app.visits(&county(), None, None, 100).await.unwrap().is_empty());
    app.record_visits(&county(), &rows[..1], "li", today()).await.unwrap();
    assert_eq!(app.visits(&county(), None, Some(pid(1)), 100).await.unwrap().len(), 1);

    let k = |doctor: &str, ends: &str| DoctorContract {
        person_id: pid(1),
        practitioner_id: doctor.into(),
        signed: d("2024-01-10"),
        ends: d(ends),
    };
    let m = refused(app.sign_contracts(&county(), &[("line 2".into(), k("P9", "2025-01-09"))], "li").await);
    assert!(m.contains("practitioner_id"), "{m}");
    store
        .import_facilities(&[Facility {
            opened: None,
            closed: None,
            facility_id: "F2".into(),
            name: "clinic B1".into(),
            kind: FacilityKind::VillageClinic,
            grade: None,
            region_code: code("341123100201"),
            lon: None,
            lat: None,
        }])
        .await
        .unwrap();
    let mut p2 = store.get::<Practitioner>("P1").await.unwrap().unwrap();
    (p2.practitioner_id, p2.facility_id) = ("P2".into(), "F2".into());
    store.import_practitioners(&[p2]).await.unwrap();
    let m = refused(app.sign_contracts(&county(), &[("line 2".into(), k("P2", "2025-01-09"))], "li").await);
    assert!(m.contains("outside the patient's county"), "{m}");
    let m = refused(app.sign_contracts(&county(), &[("line 2".into(), k("P1", "2023-01-09"))], "li").await);
    assert!(m.contains("ends"), "{m}");
    app.sign_contracts(&county(), &[("line 2".into(), k("P1", "2025-01-09"))], "li").await.unwrap();
    // Signed again on the same day: replaced, not doubled.
    app.sign_contracts(&county(), &[("line 2".into(), k("P1", "2026-01-09"))], "li").await.unwrap();
    let kept = app.doctor_contracts(&county(), Some(pid(1)), 10).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].contract.ends, d("2026-01-09"));
    // The contract counts where the indicators and the ledger read contracts.
    let contracts = store.contracts(&Scope::new("341122").unwrap()).await.unwrap();
    assert_eq!(contracts.get(&pid(1)).map(|c| c.doctor.as_str()), Some("P1"));
    let _ = Page::default();
}

async fn the_registry_by_hand_is_checked_scoped_and_never_loses_a_change(store: &Store) {
    let app = with_network(store).await;
    let f = |pairs: &[(&str, &str)]| -> std::collections::BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    };
    let h9 = f(&[("household_id", "H9"), ("village_code", "341122100201"), ("size", "4"), ("income", "26000")]);
    let created = app.create_household(&county(), &h9, "zhao").await.unwrap();
    let again = app.create_household(&county(), &h9, "zhao").await.unwrap_err();
    assert!(matches!(&again, AppError::Conflict(m) if m.contains("taken")), "{again}");
    let elsewhere = f(&[("household_id", "H8"), ("village_code", "341123100201"), ("size", "2"), ("income", "1")]);
    assert!(matches!(app.create_household(&county(), &elsewhere, "zhao").await, Err(AppError::NotFound(_))));
    let bad = f(&[("household_id", "H7"), ("village_code", "341122100201"), ("size", "0"), ("income", "1")]);
    let e = app.create_household(&county(), &bad, "zhao").await.unwrap_err();
    assert!(matches!(&e, AppError::Invalid(m) if m.starts_with("size")), "{e}");
    let unknown = f(&[
        ("household_id", "H7"),
        ("village_code", "341122100201"),
        ("size", "2"),
        ("income", "1"),
        ("colour", "red"),
    ]);
    assert!(
        matches!(app.create_household(&county(), &unknown, "zhao").await, Err(AppError::Invalid(m)) if m.contains("colour"))
    );

    // Two officers change the household they both read: the second is refused.
    let first = app.change_household(&county(), &created, &f(&[("income", "18000")]), "harvest lost", "zhao").await;
    assert_eq!(first.unwrap().income, Fen::from_yuan(18_000));
    let second = app.change_household(&county(), &created, &f(&[("size", "5")]), "a birth", "qian").await.unwrap_err();
    assert!(matches!(&second, AppError::Conflict(m) if m.contains("changed since you read it")), "{second}");
    let kept = store.get::<Household>("H9").await.unwrap().unwrap();
    assert_eq!((kept.size, kept.income), (4, Fen::from_yuan(18_000)), "the first change stands, whole");
    let no_reason = app.change_household(&county(), &kept, &f(&[("size", "5")]), " ", "qian").await.unwrap_err();
    assert!(matches!(&no_reason, AppError::Invalid(m) if m.starts_with("reason")), "{no_reason}");
    let out_of_scope = f(&[("village_code", "341123100201")]);
    let moved_out = app.change_household(&county(), &kept, &out_of_scope, "moved", "q").await;
    assert!(matches!(moved_out, Err(AppError::NotFound(_))), "a move out of the scope is refused");

    // A person: created, then a status change with its day, kept in the history.
    let p = pid(21).to_string();
    let person = f(&[
        ("person_id", &p),
        ("household_id", "H9"),
        ("name", "Zhou"),
        ("status", "general"),
        ("status_since", "2021-01-01"),
    ]);
    let made = app.create_person(&county(), &person, "zhao").await.unwrap();
    let change = f(&[("status", "monitored"), ("status_since", "2024-11-01"), ("diagnoses", "I10")]);
    let changed = app.change_person(&county(), &made, &change, "verified at risk", "zhao").await.unwrap();
    assert_eq!((changed.status, changed.diagnoses.clone()), (PovertyStatus::Monitored, vec!["I10".to_string()]));
    let history = store.status_history(pid(21)).await.unwrap();
    assert_eq!(history.len(), 2, "{history:?}");
    assert!(history.iter().any(|h| h.old_status == Some(PovertyStatus::General) && h.since == d("2024-11-01")));
    let stale = app.change_person(&county(), &made, &f(&[("name", "Zhou Wei")]), "typo", "qian").await.unwrap_err();
    assert!(matches!(stale, AppError::Conflict(_)));
    let to_h3 = f(&[("household_id", "H3")]);
    let away = app.change_person(&county(), &changed, &to_h3, "moved", "qian").await;
    assert!(matches!(away, Err(AppError::NotFound(_))), "H3 lies in another county");
    let other = AppScope::parse("341123").unwrap();
    assert!(matches!(
        app.change_person(&other, &changed, &f(&[("name", "X")]), "x", "x").await,
        Err(AppError::NotFound(_))
    ));
    let audit = app.audit_log(50).await.unwrap();
    let change = audit.iter().find(|e| e.action == "person_change").unwrap();
    assert!(
        change.detail.contains("\"general\" -> \"monitored\"") && change.detail.contains("verified at risk"),
        "{}",
        change.detail
    );
}

async fn a_county_s_catalogue_addition_reaches_the_patient_ledger(store: &Store) {
    let app = with_network(store).await;
    // Person 5 (H2, county 341122) has a diagnosis on no national list.
    let mut p5 = store.get::<Person>(&pid(5).to_string()).await.unwrap().unwrap();
    p5.diagnoses = vec!["B18".into()];
    store.import_persons(&[p5]).await.unwrap();
    let all = Scope::all();
    let rules = monitor::RuleSet::defaults();
    let in_ledger = |store: &Store| {
        let store = store.clone();
        async move {
            let q = store::LedgerQuery { person: Some(pid(5)), ..Default::default() };
            store.ledger(&all_scope(), &q, Page::default()).await.unwrap()
        }
    };
    app::monitoring::monitor_store(store, &all, 2024, d("2024-12-31"), &rules, "m").await.unwrap();
    assert!(in_ledger(store).await.is_empty(), "not on the national lists");
    let hepatitis = CatalogueEntry {
        name_zh: "慢性乙型肝炎".into(),
        name_en: "chronic hepatitis B".into(),
        icd10_prefixes: vec!["B18".into()],
        since: None,
    };
    let other = AppScope::parse("341123").unwrap();
    let refused = app.add_catalogue_entry(&other, "chronic", "341122", &hepatitis, "x").await;
    assert!(matches!(refused, Err(AppError::NotFound(_))), "another county's list is out of scope");
    app.add_catalogue_entry(&county(), "chronic", "341122", &hepatitis, "zhao").await.unwrap();
    app::monitoring::monitor_store(store, &all, 2024, d("2024-12-31"), &rules, "m").await.unwrap();
    let lines = in_ledger(store).await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!((lines[0].batch, lines[0].disease.as_str()), (monitor::Batch::Chronic, "chronic hepatitis B"));
}

fn all_scope() -> Scope {
    Scope::all()
}

/// A case kept before migration 18 gets the default deadline to close, counted
/// from the day in China it was opened (18:30 UTC is the next morning there).
async fn a_case_kept_before_migration_18_gets_the_default_deadline_to_close(db: common::TestDb) {
    assert_eq!(db.store.schema_version().await.unwrap(), 17);
    seed(&db.store).await;
    let opened: chrono::DateTime<chrono::Utc> = "2024-03-10T18:30:00Z".parse().unwrap();
    let insert = "INSERT INTO cases (household_id, village_code, state, source, opened_at, opened_by, due, updated_at)
                  VALUES ('H1', 341122100201, 'open', 'officer', $1, 'wang', $2, $1)";
    let closed = "INSERT INTO cases (household_id, village_code, state, source, opened_at, opened_by, due, updated_at,
                                     closed_at, close_reason, note)
                  VALUES ('H2', 341122100202, 'closed', 'officer', $1, 'wang', $2, $1, $1, 'no_risk', 'none found')";
    if db.url.starts_with("postgres") {
        let p = sqlx::PgPool::connect(&db.url).await.unwrap();
        sqlx::query(insert).bind(opened).bind(d("2024-03-26")).execute(&p).await.unwrap();
        sqlx::query(closed).bind(opened).bind(d("2024-03-26")).execute(&p).await.unwrap();
        p.close().await;
    } else {
        let p = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        sqlx::query(insert).bind(opened).bind(d("2024-03-26")).execute(&p).await.unwrap();
        sqlx::query(closed).bind(opened).bind(d("2024-03-26")).execute(&p).await.unwrap();
        p.close().await;
    }
    db.store.migrate().await.unwrap();
    let cases = app::App::new(db.store.clone());
    let listed = cases.cases(&county(), &CaseFilter::default(), today()).await.unwrap();
    assert_eq!(listed.len(), 2);
    let (open, closed) =
        if listed[0].household_id == "H1" { (&listed[0], &listed[1]) } else { (&listed[1], &listed[0]) };
    assert_eq!((open.due, open.close_due, open.closed_on), (d("2024-03-26"), d("2024-09-07"), None));
    assert_eq!(
        (closed.close_due, closed.closed_on),
        (d("2024-09-07"), Some(d("2024-03-11"))),
        "closed the next day in China"
    );
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_case_kept_before_migration_18_gets_the_default_deadline_to_close_sqlite() {
    a_case_kept_before_migration_18_gets_the_default_deadline_to_close(common::TestDb::sqlite_at(17).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_case_kept_before_migration_18_gets_the_default_deadline_to_close_postgres() {
    let Some(db) = common::TestDb::pg_at(17).await else { return };
    a_case_kept_before_migration_18_gets_the_default_deadline_to_close(db).await;
}
