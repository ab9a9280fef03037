//! Trait-bound errors at the user's tokens (the idea of axum's `debug_handler`, taken one
//! step further). For each argument, result and error type, one `const` witness is built by
//! `argument_type::<T>()` (`result_type`, `error_type`), written with the span of the type
//! in the user's trait: that call is the only place the bound (`Serialize +
//! DeserializeOwned + Send + 'static`, or `RemoteException`) is checked. Client and server
//! code encode, decode and build failures through the witnesses' function pointers and
//! state no bound themselves, so an unmet bound is reported once, at the user's type, and
//! never inside generated code.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::Ident;
use syn::spanned::Spanned;

use super::{Generator, MethodGen};
use crate::model::Output;

/// The witness constants of one method.
pub(super) struct Witnesses {
    /// One per keyword argument, in order.
    pub(super) args: Vec<Ident>,
    /// The result's.
    pub(super) result: Ident,
    /// The error's.
    pub(super) error: Ident,
}

impl Witnesses {
    pub(super) fn new(index: usize, arg_count: usize) -> Self {
        Witnesses {
            args: (0..arg_count)
                .map(|arg| format_ident!("__RPC_M{}_A{}", index, arg))
                .collect(),
            result: format_ident!("__RPC_M{}_R", index),
            error: format_ident!("__RPC_M{}_E", index),
        }
    }
}

impl Generator<'_> {
    /// The witness constants of every method.
    pub(super) fn witnesses(&self) -> TokenStream {
        let private = &self.private;
        let mut consts = TokenStream::new();
        for generated in &self.methods {
            consts.extend(self.method_witnesses(private, generated));
        }
        consts
    }

    fn method_witnesses(&self, private: &TokenStream, generated: &MethodGen<'_>) -> TokenStream {
        let method = generated.method;
        let witnesses = &generated.witnesses;
        let mut consts = TokenStream::new();
        for (arg, name) in method.args.iter().zip(&witnesses.args) {
            let ty = &arg.ty;
            consts.extend(quote_spanned! {ty.span()=>
                const #name: #private::Wire<#ty> = #private::argument_type::<#ty>();
            });
        }
        if let Output::Result { ok, err } = &method.output {
            let (result, error) = (&witnesses.result, &witnesses.error);
            consts.extend(quote_spanned! {ok.span()=>
                const #result: #private::Wire<#ok> = #private::result_type::<#ok>();
            });
            consts.extend(quote_spanned! {err.span()=>
                const #error: #private::ErrorType<#err> = #private::error_type::<#err>();
            });
        }
        quote!(#consts)
    }
}
