//! `safetynet report`: programme indicators by region level and period, as CSV or
//! XLSX (by the output's extension), inside a region scope.
//!
//! With no file options it reads the store (`--db`), as the web application's
//! report does (`web::analysis::build_report`). Otherwise this module reads the
//! files (registry, claims, the settle command's settlements, the monitor's
//! alerts, village reach, contracts, region names) and turns them into facts with
//! `indicators::extract`; the cube, the definitions and the tables are the
//! `indicators` crate's.

use super::whatif::{is_xlsx, write_file};
use crate::Global;
use anyhow::{bail, Context};
use chrono::NaiveDate;
use domain::{Catalogue, Claim, Fen, Household, Person, Region, RegionCode, RegionLevel, ResidentId};
use indicators::extract::{
    coverage_facts, registry_facts, AlertEvent, AlertLedger, ClaimLedger, FundAmounts, Registry, SettledClaim,
    VillageReach,
};
use indicators::report::{self, ReportSpec};
use indicators::{Definitions, IndicatorCube, Month, Period, PeriodKind};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The year reported.
    #[arg(long)]
    pub year: i32,
    /// Region levels, comma-separated (province, city, county, township, village).
    #[arg(long, value_delimiter = ',', default_value = "province,city,county")]
    pub level: Vec<String>,
    /// Period granularity: year, quarter or month.
    #[arg(long, default_value = "year")]
    pub period: String,
    /// Region scope: a code prefix (34, 3411, 341122, ...); rows outside never appear.
    #[arg(long, default_value = "")]
    pub region: String,
    /// Where to write the report: .csv or .xlsx.
    #[arg(long)]
    pub out: PathBuf,
    /// Indicator definitions (TOML) over the shipped ones.
    #[arg(long)]
    pub indicators: Option<PathBuf>,
    /// Persons file.
    #[arg(long)]
    pub persons: Option<PathBuf>,
    /// Households file.
    #[arg(long)]
    pub households: Option<PathBuf>,
    /// Claims file.
    #[arg(long)]
    pub claims: Option<PathBuf>,
    /// Settlements file, as `safetynet settle` writes it.
    #[arg(long)]
    pub settlements: Option<PathBuf>,
    /// Alerts (CSV: household_id, year[, raised_on, assisted_on]), as `safetynet monitor` writes them.
    #[arg(long)]
    pub alerts: Option<PathBuf>,
    /// Village reach (CSV: village_code, population, has_qualified_doctor, within_15min or
    /// within_15_minutes[, rural]), as `safetynet coverage --reach-out` writes it.
    #[arg(long)]
    pub reach: Option<PathBuf>,
    /// Persons under a family-doctor contract (CSV with a person_id column).
    #[arg(long)]
    pub contracts: Option<PathBuf>,
    /// Regions file or division directory, for names.
    #[arg(long)]
    pub regions: Option<PathBuf>,
}

fn read<R: domain::Record>(path: &Path) -> anyhow::Result<Vec<R>> {
    let rows = ingest::read_file::<R>(path, &mut |_, _| {}).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(rows.into_iter().map(|r| r.record).collect())
}

/// A plain CSV: header positions and rows, with the file and line in errors.
struct Table {
    file: String,
    header: Vec<String>,
    rows: Vec<(u64, csv::StringRecord)>,
}

impl Table {
    fn read(path: &Path) -> anyhow::Result<Table> {
        let file = path.display().to_string();
        let mut r =
            csv::ReaderBuilder::new().flexible(true).from_path(path).with_context(|| format!("cannot open {file}"))?;
        let header = r
            .headers()
            .with_context(|| format!("{file}: cannot read the header"))?
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
            .collect();
        let mut rows = Vec::new();
        for rec in r.records() {
            let rec = rec.with_context(|| format!("cannot read {file}"))?;
            rows.push((rec.position().map_or(0, |p| p.line()), rec));
        }
        Ok(Table { file, header, rows })
    }

    fn col(&self, name: &str) -> anyhow::Result<usize> {
        self.header.iter().position(|h| h == name).with_context(|| {
            format!("{}: the column {name} is missing; the header is {}", self.file, self.header.join(", "))
        })
    }

    fn bad(&self, line: u64, column: &str, reason: impl std::fmt::Display) -> anyhow::Error {
        anyhow::anyhow!("{}:{line}: column {column}: {reason}", self.file)
    }
}

/// Settlements by claim id: fund payments from the tier columns (those between
/// `eligible_cost` and `out_of_pocket`) and the out-of-pocket.
fn read_settlements(path: &Path) -> anyhow::Result<HashMap<String, (FundAmounts, Fen)>> {
    let t = Table::read(path)?;
    let id = t.col("claim_id")?;
    let oop = t.col("out_of_pocket")?;
    let first_tier = t.col("eligible_cost")? + 1;
    let tiers: Vec<String> = t.header[first_tier..oop].to_vec();
    let mut out = HashMap::with_capacity(t.rows.len());
    for (line, r) in &t.rows {
        let mut payments = Vec::with_capacity(tiers.len());
        for (k, name) in tiers.iter().enumerate() {
            let v = Fen::parse_yuan(r.get(first_tier + k).unwrap_or("")).map_err(|e| t.bad(*line, name, e))?;
            payments.push(v);
        }
        let o = Fen::parse_yuan(r.get(oop).unwrap_or("")).map_err(|e| t.bad(*line, "out_of_pocket", e))?;
        out.insert(r.get(id).unwrap_or("").trim().to_string(), (FundAmounts::from_tiers(&tiers, &payments), o));
    }
    Ok(out)
}

fn opt_date(
    t: &Table,
    r: &csv::StringRecord,
    col: Option<usize>,
    line: u64,
    name: &str,
) -> anyhow::Result<Option<NaiveDate>> {
    match col.and_then(|c| r.get(c)).map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => domain::parse_date(s).map(Some).map_err(|e| t.bad(line, name, e)),
    }
}

/// Alerts; without a `raised_on` column an alert counts in December of its year.
fn read_alerts(path: &Path) -> anyhow::Result<Vec<AlertEvent>> {
    let t = Table::read(path)?;
    let (h, y) = (t.col("household_id")?, t.col("year")?);
    let raised = t.col("raised_on").ok();
    let assisted = t.col("assisted_on").ok();
    let mut out = Vec::with_capacity(t.rows.len());
    for (line, r) in &t.rows {
        let year = domain::parse_year(r.get(y).unwrap_or("")).map_err(|e| t.bad(*line, "year", e))?;
        let dec = NaiveDate::from_ymd_opt(year, 12, 31).context("a year out of range")?;
        out.push(AlertEvent {
            household_id: r.get(h).unwrap_or("").trim().to_string(),
            year,
            raised_on: opt_date(&t, r, raised, *line, "raised_on")?.unwrap_or(dec),
            assisted_on: opt_date(&t, r, assisted, *line, "assisted_on")?,
        });
    }
    Ok(out)
}

fn read_reach(path: &Path) -> anyhow::Result<Vec<VillageReach>> {
    let t = Table::read(path)?;
    let (v, p, d, w) = (
        t.col("village_code")?,
        t.col("population")?,
        t.col("has_qualified_doctor")?,
        t.col("within_15min").or_else(|_| t.col("within_15_minutes"))?,
    );
    let rural = t.col("rural").ok();
    let flag = |r: &csv::StringRecord, c: usize, line: u64, name: &str| {
        domain::parse_bool(r.get(c).unwrap_or("")).map_err(|e| t.bad(line, name, e))
    };
    let mut out = Vec::with_capacity(t.rows.len());
    for (line, r) in &t.rows {
        let village = RegionCode::parse(r.get(v).unwrap_or("")).map_err(|e| t.bad(*line, "village_code", e))?;
        let population: u32 =
            r.get(p).unwrap_or("").trim().parse().map_err(|_| t.bad(*line, "population", "is not a whole number"))?;
        out.push(VillageReach {
            village,
            rural: match rural {
                Some(c) => flag(r, c, *line, "rural")?,
                None => true,
            },
            population,
            has_qualified_doctor: flag(r, d, *line, "has_qualified_doctor")?,
            within_15min: flag(r, w, *line, "within_15min")?,
        });
    }
    Ok(out)
}

fn read_contracts(path: &Path) -> anyhow::Result<HashSet<ResidentId>> {
    let t = Table::read(path)?;
    let c = t.col("person_id")?;
    t.rows
        .iter()
        .map(|(line, r)| ResidentId::parse(r.get(c).unwrap_or("")).map_err(|e| t.bad(*line, "person_id", e)))
        .collect()
}

fn read_names(path: &Path) -> anyhow::Result<HashMap<RegionCode, String>> {
    let regions: Vec<Region> =
        if path.is_dir() { ingest::read_divisions(path).map_err(|e| anyhow::anyhow!("{e}"))? } else { read(path)? };
    Ok(regions.into_iter().map(|r| (r.code, r.name)).collect())
}

/// The report over the store (`--db`): its registry, the year's settled claims,
/// the alerts with their assistance, the family-doctor contracts and the rural
/// health network, inside the `--region` scope, as the web application's report
/// reads them.
fn from_store(
    args: &Args,
    global: &Global,
    defs: Definitions,
    levels: Vec<RegionLevel>,
    kind: PeriodKind,
    scope: &str,
) -> anyhow::Result<()> {
    // The first report of a year builds its kept facts (about a minute for a
    // million persons); later ones refresh what changed.
    let spinner = crate::progress::spinner("refreshing the kept indicator facts", global.quiet);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let report = rt.block_on(async {
        let app = app::App::open(&global.db).await?;
        let scope = app::Scope::parse(scope).map_err(anyhow::Error::msg)?;
        let report = app.report(defs, &scope, args.year, levels, kind).await.map_err(|e| anyhow::anyhow!("{e}"));
        app.close().await;
        report
    })?;
    spinner.finish_and_clear();
    let bytes = if is_xlsx(&args.out)? { report.xlsx() } else { report.csv() }.map_err(|e| anyhow::anyhow!("{e}"))?;
    std::fs::write(&args.out, bytes).with_context(|| format!("cannot write {}", args.out.display()))?;
    if !global.quiet {
        if report.unsettled > 0 {
            eprintln!(
                "{} claims of {} have no settlement in the store yet and are left out of the claim indicators",
                report.unsettled, args.year
            );
        }
        if let Some(note) = &report.coverage_note {
            eprintln!("coverage indicators left out: {note}");
        }
        eprintln!(
            "{} rows of {} indicators written to {}",
            report.rows.len(),
            report.defs.indicators.len(),
            args.out.display()
        );
    }
    Ok(())
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let levels = args
        .level
        .iter()
        .map(|l| l.parse::<RegionLevel>().map_err(|e| anyhow::anyhow!("--level: {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let kind: PeriodKind = args.period.parse().map_err(|e| anyhow::anyhow!("--period: {e}"))?;
    let scope = domain::region::parse_prefix(&args.region).map_err(|e| anyhow::anyhow!("--region: {e}"))?;
    let xlsx = is_xlsx(&args.out)?;
    let mut defs = Definitions::shipped();
    if let Some(p) = &args.indicators {
        let text = std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
        defs.merge(&text, &p.display().to_string())?;
    }
    let files = [&args.persons, &args.households, &args.claims, &args.settlements, &args.alerts, &args.reach]
        .iter()
        .chain([&args.contracts, &args.regions].iter())
        .any(|f| f.is_some());
    if !files {
        return from_store(&args, global, defs, levels, kind, &scope);
    }
    let (Some(persons), Some(households)) = (&args.persons, &args.households) else {
        bail!(
            "the report reads files: give at least --persons and --households (and --claims with --settlements, \
             --alerts, --reach, --contracts as available), or none of them to read the store (--db)"
        );
    };
    if args.claims.is_some() != args.settlements.is_some() {
        bail!("--claims and --settlements go together: the indicators need each claim's settlement");
    }
    let spinner = crate::progress::spinner("reading", global.quiet);
    let households: Vec<Household> = read(households)?;
    let persons: Vec<Person> = read(persons)?;
    let registry = Registry::new(&households, &persons)?;
    let as_of = Month::new(args.year, 1);
    let serious = Catalogue::serious();
    let contracted = match &args.contracts {
        Some(p) => read_contracts(p)?,
        None => HashSet::new(),
    };
    let mut facts =
        registry_facts(&registry, &households, &persons, &serious, &Catalogue::chronic(), &contracted, as_of);
    if let (Some(cf), Some(sf)) = (&args.claims, &args.settlements) {
        let claims: Vec<Claim> = read::<Claim>(cf)?.into_iter().filter(|c| c.year() == args.year).collect();
        let settlements = read_settlements(sf)?;
        let mut settled = Vec::with_capacity(claims.len());
        for c in &claims {
            let Some((paid, oop)) = settlements.get(&c.claim_id) else {
                bail!("{}: the claim {} has no settlement in {}", cf.display(), c.claim_id, sf.display());
            };
            settled.push(SettledClaim { claim: c, paid: *paid, out_of_pocket: *oop });
        }
        facts.extend(ClaimLedger::new(&persons, &serious, args.year).facts(&registry, &settled)?);
    }
    if let Some(a) = &args.alerts {
        let alerts: Vec<AlertEvent> = read_alerts(a)?.into_iter().filter(|a| a.year == args.year).collect();
        facts.extend(AlertLedger::new().facts(&registry, &alerts)?);
    }
    if let Some(r) = &args.reach {
        facts.extend(coverage_facts(&read_reach(r)?, as_of));
    }
    let names = match &args.regions {
        Some(r) => read_names(r)?,
        None => HashMap::new(),
    };
    let cube = IndicatorCube::build(&defs, &facts);
    let spec = ReportSpec { levels: levels.clone(), periods: Period::of_year(args.year, kind), scope };
    let rows = report::build(&cube, &spec);
    spinner.finish_and_clear();
    write_file(&args.out, |w| {
        if xlsx {
            report::write_xlsx(&defs, &rows, &names, &levels, w)?;
        } else {
            report::write_csv(&defs, &rows, &names, w)?;
        }
        Ok(())
    })?;
    if !global.quiet {
        eprintln!("{} rows of {} indicators written to {}", rows.len(), defs.indicators.len(), args.out.display());
    }
    Ok(())
}
