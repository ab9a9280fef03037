//! The endpoint's schema as JSON text, written at expansion time and parsed by the
//! runtime's `EndpointSchema` (the field names are that type's serde names).

use syn::ext::IdentExt;

use super::Generator;
use crate::model::Output;
use crate::schema::{Json, type_schema, type_text};

impl Generator<'_> {
    pub(super) fn schema_json(&self) -> String {
        let methods = self
            .methods
            .iter()
            .map(|generated| {
                let method = generated.method;
                let args = method
                    .args
                    .iter()
                    .map(|arg| {
                        let mut entries = vec![("name".to_owned(), Json::str(arg.wire_name()))];
                        if let Some(since) = &arg.since {
                            entries
                                .push(("since".to_owned(), Json::str(since.version.to_string())));
                        }
                        entries.push((
                            "required".to_owned(),
                            Json::Bool(arg.option_inner.is_none()),
                        ));
                        entries.push(("schema".to_owned(), type_schema(&arg.ty)));
                        Json::Object(entries)
                    })
                    .collect();
                let (returns, error) = match &method.output {
                    Output::Result { ok, err } => (type_schema(ok), Json::str(type_text(err))),
                    Output::Other(_) => (Json::Object(Vec::new()), Json::Null),
                };
                Json::object([
                    ("name", Json::str(&method.wire_name)),
                    ("rust_name", Json::str(method.ident().unraw().to_string())),
                    ("since", Json::str(generated.since.to_string())),
                    ("args", Json::Array(args)),
                    ("returns", returns),
                    ("error", error),
                ])
            })
            .collect();
        let namespace = match &self.endpoint.namespace {
            Some(namespace) => Json::str(namespace.value()),
            None => Json::Null,
        };
        Json::object([
            ("name", Json::str(self.trait_ident.unraw().to_string())),
            ("namespace", namespace),
            ("version", Json::str(self.version.to_string())),
            ("methods", Json::Array(methods)),
        ])
        .to_text()
    }
}
