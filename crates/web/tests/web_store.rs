//! The application over the store: secrets kept hashed, settlements, audit rows
//! and sessions surviving a restart of the server on the same database, and
//! `open_repo` choosing the repository by the `--db` value.

mod common;

use common::*;
use std::sync::Arc;
use web::access::Role;
use web::App;

/// Where a test's store lives, so that a second server can open it again.
struct Db {
    url: String,
    _keep: Box<dyn std::any::Any + Send + Sync>,
}

async fn database(kind: Kind) -> Db {
    match kind {
        Kind::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let url = dir.path().join("web.db").to_str().unwrap().to_string();
            Db { url, _keep: Box::new(dir) }
        }
        Kind::Postgres => {
            let db = PgDatabase::create(&pg_admin_url().unwrap()).await;
            Db { url: db.url.clone(), _keep: Box::new(db) }
        }
        Kind::Memory => Db { url: ":memory:".into(), _keep: Box::new(()) },
    }
}

async fn server(db: &Db, fill: bool) -> (Server, App, Option<Fixture>) {
    let repo = App::open(&db.url).await.unwrap();
    let fx = if fill { Some(fill_store(repo.store()).await) } else { None };
    let srv = start(Arc::new(repo.clone())).await;
    (srv, repo, fx)
}

macro_rules! on_each_store {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Kind::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if $crate::common::pg_admin_url().is_none() {
                        return;
                    }
                    super::$name($crate::common::Kind::Postgres).await;
                }
            )*
        }
    };
}

on_each_store!(secrets_are_stored_hashed, everything_survives_a_restart);

async fn secrets_are_stored_hashed(kind: Kind) {
    let db = database(kind).await;
    let (srv, repo, _) = server(&db, true).await;
    srv.user("admin", Role::Administrator, "").await;
    let c = srv.login("admin").await;
    let token = c.cookies.get("sn_session").unwrap().clone();
    let store = repo.store();
    assert!(store.session(&token).await.unwrap().is_none(), "the session token itself is not stored");
    assert!(store.session(&web::auth::secret_hash(&token)).await.unwrap().is_some());
    let u = store.user_by_name("admin").await.unwrap().unwrap();
    assert!(u.password_hash.starts_with("$argon2id$"), "{}", u.password_hash);

    let mut admin = srv.login("admin").await;
    let csrf = admin.csrf().await;
    let r = admin.post_form("/users/token", &[("name", "his-1"), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let i = r.body.find("id=\"new-token\">").unwrap() + 15;
    let api_token = r.body[i..i + 64].to_string();
    assert!(store.api_token_user(&api_token).await.unwrap().is_none(), "the API token itself is not stored");
    assert_eq!(store.api_token_user(&web::auth::secret_hash(&api_token)).await.unwrap().unwrap().id, u.id);
    let mut bot = srv.client();
    bot.bearer = Some(api_token);
    assert_eq!(bot.get("/api/v1/indicators/summary").await.status, 200);
}

async fn everything_survives_a_restart(kind: Kind) {
    let db = database(kind).await;
    let (srv, _, fx) = server(&db, true).await;
    let fx = fx.unwrap();
    srv.user("clerk_a", Role::Clerk, "341122").await;
    srv.user("officer_a", Role::Officer, "341122").await;
    let mut clerk = srv.login("clerk_a").await;
    clerk.csrf_header = Some(clerk.csrf().await);
    let claim = format!(
        r#"{{"claim_id":"W1","person_id":"{}","facility_level":"county","kind":"inpatient","facility_id":"FA1","admitted":"2024-03-10","discharged":"2024-03-10","total_cost":"60000.00","eligible_cost":"50000.00","diagnosis":"C16"}}"#,
        fx.a_person
    );
    let r = clerk.post_json("/api/v1/settlements", &claim).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["out_of_pocket"], "13000.00");
    let mut officer = srv.login("officer_a").await;
    let csrf = officer.csrf().await;
    let path = format!("/alerts/{}/transition", fx.a_alert);
    assert_eq!(officer.post_form(&path, &[("to", "verifying"), ("note", "phoned"), ("csrf", &csrf)]).await.status, 303);
    drop(srv);

    // A second server on the same database: sessions, settlements, alerts and the
    // audit log are all there.
    let (srv2, repo2, _) = server(&db, false).await;
    let mut officer2 = srv2.client();
    officer2.cookies = officer.cookies.clone();
    let page = officer2.get(&format!("/persons/{}", fx.a_person)).await;
    assert_eq!(page.status, 200, "the session lives in the store");
    assert!(page.body.contains("W1") && page.body.contains("13000.00"), "the settled claim shows");
    assert!(page.body.contains("42287.50"), "with its tier payments");
    let a = srv2.state.app.alert(&web::access::Scope::all(), fx.a_alert).await.unwrap().unwrap();
    assert_eq!(a.state, "verifying");
    assert_eq!(a.transitions.len(), 1);
    assert_eq!(a.transitions[0].by, "officer_a");

    // The same claim again is the stored result, not a second settlement.
    let mut clerk2 = srv2.client();
    clerk2.cookies = clerk.cookies.clone();
    clerk2.csrf_header = clerk.csrf_header.clone();
    let r = clerk2.post_json("/api/v1/settlements", &claim).await;
    assert_eq!(r.status, 200, "a replay is no new resource: {}", r.body);
    assert_eq!(r.json()["replayed"], true);
    let rec = repo2.store().person_record(&store::Scope::all(), fx.a_person.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(rec.claims.iter().filter(|c| c.claim.claim_id == "W1").count(), 1);

    let log = srv2.state.app.audit_log(100).await.unwrap();
    let has = |who: &str, what: &str| log.iter().any(|e| e.username == who && e.action == what);
    assert!(has("clerk_a", "settle") && has("officer_a", "alert_transition") && has("officer_a", "view_person"));
    assert_eq!(log.iter().filter(|e| e.action == "settle").count(), 1, "a replay changes nothing");
    assert!(log.windows(2).all(|w| w[0].at >= w[1].at), "newest first");
}

#[tokio::test]
async fn open_repo_chooses_by_the_db_value() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.db");
    let repo = web::open_app(path.to_str().unwrap()).await.unwrap();
    assert!(repo.list_users().await.unwrap().is_empty());
    assert!(path.exists(), "a SQLite file was created and migrated");
    let mem = web::open_app(":memory:").await.unwrap();
    assert!(mem.import_runs(&web::access::Scope::all(), 10).await.unwrap().is_empty());
    let e = web::open_app("postgres://nobody:secret@127.0.0.1:1/none").await.err().unwrap();
    assert!(e.contains("cannot open") && !e.contains("secret"), "{e}");
}
