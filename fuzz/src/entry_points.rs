//! What the fuzz targets feed: everything oslo-rpc parses from outside, followed by what the
//! runtime does next with a value that parsed. Each function must return normally for any
//! input; a panic (including a failed `assert!` of a round trip below) is a bug.
//!
//! Compiled twice: by the cargo-fuzz targets (`fuzz/fuzz_targets/*.rs`, nightly) and by the
//! corpus replay test of the main workspace (`tests/fuzz_corpus.rs`, stable), so a crash
//! once fixed stays fixed.

#![allow(unreachable_pub)]

use oslo_rpc::RpcVersion;
use oslo_rpc::config::OsloConfig;
use oslo_rpc::schema::{EndpointSchema, check_evolution};
use oslo_rpc::url::TransportUrl;
use rpc_runtime::dispatch::{Kwargs, Param};
use rpc_runtime::wire::{self, FailureField, RawJson};
use serde_json::Value;

/// Bytes off the wire to a server: content type check, envelope, request, then what the
/// dispatcher reads (version, keyword arguments, call monitor), and a re-encoding of the
/// request that must decode to the same request.
pub fn request(data: &[u8]) {
    let Ok(request) = wire::decode_request(data) else {
        return;
    };
    let _ = request.call_monitor_seconds();
    if let Some(version) = &request.version {
        let _ = RpcVersion::parse(version);
    }
    let _ = request.args.to_map();
    const PARAMS: &[Param] = &[
        Param {
            name: "a",
            required: true,
        },
        Param {
            name: "b",
            required: false,
        },
    ];
    if let Ok(mut kwargs) = Kwargs::bind("m", request.args.clone(), PARAMS) {
        let _ = kwargs.take::<i64>("a");
        let _ = kwargs.take::<Option<String>>("b");
    }
    let body = wire::encode_request(&request.header(), &request.args)
        .expect("a decoded request encodes again");
    let again = wire::decode_request(&body).expect("a re-encoded request decodes");
    assert_eq!(again.method, request.method);
    assert_eq!(again.args, request.args);
    assert_eq!(again.namespace, request.namespace);
    assert_eq!(again.version, request.version);
    // A request with only one of `_msg_id` and `_reply_q` cannot be answered: it is
    // re-encoded as a cast.
    assert_eq!(again.is_call(), request.is_call());
    if request.is_call() {
        assert_eq!(again.msg_id, request.msg_id);
        assert_eq!(again.reply_q, request.reply_q);
    }
    assert_eq!(
        again.context.iter().count(),
        request.context.iter().count(),
        "context keys"
    );
}

/// Bytes off the wire to a client's reply queue: the reply, its failure text, its result.
pub fn reply(data: &[u8]) {
    let Ok(reply) = wire::decode_reply(data) else {
        return;
    };
    let _ = reply.is_heartbeat();
    let _ = reply.result.deserialize_into::<Value>();
    let failure = match &reply.failure {
        FailureField::Json(text) => {
            if let Ok(remote) = wire::decode_failure(text) {
                let text = wire::encode_failure(&remote).expect("a decoded failure encodes");
                let again = wire::decode_failure(&text).expect("a re-encoded failure decodes");
                assert_eq!(again.class, remote.class);
                assert_eq!(again.module, remote.module);
                assert_eq!(again.message, remote.message);
            }
            Some(text.as_str())
        }
        _ => None,
    };
    let body = wire::encode_reply(
        Some(&reply.result),
        failure,
        reply.is_ending(),
        reply.msg_id.as_deref().unwrap_or(""),
        "u",
    );
    let again = wire::decode_reply(&body).expect("a re-encoded reply decodes");
    assert_eq!(again.result, reply.result);
}

/// Text in Python's JSON dialect: the reader (into values and as raw JSON), the writer on
/// what was read, and the envelope around it.
pub fn json(data: &[u8]) {
    let _ = wire::open_envelope(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let sealed = wire::seal_envelope(data);
    let opened = wire::open_envelope(&sealed).expect("a sealed text opens");
    assert_eq!(opened, text);
    if let Ok(value) = wire::json::from_str::<Value>(text) {
        let written = wire::json::to_string(&value).expect("a read value writes");
        let again = wire::json::from_str::<Value>(&written).expect("written JSON reads back");
        assert_eq!(again, value);
    }
    if let Ok(raw) = RawJson::from_string(text.to_owned()) {
        let _ = raw.deserialize_into::<Value>();
        let _ = raw.deserialize_into::<f64>();
        let _ = raw.deserialize_into::<Vec<Option<i128>>>();
    }
}

/// A transport URL: parsing (with its `[oslo_messaging_rabbit]` options), the driver's
/// configuration, and `Display`, whose output parses back to the same URL but for the
/// passwords it hides.
pub fn url(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(url) = TransportUrl::parse(text) else {
        return;
    };
    if url.is_rabbit() {
        let _ = rpc_runtime::transport::rabbit::RabbitDriver::new(&url);
    }
    let shown = url.to_string();
    let again = TransportUrl::parse(&shown).expect("a displayed URL parses");
    assert_eq!(again.scheme(), url.scheme());
    assert_eq!(again.virtual_host(), url.virtual_host());
    assert_eq!(again.query(), url.query());
    assert_eq!(again.hosts().len(), url.hosts().len());
    for (shown, original) in again.hosts().iter().zip(url.hosts()) {
        assert_eq!(shown.hostname, original.hostname);
        assert_eq!(shown.port, original.port);
        assert_eq!(shown.username, original.username);
        assert_eq!(shown.password.is_some(), original.password.is_some());
    }
}

/// An endpoint schema file (what `oslo-rpc schema check` reads): parsing, comparison and
/// the pretty form, which reads back the same.
pub fn schema(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(schema) = EndpointSchema::from_json(text) else {
        return;
    };
    let report = check_evolution(&schema, &schema);
    let _ = report.is_breaking();
    let pretty = schema.to_pretty_json();
    let again = EndpointSchema::from_json(&pretty).expect("a schema's pretty form reads back");
    assert_eq!(again, schema);
}

/// oslo config files (what `Transport::from_config` and `oslo-rpc --config-file` read):
/// the INI dialect, `$name` substitution, option conversion and the checks of the options
/// together, then the URL and driver they make. A NUL byte splits the input into two
/// files read in order (later values win), so references and overrides across files are
/// reached too. Errors and warnings must format.
pub fn config_reader(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let files: Vec<(&str, &str)> = match text.split_once('\0') {
        Some((first, second)) => vec![("a.conf", first), ("b.conf", second)],
        None => vec![("a.conf", text)],
    };
    let config = match OsloConfig::parse_files(files) {
        Ok(config) => config,
        Err(error) => {
            let _ = format!("{error} {error:?}");
            return;
        }
    };
    for warning in config.warnings() {
        let _ = warning.to_string();
    }
    let _ = format!("{config:?}");
    let url = config
        .transport_url()
        .map_or("rabbit://", |url| url.expose());
    let url = TransportUrl::parse_with_file_options(url, config.rabbit_values())
        .expect("the files' URL and options were checked when they were read");
    if url.is_rabbit() {
        let _ = rpc_runtime::transport::rabbit::RabbitDriver::new(&url);
    }
}
