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
    D(NaiveDate),
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
            Val::D(d) => Some(*d),
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
            Val::D(d) => d.to_string(),
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
            $crate::vals::Ty::Date => $row.try_get::<chrono::NaiveDate, _>($i).map($crate::vals::Val::D),
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
