//! Finding the end of a run of bytes that need no special handling, eight bytes at a time.
//!
//! Strings dominate RPC messages (ids, names, payload text), so both directions copy or borrow
//! long runs of plain bytes and only stop at the few bytes that need work. The word-at-a-time
//! tests are the classic "has zero byte" / "has byte less than n" tricks; a hit only tells
//! that the word contains an interesting byte, and a lookup table then pins it down.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Non-zero if some byte of `w` is zero. False positives only occur above a true zero byte,
/// so "is there any" is answered exactly.
#[inline]
fn has_zero(w: u64) -> u64 {
    w.wrapping_sub(ONES) & !w & HIGHS
}

/// Non-zero if some byte of `w` equals `b`.
#[inline]
fn has_byte(w: u64, b: u8) -> u64 {
    has_zero(w ^ (ONES * u64::from(b)))
}

/// Non-zero if some byte of `w` is below `n` (valid for `n <= 128`).
#[inline]
fn has_less(w: u64, n: u8) -> u64 {
    w.wrapping_sub(ONES * u64::from(n)) & !w & HIGHS
}

/// Bytes a Python `ensure_ascii` encoder cannot copy as-is: `"`, `\`, and everything outside
/// the printable ASCII range `0x20..=0x7e`.
const fn encoder_table() -> [bool; 256] {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = i < 0x20 || i >= 0x7f || i == b'"' as usize || i == b'\\' as usize;
        i += 1;
    }
    table
}

/// Bytes that end a plain run inside a string being parsed: the closing quote, the start of
/// an escape, and raw control characters (which are errors). Non-ASCII UTF-8 passes through.
const fn decoder_table() -> [bool; 256] {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = i < 0x20 || i == b'"' as usize || i == b'\\' as usize;
        i += 1;
    }
    table
}

static ENCODER_STOP: [bool; 256] = encoder_table();
static DECODER_STOP: [bool; 256] = decoder_table();

#[inline]
fn word(chunk: &[u8]) -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(chunk);
    u64::from_le_bytes(bytes)
}

#[inline]
fn run_len(bytes: &[u8], table: &[bool; 256], word_hit: impl Fn(u64) -> bool) -> usize {
    let mut done = 0;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        if word_hit(word(chunk)) {
            break;
        }
        done += 8;
    }
    done + bytes[done..]
        .iter()
        .position(|&b| table[usize::from(b)])
        .unwrap_or(bytes.len() - done)
}

/// Length of the prefix of `bytes` that an `ensure_ascii` encoder copies unchanged.
#[inline]
pub(super) fn plain_for_encoder(bytes: &[u8]) -> usize {
    run_len(bytes, &ENCODER_STOP, |w| {
        (w & HIGHS) | has_less(w, 0x20) | has_byte(w, b'"') | has_byte(w, b'\\') | has_byte(w, 0x7f)
            != 0
    })
}

/// Length of the prefix of `bytes` (the inside of a string literal) that a parser can take
/// as-is.
#[inline]
pub(super) fn plain_for_decoder(bytes: &[u8]) -> usize {
    run_len(bytes, &DECODER_STOP, |w| {
        has_less(w, 0x20) | has_byte(w, b'"') | has_byte(w, b'\\') != 0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(bytes: &[u8], table: &[bool; 256]) -> usize {
        bytes
            .iter()
            .position(|&b| table[usize::from(b)])
            .unwrap_or(bytes.len())
    }

    #[test]
    fn word_scan_agrees_with_table_for_every_byte_and_position() {
        for stop in 0u8..=255 {
            for at in 0..20 {
                let mut bytes = vec![b'a'; 20];
                bytes[at] = stop;
                assert_eq!(
                    plain_for_encoder(&bytes),
                    naive(&bytes, &ENCODER_STOP),
                    "{stop:#x}@{at}"
                );
                assert_eq!(
                    plain_for_decoder(&bytes),
                    naive(&bytes, &DECODER_STOP),
                    "{stop:#x}@{at}"
                );
            }
        }
    }
}
