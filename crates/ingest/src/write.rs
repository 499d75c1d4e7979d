//! Writing records of one kind to CSV (UTF-8, header = the record's column names) or
//! XLSX (first row the header in bold; IDs and codes as text cells so Excel keeps
//! every digit; money, counts and coordinates as numbers; dates as date cells),
//! chosen by the output file's extension. Records are written one at a time, so an
//! export streams from the store without holding the whole kind in memory (the
//! workbook is built in rust_xlsxwriter's constant-memory mode).

use crate::cells::{self, CellKind};
use crate::error::IngestError;
use crate::read::Format;
use domain::{parse_date, Record};
use rust_xlsxwriter::{Format as CellFormat, Workbook};
use std::fs::File;
use std::io::BufWriter;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

/// The most rows a worksheet holds (Excel's limit), header included.
pub const XLSX_MAX_ROWS: u32 = 1_048_576;

impl Format {
    /// The format a file is written in, by its extension; the old `.xls` is refused.
    pub fn to_write(path: &Path) -> Result<Format, IngestError> {
        let format = Format::of(path)?;
        let xls = path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("xls"));
        if xls {
            return Err(IngestError::Format {
                file: path.display().to_string(),
                reason: "the old .xls format cannot be written; name the file .xlsx".into(),
            });
        }
        Ok(format)
    }
}

/// Writes records of kind `R` to a file, one at a time; call [`RecordWriter::finish`]
/// at the end (dropping it without finishing leaves a CSV flushed on a best-effort
/// basis and an XLSX unwritten).
pub struct RecordWriter<R: Record> {
    path: PathBuf,
    sink: Sink,
    rows: u64,
    _kind: PhantomData<R>,
}

enum Sink {
    Csv(Box<csv::Writer<BufWriter<File>>>),
    Xlsx(Box<XlsxSink>),
}

struct XlsxSink {
    book: Workbook,
    kinds: Vec<CellKind>,
    text: CellFormat,
    money: CellFormat,
    date: CellFormat,
}

impl<R: Record> RecordWriter<R> {
    /// Creates the file (CSV or XLSX by extension) and writes the header.
    pub fn create(path: &Path) -> Result<RecordWriter<R>, IngestError> {
        RecordWriter::create_as(path, Format::to_write(path)?)
    }

    /// Creates the file in the given format whatever its name (a temporary file
    /// of [`crate::atomic::replace_atomically`]) and writes the header.
    pub fn create_as(path: &Path, format: Format) -> Result<RecordWriter<R>, IngestError> {
        let sink = match format {
            Format::Csv => {
                let f = File::create(path).map_err(|e| IngestError::io(path, e))?;
                let mut w = csv::Writer::from_writer(BufWriter::with_capacity(256 * 1024, f));
                w.write_record(R::COLUMNS.iter().map(|c| c.name)).map_err(|e| csv_err(path, e))?;
                Sink::Csv(Box::new(w))
            }
            Format::Xlsx => {
                // Fail early on an unwritable path rather than after the last row.
                File::create(path).map_err(|e| IngestError::io(path, e))?;
                let mut book = Workbook::new();
                let bold = CellFormat::new().set_bold();
                let sheet = book.add_worksheet_with_constant_memory();
                let _ = sheet.set_name(R::KIND);
                for (i, c) in R::COLUMNS.iter().enumerate() {
                    sheet.write_string_with_format(0, i as u16, c.name, &bold).map_err(|e| xlsx_err(path, e))?;
                    let width = match cells::kind_of(c.name) {
                        CellKind::ResidentId => 21.0,
                        CellKind::Code | CellKind::Date | CellKind::Money => 14.0,
                        _ => 12.0,
                    };
                    sheet.set_column_width(i as u16, width).map_err(|e| xlsx_err(path, e))?;
                }
                sheet.set_freeze_panes(1, 0).map_err(|e| xlsx_err(path, e))?;
                Sink::Xlsx(Box::new(XlsxSink {
                    book,
                    kinds: R::COLUMNS.iter().map(|c| cells::kind_of(c.name)).collect(),
                    // "@" marks the cell as text, so an officer editing it keeps it text.
                    text: CellFormat::new().set_num_format("@"),
                    money: CellFormat::new().set_num_format("0.00"),
                    date: CellFormat::new().set_num_format("yyyy-mm-dd"),
                }))
            }
        };
        Ok(RecordWriter { path: path.to_path_buf(), sink, rows: 0, _kind: PhantomData })
    }

    /// Writes one record.
    pub fn write(&mut self, record: &R) -> Result<(), IngestError> {
        let fields = record.to_fields();
        let path = &self.path;
        match &mut self.sink {
            Sink::Csv(w) => {
                w.write_record(fields.iter().map(|f| crate::cells::guard_bytes(f))).map_err(|e| csv_err(path, e))?
            }
            Sink::Xlsx(x) => {
                let XlsxSink { book, kinds, text, money, date } = &mut **x;
                let row = self.rows + 1;
                if row >= XLSX_MAX_ROWS as u64 {
                    return Err(IngestError::Write {
                        file: path.display().to_string(),
                        reason: format!(
                            "more than {} records do not fit in one Excel sheet; export to CSV or narrow the region",
                            XLSX_MAX_ROWS - 1
                        ),
                    });
                }
                let row = row as u32;
                let sheet = book.worksheet_from_index(0).map_err(|e| xlsx_err(path, e))?;
                for (i, (v, kind)) in fields.iter().zip(kinds.iter()).enumerate() {
                    if v.is_empty() {
                        continue;
                    }
                    let c = i as u16;
                    let number = || v.parse::<f64>().ok();
                    let r = match kind {
                        CellKind::Money => match number() {
                            Some(x) => sheet.write_number_with_format(row, c, x, money),
                            None => sheet.write_string(row, c, v),
                        },
                        CellKind::Integer | CellKind::Decimal => match number() {
                            Some(x) => sheet.write_number(row, c, x),
                            None => sheet.write_string(row, c, v),
                        },
                        CellKind::Date => match parse_date(v) {
                            Ok(d) => sheet.write_number_with_format(row, c, cells::date_serial(d), date),
                            Err(_) => sheet.write_string(row, c, v),
                        },
                        CellKind::Bool => match v.as_str() {
                            "true" => sheet.write_boolean(row, c, true),
                            "false" => sheet.write_boolean(row, c, false),
                            _ => sheet.write_string(row, c, v),
                        },
                        CellKind::Text | CellKind::ResidentId | CellKind::Code => {
                            sheet.write_string_with_format(row, c, v, text)
                        }
                    };
                    r.map_err(|e| xlsx_err(path, e))?;
                }
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// Records written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Flushes and closes the file; returns the number of records written.
    pub fn finish(self) -> Result<u64, IngestError> {
        let path = &self.path;
        match self.sink {
            Sink::Csv(mut w) => {
                w.flush().map_err(|e| IngestError::io(path, e))?;
            }
            Sink::Xlsx(mut x) => {
                let book = &mut x.book;
                let f = File::create(path).map_err(|e| IngestError::io(path, e))?;
                book.save_to_writer(BufWriter::new(f)).map_err(|e| xlsx_err(path, e))?;
            }
        }
        Ok(self.rows)
    }
}

/// Writes all records to a file, CSV or XLSX by its extension.
pub fn write_file<'a, R: Record + 'a>(
    path: &Path,
    records: impl IntoIterator<Item = &'a R>,
) -> Result<u64, IngestError> {
    let mut w = RecordWriter::<R>::create(path)?;
    for r in records {
        w.write(r)?;
    }
    w.finish()
}

/// Writes a CSV file of plain rows under `header`, atomically (see
/// [`crate::atomic`]): the outputs of `coverage` and `plan`. Returns the rows
/// written.
pub fn write_csv_rows(
    path: &Path,
    header: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<u64, IngestError> {
    crate::atomic::write_atomically(path, |w| {
        let out = |e: csv::Error| match e.into_kind() {
            csv::ErrorKind::Io(io) => IngestError::output(path, io),
            other => IngestError::Write { file: path.display().to_string(), reason: format!("{other:?}") },
        };
        let mut w = csv::Writer::from_writer(w);
        w.write_record(header).map_err(out)?;
        let mut n = 0;
        for r in rows {
            w.write_record(r.iter().map(|f| crate::cells::guard_bytes(f))).map_err(out)?;
            n += 1;
        }
        w.flush().map_err(|e| IngestError::output(path, e))?;
        Ok(n)
    })
}

fn csv_err(path: &Path, e: csv::Error) -> IngestError {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => IngestError::io(path, io),
        other => IngestError::Write { file: path.display().to_string(), reason: format!("{other:?}") },
    }
}

fn xlsx_err(path: &Path, e: rust_xlsxwriter::XlsxError) -> IngestError {
    match e {
        rust_xlsxwriter::XlsxError::IoError(io) => IngestError::io(path, io),
        other => IngestError::Write { file: path.display().to_string(), reason: other.to_string() },
    }
}
