//! The `oslo-rpc` binary's handling of bad input: one clear line on stderr and exit code 2
//! (3 for a timeout), before anything is sent. Runs the real binary; no broker needed.

use std::process::{Command, Output};

fn oslo_rpc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oslo-rpc"))
        .args(args)
        .env_remove("OSLO_RPC_URL")
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
}
