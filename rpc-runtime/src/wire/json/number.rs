//! Writing numbers the way Python's `json.dumps` does: plain decimal integers and floats in
//! `repr` form.

use std::fmt::{self, Write as _};

const DIGIT_PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Appends `n` in decimal.
pub(super) fn write_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    while n >= 100 {
        let pair = (n % 100) as usize * 2;
        n /= 100;
        at -= 2;
        buf[at..at + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    }
    if n >= 10 {
        let pair = n as usize * 2;
        at -= 2;
        buf[at..at + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    } else {
        at -= 1;
        buf[at] = b'0' + n as u8;
    }
    out.extend_from_slice(&buf[at..]);
}

/// Appends `n` in decimal.
pub(super) fn write_i64(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    write_u64(out, n.unsigned_abs());
}

/// Appends `n` in decimal.
pub(super) fn write_u128(out: &mut Vec<u8>, n: u128) {
    match u64::try_from(n) {
        Ok(small) => write_u64(out, small),
        Err(_) => {
            // Rare (Python big ints); a digit at a time is fine.
            let mut buf = [0u8; 39];
            let mut at = buf.len();
            let mut n = n;
            while n > 0 {
                at -= 1;
                buf[at] = b'0' + (n % 10) as u8;
                n /= 10;
            }
            out.extend_from_slice(&buf[at..]);
        }
    }
}

/// Appends `n` in decimal.
pub(super) fn write_i128(out: &mut Vec<u8>, n: i128) {
    if n < 0 {
        out.push(b'-');
    }
    write_u128(out, n.unsigned_abs());
}

/// A fixed buffer for `core::fmt` output, so formatting a float does not allocate.
struct StackBuf {
    buf: [u8; 32],
    len: usize,
}

impl fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let dest = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        dest.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Appends `v` as Python's `float.__repr__` (and therefore `json.dumps`) writes it, with the
/// non-standard tokens `NaN`, `Infinity` and `-Infinity` for the non-finite values.
///
/// Both Python and Rust print the shortest digit string that reads back as the same double;
/// Rust's `{:e}` hands us those digits and the decimal exponent, and Python's layout rules
/// are applied on top: positional notation when `-4 <= exponent < 16` (always with a
/// fractional part, as in `3.0`), scientific otherwise with a signed exponent of at least two
/// digits (`1e+16`, `1.5e-07`).
pub(super) fn write_f64(out: &mut Vec<u8>, v: f64) {
    if v.is_nan() {
        out.extend_from_slice(b"NaN");
        return;
    }
    if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"Infinity" } else { b"-Infinity" });
        return;
    }
    if v.trunc() == v && v.abs() < 1e16 {
        // Integral values below 1e16 are printed exactly, as digits then ".0"; common
        // enough (3.0, 8192.0) to skip the general path. The cast is exact in this range.
        if v.is_sign_negative() {
            out.push(b'-');
        }
        write_u64(out, v.abs() as u64);
        out.extend_from_slice(b".0");
        return;
    }
    out.reserve(32);
    let mut sci = StackBuf {
        buf: [0; 32],
        len: 0,
    };
    // Cannot fail: the longest `{:e}` of an f64, "-1.2345678901234567e-308", is 24 bytes.
    let _ = write!(sci, "{v:e}");
    let text = &sci.buf[..sci.len];
    let (negative, text) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let e_at = text.iter().position(|&b| b == b'e').unwrap_or(text.len());
    let (mantissa, exponent) = (&text[..e_at], text.get(e_at + 1..).unwrap_or(b"0"));
    let exponent = parse_exponent(exponent);

    // The significant digits, without the decimal point: "1.5" -> "15".
    let mut digits = [0u8; 20];
    let mut n = 0;
    for &b in mantissa.iter().filter(|&&b| b != b'.') {
        if let Some(slot) = digits.get_mut(n) {
            *slot = b;
            n += 1;
        }
    }
    let digits = &mut digits[..n];
    break_tie_to_even(digits, exponent, v.abs());

    if negative {
        out.push(b'-');
    }
    if (-4..16).contains(&exponent) {
        write_positional(out, digits, exponent);
    } else {
        write_scientific(out, digits, exponent);
    }
}

fn parse_exponent(text: &[u8]) -> i32 {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let magnitude = digits
        .iter()
        .fold(0i32, |acc, &d| acc * 10 + i32::from(d - b'0'));
    if negative { -magnitude } else { magnitude }
}

/// Makes the digits Python's choice when two shortest candidates are exactly equally close.
///
/// This happens when the double is exactly a decimal ending in 5 one digit beyond the
/// shortest length, e.g. 1000000000000000.25, which prints as `...0.2` or `...0.3`. Python's
/// dtoa then takes the even last digit (`1000000000000000.2`); Rust's formatter rounds up.
/// Only an odd last digit can need the change. Both candidates must lie within half an ulp
/// of the value, which for normal doubles needs at least 16 digits (10^n > 2^52); a
/// subnormal's exact decimal expansion has hundreds of digits, so it never ties.
fn break_tie_to_even(digits: &mut [u8], exponent: i32, magnitude: f64) {
    let Some(&last) = digits.last() else { return };
    let last = last - b'0';
    if last.is_multiple_of(2) || digits.len() < 16 {
        return;
    }
    let k = digits
        .iter()
        .fold(0u64, |acc, &d| acc * 10 + u64::from(d - b'0'));
    // The exponent of the half digit appended after the last one.
    let half_exponent = exponent - digits.len() as i32;
    for (midpoint, even) in [(k * 10 - 5, last - 1), (k * 10 + 5, last + 1)] {
        if even == 0 || even > 9 || !decimal_equals(midpoint, half_exponent, magnitude) {
            continue;
        }
        let index = digits.len() - 1;
        digits[index] = b'0' + even;
        if reads_back_as(digits, exponent, magnitude) {
            return;
        }
        digits[index] = b'0' + last;
    }
}

/// Whether `k * 10^e` is exactly `v`.
fn decimal_equals(k: u64, e: i32, v: f64) -> bool {
    // k * 10^e = odd * 2^shift; it is a double only if the odd part fits the 53-bit mantissa.
    let (odd, shift) = if e >= 0 {
        // Beyond 5^22 the odd part cannot fit.
        if e > 22 {
            return false;
        }
        let n = u128::from(k) * 5u128.pow(e as u32);
        let zeros = n.trailing_zeros() as i32;
        (n >> zeros, zeros + e)
    } else {
        let p = e.unsigned_abs();
        if p > 27 {
            return false;
        }
        let pow5 = 5u64.pow(p);
        if !k.is_multiple_of(pow5) {
            return false;
        }
        let n = u128::from(k / pow5);
        let zeros = n.trailing_zeros() as i32;
        (n >> zeros, zeros + e)
    };
    odd < 1 << 53 && (odd as f64) * 2f64.powi(shift) == v
}

/// Whether `digits` with `exponent` parse back to exactly `v`.
fn reads_back_as(digits: &[u8], exponent: i32, v: f64) -> bool {
    let mut text = StackBuf {
        buf: [0; 32],
        len: 0,
    };
    let mut ok = write!(text, "0.").is_ok();
    for &d in digits {
        ok &= text.write_char(char::from(d)).is_ok();
    }
    ok &= write!(text, "e{}", exponent + 1).is_ok();
    let parsed = std::str::from_utf8(&text.buf[..text.len]).map(str::parse::<f64>);
    ok && matches!(parsed, Ok(Ok(p)) if p == v)
}

/// `digits` with the decimal point placed for `exponent` in `-4..16`.
fn write_positional(out: &mut Vec<u8>, digits: &[u8], exponent: i32) {
    if exponent < 0 {
        out.extend_from_slice(b"0.");
        for _ in 0..(-exponent - 1) {
            out.push(b'0');
        }
        out.extend_from_slice(digits);
        return;
    }
    let int_len = exponent as usize + 1;
    if digits.len() <= int_len {
        out.extend_from_slice(digits);
        for _ in digits.len()..int_len {
            out.push(b'0');
        }
        out.extend_from_slice(b".0");
    } else {
        out.extend_from_slice(&digits[..int_len]);
        out.push(b'.');
        out.extend_from_slice(&digits[int_len..]);
    }
}

/// `d[.ddd]e±XX`.
fn write_scientific(out: &mut Vec<u8>, digits: &[u8], exponent: i32) {
    if let Some((first, rest)) = digits.split_first() {
        out.push(*first);
        if !rest.is_empty() {
            out.push(b'.');
            out.extend_from_slice(rest);
        }
    }
    out.push(b'e');
    out.push(if exponent < 0 { b'-' } else { b'+' });
    let magnitude = exponent.unsigned_abs();
    if magnitude < 10 {
        out.push(b'0');
    }
    write_u64(out, u64::from(magnitude));
}
