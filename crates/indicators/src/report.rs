//! Indicator tables by region and period, and their CSV and XLSX forms.
//!
//! A report lists, for each level asked and each period, every region of that
//! level inside the scope (a region-code prefix) with each indicator's value,
//! numerator and denominator. Rows outside the scope never appear, nor do regions
//! above it (a province row would hold other counties' data). The writers take a
//! `Write`; the caller chooses the file.
//!
//! Each value is drawn against the target in force for its indicator, region and
//! year (a target column and a status column: met, near or missed), and, when a
//! comparison is asked, beside the same region's value in the same period a year
//! before and the change, or beside the values of the row's province and of the
//! nation (figures only: the wider regions' sums and rows never appear). Targets
//! are applied here, when the report is drawn: no fact depends on them.

use crate::cube::{IndicatorCube, IndicatorValue};
use crate::definition::{Definitions, IndicatorDef, Unit};
use crate::period::Period;
use crate::target::{Status, Target, Targets};
use domain::{Fen, RegionCode, RegionLevel};
use rust_xlsxwriter::{Color, Format, Workbook, XlsxError};
use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::str::FromStr;
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
    /// The same region's values in the same period a year before, one per
    /// indicator, when the report is compared ([`add_previous`]).
    pub previous: Option<Vec<IndicatorValue>>,
    /// The values of the region's province and of the nation in the same
    /// period, when the report is compared with them ([`add_regions`]).
    pub wider: Option<Wider>,
}

/// The values of the regions a row's region lies in: its province and the
/// nation, one per indicator. Values only: a wider region's numerator and
/// denominator are never kept, so that the rest of a province cannot be had by
/// subtracting one's own sums from its sums.
#[derive(Debug, Clone, PartialEq)]
pub struct Wider {
    pub province: RegionCode,
    pub province_values: Vec<Option<f64>>,
    pub nation: Vec<Option<f64>>,
}

/// What a report is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compare {
    /// The same period of the year before.
    PreviousYear,
    /// The province the row's region lies in, and the nation.
    Regions,
}

impl Compare {
    pub const ALL: [Compare; 2] = [Compare::PreviousYear, Compare::Regions];

    pub fn as_str(self) -> &'static str {
        match self {
            Compare::PreviousYear => "previous-year",
            Compare::Regions => "regions",
        }
    }
}

impl fmt::Display for Compare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Compare {
    type Err = String;
    fn from_str(s: &str) -> Result<Compare, String> {
        match s.trim() {
            "previous-year" | "previous_year" => Ok(Compare::PreviousYear),
            "regions" => Ok(Compare::Regions),
            other => Err(format!("unknown comparison {other:?}; expected previous-year or regions")),
        }
    }
}

/// The comparisons a report is drawn with: none, one or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Comparisons {
    pub previous_year: bool,
    pub regions: bool,
}

impl Comparisons {
    pub const NONE: Comparisons = Comparisons { previous_year: false, regions: false };

    pub fn has(self, c: Compare) -> bool {
        match c {
            Compare::PreviousYear => self.previous_year,
            Compare::Regions => self.regions,
        }
    }

    pub fn with(mut self, c: Compare) -> Comparisons {
        match c {
            Compare::PreviousYear => self.previous_year = true,
            Compare::Regions => self.regions = true,
        }
        self
    }

    pub fn is_empty(self) -> bool {
        !self.previous_year && !self.regions
    }

    /// The comparisons asked, in [`Compare::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Compare> {
        Compare::ALL.into_iter().filter(move |c| self.has(*c))
    }
}

impl From<Compare> for Comparisons {
    fn from(c: Compare) -> Comparisons {
        Comparisons::NONE.with(c)
    }
}

impl From<Option<Compare>> for Comparisons {
    fn from(c: Option<Compare>) -> Comparisons {
        c.map(Comparisons::from).unwrap_or_default()
    }
}

impl fmt::Display for Comparisons {
    /// `previous-year,regions`; empty for none.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v: Vec<&str> = self.iter().map(Compare::as_str).collect();
        f.write_str(&v.join(","))
    }
}

impl FromStr for Comparisons {
    type Err = String;
    /// A comma-separated list (`previous-year,regions`); empty for none.
    fn from_str(s: &str) -> Result<Comparisons, String> {
        s.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .try_fold(Comparisons::NONE, |acc, p| Ok(acc.with(p.parse()?)))
    }
}

/// The rows of a report, by level, then region, then period.
pub fn build(cube: &IndicatorCube, spec: &ReportSpec) -> Vec<ReportRow> {
    let n = cube.definitions().indicators.len();
    let mut rows = Vec::new();
    for &level in &spec.levels {
        for region in cube.regions(level).into_iter().filter(|r| r.starts_with(&spec.scope)) {
            for &period in &spec.periods {
                let values = (0..n).map(|i| cube.indicator(i, region, period)).collect();
                rows.push(ReportRow { level, region, period, values, previous: None, wider: None });
            }
        }
    }
    rows
}

/// Gives each row the values of its region in the same period a year before,
/// from `previous`, a cube of the year before over the same definitions (by id;
/// an indicator it lacks has no value). A region without facts that year has
/// zero sums there: no value for a ratio, 0 for a plain count.
pub fn add_previous(rows: &mut [ReportRow], defs: &Definitions, previous: &IndicatorCube) {
    let at: Vec<Option<usize>> =
        defs.indicators.iter().map(|d| previous.definitions().indicators.iter().position(|p| p.id == d.id)).collect();
    for row in rows {
        let before = row.period.year_before();
        row.previous = Some(
            at.iter()
                .map(|i| match i {
                    Some(i) => previous.indicator(*i, row.region, before),
                    None => IndicatorValue { numerator: 0, denominator: None, value: None },
                })
                .collect(),
        );
    }
}

/// Gives each row the values of its province and of the nation in the same
/// period, from `wide`, a cube of the whole country's facts (the nation is the
/// sum of its top regions) over the same definitions (by id; an indicator it
/// lacks has no value). Only values are kept, never the wider sums.
pub fn add_regions(rows: &mut [ReportRow], defs: &Definitions, wide: &IndicatorCube) {
    let at: Vec<Option<usize>> =
        defs.indicators.iter().map(|d| wide.definitions().indicators.iter().position(|p| p.id == d.id)).collect();
    let mut nation: HashMap<Period, Vec<Option<f64>>> = HashMap::new();
    let mut province: HashMap<(RegionCode, Period), Vec<Option<f64>>> = HashMap::new();
    for row in rows {
        let p = row.region.ancestor(RegionLevel::Province).expect("every region lies in a province");
        let pv = province
            .entry((p, row.period))
            .or_insert_with(|| at.iter().map(|i| i.and_then(|i| wide.indicator(i, p, row.period).value)).collect())
            .clone();
        let nv = nation
            .entry(row.period)
            .or_insert_with(|| at.iter().map(|i| i.and_then(|i| wide.indicator_total(i, row.period).value)).collect())
            .clone();
        row.wider = Some(Wider { province: p, province_values: pv, nation: nv });
    }
}

/// Each indicator's value in each month of `year`, for `region` (the nation,
/// the sum of the cube's top regions, when `None`): one list of 12 per
/// indicator, in definition order. What the report's charts draw.
pub fn monthly(cube: &IndicatorCube, region: Option<RegionCode>, year: i32) -> Vec<Vec<Option<f64>>> {
    (0..cube.definitions().indicators.len())
        .map(|i| {
            (1..=12)
                .map(|m| {
                    let p = Period::Month(crate::period::Month::new(year, m));
                    match region {
                        Some(r) => cube.indicator(i, r, p).value,
                        None => cube.indicator_total(i, p).value,
                    }
                })
                .collect()
        })
        .collect()
}

/// One value drawn against its target and the year before.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Drawn<'a> {
    /// The target in force for the indicator, the row's region and year.
    pub target: Option<&'a Target>,
    /// `None` without a target or without a value.
    pub status: Option<Status>,
    /// The value a year before, when compared.
    pub previous: Option<f64>,
    /// The value minus the previous one (percentage points for a percent).
    pub change: Option<f64>,
    /// The value of the row's province and of the nation, when compared.
    pub province: Option<f64>,
    pub nation: Option<f64>,
}

/// Each value of a row (in definition order) drawn against the targets and the
/// year before.
pub fn draw<'a>(defs: &Definitions, targets: &'a Targets, row: &ReportRow) -> Vec<Drawn<'a>> {
    let region = row.region.short();
    let year = row.period.year();
    defs.indicators
        .iter()
        .zip(&row.values)
        .enumerate()
        .map(|(i, (d, v))| {
            let target = targets.find(&d.id, &region, year);
            let previous = row.previous.as_ref().and_then(|p| p.get(i)).and_then(|p| p.value);
            Drawn {
                target,
                status: target.zip(v.value).map(|(t, x)| t.status(x)),
                previous,
                change: v.value.zip(previous).map(|(a, b)| a - b),
                province: row.wider.as_ref().and_then(|w| w.province_values.get(i).copied().flatten()),
                nation: row.wider.as_ref().and_then(|w| w.nation.get(i).copied().flatten()),
            }
        })
        .collect()
}

/// The header of the data columns; compared with the year before, each
/// indicator's previous value and change too; with the regions, its
/// province's and the nation's values.
pub fn header(defs: &Definitions, compare: Comparisons) -> Vec<String> {
    let mut h: Vec<String> = ["level", "region_code", "region_name", "period"].iter().map(|s| s.to_string()).collect();
    for d in &defs.indicators {
        h.push(d.id.clone());
        h.push(format!("{}_numerator", d.id));
        h.push(format!("{}_denominator", d.id));
        h.push(format!("{}_target", d.id));
        h.push(format!("{}_status", d.id));
        if compare.previous_year {
            h.push(format!("{}_previous", d.id));
            h.push(format!("{}_change", d.id));
        }
        if compare.regions {
            h.push(format!("{}_province", d.id));
            h.push(format!("{}_nation", d.id));
        }
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

/// Writes the rows as one CSV table (all levels together), each value with its
/// target and status, and with `compare` its previous value and change, its
/// province's and the nation's values.
pub fn write_csv<W: Write>(
    defs: &Definitions,
    rows: &[ReportRow],
    names: &HashMap<RegionCode, String>,
    targets: &Targets,
    compare: Comparisons,
    out: W,
) -> Result<(), ReportError> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(header(defs, compare))?;
    for r in rows {
        let mut rec =
            vec![r.level.to_string(), r.region.short(), name(names, r.region).to_string(), r.period.to_string()];
        for ((d, v), x) in defs.indicators.iter().zip(&r.values).zip(draw(defs, targets, r)) {
            rec.push(fmt_value(d, v.value));
            rec.push(fmt_sum(d.numerator_is_money(), v.numerator));
            rec.push(v.denominator.map(|x| fmt_sum(d.denominator_is_money(), x)).unwrap_or_default());
            rec.push(x.target.map(Target::describe).unwrap_or_default());
            rec.push(x.status.map(|s| s.as_str().to_string()).unwrap_or_default());
            if compare.previous_year {
                rec.push(fmt_value(d, x.previous));
                rec.push(fmt_value(d, x.change));
            }
            if compare.regions {
                rec.push(fmt_value(d, x.province));
                rec.push(fmt_value(d, x.nation));
            }
        }
        w.write_record(rec)?;
    }
    w.flush()?;
    Ok(())
}

/// Writes the rows as a workbook: one sheet per level (each value with its
/// target and status, coloured, and with `compare` its previous value and
/// change, its province's and the nation's values), then a `definitions` sheet with each indicator's names, unit and
/// formula, and a `targets` sheet with the targets of the indicators.
#[allow(clippy::too_many_arguments)]
pub fn write_xlsx<W: Write>(
    defs: &Definitions,
    rows: &[ReportRow],
    names: &HashMap<RegionCode, String>,
    levels: &[RegionLevel],
    targets: &Targets,
    compare: Comparisons,
    mut out: W,
) -> Result<(), ReportError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let coloured = |c: u32| Format::new().set_background_color(Color::RGB(c));
    let (met, near, missed) = (coloured(0xC6EFCE), coloured(0xFFEB9C), coloured(0xFFC7CE));
    let head = header(defs, compare);
    let per = 5 + 2 * compare.previous_year as u16 + 2 * compare.regions as u16;
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
            for ((d, v), x) in defs.indicators.iter().zip(&r.values).zip(draw(defs, targets, r)) {
                if let Some(x) = v.value {
                    ws.write_number(row, c, x)?;
                }
                let as_num = |money: bool, s: i64| if money { s as f64 / 100.0 } else { s as f64 };
                ws.write_number(row, c + 1, as_num(d.numerator_is_money(), v.numerator))?;
                if let Some(den) = v.denominator {
                    ws.write_number(row, c + 2, as_num(d.denominator_is_money(), den))?;
                }
                if let Some(t) = x.target {
                    ws.write_string(row, c + 3, t.describe())?;
                }
                if let Some(s) = x.status {
                    let f = match s {
                        Status::Met => &met,
                        Status::Near => &near,
                        Status::Missed => &missed,
                    };
                    ws.write_string_with_format(row, c + 4, s.as_str(), f)?;
                }
                let mut k = c + 5;
                if compare.previous_year {
                    if let Some(p) = x.previous {
                        ws.write_number(row, k, p)?;
                    }
                    if let Some(ch) = x.change {
                        ws.write_number(row, k + 1, ch)?;
                    }
                    k += 2;
                }
                if compare.regions {
                    if let Some(p) = x.province {
                        ws.write_number(row, k, p)?;
                    }
                    if let Some(n) = x.nation {
                        ws.write_number(row, k + 1, n)?;
                    }
                }
                c += per;
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
    let ws = wb.add_worksheet();
    ws.set_name("targets")?;
    for (c, h) in ["indicator", "region", "year", "direction", "value", "tolerance", "source"].iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (r, t) in (1u32..).zip(targets.sorted(defs).into_iter().filter(|t| defs.get(&t.indicator).is_some())) {
        ws.write_string(r, 0, &t.indicator)?;
        ws.write_string(r, 1, &t.region)?;
        if let Some(y) = t.year {
            ws.write_number(r, 2, y)?;
        }
        ws.write_string(r, 3, t.direction.as_str())?;
        ws.write_number(r, 4, t.value)?;
        ws.write_number(r, 5, t.tolerance)?;
        ws.write_string(r, 6, &t.source)?;
    }
    let buf = wb.save_to_buffer()?;
    out.write_all(&buf)?;
    Ok(())
}
