//! Property tests (issue 12, item 4), with proptest: what the codec writes it reads back
//! exactly (requests with their contexts, replies, failures), every f64 crosses Python's
//! JSON dialect bit for bit, strings with any Unicode scalar survive, and text Python
//! writes with lone surrogates is read; a transport URL parses, displays and parses again
//! to the same URL but for the passwords it hides. The exact bytes Python writes are
//! pinned by the fixture and float tests of the codec; these check the laws around them.

use oslo_rpc::Context;
use oslo_rpc::error::RemoteError;
use oslo_rpc::url::TransportUrl;
use proptest::prelude::*;
use rpc_runtime::wire::{
    self, CallHeader, FailureField, RawJson, RequestHeader, decode_failure, decode_reply,
    decode_request, encode_failure, encode_reply, encode_request, json,
};
use serde_json::{Map, Number, Value};

/// Doubles of every kind: any bit pattern (NaN payloads, subnormals, both zeros,
/// infinities), and the special values often.
fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => any::<u64>().prop_map(f64::from_bits),
        1 => prop::sample::select(vec![
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            0.0,
            f64::MIN_POSITIVE,
            5e-324,
            -5e-324,
            f64::MAX,
            f64::MIN,
            f64::EPSILON,
        ]),
        2 => any::<f64>(),
    ]
}

/// Strings of any Unicode scalars, ASCII controls and quotes included.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<String>(),
        1 => prop::collection::vec(
            prop::sample::select(vec!['"', '\\', '/', '\n', '\u{0}', '\u{1f}', '\u{7f}', 'é', '\u{2028}', '\u{ffff}', '😀', '\u{10ffff}']),
            0..12,
        )
        .prop_map(|chars| chars.into_iter().collect()),
        // Long plain runs around anything: the decoder takes runs it found plain while it
        // unescaped the envelope without scanning them again (issue 16).
        1 => (0usize..1_600, any::<String>(), 0usize..1_600).prop_map(|(before, middle, after)| {
            format!("{}{middle}{}", "plain ".repeat(before / 6), "text.".repeat(after / 5))
        }),
    ]
}

/// JSON values a serde `Value` can hold (finite numbers), a few levels deep.
fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((any_text(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

fn any_object() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec((any_text(), any_value()), 0..6)
        .prop_map(|entries| entries.into_iter().collect())
}

fn any_number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<u64>().prop_map(Number::from),
        any::<i64>().prop_map(Number::from),
        any::<f64>().prop_filter_map("finite", Number::from_f64),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Every double is written in Python's dialect (NaN, Infinity, -Infinity as bare
    /// tokens, repr digits otherwise) and read back with the same bits; NaN stays NaN.
    #[test]
    fn every_f64_crosses_the_python_dialect_bit_exact(value in any_f64()) {
        let text = json::to_string(&value).unwrap();
        prop_assert!(text.is_ascii());
        let back: f64 = json::from_str(&text).unwrap();
        if value.is_nan() {
            prop_assert!(back.is_nan(), "{text}");
        } else {
            prop_assert_eq!(back.to_bits(), value.to_bits(), "{}", text);
        }
        // Inside an array too, where the reader sees a delimiter after the number.
        let list = json::to_string(&vec![value, value]).unwrap();
        let back: Vec<f64> = json::from_str(&list).unwrap();
        prop_assert!(back.iter().all(|b| b.to_bits() == value.to_bits() || (value.is_nan() && b.is_nan())));
    }

    /// Any string is written as pure ASCII (`ensure_ascii`, surrogate pairs above the BMP)
    /// and read back unchanged.
    #[test]
    fn every_string_round_trips_as_ascii(text in any_text()) {
        let written = json::to_string(&text).unwrap();
        prop_assert!(written.is_ascii(), "{}", written);
        let back: String = json::from_str(&written).unwrap();
        prop_assert_eq!(back, text);
    }

    /// Text as Python's `json.dumps` writes it, lone surrogates included (`"\ud800"`,
    /// which a Rust string cannot hold): read without error, each lone surrogate as
    /// U+FFFD, every other escape as the character it stands for.
    #[test]
    fn python_escapes_and_lone_surrogates_are_read(
        pieces in prop::collection::vec(
            prop_oneof![
                any::<char>().prop_map(Some),
                (0xD800u32..0xE000).prop_map(|_| None),
            ],
            0..16,
        ),
        lone in prop::collection::vec(0xD800u32..0xE000, 16),
    ) {
        let mut literal = String::from("\"");
        let mut expected = String::new();
        for (piece, unit) in pieces.iter().zip(lone.iter().cycle()) {
            match piece {
                Some(c) => {
                    // Python: ensure_ascii escapes every non-ASCII and control character.
                    if c.is_ascii() && !c.is_ascii_control() && *c != '"' && *c != '\\' {
                        literal.push(*c);
                    } else {
                        let mut units = [0u16; 2];
                        for unit in c.encode_utf16(&mut units) {
                            literal.push_str(&format!("\\u{unit:04x}"));
                        }
                    }
                    expected.push(*c);
                }
                None => {
                    literal.push_str(&format!("\\u{unit:04x}"));
                    expected.push(char::REPLACEMENT_CHARACTER);
                }
            }
        }
        literal.push('"');
        // Two lone surrogates side by side can form a pair; Python pairs them too.
        let paired = pieces.windows(2).enumerate().any(|(i, w)| {
            w[0].is_none() && w[1].is_none() && (0xD800..0xDC00).contains(&lone[i % 16]) && (0xDC00..0xE000).contains(&lone[(i + 1) % 16])
        });
        let back: Result<String, _> = json::from_str(&literal);
        prop_assert!(back.is_ok(), "{literal}");
        if !paired {
            prop_assert_eq!(back.unwrap(), expected);
        }
    }

    /// A request is read back as written: every header field, the context keys and
    /// values in order, each argument's value.
    #[test]
    fn requests_round_trip(
        method in any_text(),
        namespace in prop::option::of(any_text()),
        version in prop::option::of(any_text()),
        call in prop::option::of((any_text(), any_text(), prop::option::of(any_number()))),
        unique_id in any_text(),
        context in any_object(),
        args in any_object(),
    ) {
        let context = Context::from_map(context);
        let header = RequestHeader {
            method: &method,
            namespace: namespace.as_deref(),
            version: version.as_deref(),
            call: call.as_ref().map(|(msg_id, reply_q, timeout)| CallHeader {
                msg_id,
                reply_q,
                call_monitor_timeout: timeout.as_ref(),
            }),
            unique_id: &unique_id,
            context: &context,
        };
        let body = encode_request(&header, &args).unwrap();
        prop_assert!(body.is_ascii());
        let request = decode_request(&body).unwrap();
        prop_assert_eq!(&request.method, &method);
        prop_assert_eq!(&request.namespace, &namespace);
        prop_assert_eq!(&request.version, &version);
        prop_assert_eq!(request.unique_id.as_deref(), Some(unique_id.as_str()));
        prop_assert_eq!(&request.context, &context);
        prop_assert_eq!(request.problem.as_deref(), None);
        match &call {
            Some((msg_id, reply_q, timeout)) => {
                prop_assert_eq!(request.msg_id.as_deref(), Some(msg_id.as_str()));
                prop_assert_eq!(request.reply_q.as_deref(), Some(reply_q.as_str()));
                prop_assert_eq!(&request.call_monitor_timeout, timeout);
            }
            None => prop_assert!(!request.is_call()),
        }
        prop_assert_eq!(request.args.to_map().unwrap(), args);
    }

    /// A request body is written in one pass straight into the envelope's string, and is
    /// byte for byte the inner message written first and then sealed (issue 16).
    #[test]
    fn requests_are_their_sealed_inner_message(
        method in any_text(),
        namespace in prop::option::of(any_text()),
        call in prop::option::of((any_text(), any_text(), prop::option::of(any_number()))),
        unique_id in any_text(),
        context in any_object(),
        args in any_object(),
    ) {
        let context = Context::from_map(context);
        let header = RequestHeader {
            method: &method,
            namespace: namespace.as_deref(),
            version: Some("1.0"),
            call: call.as_ref().map(|(msg_id, reply_q, timeout)| CallHeader {
                msg_id,
                reply_q,
                call_monitor_timeout: timeout.as_ref(),
            }),
            unique_id: &unique_id,
            context: &context,
        };
        let mut inner = Vec::new();
        inner.extend_from_slice(b"{\"method\": ");
        json::write_str(&mut inner, &method);
        inner.extend_from_slice(b", \"args\": ");
        json::to_writer(&mut inner, &args).unwrap();
        if let Some(namespace) = &namespace {
            inner.extend_from_slice(b", \"namespace\": ");
            json::write_str(&mut inner, namespace);
        }
        inner.extend_from_slice(b", \"version\": \"1.0\"");
        if let Some((msg_id, reply_q, timeout)) = &call {
            inner.extend_from_slice(b", \"_msg_id\": ");
            json::write_str(&mut inner, msg_id);
            inner.extend_from_slice(b", \"_reply_q\": ");
            json::write_str(&mut inner, reply_q);
            inner.extend_from_slice(b", \"_timeout\": ");
            json::to_writer(&mut inner, timeout).unwrap();
        }
        inner.extend_from_slice(b", \"_unique_id\": ");
        json::write_str(&mut inner, &unique_id);
        for (key, value) in context.iter() {
            let mut quoted = Vec::new();
            json::write_str(&mut quoted, key);
            inner.extend_from_slice(b", \"_context_");
            inner.extend_from_slice(&quoted[1..]);
            inner.extend_from_slice(b": ");
            json::to_writer(&mut inner, value).unwrap();
        }
        inner.push(b'}');
        let body = encode_request(&header, &args).unwrap();
        prop_assert_eq!(
            String::from_utf8(body).unwrap(),
            String::from_utf8(wire::seal_envelope(&inner)).unwrap()
        );
    }

    /// A reply body likewise: the inner message written first and then sealed, for
    /// results written by any encoder (raw non-ASCII text, whitespace between tokens).
    #[test]
    fn replies_are_their_sealed_inner_message(
        result in any_value(),
        pretty in any::<bool>(),
        failure in prop::option::of(any_text()),
        ending in any::<bool>(),
        msg_id in any_text(),
        unique_id in any_text(),
    ) {
        let raw = if pretty {
            RawJson::from_string(serde_json::to_string_pretty(&result).unwrap()).unwrap()
        } else {
            RawJson::from_serialize(&result).unwrap()
        };
        let mut inner = Vec::new();
        inner.extend_from_slice(b"{\"result\": ");
        inner.extend_from_slice(raw.as_str().as_bytes());
        inner.extend_from_slice(b", \"failure\": ");
        match &failure {
            Some(text) => json::write_str(&mut inner, text),
            None => inner.extend_from_slice(b"null"),
        }
        inner.extend_from_slice(if ending { b", \"ending\": true" } else { b", \"ending\": false" });
        inner.extend_from_slice(b", \"_msg_id\": ");
        json::write_str(&mut inner, &msg_id);
        inner.extend_from_slice(b", \"_unique_id\": ");
        json::write_str(&mut inner, &unique_id);
        inner.push(b'}');
        let body = encode_reply(Some(&raw), failure.as_deref(), ending, &msg_id, &unique_id);
        prop_assert_eq!(
            String::from_utf8(body).unwrap(),
            String::from_utf8(wire::seal_envelope(&inner)).unwrap()
        );
    }

    /// A method's result as the server writes it (once, already escaped for the reply's
    /// envelope: `dispatch::encode_result`) gives the reply the plain encoding gives, for
    /// any value, raw text from another encoder included, and reads as that encoding.
    #[test]
    fn results_written_escaped_make_the_same_replies(
        result in any_value(),
        theirs in any_value(),
        failure in prop::option::of(any_text()),
        ending in any::<bool>(),
        msg_id in any_text(),
    ) {
        let theirs = RawJson::from_string(serde_json::to_string_pretty(&theirs).unwrap()).unwrap();
        let value = (&result, &theirs);
        let plain = RawJson::from_serialize(&value).unwrap();
        let escaped = rpc_runtime::dispatch::encode_result(&value).unwrap();
        let body = encode_reply(Some(&escaped), failure.as_deref(), ending, &msg_id, "u");
        prop_assert_eq!(
            String::from_utf8(body).unwrap(),
            String::from_utf8(encode_reply(Some(&plain), failure.as_deref(), ending, &msg_id, "u"))
                .unwrap()
        );
        prop_assert_eq!(escaped.as_str(), plain.as_str());
        prop_assert_eq!(
            escaped.deserialize_into::<Value>().unwrap(),
            plain.deserialize_into::<Value>().unwrap()
        );
    }

    /// Arguments captured from a request decode as their text does, strings without
    /// escapes (which decoding takes without scanning them again) as any other; the
    /// strings come written by us and as Python may write them (lone surrogates).
    #[test]
    fn captured_arguments_decode_as_their_text(
        text in any_text(),
        value in any_value(),
        lone in 0xD800u32..0xE000,
    ) {
        let python = format!("\"{}\\u{lone:04x}\"", text.replace(['"', '\\'], ""));
        let python = python.chars().filter(|c| !c.is_control()).collect::<String>();
        let inner = format!(
            "{{\"method\": \"m\", \"args\": {{\"s\": {}, \"v\": {}, \"p\": {}, \"q\": {}}}}}",
            json::to_string(&text).unwrap(),
            json::to_string(&value).unwrap(),
            python,
            json::to_string(&text.replace(['"', '\\'], "")).unwrap(),
        );
        let request = decode_request(&wire::seal_envelope(inner.as_bytes())).unwrap();
        prop_assert_eq!(request.args.len(), 4);
        for (name, raw) in request.args.iter() {
            let fresh = RawJson::from_string(raw.as_str().to_owned()).unwrap();
            prop_assert_eq!(
                raw.deserialize_into::<Value>().map_err(|e| e.to_string()),
                fresh.deserialize_into::<Value>().map_err(|e| e.to_string()),
                "{}", name
            );
            prop_assert_eq!(
                raw.deserialize_into::<String>().map_err(|e| e.to_string()),
                fresh.deserialize_into::<String>().map_err(|e| e.to_string()),
                "{}", name
            );
            prop_assert_eq!(
                raw.deserialize_into::<Option<String>>().map_err(|e| e.to_string()),
                fresh.deserialize_into::<Option<String>>().map_err(|e| e.to_string()),
                "{}", name
            );
        }
        prop_assert_eq!(request.args.get("s").unwrap().deserialize_into::<String>().unwrap(), text);
    }

    /// A reply is read back as written: result, failure text, ending, ids.
    #[test]
    fn replies_round_trip(
        result in any_value(),
        failure in prop::option::of(any_text()),
        ending in any::<bool>(),
        msg_id in any_text(),
        unique_id in any_text(),
    ) {
        let raw = RawJson::from_serialize(&result).unwrap();
        let body = encode_reply(Some(&raw), failure.as_deref(), ending, &msg_id, &unique_id);
        let reply = decode_reply(&body).unwrap();
        prop_assert_eq!(reply.result.deserialize_into::<Value>().unwrap(), result);
        match &failure {
            Some(text) => prop_assert_eq!(&reply.failure, &FailureField::Json(text.clone())),
            None => prop_assert_eq!(&reply.failure, &FailureField::None),
        }
        prop_assert_eq!(reply.ending, Some(ending));
        prop_assert_eq!(reply.msg_id.as_deref(), Some(msg_id.as_str()));
        prop_assert_eq!(reply.unique_id.as_deref(), Some(unique_id.as_str()));
    }

    /// A failure is read back as written (class and module without the `_Remote`
    /// suffix that encoding strips, spec §5.1).
    #[test]
    fn failures_round_trip(
        class in any_text().prop_filter("no _Remote", |c| !c.ends_with("_Remote")),
        module in any_text(),
        message in any_text(),
        traceback in prop::collection::vec(any_text(), 0..4),
        args in prop::collection::vec(any_value(), 0..4),
        kwargs in any_object(),
    ) {
        // RemoteError is non-exhaustive: made with `new`, then its public fields set.
        let mut error = RemoteError::new(class, module, message);
        error.traceback = traceback;
        error.args = args;
        error.kwargs = kwargs;
        let text = encode_failure(&error).unwrap();
        prop_assert_eq!(decode_failure(&text).unwrap(), error.clone());
        // Carried in a reply, as a JSON string in a JSON string.
        let body = encode_reply(None, Some(&text), true, "m", "u");
        match decode_reply(&body).unwrap().failure {
            FailureField::Json(carried) => prop_assert_eq!(decode_failure(&carried).unwrap(), error),
            other => prop_assert!(false, "{other:?}"),
        }
    }

    /// URL parse -> display -> parse gives the same URL, the passwords aside (Display
    /// shows `***`); the first parse recovers what was percent-encoded.
    #[test]
    fn urls_parse_display_parse(
        kombu in any::<bool>(),
        hosts in prop::collection::vec(
            (
                prop::option::of((any_text(), prop::option::of(any_text()))),
                prop_oneof!["[a-z][a-z0-9.-]{0,20}", Just("::1".to_owned()), "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}"],
                prop::option::of(1u16..),
            ),
            0..4,
        ),
        vhost in prop::option::of(any_text()),
        heartbeat in prop::option::of(0i64..1000),
        durable in prop::option::of(any::<bool>()),
    ) {
        let mut text = format!("{}://", if kombu { "kombu" } else { "rabbit" });
        for (i, (credentials, host, port)) in hosts.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            if let Some((user, password)) = credentials {
                text.push_str(&encode(user));
                if let Some(password) = password {
                    text.push(':');
                    text.push_str(&encode(password));
                }
                text.push('@');
            }
            if host.contains(':') {
                text.push_str(&format!("[{host}]"));
            } else {
                text.push_str(host);
            }
            if let Some(port) = port {
                text.push_str(&format!(":{port}"));
            }
        }
        if let Some(vhost) = &vhost {
            text.push('/');
            text.push_str(&encode(vhost));
        }
        let mut query = Vec::new();
        if let Some(heartbeat) = heartbeat {
            query.push(format!("heartbeat_timeout_threshold={heartbeat}"));
        }
        if let Some(durable) = durable {
            query.push(format!("amqp_durable_queues={durable}"));
        }
        if !query.is_empty() {
            text.push('?');
            text.push_str(&query.join("&"));
        }
        let url = TransportUrl::parse(&text).unwrap();
        prop_assert_eq!(url.hosts().len(), hosts.len());
        for (parsed, (credentials, host, port)) in url.hosts().iter().zip(&hosts) {
            prop_assert_eq!(&parsed.hostname, host);
            prop_assert_eq!(&parsed.port, port);
            prop_assert_eq!(parsed.username.as_ref(), credentials.as_ref().map(|(user, _)| user));
            prop_assert_eq!(
                parsed.password.as_ref().map(|p| p.expose()),
                credentials.as_ref().and_then(|(_, p)| p.as_deref())
            );
        }
        prop_assert_eq!(url.virtual_host(), vhost.as_deref());
        let shown = url.to_string();
        for (credentials, _, _) in &hosts {
            if let Some((_, Some(password))) = credentials
                && password.len() > 3 {
                    prop_assert!(!shown.contains(&encode(password)), "{}", shown);
                }
        }
        let again = TransportUrl::parse(&shown).unwrap();
        prop_assert_eq!(again.scheme(), url.scheme());
        prop_assert_eq!(again.virtual_host(), url.virtual_host());
        prop_assert_eq!(again.query(), url.query());
        prop_assert_eq!(again.rabbit_options(), url.rabbit_options());
        prop_assert_eq!(again.hosts().len(), url.hosts().len());
        for (a, b) in again.hosts().iter().zip(url.hosts()) {
            prop_assert_eq!(&a.hostname, &b.hostname);
            prop_assert_eq!(&a.port, &b.port);
            prop_assert_eq!(&a.username, &b.username);
            prop_assert_eq!(a.password.is_some(), b.password.is_some());
        }
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters, as `urllib.parse.quote`
/// with `safe=""` does.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The envelope carries any inner text unchanged.
#[test]
fn the_envelope_carries_any_text() {
    proptest!(|(inner in any_text())| {
        let sealed = wire::seal_envelope(inner.as_bytes());
        prop_assert!(sealed.is_ascii());
        prop_assert_eq!(wire::open_envelope(&sealed).unwrap(), inner);
    });
}
