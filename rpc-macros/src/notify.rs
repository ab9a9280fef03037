//! `#[notification_endpoint]`: an inherent `impl` block whose `async fn`s are named like
//! notification priorities becomes a `NotificationEndpoint` (or, with `batch`, a
//! `BatchNotificationEndpoint`), listening to exactly the priorities it defines.
//!
//! Parse (arguments, then each method into a `Handler`), check (one rule per function, all
//! errors collected), generate. On any error the user's block is still emitted.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{
    FnArg, GenericArgument, ImplItem, ImplItemFn, ItemImpl, PathArguments, ReturnType, Type,
};

use crate::ctxt::Ctxt;

/// oslo's priorities, in its order (`notify/dispatcher.py` `PRIORITIES`).
const PRIORITIES: [(&str, &str); 7] = [
    ("audit", "Audit"),
    ("debug", "Debug"),
    ("info", "Info"),
    ("warn", "Warn"),
    ("error", "Error"),
    ("critical", "Critical"),
    ("sample", "Sample"),
];

/// The attribute's arguments.
struct Args {
    batch: bool,
    krate: TokenStream,
}

/// One handler method.
struct Handler {
    method: syn::Ident,
    /// The `Priority` variant.
    variant: syn::Ident,
    /// The payload type `P` of `Notification<P>` (`serde_json::Value` when not given).
    payload: Option<Type>,
    /// Where a payload bound error points.
    payload_span: Span,
    /// The return type (`()` when none is written), spanned where the user wrote it.
    output: TokenStream,
}

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    let args = parse_args(&mut cx, attr);
    let block = match syn::parse2::<ItemImpl>(item.clone()) {
        Ok(block) => block,
        Err(_) => {
            cx.error_at(
                Span::call_site(),
                "#[notification_endpoint] goes on an `impl` block whose methods are named like \
                 priorities: `impl MyEndpoint { async fn info(&self, n: Notification<P>) ... }`",
            );
            let errors = cx.into_compile_errors();
            return quote!(#item #errors);
        }
    };
    let handlers = check_block(&mut cx, &block, args.batch);
    if !cx.is_ok() {
        let errors = cx.into_compile_errors();
        return quote!(#block #errors);
    }
    let generated = generate(&block, &handlers, &args);
    quote! {
        #block
        const _: () = { #generated };
    }
}

fn parse_args(cx: &mut Ctxt, attr: TokenStream) -> Args {
    let mut args = Args {
        batch: false,
        krate: quote!(::oslo_rpc),
    };
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("batch") {
            args.batch = true;
            Ok(())
        } else if meta.path.is_ident("crate") {
            let path: syn::LitStr = meta.value()?.parse()?;
            let path: syn::Path = path.parse()?;
            args.krate = path.to_token_stream();
            Ok(())
        } else {
            Err(meta.error(
                "unknown #[notification_endpoint] argument; expected `batch` or `crate = \"...\"`",
            ))
        }
    });
    if let Err(error) = syn::parse::Parser::parse2(parser, attr) {
        cx.syn_error(error);
    }
    args
}

/// Rule: an inherent impl with at least one handler, every method a handler.
fn check_block(cx: &mut Ctxt, block: &ItemImpl, batch: bool) -> Vec<Handler> {
    if let Some((_, path, _)) = &block.trait_ {
        cx.error_spanned_by(
            path,
            "#[notification_endpoint] goes on an inherent `impl` block, not a trait impl",
        );
        return Vec::new();
    }
    let mut handlers = Vec::new();
    for item in &block.items {
        if let ImplItem::Fn(method) = item
            && let Some(handler) = check_handler(cx, method, batch)
        {
            handlers.push(handler);
        }
    }
    if handlers.is_empty() && cx.is_ok() {
        cx.error_spanned_by(
            &block.self_ty,
            "a notification endpoint needs at least one handler: an `async fn` named audit, \
             debug, info, warn, error, critical or sample",
        );
    }
    handlers
}

/// Rules for one method: a priority name, `async`, `&self`, one `Notification<P>` (or, in
/// a batch endpoint, `Vec<Notification<P>>`) argument, no generics.
fn check_handler(cx: &mut Ctxt, method: &ImplItemFn, batch: bool) -> Option<Handler> {
    let sig = &method.sig;
    let name = sig.ident.to_string();
    let variant = PRIORITIES
        .iter()
        .find(|(priority, _)| *priority == name.trim_start_matches("r#"))
        .map(|(_, variant)| syn::Ident::new(variant, sig.ident.span()));
    let Some(variant) = variant else {
        let hint = match name.as_str() {
            "warning" => " (oslo's `warning` is an alias: name it `warn`)".to_owned(),
            _ => String::new(),
        };
        cx.error_spanned_by(
            &sig.ident,
            format!(
                "`{name}` is not a notification priority{hint}; handlers are named audit, debug, \
                 info, warn, error, critical or sample (put other methods in another impl block)"
            ),
        );
        return None;
    };
    let mut ok = true;
    if sig.asyncness.is_none() {
        cx.error_spanned_by(sig.fn_token, "notification handlers must be `async fn`");
        ok = false;
    }
    if !sig.generics.params.is_empty() {
        cx.error_spanned_by(&sig.generics, "notification handlers cannot be generic");
        ok = false;
    }
    let mut inputs = sig.inputs.iter().peekable();
    match inputs.peek() {
        Some(FnArg::Receiver(receiver)) => {
            if receiver.reference.is_none() || receiver.mutability.is_some() {
                cx.error_spanned_by(receiver, "notification handlers take `&self` first");
                ok = false;
            }
            inputs.next();
        }
        _ => {
            cx.error_spanned_by(&sig.inputs, "notification handlers take `&self` first");
            return None;
        }
    }
    let expected = if batch {
        "`batch: Vec<Notification<Payload>>`"
    } else {
        "`notification: Notification<Payload>`"
    };
    let argument = inputs.next();
    let payload = match argument {
        Some(FnArg::Typed(typed)) => match payload_of(&typed.ty, batch) {
            Some(payload) => payload,
            None => {
                cx.error_spanned_by(
                    &typed.ty,
                    format!("a notification handler's argument is {expected}"),
                );
                return None;
            }
        },
        _ => {
            cx.error_spanned_by(
                &sig.ident,
                format!("a notification handler takes one argument after `&self`: {expected}"),
            );
            return None;
        }
    };
    if let Some(extra) = inputs.next() {
        cx.error_spanned_by(
            extra,
            format!("a notification handler takes one argument after `&self`: {expected}"),
        );
        ok = false;
    }
    let payload_span = match (&payload, argument) {
        (Some(ty), _) => ty.span(),
        (None, Some(arg)) => arg.span(),
        (None, None) => sig.ident.span(),
    };
    let output = match &sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => ty.to_token_stream(),
    };
    ok.then(|| Handler {
        method: sig.ident.clone(),
        variant,
        payload,
        payload_span,
        output,
    })
}

/// `P` of `Notification<P>` (`Some(None)` for a bare `Notification`), inside `Vec<..>` for
/// batches; `None` when the type has another shape.
fn payload_of(ty: &Type, batch: bool) -> Option<Option<Type>> {
    let ty = if batch {
        single_generic(ty, "Vec")??
    } else {
        ty.clone()
    };
    match last_segment(&ty, "Notification")? {
        PathArguments::None => Some(None),
        PathArguments::AngleBracketed(args) if args.args.len() == 1 => match &args.args[0] {
            GenericArgument::Type(payload) => Some(Some(payload.clone())),
            _ => None,
        },
        _ => None,
    }
}

fn single_generic(ty: &Type, name: &str) -> Option<Option<Type>> {
    match last_segment(ty, name)? {
        PathArguments::AngleBracketed(args) if args.args.len() == 1 => match &args.args[0] {
            GenericArgument::Type(inner) => Some(Some(inner.clone())),
            _ => Some(None),
        },
        _ => Some(None),
    }
}

fn last_segment<'t>(ty: &'t Type, name: &str) -> Option<&'t PathArguments> {
    match ty {
        Type::Path(path) if path.qself.is_none() => {
            let last = path.path.segments.last()?;
            (last.ident == name).then_some(&last.arguments)
        }
        _ => None,
    }
}

fn generate(block: &ItemImpl, handlers: &[Handler], args: &Args) -> TokenStream {
    let krate = &args.krate;
    let notify = quote!(#krate::__private::runtime::notify);
    let self_ty = &block.self_ty;
    let (impl_generics, _, where_clause) = block.generics.split_for_impl();
    let endpoint_name = self_ty.to_token_stream().to_string().replace(' ', "");
    // In oslo's order, whatever the order of the methods.
    let variants: Vec<&syn::Ident> = PRIORITIES
        .iter()
        .filter_map(|(_, name)| handlers.iter().find(|h| h.variant == name))
        .map(|h| &h.variant)
        .collect();
    let arms = handlers.iter().map(|h| {
        let method = &h.method;
        let variant = &h.variant;
        let payload = match &h.payload {
            Some(ty) => quote!(#ty),
            None => quote!(#krate::__private::serde_json::Value),
        };
        let decode = if args.batch {
            quote_spanned!(h.payload_span=> #notify::decode_batch_for_handler::<#payload>)
        } else {
            quote_spanned!(h.payload_span=> #notify::decode_for_handler::<#payload>)
        };
        // The bound is checked on the user's return type, where an error then points.
        let output = &h.output;
        let outcome = quote_spanned!(output.span()=> #notify::outcome_of::<#output>());
        let call = if args.batch {
            quote! {
                let batch = #decode(#endpoint_name, priority, raw);
                if batch.is_empty() {
                    return #notify::Outcome::Handled;
                }
                #outcome(<#self_ty>::#method(self, batch).await)
            }
        } else {
            quote! {
                match #decode(#endpoint_name, priority, raw) {
                    ::core::option::Option::Some(notification) => {
                        #outcome(<#self_ty>::#method(self, notification).await)
                    }
                    ::core::option::Option::None => #notify::Outcome::Handled,
                }
            }
        };
        quote! {
            #notify::Priority::#variant => ::std::boxed::Box::pin(async move { #call }),
        }
    });
    let (trait_name, method, raw_ty) = if args.batch {
        (
            quote!(BatchNotificationEndpoint),
            quote!(handle_batch),
            quote!([#notify::RawNotification]),
        )
    } else {
        (
            quote!(NotificationEndpoint),
            quote!(handle),
            quote!(#notify::RawNotification),
        )
    };
    quote! {
        impl #impl_generics #notify::#trait_name for #self_ty #where_clause {
            fn priorities(&self) -> &[#notify::Priority] {
                &[#(#notify::Priority::#variants),*]
            }

            fn #method<'a>(
                &'a self,
                priority: #notify::Priority,
                raw: &'a #raw_ty,
            ) -> #krate::__private::runtime::transport::BoxFuture<'a, #notify::Outcome> {
                match priority {
                    #(#arms)*
                    #[allow(unreachable_patterns)]
                    _ => ::std::boxed::Box::pin(::std::future::ready(#notify::Outcome::Handled)),
                }
            }
        }
    }
}
