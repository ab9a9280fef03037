//! Trait-bound checks spanned at the user's tokens (axum's `debug_handler` trick): for each
//! argument and result type a call `assert_wire_type::<T>()`, for each error type
//! `assert_remote_exception::<E>()`, written with the span of `T` or `E`. When a bound does
//! not hold, the compiler points at the type in the user's trait instead of at generated
//! code.

use proc_macro2::TokenStream;
use quote::{format_ident, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;

use super::Generator;
use crate::model::Output;

impl Generator<'_> {
    pub(super) fn bound_checks(&self) -> TokenStream {
        let private = &self.private;
        let mut checks = TokenStream::new();
        for generated in &self.methods {
            let method = generated.method;
            let mut body = TokenStream::new();
            for arg in &method.args {
                let ty = &arg.ty;
                body.extend(quote_spanned! {ty.span()=>
                    #private::assert_argument_type::<#ty>();
                });
            }
            if let Output::Result { ok, err } = &method.output {
                body.extend(quote_spanned! {ok.span()=>
                    #private::assert_result_type::<#ok>();
                });
                body.extend(quote_spanned! {err.span()=>
                    #private::assert_error_type::<#err>();
                });
            }
            let name = format_ident!(
                "__rpc_check_{}_{}",
                self.trait_ident,
                method.ident().unraw()
            );
            checks.extend(quote_spanned! {method.ident().span()=>
                #[allow(dead_code, non_snake_case)]
                fn #name() {
                    #body
                }
            });
        }
        checks
    }
}
