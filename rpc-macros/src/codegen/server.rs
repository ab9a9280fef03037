//! The server side: `<Trait>Endpoint<T>`, which holds the service in an `Arc` and implements
//! the runtime's `Endpoint`: each request's keyword arguments are bound as Python binds
//! them (unexpected, then missing, then ill-typed arguments become `TypeError` failures
//! naming the argument), the implementation runs in a spawned future, and its result or
//! error becomes the reply.

use proc_macro2::TokenStream;
use quote::quote;

use super::{Generator, MethodGen, arg_ident, doc, local};

impl Generator<'_> {
    pub(super) fn struct_endpoint(&self) -> TokenStream {
        let vis = &self.endpoint.item.vis;
        let endpoint = &self.endpoint_ident;
        let docs = doc(&format!(
            "The dispatch table of [`{trait_}`] for `RpcServer`: \
             `RpcServer::builder(transport, target).endpoint({endpoint}::new(service))`.\n\n\
             Requests whose keyword arguments are missing, unexpected or of the wrong type \
             are answered with a `TypeError` naming the argument, as Python would.",
            trait_ = self.trait_ident
        ));
        quote! {
            #docs
            #vis struct #endpoint<T> {
                service: ::std::sync::Arc<T>,
            }
        }
    }

    pub(super) fn impl_endpoint(&self) -> TokenStream {
        let endpoint = &self.endpoint_ident;
        let trait_ident = self.trait_ident;
        let client = &self.client_ident;
        let runtime = &self.runtime;
        let arc = quote!(::std::sync::Arc);
        quote! {
            impl<T> ::core::clone::Clone for #endpoint<T> {
                fn clone(&self) -> Self {
                    Self { service: ::core::clone::Clone::clone(&self.service) }
                }
            }

            impl<T> ::core::fmt::Debug for #endpoint<T> {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    f.debug_struct(::core::stringify!(#endpoint))
                        .field("namespace", &#client::NAMESPACE)
                        .field("version", &#client::VERSION)
                        .finish_non_exhaustive()
                }
            }

            impl<T: #trait_ident> #endpoint<T> {
                /// Serves `service`.
                pub fn new(service: T) -> Self {
                    Self { service: #arc::new(service) }
                }

                /// Serves a service that is shared with other code.
                pub fn from_arc(service: #arc<T>) -> Self {
                    Self { service }
                }

                /// The service.
                pub fn service(&self) -> &#arc<T> {
                    &self.service
                }

                /// The endpoint's schema (the same as the client's).
                pub fn schema() -> #runtime::schema::EndpointSchema {
                    #client::schema()
                }
            }
        }
    }

    pub(super) fn impl_endpoint_trait(&self) -> TokenStream {
        let endpoint = &self.endpoint_ident;
        let trait_ident = self.trait_ident;
        let client = &self.client_ident;
        let runtime = &self.runtime;
        let private = &self.private;
        let option = quote!(::core::option::Option);
        let ctx = local("ctx");
        let method = local("method");
        let args = local("args");
        let wire_names = self.methods.iter().map(|m| &m.method.wire_name);
        let arms = self
            .methods
            .iter()
            .map(|generated| self.dispatch_arm(generated));
        // Not `T`: a user type named `T` may appear among the argument types below.
        let service_ty = quote!(__RpcService);
        quote! {
            impl<#service_ty: #trait_ident> #runtime::dispatch::Endpoint for #endpoint<#service_ty> {
                fn namespace(&self) -> #option<&str> {
                    #client::NAMESPACE
                }

                fn version(&self) -> #option<#runtime::RpcVersion> {
                    #option::Some(#client::VERSION)
                }

                fn has_method(&self, #method: &str) -> bool {
                    ::core::matches!(#method, #(#wire_names)|*)
                }

                fn dispatch(
                    &self,
                    #ctx: #runtime::Context,
                    #method: &str,
                    #args: #runtime::wire::Args,
                ) -> #runtime::dispatch::DispatchFuture {
                    match #method {
                        #(#arms)*
                        _ => #private::fail_now(#private::no_such_method(#method)),
                    }
                }
            }
        }
    }

    /// One match arm of `dispatch`: binds the keyword arguments now (so unexpected and
    /// missing ones fail at once), decodes them inside the spawned future and hands them to
    /// the implementation. Only the implementation's future (`Send` by the trait's
    /// signature) is held across an await, so the argument types need not be `Send` for
    /// this code to compile; their witnesses require it.
    fn dispatch_arm(&self, generated: &MethodGen<'_>) -> TokenStream {
        let runtime = &self.runtime;
        let private = &self.private;
        let trait_ident = self.trait_ident;
        let method = generated.method;
        let ident = method.ident();
        let wire_name = &method.wire_name;
        let witnesses = &generated.witnesses;
        let (result_witness, error_witness) = (&witnesses.result, &witnesses.error);
        let ctx = local("ctx");
        let args = local("args");
        let kwargs = local("kwargs");
        let service = local("service");
        let failure = local("failure");
        let value = local("value");
        let result = local("result");
        let params = method.args.iter().map(|arg| {
            let name = arg.wire_name();
            let required = arg.option_inner.is_none();
            quote!(#runtime::dispatch::Param { name: #name, required: #required })
        });
        let takes = method
            .args
            .iter()
            .zip(&witnesses.args)
            .map(|(arg, witness)| {
                let ident = arg_ident(arg);
                let name = arg.wire_name();
                quote! {
                    let #ident = #kwargs.take_with(#name, #witness.decode)?;
                }
            });
        let call_args = method.args.iter().map(arg_ident);
        let context = method.context.as_ref().map(|_| quote!(&#ctx,));
        quote! {
            #wire_name => {
                const __RPC_PARAMS: &[#runtime::dispatch::Param] = &[#(#params),*];
                #[allow(unused_mut, unused_variables)]
                let mut #kwargs = match #runtime::dispatch::Kwargs::bind(#wire_name, #args, __RPC_PARAMS) {
                    ::core::result::Result::Ok(#value) => #value,
                    ::core::result::Result::Err(#failure) => return #private::fail_now(#failure),
                };
                let #service = ::core::clone::Clone::clone(&self.service);
                ::std::boxed::Box::pin(async move {
                    #(#takes)*
                    let #result = <__RpcService as #trait_ident>::#ident(&*#service, #context #(#call_args),*).await;
                    #private::reply(#result, &#result_witness, &#error_witness)
                })
            }
        }
    }
}
