//! The `oslo-rpc` binary's handling of bad input: one clear line on stderr and exit code 2
//! (3 for a timeout, 4 for a broker that cannot be reached or refuses the login), before
//! anything is sent. Runs the real binary; no broker needed, except a refused login against
//! the machine's broker (which declares nothing).

use std::process::{Command, Output};

fn oslo_rpc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oslo-rpc"))
        .args(args)
        .env_remove("OSLO_RPC_URL")
        .env_remove("RUST_LOG")
        .output()
        .expect("run oslo-rpc")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn bad_input_exits_2_with_one_line() {
    for (args, expected) in [
        (
            &["call", "--topic", "t", "--url", "nats://h", "m"][..],
            "unsupported transport URL scheme",
        ),
        (
            &[
                "call",
                "--topic",
                "t",
                "--url",
                "rabbit://u:s3cr3t@h:99999/",
                "m",
            ],
            "invalid port",
        ),
        (
            &[
                "call",
                "--topic",
                "t",
                "--url",
                "rabbit://h/?no_such_option=1",
                "m",
            ],
            "no_such_option",
        ),
        (
            &[
                "call",
                "--topic",
                "t",
                "--url",
                "memory://",
                "--version",
                "1",
                "m",
            ],
            "--version",
        ),
        (
            &["call", "--topic", "t", "--url", "memory://", "m", "a"],
            "key=value",
        ),
        (
            &["call", "--topic", "t", "--url", "memory://", "m", "{bad"],
            "JSON object",
        ),
        (
            &[
                "call",
                "--topic",
                "t",
                "--url",
                "memory://",
                "--context",
                "[1]",
                "m",
            ],
            "--context",
        ),
        (
            &[
                "call",
                "--topic",
                "t",
                "--url",
                "memory://",
                "--timeout=-1",
                "m",
            ],
            "--timeout",
        ),
        (
            &["call", "--topic", "a*", "--url", "memory://", "m"],
            "wildcard",
        ),
        (
            &[
                "call",
                "--topic",
                "t",
                "--url",
                "memory://",
                "--version",
                "1.4",
                "--version-cap",
                "1.3",
                "m",
            ],
            "version_cap 1.3",
        ),
    ] {
        let output = oslo_rpc(args);
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {text}");
        assert!(text.contains(expected), "{args:?}: {text}");
        assert_eq!(text.trim_end().lines().count(), 1, "{args:?}: {text}");
        assert!(!text.contains("s3cr3t"), "password leaked: {text}");
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn a_call_nobody_answers_times_out_with_exit_3() {
    let output = oslo_rpc(&[
        "call",
        "--topic",
        "t",
        "--url",
        "memory://",
        "--timeout",
        "0.2",
        "m",
        "a=1",
    ]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(stderr(&output).contains("timed out after 0.2s"));
}

#[test]
fn verbose_flags_log_calls_with_their_request_id_on_stderr() {
    let args = |verbose: &'static str| {
        [
            verbose,
            "call",
            "--topic",
            "t",
            "--url",
            "memory://",
            "--timeout",
            "0.2",
            "--context",
            r#"{"request_id": "req-cli-verbose"}"#,
            "m",
        ]
    };
    // Quiet by default: the one line of the error.
    let quiet = oslo_rpc(&args("--json")[1..]);
    assert_eq!(
        stderr(&quiet).trim().lines().count(),
        1,
        "{}",
        stderr(&quiet)
    );
    // -vv: the call's span with its method and request_id, and how it finished.
    let output = oslo_rpc(&args("-vv"));
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let text = stderr(&output);
    let finished = text
        .lines()
        .find(|line| line.contains("rpc.call{") && line.contains("finished"))
        .unwrap_or_else(|| panic!("no call logged:\n{text}"));
    assert!(finished.contains(" DEBUG "), "{finished}");
    assert!(
        finished.contains(r#"request_id="req-cli-verbose""#),
        "{finished}"
    );
    assert!(finished.contains(r#"rpc.method="m""#), "{finished}");
    assert!(finished.contains(r#"oslo.outcome="timeout""#), "{finished}");
    // -v is info: no debug lines.
    let output = oslo_rpc(&args("-v"));
    assert!(!stderr(&output).contains(" DEBUG "), "{}", stderr(&output));
}

#[test]
fn a_broker_never_reached_exits_4_naming_the_host_and_the_error() {
    // Nothing listens on port 1: not "timed out waiting for a reply" (exit 3).
    let output = oslo_rpc(&[
        "call",
        "--url",
        "rabbit://guest:guest@127.0.0.1:1/",
        "--topic",
        "t",
        "--timeout",
        "1",
        "ping",
    ]);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(4), "{text}");
    assert!(text.contains("could not reach the broker"), "{text}");
    assert!(
        text.contains("127.0.0.1:1") && text.contains("refused"),
        "{text}"
    );
    assert!(!text.contains("waiting for a reply"), "{text}");
}

#[test]
fn a_refused_login_exits_4_at_once() {
    let broker = std::env::var("RABBIT_URL")
        .ok()
        .and_then(|url| oslo_rpc::TransportUrl::parse(&url).ok())
        .and_then(|url| {
            url.hosts()
                .first()
                .map(|h| (h.hostname.clone(), h.port_or_default()))
        })
        .unwrap_or_else(|| ("127.0.0.1".to_owned(), 5672));
    let url = format!("rabbit://guest:wrong-password@{}:{}/", broker.0, broker.1);
    let started = std::time::Instant::now();
    let output = oslo_rpc(&[
        "call",
        "--url",
        &url,
        "--topic",
        "t",
        "--timeout",
        "30",
        "ping",
    ]);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(4), "{text}");
    assert!(text.contains("refused the login"), "{text}");
    assert!(!text.contains("wrong-password"), "{text}");
    // Generous under load; a retried login would take the whole 30 s.
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

#[test]
fn json_errors_are_one_json_object() {
    let output = oslo_rpc(&[
        "--json",
        "call",
        "--topic",
        "t",
        "--url",
        "memory://",
        "--timeout",
        "0.2",
        "m",
    ]);
    assert_eq!(output.status.code(), Some(3));
    let error: serde_json::Value =
        serde_json::from_str(stderr(&output).trim()).expect("JSON on stderr");
    assert_eq!(error["error"], "timeout");
    assert_eq!(error["class"], "MessagingTimeout");
}

#[test]
fn help_has_examples_and_exit_codes() {
    let output = oslo_rpc(&["call", "--help"]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    assert!(
        text.contains("Examples:") && text.contains("add a=2 b=3") && text.contains("Exit codes")
    );
    assert!(text.contains("--config-file <FILE>") && text.contains("--config-dir <DIR>"));
    assert!(
        text.contains("wins over the config files' transport_url"),
        "{text}"
    );
}

/// A directory of config files for one test, removed on drop.
struct ConfigDir(std::path::PathBuf);

impl ConfigDir {
    fn new() -> ConfigDir {
        let dir = std::env::temp_dir().join(format!("oslo-rpc-cli-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        ConfigDir(dir)
    }

    /// Writes `name` and returns its path as text.
    fn file(&self, name: &str, text: &str) -> String {
        let path = self.0.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).expect("write config file");
        path.to_str().expect("UTF-8 path").to_owned()
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_str().expect("UTF-8 path").to_owned()
    }
}

impl Drop for ConfigDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_bad_config_file_exits_2_naming_file_section_option_and_value() {
    let dir = ConfigDir::new();
    let bad_bool = dir.file(
        "nova.conf",
        "[DEFAULT]\ntransport_url = rabbit://nova:s3cr3t@rabbit-1/\n\
         [oslo_messaging_rabbit]\nssl = maybe\n",
    );
    let bad_url = dir.file(
        "url.conf",
        "[DEFAULT]\ntransport_url = rabbit://nova:s3cr3t@rabbit-1:99999/\n",
    );
    let bad_line = dir.file(
        "broken.conf",
        "[DEFAULT]\ntransport_url = rabbit://h,\n\n  nova:s3cr3t@h2/\n",
    );
    let missing = dir.path("missing.conf");
    for (file, expected) in [
        (
            &bad_bool,
            format!(
                "oslo-rpc: {bad_bool}:4: invalid value \"maybe\" for [oslo_messaging_rabbit] ssl: \
                 expected a boolean (true/false, yes/no, on/off or 1/0)"
            ),
        ),
        (
            &bad_url,
            format!(
                "oslo-rpc: {bad_url}:2: invalid value \"rabbit://nova:***@rabbit-1:99999/\" for \
                 [DEFAULT] transport_url: invalid port for host \"rabbit-1\" in transport URL: \
                 expected a number from 1 to 65535"
            ),
        ),
        (
            &bad_line,
            format!("oslo-rpc: {bad_line}:4: Unexpected continuation line"),
        ),
        (
            &missing,
            format!("oslo-rpc: cannot read config file {missing}: No such file or directory"),
        ),
    ] {
        for command in [&["call", "--topic", "t", "m"][..], &["tap", "--topic", "t"]] {
            let mut args = command.to_vec();
            args.extend(["--config-file", file.as_str()]);
            let output = oslo_rpc(&args);
            let text = stderr(&output);
            assert_eq!(output.status.code(), Some(2), "{args:?}: {text}");
            assert!(text.starts_with(&expected), "{args:?}:\n{text}\n{expected}");
            assert_eq!(text.trim_end().lines().count(), 1, "{text}");
            assert!(!text.contains("s3cr3t"), "password leaked: {text}");
        }
    }
    let output = oslo_rpc(&[
        "call",
        "--topic",
        "t",
        "--config-dir",
        &dir.path("none.d"),
        "m",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("cannot read config directory"));
}

#[test]
fn unknown_config_options_are_warnings_with_a_suggestion() {
    let dir = ConfigDir::new();
    let file = dir.file(
        "nova.conf",
        "[DEFAULT]\ntransport_url = memory://\n\
         [oslo_messaging_rabbit]\nheartbeat_timeout_treshold = 10\n",
    );
    let warning = format!(
        "{file}:4: [oslo_messaging_rabbit] heartbeat_timeout_treshold: unknown option, ignored \
         (did you mean \"heartbeat_timeout_threshold\"?)"
    );
    let output = oslo_rpc(&[
        "call",
        "--config-file",
        &file,
        "--topic",
        "t",
        "--timeout",
        "0.2",
        "m",
    ]);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(3), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0], format!("oslo-rpc: warning: {warning}"));
    assert!(lines[1].contains("timed out after 0.2s"), "{text}");

    let output = oslo_rpc(&[
        "--json",
        "call",
        "--config-file",
        &file,
        "--topic",
        "t",
        "--timeout",
        "0.2",
        "m",
    ]);
    let text = stderr(&output);
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON lines"))
        .collect();
    assert_eq!(lines[0], serde_json::json!({ "warning": warning }));
    assert_eq!(lines[1]["error"], "timeout");
}

#[test]
fn config_sources_apply_in_command_line_order_and_flags_win() {
    // The timeout a call reports shows which file's rpc_response_timeout won; memory://
    // needs no broker and nobody answers.
    let dir = ConfigDir::new();
    let file = dir.file(
        "nova.conf",
        "[DEFAULT]\ntransport_url = rabbit://127.0.0.1:1/\nrpc_response_timeout = 1\n",
    );
    dir.file(
        "nova.conf.d/10-timeout.conf",
        "[DEFAULT]\nrpc_response_timeout = 2\n",
    );
    dir.file(
        "nova.conf.d/.hidden.conf",
        "[DEFAULT]\nrpc_response_timeout = 9\n",
    );
    let conf_d = dir.path("nova.conf.d");
    let timed_out_after = |args: &[&str]| {
        let mut all = vec!["call", "--topic", "t", "--url", "memory://"];
        all.extend_from_slice(args);
        all.push("m");
        let output = oslo_rpc(&all);
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(3), "{all:?}: {text}");
        text.split("timed out after ")
            .nth(1)
            .and_then(|rest| rest.split('s').next())
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("{text}"))
    };
    // --url wins over the file's transport_url (port 1 would refuse) and the file's
    // rpc_response_timeout still applies.
    assert_eq!(timed_out_after(&["--config-file", &file]), "1");
    assert_eq!(
        timed_out_after(&["--config-file", &file, "--config-dir", &conf_d]),
        "2"
    );
    assert_eq!(
        timed_out_after(&["--config-dir", &conf_d, "--config-file", &file]),
        "1"
    );
    assert_eq!(
        timed_out_after(&["--config-file", &file, "--timeout", "0.3"]),
        "0.3"
    );
}
