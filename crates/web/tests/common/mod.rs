//! Test harness: the real application on a random port, and a small HTTP/1.1
//! client with a cookie jar, so that the tests talk to the server as a browser or
//! a script would.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use web::access::{Role, Scope};
use web::{App, AppState, Config};

pub struct Server {
    pub addr: SocketAddr,
    pub state: AppState,
    /// What must live as long as the server: a temporary directory, a database.
    pub keep: Vec<Box<dyn std::any::Any + Send + Sync>>,
}

/// Starts the application over `app` on 127.0.0.1:0.
pub async fn start(app: Arc<App>) -> Server {
    let config = Config { addr: "127.0.0.1:0".into(), ..Config::default() };
    let state = AppState::new(config, app);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = web::app(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server { addr, state, keep: vec![] }
}

impl Server {
    pub async fn user(&self, name: &str, role: Role, scope: &str) {
        web::auth::create_user(&self.state, name, "password-1234", role, Scope::parse(scope).unwrap()).await.unwrap();
    }

    /// The opaque reference of a person (by resident ID), as links carry it.
    pub async fn person_ref(&self, id: &str) -> String {
        let pid = domain::ResidentId::parse(id).unwrap();
        self.state.app.person_refs().await.unwrap().reference(pid)
    }

    pub fn client(&self) -> Client {
        Client { addr: self.addr, cookies: HashMap::new(), bearer: None, csrf_header: None }
    }

    /// A client already logged in as `name` (password `password-1234`).
    pub async fn login(&self, name: &str) -> Client {
        let mut c = self.client();
        let r = c.login(name, "password-1234").await;
        assert_eq!(r.status, 303, "login of {name} failed: {}", r.body);
        c
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The value of the first hidden `csrf` field on the page.
    pub fn csrf(&self) -> String {
        let i = self.body.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
        self.body[i..i + 64].to_string()
    }
}

pub struct Client {
    pub addr: SocketAddr,
    pub cookies: HashMap<String, String>,
    pub bearer: Option<String>,
    /// Sent as X-CSRF-Token on every request (a browser session calling the API).
    pub csrf_header: Option<String>,
}

impl Client {
    pub async fn get(&mut self, path: &str) -> Resp {
        self.send("GET", path, None, &[]).await
    }

    pub async fn post_form(&mut self, path: &str, form: &[(&str, &str)]) -> Resp {
        let body = form.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&");
        self.send("POST", path, Some(("application/x-www-form-urlencoded", body)), &[]).await
    }

    pub async fn post_json(&mut self, path: &str, body: &str) -> Resp {
        self.send("POST", path, Some(("application/json", body.to_string())), &[]).await
    }

    pub async fn login(&mut self, user: &str, password: &str) -> Resp {
        let form = self.get("/login").await;
        let csrf = form.csrf();
        self.post_form("/login", &[("username", user), ("password", password), ("csrf", &csrf)]).await
    }

    /// A CSRF token of the current session, read from a page.
    pub async fn csrf(&mut self) -> String {
        self.get("/").await.csrf()
    }

    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        body: Option<(&str, String)>,
        extra: &[(&str, &str)],
    ) -> Resp {
        let mut s = TcpStream::connect(self.addr).await.unwrap();
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n", self.addr);
        if !self.cookies.is_empty() {
            let c = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
            req.push_str(&format!("Cookie: {c}\r\n"));
        }
        if let Some(b) = &self.bearer {
            req.push_str(&format!("Authorization: Bearer {b}\r\n"));
        }
        if let Some(t) = &self.csrf_header {
            req.push_str(&format!("X-CSRF-Token: {t}\r\n"));
        }
        for (k, v) in extra {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        let payload = match body {
            Some((ct, b)) => {
                req.push_str(&format!("Content-Type: {ct}\r\nContent-Length: {}\r\n", b.len()));
                b
            }
            None => String::new(),
        };
        req.push_str("\r\n");
        req.push_str(&payload);
        s.write_all(req.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).await.unwrap();
        let resp = parse(&raw);
        for (k, v) in &resp.headers {
            if k.eq_ignore_ascii_case("set-cookie") {
                let kv = v.split(';').next().unwrap();
                let (name, val) = kv.split_once('=').unwrap();
                if val.is_empty() || v.contains("Max-Age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_string(), val.to_string());
                }
            }
        }
        resp
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn parse(raw: &[u8]) -> Resp {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete response head");
    let head = std::str::from_utf8(&raw[..split]).unwrap();
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        let mut out = Vec::new();
        let mut rest = &body[..];
        loop {
            let nl = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let n = usize::from_str_radix(std::str::from_utf8(&rest[..nl]).unwrap().trim(), 16).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&rest[nl + 2..nl + 2 + n]);
            rest = &rest[nl + 2 + n + 2..];
        }
        body = out;
    }
    Resp { status, headers, body: String::from_utf8_lossy(&body).into_owned() }
}

/// The fixture: two counties of one province, one village, household, two persons
/// and one open alert in each.
pub struct Fixture {
    pub a_person: String,
    pub b_person: String,
    pub a_alert: i64,
    pub b_alert: i64,
}

pub const A_NAME: &str = "张三丰";
pub const B_NAME: &str = "李四光";

/// A county as the division table has it (no coordinates of its own).
fn county_region(county: &str) -> domain::Region {
    domain::Region {
        code: domain::RegionCode::parse(county).unwrap(),
        name: format!("县{county}"),
        level: domain::RegionLevel::County,
        urban_rural: None,
        population: None,
        lon: None,
        lat: None,
    }
}

/// Which store a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// SQLite in memory (what `--db :memory:` opens).
    Memory,
    Sqlite,
    Postgres,
}

/// The PostgreSQL server of the tests, or `None` (with a note) when none is set;
/// in CI a missing server fails the test.
pub fn pg_admin_url() -> Option<String> {
    match std::env::var("SAFETYNET_TEST_PG") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            let ci = std::env::var("CI").map(|v| !v.is_empty() && v != "false" && v != "0").unwrap_or(false);
            if ci {
                panic!("CI is set but SAFETYNET_TEST_PG is not: the PostgreSQL tests must run in CI");
            }
            eprintln!("note: SAFETYNET_TEST_PG is not set; skipping the PostgreSQL variant");
            None
        }
    }
}

/// A fresh PostgreSQL database, dropped when this is dropped.
pub struct PgDatabase {
    admin: String,
    name: String,
    pub url: String,
}

impl PgDatabase {
    pub async fn create(admin: &str) -> PgDatabase {
        use sqlx::Connection;
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let name = format!(
            "safetynet_web_{}_{}_{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::SeqCst),
            chrono::Utc::now().timestamp_subsec_nanos()
        );
        let mut conn = sqlx::PgConnection::connect(admin).await.expect("PostgreSQL at SAFETYNET_TEST_PG");
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
        conn.close().await.ok();
        let (base, query) = match admin.split_once('?') {
            Some((b, q)) => (b, format!("?{q}")),
            None => (admin, String::new()),
        };
        let after = base.find("://").map(|i| i + 3).unwrap_or(0);
        let host_end = base[after..].find('/').map(|i| after + i).unwrap_or(base.len());
        let url = format!("{}/{name}{query}", &base[..host_end]);
        PgDatabase { admin: admin.to_string(), name, url }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // A runtime of its own: drop may run inside the test's runtime.
        let _ = std::thread::spawn(move || {
            use sqlx::Connection;
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                    let _ =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await;
                }
            });
        })
        .join();
    }
}

/// The application on a repository of `kind` holding the fixture.
pub async fn start_filled(kind: Kind) -> (Server, Fixture) {
    match kind {
        Kind::Memory => {
            let app = App::open(":memory:").await.unwrap();
            let fx = fill_store(app.store()).await;
            (start(Arc::new(app)).await, fx)
        }
        Kind::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("web.db");
            let repo = App::open(path.to_str().unwrap()).await.unwrap();
            let fx = fill_store(repo.store()).await;
            let mut srv = start(Arc::new(repo)).await;
            srv.keep.push(Box::new(dir));
            (srv, fx)
        }
        Kind::Postgres => {
            let admin = pg_admin_url().expect("checked by the caller");
            let db = PgDatabase::create(&admin).await;
            let repo = App::open(&db.url).await.unwrap();
            let fx = fill_store(repo.store()).await;
            let mut srv = start(Arc::new(repo)).await;
            srv.keep.push(Box::new(db));
            (srv, fx)
        }
    }
}

/// The fixture: two counties of one province, one village, household, two persons
/// and one open alert in each, a clinic, a doctor, a refused import and a policy.
pub async fn fill_store(store: &store::Store) -> Fixture {
    use domain::{Fen, Household, Person, PovertyStatus, Region, RegionCode, RegionLevel, ResidentId};
    let d = |s: &str| domain::parse_date(s).unwrap();
    let mut regions = vec![];
    let mut households = vec![];
    let mut persons = vec![];
    let mut claims = vec![];
    let mut findings = vec![];
    let mut pids = vec![];
    for (county, hh, name, lon) in [("341122", "HA1", A_NAME, 118.3), ("341123", "HB1", B_NAME, 118.9)] {
        regions.push(county_region(county));
        let v = RegionCode::parse(&format!("{county}100201")).unwrap();
        regions.push(Region {
            code: v,
            name: format!("村{county}"),
            level: RegionLevel::Village,
            urban_rural: Some(220),
            population: Some(900),
            lon: Some(lon),
            lat: Some(32.1),
        });
        households.push(Household {
            household_id: hh.into(),
            village_code: v,
            size: 2,
            income: Fen::from_yuan(24_000),
            consumption: None,
            food: None,
        });
        let pid = ResidentId::from_parts(county.parse().unwrap(), d("1960-05-01"), 12).unwrap();
        persons.push(Person {
            person_id: pid,
            household_id: hh.into(),
            name: name.into(),
            status: PovertyStatus::Lifted,
            status_since: d("2020-01-01"),
            diagnoses: vec!["C16".into()],
        });
        claims.push(domain::Claim {
            claim_id: format!("{hh}-C1"),
            person_id: pid,
            facility_level: domain::FacilityLevel::County,
            kind: domain::ClaimKind::Inpatient,
            admitted: d("2024-03-10"),
            discharged: d("2024-03-10"),
            total_cost: Fen::from_yuan(60_000),
            eligible_cost: Fen::from_yuan(50_000),
            diagnosis: "C16".into(),
            facility_id: String::new(),
            referred: false,
        });
        findings.push(monitor::Finding {
            rule: "medical_burden_poor".into(),
            household_id: hh.into(),
            village_code: v,
            year: 2024,
            value: monitor::Figure::Money(Fen(1_300_000)),
            threshold: Some(monitor::Figure::Money(Fen(978_750))),
        });
        pids.push(pid.to_string());
    }
    store.import_regions(&regions).await.unwrap();
    store.import_households(&households).await.unwrap();
    store.import_persons(&persons).await.unwrap();
    store.import_claims(&claims).await.unwrap();
    store
        .import_facilities(&[domain::Facility {
            opened: None,
            closed: None,
            facility_id: "FA1".into(),
            name: "A村卫生室".into(),
            kind: domain::FacilityKind::VillageClinic,
            grade: None,
            region_code: domain::RegionCode::parse("341122100201").unwrap(),
            lon: Some(118.3),
            lat: Some(32.1),
        }])
        .await
        .unwrap();
    store
        .import_practitioners(&[domain::Practitioner {
            practitioner_id: "PA1".into(),
            facility_id: "FA1".into(),
            name: "王医生".into(),
            qualification: domain::Qualification::RuralDoctor,
            gp: false,
            birth_date: d("1962-03-01"),
            active: true,
        }])
        .await
        .unwrap();
    store
        .record_import_run(&store::ImportRunRow {
            id: 0,
            kind: "persons".into(),
            file_name: "persons.csv".into(),
            rows: 2,
            status: store::ImportStatus::Refused,
            errors: "persons.csv:3: column person_id: check digit".into(),
            actor: "test".into(),
            at: chrono::Utc::now(),
            // Made by a user of county A: its report is for county A.
            scope: "341122".into(),
        })
        .await
        .unwrap();
    app::settlement::put_policy(store, "34", 2024, include_str!("../data/policy.toml"), "test").await.unwrap();
    let all = store::Scope::all();
    app::monitoring::apply_findings(store, &all, 2024, &findings, "monitor").await.unwrap();
    let mut alerts = vec![];
    for hh in ["HA1", "HB1"] {
        let q = store::AlertQuery { household: Some(hh.into()), ..Default::default() };
        let found = store.alerts(&all, &q, store::Page::first(10)).await.unwrap();
        assert_eq!(found.len(), 1, "one alert of {hh}");
        alerts.push(found[0].id);
    }
    Fixture { a_person: pids[0].clone(), b_person: pids[1].clone(), a_alert: alerts[0], b_alert: alerts[1] }
}

/// Runs each named `async fn(Kind)` test on the store over a temporary SQLite
/// file, and on PostgreSQL when SAFETYNET_TEST_PG
/// names a server.
#[macro_export]
macro_rules! on_each_repo {
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
