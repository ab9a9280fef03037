//! Real Python oslo.messaging 18.3.1 peers for the interop tests: the venv (made once per
//! test process by `tests/interop/setup.sh`), a Python server process, and one-shot Python
//! client runs. Every wait is bounded; every process is killed when its handle drops.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use oslo_rpc::json;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

/// Where the peers are, and the venv's python.
pub struct Python {
    pub python: PathBuf,
    pub peers: PathBuf,
}

/// The repository root: the crate running the tests may be a workspace member.
fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|dir| dir.join("tests/interop/setup.sh").is_file())
        .expect("tests/interop/setup.sh above the crate directory")
}

/// The venv, created or reused once per test process (first install ~10 s).
pub fn python() -> &'static Python {
    static PYTHON: OnceLock<Python> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let setup = repo_root().join("tests/interop/setup.sh");
        let output = std::process::Command::new("timeout")
            .args(["900", "bash"])
            .arg(&setup)
            .output()
            .expect("run tests/interop/setup.sh");
        assert!(
            output.status.success(),
            "tests/interop/setup.sh failed (it installs oslo.messaging 18.3.1 from PyPI):\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let python = stdout
            .lines()
            .last()
            .expect("setup.sh prints the venv python")
            .trim();
        Python {
            python: PathBuf::from(python),
            peers: repo_root().join("tests/interop/peers"),
        }
    })
}

/// oslo.concurrency's lock directory for every peer (`use_queue_manager` needs one), shared
/// with the Rust side of the tests.
pub fn lock_dir() -> PathBuf {
    let dir = repo_root().join("target/interop-locks");
    std::fs::create_dir_all(&dir).expect("target/interop-locks");
    dir
}

/// Whether this test process's process group still has its leader. oslo 18.3.1's queue
/// manager reads `/proc/<pgrp>/stat` and raises `FileNotFoundError` when the leader has
/// exited (tests started in the background by a shell that quit); Python peers then run
/// in a process group of their own (see `docs/spec-production-topology.md` §4).
pub fn group_leader_alive() -> bool {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // `pid (comm) state ppid pgrp ...`: the fields after the command name's last ')'.
    let pgrp = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().nth(2))
        .unwrap_or("0");
    Path::new(&format!("/proc/{pgrp}/stat")).exists()
}

/// Puts a Python peer in a process group of its own when ours has lost its leader.
fn own_group_if_orphaned(command: &mut Command) {
    if !group_leader_alive() {
        command.process_group(0);
    }
}

/// The broker URL the tests use.
pub fn rabbit_url() -> String {
    std::env::var("RABBIT_URL")
        .unwrap_or_else(|_| "rabbit://guest:guest@127.0.0.1:5672/".to_owned())
}

/// A running Python server (`peers/server.py`).
pub struct PyServer {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    pub name: String,
}

impl PyServer {
    /// Starts a Python calc server on `topic` as `name`; returns once it printed READY.
    pub async fn start(topic: &str, name: &str, exchange: Option<&str>) -> PyServer {
        PyServer::start_at(&rabbit_url(), topic, name, exchange).await
    }

    /// [`PyServer::start`] on the broker (and with the options) of `url`.
    pub async fn start_at(url: &str, topic: &str, name: &str, exchange: Option<&str>) -> PyServer {
        let mut args = vec!["--url", url, "--delete-queues"];
        if let Some(exchange) = exchange {
            args.extend(["--exchange", exchange]);
        }
        PyServer::spawn(&args, topic, name).await
    }

    /// A Python calc server on `topic` as `name`, configured by oslo config files only
    /// (`--config-file F`..., read by oslo.config as a service reads them: transport URL,
    /// control exchange and driver options come from the files). It deletes no queues when
    /// it stops: the test does.
    pub async fn start_with_config(configs: &[&Path], topic: &str, name: &str) -> PyServer {
        let mut args = Vec::new();
        for config in configs {
            args.extend(["--config-file", config.to_str().expect("UTF-8 config path")]);
        }
        PyServer::spawn(&args, topic, name).await
    }

    async fn spawn(options: &[&str], topic: &str, name: &str) -> PyServer {
        let py = python();
        // Python's tracebacks of the failures the tests provoke go to a log, not the test
        // output; a server that does not start shows its log in the panic.
        let logs = repo_root().join("target/interop-logs");
        std::fs::create_dir_all(&logs).expect("target/interop-logs");
        let log = logs.join(format!("{topic}-{name}.log"));
        let mut command = Command::new(&py.python);
        command
            .arg(py.peers.join("server.py"))
            .args(options)
            .args(["--topic", topic, "--server", name])
            .arg("--exit-on-stdin-eof")
            .env("OSLO_LOCK_PATH", lock_dir())
            .arg("--log-file")
            .arg(&log)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        own_group_if_orphaned(&mut command);
        let mut child = command.spawn().expect("start server.py");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.expect("read server.py") {
                if line.trim() == "READY" {
                    return true;
                }
            }
            false
        })
        .await;
        if ready != Ok(true) {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            panic!("server.py did not print READY within 60 s; its log:\n{log}");
        }
        PyServer {
            child,
            lines,
            name: name.to_owned(),
        }
    }

    /// The next JSON event line (`{"event": "cast", "tag": ..., "server": ...}`), or a
    /// panic after `wait`.
    pub async fn next_event(&mut self, wait: Duration) -> Value {
        let line = tokio::time::timeout(wait, self.lines.next_line())
            .await
            .expect("no event from server.py in time")
            .expect("read server.py")
            .expect("server.py exited");
        json::from_str(&line).expect("server.py prints JSON events")
    }

    /// True when no event arrives within `wait`.
    pub async fn quiet_for(&mut self, wait: Duration) -> bool {
        tokio::time::timeout(wait, self.lines.next_line())
            .await
            .is_err()
    }

    /// The process id (its AMQP connections are named `server.py:<pid>:...`).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Stops gracefully (SIGTERM) and returns the exit code.
    pub async fn stop(mut self) -> Option<i32> {
        if let Some(pid) = self.child.id() {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
        }
        match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
            Ok(status) => status.ok().and_then(|s| s.code()),
            Err(_) => {
                let _ = self.child.kill().await;
                None
            }
        }
    }

    /// Kills the server at once (SIGKILL): a server that dies mid-call.
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }
}

/// The outcome of one Python client run, as `client.py` prints it.
#[derive(Debug, Clone)]
pub struct PyOutcome {
    pub line: Value,
    pub raw: String,
}

impl PyOutcome {
    pub fn ok(&self) -> bool {
        self.line["ok"] == Value::Bool(true)
    }
    pub fn result(&self) -> &Value {
        assert!(self.ok(), "Python call failed: {}", self.raw);
        &self.line["result"]
    }
    pub fn exception(&self) -> &str {
        assert!(!self.ok(), "Python call succeeded: {}", self.raw);
        self.line["exception"].as_str().unwrap_or_default()
    }
    pub fn message(&self) -> &str {
        self.line["message"].as_str().unwrap_or_default()
    }
    pub fn elapsed(&self) -> f64 {
        self.line["elapsed"].as_f64().unwrap_or(f64::NAN)
    }
}

/// Runs `client.py` once with `args` (options, then `call|cast METHOD [ARGS_JSON]`);
/// `stdin` feeds `-` arguments (large payloads). Returns the last JSON line.
pub async fn py_client(args: &[&str], stdin: Option<&str>) -> PyOutcome {
    let outcomes = py_client_lines(args, stdin).await;
    outcomes
        .into_iter()
        .last()
        .expect("client.py printed nothing")
}

/// Runs `client.py` and returns every JSON line it printed (batch mode).
pub async fn py_client_lines(args: &[&str], stdin: Option<&str>) -> Vec<PyOutcome> {
    let url = rabbit_url();
    let mut all = vec!["--url", url.as_str()];
    all.extend_from_slice(args);
    run_client(&all, stdin).await
}

/// Runs `client.py` once configured by oslo config files only (`--config-file F`...: the
/// files' transport URL, control exchange and driver options); returns its last JSON line.
pub async fn py_client_config(configs: &[&Path], args: &[&str]) -> PyOutcome {
    py_client_config_lines(configs, args)
        .await
        .into_iter()
        .last()
        .expect("client.py printed nothing")
}

/// [`py_client_config`] returning every JSON line (batch mode).
pub async fn py_client_config_lines(configs: &[&Path], args: &[&str]) -> Vec<PyOutcome> {
    let mut all = Vec::new();
    for config in configs {
        all.extend(["--config-file", config.to_str().expect("UTF-8 config path")]);
    }
    all.extend_from_slice(args);
    run_client(&all, None).await
}

/// Runs `client.py` with exactly `args`; returns every JSON line it printed.
async fn run_client(args: &[&str], stdin: Option<&str>) -> Vec<PyOutcome> {
    let py = python();
    let mut command = Command::new(&py.python);
    command
        .arg(py.peers.join("client.py"))
        .args(args)
        .env("OSLO_LOCK_PATH", lock_dir())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    own_group_if_orphaned(&mut command);
    let mut child = command.spawn().expect("start client.py");
    if let Some(input) = stdin {
        use tokio::io::AsyncWriteExt;
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(input.as_bytes())
            .await
            .expect("write client.py stdin");
        drop(pipe);
    }
    let output = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("client.py did not finish within 120 s")
        .expect("client.py output");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "client.py {args:?} exited with {:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| PyOutcome {
            line: json::from_str(l).unwrap_or_else(|e| panic!("client.py line {l:?}: {e}")),
            raw: l.to_owned(),
        })
        .collect()
}

/// The path of an example binary (`cargo test` builds the examples next to the tests).
pub fn example_binary(name: &str) -> PathBuf {
    let test_exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> -> target/<profile>/examples/<name>
    let profile_dir = test_exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.is_file(),
        "{} is not built (cargo test builds examples)",
        path.display()
    );
    path
}

/// A Rust example server (`calc_server`) in a child process, to kill like a crashed one.
pub struct RustServerProcess {
    child: Child,
}

impl RustServerProcess {
    /// Starts `calc_server` on `topic` as `name`; returns once it printed READY.
    pub async fn start(topic: &str, name: &str) -> RustServerProcess {
        Self::start_with_args(&["--url", &rabbit_url(), "--topic", topic, "--server", name]).await
    }

    /// Starts `calc_server` with these arguments (`$RABBIT_URL` unset); returns once it
    /// printed READY.
    pub async fn start_with_args(args: &[&str]) -> RustServerProcess {
        let mut child = Command::new(example_binary("calc_server"))
            .args(args)
            .env_remove("RABBIT_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start calc_server");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await;
        match ready {
            Ok(Ok(Some(line))) if line == "READY" => RustServerProcess { child },
            other => panic!("calc_server did not print READY: {other:?}"),
        }
    }

    /// Starts `calc_server` on `url` (options in its query) with `exchange`, in a process
    /// group of its own, as a service manager starts a service (a new service generation
    /// for the queue manager), with `OSLO_LOCK_PATH` set; returns once it printed READY.
    pub async fn start_service(
        url: &str,
        topic: &str,
        name: &str,
        exchange: &str,
    ) -> RustServerProcess {
        let mut child = Command::new(example_binary("calc_server"))
            .args(["--url", url, "--topic", topic, "--server", name])
            .args(["--exchange", exchange])
            .env("OSLO_LOCK_PATH", lock_dir())
            .process_group(0)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start calc_server");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await;
        match ready {
            Ok(Ok(Some(line))) if line == "READY" => RustServerProcess { child },
            other => panic!("calc_server did not print READY: {other:?}"),
        }
    }

    /// The process id (its AMQP connections are named `calc_server:<pid>:...`).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Stops gracefully with `signal` (`TERM` or `INT`); returns the exit code and stderr.
    pub async fn stop(self, signal: &str) -> (Option<i32>, String) {
        if let Some(pid) = self.child.id() {
            let _ = Command::new("kill")
                .args([&format!("-{signal}"), &pid.to_string()])
                .status()
                .await;
        }
        let output = tokio::time::timeout(Duration::from_secs(30), self.child.wait_with_output())
            .await
            .expect("calc_server stopped within 30 s")
            .expect("calc_server output");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// Kills it at once (SIGKILL): a server that dies mid-call.
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }
}
