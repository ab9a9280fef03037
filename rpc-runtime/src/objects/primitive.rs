//! An object's primitive: writing it (with the downgrade steps of oslo's
//! `obj_to_primitive`), reading it (`obj_from_primitive`, with the version rules chosen in
//! the module documentation), [`ObjectData`], and the functions the derive's code calls.

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, Visitor};
use serde::ser::{self, SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use super::{Field, ObjectError, ObjectState, VersionManifest, VersionedObject};
use crate::version::RpcVersion;
use crate::wire::RawJson;

/// The data of a primitive (`<serial namespace>.data`): field name -> value, in order. The
/// `make_compatible` hook of a type edits it to convert a field for an older version.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObjectData {
    entries: Vec<(String, RawJson)>,
    /// The object the data belongs to, for error messages (empty when built by hand).
    object: &'static str,
}

impl ObjectData {
    /// No fields.
    pub fn new() -> Self {
        Self::default()
    }

    fn of(object: &'static str) -> Self {
        ObjectData {
            entries: Vec::new(),
            object,
        }
    }

    fn field_error(&self, field: &str, error: impl fmt::Display) -> ObjectError {
        field_error(
            if self.object.is_empty() {
                "(data)"
            } else {
                self.object
            },
            field,
            error,
        )
    }

    /// Whether `name` is in the data.
    pub fn contains(&self, name: &str) -> bool {
        self.entries.iter().any(|(key, _)| key == name)
    }

    /// A field's value as JSON text.
    pub fn get_raw(&self, name: &str) -> Option<&RawJson> {
        self.entries
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }

    /// A field's value decoded as `T`; `Ok(None)` when absent.
    pub fn get<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, ObjectError> {
        self.get_raw(name)
            .map(|raw| {
                raw.deserialize_into()
                    .map_err(|error| ObjectError::InvalidField {
                        object: "(data)",
                        field: name.to_owned(),
                        message: error.to_string(),
                    })
            })
            .transpose()
    }

    /// Sets a field (in place when present, else at the end).
    pub fn insert<T: Serialize + ?Sized>(
        &mut self,
        name: &str,
        value: &T,
    ) -> Result<(), ObjectError> {
        let raw = RawJson::from_serialize(value).map_err(|error| self.field_error(name, error))?;
        self.insert_raw(name, raw);
        Ok(())
    }

    /// Sets a field to JSON text.
    pub fn insert_raw(&mut self, name: &str, value: RawJson) {
        match self.entries.iter_mut().find(|(key, _)| key == name) {
            Some((_, slot)) => *slot = value,
            None => self.entries.push((name.to_owned(), value)),
        }
    }

    /// Removes a field, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<RawJson> {
        let index = self.entries.iter().position(|(key, _)| key == name)?;
        Some(self.entries.remove(index).1)
    }

    /// The field names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(key, _)| key.as_str())
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Serialize for ObjectData {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (key, value) in &self.entries {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for ObjectData {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Entries::deserialize(deserializer).map(|entries| ObjectData {
            entries: entries.0,
            object: "",
        })
    }
}

/// A JSON object as `(key, raw value)` pairs, in order.
struct Entries(Vec<(String, RawJson)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor;

        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = Entries;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(8).min(64));
                while let Some((key, value)) = map.next_entry::<String, RawJson>()? {
                    entries.push((key, value));
                }
                Ok(Entries(entries))
            }
        }

        deserializer.deserialize_map(EntriesVisitor)
    }
}

// ---- the manifest objects are written under ----

thread_local! {
    /// The manifest of the serialization running on this thread: set by `to_primitive` and
    /// by clients with a manifest around their (synchronous) encoding, read by every
    /// object's `Serialize`, so that children deep in a tree are downgraded too.
    static MANIFEST: RefCell<Option<Arc<VersionManifest>>> = const { RefCell::new(None) };
}

/// Runs `encode` with `manifest` as the version manifest of every object it serializes.
pub fn with_manifest<R>(manifest: Option<Arc<VersionManifest>>, encode: impl FnOnce() -> R) -> R {
    let _scope = ManifestScope::enter(manifest);
    encode()
}

/// While it lives, `manifest` is the version manifest of every object serialized on this
/// thread; dropping it restores the previous one. Meant for synchronous encoding (a request
/// builder): never hold it across an `.await`.
#[must_use = "the manifest applies only while the scope lives"]
pub struct ManifestScope {
    previous: Option<Arc<VersionManifest>>,
}

impl ManifestScope {
    /// Makes `manifest` the one in force.
    pub fn enter(manifest: Option<Arc<VersionManifest>>) -> ManifestScope {
        let previous = MANIFEST
            .try_with(|slot| slot.replace(manifest))
            .unwrap_or_default();
        ManifestScope { previous }
    }
}

impl Drop for ManifestScope {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _ = MANIFEST.try_with(|slot| *slot.borrow_mut() = previous);
    }
}

impl fmt::Debug for ManifestScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManifestScope").finish_non_exhaustive()
    }
}

fn current_manifest() -> Option<Arc<VersionManifest>> {
    MANIFEST
        .try_with(|slot| slot.borrow().clone())
        .ok()
        .flatten()
}

// ---- writing ----

/// A primitive ready to be serialized.
struct Written {
    serial_namespace: &'static str,
    name: &'static str,
    namespace: &'static str,
    version: RpcVersion,
    data: ObjectData,
    changes: Vec<&'static str>,
}

impl Serialize for Written {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let key = |suffix: &str| format!("{}.{suffix}", self.serial_namespace);
        let count = if self.changes.is_empty() { 4 } else { 5 };
        let mut map = serializer.serialize_map(Some(count))?;
        // oslo's order: name, namespace, version, data, changes.
        map.serialize_entry(&key("name"), self.name)?;
        map.serialize_entry(&key("namespace"), self.namespace)?;
        map.serialize_entry(&key("version"), &self.version)?;
        map.serialize_entry(&key("data"), &self.data)?;
        if !self.changes.is_empty() {
            map.serialize_entry(&key("changes"), &self.changes)?;
        }
        map.end()
    }
}

/// The version to write `object` in: `target` if given, else the manifest's entry for it,
/// else the object's own; never above the object's own.
fn target_version<O: VersionedObject>(
    object: &O,
    target: Option<RpcVersion>,
    manifest: Option<&VersionManifest>,
) -> Result<RpcVersion, ObjectError> {
    let own = object.obj_version();
    let invalid = |target| ObjectError::InvalidTargetVersion {
        name: O::INFO.name,
        target,
        version: own,
    };
    match target {
        Some(target) if target.major() != own.major() || target > own => Err(invalid(target)),
        Some(target) => Ok(target),
        None => match manifest.and_then(|manifest| manifest.get(O::INFO.name)) {
            Some(wanted) if wanted.major() != own.major() => Err(invalid(wanted)),
            Some(wanted) => Ok(wanted.min(own)),
            None => Ok(own),
        },
    }
}

fn write<O: VersionedObject>(
    object: &O,
    target: Option<RpcVersion>,
    manifest: Option<&VersionManifest>,
) -> Result<Written, ObjectError> {
    let own = object.obj_version();
    let target = target_version(object, target, manifest)?;
    let mut data = ObjectData::of(O::INFO.name);
    object.__write_fields(&mut data)?;
    // oslo runs the compatibility step when the version differs or there is a manifest.
    if target != own || manifest.is_some() {
        for field in O::INFO.fields {
            if field.since.is_some_and(|since| since > target) {
                data.remove(field.name);
            }
        }
        object.__make_compatible(&mut data, target)?;
    }
    let mut changes = object.changes();
    changes.retain(|name| data.contains(name));
    Ok(Written {
        serial_namespace: O::INFO.serial_namespace,
        name: O::INFO.name,
        namespace: O::INFO.namespace,
        version: target,
        data,
        changes,
    })
}

pub(super) fn to_primitive<O: VersionedObject>(
    object: &O,
    target: Option<RpcVersion>,
    manifest: Option<&VersionManifest>,
) -> Result<RawJson, ObjectError> {
    with_manifest(manifest.cloned().map(Arc::new), || {
        let written = write(object, target, manifest)?;
        RawJson::from_serialize(&written).map_err(|error| ObjectError::Malformed {
            object: O::INFO.name,
            message: error.to_string(),
        })
    })
}

/// `Serialize` of a derived object: its primitive, downgraded by the manifest in force.
pub fn serialize<O: VersionedObject, S: Serializer>(
    object: &O,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let manifest = current_manifest();
    let written = write(object, None, manifest.as_deref()).map_err(ser::Error::custom)?;
    written.serialize(serializer)
}

/// Writes one field's value into the data.
pub fn write_value<T: Serialize + ?Sized>(
    data: &mut ObjectData,
    object: &'static str,
    field: &'static str,
    value: &T,
) -> Result<(), ObjectError> {
    let raw = RawJson::from_serialize(value).map_err(|error| ObjectError::InvalidField {
        object,
        field: field.to_owned(),
        message: error.to_string(),
    })?;
    data.entries.push((field.to_owned(), raw));
    Ok(())
}

// ---- reading ----

/// `Deserialize` of a derived object.
pub fn deserialize<'de, O: VersionedObject, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<O, D::Error> {
    let entries = Entries::deserialize(deserializer).map_err(|error| {
        de::Error::custom(ObjectError::SerialNamespace {
            serial_namespace: O::INFO.serial_namespace,
            name: O::INFO.name,
            found: format!("something else ({error})"),
        })
    })?;
    read(entries.0).map_err(de::Error::custom)
}

pub(super) fn from_primitive<O: VersionedObject>(raw: &RawJson) -> Result<O, ObjectError> {
    let entries: Entries =
        raw.deserialize_into()
            .map_err(|error| ObjectError::SerialNamespace {
                serial_namespace: O::INFO.serial_namespace,
                name: O::INFO.name,
                found: format!("something else ({error})"),
            })?;
    read(entries.0)
}

/// The primitive's keys of our serial namespace.
struct Keys {
    name: Option<RawJson>,
    namespace: Option<RawJson>,
    version: Option<RawJson>,
    data: Option<RawJson>,
    changes: Option<RawJson>,
}

fn read<O: VersionedObject>(entries: Vec<(String, RawJson)>) -> Result<O, ObjectError> {
    let info = &O::INFO;
    let malformed = |message: String| ObjectError::Malformed {
        object: info.name,
        message,
    };
    let mut keys = Keys {
        name: None,
        namespace: None,
        version: None,
        data: None,
        changes: None,
    };
    let mut other_namespace = None;
    for (key, value) in entries {
        let Some((prefix, suffix)) = key.rsplit_once('.') else {
            continue;
        };
        if prefix != info.serial_namespace {
            if suffix == "name" {
                other_namespace = Some(prefix.to_owned());
            }
            continue;
        }
        let slot = match suffix {
            "name" => &mut keys.name,
            "namespace" => &mut keys.namespace,
            "version" => &mut keys.version,
            "data" => &mut keys.data,
            "changes" => &mut keys.changes,
            _ => continue,
        };
        *slot = Some(value);
    }
    let Some(name) = keys.name else {
        return Err(ObjectError::SerialNamespace {
            serial_namespace: info.serial_namespace,
            name: info.name,
            found: match other_namespace {
                Some(prefix) => format!("a {prefix} primitive"),
                None => format!("an object without {}.name", info.serial_namespace),
            },
        });
    };
    let text = |raw: Option<RawJson>, key: &str| -> Result<String, ObjectError> {
        let raw = raw.ok_or_else(|| malformed(format!("no {}.{key}", info.serial_namespace)))?;
        raw.deserialize_into::<String>().map_err(|_| {
            malformed(format!(
                "{}.{key} is {raw}, not a string",
                info.serial_namespace
            ))
        })
    };
    let name = text(Some(name), "name")?;
    if name != info.name {
        return Err(ObjectError::WrongObject {
            expected: info.name,
            found: name,
        });
    }
    let namespace = text(keys.namespace, "namespace")?;
    if namespace != info.namespace {
        return Err(ObjectError::ProjectNamespace {
            name: info.name,
            expected_namespace: info.namespace,
            found_namespace: namespace,
        });
    }
    let version_text = text(keys.version, "version")?;
    let version = RpcVersion::parse(&version_text)
        .map_err(|error| malformed(format!("{}.version: {error}", info.serial_namespace)))?;
    if version.major() != info.version.major() {
        return Err(ObjectError::IncompatibleVersion {
            name: info.name,
            version: version_text,
            supported: info.version,
        });
    }
    let data_raw = keys
        .data
        .ok_or_else(|| malformed(format!("no {}.data", info.serial_namespace)))?;
    let mut data: ObjectData = data_raw
        .deserialize_into()
        .map_err(|_| malformed(format!("{}.data is not an object", info.serial_namespace)))?;
    let changes: Vec<String> = match keys.changes {
        None => Vec::new(),
        Some(raw) => raw.deserialize_into().map_err(|_| {
            malformed(format!(
                "{}.changes is {raw}, not a list of strings",
                info.serial_namespace
            ))
        })?,
    };

    let mut object = O::__read_fields(&mut data, version)?;
    if !data.is_empty() {
        let dropped: Vec<&str> = data.names().collect();
        tracing::debug!(
            object = info.name,
            received = %version,
            known = %info.version,
            ?dropped,
            "dropping fields this version of the object does not have"
        );
    }
    let changes = info
        .fields
        .iter()
        .map(|field| field.name)
        .filter(|name| changes.iter().any(|changed| changed == name))
        .collect();
    *object.state_mut() = ObjectState::received(version.min(info.version), changes);
    Ok(object)
}

fn field_error(object: &'static str, field: &str, error: impl fmt::Display) -> ObjectError {
    ObjectError::InvalidField {
        object,
        field: field.to_owned(),
        message: error.to_string(),
    }
}

/// Reads a field that must be present (`T`, or `Option<T>` without `since`).
pub fn read_required<T: DeserializeOwned>(
    data: &mut ObjectData,
    object: &'static str,
    field: &'static str,
    version: RpcVersion,
) -> Result<T, ObjectError> {
    match data.remove(field) {
        Some(raw) => raw
            .deserialize_into()
            .map_err(|error| field_error(object, field, error)),
        None => Err(ObjectError::MissingField {
            object,
            version,
            field,
        }),
    }
}

/// Reads an `Option<T>` field with `since`: absent (or `null`) is `None`.
pub fn read_optional<T: DeserializeOwned>(
    data: &mut ObjectData,
    object: &'static str,
    field: &'static str,
) -> Result<Option<T>, ObjectError> {
    match data.remove(field) {
        Some(raw) => raw
            .deserialize_into()
            .map_err(|error| field_error(object, field, error)),
        None => Ok(None),
    }
}

/// Reads a `Field<T>`: absent is `Unset`.
pub fn read_field<T: DeserializeOwned>(
    data: &mut ObjectData,
    object: &'static str,
    field: &'static str,
) -> Result<Field<T>, ObjectError> {
    match data.remove(field) {
        Some(raw) => raw
            .deserialize_into()
            .map(Field::Set)
            .map_err(|error| field_error(object, field, error)),
        None => Ok(Field::Unset),
    }
}
