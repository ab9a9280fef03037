//! What an object keeps beside its fields: [`ObjectState`] (the version it was received at
//! and its changed fields, oslo's `VERSION` instance attribute and `_changed_fields`), and
//! [`Field`], a field that may be unset (oslo's `obj_attr_is_set`).

use serde::de::{Deserialize, Deserializer};
use serde::ser::{Serialize, Serializer};

use crate::version::RpcVersion;

/// The changes and version of one object. Every versioned object struct has one field of
/// this type; build new objects with `ObjectState::new()` (or `Default`).
///
/// * A new object reports every field that is set as changed, as a freshly constructed
///   Python object does (`Widget(id=9, name='y').obj_what_changed() == {'id', 'name'}`).
/// * A received object keeps the `changes` it came with, and the version it came in: sent
///   on, it goes out in that version again (oslo sets `VERSION` on the instance it hydrates),
///   so an older peer's object returned to that peer is one it can read.
///
/// The state is not part of an object's value: two states always compare equal, so a
/// derived `PartialEq` compares the fields only.
#[derive(Debug, Clone, Default)]
pub struct ObjectState {
    pub(crate) version: Option<RpcVersion>,
    pub(crate) changes: Changes,
}

/// Which fields changed.
#[derive(Debug, Clone, Default)]
pub(crate) enum Changes {
    /// A new object: every field that is set.
    #[default]
    AllSet,
    /// These fields, by name (each one of the object's fields).
    Listed(Vec<&'static str>),
}

impl ObjectState {
    /// The state of a new object: every set field is changed, the version is the type's.
    pub fn new() -> Self {
        Self::default()
    }

    /// The version the object was received at, if it was received (at most the type's
    /// own version: fields of newer versions are not kept).
    pub fn received_version(&self) -> Option<RpcVersion> {
        self.version
    }

    pub(crate) fn received(version: RpcVersion, changes: Vec<&'static str>) -> Self {
        ObjectState {
            version: Some(version),
            changes: Changes::Listed(changes),
        }
    }
}

impl PartialEq for ObjectState {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl Eq for ObjectState {}

/// A field that may be unset: absent from the primitive's data, as an attribute oslo's
/// `obj_attr_is_set` says is not set (lazy-loaded fields, fields an older peer does not
/// have). `Field<Option<T>>` is a nullable field that may also be unset: `Unset`, `Set(None)`
/// (`null` on the wire) or `Set(Some(value))`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field<T> {
    /// Not set: left out of the primitive.
    #[default]
    Unset,
    /// Set to a value.
    Set(T),
}

impl<T> Field<T> {
    /// Whether the field is set.
    pub fn is_set(&self) -> bool {
        matches!(self, Field::Set(_))
    }

    /// The value, if set.
    pub fn get(&self) -> Option<&T> {
        match self {
            Field::Set(value) => Some(value),
            Field::Unset => None,
        }
    }

    /// The value, mutably, if set.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        match self {
            Field::Set(value) => Some(value),
            Field::Unset => None,
        }
    }

    /// The value converted, if set.
    pub fn map<U>(self, convert: impl FnOnce(T) -> U) -> Field<U> {
        match self {
            Field::Set(value) => Field::Set(convert(value)),
            Field::Unset => Field::Unset,
        }
    }

    /// The value, if set, by value.
    pub fn into_option(self) -> Option<T> {
        match self {
            Field::Set(value) => Some(value),
            Field::Unset => None,
        }
    }
}

impl<T> From<T> for Field<T> {
    fn from(value: T) -> Self {
        Field::Set(value)
    }
}

impl<T> From<Field<T>> for Option<T> {
    fn from(field: Field<T>) -> Self {
        field.into_option()
    }
}

/// Serialized as the value; an unset field is never serialized by a versioned object (it
/// is left out of the data), so `Unset` on its own writes `null`.
impl<T: Serialize> Serialize for Field<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Field::Set(value) => value.serialize(serializer),
            Field::Unset => serializer.serialize_none(),
        }
    }
}

/// A present value is always `Set`: absence is decided by the object reading its data.
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Field::Set)
    }
}
