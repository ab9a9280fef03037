//! Quickstart: one process, the in-process `memory://` transport (no broker needed).
//! Starts a `calc` server, makes calls and a cast, shows a version-cap refusal and a remote
//! error, and prints each outcome.
//!
//! Run it with `cargo run --example quickstart`.

use std::time::Duration;

use oslo_rpc::prelude::*;
use serde_json::{Value, json};
use tokio::sync::mpsc;

#[tokio::main]
async fn main() -> Result<(), RpcError> {
    let transport = Transport::connect("memory://").await?;

    // The server side: an endpoint in namespace "calc" at version 1.3.
    let (cast_tx, mut cast_rx) = mpsc::unbounded_channel();
    let calc = DynamicEndpoint::builder()
        .namespace("calc")
        .version(RpcVersion::new(1, 3))
        .method("add", |_ctx, args| async move {
            let a = args.get("a").and_then(Value::as_i64);
            let b = args.get("b").and_then(Value::as_i64);
            match (a, b) {
                (Some(a), Some(b)) => Ok(json!(a + b)),
                _ => Err(RemoteError::new(
                    "TypeError",
                    "builtins",
                    "add() needs integers a and b",
                )),
            }
        })
        .method("notify", move |ctx: Context, args| {
            let cast_tx = cast_tx.clone();
            async move {
                let _ = cast_tx.send((ctx.request_id().map(str::to_owned), args));
                Ok::<_, RpcError>(Value::Null)
            }
        })
        .method("fail", |_ctx, _args| async move {
            Err::<Value, _>(RemoteError::new("ValueError", "builtins", "asked to fail"))
        })
        .build();
    let server = RpcServer::builder(transport.clone(), Target::server("calc", "host-1"))
        .endpoint(calc)
        .build()?
        .start()
        .await?;
    println!("server: listening on topic 'calc' as host-1");

    // The client side.
    let ctx = Context::with_new_request_id().with_user_id("demo");
    let client = RpcClient::new(
        transport.clone(),
        Target::topic("calc").with_namespace("calc"),
    )
    .timeout(Duration::from_secs(5));

    let sum = client.call(&ctx, "add", json!({"a": 2, "b": 3})).await?;
    println!("call add(a=2, b=3)            -> {sum}");

    client
        .cast(&ctx, "notify", json!({"event": "hello"}))
        .await?;
    let (request_id, args) = cast_rx.recv().await.expect("the cast arrives");
    println!(
        "cast notify(event='hello')    -> server got {} (request_id {})",
        Value::Object(args),
        request_id.unwrap_or_default()
    );

    let capped = client
        .prepare()
        .version(RpcVersion::new(1, 4))
        .version_cap(RpcVersion::new(1, 3));
    match capped.call(&ctx, "add", json!({"a": 1, "b": 1})).await {
        Err(error @ RpcError::VersionCap { .. }) => {
            println!("call add at 1.4, cap 1.3     -> refused: {error}")
        }
        other => panic!("expected a version-cap refusal, got {other:?}"),
    }

    match client.call(&ctx, "fail", json!({})).await {
        Err(RpcError::Remote(remote)) => {
            println!("call fail()                   -> remote error {remote}")
        }
        other => panic!("expected a remote error, got {other:?}"),
    }

    match client.call(&ctx, "nosuch", json!({})).await {
        Err(error @ RpcError::NoSuchMethod { .. }) => {
            println!("call nosuch()                 -> {error}")
        }
        other => panic!("expected NoSuchMethod, got {other:?}"),
    }

    server.stop().await?;
    println!("server: stopped");
    Ok(())
}
