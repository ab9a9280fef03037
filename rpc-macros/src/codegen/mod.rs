//! Writes the expansion from a validated model. [`Generator::generate`] reads top to bottom
//! like the table of contents of the output (tarpc's layout): the rewritten trait, the
//! client, its cast view and the endpoint structs, then, inside `const _: () = { ... };`
//! so that nothing else leaks into the user's module, the type witnesses (see `bounds`:
//! how trait-bound errors land on the user's types), the request builders and every impl.
//!
//! Hygiene: generated code names the runtime only through `<crate>::__private` (the facade's
//! hidden re-exports) and std through `::core`/`::std`; locals it introduces are spanned
//! `mixed_site`, so they cannot capture or shadow the user's argument names; items it
//! defines inside the const block are prefixed `__Rpc`/`__rpc_`.

mod bounds;
mod client;
mod schema;
mod server;
mod trait_def;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::Ident;
use syn::ext::IdentExt;

use crate::check;
use crate::ctxt::Ctxt;
use crate::model::{Arg, Endpoint, Method};
use crate::version::Version;

use bounds::Witnesses;

/// The whole expansion: the generated items, or the user's trait plus every error.
pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut trait_item = match syn::parse2::<syn::ItemTrait>(item.clone()) {
        Ok(trait_item) => trait_item,
        Err(_) => {
            let error = syn::Error::new(
                Span::call_site(),
                "#[rpc_endpoint] goes on a trait: \
                 `#[rpc_endpoint(version = \"1.0\")] pub trait Name { ... }`",
            )
            .into_compile_error();
            return quote!(#item #error);
        }
    };
    let mut cx = Ctxt::default();
    let endpoint = Endpoint::from_ast(&mut cx, attr, &mut trait_item);
    check::check(&mut cx, &endpoint);
    if !cx.is_ok() {
        // tokio-macros' rule: keep the item so IDEs still see the trait.
        let item = fallback_trait(&endpoint.item);
        let errors = cx.into_compile_errors();
        return quote! {
            #[allow(async_fn_in_trait)]
            #item
            #errors
        };
    }
    Generator::new(&endpoint).generate()
}

/// The user's trait as emitted beside errors: as written, except argument patterns that
/// Rust itself refuses in methods without a body (reported by us already) become `_`.
fn fallback_trait(item: &syn::ItemTrait) -> syn::ItemTrait {
    let mut item = item.clone();
    for trait_item in &mut item.items {
        let syn::TraitItem::Fn(func) = trait_item else {
            continue;
        };
        if func.default.is_some() {
            continue;
        }
        for input in &mut func.sig.inputs {
            if let syn::FnArg::Typed(typed) = input {
                let plain = match &*typed.pat {
                    syn::Pat::Ident(pat) => pat.subpat.is_none() && pat.by_ref.is_none(),
                    syn::Pat::Wild(_) => true,
                    _ => false,
                };
                if !plain {
                    *typed.pat = syn::parse_quote!(_);
                }
            }
        }
    }
    item
}

/// Everything the generators share about one endpoint.
struct Generator<'a> {
    endpoint: &'a Endpoint,
    /// `<crate>::__private`.
    private: TokenStream,
    /// `<crate>::__private::runtime`.
    runtime: TokenStream,
    trait_ident: &'a Ident,
    client_ident: Ident,
    cast_ident: Ident,
    endpoint_ident: Ident,
    version: Version,
    methods: Vec<MethodGen<'a>>,
}

/// A method with what the generators derive from it.
struct MethodGen<'a> {
    method: &'a Method,
    /// The version the method is sent as: its `since`, or `X.0` of the endpoint's major.
    since: Version,
    /// The function building its keyword arguments and message version.
    request_builder: Ident,
    /// Its type witnesses.
    witnesses: Witnesses,
}

impl<'a> Generator<'a> {
    fn new(endpoint: &'a Endpoint) -> Self {
        let krate = &endpoint.krate;
        let trait_ident = &endpoint.item.ident;
        let version = endpoint
            .version
            .as_ref()
            .map_or(Version::new(1, 0), |v| v.version);
        let methods = endpoint
            .methods
            .iter()
            .enumerate()
            .map(|(index, method)| MethodGen {
                method,
                since: method
                    .since
                    .as_ref()
                    .map_or(Version::new(version.major(), 0), |v| v.version),
                request_builder: format_ident!(
                    "__rpc_{}_{}_request",
                    trait_ident,
                    method.ident().unraw()
                ),
                witnesses: Witnesses::new(index, method.args.len()),
            })
            .collect();
        Generator {
            endpoint,
            private: quote!(#krate::__private),
            runtime: quote!(#krate::__private::runtime),
            trait_ident,
            client_ident: format_ident!("{}Client", trait_ident),
            cast_ident: format_ident!("{}Cast", trait_ident),
            endpoint_ident: format_ident!("{}Endpoint", trait_ident),
            version,
            methods,
        }
    }

    fn generate(&self) -> TokenStream {
        let trait_def = self.trait_def();
        let client_struct = self.struct_client();
        let cast_struct = self.struct_cast();
        let endpoint_struct = self.struct_endpoint();
        let witnesses = self.witnesses();
        let request_builders = self.request_builders();
        let client_impl = self.impl_client();
        let client_rpc_methods = self.impl_client_rpc_methods();
        let cast_rpc_methods = self.impl_cast_rpc_methods();
        let endpoint_impl = self.impl_endpoint();
        let endpoint_trait_impl = self.impl_endpoint_trait();
        quote! {
            #trait_def
            #client_struct
            #cast_struct
            #endpoint_struct
            #[allow(non_camel_case_types, clippy::all)]
            const _: () = {
                #witnesses
                #request_builders
                #client_impl
                #client_rpc_methods
                #cast_rpc_methods
                #endpoint_impl
                #endpoint_trait_impl
            };
        }
    }

    /// `RpcVersion` as a constant expression.
    fn version_expr(&self, version: &Version) -> TokenStream {
        let runtime = &self.runtime;
        let (major, minor) = (version.major(), version.minor());
        match version.revision() {
            None => quote!(#runtime::RpcVersion::new(#major, #minor)),
            Some(revision) => {
                quote!(#runtime::RpcVersion::with_revision(#major, #minor, #revision))
            }
        }
    }

    /// `Option<&'static str>` of the namespace.
    fn namespace_expr(&self) -> TokenStream {
        match &self.endpoint.namespace {
            Some(namespace) => quote!(::core::option::Option::Some(#namespace)),
            None => quote!(::core::option::Option::None),
        }
    }
}

/// A local variable of generated code: invisible to the user's identifiers and vice versa.
fn local(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

/// The identifier of a validated argument.
fn arg_ident(arg: &Arg) -> &Ident {
    arg.ident
        .as_ref()
        .expect("checked: arguments are plain identifiers")
}

/// A doc attribute from text.
fn doc(text: &str) -> TokenStream {
    quote!(#[doc = #text])
}
