//! One village's facts as bytes, so that a store can keep them between runs and
//! a refresh can replace a village's facts without touching any other's.
//!
//! The facts of a village are summed by (month, measure, slice) first (facts are
//! additive, so the sums feed a cube exactly as the facts would), zeros dropped,
//! and written in key order: a format byte, then for each sum the month as
//! `u32` (little-endian), the measure's and the slice's index as one byte each,
//! and the value as a zigzag LEB128 integer. The format byte changes whenever
//! the measures or slices are renumbered; bytes of another format are refused,
//! and the caller computes the facts again.

use crate::cube::Fact;
use crate::measure::{Measure, Slice};
use crate::period::Month;
use domain::RegionCode;
use std::collections::BTreeMap;

/// The format of [`encode`]'s bytes (bump when `Measure` or `Slice` numbering
/// changes). 3: slices carry the claim's facility level.
pub const FORMAT: u8 = 3;

/// Bytes that are not facts of this format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored facts of village {village}: {reason}")]
pub struct DecodeError {
    pub village: RegionCode,
    pub reason: String,
}

/// The facts (of one village: their villages are not kept) as bytes.
pub fn encode<'a>(facts: impl IntoIterator<Item = &'a Fact>) -> Vec<u8> {
    let mut sums: BTreeMap<(i32, u8, u8), i64> = BTreeMap::new();
    for f in facts {
        *sums.entry((f.month.0, f.measure.index() as u8, f.slice.index() as u8)).or_default() += f.value;
    }
    let mut out = Vec::with_capacity(1 + sums.len() * 9);
    out.push(FORMAT);
    for ((month, measure, slice), value) in sums {
        if value == 0 {
            continue;
        }
        out.extend_from_slice(&(month as u32).to_le_bytes());
        out.push(measure);
        out.push(slice);
        let mut z = ((value << 1) ^ (value >> 63)) as u64;
        loop {
            let b = (z & 0x7f) as u8;
            z >>= 7;
            if z == 0 {
                out.push(b);
                break;
            }
            out.push(b | 0x80);
        }
    }
    out
}

/// The facts of `village` from [`encode`]'s bytes, appended to `out`.
pub fn decode_into(village: RegionCode, bytes: &[u8], out: &mut Vec<Fact>) -> Result<(), DecodeError> {
    let bad = |reason: String| DecodeError { village, reason };
    let slices = Slice::all();
    match bytes.first() {
        Some(&FORMAT) => {}
        Some(f) => return Err(bad(format!("format {f}, this build reads format {FORMAT}"))),
        None => return Err(bad("no bytes".into())),
    }
    let mut i = 1;
    while i < bytes.len() {
        if bytes.len() < i + 6 {
            return Err(bad(format!("cut short at byte {i}")));
        }
        let month = u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]) as i32;
        let measure = *Measure::ALL
            .get(bytes[i + 4] as usize)
            .ok_or_else(|| bad(format!("measure number {} at byte {}", bytes[i + 4], i + 4)))?;
        let slice = *slices
            .get(bytes[i + 5] as usize)
            .ok_or_else(|| bad(format!("slice number {} at byte {}", bytes[i + 5], i + 5)))?;
        i += 6;
        let mut z: u64 = 0;
        let mut shift = 0;
        loop {
            let b = *bytes.get(i).ok_or_else(|| bad(format!("value cut short at byte {i}")))?;
            i += 1;
            if shift >= 64 {
                return Err(bad(format!("value too long at byte {i}")));
            }
            z |= ((b & 0x7f) as u64) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
        let value = ((z >> 1) as i64) ^ -((z & 1) as i64);
        out.push(Fact { village, month: Month(month), slice, measure, value });
    }
    Ok(())
}

/// The facts of `village` from [`encode`]'s bytes.
pub fn decode(village: RegionCode, bytes: &[u8]) -> Result<Vec<Fact>, DecodeError> {
    let mut out = Vec::new();
    decode_into(village, bytes, &mut out)?;
    Ok(out)
}

/// `kept - Σ minus + Σ plus`, each encoded by [`encode`], encoded again; `None`
/// when every sum is zero. `village` names the facts in an error. So a sum kept
/// over many persons' facts moves by the difference of one person's old and new
/// facts without the others being read.
pub fn merge(
    village: RegionCode,
    kept: Option<&[u8]>,
    minus: &[&[u8]],
    plus: &[&[u8]],
) -> Result<Option<Vec<u8>>, DecodeError> {
    let mut facts = Vec::new();
    if let Some(k) = kept {
        decode_into(village, k, &mut facts)?;
    }
    let from = facts.len();
    for m in minus {
        decode_into(village, m, &mut facts)?;
    }
    for f in &mut facts[from..] {
        f.value = -f.value;
    }
    for p in plus {
        decode_into(village, p, &mut facts)?;
    }
    let bytes = encode(&facts);
    Ok((bytes.len() > 1).then_some(bytes))
}

/// Facts grouped by village and encoded, one entry per village with a fact.
pub fn by_village(facts: &[Fact]) -> BTreeMap<RegionCode, Vec<u8>> {
    let mut groups: BTreeMap<RegionCode, Vec<&Fact>> = BTreeMap::new();
    for f in facts {
        groups.entry(f.village).or_default().push(f);
    }
    groups.into_iter().map(|(v, fs)| (v, encode(fs))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{ClaimKind, PovertyStatus};
    use proptest::prelude::*;

    fn village() -> RegionCode {
        "341122100201".parse().unwrap()
    }

    #[test]
    fn facts_of_one_key_are_summed_and_zeros_dropped() {
        let v = village();
        let s = Slice::of_claim(PovertyStatus::Lifted, ClaimKind::Inpatient, domain::FacilityLevel::County);
        let f = |measure, value| Fact { village: v, month: Month::new(2024, 3), slice: s, measure, value };
        let bytes = encode(&[
            f(Measure::TotalCost, 1200),
            f(Measure::TotalCost, 300),
            f(Measure::Claims, 1),
            f(Measure::Claims, -1),
        ]);
        assert_eq!(decode(v, &bytes).unwrap(), vec![f(Measure::TotalCost, 1500)]);
    }

    #[test]
    fn other_formats_and_cut_bytes_are_refused_with_the_village() {
        let v = village();
        let bytes = encode(&[Fact {
            village: v,
            month: Month::new(2024, 1),
            slice: Slice::NONE,
            measure: Measure::Villages,
            value: 1,
        }]);
        let mut other = bytes.clone();
        other[0] = FORMAT + 1;
        let e = decode(v, &other).unwrap_err();
        assert!(e.to_string().contains("341122100201") && e.to_string().contains("format"), "{e}");
        assert!(decode(v, &bytes[..bytes.len() - 1]).is_err());
        assert!(decode(v, &[]).is_err());
    }

    proptest! {
        /// Merging the difference of one part's old and new facts into a sum
        /// equals encoding the sum of the parts as they are now.
        #[test]
        fn a_merged_difference_equals_the_sum_encoded_again(
            parts in proptest::collection::vec(proptest::collection::vec(
                (0usize..Measure::COUNT, 0usize..Slice::COUNT, -1000i64..1000), 0..8), 1..6),
            new in proptest::collection::vec((0usize..Measure::COUNT, 0usize..Slice::COUNT, -1000i64..1000), 0..8),
            which in 0usize..6,
        ) {
            let v = village();
            let slices = Slice::all();
            let facts = |raw: &[(usize, usize, i64)]| -> Vec<Fact> {
                raw.iter().map(|&(mi, si, value)| Fact {
                    village: v, month: Month::new(2024, 5), slice: slices[si], measure: Measure::ALL[mi], value,
                }).collect()
            };
            let which = which % parts.len();
            let encoded: Vec<Vec<u8>> = parts.iter().map(|p| encode(&facts(p))).collect();
            let all: Vec<Fact> = parts.iter().flat_map(|p| facts(p)).collect();
            let sum = encode(&all);
            let new_bytes = encode(&facts(&new));
            let merged = merge(v, Some(&sum), &[&encoded[which]], &[&new_bytes]).unwrap();
            let mut now = parts.clone();
            now[which] = new;
            let want = encode(&now.iter().flat_map(|p| facts(p)).collect::<Vec<_>>());
            prop_assert_eq!(merged.unwrap_or_else(|| encode(&[])), want);
        }

        /// Decoding gives back the per-key sums of any facts, so a cube fed the
        /// decoded facts equals one fed the originals.
        #[test]
        fn round_trip_keeps_the_sums(raw in proptest::collection::vec(
            (2020i32..2030, 1u32..=12, 0usize..Measure::COUNT, 0usize..Slice::COUNT, any::<i64>().prop_map(|x| x >> 8)), 0..60)) {
            let v = village();
            let slices = Slice::all();
            let facts: Vec<Fact> = raw.iter().map(|&(y, m, mi, si, value)| Fact {
                village: v, month: Month::new(y, m), slice: slices[si], measure: Measure::ALL[mi], value,
            }).collect();
            let mut want: BTreeMap<(Month, usize, usize), i64> = BTreeMap::new();
            for f in &facts {
                *want.entry((f.month, f.measure.index(), f.slice.index())).or_default() += f.value;
            }
            want.retain(|_, v| *v != 0);
            let got: BTreeMap<(Month, usize, usize), i64> = decode(v, &encode(&facts)).unwrap().into_iter()
                .map(|f| ((f.month, f.measure.index(), f.slice.index()), f.value)).collect();
            prop_assert_eq!(got, want);
        }
    }
}
