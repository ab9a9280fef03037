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

static KEPT: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// An empty buffer with room for `capacity` bytes, reused when one is kept.
pub(crate) fn take(capacity: usize) -> Vec<u8> {
    if (KEPT_MIN..=KEPT_MAX).contains(&capacity) {
        if let Ok(mut kept) = KEPT.lock() {
            if let Some(at) = kept.iter().position(|b| b.capacity() >= capacity) {
                let mut buffer = kept.swap_remove(at);
                buffer.clear();
                return buffer;
            }
        }
    }
    Vec::with_capacity(capacity)
}

/// Hands a buffer back to the pool the encoders take from once its bytes are no longer
/// needed (a body after it was sent, a delivery after it was decoded). Anything else is
/// simply dropped.
pub fn recycle(buffer: Vec<u8>) {
    if (KEPT_MIN..=KEPT_MAX).contains(&buffer.capacity()) {
        if let Ok(mut kept) = KEPT.lock() {
            if kept.len() < KEPT_COUNT {
                kept.push(buffer);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_buffers_come_back_small_ones_do_not() {
        let mut big = take(40 * 1024);
        big.extend_from_slice(b"old");
        let address = big.as_ptr();
        recycle(big);
        recycle(Vec::with_capacity(100));
        // Other tests may take it meanwhile; when they do not, it is the same allocation.
        let again = take(40 * 1024);
        assert!(again.is_empty());
        assert!(again.capacity() >= 40 * 1024);
        if again.as_ptr() == address {
            assert_eq!(again.len(), 0);
        }
        assert!(take(100).capacity() >= 100);
    }
}
