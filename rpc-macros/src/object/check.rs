//! The rules a versioned object follows, one function each; every error is recorded with
//! the span of the user's offending token, and all rules run, so every mistake is reported
//! at once. Bounds on field types (`Serialize`, `DeserializeOwned`) are left to the
//! compiler, at the field's type.

use quote::ToTokens;

use super::model::{Object, Presence};
use crate::ctxt::Ctxt;

/// Runs every rule.
pub(super) fn check(cx: &mut Ctxt, object: &Object<'_>) {
    check_named_struct(cx, object);
    check_not_generic(cx, object);
    check_one_state_field(cx, object);
    check_names_not_empty(cx, object);
    check_since_within_version(cx, object);
    check_since_only_on_optional(cx, object);
}

/// Only a struct with named fields is an object: the field names are the primitive's data
/// keys.
fn check_named_struct(cx: &mut Ctxt, object: &Object<'_>) {
    if object.named_struct {
        return;
    }
    let what = match &object.input.data {
        syn::Data::Enum(_) => "an enum",
        syn::Data::Union(_) => "a union",
        syn::Data::Struct(_) => "a struct without named fields",
    };
    cx.error_spanned_by(
        &object.input.ident,
        format!(
            "#[derive(VersionedObject)] goes on a struct with named fields (the names are the \
             object's fields), not on {what}; an enum field is a string: derive serde's \
             Serialize and Deserialize on it instead"
        ),
    );
}

/// Objects are not generic: the wire name stands for one class, and generated code asks
/// questions about the concrete field types.
fn check_not_generic(cx: &mut Ctxt, object: &Object<'_>) {
    let generics = &object.input.generics;
    if !generics.params.is_empty() || generics.where_clause.is_some() {
        cx.error_spanned_by(
            generics,
            "versioned objects cannot be generic: the object's name stands for one set of \
             fields",
        );
    }
}

/// Exactly one field holds the `ObjectState` (changes and received version).
fn check_one_state_field(cx: &mut Ctxt, object: &Object<'_>) {
    if !object.named_struct {
        return;
    }
    match object.state_fields.as_slice() {
        [] => cx.error_spanned_by(
            &object.input.ident,
            format!(
                "`{}` needs a field holding its changes and received version: add \
                 `state: ObjectState` (build new objects with `ObjectState::new()`)",
                object.input.ident
            ),
        ),
        [_] => {}
        [_, extra @ ..] => {
            for field in extra {
                cx.error_spanned_by(
                    &field.ty,
                    "an object has one `ObjectState` field; remove this one",
                );
            }
        }
    }
}

/// The serial namespace, namespace and name are not empty: they make the primitive's keys
/// and identify the class on the other side.
fn check_names_not_empty(cx: &mut Ctxt, object: &Object<'_>) {
    for (key, value) in [
        ("serial_namespace", &object.serial_namespace),
        ("namespace", &object.namespace),
        ("name", &object.name),
    ] {
        if value.is_empty() {
            cx.error_at(object.span_of(key), format!("`{key}` cannot be empty"));
        }
    }
}

/// A field's `since` is a version of the object: the same major, not above the object's
/// version (a field from the future could never be sent).
fn check_since_within_version(cx: &mut Ctxt, object: &Object<'_>) {
    let Some(version) = &object.version else {
        return;
    };
    for field in &object.fields {
        let Some(since) = &field.since else {
            continue;
        };
        if !version.version.can_serve(&since.version) {
            cx.error_spanned_by(
                &since.literal,
                format!(
                    "field `{}` is `since = \"{}\"`, which is not a version of {} {}: raise \
                     the object's version or lower `since`",
                    field.wire_name, since.version, object.name, version.version
                ),
            );
        }
    }
}

/// A field with `since` is absent from older peers' objects, so its type must say how it
/// can be absent: `Option<T>` (None) or `Field<T>` (Unset).
fn check_since_only_on_optional(cx: &mut Ctxt, object: &Object<'_>) {
    for field in &object.fields {
        if field.since_given && field.presence == Presence::Always {
            let ty = field.ty.to_token_stream().to_string().replace(' ', "");
            cx.error_spanned_by(
                field.ty,
                format!(
                    "field `{}` has `since`, so objects from older peers lack it: declare it \
                     `Option<{ty}>` or `Field<{ty}>`",
                    field.wire_name
                ),
            );
        }
    }
}
