//! `safetynet report`: programme indicators by region level and period, as CSV or
//! XLSX (by the output's extension), inside a region scope.
//!
//! With no file options it reads the store (`--db`), as the web application's
//! report does (`web::analysis::build_report`). Otherwise it reads the files
//! through `ingest` (registry, claims, the settle command's settlements, the
//! monitor's alerts, village reach, contracts, region names:
//! `ingest::report_files`) and turns them into facts with `indicators::extract`;
//! the cube, the definitions and the tables are the `indicators` crate's.
//!
//! Each value is drawn against its target (the store's targets over the shipped
//! ones; in file mode the shipped ones) with a status, with `--compare
//! previous-year` beside the same period of the year before, and with
//! `--compare regions` beside the values of its province and of the nation
//! (`--compare previous-year,regions` for both).

use super::whatif::{is_xlsx, write_file};
use crate::Global;
use anyhow::{bail, Context};
use domain::{Catalogue, Claim, Household, Person, RegionLevel};
use indicators::extract::{
    coverage_facts, registry_facts, spending_facts, AlertEvent, AlertLedger, ClaimLedger, Registry, SettledClaim,
    Spending, SOCIETAL_POVERTY_LINE,
};
use indicators::report::{self, Comparisons, ReportSpec};
use indicators::{Definitions, Fact, IndicatorCube, Month, Period, PeriodKind, Targets};
use ingest::report_files as files;
use ingest::IngestError;
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
    /// Compare each row with the same period of the year before, `previous-year`
    /// (adds the columns ID_previous and ID_change), and/or with its province and
    /// the nation, `regions` (ID_province, ID_nation): one or both, comma-separated.
    #[arg(long, value_parser = parse_compare)]
    pub compare: Option<Comparisons>,
    /// Which counties: `all`, `poverty` (the 832 national poverty counties,
    /// data/poverty_counties.csv, whatever their exit year) or `other`.
    #[arg(long, default_value = "all")]
    pub counties: domain::CountyGroup,
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
    /// Facilities file: a claim at a listed facility counts as treated in the
    /// patient's county when the facility stands in it (else by its level).
    #[arg(long)]
    pub facilities: Option<PathBuf>,
    /// Regions file or division directory, for names.
    #[arg(long)]
    pub regions: Option<PathBuf>,
}

fn parse_compare(s: &str) -> Result<Comparisons, String> {
    s.parse()
}

fn read<R: domain::Record>(path: &Path) -> anyhow::Result<Vec<R>> {
    ingest::read_all::<R>(path).map_err(|e| anyhow::anyhow!("{e}"))
}

/// A refused file: its bad rows as `file:line: column C: reason`, one a line.
fn refused(e: IngestError) -> anyhow::Error {
    match e {
        IngestError::Rows { errors, .. } => {
            anyhow::anyhow!("{}", errors.iter().map(|e| e.labelled().to_string()).collect::<Vec<_>>().join("\n"))
        }
        e => e.into(),
    }
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
        let report = app
            .report_compared(defs, &scope, args.year, levels, kind, args.compare.unwrap_or_default(), args.counties)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"));
        app.close().await;
        report
    })?;
    spinner.finish_and_clear();
    let bytes = if is_xlsx(&args.out)? { report.xlsx() } else { report.csv() }.map_err(|e| anyhow::anyhow!("{e}"))?;
    write_file(&args.out, |w| Ok(w.write_all(&bytes)?))
        .with_context(|| format!("cannot write {}", args.out.display()))?;
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

/// The registry files, read once.
struct FileInputs<'a> {
    households: &'a [Household],
    persons: &'a [Person],
    registry: &'a Registry,
    contracted: &'a HashSet<domain::ResidentId>,
}

/// The claims (of every year), their settlements and the alerts, read once.
struct FileClaims<'a> {
    claims: &'a [Claim],
    settlements: &'a ingest::report_files::FileSettlements,
    alerts: &'a [AlertEvent],
}

impl FileInputs<'_> {
    /// The facts of `year` but the villages' reach: the registry's stocks, the
    /// settled claims of the year (each must be in the settlements file) and its
    /// alerts.
    fn facts(&self, args: &Args, f: &FileClaims, year: i32) -> anyhow::Result<Vec<Fact>> {
        let serious = Catalogue::serious();
        let mut facts = registry_facts(
            self.registry,
            self.households,
            self.persons,
            &serious,
            &Catalogue::chronic(),
            self.contracted,
            Month::new(year, 1),
        );
        if let (Some(cf), Some(sf)) = (&args.claims, &args.settlements) {
            let mut settled = Vec::new();
            for c in f.claims.iter().filter(|c| c.year() == year) {
                let Some((paid, oop)) = f.settlements.of(c) else {
                    bail!("{}: the claim {} has no settlement in {}", cf.display(), c.claim_key(), sf.display());
                };
                settled.push(SettledClaim { claim: c, paid: *paid, out_of_pocket: *oop });
            }
            facts.extend(ClaimLedger::new(self.persons, &serious, year).facts(self.registry, &settled)?);
            let spending: Vec<Spending> = settled
                .iter()
                .map(|s| Spending {
                    person: s.claim.person_id,
                    discharged: s.claim.discharged,
                    out_of_pocket: s.out_of_pocket,
                })
                .collect();
            facts.extend(spending_facts(self.registry, &spending, SOCIETAL_POVERTY_LINE, year));
        }
        let alerts: Vec<AlertEvent> = f.alerts.iter().filter(|a| a.year == year).cloned().collect();
        facts.extend(AlertLedger::new().facts(self.registry, &alerts)?);
        facts.retain(|f| args.counties.keeps(f.village));
        Ok(facts)
    }
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
        .chain([&args.contracts, &args.regions, &args.facilities].iter())
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
    let facilities: Vec<domain::Facility> = match &args.facilities {
        Some(f) => read(f)?,
        None => Vec::new(),
    };
    let registry = Registry::new(&households, &persons)?
        .with_facilities(facilities.into_iter().map(|f| (f.facility_id, f.region_code)));
    let contracted = match &args.contracts {
        Some(p) => files::read_contracts(p).map_err(refused)?,
        None => HashSet::new(),
    };
    let claims: Vec<Claim> = match &args.claims {
        Some(cf) => read::<Claim>(cf)?,
        None => Vec::new(),
    };
    let settlements = match &args.settlements {
        Some(sf) => files::read_settlements(sf).map_err(refused)?,
        None => files::FileSettlements::default(),
    };
    let alerts: Vec<AlertEvent> = match &args.alerts {
        Some(a) => files::read_alerts(a).map_err(refused)?,
        None => Vec::new(),
    };
    let inputs =
        FileInputs { households: &households, persons: &persons, registry: &registry, contracted: &contracted };
    let files_of = FileClaims { claims: &claims, settlements: &settlements, alerts: &alerts };
    let mut facts = inputs.facts(&args, &files_of, args.year)?;
    if let Some(r) = &args.reach {
        let reach = coverage_facts(&files::read_reach(r).map_err(refused)?, Month::new(args.year, 1));
        facts.extend(reach.into_iter().filter(|f| args.counties.keeps(f.village)));
    }
    let names = match &args.regions {
        Some(r) => files::read_region_names(r).map_err(|e| anyhow::anyhow!("{e}"))?,
        None => HashMap::new(),
    };
    let cube = IndicatorCube::build(&defs, &facts);
    let spec = ReportSpec { levels: levels.clone(), periods: Period::of_year(args.year, kind), scope };
    let mut rows = report::build(&cube, &spec);
    let compare = args.compare.unwrap_or_default();
    if compare.previous_year {
        // The year before from the same files; the reach file describes one
        // day, so the coverage indicators have no value that year.
        let before = inputs.facts(&args, &files_of, args.year - 1)?;
        report::add_previous(&mut rows, &defs, &IndicatorCube::build(&defs, &before));
    }
    if compare.regions {
        // The files' cube holds every region: the scope only chose the rows.
        report::add_regions(&mut rows, &defs, &cube);
    }
    let targets = Targets::shipped();
    spinner.finish_and_clear();
    write_file(&args.out, |w| {
        if xlsx {
            report::write_xlsx(&defs, &rows, &names, &levels, &targets, compare, w)?;
        } else {
            report::write_csv(&defs, &rows, &names, &targets, compare, w)?;
        }
        Ok(())
    })?;
    if !global.quiet {
        eprintln!("{} rows of {} indicators written to {}", rows.len(), defs.indicators.len(), args.out.display());
    }
    Ok(())
}
