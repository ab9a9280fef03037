//! Object keys. JSON keys are strings, and Python's `json.dumps` converts the scalar key types
//! it accepts: `{1: 2}` becomes `{"1": 2}`, `True` becomes `"true"`, `None` becomes `"null"`,
//! and a float key is written in `repr` form (`"1.5"`, `"NaN"`). Keys of any other type are
//! rejected with an error, as Python raises `TypeError`. When reading, a key is handed out as
//! a string, or parsed back into a number or bool when the target type asks for one, so maps
//! such as `HashMap<u32, T>` round-trip.

use serde::de::value::{BorrowedStrDeserializer, StrDeserializer};
use serde::de::{self, Visitor};
use serde::ser::{self, Impossible, Serialize};

use super::de::{Deserializer, Str};
use super::error::JsonError;
use super::number::{write_f64, write_i64, write_i128, write_u64, write_u128};

pub(super) struct KeySerializer<'a> {
    out: &'a mut Vec<u8>,
    /// As the serializer's: escaped once more for an enclosing JSON string.
    escaped: bool,
}

impl<'a> KeySerializer<'a> {
    pub(super) fn new(out: &'a mut Vec<u8>, escaped: bool) -> Self {
        KeySerializer { out, escaped }
    }

    /// Writes a key whose text is pure ASCII without anything to escape (numbers, literals).
    fn quoted(self, write: impl FnOnce(&mut Vec<u8>)) -> Result<(), JsonError> {
        let quote: &[u8] = if self.escaped { b"\\\"" } else { b"\"" };
        self.out.extend_from_slice(quote);
        write(self.out);
        self.out.extend_from_slice(quote);
        Ok(())
    }
}

fn unsupported(kind: &str) -> JsonError {
    JsonError::new(format!(
        "object keys must be strings, numbers, booleans or null, not {kind}"
    ))
}

impl ser::Serializer for KeySerializer<'_> {
    type Ok = ();
    type Error = JsonError;
    type SerializeSeq = Impossible<(), JsonError>;
    type SerializeTuple = Impossible<(), JsonError>;
    type SerializeTupleStruct = Impossible<(), JsonError>;
    type SerializeTupleVariant = Impossible<(), JsonError>;
    type SerializeMap = Impossible<(), JsonError>;
    type SerializeStruct = Impossible<(), JsonError>;
    type SerializeStructVariant = Impossible<(), JsonError>;

    fn serialize_bool(self, v: bool) -> Result<(), JsonError> {
        self.serialize_str(if v { "true" } else { "false" })
    }

    fn serialize_i8(self, v: i8) -> Result<(), JsonError> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i16(self, v: i16) -> Result<(), JsonError> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i32(self, v: i32) -> Result<(), JsonError> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i64(self, v: i64) -> Result<(), JsonError> {
        self.quoted(|out| write_i64(out, v))
    }

    fn serialize_i128(self, v: i128) -> Result<(), JsonError> {
        self.quoted(|out| write_i128(out, v))
    }

    fn serialize_u8(self, v: u8) -> Result<(), JsonError> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u16(self, v: u16) -> Result<(), JsonError> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u32(self, v: u32) -> Result<(), JsonError> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u64(self, v: u64) -> Result<(), JsonError> {
        self.quoted(|out| write_u64(out, v))
    }

    fn serialize_u128(self, v: u128) -> Result<(), JsonError> {
        self.quoted(|out| write_u128(out, v))
    }

    fn serialize_f32(self, v: f32) -> Result<(), JsonError> {
        self.serialize_f64(f64::from(v))
    }

    fn serialize_f64(self, v: f64) -> Result<(), JsonError> {
        self.quoted(|out| write_f64(out, v))
    }

    fn serialize_char(self, v: char) -> Result<(), JsonError> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, v: &str) -> Result<(), JsonError> {
        super::ser::write_string(self.out, v, self.escaped);
        Ok(())
    }

    fn serialize_bytes(self, _v: &[u8]) -> Result<(), JsonError> {
        Err(unsupported("bytes"))
    }

    fn serialize_none(self) -> Result<(), JsonError> {
        self.serialize_str("null")
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<(), JsonError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), JsonError> {
        self.serialize_str("null")
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), JsonError> {
        self.serialize_str("null")
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), JsonError> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), JsonError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), JsonError> {
        Err(unsupported("an enum variant with data"))
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, JsonError> {
        Err(unsupported("a sequence"))
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, JsonError> {
        Err(unsupported("a tuple"))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, JsonError> {
        Err(unsupported("a tuple struct"))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, JsonError> {
        Err(unsupported("an enum variant with data"))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, JsonError> {
        Err(unsupported("a map"))
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, JsonError> {
        Err(unsupported("a struct"))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, JsonError> {
        Err(unsupported("an enum variant with data"))
    }
}

/// Reads one object key (positioned at its opening `"`).
pub(super) struct MapKey<'a, 'de> {
    de: &'a mut Deserializer<'de>,
}

impl<'a, 'de> MapKey<'a, 'de> {
    pub(super) fn new(de: &'a mut Deserializer<'de>) -> Self {
        MapKey { de }
    }

    /// Parses the key's text as a `T`, for keys that stand for numbers.
    fn parse<T: std::str::FromStr>(self, what: &str) -> Result<T, JsonError> {
        let start = self.de.offset();
        let text = self.de.parse_str()?;
        let parsed = text.as_str().parse().ok();
        parsed.ok_or_else(|| {
            self.de
                .error_at(&format!("object key is not {what}"), start)
        })
    }
}

macro_rules! parsed_key {
    ($($method:ident: $ty:ty => $visit:ident, $what:literal;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, JsonError> {
            visitor.$visit(self.parse::<$ty>($what)?)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for MapKey<'_, 'de> {
    type Error = JsonError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, JsonError> {
        match self.de.parse_str()? {
            Str::Borrowed(s) => visitor.visit_borrowed_str(s),
            Str::Scratch(s) => visitor.visit_str(s),
        }
    }

    parsed_key! {
        deserialize_i8: i64 => visit_i64, "an integer";
        deserialize_i16: i64 => visit_i64, "an integer";
        deserialize_i32: i64 => visit_i64, "an integer";
        deserialize_i64: i64 => visit_i64, "an integer";
        deserialize_i128: i128 => visit_i128, "an integer";
        deserialize_u8: u64 => visit_u64, "an unsigned integer";
        deserialize_u16: u64 => visit_u64, "an unsigned integer";
        deserialize_u32: u64 => visit_u64, "an unsigned integer";
        deserialize_u64: u64 => visit_u64, "an unsigned integer";
        deserialize_u128: u128 => visit_u128, "an unsigned integer";
        deserialize_f32: f64 => visit_f64, "a number";
        deserialize_f64: f64 => visit_f64, "a number";
        deserialize_bool: bool => visit_bool, "true or false";
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, JsonError> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, JsonError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, JsonError> {
        match self.de.parse_str()? {
            Str::Borrowed(s) => visitor.visit_enum(BorrowedStrDeserializer::new(s)),
            Str::Scratch(s) => visitor.visit_enum(StrDeserializer::new(s)),
        }
    }

    serde::forward_to_deserialize_any! {
        char str string bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}
