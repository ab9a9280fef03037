//! Quickstart: one process, the in-process `memory://` transport (no broker needed), the
//! typed API of the shared `calc` interface (`examples/calc/mod.rs`). Starts a server with
//! the `Calc` and `Ping` endpoints, makes calls and casts, shows the rolling-upgrade
//! version cap, a version-cap refusal, remote errors and Python-style argument errors, and
//! prints each outcome.
//!
//! Run it with `cargo run --example quickstart`.

mod calc;
mod logging;

use std::time::Duration;

use calc::{
    CalcClient, CalcEndpoint, CalcError, CalcService, PingClient, PingEndpoint, PingService,
};
use oslo_rpc::prelude::*;
use serde_json::json;
use tokio::sync::mpsc;

/// The next line the service reported for `method` (casts have no reply to wait on).
async fn served(events: &mut mpsc::UnboundedReceiver<String>, method: &str) -> String {
    loop {
        let line = events.recv().await.expect("the server is running");
        if line.starts_with(method) {
            return line;
        }
    }
}

/// Prints one outcome: what was sent, and what came of it.
fn outcome(what: &str, result: impl std::fmt::Display) {
    println!("{what:<43} -> {result}");
}

#[tokio::main]
async fn main() -> Result<(), RpcError> {
    logging::init("info");
    let transport = Transport::new("memory://")?;

    // The server side: the `Calc` implementation (namespace "calc", 1.3) and `Ping` (null
    // namespace, 2.0) on topic "calc".
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let server = RpcServer::builder(transport.clone(), Target::server("calc", "host-1"))
        .endpoint(CalcEndpoint::new(CalcService::with_events(events_tx)))
        .endpoint(PingEndpoint::new(PingService))
        .build()?
        .start()
        .await?;
    println!("server: listening on topic 'calc' as host-1 (calc 1.3, ping 2.0)");

    // The client side: typed clients of the topic.
    let ctx = Context::with_new_request_id().with_user_id("demo");
    let calc = CalcClient::new(RpcClient::new(transport.clone(), Target::topic("calc")))
        .timeout(Duration::from_secs(5));
    let ping = PingClient::new(RpcClient::new(transport.clone(), Target::topic("calc")));

    let sum = calc.add(&ctx, 2, 3).await?;
    outcome("call add(a=2, b=3)", format!("{sum}"));

    let pong = ping.ping(&ctx).await?;
    outcome("call ping() (null namespace, 2.0)", format!("{pong:?}"));

    let floats = calc
        .echo_floats(&ctx, vec![1.5, f64::NAN, f64::NEG_INFINITY])
        .await?;
    outcome(
        "call echo_floats([1.5, NaN, -Infinity])",
        format!("{floats:?}"),
    );

    calc.cast().resize(&ctx, 10, Some(true)).await?;
    let seen = served(&mut events, "resize").await;
    outcome(
        "cast resize(size=10, force=True)",
        format!("server got {seen}"),
    );

    // A client capped at 1.2 (some servers are not upgraded yet): `force` (since 1.3) is
    // left out and the message goes out as 1.2; methods since 1.3 are refused unsent.
    let capped = calc.prepare().version_cap(RpcVersion::new(1, 2));
    capped.resize(&ctx, 20, Some(true)).await?;
    let seen = served(&mut events, "resize").await;
    outcome(
        "call resize(size=20, force=True), cap 1.2",
        format!("server got {seen}"),
    );
    match capped.echo_floats(&ctx, vec![1.0]).await {
        Err(error @ RpcError::VersionCap { .. }) => outcome(
            "call echo_floats (1.3), cap 1.2",
            format!("refused: {error}"),
        ),
        other => panic!("expected a version-cap refusal, got {other:?}"),
    }

    match calc.fail(&ctx, "custom".to_owned()).await {
        Err(error) => outcome(
            "call fail(kind='custom')",
            format!(
                "remote error {error}, rebuilt as {:?}",
                error.rebuild::<CalcError>()
            ),
        ),
        Ok(()) => panic!("fail() must fail"),
    }

    // The untyped client reaches what the typed one cannot express.
    match calc.inner().call(&ctx, "add", json!({"a": 1})).await {
        Err(RpcError::Remote(remote)) => {
            outcome("call add(a=1) untyped", format!("remote error {remote}"))
        }
        other => panic!("expected a TypeError, got {other:?}"),
    }
    match calc.inner().call(&ctx, "nosuch", json!({})).await {
        Err(error @ RpcError::NoSuchMethod { .. }) => {
            outcome("call nosuch() untyped", format!("{error}"))
        }
        other => panic!("expected NoSuchMethod, got {other:?}"),
    }

    server.stop().await?;
    println!("server: stopped");
    Ok(())
}
