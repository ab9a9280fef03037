//! [`RawJson`]: a JSON value kept as text, for passing payloads through without decoding
//! them, and for writing them back byte for byte.

use std::cell::RefCell;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeSeed, Visitor};
use serde::ser::{self, Impossible};
use serde::{Deserialize, Serialize};

use super::de::Deserializer;
use super::error::JsonError;

/// The newtype-struct name by which [`RawJson`] recognises this module's serializer and
/// deserializer (the mechanism serde_json's `RawValue` uses).
pub(super) const TOKEN: &str = "$oslo_rpc::wire::json::private::RawJson";

/// The key this module's deserializer hands over instead of [`TOKEN`] when the captured
/// text is a string literal without escapes.
const PLAIN_STRING_TOKEN: &str = "$oslo_rpc::wire::json::private::RawJson::plain_string";

/// The exact text of one JSON value in Python's dialect (so `NaN` and `Infinity` are
/// allowed).
///
/// * Deserialized by this module, it captures the value's source text verbatim: spacing,
///   key order, number spelling and escapes are kept.
/// * Serialized by this module, the text is written verbatim.
/// * With another human-readable format (say `serde_json`), it goes through
///   `serde_json::Value`: deserializing builds a `Value` and encodes it with this module's
///   rules; serializing parses the text and forwards the `Value` (`NaN` and `Infinity`
///   become `null` there, as `Value` cannot hold them).
/// * With a binary format (`is_human_readable() == false`) the text travels as a string.
///
/// Unlike other values, `Option<RawJson>` reads JSON `null` as `None`.
///
/// A value captured while decoding a received message ([`decode_request`],
/// [`decode_reply`]) shares that message's text instead of copying it, so the arguments
/// of a request are copied once, when they are decoded into their types; the message's
/// text lives as long as one of its values does.
///
/// [`decode_request`]: crate::wire::decode_request
/// [`decode_reply`]: crate::wire::decode_reply
#[derive(Clone)]
pub struct RawJson {
    text: Text,
}

#[derive(Clone)]
enum Text {
    Owned(String),
    /// `source[start..end]`.
    Shared {
        source: Arc<SharedText>,
        start: usize,
        end: usize,
        /// The text is a string literal without escapes (the capture's scan found it):
        /// decoding it takes its contents without scanning them again.
        plain_string: bool,
    },
    /// Written escaped once more, as the contents of a JSON string: how a reply carries
    /// its result inside its envelope's `oslo.message` string, so a method's result is
    /// written once (issue 16). The plain text is unescaped only if someone asks for it.
    Escaped(Arc<EscapedText>),
}

/// The escaped text of a [`Text::Escaped`] value (printable ASCII, as
/// [`super::escape::write_str_contents`] writes it) and its plain text once needed.
/// Large texts go back to the buffer pool when dropped.
pub(crate) struct EscapedText {
    /// `buffer[start..]` is the escaped text; `buffer[..start]` the beginning of the reply
    /// it is meant for, which then takes over the buffer instead of copying the text.
    buffer: Vec<u8>,
    start: usize,
    plain: OnceLock<String>,
}

impl EscapedText {
    fn escaped(&self) -> &[u8] {
        self.buffer.get(self.start..).unwrap_or_default()
    }

    /// The plain JSON text: the escaped text read back as the contents of a JSON string.
    fn plain(&self) -> &str {
        self.plain.get_or_init(|| unescape(self.escaped()))
    }
}

impl Drop for EscapedText {
    fn drop(&mut self) {
        crate::wire::recycle(std::mem::take(&mut self.buffer));
    }
}

/// Reads `escaped`, the contents of a JSON string as this module's encoder writes them,
/// back into the text they escape. Only ever given such contents; anything else (which
/// would be a bug of ours) reads as the text it spells after Python's lenient decoding,
/// never a panic.
fn unescape(escaped: &[u8]) -> String {
    let mut quoted = String::with_capacity(escaped.len() + 2);
    quoted.push('"');
    quoted.push_str(&String::from_utf8_lossy(escaped));
    quoted.push('"');
    match super::owned_str_at(&quoted, 0) {
        Ok((plain, _, _)) => plain,
        Err(_) => quoted[1..quoted.len() - 1].to_owned(),
    }
}

/// The text of a decoded message, shared by the values captured from it. Large texts go
/// back to the buffer pool when the last of them is dropped.
pub(crate) struct SharedText {
    text: String,
    /// Runs of `text` known to hold no `"`, `\` or control character.
    plain_runs: Vec<(usize, usize)>,
}

impl SharedText {
    #[cfg(test)]
    pub(crate) fn new(text: String) -> Arc<SharedText> {
        SharedText::with_plain_runs(text, super::PlainRuns::default())
    }

    /// A text whose `plain_runs` hold no `"`, `\` or control character, as
    /// [`owned_str_at`](super::owned_str_at) found them while decoding it: its parse
    /// takes them without scanning them again. Runs that are not within the text, on
    /// character boundaries and in increasing order are dropped.
    pub(crate) fn with_plain_runs(text: String, plain_runs: super::PlainRuns) -> Arc<SharedText> {
        let mut plain_runs = plain_runs.0;
        let mut last_end = 0;
        plain_runs.retain(|&(start, end)| {
            let keep = last_end <= start
                && start <= end
                && text.is_char_boundary(start)
                && text.is_char_boundary(end);
            if keep {
                last_end = end;
            }
            keep
        });
        Arc::new(SharedText { text, plain_runs })
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    pub(crate) fn plain_runs(&self) -> &[(usize, usize)] {
        &self.plain_runs
    }
}

impl Drop for SharedText {
    fn drop(&mut self) {
        crate::wire::recycle(std::mem::take(&mut self.text).into_bytes());
    }
}

thread_local! {
    /// The length of the last result this thread encoded escaped: the next one is given
    /// room for as much, so a large result is not regrown (and copied) step by step.
    static LAST_RESULT_LEN: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The most a result reserves after a huge one.
const RESULT_HINT_MAX: usize = 256 * 1024;

fn result_capacity() -> usize {
    LAST_RESULT_LEN
        .try_with(std::cell::Cell::get)
        .unwrap_or(0)
        .clamp(64, RESULT_HINT_MAX)
}

fn remember_result_len(len: usize) {
    // With room for the rest of the reply (its ids, 2 × 32 bytes, and about 100 more).
    let _ = LAST_RESULT_LEN.try_with(|last| last.set(len + len / 16 + 192));
}

thread_local! {
    /// The text being decoded by [`from_shared`](super::from_shared) on this thread:
    /// values captured from it share it.
    static SOURCE: RefCell<Option<Arc<SharedText>>> = const { RefCell::new(None) };
}

/// Runs `decode` with `source` as the text captured values may share.
pub(crate) fn with_source<R>(source: &Arc<SharedText>, decode: impl FnOnce() -> R) -> R {
    struct Restore(Option<Arc<SharedText>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            let _ = SOURCE.try_with(|current| *current.borrow_mut() = previous);
        }
    }
    let previous = SOURCE
        .try_with(|current| current.borrow_mut().replace(source.clone()))
        .ok()
        .flatten();
    let _restore = Restore(previous);
    decode()
}

/// A captured value: shared with the source being decoded when it lies within it, else
/// copied.
fn captured(text: &str, plain_string: bool) -> RawJson {
    let shared = SOURCE
        .try_with(|current| {
            let current = current.borrow();
            let source = current.as_ref()?;
            let base = source.as_str().as_ptr() as usize;
            let start = (text.as_ptr() as usize).checked_sub(base)?;
            let end = start.checked_add(text.len())?;
            // Within the source's memory, so a slice of it (its boundaries are character
            // boundaries; checked all the same, as `as_str` slices there).
            let whole = source.as_str();
            (end <= whole.len() && whole.is_char_boundary(start) && whole.is_char_boundary(end))
                .then(|| Text::Shared {
                    source: source.clone(),
                    start,
                    end,
                    plain_string,
                })
        })
        .ok()
        .flatten();
    RawJson {
        text: shared.unwrap_or_else(|| Text::Owned(text.to_owned())),
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for RawJson {}

impl Hash for RawJson {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl RawJson {
    /// Validates `text` as one JSON value and wraps it. Whitespace around the value is
    /// removed; everything else is kept as is.
    pub fn from_string(text: String) -> Result<RawJson, JsonError> {
        let mut de = Deserializer::new(&text);
        let value = de.raw_value()?;
        de.end()?;
        if value.len() == text.len() {
            return Ok(RawJson {
                text: Text::Owned(text),
            });
        }
        Ok(RawJson {
            text: Text::Owned(value.to_owned()),
        })
    }

    /// Encodes `value` with this module's serializer.
    pub fn from_serialize<T: ?Sized + Serialize>(value: &T) -> Result<RawJson, JsonError> {
        Ok(RawJson {
            text: Text::Owned(super::to_string(value)?),
        })
    }

    /// Encodes `value` with this module's serializer straight into the escaped form a
    /// reply writes into its envelope, after `reply_start` (the reply's first bytes, up to
    /// its result): one pass where encoding and then escaping took two, plus a UTF-8 check
    /// of the encoding, and a reply that owns the value continues its buffer
    /// ([`into_reply_buffer`](Self::into_reply_buffer)) instead of copying it.
    /// [`as_str`](Self::as_str) unescapes the text on first use.
    pub(crate) fn from_serialize_escaped<T: ?Sized + Serialize>(
        value: &T,
        reply_start: &[u8],
    ) -> Result<RawJson, JsonError> {
        let mut buffer = crate::wire::take_buffer(result_capacity());
        buffer.extend_from_slice(reply_start);
        super::to_writer_escaped(&mut buffer, value)?;
        remember_result_len(buffer.len());
        Ok(RawJson {
            text: Text::Escaped(Arc::new(EscapedText {
                buffer,
                start: reply_start.len(),
                plain: OnceLock::new(),
            })),
        })
    }

    /// The text escaped as the contents of a JSON string, when the value was made by
    /// [`from_serialize_escaped`](Self::from_serialize_escaped).
    pub(crate) fn escaped(&self) -> Option<&[u8]> {
        match &self.text {
            Text::Escaped(text) => Some(text.escaped()),
            _ => None,
        }
    }

    /// The buffer of a value made by [`from_serialize_escaped`](Self::from_serialize_escaped)
    /// with `reply_start`, which holds `reply_start` and then the escaped text, for the
    /// reply to go on writing; the value back when it was made otherwise or is shared with
    /// a clone.
    pub(crate) fn into_reply_buffer(mut self, reply_start: &[u8]) -> Result<Vec<u8>, RawJson> {
        if let Text::Escaped(text) = &mut self.text
            && let Some(text) = Arc::get_mut(text)
            && text.buffer.get(..text.start) == Some(reply_start)
        {
            return Ok(std::mem::take(&mut text.buffer));
        }
        Err(self)
    }

    /// The length of the text as a reply writes it (escaped, or about as long as plain).
    pub(crate) fn written_len(&self) -> usize {
        match &self.text {
            Text::Escaped(text) => text.escaped().len(),
            _ => self.as_str().len(),
        }
    }

    /// JSON `null`.
    pub fn null() -> RawJson {
        RawJson {
            text: Text::Owned("null".to_owned()),
        }
    }

    /// Whether the value is `null`.
    pub fn is_null(&self) -> bool {
        self.as_str() == "null"
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        match &self.text {
            Text::Owned(text) => text,
            Text::Shared {
                source, start, end, ..
            } => &source.as_str()[*start..*end],
            Text::Escaped(text) => text.plain(),
        }
    }

    /// Whether the text is shared with the message it was decoded from.
    #[cfg(test)]
    pub(crate) fn is_shared(&self) -> bool {
        matches!(self.text, Text::Shared { .. })
    }

    /// Whether the capture found a string literal without escapes.
    #[cfg(test)]
    pub(crate) fn is_plain_string(&self) -> bool {
        matches!(
            self.text,
            Text::Shared {
                plain_string: true,
                ..
            }
        )
    }

    /// The JSON text, by value.
    pub fn into_string(self) -> String {
        match self.text {
            Text::Owned(text) => text,
            Text::Shared { .. } | Text::Escaped(_) => self.as_str().to_owned(),
        }
    }

    /// Decodes the value with this module's deserializer. `T` may borrow from `self`.
    pub fn deserialize_into<'a, T: Deserialize<'a>>(&'a self) -> Result<T, JsonError> {
        match self.text {
            Text::Shared {
                plain_string: true, ..
            } => super::from_plain_string(self.as_str()),
            _ => super::from_str(self.as_str()),
        }
    }
}

impl Default for RawJson {
    /// JSON `null`.
    fn default() -> Self {
        RawJson::null()
    }
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RawJson")
            .field(&format_args!("{}", self.as_str()))
            .finish()
    }
}

impl fmt::Display for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<RawJson> for String {
    fn from(raw: RawJson) -> String {
        raw.into_string()
    }
}

// ---- serializing ----

impl Serialize for RawJson {
    fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_newtype_struct(TOKEN, &Payload(self.as_str()))
    }
}

/// What the `TOKEN` newtype wraps. This module's serializer hands it a [`Capture`], which
/// says it is not human-readable, and so receives the text.
struct Payload<'a>(&'a str);

impl Serialize for Payload<'_> {
    fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            let value: serde_json::Value =
                super::from_str(self.0).map_err(<S::Error as ser::Error>::custom)?;
            value.serialize(serializer)
        } else {
            serializer.serialize_str(self.0)
        }
    }
}

/// Receives a [`Payload`] inside this module's serializer and appends the text verbatim.
pub(super) struct Capture<'a> {
    out: &'a mut Vec<u8>,
    /// The serializer's output is escaped for an enclosing JSON string: so is the text.
    escaped: bool,
}

impl<'a> Capture<'a> {
    pub(super) fn new(out: &'a mut Vec<u8>, escaped: bool) -> Self {
        Capture { out, escaped }
    }
}

fn not_raw() -> JsonError {
    JsonError::new("internal error: the RawJson marker wrapped something other than its text")
}

macro_rules! reject {
    ($($method:ident($($arg:ty),*);)*) => {$(
        fn $method(self, $(_: $arg),*) -> Result<(), JsonError> {
            Err(not_raw())
        }
    )*};
}

impl ser::Serializer for Capture<'_> {
    type Ok = ();
    type Error = JsonError;
    type SerializeSeq = Impossible<(), JsonError>;
    type SerializeTuple = Impossible<(), JsonError>;
    type SerializeTupleStruct = Impossible<(), JsonError>;
    type SerializeTupleVariant = Impossible<(), JsonError>;
    type SerializeMap = Impossible<(), JsonError>;
    type SerializeStruct = Impossible<(), JsonError>;
    type SerializeStructVariant = Impossible<(), JsonError>;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn serialize_str(self, text: &str) -> Result<(), JsonError> {
        if self.escaped {
            super::escape::write_str_contents(self.out, text);
        } else {
            self.out.extend_from_slice(text.as_bytes());
        }
        Ok(())
    }

    reject! {
        serialize_bool(bool);
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_i128(i128);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_u128(u128);
        serialize_f32(f32);
        serialize_f64(f64);
        serialize_char(char);
        serialize_bytes(&[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(&'static str);
        serialize_unit_variant(&'static str, u32, &'static str);
    }

    fn serialize_some<T: ?Sized + Serialize>(self, _value: &T) -> Result<(), JsonError> {
        Err(not_raw())
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _value: &T,
    ) -> Result<(), JsonError> {
        Err(not_raw())
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), JsonError> {
        Err(not_raw())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, JsonError> {
        Err(not_raw())
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, JsonError> {
        Err(not_raw())
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, JsonError> {
        Err(not_raw())
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, JsonError> {
        Err(not_raw())
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, JsonError> {
        Err(not_raw())
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, JsonError> {
        Err(not_raw())
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, JsonError> {
        Err(not_raw())
    }
}

// ---- deserializing ----

impl<'de> Deserialize<'de> for RawJson {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_newtype_struct(TOKEN, RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = RawJson;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    /// Another deserializer: go through `serde_json::Value` (or a string, for binary
    /// formats, mirroring [`Payload`]).
    fn visit_newtype_struct<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<RawJson, D::Error> {
        if deserializer.is_human_readable() {
            let value = serde_json::Value::deserialize(deserializer)?;
            RawJson::from_serialize(&value).map_err(de::Error::custom)
        } else {
            let text = String::deserialize(deserializer)?;
            RawJson::from_string(text).map_err(de::Error::custom)
        }
    }

    /// This module's deserializer: a one-entry map from `TOKEN` to the captured text.
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<RawJson, A::Error> {
        let plain_string = map
            .next_key_seed(TokenKey)?
            .ok_or_else(|| de::Error::custom("expected raw JSON text"))?;
        let text = map.next_value::<&'de str>()?;
        Ok(captured(text, plain_string))
    }
}

/// Accepts only the `TOKEN` key (or `PLAIN_STRING_TOKEN`: the value is true then), so a
/// real object is never mistaken for captured text.
struct TokenKey;

impl<'de> DeserializeSeed<'de> for TokenKey {
    type Value = bool;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for TokenKey {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("raw JSON text")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<bool, E> {
        if key == TOKEN {
            Ok(false)
        } else if key == PLAIN_STRING_TOKEN {
            Ok(true)
        } else {
            Err(E::custom(
                "RawJson needs a deserializer that supports newtype structs",
            ))
        }
    }
}

/// Hands the captured text to [`RawVisitor::visit_map`].
pub(super) struct RawAccess<'de> {
    text: &'de str,
    /// The text is a string literal without escapes.
    plain_string: bool,
    key_given: bool,
}

impl<'de> RawAccess<'de> {
    pub(super) fn new(text: &'de str, plain_string: bool) -> Self {
        RawAccess {
            text,
            plain_string,
            key_given: false,
        }
    }
}

impl<'de> de::MapAccess<'de> for RawAccess<'de> {
    type Error = JsonError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, JsonError> {
        if self.key_given {
            return Ok(None);
        }
        self.key_given = true;
        let key = if self.plain_string {
            PLAIN_STRING_TOKEN
        } else {
            TOKEN
        };
        seed.deserialize(BorrowedStrDeserializer::new(key))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, JsonError> {
        seed.deserialize(BorrowedStrDeserializer::new(self.text))
    }
}
