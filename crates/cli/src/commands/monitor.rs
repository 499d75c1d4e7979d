//! `safetynet monitor`: measures households' medical burden for a year and writes
//! the alerts raised (docs/monitoring.md, "Output of the batch command").
//!
//! File mode (`--persons --households --claims --settlements --thresholds --out`)
//! reads the files (`ingest::monitor_files`, thresholds by `ingest::thresholds`),
//! runs `monitor::find_alerts`, and writes the alerts atomically, so a refused
//! input leaves no output. Without
//! the file options it works on the store (`--year Y [--region PREFIX] [--actor A]`):
//! the same engine over the stored registry, settlements and thresholds; it raises
//! or updates the alerts and rewrites the year's patient ledger.

use crate::Global;
use anyhow::{bail, Context as _};
use domain::{Catalogue, Threshold};
use ingest::monitor_files::{self as files, MonitorFiles};
use ingest::IngestError;
use monitor::{MissingThreshold, RuleSet, ThresholdTable};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The year monitored: settlements and claims of this policy year count.
    #[arg(long)]
    pub year: i32,
    /// Persons file (CSV): person_id, household_id, status.
    #[arg(long)]
    pub persons: Option<PathBuf>,
    /// Households file (CSV): household_id, village_code, size, income[, consumption, food].
    #[arg(long)]
    pub households: Option<PathBuf>,
    /// Claims file (CSV, as for `settle`); the diagnoses feed serious_diagnosis.
    #[arg(long)]
    pub claims: Option<PathBuf>,
    /// Settlements file (CSV): the output of `settle` (person_id, year, out_of_pocket are read).
    #[arg(long)]
    pub settlements: Option<PathBuf>,
    /// Thresholds: TOML ([[threshold]] region, year, rural_income, monitoring_line) or CSV.
    #[arg(long)]
    pub thresholds: Option<PathBuf>,
    /// Where to write the alerts (CSV).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// A region's rules file (TOML) applied over the default rules.
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Also write the households without a threshold to this CSV file.
    #[arg(long)]
    pub missing: Option<PathBuf>,
    /// Read and parse the files, then stop (for benchmarks).
    #[arg(long, hide = true)]
    pub parse_only: bool,
    /// Store mode: a region code prefix limiting the run (default: everything in the store).
    #[arg(long, value_name = "PREFIX")]
    pub region: Option<String>,
    /// Store mode: who runs it, recorded on the alerts it raises or updates (default: the login name).
    #[arg(long)]
    pub actor: Option<String>,
    /// Store mode: the reference day of the patient ledger's treatment status
    /// (default: the end of the year, or today when that is earlier).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<chrono::NaiveDate>,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let files = [&args.persons, &args.households, &args.claims, &args.settlements, &args.thresholds, &args.out];
    if files.iter().all(|f| f.is_none()) {
        return run_on_store(&args, global);
    }
    let names = ["--persons", "--households", "--claims", "--settlements", "--thresholds", "--out"];
    let missing: Vec<&str> = files.iter().zip(names).filter(|(f, _)| f.is_none()).map(|(_, n)| n).collect();
    if !missing.is_empty() {
        bail!("file mode needs every file option; missing: {}", missing.join(", "));
    }
    if args.region.is_some() || args.actor.is_some() || args.as_of.is_some() {
        bail!("--region, --actor and --as-of are for store mode (no file options)");
    }
    run_on_files(&args, global)
}

/// Monitors the store: reads the year's households, persons, claims, settlements
/// and thresholds inside `--region`, runs the same engine as file mode, raises or
/// updates the alerts (one per rule, household and year; closed ones stay closed),
/// and rewrites the year's patient ledger (family-doctor contracts kept).
fn run_on_store(args: &Args, global: &Global) -> anyhow::Result<()> {
    if args.parse_only || args.missing.is_some() {
        bail!("--parse-only and --missing are for file mode");
    }
    let rules = read_rules(args)?;
    let scope = store::Scope::new(args.region.as_deref().unwrap_or(""))?;
    let actor = super::alert::actor_name(&args.actor);
    let year = args.year;
    let as_of = args.as_of.unwrap_or_else(|| {
        let end = chrono::NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or_default();
        end.min(domain::time::china_today())
    });
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    rt.block_on(async {
        let store = store::Store::open(&global.db).await?;
        store.migrate().await?;
        let result = monitor_store(&store, &scope, year, as_of, &rules, &actor).await;
        store.close().await;
        result
    })
}

async fn monitor_store(
    store: &store::Store,
    scope: &store::Scope,
    year: i32,
    as_of: chrono::NaiveDate,
    rules: &RuleSet,
    actor: &str,
) -> anyhow::Result<()> {
    let run = app::monitoring::monitor_store(store, scope, year, as_of, rules, actor).await?;
    let detail = format!("{year} as of {as_of}: {} households, {} alerts found", run.households, run.found);
    crate::identity::audit(store, "monitor", &format!("scope {}*", scope.prefix()), &detail, Some(actor)).await?;
    report_missing(&run.missing_thresholds, None)?;
    // The summary is the command's output (--quiet silences progress bars only).
    let (counts, ledger) = (&run.alerts, &run.ledger);
    println!(
        "monitored {} households in {year}: {} alerts found; {} raised, {} updated, {} unchanged, \
         {} closed and kept, {} no longer raised (left open for an officer)",
        run.households,
        run.found,
        counts.raised,
        counts.updated,
        counts.unchanged,
        counts.closed_kept,
        counts.no_longer_raised
    );
    let [serious, chronic, severe] = run.batches;
    println!(
        "patient ledger of {year} as of {as_of}: {serious} serious, {chronic} chronic, {severe} severe; \
         {} new, {} changed, {} unchanged, {} removed",
        ledger.inserted, ledger.updated, ledger.unchanged, ledger.removed
    );
    println!("cases: {} opened for households at risk, {} alerts joined a case", run.cases_opened, run.alerts_joined);
    Ok(())
}

fn read_rules(args: &Args) -> anyhow::Result<RuleSet> {
    Ok(files::read_rules(args.rules.as_deref())?)
}

fn run_on_files(args: &Args, global: &Global) -> anyhow::Result<()> {
    let p = |o: &Option<PathBuf>| o.clone().expect("checked above");
    let (persons, households, claims, settlements, thresholds, out) = (
        p(&args.persons),
        p(&args.households),
        p(&args.claims),
        p(&args.settlements),
        p(&args.thresholds),
        p(&args.out),
    );
    let rules = read_rules(args)?;
    let thresholds = read_thresholds(&thresholds)?;
    let files = MonitorFiles { households: &households, persons: &persons, claims: &claims, settlements: &settlements };
    let bar = crate::progress::bar(files.total_size(), "reading", global.quiet);
    let year = args.year;
    let read = files::read_monitor_files(&files, year, &|bytes| bar.inc(bytes));
    bar.finish_and_clear();
    let inputs = read.map_err(|e| refused(e, true))?;
    if args.parse_only {
        eprintln!(
            "parsed {} households, {} persons, {} claims of {year}, {} settlements, {} thresholds, {} rules",
            inputs.households.len(),
            inputs.members.len(),
            inputs.claims.len(),
            inputs.settlements.len(),
            thresholds.len(),
            rules.rules.len()
        );
        return Ok(());
    }
    let spinner = crate::progress::spinner("monitoring", global.quiet);
    // The measures of every household are not written: ask for the alerts only.
    let result = monitor::find_alerts(
        year,
        &inputs.households,
        &inputs.members,
        &inputs.claims,
        &inputs.settlements,
        &ThresholdTable::new(&thresholds),
        &rules,
        &Catalogue::serious(),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    spinner.finish_and_clear();
    files::write_alerts(&out, &result.alerts).with_context(|| format!("cannot write {}", out.display()))?;
    report_missing(&result.missing_thresholds, args.missing.as_deref())?;
    if !global.quiet {
        eprintln!(
            "{} alerts for {} households in {year} written to {}",
            result.alerts.len(),
            result.households,
            out.display()
        );
    }
    Ok(())
}

fn report_missing(missing: &[MissingThreshold], file: Option<&Path>) -> anyhow::Result<()> {
    const SHOWN: usize = 20;
    for m in missing.iter().take(SHOWN) {
        eprintln!("warning: {m}");
    }
    if missing.len() > SHOWN {
        eprintln!("warning: ... and {} more households without a threshold", missing.len() - SHOWN);
    }
    if let Some(path) = file {
        files::write_missing(path, missing).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// A refused file as the monitor reports it: its bad rows as `file:line: column C:
/// reason`, at most [`files::MAX_ERRORS`] (where the read stopped, when `stopped`).
fn refused(e: IngestError, stopped: bool) -> anyhow::Error {
    let IngestError::Rows { file, errors } = &e else {
        return e.into();
    };
    let max = files::MAX_ERRORS;
    let lines: Vec<String> = errors.iter().take(max).map(|e| e.labelled().to_string()).collect();
    let more = match errors.len() {
        n if n > max => format!("\n... and {} more", n - max),
        n if n == max && stopped => format!("\n(stopped after the first {max} bad rows)"),
        _ => String::new(),
    };
    anyhow::anyhow!("{file} refused; nothing was written:\n{}{more}", lines.join("\n"))
}

/// Thresholds from TOML (`[[threshold]]` tables, as in docs/monitoring.md) or
/// CSV (`region, year, rural_income, monitoring_line`), by the file's extension:
/// the one reader of `ingest::thresholds`.
fn read_thresholds(path: &Path) -> anyhow::Result<Vec<Threshold>> {
    let rows = ingest::read_thresholds(path, &mut |_, _| {}).map_err(|e| refused(e, false))?;
    Ok(rows.into_iter().map(|r| r.record).collect())
}
