//! Measures read + parse + validate throughput of a persons file.
//!
//! `cargo run --release -p ingest --example read_throughput -- [ROWS] [DIR]`
//! writes ROWS (default 1,000,000) persons rows as UTF-8 CSV, GB18030 CSV and (for
//! at most 200,000 rows) XLSX into DIR (default a temporary directory), then reads
//! each back with `ingest::read_file`, printing rows per second (wall and CPU
//! time, best of three). `NO_XLSX=1` skips the workbook.

use chrono::NaiveDate;
use domain::{Person, PovertyStatus, ResidentId};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let rows: usize = args.next().map(|a| a.parse().expect("ROWS is a number")).unwrap_or(1_000_000);
    let tmp;
    let dir: PathBuf = match args.next() {
        Some(d) => PathBuf::from(d),
        None => {
            tmp = tempfile::tempdir().expect("a temporary directory");
            tmp.path().to_path_buf()
        }
    };
    let persons = make_persons(rows);
    let csv = dir.join("persons.csv");
    let t = Instant::now();
    ingest::write_file(&csv, &persons).expect("write CSV");
    let bytes = std::fs::metadata(&csv).unwrap().len();
    println!("wrote {rows} rows, {:.1} MB CSV in {:.2}s", bytes as f64 / 1e6, t.elapsed().as_secs_f64());

    measure("UTF-8 CSV", &csv, rows);

    let gb = dir.join("persons-gb18030.csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    std::fs::write(&gb, encoding_rs::GB18030.encode(&text).0).unwrap();
    drop(text);
    measure("GB18030 CSV", &gb, rows);

    if std::env::var_os("NO_XLSX").is_some() {
        return;
    }
    let n = rows.min(200_000);
    let xlsx = dir.join("persons.xlsx");
    let t = Instant::now();
    ingest::write_file(&xlsx, &persons[..n]).expect("write XLSX");
    println!(
        "wrote {n} rows XLSX in {:.2}s ({:.0} rows/s)",
        t.elapsed().as_secs_f64(),
        n as f64 / t.elapsed().as_secs_f64()
    );
    measure("XLSX", &xlsx, n);
}

fn measure(what: &str, path: &Path, rows: usize) {
    // Best of three, to keep other processes' noise out of the figure.
    let (mut best, mut best_cpu) = (f64::MAX, f64::MAX);
    for _ in 0..3 {
        let (t, c) = (Instant::now(), cpu_seconds());
        let got = ingest::read_file::<Person>(path, &mut |_, _| {}).expect("the file reads");
        let (s, cpu) = (t.elapsed().as_secs_f64(), cpu_seconds() - c);
        assert_eq!(got.len(), rows);
        // The records are dropped outside the timing: freeing is the caller's cost.
        drop(got);
        best = best.min(s);
        best_cpu = best_cpu.min(cpu);
    }
    let mb = std::fs::metadata(path).unwrap().len() as f64 / 1e6;
    println!(
        "{what:>12}: {rows} rows, wall {best:.3}s = {:.0} rows/s ({:.0} MB/s); CPU {best_cpu:.3}s = {:.0} rows/s per core",
        rows as f64 / best,
        mb / best,
        rows as f64 / best_cpu
    );
}

/// Persons of a synthetic county, with names and a third of them with diagnoses.
fn make_persons(n: usize) -> Vec<Person> {
    const SURNAMES: [&str; 8] = ["王", "李", "张", "刘", "陈", "杨", "黄", "欧阳"];
    const GIVEN: [&str; 8] = ["伟", "芳", "娜", "秀英", "敏", "静", "强", "建国"];
    const STATUS: [PovertyStatus; 5] = [
        PovertyStatus::General,
        PovertyStatus::Lifted,
        PovertyStatus::LowIncome,
        PovertyStatus::Monitored,
        PovertyStatus::SpecialHardship,
    ];
    let base = NaiveDate::from_ymd_opt(1940, 1, 1).unwrap();
    (0..n)
        .map(|i| {
            let birth = base + chrono::Duration::days((i / 900) as i64 % 25_000);
            let person_id = ResidentId::from_parts(341122, birth, (i % 900) as u16 + 1).unwrap();
            Person {
                person_id,
                household_id: format!("H{:08}", i / 4),
                name: format!("{}{}", SURNAMES[i % 8], GIVEN[(i / 8) % 8]),
                status: STATUS[i % 5],
                status_since: NaiveDate::from_ymd_opt(2020, 1 + (i % 12) as u32, 1 + (i % 28) as u32).unwrap(),
                diagnoses: if i % 3 == 0 { vec!["I10".into(), "E11.9".into()] } else { vec![] },
            }
        })
        .collect()
}

/// CPU time of this thread so far (Linux), so that a busy machine's waiting is not
/// counted; 0 elsewhere.
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse::<f64>().ok()))
        .map(|ns| ns / 1e9)
        .unwrap_or(0.0)
}
