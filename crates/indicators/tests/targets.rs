//! Targets in reports: each value drawn against the most specific target with a
//! status, the comparison with the year before, and the monotonicity of the
//! status (a value moved toward its target never gets a worse status).

mod common;

use common::*;
use domain::RegionLevel;
use indicators::report::{self, ReportSpec};
use indicators::target::status;
use indicators::{Direction, Fact, IndicatorCube, Month, Period, Status, Target, Targets};
use proptest::prelude::*;
use std::collections::HashMap;

fn county_spec() -> ReportSpec {
    ReportSpec { levels: vec![RegionLevel::County], periods: vec![Period::Year(2024)], scope: String::new() }
}

/// The CSV's cells of one row by column name.
fn cells(csv: &str, region: &str) -> HashMap<String, String> {
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let head: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    let row = r.records().map(Result::unwrap).find(|x| &x[1] == region).unwrap_or_else(|| panic!("no {region}"));
    head.into_iter().zip(row.iter().map(str::to_string)).collect()
}

#[test]
fn each_value_is_drawn_against_its_target() {
    let w = world();
    let cube = IndicatorCube::build(&defs(), &w.facts());
    let rows = report::build(&cube, &county_spec());
    let mut targets = Targets::shipped();
    // A county's own target before the nation's.
    targets
        .set(Target::new("poor_treated_in_county_share", "341123", None, Direction::AtLeast, 100.0, 0.0, "").unwrap());
    let mut out = Vec::new();
    report::write_csv(&defs(), &rows, &HashMap::new(), &targets, indicators::Comparisons::NONE, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let header = text.lines().next().unwrap();
    assert!(
        header.contains(
            "poor_out_of_pocket_share,poor_out_of_pocket_share_numerator,poor_out_of_pocket_share_denominator,poor_out_of_pocket_share_target,poor_out_of_pocket_share_status,"
        ),
        "{header}"
    );
    assert!(!header.contains("_previous"), "no comparison asked: {header}");
    let a = cells(&text, "341122");
    // 630 of 1600 yuan: 39.38 %, far from "about 10".
    assert_eq!(
        (a["poor_out_of_pocket_share"].as_str(), a["poor_out_of_pocket_share_target"].as_str()),
        ("39.38", "10 ± 3")
    );
    assert_eq!(a["poor_out_of_pocket_share_status"], "missed");
    // C1 in the county, C2 in the province: 50 % against at least 90.
    assert_eq!(a["poor_treated_in_county_share_target"], "≥ 90");
    assert_eq!(a["poor_treated_in_county_share_status"], "missed");
    // No poor chronic patient in county A: a target but no value, so no status.
    assert_eq!(a["poor_chronic_contracted_share"], "");
    assert_eq!(a["poor_chronic_contracted_share_target"], "≥ 100");
    assert_eq!(a["poor_chronic_contracted_share_status"], "");
    // No target: both cells empty.
    assert_eq!((a["funds_paid_target"].as_str(), a["funds_paid_status"].as_str()), ("", ""));
    // County B's C4 at a village clinic: 100 %, against its own target of 100.
    let b = cells(&text, "341123");
    // P4 under contract: 100 %, met.
    assert_eq!(b["poor_chronic_contracted_share_status"], "met");
    assert_eq!(b["poor_treated_in_county_share"], "100.00");
    assert_eq!(
        (b["poor_treated_in_county_share_target"].as_str(), b["poor_treated_in_county_share_status"].as_str()),
        ("≥ 100", "met")
    );
    // Without targets the columns are there, empty.
    let mut out = Vec::new();
    report::write_csv(&defs(), &rows, &HashMap::new(), &Targets::default(), indicators::Comparisons::NONE, &mut out)
        .unwrap();
    let plain = String::from_utf8(out).unwrap();
    assert_eq!(plain.lines().next().unwrap(), header);
    assert_eq!(cells(&plain, "341122")["poor_out_of_pocket_share_status"], "");
}

/// The world's facts a year earlier, without county `drop`.
fn year_before(facts: &[Fact], drop: &str) -> Vec<Fact> {
    facts.iter().filter(|f| !f.village.starts_with(drop)).map(|f| Fact { month: Month(f.month.0 - 12), ..*f }).collect()
}

#[test]
fn rows_compare_with_the_same_period_of_the_year_before() {
    let w = world();
    let facts = w.facts();
    let cube = IndicatorCube::build(&defs(), &facts);
    let mut before = year_before(&facts, "341123");
    // A year before, county A's first claim cost the patient 100 yuan less.
    let c1 = before
        .iter_mut()
        .find(|f| f.measure == indicators::Measure::OutOfPocket && f.month == Month::new(2023, 3))
        .unwrap();
    c1.value -= 10_000;
    let previous = IndicatorCube::build(&defs(), &before);
    let spec = ReportSpec {
        levels: vec![RegionLevel::County],
        periods: Period::of_year(2024, indicators::PeriodKind::Quarter),
        scope: String::new(),
    };
    let mut rows = report::build(&cube, &spec);
    report::add_previous(&mut rows, &defs(), &previous);
    let mut out = Vec::new();
    report::write_csv(
        &defs(),
        &rows,
        &HashMap::new(),
        &Targets::shipped(),
        indicators::Compare::PreviousYear.into(),
        &mut out,
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    let q1 = |region: &str| {
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let head: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
        let row = r.records().map(Result::unwrap).find(|x| &x[1] == region && &x[3] == "2024-Q1").unwrap();
        head.into_iter().zip(row.iter().map(str::to_string)).collect::<HashMap<_, _>>()
    };
    let a = q1("341122");
    // Q1 2024: 230 of 600 yuan (38.33 %); Q1 2023: 130 of 600 (21.67 %).
    assert_eq!(a["poor_out_of_pocket_share"], "38.33");
    assert_eq!(a["poor_out_of_pocket_share_previous"], "21.67");
    assert_eq!(a["poor_out_of_pocket_share_change"], "16.67");
    assert_eq!((a["households_warned_previous"].as_str(), a["households_warned_change"].as_str()), ("0", "0"));
    // County B had no facts a year before: no ratio, zero counts.
    let b = q1("341123");
    assert_eq!(b["poor_chronic_contracted_share_previous"], "");
    assert_eq!(b["poor_chronic_contracted_share_change"], "");
    assert_eq!(b["households_warned_previous"], "0");
    // The drawn values say the same.
    let shipped = Targets::shipped();
    let d = report::draw(&defs(), &shipped, &rows[0]);
    let i = defs().indicators.iter().position(|d| d.id == "poor_out_of_pocket_share").unwrap();
    assert_eq!(d[i].status, Some(Status::Missed));
    assert!((d[i].change.unwrap() - (2300.0 / 60.0 - 1300.0 / 60.0)).abs() < 1e-9);
    let mut xlsx = Vec::new();
    report::write_xlsx(
        &defs(),
        &rows,
        &HashMap::new(),
        &spec.levels,
        &Targets::shipped(),
        indicators::Compare::PreviousYear.into(),
        &mut xlsx,
    )
    .unwrap();
    assert_eq!(&xlsx[..2], b"PK");
}

fn direction() -> impl Strategy<Value = Direction> {
    prop_oneof![Just(Direction::AtLeast), Just(Direction::AtMost), Just(Direction::About)]
}

proptest! {
    /// Moving a value toward the target (anywhere between the value and the
    /// target) never worsens its status.
    #[test]
    fn moving_toward_the_target_never_worsens_the_status(
        d in direction(),
        target in -1000.0f64..1000.0,
        tolerance in prop_oneof![Just(0.0f64), 0.0f64..100.0],
        value in -2000.0f64..2000.0,
        toward in 0.0f64..=1.0,
    ) {
        let moved = (value + toward * (target - value)).clamp(value.min(target), value.max(target));
        prop_assert!(
            status(d, target, tolerance, moved) >= status(d, target, tolerance, value),
            "{d:?} {target} ± {tolerance}: {value} is {:?} but {moved} is {:?}",
            status(d, target, tolerance, value),
            status(d, target, tolerance, moved)
        );
        // The target itself is always met, and a wider tolerance never hurts.
        prop_assert_eq!(status(d, target, tolerance, target), Status::Met);
        prop_assert!(status(d, target, tolerance + 1.0, value) >= status(d, target, tolerance, value));
    }
}
