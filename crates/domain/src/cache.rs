//! A hint to the processor's cache, for loops that reach memory in an order
//! of their own (claims in settlement order, persons by claim): asking for a
//! later element some steps ahead lets the misses overlap.

/// Asks the processor to bring `r` into the cache. It changes no value, and
/// does nothing on processors without the hint.
#[inline(always)]
pub fn prefetch<T>(r: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the pointer comes from a reference, so it points at live
    // memory; a prefetch reads nothing into the program and cannot fault.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>((r as *const T).cast())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = r;
}

/// [`prefetch`] of a slice's first and last elements (enough for a few
/// elements that span two cache lines at most); nothing for an empty one.
#[inline(always)]
pub fn prefetch_slice<T>(s: &[T]) {
    if let (Some(a), Some(b)) = (s.first(), s.last()) {
        prefetch(a);
        prefetch(b);
    }
}
