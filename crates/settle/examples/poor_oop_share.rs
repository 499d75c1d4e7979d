//! The poor's out-of-pocket share on the demo county (docs/synth.md, "Policy"):
//! writes the synthetic county `safetynet synth` writes (small scale, seed 1,
//! 2024 unless told otherwise), settles its claims in file mode under its own
//! policy.toml or under the policy given, and prints out-of-pocket over total
//! cost for the poor's claims, for their admissions alone, and for everyone.
//!
//! ```text
//! cargo run --release -p settle --example poor_oop_share [-- [--seed N] [POLICY.toml]]
//! ```

use domain::{ClaimKind, PovertyStatus};
use ingest::settlement_files as files;
use std::path::PathBuf;

fn main() {
    let mut seed = 1u64;
    let mut policy_path: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seed" => seed = args.next().and_then(|s| s.parse().ok()).expect("--seed N"),
            _ => policy_path = Some(PathBuf::from(a)),
        }
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let config = synth::Config { seed, ..synth::Config::default() };
    synth::write_dir(&config, dir.path()).expect("synth writes the county");
    let policy_path = policy_path.unwrap_or_else(|| dir.path().join("policy.toml"));
    let policy = files::read_policy(&policy_path).expect("the policy");
    let (persons, claims, order) =
        files::read_settlement_inputs(&dir.path().join("persons.csv"), &dir.path().join("claims.csv"))
            .expect("the county's persons and claims");

    // [poor all, poor admissions, everyone] × [out of pocket, total] in fen.
    let mut sums = [[0i128; 2]; 3];
    settle::settle_in_order(&policy, &claims.rows, &order, &persons.statuses, |i, _, oop| {
        let c = &claims.rows[i];
        let poor = persons.statuses[c.person as usize] != PovertyStatus::General;
        let total = c.input.total_cost.0 as i128;
        let mut add = |k: usize| {
            sums[k][0] += oop.0 as i128;
            sums[k][1] += total;
        };
        add(2);
        if poor {
            add(0);
            if c.input.kind == ClaimKind::Inpatient {
                add(1);
            }
        }
        true
    });
    let share = |k: usize| 100.0 * sums[k][0] as f64 / sums[k][1].max(1) as f64;
    println!("policy: {} ({})", policy.name, policy_path.display());
    println!("claims settled: {}", order.len());
    println!("poor, all claims:        {:.2}% out of pocket", share(0));
    println!("poor, admissions alone:  {:.2}% out of pocket", share(1));
    println!("everyone:                {:.2}% out of pocket", share(2));
}
