//! Bulk writes and key look-ups through SQLite's own C interface, for imports.
//!
//! sqlx binds each value of a statement by looking up the parameter's name (a scan
//! over the statement's parameters) and copies each text into an owned argument;
//! for an import of a million rows that cost ten times the parsing of the file. Here
//! one prepared single-row statement is bound by position, with texts borrowed from
//! the batch, and stepped once per row, inside the caller's transaction on the same
//! connection. Values are stored exactly as sqlx stores them (dates as `YYYY-MM-DD`
//! text, booleans as 0/1, money and codes as integers), so either path reads back
//! the same rows.
//!
//! The connection is taken from sqlx's worker with
//! [`sqlx::sqlite::SqliteConnection::lock_handle`], which guarantees that the worker
//! makes no call on it while the handle is held.

use crate::error::StoreError;
use crate::vals::Val;
use libsqlite3_sys as ffi;
use sqlx::sqlite::LockedSqliteHandle;
use std::ffi::{c_char, c_int, CStr};
use std::marker::PhantomData;
use std::ptr;

/// A failure reported by SQLite: its extended result code and message.
#[derive(Debug)]
pub(crate) struct RawError {
    pub code: c_int,
    pub message: String,
}

impl RawError {
    fn from_db(db: *mut ffi::sqlite3, code: c_int) -> RawError {
        // SAFETY: `db` is an open connection; the message is copied before any other call.
        let message = unsafe {
            let m = ffi::sqlite3_errmsg(db);
            if m.is_null() {
                String::new()
            } else {
                CStr::from_ptr(m).to_string_lossy().into_owned()
            }
        };
        RawError { code, message }
    }

    /// As a store error, in the words [`crate::error::wrap`] uses for sqlx's errors.
    pub fn into_store(self, context: String) -> StoreError {
        let what = match self.code {
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => Some("a row refers to another that is not in the store"),
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                Some("a row with the same key is already in the store")
            }
            ffi::SQLITE_CONSTRAINT_CHECK => Some("a value is outside its allowed list"),
            ffi::SQLITE_CONSTRAINT_NOTNULL => Some("a required value is missing"),
            _ => None,
        };
        match what {
            Some(what) => StoreError::Constraint { context, detail: format!("{what} ({})", self.message) },
            None => StoreError::Sqlite { context, code: self.code, message: self.message },
        }
    }
}

/// One prepared statement on a locked connection.
struct Stmt<'c> {
    db: *mut ffi::sqlite3,
    raw: *mut ffi::sqlite3_stmt,
    _conn: PhantomData<&'c mut LockedSqliteHandle<'c>>,
}

impl<'c> Stmt<'c> {
    fn prepare(handle: &'c mut LockedSqliteHandle<'_>, sql: &str) -> Result<Stmt<'c>, RawError> {
        let db = handle.as_raw_handle().as_ptr();
        let mut raw = ptr::null_mut();
        let len = c_int::try_from(sql.len())
            .map_err(|_| RawError { code: ffi::SQLITE_TOOBIG, message: "statement too long".into() })?;
        // SAFETY: `db` is open and locked for us; `sql` is valid for `len` bytes.
        let rc = unsafe { ffi::sqlite3_prepare_v2(db, sql.as_ptr() as *const c_char, len, &mut raw, ptr::null_mut()) };
        if rc != ffi::SQLITE_OK {
            return Err(RawError::from_db(db, rc));
        }
        Ok(Stmt { db, raw, _conn: PhantomData })
    }

    fn check(&self, rc: c_int) -> Result<(), RawError> {
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(RawError::from_db(self.db, rc))
        }
    }

    /// Binds `v` to parameter `i` (from 1). Texts are bound without a copy: `v`
    /// must stay alive and unchanged until the statement has been stepped and reset.
    fn bind(&mut self, i: c_int, v: &Val<'_>, date: &mut String) -> Result<(), RawError> {
        // SAFETY: the statement is prepared; pointers and lengths describe live
        // buffers that the caller keeps until the step (see above). Dates are copied
        // by SQLite (SQLITE_TRANSIENT) because `date` is reused for the next one.
        let rc = unsafe {
            match v {
                Val::I(Some(x)) => ffi::sqlite3_bind_int64(self.raw, i, *x),
                Val::R(Some(x)) => ffi::sqlite3_bind_double(self.raw, i, *x),
                Val::B(b) => ffi::sqlite3_bind_int64(self.raw, i, i64::from(*b)),
                Val::T(Some(s)) => {
                    ffi::sqlite3_bind_text(self.raw, i, s.as_ptr() as *const c_char, text_len(s)?, ffi::SQLITE_STATIC())
                }
                Val::D(Some(d)) => {
                    iso_date(*d, date);
                    ffi::sqlite3_bind_text(
                        self.raw,
                        i,
                        date.as_ptr() as *const c_char,
                        text_len(date)?,
                        ffi::SQLITE_TRANSIENT(),
                    )
                }
                Val::I(None) | Val::R(None) | Val::T(None) | Val::D(None) => ffi::sqlite3_bind_null(self.raw, i),
            }
        };
        self.check(rc)
    }

    /// Runs the statement once: the first column of the row it produced, if any.
    fn step_first_int(&mut self) -> Result<Option<i64>, RawError> {
        // SAFETY: the statement is prepared and its parameters bound; the column is
        // read before the reset.
        let rc = unsafe { ffi::sqlite3_step(self.raw) };
        let out = match rc {
            ffi::SQLITE_ROW => Ok(Some(unsafe { ffi::sqlite3_column_int64(self.raw, 0) })),
            ffi::SQLITE_DONE => Ok(None),
            _ => Err(RawError::from_db(self.db, unsafe { ffi::sqlite3_extended_errcode(self.db) })),
        };
        // SAFETY: as in `step`.
        unsafe { ffi::sqlite3_reset(self.raw) };
        out
    }

    /// Runs the statement once: `Ok(true)` when it produced a row.
    fn step(&mut self) -> Result<bool, RawError> {
        // SAFETY: the statement is prepared and its parameters bound.
        let rc = unsafe { ffi::sqlite3_step(self.raw) };
        let out = match rc {
            ffi::SQLITE_ROW => Ok(true),
            ffi::SQLITE_DONE => Ok(false),
            // The extended code says which constraint failed.
            _ => Err(RawError::from_db(self.db, unsafe { ffi::sqlite3_extended_errcode(self.db) })),
        };
        // SAFETY: resetting a prepared statement is always allowed; its error repeats
        // the step's, already taken.
        unsafe { ffi::sqlite3_reset(self.raw) };
        out
    }
}

impl Drop for Stmt<'_> {
    fn drop(&mut self) {
        // SAFETY: finalised once, here.
        unsafe { ffi::sqlite3_finalize(self.raw) };
    }
}

/// `YYYY-MM-DD`, as sqlx (and chrono's `%F`) writes a date of years 0 to 9999.
fn iso_date(d: chrono::NaiveDate, out: &mut String) {
    use chrono::Datelike;
    out.clear();
    let (y, m, day) = (d.year(), d.month(), d.day());
    if !(0..=9999).contains(&y) {
        use std::fmt::Write as _;
        let _ = write!(out, "{}", d.format("%F"));
        return;
    }
    let y = y as u32;
    for digit in [y / 1000, y / 100 % 10, y / 10 % 10, y % 10] {
        out.push(char::from(b'0' + digit as u8));
    }
    out.push('-');
    out.push(char::from(b'0' + (m / 10) as u8));
    out.push(char::from(b'0' + (m % 10) as u8));
    out.push('-');
    out.push(char::from(b'0' + (day / 10) as u8));
    out.push(char::from(b'0' + (day % 10) as u8));
}

fn text_len(s: &str) -> Result<c_int, RawError> {
    c_int::try_from(s.len()).map_err(|_| RawError { code: ffi::SQLITE_TOOBIG, message: "text too long".into() })
}

/// Writes `rows` with `sql(n)`, a statement of `n` rows of `row.len()`
/// parameters each: full statements of `per` rows, prepared once, then one for the
/// rest. Several rows a statement spare SQLite a statement's set-up and its
/// statement journal for each row.
pub(crate) fn execute_rows(
    handle: &mut LockedSqliteHandle<'_>,
    sql: impl Fn(usize) -> String,
    rows: &[&[Val<'_>]],
    per: usize,
) -> Result<(), RawError> {
    let per = per.max(1);
    let mut date = String::with_capacity(16);
    let run = |stmt: &mut Stmt<'_>, chunk: &[&[Val<'_>]]| -> Result<(), RawError> {
        let mut i: c_int = 1;
        for row in chunk {
            for v in row.iter() {
                stmt.bind(i, v, &mut date)?;
                i += 1;
            }
        }
        stmt.step().map(drop)
    };
    in_statements(handle, sql, rows, per, run)
}

/// Writes `rows` as [`execute_rows`] does, each row's values made by `f` as the
/// statement that carries it is bound (so that a batch of millions of rows never
/// holds all its values at once): full statements of `per` rows, prepared once,
/// then one for the rest.
pub(crate) fn execute_mapped<'r, T, const N: usize>(
    handle: &mut LockedSqliteHandle<'_>,
    sql: impl Fn(usize) -> String,
    rows: &'r [T],
    per: usize,
    f: impl Fn(&'r T) -> [Val<'r>; N],
) -> Result<(), RawError> {
    let per = per.max(1);
    let mut date = String::with_capacity(16);
    // The values of one statement's rows, alive until it has been stepped (texts
    // are bound without a copy).
    let mut vals: Vec<[Val<'r>; N]> = Vec::with_capacity(per);
    let run = |stmt: &mut Stmt<'_>, chunk: &'r [T]| -> Result<(), RawError> {
        vals.clear();
        vals.extend(chunk.iter().map(&f));
        let mut i: c_int = 1;
        for row in &vals {
            for v in row {
                stmt.bind(i, v, &mut date)?;
                i += 1;
            }
        }
        stmt.step().map(drop)
    };
    in_statements(handle, sql, rows, per, run)
}

/// Runs `run` over `rows` in full statements of `per` rows, `sql(per)` prepared
/// once, then one statement `sql(rest)` for the rows left.
fn in_statements<'r, T>(
    handle: &mut LockedSqliteHandle<'_>,
    sql: impl Fn(usize) -> String,
    rows: &'r [T],
    per: usize,
    mut run: impl FnMut(&mut Stmt<'_>, &'r [T]) -> Result<(), RawError>,
) -> Result<(), RawError> {
    let full = rows.len() / per * per;
    if full > 0 {
        let mut stmt = Stmt::prepare(handle, &sql(per))?;
        for chunk in rows[..full].chunks(per) {
            run(&mut stmt, chunk)?;
        }
    }
    if full < rows.len() {
        let mut stmt = Stmt::prepare(handle, &sql(rows.len() - full))?;
        run(&mut stmt, &rows[full..])?;
    }
    Ok(())
}

/// For each key, whether `sql` (a query with one parameter) finds a row: `None`
/// when it does not, else the row's first column as an integer (0 when NULL or
/// not a number).
pub(crate) fn first_int_each<'v>(
    handle: &mut LockedSqliteHandle<'_>,
    sql: &str,
    keys: impl IntoIterator<Item = &'v Val<'v>>,
) -> Result<Vec<Option<i64>>, RawError> {
    let mut stmt = Stmt::prepare(handle, sql)?;
    let mut date = String::with_capacity(16);
    let mut out = Vec::new();
    for k in keys {
        stmt.bind(1, k, &mut date)?;
        out.push(stmt.step_first_int()?);
    }
    Ok(out)
}

/// For each key, whether `sql` (a query with one parameter) finds a row.
pub(crate) fn exists_each<'v>(
    handle: &mut LockedSqliteHandle<'_>,
    sql: &str,
    keys: impl IntoIterator<Item = &'v Val<'v>>,
) -> Result<Vec<bool>, RawError> {
    Ok(first_int_each(handle, sql, keys)?.into_iter().map(|v| v.is_some()).collect())
}

/// One row of a query, read in place (valid until the next step).
pub(crate) struct Row<'s> {
    raw: *mut ffi::sqlite3_stmt,
    _stmt: PhantomData<&'s Stmt<'s>>,
}

impl Row<'_> {
    /// Column `i` (from 0) as an integer (0 when NULL).
    pub fn int(&self, i: c_int) -> i64 {
        // SAFETY: the statement has a row; SQLite checks the column index.
        unsafe { ffi::sqlite3_column_int64(self.raw, i) }
    }

    /// Column `i` as text ("" when NULL); an error when it is not UTF-8.
    pub fn text(&self, i: c_int) -> Result<&str, String> {
        // SAFETY: the pointer and length describe SQLite's buffer for this column of
        // this row, valid until the next step (which the borrow prevents).
        let bytes = unsafe {
            let p = ffi::sqlite3_column_text(self.raw, i);
            let n = ffi::sqlite3_column_bytes(self.raw, i);
            if p.is_null() || n <= 0 {
                return Ok("");
            }
            std::slice::from_raw_parts(p, n as usize)
        };
        std::str::from_utf8(bytes).map_err(|e| format!("column {i} is not UTF-8: {e}"))
    }

    /// Whether column `i` is NULL.
    pub fn is_null(&self, i: c_int) -> bool {
        // SAFETY: as for `int`.
        unsafe { ffi::sqlite3_column_type(self.raw, i) == ffi::SQLITE_NULL }
    }

    /// Column `i` as a value of type `ty` (NULL as `None` where the type allows).
    pub fn val(&self, i: c_int, ty: crate::vals::Ty) -> Result<Val<'static>, String> {
        use crate::vals::Ty;
        let null = self.is_null(i);
        Ok(match ty {
            Ty::Int => Val::I((!null).then(|| self.int(i))),
            // SAFETY: as for `int`.
            Ty::Real => Val::R((!null).then(|| unsafe { ffi::sqlite3_column_double(self.raw, i) })),
            Ty::Text => {
                Val::T((!null).then(|| self.text(i).map(|t| std::borrow::Cow::Owned(t.to_string()))).transpose()?)
            }
            Ty::Bool => Val::B(self.int(i) != 0),
            Ty::Date => Val::D((!null).then(|| self.date(i)).transpose()?),
        })
    }

    /// Column `i` as an instant written in RFC 3339 (as sqlx writes them).
    pub fn instant(&self, i: c_int) -> Result<chrono::DateTime<chrono::Utc>, String> {
        let t = self.text(i)?;
        chrono::DateTime::parse_from_rfc3339(t)
            .map(|d| d.with_timezone(&chrono::Utc))
            .map_err(|e| format!("column {i}: {t:?} is not an instant: {e}"))
    }

    /// Column `i` as a date written `YYYY-MM-DD` (as sqlx writes dates).
    pub fn date(&self, i: c_int) -> Result<chrono::NaiveDate, String> {
        let t = self.text(i)?;
        chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|e| format!("column {i}: {t:?} is not a date: {e}"))
    }
}

/// Runs the query `sql` with `binds` and hands each row to `f`, in order. Reads
/// rows where SQLite holds them, without a copy or a message per row (sqlx hands
/// each row across threads, which costs more than reading it).
pub(crate) fn query_each(
    handle: &mut LockedSqliteHandle<'_>,
    sql: &str,
    binds: &[Val<'_>],
    mut f: impl FnMut(&Row<'_>) -> Result<(), String>,
) -> Result<(), RawError> {
    let mut stmt = Stmt::prepare(handle, sql)?;
    let mut date = String::with_capacity(16);
    for (i, v) in binds.iter().enumerate() {
        // `$n` is the n-th bind wherever it appears (SQLite numbers parameters in
        // the order they first appear); other parameters go by position.
        let name = std::ffi::CString::new(format!("${}", i + 1)).expect("no NUL in a parameter name");
        // SAFETY: the statement is prepared and the name is a NUL-terminated string.
        let at = unsafe { ffi::sqlite3_bind_parameter_index(stmt.raw, name.as_ptr()) };
        stmt.bind(if at > 0 { at } else { i as c_int + 1 }, v, &mut date)?;
    }
    loop {
        // SAFETY: the statement is prepared and bound; its binds live until it is dropped.
        let rc = unsafe { ffi::sqlite3_step(stmt.raw) };
        match rc {
            ffi::SQLITE_ROW => {
                let row = Row { raw: stmt.raw, _stmt: PhantomData };
                f(&row).map_err(|message| RawError { code: ffi::SQLITE_MISMATCH, message })?;
            }
            ffi::SQLITE_DONE => return Ok(()),
            _ => return Err(RawError::from_db(stmt.db, unsafe { ffi::sqlite3_extended_errcode(stmt.db) })),
        }
    }
}

/// Runs the query `sql` with `binds` on a connection of the pool with
/// [`query_each`], where blocking is allowed.
pub(crate) async fn pool_each(
    pool: &sqlx::SqlitePool,
    sql: &str,
    binds: &[Val<'_>],
    context: &str,
    f: impl FnMut(&Row<'_>) -> Result<(), String>,
) -> Result<(), StoreError> {
    use crate::error::Ctx;
    let mut conn = pool.acquire().await.ctx(context)?;
    let mut handle = conn.lock_handle().await.ctx(context)?;
    blocking(|| query_each(&mut handle, sql, binds, f)).map_err(|e| e.into_store(context.to_string()))
}

/// Runs `f` where blocking is allowed: on a multi-threaded runtime the worker hands
/// its other tasks on first, so that a long import does not stall them.
pub(crate) fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_are_written_as_chrono_writes_them() {
        let mut out = String::new();
        for (y, m, d) in
            [(2024, 1, 1), (1900, 12, 31), (999, 5, 7), (9999, 10, 10), (0, 1, 1), (-5, 3, 4), (12000, 1, 1)]
        {
            let date = chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
            super::iso_date(date, &mut out);
            assert_eq!(out, date.format("%F").to_string());
        }
    }
}
