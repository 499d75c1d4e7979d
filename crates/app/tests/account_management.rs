//! Accounts managed (issue 20, item 6), against both engines: user names unique
//! without regard to case, accounts turned off and on, passwords changed and
//! reset (each ending sessions), API tokens with their own role, scope and
//! expiry, listed and revoked, and every change audited.

mod common;
use app::access::{Role, Scope};
use app::{App, AppError, NewToken, NewUser, Session, User};
use chrono::{Duration, Utc};
use store::{SessionRow, Store};

both_backends!(
    user_names_are_unique_without_regard_to_case,
    turning_an_account_off_ends_its_sessions_and_its_tokens,
    a_password_reset_or_change_ends_sessions,
    tokens_carry_a_narrower_role_and_scope,
    tokens_expire_and_are_revoked,
    tokens_are_listed_for_their_owner_and_the_administrators,
    sessions_end_together_and_tokens_keep_what_they_carry,
    a_village_doctor_is_a_user_and_the_rebuilt_tables_keep_their_rules,
);

async fn user(app: &App, name: &str, role: Role, scope: &str) -> User {
    app.create_user(NewUser {
        username: name.into(),
        password_hash: format!("$argon2id$hash-of-{name}"),
        role,
        scope: Scope::parse(scope).unwrap(),
    })
    .await
    .unwrap()
}

async fn session(app: &App, u: &User, tag: &str) -> String {
    let hash = format!("{tag:0>64}");
    app.create_session(Session {
        token_hash: hash.clone(),
        user_id: u.id,
        csrf: "c".repeat(64),
        expires_at: Utc::now() + Duration::hours(8),
    })
    .await
    .unwrap();
    hash
}

/// The hash of token number `n` (hex, as the web layer makes them).
fn hash(n: u32) -> String {
    format!("{n:016x}").repeat(4)
}

fn new_token(name: &str) -> NewToken {
    NewToken { name: name.into(), ..Default::default() }
}

async fn actions(app: &App) -> Vec<(String, String, String)> {
    app.audit_log(1000).await.unwrap().into_iter().map(|e| (e.username, e.action, e.target)).collect()
}

async fn user_names_are_unique_without_regard_to_case(store: &Store) {
    let app = App::new(store.clone());
    let wang = user(&app, "Wang.Li", Role::Officer, "341122").await;
    // Found by any case.
    assert_eq!(app.user_by_name("wang.li").await.unwrap().map(|u| u.id), Some(wang.id));
    assert_eq!(app.user_by_name("WANG.LI").await.unwrap().map(|u| u.id), Some(wang.id));
    // Taken in any case, by the application and by the store's own index.
    let e = app
        .create_user(NewUser {
            username: "wang.li".into(),
            password_hash: "x".into(),
            role: Role::Viewer,
            scope: Scope::all(),
        })
        .await
        .unwrap_err();
    assert!(matches!(&e, AppError::Conflict(m) if m.contains("without regard to case")), "{e}");
    let e = store
        .create_user(&store::NewUser {
            username: "WANG.LI".into(),
            password_hash: "x".into(),
            role: "viewer".into(),
            region_scope: String::new(),
            facility_id: None,
        })
        .await
        .unwrap_err();
    assert!(e.is_constraint(), "the unique index on lower(username): {e}");
    assert_eq!(store.list_users().await.unwrap().len(), 1);
}

async fn turning_an_account_off_ends_its_sessions_and_its_tokens(store: &Store) {
    let app = App::new(store.clone());
    let admin = user(&app, "admin", Role::Administrator, "").await;
    let county_admin = user(&app, "county_admin", Role::Administrator, "341122").await;
    let officer = user(&app, "officer_a", Role::Officer, "341122").await;
    let other = user(&app, "officer_b", Role::Officer, "341123").await;
    let s = session(&app, &officer, "1").await;
    app.create_token(&officer, new_token("script"), &hash(1)).await.unwrap();
    assert!(app.token_identity(&hash(1)).await.unwrap().is_some());

    // Only an administrator, only inside their scope, never themselves.
    assert!(matches!(app.set_user_active(&officer, other.id, false).await, Err(AppError::Invalid(_))));
    assert!(matches!(app.set_user_active(&county_admin, other.id, false).await, Err(AppError::NotFound(_))));
    assert!(matches!(app.set_user_active(&admin, admin.id, false).await, Err(AppError::Invalid(_))));

    let off = app.set_user_active(&county_admin, officer.id, false).await.unwrap();
    assert!(!off.active);
    assert!(store.session(&s).await.unwrap().is_none(), "the session ended");
    assert!(app.token_identity(&hash(1)).await.unwrap().is_none(), "the token acts no more");
    let on = app.set_user_active(&admin, officer.id, true).await.unwrap();
    assert!(on.active);
    assert!(app.token_identity(&hash(1)).await.unwrap().is_some(), "the token acts again");

    let acts = actions(&app).await;
    assert!(acts.contains(&("county_admin".into(), "deactivate_user".into(), "officer_a".into())), "{acts:?}");
    assert!(acts.contains(&("admin".into(), "reactivate_user".into(), "officer_a".into())), "{acts:?}");
}

async fn a_password_reset_or_change_ends_sessions(store: &Store) {
    let app = App::new(store.clone());
    let admin = user(&app, "admin", Role::Administrator, "").await;
    let clerk = user(&app, "clerk_a", Role::Clerk, "341122").await;
    let (s1, s2) = (session(&app, &clerk, "1").await, session(&app, &clerk, "2").await);

    // The user's own change keeps the session it was made in.
    app.change_own_password(&clerk, "$argon2id$new", Some(&s1)).await.unwrap();
    assert_eq!(store.user_by_id(clerk.id).await.unwrap().unwrap().password_hash, "$argon2id$new");
    assert!(store.session(&s1).await.unwrap().is_some(), "the session of the change stays");
    assert!(store.session(&s2).await.unwrap().is_none(), "the others end");

    // A reset by an administrator ends them all.
    assert!(matches!(app.reset_password(&clerk, admin.id, "x").await, Err(AppError::Invalid(_))));
    assert!(matches!(app.reset_password(&admin, admin.id, "x").await, Err(AppError::Invalid(_))), "not one's own");
    app.reset_password(&admin, clerk.id, "$argon2id$reset").await.unwrap();
    assert_eq!(store.user_by_id(clerk.id).await.unwrap().unwrap().password_hash, "$argon2id$reset");
    assert!(store.session(&s1).await.unwrap().is_none());
    assert!(matches!(app.reset_password(&admin, 4242, "x").await, Err(AppError::NotFound(_))));

    let acts = actions(&app).await;
    assert!(acts.contains(&("clerk_a".into(), "change_password".into(), "clerk_a".into())), "{acts:?}");
    assert!(acts.contains(&("admin".into(), "reset_password".into(), "clerk_a".into())), "{acts:?}");
    let rows = app.audit_log(100).await.unwrap();
    assert!(rows.iter().all(|r| !r.detail.contains("argon2")), "no hash in the audit log");
}

async fn tokens_carry_a_narrower_role_and_scope(store: &Store) {
    let app = App::new(store.clone());
    let admin = user(&app, "admin", Role::Administrator, "").await;
    let officer = user(&app, "officer_a", Role::Officer, "341122").await;

    // An administrator makes a hospital's token: a clerk of one county.
    let t = NewToken {
        name: "his-county-hospital".into(),
        role: Some(Role::Clerk),
        scope: Some(Scope::parse("341122").unwrap()),
        days: Some(30),
    };
    let made = app.create_token(&admin, t, &hash(1)).await.unwrap();
    assert_eq!((made.role, made.scope.prefix()), (Role::Clerk, "341122"));
    assert!((made.expires_at - (Utc::now() + Duration::days(30))).num_seconds().abs() < 60);
    let (who, tok) = app.token_identity(&hash(1)).await.unwrap().unwrap();
    assert_eq!((who.id, who.role, who.scope.prefix()), (admin.id, Role::Clerk, "341122"), "acts narrowed");
    assert_eq!(tok.id, made.id);

    // No stronger than the maker, never outside their scope, 1 to 365 days.
    let refuse = |t: NewToken| {
        let app = app.clone();
        let officer = officer.clone();
        async move { app.create_token(&officer, t, &hash(9)).await.unwrap_err().to_string() }
    };
    let e = refuse(NewToken { role: Some(Role::Clerk), ..new_token("x") }).await;
    assert!(e.contains("no stronger") && e.contains("import"), "{e}");
    let e = refuse(NewToken { role: Some(Role::Administrator), ..new_token("x") }).await;
    assert!(e.contains("no stronger"), "{e}");
    let e = refuse(NewToken { scope: Some(Scope::parse("341123").unwrap()), ..new_token("x") }).await;
    assert!(e.contains("inside your own"), "{e}");
    let e = refuse(NewToken { scope: Some(Scope::all()), ..new_token("x") }).await;
    assert!(e.contains("inside your own"), "{e}");
    let e = refuse(NewToken { days: Some(366), ..new_token("x") }).await;
    assert!(e.contains("1 to 365 days"), "{e}");
    let e = refuse(NewToken { days: Some(0), ..new_token("x") }).await;
    assert!(e.contains("1 to 365 days"), "{e}");
    let e = refuse(new_token("  ")).await;
    assert!(e.contains("name"), "{e}");
    // Defaults: the maker's role and scope, 90 days.
    let v = app
        .create_token(&officer, NewToken { role: Some(Role::Viewer), ..new_token("viewer-script") }, &hash(2))
        .await
        .unwrap();
    assert_eq!((v.role, v.scope.prefix()), (Role::Viewer, "341122"));
    let d = app.create_token(&officer, new_token("default"), &hash(3)).await.unwrap();
    assert_eq!((d.role, d.scope.prefix()), (Role::Officer, "341122"));
    assert!((d.expires_at - (Utc::now() + Duration::days(90))).num_seconds().abs() < 60);
    let acts = actions(&app).await;
    assert!(acts.contains(&("admin".into(), "create_api_token".into(), "his-county-hospital".into())), "{acts:?}");
    let row = app.audit_log(100).await.unwrap().into_iter().find(|e| e.target == "his-county-hospital").unwrap();
    assert!(row.detail.contains("clerk") && row.detail.contains("341122"), "{}", row.detail);
}

async fn tokens_expire_and_are_revoked(store: &Store) {
    let app = App::new(store.clone());
    let officer = user(&app, "officer_a", Role::Officer, "341122").await;
    let other = user(&app, "officer_b", Role::Officer, "341122").await;
    let t = app.create_token(&officer, new_token("script"), &hash(1)).await.unwrap();
    // Another user cannot revoke it: it is not found for them.
    assert!(matches!(app.revoke_token(&other, &t.id).await, Err(AppError::NotFound(_))));
    assert!(app.token_identity(&hash(1)).await.unwrap().is_some());
    let r = app.revoke_token(&officer, &t.id).await.unwrap();
    assert_eq!(r.state(Utc::now()), "revoked");
    assert!(app.token_identity(&hash(1)).await.unwrap().is_none(), "a revoked token acts no more");
    assert!(store.api_token_user(&hash(1)).await.unwrap().is_none());
    // Revoking again changes nothing and writes no second row.
    app.revoke_token(&officer, &t.id).await.unwrap();
    let revokes = actions(&app).await.into_iter().filter(|(_, a, _)| a == "revoke_api_token").count();
    assert_eq!(revokes, 1);

    // An expired token (stored with a past expiry) acts no more either.
    store
        .create_api_token(&store::NewApiToken {
            token_hash: hash(2),
            id: hash(2)[..16].into(),
            user_id: officer.id,
            name: "old".into(),
            role: "officer".into(),
            region_scope: "341122".into(),
            expires_at: Utc::now() - Duration::minutes(1),
        })
        .await
        .unwrap();
    assert!(app.token_identity(&hash(2)).await.unwrap().is_none());
    assert!(store.api_token_user(&hash(2)).await.unwrap().is_none());
    let listed = app.tokens_for(&officer).await.unwrap();
    let old = listed.iter().find(|t| t.name == "old").unwrap();
    assert_eq!(old.state(Utc::now()), "expired");
}

async fn tokens_are_listed_for_their_owner_and_the_administrators(store: &Store) {
    let app = App::new(store.clone());
    let admin = user(&app, "admin", Role::Administrator, "").await;
    let county_admin = user(&app, "county_admin", Role::Administrator, "341122").await;
    let a = user(&app, "officer_a", Role::Officer, "341122").await;
    let b = user(&app, "officer_b", Role::Officer, "341123").await;
    let ta = app.create_token(&a, new_token("a-script"), &hash(1)).await.unwrap();
    let tb = app.create_token(&b, new_token("b-script"), &hash(2)).await.unwrap();
    let names = |ts: Vec<app::ApiToken>| ts.into_iter().map(|t| t.name).collect::<Vec<_>>();
    assert_eq!(names(app.tokens_for(&a).await.unwrap()), ["a-script"]);
    assert_eq!(names(app.tokens_for(&b).await.unwrap()), ["b-script"]);
    let mut all = names(app.tokens_for(&admin).await.unwrap());
    all.sort();
    assert_eq!(all, ["a-script", "b-script"], "the national administrator sees all");
    assert_eq!(names(app.tokens_for(&county_admin).await.unwrap()), ["a-script"], "a county's sees its county's");
    // An administrator revokes a token of their scope; not one outside it.
    assert!(matches!(app.revoke_token(&county_admin, &tb.id).await, Err(AppError::NotFound(_))));
    app.revoke_token(&county_admin, &ta.id).await.unwrap();
    assert!(app.token_identity(&hash(1)).await.unwrap().is_none());
    let acts = actions(&app).await;
    assert!(acts.contains(&("county_admin".into(), "revoke_api_token".into(), "a-script".into())), "{acts:?}");
    // Nothing of the list holds a secret or a hash.
    let text = format!("{:?}", app.tokens_for(&admin).await.unwrap());
    assert!(!text.contains(&hash(1)) && !text.contains(&hash(2)));
}

/// The store's own calls: every session of a user but one ends at once, and
/// tokens are stored with everything they carry.
async fn sessions_end_together_and_tokens_keep_what_they_carry(store: &Store) {
    let app = App::new(store.clone());
    let admin = user(&app, "admin", Role::Administrator, "").await;
    let t = app.create_token(&admin, new_token("script"), &hash(1)).await.unwrap();
    let rows = store.list_api_tokens(Some(admin.id)).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].id, t.id);
    assert_eq!(rows[0].owner, "admin");
    assert_eq!(rows[0].role.as_deref(), Some("administrator"));
    assert_eq!(rows[0].region_scope.as_deref(), Some(""));
    assert!(rows[0].expires_at.is_some() && rows[0].revoked_at.is_none());
    assert_eq!(store.list_api_tokens(None).await.unwrap().len(), 1);
    assert_eq!(store.list_api_tokens(Some(admin.id + 1)).await.unwrap().len(), 0);
    let (s1, _s2) = (session(&app, &admin, "7").await, session(&app, &admin, "8").await);
    assert_eq!(store.end_sessions_of(admin.id, Some(&s1)).await.unwrap(), 1);
    assert!(store.session(&s1).await.unwrap().is_some());
    assert_eq!(store.end_sessions_of(admin.id, None).await.unwrap(), 1);
    assert!(store.session(&s1).await.unwrap().is_none());
    let _: Option<SessionRow> = None;
}

/// Migration 13 widened the role constraint (rebuilding the tables on SQLite):
/// a village doctor can be stored, an unknown role still cannot, and the rebuilt
/// tables keep their rules: names unique without regard to case, sessions and
/// tokens bound to an existing user, and removed with it.
async fn a_village_doctor_is_a_user_and_the_rebuilt_tables_keep_their_rules(store: &Store) {
    let new = |name: &str, role: &str| store::NewUser {
        username: name.into(),
        password_hash: "x".into(),
        role: role.into(),
        region_scope: "341122100201".into(),
        facility_id: None,
    };
    let doctor = store.create_user(&new("dr.wang", "village_doctor")).await.unwrap();
    assert_eq!(doctor.role, "village_doctor");
    assert!(store.create_user(&new("root", "superuser")).await.is_err(), "an unknown role is refused");
    assert!(store.create_user(&new("DR.WANG", "viewer")).await.is_err(), "names unique without regard to case");
    let session = |user_id: i64, hash: &str| store::SessionRow {
        token_hash: hash.into(),
        user_id,
        csrf_token: "c".into(),
        expires_at: chrono::Utc::now() + chrono::Duration::hours(1),
    };
    store.create_session(&session(doctor.id, "h1")).await.unwrap();
    assert!(store.create_session(&session(doctor.id + 1000, "h2")).await.is_err(), "a session needs its user");
    assert!(store.session("h1").await.unwrap().is_some());
}
