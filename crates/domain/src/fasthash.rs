//! The hash for maps keyed by identifiers read from files (resident IDs, claim and
//! household IDs, region codes): rustc's multiply-rotate hash over 8-byte words,
//! several times faster than SipHash on short keys, finished with MurmurHash3's
//! 64-bit mix. Keys come from files an officer chose, not from the network, so
//! hash flooding is not a concern.
//!
//! The finish matters: the multiply leaves the low bits depending on the low bits
//! alone, and the table picks buckets by the low bits, so without it serial IDs
//! (`C00000000`, `C00000001`, ...) pile up in a few buckets.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

#[derive(Default, Clone, Copy)]
pub struct FastHasher(u64);

const K: u64 = 0x517c_c1b7_2722_0a95;

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.write_u64(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        for &b in chunks.remainder() {
            self.write_u64(b as u64);
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(K);
    }

    fn finish(&self) -> u64 {
        let mut x = self.0;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        x ^ (x >> 33)
    }
}

/// Builds [`FastHasher`]s.
pub type FastBuild = BuildHasherDefault<FastHasher>;

/// A `HashMap` with [`FastHasher`].
pub type FastMap<K, V> = HashMap<K, V, FastBuild>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn serial_ids_spread_over_the_low_bits() {
        // The digits that vary sit in the high bytes of the first eight-byte word,
        // which a multiply-only hash never brings down to the bucket bits.
        let build = FastBuild::default();
        let buckets: std::collections::HashSet<u64> =
            (0..65_536).map(|i| build.hash_one(format!("C{i:08}")) & 65_535).collect();
        // Random hashing fills about 63% of the buckets with as many keys.
        assert!(buckets.len() > 37_000, "{} buckets used", buckets.len());
    }

    #[test]
    fn integer_keys_spread_over_the_low_bits() {
        // Keys that differ only above bit 40, as resident IDs of one county do.
        let build = FastBuild::default();
        let buckets: std::collections::HashSet<u64> =
            (0..65_536u64).map(|i| build.hash_one(i << 40) & 65_535).collect();
        assert!(buckets.len() > 37_000, "{} buckets used", buckets.len());
    }
}
