//! oslo.versionedobjects: Rust structs that travel as the objects OpenStack services pass
//! through a `VersionedObjectSerializer` (nova's `nova_object`, cinder's
//! `versioned_object`, ...).
//!
//! `#[derive(VersionedObject)]` (in the facade crate) implements [`VersionedObject`],
//! `Serialize` and `Deserialize` for a struct; the serde impls read and write the object's
//! primitive, so an object is an ordinary argument or result type of an `#[rpc_endpoint]`
//! trait, and can sit in a `Vec`, an `Option` or a map, or in a field of another object.
//!
//! ```json
//! {"bar_object.name": "Widget", "bar_object.namespace": "bar", "bar_object.version": "1.2",
//!  "bar_object.data": {"id": 9, "name": "y", "created_at": "2026-12-06T15:00:00Z"},
//!  "bar_object.changes": ["id", "name", "created_at"]}
//! ```
//!
//! What follows oslo.versionedobjects 3.12.0 (measured, see `tests/objects.rs`), and what
//! is chosen where oslo leaves a choice:
//!
//! * **Fields.** A field is written under its Rust name with its serde form. A field of type
//!   `T` is always set; `Option<T>` is a nullable field (`None` is `null`); with
//!   `since`, `Option<T>` is a field older versions lack (`None` leaves it out); [`Field<T>`]
//!   may be unset in any version (`Field<Option<T>>`: unset, null or a value). Formats:
//!   [`DateTime`], [`IpNetwork`], `uuid::Uuid`, `std::net::IpAddr` (and chrono, time or
//!   `SystemTime` date-times with `with = "oslo_rpc::objects::as_datetime"`); enums as strings with
//!   serde's `rename_all`; lists, sets (written as lists, as oslo writes its tuples) and
//!   string-keyed maps as serde writes them.
//! * **Changes** ([`VersionedObject::changes`]): a new object reports every set field; a
//!   received one the `changes` it came with; a field holding an object that has changes
//!   is changed too (oslo's `obj_what_changed`). Only changed fields present in the data
//!   are written.
//! * **Receiving an older version** fills what it has: fields it lacks are `None`/`Unset`.
//!   The object remembers that version and is sent on in it, as oslo does.
//! * **Receiving a newer minor version** keeps the fields this type knows and drops the
//!   others with a debug log, where oslo raises `IncompatibleObjectVersion` and relies on
//!   nova-conductor to backport. A Rust service has no conductor to ask, and minor versions
//!   only add fields (or change them compatibly), so refusing would make every Rust service
//!   fail as soon as one Python peer upgrades; dropping keeps it working and loses only what
//!   it could not use. Sent on, such an object claims this type's version, not the newer
//!   one. A newer *major* version is refused ([`ObjectError::IncompatibleVersion`]).
//! * **Sending to an older peer**: [`VersionedObject::to_primitive`] with a target version
//!   and/or a [`VersionManifest`], and `version_manifest` on a generated client, downgrade
//!   every object in the tree: fields whose `since` is above the target are dropped, then
//!   the type's `make_compatible` hook runs. Objects a manifest does not name, and the
//!   children of an object downgraded by target version alone, keep their version (oslo
//!   needs a manifest or `obj_relationships` for children).
//! * **Where downgrades happen.** Clients downgrade arguments (`version_manifest`); results
//!   go out in the object's version (its received one, if it was received), as a Python
//!   server's do: oslo leaves result backports to the receiver's conductor. A server that
//!   knows its caller is older calls `to_primitive` and returns the primitive.
//! * **Refused objects** (wrong name, namespace, major version, a missing field): a Rust
//!   server answers with the `TypeError` of any ill-typed argument, naming the argument and
//!   the object error; a Rust client's call fails with `RpcError::Codec`.
//! * **A different name or serial namespace** than the type's is an error naming both
//!   ([`ObjectError::WrongObject`], [`ObjectError::SerialNamespace`]); a different project
//!   namespace is oslo's `UnsupportedObjectError` ([`ObjectError::ProjectNamespace`]).

mod datetime;
mod error;
mod manifest;
mod net;
mod primitive;
#[doc(hidden)]
pub mod probe;
mod state;

pub use datetime::{DateTime, DateTimeError, OutOfRange, as_datetime};
pub use error::ObjectError;
pub use manifest::VersionManifest;
pub use net::{IpNetwork, IpNetworkError};
pub use primitive::ObjectData;
pub use primitive::{ManifestScope, with_manifest};
#[doc(hidden)]
pub use primitive::{
    deserialize, read_field, read_optional, read_required, serialize, write_value,
};
pub use state::{Field, ObjectState};

use crate::schema::ObjectSchema;
use crate::version::RpcVersion;
use crate::wire::RawJson;
use state::Changes;

/// What `#[derive(VersionedObject)]` declares about a type.
#[derive(Debug, Clone, Copy)]
pub struct ObjectInfo {
    /// The prefix of the primitive's keys: `nova_object`, `versioned_object`, ...
    pub serial_namespace: &'static str,
    /// The project namespace (`nova`, `cinder`, ...): `<serial namespace>.namespace`.
    pub namespace: &'static str,
    /// The object's name on the wire.
    pub name: &'static str,
    /// The version the type implements.
    pub version: RpcVersion,
    /// The fields, in declaration order.
    pub fields: &'static [FieldInfo],
}

/// One field of an object.
#[derive(Debug, Clone, Copy)]
pub struct FieldInfo {
    /// The name in the primitive's data.
    pub name: &'static str,
    /// The version that added the field, if not the first.
    pub since: Option<RpcVersion>,
    /// When the field is left out of the data.
    pub presence: Presence,
}

/// When a field is in the primitive's data, by how it is declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// `T` or `Option<T>` without `since`: always (`None` is `null`).
    Always,
    /// `Option<T>` with `since`: when `Some`.
    WhenSome,
    /// `Field<T>`: when `Set`.
    WhenSet,
}

/// A struct that travels as an oslo versioned object; implemented by
/// `#[derive(VersionedObject)]`, which also implements `Serialize` and `Deserialize` as the
/// object's primitive. The methods whose names start with `__` belong to the derive.
pub trait VersionedObject: Sized {
    /// The type's declaration.
    const INFO: ObjectInfo;

    /// The object's changes and received version.
    fn state(&self) -> &ObjectState;

    /// The object's changes and received version, mutably.
    fn state_mut(&mut self) -> &mut ObjectState;

    #[doc(hidden)]
    fn __write_fields(&self, data: &mut ObjectData) -> Result<(), ObjectError>;

    #[doc(hidden)]
    fn __read_fields(data: &mut ObjectData, version: RpcVersion) -> Result<Self, ObjectError>;

    #[doc(hidden)]
    fn __field_is_set(&self, index: usize) -> bool;

    #[doc(hidden)]
    fn __child_changed(&self, index: usize) -> bool;

    #[doc(hidden)]
    fn __reset_children(&mut self);

    #[doc(hidden)]
    fn __make_compatible(
        &self,
        _data: &mut ObjectData,
        _target: RpcVersion,
    ) -> Result<(), ObjectError> {
        Ok(())
    }

    #[doc(hidden)]
    fn __schema_text() -> &'static str;

    #[doc(hidden)]
    fn __collect_children(out: &mut Vec<ObjectSchema>);

    /// The version the object goes out in by default: the one it was received at, else
    /// the type's.
    fn obj_version(&self) -> RpcVersion {
        self.state().version.unwrap_or(Self::INFO.version)
    }

    /// The changed fields, in declaration order (oslo's `obj_what_changed()`): fields set
    /// or marked changed, and fields holding an object that has changes.
    fn changes(&self) -> Vec<&'static str> {
        Self::INFO
            .fields
            .iter()
            .enumerate()
            .filter(|(index, field)| {
                let own = match &self.state().changes {
                    Changes::AllSet => self.__field_is_set(*index),
                    Changes::Listed(names) => names.contains(&field.name),
                };
                own || self.__child_changed(*index)
            })
            .map(|(_, field)| field.name)
            .collect()
    }

    /// Whether `field` is among [`changes`](Self::changes).
    fn is_changed(&self, field: &str) -> bool {
        self.changes().contains(&field)
    }

    /// Marks a field changed (what assigning an attribute does in Python); an error when
    /// the object has no such field.
    fn mark_changed(&mut self, field: &str) -> Result<(), ObjectError> {
        let Some(name) = Self::INFO
            .fields
            .iter()
            .map(|f| f.name)
            .find(|name| *name == field)
        else {
            return Err(ObjectError::UnknownField {
                object: Self::INFO.name,
                field: field.to_owned(),
            });
        };
        let mut listed = own_changes(self);
        if !listed.contains(&name) {
            listed.push(name);
        }
        self.state_mut().changes = Changes::Listed(listed);
        Ok(())
    }

    /// Forgets the changes of this object (oslo's `obj_reset_changes()`: not its
    /// children's, so a field holding a changed object still reports as changed).
    fn reset_changes(&mut self) {
        self.state_mut().changes = Changes::Listed(Vec::new());
    }

    /// Forgets the changes of this object and of every object its fields hold, lists of
    /// objects included (oslo's `obj_reset_changes(recursive=True)`).
    fn reset_changes_recursive(&mut self) {
        self.__reset_children();
        self.reset_changes();
    }

    /// Forgets the changes of the named fields only.
    fn reset_changes_of(&mut self, fields: &[&str]) {
        let mut listed = own_changes(self);
        listed.retain(|name| !fields.contains(name));
        self.state_mut().changes = Changes::Listed(listed);
    }

    /// The primitive, downgraded as oslo's `obj_to_primitive(target_version,
    /// version_manifest)` does: to `target_version` if given (at most the object's
    /// version), else to the manifest's version of this object if it names it; children to
    /// the manifest's versions of them.
    fn to_primitive(
        &self,
        target_version: Option<RpcVersion>,
        version_manifest: Option<&VersionManifest>,
    ) -> Result<RawJson, ObjectError> {
        primitive::to_primitive(self, target_version, version_manifest)
    }

    /// Reads an object from its primitive (oslo's `obj_from_primitive`).
    fn from_primitive(primitive: &RawJson) -> Result<Self, ObjectError> {
        primitive::from_primitive(primitive)
    }

    /// The object's schema: name, namespaces, version and each field's name, `since`,
    /// presence and JSON Schema.
    fn schema() -> ObjectSchema {
        ObjectSchema::from_json(Self::__schema_text()).unwrap_or_else(|error| {
            panic!(
                "oslo-rpc bug: the schema generated by #[derive(VersionedObject)] for {} does \
                 not parse: {error}",
                Self::INFO.name
            )
        })
    }

    /// This object's schema and those of the objects its fields hold, each once.
    fn schemas() -> Vec<ObjectSchema> {
        let mut out = Vec::new();
        probe::collect::<Self>(&mut out);
        out
    }
}

/// The fields marked changed on the object itself (a new object's set fields).
fn own_changes<O: VersionedObject>(object: &O) -> Vec<&'static str> {
    match &object.state().changes {
        Changes::Listed(names) => names.clone(),
        Changes::AllSet => O::INFO
            .fields
            .iter()
            .enumerate()
            .filter(|(index, _)| object.__field_is_set(*index))
            .map(|(_, field)| field.name)
            .collect(),
    }
}
