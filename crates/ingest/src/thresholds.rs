//! Thresholds in the TOML form of specs/monitoring.md: `[[threshold]]` tables with
//! `region`, `year`, `rural_income`, `monitoring_line`. Each table goes through the
//! same validation as a CSV row (via [`Threshold::from_fields`]); an error names the
//! line of the value at fault. Other keys are ignored, as extra CSV columns are.

use crate::cells;
use crate::error::IngestError;
use crate::read::{Collector, Row};
use domain::{ColumnMap, Record, Threshold};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    threshold: Vec<toml::Spanned<BTreeMap<String, toml::Spanned<toml::Value>>>>,
}

/// Reads thresholds from a TOML file.
pub fn read_thresholds_toml(path: &Path) -> Result<Vec<Row<Threshold>>, IngestError> {
    let text = std::fs::read_to_string(path).map_err(|e| IngestError::io(path, e))?;
    parse_thresholds_toml(&path.display().to_string(), &text)
}

/// Reads thresholds from TOML text; `name` is used in error messages.
pub fn parse_thresholds_toml(name: &str, text: &str) -> Result<Vec<Row<Threshold>>, IngestError> {
    let line_of = |offset: usize| text[..offset.min(text.len())].bytes().filter(|b| *b == b'\n').count() as u64 + 1;
    let file: File = toml::from_str(text).map_err(|e| IngestError::Format {
        file: name.to_string(),
        reason: match e.span() {
            Some(s) => format!("line {}: not valid TOML: {}", line_of(s.start), e.message()),
            None => format!("not valid TOML: {}", e.message()),
        },
    })?;
    if file.threshold.is_empty() {
        return Err(IngestError::Format { file: name.to_string(), reason: "holds no [[threshold]] table".into() });
    }
    let names: Vec<&str> = Threshold::COLUMNS.iter().map(|c| c.name).collect();
    let map = ColumnMap::new::<Threshold>(&names).expect("the record's own columns map");
    let mut col = Collector::<Threshold>::new(name, map);
    for t in &file.threshold {
        let table = t.get_ref();
        // A bad value is reported on its own line; the table as a whole (a missing
        // field, a repeated key) on the line of its first value.
        let first = table.values().map(|v| v.span().start).min().unwrap_or(t.span().start);
        let mut line = line_of(first);
        let mut fields = Vec::with_capacity(names.len());
        let mut bad = false;
        for c in Threshold::COLUMNS {
            let text = match table.get(c.name).map(|v| v.get_ref()) {
                None => String::new(),
                Some(toml::Value::String(s)) => s.clone(),
                Some(toml::Value::Integer(i)) => i.to_string(),
                Some(toml::Value::Float(f)) => cells::money_text(*f),
                Some(other) => {
                    let at = line_of(table[c.name].span().start);
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
                if let Some(v) = table.get(e.column) {
                    line = line_of(v.span().start);
                }
                col.row_error(line, e.column, e.reason);
            }
            Ok(record) => col.push(line, record),
        }
    }
    col.finish()
}
