//! Errors that name the cause (issue 14 item 8): a call or cast whose time runs out before
//! the broker was ever reached fails as a transport error of kind `Unreachable` naming the
//! host and the connection error, not as a reply timeout; a refused login or virtual host
//! fails at once instead of being retried until the deadline. The refusals use the
//! machine's broker (a failed login declares nothing).

mod support;

use std::time::{Duration, Instant};

use oslo_rpc::error::TransportErrorKind;
use oslo_rpc::prelude::*;
use oslo_rpc::{RpcServer, TransportError};
use serde_json::json;

fn transport_kind(error: &RpcError) -> Option<TransportErrorKind> {
    match error {
        RpcError::Transport(error) => Some(TransportError::kind(error)),
        _ => None,
    }
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

#[tokio::test]
async fn a_call_that_never_reached_the_broker_says_so_and_is_not_a_timeout() {
    // Nothing listens on port 1.
    let transport = Transport::new("rabbit://guest:guest@127.0.0.1:1/").unwrap();
    let client = RpcClient::new(transport.clone(), Target::topic(unique("t")))
        .timeout(Duration::from_secs(1));
    let ctx = Context::new();
    for error in [
        client.call(&ctx, "ping", json!({})).await.unwrap_err(),
        client.cast(&ctx, "ping", json!({})).await.unwrap_err(),
    ] {
        assert_eq!(
            transport_kind(&error),
            Some(TransportErrorKind::Unreachable),
            "{error:?}"
        );
        let text = error.to_string();
        assert!(text.contains("127.0.0.1:1"), "{text}");
        assert!(text.contains("refused"), "{text}");
        assert!(text.contains("not sent") && text.contains("ping"), "{text}");
        assert!(error.is_transient());
    }
    transport.shutdown().await;
}

#[tokio::test]
async fn a_reply_that_never_comes_is_still_a_timeout() {
    // Connected, sent, unanswered: the other case stays a timeout.
    let transport = Transport::new(&format!("memory://{}", unique("silent"))).unwrap();
    let client =
        RpcClient::new(transport, Target::topic("nobody")).timeout(Duration::from_millis(200));
    let error = client
        .call(&Context::new(), "ping", json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            RpcError::Timeout {
                unreachable: None,
                ..
            }
        ),
        "{error:?}"
    );
}

/// The machine broker's URL with `user:password` and `vhost` replaced.
fn broker_with(credentials: &str, vhost: &str) -> String {
    let base = oslo_rpc::TransportUrl::parse(&support::rabbit::broker_url()).unwrap();
    let host = &base.hosts()[0];
    format!(
        "rabbit://{credentials}@{}:{}/{vhost}",
        host.hostname,
        host.port_or_default()
    )
}

/// Calls, casts and starts a server with `url`; each must fail with `AccessRefused` long
/// before its 30 s timeout; returns the call's error text.
async fn refused_at_once(url: &str) -> String {
    let transport = Transport::new(url).unwrap();
    let topic = unique("refused");
    let client =
        RpcClient::new(transport.clone(), Target::topic(&topic)).timeout(Duration::from_secs(30));
    let ctx = Context::new();
    let started = Instant::now();
    let call = client.call(&ctx, "ping", json!({})).await.unwrap_err();
    let cast = client.cast(&ctx, "ping", json!({})).await.unwrap_err();
    let server = RpcServer::builder(transport.clone(), Target::server(&topic, "s1"))
        .endpoint(DynamicEndpoint::builder().build())
        .build()
        .unwrap()
        .start()
        .await
        .err()
        .expect("the server cannot start");
    // Generous under load; a retried login would take the whole 30 s.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    for (what, error) in [("call", &call), ("cast", &cast), ("server", &server)] {
        assert_eq!(
            transport_kind(error),
            Some(TransportErrorKind::AccessRefused),
            "{what}: {error:?}"
        );
    }
    transport.shutdown().await;
    call.to_string()
}

#[tokio::test]
async fn a_wrong_password_fails_at_once_naming_the_user() {
    support::rabbit::rabbit_url().await;
    let text = refused_at_once(&broker_with("guest:not-the-password", "")).await;
    assert!(text.contains("refused the login"), "{text}");
    assert!(
        text.contains("\"guest\"") && text.contains("ACCESS_REFUSED"),
        "{text}"
    );
    assert!(!text.contains("not-the-password"), "{text}");
}

#[tokio::test]
async fn a_missing_virtual_host_fails_at_once_naming_it() {
    support::rabbit::rabbit_url().await;
    let vhost = unique("no-such-vhost");
    let text = refused_at_once(&broker_with("guest:guest", &vhost)).await;
    assert!(text.contains("refused virtual host"), "{text}");
    assert!(text.contains(&vhost), "{text}");
}
