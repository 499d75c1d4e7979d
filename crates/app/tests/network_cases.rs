//! Network alerts kept and the network cases they raise (docs/work.md,
//! "Network cases"), on both engines: a posting ending makes a village blank,
//! which raises one alert and one case of its township and county; raising
//! again makes no duplicate; a new posting filling the gap resolves the
//! alert, and the case closes as filled; an officer of another county neither
//! sees nor moves it; refused moves write nothing.

mod common;

use app::network_cases::{NetworkCaseFilter, NetworkCaseRequest};
use app::{App, AppError, Scope};
use chrono::NaiveDate;
use common::*;
use domain::work::{CaseState, NetworkCloseReason};
use domain::*;
use store::Store;

both_backends!(
    a_blank_village_raises_one_case_that_a_posting_fills,
    a_case_closed_as_planned_is_linked_to_the_plan_that_fills_it
);

fn facility(id: &str, region: &str, kind: FacilityKind) -> Facility {
    Facility {
        facility_id: id.into(),
        name: format!("{id} name"),
        kind,
        grade: None,
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

fn posting(who: &str, at: &str, start: &str, end: Option<&str>) -> (String, Posting) {
    let p = Posting {
        practitioner_id: who.into(),
        facility_id: at.into(),
        role: PostingRole::Posting,
        start: Some(d(start)),
        end: end.map(d),
    };
    ("the posting".into(), p)
}

fn county() -> Scope {
    Scope::parse("341122").unwrap()
}

const TODAY: &str = "2025-01-01";

/// County 341122: township centre FT with a physician, clinic FA (village A1)
/// with its doctor, clinic FA2 (village A2) served by D2, posted there until
/// 2025-03-31. County 341123: clinic FB (village B1) with its doctor. Officers
/// wang (341122) and officer_b (341123).
async fn setup(store: &Store) -> App {
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
            doctor("T1", "FT", Qualification::Physician),
            doctor("V1", "FA", Qualification::RuralDoctor),
            doctor("D2", "FT", Qualification::RuralDoctor),
            doctor("D3", "FT", Qualification::RuralDoctor),
            doctor("B1", "FB", Qualification::RuralDoctor),
        ])
        .await
        .unwrap();
    let app = App::new(store.clone());
    app.record_postings(&county(), &[posting("D2", "FA2", "2023-01-01", Some("2025-03-31"))], "wang").await.unwrap();
    for (name, scope) in [("wang", "341122"), ("officer_b", "341123")] {
        let u = app::NewUser {
            username: name.into(),
            password_hash: "not a hash: no login".into(),
            role: app::Role::Officer,
            scope: Scope::parse(scope).unwrap(),
        };
        app.create_user(u).await.unwrap();
    }
    app
}

async fn raise(app: &App, scope: &Scope, today: NaiveDate) -> app::network_cases::Raised {
    app.raise_network_alerts(scope, today, 1, &coverage::Settings::default(), "wang").await.unwrap()
}

async fn a_blank_village_raises_one_case_that_a_posting_fills(store: &Store) {
    let app = setup(store).await;
    let today = d(TODAY);
    store.set_case_deadline("341122", 10, Some(60)).await.unwrap();

    // D2's posting ends on 2025-03-31: village A2 is blank from 2025-04-01.
    let r = raise(&app, &county(), today).await;
    assert_eq!((r.found, r.kept.raised.len(), r.kept.seen, r.kept.resolved.len()), (1, 1, 0, 0), "{r:?}");
    let (alert_id, case_id) = r.kept.raised[0];
    let kept = app.kept_network_alerts(&county(), false, 100).await.unwrap();
    assert_eq!(kept.len(), 1);
    let a = &kept[0];
    assert_eq!(a.id, alert_id);
    assert_eq!(
        (a.found.kind.as_str(), a.found.region, a.found.blank_from, a.found.change.as_str()),
        ("village_no_doctor", code("341122100202"), d("2025-04-01"), "posting_end")
    );
    assert_eq!((a.found.practitioner_id.as_deref(), a.found.facility_id.as_deref()), (Some("D2"), Some("FA2")));
    assert_eq!((a.found.township, a.found.county), (Some(code("341122100")), Some(code("341122"))));
    assert!(a.found.detail.contains("(D2)'s posting at FA2 ends on 2025-03-31"), "{}", a.found.detail);
    assert_eq!((a.case_id, a.case_state, a.resolved_at), (Some(case_id), Some(CaseState::Open), None));

    // Its case, for the township and county, with the county's deadlines.
    let cases = app.network_cases(&county(), &NetworkCaseFilter::default(), today).await.unwrap();
    assert_eq!(cases.len(), 1);
    let c = app.network_case(&county(), case_id).await.unwrap().unwrap();
    assert_eq!((c.region, c.state, c.version), (code("341122100202"), CaseState::Open, 1));
    assert_eq!((c.due, c.close_due), (d("2025-01-11"), d("2025-03-02")));
    assert_eq!(c.events.len(), 1);
    assert_eq!(c.events[0].action, "open");
    // The township's officers see it too; the village's other county does not.
    let township = Scope::parse("341122100").unwrap();
    assert_eq!(app.network_cases(&township, &NetworkCaseFilter::default(), today).await.unwrap().len(), 1);

    // Raising again: the same gap is one alert and one case.
    let again = raise(&app, &county(), today).await;
    assert_eq!((again.kept.raised.len(), again.kept.seen, again.kept.resolved.len()), (0, 1, 0));
    assert_eq!(app.kept_network_alerts(&county(), false, 100).await.unwrap().len(), 1);
    assert_eq!(app.network_cases(&county(), &NetworkCaseFilter::default(), today).await.unwrap().len(), 1);
    // Overdue once its deadline to verify has passed.
    let late = NetworkCaseFilter { overdue: true, ..Default::default() };
    assert!(app.network_cases(&county(), &late, today).await.unwrap().is_empty());
    assert_eq!(app.network_cases(&county(), &late, d("2025-01-12")).await.unwrap().len(), 1);

    let c = app.network_case(&county(), case_id).await.unwrap().unwrap();
    // An officer of the other county neither sees nor moves it, and nothing is written.
    let other = Scope::parse("341123").unwrap();
    assert!(app.network_cases(&other, &NetworkCaseFilter::default(), today).await.unwrap().is_empty());
    assert!(app.kept_network_alerts(&other, false, 100).await.unwrap().is_empty());
    assert!(app.network_case(&other, case_id).await.unwrap().is_none());
    let assign = NetworkCaseRequest::Assign { assignee: "officer_b".into(), due: None };
    let e = app.move_network_case(&other, case_id, 1, assign, "officer_b", today).await.unwrap_err();
    assert!(matches!(e, AppError::NotFound(_)), "{e:?}");
    let step = NetworkCaseRequest::Step { on: today, note: "recruiting".into() };
    let e = app.move_network_case(&other, case_id, 1, step, "officer_b", today).await.unwrap_err();
    assert!(matches!(e, AppError::NotFound(_)), "{e:?}");
    // Raising in the other county leaves this county's alert alone.
    let r = raise(&app, &other, today).await;
    assert_eq!((r.kept.raised.len(), r.kept.resolved.len()), (0, 0));
    assert_eq!(app.network_case(&county(), case_id).await.unwrap().unwrap(), c, "nothing written");

    // Refused moves write nothing: an assignee outside the county, a step
    // before verification, filled before the gap is filled, a stale version.
    let refused: Vec<(i64, NetworkCaseRequest)> = vec![
        (1, NetworkCaseRequest::Assign { assignee: "officer_b".into(), due: None }),
        (1, NetworkCaseRequest::Step { on: today, note: "recruiting".into() }),
        (1, NetworkCaseRequest::Close { reason: NetworkCloseReason::Filled, note: String::new(), plan: None }),
        (1, NetworkCaseRequest::Close { reason: NetworkCloseReason::NotNeeded, note: "merged".into(), plan: None }),
        (1, NetworkCaseRequest::Verify { on: d("2025-01-02"), note: "seen".into() }),
        (7, NetworkCaseRequest::Verify { on: today, note: "seen".into() }),
    ];
    for (version, req) in refused {
        let what = format!("{req:?}");
        let e = app.move_network_case(&county(), case_id, version, req, "wang", today).await.unwrap_err();
        assert!(matches!(e, AppError::Conflict(_) | AppError::Invalid(_)), "{what}: {e:?}");
        assert_eq!(app.network_case(&county(), case_id).await.unwrap().unwrap(), c, "{what} wrote nothing");
    }

    // Assigned and verified by the county.
    let assign = NetworkCaseRequest::Assign { assignee: "wang".into(), due: None };
    let c = app.move_network_case(&county(), case_id, 1, assign, "wang", today).await.unwrap();
    assert_eq!((c.state, c.assignee.as_str(), c.due, c.version), (CaseState::Assigned, "wang", d("2025-01-11"), 2));
    let verify = NetworkCaseRequest::Verify { on: today, note: "D2 leaves in March; no one else".into() };
    let c = app.move_network_case(&county(), case_id, 2, verify, "wang", today).await.unwrap();
    assert_eq!((c.state, c.verified_on), (CaseState::Verified, Some(today)));

    // A new posting fills the gap: the next raise resolves the alert.
    app.record_postings(&county(), &[posting("D3", "FA2", "2025-03-15", None)], "wang").await.unwrap();
    let filled = raise(&app, &county(), today).await;
    assert_eq!((filled.found, filled.kept.raised.len(), filled.kept.resolved), (0, 0, vec![alert_id]));
    let a = app.kept_network_alerts(&county(), false, 100).await.unwrap().remove(0);
    assert!(a.resolved_at.is_some());
    assert!(app.kept_network_alerts(&county(), true, 100).await.unwrap().is_empty());
    let c = app.network_case(&county(), case_id).await.unwrap().unwrap();
    assert_eq!((c.state, c.version), (CaseState::Verified, 3), "the resolution moves no state");
    assert_eq!(c.events.last().unwrap().action, "alert_resolved");
    let close = NetworkCaseRequest::Close { reason: NetworkCloseReason::Filled, note: "D3 posted".into(), plan: None };
    let c = app.move_network_case(&county(), case_id, 3, close, "wang", today).await.unwrap();
    assert_eq!(
        (c.state, c.close_reason, c.closed_on),
        (CaseState::Closed, Some(NetworkCloseReason::Filled), Some(today))
    );
    let e = app
        .move_network_case(
            &county(),
            case_id,
            4,
            NetworkCaseRequest::Verify { on: today, note: "x".into() },
            "wang",
            today,
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("closed"), "{e}");
    // Nothing raised again for a filled gap.
    let after = raise(&app, &county(), today).await;
    assert_eq!((after.kept.raised.len(), after.kept.seen, after.kept.resolved.len()), (0, 0, 0));

    // Audited: the raises and the moves.
    let audit = app.audit_log(100).await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"network_alerts_raise"), "{actions:?}");
    for a in ["network_case_assign", "network_case_verify", "network_case_close"] {
        assert_eq!(actions.iter().filter(|x| **x == a).count(), 1, "{a}: {actions:?}");
    }
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

/// The rows of the ledger's sheet of network cases, seen from `scope`.
async fn ledger_rows(app: &App, scope: &Scope, today: NaiveDate) -> Vec<Vec<ingest::tables::Cell>> {
    let book =
        app::ledger::ledger_book(app, scope, 2025, RegionLevel::Township, today, app::Masking::Clear).await.unwrap();
    let sheet = book.into_iter().find(|t| t.name == "网络个案").expect("the sheet of network cases");
    assert_eq!(sheet.header.len(), 19);
    assert!(sheet.rows.iter().all(|r| r.len() == sheet.header.len()));
    sheet.rows
}

async fn a_case_closed_as_planned_is_linked_to_the_plan_that_fills_it(store: &Store) {
    use ingest::tables::Cell;
    let app = setup(store).await;
    let today = d(TODAY);
    let r = raise(&app, &county(), today).await;
    let (_, case_id) = r.kept.raised[0];
    let c = app.network_case(&county(), case_id).await.unwrap().unwrap();
    assert_eq!(c.region, code("341122100202"));
    let planned = |plan: Option<i64>| NetworkCaseRequest::Close {
        reason: NetworkCloseReason::Planned,
        note: "T1 roves on Tuesdays".into(),
        plan,
    };

    // In the ledger while open, without a plan; not in the other county's.
    let rows = ledger_rows(&app, &county(), today).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0], Cell::Int(case_id));
    assert_eq!(rows[0][3], Cell::text("341122100202 Village A2"));
    assert_eq!(rows[0][4], Cell::text("行政村卫生室无合格村医"));
    assert_eq!(rows[0][16], Cell::Empty);
    assert!(ledger_rows(&app, &Scope::parse("341123").unwrap(), today).await.is_empty());

    // No plan: refused, nothing written.
    let e = app.move_network_case(&county(), case_id, 1, planned(None), "wang", today).await.unwrap_err();
    assert!(matches!(&e, AppError::Conflict(m) if m.contains("plan in force")), "{e:?}");
    // A plan that covers the village, a draft: not yet.
    let draft = |region: &str, end: &str, village: &str| app::plans::PlanDraft {
        region: code(region),
        period_start: today,
        period_end: d(end),
        lines: vec![rove(village, "T1", "Tue")],
    };
    let officer = app::Role::Officer;
    let covering =
        app.draft_plan(&county(), officer, &draft("341122", "2025-12-31", "341122100202"), "wang").await.unwrap();
    let e = app.move_network_case(&county(), case_id, 1, planned(None), "wang", today).await.unwrap_err();
    assert!(matches!(e, AppError::Conflict(_)), "{e:?}");
    // A plan in force of another village: named, refused.
    let other =
        app.draft_plan(&county(), officer, &draft("341122100", "2025-06-30", "341122100201"), "wang").await.unwrap();
    for id in [covering.id, other.id] {
        for to in [PlanState::Approved, PlanState::InForce] {
            app.move_plan(&county(), officer, id, to, today, "wang").await.unwrap();
        }
    }
    let e = app.move_network_case(&county(), case_id, 1, planned(Some(other.id)), "wang", today).await.unwrap_err();
    assert!(matches!(&e, AppError::Conflict(m) if m.contains(&format!("plan {}", other.id))), "{e:?}");
    // A plan named for another reason: refused.
    let filled =
        NetworkCaseRequest::Close { reason: NetworkCloseReason::Filled, note: String::new(), plan: Some(covering.id) };
    let e = app.move_network_case(&county(), case_id, 1, filled, "wang", today).await.unwrap_err();
    assert!(matches!(&e, AppError::Invalid(m) if m.contains("plan_id")), "{e:?}");
    assert_eq!(app.network_case(&county(), case_id).await.unwrap().unwrap(), c, "refusals write nothing");

    // The plan in force that covers the village, found without being named.
    let closed = app.move_network_case(&county(), case_id, 1, planned(None), "wang", today).await.unwrap();
    assert_eq!(
        (closed.state, closed.close_reason, closed.plan),
        (CaseState::Closed, Some(NetworkCloseReason::Planned), Some((covering.id, 1)))
    );
    let last = closed.events.last().unwrap();
    assert!(last.detail.contains(&format!("plan {} version 1", covering.id)), "{}", last.detail);

    // The ledger shows how it was closed, and by which plan.
    let rows = ledger_rows(&app, &county(), today).await;
    assert_eq!(rows[0][15], Cell::text("派驻或巡诊"));
    assert_eq!(rows[0][16], Cell::text(format!("计划 {} 第 1 版", covering.id)));
    assert_eq!(rows[0][18], Cell::text("按期"));
}
