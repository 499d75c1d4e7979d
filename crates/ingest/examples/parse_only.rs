//! Reads, parses and validates one file of one kind with `ingest::read_file`, as
//! `safetynet import` does before it touches the store, and stops: the baseline
//! of bench/import.sh ("importing takes at most 3 times merely parsing and
//! validating the same file").
//!
//! `cargo run --release -p ingest --example parse_only -- KIND FILE`
//! with KIND one of regions, households, persons, facilities, practitioners, claims.

use domain::{Claim, Facility, Household, Person, Practitioner, Region};
use std::path::Path;
use std::time::Instant;

fn parse<R: domain::Record>(path: &Path) -> usize {
    match ingest::read_file::<R>(path, &mut |_, _| {}) {
        Ok(rows) => rows.len(),
        Err(e) => {
            eprintln!("{}: {e}", path.display());
            std::process::exit(1);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [kind, file] = args.as_slice() else {
        eprintln!("usage: parse_only KIND FILE");
        std::process::exit(2);
    };
    let path = Path::new(file);
    let t = Instant::now();
    let rows = match kind.as_str() {
        "regions" => parse::<Region>(path),
        "households" => parse::<Household>(path),
        "persons" => parse::<Person>(path),
        "facilities" => parse::<Facility>(path),
        "practitioners" => parse::<Practitioner>(path),
        "claims" => parse::<Claim>(path),
        other => {
            eprintln!("unknown kind {other}");
            std::process::exit(2);
        }
    };
    println!("parsed and validated {rows} {kind} in {:.3} s", t.elapsed().as_secs_f64());
}
