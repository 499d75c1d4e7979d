//! Reading a workbook (XLSX, and the older XLS) with calamine: the first sheet, its
//! first row the header, each cell turned into the text a CSV would have held (see
//! [`crate::cells`]). Line numbers are the sheet's row numbers, as Excel shows them.

use crate::cells::{self, CellKind};
use crate::error::IngestError;
use crate::read::{Collector, Progress, Row, Sink};
use calamine::{Data, Reader};
use domain::{ColumnMap, Record};
use std::path::Path;

/// Reads the first sheet of a workbook into `R` records.
pub fn read_xlsx<R: Record>(path: &Path, progress: Progress) -> Result<Vec<Row<R>>, IngestError> {
    read_xlsx_into(path, progress, None)
}

pub(crate) fn read_xlsx_into<R: Record>(
    path: &Path,
    progress: Progress,
    sink: Sink<R>,
) -> Result<Vec<Row<R>>, IngestError> {
    let name = path.display().to_string();
    let total = std::fs::metadata(path).map_err(|e| IngestError::io(path, e))?.len();
    progress(0, total);
    let not_a_workbook = |e: calamine::Error| IngestError::Format {
        file: name.clone(),
        reason: format!("is not a readable Excel workbook ({e}); save it again from Excel as .xlsx, or as CSV"),
    };
    let mut book = calamine::open_workbook_auto(path).map_err(not_a_workbook)?;
    let range = match book.worksheet_range_at(0) {
        Some(r) => r.map_err(not_a_workbook)?,
        None => return Err(IngestError::Format { file: name, reason: "the workbook has no sheet".into() }),
    };
    let Some((first_row, first_col)) = range.start() else {
        return Err(IngestError::Header {
            file: name,
            reason: "the first sheet is empty; a header row is expected".into(),
        });
    };
    let mut rows = range.rows();
    let header_cells = rows.next().expect("a non-empty range has a first row");
    let header: Vec<String> = header_cells.iter().map(header_text).collect();
    let header_refs: Vec<&str> = header.iter().map(String::as_str).collect();
    let map = ColumnMap::new::<R>(&header_refs).map_err(|reason| IngestError::Header { file: name.clone(), reason })?;
    // The kind of each of the record's columns, to read its cells.
    let kinds: Vec<CellKind> = R::COLUMNS.iter().map(|c| cells::kind_of(c.name)).collect();
    let positions = map.positions.clone();
    let mut col = Collector::<R>::new(&name, map).with_sink(sink);
    let mut texts: Vec<String> = vec![String::new(); R::COLUMNS.len()];
    // Sheet rows are 1-based; the header sits at `first_row` (0-based).
    for (i, cells_of_row) in rows.enumerate() {
        let line = first_row as u64 + 2 + i as u64;
        if cells_of_row.iter().all(|c| matches!(c, Data::Empty) || matches!(c, Data::String(s) if s.trim().is_empty()))
        {
            continue;
        }
        let mut bad = false;
        for (k, p) in positions.iter().enumerate() {
            texts[k].clear();
            let Some(p) = p else { continue };
            let Some(cell) = cells_of_row.get(*p) else {
                continue;
            };
            match cell_text(cell, kinds[k]) {
                Ok(t) => texts[k] = t,
                Err(reason) => {
                    let column = R::COLUMNS[k].name;
                    col.row_error(line, column, format!("{reason} (cell {})", cell_name(first_col as usize + p, line)));
                    bad = true;
                }
            }
        }
        if !bad {
            // Fields are already in the record's column order.
            col.push_ordered(line, &texts);
        }
    }
    progress(total, total);
    col.finish()
}

fn header_text(c: &Data) -> String {
    match c {
        Data::String(s) => s.clone(),
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

/// The text of one cell for a column of the given kind.
fn cell_text(c: &Data, kind: CellKind) -> Result<String, String> {
    match c {
        Data::Empty => Ok(String::new()),
        Data::String(s) => Ok(s.clone()),
        Data::Int(i) => cells::number_text(*i as f64, kind).or_else(|e| {
            // Integers keep every digit; only a resident ID or a date needs care.
            if matches!(kind, CellKind::ResidentId | CellKind::Date) {
                Err(e)
            } else {
                Ok(i.to_string())
            }
        }),
        Data::Float(f) => cells::number_text(*f, kind),
        Data::Bool(b) => Ok(b.to_string()),
        Data::DateTime(dt) => {
            if dt.is_duration() {
                return Err("the cell holds a duration, not a date".into());
            }
            match dt.as_datetime() {
                Some(t) if kind == CellKind::Date || t.time() == chrono::NaiveTime::MIN => Ok(t.date().to_string()),
                Some(t) => Ok(t.to_string()),
                None => Err(format!("the cell holds the date serial {} that is not a real day", dt.as_f64())),
            }
        }
        Data::DateTimeIso(s) => {
            Ok(if kind == CellKind::Date && s.len() >= 10 { s[..10].to_string() } else { s.clone() })
        }
        Data::DurationIso(s) => Ok(s.clone()),
        Data::Error(e) => Err(format!("the cell holds the Excel error {e}")),
    }
}

/// `B7` for column index 1, sheet row 7.
fn cell_name(col: usize, row: u64) -> String {
    let mut n = col + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let r = (n - 1) % 26;
        letters.push(b'A' + r as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    format!("{}{row}", String::from_utf8(letters).expect("ASCII"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_names() {
        assert_eq!(cell_name(0, 1), "A1");
        assert_eq!(cell_name(25, 3), "Z3");
        assert_eq!(cell_name(26, 3), "AA3");
    }
}
