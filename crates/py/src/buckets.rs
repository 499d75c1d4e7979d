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

/// The row numbers of `ids` grouped by bucket (a counting sort: each bucket's
/// rows in their order), and each bucket's count.
pub fn group(ids: &[&str], n: u32) -> (Vec<i64>, Vec<u64>) {
    let of: Vec<u32> = ids.iter().map(|id| bucket_of(id, n)).collect();
    let mut counts = vec![0u64; n as usize];
    for &b in &of {
        counts[b as usize] += 1;
    }
    let mut next: Vec<usize> = Vec::with_capacity(n as usize);
    let mut at = 0usize;
    for &c in &counts {
        next.push(at);
        at += c as usize;
    }
    let mut rows = vec![0i64; ids.len()];
    for (i, &b) in of.iter().enumerate() {
        rows[next[b as usize]] = i as i64;
        next[b as usize] += 1;
    }
    (rows, counts)
}
