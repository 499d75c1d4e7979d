//! The claim items file (docs/files.md, "claim_items") read into
//! [`ItemLines`]: a hospital's day is five times the lines of its claims, and
//! the reader of records ([`crate::read_file`]) spends most of its time on what
//! such a file does not need (a CSV state machine for quotes, three texts
//! copied a line).
//!
//! A plain file is read whole and cut in place: ASCII text (after an optional
//! UTF-8 byte-order mark) with no double quote and no carriage return but
//! before a line feed. Its lines are cut at line feeds and its fields at commas,
//! each row's fields checked by [`ClaimItem::parse_ref`], the check of every
//! reader. Any other file, and any file with a row the check refuses or a row
//! of the wrong width, is read by [`crate::read_file`] instead, so that every
//! refusal (line, column, reason) is that reader's. The two readers give the
//! same lines for every file (a property test below).

use crate::cells::unguard;
use crate::error::IngestError;
use crate::read::Format;
use domain::item_lines::ItemLines;
use domain::items::ClaimItem;
use domain::ColumnMap;
use std::path::Path;

/// Reads a claim items file (CSV or XLSX): its lines, or every bad row.
pub fn read_claim_items(path: &Path) -> Result<ItemLines, IngestError> {
    let name = path.display().to_string();
    if Format::of(path)? == Format::Csv {
        if let Ok(bytes) = std::fs::read(path) {
            if let Some(lines) = read_plain(&name, &bytes) {
                return Ok(lines);
            }
        }
    }
    let rows = crate::read_file::<ClaimItem>(path, &mut |_, _| {})?;
    let mut out = ItemLines::for_file(&name, rows.len());
    for r in &rows {
        out.push(r.line, &r.record.borrowed());
    }
    Ok(out)
}

/// The lines of a plain file whose every row is good, else `None` (see the
/// module's note).
fn read_plain(name: &str, bytes: &[u8]) -> Option<ItemLines> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if !body.is_ascii() || memchr::memchr(b'"', body).is_some() {
        return None;
    }
    if memchr::memchr_iter(b'\r', body).any(|i| body.get(i + 1) != Some(&b'\n')) {
        return None;
    }
    let text = std::str::from_utf8(body).ok()?;
    let mut header: Option<(ColumnMap, usize)> = None;
    let mut out: Option<ItemLines> = None;
    let mut fields: Vec<&str> = Vec::with_capacity(8);
    let mut picked: Vec<&str> = Vec::with_capacity(8);
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        // The CSV reader skips empty lines, before the header too.
        if line.is_empty() {
            continue;
        }
        fields.clear();
        fields.extend(line.split(','));
        let Some((map, width)) = &header else {
            let map = ColumnMap::new::<ClaimItem>(&fields).ok()?;
            header = Some((map, fields.len()));
            // Room for lines of 20 bytes (a day's file has about 33 a line): room
            // never used is never touched, a vector grown is copied.
            out = Some(ItemLines::for_file(name, bytes.len() / 20));
            continue;
        };
        if fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if fields.len() != *width {
            return None;
        }
        picked.clear();
        picked.extend(map.positions.iter().map(|p| p.map(|k| fields[k]).map_or("", unguard)));
        let r = ClaimItem::parse_ref(&picked).ok()?;
        out.as_mut()?.push(i as u64 + 1, &r);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Both readers on the same text: the plain reader, where it reads the
    /// file, gives what the reader of records gives; `read_claim_items` always does.
    fn compare(text: &[u8]) -> Option<usize> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("items.csv");
        std::fs::write(&path, text).unwrap();
        let name = path.display().to_string();
        let reference = crate::read_file::<ClaimItem>(&path, &mut |_, _| {});
        let labelled = |r: &Vec<crate::Row<ClaimItem>>| -> Vec<(String, ClaimItem)> {
            r.iter().map(|r| (format!("{name}:{}", r.line), r.record.clone())).collect()
        };
        let plain = read_plain(&name, text);
        if let Some(p) = &plain {
            let rows = reference.as_ref().map(labelled).unwrap_or_else(|e| panic!("{e} for {text:?}"));
            assert_eq!(p.rows(), rows, "{:?}", String::from_utf8_lossy(text));
        }
        match (read_claim_items(&path), &reference) {
            (Ok(l), Ok(r)) => assert_eq!(l.rows(), labelled(r)),
            (Err(IngestError::Rows { errors: a, .. }), Err(IngestError::Rows { errors: b, .. })) => assert_eq!(&a, b),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
            (a, b) => panic!("{a:?} against {b:?} for {:?}", String::from_utf8_lossy(text)),
        }
        plain.map(|p| p.len())
    }

    #[test]
    fn a_plain_file_is_read_in_place_and_others_by_the_reader_of_records() {
        let head = "claim_id,item_code,quantity,unit_price,amount,facility_id\n";
        let good = format!("{head}C1,XJ01,2,12.50,25.00,F1\r\n\nC1,XJ02,0.5,3,1.50,F1\n ,, ,,,\nC2,'=X,1,1,1.00,\n");
        assert_eq!(compare(good.as_bytes()), Some(3));
        assert_eq!(compare(format!("\u{feff}{good}").as_bytes()), Some(3));
        // Columns in another order, the facility left out, an extra column.
        assert_eq!(compare(b"amount,quantity,claim_id,note,unit_price,item_code\n2,1,C1,x,2,A\n"), Some(1));
        // Read by the reader of records: a quote, a lone carriage return, a
        // non-ASCII byte, a bad row, a short row, no header, an empty file.
        for text in [
            format!("{head}\"C1\",XJ01,2,12.50,25.00,F1\n"),
            format!("{head}C1,XJ01,2,12.50,25.00,F1\rC2,XJ01,1,1,1,F1\n"),
            format!("{head}C1,XJ01,2,12.50,25.00,医院\n"),
            format!("{head}C1,XJ01,2,12.50,25.01,F1\nC2,XJ01,x,1,1,F1\n"),
            format!("{head}C1,XJ01,2,12.50\n"),
            "claim_id,quantity\nC1,1\n".to_string(),
            String::new(),
        ] {
            assert_eq!(compare(text.as_bytes()), None, "{text:?}");
        }
    }

    fn field() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "[A-Z][0-9]{1,3}",
            3 => "[0-9]{1,3}(\\.[0-9]{1,3})?",
            1 => "[ A-Za-z0-9.,'=\"\r-]{0,4}",
            1 => Just(String::new()),
            1 => Just("医".to_string()),
        ]
    }

    fn row() -> impl Strategy<Value = String> {
        prop_oneof![
            // A good line: amount = quantity × unit price.
            8 => ("[A-C][0-9]", "[A-Z][0-9]", 1u32..30, 0u32..5000, prop::option::of("[A-Z]{0,2}"))
                .prop_map(|(c, i, q, p, f)| {
                    let amount = q as i64 * p as i64;
                    format!("{c},{i},{q},{}.{:02},{}.{:02},{}", p / 100, p % 100, amount / 100, amount % 100, f.unwrap_or_default())
                }),
            2 => prop::collection::vec(field(), 1..8).prop_map(|f| f.join(",")),
            1 => Just(String::new()),
            1 => Just(",,,,,".to_string()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn both_readers_give_the_same_lines(
            bom in any::<bool>(),
            crlf in any::<bool>(),
            rows in prop::collection::vec(row(), 0..12),
            last_newline in any::<bool>(),
        ) {
            let end = if crlf { "\r\n" } else { "\n" };
            let mut text = String::new();
            if bom {
                text.push('\u{feff}');
            }
            text.push_str("claim_id,item_code,quantity,unit_price,amount,facility_id");
            for r in &rows {
                text.push_str(end);
                text.push_str(r);
            }
            if last_newline {
                text.push_str(end);
            }
            compare(text.as_bytes());
        }
    }
}
