//! [`ObjectError`]: what can go wrong when a versioned object is read from or written to
//! its oslo primitive. The messages name the object, the field and the versions, as oslo's
//! own exceptions (`oslo_versionedobjects.exception`) do.

use crate::version::RpcVersion;

/// A versioned object could not be read from or written to its primitive.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ObjectError {
    /// The primitive is not an object of the expected serial namespace: its keys are
    /// another namespace's (`nova_object.name` where `versioned_object.name` was expected),
    /// or it is no object primitive at all.
    #[error("expected a {serial_namespace} primitive of {name}, got {found}")]
    SerialNamespace {
        /// The serial namespace the type is declared with.
        serial_namespace: &'static str,
        /// The object expected.
        name: &'static str,
        /// What was found instead.
        found: String,
    },
    /// The primitive holds another object than the one expected (oslo would hydrate
    /// whatever class the name says; a typed field or argument cannot).
    #[error("expected a {expected} object, got a {found} object")]
    WrongObject {
        /// The object the Rust type is.
        expected: &'static str,
        /// The `<serial namespace>.name` received.
        found: String,
    },
    /// The project namespace differs (oslo's `UnsupportedObjectError`).
    #[error(
        "unsupported object type {found_namespace}.{name}: expected namespace {expected_namespace}"
    )]
    ProjectNamespace {
        /// The object.
        name: &'static str,
        /// The namespace the type is declared with.
        expected_namespace: &'static str,
        /// The `<serial namespace>.namespace` received.
        found_namespace: String,
    },
    /// The object comes in a major version this type cannot read (oslo's
    /// `IncompatibleObjectVersion`).
    #[error("version {version} of {name} is not supported, supported version is {supported}")]
    IncompatibleVersion {
        /// The object.
        name: &'static str,
        /// The version received.
        version: String,
        /// The version of the Rust type.
        supported: RpcVersion,
    },
    /// A downgrade was asked for a version above the object's own (oslo's
    /// `InvalidTargetVersion`), or in another major version.
    #[error("invalid target version {target} for {name} {version}")]
    InvalidTargetVersion {
        /// The object.
        name: &'static str,
        /// The version asked for.
        target: RpcVersion,
        /// The object's version.
        version: RpcVersion,
    },
    /// A field the type requires is not in the primitive's data.
    #[error(
        "{object} {version} has no field {field}: declare it `Field<T>` (or `Option<T>` with \
         `since`) if peers may leave it unset"
    )]
    MissingField {
        /// The object.
        object: &'static str,
        /// The version received.
        version: RpcVersion,
        /// The field.
        field: &'static str,
    },
    /// A field's value could not be read or written.
    #[error("field {object}.{field}: {message}")]
    InvalidField {
        /// The object.
        object: &'static str,
        /// The field.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A field name that the object does not have (`mark_changed("nmae")`).
    #[error("{object} has no field {field}")]
    UnknownField {
        /// The object.
        object: &'static str,
        /// The name given.
        field: String,
    },
    /// The primitive is malformed: a missing key, a value of the wrong JSON type, a bad
    /// version string.
    #[error("malformed {object} primitive: {message}")]
    Malformed {
        /// The object expected.
        object: &'static str,
        /// What is wrong.
        message: String,
    },
}
