//! The `#[rpc_endpoint]` attribute and `#[derive(VersionedObject)]` of oslo-rpc. Use it through the facade crate
//! (`oslo_rpc::rpc_endpoint`), whose documentation shows what it generates: generated code
//! names the runtime as `::oslo_rpc::__private`, so this crate is not useful on its own.
//!
//! The expansion is built like serde_derive's: `parse` reads the attribute arguments and
//! the trait into a `model`, `check` applies one function per rule and collects every
//! error with its span (`ctxt`), and `codegen` writes the output from the validated
//! model only (`schema` derives JSON Schema from type spellings, `version` reads oslo
//! versions). On any error the user's trait is still emitted (without our helper
//! attributes), so completion and navigation keep working while the errors are shown.

mod check;
mod codegen;
mod ctxt;
mod model;
mod notify;
mod object;
mod parse;
mod schema;
mod version;

use proc_macro::TokenStream;

/// Turns a trait into a typed oslo.messaging client and a server dispatch table.
///
/// See `oslo_rpc::rpc_endpoint` for the documentation.
#[proc_macro_attribute]
pub fn rpc_endpoint(attr: TokenStream, item: TokenStream) -> TokenStream {
    codegen::expand(attr.into(), item.into()).into()
}

/// Turns an `impl` block of notification handlers into a notification endpoint.
///
/// See `oslo_rpc::notification_endpoint` for the documentation.
#[proc_macro_attribute]
pub fn notification_endpoint(attr: TokenStream, item: TokenStream) -> TokenStream {
    notify::expand(attr.into(), item.into()).into()
}

/// Derives `VersionedObject`, `Serialize` and `Deserialize` for a struct that travels as
/// an oslo versioned object.
///
/// See `oslo_rpc::VersionedObject` for the documentation.
#[proc_macro_derive(VersionedObject, attributes(versioned_object))]
pub fn derive_versioned_object(input: TokenStream) -> TokenStream {
    object::expand(input.into()).into()
}
