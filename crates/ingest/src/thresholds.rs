//! Thresholds, the one reader of every command that takes them (`import
//! thresholds`, `monitor`, `whatif`): CSV or a workbook like any registry file, or
//! the TOML form of docs/monitoring.md, `[[threshold]]` tables with `region`,
//! `year`, `rural_income`, `monitoring_line`.
//!
//! Each TOML table goes through the same validation as a CSV row (via
//! [`Threshold::from_fields`]), and a region given twice for a year is refused as a
//! repeated key, as in CSV. Every error names the line of the value at fault and
//! the table (`threshold #2`). A key other than the four, in a table or at the top
//! of the file, is refused with its name and line: it is almost always a misspelt
//! threshold field, which would otherwise be silently missing.

use crate::error::{IngestError, RowError};
use crate::read::{Collector, Progress, Row};
use domain::{ColumnMap, Record, Threshold};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

type Table = BTreeMap<toml::Spanned<String>, toml::Spanned<toml::Value>>;

/// Reads thresholds from a file: TOML by the `.toml` extension, otherwise CSV or
/// XLSX as [`crate::read_file`] reads them.
pub fn read_thresholds(path: &Path, progress: Progress) -> Result<Vec<Row<Threshold>>, IngestError> {
    if is_toml(path) {
        read_thresholds_toml(path)
    } else {
        crate::read::read_file::<Threshold>(path, progress)
    }
}

/// Whether a path names a TOML file (by its extension).
pub fn is_toml(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("toml"))
}

/// Reads thresholds from a TOML file.
pub fn read_thresholds_toml(path: &Path) -> Result<Vec<Row<Threshold>>, IngestError> {
    let text = crate::encoding::read_utf8_text(path).map_err(|e| IngestError::io(path, e))?;
    parse_thresholds_toml(&path.display().to_string(), text.trim_start_matches('\u{feff}'))
}

/// Reads thresholds from TOML text; `name` is used in error messages.
pub fn parse_thresholds_toml(name: &str, text: &str) -> Result<Vec<Row<Threshold>>, IngestError> {
    let line_of = |offset: usize| text[..offset.min(text.len())].bytes().filter(|b| *b == b'\n').count() as u64 + 1;
    let format = |reason: String| IngestError::Format { file: name.to_string(), reason };
    let parse_error = |e: toml::de::Error| {
        format(match e.span() {
            Some(s) => format!("line {}: not valid TOML: {}", line_of(s.start), e.message()),
            None => format!("not valid TOML: {}", e.message()),
        })
    };
    // The top level first, for keys other than `threshold`; then the tables.
    let top: Table = toml::from_str(text).map_err(parse_error)?;
    if let Some(k) = top.keys().find(|k| k.get_ref() != "threshold") {
        return Err(format(format!(
            "line {}: unknown key {:?}; a thresholds file holds only [[threshold]] tables",
            line_of(k.span().start),
            k.get_ref()
        )));
    }
    #[derive(Deserialize)]
    struct File {
        #[serde(default)]
        threshold: Vec<toml::Spanned<Table>>,
    }
    let tables = toml::from_str::<File>(text).map_err(parse_error)?.threshold;
    if tables.is_empty() {
        return Err(format("holds no [[threshold]] table".into()));
    }
    let names: Vec<&str> = Threshold::COLUMNS.iter().map(|c| c.name).collect();
    let map = ColumnMap::new::<Threshold>(&names).expect("the record's own columns map");
    let mut col = Collector::<Threshold>::new(name, map);
    // The lines each table spans, to name the table of every error.
    let mut spans = Vec::with_capacity(tables.len());
    for t in &tables {
        let table = t.get_ref();
        let get = |key: &str| table.iter().find(|(k, _)| k.get_ref() == key).map(|(_, v)| v);
        // A bad value is reported on its own line; the table as a whole (a missing
        // field, a repeated key) on the line of its first value.
        let first = table.values().map(|v| v.span().start).min().unwrap_or(t.span().start);
        let last = table.values().map(|v| v.span().end).max().unwrap_or(t.span().end);
        spans.push((line_of(first), line_of(last)));
        let mut line = line_of(first);
        let mut bad = false;
        for k in table.keys().filter(|k| !names.contains(&k.get_ref().as_str())) {
            let reason = format!(
                "is not a threshold key (a threshold has {}); a misspelt key would leave its threshold missing",
                names.join(", ")
            );
            col.row_error(line_of(k.span().start), k.get_ref(), reason);
            bad = true;
        }
        let mut fields = Vec::with_capacity(names.len());
        for c in Threshold::COLUMNS {
            let text = match get(c.name).map(|v| v.get_ref()) {
                None => String::new(),
                Some(toml::Value::String(s)) => s.clone(),
                Some(toml::Value::Integer(i)) => i.to_string(),
                // A float's shortest form is the decimal the officer typed
                // (19575.5), so more than two decimals are refused as in CSV.
                Some(toml::Value::Float(f)) => format!("{f}"),
                Some(other) => {
                    let at = line_of(get(c.name).map_or(first, |v| v.span().start));
                    col.row_error(at, c.name, format!("{other} is not a value this column takes"));
                    bad = true;
                    String::new()
                }
            };
            fields.push(text);
        }
        if bad {
            continue;
        }
        // Validate with the domain; point a field's error at that field's line.
        match Threshold::from_fields(&fields.iter().map(String::as_str).collect::<Vec<_>>()) {
            Err(e) => {
                if let Some(v) = get(e.column) {
                    line = line_of(v.span().start);
                }
                col.row_error(line, e.column, e.reason);
            }
            Ok(record) => col.push(line, record),
        }
    }
    col.finish().map_err(|e| match e {
        IngestError::Rows { file, errors } => IngestError::Rows { file, errors: name_tables(errors, &spans) },
        other => other,
    })
}

/// Prefixes each error's reason with the table it is in: `threshold #2: ...`.
fn name_tables(errors: Vec<RowError>, spans: &[(u64, u64)]) -> Vec<RowError> {
    errors
        .into_iter()
        .map(|mut e| {
            if let Some(i) = spans.iter().position(|(a, b)| (*a..=*b).contains(&e.line)) {
                e.reason = format!("threshold #{}: {}", i + 1, e.reason);
            }
            e
        })
        .collect()
}
