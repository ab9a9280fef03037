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
    write_str_contents(out, s);
    out.push(b'"');
}

/// Appends `s` escaped as by [`write_str`], without the quotes.
pub(crate) fn write_str_contents(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    // `bytes[run..at]` is plain text not yet copied.
    let mut run = 0;
    let mut at = scan::plain_for_encoder(bytes);
    while let Some(&stop) = bytes.get(at) {
        out.extend_from_slice(&bytes[run..at]);
        if stop == b'"' || stop == b'\\' {
            // Escaped as itself after a backslash: the byte starts the next run. Inner
            // JSON sealed in an envelope has one of these every few bytes.
            out.push(b'\\');
            run = at;
            at += 1;
        } else {
            // The run ends on an ASCII byte or at the start of a multi-byte character, so
            // this is a character boundary.
            let Some(c) = s.get(at..).and_then(|tail| tail.chars().next()) else {
                run = at;
                break;
            };
            write_escape(out, c);
            at += c.len_utf8();
            run = at;
        }
        at += scan::plain_for_encoder(&bytes[at..]);
    }
    out.extend_from_slice(&bytes[run..]);
}

/// Appends printable-ASCII `bytes` escaped as by [`write_str_contents`] (only `"` and `\`
/// change). Returns false, having written part of them, at the first byte that is not
/// printable ASCII: the caller then takes the general path.
pub(crate) fn write_ascii_str_contents(out: &mut Vec<u8>, bytes: &[u8]) -> bool {
    let mut run = 0;
    let mut at = scan::plain_for_encoder(bytes);
    while let Some(&stop) = bytes.get(at) {
        if stop != b'"' && stop != b'\\' {
            return false;
        }
        out.extend_from_slice(&bytes[run..at]);
        out.push(b'\\');
        // The escaped byte starts the next run.
        run = at;
        at += 1;
        at += scan::plain_for_encoder(&bytes[at..]);
    }
    out.extend_from_slice(&bytes[run..]);
    true
}

/// Appends `s` as a JSON string literal escaped as by [`write_str`], then once more as the
/// contents of an enclosing JSON string: what sealing the literal in an envelope's
/// `oslo.message` string makes of it (spec §3.1), written in one pass.
pub(crate) fn write_str_escaped(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 4);
    out.extend_from_slice(b"\\\"");
    write_str_contents_escaped(out, s);
    out.extend_from_slice(b"\\\"");
}

/// Appends `s` escaped as by [`write_str_contents`], then escaped once more for an
/// enclosing JSON string: every backslash of the first escape is doubled, and a `"` or `\`
/// of the text becomes `\\\"` or `\\\\`.
pub(crate) fn write_str_contents_escaped(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    // `bytes[run..at]` is plain text not yet copied: plain at both levels.
    let mut run = 0;
    let mut at = scan::plain_for_encoder(bytes);
    while let Some(&stop) = bytes.get(at) {
        out.extend_from_slice(&bytes[run..at]);
        if stop == b'"' {
            out.extend_from_slice(b"\\\\\\\"");
            at += 1;
        } else if stop == b'\\' {
            out.extend_from_slice(b"\\\\\\\\");
            at += 1;
        } else {
            let Some(c) = s.get(at..).and_then(|tail| tail.chars().next()) else {
                run = at;
                break;
            };
            write_escape_with(out, c, b"\\\\");
            at += c.len_utf8();
        }
        run = at;
        at += scan::plain_for_encoder(&bytes[at..]);
    }
    out.extend_from_slice(&bytes[run..]);
}

fn write_escape(out: &mut Vec<u8>, c: char) {
    write_escape_with(out, c, b"\\");
}

/// The escape of `c` (not `"` or `\` when `backslash` is doubled) with `backslash` in
/// place of its backslash.
fn write_escape_with(out: &mut Vec<u8>, c: char, backslash: &[u8]) {
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
                write_unicode_escape(out, unit, backslash);
            }
            return;
        }
    };
    out.extend_from_slice(backslash);
    out.push(short);
}

fn write_unicode_escape(out: &mut Vec<u8>, unit: u16, backslash: &[u8]) {
    out.extend_from_slice(backslash);
    out.extend_from_slice(&[
        b'u',
        HEX[usize::from(unit >> 12)],
        HEX[usize::from((unit >> 8) & 0xf)],
        HEX[usize::from((unit >> 4) & 0xf)],
        HEX[usize::from(unit & 0xf)],
    ]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_contents_escape_like_the_general_path_or_refuse() {
        for text in ["", "plain", r#"{"a": "b\\c"}"#, r#""""#, &"x".repeat(100)] {
            let (mut fast, mut general) = (Vec::new(), Vec::new());
            assert!(write_ascii_str_contents(&mut fast, text.as_bytes()));
            write_str_contents(&mut general, text);
            assert_eq!(fast, general, "{text}");
        }
        for text in ["tab\there", "é", "\u{7f}"] {
            assert!(
                !write_ascii_str_contents(&mut Vec::new(), text.as_bytes()),
                "{text}"
            );
        }
    }
}
