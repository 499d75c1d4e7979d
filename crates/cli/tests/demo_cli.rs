//! `safetynet demo` end to end, as a newcomer runs it: every step, the summary,
//! and (when the store can be served) the web application answering with the
//! demo login.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_safetynet"))
}

/// The number printed after `label` in the summary table.
fn figure(out: &str, label: &str) -> u64 {
    let table = out.split_once("holds:").map(|(_, t)| t).unwrap_or_else(|| panic!("no summary:\n{out}"));
    let line = table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(label))
        .unwrap_or_else(|| panic!("no {label}:\n{out}"));
    line.split_whitespace().last().unwrap().parse().unwrap()
}

#[test]
fn demo_runs_every_step_and_summarises_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin().args(["demo", "--no-serve", "--dir"]).arg(dir.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "demo failed:\n{stdout}\n{stderr}");
    for name in
        ["persons.csv", "claims.csv", "settlements.csv", "alerts.csv", "blank_spots.csv", "plan.csv", "report.xlsx"]
    {
        let p = dir.path().join(name);
        assert!(p.metadata().map(|m| m.len() > 0).unwrap_or(false), "{name} missing or empty");
    }
    let households = figure(&stdout, "households");
    let persons = figure(&stdout, "persons");
    let claims = figure(&stdout, "claims");
    assert!(households > 1000, "{stdout}");
    assert!(persons > households, "{stdout}");
    assert!(claims > persons, "{stdout}");
    // The store holds exactly what the files hold.
    let rows = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap().lines().count() as u64 - 1;
    assert_eq!(households, rows("households.csv"));
    assert_eq!(persons, rows("persons.csv"));
    assert_eq!(claims, rows("claims.csv"));
    // The store's settlement and warnings agree with the file-mode runs: every claim
    // settled under the stored policy, one alert per crossing in alerts.csv, open
    // unless the worked township's casework closed its case.
    assert_eq!(figure(&stdout, "settlements"), claims, "{stdout}");
    let open = figure(&stdout, "open");
    let closed_by_cases = figure(&stdout, "alerts");
    assert!(open > 0 && closed_by_cases > 0, "{stdout}");
    assert_eq!(open + closed_by_cases, rows("alerts.csv"), "{stdout}");
    assert!(stdout.contains("cases worked in "), "{stdout}");
    assert!(figure(&stdout, "cases") > 0, "{stdout}");

    // A second run changes nothing in the store: the same seed writes the same files
    // and re-importing them is idempotent.
    let again = bin().args(["demo", "--no-serve", "--dir"]).arg(dir.path()).output().unwrap();
    let stdout2 = String::from_utf8_lossy(&again.stdout);
    assert!(again.status.success(), "second demo failed:\n{stdout2}");
    assert!(stdout2.contains("0 inserted, 0 updated"), "re-import was not idempotent:\n{stdout2}");
    assert!(
        stdout2.contains(&format!("settled 0 claims of 2024 (0 persons); {claims} were settled before")),
        "{stdout2}"
    );
    assert!(stdout2.contains("worked already"), "the casework is done once:\n{stdout2}");
    for label in ["households", "persons", "claims", "settlements", "open", "alerts", "cases"] {
        assert_eq!(figure(&stdout, label), figure(&stdout2, label), "{label} changed on a second run");
    }
}

#[test]
fn demo_serves_the_web_application_with_the_demo_login() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = bin()
        .args(["demo", "--addr", "127.0.0.1:0", "--password", "demo-password-1", "--dir"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let started = Instant::now();
    let mut url = None;
    let mut seen = String::new();
    while started.elapsed() < Duration::from_secs(240) {
        match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(line) => {
                seen.push_str(&line);
                seen.push('\n');
                if let Some(u) = line.strip_prefix("web application: ") {
                    url = Some(u.trim().to_string());
                }
                if line.contains("serving on") {
                    break;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if let Ok(Some(status)) = child.try_wait() {
                    let mut err = String::new();
                    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
                    panic!("demo exited with {status} before serving:\n{seen}\n{err}");
                }
            }
            Err(_) => break,
        }
    }
    let url = url.unwrap_or_else(|| panic!("no address printed:\n{seen}"));
    assert!(seen.contains("user admin, password demo-password-1"), "{seen}");
    let addr = url.trim_start_matches("http://").trim_end_matches('/').to_string();
    // The login page answers over plain HTTP.
    let page = http_get(&addr, "/login");
    child.kill().unwrap();
    let _ = child.wait();
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("<form"), "{page}");
}

/// A minimal HTTP/1.1 GET, retried while the server starts.
fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let started = Instant::now();
    loop {
        match std::net::TcpStream::connect(addr) {
            Ok(mut s) => {
                write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
                let mut buf = String::new();
                s.read_to_string(&mut buf).unwrap();
                return buf;
            }
            Err(e) if started.elapsed() > Duration::from_secs(30) => panic!("cannot connect to {addr}: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}
