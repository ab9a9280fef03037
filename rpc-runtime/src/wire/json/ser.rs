//! The serde `Serializer` that writes Python `json.dumps` bytes into a `Vec<u8>`.

use serde::ser::{self, Serialize};

use super::error::JsonError;
use super::escape::{write_str, write_str_escaped};
use super::key::KeySerializer;
use super::number::{write_f64, write_i64, write_i128, write_u64, write_u128};
use super::raw;

/// Writes one value; containers hand out [`Compound`]s that share the same buffer.
pub(super) struct Serializer<'a> {
    out: &'a mut Vec<u8>,
    /// Writes the text escaped once more, as the contents of an enclosing JSON string (an
    /// envelope's message): only string literals and raw text change, since the rest of
    /// the encoding (brackets, separators, numbers, literals) has nothing to escape.
    escaped: bool,
}

impl<'a> Serializer<'a> {
    pub(super) fn new(out: &'a mut Vec<u8>) -> Self {
        Serializer {
            out,
            escaped: false,
        }
    }

    /// A serializer whose output is escaped for an enclosing JSON string.
    pub(super) fn escaped(out: &'a mut Vec<u8>) -> Self {
        Serializer { out, escaped: true }
    }

    /// Writes a string literal.
    fn string(&mut self, s: &str) {
        write_string(self.out, s, self.escaped);
    }

    /// Writes `{"name": ` for the externally tagged enum variants.
    fn open_variant(&mut self, variant: &str) {
        self.out.push(b'{');
        self.string(variant);
        self.out.extend_from_slice(b": ");
    }
}

/// Writes a string literal, escaped for an enclosing string when `escaped`.
pub(super) fn write_string(out: &mut Vec<u8>, s: &str, escaped: bool) {
    if escaped {
        write_str_escaped(out, s);
    } else {
        write_str(out, s);
    }
}

/// An array or object being written. `first` decides whether a `", "` separator is needed;
/// `variant` is set when the container is the payload of an enum variant and needs an extra
/// closing `}` for the `{"Variant": ...}` wrapper.
pub(super) struct Compound<'s, 'a> {
    ser: &'s mut Serializer<'a>,
    first: bool,
    variant: bool,
}

impl<'s, 'a> Compound<'s, 'a> {
    fn open(ser: &'s mut Serializer<'a>, bracket: u8, variant: bool) -> Self {
        ser.out.push(bracket);
        Compound {
            ser,
            first: true,
            variant,
        }
    }

    fn separate(&mut self) {
        if self.first {
            self.first = false;
        } else {
            self.ser.out.extend_from_slice(b", ");
        }
    }

    fn element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), JsonError> {
        self.separate();
        value.serialize(&mut *self.ser)
    }

    fn field<T: ?Sized + Serialize>(&mut self, key: &str, value: &T) -> Result<(), JsonError> {
        self.separate();
        self.ser.string(key);
        self.ser.out.extend_from_slice(b": ");
        value.serialize(&mut *self.ser)
    }

    fn close(self, bracket: u8) -> Result<(), JsonError> {
        self.ser.out.push(bracket);
        if self.variant {
            self.ser.out.push(b'}');
        }
        Ok(())
    }
}

impl<'s, 'a> ser::Serializer for &'s mut Serializer<'a> {
    type Ok = ();
    type Error = JsonError;
    type SerializeSeq = Compound<'s, 'a>;
    type SerializeTuple = Compound<'s, 'a>;
    type SerializeTupleStruct = Compound<'s, 'a>;
    type SerializeTupleVariant = Compound<'s, 'a>;
    type SerializeMap = Compound<'s, 'a>;
    type SerializeStruct = Compound<'s, 'a>;
    type SerializeStructVariant = Compound<'s, 'a>;

    fn serialize_bool(self, v: bool) -> Result<(), JsonError> {
        self.out
            .extend_from_slice(if v { b"true" as &[u8] } else { b"false" });
        Ok(())
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
        write_i64(self.out, v);
        Ok(())
    }

    fn serialize_i128(self, v: i128) -> Result<(), JsonError> {
        write_i128(self.out, v);
        Ok(())
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
        write_u64(self.out, v);
        Ok(())
    }

    fn serialize_u128(self, v: u128) -> Result<(), JsonError> {
        write_u128(self.out, v);
        Ok(())
    }

    fn serialize_f32(self, v: f32) -> Result<(), JsonError> {
        self.serialize_f64(f64::from(v))
    }

    fn serialize_f64(self, v: f64) -> Result<(), JsonError> {
        write_f64(self.out, v);
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<(), JsonError> {
        self.string(v.encode_utf8(&mut [0; 4]));
        Ok(())
    }

    fn serialize_str(self, v: &str) -> Result<(), JsonError> {
        self.string(v);
        Ok(())
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<(), JsonError> {
        let mut seq = Compound::open(self, b'[', false);
        for &byte in v {
            seq.separate();
            write_u64(seq.ser.out, u64::from(byte));
        }
        seq.close(b']')
    }

    fn serialize_none(self) -> Result<(), JsonError> {
        self.serialize_unit()
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<(), JsonError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), JsonError> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), JsonError> {
        self.serialize_unit()
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
        name: &'static str,
        value: &T,
    ) -> Result<(), JsonError> {
        if name == raw::TOKEN {
            return value.serialize(raw::Capture::new(self.out, self.escaped));
        }
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), JsonError> {
        self.open_variant(variant);
        value.serialize(&mut *self)?;
        self.out.push(b'}');
        Ok(())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'s, 'a>, JsonError> {
        Ok(Compound::open(self, b'[', false))
    }

    fn serialize_tuple(self, len: usize) -> Result<Compound<'s, 'a>, JsonError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Compound<'s, 'a>, JsonError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'s, 'a>, JsonError> {
        self.open_variant(variant);
        Ok(Compound::open(self, b'[', true))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'s, 'a>, JsonError> {
        Ok(Compound::open(self, b'{', false))
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Compound<'s, 'a>, JsonError> {
        Ok(Compound::open(self, b'{', false))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'s, 'a>, JsonError> {
        self.open_variant(variant);
        Ok(Compound::open(self, b'{', true))
    }
}

impl ser::SerializeSeq for Compound<'_, '_> {
    type Ok = ();
    type Error = JsonError;

    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), JsonError> {
        self.element(value)
    }

    fn end(self) -> Result<(), JsonError> {
        self.close(b']')
    }
}

impl ser::SerializeTuple for Compound<'_, '_> {
    type Ok = ();
    type Error = JsonError;

    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), JsonError> {
        self.element(value)
    }

    fn end(self) -> Result<(), JsonError> {
        self.close(b']')
    }
}

impl ser::SerializeTupleStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = JsonError;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), JsonError> {
        self.element(value)
    }

    fn end(self) -> Result<(), JsonError> {
        self.close(b']')
    }
}

impl ser::SerializeTupleVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = JsonError;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), JsonError> {
        self.element(value)
    }

    fn end(self) -> Result<(), JsonError> {
        self.close(b']')
    }
}

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = JsonError;

    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), JsonError> {
        self.separate();
        key.serialize(KeySerializer::new(self.ser.out, self.ser.escaped))
    }

    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), JsonError> {
        self.ser.out.extend_from_slice(b": ");
        value.serialize(&mut *self.ser)
    }

    fn end(self) -> Result<(), JsonError> {
        self.close(b'}')
    }
}

impl ser::SerializeStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = JsonError;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), JsonError> {
        self.field(key, value)
    }

    fn end(self) -> Result<(), JsonError> {
        self.close(b'}')
    }
}

impl ser::SerializeStructVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = JsonError;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), JsonError> {
        self.field(key, value)
    }

    fn end(self) -> Result<(), JsonError> {
        self.close(b'}')
    }
}
