//! String literals as Python's `json.dumps` writes them with `ensure_ascii=True`.

use super::scan;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `s` as a JSON string literal, escaped exactly like Python's `json.dumps(s)`.
///
/// `"` and `\` are backslash-escaped, `\n \r \t \b \f` use their short forms, every other
/// character outside printable ASCII (`0x20..=0x7e`) becomes `\uXXXX` with lower-case hex,
/// and characters above U+FFFF become a UTF-16 surrogate pair. `/` is not escaped. The
/// output is pure ASCII.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let mut rest = s;
    loop {
        let plain = scan::plain_for_encoder(rest.as_bytes());
        out.extend_from_slice(&rest.as_bytes()[..plain]);
        // The run ends on an ASCII byte or at the start of a multi-byte character, so this
        // split is on a character boundary.
        let Some(tail) = rest.get(plain..) else { break };
        let mut chars = tail.chars();
        let Some(c) = chars.next() else { break };
        write_escape(out, c);
        rest = chars.as_str();
    }
    out.push(b'"');
}

fn write_escape(out: &mut Vec<u8>, c: char) {
    let short = match c {
        '"' => b'"',
        '\\' => b'\\',
        '\n' => b'n',
        '\r' => b'r',
        '\t' => b't',
        '\u{8}' => b'b',
        '\u{c}' => b'f',
        _ => {
            let mut units = [0u16; 2];
            for &unit in c.encode_utf16(&mut units).iter() {
                write_unicode_escape(out, unit);
            }
            return;
        }
    };
    out.extend_from_slice(&[b'\\', short]);
}

fn write_unicode_escape(out: &mut Vec<u8>, unit: u16) {
    out.extend_from_slice(&[
        b'\\',
        b'u',
        HEX[usize::from(unit >> 12)],
        HEX[usize::from((unit >> 8) & 0xf)],
        HEX[usize::from((unit >> 4) & 0xf)],
        HEX[usize::from(unit & 0xf)],
    ]);
}
