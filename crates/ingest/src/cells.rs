//! What each column of the registry holds, as far as a spreadsheet is concerned, and
//! how an Excel cell becomes the text the domain parsers read (and back).
//!
//! CSV carries text and needs none of this. A workbook carries typed cells: numbers
//! as binary floats, dates as day serials, and an 18-digit resident ID typed into a
//! General cell silently cut to 15 significant digits. Reading turns each cell into
//! the text a CSV would have held, using the column's kind; writing picks the cell
//! type that keeps the value intact (IDs and codes as text, always).

use chrono::{Duration, NaiveDate};

/// The kind of value a column holds, by its name in `Record::COLUMNS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    /// Free text, identifiers chosen by source systems, enum values.
    Text,
    /// An 18-digit resident ID: text, never a number (15 significant digits in Excel).
    ResidentId,
    /// A region code or prefix: digits kept as text so leading digits and length stay.
    Code,
    /// Yuan with at most two decimals.
    Money,
    /// A calendar day.
    Date,
    /// A whole number (size, population, year, class code).
    Integer,
    /// A decimal number (longitude, latitude).
    Decimal,
    /// A yes/no flag.
    Bool,
}

/// The kind of a column of any record, by name. Unknown names are text.
pub fn kind_of(column: &str) -> CellKind {
    match column {
        "person_id" => CellKind::ResidentId,
        "code" | "village_code" | "region_code" | "region" => CellKind::Code,
        "income" | "consumption" | "food" | "total_cost" | "eligible_cost" | "rural_income" | "monitoring_line" => {
            CellKind::Money
        }
        "status_since" | "birth_date" | "admitted" | "discharged" => CellKind::Date,
        "size" | "population" | "year" | "urban_rural" => CellKind::Integer,
        "lon" | "lat" => CellKind::Decimal,
        "gp" | "active" => CellKind::Bool,
        _ => CellKind::Text,
    }
}

/// Whole floats below this are printed as integers without loss (2^53 is about 9e15;
/// a 12-digit region code fits, an 18-digit resident ID does not).
const EXACT_INT: f64 = 1e15;

/// The text of a number cell for a column of the given kind, or why it cannot be.
pub fn number_text(v: f64, kind: CellKind) -> Result<String, String> {
    if !v.is_finite() {
        return Err(format!("the cell holds {v}, not a number"));
    }
    match kind {
        CellKind::ResidentId => Err(format!(
            "the resident ID is stored as a number ({v:E}) in the workbook; Excel keeps only 15 significant \
             digits, so its last digits (and any final X) are lost: format the column as Text and enter the IDs again"
        )),
        CellKind::Date => serial_date(v).map(|d| d.to_string()),
        CellKind::Money => Ok(money_text(v)),
        CellKind::Code | CellKind::Integer | CellKind::Text | CellKind::Bool => {
            if v.fract() == 0.0 && v.abs() < EXACT_INT {
                Ok(format!("{}", v as i64))
            } else if kind == CellKind::Code || (kind == CellKind::Text && v.fract() == 0.0) {
                Err(format!(
                    "the number {v:E} is too long for Excel to keep exactly (15 significant digits): format the column as Text and enter the values again"
                ))
            } else {
                Ok(format!("{v}"))
            }
        }
        // Rust prints the shortest text that reads back as the same float.
        CellKind::Decimal => Ok(format!("{v}")),
    }
}

/// Yuan rounded to the fen, without float noise or trailing zeros: `1234.5`,
/// `0.3` for `0.30000000000000004`.
pub fn money_text(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.') } else { &s };
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// A day from an Excel serial number (1900 date system). Serials before 1 March 1900
/// are refused: Excel counts a 29 February 1900 that never was.
pub fn serial_date(v: f64) -> Result<NaiveDate, String> {
    if !(61.0..2_958_466.0).contains(&v) {
        return Err(format!("the number {v} is not a date; write it as YYYY-MM-DD or format the cell as a date"));
    }
    let base = NaiveDate::from_ymd_opt(1899, 12, 30).expect("valid day");
    Ok(base + Duration::days(v.floor() as i64))
}

/// The Excel serial of a day, for writing date cells.
pub fn date_serial(d: NaiveDate) -> f64 {
    let base = NaiveDate::from_ymd_opt(1899, 12, 30).expect("valid day");
    (d - base).num_days() as f64
}

/// A hint appended when a resident ID read as text looks like Excel turned it into
/// a number once (`1.10105E+17`, or 18 digits ending in `000` after a round trip).
pub fn resident_id_hint(raw: &str) -> Option<&'static str> {
    let t = raw.trim();
    if t.contains("E+") || t.contains("e+") {
        return Some(
            "it looks like Excel stored the ID as a number and wrote it in scientific notation: format the column as Text and enter the IDs again",
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_loses_float_noise() {
        assert_eq!(money_text(1234.5), "1234.5");
        assert_eq!(money_text(0.1 + 0.2), "0.3");
        assert_eq!(money_text(1200.0), "1200");
        assert_eq!(money_text(19575.0), "19575");
        assert_eq!(money_text(99.99), "99.99");
        assert_eq!(money_text(0.0), "0");
    }

    #[test]
    fn numbers_by_kind() {
        assert_eq!(number_text(341122100201.0, CellKind::Code).unwrap(), "341122100201");
        assert_eq!(number_text(3.0, CellKind::Integer).unwrap(), "3");
        assert_eq!(number_text(118.3, CellKind::Decimal).unwrap(), "118.3");
        assert_eq!(number_text(45352.0, CellKind::Date).unwrap(), "2024-03-01");
        let e = number_text(110105194912310000.0, CellKind::ResidentId).unwrap_err();
        assert!(e.contains("15 significant digits") && e.contains("Text"), "{e}");
        assert!(number_text(12.0, CellKind::Date).is_err());
        assert!(number_text(1e17, CellKind::Text).is_err());
    }

    #[test]
    fn serials_round_trip() {
        let d = NaiveDate::from_ymd_opt(1949, 12, 31).unwrap();
        assert_eq!(serial_date(date_serial(d)).unwrap(), d);
    }
}

/// Whether a text cell would run as a formula in a spreadsheet program: it
/// starts with `=`, `+`, `-`, `@`, a tab or a carriage return, and is not a
/// number (a negative amount is data).
fn formula_like(s: &str) -> bool {
    s.starts_with(['=', '+', '-', '@', '\t', '\r']) && s.parse::<f64>().is_err()
}

/// A cell as a CSV file carries it: a formula-like text gets a leading
/// apostrophe, which spreadsheet programs hide and [`unguard`] removes when
/// the file is read back.
pub fn guard(s: &str) -> std::borrow::Cow<'_, str> {
    if formula_like(s) {
        std::borrow::Cow::Owned(format!("'{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// [`guard`] as bytes, for a CSV writer.
pub fn guard_bytes(s: &str) -> std::borrow::Cow<'_, [u8]> {
    match guard(s) {
        std::borrow::Cow::Borrowed(b) => std::borrow::Cow::Borrowed(b.as_bytes()),
        std::borrow::Cow::Owned(o) => std::borrow::Cow::Owned(o.into_bytes()),
    }
}

/// A cell as written by [`guard`], back to its text.
pub fn unguard(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if formula_like(rest) => rest,
        _ => s,
    }
}

#[cfg(test)]
mod guard_tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_read_back_numbers_are_not() {
        for text in ["=HYPERLINK(\"http://x\")", "+1+1", "-1+A1", "@SUM(A1)", "\tx"] {
            assert_eq!(guard(text), format!("'{text}"));
            assert_eq!(unguard(&guard(text)), text);
        }
        for plain in ["-12.50", "+3", "王芳", "", "'quoted", "a=b"] {
            assert_eq!(guard(plain), plain);
            assert_eq!(unguard(plain), plain);
        }
    }
}
