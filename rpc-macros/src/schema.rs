//! JSON Schema of Rust types, derived from how the type is *written* (a proc macro sees
//! tokens, not types), and a minimal JSON value to write the endpoint schema with.
//!
//! Known spellings map to JSON Schema: `bool`; integers with their range; `f32`/`f64`;
//! `String`/`str`/`char`; `Option<T>` (T or null); sequences and sets; maps; tuples;
//! arrays; `()`; `Value`/`RawJson` (anything); `Box`/`Arc`/`Rc`/`Cow` are transparent;
//! `DateTime`, `Uuid`, `IpAddr`/`Ipv4Addr`/`Ipv6Addr` and `IpNetwork` are formatted strings.
//! Anything else becomes `{"x-rust-type": "<the type as written>"}`: a user struct's
//! fields are not visible to the macro. A type alias or a user type named like one of the
//! known ones is read by its name.

use std::fmt::Write;

use quote::ToTokens;
use syn::{GenericArgument, PathArguments, Type};

/// A JSON value whose objects keep their keys in the order written.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    /// A number, as its JSON text.
    Number(String),
    Str(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    /// An object from `(key, value)` pairs.
    pub(crate) fn object<const N: usize>(entries: [(&str, Json); N]) -> Json {
        Json::Object(
            entries
                .into_iter()
                .map(|(key, value)| (key.to_owned(), value))
                .collect(),
        )
    }

    /// A string.
    pub(crate) fn str(text: impl Into<String>) -> Json {
        Json::Str(text.into())
    }

    fn number(value: impl std::fmt::Display) -> Json {
        Json::Number(value.to_string())
    }

    /// Compact JSON text.
    pub(crate) fn to_text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(value) => out.push_str(if *value { "true" } else { "false" }),
            Json::Number(text) => out.push_str(text),
            Json::Str(text) => write_str(out, text),
            Json::Array(items) => {
                out.push('[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Object(entries) => {
                out.push('{');
                for (index, (key, value)) in entries.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    write_str(out, key);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

fn write_str(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The JSON Schema of a type, as far as its spelling tells.
pub(crate) fn type_schema(ty: &Type) -> Json {
    match ty {
        Type::Group(group) => type_schema(&group.elem),
        Type::Paren(paren) => type_schema(&paren.elem),
        Type::Reference(reference) => type_schema(&reference.elem),
        Type::Tuple(tuple) if tuple.elems.is_empty() => Json::object([("type", Json::str("null"))]),
        Type::Tuple(tuple) => {
            let items: Vec<Json> = tuple.elems.iter().map(type_schema).collect();
            let count = items.len();
            Json::object([
                ("type", Json::str("array")),
                ("prefixItems", Json::Array(items)),
                ("items", Json::Bool(false)),
                ("minItems", Json::number(count)),
                ("maxItems", Json::number(count)),
            ])
        }
        Type::Slice(slice) => array_of(&slice.elem),
        Type::Array(array) => {
            let mut schema = vec![
                ("type".to_owned(), Json::str("array")),
                ("items".to_owned(), type_schema(&array.elem)),
            ];
            if let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(length),
                ..
            }) = &array.len
            {
                let length = length.base10_digits().to_owned();
                schema.push(("minItems".to_owned(), Json::Number(length.clone())));
                schema.push(("maxItems".to_owned(), Json::Number(length)));
            }
            Json::Object(schema)
        }
        Type::Path(path) if path.qself.is_none() => path_schema(ty, &path.path),
        _ => unknown(ty),
    }
}

fn path_schema(ty: &Type, path: &syn::Path) -> Json {
    let Some(segment) = path.segments.last() else {
        return unknown(ty);
    };
    let args = crate::model::type_arguments(&segment.arguments);
    let name = segment.ident.to_string();
    match (name.as_str(), args.as_slice()) {
        ("bool", []) => Json::object([("type", Json::str("boolean"))]),
        ("String" | "str" | "char", []) => Json::object([("type", Json::str("string"))]),
        ("f32" | "f64", []) => Json::object([("type", Json::str("number"))]),
        ("u8", []) => integer(Some("0"), Some(&u8::MAX.to_string())),
        ("u16", []) => integer(Some("0"), Some(&u16::MAX.to_string())),
        ("u32", []) => integer(Some("0"), Some(&u32::MAX.to_string())),
        ("u64", []) => integer(Some("0"), Some(&u64::MAX.to_string())),
        ("u128" | "usize", []) => integer(Some("0"), None),
        ("i8", []) => integer(Some(&i8::MIN.to_string()), Some(&i8::MAX.to_string())),
        ("i16", []) => integer(Some(&i16::MIN.to_string()), Some(&i16::MAX.to_string())),
        ("i32", []) => integer(Some(&i32::MIN.to_string()), Some(&i32::MAX.to_string())),
        ("i64", []) => integer(Some(&i64::MIN.to_string()), Some(&i64::MAX.to_string())),
        ("i128" | "isize", []) => integer(None, None),
        ("Value" | "RawJson", []) => Json::Object(Vec::new()),
        // The versioned-object field types (oslo-rpc's `objects` module, `uuid`, `std::net`).
        ("DateTime", []) => string_format("date-time"),
        ("Uuid", []) => string_format("uuid"),
        ("Ipv4Addr", []) => string_format("ipv4"),
        ("Ipv6Addr", []) => string_format("ipv6"),
        ("IpAddr", []) => string_format("ip"),
        ("IpNetwork", []) => string_format("ip-network"),
        ("Map", [_, value]) | ("HashMap" | "BTreeMap" | "IndexMap", [_, value]) => Json::object([
            ("type", Json::str("object")),
            ("additionalProperties", type_schema(value)),
        ]),
        ("Map", []) => Json::object([("type", Json::str("object"))]),
        ("Option", [inner]) => Json::object([(
            "anyOf",
            Json::Array(vec![
                type_schema(inner),
                Json::object([("type", Json::str("null"))]),
            ]),
        )]),
        ("Vec" | "VecDeque" | "LinkedList" | "BinaryHeap", [inner]) => array_of(inner),
        ("HashSet" | "BTreeSet" | "IndexSet", [inner]) => {
            let Json::Object(mut schema) = array_of(inner) else {
                return unknown(ty);
            };
            schema.push(("uniqueItems".to_owned(), Json::Bool(true)));
            Json::Object(schema)
        }
        ("Box" | "Arc" | "Rc" | "Cow", [inner]) => type_schema(inner),
        _ => unknown(ty),
    }
}

pub(crate) fn string_format(format: &str) -> Json {
    Json::object([("type", Json::str("string")), ("format", Json::str(format))])
}

fn integer(minimum: Option<&str>, maximum: Option<&str>) -> Json {
    let mut schema = vec![("type".to_owned(), Json::str("integer"))];
    if let Some(minimum) = minimum {
        schema.push(("minimum".to_owned(), Json::Number(minimum.to_owned())));
    }
    if let Some(maximum) = maximum {
        schema.push(("maximum".to_owned(), Json::Number(maximum.to_owned())));
    }
    Json::Object(schema)
}

fn array_of(item: &Type) -> Json {
    Json::object([("type", Json::str("array")), ("items", type_schema(item))])
}

fn unknown(ty: &Type) -> Json {
    Json::object([("x-rust-type", Json::str(type_text(ty)))])
}

/// A type as written, without module paths (`a::b::Flavor<c::Size>` is `Flavor<Size>`, so
/// moving a type or importing it differently is no schema change), with the spacing a
/// person would use.
pub(crate) fn type_text(ty: &Type) -> String {
    match ty {
        Type::Path(path) if path.qself.is_none() => match path.path.segments.last() {
            Some(segment) => {
                let mut text = segment.ident.to_string();
                if let PathArguments::AngleBracketed(arguments) = &segment.arguments {
                    let args: Vec<String> = arguments
                        .args
                        .iter()
                        .map(|arg| match arg {
                            GenericArgument::Type(ty) => type_text(ty),
                            other => tokens_text(other.to_token_stream()),
                        })
                        .collect();
                    text.push('<');
                    text.push_str(&args.join(", "));
                    text.push('>');
                }
                text
            }
            None => tokens_text(ty.to_token_stream()),
        },
        Type::Reference(reference) => {
            let mutability = if reference.mutability.is_some() {
                "mut "
            } else {
                ""
            };
            format!("&{mutability}{}", type_text(&reference.elem))
        }
        Type::Slice(slice) => format!("[{}]", type_text(&slice.elem)),
        Type::Tuple(tuple) => {
            let items: Vec<String> = tuple.elems.iter().map(type_text).collect();
            format!("({})", items.join(", "))
        }
        other => tokens_text(other.to_token_stream()),
    }
}

fn tokens_text(tokens: proc_macro2::TokenStream) -> String {
    let mut out = String::new();
    let mut previous_word = false;
    for token in tokens {
        push_token(&mut out, token, &mut previous_word);
    }
    out
}

fn push_token(out: &mut String, token: proc_macro2::TokenTree, previous_word: &mut bool) {
    use proc_macro2::{Delimiter, TokenTree};
    match token {
        TokenTree::Group(group) => {
            let (open, close) = match group.delimiter() {
                Delimiter::Parenthesis => ("(", ")"),
                Delimiter::Bracket => ("[", "]"),
                Delimiter::Brace => ("{", "}"),
                Delimiter::None => ("", ""),
            };
            out.push_str(open);
            let mut inner_word = false;
            for token in group.stream() {
                push_token(out, token, &mut inner_word);
            }
            out.push_str(close);
            *previous_word = false;
        }
        TokenTree::Ident(ident) => {
            if *previous_word {
                out.push(' ');
            }
            out.push_str(&ident.to_string());
            *previous_word = true;
        }
        TokenTree::Punct(punct) => {
            match punct.as_char() {
                ',' | ';' => out.push_str(&format!("{} ", punct.as_char())),
                '+' => out.push_str(" + "),
                c => out.push(c),
            }
            *previous_word = false;
        }
        TokenTree::Literal(literal) => {
            if *previous_word {
                out.push(' ');
            }
            out.push_str(&literal.to_string());
            *previous_word = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use syn::parse_quote;

    use super::*;

    #[test]
    fn json_text_is_compact_and_escaped() {
        let json = Json::object([
            (
                "a",
                Json::str("quote \" backslash \\ newline \n bell \u{7}"),
            ),
            (
                "b",
                Json::Array(vec![Json::Null, Json::Bool(true), Json::number(3)]),
            ),
        ]);
        assert_eq!(
            json.to_text(),
            r#"{"a":"quote \" backslash \\ newline \n bell \u0007","b":[null,true,3]}"#
        );
    }

    #[test]
    fn type_names_drop_module_paths() {
        let cases: [(Type, &str); 6] = [
            (parse_quote!(crate::models::Flavor), "Flavor"),
            (parse_quote!(Vec<my::Thing>), "Vec<Thing>"),
            (
                parse_quote!(HashMap<String, a::B<c::D>>),
                "HashMap<String, B<D>>",
            ),
            (parse_quote!(&'static [u8]), "&[u8]"),
            (parse_quote!((i64, x::Y)), "(i64, Y)"),
            (parse_quote!(<T as Tr>::Out), "<T as Tr>::Out"),
        ];
        for (ty, text) in cases {
            assert_eq!(type_text(&ty), text);
        }
    }

    #[test]
    fn schemas_follow_known_spellings() {
        let schema = |ty: Type| type_schema(&ty).to_text();
        assert_eq!(schema(parse_quote!(())), r#"{"type":"null"}"#);
        assert_eq!(
            schema(parse_quote!(std::string::String)),
            r#"{"type":"string"}"#
        );
        assert_eq!(
            schema(parse_quote!(Option<bool>)),
            r#"{"anyOf":[{"type":"boolean"},{"type":"null"}]}"#
        );
        assert_eq!(
            schema(parse_quote!(Arc<[i8; 2]>)),
            r#"{"type":"array","items":{"type":"integer","minimum":-128,"maximum":127},"minItems":2,"maxItems":2}"#
        );
        assert_eq!(schema(parse_quote!(serde_json::Value)), "{}");
        assert_eq!(
            schema(parse_quote!(fn(u8) -> u8)),
            r#"{"x-rust-type":"fn(u8)->u8"}"#
        );
        assert_eq!(
            schema(parse_quote!(Result<u8, E>)),
            r#"{"x-rust-type":"Result<u8, E>"}"#
        );
    }
}
