//! The client side: `<Trait>Client` (one async method per RPC method performing a call,
//! plus `prepare()`-style builder methods), its `<Trait>Cast` view (the same methods,
//! casting), and one private argument struct per method that serializes the keyword
//! arguments and picks the message version.

use proc_macro2::TokenStream;
use quote::quote;

use super::{Generator, MethodGen, arg_ident, doc, local};
use crate::model::Output;

impl Generator<'_> {
    pub(super) fn struct_client(&self) -> TokenStream {
        let vis = &self.endpoint.item.vis;
        let runtime = &self.runtime;
        let client = &self.client_ident;
        let docs = doc(&format!(
            "A typed client of [`{trait_}`]: one method per RPC method, each performing a \
             call. Cheap to clone.\n\n\
             Build it with [`{client}::new`] from an `RpcClient` of the server's topic; \
             [`{client}::prepare`] and the other builder methods return adjusted copies (timeout, \
             server, version cap, ...), [`{client}::cast`] a view whose methods cast.\n\n\
             Every method returns `Result<T, RpcError>`: the server's error arrives as \
             `RpcError::Remote` (rebuild your own type with `error.rebuild::<E>()`).",
            trait_ = self.trait_ident
        ));
        quote! {
            #docs
            #[derive(::core::clone::Clone, ::core::fmt::Debug)]
            #vis struct #client {
                inner: #runtime::RpcClient,
            }
        }
    }

    pub(super) fn struct_cast(&self) -> TokenStream {
        let vis = &self.endpoint.item.vis;
        let runtime = &self.runtime;
        let cast = &self.cast_ident;
        let docs = doc(&format!(
            "The casting view of [`{}`] (from its `cast()` method): each method sends a cast, \
             returning once the broker has the message, with no result. `fanout(true)` on the \
             client makes casts go to every server of the topic.",
            self.client_ident
        ));
        quote! {
            #docs
            #[derive(::core::clone::Clone, ::core::fmt::Debug)]
            #vis struct #cast {
                inner: #runtime::RpcClient,
            }
        }
    }

    /// One function per method building the request's keyword arguments and picking its
    /// version: the method's `since`, raised to the `since` of each optional argument sent;
    /// an argument whose `since` the client's version cap cannot send is left out.
    pub(super) fn request_builders(&self) -> TokenStream {
        let private = &self.private;
        let runtime = &self.runtime;
        let mut builders = TokenStream::new();
        for generated in &self.methods {
            let method = generated.method;
            let name = &generated.request_builder;
            let wire_name = &method.wire_name;
            let client = local("client");
            let version = local("version");
            let args = local("args");
            let objects = local("_objects");
            let method_version = self.version_expr(&generated.since);
            let mut params = TokenStream::new();
            let mut pushes = TokenStream::new();
            for (arg, witness) in method.args.iter().zip(&generated.witnesses.args) {
                let ident = arg_ident(arg);
                let ty = &arg.ty;
                let arg_name = arg.wire_name();
                params.extend(quote!(#ident: &#ty,));
                let push = quote! {
                    #private::push_argument(&mut #args, #wire_name, #arg_name, #ident, &#witness)?;
                };
                match &arg.since {
                    None => pushes.extend(push),
                    Some(since) => {
                        let since = self.version_expr(&since.version);
                        pushes.extend(quote! {
                            if #client.can_send_version(::core::option::Option::Some(&#since)) {
                                #version = ::core::cmp::Ord::max(#version, #since);
                                #push
                            }
                        });
                    }
                }
            }
            builders.extend(quote! {
                #[allow(unused_variables, unused_mut, non_snake_case)]
                fn #name(
                    #client: &#runtime::RpcClient,
                    #params
                ) -> ::core::result::Result<
                    (#runtime::RpcVersion, #runtime::wire::Args),
                    #runtime::RpcError,
                > {
                    let mut #version = #method_version;
                    let mut #args = #runtime::wire::Args::new();
                    let #objects = #private::object_scope(#client);
                    #pushes
                    ::core::result::Result::Ok((#version, #args))
                }
            });
        }
        builders
    }

    pub(super) fn impl_client(&self) -> TokenStream {
        let runtime = &self.runtime;
        let private = &self.private;
        let client = &self.client_ident;
        let cast = &self.cast_ident;
        let namespace = self.namespace_expr();
        let version = self.version_expr(&self.version);
        let schema_text = self.schema_json();
        let namespace_doc = match &self.endpoint.namespace {
            Some(namespace) => format!("The namespace of the endpoint: `{}`.", namespace.value()),
            None => "The namespace of the endpoint: `None`, oslo's null namespace.".to_owned(),
        };
        let version_doc = format!("The version the endpoint implements: `{}`.", self.version);
        // The versioned objects among argument and result types, for the schema.
        let object_probes = self.methods.iter().flat_map(|generated| {
            let method = generated.method;
            let ok = match &method.output {
                Output::Result { ok, .. } => Some((**ok).clone()),
                Output::Other(_) => None,
            };
            method
                .args
                .iter()
                .map(|arg| arg.ty.clone())
                .chain(ok)
                .map(|ty| {
                    quote! {
                        (&#runtime::objects::probe::TypeProbe::<#ty>::new())
                            .collect_objects(&mut schema.objects);
                    }
                })
        });
        let option = quote!(::core::option::Option);
        let string = quote!(::std::string::String);
        let duration = quote!(::core::time::Duration);
        quote! {
            impl #client {
                #[doc = #namespace_doc]
                pub const NAMESPACE: #option<&'static str> = #namespace;
                #[doc = #version_doc]
                pub const VERSION: #runtime::RpcVersion = #version;

                /// A typed client sending through `client` (whose target names the topic),
                /// in this endpoint's namespace.
                pub fn new(client: #runtime::RpcClient) -> Self {
                    let namespace = #option::map(Self::NAMESPACE, <str as ::std::borrow::ToOwned>::to_owned);
                    Self { inner: client.namespace(namespace) }
                }

                /// The untyped client underneath.
                pub fn inner(&self) -> &#runtime::RpcClient {
                    &self.inner
                }

                /// The untyped client underneath, by value.
                pub fn into_inner(self) -> #runtime::RpcClient {
                    self.inner
                }

                /// The endpoint's schema: namespace, version, each method's wire name,
                /// `since`, arguments and result as JSON Schema, and the versioned objects
                /// they carry.
                pub fn schema() -> #runtime::schema::EndpointSchema {
                    #[allow(unused_imports)]
                    use #runtime::objects::probe::{ObjectType as _, PlainType as _};
                    let mut schema = #private::schema_from_generated(#schema_text);
                    #(#object_probes)*
                    schema
                }

                /// A copy to adjust with the builder methods (oslo's `prepare()`).
                pub fn prepare(&self) -> Self {
                    ::core::clone::Clone::clone(self)
                }

                /// Sends to this exchange instead of the transport's control exchange.
                pub fn exchange(self, exchange: impl ::core::convert::Into<#string>) -> Self {
                    Self { inner: self.inner.exchange(exchange) }
                }

                /// Sends to another topic.
                pub fn topic(self, topic: impl ::core::convert::Into<#string>) -> Self {
                    Self { inner: self.inner.topic(topic) }
                }

                /// Sends to one server of the topic (`<topic>.<server>`).
                pub fn server(self, server: impl ::core::convert::Into<#string>) -> Self {
                    Self { inner: self.inner.server(server) }
                }

                /// Casts go to every server of the topic (calls refuse fanout).
                pub fn fanout(self, fanout: bool) -> Self {
                    Self { inner: self.inner.fanout(fanout) }
                }

                /// Sets the overall timeout of calls.
                pub fn timeout(self, timeout: #duration) -> Self {
                    Self { inner: self.inner.timeout(timeout) }
                }

                /// Requests call-monitor heartbeats; a call fails when none arrives for
                /// `timeout`.
                pub fn call_monitor_timeout(self, timeout: #duration) -> Self {
                    Self { inner: self.inner.call_monitor_timeout(timeout) }
                }

                /// Refuses to send messages above this version: a method whose `since` is
                /// above the cap fails with `RpcError::VersionCap` before anything is sent,
                /// and `since` arguments above it are left out.
                pub fn version_cap(self, cap: #runtime::RpcVersion) -> Self {
                    Self { inner: self.inner.version_cap(cap) }
                }

                /// Sets the publish retry policy.
                pub fn retry(self, retry: #option<u32>) -> Self {
                    Self { inner: self.inner.retry(retry) }
                }

                /// Downgrades the versioned objects among the arguments to the versions in
                /// `manifest` (what the server understands), dropping fields by `since`.
                pub fn version_manifest(self, manifest: #runtime::objects::VersionManifest) -> Self {
                    Self { inner: self.inner.with_version_manifest(manifest) }
                }

                /// Whether the version cap lets a message of `version` go out.
                pub fn can_send_version(&self, version: &#runtime::RpcVersion) -> bool {
                    self.inner.can_send_version(#option::Some(version))
                }

                /// A view whose methods cast instead of calling.
                pub fn cast(&self) -> #cast {
                    #cast { inner: ::core::clone::Clone::clone(&self.inner) }
                }
            }
        }
    }

    pub(super) fn impl_client_rpc_methods(&self) -> TokenStream {
        let client = &self.client_ident;
        let methods = self
            .methods
            .iter()
            .map(|generated| self.rpc_method(generated, false));
        quote! {
            impl #client {
                #(#methods)*
            }
        }
    }

    pub(super) fn impl_cast_rpc_methods(&self) -> TokenStream {
        let cast = &self.cast_ident;
        let methods = self
            .methods
            .iter()
            .map(|generated| self.rpc_method(generated, true));
        quote! {
            impl #cast {
                #(#methods)*
            }
        }
    }

    /// One client method: `async fn m(&self, ctx: &Context, args..) -> Result<T, RpcError>`.
    fn rpc_method(&self, generated: &MethodGen<'_>, cast: bool) -> TokenStream {
        let runtime = &self.runtime;
        let private = &self.private;
        let method = generated.method;
        let ident = method.ident();
        let wire_name = &method.wire_name;
        let builder = &generated.request_builder;
        let result_witness = &generated.witnesses.result;
        let ctx = local("ctx");
        let version = local("version");
        let args = local("args");
        let raw = local("raw");
        let user_docs = method
            .func
            .attrs
            .iter()
            .filter(|attr| attr.path().is_ident("doc"));
        let ok = match &method.output {
            Output::Result { ok, .. } => quote!(#ok),
            Output::Other(_) => quote!(()),
        };
        let params = method.args.iter().map(|arg| {
            let ident = arg_ident(arg);
            let ty = &arg.ty;
            quote!(#ident: #ty)
        });
        let refs = method.args.iter().map(|arg| {
            let ident = arg_ident(arg);
            quote!(&#ident)
        });
        let note = self.rpc_method_note(generated, cast);
        let result = quote!(::core::result::Result);
        let some_version = quote!(::core::option::Option::Some(#version));
        let (output, send) = if cast {
            (
                quote!(#result<(), #runtime::RpcError>),
                quote! {
                    self.inner.cast_typed(#ctx, #wire_name, #some_version, &#args).await
                },
            )
        } else {
            (
                quote!(#result<#ok, #runtime::RpcError>),
                quote! {
                    let #raw = self.inner.call_raw(#ctx, #wire_name, #some_version, &#args).await?;
                    #private::decode_result(#wire_name, &#raw, &#result_witness)
                },
            )
        };
        quote! {
            #(#user_docs)*
            #[doc = #note]
            pub async fn #ident(&self, #ctx: &#runtime::Context, #(#params),*) -> #output {
                let (#version, #args) = #builder(&self.inner, #(#refs),*)?;
                #send
            }
        }
    }

    fn rpc_method_note(&self, generated: &MethodGen<'_>, cast: bool) -> String {
        let method = generated.method;
        let mut note = format!(
            "\n\n{} `{}`, sent as version {}",
            if cast { "Casts" } else { "Calls" },
            method.wire_name,
            generated.since
        );
        let gated: Vec<String> = method
            .args
            .iter()
            .filter_map(|arg| {
                let since = arg.since.as_ref()?;
                Some(format!("`{}` (since {})", arg.wire_name(), since.version))
            })
            .collect();
        if !gated.is_empty() {
            note.push_str(&format!(
                "; {} left out when the version cap is below its version, and the message \
                 sent at that version when it goes out",
                gated.join(", ")
            ));
        }
        note.push('.');
        note
    }
}
