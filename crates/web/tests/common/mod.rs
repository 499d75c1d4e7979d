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
use web::{AppState, Config, Repo};

pub struct Server {
    pub addr: SocketAddr,
    pub state: AppState,
}

/// Starts the application with `repo` on 127.0.0.1:0.
pub async fn start(repo: Arc<dyn Repo>) -> Server {
    let config = Config { addr: "127.0.0.1:0".into(), ..Config::default() };
    let state = AppState::new(config, repo);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = web::app(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server { addr, state }
}

impl Server {
    pub async fn user(&self, name: &str, role: Role, scope: &str) {
        web::auth::create_user(&self.state, name, "password-1234", role, Scope::parse(scope).unwrap()).await.unwrap();
    }

    pub fn client(&self) -> Client {
        Client { addr: self.addr, cookies: HashMap::new(), bearer: None }
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

    pub async fn send(&mut self, method: &str, path: &str, body: Option<(&str, String)>, extra: &[(&str, &str)]) -> Resp {
        let mut s = TcpStream::connect(self.addr).await.unwrap();
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n", self.addr);
        if !self.cookies.is_empty() {
            let c = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
            req.push_str(&format!("Cookie: {c}\r\n"));
        }
        if let Some(b) = &self.bearer {
            req.push_str(&format!("Authorization: Bearer {b}\r\n"));
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
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
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

pub fn fill(repo: &web::mem::MemRepo) -> Fixture {
    use domain::{Fen, Household, Person, PovertyStatus, Region, RegionCode, RegionLevel, ResidentId};
    let d = |s: &str| domain::parse_date(s).unwrap();
    let mut ids = vec![];
    for (county, hh, name, lon) in [("341122", "HA1", A_NAME, 118.3), ("341123", "HB1", B_NAME, 118.9)] {
        let v = RegionCode::parse(&format!("{county}100201")).unwrap();
        repo.add_region(Region {
            code: v,
            name: format!("村{county}"),
            level: RegionLevel::Village,
            urban_rural: Some(220),
            population: Some(900),
            lon: Some(lon),
            lat: Some(32.1),
        });
        repo.add_household(Household {
            household_id: hh.into(),
            village_code: v,
            size: 2,
            income: Fen::from_yuan(24_000),
            consumption: None,
            food: None,
        });
        let pid = ResidentId::from_parts(county.parse().unwrap(), d("1960-05-01"), 12).unwrap();
        repo.add_person(Person {
            person_id: pid,
            household_id: hh.into(),
            name: name.into(),
            status: PovertyStatus::Lifted,
            status_since: d("2020-01-01"),
            diagnoses: vec!["C16".into()],
        })
        .unwrap();
        repo.add_claim(
            pid,
            web::repo::ClaimRow {
                claim_id: format!("{hh}-C1"),
                discharged: d("2024-03-10"),
                kind: "inpatient".into(),
                facility_level: "county".into(),
                diagnosis: "C16".into(),
                total_cost: Fen::from_yuan(60_000),
                payments: vec![("basic".into(), Fen(4_228_750))],
                out_of_pocket: Some(Fen(1_300_000)),
            },
        );
        let alert = repo.add_alert("medical_burden_poor", hh, 2024, "13000.00", "9787.50").unwrap();
        ids.push((pid.to_string(), alert));
    }
    repo.add_policy("34", 2024, settle::Policy::parse(include_str!("../data/policy.toml")).unwrap());
    Fixture { a_person: ids[0].0.clone(), b_person: ids[1].0.clone(), a_alert: ids[0].1, b_alert: ids[1].1 }
}
