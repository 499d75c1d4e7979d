//! The persons' index by resident ID, made for the claims file's reader: five
//! million look-ups into a million persons, each at a random place.
//!
//! A general hash map keeps its control bytes apart from its entries, so a
//! look-up that misses the cache misses it twice. Here a slot holds the key
//! and the value side by side (16 bytes, four to a cache line) in one open
//! table with linear probing, kept at most half full, so a look-up costs one
//! miss; and [`PersonIndex::prefetch`] lets the reader ask for a slot some
//! lines before it needs it, so that the miss overlaps the parsing of the
//! lines between.
//!
//! A valid resident ID is never 0 (its first digits are a province code), so
//! 0 marks an empty slot. The hash mixes in a seed drawn per process, as std's
//! hasher does, so that no file can be written to collide in every run.

use domain::ResidentId;

#[derive(Debug, Clone, Copy, Default)]
#[repr(C, align(16))]
struct Slot {
    key: u64,
    value: u32,
    /// A flag kept beside the value ([`PersonIndex::insert_flagged`]), in
    /// what would be padding: read with the value at no further miss.
    flag: u32,
}

/// Resident ID → person number, for IDs that [`ResidentId::parse`] accepted.
#[derive(Debug, Clone)]
pub struct PersonIndex {
    slots: Vec<Slot>,
    len: usize,
    seed: u64,
}

impl Default for PersonIndex {
    fn default() -> PersonIndex {
        PersonIndex::with_capacity(0)
    }
}

impl PersonIndex {
    /// An index that holds `n` persons without growing.
    pub fn with_capacity(n: usize) -> PersonIndex {
        PersonIndex { slots: empty_slots(table_size(n)), len: 0, seed: seed() }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn home(&self, key: u64) -> usize {
        // A folded 128-bit multiply: every bit of the key reaches the low bits.
        let m = u128::from(key ^ self.seed) * 0x9E37_79B9_7F4A_7C15u128;
        ((m as u64) ^ ((m >> 64) as u64)) as usize & (self.slots.len() - 1)
    }

    /// The person number of `id`, if it is in the index.
    #[inline]
    pub fn get(&self, id: &ResidentId) -> Option<u32> {
        self.get_flagged(id).map(|(value, _)| value)
    }

    /// The person number of `id` and the flag it was inserted with, if it
    /// is in the index.
    #[inline]
    pub fn get_flagged(&self, id: &ResidentId) -> Option<(u32, bool)> {
        let key = id.as_u64();
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        loop {
            let s = self.slots[i];
            if s.key == key {
                return Some((s.value, s.flag != 0));
            }
            if s.key == 0 {
                return None;
            }
            i = (i + 1) & mask;
        }
    }

    /// Adds `id` as person `value`; when it is there already, leaves it and
    /// gives the person number it has.
    pub fn insert(&mut self, id: ResidentId, value: u32) -> Result<(), u32> {
        self.insert_flagged(id, value, false)
    }

    /// [`PersonIndex::insert`], with a flag that [`PersonIndex::get_flagged`]
    /// gives back with the person number (the persons file's reader keeps
    /// there whether the person is enrolled).
    pub fn insert_flagged(&mut self, id: ResidentId, value: u32, flag: bool) -> Result<(), u32> {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let key = id.as_u64();
        debug_assert_ne!(key, 0, "a valid resident ID is never 0");
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        loop {
            let s = &mut self.slots[i];
            if s.key == key {
                return Err(s.value);
            }
            if s.key == 0 {
                *s = Slot { key, value, flag: u32::from(flag) };
                self.len += 1;
                return Ok(());
            }
            i = (i + 1) & mask;
        }
    }

    /// Asks the processor to bring `id`'s home slot into the cache; no effect
    /// on what the index holds, and none on processors without the hint.
    #[inline]
    pub fn prefetch(&self, id: &ResidentId) {
        #[cfg(target_arch = "x86_64")]
        {
            let p = self.slots.as_ptr().wrapping_add(self.home(id.as_u64()));
            // SAFETY: `home` is below the table's length, so `p` points into
            // it; a prefetch reads nothing and cannot fault.
            unsafe { core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p.cast()) };
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = id;
    }

    /// Every (ID, person number), in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (ResidentId, u32)> + '_ {
        self.slots.iter().filter(|s| s.key != 0).map(|s| {
            // Only IDs that `parse` accepted were inserted (tests and checks
            // call this, not the readers: the ID is parsed once more).
            (ResidentId::from_u64(s.key).expect("an inserted ID"), s.value)
        })
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(16);
        let old = std::mem::replace(&mut self.slots, empty_slots(size));
        let mask = self.slots.len() - 1;
        for s in old.into_iter().filter(|s| s.key != 0) {
            let mut i = self.home(s.key);
            while self.slots[i].key != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = s;
        }
    }
}

/// `size` empty slots, zeroed by the kernel as the pages are first written
/// (the inserts, while other threads parse the persons), not all at once
/// here. A large table is asked of the kernel in huge pages (where it has
/// them): each look-up lands on a random page, and a table of 32 MiB in
/// 4 KiB pages spans more pages than the processor's TLB holds, so that a
/// look-up would walk the page table as well as miss the cache.
fn empty_slots(size: usize) -> Vec<Slot> {
    let layout = std::alloc::Layout::array::<Slot>(size).expect("a table within the address space");
    // SAFETY: `size` is at least 16, so the layout is not empty; an all-zero
    // slot is the empty slot (`Slot::default()`), so the zeroed memory holds
    // `size` valid slots; the vector gets the allocator's pointer with the
    // layout's length as length and capacity, as `from_raw_parts` requires,
    // and frees it with the same layout.
    unsafe {
        let p = std::alloc::alloc_zeroed(layout).cast::<Slot>();
        if p.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        huge_pages(p as usize, p as usize + layout.size());
        Vec::from_raw_parts(p, size, size)
    }
}

/// Asks the kernel to back the bytes `start..end` of an allocation with huge
/// pages (2 MiB, where it has them; whole ones only). The advice changes how
/// the pages are backed, never what they hold; a refusal leaves them as
/// they were.
fn huge_pages(start: usize, end: usize) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let from = start.next_multiple_of(HUGE);
        if end >= from + HUGE {
            // SAFETY: the range lies within the caller's allocation; the
            // advice reads and writes nothing there.
            unsafe { libc::madvise(from as *mut libc::c_void, (end - from) / HUGE * HUGE, libc::MADV_HUGEPAGE) };
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (start, end);
}

/// A power of two at least twice `n`, and at least 16.
fn table_size(n: usize) -> usize {
    (n.saturating_mul(2)).next_power_of_two().max(16)
}

fn seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x05AF_E7E7);
    h.finish() | 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use std::collections::HashMap;

    fn id(n: u32) -> ResidentId {
        let birth = NaiveDate::from_ymd_opt(1950, 1, 1).unwrap() + chrono::Days::new(u64::from(n / 1000));
        ResidentId::from_parts(341122 + n % 7, birth, (n % 1000) as u16).unwrap()
    }

    #[test]
    fn it_answers_as_a_hash_map_does_through_growth_and_duplicates() {
        let mut ours = PersonIndex::default();
        let mut theirs: HashMap<ResidentId, u32> = HashMap::new();
        for n in 0..20_000u32 {
            // Every third ID comes twice: the second insert is refused with the first's value.
            let k = id(n - n % 3);
            let expect = match theirs.get(&k) {
                Some(&v) => Err(v),
                None => {
                    theirs.insert(k, n);
                    Ok(())
                }
            };
            assert_eq!(ours.insert(k, n), expect, "{k}");
        }
        assert_eq!(ours.len(), theirs.len());
        for n in 0..40_000u32 {
            assert_eq!(ours.get(&id(n)), theirs.get(&id(n)).copied(), "{n}");
            assert_eq!(ours.get_flagged(&id(n)), theirs.get(&id(n)).map(|&v| (v, false)), "{n}");
            ours.prefetch(&id(n));
        }
        let mut all: Vec<_> = ours.iter().collect();
        let mut want: Vec<_> = theirs.into_iter().collect();
        all.sort();
        want.sort();
        assert_eq!(all, want);
    }

    #[test]
    fn each_flag_comes_back_with_its_value_through_growth() {
        let mut ix = PersonIndex::with_capacity(4);
        for n in 0..5_000u32 {
            assert_eq!(ix.insert_flagged(id(n), n, n % 3 == 0), Ok(()));
        }
        assert_eq!(ix.insert_flagged(id(7), 1, true), Err(7));
        for n in 0..5_000u32 {
            assert_eq!(ix.get_flagged(&id(n)), Some((n, n % 3 == 0)), "{n}");
        }
    }

    #[test]
    fn an_empty_index_finds_nothing() {
        let ix = PersonIndex::with_capacity(3);
        assert!(ix.is_empty());
        assert_eq!(ix.get(&id(5)), None);
        assert_eq!(ix.iter().count(), 0);
    }
}
