//! Reading the columns of an Arrow table handed over from Python, by name, with
//! every refusal naming the table, the row (1-based, across the table's batches)
//! and the column, as the file readers of the binary do.

use crate::error::{EngineError, Result};
use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Int32Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, SchemaRef};
use chrono::NaiveDate;
use std::str::FromStr;

/// A table: a name for messages and its record batches.
pub struct Table {
    pub name: &'static str,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
}

impl Table {
    pub fn new(name: &'static str, schema: SchemaRef, batches: Vec<RecordBatch>) -> Table {
        Table { name, schema, batches }
    }

    pub fn rows(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }

    pub fn has(&self, column: &str) -> bool {
        self.schema.index_of(column).is_ok()
    }

    fn arrays(&self, column: &str) -> Result<Vec<&dyn Array>> {
        if !self.has(column) {
            return Err(EngineError::MissingColumn { table: self.name, column: column.to_string() });
        }
        self.batches
            .iter()
            .map(|b| {
                b.column_by_name(column)
                    .map(|a| a.as_ref())
                    .ok_or_else(|| EngineError::MissingColumn { table: self.name, column: column.to_string() })
            })
            .collect()
    }

    fn wrong_type(&self, column: &str, expected: &str, got: &DataType) -> EngineError {
        EngineError::ColumnType {
            table: self.name,
            column: column.to_string(),
            expected: expected.into(),
            got: got.to_string(),
        }
    }

    /// A text column (Utf8 or LargeUtf8), one entry per row, `None` for null.
    pub fn strings(&self, column: &str) -> Result<Vec<Option<&str>>> {
        let mut out = Vec::with_capacity(self.rows());
        for a in self.arrays(column)? {
            match a.data_type() {
                DataType::Utf8 => out.extend(a.as_string::<i32>().iter()),
                DataType::LargeUtf8 => out.extend(a.as_string::<i64>().iter()),
                DataType::Utf8View => out.extend(a.as_string_view().iter()),
                DataType::Null => out.extend(std::iter::repeat_n(None, a.len())),
                t => return Err(self.wrong_type(column, "Utf8", t)),
            }
        }
        Ok(out)
    }

    /// An `enrolled` column: Boolean, or text as a persons file writes it
    /// (`domain::enrolment::parse_enrolled`); `None` for null or an empty text.
    pub fn flags(&self, column: &str) -> Result<Vec<Option<bool>>> {
        let mut out = Vec::with_capacity(self.rows());
        let arrays = self.arrays(column)?;
        if let Some(a) = arrays.first() {
            if a.data_type() == &DataType::Boolean {
                for a in arrays {
                    out.extend(a.as_boolean().iter());
                }
                return Ok(out);
            }
        }
        for (i, s) in self.strings(column)?.into_iter().enumerate() {
            out.push(match s.map(str::trim) {
                None | Some("") => None,
                Some(t) => Some(domain::enrolment::parse_enrolled(t).map_err(|e| self.bad(i, column, &e))?),
            });
        }
        Ok(out)
    }

    /// A text column whose every row must hold a value (read straight into
    /// the values, without [`Table::strings`]' options in between).
    pub fn required_strings(&self, column: &str) -> Result<Vec<&str>> {
        let mut out = Vec::with_capacity(self.rows());
        for a in self.arrays(column)? {
            let at = out.len();
            let null = |k: usize| self.bad(at + k, column, "is empty (null)");
            match a.data_type() {
                DataType::Utf8 => {
                    let a = a.as_string::<i32>();
                    if let Some(k) = (0..a.len()).find(|&k| a.is_null(k)) {
                        return Err(null(k));
                    }
                    out.extend((0..a.len()).map(|k| a.value(k)));
                }
                DataType::LargeUtf8 => {
                    let a = a.as_string::<i64>();
                    if let Some(k) = (0..a.len()).find(|&k| a.is_null(k)) {
                        return Err(null(k));
                    }
                    out.extend((0..a.len()).map(|k| a.value(k)));
                }
                DataType::Utf8View => {
                    let a = a.as_string_view();
                    if let Some(k) = (0..a.len()).find(|&k| a.is_null(k)) {
                        return Err(null(k));
                    }
                    out.extend((0..a.len()).map(|k| a.value(k)));
                }
                DataType::Null if a.is_empty() => {}
                DataType::Null => return Err(null(0)),
                t => return Err(self.wrong_type(column, "Utf8", t)),
            }
        }
        Ok(out)
    }

    /// A whole-number column (Int64 or Int32).
    pub fn ints(&self, column: &str) -> Result<Vec<Option<i64>>> {
        let mut out = Vec::with_capacity(self.rows());
        for a in self.arrays(column)? {
            match a.data_type() {
                DataType::Int64 => out.extend(a.as_primitive::<Int64Type>().iter()),
                DataType::Int32 => out.extend(a.as_primitive::<Int32Type>().iter().map(|v| v.map(i64::from))),
                DataType::Null => out.extend(std::iter::repeat_n(None, a.len())),
                t => return Err(self.wrong_type(column, "Int64", t)),
            }
        }
        Ok(out)
    }

    pub fn required_ints(&self, column: &str) -> Result<Vec<i64>> {
        self.ints(column)?
            .into_iter()
            .enumerate()
            .map(|(i, v)| v.ok_or_else(|| self.bad(i, column, "is empty (null)")))
            .collect()
    }

    /// Money in fen (Int64): never negative.
    pub fn fen(&self, column: &str) -> Result<Vec<Option<domain::Fen>>> {
        self.ints(column)?
            .into_iter()
            .enumerate()
            .map(|(i, v)| match v {
                Some(v) if v < 0 => Err(self.bad(i, column, &format!("{v} fen is negative"))),
                v => Ok(v.map(domain::Fen)),
            })
            .collect()
    }

    pub fn required_fen(&self, column: &str) -> Result<Vec<domain::Fen>> {
        self.fen(column)?
            .into_iter()
            .enumerate()
            .map(|(i, v)| v.ok_or_else(|| self.bad(i, column, "is empty (null)")))
            .collect()
    }

    /// A date column (Date32).
    pub fn dates(&self, column: &str) -> Result<Vec<Option<NaiveDate>>> {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date");
        let mut out = Vec::with_capacity(self.rows());
        for a in self.arrays(column)? {
            match a.data_type() {
                DataType::Date32 => out.extend(
                    a.as_primitive::<Date32Type>()
                        .iter()
                        .map(|d| d.and_then(|d| epoch.checked_add_signed(chrono::Duration::days(d as i64)))),
                ),
                DataType::Null => out.extend(std::iter::repeat_n(None, a.len())),
                t => return Err(self.wrong_type(column, "Date32", t)),
            }
        }
        Ok(out)
    }

    pub fn required_dates(&self, column: &str) -> Result<Vec<NaiveDate>> {
        self.dates(column)?
            .into_iter()
            .enumerate()
            .map(|(i, v)| v.ok_or_else(|| self.bad(i, column, "is empty (null)")))
            .collect()
    }

    /// A binary column (Binary or LargeBinary), every row given.
    pub fn binaries(&self, column: &str) -> Result<Vec<&[u8]>> {
        let mut out: Vec<Option<&[u8]>> = Vec::with_capacity(self.rows());
        for a in self.arrays(column)? {
            match a.data_type() {
                DataType::Binary => out.extend(a.as_binary::<i32>().iter()),
                DataType::LargeBinary => out.extend(a.as_binary::<i64>().iter()),
                t => return Err(self.wrong_type(column, "Binary", t)),
            }
        }
        out.into_iter().enumerate().map(|(i, b)| b.ok_or_else(|| self.bad(i, column, "is empty (null)"))).collect()
    }

    /// A `List<Struct<tier Utf8, amount Int64>>` column (settlement payments):
    /// per row, the tier names and amounts in order.
    pub fn payments(&self, column: &str) -> Result<Vec<Vec<(&str, i64)>>> {
        let mut out = Vec::with_capacity(self.rows());
        let mut row = 0usize;
        for a in self.arrays(column)? {
            let (offsets, values): (Vec<usize>, &dyn Array) = match a.data_type() {
                DataType::List(_) => {
                    let l = a.as_list::<i32>();
                    (l.value_offsets().iter().map(|o| *o as usize).collect(), l.values().as_ref())
                }
                DataType::LargeList(_) => {
                    let l = a.as_list::<i64>();
                    (l.value_offsets().iter().map(|o| *o as usize).collect(), l.values().as_ref())
                }
                t => return Err(self.wrong_type(column, "List<Struct<tier, amount>>", t)),
            };
            let Some(s) = values.as_struct_opt() else {
                return Err(self.wrong_type(column, "List<Struct<tier, amount>>", a.data_type()));
            };
            let field = |name: &str| {
                s.column_by_name(name)
                    .map(|a| a.as_ref())
                    .ok_or_else(|| EngineError::MissingColumn { table: self.name, column: format!("{column}.{name}") })
            };
            let tiers: Vec<Option<&str>> = match field("tier")? {
                a if a.data_type() == &DataType::Utf8 => a.as_string::<i32>().iter().collect(),
                a if a.data_type() == &DataType::LargeUtf8 => a.as_string::<i64>().iter().collect(),
                a => return Err(self.wrong_type(&format!("{column}.tier"), "Utf8", a.data_type())),
            };
            let amounts: Vec<Option<i64>> = match field("amount")? {
                a if a.data_type() == &DataType::Int64 => a.as_primitive::<Int64Type>().iter().collect(),
                a => return Err(self.wrong_type(&format!("{column}.amount"), "Int64", a.data_type())),
            };
            for w in offsets.windows(2) {
                let mut entries = Vec::with_capacity(w[1] - w[0]);
                for k in w[0]..w[1] {
                    let (Some(t), Some(v)) = (tiers[k], amounts[k]) else {
                        return Err(self.bad(row, column, "a payment has no tier or no amount"));
                    };
                    entries.push((t, v));
                }
                out.push(entries);
                row += 1;
            }
        }
        Ok(out)
    }

    /// A refusal of row `i` (0-based here, 1-based in the message).
    pub fn bad(&self, i: usize, column: &str, reason: &str) -> EngineError {
        EngineError::Row { table: self.name, row: i + 1, column: column.to_string(), reason: reason.to_string() }
    }

    /// Parses every row of a text column with `parse`, naming the row on failure.
    pub fn parsed<T>(&self, column: &str, parse: impl Fn(&str) -> std::result::Result<T, String>) -> Result<Vec<T>> {
        self.required_strings(column)?
            .into_iter()
            .enumerate()
            .map(|(i, s)| parse(s).map_err(|e| self.bad(i, column, &e)))
            .collect()
    }

    /// [`Table::parsed`] for a type's `FromStr`.
    pub fn parsed_from_str<T: FromStr>(&self, column: &str) -> Result<Vec<T>>
    where
        T::Err: std::fmt::Display,
    {
        self.parsed(column, |s| s.parse::<T>().map_err(|e| e.to_string()))
    }
}
