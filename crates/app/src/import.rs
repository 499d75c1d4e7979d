//! Importing a file of one kind into the store (docs/files.md, "Import"): every
//! row and every reference checked, the whole file in one transaction that commits
//! only once the file has been read and found good, and every run recorded with
//! its report, refused ones included, so that the imports page shows what was
//! tried and why it failed.
//!
//! A CSV or XLSX file is read on a thread of its own while the store writes the
//! rows read so far. References are checked by the store's foreign keys as the
//! rows go in; when one is missing, the file is read again to list every such row.

use crate::limits::Plausible;
use domain::{RegionCode, ResidentId};
use ingest::{Feed, IngestError, RefTarget, References, Row, RowError};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::PathBuf;
use store::{ImportCounts, ImportFeed, ImportRunRow, ImportStatus, Store, StoreError, StoredRecord};

/// How many rows the reader hands to the store at a time: enough that preparing
/// the chunk's statements costs little, few enough that writing starts early.
pub const CHUNK_ROWS: usize = 64 * 1024;

/// Why a file was not imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportRefused {
    /// Rows are bad, or name what the store does not hold: every one is listed.
    #[error("{file}: refused, {} bad row{}; nothing of the file was imported into {kind}", .errors.len(), if .errors.len() == 1 { "" } else { "s" })]
    Rows { file: String, kind: &'static str, errors: Vec<RowError> },
    /// The file cannot be read at all.
    #[error("cannot import {kind} from {file}: {source}")]
    Unreadable { file: String, kind: &'static str, source: IngestError },
    /// The store failed or refused the rows.
    #[error("importing {kind} from {file}: {source}")]
    Store { file: String, kind: &'static str, source: StoreError },
    /// The work's rules refused a row (a file of contracts or visits).
    #[error("{file}: refused, {reason}; nothing of the file was imported into {kind}")]
    Work { file: String, kind: &'static str, reason: crate::AppError },
}

/// Where the rows come from.
pub enum Input<R> {
    /// Read already (the division table, a thresholds TOML file).
    Rows(Result<Vec<Row<R>>, IngestError>),
    /// A CSV or XLSX file, read while its rows are written, `chunk` rows at a time.
    File { path: PathBuf, chunk: usize },
}

/// Imports `input` (named `file` in reports) into the store and records the run,
/// by `actor`. `progress` is told the bytes read and the file's size.
pub async fn import<R: StoredRecord + References + Plausible + 'static>(
    store: &Store,
    file: &str,
    input: Input<R>,
    actor: &str,
    progress: impl FnMut(u64, u64) + Send + 'static,
) -> Result<ImportCounts, ImportRefused> {
    let (rows, result) = match input {
        Input::Rows(read) => store_rows::<R>(store, file, read).await,
        Input::File { path, chunk } => stream_rows::<R>(store, file, path, chunk, progress).await,
    };
    let report = match &result {
        Ok(_) => String::new(),
        Err(ImportRefused::Rows { errors, .. }) => errors.iter().map(|e| format!("{e}\n")).collect(),
        Err(ImportRefused::Unreadable { source, .. }) => format!("{source}\n"),
        Err(ImportRefused::Store { source, .. }) => format!("{file}: {source}\n"),
        Err(e @ ImportRefused::Work { .. }) => format!("{e}\n"),
    };
    let run = ImportRunRow {
        id: 0,
        kind: R::KIND.to_string(),
        file_name: file.to_string(),
        rows,
        status: if result.is_ok() { ImportStatus::Accepted } else { ImportStatus::Refused },
        errors: report,
        actor: actor.to_string(),
        at: chrono::Utc::now(),
        // The imports of files are the command line's, for the whole country.
        scope: String::new(),
    };
    let recorded = store.record_import_run(&run).await;
    let counts = result?;
    recorded.map_err(|source| ImportRefused::Store { file: file.to_string(), kind: R::KIND, source })?;
    Ok(counts)
}

fn refused_rows<R: StoredRecord>(file: &str, errors: Vec<RowError>) -> ImportRefused {
    ImportRefused::Rows { file: file.to_string(), kind: R::KIND, errors }
}

fn store_failed<R: StoredRecord>(file: &str, source: StoreError) -> ImportRefused {
    ImportRefused::Store { file: file.to_string(), kind: R::KIND, source }
}

/// The refusal of a file that could not be read, or held bad rows.
fn unreadable<R: StoredRecord>(file: &str, e: IngestError) -> ImportRefused {
    match e {
        IngestError::Rows { errors, .. } => refused_rows::<R>(file, errors),
        source => ImportRefused::Unreadable { file: file.to_string(), kind: R::KIND, source },
    }
}

async fn store_rows<R: StoredRecord + References + Plausible>(
    store: &Store,
    file: &str,
    read: Result<Vec<Row<R>>, IngestError>,
) -> (u64, Result<ImportCounts, ImportRefused>) {
    let rows = match read {
        Ok(rows) => rows,
        Err(e) => return (0, Err(unreadable::<R>(file, e))),
    };
    let n = rows.len() as u64;
    match check_references(store, file, &rows).await {
        Ok(errors) if !errors.is_empty() => return (n, Err(refused_rows::<R>(file, errors))),
        Ok(_) => {}
        Err(e) => return (n, Err(store_failed::<R>(file, e))),
    }
    let limits = match store.amount_limits().await {
        Ok(l) => l,
        Err(e) => return (n, Err(store_failed::<R>(file, e))),
    };
    let errors: Vec<RowError> = rows.iter().filter_map(|r| implausible(file, &limits, r)).collect();
    if !errors.is_empty() {
        return (n, Err(refused_rows::<R>(file, errors)));
    }
    let records: Vec<R> = rows.into_iter().map(|r| r.record).collect();
    (n, store.import::<R>(&records).await.map_err(|e| store_failed::<R>(file, e)))
}

async fn stream_rows<R: StoredRecord + References + Plausible + 'static>(
    store: &Store,
    file: &str,
    path: PathBuf,
    chunk: usize,
    mut progress: impl FnMut(u64, u64) + Send + 'static,
) -> (u64, Result<ImportCounts, ImportRefused>) {
    let limits = match store.amount_limits().await {
        Ok(l) => l,
        Err(e) => return (0, Err(store_failed::<R>(file, e))),
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<ImportFeed<R>>(4);
    let chunk = chunk.max(1);
    let reader = {
        let path = path.clone();
        let file = file.to_string();
        std::thread::spawn(move || {
            // Rows above their plausibility limit: once there is one, nothing more
            // is sent and the store's transaction ends without committing.
            let mut implausible_rows: Vec<RowError> = Vec::new();
            // A send fails only when the store stopped listening (it failed); the
            // file is still read to its end, for its own errors.
            let mut send = |feed: Feed<R>| {
                let msg = match feed {
                    Feed::Rows(rows) => {
                        implausible_rows.extend(rows.iter().filter_map(|r| implausible(&file, &limits, r)));
                        ImportFeed::Rows(rows.into_iter().map(|r| r.record).collect())
                    }
                    Feed::Restart => ImportFeed::Restart,
                };
                if implausible_rows.is_empty() {
                    let _ = tx.blocking_send(msg);
                }
            };
            let read = ingest::read_file_streaming::<R>(&path, &mut progress, chunk, &mut send);
            if read.is_ok() && implausible_rows.is_empty() {
                let _ = tx.blocking_send(ImportFeed::Done);
            }
            (read, implausible_rows)
        })
    };
    let stored = store.import_stream::<R>(&mut rx).await;
    drop(rx);
    let (read, implausible_rows) = tokio::task::block_in_place(|| reader.join()).unwrap_or_else(|_| {
        (Err(IngestError::Format { file: file.to_string(), reason: "the reader stopped unexpectedly".into() }), vec![])
    });
    let n = match read {
        Ok(n) => n,
        Err(e) => return (0, Err(unreadable::<R>(file, e))),
    };
    if !implausible_rows.is_empty() {
        return (n, Err(refused_rows::<R>(file, implausible_rows)));
    }
    match stored {
        Ok(counts) => (n, Ok(counts)),
        Err(e) => {
            if e.is_constraint() {
                // Every row whose reference is missing, with its line.
                if let Ok(rows) = ingest::read_file::<R>(&path, &mut |_, _| {}) {
                    match check_references(store, file, &rows).await {
                        Ok(errors) if !errors.is_empty() => return (n, Err(refused_rows::<R>(file, errors))),
                        Ok(_) => {}
                        Err(e) => return (n, Err(store_failed::<R>(file, e))),
                    }
                }
            }
            (n, Err(store_failed::<R>(file, e)))
        }
    }
}

/// The error of a row above its plausibility limit.
fn implausible<R: Plausible>(file: &str, limits: &domain::AmountLimits, r: &Row<R>) -> Option<RowError> {
    r.record.implausible(limits).map(|(column, reason)| RowError {
        file: file.to_string(),
        line: r.line,
        column: column.to_string(),
        reason,
    })
}

/// The rows whose references the store does not hold.
async fn check_references<R: References>(
    store: &Store,
    file: &str,
    rows: &[Row<R>],
) -> Result<Vec<RowError>, StoreError> {
    let wanted = ingest::referenced_keys(rows);
    let mut known: BTreeMap<RefTarget, HashSet<String>> = BTreeMap::new();
    for (target, keys) in &wanted {
        known.insert(*target, existing(store, *target, keys).await?);
    }
    Ok(ingest::check_references(file, rows, &|target, key| known.get(&target).is_some_and(|k| k.contains(key))))
}

/// Which of the keys the store holds, as the same text keys.
async fn existing(store: &Store, target: RefTarget, keys: &BTreeSet<String>) -> Result<HashSet<String>, StoreError> {
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

/// Imports a file of the daily work, family-doctor contracts or visits
/// (docs/files.md): every row read and checked, then all of them written in one
/// transaction by the same use case as the web form (`App::sign_contracts`,
/// `App::record_visits`), so a row refused by its rules (a person outside the
/// store, a practitioner unknown) refuses the file, naming its line. The run is
/// recorded like every import.
pub async fn import_work<R: domain::Record + WorkRecord>(
    app: &crate::App,
    file: &str,
    read: Result<Vec<Row<R>>, IngestError>,
    actor: &str,
    today: chrono::NaiveDate,
) -> Result<usize, ImportRefused> {
    let (rows, result) = match read {
        Err(IngestError::Rows { errors, .. }) => {
            (0, Err(ImportRefused::Rows { file: file.to_string(), kind: R::KIND, errors }))
        }
        Err(source) => (0, Err(ImportRefused::Unreadable { file: file.to_string(), kind: R::KIND, source })),
        Ok(rows) => {
            let n = rows.len() as u64;
            let labelled: Vec<(String, R)> =
                rows.into_iter().map(|r| (format!("{file}:{}", r.line), r.record)).collect();
            let written = R::write(app, labelled, actor, today).await;
            (n, written.map_err(|reason| ImportRefused::Work { file: file.to_string(), kind: R::KIND, reason }))
        }
    };
    record_work_run(app, R::KIND, file, rows, result, actor).await
}

/// A claim items file read by `ingest::read_claim_items`, written by
/// [`crate::App::import_item_lines`] and recorded as [`import_work`] records a
/// file of the daily work.
pub async fn import_claim_items(
    app: &crate::App,
    file: &str,
    read: Result<domain::item_lines::ItemLines, IngestError>,
    actor: &str,
) -> Result<usize, ImportRefused> {
    use domain::Record;
    let kind = domain::ClaimItem::KIND;
    let (rows, result) = match read {
        Err(IngestError::Rows { errors, .. }) => (0, Err(ImportRefused::Rows { file: file.to_string(), kind, errors })),
        Err(source) => (0, Err(ImportRefused::Unreadable { file: file.to_string(), kind, source })),
        Ok(lines) => {
            let written = app.import_item_lines(&crate::Scope::all(), &lines, actor).await;
            let refused = |reason| ImportRefused::Work { file: file.to_string(), kind, reason };
            (lines.len() as u64, written.map_err(refused))
        }
    };
    record_work_run(app, kind, file, rows, result, actor).await
}

/// Records an import of the daily work (accepted or refused) and returns its outcome.
async fn record_work_run(
    app: &crate::App,
    kind: &'static str,
    file: &str,
    rows: u64,
    result: Result<usize, ImportRefused>,
    actor: &str,
) -> Result<usize, ImportRefused> {
    let report = match &result {
        Ok(_) => String::new(),
        Err(ImportRefused::Rows { errors, .. }) => errors.iter().map(|e| format!("{e}\n")).collect(),
        Err(e) => format!("{e}\n"),
    };
    let run = ImportRunRow {
        id: 0,
        kind: kind.to_string(),
        file_name: file.to_string(),
        rows,
        status: if result.is_ok() { ImportStatus::Accepted } else { ImportStatus::Refused },
        errors: report,
        actor: actor.to_string(),
        at: chrono::Utc::now(),
        // The imports of files are the command line's, for the whole country.
        scope: String::new(),
    };
    let recorded = app.store().record_import_run(&run).await;
    let n = result?;
    recorded.map_err(|source| ImportRefused::Store { file: file.to_string(), kind, source })?;
    Ok(n)
}

/// A record of the daily work that a file can hold, written by its use case.
pub trait WorkRecord: Sized {
    fn write(
        app: &crate::App,
        rows: Vec<(String, Self)>,
        actor: &str,
        today: chrono::NaiveDate,
    ) -> impl std::future::Future<Output = crate::AppResult<usize>> + Send;
}

impl WorkRecord for domain::work::DoctorContract {
    async fn write(
        app: &crate::App,
        rows: Vec<(String, Self)>,
        actor: &str,
        _today: chrono::NaiveDate,
    ) -> crate::AppResult<usize> {
        Ok(app.sign_contracts(&crate::Scope::all(), &rows, actor).await?.len())
    }
}

impl WorkRecord for domain::work::Visit {
    async fn write(
        app: &crate::App,
        rows: Vec<(String, Self)>,
        actor: &str,
        today: chrono::NaiveDate,
    ) -> crate::AppResult<usize> {
        let rows: Vec<_> = rows.into_iter().map(|(l, v)| (l, v, None)).collect();
        Ok(app.record_visits(&crate::Scope::all(), &rows, actor, today).await?.len())
    }
}
