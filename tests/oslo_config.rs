//! The oslo config reader (`oslo_rpc::config`) against the real oslo.config, with
//! oslo.messaging 18.3.1's options registered (`tests/config/oslo_config_dump.py`, run in the
//! interop venv): a realistic nova.conf with a conf.d directory, and files written to probe
//! each rule of the format. For every case both must resolve the same values for the options
//! we read, or both must refuse the files, except for the few cases where we deliberately
//! differ, which are listed with the reason.

mod python;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use oslo_rpc::config::{ConfigSource, OsloConfig};
use oslo_rpc::transport::rabbit::options::RabbitOptions;
use serde_json::Value;
use tokio::io::AsyncWriteExt;

/// What the two readers should do with a case.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// The same values, or both refuse.
    Same,
    /// oslo.config accepts the files and we refuse them; our message contains this.
    OnlyOursRefuses(&'static str),
    /// oslo.config refuses the files (oslo.messaging alone registers too few options)
    /// and we resolve them, as the service registering the option would.
    OnlyOsloRefuses,
}

struct Case {
    name: &'static str,
    sources: Vec<ConfigSource>,
    /// `[DEFAULT]` options the service registers (as nova registers `host`).
    register: &'static [&'static str],
    expect: Expect,
}

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/config/samples")
}

/// Writes the probe files into `dir` and returns the cases over them and the samples.
fn cases(dir: &Path) -> Vec<Case> {
    let file = |name: &str, text: &[u8]| {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        ConfigSource::file(path)
    };
    let nova = ConfigSource::file(samples().join("nova.conf"));
    let conf_d = ConfigSource::dir(samples().join("nova.conf.d"));
    let same = |name, sources| Case {
        name,
        sources,
        register: &[],
        expect: Expect::Same,
    };

    let format = file(
        "format.conf",
        b"# comment = ignored\n\
          ; also a comment\n\
          [DEFAULT]\n\
          control_exchange: \"quoted exchange\" \r\n\
          rpc_response_timeout = ' 30 '\r\
          [oslo_messaging_rabbit]\n\
          ssl_ca_file = /etc/a # not a comment\n\
          ssl_cert_file = line one\n  line two\n\tline three\n  # kept\n\
          ssl_key_file = \"\n\
          ssl_version = \"TLSv1_2'\n\
          kombu_compression =\n\
          processname = nova-compute\x1c\x1f \n\
          \n\
          hostname = a = b : c\n",
    );
    let casing = file(
        "casing.conf",
        b"[DEFAULT]\nrabbit_ha_queues = true\nrabbit_host = old\n\
          [default]\ncontrol_exchange = lower\n\
          [OSLO_Messaging_Rabbit]\nSSL = true\namqp_durable_queues = yes\n\
          [ oslo_messaging_rabbit ]\namqp_auto_delete = true\n",
    );
    let numbers = file(
        "numbers.conf",
        b"[oslo_messaging_rabbit]\n\
          heartbeat_rate = \" 4 \"\n\
          rabbit_qos_prefetch_count = 1_0\n\
          conn_pool_ttl = -1\n\
          rabbit_quorum_delivery_limit = +5\n\
          kombu_reconnect_delay = 4.5\n\
          kombu_reconnect_splay = 1e-1\n\
          rabbit_interval_max = 007\n",
    );
    let booleans = file(
        "booleans.conf",
        b"[oslo_messaging_rabbit]\n\
          ssl = YES\namqp_durable_queues = On\namqp_auto_delete = 1\n\
          direct_mandatory_flag = off\nenable_cancel_on_failover = TRUE\n\
          ssl_enforce_hostname_verification = No\nrabbit_ha_queues = 0\n\
          use_queue_manager = False\n",
    );
    let repeated = file(
        "repeated.conf",
        b"[oslo_messaging_rabbit]\nheartbeat_rate = 1\nssl = maybe\n[DEFAULT]\n\
          [oslo_messaging_rabbit]\nheartbeat_rate = 2\nssl = true\nheartbeat_rate = 3\n",
    );
    let deprecated_a = file(
        "deprecated-a.conf",
        b"[oslo_messaging_rabbit]\nkombu_reconnect_timeout = 5\n\
          kombu_missing_consumer_retry_timeout = 6\nkombu_reconnect_timeout = 7\n",
    );
    let deprecated_b = file(
        "deprecated-b.conf",
        b"[oslo_messaging_rabbit]\nkombu_reconnect_timeout = 8\n",
    );
    let substitution = file(
        "substitution.conf",
        b"[DEFAULT]\n\
          control_exchange = nova\n\
          transport_url = rabbit://nova:pa$$ss\\$word@h1:5672,\n  nova:x@h2/$control_exchange\n\
          [oslo_messaging_rabbit]\n\
          ssl_ca_file = /etc/$control_exchange/ca.pem\n\
          ssl_cert_file = ${oslo_messaging_rabbit.ssl_ca_file}.crt\n\
          ssl_key_file = pa$!/$1/${ x }/end$\n\
          hostname = ${control_exchange}-$rpc_response_timeout\n\
          ssl_version = $ssl_ca_file\n",
    );
    let later_wins = file(
        "later.conf",
        b"[DEFAULT]\ncontrol_exchange = later\n[oslo_messaging_rabbit]\nheartbeat_rate = 9\n",
    );
    let dir_first = ConfigSource::dir(samples().join("nova.conf.d"));

    let mut cases = vec![
        Case {
            name: "nova.conf",
            sources: vec![nova.clone()],
            register: &["host"],
            expect: Expect::Same,
        },
        Case {
            name: "nova.conf + nova.conf.d",
            sources: vec![nova.clone(), conf_d.clone()],
            register: &["host"],
            expect: Expect::Same,
        },
        Case {
            name: "--config-dir before --config-file",
            sources: vec![dir_first, nova.clone(), later_wins.clone()],
            register: &["host"],
            expect: Expect::Same,
        },
        Case {
            name: "nova.conf without its service's options",
            sources: vec![nova],
            register: &[],
            expect: Expect::OnlyOsloRefuses,
        },
        same("format", vec![format]),
        same("casing", vec![casing]),
        same("numbers", vec![numbers]),
        same("booleans", vec![booleans]),
        same("repeated sections and keys", vec![repeated]),
        same("deprecated name in one file", vec![deprecated_a.clone()]),
        same(
            "deprecated name in a later file",
            vec![deprecated_a, deprecated_b],
        ),
        same("substitution", vec![substitution]),
    ];

    let refused = [
        ("bad boolean", "[oslo_messaging_rabbit]\nssl = maybe\n"),
        (
            "float for an integer",
            "[oslo_messaging_rabbit]\nheartbeat_rate = 1.5\n",
        ),
        (
            "below the minimum",
            "[oslo_messaging_rabbit]\nrpc_conn_pool_size = 0\n",
        ),
        (
            "above the maximum",
            "[oslo_messaging_rabbit]\nkombu_reconnect_delay = 5\n",
        ),
        (
            "choice in the wrong case",
            "[oslo_messaging_rabbit]\nrabbit_login_method = plain\n",
        ),
        (
            "multi-line integer",
            "[oslo_messaging_rabbit]\nheartbeat_rate = 1\n  2\n",
        ),
        (
            "integer for the timeout",
            "[DEFAULT]\nrpc_response_timeout = 1.5\n",
        ),
        ("assignment before a section", "ssl = true\n"),
        (
            "continuation after a blank line",
            "[DEFAULT]\na = 1\n\n  b\n",
        ),
        (
            "continuation after a comment",
            "[DEFAULT]\na = 1\n# c\n  b\n",
        ),
        ("unclosed section", "[DEFAULT]\n[oslo_messaging_rabbit\n"),
        ("empty section name", "[]\n"),
        ("empty key", "[DEFAULT]\n= 1\n"),
        ("no separator", "[DEFAULT]\njust words\n"),
        ("byte order mark", "\u{feff}[DEFAULT]\n"),
        (
            "unknown reference",
            "[DEFAULT]\ntransport_url = rabbit://u:pa$word@h/\n",
        ),
        (
            "reference loop",
            "[oslo_messaging_rabbit]\nssl_ca_file = $ssl_cert_file\nssl_cert_file = $ssl_ca_file\n",
        ),
        (
            "bad value behind a reference",
            "[DEFAULT]\nflag = maybe\n[oslo_messaging_rabbit]\nssl = $flag\n",
        ),
    ];
    for (name, text) in refused {
        let source = file(
            &format!("refused/{}.conf", name.replace(' ', "-")),
            text.as_bytes(),
        );
        cases.push(Case {
            name,
            sources: vec![source],
            register: if name == "bad value behind a reference" {
                &["flag"]
            } else {
                &[]
            },
            expect: Expect::Same,
        });
    }
    cases.push(same(
        "not UTF-8",
        vec![file("latin1.conf", b"[DEFAULT]\ncontrol_exchange = \xe9\n")],
    ));
    cases.push(same(
        "missing file",
        vec![ConfigSource::file(dir.join("missing.conf"))],
    ));
    cases.push(same(
        "missing directory",
        vec![ConfigSource::dir(dir.join("missing.d"))],
    ));

    // Where we deliberately differ.
    let ours_refuses = [
        (
            "empty integer (oslo: None, which oslo.messaging then chokes on)",
            "[oslo_messaging_rabbit]\nheartbeat_rate =\n",
            "expected an integer",
        ),
        (
            "zero response timeout (oslo: every call times out at once)",
            "[DEFAULT]\nrpc_response_timeout = 0\n",
            "expected a positive number of seconds",
        ),
        (
            "conflicting options (oslo.messaging refuses them when the driver starts)",
            "[oslo_messaging_rabbit]\nrabbit_ha_queues = true\nrabbit_quorum_queue = true\n",
            "cannot both be enabled",
        ),
        (
            "bad transport_url (oslo.messaging refuses it when the transport is built)",
            "[DEFAULT]\ntransport_url = rabbit://u:s3cr3t@h:99999/\n",
            "invalid port",
        ),
    ];
    for (index, (name, text, message)) in ours_refuses.into_iter().enumerate() {
        cases.push(Case {
            name,
            sources: vec![file(&format!("ours-refuses-{index}.conf"), text.as_bytes())],
            register: &[],
            expect: Expect::OnlyOursRefuses(message),
        });
    }
    cases.push(Case {
        name: "reference to an option only the service registers, set in the file",
        sources: vec![file(
            "service-option.conf",
            b"[DEFAULT]\nrabbit_password = s3cr3t\n\
              transport_url = rabbit://nova:$rabbit_password@h/\n",
        )],
        register: &[],
        expect: Expect::OnlyOsloRefuses,
    });
    cases
}

/// oslo.config's verdict on every case, from one Python process.
async fn oslo_verdicts(cases: &[Case]) -> Vec<Value> {
    let py = python::python();
    let input: Vec<Value> = cases
        .iter()
        .map(|case| {
            let args: Vec<String> = case
                .sources
                .iter()
                .flat_map(|source| match source {
                    ConfigSource::File(path) => ["--config-file".to_owned(), path_text(path)],
                    ConfigSource::Dir(path) => ["--config-dir".to_owned(), path_text(path)],
                })
                .collect();
            serde_json::json!({"args": args, "register": case.register})
        })
        .collect();
    let mut child = tokio::process::Command::new(&py.python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/config/oslo_config_dump.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start oslo_config_dump.py");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(serde_json::to_string(&input).unwrap().as_bytes())
        .await
        .unwrap();
    drop(stdin);
    let output = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("oslo_config_dump.py finished within 120 s")
        .expect("oslo_config_dump.py output");
    assert!(
        output.status.success(),
        "oslo_config_dump.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let verdicts: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert_eq!(verdicts.len(), cases.len());
    verdicts
}

fn path_text(path: &Path) -> String {
    path.to_str().expect("UTF-8 path").to_owned()
}

/// oslo's resolved values as ours: the three `[DEFAULT]` options (with oslo's defaults) and
/// `[oslo_messaging_rabbit]` rebuilt through `RabbitOptions::set`.
fn oslo_values(values: &Value) -> Result<(String, String, i64, RabbitOptions), String> {
    let default = |name: &str| &values[format!("DEFAULT.{name}")];
    let text = |name: &str| {
        default(name)
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("{name} is {}", default(name)))
    };
    let timeout = default("rpc_response_timeout")
        .as_i64()
        .ok_or_else(|| "rpc_response_timeout is not an integer".to_owned())?;
    let mut rabbit = RabbitOptions::default();
    for (key, value) in values.as_object().expect("values") {
        let Some(option) = key.strip_prefix("oslo_messaging_rabbit.") else {
            continue;
        };
        let value = match value {
            Value::Bool(flag) => flag.to_string(),
            Value::Number(number) => number.to_string(),
            Value::String(text) => text.clone(),
            Value::Null if option == "kombu_compression" => continue,
            other => return Err(format!("oslo gives {option} = {other}")),
        };
        rabbit
            .set(option, &value)
            .map_err(|e| format!("oslo's {option} = {value:?}: {e}"))?;
    }
    Ok((
        text("transport_url")?,
        text("control_exchange")?,
        timeout,
        rabbit,
    ))
}

fn our_values(config: &OsloConfig) -> (String, String, i64, RabbitOptions) {
    (
        config
            .transport_url()
            .map_or("rabbit://", |url| url.expose())
            .to_owned(),
        config.control_exchange().unwrap_or("openstack").to_owned(),
        config
            .rpc_response_timeout()
            .map_or(60, |timeout| i64::try_from(timeout.as_secs()).unwrap()),
        config.rabbit_options().clone(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reader_resolves_what_oslo_config_resolves() {
    let dir = std::env::temp_dir().join(format!("oslo-rpc-oslo-config-{}", uuid::Uuid::new_v4()));
    let cases = cases(&dir);
    let verdicts = oslo_verdicts(&cases).await;
    let mut failures = Vec::new();
    for (case, verdict) in cases.iter().zip(&verdicts) {
        let ours = OsloConfig::load(&case.sources);
        let oslo_ok = verdict["ok"] == Value::Bool(true);
        let problem = match (case.expect, oslo_ok, &ours) {
            (Expect::Same, true, Ok(config)) => match oslo_values(&verdict["values"]) {
                Ok(theirs) if theirs == our_values(config) => None,
                Ok(theirs) => Some(format!(
                    "values differ:\n  oslo: {theirs:?}\n  ours: {:?}",
                    our_values(config)
                )),
                Err(why) => Some(why),
            },
            (Expect::Same, false, Err(_)) => None,
            (Expect::OnlyOursRefuses(expected), true, Err(error))
                if error.to_string().contains(expected) =>
            {
                None
            }
            (Expect::OnlyOsloRefuses, false, Ok(_)) => None,
            _ => Some(format!(
                "expected {:?}; oslo: {verdict}; ours: {:?}",
                case.expect,
                ours.as_ref().map(our_values).map_err(ToString::to_string)
            )),
        };
        if let Some(problem) = problem {
            failures.push(format!("{}: {problem}", case.name));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    assert!(cases.len() >= 35, "{} cases", cases.len());
}

#[test]
fn the_nova_conf_sample_reads_as_a_deployment_expects() {
    let config = OsloConfig::load(&[
        ConfigSource::file(samples().join("nova.conf")),
        ConfigSource::dir(samples().join("nova.conf.d")),
    ])
    .unwrap();
    let url = config.transport_url().unwrap().expose();
    assert!(
        url.starts_with("rabbit://nova:Zm9vYmFy$x@172.29.236.101:5671,"),
        "{url}"
    );
    assert_eq!(config.control_exchange(), Some("nova"));
    assert_eq!(
        config.rpc_response_timeout(),
        Some(Duration::from_secs(240))
    );
    let o = config.rabbit_options();
    assert!(o.ssl && o.rabbit_quorum_queue && o.rabbit_transient_quorum_queue);
    assert!(o.rabbit_stream_fanout && o.use_queue_manager);
    assert_eq!(o.heartbeat_timeout_threshold, 25);
    assert_eq!(o.kombu_missing_consumer_retry_timeout, 45);
    assert_eq!(o.hostname.as_deref(), Some("compute-01"));
    assert_eq!(config.lock_path(), Some(Path::new("/var/lock/nova")));
    // The only warning: the deprecated name in 10-rabbit.conf.
    let warnings: Vec<String> = config.warnings().iter().map(ToString::to_string).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("kombu_reconnect_timeout: deprecated name"),
        "{warnings:?}"
    );
    assert!(!format!("{config:?}").contains("Zm9vYmFy"));
}

/// `[oslo_messaging_notifications]` against oslo.config with oslo.messaging's notifier
/// options registered: the multi-valued `driver` across assignments and files, the `topics`
/// list, `retry`, `transport_url`, and their defaults.
#[tokio::test]
async fn notification_options_resolve_as_oslo_config_resolves_them() {
    let dir = std::env::temp_dir().join(format!("oslo-notify-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path_text(&path)
    };
    let a = write(
        "a.conf",
        "[oslo_messaging_notifications]\ndriver = messagingv2\ndriver = log\n\
         topics = a, b ,c,\nretry = -5\ntransport_url = rabbit://n:pw@nh/\n",
    );
    let b = write(
        "b.conf",
        "[OSLO_MESSAGING_NOTIFICATIONS]\ndriver = noop\ntopics = \"x,y\"\n\
         [oslo_messaging_notifications]\ndriver = messaging\n",
    );
    let c = write(
        "c.conf",
        "[DEFAULT]\nregion = eu\n[oslo_messaging_notifications]\ntopics =\nretry = 3\n\
         driver = ${region}x\n",
    );
    let d = write("d.conf", "[DEFAULT]\n");
    let cases: Vec<Vec<String>> = vec![
        vec![a.clone()],
        vec![a.clone(), b.clone()],
        vec![b, a],
        vec![c],
        vec![d],
    ];
    let script = r#"
import json, sys, warnings
warnings.filterwarnings('ignore')
from oslo_config import cfg
from oslo_messaging.notify import notifier
for files in json.load(sys.stdin):
    conf = cfg.ConfigOpts()
    conf.register_opts(notifier._notifier_opts, group='oslo_messaging_notifications')
    conf.register_opts([cfg.StrOpt('region')])
    args = [x for f in files for x in ('--config-file', f)]
    conf(args, project='x', default_config_files=[], default_config_dirs=[], use_env=False)
    n = conf.oslo_messaging_notifications
    print(json.dumps([n.driver, n.topics, n.retry, n.transport_url]))
"#;
    let py = python::python();
    let mut child = tokio::process::Command::new(&py.python)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start python");
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(serde_json::to_string(&cases).unwrap().as_bytes())
        .await
        .unwrap();
    drop(stdin);
    let output = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("python finished within 120 s")
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let theirs: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(theirs.len(), cases.len());
    for (files, theirs) in cases.iter().zip(theirs) {
        let config = OsloConfig::from_files(files).unwrap();
        let n = config.notifications();
        let ours = serde_json::json!([
            n.drivers(),
            n.topics(),
            n.retry(),
            n.transport_url().map(|url| url.expose())
        ]);
        assert_eq!(ours, theirs, "{files:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
