//! `safetynet monitor`: measures households' medical burden for a year and writes
//! the alerts raised (specs/monitoring.md, "Output of the batch command").
//!
//! File mode (`--persons --households --claims --settlements --thresholds --out`)
//! reads the files, runs `monitor::monitor_year`, and writes the alerts through a
//! temporary file renamed into place, so a refused input leaves no output. Without
//! the file options it works on the store (`--year Y [--region PREFIX] [--actor A]`):
//! the same engine over the stored registry, settlements and thresholds; it raises
//! or updates the alerts and rewrites the year's patient ledger.

use crate::Global;
use anyhow::{bail, Context as _};
use domain::{Catalogue, Claim, ColumnMap, Fen, FieldError, Household, Record, ResidentId, Threshold};
use indicatif::ProgressBar;
use monitor::{Finding, Member, MissingThreshold, RuleSet, SettledCost, ThresholdTable};
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
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
        end.min(chrono::Utc::now().date_naive())
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
    let inputs = store.monitor_inputs(scope, year).await?;
    let result = monitor::monitor_year(
        year,
        &inputs.households,
        &inputs.members,
        &inputs.claims,
        &inputs.settlements,
        &ThresholdTable::new(&inputs.thresholds),
        rules,
        &Catalogue::serious(),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    report_missing(&result.missing_thresholds, None)?;
    let counts = store.apply_findings(scope, year, &result.alerts, actor).await?;
    let villages: std::collections::HashMap<String, domain::RegionCode> =
        inputs.households.iter().map(|h| (h.household_id.clone(), h.village_code)).collect();
    let catalogues = monitor::RegionalCatalogues { national: monitor::CatalogueSet::national(), regional: Vec::new() };
    let entries = monitor::patient_ledger(
        year,
        as_of,
        &inputs.persons,
        &villages,
        &inputs.claims,
        &inputs.oop_by_claim,
        &catalogues,
        &store.contracts(scope).await?,
        &monitor::LedgerSettings::default(),
    );
    let ledger = store.put_ledger(scope, year, &entries).await?;
    // The summary is the command's output (--quiet silences progress bars only).
    {
        println!(
            "monitored {} households in {year}: {} alerts found; {} raised, {} updated, {} unchanged, \
             {} closed and kept, {} no longer raised (left open for an officer)",
            result.measures.len(),
            result.alerts.len(),
            counts.raised,
            counts.updated,
            counts.unchanged,
            counts.closed_kept,
            counts.no_longer_raised
        );
        let by = |b: monitor::Batch| entries.iter().filter(|e| e.batch == b).count();
        println!(
            "patient ledger of {year} as of {as_of}: {} serious, {} chronic, {} severe; {} new, {} changed, {} unchanged, {} removed",
            by(monitor::Batch::Serious),
            by(monitor::Batch::Chronic),
            by(monitor::Batch::Severe),
            ledger.inserted,
            ledger.updated,
            ledger.unchanged,
            ledger.removed
        );
    }
    Ok(())
}

fn read_rules(args: &Args) -> anyhow::Result<RuleSet> {
    Ok(match &args.rules {
        Some(r) => {
            let text = std::fs::read_to_string(r).with_context(|| format!("reading {}", r.display()))?;
            RuleSet::from_region_toml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", r.display()))?
        }
        None => RuleSet::defaults(),
    })
}

/// The inputs of one run, parsed.
struct Inputs {
    households: Vec<Household>,
    members: Vec<Member>,
    claims: Vec<Claim>,
    settlements: Vec<SettledCost>,
    thresholds: Vec<Threshold>,
    rules: RuleSet,
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
    let total: u64 = [&persons, &households, &claims, &settlements]
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum();
    let bar = crate::progress::bar(total, "reading", global.quiet);
    // The four files are independent: read them side by side.
    let year = args.year;
    let (h, m, c, s) = std::thread::scope(|scope| {
        let h = scope.spawn(|| read_records::<Household>(&households, &bar));
        let m = scope.spawn(|| read_records::<PersonRow>(&persons, &bar));
        // Claims of other years cannot raise an alert for this one; they are
        // still parsed and checked, then dropped to save memory.
        let c = scope.spawn(|| read_filtered::<Claim>(&claims, &bar, |c| c.year() == year));
        let s = scope.spawn(|| read_records::<SettlementRow>(&settlements, &bar));
        (h.join(), m.join(), c.join(), s.join())
    });
    bar.finish_and_clear();
    let households = join(h)?;
    let members: Vec<Member> = join(m)?.into_iter().map(|p: PersonRow| p.0).collect();
    let claims = join(c)?;
    let settlements: Vec<SettledCost> = join(s)?.into_iter().map(|s: SettlementRow| s.0).collect();
    let inputs = Inputs { households, members, claims, settlements, thresholds, rules };
    if args.parse_only {
        eprintln!(
            "parsed {} households, {} persons, {} claims of {year}, {} settlements, {} thresholds, {} rules",
            inputs.households.len(),
            inputs.members.len(),
            inputs.claims.len(),
            inputs.settlements.len(),
            inputs.thresholds.len(),
            inputs.rules.rules.len()
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
        &ThresholdTable::new(&inputs.thresholds),
        &inputs.rules,
        &Catalogue::serious(),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    spinner.finish_and_clear();
    write_atomically(&out, |w| write_alerts(w, &result.alerts))?;
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

fn write_alerts(w: &mut dyn Write, alerts: &[Finding]) -> anyhow::Result<()> {
    use std::fmt::Write as _;
    let mut csv = csv::Writer::from_writer(w);
    csv.write_record(["rule", "household_id", "village_code", "year", "value", "threshold"])?;
    // One buffer a column, reused from row to row.
    let (mut village, mut year, mut value, mut threshold) =
        (String::new(), String::new(), String::new(), String::new());
    for a in alerts {
        village.clear();
        year.clear();
        value.clear();
        threshold.clear();
        write!(village, "{}", a.village_code)?;
        write!(year, "{}", a.year)?;
        write!(value, "{}", a.value)?;
        if let Some(t) = &a.threshold {
            write!(threshold, "{t}")?;
        }
        csv.write_record([
            a.rule.as_str(),
            a.household_id.as_str(),
            village.as_str(),
            year.as_str(),
            value.as_str(),
            threshold.as_str(),
        ])?;
    }
    csv.flush()?;
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
        write_atomically(path, |w| {
            let mut csv = csv::Writer::from_writer(w);
            csv.write_record(["household_id", "village_code", "year"])?;
            for m in missing {
                csv.write_record([m.household_id.clone(), m.village_code.to_string(), m.year.to_string()])?;
            }
            csv.flush()?;
            Ok(())
        })?;
    }
    Ok(())
}

/// Writes through a temporary file beside `path`, renamed into place only when
/// everything was written.
fn write_atomically(path: &Path, body: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>) -> anyhow::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let f = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        let mut w = BufWriter::new(f);
        body(&mut w)?;
        w.flush()?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// At most this many bad rows are listed before the read stops.
const MAX_ERRORS: usize = 20;

fn read_records<R: Record + Send>(path: &Path, bar: &ProgressBar) -> anyhow::Result<Vec<R>> {
    read_filtered(path, bar, |_| true)
}

/// Reads every row of a CSV file as an `R`, keeping those `keep` accepts. Every bad
/// row (up to [`MAX_ERRORS`]) is named as `file:line: column C: reason`.
fn read_filtered<R: Record>(path: &Path, bar: &ProgressBar, keep: impl Fn(&R) -> bool) -> anyhow::Result<Vec<R>> {
    let f = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(BufReader::with_capacity(1 << 20, f));
    let header = rdr.headers().with_context(|| format!("{}: reading the header", path.display()))?.clone();
    let header: Vec<&str> = header.iter().collect();
    let map = ColumnMap::new::<R>(&header).map_err(|e| anyhow::anyhow!("{}:1: {e}", path.display()))?;
    let mut out = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    let mut row = csv::StringRecord::new();
    let mut last = 0u64;
    let mut rows = 0u64;
    loop {
        rows += 1;
        match rdr.read_record(&mut row) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                errors.push(format!("{}:{line}: {}", path.display(), csv_reason(&e)));
                if matches!(e.kind(), csv::ErrorKind::Io(_)) || errors.len() >= MAX_ERRORS {
                    break;
                }
                continue;
            }
        }
        let raw: Vec<&str> = row.iter().collect();
        let mut fields: Vec<&str> = Vec::with_capacity(R::COLUMNS.len());
        map.pick(&raw, &mut fields);
        match R::from_fields(&fields) {
            Ok(r) => {
                if keep(&r) {
                    out.push(r)
                }
            }
            Err(FieldError { column, reason }) => {
                let line = row.position().map(|p| p.line()).unwrap_or(0);
                errors.push(format!("{}:{line}: column {column}: {reason}", path.display()));
                if errors.len() >= MAX_ERRORS {
                    break;
                }
            }
        }
        if rows.is_multiple_of(65_536) {
            let pos = row.position().map(|p| p.byte()).unwrap_or(last);
            bar.inc(pos - last);
            last = pos;
        }
    }
    if !errors.is_empty() {
        let more = if errors.len() >= MAX_ERRORS { "\n(stopped after the first 20 bad rows)" } else { "" };
        bail!("{} refused; nothing was written:\n{}{more}", path.display(), errors.join("\n"));
    }
    Ok(out)
}

fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "the row is not valid UTF-8; save the file as UTF-8".into(),
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("the row has {len} fields where the header has {expected_len}")
        }
        _ => e.to_string(),
    }
}

/// A person as monitoring reads it: only `person_id, household_id, status`.
struct PersonRow(Member);

impl Record for PersonRow {
    const KIND: &'static str = "persons";
    const COLUMNS: &'static [domain::Column] = &[
        domain::Column { name: "person_id", required: true },
        domain::Column { name: "household_id", required: true },
        domain::Column { name: "status", required: true },
    ];

    fn from_fields(f: &[&str]) -> Result<Self, FieldError> {
        let person_id = ResidentId::parse(f[0]).map_err(|e| FieldError { column: "person_id", reason: e.0 })?;
        let household_id = domain::parse_id("household_id", f[1])?;
        let status = f[2].parse().map_err(|e: domain::DomainError| FieldError { column: "status", reason: e.0 })?;
        Ok(PersonRow(Member { person_id, household_id, status }))
    }

    fn to_fields(&self) -> Vec<String> {
        vec![self.0.person_id.to_string(), self.0.household_id.clone(), self.0.status.to_string()]
    }

    fn key(&self) -> String {
        self.0.person_id.to_string()
    }
}

/// A settlement row of `settle`'s output, of which monitoring reads
/// `person_id, year, out_of_pocket`.
struct SettlementRow(SettledCost);

impl Record for SettlementRow {
    const KIND: &'static str = "settlements";
    const COLUMNS: &'static [domain::Column] = &[
        domain::Column { name: "person_id", required: true },
        domain::Column { name: "year", required: true },
        domain::Column { name: "out_of_pocket", required: true },
    ];

    fn from_fields(f: &[&str]) -> Result<Self, FieldError> {
        let person_id = ResidentId::parse(f[0]).map_err(|e| FieldError { column: "person_id", reason: e.0 })?;
        let year = domain::parse_year(f[1]).map_err(|e| FieldError { column: "year", reason: e.0 })?;
        let out_of_pocket = Fen::parse_yuan(f[2]).map_err(|e| FieldError { column: "out_of_pocket", reason: e.0 })?;
        Ok(SettlementRow(SettledCost { person_id, year, out_of_pocket }))
    }

    fn to_fields(&self) -> Vec<String> {
        vec![self.0.person_id.to_string(), self.0.year.to_string(), self.0.out_of_pocket.to_string()]
    }

    fn key(&self) -> String {
        self.0.person_id.to_string()
    }
}

/// Thresholds from TOML (`[[threshold]]` tables, as in specs/monitoring.md) or
/// CSV (`region, year, rural_income, monitoring_line`), by the file's extension.
fn read_thresholds(path: &Path) -> anyhow::Result<Vec<Threshold>> {
    let is_toml = path.extension().map(|e| e.eq_ignore_ascii_case("toml")).unwrap_or(false);
    if !is_toml {
        return read_records::<Threshold>(path, &ProgressBar::hidden());
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        #[serde(default)]
        threshold: Vec<toml::Table>,
    }
    let file: File = toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let mut out = Vec::with_capacity(file.threshold.len());
    for (i, t) in file.threshold.iter().enumerate() {
        let field = |name: &str| -> String {
            match t.get(name) {
                None => String::new(),
                Some(toml::Value::String(s)) => s.clone(),
                Some(toml::Value::Integer(n)) => n.to_string(),
                // A float is written back in its shortest form, which is the decimal
                // the officer typed (19575.5 -> "19575.5").
                Some(toml::Value::Float(f)) => format!("{f}"),
                Some(other) => other.to_string(),
            }
        };
        if let Some(extra) = t.keys().find(|k| !Threshold::COLUMNS.iter().any(|c| c.name == k.as_str())) {
            bail!(
                "{}: threshold #{}: unknown key {extra:?}; a threshold has region, year, rural_income, monitoring_line",
                path.display(),
                i + 1
            );
        }
        let fields: Vec<String> = Threshold::COLUMNS.iter().map(|c| field(c.name)).collect();
        let refs: Vec<&str> = fields.iter().map(|s| s.as_str()).collect();
        let th = Threshold::from_fields(&refs).map_err(|e| {
            anyhow::anyhow!(
                "{}: threshold #{} (region {:?}): column {}: {}",
                path.display(),
                i + 1,
                field("region"),
                e.column,
                e.reason
            )
        })?;
        out.push(th);
    }
    Ok(out)
}

/// The result of a reader thread, with a panic turned into an error.
fn join<T>(r: std::thread::Result<anyhow::Result<T>>) -> anyhow::Result<T> {
    r.map_err(|_| anyhow::anyhow!("a reader thread panicked"))?
}
