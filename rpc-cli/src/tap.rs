//! `oslo-rpc tap`: prints every request sent to a topic as one JSON line, from a temporary
//! queue of its own, so no server loses a message.

use std::io::Write;

use oslo_rpc::Transport;
use rpc_runtime::tap::Tapped;
use rpc_runtime::wire::{Args, json};
use serde::Serialize;
use serde_json::{Map, Number, Value};
use tokio::signal::unix::{SignalKind, signal};

use crate::failure::Failure;

/// One line of output.
#[derive(Serialize)]
struct Line<'a> {
    exchange: &'a str,
    routing_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    msg_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_q: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    call_monitor_timeout: Option<&'a Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<&'a Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    args: Option<&'a Args>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Taps `topic` until `count` requests were printed, or a signal arrives.
pub(crate) async fn run(
    transport: Transport,
    topic: &str,
    exchange: Option<&str>,
    count: Option<u64>,
) -> Result<(), Failure> {
    let mut terminate =
        signal(SignalKind::terminate()).map_err(|e| Failure::Usage(e.to_string()))?;
    let mut interrupt =
        signal(SignalKind::interrupt()).map_err(|e| Failure::Usage(e.to_string()))?;
    let mut tap = transport.tap(topic, exchange).await?;
    let exchange_name = exchange
        .unwrap_or(&transport.config().control_exchange)
        .to_owned();
    eprintln!("oslo-rpc: tapping topic {topic:?} on exchange {exchange_name:?} (Ctrl-C to stop)");
    let mut printed = 0u64;
    while count.is_none_or(|count| printed < count) {
        let tapped = tokio::select! {
            tapped = tap.next() => match tapped {
                Some(tapped) => tapped,
                None => break,
            },
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
        };
        println!("{}", render(&tapped));
        // A pipe reader (grep, jq) sees each request as it passes.
        let _ = std::io::stdout().flush();
        printed += 1;
    }
    tap.close().await;
    transport.shutdown().await;
    Ok(())
}

fn render(tapped: &Tapped) -> String {
    let mut line = Line {
        exchange: &tapped.exchange,
        routing_key: &tapped.routing_key,
        kind: None,
        method: None,
        namespace: None,
        version: None,
        msg_id: None,
        reply_q: None,
        call_monitor_timeout: None,
        context: None,
        args: None,
        error: None,
    };
    match &tapped.request {
        Ok(request) => {
            line.kind = Some(if request.is_call() { "call" } else { "cast" });
            line.method = Some(&request.method);
            line.namespace = request.namespace.as_deref();
            line.version = request.version.as_deref();
            line.msg_id = request.msg_id.as_deref();
            line.reply_q = request.reply_q.as_deref();
            line.call_monitor_timeout = request.call_monitor_timeout.as_ref();
            line.context = Some(request.context.as_map());
            line.args = Some(&request.args);
            line.error = request.problem.clone();
        }
        Err(error) => line.error = Some(error.to_string()),
    }
    json::to_string(&line).unwrap_or_else(|e| format!("{{\"error\": \"cannot print: {e}\"}}"))
}
