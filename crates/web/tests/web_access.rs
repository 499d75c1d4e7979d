//! Accounts, roles, region scope, CSRF, failed logins and audit, through the real server.

mod common;

use common::*;
use web::access::Role;

on_each_repo!(
    login_logout_and_pages_need_a_session,
    login_form_without_its_token_is_refused,
    repeated_failures_lock_no_account,
    csrf_token_is_checked_on_every_post,
    a_county_user_cannot_reach_another_county_by_any_path,
    roles_allow_and_forbid,
    alert_workflow_writes_audit_rows,
    coverage_policies_and_imports_pages,
);

async fn setup(kind: Kind) -> (Server, Fixture) {
    let (srv, fx) = start_filled(kind).await;
    srv.user("admin", Role::Administrator, "").await;
    srv.user("officer_a", Role::Officer, "341122").await;
    srv.user("clerk_a", Role::Clerk, "341122").await;
    srv.user("analyst_a", Role::Analyst, "341122").await;
    srv.user("viewer_a", Role::Viewer, "341122").await;
    (srv, fx)
}

async fn audit_actions(srv: &Server) -> Vec<(String, String, String)> {
    srv.state.app.audit_log(1000).await.unwrap().into_iter().map(|e| (e.username, e.action, e.target)).collect()
}

async fn login_logout_and_pages_need_a_session(kind: Kind) {
    let (srv, _) = setup(kind).await;
    let mut anon = srv.client();
    let r = anon.get("/").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/login"));
    let r = anon.get("/api/v1/persons").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"], "unauthorized");

    let mut c = srv.client();
    let r = c.login("officer_a", "password-1234").await;
    assert_eq!(r.status, 303, "{}", r.body);
    let cookie = r.header("set-cookie").unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let r = c.get("/").await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("<svg class=\"map\""), "overview draws the map");
    assert!(r.body.contains("open_alerts"));
    // English on request
    let r = c.get("/lang/en").await;
    assert_eq!(r.status, 303);
    assert!(c.get("/").await.body.contains("Open alerts"));
    // logout ends the session
    let csrf = c.csrf().await;
    assert_eq!(c.post_form("/logout", &[("csrf", &csrf)]).await.status, 303);
    assert_eq!(c.get("/").await.status, 303);
    assert!(audit_actions(&srv).await.iter().any(|(u, a, _)| u == "officer_a" && a == "login"));
}

async fn login_form_without_its_token_is_refused(kind: Kind) {
    let (srv, _) = setup(kind).await;
    let mut c = srv.client();
    let r = c.post_form("/login", &[("username", "admin"), ("password", "password-1234"), ("csrf", "x")]).await;
    assert_eq!(r.status, 403);
    assert!(!c.cookies.contains_key("sn_session"));
}

async fn repeated_failures_lock_no_account(kind: Kind) {
    let (srv, _) = setup(kind).await;
    let mut c = srv.client();
    for i in 0..6 {
        let r = c.login("clerk_a", "wrong-password").await;
        assert_eq!(r.status, 401, "attempt {i}");
        assert!(r.body.contains("wrong user name or password"));
        assert!(!r.body.contains("locked"), "{}", r.body);
    }
    // No account is locked by failures: the right password still opens it (the
    // back-off by address and by name: web_login.rs).
    assert_eq!(c.login("clerk_a", "password-1234").await.status, 303);
    let acts = audit_actions(&srv).await;
    assert!(acts.iter().any(|(_, a, t)| a == "login_failed" && t == "clerk_a"));
    assert!(!acts.iter().any(|(_, a, _)| a == "lockout" || a == "login_refused_locked"));
    // other accounts are unaffected
    assert_eq!(c.login("officer_a", "password-1234").await.status, 303);
}

async fn csrf_token_is_checked_on_every_post(kind: Kind) {
    let (srv, fx) = setup(kind).await;
    let mut c = srv.login("officer_a").await;
    let path = format!("/alerts/{}/transition", fx.a_alert);
    let r = c.post_form(&path, &[("to", "verifying"), ("note", "x")]).await;
    assert_eq!(r.status, 403, "no token");
    let r = c.post_form(&path, &[("to", "verifying"), ("note", "x"), ("csrf", &"0".repeat(64))]).await;
    assert_eq!(r.status, 403, "wrong token");
    let r = c.post_json(&format!("/api/v1/alerts/{}/transition", fx.a_alert), r#"{"to":"verifying"}"#).await;
    assert_eq!(r.status, 403, "cookie-authenticated API call without X-CSRF-Token");
    let csrf = c.csrf().await;
    let r = c.post_form(&path, &[("to", "verifying"), ("note", "checked"), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let a = srv.state.app.alert(&web::access::Scope::all(), fx.a_alert).await.unwrap().unwrap();
    assert_eq!(a.state, "verifying");
}

async fn a_county_user_cannot_reach_another_county_by_any_path(kind: Kind) {
    let (srv, fx) = setup(kind).await;
    for user in ["officer_a", "viewer_a", "clerk_a", "analyst_a"] {
        let mut c = srv.login(user).await;
        // pages
        assert_eq!(c.get(&format!("/persons/{}", fx.b_person)).await.status, 404, "{user} person page");
        let a_ref = srv.person_ref(&fx.a_person).await;
        assert_eq!(c.get(&format!("/persons/{a_ref}")).await.status, 200, "{user} own person page");
        let b_ref = srv.person_ref(&fx.b_person).await;
        assert_eq!(c.get(&format!("/persons/{b_ref}")).await.status, 404, "{user} person page by reference");
        assert_eq!(c.get(&format!("/api/v1/persons/{b_ref}")).await.status, 404, "{user} api person by reference");
        assert_eq!(c.get("/households/HB1").await.status, 404, "{user} household page");
        assert_eq!(c.get(&format!("/alerts/{}", fx.b_alert)).await.status, 404, "{user} alert page");
        let r = c.get(&format!("/persons?q={}", &fx.b_person[..6])).await;
        assert!(!r.body.contains("HB1"), "{user} search");
        let r = c.get("/persons?q=").await;
        assert!(r.body.contains("HA1") && !r.body.contains("HB1"), "{user} list");
        let r = c.get("/alerts").await;
        assert!(r.body.contains("HA1") && !r.body.contains("HB1"), "{user} alert queue");
        // API
        assert_eq!(c.get(&format!("/api/v1/persons/{}", fx.b_person)).await.status, 404, "{user} api person");
        assert_eq!(c.get("/api/v1/households/HB1").await.status, 404, "{user} api household");
        assert_eq!(c.get(&format!("/api/v1/alerts/{}", fx.b_alert)).await.status, 404, "{user} api alert");
        let r = c.get(&format!("/api/v1/persons?q={}", &fx.b_person[..6])).await;
        assert_eq!(r.json()["items"].as_array().unwrap().len(), 0, "{user} api search");
        let r = c.get("/api/v1/alerts?region=341123").await;
        assert_eq!(r.json()["items"].as_array().unwrap().len(), 0, "{user} api alerts of the other county");
        let r = c.get("/api/v1/indicators/summary").await;
        assert_eq!(r.json()["persons"], 1, "{user} summary counts own county only");
        // export
        let r = c.get("/export/persons.csv").await;
        if r.status == 200 {
            assert!(r.body.contains("HA1") && !r.body.contains("HB1"), "{user} export");
        } else {
            assert_eq!(r.status, 403, "{user} export");
        }
    }
    // a write on another county's alert is not found either
    let mut c = srv.login("officer_a").await;
    let csrf = c.csrf().await;
    let r = c.post_form(&format!("/alerts/{}/transition", fx.b_alert), &[("to", "verifying"), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 404);
    // the province-wide administrator sees both
    let mut admin = srv.login("admin").await;
    assert_eq!(admin.get(&format!("/persons/{}", fx.b_person)).await.status, 200);
}

async fn roles_allow_and_forbid(kind: Kind) {
    let (srv, fx) = setup(kind).await;
    let person = format!("/persons/{}", srv.person_ref(&fx.a_person).await);

    // viewer: masked, may not move alerts, export, audit or manage users
    let mut v = srv.login("viewer_a").await;
    let r = v.get(&person).await;
    assert!(r.body.contains("张**") && !r.body.contains(A_NAME), "viewer sees a masked name");
    assert!(!r.body.contains(&fx.a_person[..17]), "viewer sees a masked ID");
    let r = v.get(&format!("/api/v1{person}")).await;
    assert_eq!(r.json()["name"], "张**");
    let csrf = v.csrf().await;
    let r = v.post_form(&format!("/alerts/{}/transition", fx.a_alert), &[("to", "verifying"), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 403);
    assert_eq!(v.get("/export/persons.csv").await.status, 403);
    assert_eq!(v.get("/audit").await.status, 403);
    assert_eq!(v.get("/users").await.status, 403);

    // clerk: unmasked, may not move alerts
    let mut c = srv.login("clerk_a").await;
    assert!(c.get(&person).await.body.contains(A_NAME));
    let csrf = c.csrf().await;
    let r = c
        .post_form(&format!("/alerts/{}/measure", fx.a_alert), &[("kind", "x"), ("amount", "1"), ("csrf", &csrf)])
        .await;
    assert_eq!(r.status, 403);

    // analyst: export masked
    let mut an = srv.login("analyst_a").await;
    let r = an.get("/export/persons.csv").await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("张**") && !r.body.contains(A_NAME));

    // officer: moves alerts, reads audit, may not manage users
    let mut o = srv.login("officer_a").await;
    assert_eq!(o.get("/audit").await.status, 200);
    assert_eq!(o.get("/users").await.status, 403);
    let csrf = o.csrf().await;
    let r = o
        .post_form("/users", &[("username", "x1"), ("password", "password-1234"), ("role", "viewer"), ("csrf", &csrf)])
        .await;
    assert_eq!(r.status, 403);

    // administrator: creates users
    let mut a = srv.login("admin").await;
    let csrf = a.csrf().await;
    let r = a
        .post_form(
            "/users",
            &[
                ("username", "new_viewer"),
                ("password", "password-1234"),
                ("role", "viewer"),
                ("scope", "341123"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut nv = srv.login("new_viewer").await;
    assert_eq!(nv.get(&format!("/persons/{}", srv.person_ref(&fx.b_person).await)).await.status, 200);
    assert_eq!(nv.get(&format!("/persons/{}", srv.person_ref(&fx.a_person).await)).await.status, 404);
}

async fn alert_workflow_writes_audit_rows(kind: Kind) {
    let (srv, fx) = setup(kind).await;
    let mut o = srv.login("officer_a").await;
    let base = format!("/alerts/{}", fx.a_alert);
    let csrf = o.csrf().await;
    for to in ["verifying", "assisting"] {
        let r = o.post_form(&format!("{base}/transition"), &[("to", to), ("note", "n"), ("csrf", &csrf)]).await;
        assert_eq!(r.status, 303, "{to}: {}", r.body);
    }
    // resolving without a measure is refused with the reason
    let r = o.post_form(&format!("{base}/transition"), &[("to", "resolved"), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 409);
    assert!(r.body.contains("assistance measure"), "{}", r.body);
    let r = o
        .post_form(
            &format!("{base}/measure"),
            &[("kind", "临时救助"), ("amount", "1500.5"), ("note", "paid"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = o.post_form(&format!("{base}/transition"), &[("to", "resolved"), ("note", "done"), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 303);
    let page = o.get(&base).await.body;
    assert!(page.contains("1500.50") && page.contains("临时救助"));
    o.get(&format!("/persons/{}", fx.a_person)).await;
    o.get("/export/persons.csv").await;
    let acts = audit_actions(&srv).await;
    for want in ["alert_transition", "alert_measure", "view_person", "export"] {
        assert!(acts.iter().any(|(u, a, _)| u == "officer_a" && a == want), "no {want} row in {acts:?}");
    }
    let audit_page = o.get("/audit").await.body;
    assert!(audit_page.contains("alert_measure"));
}

async fn coverage_policies_and_imports_pages(kind: Kind) {
    let (srv, _) = setup(kind).await;
    let mut o = srv.login("officer_a").await;
    let r = o.get("/coverage?as_of=2024-06-01").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("village_no_doctor"), "A's doctor ages out within five years");
    assert!(!r.body.contains("341123100201"), "the other county's village is not shown");
    assert_eq!(o.get("/coverage?as_of=2024-02-30").await.status, 400);
    let mut a = srv.login("admin").await;
    let r = a.get("/coverage?as_of=2024-06-01").await;
    assert!(r.body.contains("341123100201") && r.body.contains("village_no_clinic"), "B has no clinic");
    let r = o.get("/policies").await;
    assert!(r.body.contains("Demo county 2024") && r.body.contains("basic → critical → assistance → safety_net"));
    // The import reports quote the files' rows: for the roles that import.
    assert_eq!(o.get("/imports").await.status, 403);
    let r = a.get("/imports").await;
    assert!(r.body.contains("persons.csv") && r.body.contains("check digit"));
}
