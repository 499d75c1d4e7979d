//! Building the Arrow batches handed back to Python.

use arrow_array::builder::{BinaryBuilder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, Date32Array, Int64Array, ListArray, RecordBatch, StructArray};
use arrow_buffer::OffsetBuffer;
use arrow_schema::{DataType, Field, Fields, Schema};
use chrono::NaiveDate;
use std::sync::Arc;

/// A column: name, values, nullable.
pub struct Col(pub &'static str, pub ArrayRef, pub bool);

pub fn batch(cols: Vec<Col>) -> RecordBatch {
    let schema = Schema::new(cols.iter().map(|c| Field::new(c.0, c.1.data_type().clone(), c.2)).collect::<Vec<_>>());
    RecordBatch::try_new(Arc::new(schema), cols.into_iter().map(|c| c.1).collect())
        .expect("columns of equal length and matching types")
}

pub fn strings<S: AsRef<str>>(values: impl IntoIterator<Item = S>) -> ArrayRef {
    let values = values.into_iter();
    let mut b = StringBuilder::with_capacity(values.size_hint().0, 0);
    for v in values {
        b.append_value(v);
    }
    Arc::new(b.finish())
}

pub fn opt_strings<S: AsRef<str>>(values: impl IntoIterator<Item = Option<S>>) -> ArrayRef {
    let values = values.into_iter();
    let mut b = StringBuilder::with_capacity(values.size_hint().0, 0);
    for v in values {
        b.append_option(v);
    }
    Arc::new(b.finish())
}

pub fn ints(values: impl IntoIterator<Item = i64>) -> ArrayRef {
    Arc::new(values.into_iter().collect::<Int64Array>())
}

pub fn opt_ints(values: impl IntoIterator<Item = Option<i64>>) -> ArrayRef {
    let mut b = Int64Builder::new();
    for v in values {
        b.append_option(v);
    }
    Arc::new(b.finish())
}

pub fn dates(values: impl IntoIterator<Item = NaiveDate>) -> ArrayRef {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date");
    Arc::new(Date32Array::from(values.into_iter().map(|d| (d - epoch).num_days() as i32).collect::<Vec<i32>>()))
}

pub fn binaries<B: AsRef<[u8]>>(values: impl IntoIterator<Item = B>) -> ArrayRef {
    let mut b = BinaryBuilder::new();
    for v in values {
        b.append_value(v);
    }
    Arc::new(b.finish())
}

fn payment_struct() -> DataType {
    DataType::Struct(payment_fields())
}

fn payment_fields() -> Fields {
    Fields::from(vec![Field::new("tier", DataType::Utf8, true), Field::new("amount", DataType::Int64, true)])
}

/// `List<Struct<tier, amount>>`: row `i` holds `rows[i]`.
pub fn payments<'a>(rows: impl IntoIterator<Item = (&'a [String], &'a [domain::Fen])>) -> ArrayRef {
    let mut offsets = vec![0i32];
    let mut tiers = StringBuilder::new();
    let mut amounts = Int64Builder::new();
    for (names, values) in rows {
        for (n, v) in names.iter().zip(values) {
            tiers.append_value(n);
            amounts.append_value(v.0);
        }
        offsets.push(offsets.last().copied().unwrap_or(0) + names.len() as i32);
    }
    let values = StructArray::new(
        payment_fields(),
        vec![Arc::new(tiers.finish()) as ArrayRef, Arc::new(amounts.finish()) as ArrayRef],
        None,
    );
    let field = Arc::new(Field::new("element", payment_struct(), true));
    Arc::new(ListArray::new(field, OffsetBuffer::new(offsets.into()), Arc::new(values), None))
}
