//! The rules an endpoint must follow, one function each (serde_derive's `check.rs`). Every
//! rule records its errors in the context with the span of the user's offending token and
//! goes on, so all mistakes are reported at once. Trait-bound rules (an argument that is
//! not `Serialize`, an error type that is not `RemoteException`) are left to the compiler:
//! codegen emits bound checks spanned at the user's types.

use quote::ToTokens;
use syn::ext::IdentExt;
use syn::{TraitItem, Type};

use crate::ctxt::Ctxt;
use crate::model::{self, Endpoint, Method, Output, Receiver, Versioned};

/// Inherent methods of the generated client (`codegen/client.rs` writes them); an RPC method
/// cannot have one of these Rust names (`check_no_client_clash` says so and suggests a rename).
const CLIENT_METHODS: &[&str] = &[
    "new",
    "inner",
    "into_inner",
    "schema",
    "prepare",
    "exchange",
    "topic",
    "server",
    "fanout",
    "timeout",
    "call_monitor_timeout",
    "version_cap",
    "retry",
    "can_send_version",
    "cast",
    "version_manifest",
];

/// Runs every rule.
pub(crate) fn check(cx: &mut Ctxt, endpoint: &Endpoint) {
    check_trait_shape(cx, endpoint);
    for method in &endpoint.methods {
        check_async(cx, method);
        check_receiver(cx, method);
        check_not_generic(cx, method);
        check_plain_fn(cx, method);
        check_context_param(cx, method);
        check_arg_patterns(cx, method);
        check_owned_args(cx, method);
        check_result_shape(cx, method);
        check_wire_name_not_empty(cx, method);
        check_no_client_clash(cx, endpoint, method);
        check_since_within_version(cx, endpoint, method);
        check_since_only_on_option(cx, method);
    }
    check_unique_wire_names(cx, endpoint);
}

/// The trait is a plain, non-generic trait holding only methods: its items become one
/// client method and one dispatch entry each, and generic traits cannot be served through
/// one `Endpoint` object.
fn check_trait_shape(cx: &mut Ctxt, endpoint: &Endpoint) {
    let item = &endpoint.item;
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        cx.error_spanned_by(
            &item.generics,
            "#[rpc_endpoint] traits cannot be generic: the wire carries no type parameters",
        );
    }
    if let Some(unsafety) = &item.unsafety {
        cx.error_spanned_by(unsafety, "#[rpc_endpoint] traits cannot be `unsafe`");
    }
    if let Some(auto) = &item.auto_token {
        cx.error_spanned_by(auto, "#[rpc_endpoint] traits cannot be auto traits");
    }
    for trait_item in &item.items {
        let what = match trait_item {
            TraitItem::Fn(_) => continue,
            TraitItem::Const(_) => "associated constants",
            TraitItem::Type(_) => "associated types",
            TraitItem::Macro(_) => "macro invocations",
            _ => "other items",
        };
        cx.error_spanned_by(
            trait_item,
            format!("#[rpc_endpoint] traits hold only RPC methods; {what} are not allowed here"),
        );
    }
}

/// RPC methods are `async fn`: a call waits for the network, and the server awaits the
/// implementation's future.
fn check_async(cx: &mut Ctxt, method: &Method) {
    let sig = &method.func.sig;
    if sig.asyncness.is_none() {
        cx.error_spanned_by(
            sig.fn_token,
            format!(
                "RPC methods must be `async fn`: write `async fn {}(...)`",
                sig.ident
            ),
        );
    }
}

/// Methods take `&self`: the server shares one service between concurrent requests, so
/// neither `&mut self` nor `self` can work, and a method without `self` has no service.
fn check_receiver(cx: &mut Ctxt, method: &Method) {
    let ident = method.ident();
    match &method.receiver {
        Receiver::Ref => {}
        Receiver::RefMut(tokens) => cx.error_spanned_by(
            tokens,
            "RPC methods take `&self`, not `&mut self`: the server runs requests concurrently \
             on one shared service (use interior mutability, e.g. a Mutex, for state)",
        ),
        Receiver::Other(tokens) => cx.error_spanned_by(
            tokens,
            "RPC methods take `&self`: the server calls them on one shared service",
        ),
        Receiver::Missing => cx.error_spanned_by(
            ident,
            format!(
                "RPC method `{ident}` needs `&self` as its first parameter: \
                 `async fn {ident}(&self, ...)`"
            ),
        ),
    }
}

/// Methods are not generic: the server must pick one concrete type to decode each
/// argument into, and the client one to decode the result into.
fn check_not_generic(cx: &mut Ctxt, method: &Method) {
    let generics = &method.func.sig.generics;
    if !generics.params.is_empty() {
        cx.error_spanned_by(
            &generics.params,
            "RPC methods cannot be generic: the server decodes each argument into one \
             concrete type",
        );
    } else if let Some(where_clause) = &generics.where_clause {
        cx.error_spanned_by(where_clause, "RPC methods cannot have a `where` clause");
    }
}

/// No `const`, `unsafe`, `extern` or variadic methods: none of them can be called over the
/// wire.
fn check_plain_fn(cx: &mut Ctxt, method: &Method) {
    let sig = &method.func.sig;
    if let Some(token) = &sig.constness {
        cx.error_spanned_by(token, "RPC methods cannot be `const`");
    }
    if let Some(token) = &sig.unsafety {
        cx.error_spanned_by(token, "RPC methods cannot be `unsafe`");
    }
    if let Some(abi) = &sig.abi {
        cx.error_spanned_by(abi, "RPC methods cannot have an `extern` ABI");
    }
    if let Some(variadic) = &sig.variadic {
        cx.error_spanned_by(variadic, "RPC methods cannot be variadic");
    }
}

/// The request context is taken as `&Context` right after `&self`; a `&mut Context` or a
/// context further down the list is a mistake, not a keyword argument.
fn check_context_param(cx: &mut Ctxt, method: &Method) {
    if let Some(ty) = model::context_is_mut(&method.func) {
        cx.error_spanned_by(
            ty,
            "take the request context as `&Context`: the server lends it to the method",
        );
    }
    for arg in &method.args {
        if arg.misplaced_context {
            cx.error_spanned_by(
                &arg.ty,
                "the request context must be the first parameter after `&self`",
            );
        }
    }
}

/// Argument names are the oslo keyword arguments, so each argument is a plain identifier.
fn check_arg_patterns(cx: &mut Ctxt, method: &Method) {
    for arg in &method.args {
        if arg.ident.is_none() {
            cx.error_spanned_by(
                &arg.pat,
                "RPC arguments must be plain identifiers: their names are the keyword \
                 arguments on the wire",
            );
        }
    }
}

/// Arguments are owned values: the server decodes them from the request and the future it
/// spawns owns them (`&str` -> `String`, `&[T]` -> `Vec<T>`).
fn check_owned_args(cx: &mut Ctxt, method: &Method) {
    for arg in &method.args {
        if arg.misplaced_context {
            continue;
        }
        if let Type::Reference(reference) = &arg.ty {
            let hint = owned_hint(&reference.elem);
            cx.error_spanned_by(
                &arg.ty,
                format!(
                    "RPC arguments must be owned types (the server decodes them from the \
                     request){hint}"
                ),
            );
        }
    }
}

fn owned_hint(elem: &Type) -> String {
    match elem {
        Type::Path(path) if path.path.is_ident("str") => ": use `String`".to_owned(),
        Type::Slice(slice) => format!(": use `Vec<{}>`", slice.elem.to_token_stream()),
        _ => format!(": use `{}`", elem.to_token_stream()),
    }
}

/// Methods return `Result<T, E>`: `T` becomes the oslo `result`, `E` (a `RemoteException`)
/// the `failure` a Python peer sees.
fn check_result_shape(cx: &mut Ctxt, method: &Method) {
    if let Output::Other(tokens) = &method.output {
        cx.error_spanned_by(
            tokens,
            "RPC methods return `Result<T, E>` with both parameters written, where `E` \
             implements `RemoteException` (`RpcError` does); use `Result<(), E>` for no result",
        );
    }
}

/// The Rust name of an RPC method is not one of the generated client's own methods
/// (`new`, `prepare`, `cast`, ...); the wire name may be anything.
fn check_no_client_clash(cx: &mut Ctxt, endpoint: &Endpoint, method: &Method) {
    let ident = method.ident();
    let name = ident.unraw().to_string();
    if CLIENT_METHODS.contains(&name.as_str()) {
        cx.error_spanned_by(
            ident,
            format!(
                "`{name}` would clash with the generated `{}Client::{name}`: give the Rust \
                 method another name and keep `{name}` on the wire with \
                 #[rpc(name = \"{name}\")]",
                endpoint.item.ident
            ),
        );
    }
}

/// A renamed method has a name.
fn check_wire_name_not_empty(cx: &mut Ctxt, method: &Method) {
    if let Some(rename) = &method.rename
        && rename.value().is_empty()
    {
        cx.error_spanned_by(rename, "an RPC method name cannot be empty");
    }
}

/// A `since` (on a method or an argument) is a version the endpoint serves: same major, not
/// above the endpoint's version. A later one could never be sent to this endpoint.
fn check_since_within_version(cx: &mut Ctxt, endpoint: &Endpoint, method: &Method) {
    let Some(endpoint_version) = &endpoint.version else {
        return;
    };
    let mut check = |since: &Versioned, what: String| {
        if !endpoint_version.version.can_serve(&since.version) {
            cx.error_spanned_by(
                &since.literal,
                format!(
                    "{what} is `since = \"{}\"`, which endpoint version {} does not serve: \
                     raise the endpoint's version or lower `since`",
                    since.version, endpoint_version.version
                ),
            );
        }
    };
    if let Some(since) = &method.since {
        check(since, format!("method `{}`", method.wire_name));
    }
    for arg in &method.args {
        if let Some(since) = &arg.since {
            check(
                since,
                format!("argument `{}` of `{}`", arg.wire_name(), method.wire_name),
            );
        }
    }
}

/// Only an `Option<T>` argument may carry `since`: the client leaves it out for servers
/// older than `since`, and those servers must see it as absent (None), not missing.
fn check_since_only_on_option(cx: &mut Ctxt, method: &Method) {
    for arg in &method.args {
        if arg.since_given && arg.option_inner.is_none() {
            cx.error_spanned_by(
                &arg.ty,
                format!(
                    "argument `{}` has `since`, so older servers will not receive it: its \
                     type must be `Option<{}>`",
                    arg.wire_name(),
                    arg.ty.to_token_stream()
                ),
            );
        }
    }
}

/// Wire names are unique: the dispatch table maps each to one method (a `name = ".."`
/// rename counts as the name).
fn check_unique_wire_names(cx: &mut Ctxt, endpoint: &Endpoint) {
    for (index, method) in endpoint.methods.iter().enumerate() {
        let earlier = endpoint.methods[..index]
            .iter()
            .find(|other| other.wire_name == method.wire_name);
        if let Some(earlier) = earlier {
            cx.error_spanned_by(
                method.wire_name_tokens(),
                format!(
                    "RPC method name `{}` is already used by `{}`: wire names must be unique \
                     (rename one with #[rpc(name = \"...\")])",
                    method.wire_name,
                    earlier.ident()
                ),
            );
        }
    }
}
