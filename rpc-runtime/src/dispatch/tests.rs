//! Endpoint selection as oslo does it (spec §6.1), on requests decoded from the wire.

use serde_json::json;

use super::*;
use crate::wire::{self, CallHeader, RequestHeader};

fn endpoint(
    namespace: Option<&str>,
    version: Option<(u32, u32)>,
    methods: &[&'static str],
) -> Arc<dyn Endpoint> {
    let mut builder = DynamicEndpoint::builder();
    if let Some(namespace) = namespace {
        builder = builder.namespace(namespace);
    }
    if let Some((major, minor)) = version {
        builder = builder.version(RpcVersion::new(major, minor));
    }
    let tag = format!("{}@{:?}", namespace.unwrap_or("-"), version);
    for method in methods {
        let tag = tag.clone();
        builder = builder.method(*method, move |_, _| {
            let tag = tag.clone();
            async move { Ok::<_, RpcError>(json!(tag)) }
        });
    }
    Arc::new(builder.build())
}

fn request(method: &str, namespace: Option<&str>, version: Option<&str>) -> Request {
    let ctx = Context::new();
    let header = RequestHeader {
        method,
        namespace,
        version,
        call: Some(CallHeader {
            msg_id: "m",
            reply_q: "r",
            call_monitor_timeout: None,
        }),
        unique_id: "u",
        context: &ctx,
    };
    wire::decode_request(&wire::encode_request(&header, &json!({})).unwrap()).unwrap()
}

fn dispatcher(policy: AccessPolicy) -> Dispatcher {
    Dispatcher::new(
        vec![
            endpoint(Some("calc"), Some((1, 3)), &["add", "_private"]),
            endpoint(Some("calc"), Some((2, 0)), &["add", "resize"]),
            endpoint(None, Some((2, 0)), &["ping"]),
            endpoint(None, None, &["legacy"]),
            endpoint(Some("calc"), Some((1, 5)), &["add", "late"]),
        ],
        policy,
    )
}

fn outcome(dispatcher: &Dispatcher, request: Request) -> Result<String, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    match runtime.block_on(dispatcher.dispatch(request)) {
        Ok(raw) => Ok(raw.deserialize_into::<String>().unwrap()),
        Err(failure) => Err(format!(
            "{}.{}: {}",
            failure.module, failure.class, failure.message
        )),
    }
}

#[test]
fn selection_follows_oslo() {
    let d = dispatcher(AccessPolicy::Default);
    let no_such = |m: &str| {
        Err(format!(
            "oslo_messaging.rpc.dispatcher.NoSuchMethod: Endpoint does not support RPC method {m}"
        ))
    };
    let unsupported = |v: &str, m: &str| {
        Err(format!(
            "oslo_messaging.rpc.dispatcher.UnsupportedVersion: Endpoint does not support RPC version {v}. Attempted method: {m}"
        ))
    };
    type Case<'a> = (
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        Result<String, String>,
    );
    let cases: Vec<Case<'_>> = vec![
        // Registration order: the first compatible endpoint with the method wins.
        (
            "add",
            Some("calc"),
            Some("1.0"),
            Ok("calc@Some((1, 3))".into()),
        ),
        (
            "add",
            Some("calc"),
            Some("1.3"),
            Ok("calc@Some((1, 3))".into()),
        ),
        (
            "add",
            Some("calc"),
            Some("1.4"),
            Ok("calc@Some((1, 5))".into()),
        ),
        (
            "add",
            Some("calc"),
            Some("2.0"),
            Ok("calc@Some((2, 0))".into()),
        ),
        (
            "late",
            Some("calc"),
            Some("1.2"),
            Ok("calc@Some((1, 5))".into()),
        ),
        // Compatible endpoints exist but none has the method: NoSuchMethod.
        ("resize", Some("calc"), Some("1.0"), no_such("resize")),
        ("nosuch", Some("calc"), Some("1.3"), no_such("nosuch")),
        // No endpoint can serve the version: UnsupportedVersion, with the version as sent.
        ("add", Some("calc"), Some("1.6"), unsupported("1.6", "add")),
        ("add", Some("calc"), Some("3.0"), unsupported("3.0", "add")),
        (
            "add",
            Some("calc"),
            Some("1.3.1"),
            Ok("calc@Some((1, 5))".into()),
        ),
        // The null namespace never reaches namespaced endpoints; no version means 1.0.
        ("ping", None, Some("2.0"), Ok("-@Some((2, 0))".into())),
        ("ping", None, None, no_such("ping")),
        ("legacy", None, None, Ok("-@None".into())),
        ("add", None, None, no_such("add")),
        ("add", Some("other"), None, unsupported("1.0", "add")),
        ("ping", Some("calc"), Some("2.0"), no_such("ping")),
        // The default access policy refuses private names as NoSuchMethod.
        ("_private", Some("calc"), Some("1.0"), no_such("_private")),
    ];
    for (method, namespace, version, expected) in cases {
        assert_eq!(
            outcome(&d, request(method, namespace, version)),
            expected,
            "{method} ns={namespace:?} v={version:?}"
        );
    }
}

#[test]
fn legacy_policy_allows_private_names() {
    let d = dispatcher(AccessPolicy::Legacy);
    assert_eq!(
        outcome(&d, request("_private", Some("calc"), Some("1.0"))),
        Ok("calc@Some((1, 3))".into())
    );
    let only_add = AccessPolicy::Custom(Arc::new(|m: &str| m == "add"));
    let d = dispatcher(only_add);
    assert!(outcome(&d, request("late", Some("calc"), Some("1.5"))).is_err());
}

#[test]
fn malformed_versions_and_requests_get_clear_failures() {
    let d = dispatcher(AccessPolicy::Default);
    let failure = outcome(&d, request("add", Some("calc"), Some("1"))).unwrap_err();
    assert!(
        failure.starts_with("builtins.ValueError") && failure.contains("\"1\""),
        "{failure}"
    );
    let broken =
        wire::decode_request(br#"{"method": "add", "args": null, "namespace": "calc"}"#).unwrap();
    let failure = outcome(&d, broken).unwrap_err();
    assert!(
        failure.starts_with("builtins.TypeError") && failure.contains("'args'"),
        "{failure}"
    );
}
