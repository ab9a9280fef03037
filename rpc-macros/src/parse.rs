//! Attribute syntax: `#[rpc_endpoint(namespace = "..", version = "..", crate = "..")]` on
//! the trait, `#[rpc(name = "..", since = "..")]` on a method and `#[rpc(since = "..")]` on
//! an argument. Keys are recognised with `syn::custom_keyword!`; every value is a string
//! literal. Unknown keys, repeated keys and non-string values are recorded in the context
//! and parsing goes on, so one expansion reports them all.

use proc_macro2::TokenStream;
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, Ident, Lit, LitStr, Token};

use crate::ctxt::Ctxt;

mod kw {
    syn::custom_keyword!(namespace);
    syn::custom_keyword!(version);
    syn::custom_keyword!(name);
    syn::custom_keyword!(since);
}

/// The name of our helper attribute on methods and arguments.
pub(crate) const HELPER: &str = "rpc";

/// A key of one of our attributes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    Namespace,
    Version,
    Crate,
    Name,
    Since,
}

impl Key {
    fn as_str(self) -> &'static str {
        match self {
            Key::Namespace => "namespace",
            Key::Version => "version",
            Key::Crate => "crate",
            Key::Name => "name",
            Key::Since => "since",
        }
    }
}

/// Where an attribute stands; each place accepts its own keys.
#[derive(Clone, Copy)]
pub(crate) enum Place {
    Endpoint,
    Method,
    Argument,
}

impl Place {
    fn keys(self) -> &'static [Key] {
        match self {
            Place::Endpoint => &[Key::Namespace, Key::Version, Key::Crate],
            Place::Method => &[Key::Name, Key::Since],
            Place::Argument => &[Key::Since],
        }
    }

    fn attribute(self) -> &'static str {
        match self {
            Place::Endpoint => "#[rpc_endpoint(...)]",
            Place::Method => "#[rpc(...)] on a method",
            Place::Argument => "#[rpc(...)] on an argument",
        }
    }

    fn expected(self) -> String {
        let keys: Vec<String> = self
            .keys()
            .iter()
            .map(|key| format!("`{}`", key.as_str()))
            .collect();
        match keys.as_slice() {
            [one] => one.clone(),
            [init @ .., last] => format!("{} or {last}", init.join(", ")),
            [] => String::new(),
        }
    }
}

/// The values given in one place, each a string literal (kept for its span).
#[derive(Default)]
pub(crate) struct AttrValues {
    entries: Vec<(Key, LitStr)>,
    /// Keys written, including those whose value was refused.
    given: Vec<Key>,
}

impl AttrValues {
    /// Whether `key` was written, with a usable value or not.
    pub(crate) fn was_given(&self, key: Key) -> bool {
        self.given.contains(&key)
    }

    /// The value of `key`, if given.
    pub(crate) fn get(&self, key: Key) -> Option<&LitStr> {
        self.entries.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }
}

/// One `key = value` entry as written, before the place's rules are applied.
struct Entry {
    key: Result<Key, Ident>,
    key_span: proc_macro2::Span,
    value: Expr,
}

fn parse_key(input: ParseStream<'_>) -> syn::Result<(Result<Key, Ident>, proc_macro2::Span)> {
    if input.peek(kw::namespace) {
        let token: kw::namespace = input.parse()?;
        return Ok((Ok(Key::Namespace), token.span));
    }
    if input.peek(kw::version) {
        let token: kw::version = input.parse()?;
        return Ok((Ok(Key::Version), token.span));
    }
    if input.peek(kw::name) {
        let token: kw::name = input.parse()?;
        return Ok((Ok(Key::Name), token.span));
    }
    if input.peek(kw::since) {
        let token: kw::since = input.parse()?;
        return Ok((Ok(Key::Since), token.span));
    }
    if input.peek(Token![crate]) {
        let token: Token![crate] = input.parse()?;
        return Ok((Ok(Key::Crate), token.span));
    }
    // Any other word (keywords included) is an unknown key, reported with its span.
    let ident = input.call(<Ident as syn::ext::IdentExt>::parse_any)?;
    let span = ident.span();
    Ok((Err(ident), span))
}

fn parse_entry(input: ParseStream<'_>) -> syn::Result<Entry> {
    let (key, key_span) = parse_key(input)?;
    if !input.peek(Token![=]) {
        let name = match &key {
            Ok(key) => key.as_str().to_owned(),
            Err(ident) => ident.to_string(),
        };
        return Err(syn::Error::new(
            key_span,
            format!("expected `{name} = \"...\"`: every key takes a string value"),
        ));
    }
    input.parse::<Token![=]>()?;
    let value: Expr = input.parse()?;
    Ok(Entry {
        key,
        key_span,
        value,
    })
}

/// Parses the entries of one attribute and applies the rules of `place`.
pub(crate) fn parse_attr_args(cx: &mut Ctxt, tokens: TokenStream, place: Place) -> AttrValues {
    let parser = Punctuated::<Entry, Token![,]>::parse_terminated_with;
    let entries = match (|input: ParseStream<'_>| parser(input, parse_entry)).parse2(tokens) {
        Ok(entries) => entries,
        Err(error) => {
            cx.syn_error(error);
            return AttrValues::default();
        }
    };
    let mut values = AttrValues::default();
    for entry in entries {
        let key = match entry.key {
            Ok(key) if place.keys().contains(&key) => key,
            Ok(key) => {
                cx.error_at(
                    entry.key_span,
                    format!(
                        "`{}` is not allowed in {}: expected {}",
                        key.as_str(),
                        place.attribute(),
                        place.expected()
                    ),
                );
                continue;
            }
            Err(ident) => {
                cx.error_spanned_by(
                    &ident,
                    format!(
                        "unknown key `{ident}` in {}: expected {}",
                        place.attribute(),
                        place.expected()
                    ),
                );
                continue;
            }
        };
        values.given.push(key);
        let literal = match entry.value {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(literal),
                ..
            }) => literal,
            other => {
                cx.error_spanned_by(
                    &other,
                    format!(
                        "`{}` takes a string literal, e.g. `{} = \"{}\"`",
                        key.as_str(),
                        key.as_str(),
                        example(key)
                    ),
                );
                continue;
            }
        };
        if values.get(key).is_some() {
            cx.error_spanned_by(
                &literal,
                format!("`{}` is given more than once", key.as_str()),
            );
            continue;
        }
        values.entries.push((key, literal));
    }
    values
}

fn example(key: Key) -> &'static str {
    match key {
        Key::Namespace => "compute",
        Key::Version => "1.0",
        Key::Crate => "::oslo_rpc",
        Key::Name => "method_name",
        Key::Since => "1.1",
    }
}

/// Removes our helper attributes from `attrs` and parses them for `place`. Other
/// attributes (docs, `cfg`, lints) stay.
pub(crate) fn take_helper_attrs(
    cx: &mut Ctxt,
    attrs: &mut Vec<Attribute>,
    place: Place,
) -> AttrValues {
    let mut values = AttrValues::default();
    let mut kept = Vec::with_capacity(attrs.len());
    for attr in attrs.drain(..) {
        if !attr.path().is_ident(HELPER) {
            kept.push(attr);
            continue;
        }
        match &attr.meta {
            syn::Meta::List(list) => {
                let parsed = parse_attr_args(cx, list.tokens.clone(), place);
                values.given.extend(parsed.given);
                for (key, literal) in parsed.entries {
                    if values.get(key).is_some() {
                        cx.error_spanned_by(
                            &literal,
                            format!("`{}` is given more than once", key.as_str()),
                        );
                    } else {
                        values.entries.push((key, literal));
                    }
                }
            }
            other => cx.error_spanned_by(
                other,
                format!("expected {} with {}", place.attribute(), place.expected()),
            ),
        }
    }
    *attrs = kept;
    values
}
