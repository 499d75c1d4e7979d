//! Targets of the indicators, as data: for an indicator, a region (a code prefix,
//! `""` for the nation) and a year (or every year), a direction (at least, at most,
//! about), a value in the indicator's unit and a tolerance, the band of "near". A
//! value drawn against its target is **met**, **near** or **missed**
//! ([`status`]). The programme's national targets ship in `targets.toml` beside
//! this crate; a deployment's own are kept in the store and laid over them by
//! the application. Targets are applied when a report is drawn: they change no
//! fact.
//!
//! The most specific target wins: the longest region prefix that the row's
//! region starts with, then a target of the row's year before one of every year.

use crate::definition::{line_col, DefinitionError, Definitions};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use toml::Spanned;

/// The shipped national targets.
pub const SHIPPED_TARGETS: &str = include_str!("../targets.toml");

/// Which side of the target value is good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The value should be the target or more (a share of villages with a doctor).
    AtLeast,
    /// The value should be the target or less.
    AtMost,
    /// The value should stay within the tolerance of the target, either side (the
    /// out-of-pocket share "about 10%").
    About,
}

impl Direction {
    pub const ALL: [Direction; 3] = [Direction::AtLeast, Direction::AtMost, Direction::About];

    pub fn as_str(self) -> &'static str {
        match self {
            Direction::AtLeast => "at_least",
            Direction::AtMost => "at_most",
            Direction::About => "about",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Direction {
    type Err = String;
    fn from_str(s: &str) -> Result<Direction, String> {
        Direction::ALL
            .into_iter()
            .find(|d| d.as_str() == s.trim())
            .ok_or_else(|| format!("unknown direction {:?}; expected at_least, at_most or about", s.trim()))
    }
}

/// How a value stands against its target; ordered from worst to best.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Missed,
    Near,
    Met,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Missed => "missed",
            Status::Near => "near",
            Status::Met => "met",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Room left for the rounding of a ratio (27 / 30 × 100 is 90.00000000000001,
/// and another ratio of 90% may come out a hair below), relative to the target.
const SLACK: f64 = 1e-9;

/// The status of `value` against a target of `direction`, `target` and
/// `tolerance` (at least 0):
///
/// | direction | met | near | missed |
/// | --- | --- | --- | --- |
/// | `at_least` | value ≥ target | value ≥ target − tolerance | below that |
/// | `at_most` | value ≤ target | value ≤ target + tolerance | above that |
/// | `about` | \|value − target\| ≤ tolerance | \|value − target\| ≤ 2 × tolerance | beyond that |
///
/// Pure and monotone: a value moved toward the target never gets a worse status.
pub fn status(direction: Direction, target: f64, tolerance: f64, value: f64) -> Status {
    if value.is_nan() {
        return Status::Missed;
    }
    let tolerance = tolerance.max(0.0);
    let slack = SLACK * (1.0 + target.abs());
    // How far the value falls short of the target on the bad side (0 when it
    // lies on the good side, or within the band of `about`).
    let short = match direction {
        Direction::AtLeast => target - value,
        Direction::AtMost => value - target,
        Direction::About => (value - target).abs() - tolerance,
    };
    if short <= slack {
        Status::Met
    } else if short <= tolerance + slack {
        Status::Near
    } else {
        Status::Missed
    }
}

/// One target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// An indicator id.
    pub indicator: String,
    /// A region-code prefix: `""` the nation, 2, 4, 6, 9 or 12 digits.
    pub region: String,
    /// The year it applies to; `None` for every year.
    pub year: Option<i32>,
    pub direction: Direction,
    /// In the indicator's unit (percent: points).
    pub value: f64,
    /// The band of "near", at least 0.
    pub tolerance: f64,
    /// Where it comes from, in a few words.
    pub source: String,
}

/// What identifies a target: its indicator, region and year.
pub type TargetKey = (String, String, Option<i32>);

impl Target {
    /// Checks the fields (not whether the indicator exists: [`Targets::check`]).
    pub fn new(
        indicator: &str,
        region: &str,
        year: Option<i32>,
        direction: Direction,
        value: f64,
        tolerance: f64,
        source: &str,
    ) -> Result<Target, String> {
        let indicator = indicator.trim();
        if indicator.is_empty() || !indicator.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(format!(
                "the indicator {indicator:?} is not an indicator id (lower-case letters, digits and _)"
            ));
        }
        let region = domain::region::parse_prefix(region).map_err(|e| format!("region: {}", e.0))?;
        if let Some(y) = year {
            if !(1990..=2100).contains(&y) {
                return Err(format!("year: {y} is outside 1990 to 2100"));
            }
        }
        if !value.is_finite() {
            return Err(format!("value: {value} is not a number"));
        }
        if !tolerance.is_finite() || tolerance < 0.0 {
            return Err(format!("tolerance: {tolerance} must be a number of at least 0"));
        }
        let source = source.trim();
        if source.chars().count() > 500 {
            return Err("source: at most 500 characters".into());
        }
        Ok(Target {
            indicator: indicator.to_string(),
            region,
            year,
            direction,
            value,
            tolerance,
            source: source.to_string(),
        })
    }

    pub fn key(&self) -> TargetKey {
        (self.indicator.clone(), self.region.clone(), self.year)
    }

    /// The status of a value against this target.
    pub fn status(&self, value: f64) -> Status {
        status(self.direction, self.value, self.tolerance, value)
    }

    /// As people read it: `≥ 90`, `≤ 10`, `10 ± 3`.
    pub fn describe(&self) -> String {
        match self.direction {
            Direction::AtLeast => format!("≥ {}", self.value),
            Direction::AtMost => format!("≤ {}", self.value),
            Direction::About => format!("{} ± {}", self.value, self.tolerance),
        }
    }

    /// Whether it applies to a region (its significant digits) in a year.
    fn applies(&self, indicator: &str, region: &str, year: i32) -> bool {
        self.indicator == indicator && region.starts_with(&self.region) && self.year.is_none_or(|y| y == year)
    }
}

/// A set of targets, at most one per indicator, region and year.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Targets {
    pub items: Vec<Target>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    target: Vec<Spanned<RawTarget>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    indicator: String,
    #[serde(default)]
    region: String,
    year: Option<i32>,
    direction: Spanned<String>,
    value: f64,
    #[serde(default)]
    tolerance: f64,
    #[serde(default)]
    source: String,
}

impl Targets {
    /// The shipped national targets.
    pub fn shipped() -> Targets {
        Targets::parse(SHIPPED_TARGETS, "shipped targets.toml").expect("the shipped targets.toml is valid")
    }

    /// Reads a file of `[[target]]` tables. An indicator, region and year given
    /// twice is refused.
    pub fn parse(text: &str, origin: &str) -> Result<Targets, DefinitionError> {
        let err = |span: std::ops::Range<usize>, reason: String| {
            let (line, column) = line_col(text, span.start);
            DefinitionError { origin: origin.to_string(), line, column, reason }
        };
        let raw: RawFile = toml::from_str(text).map_err(|e| err(e.span().unwrap_or(0..0), e.message().to_string()))?;
        let mut out = Targets::default();
        for entry in raw.target {
            let span = entry.span();
            let r = entry.into_inner();
            let direction: Direction = r.direction.get_ref().parse().map_err(|e| err(r.direction.span(), e))?;
            let t = Target::new(&r.indicator, &r.region, r.year, direction, r.value, r.tolerance, &r.source)
                .map_err(|e| err(span.clone(), e))?;
            if out.items.iter().any(|x| x.key() == t.key()) {
                return Err(err(span, format!("the target of {} for {:?} is given twice", t.indicator, t.region)));
            }
            out.items.push(t);
        }
        Ok(out)
    }

    /// Refuses a target of an indicator the definitions lack.
    pub fn check(&self, defs: &Definitions) -> Result<(), String> {
        match self.items.iter().find(|t| defs.get(&t.indicator).is_none()) {
            Some(t) => Err(format!("there is no indicator {}", t.indicator)),
            None => Ok(()),
        }
    }

    /// Adds a target, or replaces the one of its indicator, region and year.
    pub fn set(&mut self, t: Target) {
        match self.items.iter_mut().find(|x| x.key() == t.key()) {
            Some(slot) => *slot = t,
            None => self.items.push(t),
        }
    }

    /// Removes the target of an indicator, region and year; whether there was one.
    pub fn remove(&mut self, key: &TargetKey) -> bool {
        let before = self.items.len();
        self.items.retain(|x| &x.key() != key);
        self.items.len() != before
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The target in force for an indicator in a region (its significant digits,
    /// as [`domain::RegionCode::short`] gives them, or a scope's prefix) and a
    /// year: the longest region prefix, then the year's own before every year's.
    pub fn find(&self, indicator: &str, region: &str, year: i32) -> Option<&Target> {
        self.items
            .iter()
            .filter(|t| t.applies(indicator, region, year))
            .max_by_key(|t| (t.region.len(), t.year.is_some()))
    }

    /// In the order people read them: by indicator in definition order, then
    /// region, then year (every year first).
    pub fn sorted(&self, defs: &Definitions) -> Vec<&Target> {
        let pos = |id: &str| defs.indicators.iter().position(|d| d.id == id).unwrap_or(usize::MAX);
        let mut v: Vec<&Target> = self.items.iter().collect();
        v.sort_by(|a, b| {
            (pos(&a.indicator), &a.indicator, &a.region, a.year).cmp(&(
                pos(&b.indicator),
                &b.indicator,
                &b.region,
                b.year,
            ))
        });
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(direction: Direction, value: f64, tolerance: f64) -> Target {
        Target::new("x", "", None, direction, value, tolerance, "").unwrap()
    }

    #[test]
    fn the_statuses_of_each_direction() {
        let at_least = t(Direction::AtLeast, 90.0, 5.0);
        assert_eq!(at_least.status(94.5), Status::Met);
        assert_eq!(at_least.status(90.0), Status::Met);
        assert_eq!(at_least.status(100.0 * 27.0 / 30.0), Status::Met);
        assert_eq!(at_least.status(89.99999999999999), Status::Met, "a ratio rounded a hair below");
        assert_eq!(at_least.status(87.0), Status::Near);
        assert_eq!(at_least.status(85.0), Status::Near);
        assert_eq!(at_least.status(84.9), Status::Missed);

        let at_most = t(Direction::AtMost, 10.0, 2.0);
        assert_eq!(at_most.status(0.0), Status::Met);
        assert_eq!(at_most.status(10.0), Status::Met);
        assert_eq!(at_most.status(11.5), Status::Near);
        assert_eq!(at_most.status(12.01), Status::Missed);

        let about = t(Direction::About, 10.0, 3.0);
        assert_eq!(about.status(10.0), Status::Met);
        assert_eq!(about.status(7.0), Status::Met);
        assert_eq!(about.status(13.0), Status::Met);
        assert_eq!(about.status(15.5), Status::Near);
        assert_eq!(about.status(4.5), Status::Near);
        assert_eq!(about.status(21.67), Status::Missed);
        assert_eq!(about.status(3.9), Status::Missed);

        // No tolerance: met or missed, never near.
        let strict = t(Direction::AtLeast, 100.0, 0.0);
        assert_eq!(strict.status(100.0), Status::Met);
        assert_eq!(strict.status(99.9), Status::Missed);
        assert_eq!(t(Direction::About, 10.0, 0.0).status(10.1), Status::Missed);
        assert_eq!(at_least.status(f64::NAN), Status::Missed);
        assert!(Status::Met > Status::Near && Status::Near > Status::Missed);
    }

    #[test]
    fn targets_read_people_style() {
        assert_eq!(t(Direction::AtLeast, 90.0, 5.0).describe(), "≥ 90");
        assert_eq!(t(Direction::AtMost, 0.5, 0.0).describe(), "≤ 0.5");
        assert_eq!(t(Direction::About, 10.0, 3.0).describe(), "10 ± 3");
    }

    #[test]
    fn the_most_specific_target_wins() {
        let mut ts = Targets::default();
        let mk = |region: &str, year: Option<i32>, value: f64| {
            Target::new("a", region, year, Direction::AtLeast, value, 0.0, "").unwrap()
        };
        ts.set(mk("", None, 1.0));
        ts.set(mk("", Some(2024), 2.0));
        ts.set(mk("34", None, 3.0));
        ts.set(mk("341122", None, 4.0));
        ts.set(mk("341122", Some(2024), 5.0));
        let v = |ts: &Targets, region: &str, year: i32| ts.find("a", region, year).map(|t| t.value);
        assert_eq!(v(&ts, "35", 2023), Some(1.0));
        assert_eq!(v(&ts, "35", 2024), Some(2.0));
        assert_eq!(v(&ts, "", 2024), Some(2.0), "the nation's own row");
        assert_eq!(v(&ts, "34", 2024), Some(3.0), "a longer region before a year");
        assert_eq!(v(&ts, "3411", 2024), Some(3.0));
        assert_eq!(v(&ts, "341122", 2023), Some(4.0));
        assert_eq!(v(&ts, "341122100201", 2024), Some(5.0));
        assert_eq!(v(&ts, "341123", 2024), Some(3.0));
        assert_eq!(ts.find("b", "34", 2024), None);
        // Replacing and removing by indicator, region and year.
        ts.set(mk("34", None, 30.0));
        assert_eq!(v(&ts, "34", 2024), Some(30.0));
        assert_eq!(ts.items.len(), 5);
        assert!(ts.remove(&("a".into(), "34".into(), None)));
        assert!(!ts.remove(&("a".into(), "34".into(), None)));
        assert_eq!(v(&ts, "34", 2024), Some(2.0));
    }

    #[test]
    fn the_shipped_targets_parse_and_name_shipped_indicators() {
        let ts = Targets::shipped();
        ts.check(&Definitions::shipped()).unwrap();
        let find = |id: &str| ts.find(id, "", 2024).unwrap_or_else(|| panic!("no target of {id}"));
        let oop = find("poor_out_of_pocket_share");
        assert_eq!((oop.direction, oop.value, oop.tolerance), (Direction::About, 10.0, 3.0));
        assert_eq!(find("poor_treated_in_county_share").status(94.5), Status::Met, "the 2019 figure");
        assert_eq!(find("villages_with_qualified_doctor_share").value, 100.0);
        assert!(ts.items.iter().all(|t| t.region.is_empty() && t.year.is_none() && !t.source.is_empty()));
    }

    #[test]
    fn bad_files_are_refused_with_where_and_why() {
        for (text, line, why) in [
            ("[[target]]\nindicator = \"a\"\ndirection = \"above\"\nvalue = 1\n", 3, "direction"),
            ("[[target]]\nindicator = \"a\"\ndirection = \"about\"\nvalue = 1\ntolerance = -1\n", 1, "tolerance"),
            ("[[target]]\nindicator = \"a\"\nregion = \"341\"\ndirection = \"about\"\nvalue = 1\n", 1, "region"),
            ("[[target]]\nindicator = \"a\"\nyear = 1900\ndirection = \"about\"\nvalue = 1\n", 1, "year"),
            ("[[target]]\nindicator = \"A b\"\ndirection = \"about\"\nvalue = 1\n", 1, "indicator"),
            ("[[target]]\nindicator = \"a\"\ndirection = \"about\"\nvalue = 1\ncolour = 2\n", 5, "colour"),
            (
                "[[target]]\nindicator = \"a\"\ndirection = \"about\"\nvalue = 1\n[[target]]\nindicator = \"a\"\ndirection = \"at_most\"\nvalue = 2\n",
                5,
                "twice",
            ),
        ] {
            let e = Targets::parse(text, "t.toml").unwrap_err();
            assert_eq!(e.line, line, "{text}: {e}");
            assert!(e.to_string().starts_with("t.toml:") && e.reason.contains(why), "{text}: {e}");
        }
        let unknown =
            Targets::parse("[[target]]\nindicator = \"nope\"\ndirection = \"about\"\nvalue = 1\n", "t").unwrap();
        assert!(unknown.check(&Definitions::shipped()).unwrap_err().contains("nope"));
    }
}
