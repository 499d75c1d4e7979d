//! Rows as plain values, the form in which the registry moves between Rust and
//! either engine. A record becomes a `Vec<Val>` in its table's column order; a row
//! read back becomes the same, so "unchanged" is a plain comparison of values as
//! stored, and binding and decoding are written once for both engines.

use chrono::NaiveDate;
use std::borrow::Cow;

/// The storage type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Int,
    Text,
    Real,
    Bool,
    Date,
}

/// One stored value; `None` is SQL NULL.
#[derive(Debug, Clone, PartialEq)]
pub enum Val<'a> {
    I(Option<i64>),
    T(Option<Cow<'a, str>>),
    R(Option<f64>),
    B(bool),
    D(Option<NaiveDate>),
}

impl<'a> Val<'a> {
    pub fn int(v: i64) -> Val<'a> {
        Val::I(Some(v))
    }
    pub fn text(s: &'a str) -> Val<'a> {
        Val::T(Some(Cow::Borrowed(s)))
    }
    pub fn owned(s: String) -> Val<'a> {
        Val::T(Some(Cow::Owned(s)))
    }
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Val::I(v) => *v,
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::T(v) => v.as_deref(),
            _ => None,
        }
    }
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Val::R(v) => *v,
            _ => None,
        }
    }
    pub fn as_bool(&self) -> bool {
        matches!(self, Val::B(true))
    }
    pub fn as_date(&self) -> Option<NaiveDate> {
        match self {
            Val::D(d) => *d,
            _ => None,
        }
    }
    pub fn into_owned(self) -> Val<'static> {
        match self {
            Val::I(v) => Val::I(v),
            Val::T(v) => Val::T(v.map(|c| Cow::Owned(c.into_owned()))),
            Val::R(v) => Val::R(v),
            Val::B(v) => Val::B(v),
            Val::D(v) => Val::D(v),
        }
    }
    /// A text form for keys and messages.
    pub fn key_text(&self) -> String {
        match self {
            Val::I(Some(v)) => v.to_string(),
            Val::T(Some(s)) => s.to_string(),
            Val::R(Some(v)) => v.to_string(),
            Val::B(b) => b.to_string(),
            Val::D(Some(d)) => d.to_string(),
            _ => String::new(),
        }
    }
}

/// Binds one value to a query; expands inside [`crate::db::on_pool`] bodies so it
/// compiles for each engine.
macro_rules! bind_val {
    ($q:expr, $v:expr) => {
        match $v {
            $crate::vals::Val::I(x) => $q.bind(*x),
            $crate::vals::Val::T(x) => $q.bind(x.as_deref()),
            $crate::vals::Val::R(x) => $q.bind(*x),
            $crate::vals::Val::B(x) => $q.bind(*x),
            $crate::vals::Val::D(x) => $q.bind(*x),
        }
    };
}
pub(crate) use bind_val;

/// Decodes column `$i` of `$row` as type `$ty` into a [`Val`].
macro_rules! get_val {
    ($row:expr, $i:expr, $ty:expr) => {{
        use sqlx::Row as _;
        match $ty {
            $crate::vals::Ty::Int => $row.try_get::<Option<i64>, _>($i).map($crate::vals::Val::I),
            $crate::vals::Ty::Text => {
                $row.try_get::<Option<String>, _>($i).map(|s| $crate::vals::Val::T(s.map(std::borrow::Cow::Owned)))
            }
            $crate::vals::Ty::Real => $row.try_get::<Option<f64>, _>($i).map($crate::vals::Val::R),
            $crate::vals::Ty::Bool => $row.try_get::<bool, _>($i).map($crate::vals::Val::B),
            $crate::vals::Ty::Date => $row.try_get::<Option<chrono::NaiveDate>, _>($i).map($crate::vals::Val::D),
        }
    }};
}
pub(crate) use get_val;

/// `($1, $2, ...), ($k+1, ...)`: `rows` groups of `cols` placeholders.
pub(crate) fn placeholders(rows: usize, cols: usize) -> String {
    let mut s = String::with_capacity(rows * cols * 7);
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            s.push(',');
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push(',');
            }
            n += 1;
            s.push('$');
            s.push_str(&n.to_string());
        }
        s.push(')');
    }
    s
}

/// `$from, $from+1, ... ` : `n` placeholders in a list.
pub(crate) fn list(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(",")
}

/// One column of many rows, bound to PostgreSQL as one array, so that a batch
/// goes out as `INSERT ... SELECT * FROM unnest($1::BIGINT[], $2::TEXT[], ...)`:
/// one short statement, prepared once, whatever the number of rows (a
/// `VALUES` list binds a parameter per value, and PostgreSQL parses and plans
/// every width of it again).
#[derive(Debug)]
pub(crate) enum PgArray<'a> {
    I(Vec<Option<i64>>),
    T(Vec<Option<&'a str>>),
    R(Vec<Option<f64>>),
    B(Vec<bool>),
    D(Vec<Option<NaiveDate>>),
    At(Vec<chrono::DateTime<chrono::Utc>>),
}

impl<'a> PgArray<'a> {
    fn sql_type(&self) -> &'static str {
        match self {
            PgArray::I(_) => "BIGINT[]",
            PgArray::T(_) => "TEXT[]",
            PgArray::R(_) => "DOUBLE PRECISION[]",
            PgArray::B(_) => "BOOLEAN[]",
            PgArray::D(_) => "DATE[]",
            PgArray::At(_) => "TIMESTAMPTZ[]",
        }
    }

    /// Column `i` of `rows`, each a row's values as [`Val`]s of the column's type `ty`.
    pub(crate) fn of_vals(ty: Ty, rows: &[&'a [Val<'a>]], i: usize) -> Result<PgArray<'a>, String> {
        let bad = |v: &Val<'_>| format!("a value {v:?} in a column of {ty:?}");
        Ok(match ty {
            Ty::Int => PgArray::I(
                rows.iter()
                    .map(|r| match &r[i] {
                        Val::I(v) => Ok(*v),
                        v => Err(bad(v)),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Ty::Text => PgArray::T(
                rows.iter()
                    .map(|r| match &r[i] {
                        Val::T(v) => Ok(v.as_deref()),
                        v => Err(bad(v)),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Ty::Real => PgArray::R(
                rows.iter()
                    .map(|r| match &r[i] {
                        Val::R(v) => Ok(*v),
                        v => Err(bad(v)),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Ty::Bool => PgArray::B(
                rows.iter()
                    .map(|r| match &r[i] {
                        Val::B(v) => Ok(*v),
                        v => Err(bad(v)),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Ty::Date => PgArray::D(
                rows.iter()
                    .map(|r| match &r[i] {
                        Val::D(v) => Ok(*v),
                        v => Err(bad(v)),
                    })
                    .collect::<Result<_, _>>()?,
            ),
        })
    }

    fn len(&self) -> usize {
        match self {
            PgArray::I(v) => v.len(),
            PgArray::T(v) => v.len(),
            PgArray::R(v) => v.len(),
            PgArray::B(v) => v.len(),
            PgArray::D(v) => v.len(),
            PgArray::At(v) => v.len(),
        }
    }
}

/// Rows a statement of [`pg_insert`] carries at most, so that one message
/// stays some tens of megabytes.
pub(crate) const PG_ROWS_A_STATEMENT: usize = 100_000;

/// `INSERT INTO table (cols) SELECT * FROM unnest($1::T1[], ...) suffix` with the
/// columns `arrays` (of equal lengths, in the order of `cols`); `suffix` is what
/// follows (an `ON CONFLICT` clause, or nothing). Returns the rows affected.
/// `table`, `cols` and `suffix` are the store's own text. The caller keeps a
/// batch under [`PG_ROWS_A_STATEMENT`] rows.
pub(crate) async fn pg_insert(
    conn: &mut sqlx::PgConnection,
    table: &str,
    cols: &[&str],
    arrays: Vec<PgArray<'_>>,
    suffix: &str,
    ctx: &str,
) -> Result<u64, crate::error::StoreError> {
    use crate::error::Ctx;
    debug_assert_eq!(cols.len(), arrays.len());
    let n = arrays.first().map_or(0, PgArray::len);
    if n == 0 {
        return Ok(0);
    }
    if arrays.iter().any(|a| a.len() != n) {
        return Err(crate::error::StoreError::Invalid(format!("{ctx}: columns of unequal lengths")));
    }
    let params: Vec<String> = arrays.iter().enumerate().map(|(i, a)| format!("${}::{}", i + 1, a.sql_type())).collect();
    let sql = format!("INSERT INTO {table} ({}) SELECT * FROM unnest({}) {suffix}", cols.join(", "), params.join(", "));
    let mut q = sqlx::query(&sql);
    for a in arrays {
        q = match a {
            PgArray::I(v) => q.bind(v),
            PgArray::T(v) => q.bind(v),
            PgArray::R(v) => q.bind(v),
            PgArray::B(v) => q.bind(v),
            PgArray::D(v) => q.bind(v),
            PgArray::At(v) => q.bind(v),
        };
    }
    Ok(q.execute(conn).await.ctx(ctx)?.rows_affected())
}

/// One line of `COPY ... FROM STDIN` in PostgreSQL's text format, written
/// value by value into a buffer: values separated by tabs, texts with their
/// backslashes, tabs, newlines and carriage returns escaped.
pub(crate) struct CopyLine<'b> {
    buf: &'b mut Vec<u8>,
    first: bool,
}

impl CopyLine<'_> {
    fn sep(&mut self) {
        if !self.first {
            self.buf.push(b'\t');
        }
        self.first = false;
    }

    pub(crate) fn int(&mut self, v: i64) -> &mut Self {
        self.sep();
        let digits = itoa_buf(v);
        self.buf.extend_from_slice(digits.as_bytes());
        self
    }

    pub(crate) fn text(&mut self, v: &str) -> &mut Self {
        self.sep();
        for &c in v.as_bytes() {
            match c {
                b'\\' => self.buf.extend_from_slice(b"\\\\"),
                b'\t' => self.buf.extend_from_slice(b"\\t"),
                b'\n' => self.buf.extend_from_slice(b"\\n"),
                b'\r' => self.buf.extend_from_slice(b"\\r"),
                _ => self.buf.push(c),
            }
        }
        self
    }

    pub(crate) fn bool(&mut self, v: bool) -> &mut Self {
        self.sep();
        self.buf.push(if v { b't' } else { b'f' });
        self
    }
}

/// An integer's decimal digits, without an allocation.
struct Digits {
    bytes: [u8; 20],
    start: usize,
}

impl Digits {
    fn as_bytes(&self) -> &[u8] {
        &self.bytes[self.start..]
    }
}

fn itoa_buf(v: i64) -> Digits {
    let mut bytes = [0u8; 20];
    let mut i = bytes.len();
    let neg = v < 0;
    let mut n = v.unsigned_abs();
    loop {
        i -= 1;
        bytes[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if neg {
        i -= 1;
        bytes[i] = b'-';
    }
    Digits { bytes, start: i }
}

/// Bytes of COPY data sent a message.
const COPY_BUFFER: usize = 1 << 20;

/// `COPY table (cols) FROM STDIN` of `rows`, each written as one line by
/// `write` (its values in the order of `cols`): the rows go as a stream of
/// data, parsed by the server without a statement to plan or arrays to unpack,
/// the fastest way PostgreSQL offers to load rows. Insert triggers fire as for
/// an `INSERT` (the statement triggers of `fresh.rs` see every row of the COPY
/// in their transition table). `table` and `cols` are the store's own names.
/// Returns the rows written.
pub(crate) async fn pg_copy<T>(
    conn: &mut sqlx::PgConnection,
    table: &str,
    cols: &[&str],
    rows: &[T],
    write: impl Fn(&T, &mut CopyLine<'_>),
    ctx: &str,
) -> Result<u64, crate::error::StoreError> {
    use crate::error::Ctx;
    if rows.is_empty() {
        return Ok(0);
    }
    let sql = format!("COPY {table} ({}) FROM STDIN", cols.join(", "));
    let mut copy = conn.copy_in_raw(&sql).await.ctx(ctx)?;
    let mut buf: Vec<u8> = Vec::with_capacity(COPY_BUFFER + 4096);
    for r in rows {
        let mut line = CopyLine { buf: &mut buf, first: true };
        write(r, &mut line);
        buf.push(b'\n');
        if buf.len() >= COPY_BUFFER {
            copy.send(std::mem::take(&mut buf)).await.ctx(ctx)?;
            buf = Vec::with_capacity(COPY_BUFFER + 4096);
        }
    }
    if !buf.is_empty() {
        copy.send(buf).await.ctx(ctx)?;
    }
    copy.finish().await.ctx(ctx)
}

#[cfg(test)]
mod copy_tests {
    use super::*;

    #[test]
    fn copy_lines_escape_texts_and_write_integers() {
        let mut buf = Vec::new();
        CopyLine { buf: &mut buf, first: true }.text("a\tb\\c\nd\re").int(-42).int(0).bool(true).int(i64::MIN);
        assert_eq!(String::from_utf8(buf).unwrap(), "a\\tb\\\\c\\nd\\re\t-42\t0\tt\t-9223372036854775808");
    }
}
