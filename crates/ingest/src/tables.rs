//! Tables of cells written as a workbook (one sheet per table) or as CSV (one
//! table): the form of the work ledger (`app::ledger`) and any other report
//! made of plain tables. Money is written in yuan: a number in a workbook, two
//! decimals in CSV.

use crate::error::IngestError;
use domain::Fen;
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use std::io::Write;
use std::path::Path;

/// One cell.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(untagged)]
pub enum Cell {
    Text(String),
    Int(i64),
    Money(Fen),
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    /// The cell as CSV writes it.
    pub fn as_text(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Money(f) => f.to_string(),
            Cell::Empty => String::new(),
        }
    }
}

impl From<Option<String>> for Cell {
    fn from(v: Option<String>) -> Cell {
        v.map_or(Cell::Empty, Cell::Text)
    }
}

/// A named table: its sheet name, its header, its rows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Table {
    pub name: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

fn refused(path: &Path, reason: impl std::fmt::Display) -> IngestError {
    IngestError::Format { file: path.display().to_string(), reason: reason.to_string() }
}

/// The tables as a workbook, one sheet each, header bold and frozen.
pub fn xlsx_bytes(tables: &[Table]) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    for t in tables {
        let ws = wb.add_worksheet();
        ws.set_name(&t.name)?;
        for (c, h) in t.header.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, h, &bold)?;
        }
        for (r, row) in (1u32..).zip(&t.rows) {
            for (c, cell) in (0u16..).zip(row) {
                match cell {
                    Cell::Text(s) => ws.write_string(r, c, s).map(|_| ())?,
                    Cell::Int(n) => ws.write_number(r, c, *n as f64).map(|_| ())?,
                    Cell::Money(f) => ws.write_number(r, c, f.0 as f64 / 100.0).map(|_| ())?,
                    Cell::Empty => {}
                }
            }
        }
        ws.set_freeze_panes(1, 0)?;
    }
    wb.save_to_buffer()
}

/// One table as CSV (UTF-8 with a byte-order mark, so that spreadsheet programs
/// read the Chinese headers).
pub fn write_csv<W: Write>(table: &Table, out: W) -> Result<(), csv::Error> {
    let mut out = out;
    out.write_all("\u{feff}".as_bytes())?;
    let mut w = csv::Writer::from_writer(out);
    w.write_record(&table.header)?;
    for row in &table.rows {
        w.write_record(row.iter().map(|c| crate::cells::guard(&c.as_text()).into_owned()))?;
    }
    w.flush()?;
    Ok(())
}

/// Writes the tables to `path`, whole or not at all: a workbook for `.xlsx`, or
/// for `.csv` the one table named `csv_table` (the first where `None`).
pub fn write_tables(path: &Path, tables: &[Table], csv_table: Option<&str>) -> Result<(), IngestError> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let table = match csv_table {
        Some(name) => tables.iter().find(|t| t.name == name),
        None => tables.first(),
    };
    match ext.as_str() {
        "xlsx" => {
            let bytes = xlsx_bytes(tables).map_err(|e| refused(path, e))?;
            crate::atomic::write_atomically(path, |w| w.write_all(&bytes).map_err(|e| IngestError::output(path, e)))
        }
        "csv" => {
            let t = table.ok_or_else(|| refused(path, "no such table"))?;
            crate::atomic::write_atomically(path, |w| write_csv(t, w).map_err(|e| refused(path, e)))
        }
        other => Err(refused(path, format!("cannot write .{other}: use .xlsx (every table) or .csv (one table)"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_writes_money_in_yuan_and_empty_cells_empty() {
        let t = Table {
            name: "t".into(),
            header: vec!["村".into(), "amount".into(), "n".into(), "x".into()],
            rows: vec![vec![Cell::text("A"), Cell::Money(Fen(123_456)), Cell::Int(3), Cell::Empty]],
        };
        let mut out = Vec::new();
        write_csv(&t, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "\u{feff}村,amount,n,x\nA,1234.56,3,\n");
        assert!(!xlsx_bytes(&[t]).unwrap().is_empty());
    }
}
