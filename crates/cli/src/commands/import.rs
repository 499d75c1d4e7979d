//! `safetynet import KIND FILE`: a file of one kind (CSV in UTF-8 or GB18030, or
//! XLSX; the division table directory for regions; TOML for thresholds) into the
//! store by the application's import (`app::import`): every row and every
//! reference checked, one transaction that commits only once the whole file has
//! been read and found good. This module owns the arguments, the progress bar and
//! what is printed.
//!
//! A file with any bad row is refused whole: every bad row is listed (the first
//! `--max-errors` printed, all counted), nothing of the file is written, and what
//! the store held before is untouched. Importing the same file again changes nothing
//! and says so (inserted / updated / unchanged).

use crate::Global;
use anyhow::Context;
use app::import::{ImportRefused, Input, CHUNK_ROWS};
use domain::{Claim, Facility, Household, Person, Practitioner, Region, Threshold};
use ingest::{References, Row};
use std::path::PathBuf;
use store::{Store, StoredRecord};

/// The kinds of record a file can hold.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Regions,
    Households,
    Persons,
    Facilities,
    Practitioners,
    Claims,
    Thresholds,
    /// Family-doctor contracts: person_id, practitioner_id, signed, ends.
    Contracts,
    /// Household visits and follow-ups: household_id, kind, date, visitors,
    /// and optionally person_id, findings, next_date.
    Visits,
    /// Basic medical insurance enrolments: person_id, year, category
    /// (full, partial, none), enrolled_on (docs/desk.md).
    Enrolments,
    /// The catalogue of drugs and services by province and year: province,
    /// year, code, name, category (a, b, c or 甲, 乙, 丙), self_pay_share
    /// (docs/catalogue.md).
    Catalogue,
    /// The items of claims already imported, not yet settled: claim_id,
    /// item_code, quantity, unit_price, amount, and facility_id where the claim
    /// ID alone is ambiguous (docs/catalogue.md).
    #[value(name = "claim_items", alias = "claim-items")]
    ClaimItems,
    /// Practitioners' postings: practitioner_id, facility_id, role (employer
    /// or posting), start, end (docs/coverage.md, "History").
    Postings,
    /// Practitioners' qualifications with their days: practitioner_id,
    /// qualification, obtained, lapses.
    Qualifications,
    /// Visits made against kept roving and dispatch plans: plan_id,
    /// village_code, date, and optionally practitioner_id, note
    /// (docs/plans.md). Not household visits, which are `visits`.
    #[value(name = "plan-visits", alias = "plan_visits")]
    PlanVisits,
    /// Pairings of hospitals above the county with county hospitals (对口帮扶)
    /// and the staff they send: helping_id, county_hospital_id, start, end, and
    /// optionally staff_practitioner_id, staff_name, staff_role, staff_from,
    /// staff_to (docs/files.md).
    Pairings,
    /// Telemedicine links of county hospitals to township centres of their
    /// county: county_hospital_id, township_id, kind, start, end.
    Telemedicine,
    /// A cluster's settlements of an exported year: a directory of Parquet
    /// (docs/parquet.md).
    Settlements,
    /// A cluster's alerts of an exported year: a directory of Parquet.
    Alerts,
    /// A cluster's kept indicator facts of an exported year: a directory of Parquet.
    IndicatorFacts,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// What the file holds.
    #[arg(value_enum)]
    pub kind: Kind,
    /// The file: .csv (UTF-8 or GB18030) or .xlsx; for regions also the directory
    /// of the national division table (provinces.csv, cities.csv, areas.csv,
    /// streets.csv); for thresholds also .toml ([[threshold]] tables).
    pub file: PathBuf,
    /// How many bad rows to print when a file is refused (all are counted).
    #[arg(long, default_value_t = 50)]
    pub max_errors: usize,
    /// How many rows the reader hands to the store at a time (tests use small
    /// chunks to refuse a file after some were written).
    #[arg(long, default_value_t = CHUNK_ROWS, hide = true)]
    pub chunk_rows: usize,
    /// alerts: the reference day of the patient ledger's treatment status, as for
    /// `monitor` (default: the end of the year, or today when that is earlier).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<chrono::NaiveDate>,
    /// postings, qualifications, facilities: once the file is in, compute the
    /// network alerts up to this many years ahead (0 to 5) at the places the
    /// file touches (the villages and centres where its practitioners may
    /// work, or where its facilities stand, before and after) and keep them,
    /// raising and resolving network cases (docs/work.md, "Network cases"),
    /// in a unit of work of its own. The alerts elsewhere are left as they
    /// are (`safetynet network-alerts --raise` recomputes the whole store).
    #[arg(long, value_name = "YEARS")]
    pub raise_network_alerts: Option<i32>,
}

/// The practitioners and facilities a file of the network's history names
/// (empty when it cannot be read: the import reports that).
fn named_in(args: &Args) -> (Vec<String>, Vec<String>) {
    let path = args.file.as_path();
    let ids = |mut ids: Vec<String>| {
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    match args.kind {
        Kind::Postings => match ingest::read_file::<domain::Posting>(path, &mut |_, _| {}) {
            Ok(rows) => (ids(rows.into_iter().map(|r| r.record.practitioner_id).collect()), vec![]),
            Err(_) => (vec![], vec![]),
        },
        Kind::Qualifications => match ingest::read_file::<domain::QualificationHeld>(path, &mut |_, _| {}) {
            Ok(rows) => (ids(rows.into_iter().map(|r| r.record.practitioner_id).collect()), vec![]),
            Err(_) => (vec![], vec![]),
        },
        Kind::Facilities => match ingest::read_file::<Facility>(path, &mut |_, _| {}) {
            Ok(rows) => (vec![], ids(rows.into_iter().map(|r| r.record.facility_id).collect())),
            Err(_) => (vec![], vec![]),
        },
        _ => (vec![], vec![]),
    }
}

/// The places inside the store whose network alerts these practitioners and
/// facilities may change, as the store stands now.
fn places_now(
    global: &Global,
    named: &(Vec<String>, Vec<String>),
) -> anyhow::Result<std::collections::BTreeSet<domain::RegionCode>> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    rt.block_on(async {
        let app = app::App::open(&global.db).await?;
        let r = app.network_places(&app::Scope::all(), &named.0, &named.1).await;
        app.close().await;
        anyhow::Ok(r?)
    })
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let path = args.file.as_path();
    let is_toml = path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    if matches!(args.kind, Kind::Settlements | Kind::Alerts | Kind::IndicatorFacts) {
        return load_results(&args, global);
    }
    if args.as_of.is_some() {
        anyhow::bail!("--as-of is for alerts");
    }
    if let Some(years) = args.raise_network_alerts {
        if !matches!(args.kind, Kind::Postings | Kind::Qualifications | Kind::Facilities) {
            anyhow::bail!("--raise-network-alerts is for postings, qualifications and facilities");
        }
        if !(0..=app::network_alerts::MAX_YEARS).contains(&years) {
            anyhow::bail!("--raise-network-alerts: {years} is not 0 to {}", app::network_alerts::MAX_YEARS);
        }
    }
    // The places the file touches, as the store stood before it (a facility
    // may move away from a village) and after it.
    let named = args.raise_network_alerts.map(|_| named_in(&args));
    let before = match &named {
        Some(n) if !n.1.is_empty() => places_now(global, n)?,
        _ => Default::default(),
    };
    import_kind(&args, global, path, is_toml)?;
    if let (Some(years), Some(named)) = (args.raise_network_alerts, named) {
        let mut places = before;
        places.extend(places_now(global, &named)?);
        raise_network_alerts(years, &places, global)?;
    }
    Ok(())
}

/// The network alerts of the places an import touched computed and kept
/// after it (the incremental recompute, docs/coverage.md); the summary printed.
fn raise_network_alerts(
    years: i32,
    places: &std::collections::BTreeSet<domain::RegionCode>,
    global: &Global,
) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let today = app::history::today();
    let r = rt.block_on(async {
        let app = app::App::open(&global.db).await?;
        let settings = coverage::Settings::default();
        let r = app.raise_network_alerts_at(&app::Scope::all(), places, today, years, &settings, &actor()).await;
        app.close().await;
        anyhow::Ok(r?)
    })?;
    println!(
        "network alerts at {} places up to {}: {} found; {} raised with their cases, {} kept already, {} resolved",
        places.len(),
        r.until,
        r.found,
        r.kept.raised.len(),
        r.kept.seen,
        r.kept.resolved.len()
    );
    Ok(())
}

fn import_kind(args: &Args, global: &Global, path: &std::path::Path, is_toml: bool) -> anyhow::Result<()> {
    match args.kind {
        Kind::Settlements | Kind::Alerts | Kind::IndicatorFacts => unreachable!("loaded above"),
        Kind::Regions if path.is_dir() => {
            let rows = ingest::read_divisions(path)
                .map(|regions| regions.into_iter().map(|record| Row { line: 0, record }).collect());
            import::<Region>(args, global, Input::Rows(rows))
        }
        Kind::Thresholds if is_toml => {
            import::<Threshold>(args, global, Input::Rows(ingest::read_thresholds_toml(path)))
        }
        _ if path.is_dir() => anyhow::bail!(
            "{} is a directory; only regions are imported from a directory (the national division table)",
            path.display()
        ),
        Kind::Regions => {
            import::<Region>(args, global, Input::File { path: path.to_path_buf(), chunk: args.chunk_rows })
        }
        Kind::Households => {
            import::<Household>(args, global, Input::File { path: path.to_path_buf(), chunk: args.chunk_rows })
        }
        Kind::Persons => {
            import::<Person>(args, global, Input::File { path: path.to_path_buf(), chunk: args.chunk_rows })
        }
        Kind::Facilities => {
            import::<Facility>(args, global, Input::File { path: path.to_path_buf(), chunk: args.chunk_rows })
        }
        Kind::Practitioners => {
            import::<Practitioner>(args, global, Input::File { path: path.to_path_buf(), chunk: args.chunk_rows })
        }
        Kind::Claims => import::<Claim>(args, global, Input::File { path: path.to_path_buf(), chunk: args.chunk_rows }),
        Kind::Thresholds => {
            import::<Threshold>(args, global, Input::File { path: path.to_path_buf(), chunk: args.chunk_rows })
        }
        Kind::Contracts => import_work::<domain::work::DoctorContract>(args, global),
        Kind::Visits => import_work::<domain::work::Visit>(args, global),
        Kind::Enrolments => import_work::<domain::Enrolment>(args, global),
        Kind::Catalogue => import_work::<domain::CatalogueItem>(args, global),
        Kind::ClaimItems => import_claim_items(args, global),
        Kind::Postings => import_work::<domain::Posting>(args, global),
        Kind::Qualifications => import_work::<domain::QualificationHeld>(args, global),
        Kind::PlanVisits => import_work::<domain::PlanVisit>(args, global),
        Kind::Pairings => import_work::<domain::PairingRow>(args, global),
        Kind::Telemedicine => import_work::<domain::TelemedicineLink>(args, global),
    }
}

/// A cluster's results (a directory of Parquet with the export's manifest)
/// loaded into the store by `app::cluster`, all or nothing, audited.
fn load_results(args: &Args, global: &Global) -> anyhow::Result<()> {
    use app::cluster::LoadRefused;
    let dir = args.file.as_path();
    let name = dir.display().to_string();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let pb = crate::progress::spinner(&format!("importing {name}"), global.quiet);
    let who = actor();
    let result = rt.block_on(async {
        let store = Store::open(&global.db).await?;
        store.migrate().await?;
        let (kind, done): (&str, Result<String, LoadRefused>) = match args.kind {
            Kind::Settlements => {
                let r = app::cluster::load_settlements(&store, dir, &who).await;
                let r = r.map(|c| {
                    format!("{} settlements of {} persons, {} accumulator rows", c.settlements, c.persons, c.accumulators)
                });
                ("settlements", r)
            }
            Kind::Alerts => {
                let as_of = match args.as_of {
                    Some(d) => d,
                    None => {
                        let year = app::export::read_manifest(dir).map(|m| m.year).unwrap_or(0);
                        let end = chrono::NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or_default();
                        end.min(domain::time::china_today())
                    }
                };
                let r = app::cluster::load_alerts(&store, dir, as_of, &who).await;
                let r = r.map(|run| {
                    let c = &run.alerts;
                    format!(
                        "{} alerts: {} raised, {} updated, {} unchanged, {} closed and kept, {} no longer raised; \
                         cases: {} opened, {} alerts joined; patient ledger as of {as_of}: {} new, {} changed, {} removed",
                        run.found,
                        c.raised,
                        c.updated,
                        c.unchanged,
                        c.closed_kept,
                        c.no_longer_raised,
                        run.cases_opened,
                        run.alerts_joined,
                        run.ledger.inserted,
                        run.ledger.updated,
                        run.ledger.removed
                    )
                });
                ("alerts", r)
            }
            _ => {
                let r = app::cluster::load_indicator_facts(&store, dir, &who).await;
                let r = r.map(|f| {
                    format!(
                        "{} villages and {} persons of facts, {} stale marks cleared{}",
                        f.villages,
                        f.persons,
                        f.cleared,
                        if f.complete { "" } else { "; the year is built in full at the next report" }
                    )
                });
                ("indicator-facts", r)
            }
        };
        let outcome = match &done {
            Ok(s) => s.clone(),
            Err(e) => format!("refused: {e}"),
        };
        audit_import(&store, kind, &name, &outcome).await?;
        store.close().await;
        Ok::<_, anyhow::Error>((kind, done))
    });
    pb.finish_and_clear();
    let (kind, done) = result?;
    match done {
        Ok(summary) => {
            if !global.quiet {
                println!("{kind} from {name}: {summary}");
            }
            Ok(())
        }
        Err(e) => {
            if let LoadRefused::Rows { errors, .. } = &e {
                print_bad_rows(errors, args.max_errors);
            }
            Err(e.into())
        }
    }
}

/// A claim items file, read whole by its own reader (a plain file in place)
/// and written by its use case.
fn import_claim_items(args: &Args, global: &Global) -> anyhow::Result<()> {
    let file = args.file.display().to_string();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let read = ingest::read_claim_items(&args.file);
    let kind = <domain::ClaimItem as domain::Record>::KIND;
    let result = rt.block_on(async {
        let app = app::App::open(&global.db).await?;
        let done = app::import::import_claim_items(&app, &file, read, &actor()).await;
        let outcome = match &done {
            Ok(n) => format!("{n} recorded"),
            Err(e) => format!("refused: {e}"),
        };
        audit_import(app.store(), kind, &file, &outcome).await?;
        app.close().await;
        Ok::<_, anyhow::Error>(done)
    })?;
    match result {
        Ok(n) => {
            if !global.quiet {
                println!("{kind} from {file}: {n} recorded");
            }
            Ok(())
        }
        Err(e) => {
            if let ImportRefused::Rows { errors, .. } = &e {
                for row in errors.iter().take(args.max_errors) {
                    eprintln!("{row}");
                }
            }
            Err(e.into())
        }
    }
}

/// A file of the daily work, read whole and written by its use case.
fn import_work<R: domain::Record + app::import::WorkRecord>(args: &Args, global: &Global) -> anyhow::Result<()> {
    let file = args.file.display().to_string();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let read = ingest::read_file::<R>(&args.file, &mut |_, _| {});
    let today = domain::time::china_today();
    let result = rt.block_on(async {
        let app = app::App::open(&global.db).await?;
        let done = app::import::import_work::<R>(&app, &file, read, &actor(), today).await;
        let outcome = match &done {
            Ok(n) => format!("{n} recorded"),
            Err(e) => format!("refused: {e}"),
        };
        audit_import(app.store(), R::KIND, &file, &outcome).await?;
        app.close().await;
        Ok::<_, anyhow::Error>(done)
    })?;
    match result {
        Ok(n) => {
            if !global.quiet {
                println!("{} from {file}: {n} recorded", R::KIND);
            }
            Ok(())
        }
        Err(e) => {
            if let ImportRefused::Rows { errors, .. } = &e {
                for row in errors.iter().take(args.max_errors) {
                    eprintln!("{row}");
                }
            }
            Err(e.into())
        }
    }
}

fn import<R: StoredRecord + References + app::limits::Plausible + 'static>(
    args: &Args,
    global: &Global,
    input: Input<R>,
) -> anyhow::Result<()> {
    let file = args.file.display().to_string();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let total = std::fs::metadata(&args.file).map(|m| m.len()).unwrap_or(0);
    let pb = crate::progress::bar(total, "importing", global.quiet);
    let progress = {
        let pb = pb.clone();
        move |done: u64, total: u64| {
            pb.set_length(total);
            pb.set_position(done);
        }
    };
    let result = rt.block_on(async {
        let store = Store::open(&global.db).await?;
        store.migrate().await?;
        let done = app::import::import::<R>(&store, &file, input, &actor(), progress).await;
        let outcome = match &done {
            Ok(c) => format!("{} inserted, {} updated, {} unchanged", c.inserted, c.updated, c.unchanged),
            Err(e) => format!("refused: {e}"),
        };
        audit_import(&store, R::KIND, &file, &outcome).await?;
        store.close().await;
        Ok::<_, anyhow::Error>(done)
    })?;
    pb.finish_and_clear();
    match result {
        Ok(c) => {
            if !global.quiet {
                println!(
                    "{} from {file}: {} inserted, {} updated, {} unchanged",
                    R::KIND,
                    c.inserted,
                    c.updated,
                    c.unchanged
                );
            }
            Ok(())
        }
        Err(e) => {
            if let ImportRefused::Rows { errors, .. } = &e {
                // The first bad rows on standard error; all of them are in the run's report.
                print_bad_rows(errors, args.max_errors);
            }
            Err(e.into())
        }
    }
}

/// Who ran the import, for the record: the login name when the system tells it.
/// Who imports: the operating-system account (see `crate::identity`).
fn actor() -> String {
    crate::identity::os_identity()
}

/// The audit row of an import, accepted or refused.
async fn audit_import(store: &Store, kind: &str, file: &str, outcome: &str) -> anyhow::Result<()> {
    crate::identity::audit(store, "import", kind, &format!("{file}: {outcome}"), None).await
}

/// The first `max` bad rows of a refused file on standard error, and how many
/// more there are.
fn print_bad_rows(errors: &[impl std::fmt::Display], max: usize) {
    for row in errors.iter().take(max) {
        eprintln!("{row}");
    }
    if errors.len() > max {
        eprintln!("... and {} more bad rows (--max-errors {max} printed)", errors.len() - max);
    }
}
