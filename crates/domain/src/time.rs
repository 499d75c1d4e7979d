//! Dates as `YYYY-MM-DD`, and ages in whole years.

use crate::DomainError;
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc};

/// Parses a date written `YYYY-MM-DD` (also accepts `YYYY/MM/DD`, which office
/// spreadsheets often write), refusing impossible days.
pub fn parse_date(s: &str) -> Result<NaiveDate, DomainError> {
    let t = s.trim();
    let norm: String = t.replace('/', "-");
    let b = norm.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shaped {
        crate::bail!("{t:?} is not a date; write it as YYYY-MM-DD, like 2024-03-10");
    }
    let y: i32 = norm[0..4].parse().unwrap_or(0);
    let m: u32 = norm[5..7].parse().unwrap_or(0);
    let d: u32 = norm[8..10].parse().unwrap_or(0);
    if !(1880..=2200).contains(&y) {
        crate::bail!("the year in {t:?} is out of range");
    }
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| DomainError::new(format!("{t:?} is not a real day of the calendar")))
}

/// China Standard Time (UTC+8), the offset of every calendar day the
/// programme counts: the day of a slip, a reconciliation, a case closed.
pub fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("a valid offset")
}

/// The calendar day in China of an instant.
pub fn china_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&china()).date_naive()
}

/// Today's calendar day in China: the "today" of every date a user enters or
/// the programme counts (an admission, a payment, a deadline, a report's end),
/// whatever the server's own time zone.
pub fn china_today() -> NaiveDate {
    china_day(Utc::now())
}

/// Age in whole years at `on`: the number of birthdays on or before `on`. A person
/// born on 29 February has their birthday on 1 March in other years.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut age = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// The date `years` later, 29 February landing on 28 February in other years.
pub fn add_years(d: NaiveDate, years: i32) -> NaiveDate {
    let y = d.year() + years;
    NaiveDate::from_ymd_opt(y, d.month(), d.day())
        .unwrap_or_else(|| NaiveDate::from_ymd_opt(y, 2, 28).expect("28 Feb exists"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    #[test]
    fn parses_and_refuses() {
        assert_eq!(d("2024-03-10"), NaiveDate::from_ymd_opt(2024, 3, 10).unwrap());
        assert_eq!(d("2024/03/10"), NaiveDate::from_ymd_opt(2024, 3, 10).unwrap());
        for bad in ["2024-02-30", "2024-3-10", "10/03/2024", "", "2024-13-01", "abcd-ef-gh"] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ages_count_birthdays_on_or_before() {
        assert_eq!(age_on(d("1960-05-01"), d("2025-05-01")), 65);
        assert_eq!(age_on(d("1960-05-01"), d("2025-04-30")), 64);
        assert_eq!(age_on(d("1960-02-29"), d("2025-02-28")), 64);
        assert_eq!(age_on(d("1960-02-29"), d("2025-03-01")), 65);
        assert_eq!(add_years(d("2024-02-29"), 1), d("2025-02-28"));
    }
}
