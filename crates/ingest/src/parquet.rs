//! Parquet datasets for the exchange with a cluster (docs/parquet.md): a writer
//! of one dataset (partitioned by province, hive style, or one file), a directory
//! written whole or not at all, and a reader of a dataset's files with typed
//! columns whose errors name the file, the row and the column.
//!
//! The columns are plain Arrow types: `Utf8`, `Int64` (money in fen), `Date32`,
//! `Boolean`, `Float64`, `Binary`, and the settlements' `payments` as
//! `List<Struct<tier Utf8, amount Int64>>`.

use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, ListBuilder, StringBuilder,
    StructBuilder,
};
use arrow_array::{
    Array, ArrayRef, BinaryArray, Int32Array, Int64Array, LargeBinaryArray, LargeStringArray, ListArray, RecordBatch,
    StringArray, StructArray,
};
use arrow_schema::{DataType, Field, Fields, Schema};
use chrono::NaiveDate;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Rows buffered before they are written as a record batch.
const BATCH_ROWS: usize = 64 * 1024;

/// A failure to write or read Parquet, naming the path.
#[derive(Debug, thiserror::Error)]
pub enum ParquetError {
    #[error("{}: {error}", path.display())]
    Io { path: PathBuf, error: std::io::Error },
    #[error("{}: {reason}", path.display())]
    Format { path: PathBuf, reason: String },
    /// The output directory exists and holds something.
    #[error("{} exists and is not empty; give a new directory", path.display())]
    NotEmpty { path: PathBuf },
}

fn io(path: &Path, error: std::io::Error) -> ParquetError {
    ParquetError::Io { path: path.to_path_buf(), error }
}

fn format(path: &Path, reason: impl fmt::Display) -> ParquetError {
    ParquetError::Format { path: path.to_path_buf(), reason: reason.to_string() }
}

/// A column's type in a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    Utf8,
    Int64,
    Date32,
    Boolean,
    Float64,
    Binary,
    /// `List<Struct<tier Utf8, amount Int64>>`.
    Payments,
}

/// A column of a dataset: its name, type, and whether it may hold nulls.
#[derive(Debug, Clone, Copy)]
pub struct Col {
    pub name: &'static str,
    pub ty: ColType,
    pub nullable: bool,
}

impl Col {
    pub const fn req(name: &'static str, ty: ColType) -> Col {
        Col { name, ty, nullable: false }
    }
    pub const fn opt(name: &'static str, ty: ColType) -> Col {
        Col { name, ty, nullable: true }
    }
}

/// One value of a row, in the order of the dataset's columns.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Str(Option<String>),
    Int(Option<i64>),
    Date(Option<NaiveDate>),
    Bool(Option<bool>),
    F64(Option<f64>),
    Bin(Option<Vec<u8>>),
    /// `(tier, amount in fen)` in tier order.
    Payments(Vec<(String, i64)>),
}

impl Cell {
    pub fn str(s: impl Into<String>) -> Cell {
        Cell::Str(Some(s.into()))
    }
    /// A text that is null when empty (an optional value absent).
    pub fn opt_str(s: &str) -> Cell {
        Cell::Str((!s.is_empty()).then(|| s.to_string()))
    }
    pub fn int(v: i64) -> Cell {
        Cell::Int(Some(v))
    }
    pub fn date(d: NaiveDate) -> Cell {
        Cell::Date(Some(d))
    }
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("the epoch")
}

fn payments_field() -> Field {
    let item =
        Fields::from(vec![Field::new("tier", DataType::Utf8, false), Field::new("amount", DataType::Int64, false)]);
    Field::new("item", DataType::Struct(item), true)
}

/// The Arrow schema of a dataset.
pub fn schema(cols: &[Col]) -> Schema {
    Schema::new(
        cols.iter()
            .map(|c| {
                let ty = match c.ty {
                    ColType::Utf8 => DataType::Utf8,
                    ColType::Int64 => DataType::Int64,
                    ColType::Date32 => DataType::Date32,
                    ColType::Boolean => DataType::Boolean,
                    ColType::Float64 => DataType::Float64,
                    ColType::Binary => DataType::Binary,
                    ColType::Payments => DataType::List(Arc::new(payments_field())),
                };
                Field::new(c.name, ty, c.nullable)
            })
            .collect::<Vec<_>>(),
    )
}

/// Builds a record batch of `rows` (each in the columns' order).
pub fn record_batch(cols: &[Col], rows: &[Vec<Cell>]) -> Result<RecordBatch, String> {
    let schema = Arc::new(schema(cols));
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(cols.len());
    for (k, c) in cols.iter().enumerate() {
        let bad = |cell: &Cell| format!("column {}: the value {cell:?} is not of its type {:?}", c.name, c.ty);
        let array: ArrayRef = match c.ty {
            ColType::Utf8 => {
                let mut b = StringBuilder::new();
                for r in rows {
                    match &r[k] {
                        Cell::Str(v) => b.append_option(v.as_deref()),
                        other => return Err(bad(other)),
                    }
                }
                Arc::new(b.finish())
            }
            ColType::Int64 => {
                let mut b = Int64Builder::with_capacity(rows.len());
                for r in rows {
                    match &r[k] {
                        Cell::Int(v) => b.append_option(*v),
                        other => return Err(bad(other)),
                    }
                }
                Arc::new(b.finish())
            }
            ColType::Date32 => {
                let mut b = Date32Builder::with_capacity(rows.len());
                for r in rows {
                    match &r[k] {
                        Cell::Date(v) => b.append_option(v.map(|d| (d - epoch()).num_days() as i32)),
                        other => return Err(bad(other)),
                    }
                }
                Arc::new(b.finish())
            }
            ColType::Boolean => {
                let mut b = BooleanBuilder::with_capacity(rows.len());
                for r in rows {
                    match &r[k] {
                        Cell::Bool(v) => b.append_option(*v),
                        other => return Err(bad(other)),
                    }
                }
                Arc::new(b.finish())
            }
            ColType::Float64 => {
                let mut b = Float64Builder::with_capacity(rows.len());
                for r in rows {
                    match &r[k] {
                        Cell::F64(v) => b.append_option(*v),
                        other => return Err(bad(other)),
                    }
                }
                Arc::new(b.finish())
            }
            ColType::Binary => {
                let mut b = BinaryBuilder::new();
                for r in rows {
                    match &r[k] {
                        Cell::Bin(v) => b.append_option(v.as_deref()),
                        other => return Err(bad(other)),
                    }
                }
                Arc::new(b.finish())
            }
            ColType::Payments => {
                let fields = match payments_field().data_type() {
                    DataType::Struct(f) => f.clone(),
                    _ => unreachable!("payments are a struct"),
                };
                let inner = StructBuilder::from_fields(fields, 0);
                let mut b = ListBuilder::new(inner).with_field(Arc::new(payments_field()));
                for r in rows {
                    match &r[k] {
                        Cell::Payments(p) => {
                            for (tier, amount) in p {
                                let s = b.values();
                                s.field_builder::<StringBuilder>(0).expect("tier").append_value(tier);
                                s.field_builder::<Int64Builder>(1).expect("amount").append_value(*amount);
                                s.append(true);
                            }
                            b.append(true);
                        }
                        other => return Err(bad(other)),
                    }
                }
                Arc::new(b.finish())
            }
        };
        arrays.push(array);
    }
    RecordBatch::try_new(schema, arrays).map_err(|e| e.to_string())
}

/// One open part file of a dataset.
struct Part {
    path: PathBuf,
    writer: ArrowWriter<File>,
    rows: Vec<Vec<Cell>>,
}

/// Writes one dataset under a directory: `DIR/NAME/province=PP/part-00000.parquet`
/// when partitioned (by the province handed with each row), else
/// `DIR/NAME/part-00000.parquet`. A dataset without rows is one empty file
/// `DIR/NAME/part-00000.parquet`, so that its schema is there to read.
pub struct DatasetWriter {
    dir: PathBuf,
    cols: &'static [Col],
    partitioned: bool,
    schema: Arc<Schema>,
    parts: BTreeMap<String, Part>,
    rows: u64,
}

impl DatasetWriter {
    pub fn new(root: &Path, name: &str, cols: &'static [Col], partitioned: bool) -> Result<Self, ParquetError> {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
        Ok(DatasetWriter { dir, cols, partitioned, schema: Arc::new(schema(cols)), parts: BTreeMap::new(), rows: 0 })
    }

    fn open(&self, province: &str) -> Result<Part, ParquetError> {
        let dir = if self.partitioned { self.dir.join(format!("province={province}")) } else { self.dir.clone() };
        std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
        let path = dir.join("part-00000.parquet");
        let file = File::create(&path).map_err(|e| io(&path, e))?;
        let props = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
        let writer = ArrowWriter::try_new(file, self.schema.clone(), Some(props)).map_err(|e| format(&path, e))?;
        Ok(Part { path, writer, rows: Vec::with_capacity(1024) })
    }

    /// Adds a row (in the columns' order) to the province's part (`province` is
    /// ignored when the dataset is not partitioned).
    pub fn push(&mut self, province: &str, row: Vec<Cell>) -> Result<(), ParquetError> {
        let key = if self.partitioned { province } else { "" };
        if !self.parts.contains_key(key) {
            let part = self.open(key)?;
            self.parts.insert(key.to_string(), part);
        }
        let cols = self.cols;
        let part = self.parts.get_mut(key).expect("opened above");
        part.rows.push(row);
        self.rows += 1;
        if part.rows.len() >= BATCH_ROWS {
            flush(cols, part)?;
        }
        Ok(())
    }

    /// Closes every part; returns the rows written.
    pub fn finish(mut self) -> Result<u64, ParquetError> {
        if self.parts.is_empty() {
            let path = self.dir.join("part-00000.parquet");
            let file = File::create(&path).map_err(|e| io(&path, e))?;
            let props = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
            let writer = ArrowWriter::try_new(file, self.schema.clone(), Some(props)).map_err(|e| format(&path, e))?;
            writer.close().map_err(|e| format(&path, e))?;
            return Ok(0);
        }
        for (_, mut part) in std::mem::take(&mut self.parts) {
            flush(self.cols, &mut part)?;
            let path = part.path.clone();
            part.writer.close().map_err(|e| format(&path, e))?;
        }
        Ok(self.rows)
    }
}

fn flush(cols: &[Col], part: &mut Part) -> Result<(), ParquetError> {
    if part.rows.is_empty() {
        return Ok(());
    }
    let batch = record_batch(cols, &part.rows).map_err(|e| format(&part.path, e))?;
    part.writer.write(&batch).map_err(|e| format(&part.path, e))?;
    part.rows.clear();
    Ok(())
}

/// A directory written whole or not at all: everything goes into
/// `DIR.tmp-XXXX` beside `DIR` ([`OutDir::path`]), renamed to `DIR` by
/// [`OutDir::commit`]; dropped without a commit, the temporary directory is
/// removed. A `DIR` that exists and is not empty is refused before anything is
/// written (an empty one is replaced).
pub struct OutDir {
    dir: PathBuf,
    tmp: Option<PathBuf>,
}

impl OutDir {
    pub fn create(dir: &Path) -> Result<OutDir, ParquetError> {
        if dir.exists() {
            let empty = std::fs::read_dir(dir).map_err(|e| io(dir, e))?.next().is_none();
            if !empty {
                return Err(ParquetError::NotEmpty { path: dir.to_path_buf() });
            }
        }
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "export".into());
        let parent = dir.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let tmp = parent.join(format!("{name}.tmp-{:x}{:05x}", std::process::id(), nanos & 0xfffff));
        std::fs::create_dir(&tmp).map_err(|e| io(&tmp, e))?;
        Ok(OutDir { dir: dir.to_path_buf(), tmp: Some(tmp) })
    }

    /// Where to write until the commit.
    pub fn path(&self) -> &Path {
        self.tmp.as_deref().expect("not committed")
    }

    /// Moves the directory into place.
    pub fn commit(mut self) -> Result<(), ParquetError> {
        let tmp = self.tmp.take().expect("not committed");
        let moved = (|| {
            if self.dir.exists() {
                std::fs::remove_dir(&self.dir).map_err(|e| io(&self.dir, e))?;
            }
            std::fs::rename(&tmp, &self.dir).map_err(|e| io(&self.dir, e))
        })();
        if moved.is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        moved
    }
}

impl Drop for OutDir {
    fn drop(&mut self) {
        if let Some(tmp) = self.tmp.take() {
            let _ = std::fs::remove_dir_all(tmp);
        }
    }
}

/// The Parquet files of a dataset: every `*.parquet` under `DIR/NAME`, at any
/// depth, in path order, skipping names that start with `_` or `.`. A missing
/// folder is an error.
pub fn dataset_files(root: &Path, name: &str) -> Result<Vec<PathBuf>, ParquetError> {
    let dir = root.join(name);
    if !dir.is_dir() {
        return Err(format(&dir, format!("the {name} dataset is missing (no folder {name}/ in the directory)")));
    }
    let mut out = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).map_err(|e| io(&d, e))? {
            let entry = entry.map_err(|e| io(&d, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('_') || name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if name.ends_with(".parquet") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Reads a Parquet file's record batches; `each` gets each batch and the number
/// of rows before it in the file.
pub fn read_file(
    path: &Path,
    mut each: impl FnMut(&RecordBatch, usize) -> Result<(), ParquetError>,
) -> Result<u64, ParquetError> {
    let file = File::open(path).map_err(|e| io(path, e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| format(path, format!("not a Parquet file: {e}")))?
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(|e| format(path, e))?;
    let mut offset = 0usize;
    for batch in reader {
        let batch = batch.map_err(|e| format(path, e))?;
        each(&batch, offset)?;
        offset += batch.num_rows();
    }
    Ok(offset as u64)
}

/// A bad value in a Parquet file: `FILE: row N: column C: reason` (rows counted
/// from 1 in the file; a column missing from the file is reported at row 0 as
/// `FILE: column C: reason`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellError {
    pub file: String,
    pub row: u64,
    pub column: String,
    pub reason: String,
}

impl fmt::Display for CellError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.row == 0 {
            write!(f, "{}: column {}: {}", self.file, self.column, self.reason)
        } else {
            write!(f, "{}: row {}: column {}: {}", self.file, self.row, self.column, self.reason)
        }
    }
}

/// A batch of a file with its place, for typed column access.
pub struct Batch<'a> {
    pub file: &'a str,
    pub batch: &'a RecordBatch,
    /// Rows of the file before this batch.
    pub offset: usize,
}

/// A text column (`Utf8` or `LargeUtf8`).
pub enum Strs<'a> {
    S(&'a StringArray),
    L(&'a LargeStringArray),
}

impl Strs<'_> {
    pub fn get(&self, i: usize) -> Option<&str> {
        match self {
            Strs::S(a) => (!a.is_null(i)).then(|| a.value(i)),
            Strs::L(a) => (!a.is_null(i)).then(|| a.value(i)),
        }
    }
}

/// A whole-number column (`Int64` or `Int32`).
pub enum Ints<'a> {
    L(&'a Int64Array),
    I(&'a Int32Array),
}

impl Ints<'_> {
    pub fn get(&self, i: usize) -> Option<i64> {
        match self {
            Ints::L(a) => (!a.is_null(i)).then(|| a.value(i)),
            Ints::I(a) => (!a.is_null(i)).then(|| a.value(i) as i64),
        }
    }
}

/// A binary column (`Binary` or `LargeBinary`).
pub enum Bins<'a> {
    S(&'a BinaryArray),
    L(&'a LargeBinaryArray),
}

impl Bins<'_> {
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        match self {
            Bins::S(a) => (!a.is_null(i)).then(|| a.value(i)),
            Bins::L(a) => (!a.is_null(i)).then(|| a.value(i)),
        }
    }
}

/// The `payments` column: `List<Struct<tier, amount>>`.
pub struct Pays<'a> {
    list: &'a ListArray,
    tiers: Strs<'a>,
    amounts: Ints<'a>,
}

impl Pays<'_> {
    /// The row's `(tier, amount)` entries; `None` when the list is null, `Err`
    /// with a reason when an entry's tier or amount is null.
    pub fn get(&self, i: usize) -> Result<Option<Vec<(String, i64)>>, String> {
        if self.list.is_null(i) {
            return Ok(None);
        }
        let offsets = self.list.value_offsets();
        let (a, b) = (offsets[i] as usize, offsets[i + 1] as usize);
        let mut out = Vec::with_capacity(b - a);
        for k in a..b {
            let tier = self.tiers.get(k).ok_or_else(|| format!("entry {} has no tier", k - a + 1))?;
            let amount = self.amounts.get(k).ok_or_else(|| format!("entry {} ({tier}) has no amount", k - a + 1))?;
            out.push((tier.to_string(), amount));
        }
        Ok(Some(out))
    }
}

impl<'a> Batch<'a> {
    pub fn rows(&self) -> usize {
        self.batch.num_rows()
    }

    /// The file's row number (from 1) of the batch's row `i`.
    pub fn row(&self, i: usize) -> u64 {
        (self.offset + i + 1) as u64
    }

    /// An error at row `i` of the batch.
    pub fn err(&self, i: usize, column: &str, reason: impl Into<String>) -> CellError {
        CellError { file: self.file.to_string(), row: self.row(i), column: column.to_string(), reason: reason.into() }
    }

    fn column(&self, name: &str) -> Result<&'a ArrayRef, CellError> {
        let schema = self.batch.schema_ref();
        let found = schema.fields().iter().position(|f| f.name().eq_ignore_ascii_case(name));
        found.map(|k| self.batch.column(k)).ok_or_else(|| CellError {
            file: self.file.to_string(),
            row: 0,
            column: name.to_string(),
            reason: "the file lacks this required column".to_string(),
        })
    }

    fn wrong(&self, name: &str, got: &DataType, want: &str) -> CellError {
        CellError {
            file: self.file.to_string(),
            row: 0,
            column: name.to_string(),
            reason: format!("the column is {got}, not {want}"),
        }
    }

    pub fn has(&self, name: &str) -> bool {
        self.batch.schema_ref().fields().iter().any(|f| f.name().eq_ignore_ascii_case(name))
    }

    pub fn strs(&self, name: &str) -> Result<Strs<'a>, CellError> {
        let c = self.column(name)?;
        if let Some(a) = c.as_any().downcast_ref::<StringArray>() {
            return Ok(Strs::S(a));
        }
        if let Some(a) = c.as_any().downcast_ref::<LargeStringArray>() {
            return Ok(Strs::L(a));
        }
        Err(self.wrong(name, c.data_type(), "Utf8"))
    }

    pub fn ints(&self, name: &str) -> Result<Ints<'a>, CellError> {
        let c = self.column(name)?;
        if let Some(a) = c.as_any().downcast_ref::<Int64Array>() {
            return Ok(Ints::L(a));
        }
        if let Some(a) = c.as_any().downcast_ref::<Int32Array>() {
            return Ok(Ints::I(a));
        }
        Err(self.wrong(name, c.data_type(), "Int64"))
    }

    pub fn bins(&self, name: &str) -> Result<Bins<'a>, CellError> {
        let c = self.column(name)?;
        if let Some(a) = c.as_any().downcast_ref::<BinaryArray>() {
            return Ok(Bins::S(a));
        }
        if let Some(a) = c.as_any().downcast_ref::<LargeBinaryArray>() {
            return Ok(Bins::L(a));
        }
        Err(self.wrong(name, c.data_type(), "Binary"))
    }

    pub fn pays(&self, name: &str) -> Result<Pays<'a>, CellError> {
        let c = self.column(name)?;
        let want = "List<Struct<tier Utf8, amount Int64>>";
        let list = c.as_any().downcast_ref::<ListArray>().ok_or_else(|| self.wrong(name, c.data_type(), want))?;
        let values = list.values();
        let st = values.as_any().downcast_ref::<StructArray>().ok_or_else(|| self.wrong(name, c.data_type(), want))?;
        let field = |n: &str| st.column_by_name(n).ok_or_else(|| self.wrong(name, c.data_type(), want));
        let (t, a) = (field("tier")?, field("amount")?);
        let tiers = match (t.as_any().downcast_ref::<StringArray>(), t.as_any().downcast_ref::<LargeStringArray>()) {
            (Some(s), _) => Strs::S(s),
            (_, Some(l)) => Strs::L(l),
            _ => return Err(self.wrong(name, c.data_type(), want)),
        };
        let amounts = match (a.as_any().downcast_ref::<Int64Array>(), a.as_any().downcast_ref::<Int32Array>()) {
            (Some(s), _) => Ints::L(s),
            (_, Some(i)) => Ints::I(i),
            _ => return Err(self.wrong(name, c.data_type(), want)),
        };
        Ok(Pays { list, tiers, amounts })
    }
}

/// The date of a `Date32` value.
pub fn date_of(days: i32) -> Option<NaiveDate> {
    epoch().checked_add_signed(chrono::Duration::days(days as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLS: &[Col] = &[
        Col::req("id", ColType::Utf8),
        Col::opt("n", ColType::Int64),
        Col::req("payments", ColType::Payments),
        Col::opt("on", ColType::Date32),
    ];

    #[test]
    fn a_partitioned_dataset_reads_back() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("x");
        let o = OutDir::create(&out).unwrap();
        {
            let mut w = DatasetWriter::new(o.path(), "d", COLS, true).unwrap();
            let d = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
            for (i, p) in ["34", "35", "34"].iter().enumerate() {
                let pays = Cell::Payments(vec![("basic".into(), i as i64), ("serious".into(), 7)]);
                w.push(p, vec![Cell::str(format!("c{i}")), Cell::Int(None), pays, Cell::date(d)]).unwrap();
            }
            assert_eq!(w.finish().unwrap(), 3);
        }
        o.commit().unwrap();
        let files = dataset_files(&out, "d").unwrap();
        assert_eq!(files.len(), 2);
        assert!(files[0].ends_with("d/province=34/part-00000.parquet"));
        let mut seen = Vec::new();
        for f in &files {
            read_file(f, |b, off| {
                let name = f.display().to_string();
                let b = Batch { file: &name, batch: b, offset: off };
                let (ids, ns, pays) = (b.strs("id").unwrap(), b.ints("N").unwrap(), b.pays("payments").unwrap());
                for i in 0..b.rows() {
                    seen.push((ids.get(i).unwrap().to_string(), ns.get(i), pays.get(i).unwrap().unwrap()));
                }
                assert_eq!(
                    b.strs("missing").err().unwrap().to_string(),
                    format!("{name}: column missing: the file lacks this required column")
                );
                Ok(())
            })
            .unwrap();
        }
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[1].0, "c2");
        assert_eq!(seen[1].2, vec![("basic".to_string(), 2), ("serious".to_string(), 7)]);
        assert_eq!(seen[1].1, None);
    }

    #[test]
    fn a_non_empty_directory_is_refused_and_a_failure_leaves_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("x");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("f"), "x").unwrap();
        assert!(matches!(OutDir::create(&out), Err(ParquetError::NotEmpty { .. })));
        let other = OutDir::create(&tmp.path().join("y")).unwrap();
        std::fs::write(other.path().join("f"), "x").unwrap();
        drop(other);
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1, "only x is left");
    }
}
