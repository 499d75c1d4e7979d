//! Properties of the cube: a region's figure is the sum of its children's at
//! every level, and applying facts in deltas equals building at once.

mod common;

use common::code;
use domain::{ClaimKind, PovertyStatus, RegionCode, RegionLevel};
use indicators::measure::{Measure, Slice};
use indicators::{Definitions, Fact, IndicatorCube, Month, Period, PeriodKind};
use proptest::prelude::*;

const VILLAGES: &[&str] = &[
    "341122100201",
    "341122100202",
    "341122101201",
    "341123200301",
    "341123200302",
    "341202100201",
    "349001100201",
    "350102001001",
    "429004100201",
    "441900003001",
];

fn fact() -> impl Strategy<Value = Fact> {
    (
        0..VILLAGES.len(),
        1u32..=12,
        0..Measure::ALL.len(),
        0..PovertyStatus::ALL.len(),
        (0..ClaimKind::ALL.len(), 0..domain::FacilityLevel::ALL.len()),
        -5_000i64..100_000,
    )
        .prop_map(|(v, m, me, s, (k, l), value)| {
            let measure = Measure::ALL[me];
            let d = measure.dims();
            Fact {
                village: code(VILLAGES[v]),
                month: Month::new(2024, m),
                slice: Slice {
                    status: d.status.then_some(PovertyStatus::ALL[s]),
                    kind: d.kind.then_some(ClaimKind::ALL[k]),
                    level: d.level.then_some(domain::FacilityLevel::ALL[l]),
                },
                measure,
                value,
            }
        })
}

fn children(cube: &IndicatorCube, parent: RegionCode) -> Vec<RegionCode> {
    let mut out = Vec::new();
    for l in RegionLevel::ALL {
        out.extend(cube.regions(l).into_iter().filter(|r| r.parent() == Some(parent)));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_region_sums_its_children(facts in prop::collection::vec(fact(), 0..200)) {
        let defs = Definitions::shipped();
        let cube = IndicatorCube::build(&defs, &facts);
        let periods: Vec<Period> = [PeriodKind::Month, PeriodKind::Quarter, PeriodKind::Year]
            .iter().flat_map(|k| Period::of_year(2024, *k)).collect();
        for level in [RegionLevel::Province, RegionLevel::City, RegionLevel::County, RegionLevel::Township] {
            for r in cube.regions(level) {
                let kids = children(&cube, r);
                prop_assert!(!kids.is_empty());
                for p in &periods {
                    for i in 0..defs.indicators.len() {
                        let me = cube.indicator(i, r, *p);
                        let (mut n, mut d) = (0, 0);
                        for k in &kids {
                            let v = cube.indicator(i, *k, *p);
                            n += v.numerator;
                            d += v.denominator.unwrap_or(0);
                        }
                        prop_assert_eq!(me.numerator, n, "{} numerator of {} in {}", defs.indicators[i].id, r, p);
                        prop_assert_eq!(me.denominator.unwrap_or(0), d);
                    }
                }
            }
        }
        // And the provinces' numerators are the sums of the facts that feed them.
        let total: i64 = cube.regions(RegionLevel::Province).iter()
            .map(|p| cube.indicator_by_id("funds_paid", *p, Period::Year(2024)).unwrap().numerator).sum();
        let expect: i64 = facts.iter().filter(|f| matches!(f.measure,
            Measure::PaidBasic | Measure::PaidCritical | Measure::PaidAssistance | Measure::PaidSafetyNet | Measure::PaidOther))
            .map(|f| f.value).sum();
        prop_assert_eq!(total, expect);
    }

    #[test]
    fn deltas_equal_a_rebuild(facts in prop::collection::vec(fact(), 0..200), cuts in prop::collection::vec(0usize..200, 0..6)) {
        let defs = Definitions::shipped();
        let whole = IndicatorCube::build(&defs, &facts);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(facts.len())).collect();
        cuts.push(0);
        cuts.push(facts.len());
        cuts.sort();
        let mut inc = IndicatorCube::new(&defs);
        for w in cuts.windows(2) {
            inc.apply_delta(&facts[w[0]..w[1]]);
        }
        prop_assert_eq!(whole.snapshot(), inc.snapshot());
    }
}

/// The same from the extractors: claims fed in random batches (and so out of
/// date order) give the cube that all claims at once give.
mod from_claims {
    use super::*;
    use crate::common::*;
    use domain::{Catalogue, FacilityLevel};
    use indicators::extract::{ClaimLedger, SettledClaim};

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn claims_in_batches_equal_claims_at_once(
            spec in prop::collection::vec((1u16..=5, 1u32..=12, 1u32..=28, 0usize..6, 1i64..5000), 1..40),
            cuts in prop::collection::vec(0usize..40, 0..5),
        ) {
            let w = world();
            let claims: Vec<_> = spec.iter().enumerate().map(|(i, (p, m, d, l, t))| {
                claim(&format!("X{i}"), *p, FacilityLevel::ALL[*l], ClaimKind::Inpatient,
                      &format!("2024-{m:02}-{d:02}"), *t, *t)
            }).collect();
            let settled: Vec<SettledClaim> = claims.iter().map(|c| SettledClaim {
                claim: c, paid: paid(1, 0, 0, 0), out_of_pocket: domain::Fen(c.total_cost.0 - 100),
            }).collect();
            let reg = w.registry();
            let defs = Definitions::shipped();
            let all = ClaimLedger::new(&w.persons, &Catalogue::serious(), 2024).facts(&reg, &settled).unwrap();
            let whole = IndicatorCube::build(&defs, &all);
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(settled.len())).collect();
            cuts.push(0);
            cuts.push(settled.len());
            cuts.sort();
            let mut ledger = ClaimLedger::new(&w.persons, &Catalogue::serious(), 2024);
            let mut inc = IndicatorCube::new(&defs);
            // Batches in reverse order, so later months often arrive first.
            for win in cuts.windows(2).rev() {
                inc.apply_delta(&ledger.facts(&reg, &settled[win[0]..win[1]]).unwrap());
            }
            prop_assert_eq!(whole.snapshot(), inc.snapshot());
        }
    }
}
