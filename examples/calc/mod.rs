//! The `calc` interface: the example endpoints shared by the quickstart, the tests and the
//! RabbitMQ examples, benchmark and interop peers. It does no I/O of its own.
//!
//! * `Calc`, namespace `calc`, version 1.3: `add`, `echo` (1.1), `sleep`, `fail`,
//!   `resize` (1.2, with `force` added in 1.3: the rolling-upgrade example) and
//!   `echo_floats` and `context` (1.3);
//! * `Ping`, the null namespace, version 2.0: `ping`.
//!
//! The Python peer in `tests/interop/peers/server.py` serves the same interface.
//!
//! Include it with `mod calc;` from an example, or
//! `#[path = "../examples/calc/mod.rs"] mod calc;` from a test.

// Each includer uses a different part of the interface.
#![allow(dead_code, unreachable_pub)]

use std::fmt;
use std::time::Duration;

use oslo_rpc::prelude::*;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc::UnboundedSender;

/// Arithmetic and test helpers, as a Python `CalcEndpoint` would serve them.
#[rpc_endpoint(namespace = "calc", version = "1.3")]
pub trait Calc {
    /// `a + b`.
    async fn add(&self, ctx: &Context, a: i64, b: i64) -> Result<i64, CalcError>;

    /// Returns `payload` unchanged.
    #[rpc(since = "1.1")]
    async fn echo(&self, payload: Value) -> Result<Value, CalcError>;

    /// Returns `seconds` after that many seconds (long calls, heartbeats, concurrency).
    async fn sleep(&self, seconds: f64) -> Result<f64, CalcError>;

    /// Fails with the error `kind` chooses: `value` (builtins.ValueError), `key`
    /// (builtins.KeyError), `custom` (calc_errors.CalcError with kwargs `{"code": 7}`);
    /// anything else is calc_server.OtherError, which Python clients cannot rebuild.
    async fn fail(&self, kind: String) -> Result<(), CalcError>;

    /// Resizes; `force` arrived in 1.3, so clients capped below 1.3 leave it out and older
    /// servers see it absent.
    #[rpc(since = "1.2")]
    async fn resize(
        &self,
        ctx: &Context,
        size: u32,
        #[rpc(since = "1.3")] force: Option<bool>,
    ) -> Result<(), CalcError>;

    /// Returns `values` unchanged: NaN and ±Infinity survive as typed `f64`s.
    #[rpc(since = "1.3")]
    async fn echo_floats(&self, values: Vec<f64>) -> Result<Vec<f64>, CalcError>;

    /// Returns the request context as received (the keys a caller sent, in order).
    #[rpc(since = "1.3")]
    async fn context(&self, ctx: &Context) -> Result<Value, CalcError>;
}

/// The namespace-less endpoint of the example server.
#[rpc_endpoint(version = "2.0")]
pub trait Ping {
    /// Returns `"pong"`.
    async fn ping(&self) -> Result<String, RpcError>;
}

/// The errors of `Calc`, each the Python exception a peer sees.
#[derive(Debug, Clone, PartialEq)]
pub enum CalcError {
    /// `builtins.ValueError(message)`.
    Value(String),
    /// `builtins.KeyError(key)`; Python shows it as `'key'`.
    Key(String),
    /// `calc_errors.CalcError(message, code=code)`.
    Custom {
        /// The message.
        message: String,
        /// The `code` kwarg.
        code: i64,
    },
    /// `calc_server.OtherError(message)`: a module no Python client allows.
    Other(String),
}

impl fmt::Display for CalcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CalcError::Value(message) | CalcError::Other(message) => f.write_str(message),
            CalcError::Custom { message, .. } => f.write_str(message),
            // str(KeyError('k')) is "'k'".
            CalcError::Key(key) => write!(f, "'{key}'"),
        }
    }
}

impl std::error::Error for CalcError {}

impl RemoteException for CalcError {
    fn class_name(&self) -> &str {
        match self {
            CalcError::Value(_) => "ValueError",
            CalcError::Key(_) => "KeyError",
            CalcError::Custom { .. } => "CalcError",
            CalcError::Other(_) => "OtherError",
        }
    }

    fn module_name(&self) -> &str {
        match self {
            CalcError::Value(_) | CalcError::Key(_) => "builtins",
            CalcError::Custom { .. } => "calc_errors",
            CalcError::Other(_) => "calc_server",
        }
    }

    fn args(&self) -> Vec<Value> {
        match self {
            CalcError::Key(key) => vec![json!(key)],
            other => vec![json!(other.to_string())],
        }
    }

    fn kwargs(&self) -> Map<String, Value> {
        match self {
            CalcError::Custom { code, .. } => Map::from_iter([("code".to_owned(), json!(code))]),
            _ => Map::new(),
        }
    }

    fn from_remote(remote: &RemoteError) -> Option<Self> {
        let first_arg = || {
            remote
                .args
                .first()
                .and_then(Value::as_str)
                .map_or_else(|| remote.message.clone(), str::to_owned)
        };
        match (remote.module.as_str(), remote.class.as_str()) {
            ("builtins", "ValueError") => Some(CalcError::Value(remote.message.clone())),
            ("builtins", "KeyError") => Some(CalcError::Key(first_arg())),
            ("calc_errors", "CalcError") => Some(CalcError::Custom {
                message: first_arg(),
                code: remote.kwargs.get("code").and_then(Value::as_i64)?,
            }),
            ("calc_server", "OtherError") => Some(CalcError::Other(remote.message.clone())),
            _ => None,
        }
    }
}

/// The implementation of `Calc`. With [`CalcService::with_events`] it reports each request
/// it serves as a line such as `add(a=2, b=3)`, for tests and examples to wait on (casts
/// have no reply).
#[derive(Debug, Clone, Default)]
pub struct CalcService {
    events: Option<UnboundedSender<String>>,
}

impl CalcService {
    /// A service that reports nothing.
    pub fn new() -> Self {
        CalcService::default()
    }

    /// A service that sends a line per request to `events`.
    pub fn with_events(events: UnboundedSender<String>) -> Self {
        CalcService {
            events: Some(events),
        }
    }

    fn event(&self, line: impl FnOnce() -> String) {
        if let Some(events) = &self.events {
            // Nobody listening any more is not the service's problem.
            let _ = events.send(line());
        }
    }
}

/// Python's `repr` of an optional bool, for event lines.
fn py_option(value: Option<bool>) -> &'static str {
    match value {
        None => "None",
        Some(true) => "True",
        Some(false) => "False",
    }
}

impl Calc for CalcService {
    async fn add(&self, _ctx: &Context, a: i64, b: i64) -> Result<i64, CalcError> {
        self.event(|| format!("add(a={a}, b={b})"));
        a.checked_add(b)
            .ok_or_else(|| CalcError::Value(format!("{a} + {b} does not fit in 64 bits")))
    }

    async fn echo(&self, payload: Value) -> Result<Value, CalcError> {
        self.event(|| format!("echo(payload={payload})"));
        Ok(payload)
    }

    async fn sleep(&self, seconds: f64) -> Result<f64, CalcError> {
        self.event(|| format!("sleep(seconds={seconds})"));
        let duration = Duration::try_from_secs_f64(seconds)
            .map_err(|_| CalcError::Value("sleep length must be non-negative".to_owned()))?;
        tokio::time::sleep(duration).await;
        Ok(seconds)
    }

    async fn fail(&self, kind: String) -> Result<(), CalcError> {
        self.event(|| format!("fail(kind={kind:?})"));
        Err(match kind.as_str() {
            "value" => CalcError::Value("bad value".to_owned()),
            "key" => CalcError::Key("k".to_owned()),
            "custom" => CalcError::Custom {
                message: "custom err".to_owned(),
                code: 7,
            },
            other => CalcError::Other(format!("other err: {other}")),
        })
    }

    async fn resize(
        &self,
        _ctx: &Context,
        size: u32,
        force: Option<bool>,
    ) -> Result<(), CalcError> {
        self.event(|| format!("resize(size={size}, force={})", py_option(force)));
        Ok(())
    }

    async fn echo_floats(&self, values: Vec<f64>) -> Result<Vec<f64>, CalcError> {
        self.event(|| format!("echo_floats(values={values:?})"));
        Ok(values)
    }

    async fn context(&self, ctx: &Context) -> Result<Value, CalcError> {
        self.event(|| "context()".to_owned());
        Ok(Value::Object(ctx.as_map().clone()))
    }
}

/// The implementation of `Ping`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PingService;

impl Ping for PingService {
    async fn ping(&self) -> Result<String, RpcError> {
        Ok("pong".to_owned())
    }
}
