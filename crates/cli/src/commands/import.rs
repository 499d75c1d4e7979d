//! `safetynet import KIND FILE`: reads a file of one kind (CSV in UTF-8 or GB18030,
//! or XLSX; the division table directory for regions; TOML for thresholds), checks
//! every row and every reference, and stores it in one transaction. A CSV or XLSX
//! file is read on its own thread while the rows read so far are written, and the
//! transaction commits only once the whole file has been read and found good.
//!
//! A file with any bad row is refused whole: every bad row is listed (the first
//! `--max-errors` printed, all counted), nothing of the file is written, and what
//! the store held before is untouched. Importing the same file again changes nothing
//! and says so (inserted / updated / unchanged).

use crate::Global;
use anyhow::Context;
use domain::{Claim, Facility, Household, Person, Practitioner, Region, RegionCode, ResidentId, Threshold};
use ingest::{Feed, IngestError, RefTarget, References, Row, RowError};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::PathBuf;
use store::{ImportCounts, ImportFeed, ImportRunRow, ImportStatus, Store, StoredRecord};

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
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let path = args.file.as_path();
    let is_toml = path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    match args.kind {
        Kind::Regions if path.is_dir() => {
            let rows = ingest::read_divisions(path)
                .map(|regions| regions.into_iter().map(|record| Row { line: 0, record }).collect());
            import::<Region>(&args, global, Input::Rows(rows))
        }
        Kind::Thresholds if is_toml => {
            import::<Threshold>(&args, global, Input::Rows(ingest::read_thresholds_toml(path)))
        }
        _ if path.is_dir() => anyhow::bail!(
            "{} is a directory; only regions are imported from a directory (the national division table)",
            path.display()
        ),
        Kind::Regions => import::<Region>(&args, global, Input::File(path.to_path_buf())),
        Kind::Households => import::<Household>(&args, global, Input::File(path.to_path_buf())),
        Kind::Persons => import::<Person>(&args, global, Input::File(path.to_path_buf())),
        Kind::Facilities => import::<Facility>(&args, global, Input::File(path.to_path_buf())),
        Kind::Practitioners => import::<Practitioner>(&args, global, Input::File(path.to_path_buf())),
        Kind::Claims => import::<Claim>(&args, global, Input::File(path.to_path_buf())),
        Kind::Thresholds => import::<Threshold>(&args, global, Input::File(path.to_path_buf())),
    }
}

/// Where the rows come from.
enum Input<R> {
    /// Read already (the division table, a thresholds TOML file).
    Rows(Result<Vec<Row<R>>, IngestError>),
    /// A CSV or XLSX file, read while its rows are written.
    File(PathBuf),
}

fn import<R: StoredRecord + References + 'static>(args: &Args, global: &Global, input: Input<R>) -> anyhow::Result<()> {
    let file = args.file.display().to_string();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let counts = rt.block_on(async {
        let store = Store::open(&global.db).await?;
        store.migrate().await?;
        let outcome = match input {
            Input::Rows(read) => store_rows::<R>(&store, args, &file, read).await,
            Input::File(path) => stream_rows::<R>(&store, args, global, &file, path).await,
        };
        // Every run is recorded, refused ones with their report, so that the imports
        // page shows what was tried and why it failed.
        let run = ImportRunRow {
            id: 0,
            kind: R::KIND.to_string(),
            file_name: file.clone(),
            rows: outcome.rows,
            status: if outcome.result.is_ok() { ImportStatus::Accepted } else { ImportStatus::Refused },
            errors: outcome.report,
            actor: actor(),
            at: chrono::Utc::now(),
        };
        let recorded = store.record_import_run(&run).await;
        store.close().await;
        let counts = outcome.result?;
        recorded.context("recording the import run")?;
        Ok::<_, anyhow::Error>(counts)
    })?;
    if !global.quiet {
        println!("{}", summary(R::KIND, &file, counts));
    }
    Ok(())
}

/// What one import did: the rows read, the report of what went wrong (one line
/// each), and the counts or the refusal.
struct Outcome {
    rows: u64,
    report: String,
    result: anyhow::Result<ImportCounts>,
}

async fn store_rows<R: StoredRecord + References>(
    store: &Store,
    args: &Args,
    file: &str,
    read: Result<Vec<Row<R>>, IngestError>,
) -> Outcome {
    let report = |errors: &[RowError]| errors.iter().map(|e| format!("{e}\n")).collect::<String>();
    let rows = match read {
        Ok(rows) => rows,
        Err(e) => return unreadable(file, R::KIND, e, args.max_errors),
    };
    let n = rows.len() as u64;
    let errors = match check_references(store, file, &rows).await {
        Ok(errors) => errors,
        Err(e) => return Outcome { rows: n, report: format!("{e:#}\n"), result: Err(e) },
    };
    if !errors.is_empty() {
        return Outcome {
            rows: n,
            report: report(&errors),
            result: Err(refuse(file, R::KIND, &errors, args.max_errors)),
        };
    }
    let records: Vec<R> = rows.into_iter().map(|r| r.record).collect();
    match store.import::<R>(&records).await {
        Ok(counts) => Outcome { rows: n, report: String::new(), result: Ok(counts) },
        Err(e) => Outcome {
            rows: n,
            report: format!("{file}: {e}\n"),
            result: Err(anyhow::Error::new(e).context(format!("importing {} from {file}", R::KIND))),
        },
    }
}

/// How many rows the reader hands to the store at a time: enough that preparing
/// the chunk's statements costs little, few enough that writing starts early.
const CHUNK_ROWS: usize = 64 * 1024;

/// Reads a CSV or XLSX file on a thread of its own while the store writes the rows
/// read so far, in one transaction that commits only when the whole file was read
/// and found good. References are checked by the store's foreign keys as the rows
/// go in; when one is missing, the file is read again to list every such row.
async fn stream_rows<R: StoredRecord + References + 'static>(
    store: &Store,
    args: &Args,
    global: &Global,
    file: &str,
    path: PathBuf,
) -> Outcome {
    let report = |errors: &[RowError]| errors.iter().map(|e| format!("{e}\n")).collect::<String>();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<ImportFeed<R>>(4);
    let total = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let pb = crate::progress::bar(total, "importing", global.quiet);
    let chunk = args.chunk_rows.max(1);
    let reader = {
        let pb = pb.clone();
        let path = path.clone();
        std::thread::spawn(move || {
            let mut progress = |done: u64, total: u64| {
                pb.set_length(total);
                pb.set_position(done);
            };
            // A send fails only when the store stopped listening (it failed); the
            // file is still read to its end, for its own errors.
            let mut send = |feed: Feed<R>| {
                let msg = match feed {
                    Feed::Rows(rows) => ImportFeed::Rows(rows.into_iter().map(|r| r.record).collect()),
                    Feed::Restart => ImportFeed::Restart,
                };
                let _ = tx.blocking_send(msg);
            };
            let read = ingest::read_file_streaming::<R>(&path, &mut progress, chunk, &mut send);
            if read.is_ok() {
                let _ = tx.blocking_send(ImportFeed::Done);
            }
            read
        })
    };
    let stored = store.import_stream::<R>(&mut rx).await;
    drop(rx);
    let read = tokio::task::block_in_place(|| reader.join()).unwrap_or_else(|_| {
        Err(IngestError::Format { file: file.to_string(), reason: "the reader stopped unexpectedly".into() })
    });
    pb.finish_and_clear();
    let n = match read {
        Ok(n) => n,
        Err(e) => return unreadable(file, R::KIND, e, args.max_errors),
    };
    match stored {
        Ok(counts) => Outcome { rows: n, report: String::new(), result: Ok(counts) },
        Err(e) => {
            if e.is_constraint() {
                // Every row whose reference is missing, with its line.
                if let Ok(rows) = ingest::read_file::<R>(&path, &mut |_, _| {}) {
                    match check_references(store, file, &rows).await {
                        Ok(errors) if !errors.is_empty() => {
                            return Outcome {
                                rows: n,
                                report: report(&errors),
                                result: Err(refuse(file, R::KIND, &errors, args.max_errors)),
                            }
                        }
                        Ok(_) => {}
                        Err(e) => return Outcome { rows: n, report: format!("{e:#}\n"), result: Err(e) },
                    }
                }
            }
            Outcome {
                rows: n,
                report: format!("{file}: {e}\n"),
                result: Err(anyhow::Error::new(e).context(format!("importing {} from {file}", R::KIND))),
            }
        }
    }
}

/// The outcome of a file that could not be read, or held bad rows.
fn unreadable(file: &str, kind: &str, e: IngestError, max_errors: usize) -> Outcome {
    match e {
        IngestError::Rows { errors, .. } => Outcome {
            rows: 0,
            report: errors.iter().map(|e| format!("{e}\n")).collect(),
            result: Err(refuse(file, kind, &errors, max_errors)),
        },
        e => Outcome {
            rows: 0,
            report: format!("{e}\n"),
            result: Err(anyhow::Error::new(e).context(format!("cannot import {kind} from {file}"))),
        },
    }
}

/// Who ran the import, for the record: the login name when the system tells it.
fn actor() -> String {
    let user = std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_default();
    if user.is_empty() {
        "cli".into()
    } else {
        format!("cli:{user}")
    }
}

/// The rows whose references the store does not hold.
async fn check_references<R: References>(store: &Store, file: &str, rows: &[Row<R>]) -> anyhow::Result<Vec<RowError>> {
    let wanted = ingest::referenced_keys(rows);
    let mut known: BTreeMap<RefTarget, HashSet<String>> = BTreeMap::new();
    for (target, keys) in &wanted {
        known.insert(*target, existing(store, *target, keys).await?);
    }
    Ok(ingest::check_references(file, rows, &|target, key| known.get(&target).is_some_and(|k| k.contains(key))))
}

/// Which of the keys the store holds, as the same text keys.
async fn existing(store: &Store, target: RefTarget, keys: &BTreeSet<String>) -> anyhow::Result<HashSet<String>> {
    Ok(match target {
        RefTarget::Region | RefTarget::Village => {
            // Keys are codes the domain already checked; a village reference is a
            // village-level code by its own validation, so existence is the test.
            let codes: Vec<RegionCode> = keys.iter().filter_map(|k| RegionCode::parse(k).ok()).collect();
            store.existing_region_codes(&codes).await?.into_iter().map(|c| c.to_string()).collect()
        }
        RefTarget::Household => {
            let ids: Vec<&str> = keys.iter().map(String::as_str).collect();
            store.existing_households(&ids).await?
        }
        RefTarget::Person => {
            let ids: Vec<ResidentId> = keys.iter().filter_map(|k| ResidentId::parse(k).ok()).collect();
            store.existing_persons(&ids).await?.into_iter().map(|p| p.to_string()).collect()
        }
        RefTarget::Facility => {
            let ids: Vec<&str> = keys.iter().map(String::as_str).collect();
            store.existing_facilities(&ids).await?
        }
    })
}

/// Prints the first bad rows to standard error and builds the refusal.
fn refuse(file: &str, kind: &str, errors: &[RowError], max: usize) -> anyhow::Error {
    for e in errors.iter().take(max) {
        eprintln!("{e}");
    }
    if errors.len() > max {
        eprintln!("... and {} more bad rows (--max-errors {max} printed)", errors.len() - max);
    }
    let n = errors.len();
    anyhow::anyhow!(
        "{file}: refused, {n} bad row{}; nothing of the file was imported into {kind}",
        if n == 1 { "" } else { "s" }
    )
}

fn summary(kind: &str, file: &str, c: ImportCounts) -> String {
    format!("{kind} from {file}: {} inserted, {} updated, {} unchanged", c.inserted, c.updated, c.unchanged)
}
