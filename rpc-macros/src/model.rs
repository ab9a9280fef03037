//! The endpoint as the macro understands it: the trait's attributes read, each method's
//! wire name, `since`, context parameter, keyword arguments and result shape. Building the
//! model records attribute errors (unknown keys, malformed versions, a missing version);
//! the semantic rules live in `check`. The model is best effort: fields a rule will reject
//! are kept in a shape that lets the other rules still run.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::ext::IdentExt;
use syn::{FnArg, GenericArgument, Ident, LitStr, Pat, PathArguments, ReturnType, Type};

use crate::ctxt::Ctxt;
use crate::parse::{AttrValues, Key, Place, parse_attr_args, take_helper_attrs};
use crate::version::Version;

/// A trait annotated with `#[rpc_endpoint]`.
pub(crate) struct Endpoint {
    /// The user's trait without our helper attributes: what is emitted on error.
    pub(crate) item: syn::ItemTrait,
    /// `namespace = ".."`; `None` is oslo's null namespace.
    pub(crate) namespace: Option<LitStr>,
    /// `version = ".."`, when given and well formed.
    pub(crate) version: Option<Versioned>,
    /// The path generated code names the facade by (`crate = ".."`, default `::oslo_rpc`).
    pub(crate) krate: TokenStream,
    /// The methods, in declaration order.
    pub(crate) methods: Vec<Method>,
}

/// A version and the literal it was read from (for spans).
#[derive(Clone)]
pub(crate) struct Versioned {
    pub(crate) version: Version,
    pub(crate) literal: LitStr,
}

/// One RPC method.
pub(crate) struct Method {
    /// The method as declared, without helper attributes.
    pub(crate) func: syn::TraitItemFn,
    /// The wire name: the Rust name unless `name = ".."` renames it.
    pub(crate) wire_name: String,
    /// The `name = ".."` literal, when renamed.
    pub(crate) rename: Option<LitStr>,
    /// `since = ".."`, when given and well formed.
    pub(crate) since: Option<Versioned>,
    /// How the method takes `self`.
    pub(crate) receiver: Receiver,
    /// The `&Context` parameter, when the method declares one (first after `self`).
    pub(crate) context: Option<Ident>,
    /// The keyword arguments, in order.
    pub(crate) args: Vec<Arg>,
    /// The declared result.
    pub(crate) output: Output,
}

/// How a method takes `self`.
pub(crate) enum Receiver {
    /// `&self` (or `self: &Self`).
    Ref,
    /// `&mut self` (the tokens, for the error's span).
    RefMut(TokenStream),
    /// `self`, `self: Box<Self>`, ...
    Other(TokenStream),
    /// No `self` at all.
    Missing,
}

/// A keyword argument.
pub(crate) struct Arg {
    /// The pattern as written; only a plain identifier is accepted.
    pub(crate) pat: Pat,
    /// The identifier, when the pattern is one.
    pub(crate) ident: Option<Ident>,
    /// The declared type.
    pub(crate) ty: Type,
    /// `since = ".."` on the argument, when given and well formed.
    pub(crate) since: Option<Versioned>,
    /// True when `since` was written, well formed or not.
    pub(crate) since_given: bool,
    /// `T` when the type is `Option<T>` (such an argument may be absent).
    pub(crate) option_inner: Option<Type>,
    /// The argument is a `Context` reference standing where only the first parameter may.
    pub(crate) misplaced_context: bool,
}

/// The declared result of a method.
pub(crate) enum Output {
    /// `Result<T, E>` (boxed: a `Type` is large).
    Result { ok: Box<Type>, err: Box<Type> },
    /// Anything else, with the tokens to point at.
    Other(TokenStream),
}

impl Endpoint {
    /// Reads the attribute arguments and the trait, removing our helper attributes from
    /// `item` so that it can be emitted as is when there are errors.
    pub(crate) fn from_ast(cx: &mut Ctxt, attr: TokenStream, item: &mut syn::ItemTrait) -> Self {
        let values = parse_attr_args(cx, attr, Place::Endpoint);
        let version = match values.get(Key::Version) {
            Some(literal) => versioned(cx, literal),
            // Given, but not as a string: that error is reported already.
            None if values.was_given(Key::Version) => None,
            None => {
                // The call site of an attribute macro is the attribute itself.
                cx.error_at(
                    Span::call_site(),
                    format!(
                        "#[rpc_endpoint] needs the version `{}` implements, e.g. \
                         #[rpc_endpoint(version = \"1.0\")]",
                        item.ident
                    ),
                );
                None
            }
        };
        let krate = krate_path(cx, &values);
        let mut methods = Vec::new();
        for trait_item in &mut item.items {
            if let syn::TraitItem::Fn(func) = trait_item {
                methods.push(Method::from_ast(cx, func));
            }
        }
        Endpoint {
            item: item.clone(),
            namespace: values.get(Key::Namespace).cloned(),
            version,
            krate,
            methods,
        }
    }
}

fn krate_path(cx: &mut Ctxt, values: &AttrValues) -> TokenStream {
    match values.get(Key::Crate) {
        None => quote!(::oslo_rpc),
        Some(literal) => match literal.parse::<syn::Path>() {
            Ok(path) => path.into_token_stream(),
            Err(_) => {
                cx.error_spanned_by(
                    literal,
                    format!(
                        "`crate` must name the oslo-rpc crate as a path, e.g. \"::oslo_rpc\", \
                         not {:?}",
                        literal.value()
                    ),
                );
                quote!(::oslo_rpc)
            }
        },
    }
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

impl Method {
    fn from_ast(cx: &mut Ctxt, func: &mut syn::TraitItemFn) -> Self {
        let values = take_helper_attrs(cx, &mut func.attrs, Place::Method);
        let rename = values.get(Key::Name).cloned();
        let since = values
            .get(Key::Since)
            .and_then(|literal| versioned(cx, literal));
        let wire_name = match &rename {
            Some(literal) => literal.value(),
            None => func.sig.ident.unraw().to_string(),
        };

        let mut receiver = Receiver::Missing;
        let mut context = None;
        let mut args = Vec::new();
        for (position, input) in func.sig.inputs.iter_mut().enumerate() {
            match input {
                FnArg::Receiver(r) => receiver = receiver_of(r),
                FnArg::Typed(typed) => {
                    let arg_values = take_helper_attrs(cx, &mut typed.attrs, Place::Argument);
                    let first_after_self = position == 1 && !matches!(receiver, Receiver::Missing);
                    let is_context = is_context_ref(&typed.ty);
                    if is_context && first_after_self && context.is_none() {
                        if let Pat::Ident(pat) = &*typed.pat {
                            context = Some(pat.ident.clone());
                        } else {
                            // A pattern in the context position: keep it as an argument so
                            // the pattern rule reports it.
                            args.push(Arg::new(cx, typed, &arg_values, false));
                        }
                        continue;
                    }
                    args.push(Arg::new(cx, typed, &arg_values, is_context));
                }
            }
        }
        let output = match &func.sig.output {
            ReturnType::Type(_, ty) => match result_parts(ty) {
                Some((ok, err)) => Output::Result {
                    ok: Box::new(ok),
                    err: Box::new(err),
                },
                None => Output::Other(ty.to_token_stream()),
            },
            ReturnType::Default => Output::Other(func.sig.ident.to_token_stream()),
        };
        Method {
            func: func.clone(),
            wire_name,
            rename,
            since,
            receiver,
            context,
            args,
            output,
        }
    }

    /// The Rust name.
    pub(crate) fn ident(&self) -> &Ident {
        &self.func.sig.ident
    }

    /// The tokens naming the method on the wire: the rename literal or the identifier.
    pub(crate) fn wire_name_tokens(&self) -> TokenStream {
        match &self.rename {
            Some(literal) => literal.to_token_stream(),
            None => self.ident().to_token_stream(),
        }
    }
}

impl Arg {
    fn new(cx: &mut Ctxt, typed: &syn::PatType, values: &AttrValues, context: bool) -> Self {
        let since_literal = values.get(Key::Since);
        let since = since_literal.and_then(|literal| versioned(cx, literal));
        let ident = match &*typed.pat {
            Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                Some(pat.ident.clone())
            }
            _ => None,
        };
        Arg {
            pat: (*typed.pat).clone(),
            ident,
            ty: (*typed.ty).clone(),
            since,
            since_given: since_literal.is_some(),
            option_inner: single_generic(&typed.ty, "Option"),
            misplaced_context: context,
        }
    }

    /// The keyword name on the wire (the identifier without `r#`).
    pub(crate) fn wire_name(&self) -> String {
        self.ident
            .as_ref()
            .map_or_else(String::new, |ident| ident.unraw().to_string())
    }
}

fn receiver_of(receiver: &syn::Receiver) -> Receiver {
    let span = receiver.to_token_stream();
    if receiver.colon_token.is_none() {
        return match (&receiver.reference, &receiver.mutability) {
            (Some(_), None) => Receiver::Ref,
            (Some(_), Some(_)) => Receiver::RefMut(span),
            (None, _) => Receiver::Other(span),
        };
    }
    // `self: <type>`: only `&Self` is the shared receiver.
    match &*receiver.ty {
        Type::Reference(reference) if is_self_type(&reference.elem) => {
            if reference.mutability.is_some() {
                Receiver::RefMut(span)
            } else {
                Receiver::Ref
            }
        }
        _ => Receiver::Other(span),
    }
}

fn is_self_type(ty: &Type) -> bool {
    matches!(ty, Type::Path(path) if path.qself.is_none() && path.path.is_ident("Self"))
}

/// `&Context` or `&path::to::Context` (also `&mut`, which `check` refuses).
fn is_context_ref(ty: &Type) -> bool {
    match ty {
        Type::Reference(reference) => last_segment(&reference.elem)
            .is_some_and(|s| s.ident == "Context" && s.arguments.is_none()),
        _ => false,
    }
}

/// The type of a context parameter written `&mut Context`, if any.
pub(crate) fn context_is_mut(func: &syn::TraitItemFn) -> Option<&Type> {
    func.sig.inputs.iter().find_map(|input| match input {
        FnArg::Typed(typed) => match &*typed.ty {
            Type::Reference(reference)
                if reference.mutability.is_some() && is_context_ref(&typed.ty) =>
            {
                Some(&*typed.ty)
            }
            _ => None,
        },
        FnArg::Receiver(_) => None,
    })
}

fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(path) if path.qself.is_none() => path.path.segments.last(),
        Type::Group(group) => last_segment(&group.elem),
        Type::Paren(paren) => last_segment(&paren.elem),
        _ => None,
    }
}

/// The type arguments of a path type whose last segment is `name`.
pub(crate) fn generic_args<'a>(ty: &'a Type, name: &str) -> Option<Vec<&'a Type>> {
    let segment = last_segment(ty)?;
    if segment.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(_) = &segment.arguments else {
        return None;
    };
    Some(type_arguments(&segment.arguments))
}

/// The type arguments in `<...>` (lifetimes and constants left out); none without brackets.
pub(crate) fn type_arguments(arguments: &PathArguments) -> Vec<&Type> {
    match arguments {
        PathArguments::AngleBracketed(arguments) => arguments
            .args
            .iter()
            .filter_map(|arg| match arg {
                GenericArgument::Type(ty) => Some(ty),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn single_generic(ty: &Type, name: &str) -> Option<Type> {
    match generic_args(ty, name)?.as_slice() {
        [inner] => Some((*inner).clone()),
        _ => None,
    }
}

/// `(T, E)` of `Result<T, E>` (any path ending in `Result`, both parameters written).
fn result_parts(ty: &Type) -> Option<(Type, Type)> {
    match generic_args(ty, "Result")?.as_slice() {
        [ok, err] => Some(((*ok).clone(), (*err).clone())),
        _ => None,
    }
}
