//! Load test of the real-time settlement API and the overview page, on 127.0.0.1
//! only, bounded in count and time.
//!
//! Starts the application in-process on a random loopback port over a repository
//! (`--db :memory:` or a store URL), fills it with `--persons` persons in
//! `--villages` villages and a policy, then drives `POST /api/v1/settlements` from
//! `--concurrency` keep-alive connections until `--requests` are done or
//! `--seconds` have passed, and reports throughput and latency percentiles; then
//! times `GET /` (the overview) `--overview` times.
//!
//! With `--items N` each claim carries a bill of N items priced against a
//! catalogue that the fill stores (docs/catalogue.md), instead of its eligible
//! cost. With `--setup-only --day-files DIR` the fill also writes a hospital's
//! day of `--day-claims` claims for the batch benchmark (`bench/items.sh`):
//! `claims_totals.csv` (the eligible cost computed from the items, typed),
//! `claims_itemised.csv` (the same claims, the eligible cost left to the items)
//! and `claim_items.csv` (`--items` lines a claim).
//!
//! `cargo run --release -p web --example web_load -- --requests 20000 [--items 50]`

use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use web::access::{Role, Scope};

struct Opts {
    db: String,
    persons: usize,
    villages: usize,
    requests: usize,
    concurrency: usize,
    seconds: u64,
    overview: usize,
    /// Drive a server already running at this address instead of one in-process.
    target: Option<String>,
    /// The API token for `--target`.
    token: Option<String>,
    /// Where to write the IDs of the acknowledged claims (one a line).
    acks: Option<String>,
    /// Fill `--db`, create the user and an API token, print the token, and stop.
    setup_only: bool,
    /// Items a claim carries (0: totals only).
    items: usize,
    /// Where `--setup-only` writes a hospital's day of claims.
    day_files: Option<String>,
    day_claims: usize,
}

fn opts() -> Opts {
    let mut o = Opts {
        db: ":memory:".into(),
        persons: 10_000,
        villages: 300,
        requests: 20_000,
        concurrency: 16,
        seconds: 60,
        overview: 20,
        target: None,
        token: None,
        acks: None,
        setup_only: false,
        items: 0,
        day_files: None,
        day_claims: 10_000,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let v = args.get(i + 1).cloned().unwrap_or_default();
        let n = || v.parse::<usize>().unwrap_or_else(|_| panic!("{} needs a number", args[i]));
        match args[i].as_str() {
            "--setup-only" => {
                o.setup_only = true;
                i += 1;
                continue;
            }
            "--target" => o.target = Some(v.clone()),
            "--token" => o.token = Some(v.clone()),
            "--acks" => o.acks = Some(v.clone()),
            "--db" => o.db = v.clone(),
            "--persons" => o.persons = n(),
            "--villages" => o.villages = n(),
            "--requests" => o.requests = n(),
            "--concurrency" => o.concurrency = n(),
            "--seconds" => o.seconds = n() as u64,
            "--overview" => o.overview = n(),
            "--items" => o.items = n(),
            "--day-files" => o.day_files = Some(v.clone()),
            "--day-claims" => o.day_claims = n(),
            other => panic!("unknown option {other}"),
        }
        i += 2;
    }
    o
}

/// The registry of the load: villages of one county, one household of two per
/// village round-robin, persons with valid resident IDs.
struct Data {
    regions: Vec<domain::Region>,
    households: Vec<domain::Household>,
    persons: Vec<domain::Person>,
}

fn data(persons: usize, villages: usize) -> Data {
    use domain::*;
    let d = |s: &str| parse_date(s).unwrap();
    let mut out = Data { regions: vec![], households: vec![], persons: vec![] };
    let mut codes = vec![];
    for v in 0..villages {
        let code = RegionCode::parse(&format!("341122{:03}{:03}", 100 + v / 20, 201 + v % 20)).unwrap();
        out.regions.push(Region {
            code,
            name: format!("村{v}"),
            level: RegionLevel::Village,
            urban_rural: Some(220),
            population: Some(800),
            lon: Some(118.0 + (v % 20) as f64 * 0.02),
            lat: Some(32.0 + (v / 20) as f64 * 0.02),
        });
        codes.push(code);
    }
    for p in 0..persons {
        let hh = format!("H{}", p / 2);
        if p % 2 == 0 {
            out.households.push(Household {
                household_id: hh.clone(),
                village_code: codes[(p / 2) % villages],
                size: 2,
                income: Fen::from_yuan(20_000),
                consumption: None,
                food: None,
            });
        }
        let birth = d("1950-01-01") + chrono::Duration::days((p % 20_000) as i64);
        let id = ResidentId::from_parts(341122, birth, (p / 20_000) as u16 % 1000).unwrap();
        out.persons.push(Person {
            person_id: id,
            household_id: hh,
            name: "测试".into(),
            status: PovertyStatus::ALL[p % 5],
            status_since: d("2020-01-01"),
            diagnoses: vec![],
        });
    }
    out
}

const POLICY: &str = include_str!("../tests/data/policy.toml");

/// The facility every claim of the load names.
const LOAD_FACILITY: &str = "LOAD1";

/// The load's catalogue: 200 items of Anhui's 2024, every third 乙 (10% or
/// 20% first), every seventh 丙, the rest 甲.
fn catalogue() -> Vec<domain::CatalogueItem> {
    use domain::items::ItemCategory;
    (0..200)
        .map(|i| {
            let category = if i % 7 == 6 {
                ItemCategory::C
            } else if i % 3 == 1 {
                ItemCategory::B
            } else {
                ItemCategory::A
            };
            let share = if category == ItemCategory::B {
                domain::Rate(1_000 + 1_000 * (i % 2) as u32)
            } else {
                domain::Rate(0)
            };
            domain::CatalogueItem {
                province: 34,
                year: 2024,
                code: format!("X{i:04}"),
                name: format!("负载测试项目{i}"),
                category,
                self_pay_share: share,
            }
        })
        .collect()
}

/// Bill line `k` of claim `i`: (code, quantity, unit price in fen).
fn bill_line(i: usize, k: usize) -> (String, domain::items::Quantity, domain::Fen) {
    let code = format!("X{:04}", (i * 7 + k * 13) % 200);
    let q = domain::items::Quantity::units(1 + ((i + k) % 3) as i64);
    let price = domain::Fen(150 + ((i * 31 + k * 17) % 20_000) as i64);
    (code, q, price)
}

/// The repository of `--db`, filled; the persons' IDs.
async fn repository(db: &str, persons: usize, villages: usize) -> (Arc<web::App>, Vec<String>) {
    let d = data(persons, villages);
    let ids = d.persons.iter().map(|p| p.person_id.to_string()).collect();
    let repo = web::App::open(db).await.unwrap_or_else(|e| panic!("{e}"));
    let store = repo.store();
    store.import_regions(&d.regions).await.unwrap();
    store.import_households(&d.households).await.unwrap();
    store.import_persons(&d.persons).await.unwrap();
    // The hospital that sends the claims: a claim names its facility.
    let hospital = domain::Facility {
        opened: None,
        closed: None,
        facility_id: LOAD_FACILITY.into(),
        name: "负载测试医院".into(),
        kind: domain::FacilityKind::CountyHospital,
        grade: None,
        region_code: d.households[0].village_code,
        lon: None,
        lat: None,
    };
    store.import_facilities(&[hospital]).await.unwrap();
    if app::settlement::policy_for(store, d.regions[0].code, 2024).await.unwrap().is_none() {
        app::settlement::put_policy(store, "34", 2024, POLICY, "web_load").await.unwrap();
    }
    let rows: Vec<(String, domain::CatalogueItem)> = catalogue().into_iter().map(|c| ("web_load".into(), c)).collect();
    repo.put_catalogue(&rows, "web_load").await.unwrap();
    (Arc::new(repo), ids)
}

/// One request on a keep-alive connection: the status, or `None` when the
/// connection fails or closes.
async fn request(s: &mut TcpStream, buf: &mut Vec<u8>, req: &[u8]) -> Option<u16> {
    s.write_all(req).await.ok()?;
    buf.clear();
    let mut tmp = [0u8; 16384];
    loop {
        let n = s.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
        if let Some(h) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..h]).unwrap().to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map(|v| v.trim().parse().unwrap())
                .unwrap_or(0);
            if buf.len() >= h + 4 + len {
                return head[9..12].parse().ok();
            }
        }
    }
}

/// Drives `POST /api/v1/settlements` at `addr` from `--concurrency` keep-alive
/// connections; the latencies, and the claim IDs acknowledged with 201. A
/// connection that fails (the server was killed) ends its task.
async fn drive(o: &Opts, addr: std::net::SocketAddr, token: String, ids: Vec<String>, run: i64) -> Load {
    let start = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(o.seconds);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let ids = Arc::new(ids);
    let mut tasks = vec![];
    for _ in 0..o.concurrency {
        let (next, ids, token) = (next.clone(), ids.clone(), token.clone());
        let total = o.requests;
        let n_items = o.items;
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut acked = Vec::new();
            let mut failed = 0usize;
            let Ok(mut s) = TcpStream::connect(addr).await else { return (lat, acked, failed) };
            s.set_nodelay(true).unwrap();
            let mut buf = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= total || Instant::now() > deadline {
                    break;
                }
                let person = &ids[i % ids.len()];
                let day = 1 + (i / ids.len()) % 28;
                let claim = format!("B{run}-{i}");
                let body = if n_items > 0 {
                    let items: Vec<String> = (0..n_items)
                        .map(|k| {
                            let (code, q, p) = bill_line(i, k);
                            format!(r#"{{"item_code":"{code}","quantity":"{q}","unit_price":"{p}"}}"#)
                        })
                        .collect();
                    format!(
                        r#"{{"claim_id":"{claim}","facility_id":"{LOAD_FACILITY}","person_id":"{person}","facility_level":"county","kind":"inpatient","admitted":"2024-03-{day:02}","discharged":"2024-03-{day:02}","diagnosis":"I10","items":[{}]}}"#,
                        items.join(",")
                    )
                } else { format!(
                    r#"{{"claim_id":"{claim}","facility_id":"{LOAD_FACILITY}","person_id":"{person}","facility_level":"county","kind":"inpatient","admitted":"2024-03-{day:02}","discharged":"2024-03-{day:02}","total_cost":"{}.00","eligible_cost":"{}.00","diagnosis":"I10"}}"#,
                    2000 + i % 5000,
                    1500 + i % 5000
                ) };
                let req = format!(
                    "POST /api/v1/settlements HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                let t = Instant::now();
                let Some(code) = request(&mut s, &mut buf, req.as_bytes()).await else { break };
                lat.push(t.elapsed());
                if code != 201 {
                    // Not acknowledged (the store failed under it, say): counted,
                    // shown once, and the load goes on.
                    if failed == 0 {
                        eprintln!("answered {code}: {}", String::from_utf8_lossy(&buf));
                    }
                    failed += 1;
                    continue;
                }
                acked.push(claim);
            }
            (lat, acked, failed)
        }));
    }
    let (mut lat, mut acked, mut failed) = (vec![], vec![], 0);
    for t in tasks {
        let (l, a, f) = t.await.unwrap();
        lat.extend(l);
        acked.extend(a);
        failed += f;
    }
    Load { lat, acked, failed, secs: start.elapsed().as_secs_f64() }
}

/// What a load run saw: latencies, acknowledged claim IDs, wall time.
struct Load {
    lat: Vec<Duration>,
    acked: Vec<String>,
    /// Requests answered with another status than 201.
    failed: usize,
    secs: f64,
}

fn report(o: &Opts, load: &Load) {
    let secs = load.secs;
    let mut lat = load.lat.clone();
    lat.sort();
    if lat.is_empty() {
        println!("settlements: none acknowledged");
        return;
    }
    println!(
        "settlements: {} requests, {} connections, {:.2}s, {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        lat.len(),
        o.concurrency,
        secs,
        lat.len() as f64 / secs,
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        lat.last().unwrap().as_secs_f64() * 1e3
    );
    if load.failed > 0 {
        println!("settlements: {} answered with another status than 201 (not acknowledged)", load.failed);
    }
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)].as_secs_f64() * 1e3
}

/// A hospital's day of claims for the batch benchmark (see the module's note).
fn day_files(dir: &str, ids: &[String], claims: usize, items: usize) {
    use std::fmt::Write as _;
    let cat = catalogue();
    let find = |c: &str| cat.iter().find(|i| i.code == c);
    let head =
        "claim_id,person_id,facility_level,kind,admitted,discharged,total_cost,eligible_cost,diagnosis,facility_id\n";
    let (mut totals, mut itemised) = (String::from(head), String::from(head));
    let mut lines = String::from("claim_id,item_code,quantity,unit_price,amount,facility_id\n");
    for i in 0..claims {
        let bill: Vec<(String, domain::items::Quantity, domain::Fen, domain::Fen)> = (0..items)
            .map(|k| {
                let (code, q, p) = bill_line(i, k);
                (code, q, p, domain::items::line_amount(q, p))
            })
            .collect();
        let (_, t) = domain::items::price_items(&bill, find).unwrap();
        let person = &ids[i % ids.len()];
        let id = format!("D{i}");
        let row = |eligible: domain::Fen| {
            format!("{id},{person},county,inpatient,2024-05-02,2024-05-08,{},{eligible},I10,{LOAD_FACILITY}\n", t.total)
        };
        totals.push_str(&row(t.eligible));
        itemised.push_str(&row(t.total));
        for (code, q, p, a) in &bill {
            let _ = writeln!(lines, "{id},{code},{q},{p},{a},{LOAD_FACILITY}");
        }
    }
    std::fs::create_dir_all(dir).unwrap();
    let p = std::path::Path::new(dir);
    std::fs::write(p.join("claims_totals.csv"), totals).unwrap();
    std::fs::write(p.join("claims_itemised.csv"), itemised).unwrap();
    std::fs::write(p.join("claim_items.csv"), lines).unwrap();
}

#[tokio::main]
async fn main() {
    let o = opts();
    if let Some(target) = &o.target {
        // Against a separate server process (which may be killed mid-load): the
        // acknowledged claims are written out for the durability check.
        let token = o.token.clone().expect("--target needs --token");
        let ids = data(o.persons, o.villages).persons.iter().map(|p| p.person_id.to_string()).collect();
        let addr: std::net::SocketAddr = target.parse().expect("--target takes IP:PORT");
        let run = chrono::Utc::now().timestamp();
        let load = drive(&o, addr, token, ids, run).await;
        report(&o, &load);
        if let Some(path) = &o.acks {
            std::fs::write(path, load.acked.iter().map(|a| format!("{a}\n")).collect::<String>()).unwrap();
            println!("{} acknowledged claims written to {path}", load.acked.len());
        }
        return;
    }
    let t = Instant::now();
    let (repo, ids) = repository(&o.db, o.persons, o.villages).await;
    eprintln!(
        "filled {} persons in {} villages in {:.1}s ({})",
        o.persons,
        o.villages,
        t.elapsed().as_secs_f64(),
        o.db
    );
    let state = web::AppState::new(web::Config::default(), repo);
    // A run id keeps claim IDs apart when the same store is loaded again.
    let run = chrono::Utc::now().timestamp();
    if state.app.user_by_name("bench").await.unwrap().is_none() {
        web::auth::create_user(&state, "bench", "password-1234", Role::Administrator, Scope::all()).await.unwrap();
    }
    let token = web::auth::new_secret();
    let u = state.app.user_by_name("bench").await.unwrap().unwrap();
    let bench = app::NewToken { name: "bench".into(), ..Default::default() };
    state.app.create_token(&u, bench, &web::auth::secret_hash(&token)).await.unwrap();
    if o.setup_only {
        if let Some(dir) = &o.day_files {
            day_files(dir, &ids, o.day_claims, o.items.max(1));
            eprintln!("wrote {} claims of one day with {} items each to {dir}", o.day_claims, o.items.max(1));
        }
        println!("token: {token}");
        return;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(web::serve_on(listener, state.clone()));

    let load = drive(&o, addr, token, ids, run).await;
    report(&o, &load);

    // the overview page, as a logged-in administrator
    let cookie = match web::auth::login(&state, None, "bench", "password-1234").await.unwrap() {
        web::auth::LoginOutcome::Ok { token, .. } => token,
        refused => panic!("{}", refused.message()),
    };
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut buf = Vec::new();
    let mut times = vec![];
    for _ in 0..o.overview {
        let req = format!("GET / HTTP/1.1\r\nHost: {addr}\r\nCookie: sn_session={cookie}\r\n\r\n");
        let t = Instant::now();
        let code = request(&mut s, &mut buf, req.as_bytes()).await;
        times.push(t.elapsed());
        assert_eq!(code, Some(200), "overview");
    }
    times.sort();
    if !times.is_empty() {
        println!(
            "overview: {} requests, p50 {:.1} ms, max {:.1} ms",
            times.len(),
            pct(&times, 0.5),
            times.last().unwrap().as_secs_f64() * 1e3
        );
    }
}
