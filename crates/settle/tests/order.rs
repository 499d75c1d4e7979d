//! The settlement order (docs/settlement.md, "Order") is `(discharged, claim_id)`
//! whatever the identifiers look like: shared prefixes, different lengths, long
//! identifiers that agree on many bytes. The packed-key sort must equal the plain
//! comparison sort on any input.

use chrono::NaiveDate;
use domain::{ClaimKind, FacilityLevel, Fen};
use proptest::prelude::*;
use settle::{settlement_order, BatchClaim, ClaimInput};

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
