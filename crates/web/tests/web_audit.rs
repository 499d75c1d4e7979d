//! The audit trail has no gaps on reads: lists and searches of personal data (by
//! page and by API, with how many records), views of alerts and cases, and
//! attempts on records of another county (answered exactly as unknown ones, and
//! audited with the key).

mod common;

use common::*;
use web::access::Role;

on_each_repo!(reads_lists_and_refused_attempts_are_audited);

async fn reads_lists_and_refused_attempts_are_audited(kind: Kind) {
    let (srv, fx) = start_filled(kind).await;
    srv.user("officer_a", Role::Officer, "341122").await;
    let mut c = srv.login("officer_a").await;
    for path in [
        "/persons?q=",
        "/api/v1/persons?limit=1000",
        "/households",
        "/api/v1/households",
        "/alerts",
        "/api/v1/alerts",
        "/cases",
        "/api/v1/cases",
        "/api/v1/visits",
        "/api/v1/contracts",
    ] {
        assert_eq!(c.get(path).await.status, 200, "{path}");
    }
    assert_eq!(c.get(&format!("/alerts/{}", fx.a_alert)).await.status, 200);
    assert_eq!(c.get(&format!("/api/v1/alerts/{}", fx.a_alert)).await.status, 200);
    // Another county's person, household and alert: answered as unknown ones are.
    let b_ref = srv.person_ref(&fx.b_person).await;
    let pairs = [
        (format!("/api/v1/persons/{}", fx.b_person), "/api/v1/persons/110101199003070011".to_string()),
        (format!("/api/v1/persons/{b_ref}"), format!("/api/v1/persons/{}", "0".repeat(32))),
        ("/api/v1/households/HB1".to_string(), "/api/v1/households/NOPE".to_string()),
        (format!("/api/v1/alerts/{}", fx.b_alert), "/api/v1/alerts/99999".to_string()),
        (format!("/alerts/{}", fx.b_alert), "/alerts/99999".to_string()),
        ("/households/HB1".to_string(), "/households/NOPE".to_string()),
    ];
    for (elsewhere, unknown) in &pairs {
        let (a, b) = (c.get(elsewhere).await, c.get(unknown).await);
        assert_eq!((a.status, a.body.replace("HB1", "NOPE")), (b.status, b.body), "{elsewhere} vs {unknown}");
        assert_eq!(a.status, 404);
    }
    let log = srv.state.app.audit_log(1000).await.unwrap();
    let mine: Vec<_> = log.iter().filter(|e| e.username == "officer_a").collect();
    let has = |action: &str, detail: &str| mine.iter().any(|e| e.action == action && e.detail.contains(detail));
    for what in ["persons", "households", "alerts", "cases", "visits", "contracts"] {
        assert!(has(&format!("list_{what}"), "records"), "list_{what} not audited: {mine:?}");
    }
    assert!(has("list_persons", "2 records") || has("list_persons", "1 records"), "{mine:?}");
    assert_eq!(mine.iter().filter(|e| e.action == "view_alert").count(), 2, "{mine:?}");
    let refused: Vec<&str> =
        mine.iter().filter(|e| e.action == "refused_out_of_scope").map(|e| e.target.as_str()).collect();
    for want in [fx.b_person.as_str(), "HB1", &format!("alert {}", fx.b_alert)] {
        assert!(refused.contains(&want), "{want} not in {refused:?}");
    }
    // Unknown keys are not "refused": there was nothing to refuse.
    assert!(!refused.iter().any(|t| t.contains("NOPE") || t.contains("99999")), "{refused:?}");
}
