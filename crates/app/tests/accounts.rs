//! Accounts, sessions, API tokens, the audit log, import runs, and the read views
//! of the web pages, against both engines.

mod common;
use chrono::{Duration, SubsecRound, Utc};
use common::*;
use domain::*;
use store::{AuditRow, ImportRunRow, ImportStatus, NewUser, Page, Scope, SessionRow, Store, StoreError};

both_backends!(
    users_are_created_once_and_read_back,
    login_state_and_passwords,
    sessions_open_read_and_end,
    api_tokens_find_their_user,
    audit_rows_come_back_newest_first,
    import_runs_are_recorded,
    person_views_respect_the_scope,
    households_search_and_record,
    overview_regions_and_trend,
    figures_stay_right_when_writes_and_refreshes_overlap,
    network_in_scope,
);

fn new_user(name: &str, role: &str, scope: &str) -> NewUser {
    NewUser {
        username: name.into(),
        password_hash: format!("$argon2id$hash-of-{name}"),
        role: role.into(),
        region_scope: scope.into(),
        facility_id: None,
    }
}

async fn users_are_created_once_and_read_back(store: &Store) {
    let a = store.create_user(&new_user("admin", "administrator", "")).await.unwrap();
    let o = store.create_user(&new_user("officer_a", "officer", "341122")).await.unwrap();
    assert_ne!(a.id, o.id);
    assert_eq!(o.username, "officer_a");
    assert_eq!(o.role, "officer");
    assert_eq!(o.region_scope, "341122");
    assert_eq!(o.password_hash, "$argon2id$hash-of-officer_a");
    assert_eq!(o.failed_attempts, 0);
    assert_eq!(o.locked_until, None);
    assert!(o.active);
    assert!((Utc::now() - o.created_at).num_seconds().abs() < 60);

    let e = store.create_user(&new_user("officer_a", "viewer", "")).await.unwrap_err();
    assert!(e.is_constraint(), "{e}");
    let bad = store.create_user(&new_user("x", "emperor", "")).await.unwrap_err();
    assert!(bad.is_constraint(), "a role outside the list: {bad}");

    assert_eq!(store.user_by_name("officer_a").await.unwrap(), Some(o.clone()));
    assert_eq!(store.user_by_id(o.id).await.unwrap(), Some(o.clone()));
    assert_eq!(store.user_by_name("nobody").await.unwrap(), None);
    assert_eq!(store.user_by_id(9999).await.unwrap(), None);
    let names: Vec<String> = store.list_users().await.unwrap().into_iter().map(|u| u.username).collect();
    assert_eq!(names, ["admin", "officer_a"]);

    store.set_user_active(o.id, false).await.unwrap();
    assert!(!store.user_by_id(o.id).await.unwrap().unwrap().active);
}

async fn login_state_and_passwords(store: &Store) {
    let u = store.create_user(&new_user("clerk", "clerk", "341122")).await.unwrap();
    let until = Utc::now() + Duration::minutes(15);
    store.set_login_state(u.id, 5, Some(until)).await.unwrap();
    let r = store.user_by_id(u.id).await.unwrap().unwrap();
    assert_eq!(r.failed_attempts, 5);
    assert_eq!(r.locked_until, Some(until.trunc_subsecs(0)), "kept to the second");
    assert!(r.locked_until.unwrap() > Utc::now(), "compares as an instant");
    store.set_login_state(u.id, 0, None).await.unwrap();
    let r = store.user_by_id(u.id).await.unwrap().unwrap();
    assert_eq!((r.failed_attempts, r.locked_until), (0, None));
    store.set_password(u.id, "$argon2id$new").await.unwrap();
    assert_eq!(store.user_by_id(u.id).await.unwrap().unwrap().password_hash, "$argon2id$new");
    assert!(matches!(store.set_login_state(777, 1, None).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(store.set_password(777, "x").await, Err(StoreError::NotFound { .. })));
}

async fn sessions_open_read_and_end(store: &Store) {
    let u = store.create_user(&new_user("viewer", "viewer", "34")).await.unwrap();
    let s = SessionRow {
        token_hash: "h1".repeat(32),
        user_id: u.id,
        csrf_token: "c".repeat(64),
        expires_at: (Utc::now() + Duration::hours(8)).trunc_subsecs(0),
    };
    store.create_session(&s).await.unwrap();
    assert_eq!(store.session(&s.token_hash).await.unwrap(), Some(s.clone()));
    assert_eq!(store.session("unknown").await.unwrap(), None);
    // An expired session is readable (the caller refuses it) until the next login clears it.
    let old = SessionRow {
        token_hash: "h2".repeat(32),
        expires_at: (Utc::now() - Duration::minutes(1)).trunc_subsecs(0),
        ..s.clone()
    };
    store.create_session(&old).await.unwrap();
    assert_eq!(store.session(&old.token_hash).await.unwrap(), Some(old.clone()));
    let next = SessionRow { token_hash: "h3".repeat(32), ..s.clone() };
    store.create_session(&next).await.unwrap();
    assert_eq!(store.session(&old.token_hash).await.unwrap(), None, "expired sessions are cleared");
    assert!(store.session(&s.token_hash).await.unwrap().is_some(), "live ones stay");
    store.delete_session(&s.token_hash).await.unwrap();
    assert_eq!(store.session(&s.token_hash).await.unwrap(), None);
    store.delete_session(&s.token_hash).await.unwrap();
    // A session of no user is refused by the schema.
    let orphan = SessionRow { token_hash: "h4".repeat(32), user_id: 4242, ..s };
    assert!(store.create_session(&orphan).await.unwrap_err().is_constraint());
}

async fn api_tokens_find_their_user(store: &Store) {
    let a = store.create_user(&new_user("admin", "administrator", "")).await.unwrap();
    let b = store.create_user(&new_user("hospital", "clerk", "341122")).await.unwrap();
    let token = |user_id: i64, name: &str, hash: String| store::NewApiToken {
        id: hash[..16].to_string(),
        token_hash: hash,
        user_id,
        name: name.into(),
        role: "clerk".into(),
        region_scope: "341122".into(),
        expires_at: Utc::now() + Duration::days(90),
    };
    store.create_api_token(&token(a.id, "script", "a".repeat(64))).await.unwrap();
    store.create_api_token(&token(b.id, "his-1", "b".repeat(64))).await.unwrap();
    assert_eq!(store.api_token_user(&"b".repeat(64)).await.unwrap().map(|u| u.id), Some(b.id));
    assert_eq!(store.api_token_user(&"a".repeat(64)).await.unwrap().map(|u| u.username), Some("admin".into()));
    assert_eq!(store.api_token_user(&"c".repeat(64)).await.unwrap(), None);
    assert!(store.create_api_token(&token(b.id, "again", "b".repeat(64))).await.unwrap_err().is_constraint());
    let toks = store.api_tokens_of(b.id).await.unwrap();
    assert_eq!(toks.len(), 1);
    assert_eq!(toks[0].0, "his-1");
    assert!(toks[0].2.is_some(), "its use was noted");
}

async fn audit_rows_come_back_newest_first(store: &Store) {
    let t0 = Utc::now().trunc_subsecs(0);
    for i in 0..5 {
        store
            .audit(&AuditRow {
                at: t0,
                actor: format!("user{i}"),
                action: if i % 2 == 0 { "view_person".into() } else { "export".into() },
                object_kind: "person".into(),
                object_id: format!("id{i}"),
                region_code: if i == 0 { None } else { Some(341122100201) },
                detail: "page".into(),
            })
            .await
            .unwrap();
    }
    let log = store.audit_log(3).await.unwrap();
    assert_eq!(log.iter().map(|e| e.actor.as_str()).collect::<Vec<_>>(), ["user4", "user3", "user2"]);
    assert_eq!(log[1].action, "export");
    assert_eq!(log[0].at, t0);
    assert_eq!(log[0].region_code, Some(341122100201));
    let all = store.audit_log(100).await.unwrap();
    assert_eq!(all.len(), 5);
    assert_eq!(all[4].region_code, None);
    assert_eq!(all[4].object_id, "id0");
    // many at once, in order, in one transaction
    let many: Vec<AuditRow> =
        (0..2500).map(|i| AuditRow { actor: format!("bulk{i}"), region_code: None, ..all[0].clone() }).collect();
    store.audit_many(&many).await.unwrap();
    store.audit_many(&[]).await.unwrap();
    let log = store.audit_log(3000).await.unwrap();
    assert_eq!(log.len(), 2505);
    assert_eq!(log[0].actor, "bulk2499");
    assert_eq!(log[2499].actor, "bulk0");
    assert_eq!(log[2500].actor, "user4");
}

async fn import_runs_are_recorded(store: &Store) {
    let at = Utc::now().trunc_subsecs(0);
    let ok = ImportRunRow {
        id: 0,
        kind: "households".into(),
        file_name: "households.csv".into(),
        rows: 120_000,
        status: ImportStatus::Accepted,
        errors: String::new(),
        actor: "cli".into(),
        at,
        scope: String::new(),
    };
    let refused = ImportRunRow {
        kind: "persons".into(),
        file_name: "persons.csv".into(),
        rows: 3,
        status: ImportStatus::Refused,
        errors: "persons.csv:3: column person_id: check digit\npersons.csv:4: column status: unknown\n".into(),
        ..ok.clone()
    };
    let id1 = store.record_import_run(&ok).await.unwrap();
    let id2 = store.record_import_run(&refused).await.unwrap();
    assert!(id2 > id1);
    let runs = store.import_runs(&Scope::all(), 10).await.unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0], ImportRunRow { id: id2, ..refused });
    assert_eq!(runs[0].error_count(), 2);
    assert_eq!(runs[1], ImportRunRow { id: id1, ..ok.clone() });
    assert_eq!(runs[1].error_count(), 0);
    assert_eq!(store.import_runs(&Scope::all(), 1).await.unwrap().len(), 1);
    // A county's run is seen in its scope and above, not in another county.
    let county = ImportRunRow { scope: "341122".into(), ..ok };
    let id3 = store.record_import_run(&county).await.unwrap();
    let mut seen = vec![];
    for s in ["341122", "34", "341123", ""] {
        let runs = store.import_runs(&Scope::new(s).unwrap(), 10).await.unwrap();
        seen.push(runs.iter().map(|r| r.id).collect::<Vec<_>>());
    }
    assert_eq!(seen, vec![vec![id3], vec![id3], vec![], vec![id3, id2, id1]]);
}

async fn person_views_respect_the_scope(store: &Store) {
    seed(store).await;
    store
        .import_claims(&[claim("C1", 1, "2024-03-10", 600, 500), claim("C2", 7, "2024-04-01", 100, 100)])
        .await
        .unwrap();
    let county_a = Scope::new("341122").unwrap();
    let county_b = Scope::new("341123").unwrap();
    let all = Scope::all();

    // search: everything in scope, by ID, name, ID prefix and household
    let found = store.find_persons(&county_a, "", Page::first(100)).await.unwrap();
    assert_eq!(found.iter().map(|p| p.person.person_id).collect::<Vec<_>>(), [pid(1), pid(3), pid(5)]);
    assert_eq!(found[2].village_code, code("341122100202"));
    let by_name = store.find_persons(&county_a, "Person 3", Page::first(100)).await.unwrap();
    assert_eq!(by_name.len(), 1);
    assert_eq!(by_name[0].person.name, "Person 3");
    let prefix = pid(7).to_string()[..8].to_string();
    let in_b = store.find_persons(&county_b, &prefix, Page::first(100)).await.unwrap();
    assert_eq!(in_b.iter().map(|p| p.person.person_id).collect::<Vec<_>>(), [pid(7), pid(9)]);
    assert_eq!(in_b[0].village_code, code("341123100201"));
    let by_household = store.find_persons(&all, "H3", Page::first(100)).await.unwrap();
    assert_eq!(by_household.len(), 2);
    assert!(store.find_persons(&county_a, "H3", Page::first(100)).await.unwrap().is_empty(), "H3 lies in B");
    assert_eq!(store.find_persons(&all, "", Page { offset: 1, limit: 2 }).await.unwrap().len(), 2);
    // a LIKE wildcard is taken literally
    assert!(store.find_persons(&all, "%", Page::first(100)).await.unwrap().is_empty());

    // one person: found inside the scope only
    assert!(store.person_in_scope(&county_a, pid(7)).await.unwrap().is_none());
    assert!(store.person_record(&county_a, pid(7)).await.unwrap().is_none());
    assert!(store.person_record(&Scope::new("341122100202").unwrap(), pid(1)).await.unwrap().is_none());
    let rec = store.person_record(&county_b, pid(7)).await.unwrap().unwrap();
    assert_eq!(rec.person.household_id, "H3");
    assert_eq!(rec.village_code, code("341123100201"));
    assert_eq!(rec.household.household_id, "H3");
    assert_eq!(rec.claims.len(), 1);
    assert_eq!(rec.claims[0].claim.claim_id, "C2");
    assert!(!rec.claims[0].voided);
    assert_eq!(rec.claims[0].out_of_pocket, None, "not settled");
    assert!(rec.claims[0].payments.is_empty());
    let rec = store.person_record(&all, pid(1)).await.unwrap().unwrap();
    assert_eq!(rec.claims[0].claim.total_cost, Fen::from_yuan(600));
    // a status change shows in the history
    let mut p = person(1, "H1", PovertyStatus::Lifted);
    p.status = PovertyStatus::Monitored;
    p.status_since = d("2024-05-01");
    store.import_persons(&[p]).await.unwrap();
    let rec = store.person_record(&county_a, pid(1)).await.unwrap().unwrap();
    assert_eq!(rec.person.status, PovertyStatus::Monitored);
    assert_eq!(rec.status_history.len(), 1);
    assert_eq!(rec.status_history[0].new_status, PovertyStatus::Monitored);
}

async fn households_search_and_record(store: &Store) {
    seed(store).await;
    let county_a = Scope::new("341122").unwrap();
    let ids = |v: Vec<Household>| v.into_iter().map(|h| h.household_id).collect::<Vec<_>>();
    assert_eq!(ids(store.search_households(&county_a, "", Page::first(10)).await.unwrap()), ["H1", "H2"]);
    assert_eq!(ids(store.search_households(&Scope::all(), "H", Page::first(10)).await.unwrap()), ["H1", "H2", "H3"]);
    assert_eq!(ids(store.search_households(&county_a, "H3", Page::first(10)).await.unwrap()), Vec::<String>::new());
    assert_eq!(ids(store.search_households(&Scope::all(), "341123", Page::first(10)).await.unwrap()), ["H3"]);
    assert_eq!(ids(store.search_households(&county_a, "3411221002", Page::first(10)).await.unwrap()), ["H1", "H2"]);
    assert_eq!(ids(store.search_households(&Scope::all(), "_", Page::first(10)).await.unwrap()), Vec::<String>::new());

    let rec = store.household_record(&county_a, "H1").await.unwrap().unwrap();
    assert_eq!(rec.household.village_code, code("341122100201"));
    assert_eq!(rec.members.iter().map(|p| p.person_id).collect::<Vec<_>>(), [pid(1), pid(3)]);
    assert!(store.household_record(&county_a, "H3").await.unwrap().is_none(), "outside the scope");
    assert!(store.household_record(&Scope::all(), "H9").await.unwrap().is_none());
}

async fn overview_regions_and_trend(store: &Store) {
    seed(store).await;
    store
        .import_claims(&[
            claim("C1", 1, "2024-03-10", 600, 500),
            claim("C2", 3, "2024-03-20", 400, 400),
            claim("C3", 5, "2024-05-01", 50, 50),
            claim("C4", 7, "2024-03-02", 100, 100),
        ])
        .await
        .unwrap();
    let county_a = Scope::new("341122").unwrap();
    let o = store.overview(&county_a).await.unwrap();
    assert_eq!((o.households, o.persons, o.poor_persons, o.claims, o.villages), (2, 3, 2, 3, 2));
    assert_eq!(o.total_cost, Fen::from_yuan(1050));
    assert_eq!(o.out_of_pocket, Fen::ZERO, "nothing settled");
    assert_eq!(o.open_alerts, 0);
    let o = store.overview(&Scope::all()).await.unwrap();
    assert_eq!((o.households, o.persons, o.poor_persons, o.claims, o.villages), (3, 5, 4, 4, 3));
    assert_eq!(o.total_cost, Fen::from_yuan(1150));
    let empty = store.overview(&Scope::new("35").unwrap()).await.unwrap();
    assert_eq!(empty, store::Overview::default());

    // a county: per village
    let v = store.region_figures(&county_a).await.unwrap();
    assert_eq!(v.iter().map(|r| r.code).collect::<Vec<_>>(), [code("341122100201"), code("341122100202")]);
    assert_eq!(v[0].name, "Village A1");
    assert_eq!((v[0].households, v[0].persons, v[0].poor_persons), (1, 2, 2));
    assert_eq!(v[0].total_cost, Fen::from_yuan(1000));
    assert_eq!((v[1].households, v[1].persons, v[1].poor_persons), (1, 1, 0));
    assert_eq!(v[1].total_cost, Fen::from_yuan(50));
    assert_eq!(v[0].lon, Some(117.5));
    // the province: per county; the county without coordinates sits at its villages' mean
    let c = store.region_figures(&Scope::new("34").unwrap()).await.unwrap();
    assert_eq!(c.len(), 1, "only Laian is a stored county");
    assert_eq!(c[0].code, code("341122"));
    assert_eq!((c[0].households, c[0].persons, c[0].poor_persons), (2, 3, 2));
    assert_eq!(c[0].total_cost, Fen::from_yuan(1050));
    assert_eq!((c[0].lon, c[0].lat), (Some(117.5), Some(31.5)));

    let t = store.monthly_trend(&county_a).await.unwrap();
    assert_eq!(t.iter().map(|m| (m.month.as_str(), m.claims)).collect::<Vec<_>>(), [("2024-03", 2), ("2024-05", 1)]);
    assert_eq!(t[0].total_cost, Fen::from_yuan(1000));
    let t = store.monthly_trend(&Scope::all()).await.unwrap();
    assert_eq!(t[0].claims, 3);
    assert_eq!(t[0].total_cost, Fen::from_yuan(1100));

    // The figures follow later writes, recomputing only the villages they touched.
    assert_eq!(store.refresh_figures(&Scope::all()).await.unwrap(), 0, "nothing changed since");
    app::settlement::put_policy(
        store,
        "341122",
        2024,
        include_str!("../../settle/tests/data/demo_county_2024.toml"),
        "admin",
    )
    .await
    .unwrap();
    let r =
        app::settlement::settle_realtime(store, &Scope::all(), &claim("C5", 1, "2024-06-01", 20_000, 20_000), "clerk")
            .await
            .unwrap();
    assert_eq!(store.refresh_figures(&Scope::all()).await.unwrap(), 1, "one village");
    let o = store.overview(&county_a).await.unwrap();
    assert_eq!((o.claims, o.total_cost), (4, Fen::from_yuan(21_050)));
    assert_eq!(o.out_of_pocket, r.out_of_pocket);
    store.import_claims(&[claim("C6", 5, "2024-07-01", 70, 70)]).await.unwrap();
    let t = store.monthly_trend(&county_a).await.unwrap();
    assert_eq!(
        t.iter().map(|m| (m.month.as_str(), m.claims)).collect::<Vec<_>>(),
        [("2024-03", 2), ("2024-05", 1), ("2024-06", 1), ("2024-07", 1)]
    );
    app::settlement::void_claim(store, &Scope::all(), &ClaimKey::new("", "C5"), "clerk").await.unwrap();
    let o = store.overview(&county_a).await.unwrap();
    assert_eq!((o.claims, o.total_cost, o.out_of_pocket), (4, Fen::from_yuan(1_120), Fen::ZERO));
    // A person who moves to another village's household counts there.
    let mut moved = person(5, "H1", PovertyStatus::General);
    moved.status_since = d("2024-01-01");
    store.import_persons(&[moved]).await.unwrap();
    let v = store.region_figures(&county_a).await.unwrap();
    assert_eq!((v[0].persons, v[1].persons), (3, 0));
    assert_eq!((v[0].total_cost, v[1].total_cost), (Fen::from_yuan(1_120), Fen::ZERO));
}

async fn network_in_scope(store: &Store) {
    seed(store).await;
    let f = |id: &str, village: &str| Facility {
        opened: None,
        closed: None,
        facility_id: id.into(),
        name: format!("clinic {id}"),
        kind: FacilityKind::VillageClinic,
        grade: None,
        region_code: code(village),
        lon: None,
        lat: None,
    };
    store.import_facilities(&[f("FA", "341122100201"), f("FB", "341123100201")]).await.unwrap();
    let doc = |id: &str, fac: &str| Practitioner {
        practitioner_id: id.into(),
        facility_id: fac.into(),
        name: String::new(),
        qualification: Qualification::RuralDoctor,
        gp: false,
        birth_date: d("1962-03-01"),
        active: true,
    };
    store.import_practitioners(&[doc("PA", "FA"), doc("PB", "FB")]).await.unwrap();
    let n = store.network(&Scope::new("341122").unwrap()).await.unwrap();
    assert_eq!(n.regions.len(), 4, "the county, its township and two villages");
    assert_eq!(n.facilities.iter().map(|f| f.facility_id.as_str()).collect::<Vec<_>>(), ["FA"]);
    assert_eq!(n.practitioners.iter().map(|p| p.practitioner_id.as_str()).collect::<Vec<_>>(), ["PA"]);
    let n = store.network(&Scope::all()).await.unwrap();
    assert_eq!((n.regions.len(), n.facilities.len(), n.practitioners.len()), (6, 2, 2));
}

/// Settlements and refreshes at once: whatever their interleaving, the figures end
/// equal to the writes (a write that commits during a refresh leaves its village
/// dirty for the next one).
async fn figures_stay_right_when_writes_and_refreshes_overlap(store: &Store) {
    seed(store).await;
    app::settlement::put_policy(
        store,
        "34",
        2024,
        include_str!("../../settle/tests/data/demo_county_2024.toml"),
        "admin",
    )
    .await
    .unwrap();
    let before = store.overview(&Scope::all()).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..24u16 {
        let s = store.clone();
        let seq = [1, 3, 5, 7][usize::from(i % 4)];
        let c = claim(&format!("K{i}"), seq, "2024-04-01", 1_000 + i64::from(i), 900);
        tasks.push(tokio::spawn(async move {
            Some(app::settlement::settle_realtime(&s, &Scope::all(), &c, "clerk").await.unwrap())
        }));
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            s.refresh_figures(&Scope::all()).await.unwrap();
            None
        }));
    }
    let mut oop = Fen::ZERO;
    let mut total = Fen::ZERO;
    for t in tasks {
        if let Some(r) = t.await.unwrap() {
            oop += r.out_of_pocket;
            total += r.total;
        }
    }
    let after = store.overview(&Scope::all()).await.unwrap();
    assert_eq!(after.claims, before.claims + 24);
    assert_eq!(after.total_cost, before.total_cost + total);
    assert_eq!(after.out_of_pocket, before.out_of_pocket + oop);
}
