//! Accounts and tokens managed (issue 20, item 6), through the real server:
//! tokens with a narrower role and region, their expiry, listing and
//! revocation; accounts turned off (sessions end, login refused) and on; a
//! password changed with the current one, and reset by an administrator; the
//! password policy; user names unique without regard to case. Every change
//! audited.

mod common;

use chrono::{Duration, Utc};
use common::*;
use web::access::Role;

on_each_repo!(
    a_token_with_a_narrower_role_and_region_cannot_act_beyond_it,
    tokens_expire_are_listed_and_are_revoked,
    turning_an_account_off_ends_its_sessions_and_blocks_its_login,
    a_password_change_needs_the_current_password,
    an_administrator_resets_a_password,
    common_passwords_and_names_taken_in_another_case_are_refused,
);

async fn setup(kind: Kind) -> (Server, Fixture) {
    let (srv, fx) = start_filled(kind).await;
    srv.user("admin", Role::Administrator, "").await;
    srv.user("officer_a", Role::Officer, "341122").await;
    srv.user("officer_b", Role::Officer, "341122").await;
    srv.user("clerk_a", Role::Clerk, "341122").await;
    (srv, fx)
}

async fn user_id(srv: &Server, name: &str) -> i64 {
    srv.state.app.user_by_name(name).await.unwrap().unwrap().id
}

/// The secret shown once on the page after a token is made.
fn new_token(r: &Resp) -> String {
    let i = r.body.find("id=\"new-token\">").unwrap_or_else(|| panic!("no new token in {}", r.body)) + 15;
    r.body[i..i + 64].to_string()
}

fn bearer(srv: &Server, token: &str) -> Client {
    let mut c = srv.client();
    c.bearer = Some(token.to_string());
    c
}

/// The refusal a page shows above its form.
fn form_error(r: &Resp) -> String {
    let i = r.body.find("id=\"form-error\">").unwrap_or_else(|| panic!("no refusal in {}", r.body)) + 16;
    r.body[i..].split("</p>").next().unwrap().to_string()
}

async fn audited(srv: &Server, who: &str, action: &str, target: &str) -> bool {
    let log = srv.state.app.audit_log(1000).await.unwrap();
    log.iter().any(|e| e.username == who && e.action == action && e.target == target)
}

fn claim(id: &str, person: &str) -> String {
    format!(
        r#"{{"claim_id":"{id}","person_id":"{person}","facility_level":"county","kind":"inpatient","facility_id":"FA1","admitted":"2024-03-10","discharged":"2024-03-10","total_cost":"60000.00","eligible_cost":"50000.00","diagnosis":"C16"}}"#
    )
}

async fn a_token_with_a_narrower_role_and_region_cannot_act_beyond_it(kind: Kind) {
    let (srv, fx) = setup(kind).await;
    // The administrator makes a county hospital's token: a clerk of county A.
    let mut admin = srv.login("admin").await;
    let csrf = admin.csrf().await;
    let r = admin
        .post_form(
            "/users/token",
            &[("name", "his-a"), ("role", "clerk"), ("scope", "341122"), ("days", "30"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut his = bearer(&srv, &new_token(&r));
    // Its county, as a clerk: reads, settles.
    assert_eq!(his.get(&format!("/api/v1/persons/{}", fx.a_person)).await.status, 200);
    let r = his.post_json("/api/v1/settlements", &claim("HIS-1", &fx.a_person)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    // Not beyond: another county is not found, a clerk's role moves no alert.
    assert_eq!(his.get(&format!("/api/v1/persons/{}", fx.b_person)).await.status, 404);
    let r = his.post_json("/api/v1/settlements", &claim("HIS-2", &fx.b_person)).await;
    assert!(r.status == 404 || r.status == 422, "another county's claim: {} {}", r.status, r.body);
    let r = his.post_json(&format!("/api/v1/alerts/{}/transition", fx.a_alert), r#"{"to":"verifying"}"#).await;
    assert_eq!(r.status, 403, "{}", r.body);
    // The summary is of the token's scope, not the administrator's.
    assert_eq!(his.get("/api/v1/indicators/summary").await.json()["scope"], "341122");
    let r = his.get("/api/v1/alerts").await;
    let items = r.json()["items"].as_array().unwrap().clone();
    assert!(!items.is_empty() && items.iter().all(|a| a["household_id"] == "HA1"), "{items:?}");
    // A token makes no token.
    let r = his.post_json("/api/v1/tokens", r#"{"name":"child"}"#).await;
    assert_eq!(r.status, 403, "{}", r.body);

    // An officer's token may not carry a clerk's role (imports) nor reach county B.
    let mut o = srv.login("officer_a").await;
    let csrf = o.csrf().await;
    let r = o.post_form("/account/tokens", &[("name", "x"), ("role", "clerk"), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(form_error(&r).contains("no stronger than your own"), "{}", form_error(&r));
    let r = o.post_form("/account/tokens", &[("name", "x"), ("scope", "341123"), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 422);
    assert!(form_error(&r).contains("inside your own"), "{}", form_error(&r));
    let r = o.post_form("/account/tokens", &[("name", "x"), ("scope", "3411x"), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 400, "{}", r.body);
    // A viewer's token of the officer: reads, masked; changes nothing.
    let r = o.post_form("/account/tokens", &[("name", "dashboard"), ("role", "viewer"), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut dash = bearer(&srv, &new_token(&r));
    let r = dash.get("/api/v1/persons").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let items = r.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "county A only: {items:?}");
    assert_eq!(items[0]["name"], "张**", "masked as a viewer");
    let r = dash.post_json(&format!("/api/v1/alerts/{}/transition", fx.a_alert), r#"{"to":"verifying"}"#).await;
    assert_eq!(r.status, 403);

    // The API makes tokens from a signed-in session (with its CSRF header).
    o.csrf_header = Some(csrf.clone());
    let r = o.post_json("/api/v1/tokens", r#"{"name":"api-made","role":"viewer","expires_in_days":7}"#).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let j = r.json();
    assert_eq!((j["token"]["role"].as_str(), j["token"]["scope"].as_str()), (Some("viewer"), Some("341122")));
    let secret = j["secret"].as_str().unwrap().to_string();
    assert_eq!(bearer(&srv, &secret).get("/api/v1/indicators/summary").await.status, 200);
    let r = o.post_json("/api/v1/tokens", r#"{"name":"x","role":"administrator"}"#).await;
    assert_eq!(r.status, 422, "{}", r.body);
    let r = o.post_json("/api/v1/tokens", r#"{"name":"x","expires_in_days":400}"#).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.json()["message"].as_str().unwrap().contains("1 to 365 days"));

    assert!(audited(&srv, "admin", "create_api_token", "his-a").await);
    assert!(audited(&srv, "officer_a", "create_api_token", "dashboard").await);
}

async fn tokens_expire_are_listed_and_are_revoked(kind: Kind) {
    let (srv, _) = setup(kind).await;
    let mut o = srv.login("officer_a").await;
    let csrf = o.csrf().await;
    // The expiry is required and bounded: 90 days unless asked, at most a year.
    for (days, msg) in [("0", "1 to 365 days"), ("366", "1 to 365 days"), ("soon", "whole number")] {
        let r = o.post_form("/account/tokens", &[("name", "x"), ("days", days), ("csrf", &csrf)]).await;
        assert!(r.status == 422 || r.status == 400, "{days}: {}", r.body);
        assert!(form_error(&r).contains(msg), "{days}: {}", form_error(&r));
    }
    let r = o.post_form("/account/tokens", &[("name", "script-a"), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let a_secret = new_token(&r);
    let mut b = srv.login("officer_b").await;
    let csrf_b = b.csrf().await;
    let b_secret = new_token(&b.post_form("/account/tokens", &[("name", "script-b"), ("csrf", &csrf_b)]).await);

    // Listed: one's own; the administrator all.
    let mut a_api = bearer(&srv, &a_secret);
    let list = a_api.get("/api/v1/tokens").await.json();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["name"], "script-a");
    assert_eq!(items[0]["state"], "live");
    assert_eq!(items[0]["owner"], "officer_a");
    let expires = chrono::DateTime::parse_from_rfc3339(items[0]["expires_at"].as_str().unwrap()).unwrap();
    assert!((expires.with_timezone(&Utc) - (Utc::now() + Duration::days(90))).num_minutes().abs() < 5);
    assert!(!list.to_string().contains(&a_secret), "no secret in the list");
    let a_id = items[0]["id"].as_str().unwrap().to_string();
    let mut admin = srv.login("admin").await;
    let all = admin.get("/api/v1/tokens").await.json();
    let names: Vec<&str> = all["items"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"script-a") && names.contains(&"script-b"), "{names:?}");
    let page = admin.get("/users").await;
    assert!(page.body.contains("script-a") && page.body.contains("script-b"));
    let page = o.get("/account").await;
    assert!(page.body.contains("script-a") && !page.body.contains("script-b"), "one's own on the account page");

    // Revoked: by another user it is not found; by its owner it acts no more.
    let mut b_api = bearer(&srv, &b_secret);
    assert_eq!(b_api.post_json(&format!("/api/v1/tokens/{a_id}/revoke"), "").await.status, 404);
    assert_eq!(a_api.get("/api/v1/indicators/summary").await.status, 200);
    let r = a_api.post_json(&format!("/api/v1/tokens/{a_id}/revoke"), "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["state"], "revoked");
    assert_eq!(a_api.get("/api/v1/indicators/summary").await.status, 401);
    assert!(audited(&srv, "officer_a", "revoke_api_token", "script-a").await);
    // The administrator revokes anyone's from the users page.
    let b_id =
        srv.state.app.tokens_for(&srv.state.app.user_by_name("officer_b").await.unwrap().unwrap()).await.unwrap()[0]
            .id
            .clone();
    let csrf = admin.csrf().await;
    let r = admin.post_form(&format!("/tokens/{b_id}/revoke"), &[("back", "/users"), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(b_api.get("/api/v1/indicators/summary").await.status, 401);
    assert!(audited(&srv, "admin", "revoke_api_token", "script-b").await);
    // An officer cannot revoke the administrator's token from a page either.
    let admin_secret = new_token(&admin.post_form("/users/token", &[("name", "adm"), ("csrf", &csrf)]).await);
    let adm_id = web::auth::secret_hash(&admin_secret)[..16].to_string();
    let csrf_o = o.csrf().await;
    let r = o.post_form(&format!("/tokens/{adm_id}/revoke"), &[("csrf", &csrf_o)]).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(bearer(&srv, &admin_secret).get("/api/v1/indicators/summary").await.status, 200);

    // Expired: a token past its expiry acts no more.
    let secret = web::auth::new_secret();
    let hash = web::auth::secret_hash(&secret);
    srv.state
        .app
        .store()
        .create_api_token(&store::NewApiToken {
            id: hash[..16].to_string(),
            token_hash: hash,
            user_id: user_id(&srv, "officer_a").await,
            name: "old".into(),
            role: "officer".into(),
            region_scope: "341122".into(),
            expires_at: Utc::now() - Duration::seconds(5),
        })
        .await
        .unwrap();
    assert_eq!(bearer(&srv, &secret).get("/api/v1/indicators/summary").await.status, 401);
    let mine = o.get("/account").await;
    assert!(mine.body.contains("old") && mine.body.contains("state expired"), "listed as expired");
}

async fn turning_an_account_off_ends_its_sessions_and_blocks_its_login(kind: Kind) {
    let (srv, _) = setup(kind).await;
    let mut o = srv.login("officer_a").await;
    let csrf = o.csrf().await;
    let token = new_token(&o.post_form("/account/tokens", &[("name", "script"), ("csrf", &csrf)]).await);
    assert_eq!(o.get("/").await.status, 200);
    let id = user_id(&srv, "officer_a").await;

    // Only an administrator turns an account off.
    let mut b = srv.login("officer_b").await;
    let csrf_b = b.csrf().await;
    assert_eq!(
        b.post_form(&format!("/users/{id}/active"), &[("active", "false"), ("csrf", &csrf_b)]).await.status,
        403
    );

    let mut admin = srv.login("admin").await;
    let csrf = admin.csrf().await;
    let r = admin.post_form(&format!("/users/{id}/active"), &[("active", "false"), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("turned off") || r.body.contains("已停用"), "{}", r.body);
    // Its session ended, its token acts no more, its login is refused as any.
    let r = o.get("/").await;
    assert_eq!((r.status, r.header("location")), (303, Some("/login")));
    assert_eq!(bearer(&srv, &token).get("/api/v1/indicators/summary").await.status, 401);
    let mut c = srv.client();
    let r = c.login("officer_a", "password-1234").await;
    assert_eq!(r.status, 401);
    assert!(r.body.contains("wrong user name or password"), "{}", r.body);
    // A refused form says why.
    let own = user_id(&srv, "admin").await;
    let r = admin.post_form(&format!("/users/{own}/active"), &[("active", "false"), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 422);
    assert!(form_error(&r).contains("your own account"), "{}", form_error(&r));
    let r = admin.post_form(&format!("/users/{id}/active"), &[("active", "maybe"), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 400);
    assert!(form_error(&r).contains("active"), "{}", form_error(&r));
    assert_eq!(admin.post_form("/users/99999/active", &[("active", "true"), ("csrf", &csrf)]).await.status, 404);

    // On again: the login and the token work again.
    let r = admin.post_form(&format!("/users/{id}/active"), &[("active", "true"), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(srv.client().login("officer_a", "password-1234").await.status, 303);
    assert_eq!(bearer(&srv, &token).get("/api/v1/indicators/summary").await.status, 200);
    assert!(audited(&srv, "admin", "deactivate_user", "officer_a").await);
    assert!(audited(&srv, "admin", "reactivate_user", "officer_a").await);
}

async fn change(o: &mut Client, csrf: &str, current: &str, new: &str, confirm: &str) -> Resp {
    o.post_form("/account/password", &[("current", current), ("new", new), ("confirm", confirm), ("csrf", csrf)]).await
}

async fn create(admin: &mut Client, csrf: &str, name: &str, password: &str) -> Resp {
    let form = [("username", name), ("password", password), ("role", "viewer"), ("scope", "341122"), ("csrf", csrf)];
    admin.post_form("/users", &form).await
}

async fn a_password_change_needs_the_current_password(kind: Kind) {
    let (srv, _) = setup(kind).await;
    let mut o = srv.login("officer_a").await;
    let mut other = srv.login("officer_a").await;
    let csrf = o.csrf().await;
    let r = change(&mut o, &csrf, "wrong-password-1", "another-good-pw-77", "another-good-pw-77").await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(form_error(&r).contains("current password is wrong"), "{}", form_error(&r));
    let r = change(&mut o, &csrf, "password-1234", "another-good-pw-77", "another-good-pw-78").await;
    assert_eq!(r.status, 400);
    assert!(form_error(&r).contains("differ"), "{}", form_error(&r));
    let r = change(&mut o, &csrf, "password-1234", "qwertyuiop", "qwertyuiop").await;
    assert_eq!(r.status, 400);
    assert!(form_error(&r).contains("most common"), "{}", form_error(&r));
    let r = change(&mut o, &csrf, "password-1234", "short-1", "short-1").await;
    assert!(form_error(&r).contains("at least 10"), "{}", form_error(&r));
    // Nothing changed so far.
    assert_eq!(other.get("/").await.status, 200);

    let r = change(&mut o, &csrf, "password-1234", "another-good-pw-77", "another-good-pw-77").await;
    assert_eq!(r.status, 200, "{}", r.body);
    // This session goes on; the other one ended; the old password no longer opens.
    assert_eq!(o.get("/account").await.status, 200);
    assert_eq!(other.get("/").await.status, 303);
    assert_eq!(srv.client().login("officer_a", "password-1234").await.status, 401);
    assert_eq!(srv.client().login("officer_a", "another-good-pw-77").await.status, 303);
    assert!(audited(&srv, "officer_a", "change_password", "officer_a").await);
}

async fn an_administrator_resets_a_password(kind: Kind) {
    let (srv, _) = setup(kind).await;
    let mut o = srv.login("officer_a").await;
    let id = user_id(&srv, "officer_a").await;
    // Not an officer's to do.
    let mut b = srv.login("officer_b").await;
    let csrf_b = b.csrf().await;
    let r =
        b.post_form(&format!("/users/{id}/password"), &[("password", "fresh-password-99"), ("csrf", &csrf_b)]).await;
    assert_eq!(r.status, 403);

    let mut admin = srv.login("admin").await;
    let csrf = admin.csrf().await;
    let r = admin.post_form(&format!("/users/{id}/password"), &[("password", "officer_a"), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 400);
    assert!(form_error(&r).contains("user name") || form_error(&r).contains("at least"), "{}", form_error(&r));
    let r = admin.post_form(&format!("/users/{id}/password"), &[("password", "1q2w3e4r5t"), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 400);
    assert!(form_error(&r).contains("most common"), "{}", form_error(&r));
    assert_eq!(o.get("/").await.status, 200, "nothing changed yet");

    let r =
        admin.post_form(&format!("/users/{id}/password"), &[("password", "fresh-password-99"), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(o.get("/").await.status, 303, "the user's sessions ended");
    assert_eq!(srv.client().login("officer_a", "password-1234").await.status, 401);
    assert_eq!(srv.client().login("officer_a", "fresh-password-99").await.status, 303);
    assert!(audited(&srv, "admin", "reset_password", "officer_a").await);
    let log = srv.state.app.audit_log(1000).await.unwrap();
    assert!(log.iter().all(|e| !e.detail.contains("fresh-password-99")), "no password in the audit log");
}

async fn common_passwords_and_names_taken_in_another_case_are_refused(kind: Kind) {
    let (srv, _) = setup(kind).await;
    let mut admin = srv.login("admin").await;
    let csrf = admin.csrf().await;
    let r = create(&mut admin, &csrf, "new_viewer", "password123").await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(form_error(&r).contains("most common"), "{}", form_error(&r));
    let r = create(&mut admin, &csrf, "new_viewer", "New_Viewer").await;
    assert!(form_error(&r).contains("user name") || form_error(&r).contains("at least"), "{}", form_error(&r));
    let r = create(&mut admin, &csrf, "new_viewer", "short").await;
    assert!(form_error(&r).contains("at least 10"), "{}", form_error(&r));
    // A name taken in another case.
    let r = create(&mut admin, &csrf, "Officer_A", "good-password-42").await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(form_error(&r).contains("without regard to case"), "{}", form_error(&r));
    assert!(srv.state.app.user_by_name("new_viewer").await.unwrap().is_none(), "nothing made");
    // A good one; login by name in any case.
    let r = create(&mut admin, &csrf, "new_viewer", "good-password-42").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(srv.client().login("NEW_Viewer", "good-password-42").await.status, 303);
    assert_eq!(srv.client().login("OFFICER_A", "password-1234").await.status, 303);
    assert!(audited(&srv, "admin", "create_user", "new_viewer").await);
}
