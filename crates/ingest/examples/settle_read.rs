//! Times the reading of `safetynet settle`'s input files (persons, then claims)
//! by the CSV reader (the reference, one thread), and by the in-place reader on
//! one thread and on every core, in one run, interleaved: the figures of issue
//! 21's "files at the best readers' speed" (bench/settle_read.sh).
//!
//! `cargo run --release -p ingest --example settle_read -- PERSONS CLAIMS [RUNS]`

use ingest::settlement_files::{read_claims_csv, read_claims_split, read_persons, read_persons_csv, Split};
use std::path::Path;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (persons_path, claims_path) = match args.as_slice() {
        [p, c, ..] => (Path::new(p), Path::new(c)),
        _ => {
            eprintln!("usage: settle_read PERSONS CLAIMS [RUNS]");
            std::process::exit(2);
        }
    };
    let runs: usize = args.get(2).map_or(3, |r| r.parse().expect("RUNS is a number"));
    let cores = Split::by_cores();
    let one = Split { threads: 1, ..cores };
    for run in 1..=runs {
        for (label, split) in [("csv reader", None), ("one thread", Some(one)), ("every core", Some(cores))] {
            let t = Instant::now();
            let mut errors = Vec::new();
            let persons = match split {
                None => read_persons_csv(persons_path, &mut errors),
                Some(_) => read_persons(persons_path, &mut errors),
            }
            .expect("persons");
            let tp = t.elapsed().as_secs_f64();
            let claims = match split {
                None => read_claims_csv(claims_path, &persons, &mut errors, &mut |_, _| {}),
                Some(split) => read_claims_split(claims_path, &persons, &mut errors, &mut |_, _| {}, split),
            }
            .expect("claims");
            let total = t.elapsed().as_secs_f64();
            assert!(errors.is_empty(), "{} bad rows, first: {}", errors.len(), errors[0].labelled());
            println!(
                "run {run} {label} ({} threads): persons {tp:.2} s, claims {:.2} s, both {total:.2} s; {} persons, {} claims",
                split.map_or(1, |s| s.threads),
                total - tp,
                persons.ids.len(),
                claims.rows.len()
            );
        }
    }
}
