//! `safetynet synth`: writes a synthetic county or province as files (the `synth`
//! crate does the work; this command parses options, shows progress and prints
//! what was written).

use crate::Global;
use anyhow::Context;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The directory to write into (created if missing; files in it are replaced).
    #[arg(long)]
    pub out: PathBuf,
    /// small (one county, ~6,000 households), county (one county, 100,000
    /// households) or province (every county of one province, millions).
    #[arg(long, default_value = "small")]
    pub scale: synth::Scale,
    /// The random seed: the same seed writes the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The year of the claims, thresholds and policy.
    #[arg(long, default_value_t = 2024)]
    pub year: i32,
    /// A 2-digit province code (default 34, Anhui).
    #[arg(long)]
    pub province: Option<String>,
    /// A 6-digit county code for the small and county scales (default 341122).
    #[arg(long)]
    pub county: Option<String>,
    /// Mean claims per person in the year; 0 writes no claims. A province at 2.5
    /// writes about 60 million claims (about 7 GB).
    #[arg(long, default_value_t = 2.5)]
    pub claims_per_person: f64,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let config = synth::Config {
        scale: args.scale,
        seed: args.seed,
        year: args.year,
        province: args.province,
        county: args.county,
        claims_per_person: args.claims_per_person,
    };
    let started = std::time::Instant::now();
    let bar = crate::progress::bar(0, "households", global.quiet);
    let written = synth::write_dir_with_progress(&config, &args.out, &mut |p| {
        bar.set_length(p.households_total);
        bar.set_position(p.households_done);
    })
    .with_context(|| format!("writing synthetic data into {}", args.out.display()))?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    let s = &written.summary;
    if !global.quiet {
        println!(
            "{} scale, {}: {} counties, {} townships, {} villages, seed {}, year {}",
            config.scale, s.province, s.counties, s.townships, s.villages, config.seed, config.year
        );
        let mut bytes = 0;
        for f in &written.files {
            println!("  {:<18} {:>12} rows {:>10.1} MB", f.name, f.rows, f.bytes as f64 / 1e6);
            bytes += f.bytes;
        }
        let rows = s.regions + s.households + s.persons + s.facilities + s.practitioners + s.claims + s.thresholds;
        println!(
            "wrote {} rows, {:.1} MB into {} in {:.1} s ({:.0} rows/s, {:.1} MB/s)",
            rows,
            bytes as f64 / 1e6,
            args.out.display(),
            secs,
            rows as f64 / secs,
            bytes as f64 / 1e6 / secs
        );
    }
    Ok(())
}
