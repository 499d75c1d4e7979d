//! The settlement order (docs/settlement.md, "Order") is `(discharged, claim_id)`
//! whatever the identifiers look like: shared prefixes, different lengths, long
//! identifiers that agree on many bytes. The packed-key sort must equal the plain
//! comparison sort on any input.

use chrono::NaiveDate;
use domain::{ClaimKind, FacilityLevel, Fen};
use proptest::prelude::*;
use settle::{settlement_order, settlement_order_on, BatchClaim, ClaimInput};

fn claim(day: u32) -> BatchClaim {
    BatchClaim {
        person: 0,
        discharged: NaiveDate::from_ymd_opt(2023, 12, 1).unwrap() + chrono::Days::new(u64::from(day)),
        input: ClaimInput {
            level: FacilityLevel::County,
            kind: ClaimKind::Inpatient,
            total_cost: Fen(100),
            eligible_cost: Fen(100),
            enrolled: true,
            referred: true,
        },
    }
}

/// Identifiers: a shared stem, then a tail from a small alphabet so that ties on
/// many bytes are common, of any length.
fn ids() -> impl Strategy<Value = Vec<String>> {
    ("[A-Z]{0,12}", prop::collection::vec("[0-2]{0,20}", 1..200))
        .prop_map(|(stem, tails)| tails.into_iter().map(|t| format!("{stem}{t}")).collect())
}

proptest! {
    #[test]
    fn packed_sort_equals_the_plain_sort(ids in ids(), days in prop::collection::vec(0u32..5, 200)) {
        let claims: Vec<BatchClaim> = ids.iter().enumerate().map(|(i, _)| claim(days[i])).collect();
        let got = settlement_order(&claims, |i| ids[i].as_str());
        let mut want: Vec<u32> = (0..claims.len() as u32).collect();
        want.sort_by(|a, b| {
            let (a, b) = (*a as usize, *b as usize);
            claims[a].discharged.cmp(&claims[b].discharged).then_with(|| ids[a].cmp(&ids[b]))
        });
        // Equal (date, id) pairs may come in either order; compare the keys.
        let key = |i: &u32| (claims[*i as usize].discharged, ids[*i as usize].clone());
        prop_assert_eq!(got.iter().map(key).collect::<Vec<_>>(), want.iter().map(key).collect::<Vec<_>>());
        let mut seen = got.clone();
        seen.sort_unstable();
        prop_assert_eq!(seen, (0..claims.len() as u32).collect::<Vec<_>>());
    }
}

#[test]
fn an_empty_batch_has_an_empty_order() {
    assert!(settlement_order(&[], |_| "").is_empty());
}

proptest! {
    /// Days shared among threads, buckets by day or one bucket for a sparse
    /// span: the order is the same on any number of threads, and it is the
    /// plain comparison sort's, facility breaking ties of one id on one day.
    #[test]
    fn the_order_does_not_depend_on_the_threads(
        ids in ids(),
        days in prop::collection::vec(0u32..40, 200),
        far in any::<bool>(),
        facilities in prop::collection::vec("[ab]{0,1}", 200),
        threads in 2usize..5,
    ) {
        let mut claims: Vec<BatchClaim> = ids.iter().enumerate().map(|(i, _)| claim(days[i])).collect();
        if far && !claims.is_empty() {
            // A span of days far beyond the number of claims: one bucket.
            claims[0].discharged = NaiveDate::from_ymd_opt(2300, 1, 1).unwrap();
        }
        let one = settlement_order_on(&claims, |i| ids[i].as_str(), |i| facilities[i].as_str(), 1);
        let many = settlement_order_on(&claims, |i| ids[i].as_str(), |i| facilities[i].as_str(), threads);
        let key = |i: &u32| {
            let i = *i as usize;
            (claims[i].discharged, ids[i].clone(), facilities[i].clone())
        };
        let mut want: Vec<u32> = (0..claims.len() as u32).collect();
        want.sort_by_key(key);
        prop_assert_eq!(one.iter().map(key).collect::<Vec<_>>(), want.iter().map(key).collect::<Vec<_>>());
        prop_assert_eq!(many.iter().map(key).collect::<Vec<_>>(), want.iter().map(key).collect::<Vec<_>>());
        let mut seen = many.clone();
        seen.sort_unstable();
        prop_assert_eq!(seen, (0..claims.len() as u32).collect::<Vec<_>>());
    }
}
