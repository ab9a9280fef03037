//! Panics in endpoint code: a method's body, the user's `Deserialize` of its arguments or
//! `Serialize` of its result, a hand-written `Endpoint`. Each is caught where the server
//! runs the request, so the caller is answered (spec §4.1: exactly one reply per call), the
//! request's concurrency slot is released and the server serves on.
//!
//! Caught by hand, around `Endpoint::dispatch` and each poll of the future it returns,
//! rather than by spawning the method as a task of its own and reading the panic from its
//! `JoinHandle`: that would cost a task and a wake-up per request on the hot path, and
//! would not cover the synchronous part of `dispatch`. `futures::FutureExt::catch_unwind`
//! does the same as [`CatchPanics`] but needs `futures-util` for these few lines.
//!
//! Unwind safety is asserted: after a panic the method's future is dropped and never
//! polled again, which is what tokio does with a task that panics; state the method shared
//! with other code may be left half-updated exactly as it would be there.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::Failure;
use crate::error::RemoteError;

/// The Python class a panic is sent as. A Python method that fails unexpectedly sends
/// whatever it raised (spec §5.1); `RuntimeError` is Python's class for "an error that
/// doesn't fall in any of the other categories", and a Python client always rebuilds it
/// (builtins are always allowed, spec §5.2).
pub const PANIC_CLASS: &str = "RuntimeError";

/// The module of [`PANIC_CLASS`].
pub const PANIC_MODULE: &str = "builtins";

/// The failure a caught panic is answered with: its message only (no location, no
/// backtrace: the caller may be another organisation's service).
pub(crate) fn panic_failure(message: &str) -> Failure {
    Box::new(RemoteError::new(PANIC_CLASS, PANIC_MODULE, message))
}

/// A panic's message: the `&str` or `String` it carries.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "the method panicked with a value that is not a string".to_owned()
    }
}

/// Calls `start` and then drives the future it returns; a panic in either ends the
/// future with `Err(message)`.
pub(crate) fn catch_panics<F: Future + Unpin>(start: impl FnOnce() -> F) -> CatchPanics<F> {
    match catch_unwind(AssertUnwindSafe(start)) {
        Ok(inner) => CatchPanics {
            inner: Some(inner),
            panicked: None,
        },
        Err(payload) => CatchPanics {
            inner: None,
            panicked: Some(panic_message(payload.as_ref())),
        },
    }
}

/// A future whose panics are caught (see [`catch_panics`]).
pub(crate) struct CatchPanics<F> {
    inner: Option<F>,
    panicked: Option<String>,
}

impl<F: Future + Unpin> Future for CatchPanics<F> {
    type Output = Result<F::Output, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(Err(this
                .panicked
                .take()
                .unwrap_or_else(|| "the method panicked".to_owned())));
        };
        match catch_unwind(AssertUnwindSafe(|| Pin::new(inner).poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => {
                // Never polled again; dropped here, not by whoever drops us.
                this.inner = None;
                Poll::Ready(Err(panic_message(payload.as_ref())))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn panics_before_and_during_the_future_are_caught() {
        let before = catch_panics(|| -> std::future::Ready<u8> { panic!("at dispatch") });
        assert_eq!(before.await, Err("at dispatch".to_owned()));
        let during = catch_panics(|| {
            Box::pin(async {
                tokio::task::yield_now().await;
                let code = 7;
                panic!("in the body: {code}");
            })
        });
        let outcome: Result<(), String> = during.await;
        assert_eq!(outcome, Err("in the body: 7".to_owned()));
        let fine = catch_panics(|| std::future::ready(3));
        assert_eq!(fine.await, Ok(3));
    }

    #[test]
    fn non_string_payloads_get_a_plain_message() {
        let payload: Box<dyn Any + Send> = Box::new(42u32);
        assert!(panic_message(payload.as_ref()).contains("not a string"));
    }
}
