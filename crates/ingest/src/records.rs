//! The fast CSV record reader of the file commands (`monitor`, `coverage`, `plan`):
//! UTF-8 CSV (a byte-order mark is dropped), the header mapped once onto the
//! record's columns, every row validated by the domain, and every bad row named
//! with its file, line, column and reason.
//!
//! It differs from [`crate::read_file`] (the importer's reader) on purpose: it
//! reads no other encoding and no workbook, does not look for repeated keys (a
//! settlements file repeats its persons), can keep only the rows a filter accepts
//! (the claims of one year out of many), and can stop after a number of bad rows.
//! What it does is done in one place, for every command that reads this way.

use crate::encoding::locate_bad_utf8;
use crate::error::{IngestError, RowError};
use crate::read::Progress;
use domain::{ColumnMap, Record};
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

/// Read every bad row, however many.
pub const ALL_ERRORS: usize = usize::MAX;

/// How often (in rows) progress is reported.
const PROGRESS_EVERY: u64 = 65_536;

/// Reads every row of a CSV file as an `R`. Bad rows are collected, up to
/// `stop_after` of them (the read stops there; [`ALL_ERRORS`] reads on), and
/// returned as [`IngestError::Rows`] in file order. `progress` is told `(bytes
/// read, file size)` now and then and at the end.
pub fn read_records<R: Record>(path: &Path, stop_after: usize, progress: Progress) -> Result<Vec<R>, IngestError> {
    read_records_where(path, stop_after, progress, |_| true)
}

/// As [`read_records`], keeping only the records `keep` accepts (the others are
/// still parsed and checked).
pub fn read_records_where<R: Record>(
    path: &Path,
    stop_after: usize,
    progress: Progress,
    mut keep: impl FnMut(&R) -> bool,
) -> Result<Vec<R>, IngestError> {
    let file = path.display().to_string();
    let f = File::open(path).map_err(|e| IngestError::open(path, e))?;
    let total = f.metadata().map(|m| m.len()).unwrap_or(0);
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(BufReader::with_capacity(1 << 20, f));
    let header = match rdr.headers() {
        Ok(h) => h.clone(),
        Err(e) => return Err(not_utf8_header(path, &file, e)),
    };
    let header: Vec<&str> = header.iter().collect();
    let map = ColumnMap::new::<R>(&header).map_err(|reason| IngestError::Header { file: file.clone(), reason })?;
    let mut out = Vec::new();
    let mut errors: Vec<RowError> = Vec::new();
    let mut row = csv::StringRecord::new();
    // Field buffers reused from row to row (see `recycle`).
    let mut raw_buf: Vec<&'static str> = Vec::with_capacity(R::COLUMNS.len() * 2);
    let mut fields_buf: Vec<&'static str> = Vec::with_capacity(R::COLUMNS.len());
    let mut rows = 0u64;
    let mut reread: Option<File> = None;
    let bad = |errors: &mut Vec<RowError>, line: u64, column: &str, reason: String| {
        errors.push(RowError { file: file.clone(), line, column: column.to_string(), reason });
        errors.len() >= stop_after
    };
    loop {
        rows += 1;
        if rows.is_multiple_of(PROGRESS_EVERY) {
            progress(rdr.position().byte(), total);
        }
        match rdr.read_record(&mut row) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                match e.kind() {
                    csv::ErrorKind::Utf8 { pos, err } => {
                        // Read the record again to tell where its first bad byte lies.
                        let column = column_of::<R>(&map, &header, err.field());
                        let found = pos.as_ref().and_then(|p| {
                            let mut f = reread.take().or_else(|| File::open(path).ok())?;
                            let b = locate_bad_utf8(&mut f, p.byte(), p.line());
                            reread = Some(f);
                            b
                        });
                        let (line, reason) = match found {
                            Some(b) => (b.line, not_utf8(&b)),
                            None => (line, "the row is not valid UTF-8; save the file as UTF-8".to_string()),
                        };
                        if bad(&mut errors, line, &column, reason) {
                            break;
                        }
                        continue;
                    }
                    _ => return Err(IngestError::Csv { file: file.clone(), error: e }),
                }
            }
        }
        let mut raw: Vec<&str> = recycle(std::mem::take(&mut raw_buf));
        raw.extend(row.iter());
        let mut stop = false;
        // A blank line or a row of empty cells (a spreadsheet leaves those) is skipped.
        if !raw.iter().all(|f| f.trim().is_empty()) {
            let mut fields: Vec<&str> = recycle(std::mem::take(&mut fields_buf));
            map.pick(&raw, &mut fields);
            match R::from_fields(&fields) {
                Ok(r) => {
                    if keep(&r) {
                        out.push(r)
                    }
                }
                Err(e) => {
                    let line = row.position().map(|p| p.line()).unwrap_or(0);
                    stop = bad(&mut errors, line, e.column, e.reason);
                }
            }
            fields_buf = recycle(fields);
        }
        raw_buf = recycle(raw);
        if stop {
            break;
        }
    }
    progress(total, total);
    if !errors.is_empty() {
        return Err(IngestError::Rows { file, errors });
    }
    Ok(out)
}

/// Why a UTF-8 file's bytes are refused.
pub(crate) fn not_utf8(b: &domain::text::BadBytes) -> String {
    let verb = if b.bytes.len() == 1 { "is" } else { "are" };
    format!("{} at column {} {verb} not UTF-8 text; save the file as UTF-8", b.describe(), b.column)
}

/// The header of a UTF-8 file that could not be read: where its bad byte lies.
pub(crate) fn not_utf8_header(path: &Path, file: &str, e: csv::Error) -> IngestError {
    if let csv::ErrorKind::Utf8 { .. } = e.kind() {
        if let Some(b) = File::open(path).ok().and_then(|mut f| locate_bad_utf8(&mut f, 0, 1)) {
            let reason = format!("the header on line {}: {}", b.line, not_utf8(&b));
            return IngestError::Header { file: file.to_string(), reason };
        }
    }
    IngestError::Csv { file: file.to_string(), error: e }
}

/// The name of a file column: the record's, else the header's.
pub(crate) fn column_of<R: Record>(map: &ColumnMap, header: &[&str], i: usize) -> String {
    match map.positions.iter().position(|p| *p == Some(i)) {
        Some(k) => R::COLUMNS[k].name.to_string(),
        None => header
            .get(i)
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| format!("column {}", i + 1)),
    }
}

/// Empties a vector of field slices and hands back its allocation for slices of
/// another lifetime (no row's fields outlive the row).
fn recycle<'b>(mut v: Vec<&str>) -> Vec<&'b str> {
    v.clear();
    // An in-place collect: an empty Vec of same-layout elements keeps its allocation.
    v.into_iter().map(|_| -> &'b str { unreachable!() }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::Threshold;

    fn file(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        std::fs::write(&p, text).unwrap();
        (dir, p)
    }

    const HEAD: &str = "\u{feff}region,year,rural_income,monitoring_line,note\n";

    #[test]
    fn reads_keeps_and_skips_blank_rows() {
        let (_d, p) = file(&format!("{HEAD}34,2024,19575,7000,a\n,,,,\n35,2023,1,1,b\n"));
        let all: Vec<Threshold> = read_records(&p, ALL_ERRORS, &mut |_, _| {}).unwrap();
        assert_eq!(all.len(), 2);
        let kept = read_records_where(&p, ALL_ERRORS, &mut |_, _| {}, |t: &Threshold| t.year == 2024).unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].region, "34");
    }

    #[test]
    fn every_bad_row_is_named_up_to_the_limit() {
        let mut text = HEAD.to_string();
        for _ in 0..30 {
            text.push_str("3x,2024,1,1,\n");
        }
        let (_d, p) = file(&text);
        let e = read_records::<Threshold>(&p, 20, &mut |_, _| {}).unwrap_err();
        assert_eq!(e.row_errors().len(), 20);
        let first = &e.row_errors()[0];
        assert_eq!((first.line, first.column.as_str()), (2, "region"));
        assert_eq!(first.labelled().to_string(), format!("{}:2: column region: {}", p.display(), first.reason));
        let e = read_records::<Threshold>(&p, ALL_ERRORS, &mut |_, _| {}).unwrap_err();
        assert_eq!(e.row_errors().len(), 30);
    }

    #[test]
    fn a_missing_column_and_bad_utf8_are_refused() {
        let (_d, p) = file("region,year\n34,2024\n");
        let e = read_records::<Threshold>(&p, 20, &mut |_, _| {}).unwrap_err();
        assert!(e.to_string().contains("t.csv:1: ") && e.to_string().contains("rural_income"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let q = dir.path().join("u.csv");
        std::fs::write(&q, b"region,year,rural_income,monitoring_line\n34,2024,1,1\n\xff\xfe,2024,1,1\n").unwrap();
        let e = read_records::<Threshold>(&q, 20, &mut |_, _| {}).unwrap_err();
        let errs = e.row_errors();
        assert_eq!(errs.len(), 1);
        assert_eq!(
            errs[0].labelled().to_string(),
            format!(
                "{}:3: column region: the byte 0xFF at column 1 is not UTF-8 text; save the file as UTF-8",
                q.display()
            )
        );
    }

    #[test]
    fn a_missing_file_says_it_cannot_open_it() {
        let e = read_records::<Threshold>(Path::new("/no/such/t.csv"), 20, &mut |_, _| {}).unwrap_err();
        assert!(matches!(e, IngestError::Open { .. }), "{e}");
        assert!(e.to_string().starts_with("cannot open /no/such/t.csv: "), "{e}");
    }
}
