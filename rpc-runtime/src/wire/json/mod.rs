//! JSON exactly as oslo.messaging writes and reads it.
//!
//! oslo.messaging encodes with Python's `json.dumps` defaults, and peers compare, log and
//! sometimes hash those bytes, so this module reproduces them byte for byte:
//!
//! * separators `", "` and `": "`, no newlines;
//! * `ensure_ascii`: everything outside printable ASCII is `\uXXXX` (lower-case hex, surrogate
//!   pairs above U+FFFF), so the output is pure ASCII;
//! * floats in Python `repr` form (`3.0`, `1e+16`, `1.5e-07`) and the non-standard bare tokens
//!   `NaN`, `Infinity` and `-Infinity`;
//! * map keys in iteration order (use `serde_json::Map`/`Value`, which keep insertion order in
//!   this workspace, or structs), with Python's conversion of integer, float, bool and null
//!   keys to strings.
//!
//! The parser accepts RFC 8259 JSON plus those three tokens, as Python's `json.loads` does.
//! Strings without escapes are borrowed from the input. Nesting is limited to 128 levels.
//!
//! Numbers decode as follows: integers that fit `u64`/`i64` are visited as such; larger ones
//! as `f64`, except when the target asks for `i128`/`u128`, which get the exact value.
//! `serde_json::Value` cannot hold `NaN` or `±Infinity`; decoding them into a `Value` gives
//! `Value::Null` (decode into `f64` or keep them as [`RawJson`] to preserve them).
//!
//! [`RawJson`] carries a value as its exact source text.
//!
//! ```
//! use oslo_rpc_runtime::wire::json;
//!
//! let text = json::to_string(&serde_json::json!({"x": [3.0, 1e16, "\u{e9}"]}))?;
//! assert_eq!(text, r#"{"x": [3.0, 1e+16, "\u00e9"]}"#);
//!
//! let floats: Vec<f64> = json::from_str("[NaN, -Infinity, 1.5e-07]")?;
//! assert!(floats[0].is_nan());
//! # Ok::<(), json::JsonError>(())
//! ```

mod de;
mod error;
mod escape;
mod key;
mod number;
mod raw;
mod scan;
mod ser;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use error::JsonError;
pub use escape::write_str;
pub(crate) use escape::{
    write_ascii_str_contents, write_str_contents, write_str_contents_escaped, write_str_escaped,
};
pub use raw::RawJson;
pub(crate) use raw::SharedText;

/// Encodes `value` as Python's `json.dumps` would.
pub fn to_vec<T: ?Sized + Serialize>(value: &T) -> Result<Vec<u8>, JsonError> {
    let mut out = Vec::with_capacity(128);
    to_writer(&mut out, value)?;
    Ok(out)
}

/// Encodes `value` as Python's `json.dumps` would.
///
/// The text is ASCII, unless it embeds a [`RawJson`] that itself holds non-ASCII text.
pub fn to_string<T: ?Sized + Serialize>(value: &T) -> Result<String, JsonError> {
    let bytes = to_vec(value)?;
    // Always valid: the encoder writes ASCII and RawJson contents come from a `String`.
    String::from_utf8(bytes).map_err(|_| JsonError::new("internal error: output is not UTF-8"))
}

/// Appends the encoding of `value` to `out`. On error, `out` may hold a partial encoding.
pub fn to_writer<T: ?Sized + Serialize>(out: &mut Vec<u8>, value: &T) -> Result<(), JsonError> {
    value.serialize(&mut ser::Serializer::new(out))
}

/// Appends the encoding of `value` escaped once more as the contents of a JSON string, as
/// [`write_str_contents`] would escape [`to_writer`]'s output, in one pass: for a message
/// written straight into an envelope's `oslo.message` string.
pub(crate) fn to_writer_escaped<T: ?Sized + Serialize>(
    out: &mut Vec<u8>,
    value: &T,
) -> Result<(), JsonError> {
    value.serialize(&mut ser::Serializer::escaped(out))
}

/// Decodes one JSON value in Python's dialect; only whitespace may follow it.
pub fn from_str<'de, T: Deserialize<'de>>(s: &'de str) -> Result<T, JsonError> {
    decode(de::Deserializer::new(s), s)
}

/// [`from_str`] of a text an earlier pass found to be one string literal without escapes
/// (a captured [`RawJson`]): a string is then taken without scanning it again.
fn from_plain_string<'de, T: Deserialize<'de>>(s: &'de str) -> Result<T, JsonError> {
    decode(de::Deserializer::new_plain_string(s), s)
}

fn decode<'de, T: Deserialize<'de>>(
    mut de: de::Deserializer<'de>,
    s: &'de str,
) -> Result<T, JsonError> {
    let result = T::deserialize(&mut de).and_then(|value| de.end().map(|()| value));
    result.map_err(|mut error| {
        // Errors raised by `Deserialize` impls ("missing field") carry no position yet.
        error.locate(s.as_bytes(), de.offset());
        error
    })
}

/// Decodes the string literal that starts at byte `at` of `text` into an owned string, and
/// returns it with what follows its closing quote. Reserves for the rest of `text` at once:
/// meant for a string that is most of the text, like an envelope's message.
///
/// Also returns the long runs of the string that need no work when it is parsed in turn
/// (see [`SharedText::with_plain_runs`]).
pub(crate) fn owned_str_at(text: &str, at: usize) -> Result<(String, PlainRuns, &str), JsonError> {
    let mut de = de::Deserializer::new(text);
    let (value, runs) = de.owned_str_at(at)?;
    Ok((
        value,
        PlainRuns(runs),
        text.get(de.offset()..).unwrap_or(""),
    ))
}

/// Runs of a text that hold no `"`, `\` or control character, as offsets into it: what
/// [`owned_str_at`] found while it decoded the text, so that parsing it does not scan its
/// long strings a second time.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct PlainRuns(pub(crate) Vec<(usize, usize)>);

/// Decodes one JSON value from `source` as [`from_str`] does, the [`RawJson`] values
/// captured from it sharing its text instead of copying it.
pub(crate) fn from_shared<T: for<'de> Deserialize<'de>>(
    source: &std::sync::Arc<SharedText>,
) -> Result<T, JsonError> {
    raw::with_source(source, || {
        let text = source.as_str();
        decode(
            de::Deserializer::with_plain_runs(text, source.plain_runs()),
            text,
        )
    })
}

/// An object key, borrowed from the text when it has no escapes. (serde's own
/// `Deserialize` for `Cow<str>` always copies: a heap allocation for every key of every
/// message.)
pub(crate) struct Key<'de>(pub(crate) std::borrow::Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> serde::de::Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(std::borrow::Cow::Borrowed(key)))
    }

    fn visit_str<E>(self, key: &str) -> Result<Key<'de>, E> {
        Ok(Key(std::borrow::Cow::Owned(key.to_owned())))
    }

    fn visit_string<E>(self, key: String) -> Result<Key<'de>, E> {
        Ok(Key(std::borrow::Cow::Owned(key)))
    }
}

/// Decodes one JSON value from UTF-8 bytes. Invalid UTF-8 is an error.
pub fn from_slice<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> Result<T, JsonError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| JsonError::at("invalid UTF-8", bytes, e.valid_up_to()))?;
    from_str(text)
}
