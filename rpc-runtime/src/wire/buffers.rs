//! Reuse of the large buffers a message passes through: sealed bodies on their way to the
//! transport, and envelopes opened on the way in.
//!
//! glibc gives the pages at the top of a thread's heap back to the kernel once more than
//! 128 KiB are free there, and the next message faults them in again, zero-filled. With
//! 64 KiB payloads that made every call pay for dozens of page faults on each side (a
//! quarter of the CPU of a 64 KiB echo). A few such buffers are kept here instead; small
//! ones are cheap to allocate and are not kept.

use std::sync::Mutex;

/// Buffers smaller than this are not worth keeping.
const KEPT_MIN: usize = 16 * 1024;
/// Buffers larger than this are freed rather than held (bounds the memory kept).
const KEPT_MAX: usize = 256 * 1024;
/// How many buffers are kept at most (at most 1 MiB in all).
const KEPT_COUNT: usize = 4;

/// The buffers kept for reuse: at most [`KEPT_COUNT`], each of a capacity within
/// `KEPT_MIN..=KEPT_MAX`. One instance serves the process; tests make their own.
struct Kept(Mutex<Vec<Vec<u8>>>);

impl Kept {
    const fn new() -> Self {
        Kept(Mutex::new(Vec::new()))
    }

    fn take(&self, capacity: usize) -> Vec<u8> {
        if (KEPT_MIN..=KEPT_MAX).contains(&capacity)
            && let Ok(mut kept) = self.0.lock()
            && let Some(at) = kept.iter().position(|b| b.capacity() >= capacity)
        {
            let mut buffer = kept.swap_remove(at);
            buffer.clear();
            return buffer;
        }
        Vec::with_capacity(capacity)
    }

    fn recycle(&self, buffer: Vec<u8>) {
        if (KEPT_MIN..=KEPT_MAX).contains(&buffer.capacity())
            && let Ok(mut kept) = self.0.lock()
            && kept.len() < KEPT_COUNT
        {
            kept.push(buffer);
        }
    }
}

static KEPT: Kept = Kept::new();

/// An empty buffer with room for `capacity` bytes, reused when one is kept.
pub(crate) fn take(capacity: usize) -> Vec<u8> {
    KEPT.take(capacity)
}

/// Hands a buffer back for reuse by the runtime once its bytes are no longer needed (a body
/// after it was sent, a delivery after it was decoded). Anything else is simply dropped.
pub(crate) fn recycle(buffer: Vec<u8>) {
    KEPT.recycle(buffer);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept_count(kept: &Kept) -> usize {
        kept.0.lock().map(|kept| kept.len()).unwrap_or(usize::MAX)
    }

    /// On its own `Kept` (the process-wide one is shared with every other test), so each
    /// check is exact: a kept buffer comes back as the same allocation, emptied.
    #[test]
    fn large_buffers_come_back_emptied_small_and_huge_ones_are_dropped() {
        let kept = Kept::new();
        let mut big = kept.take(40 * 1024);
        big.extend_from_slice(b"old");
        let address = big.as_ptr();
        kept.recycle(big);
        kept.recycle(Vec::with_capacity(KEPT_MIN - 1));
        kept.recycle(Vec::with_capacity(KEPT_MAX + 1));
        assert_eq!(kept_count(&kept), 1, "only the large buffer is kept");

        // A request larger than any kept buffer gets a new one and leaves the kept alone.
        let larger = kept.take(64 * 1024);
        assert_ne!(larger.as_ptr(), address);
        assert_eq!(kept_count(&kept), 1);
        // A small request never takes a kept buffer.
        let small = kept.take(100);
        assert_ne!(small.as_ptr(), address);
        assert_eq!(kept_count(&kept), 1);

        let again = kept.take(40 * 1024);
        assert_eq!(again.as_ptr(), address, "the kept allocation is reused");
        assert!(again.is_empty());
        assert!(again.capacity() >= 40 * 1024);
        assert_eq!(kept_count(&kept), 0);
    }

    #[test]
    fn at_most_kept_count_buffers_are_kept() {
        let kept = Kept::new();
        for _ in 0..KEPT_COUNT + 2 {
            kept.recycle(Vec::with_capacity(KEPT_MIN));
        }
        assert_eq!(kept_count(&kept), KEPT_COUNT);
        for left in (0..KEPT_COUNT).rev() {
            assert!(kept.take(KEPT_MIN).capacity() >= KEPT_MIN);
            assert_eq!(kept_count(&kept), left, "each take reuses a kept buffer");
        }
    }
}
