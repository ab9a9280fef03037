//! Python notification peers (`tests/interop/peers/notifier.py` and `listener.py`) for the
//! notification interop tests. Every wait is bounded; every process dies with its handle.
//! Include next to `tests/python/mod.rs` as a sibling module named `python`.

#![allow(dead_code, unreachable_pub)]

use std::process::Stdio;
use std::time::Duration;

use oslo_rpc::json;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

use super::python::{python, rabbit_url};

/// A running `listener.py`.
pub struct PyListener {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
}

impl PyListener {
    /// Starts `listener.py` with `args` (topics, pool, ...); returns once it printed READY.
    pub async fn start(args: &[&str]) -> PyListener {
        let py = python();
        let mut child = Command::new(&py.python)
            .arg(py.peers.join("listener.py"))
            .args(["--url", &rabbit_url(), "--max-seconds", "120"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start listener.py");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(60), lines.next_line()).await;
        match ready {
            Ok(Ok(Some(line))) if line.trim() == "READY" => PyListener { child, lines },
            other => {
                let _ = child.kill().await;
                let stderr = match child.stderr.take() {
                    Some(mut err) => {
                        let mut text = String::new();
                        let _ = tokio::io::AsyncReadExt::read_to_string(&mut err, &mut text).await;
                        text
                    }
                    None => String::new(),
                };
                panic!("listener.py did not print READY: {other:?}\n{stderr}");
            }
        }
    }

    /// The next notification line, or a panic after `wait`.
    pub async fn next(&mut self, wait: Duration) -> Value {
        let line = tokio::time::timeout(wait, self.lines.next_line())
            .await
            .expect("no notification from listener.py in time")
            .expect("read listener.py")
            .expect("listener.py exited");
        json::from_str(&line).unwrap_or_else(|e| panic!("listener.py line {line:?}: {e}"))
    }

    /// True when nothing arrives within `wait`.
    pub async fn quiet_for(&mut self, wait: Duration) -> bool {
        tokio::time::timeout(wait, self.lines.next_line())
            .await
            .is_err()
    }

    /// Stops it (SIGTERM: `stop()` and `wait()`), bounded.
    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
        }
        if tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// Runs `notifier.py` once with `args` (options, then the payload JSON); `stdin` feeds a
/// `-` payload. Panics unless it reports `{"ok": true}`.
pub async fn py_notify(args: &[&str], stdin: Option<&str>) -> Value {
    let py = python();
    let mut child = Command::new(&py.python)
        .arg(py.peers.join("notifier.py"))
        .args(["--url", &rabbit_url()])
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start notifier.py");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(input.as_bytes()).await.expect("write stdin");
        drop(pipe);
    }
    let output = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("notifier.py finished within 120 s")
        .expect("notifier.py output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    let outcome: Value = json::from_str(line).unwrap_or_else(|e| {
        panic!(
            "notifier.py printed {stdout:?} ({e}); stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    assert_eq!(outcome["ok"], Value::Bool(true), "notifier.py: {outcome}");
    outcome
}
