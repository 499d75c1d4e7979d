//! Calendar periods of reports: a month, a quarter or a year. Facts are kept by
//! month; a quarter or a year is a run of months.

use chrono::{Datelike, NaiveDate};
use std::fmt;
use std::str::FromStr;

/// A calendar month, kept as `year * 12 + (month - 1)` so months compare and
/// subtract as integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month(pub i32);

impl Month {
    /// `month` is 1 to 12.
    pub fn new(year: i32, month: u32) -> Month {
        assert!((1..=12).contains(&month), "month {month} is outside 1 to 12");
        Month(year * 12 + month as i32 - 1)
    }

    pub fn of(date: NaiveDate) -> Month {
        Month::new(date.year(), date.month())
    }

    pub fn year(self) -> i32 {
        self.0.div_euclid(12)
    }

    /// 1 to 12.
    pub fn month(self) -> u32 {
        self.0.rem_euclid(12) as u32 + 1
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:02}", self.year(), self.month())
    }
}

/// The granularity of a report's periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PeriodKind {
    Month,
    Quarter,
    Year,
}

impl FromStr for PeriodKind {
    type Err = String;
    fn from_str(s: &str) -> Result<PeriodKind, String> {
        match s.trim() {
            "month" | "月" => Ok(PeriodKind::Month),
            "quarter" | "季" => Ok(PeriodKind::Quarter),
            "year" | "年" => Ok(PeriodKind::Year),
            other => Err(format!("unknown period {other:?}; expected month, quarter or year")),
        }
    }
}

/// A month, a quarter or a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Period {
    Month(Month),
    /// Year and quarter 1 to 4.
    Quarter(i32, u32),
    Year(i32),
}

impl Period {
    /// The first and last month, inclusive.
    pub fn months(self) -> (Month, Month) {
        match self {
            Period::Month(m) => (m, m),
            Period::Quarter(y, q) => (Month::new(y, q * 3 - 2), Month::new(y, q * 3)),
            Period::Year(y) => (Month::new(y, 1), Month::new(y, 12)),
        }
    }

    pub fn year(self) -> i32 {
        self.months().0.year()
    }

    /// The same period a year earlier (2023-03 for 2024-03, 2023-Q2 for 2024-Q2).
    pub fn year_before(self) -> Period {
        match self {
            Period::Month(m) => Period::Month(Month(m.0 - 12)),
            Period::Quarter(y, q) => Period::Quarter(y - 1, q),
            Period::Year(y) => Period::Year(y - 1),
        }
    }

    /// Every period of a kind in a year, in order.
    pub fn of_year(year: i32, kind: PeriodKind) -> Vec<Period> {
        match kind {
            PeriodKind::Year => vec![Period::Year(year)],
            PeriodKind::Quarter => (1..=4).map(|q| Period::Quarter(year, q)).collect(),
            PeriodKind::Month => (1..=12).map(|m| Period::Month(Month::new(year, m))).collect(),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Month(m) => m.fmt(f),
            Period::Quarter(y, q) => write!(f, "{y}-Q{q}"),
            Period::Year(y) => write!(f, "{y}"),
        }
    }
}

impl FromStr for Period {
    type Err = String;
    /// `2024`, `2024-Q2`, `2024-03`.
    fn from_str(s: &str) -> Result<Period, String> {
        let t = s.trim();
        let bad = || format!("{t:?} is not a period; write a year (2024), a quarter (2024-Q2) or a month (2024-03)");
        let year = |y: &str| -> Result<i32, String> {
            y.parse::<i32>().ok().filter(|y| (1990..=2100).contains(y)).ok_or_else(bad)
        };
        match t.split_once('-') {
            None => Ok(Period::Year(year(t)?)),
            Some((y, rest)) => {
                let y = year(y)?;
                if let Some(q) = rest.strip_prefix('Q').or_else(|| rest.strip_prefix('q')) {
                    let q: u32 = q.parse().ok().filter(|q| (1..=4).contains(q)).ok_or_else(bad)?;
                    Ok(Period::Quarter(y, q))
                } else {
                    let m: u32 = rest.parse().ok().filter(|m| (1..=12).contains(m)).ok_or_else(bad)?;
                    Ok(Period::Month(Month::new(y, m)))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse_print_and_span_their_months() {
        for s in ["2024", "2024-Q2", "2024-03"] {
            assert_eq!(s.parse::<Period>().unwrap().to_string(), s);
        }
        assert_eq!("2024-Q2".parse::<Period>().unwrap().months(), (Month::new(2024, 4), Month::new(2024, 6)));
        assert_eq!(Period::Year(2024).months().1.to_string(), "2024-12");
        for bad in ["24", "2024-13", "2024-Q5", "x", "2024-"] {
            assert!(bad.parse::<Period>().is_err(), "{bad}");
        }
        assert_eq!(Period::of_year(2024, PeriodKind::Month).len(), 12);
        assert_eq!(Month::new(2023, 12).0 + 1, Month::new(2024, 1).0);
        for (now, before) in [("2024", "2023"), ("2024-Q1", "2023-Q1"), ("2024-01", "2023-01"), ("2024-12", "2023-12")]
        {
            assert_eq!(now.parse::<Period>().unwrap().year_before().to_string(), before);
        }
    }
}
