//! Watching a topic's requests as they pass, without taking them from any server (the
//! `oslo-rpc tap` command): a temporary queue of the tap's own receives a copy of every
//! request to the topic, to any of its servers, and of every fanout cast.

use crate::error::RpcError;
use crate::target::Target;
use crate::transport::{Listener, TapSpec, Transport};
use crate::wire::{self, CodecError, Request};

/// One request seen by a [`Tap`].
#[derive(Debug)]
pub struct Tapped {
    /// The exchange it was published to (`<topic>_fanout` for fanout casts).
    pub exchange: String,
    /// Its routing key: `<topic>`, `<topic>.<server>`, or empty for fanout casts.
    pub routing_key: String,
    /// The request, or why it could not be decoded.
    pub request: Result<Request, CodecError>,
}

/// A running tap; close it to delete its queue at once (it also goes with the connection).
pub struct Tap {
    listener: Box<dyn Listener>,
}

impl Tap {
    /// The next request, or `None` when the transport closed.
    pub async fn next(&mut self) -> Option<Tapped> {
        let incoming = self.listener.recv().await?;
        let (exchange, routing_key) = incoming.route.unwrap_or_default();
        let request = wire::check_content_type(incoming.content_type.as_deref())
            .and_then(|()| wire::decode_request(&incoming.body));
        Some(Tapped {
            exchange,
            routing_key,
            request,
        })
    }

    /// Stops watching and deletes the tap's queue.
    pub async fn close(mut self) {
        self.listener.stop().await;
        self.listener.close().await;
    }
}

impl Transport {
    /// Starts watching `topic` on `exchange` (the control exchange when `None`). When this
    /// returns, the tap's queue is bound and every later request arrives.
    // Public for the CLI's `tap` command; its items are the wire's `Request`, which is not
    // part of the documented API.
    #[doc(hidden)]
    pub async fn tap(&self, topic: &str, exchange: Option<&str>) -> Result<Tap, RpcError> {
        let mut target = Target::topic(topic);
        target.exchange = exchange.map(str::to_owned);
        target.validate_for_cast()?;
        let spec = TapSpec {
            exchange: exchange
                .unwrap_or(&self.config().control_exchange)
                .to_owned(),
            topic: topic.to_owned(),
        };
        let listener = self.driver().tap(&spec).await?;
        Ok(Tap { listener })
    }
}
