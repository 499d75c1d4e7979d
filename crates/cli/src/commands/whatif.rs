//! `safetynet whatif`: a draft policy against the policy in force, over one year
//! of claims, compared by county (what each fund pays, households' out-of-pocket
//! deciles, households crossing each warning rule, cost per household kept off
//! the list).
//!
//! This module owns the files; the comparison is the application's
//! (`app::analysis::whatif`, the same as the web application's), with the policy
//! in force governing every region of the files.

use crate::Global;
use anyhow::bail;
use domain::{Claim, Household, Person, Threshold};
use settle::Policy;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The policy in force (TOML, docs/settlement.md).
    #[arg(long)]
    pub policy_in_force: PathBuf,
    /// The draft policy (TOML).
    #[arg(long)]
    pub draft: PathBuf,
    /// Persons file (CSV or XLSX).
    #[arg(long)]
    pub persons: PathBuf,
    /// Households file (CSV or XLSX).
    #[arg(long)]
    pub households: PathBuf,
    /// Claims file (CSV or XLSX); claims of other years are ignored.
    #[arg(long)]
    pub claims: PathBuf,
    /// Thresholds: TOML ([[threshold]]) or CSV.
    #[arg(long)]
    pub thresholds: PathBuf,
    /// The policy year compared.
    #[arg(long)]
    pub year: i32,
    /// A region's warning rules (TOML) over the default rules.
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Where to write the comparison: .csv or .xlsx.
    #[arg(long)]
    pub out: PathBuf,
}

fn read<R: domain::Record>(path: &Path) -> anyhow::Result<Vec<R>> {
    ingest::read_all::<R>(path).map_err(|e| anyhow::anyhow!("{e}"))
}

pub(crate) fn read_policy(path: &Path) -> anyhow::Result<Policy> {
    Ok(ingest::settlement_files::read_policy(path)?)
}

pub(crate) fn read_thresholds(path: &Path) -> anyhow::Result<Vec<Threshold>> {
    let rows = ingest::read_thresholds(path, &mut |_, _| {}).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(rows.into_iter().map(|r| r.record).collect())
}

/// The output kind from the file's extension.
pub(crate) fn is_xlsx(out: &Path) -> anyhow::Result<bool> {
    match out.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase()).as_deref() {
        Some("xlsx") => Ok(true),
        Some("csv") => Ok(false),
        _ => bail!("{}: the output must end in .csv or .xlsx", out.display()),
    }
}

/// Writes atomically (`ingest::write_atomically`), so a failure leaves nothing.
pub(crate) fn write_file(
    out: &Path,
    body: impl FnOnce(&mut dyn std::io::Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    ingest::write_atomically(out, body)
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let in_force = read_policy(&args.policy_in_force)?;
    let draft = read_policy(&args.draft)?;
    let xlsx = is_xlsx(&args.out)?;
    let rules = ingest::monitor_files::read_rules(args.rules.as_deref())?;
    let spinner = crate::progress::spinner("reading", global.quiet);
    let (h, p, c) = std::thread::scope(|s| {
        let h = s.spawn(|| read::<Household>(&args.households));
        let p = s.spawn(|| read::<Person>(&args.persons));
        let c = read::<Claim>(&args.claims);
        (h.join(), p.join(), c)
    });
    let households = h.map_err(|_| anyhow::anyhow!("a reader panicked"))??;
    let persons = p.map_err(|_| anyhow::anyhow!("a reader panicked"))??;
    let claims = c?;
    let thresholds = read_thresholds(&args.thresholds)?;
    spinner.set_message("settling and monitoring");
    let data = app::IndicatorData { households, persons, claims, thresholds, ..Default::default() };
    let name = in_force.name.clone();
    let policies = [app::PolicyRow { region: String::new(), year: args.year, policy: std::sync::Arc::new(in_force) }];
    let done = app::analysis::whatif(&data, &policies, &draft, args.year, &rules).map_err(anyhow::Error::msg)?;
    let comparison = done.comparison;
    spinner.finish_and_clear();
    let names = HashMap::new();
    write_file(&args.out, |w| {
        if xlsx {
            comparison.write_xlsx(&names, w)?;
        } else {
            comparison.write_csv(&names, w)?;
        }
        Ok(())
    })?;
    if !global.quiet {
        eprintln!(
            "compared {:?} with {:?} over {} claims of {} in {} rows written to {}",
            draft.name,
            name,
            done.claims,
            args.year,
            comparison.rows.len(),
            args.out.display()
        );
    }
    Ok(())
}
