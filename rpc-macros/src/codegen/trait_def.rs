//! The user's trait, rewritten so that the server can spawn what its methods return: every
//! `async fn m(..) -> R` becomes `fn m(..) -> impl Future<Output = R> + Send`, and the trait
//! gains `Send + Sync + 'static` (one service is shared by concurrent requests). Users still
//! implement the methods with plain `async fn`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ReturnType, TraitItem};

use super::Generator;

impl Generator<'_> {
    pub(super) fn trait_def(&self) -> TokenStream {
        let mut item = self.endpoint.item.clone();
        item.supertraits
            .push(syn::parse_quote!(::core::marker::Send));
        item.supertraits
            .push(syn::parse_quote!(::core::marker::Sync));
        item.supertraits.push(syn::parse_quote!('static));
        if item.colon_token.is_none() {
            item.colon_token = Some(Default::default());
        }
        let mut methods = self.endpoint.methods.iter();
        for trait_item in &mut item.items {
            let TraitItem::Fn(func) = trait_item else {
                continue;
            };
            let Some(method) = methods.next() else {
                break;
            };
            // The model's copy has our helper attributes removed from the arguments too.
            *func = method.func.clone();
            let output = match &func.sig.output {
                ReturnType::Type(_, ty) => quote!(#ty),
                ReturnType::Default => quote!(()),
            };
            let span = func.sig.output.span();
            func.sig.asyncness = None;
            func.sig.output = syn::parse_quote_spanned! {span=>
                -> impl ::core::future::Future<Output = #output> + ::core::marker::Send
            };
            if let Some(block) = &func.default {
                let body = quote_spanned!(block.span()=> { async move #block });
                func.default = Some(syn::parse_quote!(#body));
            }
        }
        let client = &self.client_ident;
        let endpoint = &self.endpoint_ident;
        let note = format!(
            "\n\nAn oslo RPC interface (`#[rpc_endpoint]`): call it with [`{client}`], serve it \
             with [`{endpoint}`]."
        );
        item.attrs.push(syn::parse_quote!(#[doc = #note]));
        quote!(#item)
    }
}
