//! The policy comparison on plain tallies.

mod common;

use common::*;
use domain::Fen;
use indicators::whatif::{compare, Figure, Scenario};

fn villages() -> Vec<domain::RegionCode> {
    ["341122100201", "341122100202", "341123200301"].iter().map(|c| code(c)).collect()
}

#[test]
fn an_identical_policy_shows_no_difference() {
    let mut a = Scenario::new(&villages());
    let mut b = Scenario::new(&villages());
    for s in [&mut a, &mut b] {
        s.add_claim(0, &paid(300, 50, 20, 0), Fen::from_yuan(230));
        s.add_claim(2, &paid(150, 0, 30, 0), Fen::from_yuan(20));
        s.add_alert("catastrophic_10", 0);
    }
    let c = compare(&a, &b);
    assert!(c.is_unchanged(), "{c:?}");
    assert!(c
        .rows
        .iter()
        .any(|r| r.county.is_none() && r.item == "paid_total" && r.in_force == Some(Figure::Money(55_000))));
}

#[test]
fn a_draft_that_pays_more_keeps_households_off_the_list_at_a_cost() {
    let mut a = Scenario::new(&villages());
    let mut b = Scenario::new(&villages());
    // In force: households 0 and 1 pay 1000 and 500 yuan, both alerted.
    a.add_claim(0, &paid(1000, 0, 0, 0), Fen::from_yuan(1000));
    a.add_claim(1, &paid(500, 0, 0, 0), Fen::from_yuan(500));
    a.add_alert("catastrophic_10", 0);
    a.add_alert("catastrophic_10", 1);
    a.add_alert("medical_burden_general", 0);
    // Draft: critical insurance takes 600 and 300 more; only household 0 stays alerted.
    b.add_claim(0, &paid(1000, 600, 0, 0), Fen::from_yuan(400));
    b.add_claim(1, &paid(500, 300, 0, 0), Fen::from_yuan(200));
    b.add_alert("catastrophic_10", 0);
    let c = compare(&a, &b);
    let get = |county: Option<&str>, item: &str| {
        c.rows.iter().find(|r| r.county.map(|x| x.short()).as_deref() == county && r.item == item).unwrap().clone()
    };
    assert_eq!(get(None, "paid_critical").difference, Figure::Money(90_000));
    assert_eq!(get(None, "out_of_pocket").difference, Figure::Money(-90_000));
    assert_eq!(get(Some("341122"), "households_alerted_catastrophic_10").difference, Figure::Count(-1));
    assert_eq!(get(None, "households_alerted_medical_burden_general").draft, Some(Figure::Count(0)));
    assert_eq!(get(None, "households_kept_off").difference, Figure::Count(1));
    assert_eq!(get(None, "cost_per_household_kept_off").difference, Figure::Yuan(Some(900.0)));
    // Deciles of households' OOP (nearest rank over 500 and 1000): p10 = 500, p90 = 1000.
    assert_eq!(get(None, "household_out_of_pocket_p10").in_force, Some(Figure::Money(50_000)));
    assert_eq!(get(None, "household_out_of_pocket_p90").draft, Some(Figure::Money(40_000)));
    // The other county had nothing: no change there.
    assert!(c
        .rows
        .iter()
        .filter(|r| r.county.map(|x| x.short()).as_deref() == Some("341123"))
        .all(|r| r.difference == Figure::Money(0)
            || r.difference == Figure::Count(0)
            || r.difference == Figure::Yuan(None)));
    let mut out = Vec::new();
    c.write_csv(&Default::default(), &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("all,,paid_critical,0.00,900.00,900.00"), "{text}");
}
