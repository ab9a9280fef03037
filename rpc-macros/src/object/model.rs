//! A versioned object as the derive understands it: the type's attribute
//! (`serial_namespace`, `namespace`, `name`, `version`, `make_compatible`, `crate`), the
//! state field, and each field's wire name, `since` and presence (from how its type is
//! spelled: `Field<T>`, `Option<T>`, or anything else). Attribute syntax errors are
//! recorded here; the semantic rules live in `check`.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Attribute, Ident, LitStr, Type};

use crate::ctxt::Ctxt;
use crate::model::{Versioned, generic_args};
use crate::version::Version;

/// The name of the helper attribute.
pub(super) const ATTR: &str = "versioned_object";

/// A struct deriving `VersionedObject`.
pub(super) struct Object<'a> {
    pub(super) input: &'a syn::DeriveInput,
    /// `serial_namespace = ".."` (oslo's default `versioned_object`).
    pub(super) serial_namespace: String,
    /// `namespace = ".."` (oslo's default `versionedobjects`).
    pub(super) namespace: String,
    /// `name = ".."`, else the struct's name (oslo's `obj_name()` is the class name).
    pub(super) name: String,
    /// `version = ".."`.
    pub(super) version: Option<Versioned>,
    /// `make_compatible = "path"`: the user's downgrade step.
    pub(super) make_compatible: Option<syn::Path>,
    /// The facade's path (`crate = ".."`, default `::oslo_rpc`).
    pub(super) krate: TokenStream,
    /// Whether the input is a struct with named fields.
    pub(super) named_struct: bool,
    /// The `ObjectState` fields (exactly one is right).
    pub(super) state_fields: Vec<&'a syn::Field>,
    /// The object's fields (every named field but the state).
    pub(super) fields: Vec<ObjectField<'a>>,
    /// Names given to keys in the type attribute, with their values, for checks.
    pub(super) literals: Vec<(&'static str, LitStr)>,
}

/// One field of the object.
pub(super) struct ObjectField<'a> {
    pub(super) ident: Ident,
    /// The name in the primitive's data.
    pub(super) wire_name: String,
    pub(super) ty: &'a Type,
    /// `since = ".."`, when given and well formed.
    pub(super) since: Option<Versioned>,
    /// True when `since` was written, well formed or not.
    pub(super) since_given: bool,
    pub(super) presence: Presence,
    /// `with = "path"`: a module whose `serialize`/`deserialize` write and read the value
    /// (serde's `with`), applied inside the presence wrapper and the nullable `Option`.
    pub(super) with: Option<syn::Path>,
}

/// How a field with `with` holds its value: the presence wrapper, then maybe a nullable
/// `Option`, then the value type the module handles.
pub(super) struct WithShape {
    /// `Option<T>` inside the presence (`Option<T>` without `since`, `Field<Option<T>>`).
    pub(super) nullable: bool,
    /// The type the module reads and writes.
    pub(super) value: Type,
}

/// How a field's type says when it is in the data.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Presence {
    /// Any type but the two below: always (an `Option<T>` without `since` is nullable).
    Always,
    /// `Option<T>` with `since`: when `Some`.
    WhenSome,
    /// `Field<T>`: when `Set`.
    WhenSet,
}

impl Presence {
    pub(super) fn runtime_name(self) -> &'static str {
        match self {
            Presence::Always => "Always",
            Presence::WhenSome => "WhenSome",
            Presence::WhenSet => "WhenSet",
        }
    }
}

impl<'a> Object<'a> {
    pub(super) fn from_ast(cx: &mut Ctxt, input: &'a syn::DeriveInput) -> Self {
        let mut object = Object {
            input,
            serial_namespace: "versioned_object".to_owned(),
            namespace: "versionedobjects".to_owned(),
            name: input.ident.unraw().to_string(),
            version: None,
            make_compatible: None,
            krate: quote!(::oslo_rpc),
            named_struct: false,
            state_fields: Vec::new(),
            fields: Vec::new(),
            literals: Vec::new(),
        };
        let mut version_given = false;
        for (key, literal) in attr_entries(cx, &input.attrs, &TYPE_KEYS, "on the type") {
            match key {
                "serial_namespace" => object.serial_namespace = literal.value(),
                "namespace" => object.namespace = literal.value(),
                "name" => object.name = literal.value(),
                "version" => {
                    version_given = true;
                    object.version = versioned(cx, &literal);
                }
                "make_compatible" => match literal.parse::<syn::Path>() {
                    Ok(path) => object.make_compatible = Some(path),
                    Err(_) => cx.error_spanned_by(
                        &literal,
                        "`make_compatible` names a function by its path, e.g. \
                         \"Self::make_compatible\"",
                    ),
                },
                "crate" => match literal.parse::<syn::Path>() {
                    Ok(path) => object.krate = path.into_token_stream(),
                    Err(_) => cx.error_spanned_by(
                        &literal,
                        "`crate` must name the oslo-rpc crate as a path, e.g. \"::oslo_rpc\"",
                    ),
                },
                _ => {}
            }
            object.literals.push((key, literal));
        }
        if !version_given {
            cx.error_spanned_by(
                &input.ident,
                format!(
                    "#[derive(VersionedObject)] needs the object's version: \
                     #[versioned_object(version = \"1.0\")] on `{}`",
                    input.ident
                ),
            );
        }
        if let syn::Data::Struct(syn::DataStruct {
            fields: syn::Fields::Named(named),
            ..
        }) = &input.data
        {
            object.named_struct = true;
            for field in &named.named {
                object.add_field(cx, field);
            }
        }
        object
    }

    fn add_field(&mut self, cx: &mut Ctxt, field: &'a syn::Field) {
        let entries = attr_entries(cx, &field.attrs, &FIELD_KEYS, "on a field");
        if is_named(&field.ty, "ObjectState") {
            if let Some((_, literal)) = entries.first() {
                cx.error_spanned_by(
                    literal,
                    "the `ObjectState` field is the object's state, not one of its fields: \
                     it takes no #[versioned_object] attribute",
                );
            }
            self.state_fields.push(field);
            return;
        }
        let ident = field
            .ident
            .clone()
            .expect("fields of a named struct have names");
        let mut since = None;
        let mut since_given = false;
        let mut with = None;
        for (key, literal) in entries {
            match key {
                "since" => {
                    since_given = true;
                    since = versioned(cx, &literal);
                }
                "with" => match literal.parse::<syn::Path>() {
                    Ok(path) => with = Some(path),
                    Err(_) => cx.error_spanned_by(
                        &literal,
                        "`with` names a module by its path, e.g.                          \"oslo_rpc::objects::as_datetime\"",
                    ),
                },
                _ => {}
            }
        }
        let presence = if single_generic(&field.ty, "Field") {
            Presence::WhenSet
        } else if since_given && single_generic(&field.ty, "Option") {
            Presence::WhenSome
        } else {
            Presence::Always
        };
        self.fields.push(ObjectField {
            wire_name: ident.unraw().to_string(),
            ident,
            ty: &field.ty,
            since,
            since_given,
            presence,
            with,
        });
    }

    /// The span of the type attribute's `key = ".."` value, else the struct's name.
    pub(super) fn span_of(&self, key: &str) -> Span {
        self.literals
            .iter()
            .find(|(k, _)| *k == key)
            .map_or_else(|| self.input.ident.span(), |(_, literal)| literal.span())
    }
}

const TYPE_KEYS: [&str; 6] = [
    "serial_namespace",
    "namespace",
    "name",
    "version",
    "make_compatible",
    "crate",
];
const FIELD_KEYS: [&str; 2] = ["since", "with"];

/// The `key = "value"` entries of our attributes in `attrs`; unknown keys, repeated keys
/// and non-string values are recorded in the context.
fn attr_entries(
    cx: &mut Ctxt,
    attrs: &[Attribute],
    keys: &[&'static str],
    place: &str,
) -> Vec<(&'static str, LitStr)> {
    let mut entries: Vec<(&'static str, LitStr)> = Vec::new();
    let expected = keys
        .iter()
        .map(|key| format!("`{key}`"))
        .collect::<Vec<_>>()
        .join(", ");
    for attr in attrs.iter().filter(|attr| attr.path().is_ident(ATTR)) {
        let result = attr.parse_nested_meta(|meta| {
            let name = meta.path.to_token_stream().to_string();
            let Some(key) = keys.iter().copied().find(|key| *key == name) else {
                cx.error_spanned_by(
                    &meta.path,
                    format!(
                        "unknown key `{name}` in #[versioned_object(...)] {place}: expected {expected}"
                    ),
                );
                // Skip the value, if any, and go on with the next key.
                if meta.input.peek(syn::Token![=]) {
                    let _: syn::Expr = meta.value()?.parse()?;
                }
                return Ok(());
            };
            let value: syn::Expr = meta.value()?.parse()?;
            let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(literal),
                ..
            }) = value
            else {
                cx.error_spanned_by(&value, format!("`{key}` takes a string literal"));
                return Ok(());
            };
            if entries.iter().any(|(k, _)| *k == key) {
                cx.error_spanned_by(&literal, format!("`{key}` is given more than once"));
            } else {
                entries.push((key, literal));
            }
            Ok(())
        });
        if let Err(error) = result {
            cx.syn_error(error);
        }
    }
    entries
}

fn versioned(cx: &mut Ctxt, literal: &LitStr) -> Option<Versioned> {
    match Version::parse(&literal.value()) {
        Ok(version) => Some(Versioned {
            version,
            literal: literal.clone(),
        }),
        Err(message) => {
            cx.error_spanned_by(literal, message);
            None
        }
    }
}

/// Whether the type's last path segment is `name` (with or without arguments).
fn is_named(ty: &Type, name: &str) -> bool {
    match ty {
        Type::Path(path) if path.qself.is_none() => {
            path.path.segments.last().is_some_and(|s| s.ident == name)
        }
        Type::Group(group) => is_named(&group.elem, name),
        _ => false,
    }
}

fn single_generic(ty: &Type, name: &str) -> bool {
    generic_args(ty, name).is_some_and(|args| args.len() == 1)
}

/// The `T` of `Field<T>` (what the schema describes), else the type itself.
pub(super) fn value_type(field: &ObjectField<'_>) -> Type {
    if field.presence == Presence::WhenSet
        && let Some(args) = generic_args(field.ty, "Field")
        && let [inner] = args.as_slice()
    {
        return (*inner).clone();
    }
    field.ty.clone()
}

/// The shape of a field's type around the value a `with` module handles.
pub(super) fn with_shape(field: &ObjectField<'_>) -> WithShape {
    let inside = match field.presence {
        Presence::Always => field.ty.clone(),
        Presence::WhenSome => single_arg(field.ty, "Option"),
        Presence::WhenSet => single_arg(field.ty, "Field"),
    };
    if field.presence != Presence::WhenSome && single_generic(&inside, "Option") {
        WithShape {
            nullable: true,
            value: single_arg(&inside, "Option"),
        }
    } else {
        WithShape {
            nullable: false,
            value: inside,
        }
    }
}

fn single_arg(ty: &Type, name: &str) -> Type {
    match generic_args(ty, name).as_deref() {
        Some([inner]) => (*inner).clone(),
        _ => ty.clone(),
    }
}

/// The span of a field's type, for errors and bound checks.
pub(super) fn type_span(field: &ObjectField<'_>) -> Span {
    field.ty.span()
}
