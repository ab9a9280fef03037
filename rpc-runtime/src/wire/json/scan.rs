//! Finding the end of a run of bytes that need no special handling, eight bytes at a time.
//!
//! Strings dominate RPC messages (ids, names, payload text), so both directions copy or borrow
//! long runs of plain bytes and only stop at the few bytes that need work. The word-at-a-time
//! tests are the classic "has zero byte" / "has byte less than n" tricks. Their false
//! positives only ever sit above a true hit, so the lowest marked byte of a word is exactly
//! the first interesting one: a run ends within a few instructions of its last word, which
//! matters because most runs are short (an enveloped message has a quote every few bytes).
//! A lookup table handles the last few bytes that do not fill a word.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Marks (high bit) the zero bytes of `w`. False positives only occur above a true zero
/// byte, so the lowest mark is exact.
#[inline]
fn has_zero(w: u64) -> u64 {
    w.wrapping_sub(ONES) & !w & HIGHS
}

/// Marks the bytes of `w` equal to `b` (the lowest mark is exact).
#[inline]
fn has_byte(w: u64, b: u8) -> u64 {
    has_zero(w ^ (ONES * u64::from(b)))
}

/// Marks the bytes of `w` below `n` (valid for `n <= 128`; the lowest mark is exact).
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

/// The run length by words, then by table for the last few bytes.
#[inline]
fn word_run(bytes: &[u8], table: &[bool; 256], marks: &impl Fn(u64) -> u64) -> usize {
    let mut done = 0;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let found = marks(word(chunk));
        if found != 0 {
            // Little-endian: the lowest mark is the first byte of the run that stops it.
            return done + (found.trailing_zeros() / 8) as usize;
        }
        done += 8;
    }
    done + chunks
        .remainder()
        .iter()
        .position(|&b| table[usize::from(b)])
        .unwrap_or(bytes.len() - done)
}

/// Bytes per block of the long-run loop. 64 rather than 32 took callgrind's count from 1.16
/// to 0.70 instructions per byte for the decoder's test and from 0.91 to 0.83 for the
/// encoder's (x86-64 baseline, SSE2). 128, with the test one running minimum (`key`),
/// spreads the minimum's reduction over twice the bytes: the 64 KiB memory-transport echo
/// went from 916 k to 886 k instructions per call (both sides), its scans from 208 k to
/// 178 k, for about 0.15 k more per 16-byte call (issue 16). (128 with the former test,
/// one compare per kind of stop byte: 908 k.)
const BLOCK: usize = 128;

/// Two words first (most runs are short); a run longer than that (a payload) goes on a
/// block at a time, with a branch-free test per block that the compiler turns into vector
/// operations, about four times faster than words; the block that stops it is then
/// searched by words. The block test is one minimum over the block of `key`, which is at
/// most [`STOP_KEY`] exactly for the bytes that stop the run: a running minimum per
/// vector (`pminub`) is fewer operations than one compare per kind of stop byte.
#[inline]
fn run_len(
    bytes: &[u8],
    table: &[bool; 256],
    marks: impl Fn(u64) -> u64,
    key: impl Fn(u8) -> u8,
) -> usize {
    let head = bytes.len().min(16);
    let found = word_run(&bytes[..head], table, &marks);
    if found < head {
        return found;
    }
    let mut done = head;
    let mut blocks = bytes[done..].chunks_exact(BLOCK);
    for block in &mut blocks {
        if block.iter().fold(u8::MAX, |low, &b| low.min(key(b))) <= STOP_KEY {
            break;
        }
        done += BLOCK;
    }
    done + word_run(&bytes[done..], table, &marks)
}

/// The `key` of a byte that stops a run is at most this.
const STOP_KEY: u8 = 0x20;

/// At most [`STOP_KEY`] exactly for a control character (below 0x20) or `"` (0x22):
/// `b ^ 2` only swaps control characters among themselves and takes `"` to 0x20.
#[inline]
fn control_or_quote(b: u8) -> u8 {
    b ^ 0x02
}

/// At most [`STOP_KEY`] exactly for `\`.
#[inline]
fn backslash(b: u8) -> u8 {
    (b ^ b'\\').saturating_add(STOP_KEY)
}

/// At most [`STOP_KEY`] exactly for bytes from 0x7f up.
#[inline]
fn above_printable(b: u8) -> u8 {
    0x9f_u8.saturating_sub(b)
}

/// Length of the prefix of `bytes` that an `ensure_ascii` encoder copies unchanged.
#[inline]
pub(super) fn plain_for_encoder(bytes: &[u8]) -> usize {
    run_len(
        bytes,
        &ENCODER_STOP,
        |w| {
            (w & HIGHS)
                | has_less(w, 0x20)
                | has_byte(w, b'"')
                | has_byte(w, b'\\')
                | has_byte(w, 0x7f)
        },
        |b| {
            control_or_quote(b)
                .min(backslash(b))
                .min(above_printable(b))
        },
    )
}

/// Length of the prefix of `bytes` (the inside of a string literal) that a parser can take
/// as-is.
#[inline]
pub(super) fn plain_for_decoder(bytes: &[u8]) -> usize {
    run_len(
        bytes,
        &DECODER_STOP,
        |w| has_less(w, 0x20) | has_byte(w, b'"') | has_byte(w, b'\\'),
        |b| control_or_quote(b).min(backslash(b)),
    )
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
            for at in (0..20).chain([31, 32, 47, 48, 79, 80, 81, 99, 143, 144, 145, 199]) {
                let mut bytes = vec![b'a'; 200];
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

    #[test]
    fn block_keys_mark_exactly_the_stop_bytes() {
        for b in 0u8..=255 {
            let decoder = control_or_quote(b).min(backslash(b));
            assert_eq!(decoder <= STOP_KEY, DECODER_STOP[usize::from(b)], "{b:#x}");
            let encoder = decoder.min(above_printable(b));
            assert_eq!(encoder <= STOP_KEY, ENCODER_STOP[usize::from(b)], "{b:#x}");
        }
    }

    #[test]
    fn the_first_stop_wins_among_many() {
        // Several stops per word, including bytes that give the word tests false positives
        // above a true hit (0x00 and 0x01 next to each other, 0x7f after 0x1f, ...).
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut random = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let interesting = [
            0x00, 0x01, 0x1f, 0x20, b'"', b'\\', 0x7e, 0x7f, 0x80, 0xc3, 0xff,
        ];
        for round in 0..20_000 {
            // Mostly short strings (words and table), some long ones (blocks).
            let len = (random() % if round % 4 == 0 { 300 } else { 24 }) as usize;
            let rare = round % 8 == 0;
            let bytes: Vec<u8> = (0..len)
                .map(|_| match random() % if rare { 200 } else { 4 } {
                    0 => interesting[(random() % interesting.len() as u64) as usize],
                    1 => random() as u8,
                    _ => b'a' + (random() % 26) as u8,
                })
                .collect();
            assert_eq!(
                plain_for_encoder(&bytes),
                naive(&bytes, &ENCODER_STOP),
                "{bytes:?}"
            );
            assert_eq!(
                plain_for_decoder(&bytes),
                naive(&bytes, &DECODER_STOP),
                "{bytes:?}"
            );
        }
    }
}
