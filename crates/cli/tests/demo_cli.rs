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
    // The worked county's hospital paired and linked, so /pairing has rows.
    assert!(stdout.contains("import pairings") && stdout.contains("import telemedicine"), "{stdout}");
    assert_eq!(rows("pairings.csv"), 3, "the pairing and two of its staff");
    assert!(rows("telemedicine.csv") > 0);

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

/// The rows of a small CSV file as maps from column to cell (quoted cells allowed).
fn csv_rows(path: &std::path::Path) -> Vec<std::collections::HashMap<String, String>> {
    fn cells(line: &str) -> Vec<String> {
        let (mut out, mut cur, mut quoted) = (Vec::new(), String::new(), false);
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    cur.push('"');
                    chars.next();
                }
                ('"', _) => quoted = !quoted,
                (',', false) => out.push(std::mem::take(&mut cur)),
                _ => cur.push(c),
            }
        }
        out.push(cur);
        out
    }
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header = cells(lines.next().unwrap());
    lines.map(|l| header.iter().cloned().zip(cells(l)).collect()).collect()
}

/// The demo county lands near the programme's published figures (docs/synth.md):
/// the poor pay about a tenth of their costs, nine in ten of their admissions stay
/// in the county, nearly every village has a qualified doctor, and about one
/// household in twelve is warned. Each figure is read from the commands' own
/// outputs: the report over the demo's store, the coverage reach file and the
/// monitor's alerts file.
#[test]
fn demo_lands_near_the_programmes_published_figures() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = bin().args(["demo", "--no-serve", "--dir"]).arg(d).output().unwrap();
    assert!(out.status.success(), "demo failed:\n{}", String::from_utf8_lossy(&out.stderr));
    // The shipped indicators, and the poor's share for admissions alone.
    let extra = d.join("inpatient.toml");
    std::fs::write(
        &extra,
        "[[indicator]]\nid = \"poor_inpatient_out_of_pocket_share\"\nname_zh = \"贫困人口住院费用个人自付比例\"\n\
         name_en = \"poor inpatients' out-of-pocket share\"\nnumerator = \"out_of_pocket\"\n\
         denominator = \"total_cost\"\nfilter = { statuses = [\"special_hardship\", \"low_income\", \"lifted\", \"monitored\"], kinds = [\"inpatient\"] }\n\
         unit = \"percent\"\n",
    )
    .unwrap();
    let report = d.join("report.csv");
    let db = d.join("safetynet.db");
    let out = bin()
        .arg("--db")
        .arg(&db)
        .args(["report", "--year", "2024", "--level", "county", "--indicators"])
        .arg(&extra)
        .arg("--out")
        .arg(&report)
        .output()
        .unwrap();
    assert!(out.status.success(), "report failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let rows = csv_rows(&report);
    assert_eq!(rows.len(), 1, "one county: {rows:?}");
    let row = &rows[0];
    let value = |id: &str| -> f64 {
        row.get(id).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("no value of {id} in {row:?}"))
    };

    // The poor pay about 10% of their costs (all claims, and admissions alone).
    let oop = value("poor_out_of_pocket_share");
    assert!((7.0..=13.0).contains(&oop), "poor out-of-pocket share {oop}%");
    let oop_in = value("poor_inpatient_out_of_pocket_share");
    assert!((7.0..=13.0).contains(&oop_in), "poor inpatients' out-of-pocket share {oop_in}%");
    // Nine in ten of the poor's admissions in the county, not all.
    let in_county = value("poor_treated_in_county_share");
    assert!((90.0..=98.0).contains(&in_county), "poor treated in the county {in_county}%");
    // Villages with a qualified doctor: Anhui's 98.8%, here at least 97%; the
    // coverage command's reach file says the same as the report.
    let villages = value("villages_with_qualified_doctor_share");
    assert!((97.0..100.0).contains(&villages), "villages with a qualified doctor {villages}%");
    let reach: Vec<_> = csv_rows(&d.join("reach.csv")).into_iter().filter(|r| r["rural"] == "true").collect();
    let served = reach.iter().filter(|r| r["has_qualified_doctor"] == "true").count();
    let from_reach = 100.0 * served as f64 / reach.len() as f64;
    assert!((from_reach - villages).abs() < 0.01, "reach.csv {from_reach}% against the report's {villages}%");
    // Households warned: at most one in ten, counted by the report over the store
    // and in the monitor's alerts file alike.
    let households = csv_rows(&d.join("households.csv")).len() as f64;
    let warned = value("households_warned");
    let alerted: std::collections::HashSet<String> =
        csv_rows(&d.join("alerts.csv")).into_iter().map(|r| r["household_id"].clone()).collect();
    assert_eq!(warned, alerted.len() as f64, "the report and alerts.csv count the same households");
    let share = 100.0 * warned / households;
    assert!((2.0..=10.0).contains(&share), "households warned {share}% ({warned} of {households})");
    // SDG 3.8.2 at 10%: the monitor's rule catastrophic_10 (out-of-pocket above
    // 10% of consumption, else income) finds the same households in alerts.csv.
    let catastrophic: std::collections::HashSet<String> = csv_rows(&d.join("alerts.csv"))
        .into_iter()
        .filter(|r| r["rule"] == "catastrophic_10")
        .map(|r| r["household_id"].clone())
        .collect();
    assert_eq!(value("catastrophic_spending_10_share_numerator"), catastrophic.len() as f64);
    assert_eq!(value("catastrophic_spending_10_share_denominator"), households);
    // The 2025 measures nest: impoverishing within hardship; 25% within 10%.
    assert!(value("impoverishing_spending_share") <= value("financial_hardship_share"));
    assert!(value("catastrophic_spending_25_share") <= value("catastrophic_spending_10_share"));
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
