//! The serde `Deserializer` for Python's JSON dialect: RFC 8259 plus the bare tokens `NaN`,
//! `Infinity` and `-Infinity`.

use serde::de::value::{BorrowedStrDeserializer, StrDeserializer};
use serde::de::{self, DeserializeSeed, Visitor};

use super::error::JsonError;
use super::key::MapKey;
use super::raw;
use super::scan;

type Result<T> = std::result::Result<T, JsonError>;

/// How deep arrays and objects may nest, so hostile input cannot overflow the stack.
const MAX_DEPTH: usize = 128;

/// Parses one value out of a `&str`. Strings without escapes are handed to visitors borrowed
/// from the input; escaped ones are decoded into a reused scratch buffer.
pub(super) struct Deserializer<'de> {
    input: &'de str,
    pos: usize,
    depth: usize,
    scratch: String,
    /// The whole input is one string literal without escapes, as an earlier pass found
    /// (a captured [`RawJson`](super::RawJson)): its contents are taken without scanning
    /// them again.
    plain_string: bool,
    /// Runs of the input known to hold no byte a string scan stops at, as `(start, end)`
    /// offsets in increasing order: found while the input was unescaped from an envelope
    /// ([`owned_str_at`](Self::owned_str_at)), so that its long strings are not scanned
    /// a second time.
    plain_runs: &'de [(usize, usize)],
    /// The first of `plain_runs` that may still lie ahead.
    next_run: usize,
    /// While [`owned_str_at`](Self::owned_str_at) decodes: the long plain runs of the
    /// decoded text, as `plain_runs` for its parse.
    recording: Option<Vec<(usize, usize)>>,
}

/// The shortest plain run [`Deserializer::owned_str_at`] records: shorter ones are scanned
/// again faster than they would be looked up.
const RECORDED_RUN: usize = 256;

/// A decoded string: borrowed from the input when it had no escapes.
pub(super) enum Str<'de, 's> {
    Borrowed(&'de str),
    Scratch(&'s str),
}

impl Str<'_, '_> {
    pub(super) fn as_str(&self) -> &str {
        match self {
            Str::Borrowed(s) | Str::Scratch(s) => s,
        }
    }
}

/// A number as written: the integer variants are used when it had no fraction or exponent.
enum Number<'de> {
    U64(u64),
    I64(i64),
    /// `-Infinity`.
    NegInfinity,
    /// Text with a fraction or exponent, converted only if a visitor wants it (not when
    /// skipping).
    Float(&'de str),
    /// An integer outside the 64-bit range, as text.
    BigInt(&'de str),
}

impl<'de> Deserializer<'de> {
    pub(super) fn new(input: &'de str) -> Self {
        Deserializer {
            input,
            pos: 0,
            depth: 0,
            scratch: String::new(),
            plain_string: false,
            plain_runs: &[],
            next_run: 0,
            recording: None,
        }
    }

    /// A deserializer of `input` whose `plain_runs` (increasing `(start, end)` offsets)
    /// are known to hold no byte a string scan stops at, as
    /// [`owned_str_at`](Self::owned_str_at) found them.
    pub(super) fn with_plain_runs(input: &'de str, plain_runs: &'de [(usize, usize)]) -> Self {
        Deserializer {
            plain_runs,
            ..Deserializer::new(input)
        }
    }

    /// Moves past the bytes a string scan takes as they are, from the current position,
    /// jumping over a known plain run.
    fn skip_plain(&mut self) {
        while let Some(&(start, end)) = self.plain_runs.get(self.next_run) {
            if end <= self.pos {
                self.next_run += 1;
                continue;
            }
            if start <= self.pos {
                self.pos = end;
            }
            break;
        }
        self.pos += scan::plain_for_decoder(&self.input.as_bytes()[self.pos..]);
    }

    /// Notes that `self.input[scanned..self.pos]`, the plain part of the run from `run`
    /// about to be copied to the scratch buffer, lands there at the matching offset.
    fn record_run(&mut self, run: usize, scanned: usize) {
        if let Some(runs) = &mut self.recording
            && self.pos - scanned >= RECORDED_RUN
        {
            let start = self.scratch.len() + (scanned - run);
            runs.push((start, start + (self.pos - scanned)));
        }
    }

    /// A deserializer of `input`, which an earlier pass found to be one string literal
    /// without escapes (and nothing else).
    pub(super) fn new_plain_string(input: &'de str) -> Self {
        Deserializer {
            plain_string: true,
            ..Deserializer::new(input)
        }
    }

    /// The current byte offset.
    pub(super) fn offset(&self) -> usize {
        self.pos
    }

    /// Checks that only whitespace follows the value.
    pub(super) fn end(&mut self) -> Result<()> {
        match self.skip_whitespace() {
            None => Ok(()),
            Some(_) => Err(self.error("trailing characters after the JSON value")),
        }
    }

    fn error(&self, message: &str) -> JsonError {
        self.error_at(message, self.pos)
    }

    pub(super) fn error_at(&self, message: &str, offset: usize) -> JsonError {
        JsonError::at(message, self.input.as_bytes(), offset)
    }

    fn peek(&self) -> Option<u8> {
        self.input.as_bytes().get(self.pos).copied()
    }

    fn slice(&self, start: usize, end: usize) -> Result<&'de str> {
        // Every slice we take starts and ends next to an ASCII byte, so this never fails;
        // the check keeps that an error rather than a panic.
        self.input
            .get(start..end)
            .ok_or_else(|| self.error("internal error: slice is not on a character boundary"))
    }

    /// Skips whitespace and returns the next byte without consuming it.
    fn skip_whitespace(&mut self) -> Option<u8> {
        let bytes = self.input.as_bytes();
        while let Some(&b) = bytes.get(self.pos) {
            if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(b);
            }
            self.pos += 1;
        }
        None
    }

    /// Skips whitespace and returns the first byte of the value that must follow.
    fn peek_value(&mut self) -> Result<u8> {
        self.skip_whitespace()
            .ok_or_else(|| self.error("EOF while parsing a value"))
    }

    fn literal(&mut self, word: &[u8]) -> Result<()> {
        let end = self.pos + word.len();
        if self.input.as_bytes().get(self.pos..end) == Some(word) {
            self.pos = end;
            Ok(())
        } else {
            Err(self.error("expected value"))
        }
    }

    /// Consumes the `[` or `{` at the current position, counting the nesting depth.
    fn enter(&mut self) -> Result<()> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error("arrays and objects nested too deeply"));
        }
        self.depth += 1;
        self.pos += 1;
        Ok(())
    }

    /// Undoes [`enter`](Self::enter) once the container is closed.
    fn leave(&mut self) {
        self.depth -= 1;
    }

    // ---- strings ----

    /// Parses the string literal starting at the current `"`.
    pub(super) fn parse_str(&mut self) -> Result<Str<'de, '_>> {
        if self.plain_string && self.pos == 0 {
            // The literal is the whole input, and its contents need no decoding.
            let end = self.input.len();
            self.pos = end;
            return Ok(Str::Borrowed(self.slice(1, end.saturating_sub(1).max(1))?));
        }
        self.pos += 1;
        let start = self.pos;
        self.skip_plain();
        match self.peek() {
            Some(b'"') => {
                self.pos += 1;
                Ok(Str::Borrowed(self.slice(start, self.pos - 1)?))
            }
            Some(b'\\') => {
                self.scratch.clear();
                self.unescape_rest(start, start)?;
                Ok(Str::Scratch(&self.scratch))
            }
            Some(_) => Err(self.error("control character in string")),
            None => Err(self.error("EOF while parsing a string")),
        }
    }

    /// Decodes the rest of a string literal into the scratch buffer, from the first
    /// backslash (the current position) to the closing quote; the undecoded text starts at
    /// `run`.
    ///
    /// `\"`, `\\` and `\/` stand for the byte after the backslash, so that byte simply starts
    /// the next run: an enveloped message escapes every quote of its inner JSON, and this
    /// keeps each of them down to one copy of the run before it. `scanned` is where the
    /// last scan for plain bytes began.
    fn unescape_rest(&mut self, mut run: usize, mut scanned: usize) -> Result<()> {
        let bytes = self.input.as_bytes();
        loop {
            self.record_run(run, scanned);
            match bytes.get(self.pos) {
                Some(b'"') => {
                    let text = self.slice(run, self.pos)?;
                    self.scratch.push_str(text);
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    let text = self.slice(run, self.pos)?;
                    self.scratch.push_str(text);
                    if let Some(b'"' | b'\\' | b'/') = bytes.get(self.pos + 1) {
                        run = self.pos + 1;
                        self.pos += 2;
                    } else {
                        self.pos += 1;
                        self.parse_escape()?;
                        run = self.pos;
                    }
                }
                Some(_) => return Err(self.error("control character in string")),
                None => return Err(self.error("EOF while parsing a string")),
            }
            scanned = self.pos;
            self.skip_plain();
        }
    }

    /// Decodes the string literal at byte `at` into an owned string, reserving for the rest
    /// of the input up front (for a string that is most of it, like an envelope's
    /// message). The position is left after the closing quote.
    ///
    /// Also returns the long runs of the string that a string scan takes as they are (no
    /// `"`, `\` or control character), as offsets in it: its parse
    /// ([`with_plain_runs`](Self::with_plain_runs)) then need not scan them again.
    pub(super) fn owned_str_at(&mut self, at: usize) -> Result<(String, Vec<(usize, usize)>)> {
        self.recording = Some(Vec::new());
        let text = self.owned_str_at_recording(at)?;
        Ok((text, self.recording.take().unwrap_or_default()))
    }

    fn owned_str_at_recording(&mut self, at: usize) -> Result<String> {
        self.pos = at;
        if self.peek() != Some(b'"') {
            return Err(self.error("expected a string"));
        }
        // An empty buffer is valid UTF-8.
        self.scratch =
            String::from_utf8(crate::wire::take_buffer(self.input.len() - at)).unwrap_or_default();
        match self.parse_str()? {
            Str::Borrowed(text) => Ok(text.to_owned()),
            Str::Scratch(_) => Ok(std::mem::take(&mut self.scratch)),
        }
    }

    /// Decodes the escape after a backslash into the scratch buffer.
    fn parse_escape(&mut self) -> Result<()> {
        let c = match self.peek() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.pos += 1;
                let c = self.parse_unicode_escape()?;
                self.scratch.push(c);
                return Ok(());
            }
            Some(_) => return Err(self.error("invalid escape")),
            None => return Err(self.error("EOF while parsing a string")),
        };
        self.pos += 1;
        self.scratch.push(c);
        Ok(())
    }

    /// Decodes the `XXXX` of `\uXXXX`, joining a surrogate pair when one follows. Python
    /// accepts lone surrogates, which a Rust string cannot hold; they become U+FFFD.
    fn parse_unicode_escape(&mut self) -> Result<char> {
        let unit = self.parse_hex4()?;
        let scalar = match unit {
            0xD800..=0xDBFF => {
                let rest = &self.input.as_bytes()[self.pos..];
                if !rest.starts_with(b"\\u") {
                    return Ok(char::REPLACEMENT_CHARACTER);
                }
                let after_high = self.pos;
                self.pos += 2;
                let low = self.parse_hex4()?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    // Not a pair: the next escape stands on its own.
                    self.pos = after_high;
                    return Ok(char::REPLACEMENT_CHARACTER);
                }
                0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            }
            _ => unit,
        };
        Ok(char::from_u32(scalar).unwrap_or(char::REPLACEMENT_CHARACTER))
    }

    fn parse_hex4(&mut self) -> Result<u32> {
        let mut value = 0;
        for _ in 0..4 {
            let digit = self
                .peek()
                .and_then(|b| char::from(b).to_digit(16))
                .ok_or_else(|| self.error("invalid \\u escape: expected 4 hex digits"))?;
            value = value * 16 + digit;
            self.pos += 1;
        }
        Ok(value)
    }

    /// Validates the string literal starting at the current `"` without decoding it.
    /// Returns whether it had no escapes.
    fn skip_str(&mut self) -> Result<bool> {
        self.pos += 1;
        let bytes = self.input.as_bytes();
        let mut plain = true;
        loop {
            self.skip_plain();
            match bytes.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(plain);
                }
                Some(b'\\') => {
                    plain = false;
                    self.pos += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.pos += 1;
                        }
                        Some(b'u') => {
                            self.pos += 1;
                            self.parse_hex4()?;
                        }
                        Some(_) => return Err(self.error("invalid escape")),
                        None => return Err(self.error("EOF while parsing a string")),
                    }
                }
                Some(_) => return Err(self.error("control character in string")),
                None => return Err(self.error("EOF while parsing a string")),
            }
        }
    }

    // ---- numbers ----

    fn skip_digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }

    fn require_digits(&mut self, after: &str) -> Result<()> {
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(self.error(&format!("expected a digit after {after}")));
        }
        self.skip_digits();
        Ok(())
    }

    /// Parses the number (or `-Infinity`) starting at the current `-` or digit.
    fn parse_number(&mut self) -> Result<Number<'de>> {
        let start = self.pos;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        let mut magnitude: Option<u64> = Some(0);
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if matches!(self.peek(), Some(b'0'..=b'9')) {
                    return Err(self.error("leading zeros are not allowed"));
                }
            }
            Some(b'1'..=b'9') => {
                while let Some(d @ b'0'..=b'9') = self.peek() {
                    magnitude = magnitude
                        .and_then(|m| m.checked_mul(10))
                        .and_then(|m| m.checked_add(u64::from(d - b'0')));
                    self.pos += 1;
                }
            }
            Some(b'I') if negative => {
                self.literal(b"Infinity")?;
                return Ok(Number::NegInfinity);
            }
            _ => return Err(self.error("invalid number")),
        }
        let mut is_float = false;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.require_digits("the decimal point")?;
            is_float = true;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.require_digits("the exponent")?;
            is_float = true;
        }
        let text = self.slice(start, self.pos)?;
        Ok(match magnitude {
            _ if is_float => Number::Float(text),
            Some(m) if !negative => Number::U64(m),
            Some(m) if m <= i64::MIN.unsigned_abs() => Number::I64(0i64.wrapping_sub_unsigned(m)),
            _ => Number::BigInt(text),
        })
    }

    fn visit_number<V: Visitor<'de>>(&mut self, visitor: V, exact_128: bool) -> Result<V::Value> {
        match self.parse_number()? {
            Number::U64(v) => visitor.visit_u64(v),
            Number::I64(v) => visitor.visit_i64(v),
            Number::NegInfinity => visitor.visit_f64(f64::NEG_INFINITY),
            Number::Float(text) => visitor.visit_f64(self.parse_f64(text)?),
            Number::BigInt(text) => {
                if exact_128 {
                    if let Ok(v) = text.parse::<u128>() {
                        return visitor.visit_u128(v);
                    }
                    if let Ok(v) = text.parse::<i128>() {
                        return visitor.visit_i128(v);
                    }
                }
                visitor.visit_f64(self.parse_f64(text)?)
            }
        }
    }

    /// Converts number text the grammar has already checked. Correctly rounded, like
    /// Python's `float()`; out-of-range values become ±inf, as in Python.
    fn parse_f64(&self, text: &str) -> Result<f64> {
        text.parse().map_err(|_| self.error("invalid number"))
    }

    // ---- containers ----

    fn end_array(&mut self) -> Result<()> {
        match self.skip_whitespace() {
            Some(b']') => {
                self.pos += 1;
                Ok(())
            }
            Some(b',') => Err(self.error("more array elements than expected")),
            Some(_) => Err(self.error("expected ',' or ']'")),
            None => Err(self.error("EOF while parsing an array")),
        }
    }

    fn end_object(&mut self) -> Result<()> {
        match self.skip_whitespace() {
            Some(b'}') => {
                self.pos += 1;
                Ok(())
            }
            Some(b',') => Err(self.error("more object members than expected")),
            Some(_) => Err(self.error("expected ',' or '}'")),
            None => Err(self.error("EOF while parsing an object")),
        }
    }

    /// Moves to the next array element. Returns false at the closing `]`, which is left for
    /// [`end_array`](Self::end_array).
    fn next_element(&mut self, first: bool) -> Result<bool> {
        match self.skip_whitespace() {
            Some(b']') => return Ok(false),
            Some(b',') if !first => self.pos += 1,
            Some(_) if first => return Ok(true),
            Some(_) => return Err(self.error("expected ',' or ']'")),
            None => return Err(self.error("EOF while parsing an array")),
        }
        match self.skip_whitespace() {
            Some(b']') => Err(self.error("trailing comma")),
            Some(_) => Ok(true),
            None => Err(self.error("EOF while parsing an array")),
        }
    }

    /// Moves to the next object key (its opening `"`). Returns false at the closing `}`,
    /// which is left for [`end_object`](Self::end_object).
    fn next_key(&mut self, first: bool) -> Result<bool> {
        match self.skip_whitespace() {
            Some(b'}') => return Ok(false),
            Some(b',') if !first => self.pos += 1,
            Some(_) if first => {}
            Some(_) => return Err(self.error("expected ',' or '}'")),
            None => return Err(self.error("EOF while parsing an object")),
        }
        match self.skip_whitespace() {
            Some(b'"') => Ok(true),
            Some(b'}') if !first => Err(self.error("trailing comma")),
            Some(_) => Err(self.error("object keys must be strings")),
            None => Err(self.error("EOF while parsing an object")),
        }
    }

    /// Consumes the `:` between a key and its value.
    fn colon(&mut self) -> Result<()> {
        match self.skip_whitespace() {
            Some(b':') => {
                self.pos += 1;
                Ok(())
            }
            Some(_) => Err(self.error("expected ':'")),
            None => Err(self.error("EOF while parsing an object")),
        }
    }

    // ---- skipping ----

    /// Validates one value and moves past it without building anything.
    pub(super) fn skip_value(&mut self) -> Result<()> {
        match self.peek_value()? {
            b'n' => self.literal(b"null"),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'N' => self.literal(b"NaN"),
            b'I' => self.literal(b"Infinity"),
            b'"' => self.skip_str().map(drop),
            b'-' | b'0'..=b'9' => self.parse_number().map(drop),
            b'[' => {
                self.enter()?;
                let mut first = true;
                while self.next_element(first)? {
                    first = false;
                    self.skip_value()?;
                }
                self.end_array()?;
                self.leave();
                Ok(())
            }
            b'{' => {
                self.enter()?;
                let mut first = true;
                while self.next_key(first)? {
                    first = false;
                    self.skip_str()?;
                    self.colon()?;
                    self.skip_value()?;
                }
                self.end_object()?;
                self.leave();
                Ok(())
            }
            _ => Err(self.error("expected value")),
        }
    }

    /// Validates one value and returns its exact text, without surrounding whitespace.
    pub(super) fn raw_value(&mut self) -> Result<&'de str> {
        self.raw_value_kind().map(|(text, _)| text)
    }

    /// [`raw_value`](Self::raw_value), and whether the value is a string literal without
    /// escapes (found by the same pass).
    pub(super) fn raw_value_kind(&mut self) -> Result<(&'de str, bool)> {
        let first = self.peek_value()?;
        let start = self.pos;
        let plain_string = if first == b'"' {
            self.skip_str()?
        } else {
            self.skip_value()?;
            false
        };
        Ok((self.slice(start, self.pos)?, plain_string))
    }
}

impl<'de> de::Deserializer<'de> for &mut Deserializer<'de> {
    type Error = JsonError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.peek_value()? {
            b'n' => {
                self.literal(b"null")?;
                visitor.visit_unit()
            }
            b't' => {
                self.literal(b"true")?;
                visitor.visit_bool(true)
            }
            b'f' => {
                self.literal(b"false")?;
                visitor.visit_bool(false)
            }
            b'N' => {
                self.literal(b"NaN")?;
                visitor.visit_f64(f64::NAN)
            }
            b'I' => {
                self.literal(b"Infinity")?;
                visitor.visit_f64(f64::INFINITY)
            }
            b'"' => match self.parse_str()? {
                Str::Borrowed(s) => visitor.visit_borrowed_str(s),
                Str::Scratch(s) => visitor.visit_str(s),
            },
            b'-' | b'0'..=b'9' => self.visit_number(visitor, false),
            b'[' => {
                self.enter()?;
                let value = visitor.visit_seq(SeqAccess {
                    de: self,
                    first: true,
                })?;
                self.end_array()?;
                self.leave();
                Ok(value)
            }
            b'{' => {
                self.enter()?;
                let value = visitor.visit_map(MapAccess {
                    de: self,
                    first: true,
                })?;
                self.end_object()?;
                self.leave();
                Ok(value)
            }
            _ => Err(self.error("expected value")),
        }
    }

    fn deserialize_i128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.peek_value()? {
            b'-' | b'0'..=b'9' => self.visit_number(visitor, true),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_u128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_i128(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.peek_value()? == b'n' {
            self.literal(b"null")?;
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        if name == raw::TOKEN {
            let (text, plain_string) = self.raw_value_kind()?;
            return visitor.visit_map(raw::RawAccess::new(text, plain_string));
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.peek_value()? {
            b'"' => match self.parse_str()? {
                Str::Borrowed(s) => visitor.visit_enum(BorrowedStrDeserializer::new(s)),
                Str::Scratch(s) => visitor.visit_enum(StrDeserializer::new(s)),
            },
            b'{' => {
                self.enter()?;
                if !self.next_key(true)? {
                    return Err(self.error("expected an enum variant name, found an empty object"));
                }
                let value = visitor.visit_enum(EnumAccess { de: self })?;
                match self.skip_whitespace() {
                    Some(b'}') => self.pos += 1,
                    Some(_) => return Err(self.error("expected '}' after the enum variant")),
                    None => return Err(self.error("EOF while parsing an object")),
                }
                self.leave();
                Ok(value)
            }
            _ => Err(self.error("expected a string or an object for an enum")),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.skip_value()?;
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 u8 u16 u32 u64 f32 f64 char str string bytes byte_buf unit
        unit_struct seq tuple tuple_struct map struct identifier
    }
}

struct SeqAccess<'a, 'de> {
    de: &'a mut Deserializer<'de>,
    first: bool,
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'_, 'de> {
    type Error = JsonError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if !self.de.next_element(self.first)? {
            return Ok(None);
        }
        self.first = false;
        seed.deserialize(&mut *self.de).map(Some)
    }
}

struct MapAccess<'a, 'de> {
    de: &'a mut Deserializer<'de>,
    first: bool,
}

impl<'de> de::MapAccess<'de> for MapAccess<'_, 'de> {
    type Error = JsonError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        if !self.de.next_key(self.first)? {
            return Ok(None);
        }
        self.first = false;
        seed.deserialize(MapKey::new(&mut *self.de)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        self.de.colon()?;
        seed.deserialize(&mut *self.de)
    }
}

/// `{"Variant": value}`, positioned at the variant name.
struct EnumAccess<'a, 'de> {
    de: &'a mut Deserializer<'de>,
}

impl<'de> de::EnumAccess<'de> for EnumAccess<'_, 'de> {
    type Error = JsonError;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self)> {
        let variant = seed.deserialize(MapKey::new(&mut *self.de))?;
        self.de.colon()?;
        Ok((variant, self))
    }
}

impl<'de> de::VariantAccess<'de> for EnumAccess<'_, 'de> {
    type Error = JsonError;

    fn unit_variant(self) -> Result<()> {
        de::Deserialize::deserialize(self.de)
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        seed.deserialize(self.de)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        de::Deserializer::deserialize_seq(self.de, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        de::Deserializer::deserialize_map(self.de, visitor)
    }
}
