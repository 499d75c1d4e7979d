//! The settlement job's buckets: which partition a person's rows go to.
//!
//! A fixed hash of the ID's bytes (FNV-1a, then the 64-bit finaliser of
//! MurmurHash3 so that the low bits depend on every byte), so that the tasks
//! that read the claims, the persons, the accumulators and the settled claims
//! from different files send a person's rows to the same bucket. Pinned by
//! `spark/tests/test_engines.py` (the module has no Rust tests of its own).

/// The bucket of `id` among `n` (`n` > 0).
pub fn bucket_of(id: &str, n: u32) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    (h % u64::from(n)) as u32
}
