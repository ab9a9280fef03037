//! The config reader against what oslo.config 10.x does with the same text (each case was
//! checked with the real oslo.config; `tests/oslo_config.rs` re-checks the file-level ones
//! against it on every run).

use std::time::Duration;

use super::*;
use crate::rabbit_options::{FailoverStrategy, LoginMethod};

fn parse(text: &str) -> OsloConfig {
    OsloConfig::parse("nova.conf", text).unwrap_or_else(|e| panic!("{e}"))
}

fn parse_err(text: &str) -> ConfigError {
    OsloConfig::parse("nova.conf", text).expect_err(text)
}

fn files(texts: &[(&str, &str)]) -> Result<OsloConfig, ConfigError> {
    OsloConfig::parse_files(texts.iter().copied())
}

fn values(config: &OsloConfig) -> Vec<(&str, &str)> {
    config
        .rabbit_values()
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

fn warnings(text: &str) -> Vec<String> {
    parse(text)
        .warnings()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn a_deployment_config_is_read() {
    let config = parse(
        "[DEFAULT]\n\
         debug = true\n\
         my_ip = 10.0.0.5\n\
         transport_url = rabbit://nova:s3cr3t@rabbit-1:5671,nova:s3cr3t@rabbit-2:5671/nova\n\
         control_exchange = nova\n\
         rpc_response_timeout = 120\n\
         \n\
         [database]\n\
         connection = mysql+pymysql://nova:dbpass@db/nova\n\
         \n\
         [oslo_messaging_rabbit]\n\
         ssl = True\n\
         ssl_ca_file = /etc/ssl/certs/ca.pem\n\
         rabbit_quorum_queue = true\n\
         rabbit_transient_quorum_queue = true\n\
         rabbit_stream_fanout = true\n\
         use_queue_manager = true\n\
         rabbit_qos_prefetch_count = 1\n\
         heartbeat_timeout_threshold = 30\n\
         kombu_failover_strategy = shuffle\n",
    );
    let url = config.transport_url().map(|url| url.expose());
    assert_eq!(
        url,
        Some("rabbit://nova:s3cr3t@rabbit-1:5671,nova:s3cr3t@rabbit-2:5671/nova")
    );
    assert_eq!(config.control_exchange(), Some("nova"));
    assert_eq!(
        config.rpc_response_timeout(),
        Some(Duration::from_secs(120))
    );
    let o = config.rabbit_options();
    assert!(o.ssl && o.rabbit_quorum_queue && o.rabbit_transient_quorum_queue);
    assert!(o.rabbit_stream_fanout && o.use_queue_manager);
    assert_eq!(o.ssl_ca_file, "/etc/ssl/certs/ca.pem");
    assert_eq!(
        (o.rabbit_qos_prefetch_count, o.heartbeat_timeout_threshold),
        (1, 30)
    );
    assert_eq!(o.kombu_failover_strategy, FailoverStrategy::Shuffle);
    assert_eq!(
        values(&config),
        [
            ("ssl", "True"),
            ("ssl_ca_file", "/etc/ssl/certs/ca.pem"),
            ("kombu_failover_strategy", "shuffle"),
            ("rabbit_quorum_queue", "true"),
            ("rabbit_transient_quorum_queue", "true"),
            ("rabbit_qos_prefetch_count", "1"),
            ("heartbeat_timeout_threshold", "30"),
            ("use_queue_manager", "true"),
            ("rabbit_stream_fanout", "true"),
        ]
    );
    assert!(config.warnings().is_empty(), "{:?}", config.warnings());
    assert_eq!(config.files(), ["nova.conf"]);
    let debug = format!("{config:?}");
    assert!(!debug.contains("s3cr3t"), "{debug}");
}

#[test]
fn nothing_set_means_oslo_defaults() {
    let config = parse("[DEFAULT]\n[oslo_messaging_rabbit]\n[database]\nx = 1\n");
    assert_eq!(config.transport_url(), None);
    assert_eq!(config.control_exchange(), None);
    assert_eq!(config.rpc_response_timeout(), None);
    assert_eq!(config.rabbit_options(), &RabbitOptions::default());
    assert!(config.rabbit_values().is_empty());
    assert_eq!(
        OsloConfig::parse("empty", "")
            .map(|c| c.rabbit_values().len())
            .ok(),
        Some(0)
    );
}

#[test]
fn later_files_win_option_by_option() {
    let config = files(&[
        (
            "a.conf",
            "[DEFAULT]\ncontrol_exchange = a\nrpc_response_timeout = 5\n\
             [oslo_messaging_rabbit]\nheartbeat_rate = 5\nssl = false\n",
        ),
        (
            "b.conf",
            "[DEFAULT]\ncontrol_exchange = b\n[oslo_messaging_rabbit]\nheartbeat_rate = 6\n",
        ),
    ])
    .unwrap();
    assert_eq!(config.control_exchange(), Some("b"));
    assert_eq!(config.rpc_response_timeout(), Some(Duration::from_secs(5)));
    assert_eq!(values(&config), [("ssl", "false"), ("heartbeat_rate", "6")]);
    assert_eq!(config.files(), ["a.conf", "b.conf"]);
}

#[test]
fn only_the_winning_value_is_converted() {
    // oslo converts the value it uses; one a later file overrides is never looked at.
    let config = files(&[
        ("a.conf", "[oslo_messaging_rabbit]\nssl = maybe\n"),
        ("b.conf", "[oslo_messaging_rabbit]\nssl = no\n"),
    ]);
    assert_eq!(config.map(|c| c.rabbit_options().ssl).ok(), Some(false));
    let config = parse("[oslo_messaging_rabbit]\nssl = maybe\nssl = on\n");
    assert!(config.rabbit_options().ssl);
}

#[test]
fn repeated_sections_and_keys_last_one_wins() {
    let config = parse(
        "[oslo_messaging_rabbit]\nheartbeat_rate = 1\n[DEFAULT]\n\
         [OSLO_MESSAGING_RABBIT]\nheartbeat_rate = 2\n[oslo_messaging_rabbit]\nheartbeat_rate = 3\n",
    );
    assert_eq!(config.rabbit_options().heartbeat_rate, 3);
}

#[test]
fn deprecated_name_loses_to_the_current_one_in_a_file_but_not_across_files() {
    // oslo.config: newest file first; within a file the current name first.
    let config = parse(
        "[oslo_messaging_rabbit]\nkombu_missing_consumer_retry_timeout = 1\n\
         kombu_reconnect_timeout = 2\n",
    );
    assert_eq!(
        config.rabbit_options().kombu_missing_consumer_retry_timeout,
        1
    );
    let config = files(&[
        (
            "a.conf",
            "[oslo_messaging_rabbit]\nkombu_missing_consumer_retry_timeout = 1\n",
        ),
        (
            "b.conf",
            "[oslo_messaging_rabbit]\nkombu_reconnect_timeout = 2\n",
        ),
    ])
    .unwrap();
    assert_eq!(
        config.rabbit_options().kombu_missing_consumer_retry_timeout,
        2
    );
    assert_eq!(
        values(&config),
        [("kombu_missing_consumer_retry_timeout", "2")]
    );
    assert_eq!(
        config.warnings()[0].to_string(),
        "b.conf:2: [oslo_messaging_rabbit] kombu_reconnect_timeout: deprecated name, still read: \
         use kombu_missing_consumer_retry_timeout"
    );
}

#[test]
fn values_are_converted_like_url_query_values() {
    let config = parse(
        "[oslo_messaging_rabbit]\n\
         ssl = YES\n\
         amqp_durable_queues = On\n\
         heartbeat_rate = \" 4 \"\n\
         rabbit_qos_prefetch_count = 1_0\n\
         kombu_reconnect_delay = 0.5\n\
         kombu_reconnect_splay = 1_0.5\n\
         rabbit_login_method = PLAIN\n\
         kombu_compression =\n\
         hostname = node-1\n",
    );
    let o = config.rabbit_options();
    assert!(o.ssl && o.amqp_durable_queues);
    assert_eq!((o.heartbeat_rate, o.rabbit_qos_prefetch_count), (4, 10));
    assert_eq!(
        (o.kombu_reconnect_delay, o.kombu_reconnect_splay),
        (0.5, 10.5)
    );
    assert_eq!(o.rabbit_login_method, LoginMethod::Plain);
    assert_eq!(o.kombu_compression, None, "empty is no compression in oslo");
    assert_eq!(o.hostname.as_deref(), Some("node-1"));
}

#[test]
fn multi_line_values() {
    // urlsplit drops the line breaks, so a URL may be split over lines (oslo does the same).
    let config = parse(
        "[DEFAULT]\ntransport_url = rabbit://u:p@h1:5672,\n    u:p@h2:5672/\n\
         [oslo_messaging_rabbit]\nssl_ca_file = a\n  b\n",
    );
    assert_eq!(
        config.transport_url().map(|u| u.expose()),
        Some("rabbit://u:p@h1:5672,\nu:p@h2:5672/")
    );
    assert_eq!(config.rabbit_options().ssl_ca_file, "a\nb");
    let err = parse_err("[oslo_messaging_rabbit]\nheartbeat_rate = 1\n  2\n");
    assert_eq!(
        err.to_string(),
        "nova.conf:2: invalid value \"1\\n2\" for [oslo_messaging_rabbit] heartbeat_rate: \
         expected an integer"
    );
}

#[test]
fn bad_values_name_file_line_section_option_and_value() {
    let err = files(&[
        ("/etc/nova/nova.conf", "[DEFAULT]\n"),
        (
            "/etc/nova/nova.conf.d/rabbit.conf",
            "# tuning\n[oslo_messaging_rabbit]\nssl = maybe\n",
        ),
    ])
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "/etc/nova/nova.conf.d/rabbit.conf:3: invalid value \"maybe\" for \
         [oslo_messaging_rabbit] ssl: expected a boolean (true/false, yes/no, on/off or 1/0)"
    );
    for (text, expected) in [
        (
            "[oslo_messaging_rabbit]\nrpc_conn_pool_size = 0",
            "for [oslo_messaging_rabbit] rpc_conn_pool_size: expected an integer >= 1",
        ),
        (
            "[oslo_messaging_rabbit]\nheartbeat_rate =",
            "invalid value \"\" for [oslo_messaging_rabbit] heartbeat_rate: expected an integer",
        ),
        (
            "[oslo_messaging_rabbit]\nkombu_reconnect_timeout = soon",
            "[oslo_messaging_rabbit] kombu_reconnect_timeout: expected an integer",
        ),
        (
            "[oslo_messaging_rabbit]\nrabbit_login_method = plain",
            "expected one of \"PLAIN\", \"AMQPLAIN\", \"EXTERNAL\", \"RABBIT-CR-DEMO\"",
        ),
        (
            "[DEFAULT]\nrpc_response_timeout = 1.5",
            "nova.conf:2: invalid value \"1.5\" for [DEFAULT] rpc_response_timeout: expected an integer",
        ),
        (
            "[DEFAULT]\nrpc_response_timeout = 0",
            "expected a positive number of seconds",
        ),
    ] {
        let message = parse_err(text).to_string();
        assert!(message.contains(expected), "{text:?}: {message}");
    }
}

#[test]
fn a_bad_transport_url_is_named_without_its_password() {
    for (url, expected) in [
        (
            "rabbit://nova:s3cr3t@rabbit-1:99999/",
            "invalid value \"rabbit://nova:***@rabbit-1:99999/\" for [DEFAULT] transport_url: \
             invalid port for host \"rabbit-1\"",
        ),
        (
            "nats://nova:s3cr3t@h/",
            "\"nats://nova:***@h/\" for [DEFAULT] transport_url: unsupported transport URL scheme",
        ),
        (
            "rabbit://a:s3cr3t@h1,b:s3cr3t@@h2/?ssl=maybe",
            "\"rabbit://a:***@h1,b:***@h2/?ssl=maybe\" for [DEFAULT] transport_url: invalid \
             value \"maybe\" for option \"ssl\"",
        ),
        (
            "rabbit://nova:s3cr3t@h/?heartbeat_timeout_treshold=1",
            "(did you mean \"heartbeat_timeout_threshold\"?)",
        ),
        (
            "nova:s3cr3t@h",
            "\"nova:***@h\" for [DEFAULT] transport_url: unsupported transport URL scheme",
        ),
        (
            "rabbit:nova:s3cr3t@h",
            "\"rabbit:***@h\" for [DEFAULT] transport_url",
        ),
    ] {
        let message = parse_err(&format!("[DEFAULT]\ntransport_url = {url}\n")).to_string();
        assert!(message.contains(expected), "{url}: {message}");
        assert!(message.starts_with("nova.conf:2: "), "{message}");
        assert!(!message.contains("s3cr3t"), "{message}");
    }
}

#[test]
fn parse_errors_as_oslo_config_words_them() {
    for (text, expected) in [
        (
            "x = 1",
            "nova.conf:1: Section must be started before assignment: \"x\"",
        ),
        (
            "[DEFAULT]\n[x",
            "nova.conf:2: Invalid section (must end with ]): \"[x\"",
        ),
        ("[]", "nova.conf:1: Empty section name: \"[]\""),
        (
            "[DEFAULT]\n= 1",
            "nova.conf:2: Key cannot be empty: \"= 1\"",
        ),
        (
            "[DEFAULT]\nfoo",
            "nova.conf:2: No ':' or '=' found in assignment: \"foo\"",
        ),
        (
            "[DEFAULT]\na = 1\n\n  b",
            "nova.conf:4: Unexpected continuation line: \"  b\"",
        ),
        // A line that may hold credentials is not shown.
        (
            "[DEFAULT]\ntransport_url = rabbit://h1,\n\n  u:s3cr3t@h2/",
            "nova.conf:4: Unexpected continuation line",
        ),
    ] {
        assert_eq!(parse_err(text).to_string(), expected, "{text:?}");
    }
}

#[test]
fn substitution() {
    let config = parse(
        "[DEFAULT]\n\
         control_exchange = nova\n\
         rabbit_pass = s3$$cret\n\
         transport_url = rabbit://nova:$rabbit_pass@h/\n\
         [oslo_messaging_rabbit]\n\
         ssl_ca_file = /etc/$control_exchange/ca.pem\n\
         ssl_cert_file = ${oslo_messaging_rabbit.ssl_ca_file}.crt\n\
         ssl_key_file = \\$HOME/$$x/pa$!/$\n\
         hostname = $rpc_response_timeout-$transport_url\n",
    );
    assert_eq!(
        config.transport_url().map(|u| u.expose()),
        Some("rabbit://nova:s3$cret@h/")
    );
    let o = config.rabbit_options();
    assert_eq!(o.ssl_ca_file, "/etc/nova/ca.pem");
    assert_eq!(o.ssl_cert_file, "/etc/nova/ca.pem.crt");
    assert_eq!(o.ssl_key_file, "$HOME/$x/pa$!/$");
    assert_eq!(
        o.hostname.as_deref(),
        Some("60-rabbit://nova:s3$cret@h/"),
        "defaults of the [DEFAULT] options we read"
    );
    // Values of every type are substituted before they are converted.
    let config = parse("[DEFAULT]\nflag = yes\n[oslo_messaging_rabbit]\nssl = $flag\n");
    assert!(config.rabbit_options().ssl);
}

#[test]
fn substitution_errors() {
    for (text, expected) in [
        (
            "[DEFAULT]\ntransport_url = rabbit://u:pa$word@h/",
            "nova.conf:2: [DEFAULT] transport_url: cannot substitute $word: no config file sets \
             word in [DEFAULT] (write $$ for a literal $)",
        ),
        (
            "[oslo_messaging_rabbit]\nssl_ca_file = $heartbeat_rate",
            "cannot substitute $heartbeat_rate: no config file sets that option",
        ),
        (
            "[oslo_messaging_rabbit]\nssl_ca_file = $nope",
            "no config file sets nope in [oslo_messaging_rabbit] or [DEFAULT]",
        ),
        (
            "[oslo_messaging_rabbit]\nssl_ca_file = $ssl_cert_file\nssl_cert_file = ${ssl_ca_file}",
            "nova.conf:2: [oslo_messaging_rabbit] ssl_ca_file: cannot substitute $ssl_cert_file: \
             a loop: [oslo_messaging_rabbit] ssl_cert_file -> [oslo_messaging_rabbit] \
             ssl_ca_file -> [oslo_messaging_rabbit] ssl_cert_file",
        ),
        (
            "[oslo_messaging_rabbit]\nkombu_reconnect_timeout = $kombu_missing_consumer_retry_timeout",
            "a loop",
        ),
    ] {
        let message = parse_err(text).to_string();
        assert!(message.contains(expected), "{text:?}: {message}");
    }
    // A chain longer than the limit is refused, not followed until the stack overflows.
    let mut text = String::from("[DEFAULT]\nv0 = end\n");
    for i in 1..40 {
        text.push_str(&format!("v{i} = $v{}\n", i - 1));
    }
    text.push_str("control_exchange = $v39\n");
    assert!(
        parse_err(&text)
            .to_string()
            .contains("nest more than 16 deep")
    );
}

#[test]
fn exponential_substitution_is_refused() {
    // "Billion laughs": each level doubles the text; without limits this takes forever.
    let mut text = String::from("[DEFAULT]\nv0 = 0123456789\n");
    for i in 1..10 {
        let previous = format!("$v{}", i - 1);
        text.push_str(&format!("v{i} = {}\n", previous.repeat(8)));
    }
    text.push_str("control_exchange = $v9\n");
    let message = parse_err(&text).to_string();
    assert!(
        message.contains("more than 1000 substitutions") || message.contains("exceed 65536 bytes"),
        "{message}"
    );
    // Many small references are fine.
    let mut text = String::from("[DEFAULT]\nx = y\ncontrol_exchange = ");
    text.push_str(&"$x".repeat(500));
    assert_eq!(
        parse(&text).control_exchange(),
        Some("y".repeat(500).as_str())
    );
}

#[test]
fn huge_inputs_stay_cheap() {
    // Long unknown keys and many distinct sections: did-you-mean and section warnings must
    // not go quadratic (a fuzz target feeds this parser).
    let mut text = String::from("[oslo_messaging_rabbit]\n");
    for i in 0..2000 {
        text.push_str(&format!("{}{i} = 1\n", "k".repeat(2000)));
    }
    for i in 0..20_000 {
        text.push_str(&format!("[s{i}]\na = 1\n"));
    }
    let started = std::time::Instant::now();
    let config = parse(&text);
    assert_eq!(config.warnings().len(), 2000);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn unknown_and_misplaced_options_are_warnings() {
    assert_eq!(
        warnings(
            "[DEFAULT]\n\
             transport_url = memory://\n\
             my_ip = 10.0.0.5\n\
             transport_ulr = typo\n\
             rabbit_ha_queues = true\n\
             rabbit_host = old\n\
             [oslo_messaging_rabbit]\n\
             heartbeat_timeout_treshold = 10\n\
             kombu_ssl_ca_certs = /ca\n\
             control_exchange = nova\n\
             exchange = nova\n\
             ssl_enforce_fips_mode = false\n\
             [oslo_messaging_rabit]\n\
             ssl = true\n\
             [default]\n\
             transport_url = x\n\
             [oslo_messaging_notifications]\n\
             driver = messagingv2\n"
        ),
        [
            "nova.conf:4: [DEFAULT] transport_ulr: not an oslo.messaging option (did you mean \"transport_url\"?)",
            "nova.conf:5: [DEFAULT] rabbit_ha_queues: an [oslo_messaging_rabbit] option; oslo.messaging ignores it in [DEFAULT]",
            "nova.conf:6: [DEFAULT] rabbit_host: removed from oslo.messaging, ignored: use [DEFAULT] transport_url",
            "nova.conf:8: [oslo_messaging_rabbit] heartbeat_timeout_treshold: unknown option, ignored (did you mean \"heartbeat_timeout_threshold\"?)",
            "nova.conf:9: [oslo_messaging_rabbit] kombu_ssl_ca_certs: removed from oslo.messaging, ignored: use [oslo_messaging_rabbit] ssl_ca_file",
            "nova.conf:10: [oslo_messaging_rabbit] control_exchange: a [DEFAULT] option, ignored in [oslo_messaging_rabbit]",
            "nova.conf:11: [oslo_messaging_rabbit] exchange: unknown option, ignored",
            "nova.conf:12: [oslo_messaging_rabbit] ssl_enforce_fips_mode: deprecated for removal in oslo.messaging (it has no effect since OpenSSL 3 removed FIPS_mode_set); still read",
            "nova.conf:14: [oslo_messaging_rabit]: section ignored (did you mean [oslo_messaging_rabbit]?)",
            "nova.conf:16: [default]: ignored: oslo.config only reads [DEFAULT], in capitals",
        ]
    );
    // Nothing read from the misplaced ones.
    let config = parse("[DEFAULT]\nrabbit_ha_queues = true\n[Default]\ncontrol_exchange = x\n");
    assert!(!config.rabbit_options().rabbit_ha_queues);
    assert_eq!(config.control_exchange(), None);
}

#[test]
fn conflicts_are_checked_with_the_url_query() {
    let err = parse_err("[oslo_messaging_rabbit]\nrabbit_ha_queues = 1\nrabbit_quorum_queue = 1\n");
    assert_eq!(
        err.to_string(),
        "conflicting [oslo_messaging_rabbit] options in nova.conf: rabbit_ha_queues and \
         rabbit_quorum_queue cannot both be enabled"
    );
    // The files' own transport_url query can settle it, as in oslo.
    parse(
        "[DEFAULT]\ntransport_url = rabbit://h/?rabbit_ha_queues=false\n\
         [oslo_messaging_rabbit]\nrabbit_ha_queues = 1\nrabbit_quorum_queue = 1\n",
    );
    let err = parse_err(
        "[DEFAULT]\ntransport_url = rabbit://h/?rabbit_stream_fanout=true\n\
         [oslo_messaging_rabbit]\nrabbit_transient_quorum_queue = true\n",
    );
    assert!(matches!(err, ConfigError::Conflict { .. }), "{err}");
}

#[test]
fn sources_on_disk() {
    let dir = std::env::temp_dir().join(format!("oslo-rpc-config-{}", uuid::Uuid::new_v4()));
    let conf_d = dir.join("nova.conf.d");
    std::fs::create_dir_all(conf_d.join("sub.conf")).unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap();
    write(
        "nova.conf",
        "[oslo_messaging_rabbit]\nheartbeat_rate = 1\nrabbit_retry_backoff = 1\n",
    );
    write(
        "nova.conf.d/20-b.conf",
        "[oslo_messaging_rabbit]\nheartbeat_rate = 3\n",
    );
    write(
        "nova.conf.d/10-a.conf",
        "[oslo_messaging_rabbit]\nheartbeat_rate = 2\nrabbit_retry_backoff = 2\n",
    );
    write(
        "nova.conf.d/.hidden.conf",
        "[oslo_messaging_rabbit]\nheartbeat_rate = 8\n",
    );
    write(
        "nova.conf.d/30-c.conf.bak",
        "[oslo_messaging_rabbit]\nheartbeat_rate = 9\n",
    );
    write("bad.conf", "[DEFAULT]\ncontrol_exchange = \u{e9}\n");
    let bad_utf8 = dir.join("latin1.conf");
    std::fs::write(&bad_utf8, b"[DEFAULT]\n\ncontrol_exchange = \xe9\n").unwrap();

    let source_files = ConfigSource::dir(&conf_d).files().unwrap();
    let names: Vec<_> = source_files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["10-a.conf", "20-b.conf", "sub.conf"]);

    // The directory's `sub.conf` is a directory: oslo fails on it too.
    let err = OsloConfig::load(&[
        ConfigSource::file(dir.join("nova.conf")),
        ConfigSource::dir(&conf_d),
    ]);
    assert!(matches!(err, Err(ConfigError::Read { .. })), "{err:?}");
    std::fs::remove_dir(conf_d.join("sub.conf")).unwrap();

    let rate = |sources: &[ConfigSource]| {
        OsloConfig::load(sources).map(|c| {
            let o = c.rabbit_options();
            (o.heartbeat_rate, o.rabbit_retry_backoff)
        })
    };
    let file = ConfigSource::file(dir.join("nova.conf"));
    let conf_dir = ConfigSource::dir(&conf_d);
    assert_eq!(rate(&[file.clone(), conf_dir.clone()]).unwrap(), (3, 2));
    assert_eq!(rate(&[conf_dir, file]).unwrap(), (1, 1));

    let config = OsloConfig::from_files([dir.join("bad.conf")]).unwrap();
    assert_eq!(config.control_exchange(), Some("\u{e9}"));
    let err = OsloConfig::from_files([&bad_utf8]).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}:3: not valid UTF-8", bad_utf8.display())
    );
    let err = OsloConfig::from_files([dir.join("missing.conf")]).unwrap_err();
    assert!(
        err.to_string().starts_with("cannot read config file "),
        "{err}"
    );
    assert!(err.to_string().contains("missing.conf"), "{err}");
    let err = OsloConfig::load(&[ConfigSource::dir(dir.join("missing.d"))]).unwrap_err();
    assert!(
        err.to_string().starts_with("cannot read config directory "),
        "{err}"
    );

    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_transport_from_config_files() {
    let dir = std::env::temp_dir().join(format!("oslo-rpc-config-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let a = dir.join("a.conf");
    let b = dir.join("b.conf");
    std::fs::write(
        &a,
        "[DEFAULT]\ntransport_url = memory://files\ncontrol_exchange = a\n",
    )
    .unwrap();
    std::fs::write(&b, "[DEFAULT]\ncontrol_exchange = b\n").unwrap();
    let transport = crate::Transport::from_config_files(&[&a, &b]).unwrap();
    assert_eq!(transport.url().to_string(), "memory://files");
    assert_eq!(transport.config().control_exchange, "b");
    transport.shutdown().await;
    std::fs::write(&b, "[DEFAULT]\nrpc_response_timeout = soon\n").unwrap();
    let error = crate::Transport::from_config_files(&[&a, &b]).unwrap_err();
    assert!(
        matches!(error, crate::RpcError::InvalidConfig(_)),
        "{error}"
    );
    assert!(
        error.to_string().contains("rpc_response_timeout"),
        "{error}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_transport_from_config_layers_url_query_over_file_options() {
    let config = parse(
        "[DEFAULT]\ntransport_url = memory://config-test\ncontrol_exchange = nova\n\
         rpc_response_timeout = 7\n",
    );
    let transport = crate::Transport::from_config(&config).build().unwrap();
    assert_eq!(transport.url().to_string(), "memory://config-test");
    assert_eq!(transport.config().control_exchange, "nova");
    assert_eq!(transport.config().default_timeout, Duration::from_secs(7));
    transport.shutdown().await;

    // An explicit URL replaces transport_url; explicit settings after `config` win.
    let config = parse(
        "[DEFAULT]\ntransport_url = rabbit://other/\ncontrol_exchange = nova\n\
         [oslo_messaging_rabbit]\nheartbeat_timeout_threshold = 30\nheartbeat_rate = 4\n\
         kombu_missing_consumer_retry_timeout = 9\n",
    );
    let url = crate::url::TransportUrl::parse_with_file_options(
        "rabbit://h/?heartbeat_timeout_threshold=10",
        config.rabbit_values(),
    )
    .unwrap();
    let o = url.rabbit_options().unwrap();
    assert_eq!((o.heartbeat_timeout_threshold, o.heartbeat_rate), (10, 4));
    assert!(url.option_given("heartbeat_rate") && url.option_given("heartbeat_timeout_threshold"));
    assert!(!url.option_given("rabbit_qos_prefetch_count"));

    let transport = crate::Transport::builder("memory://")
        .config(&config)
        .default_timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    assert_eq!(transport.url().to_string(), "memory://");
    assert_eq!(transport.config().control_exchange, "nova");
    assert_eq!(transport.config().default_timeout, Duration::from_secs(3));
    transport.shutdown().await;
}

#[test]
fn mangled_files_never_panic() {
    // Every prefix of a real nova.conf, and the file with each special character swapped in
    // at many places: errors are fine, panics are not.
    let nova = include_str!("../../../tests/config/samples/nova.conf");
    let boundaries: Vec<usize> = (0..=nova.len())
        .filter(|&i| nova.is_char_boundary(i))
        .collect();
    for &end in boundaries.iter().step_by(7) {
        let _ = OsloConfig::parse("prefix.conf", &nova[..end]);
    }
    let specials = [
        "[", "]", "=", ":", "$", "${", "}", "\"", "'", "#", ";", "\n", "\r", "\t", " ", "\\$",
        "$$", "é", "\u{feff}", "\u{1c}", "@", "%",
    ];
    for (index, &at) in boundaries.iter().step_by(61).enumerate() {
        let special = specials[index % specials.len()];
        let mangled = format!("{}{special}{}", &nova[..at], &nova[at..]);
        let _ = OsloConfig::parse("mangled.conf", &mangled);
    }
}

#[test]
fn oslo_concurrency_lock_path_is_read_for_the_queue_manager() {
    let config = parse(
        "[DEFAULT]\nstate_path = /var/lib/nova\n[oslo_concurrency]\nlock_path = $state_path/tmp\n",
    );
    assert_eq!(
        config.lock_path(),
        Some(std::path::Path::new("/var/lib/nova/tmp"))
    );
    // A reference to an option the files leave to the service's default: ignored, not an
    // error (the files stay readable; OSLO_LOCK_PATH applies).
    let config = parse("[oslo_concurrency]\nlock_path = $state_path/tmp\n");
    assert_eq!(config.lock_path(), None);
    assert_eq!(parse("[DEFAULT]\n").lock_path(), None);
}

#[tokio::test]
async fn the_files_lock_path_reaches_the_queue_manager() {
    // Without a lock directory a queue-manager driver cannot be built (oslo needs one
    // too); the files' [oslo_concurrency] lock_path is one.
    let dir = std::env::temp_dir();
    let config = parse(&format!(
        "[DEFAULT]\ntransport_url = rabbit://h/\n[oslo_messaging_rabbit]\n\
         use_queue_manager = true\n[oslo_concurrency]\nlock_path = {}\n",
        dir.display()
    ));
    assert_eq!(config.lock_path(), Some(dir.as_path()));
    let transport = crate::Transport::from_config(&config).build();
    assert!(transport.is_ok(), "{:?}", transport.err());
}

#[test]
fn a_value_that_references_the_transport_url_is_shown_without_its_password() {
    for text in [
        "[DEFAULT]\ntransport_url = rabbit://nova:s3cr3t@h/\nrpc_response_timeout = $transport_url\n",
        "[DEFAULT]\ntransport_url = rabbit://nova:s3cr3t@h/\n\
         [oslo_messaging_rabbit]\nssl = ${DEFAULT.transport_url}\n",
        "[DEFAULT]\nurl = rabbit://nova:s3cr3t@h/\n\
         [oslo_messaging_rabbit]\nheartbeat_rate = x $url y\n",
        "[DEFAULT]\npw = s3cr3t\ntransport_url = rabbit://nova:$pw@h/\n\
         [oslo_messaging_rabbit]\nkombu_reconnect_delay = $pw\n",
    ] {
        let error = parse_err(text);
        let message = format!("{error} {error:?}");
        assert!(message.contains("invalid value"), "{message}");
        assert!(!message.contains("s3cr3t"), "{message}");
    }
}

#[test]
fn notification_options_as_oslo_config_resolves_them() {
    // Defaults: no driver (nothing is sent), topic `notifications`, retry forever, the RPC URL.
    let config = parse("[DEFAULT]\n");
    let n = config.notifications();
    assert!(n.drivers().is_empty());
    assert_eq!(n.topics(), ["notifications"]);
    assert_eq!(n.retry(), -1);
    assert!(n.transport_url().is_none());
    // driver accumulates over assignments and files; the last topics and retry win; the list
    // is split as oslo.config's ListOpt splits it (each checked with oslo.config 10.x).
    let config = files(&[
        (
            "a.conf",
            "[oslo_messaging_notifications]\ndriver = messagingv2\ndriver = log\n\
             topics = a, b ,c,\nretry = -5\ntransport_url = rabbit://n:pw@nh/\n",
        ),
        (
            "b.conf",
            "[OSLO_MESSAGING_NOTIFICATIONS]\ndriver = noop\ntopics = \"x,y\"\n",
        ),
    ])
    .unwrap();
    let n = config.notifications();
    assert_eq!(n.drivers(), ["messagingv2", "log", "noop"]);
    assert_eq!(n.topics(), ["x", "y"]);
    assert_eq!(n.retry(), -5);
    assert_eq!(
        n.transport_url().map(|u| u.expose()),
        Some("rabbit://n:pw@nh/")
    );
    assert!(config.warnings().is_empty(), "{:?}", config.warnings());
    assert!(!format!("{config:?}").contains(":pw@"));
    let config = parse("[oslo_messaging_notifications]\ntopics =\nretry = 0\n");
    assert!(config.notifications().topics().is_empty());
    assert_eq!(config.notifications().retry(), 0);
    // References work as anywhere else.
    let config = parse(
        "[DEFAULT]\nregion = eu\n[oslo_messaging_notifications]\ntopics = ${region}.notifications\n",
    );
    assert_eq!(config.notifications().topics(), ["eu.notifications"]);
}

#[test]
fn notification_options_errors_and_warnings() {
    for (text, expected) in [
        (
            "[oslo_messaging_notifications]\nretry = often\n",
            "nova.conf:2: invalid value \"often\" for [oslo_messaging_notifications] retry: \
             expected an integer",
        ),
        (
            "[oslo_messaging_notifications]\ntopics = a,,b\n",
            "[oslo_messaging_notifications] topics: an empty topic",
        ),
        (
            "[oslo_messaging_notifications]\ntransport_url = rabbit://n:s3cr3t@h:99999/\n",
            "invalid value \"rabbit://n:***@h:99999/\" for [oslo_messaging_notifications] \
             transport_url",
        ),
        (
            "[DEFAULT]\ntransport_url = rabbit://n:s3cr3t@h/\n\
             [oslo_messaging_notifications]\nretry = $transport_url\n",
            "for [oslo_messaging_notifications] retry",
        ),
    ] {
        let message = parse_err(text).to_string();
        assert!(message.contains(expected), "{text:?}: {message}");
        assert!(!message.contains("s3cr3t"), "{message}");
    }
    assert_eq!(
        warnings("[oslo_messaging_notifications]\ndriver = routing\ntopic = x\n"),
        [
            "nova.conf:2: [oslo_messaging_notifications] driver: driver \"routing\" is not one \
             oslo-rpc has (messagingv2, messaging, log, noop); ignored, as oslo ignores a driver \
             it cannot load",
            "nova.conf:3: [oslo_messaging_notifications] topic: unknown option, ignored (did you \
             mean \"topics\"?)",
        ]
    );
}
