//! The impls of a validated object, inside `const _: () = { ... };`: `VersionedObject`
//! (its `INFO`, the field readers and writers, the nested-change and schema probes, the
//! user's `make_compatible` hook), `Serialize` and `Deserialize` (the primitive, through the
//! runtime). Calls that need a bound on a field's type carry that type's span, so an unmet
//! bound is reported at the field.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use super::model::{Object, ObjectField, Presence, type_span, value_type, with_shape};
use crate::schema::{Json, string_format, type_schema};
use crate::version::Version;

pub(super) fn generate(object: &Object<'_>) -> TokenStream {
    let krate = &object.krate;
    let private = quote!(#krate::__private);
    let objects = quote!(#private::runtime::objects);
    let serde = quote!(#private::serde);
    let ident = &object.input.ident;
    let state = &object.state_fields[0].ident;
    let info = info(object, &objects, &private);
    let with_items = object
        .fields
        .iter()
        .enumerate()
        .map(|(index, field)| with_items(index, field, &serde));
    let write_fields = object
        .fields
        .iter()
        .enumerate()
        .map(|(index, field)| write_field(index, field, &objects));
    let read_fields = object
        .fields
        .iter()
        .enumerate()
        .map(|(index, field)| read_field(index, field, &objects));
    let set_arms = object.fields.iter().enumerate().map(|(index, field)| {
        let name = &field.ident;
        let is_set = match field.presence {
            Presence::Always => quote!(true),
            Presence::WhenSome => quote!(::core::option::Option::is_some(&self.#name)),
            Presence::WhenSet => quote!(#objects::Field::is_set(&self.#name)),
        };
        quote!(#index => #is_set,)
    });
    let child_arms = object.fields.iter().enumerate().map(|(index, field)| {
        let name = &field.ident;
        quote!(#index => (&#objects::probe::Probe(&self.#name)).object_changed(),)
    });
    let reset_children = object.fields.iter().map(|field| {
        let name = &field.ident;
        quote!((&mut #objects::probe::ProbeMut(&mut self.#name)).reset_objects();)
    });
    let collect_children = object.fields.iter().map(|field| {
        let ty = field.ty;
        quote!((&#objects::probe::TypeProbe::<#ty>::new()).collect_objects(out);)
    });
    let make_compatible = object.make_compatible.as_ref().map(|path| {
        quote! {
            fn __make_compatible(
                &self,
                data: &mut #objects::ObjectData,
                target: #private::runtime::RpcVersion,
            ) -> ::core::result::Result<(), #objects::ObjectError> {
                #path(self, data, target)
            }
        }
    });
    let schema_text = schema_json(object);
    quote! {
        #[allow(non_camel_case_types, clippy::all)]
        const _: () = {
            #[allow(unused_imports)]
            use #objects::probe::{
                ObjectType as _, ObjectValue as _, ObjectValueMut as _, PlainType as _,
                PlainValue as _, PlainValueMut as _,
            };

            #(#with_items)*

            impl #objects::VersionedObject for #ident {
                const INFO: #objects::ObjectInfo = #info;

                fn state(&self) -> &#objects::ObjectState {
                    &self.#state
                }

                fn state_mut(&mut self) -> &mut #objects::ObjectState {
                    &mut self.#state
                }

                fn __write_fields(
                    &self,
                    data: &mut #objects::ObjectData,
                ) -> ::core::result::Result<(), #objects::ObjectError> {
                    #(#write_fields)*
                    ::core::result::Result::Ok(())
                }

                fn __read_fields(
                    data: &mut #objects::ObjectData,
                    version: #private::runtime::RpcVersion,
                ) -> ::core::result::Result<Self, #objects::ObjectError> {
                    let _ = &version;
                    ::core::result::Result::Ok(#ident {
                        #(#read_fields)*
                        #state: #objects::ObjectState::new(),
                    })
                }

                fn __field_is_set(&self, index: usize) -> bool {
                    match index {
                        #(#set_arms)*
                        _ => false,
                    }
                }

                fn __child_changed(&self, index: usize) -> bool {
                    match index {
                        #(#child_arms)*
                        _ => false,
                    }
                }

                fn __reset_children(&mut self) {
                    #(#reset_children)*
                }

                #make_compatible

                fn __schema_text() -> &'static str {
                    #schema_text
                }

                fn __collect_children(
                    out: &mut ::std::vec::Vec<#private::runtime::schema::ObjectSchema>,
                ) {
                    let _ = &out;
                    #(#collect_children)*
                }
            }

            impl #serde::Serialize for #ident {
                fn serialize<S: #serde::Serializer>(
                    &self,
                    serializer: S,
                ) -> ::core::result::Result<S::Ok, S::Error> {
                    #objects::serialize(self, serializer)
                }
            }

            impl<'de> #serde::Deserialize<'de> for #ident {
                fn deserialize<D: #serde::Deserializer<'de>>(
                    deserializer: D,
                ) -> ::core::result::Result<Self, D::Error> {
                    #objects::deserialize(deserializer)
                }
            }

        };
    }
}

fn version_expr(private: &TokenStream, version: &Version) -> TokenStream {
    let (major, minor) = (version.major(), version.minor());
    match version.revision() {
        None => quote!(#private::runtime::RpcVersion::new(#major, #minor)),
        Some(revision) => {
            quote!(#private::runtime::RpcVersion::with_revision(#major, #minor, #revision))
        }
    }
}

fn info(object: &Object<'_>, objects: &TokenStream, private: &TokenStream) -> TokenStream {
    let (serial_namespace, namespace, name) =
        (&object.serial_namespace, &object.namespace, &object.name);
    let version = version_expr(
        private,
        &object
            .version
            .as_ref()
            .expect("checked: the version is given")
            .version,
    );
    let fields = object.fields.iter().map(|field| {
        let wire_name = &field.wire_name;
        let since = match &field.since {
            Some(since) => {
                let since = version_expr(private, &since.version);
                quote!(::core::option::Option::Some(#since))
            }
            None => quote!(::core::option::Option::None),
        };
        let presence = syn::Ident::new(
            field.presence.runtime_name(),
            proc_macro2::Span::call_site(),
        );
        quote! {
            #objects::FieldInfo {
                name: #wire_name,
                since: #since,
                presence: #objects::Presence::#presence,
            }
        }
    });
    quote! {
        #objects::ObjectInfo {
            serial_namespace: #serial_namespace,
            namespace: #namespace,
            name: #name,
            version: #version,
            fields: &[#(#fields),*],
        }
    }
}

/// The wrapper types of a field with `with = "path"`: `__RpcWithSer<n>` writes a value
/// through `path::serialize`, `__RpcWithDe<n>` reads one through `path::deserialize`.
fn with_items(index: usize, field: &ObjectField<'_>, serde: &TokenStream) -> TokenStream {
    let Some(path) = &field.with else {
        return TokenStream::new();
    };
    let (ser, de) = with_names(index);
    let value = with_shape(field).value;
    let span = type_span(field);
    quote_spanned! {span=>
        struct #ser<'a>(&'a #value);

        impl #serde::Serialize for #ser<'_> {
            fn serialize<S: #serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                #path::serialize(self.0, serializer)
            }
        }

        struct #de(#value);

        impl<'de> #serde::Deserialize<'de> for #de {
            fn deserialize<D: #serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                ::core::result::Result::map(#path::deserialize(deserializer), #de)
            }
        }
    }
}

fn with_names(index: usize) -> (syn::Ident, syn::Ident) {
    (
        quote::format_ident!("__RpcWithSer{}", index),
        quote::format_ident!("__RpcWithDe{}", index),
    )
}

/// Writes one field into the data, when it is set.
fn write_field(index: usize, field: &ObjectField<'_>, objects: &TokenStream) -> TokenStream {
    let name = &field.ident;
    let wire_name = &field.wire_name;
    let span = type_span(field);
    let option = quote!(::core::option::Option);
    // How a present value (an expression of type `&T`) is written.
    let written = |value: TokenStream| -> TokenStream {
        if field.with.is_none() {
            return value;
        }
        let (ser, _) = with_names(index);
        if with_shape(field).nullable {
            quote_spanned!(span=> &#option::map(#option::as_ref(#value), #ser))
        } else {
            quote_spanned!(span=> &#ser(#value))
        }
    };
    let write = |value: TokenStream| {
        let value = written(value);
        quote_spanned! {span=>
            #objects::write_value(data, <Self as #objects::VersionedObject>::INFO.name, #wire_name, #value)?;
        }
    };
    // The value expressions carry the field type's span too: an unmet `Serialize` bound is
    // reported at the field.
    match field.presence {
        Presence::Always => write(quote_spanned!(span=> &self.#name)),
        Presence::WhenSome => {
            let write = write(quote_spanned!(span=> value));
            quote! {
                if let #option::Some(value) = &self.#name {
                    #write
                }
            }
        }
        Presence::WhenSet => {
            let write = write(quote_spanned!(span=> value));
            quote! {
                if let #objects::Field::Set(value) = &self.#name {
                    #write
                }
            }
        }
    }
}

/// Reads one field out of the data, by its presence.
fn read_field(index: usize, field: &ObjectField<'_>, objects: &TokenStream) -> TokenStream {
    let name = &field.ident;
    let wire_name = &field.wire_name;
    let ty = field.ty;
    let span = type_span(field);
    let object_name = quote!(<Self as #objects::VersionedObject>::INFO.name);
    let option = quote!(::core::option::Option);
    if field.with.is_some() {
        let (_, de) = with_names(index);
        let nullable = with_shape(field).nullable;
        let (read_as, unwrap) = if nullable {
            (
                quote!(#option<#de>),
                quote!(|value: #option<#de>| #option::map(value, |value| value.0)),
            )
        } else {
            (quote!(#de), quote!(|value: #de| value.0))
        };
        return match field.presence {
            Presence::Always if nullable => quote_spanned! {span=>
                #name: (#unwrap)(#objects::read_required::<#read_as>(data, #object_name, #wire_name, version)?),
            },
            Presence::Always => quote_spanned! {span=>
                #name: #objects::read_required::<#read_as>(data, #object_name, #wire_name, version)?.0,
            },
            Presence::WhenSome => quote_spanned! {span=>
                #name: #option::map(#objects::read_optional::<#read_as>(data, #object_name, #wire_name)?, #unwrap),
            },
            Presence::WhenSet => quote_spanned! {span=>
                #name: #objects::Field::map(#objects::read_field::<#read_as>(data, #object_name, #wire_name)?, #unwrap),
            },
        };
    }
    match field.presence {
        Presence::Always => quote_spanned! {span=>
            #name: #objects::read_required::<#ty>(data, #object_name, #wire_name, version)?,
        },
        Presence::WhenSome => quote_spanned! {span=>
            #name: #objects::read_optional(data, #object_name, #wire_name)?,
        },
        Presence::WhenSet => quote_spanned! {span=>
            #name: #objects::read_field(data, #object_name, #wire_name)?,
        },
    }
}

/// A field's JSON Schema: its value type's, or for `with = "..::as_datetime"` a date-time
/// string (nullable when the field is).
fn field_schema(field: &ObjectField<'_>) -> Json {
    let Some(path) = &field.with else {
        return type_schema(&value_type(field));
    };
    let shape = with_shape(field);
    let is_datetime = path
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "as_datetime");
    let value = if is_datetime {
        string_format("date-time")
    } else {
        type_schema(&shape.value)
    };
    if shape.nullable || field.presence == Presence::WhenSome {
        Json::object([(
            "anyOf",
            Json::Array(vec![value, Json::object([("type", Json::str("null"))])]),
        )])
    } else {
        value
    }
}

/// The object's schema as JSON text (parsed by the runtime's `ObjectSchema`).
fn schema_json(object: &Object<'_>) -> String {
    let fields = object
        .fields
        .iter()
        .map(|field| {
            let mut entries = vec![("name".to_owned(), Json::str(&field.wire_name))];
            if let Some(since) = &field.since {
                entries.push(("since".to_owned(), Json::str(since.version.to_string())));
            }
            entries.push((
                "required".to_owned(),
                Json::Bool(field.presence == Presence::Always),
            ));
            entries.push(("schema".to_owned(), field_schema(field)));
            Json::Object(entries)
        })
        .collect();
    let version = object
        .version
        .as_ref()
        .map_or_else(String::new, |v| v.version.to_string());
    Json::object([
        ("name", Json::str(&object.name)),
        ("serial_namespace", Json::str(&object.serial_namespace)),
        ("namespace", Json::str(&object.namespace)),
        ("version", Json::str(version)),
        ("fields", Json::Array(fields)),
    ])
    .to_text()
}
