//! The registry: regions, households, persons, facilities, practitioners, claims and
//! thresholds. Bulk import (all-or-nothing, upsert by key, counted), the look-ups an
//! importer validates references with, listing and export by region scope, and the
//! person page's view.
//!
//! How a bulk import stays fast: one transaction; the rows already stored under the
//! batch's keys are read in a few large `IN` queries (skipped when the table is
//! empty) and compared in memory, so an identical re-import writes nothing; new and
//! changed rows go out, on SQLite, through one prepared single-row upsert bound by
//! position and stepped per row through SQLite's own interface (`raw`), and on
//! PostgreSQL as one `INSERT ... SELECT * FROM unnest($1::T[], ...)` of an array a
//! column for the new rows and one such upsert for the changed ones (up to 100,000
//! rows a statement). Reference
//! look-ups are point queries on SQLite and large `IN` lists on PostgreSQL.

use crate::db::{now, on_pool, Page, Pool, Scope, Store};
use crate::error::{corrupt, Ctx, StoreError};
use crate::vals::{bind_val, get_val, list, pg_insert, placeholders, PgArray, Ty, Val, PG_ROWS_A_STATEMENT};
use domain::{
    Claim, Facility, Grade, Household, Person, PovertyStatus, Practitioner, Record, Region, RegionCode, RegionLevel,
    ResidentId, Threshold,
};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// What an import did: rows new to the store, rows that changed, rows already there as given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// A reference from one table to another, checked to name the offending row when a
/// foreign key refuses an import.
pub(crate) struct Ref {
    pub col: usize,
    pub table: &'static str,
    pub key: &'static str,
    pub what: &'static str,
}

/// How a record kind sits in its table.
#[doc(hidden)]
pub struct TableSpec {
    pub(crate) kind: &'static str,
    pub(crate) table: &'static str,
    /// Columns in record order; the first `keys` form the key.
    pub(crate) cols: &'static [(&'static str, Ty)],
    pub(crate) keys: usize,
    /// True for the small tables keyed by several columns (thresholds), read
    /// whole once by an import; the others' stored rows are looked up by the
    /// first column of the key (its index's first), the rest compared here.
    pub(crate) read_whole: bool,
    /// Joins from `t` (the table) to the table that holds the region code.
    pub(crate) scope_join: &'static str,
    /// The 12-digit region column to filter a scope by; `None` for thresholds,
    /// whose region is a prefix.
    pub(crate) scope_col: Option<&'static str>,
    pub(crate) refs: &'static [Ref],
}

mod sealed {
    pub trait Sealed {}
}

/// A registry record the store keeps: the kinds of `safetynet import`. Lets
/// [`Store::import`], [`Store::list`], [`Store::export`] and [`Store::count`] work
/// on any of them.
pub trait StoredRecord: Record + Send + Sync + sealed::Sealed {
    #[doc(hidden)]
    fn spec() -> &'static TableSpec;
    #[doc(hidden)]
    fn to_vals(&self) -> Vec<Val<'_>>;
    #[doc(hidden)]
    fn from_row(r: &StoredRow) -> Result<Self, StoreError>;
    #[doc(hidden)]
    fn from_vals(v: Vec<Val<'static>>) -> Result<Self, StoreError> {
        Self::from_row(&StoredRow::new(Self::spec(), v))
    }
}

/// A hashable key of a row.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    I(i64),
    T(String),
    Multi(String),
}

fn key_of(v: &[Val<'_>], keys: usize) -> Key {
    if keys == 1 {
        match &v[0] {
            Val::I(Some(i)) => return Key::I(*i),
            Val::T(Some(s)) => return Key::T(s.to_string()),
            _ => {}
        }
    }
    // NUL is in no key (text with it is refused), so no two keys join alike.
    Key::Multi(v[..keys].iter().map(Val::key_text).collect::<Vec<_>>().join("\u{0}"))
}

fn is_null(v: &Val<'_>) -> bool {
    matches!(v, Val::I(None) | Val::T(None) | Val::R(None))
}

/// [`BulkWrite::check_references`] on `pool`'s engine.
#[allow(clippy::too_many_arguments)]
async fn check_references_on<DB: BulkWrite>(
    _pool: &sqlx::Pool<DB>,
    conn: &mut DB::Connection,
    spec: &TableSpec,
    vals: &[Vec<Val<'_>>],
    base: usize,
    verified: &mut [HashSet<Key>],
    inserted: &mut crate::fresh::Inserted,
    ctx: &str,
) -> Result<(), StoreError> {
    DB::check_references(conn, spec, vals, base, verified, inserted, ctx).await
}

/// [`BulkWrite::write_rows`] on `pool`'s engine.
async fn write_rows_on<DB: BulkWrite>(
    _pool: &sqlx::Pool<DB>,
    conn: &mut DB::Connection,
    spec: &TableSpec,
    insert: &[&Vec<Val<'_>>],
    update: &[&Vec<Val<'_>>],
    max_binds: usize,
    ctx: &str,
) -> Result<(), StoreError> {
    DB::write_rows(conn, spec, insert, update, max_binds, ctx).await
}

/// The begin statement of a writing transaction on `pool`'s engine.
fn begin_sql<DB: crate::db::Dialect>(_pool: &sqlx::Pool<DB>) -> &'static str {
    DB::BEGIN_WRITE
}

/// "row N of the batch (key K): the X V is not in the store", for row `i` (from 0).
fn missing_reference(spec: &TableSpec, r: &Ref, i: usize, v: &[Val<'_>]) -> String {
    format!(
        "row {} of the batch ({} {}): {} {} is not in the store",
        i + 1,
        spec.cols[0].0,
        v[0].key_text(),
        r.what,
        v[r.col].key_text()
    )
}

/// `INSERT OR FAIL INTO ... VALUES (...), ...` for `rows` rows (SQLite).
fn insert_sql(spec: &TableSpec, rows: usize) -> String {
    let cols: Vec<&str> = spec.cols.iter().map(|c| c.0).collect();
    format!("INSERT OR FAIL INTO {} ({}) VALUES {}", spec.table, cols.join(", "), placeholders(rows, cols.len()))
}

/// `INSERT [OR FAIL] INTO ... VALUES (...), ... ON CONFLICT (key) DO UPDATE SET ...`
/// for `rows` rows.
fn upsert_sql(spec: &TableSpec, rows: usize, or_fail: bool) -> String {
    let cols: Vec<&str> = spec.cols.iter().map(|c| c.0).collect();
    format!(
        "INSERT {}INTO {} ({}) VALUES {} {}",
        if or_fail { "OR FAIL " } else { "" },
        spec.table,
        cols.join(", "),
        placeholders(rows, cols.len()),
        on_conflict(spec)
    )
}

/// `ON CONFLICT (key) DO UPDATE SET ...`: a row of a stored key replaces it.
fn on_conflict(spec: &TableSpec) -> String {
    let cols: Vec<&str> = spec.cols.iter().map(|c| c.0).collect();
    let set: Vec<String> = cols[spec.keys..].iter().map(|c| format!("{c} = excluded.{c}")).collect();
    format!("ON CONFLICT ({}) DO UPDATE SET {}", cols[..spec.keys].join(", "), set.join(", "))
}

fn select_cols(spec: &TableSpec) -> String {
    spec.cols.iter().map(|c| format!("t.{}", c.0)).collect::<Vec<_>>().join(", ")
}

fn decode_err(spec: &TableSpec, e: sqlx::Error) -> StoreError {
    crate::error::wrap(e, format!("reading {}", spec.kind))
}

/// What a streaming import receives (see [`Store::import_stream`]).
#[derive(Debug)]
pub enum ImportFeed<R> {
    /// More records, none of them sent before.
    Rows(Vec<R>),
    /// Forget the records sent so far; they come again.
    Restart,
    /// The input is complete: commit.
    Done,
}

/// Where an import's records come from.
enum Source<'a, R> {
    Slice(Option<&'a [R]>),
    Stream(&'a mut tokio::sync::mpsc::Receiver<ImportFeed<R>>),
}

enum Chunk<'a, R> {
    Borrowed(&'a [R]),
    Owned(Vec<R>),
}

impl<R> Chunk<'_, R> {
    fn as_slice(&self) -> &[R] {
        match self {
            Chunk::Borrowed(s) => s,
            Chunk::Owned(v) => v,
        }
    }
}

enum Next<'a, R> {
    Rows(Chunk<'a, R>),
    Restart,
    Done,
    /// The sender went away without saying the input was complete.
    Closed,
}

impl<'a, R> Source<'a, R> {
    async fn next(&mut self) -> Next<'a, R> {
        match self {
            Source::Slice(rows) => match rows.take() {
                Some(rows) => Next::Rows(Chunk::Borrowed(rows)),
                None => Next::Done,
            },
            Source::Stream(rx) => match rx.recv().await {
                Some(ImportFeed::Rows(rows)) => Next::Rows(Chunk::Owned(rows)),
                Some(ImportFeed::Restart) => Next::Restart,
                Some(ImportFeed::Done) => Next::Done,
                None => Next::Closed,
            },
        }
    }
}

/// How each engine writes an import's new rows (keys not in the store) and
/// changed rows, inside the import's transaction.
trait BulkWrite: crate::db::Dialect {
    /// The connection an import runs on.
    /// `shared` when the pool's connections cannot be replaced (an in-memory
    /// SQLite database lives in its one connection).
    fn import_connection(
        pool: &sqlx::Pool<Self>,
        shared: bool,
        ctx: &str,
    ) -> impl std::future::Future<Output = Result<sqlx::pool::PoolConnection<Self>, StoreError>> + Send;

    /// Refuses the chunk `vals` (rows `base + 1 ...` of the import) when one of its
    /// references names a row the store does not hold, where the engine does not
    /// check that itself on this connection. `verified` keeps the keys found;
    /// `inserted` learns the villages of those the unit of work asks for.
    fn check_references(
        tx: &mut Self::Connection,
        spec: &TableSpec,
        vals: &[Vec<Val<'_>>],
        base: usize,
        verified: &mut [HashSet<Key>],
        inserted: &mut crate::fresh::Inserted,
        ctx: &str,
    ) -> impl std::future::Future<Output = Result<(), StoreError>> + Send;

    fn write_rows(
        tx: &mut Self::Connection,
        spec: &TableSpec,
        insert: &[&Vec<Val<'_>>],
        update: &[&Vec<Val<'_>>],
        max_binds: usize,
        ctx: &str,
    ) -> impl std::future::Future<Output = Result<(), StoreError>> + Send;
}

/// SQLite: statements of many rows, prepared once and bound by position through
/// SQLite's own interface (see [`crate::raw`]).
impl BulkWrite for sqlx::Sqlite {
    /// A connection of its own, with foreign keys off, closed when the import ends
    /// (it never goes back to the pool). SQLite checks an immediate foreign key row
    /// by row and, for a statement of many rows, copies every page the statement
    /// touches to a statement journal so that it could undo just that statement;
    /// for a bulk import those copies cost more than the rows themselves. Instead
    /// the import looks each distinct referenced key up once, in the same write
    /// transaction ([`BulkWrite::check_references`]), and the store holds exactly
    /// what its foreign keys would allow. (Imports never delete nor change a key,
    /// so no reference to an imported row can break.)
    async fn import_connection(
        pool: &sqlx::Pool<Self>,
        shared: bool,
        ctx: &str,
    ) -> Result<sqlx::pool::PoolConnection<Self>, StoreError> {
        let mut conn = pool.acquire().await.ctx(ctx)?;
        if shared {
            // Closing it would lose the database: keep its foreign keys on (the
            // reference check below then only repeats SQLite's).
            return Ok(conn);
        }
        conn.close_on_drop();
        sqlx::query("PRAGMA foreign_keys = OFF").execute(&mut *conn).await.ctx(ctx)?;
        Ok(conn)
    }

    async fn check_references(
        tx: &mut Self::Connection,
        spec: &TableSpec,
        vals: &[Vec<Val<'_>>],
        base: usize,
        verified: &mut [HashSet<Key>],
        inserted: &mut crate::fresh::Inserted,
        ctx: &str,
    ) -> Result<(), StoreError> {
        if spec.refs.is_empty() || vals.is_empty() {
            return Ok(());
        }
        let mut handle = tx.lock_handle().await.ctx(ctx)?;
        crate::raw::blocking(|| {
            for (r, known) in spec.refs.iter().zip(verified.iter_mut()) {
                // Rows come grouped (a household's persons together), so a key like
                // the row before's is skipped before it is hashed.
                let mut asked = HashSet::new();
                let mut wanted: Vec<&Val<'_>> = Vec::new();
                let mut prev: Option<&Val<'_>> = None;
                for v in vals.iter().map(|v| &v[r.col]) {
                    if is_null(v) || prev == Some(v) {
                        continue;
                    }
                    prev = Some(v);
                    let k = key_of(std::slice::from_ref(v), 1);
                    if !known.contains(&k) && asked.insert(k) {
                        wanted.push(v);
                    }
                }
                // The look-up finds the referenced row's village too where the
                // unit of work needs it (see `fresh.rs`).
                let village = crate::fresh::village_lookup(r.table);
                let sql = match village {
                    Some(sql) => sql.to_string(),
                    None => format!("SELECT 1 FROM {} WHERE {} = ?1", r.table, r.key),
                };
                let hits = crate::raw::first_int_each(&mut handle, &sql, wanted.iter().copied())
                    .map_err(|e| e.into_store(ctx.to_string()))?;
                let mut absent = HashSet::new();
                for (v, hit) in wanted.iter().zip(hits) {
                    let k = key_of(std::slice::from_ref(*v), 1);
                    match hit {
                        Some(found) => {
                            if village.is_some() {
                                inserted.found(r.table, v, found);
                            }
                            known.insert(k);
                        }
                        None => {
                            absent.insert(k);
                        }
                    }
                }
                if absent.is_empty() {
                    continue;
                }
                let missing = vals
                    .iter()
                    .enumerate()
                    .find(|(_, v)| !is_null(&v[r.col]) && absent.contains(&key_of(std::slice::from_ref(&v[r.col]), 1)));
                if let Some((i, v)) = missing {
                    return Err(StoreError::Constraint {
                        context: ctx.to_string(),
                        detail: missing_reference(spec, r, base + i, v),
                    });
                }
            }
            Ok(())
        })
    }

    async fn write_rows(
        tx: &mut Self::Connection,
        spec: &TableSpec,
        insert: &[&Vec<Val<'_>>],
        update: &[&Vec<Val<'_>>],
        _max_binds: usize,
        ctx: &str,
    ) -> Result<(), StoreError> {
        if insert.is_empty() && update.is_empty() {
            return Ok(());
        }
        let insert: Vec<&[Val<'_>]> = insert.iter().map(|r| r.as_slice()).collect();
        let update: Vec<&[Val<'_>]> = update.iter().map(|r| r.as_slice()).collect();
        // A few hundred rows a statement: SQLite then sets a statement up once per
        // many rows, while each parameter is bound by position whatever the
        // statement's width (sqlx's binding looks each one up by name).
        let per = (SQLITE_BIND_LIMIT / spec.cols.len()).clamp(1, 256);
        // A statement that may stop half-way after changing rows makes SQLite keep
        // a statement journal (see `import_connection`). The import's transaction
        // is undone whole on any error, so constraints stop a statement without
        // undoing it (OR FAIL), and new rows go in by plain INSERT (an upsert's
        // update part may still abort). References were checked before.
        let mut handle = tx.lock_handle().await.ctx(ctx)?;
        crate::raw::blocking(|| {
            crate::raw::execute_rows(&mut handle, |n| insert_sql(spec, n), &insert, per)?;
            crate::raw::execute_rows(&mut handle, |n| upsert_sql(spec, n, true), &update, per)
        })
        .map_err(|e| e.into_store(ctx.to_string()))
    }
}

/// SQLite's limit on the parameters of one statement.
const SQLITE_BIND_LIMIT: usize = 32_766;

/// PostgreSQL: the new rows as one insert of an array a column (`INSERT ...
/// SELECT * FROM unnest(...)`), the changed ones as one upsert: a round trip and
/// a short statement, prepared once, for up to [`PG_ROWS_A_STATEMENT`] rows.
impl BulkWrite for sqlx::Postgres {
    async fn import_connection(
        pool: &sqlx::Pool<Self>,
        _shared: bool,
        ctx: &str,
    ) -> Result<sqlx::pool::PoolConnection<Self>, StoreError> {
        pool.acquire().await.ctx(ctx)
    }

    /// PostgreSQL checks the foreign keys itself.
    async fn check_references(
        _tx: &mut Self::Connection,
        _spec: &TableSpec,
        _vals: &[Vec<Val<'_>>],
        _base: usize,
        _verified: &mut [HashSet<Key>],
        _inserted: &mut crate::fresh::Inserted,
        _ctx: &str,
    ) -> Result<(), StoreError> {
        Ok(())
    }

    async fn write_rows(
        tx: &mut Self::Connection,
        spec: &TableSpec,
        insert: &[&Vec<Val<'_>>],
        update: &[&Vec<Val<'_>>],
        _max_binds: usize,
        ctx: &str,
    ) -> Result<(), StoreError> {
        let cols: Vec<&str> = spec.cols.iter().map(|c| c.0).collect();
        // New keys by plain INSERT, as on SQLite: an upsert probes the key's index
        // once more a row. A key another transaction inserted since the import
        // read the table fails the import (nothing is written) instead of being
        // overwritten.
        for (rows, suffix) in [(insert, String::new()), (update, on_conflict(spec))] {
            let rows: Vec<&[Val<'_>]> = rows.iter().map(|r| r.as_slice()).collect();
            for chunk in rows.chunks(PG_ROWS_A_STATEMENT) {
                let arrays = spec
                    .cols
                    .iter()
                    .enumerate()
                    .map(|(i, c)| PgArray::of_vals(c.1, chunk, i))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| StoreError::Invalid(format!("{ctx}: {e}")))?;
                pg_insert(&mut *tx, spec.table, &cols, arrays, &suffix, ctx).await?;
            }
        }
        Ok(())
    }
}

impl Store {
    /// Imports a batch of records of one kind in one transaction: new keys are
    /// inserted, stored rows that differ are updated, identical rows are left alone.
    /// All or nothing: on any error nothing of the batch is written. A key given
    /// twice is refused ([`StoreError::DuplicateKey`]); a reference to a row not in
    /// the store is refused with the first such row named.
    ///
    /// Persons: a person whose status differs from the stored one gets a row in
    /// the status history (old status, new status, since).
    pub async fn import<R: StoredRecord>(&self, rows: &[R]) -> Result<ImportCounts, StoreError> {
        self.import_from(Source::Slice(Some(rows))).await
    }

    /// Imports records as they arrive, in one transaction, as [`Store::import`]
    /// does with a batch: a reader can parse a file while the rows before are
    /// written. The transaction commits when [`ImportFeed::Done`] arrives; if the
    /// channel closes before it (the reader found bad rows, or failed), everything
    /// is rolled back and [`StoreError::Rejected`] says so. [`ImportFeed::Restart`]
    /// drops what came so far and starts again.
    pub async fn import_stream<R: StoredRecord>(
        &self,
        feed: &mut tokio::sync::mpsc::Receiver<ImportFeed<R>>,
    ) -> Result<ImportCounts, StoreError> {
        self.import_from(Source::Stream(feed)).await
    }

    async fn import_from<R: StoredRecord>(&self, mut source: Source<'_, R>) -> Result<ImportCounts, StoreError> {
        let spec = R::spec();
        let whole = match &source {
            Source::Slice(rows) => *rows,
            Source::Stream(_) => None,
        };
        let ctx = format!("importing {}", spec.kind);
        let is_persons = spec.table == "persons";
        let ncols = spec.cols.len();
        // The failing chunk's rows and their number before it, to name a row whose
        // reference is missing.
        let mut failed: Option<(usize, Vec<Vec<Val<'static>>>)> = None;
        // An async block, so that `?` inside ends the transaction's work, not the function.
        let result: Result<ImportCounts, StoreError> = on_pool!(self, p => async {
            let mut conn = <_ as BulkWrite>::import_connection(p, self.in_memory(), &ctx).await?;
            let mut tx = sqlx::Connection::begin_with(&mut *conn, begin_sql(p)).await.ctx(&ctx)?;
            // Keys of referenced rows found so far, per reference of the table.
            let mut verified: Vec<HashSet<Key>> = vec![HashSet::new(); spec.refs.len()];
            let empty = sqlx::query(&format!("SELECT 1 FROM {} LIMIT 1", spec.table))
                .fetch_optional(&mut *tx)
                .await
                .ctx(&ctx)?
                .is_none();
            // Tables keyed by several columns are small (thresholds): read them whole, once.
            let mut existing: HashMap<Key, Vec<Val<'static>>> = HashMap::new();
            if !empty && spec.read_whole {
                let sql = format!("SELECT {} FROM {} t", select_cols(spec), spec.table);
                for row in sqlx::query(&sql).fetch_all(&mut *tx).await.ctx(&ctx)? {
                    let mut v = Vec::with_capacity(ncols);
                    for (i, c) in spec.cols.iter().enumerate() {
                        v.push(get_val!(row, i, c.1).map_err(|e| decode_err(spec, e))?);
                    }
                    existing.insert(key_of(&v, spec.keys), v);
                }
            }
            let mut counts = ImportCounts::default();
            // The rows inserted so far, for the unit of work (see `fresh.rs`).
            let mut inserted = crate::fresh::Inserted::default();
            let cols: Vec<&str> = spec.cols.iter().map(|c| c.0).collect();
            // Every key of the import so far, with its row number (from 0).
            let mut seen: domain::FastMap<Key, usize> = domain::FastMap::default();
            loop {
                let chunk = match source.next().await {
                    Next::Rows(chunk) => chunk,
                    Next::Done => break,
                    Next::Restart => {
                        tx.rollback().await.ctx(&ctx)?;
                        tx = sqlx::Connection::begin_with(&mut *conn, begin_sql(p)).await.ctx(&ctx)?;
                        verified.iter_mut().for_each(HashSet::clear);
                        counts = ImportCounts::default();
                        inserted = crate::fresh::Inserted::default();
                        seen.clear();
                        continue;
                    }
                    Next::Closed => {
                        return Err(StoreError::Rejected {
                            context: ctx.clone(),
                            reason: "the input ended before it was complete; nothing was written".into(),
                        })
                    }
                };
                let rows = chunk.as_slice();
                let base = seen.len();
                let vals: Vec<Vec<Val<'_>>> = rows.iter().map(|r| r.to_vals()).collect();
                seen.reserve(vals.len());
                for (i, v) in vals.iter().enumerate() {
                    if let Some(first) = seen.insert(key_of(v, spec.keys), base + i) {
                        return Err(StoreError::DuplicateKey {
                            kind: spec.kind,
                            key: rows[i].key(),
                            first: first + 1,
                            second: base + i + 1,
                        });
                    }
                }
                if !empty && !spec.read_whole {
                    existing.clear();
                    let cols = select_cols(spec);
                    for part in vals.chunks(self.max_binds()) {
                        let sql = format!(
                            "SELECT {cols} FROM {} t WHERE t.{} IN ({})",
                            spec.table,
                            spec.cols[0].0,
                            list(1, part.len())
                        );
                        let mut q = sqlx::query(&sql);
                        for v in part {
                            q = bind_val!(q, &v[0]);
                        }
                        for row in q.fetch_all(&mut *tx).await.ctx(&ctx)? {
                            let mut v = Vec::with_capacity(ncols);
                            for (i, c) in spec.cols.iter().enumerate() {
                                v.push(get_val!(row, i, c.1).map_err(|e| decode_err(spec, e))?);
                            }
                            existing.insert(key_of(&v, spec.keys), v);
                        }
                    }
                }
                // New keys, and stored rows that changed.
                let mut insert: Vec<&Vec<Val<'_>>> = Vec::with_capacity(vals.len());
                let mut update: Vec<&Vec<Val<'_>>> = Vec::new();
                // person_id, old status, new status, since
                let mut history: Vec<(i64, String, String, chrono::NaiveDate)> = Vec::new();
                for v in &vals {
                    if empty {
                        counts.inserted += 1;
                        insert.push(v);
                        continue;
                    }
                    match existing.get(&key_of(v, spec.keys)) {
                        None => {
                            counts.inserted += 1;
                            insert.push(v);
                        }
                        Some(old) if old == v => counts.unchanged += 1,
                        Some(old) => {
                            counts.updated += 1;
                            update.push(v);
                            if is_persons && old[3] != v[3] {
                                history.push((
                                    v[0].as_i64().unwrap_or_default(),
                                    old[3].as_str().unwrap_or_default().to_string(),
                                    v[3].as_str().unwrap_or_default().to_string(),
                                    v[4].as_date().unwrap_or_default(),
                                ));
                            }
                        }
                    }
                }
                check_references_on(p, &mut tx, spec, &vals, base, &mut verified, &mut inserted, &ctx).await?;
                let written = write_rows_on(p, &mut tx, spec, &insert, &update, self.max_binds(), &ctx).await;
                if let Err(e) = written {
                    if matches!(e, StoreError::Constraint { .. }) {
                        failed = Some((base, vals.into_iter().map(|v| v.into_iter().map(Val::into_owned).collect()).collect()));
                    }
                    return Err(e);
                }
                // What the new rows feed is marked at the commit (changed rows fire
                // the store's triggers).
                inserted.rows(spec.table, &cols, &insert);
                if !history.is_empty() {
                    let at = now();
                    for part in history.chunks(self.max_binds() / 5) {
                        let sql = format!(
                            "INSERT INTO person_status_history (person_id, old_status, new_status, since, recorded_at) VALUES {}",
                            placeholders(part.len(), 5)
                        );
                        let mut q = sqlx::query(&sql);
                        for (id, old, new, since) in part {
                            q = q.bind(*id).bind(old.as_str()).bind(new.as_str()).bind(*since).bind(at);
                        }
                        q.execute(&mut *tx).await.ctx(&ctx)?;
                    }
                }
            }
            crate::fresh::commit(tx, inserted, &ctx).await?;
            Ok(counts)
        }.await);
        match result {
            Err(StoreError::Constraint { context, detail }) => {
                // Name the first row whose reference is missing, if that is the cause.
                // The chunk that failed, or (for a reference checked at commit) the
                // whole batch when it is at hand.
                let failed = failed.or_else(|| {
                    whole.map(|rows| {
                        (0, rows.iter().map(|r| r.to_vals().into_iter().map(Val::into_owned).collect()).collect())
                    })
                });
                if let Some((base, vals)) = failed {
                    if let Some(msg) = self.find_missing_reference(spec, &vals, base).await? {
                        return Err(StoreError::Constraint { context, detail: msg });
                    }
                }
                Err(StoreError::Constraint { context, detail })
            }
            other => other,
        }
    }

    async fn find_missing_reference(
        &self,
        spec: &TableSpec,
        vals: &[Vec<Val<'_>>],
        base: usize,
    ) -> Result<Option<String>, StoreError> {
        for r in spec.refs {
            let wanted: Vec<Val<'_>> = {
                let mut set = HashSet::new();
                vals.iter().filter(|v| set.insert(v[r.col].key_text())).map(|v| v[r.col].clone()).collect()
            };
            let found = self.existing_keys(r.table, r.key, &wanted).await?;
            if let Some((i, v)) = vals.iter().enumerate().find(|(_, v)| !found.contains(&v[r.col].key_text())) {
                return Ok(Some(missing_reference(spec, r, base + i, v)));
            }
        }
        Ok(None)
    }

    /// The keys among `wanted` that `table.key` holds, as text.
    async fn existing_keys(&self, table: &str, key: &str, wanted: &[Val<'_>]) -> Result<HashSet<String>, StoreError> {
        let ctx = format!("looking up {table}");
        let mut found = HashSet::new();
        match &self.pool {
            // One point look-up per key, prepared once, in one read transaction.
            Pool::Sqlite(p) => {
                let mut tx = p.begin().await.ctx(&ctx)?;
                let sql = format!("SELECT 1 FROM {table} WHERE {key} = ?1");
                let hits = {
                    let mut handle = tx.lock_handle().await.ctx(&ctx)?;
                    crate::raw::blocking(|| crate::raw::exists_each(&mut handle, &sql, wanted.iter()))
                        .map_err(|e| e.into_store(ctx.clone()))?
                };
                tx.commit().await.ctx(&ctx)?;
                found.extend(wanted.iter().zip(hits).filter(|(_, hit)| *hit).map(|(v, _)| v.key_text()));
            }
            Pool::Pg(p) => {
                for chunk in wanted.chunks(self.max_binds()) {
                    let sql = format!("SELECT {key} FROM {table} WHERE {key} IN ({})", list(1, chunk.len()));
                    let mut q = sqlx::query(&sql);
                    for v in chunk {
                        q = bind_val!(q, v);
                    }
                    let ty = if matches!(wanted[0], Val::I(_)) { Ty::Int } else { Ty::Text };
                    for row in q.fetch_all(p).await.ctx(&ctx)? {
                        found.insert(get_val!(row, 0, ty).ctx(&ctx)?.key_text());
                    }
                }
            }
        }
        Ok(found)
    }

    /// Which of these region codes the division table holds.
    pub async fn existing_region_codes(&self, codes: &[RegionCode]) -> Result<HashSet<RegionCode>, StoreError> {
        let wanted: Vec<Val<'_>> = codes.iter().map(|c| Val::int(c.as_u64() as i64)).collect();
        if wanted.is_empty() {
            return Ok(HashSet::new());
        }
        let found = self.existing_keys("regions", "code", &wanted).await?;
        Ok(codes.iter().copied().filter(|c| found.contains(&c.as_u64().to_string())).collect())
    }

    /// Which of these household IDs are stored.
    pub async fn existing_households(&self, ids: &[&str]) -> Result<HashSet<String>, StoreError> {
        let wanted: Vec<Val<'_>> = ids.iter().map(|s| Val::text(s)).collect();
        if wanted.is_empty() {
            return Ok(HashSet::new());
        }
        self.existing_keys("households", "household_id", &wanted).await
    }

    /// Which of these persons are stored.
    pub async fn existing_persons(&self, ids: &[ResidentId]) -> Result<HashSet<ResidentId>, StoreError> {
        let wanted: Vec<Val<'_>> = ids.iter().map(|c| Val::int(c.as_u64() as i64)).collect();
        if wanted.is_empty() {
            return Ok(HashSet::new());
        }
        let found = self.existing_keys("persons", "person_id", &wanted).await?;
        Ok(ids.iter().copied().filter(|c| found.contains(&c.as_u64().to_string())).collect())
    }

    /// Which of these facility IDs are stored.
    pub async fn existing_facilities(&self, ids: &[&str]) -> Result<HashSet<String>, StoreError> {
        let wanted: Vec<Val<'_>> = ids.iter().map(|s| Val::text(s)).collect();
        if wanted.is_empty() {
            return Ok(HashSet::new());
        }
        self.existing_keys("facilities", "facility_id", &wanted).await
    }

    /// Which of these claim IDs are stored (at any facility).
    pub async fn existing_claims(&self, ids: &[&str]) -> Result<HashSet<String>, StoreError> {
        let wanted: Vec<Val<'_>> = ids.iter().map(|s| Val::text(s)).collect();
        if wanted.is_empty() {
            return Ok(HashSet::new());
        }
        self.existing_keys("claims", "claim_id", &wanted).await
    }

    pub async fn import_regions(&self, rows: &[Region]) -> Result<ImportCounts, StoreError> {
        self.import(rows).await
    }
    pub async fn import_households(&self, rows: &[Household]) -> Result<ImportCounts, StoreError> {
        self.import(rows).await
    }
    pub async fn import_persons(&self, rows: &[Person]) -> Result<ImportCounts, StoreError> {
        self.import(rows).await
    }
    pub async fn import_facilities(&self, rows: &[Facility]) -> Result<ImportCounts, StoreError> {
        self.import(rows).await
    }
    pub async fn import_practitioners(&self, rows: &[Practitioner]) -> Result<ImportCounts, StoreError> {
        self.import(rows).await
    }
    pub async fn import_claims(&self, rows: &[Claim]) -> Result<ImportCounts, StoreError> {
        self.import(rows).await
    }
    pub async fn import_thresholds(&self, rows: &[Threshold]) -> Result<ImportCounts, StoreError> {
        self.import(rows).await
    }

    /// The WHERE clause and its two bound values for a scope.
    fn scope_filter(spec: &TableSpec, scope: &Scope) -> (String, Val<'static>, Val<'static>) {
        match spec.scope_col {
            Some(col) => {
                let (lo, hi) = scope.code_range();
                (format!("{col} BETWEEN $1 AND $2"), Val::int(lo), Val::int(hi))
            }
            // Thresholds: those inside the scope, and those of the regions above it
            // that apply to it.
            None => (
                "(t.region LIKE $1 OR $2 LIKE t.region || '%')".to_string(),
                Val::owned(format!("{}%", scope.prefix())),
                Val::owned(scope.prefix().to_string()),
            ),
        }
    }

    /// One page of records of a kind inside a scope, in key order.
    pub async fn list<R: StoredRecord>(&self, scope: &Scope, page: Page) -> Result<Vec<R>, StoreError> {
        let spec = R::spec();
        let (filter, a, b) = Self::scope_filter(spec, scope);
        let keys: Vec<String> = spec.cols[..spec.keys].iter().map(|c| format!("t.{}", c.0)).collect();
        let sql = format!(
            "SELECT {} FROM {} t{} WHERE {filter} ORDER BY {} LIMIT $3 OFFSET $4",
            select_cols(spec),
            spec.table,
            spec.scope_join,
            keys.join(", ")
        );
        let rows = self.fetch_vals(spec, &sql, vec![a, b, Val::int(page.lim()), Val::int(page.off())]).await?;
        rows.into_iter().map(R::from_vals).collect()
    }

    /// Every record of a kind inside a scope, in key order, handed to `sink` in
    /// chunks of up to 10,000 (read by key ranges, so memory stays flat on a
    /// province). An error from `sink` stops the export and is returned.
    pub async fn export<R: StoredRecord, E: std::fmt::Display>(
        &self,
        scope: &Scope,
        mut sink: impl FnMut(Vec<R>) -> Result<(), E>,
    ) -> Result<u64, StoreError> {
        let spec = R::spec();
        const CHUNK: i64 = 10_000;
        let (filter, a, b) = Self::scope_filter(spec, scope);
        let mut total = 0u64;
        if spec.read_whole {
            let sql =
                format!("SELECT {} FROM {} t WHERE {filter} ORDER BY t.region, t.year", select_cols(spec), spec.table);
            let rows: Vec<R> = self
                .fetch_vals(spec, &sql, vec![a, b])
                .await?
                .into_iter()
                .map(R::from_vals)
                .collect::<Result<_, _>>()?;
            total = rows.len() as u64;
            sink(rows).map_err(|e| StoreError::Rejected {
                context: format!("exporting {}", spec.kind),
                reason: e.to_string(),
            })?;
            return Ok(total);
        }
        // By key ranges: after the last key of a chunk, the key's columns
        // compared as a row (claims: `(claim_id, facility_id)`).
        let keys: Vec<String> = spec.cols[..spec.keys].iter().map(|c| format!("t.{}", c.0)).collect();
        let (key_row, after_row) = if spec.keys == 1 {
            (keys[0].clone(), "$4".to_string())
        } else {
            let after: Vec<String> = (0..spec.keys).map(|i| format!("${}", 4 + i)).collect();
            (format!("({})", keys.join(", ")), format!("({})", after.join(", ")))
        };
        let mut after: Option<Vec<Val<'static>>> = None;
        loop {
            let mut binds = vec![a.clone(), b.clone(), Val::int(CHUNK)];
            let cont = match &after {
                Some(v) => {
                    binds.extend(v.iter().cloned());
                    format!(" AND {key_row} > {after_row}")
                }
                None => String::new(),
            };
            let sql = format!(
                "SELECT {} FROM {} t{} WHERE {filter}{cont} ORDER BY {} LIMIT $3",
                select_cols(spec),
                spec.table,
                spec.scope_join,
                keys.join(", ")
            );
            let rows = self.fetch_vals(spec, &sql, binds).await?;
            let n = rows.len();
            if n == 0 {
                break;
            }
            after = Some(rows[n - 1][..spec.keys].to_vec());
            let recs: Vec<R> = rows.into_iter().map(R::from_vals).collect::<Result<_, _>>()?;
            total += n as u64;
            sink(recs).map_err(|e| StoreError::Rejected {
                context: format!("exporting {}", spec.kind),
                reason: e.to_string(),
            })?;
            if (n as i64) < CHUNK {
                break;
            }
        }
        Ok(total)
    }

    /// How many records of a kind lie inside a scope.
    pub async fn count<R: StoredRecord>(&self, scope: &Scope) -> Result<u64, StoreError> {
        self.count_spec(R::spec(), scope).await
    }

    pub(crate) async fn count_spec(&self, spec: &TableSpec, scope: &Scope) -> Result<u64, StoreError> {
        let (filter, a, b) = Self::scope_filter(spec, scope);
        let sql = format!("SELECT COUNT(*) FROM {} t{} WHERE {filter}", spec.table, spec.scope_join);
        let ctx = format!("counting {}", spec.kind);
        let n: i64 = on_pool!(self, p => {
            let mut q = sqlx::query_scalar(&sql);
            q = bind_val!(q, &a);
            q = bind_val!(q, &b);
            q.fetch_one(p).await.ctx(&ctx)?
        });
        Ok(n as u64)
    }

    /// Runs a SELECT of a kind's columns (in spec order) with bound values.
    pub(crate) async fn fetch_vals(
        &self,
        spec: &TableSpec,
        sql: &str,
        binds: Vec<Val<'static>>,
    ) -> Result<Vec<Vec<Val<'static>>>, StoreError> {
        let ctx = format!("reading {}", spec.kind);
        if let crate::db::Pool::Sqlite(p) = &self.pool {
            // Through SQLite's own interface: sqlx's cost per row is most of a read's.
            let mut out = Vec::new();
            crate::raw::pool_each(p, sql, &binds, &ctx, |r| {
                let mut v = Vec::with_capacity(spec.cols.len());
                for (i, c) in spec.cols.iter().enumerate() {
                    v.push(r.val(i as std::ffi::c_int, c.1).map_err(|e| format!("{}.{}: {e}", spec.table, c.0))?);
                }
                out.push(v);
                Ok(())
            })
            .await?;
            return Ok(out);
        }
        on_pool!(self, p => {
            let mut q = sqlx::query(sql);
            for v in &binds {
                q = bind_val!(q, v);
            }
            let rows = q.fetch_all(p).await.ctx(&ctx)?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let mut v = Vec::with_capacity(spec.cols.len());
                for (i, c) in spec.cols.iter().enumerate() {
                    v.push(get_val!(row, i, c.1).map_err(|e| decode_err(spec, e))?);
                }
                out.push(v);
            }
            Ok(out)
        })
    }

    /// Every record of `R` inside the scope, by key, in one read (for callers
    /// that hold them all anyway; [`Store::export`] streams them in chunks).
    pub(crate) async fn records_in<R: StoredRecord>(&self, scope: &Scope) -> Result<Vec<R>, StoreError> {
        let spec = R::spec();
        let (filter, a, b) = Self::scope_filter(spec, scope);
        let (join, order) = if spec.read_whole {
            ("", "t.region, t.year".to_string())
        } else {
            let keys: Vec<String> = spec.cols[..spec.keys].iter().map(|c| format!("t.{}", c.0)).collect();
            (spec.scope_join, keys.join(", "))
        };
        let sql = format!("SELECT {} FROM {} t{join} WHERE {filter} ORDER BY {order}", select_cols(spec), spec.table);
        self.fetch_vals(spec, &sql, vec![a, b]).await?.into_iter().map(R::from_vals).collect()
    }

    /// The records of `R` whose row `t` meets `cond` (with `binds`).
    pub(crate) async fn records_where<R: StoredRecord>(
        &self,
        cond: &str,
        binds: Vec<Val<'static>>,
    ) -> Result<Vec<R>, StoreError> {
        let spec = R::spec();
        let sql = format!("SELECT {} FROM {} t WHERE {cond}", select_cols(spec), spec.table);
        self.fetch_vals(spec, &sql, binds).await?.into_iter().map(R::from_vals).collect()
    }

    /// One record by its key (for thresholds, `REGION/YEAR`; for claims, `ID` or
    /// `ID at FACILITY`, as `Record::key` writes it).
    pub async fn get<R: StoredRecord>(&self, key: &str) -> Result<Option<R>, StoreError> {
        let spec = R::spec();
        let (cond, binds) = if spec.keys == 1 {
            let v = match spec.cols[0].1 {
                Ty::Int => match key_to_int(spec, key) {
                    Some(i) => Val::int(i),
                    None => return Ok(None),
                },
                _ => Val::owned(key.to_string()),
            };
            (format!("t.{} = $1", spec.cols[0].0), vec![v])
        } else if spec.table == "claims" {
            // A claim by its key as `Record::key` writes it: `ID` (the empty
            // facility) or `ID at FACILITY`; each reading of it is tried.
            let mut candidates = vec![(key, "")];
            candidates.extend(key.match_indices(" at ").map(|(i, _)| (&key[..i], &key[i + 4..])));
            let sql = format!(
                "SELECT {} FROM {} t WHERE t.claim_id = $1 AND t.facility_id = $2",
                select_cols(spec),
                spec.table
            );
            for (id, facility) in candidates {
                let binds = vec![Val::owned(id.to_string()), Val::owned(facility.to_string())];
                if let Some(row) = self.fetch_vals(spec, &sql, binds).await?.pop() {
                    return R::from_vals(row).map(Some);
                }
            }
            return Ok(None);
        } else {
            let Some((r, y)) = key.split_once('/') else { return Ok(None) };
            let Ok(y) = y.parse::<i64>() else { return Ok(None) };
            ("t.region = $1 AND t.year = $2".to_string(), vec![Val::owned(r.to_string()), Val::int(y)])
        };
        let sql = format!("SELECT {} FROM {} t WHERE {cond}", select_cols(spec), spec.table);
        let mut rows = self.fetch_vals(spec, &sql, binds).await?;
        rows.pop().map(R::from_vals).transpose()
    }
}

/// A key typed by a person into its stored integer: a region code or a resident ID.
fn key_to_int(spec: &TableSpec, key: &str) -> Option<i64> {
    match spec.table {
        "regions" => RegionCode::parse(key).ok().map(|c| c.as_u64() as i64),
        "persons" => ResidentId::parse(key).ok().map(|c| c.as_u64() as i64),
        _ => key.trim().parse().ok(),
    }
}

// ---- the kinds ----

/// A stored row of a registry table, read by column name. A value that is
/// missing or does not decode is an error that names the table, the row's key
/// and the column; nothing is read as a default.
#[doc(hidden)]
pub struct StoredRow {
    spec: &'static TableSpec,
    vals: Vec<Val<'static>>,
}

impl StoredRow {
    pub(crate) fn new(spec: &'static TableSpec, vals: Vec<Val<'static>>) -> StoredRow {
        debug_assert_eq!(vals.len(), spec.cols.len(), "a row of {} has every column", spec.table);
        StoredRow { spec, vals }
    }

    fn val(&self, col: &str) -> &Val<'static> {
        let i = self.spec.cols.iter().position(|(c, _)| *c == col);
        &self.vals[i.unwrap_or_else(|| panic!("table {} has no column {col}", self.spec.table))]
    }

    /// What a refusal of column `col` says: the table, the key, the column.
    fn bad(&self, col: &str, value: impl std::fmt::Display, why: impl std::fmt::Display) -> StoreError {
        let key: Vec<String> = self.vals[..self.spec.keys].iter().map(Val::key_text).collect();
        corrupt(&format!("reading {} {}, column {col}", self.spec.table, key.join(" / ")), value, why)
    }

    fn opt_int(&self, col: &str) -> Option<i64> {
        self.val(col).as_i64()
    }

    fn int(&self, col: &str) -> Result<i64, StoreError> {
        self.opt_int(col).ok_or_else(|| self.bad(col, "NULL", "a number is required"))
    }

    fn text(&self, col: &str) -> Result<String, StoreError> {
        self.val(col).as_str().map(str::to_string).ok_or_else(|| self.bad(col, "NULL", "a text is required"))
    }

    fn date(&self, col: &str) -> Result<chrono::NaiveDate, StoreError> {
        self.val(col).as_date().ok_or_else(|| self.bad(col, "NULL", "a date is required"))
    }

    fn opt_date(&self, col: &str) -> Option<chrono::NaiveDate> {
        self.val(col).as_date()
    }

    fn real(&self, col: &str) -> Option<f64> {
        self.val(col).as_f64()
    }

    fn bool(&self, col: &str) -> bool {
        self.val(col).as_bool()
    }

    fn fen(&self, col: &str) -> Result<domain::Fen, StoreError> {
        self.int(col).map(domain::Fen)
    }

    fn opt_fen(&self, col: &str) -> Option<domain::Fen> {
        self.opt_int(col).map(domain::Fen)
    }

    fn parse<T: std::str::FromStr>(&self, col: &str) -> Result<T, StoreError>
    where
        T::Err: std::fmt::Display,
    {
        let s = self.text(col)?;
        s.parse().map_err(|e| self.bad(col, &s, e))
    }

    /// A whole number that must fit `T` (a size, a grade, a year).
    fn small<T: TryFrom<i64>>(&self, col: &str) -> Result<T, StoreError> {
        let n = self.int(col)?;
        T::try_from(n).map_err(|_| self.bad(col, n, "out of range"))
    }

    fn opt_small<T: TryFrom<i64>>(&self, col: &str) -> Result<Option<T>, StoreError> {
        self.opt_int(col).map(|n| T::try_from(n).map_err(|_| self.bad(col, n, "out of range"))).transpose()
    }

    fn region(&self, col: &str) -> Result<RegionCode, StoreError> {
        let n = self.int(col)?;
        RegionCode::from_u64(n as u64).map_err(|e| self.bad(col, n, e))
    }

    fn person(&self, col: &str) -> Result<ResidentId, StoreError> {
        let n = self.int(col)?;
        ResidentId::from_u64(n as u64).map_err(|e| self.bad(col, n, e))
    }
}

pub(crate) fn resident_id(n: i64, ctx: &str) -> Result<ResidentId, StoreError> {
    ResidentId::from_u64(n as u64).map_err(|e| corrupt(ctx, n, e))
}

macro_rules! sealed {
    ($($t:ty),*) => { $(impl sealed::Sealed for $t {})* };
}
sealed!(Region, Household, Person, Facility, Practitioner, Claim, Threshold);

static REGIONS: TableSpec = TableSpec {
    kind: "regions",
    table: "regions",
    cols: &[
        ("code", Ty::Int),
        ("name", Ty::Text),
        ("level", Ty::Text),
        ("parent_code", Ty::Int),
        ("urban_rural", Ty::Int),
        ("population", Ty::Int),
        ("lon", Ty::Real),
        ("lat", Ty::Real),
    ],
    keys: 1,
    read_whole: false,
    scope_join: "",
    scope_col: Some("t.code"),
    refs: &[],
};

impl StoredRecord for Region {
    fn spec() -> &'static TableSpec {
        &REGIONS
    }
    fn to_vals(&self) -> Vec<Val<'_>> {
        vec![
            Val::int(self.code.as_u64() as i64),
            Val::text(&self.name),
            Val::text(self.level.as_str()),
            Val::I(self.code.parent().map(|c| c.as_u64() as i64)),
            Val::I(self.urban_rural.map(i64::from)),
            Val::I(self.population.map(i64::from)),
            Val::R(self.lon),
            Val::R(self.lat),
        ]
    }
    fn from_row(r: &StoredRow) -> Result<Self, StoreError> {
        Ok(Region {
            code: r.region("code")?,
            name: r.text("name")?,
            level: r.parse::<RegionLevel>("level")?,
            urban_rural: r.opt_small("urban_rural")?,
            population: r.opt_small("population")?,
            lon: r.real("lon"),
            lat: r.real("lat"),
        })
    }
}

static HOUSEHOLDS: TableSpec = TableSpec {
    kind: "households",
    table: "households",
    cols: &[
        ("household_id", Ty::Text),
        ("village_code", Ty::Int),
        ("size", Ty::Int),
        ("income", Ty::Int),
        ("consumption", Ty::Int),
        ("food", Ty::Int),
    ],
    keys: 1,
    read_whole: false,
    scope_join: "",
    scope_col: Some("t.village_code"),
    refs: &[Ref { col: 1, table: "regions", key: "code", what: "the village_code" }],
};

impl StoredRecord for Household {
    fn spec() -> &'static TableSpec {
        &HOUSEHOLDS
    }
    fn to_vals(&self) -> Vec<Val<'_>> {
        vec![
            Val::text(&self.household_id),
            Val::int(self.village_code.as_u64() as i64),
            Val::int(self.size as i64),
            Val::int(self.income.0),
            Val::I(self.consumption.map(|f| f.0)),
            Val::I(self.food.map(|f| f.0)),
        ]
    }
    fn from_row(r: &StoredRow) -> Result<Self, StoreError> {
        Ok(Household {
            household_id: r.text("household_id")?,
            village_code: r.region("village_code")?,
            size: r.small("size")?,
            income: r.fen("income")?,
            consumption: r.opt_fen("consumption"),
            food: r.opt_fen("food"),
        })
    }
}

static PERSONS: TableSpec = TableSpec {
    kind: "persons",
    table: "persons",
    cols: &[
        ("person_id", Ty::Int),
        ("household_id", Ty::Text),
        ("name", Ty::Text),
        ("status", Ty::Text),
        ("status_since", Ty::Date),
        ("diagnoses", Ty::Text),
    ],
    keys: 1,
    read_whole: false,
    scope_join: " JOIN households h ON h.household_id = t.household_id",
    scope_col: Some("h.village_code"),
    refs: &[Ref { col: 1, table: "households", key: "household_id", what: "the household_id" }],
};

impl StoredRecord for Person {
    fn spec() -> &'static TableSpec {
        &PERSONS
    }
    fn to_vals(&self) -> Vec<Val<'_>> {
        vec![
            Val::int(self.person_id.as_u64() as i64),
            Val::text(&self.household_id),
            Val::text(&self.name),
            Val::text(self.status.as_str()),
            Val::D(Some(self.status_since)),
            match self.diagnoses.len() {
                0 => Val::text(""),
                1 => Val::text(&self.diagnoses[0]),
                _ => Val::owned(self.diagnoses.join(";")),
            },
        ]
    }
    fn from_row(r: &StoredRow) -> Result<Self, StoreError> {
        Ok(Person {
            person_id: r.person("person_id")?,
            household_id: r.text("household_id")?,
            name: r.text("name")?,
            status: r.parse::<PovertyStatus>("status")?,
            status_since: r.date("status_since")?,
            diagnoses: r.text("diagnoses")?.split(';').filter(|s| !s.is_empty()).map(String::from).collect(),
        })
    }
}

static FACILITIES: TableSpec = TableSpec {
    kind: "facilities",
    table: "facilities",
    cols: &[
        ("facility_id", Ty::Text),
        ("name", Ty::Text),
        ("kind", Ty::Text),
        ("grade", Ty::Int),
        ("region_code", Ty::Int),
        ("lon", Ty::Real),
        ("lat", Ty::Real),
        ("opened", Ty::Date),
        ("closed", Ty::Date),
    ],
    keys: 1,
    read_whole: false,
    scope_join: "",
    scope_col: Some("t.region_code"),
    refs: &[Ref { col: 4, table: "regions", key: "code", what: "the region_code" }],
};

impl StoredRecord for Facility {
    fn spec() -> &'static TableSpec {
        &FACILITIES
    }
    fn to_vals(&self) -> Vec<Val<'_>> {
        vec![
            Val::text(&self.facility_id),
            Val::text(&self.name),
            Val::text(self.kind.as_str()),
            Val::I(self.grade.map(|g| g.0 as i64)),
            Val::int(self.region_code.as_u64() as i64),
            Val::R(self.lon),
            Val::R(self.lat),
            Val::D(self.opened),
            Val::D(self.closed),
        ]
    }
    fn from_row(r: &StoredRow) -> Result<Self, StoreError> {
        Ok(Facility {
            facility_id: r.text("facility_id")?,
            name: r.text("name")?,
            kind: r.parse("kind")?,
            grade: r.opt_small::<u8>("grade")?.map(Grade),
            region_code: r.region("region_code")?,
            lon: r.real("lon"),
            lat: r.real("lat"),
            opened: r.opt_date("opened"),
            closed: r.opt_date("closed"),
        })
    }
}

static PRACTITIONERS: TableSpec = TableSpec {
    kind: "practitioners",
    table: "practitioners",
    cols: &[
        ("practitioner_id", Ty::Text),
        ("facility_id", Ty::Text),
        ("name", Ty::Text),
        ("qualification", Ty::Text),
        ("gp", Ty::Bool),
        ("birth_date", Ty::Date),
        ("active", Ty::Bool),
    ],
    keys: 1,
    read_whole: false,
    scope_join: " JOIN facilities f ON f.facility_id = t.facility_id",
    scope_col: Some("f.region_code"),
    refs: &[Ref { col: 1, table: "facilities", key: "facility_id", what: "the facility_id" }],
};

impl StoredRecord for Practitioner {
    fn spec() -> &'static TableSpec {
        &PRACTITIONERS
    }
    fn to_vals(&self) -> Vec<Val<'_>> {
        vec![
            Val::text(&self.practitioner_id),
            Val::text(&self.facility_id),
            Val::text(&self.name),
            Val::text(self.qualification.as_str()),
            Val::B(self.gp),
            Val::D(Some(self.birth_date)),
            Val::B(self.active),
        ]
    }
    fn from_row(r: &StoredRow) -> Result<Self, StoreError> {
        Ok(Practitioner {
            practitioner_id: r.text("practitioner_id")?,
            facility_id: r.text("facility_id")?,
            name: r.text("name")?,
            qualification: r.parse("qualification")?,
            gp: r.bool("gp"),
            birth_date: r.date("birth_date")?,
            active: r.bool("active"),
        })
    }
}

static CLAIMS: TableSpec = TableSpec {
    kind: "claims",
    table: "claims",
    // Keyed by the claim's ID and its facility (migration 14); stored rows are
    // looked up by the ID, the first column of the key's index.
    cols: &[
        ("claim_id", Ty::Text),
        ("facility_id", Ty::Text),
        ("person_id", Ty::Int),
        ("facility_level", Ty::Text),
        ("kind", Ty::Text),
        ("admitted", Ty::Date),
        ("discharged", Ty::Date),
        ("year", Ty::Int),
        ("total_cost", Ty::Int),
        ("eligible_cost", Ty::Int),
        ("diagnosis", Ty::Text),
        ("referred", Ty::Bool),
    ],
    keys: 2,
    read_whole: false,
    scope_join: " JOIN persons p ON p.person_id = t.person_id JOIN households h ON h.household_id = p.household_id",
    scope_col: Some("h.village_code"),
    refs: &[Ref { col: 2, table: "persons", key: "person_id", what: "the person_id" }],
};

impl StoredRecord for Claim {
    fn spec() -> &'static TableSpec {
        &CLAIMS
    }
    fn to_vals(&self) -> Vec<Val<'_>> {
        vec![
            Val::text(&self.claim_id),
            Val::text(&self.facility_id),
            Val::int(self.person_id.as_u64() as i64),
            Val::text(self.facility_level.as_str()),
            Val::text(self.kind.as_str()),
            Val::D(Some(self.admitted)),
            Val::D(Some(self.discharged)),
            Val::int(self.year() as i64),
            Val::int(self.total_cost.0),
            Val::int(self.eligible_cost.0),
            Val::text(&self.diagnosis),
            Val::B(self.referred),
        ]
    }
    fn from_row(r: &StoredRow) -> Result<Self, StoreError> {
        Ok(Claim {
            claim_id: r.text("claim_id")?,
            facility_id: r.text("facility_id")?,
            person_id: r.person("person_id")?,
            facility_level: r.parse("facility_level")?,
            kind: r.parse("kind")?,
            admitted: r.date("admitted")?,
            discharged: r.date("discharged")?,
            total_cost: r.fen("total_cost")?,
            eligible_cost: r.fen("eligible_cost")?,
            diagnosis: r.text("diagnosis")?,
            referred: r.bool("referred"),
        })
    }
}

static THRESHOLDS: TableSpec = TableSpec {
    kind: "thresholds",
    table: "thresholds",
    cols: &[("region", Ty::Text), ("year", Ty::Int), ("rural_income", Ty::Int), ("monitoring_line", Ty::Int)],
    keys: 2,
    read_whole: true,
    scope_join: "",
    scope_col: None,
    refs: &[],
};

impl StoredRecord for Threshold {
    fn spec() -> &'static TableSpec {
        &THRESHOLDS
    }
    fn to_vals(&self) -> Vec<Val<'_>> {
        vec![
            Val::text(&self.region),
            Val::int(self.year as i64),
            Val::int(self.rural_income.0),
            Val::int(self.monitoring_line.0),
        ]
    }
    fn from_row(r: &StoredRow) -> Result<Self, StoreError> {
        Ok(Threshold {
            region: r.text("region")?,
            year: r.small("year")?,
            rural_income: r.fen("rural_income")?,
            monitoring_line: r.fen("monitoring_line")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows are read by column name, and a value that does not decode names
    /// the table, the key and the column instead of reading as a default.
    #[test]
    fn a_stored_row_that_does_not_decode_names_its_table_key_and_column() {
        let row = |income: Val<'static>, size: i64| {
            let vals = vec![
                Val::owned("H1".to_string()),
                Val::int(341122100201),
                Val::int(size),
                income,
                Val::I(None),
                Val::I(Some(900)),
            ];
            Household::from_row(&StoredRow::new(&HOUSEHOLDS, vals))
        };
        let h = row(Val::int(250_000), 3).unwrap();
        assert_eq!((h.size, h.income.0, h.consumption, h.food.map(|f| f.0)), (3, 250_000, None, Some(900)));
        let e = row(Val::I(None), 3).unwrap_err().to_string();
        assert!(e.contains("reading households H1, column income") && e.contains("required"), "{e}");
        let e = row(Val::int(1), -4).unwrap_err().to_string();
        assert!(e.contains("households H1, column size") && e.contains("-4"), "{e}");
    }

    /// A record's file columns are its stored columns, by the same names; the
    /// store adds only what it derives (a region's parent, a claim's year).
    #[test]
    fn each_record_s_file_columns_are_its_stored_columns() {
        fn check<R: StoredRecord>(derived: &[&str]) {
            let stored: Vec<&str> = R::spec().cols.iter().map(|c| c.0).collect();
            let file: Vec<&str> = R::COLUMNS.iter().map(|c| c.name).collect();
            let mut expect: Vec<&str> = file.iter().chain(derived).copied().collect();
            let mut got = stored.clone();
            expect.sort_unstable();
            got.sort_unstable();
            assert_eq!(got, expect, "{}: stored {stored:?}, file {file:?}", R::KIND);
        }
        check::<Region>(&["parent_code"]);
        check::<Household>(&[]);
        check::<Person>(&[]);
        check::<Facility>(&[]);
        check::<Practitioner>(&[]);
        check::<Claim>(&["year"]);
        check::<Threshold>(&[]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_corrupt_stored_value_is_an_error_not_a_default() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db").display().to_string()).await.unwrap();
        store.migrate().await.unwrap();
        let village = |code: &str, level| Region {
            code: RegionCode::parse(code).unwrap(),
            name: code.into(),
            level,
            urban_rural: None,
            population: None,
            lon: None,
            lat: None,
        };
        store.import(&[village("340000000000", RegionLevel::Province)]).await.unwrap();
        let Pool::Sqlite(p) = &store.pool else { unreachable!() };
        sqlx::query("UPDATE regions SET population = -7 WHERE code = 340000000000").execute(p).await.unwrap();
        let e = store.get::<Region>("340000000000").await.unwrap_err().to_string();
        assert!(e.contains("reading regions 340000000000, column population") && e.contains("-7"), "{e}");
    }

    /// A file store whose import ran with foreign keys off on its own connection:
    /// every connection of the pool still enforces them afterwards.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn foreign_keys_stay_on_after_an_import() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db").display().to_string()).await.unwrap();
        store.migrate().await.unwrap();
        let regions = [Region {
            code: RegionCode::parse("340000000000").unwrap(),
            name: "P".into(),
            level: RegionLevel::Province,
            urban_rural: None,
            population: None,
            lon: None,
            lat: None,
        }];
        store.import(&regions).await.unwrap();
        let Pool::Sqlite(p) = &store.pool else { unreachable!() };
        // Hold several connections at once, so that the check sees more than one.
        let mut conns = Vec::new();
        for _ in 0..3 {
            conns.push(p.acquire().await.unwrap());
        }
        for c in &mut conns {
            let on: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(&mut **c).await.unwrap();
            assert_eq!(on, 1);
            let bad = sqlx::query(
                "INSERT INTO households (household_id, village_code, size, income) VALUES ('H9', 999, 1, 0)",
            )
            .execute(&mut **c)
            .await;
            assert!(bad.is_err(), "a household in an unknown village was stored");
        }
    }
}
