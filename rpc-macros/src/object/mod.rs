//! `#[derive(VersionedObject)]`, built like the endpoint macro: `model` reads the struct and
//! its `#[versioned_object(...)]` attributes, `check` applies one function per rule and
//! collects every error with its span, `codegen` writes the impls (`VersionedObject`,
//! `Serialize`, `Deserialize`) from the validated model only.

mod check;
mod codegen;
mod model;

use proc_macro2::TokenStream;

use crate::ctxt::Ctxt;

/// The expansion: the impls, or one `compile_error!` per mistake.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let input = match syn::parse2::<syn::DeriveInput>(input) {
        Ok(input) => input,
        Err(error) => return error.into_compile_error(),
    };
    let mut cx = Ctxt::default();
    let object = model::Object::from_ast(&mut cx, &input);
    check::check(&mut cx, &object);
    if !cx.is_ok() {
        return cx.into_compile_errors();
    }
    codegen::generate(&object)
}
