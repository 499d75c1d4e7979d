//! Indicator tables by region and period, and their CSV and XLSX forms.
//!
//! A report lists, for each level asked and each period, every region of that
//! level inside the scope (a region-code prefix) with each indicator's value,
//! numerator and denominator. Rows outside the scope never appear, nor do regions
//! above it (a province row would hold other counties' data). The writers take a
//! `Write`; the caller chooses the file.

use crate::cube::{IndicatorCube, IndicatorValue};
use crate::definition::{Definitions, IndicatorDef, Unit};
use crate::period::Period;
use domain::{Fen, RegionCode, RegionLevel};
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use std::collections::HashMap;
use std::io::Write;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ReportError {
    #[error("writing the CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("writing the workbook: {0}")]
    Xlsx(#[from] XlsxError),
    #[error("writing the report: {0}")]
    Io(#[from] std::io::Error),
}

/// What to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSpec {
    pub levels: Vec<RegionLevel>,
    pub periods: Vec<Period>,
    /// A region-code prefix (`""` for all, `34` a province, `341122` a county).
    pub scope: String,
}

/// One region in one period.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRow {
    pub level: RegionLevel,
    pub region: RegionCode,
    pub period: Period,
    /// One per indicator, in definition order.
    pub values: Vec<IndicatorValue>,
}

/// The rows of a report, by level, then region, then period.
pub fn build(cube: &IndicatorCube, spec: &ReportSpec) -> Vec<ReportRow> {
    let n = cube.definitions().indicators.len();
    let mut rows = Vec::new();
    for &level in &spec.levels {
        for region in cube.regions(level).into_iter().filter(|r| r.starts_with(&spec.scope)) {
            for &period in &spec.periods {
                let values = (0..n).map(|i| cube.indicator(i, region, period)).collect();
                rows.push(ReportRow { level, region, period, values });
            }
        }
    }
    rows
}

/// The header of the data columns.
pub fn header(defs: &Definitions) -> Vec<String> {
    let mut h: Vec<String> = ["level", "region_code", "region_name", "period"].iter().map(|s| s.to_string()).collect();
    for d in &defs.indicators {
        h.push(d.id.clone());
        h.push(format!("{}_numerator", d.id));
        h.push(format!("{}_denominator", d.id));
    }
    h
}

fn fmt_value(def: &IndicatorDef, v: Option<f64>) -> String {
    match v {
        None => String::new(),
        Some(x) => match def.unit {
            Unit::Share => format!("{x:.4}"),
            Unit::Count if def.denominator.is_none() => format!("{x:.0}"),
            _ => format!("{x:.2}"),
        },
    }
}

fn fmt_sum(money: bool, v: i64) -> String {
    if money {
        Fen(v).to_string()
    } else {
        v.to_string()
    }
}

/// A region's name, or nothing.
fn name(names: &HashMap<RegionCode, String>, r: RegionCode) -> &str {
    names.get(&r).map(String::as_str).unwrap_or("")
}

/// Writes the rows as one CSV table (all levels together).
pub fn write_csv<W: Write>(
    defs: &Definitions,
    rows: &[ReportRow],
    names: &HashMap<RegionCode, String>,
    out: W,
) -> Result<(), ReportError> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(header(defs))?;
    for r in rows {
        let mut rec =
            vec![r.level.to_string(), r.region.short(), name(names, r.region).to_string(), r.period.to_string()];
        for (d, v) in defs.indicators.iter().zip(&r.values) {
            rec.push(fmt_value(d, v.value));
            rec.push(fmt_sum(d.numerator_is_money(), v.numerator));
            rec.push(v.denominator.map(|x| fmt_sum(d.denominator_is_money(), x)).unwrap_or_default());
        }
        w.write_record(rec)?;
    }
    w.flush()?;
    Ok(())
}

/// Writes the rows as a workbook: one sheet per level, then a `definitions` sheet
/// with each indicator's names, unit and formula.
pub fn write_xlsx<W: Write>(
    defs: &Definitions,
    rows: &[ReportRow],
    names: &HashMap<RegionCode, String>,
    levels: &[RegionLevel],
    mut out: W,
) -> Result<(), ReportError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let head = header(defs);
    for &level in levels {
        let ws = wb.add_worksheet();
        ws.set_name(level.as_str())?;
        for (c, h) in head.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, h, &bold)?;
        }
        for (row, r) in (1u32..).zip(rows.iter().filter(|r| r.level == level)) {
            ws.write_string(row, 0, r.level.as_str())?;
            ws.write_string(row, 1, r.region.short())?;
            ws.write_string(row, 2, name(names, r.region))?;
            ws.write_string(row, 3, r.period.to_string())?;
            let mut c = 4u16;
            for (d, v) in defs.indicators.iter().zip(&r.values) {
                if let Some(x) = v.value {
                    ws.write_number(row, c, x)?;
                }
                let as_num = |money: bool, s: i64| if money { s as f64 / 100.0 } else { s as f64 };
                ws.write_number(row, c + 1, as_num(d.numerator_is_money(), v.numerator))?;
                if let Some(den) = v.denominator {
                    ws.write_number(row, c + 2, as_num(d.denominator_is_money(), den))?;
                }
                c += 3;
            }
        }
        ws.set_freeze_panes(1, 4)?;
    }
    let ws = wb.add_worksheet();
    ws.set_name("definitions")?;
    for (c, h) in ["id", "name_zh", "name_en", "unit", "formula"].iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, d) in defs.indicators.iter().enumerate() {
        let r = i as u32 + 1;
        ws.write_string(r, 0, &d.id)?;
        ws.write_string(r, 1, &d.name_zh)?;
        ws.write_string(r, 2, &d.name_en)?;
        ws.write_string(r, 3, d.unit.as_str())?;
        ws.write_string(r, 4, d.formula())?;
    }
    let buf = wb.save_to_buffer()?;
    out.write_all(&buf)?;
    Ok(())
}
