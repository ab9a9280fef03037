//! The publisher pool (oslo's `ConnectionPool`, spec §9.1): confirm-mode channels on the
//! transport's publish connection, created lazily, handed out most-recently-returned first,
//! at most `rpc_conn_pool_size` at once, and closed after `conn_pool_ttl` idle down to
//! `conn_pool_min_size`. A wait for a free channel lasts only as long as the caller's
//! future (oslo waits forever; spec §10.2 bug 7).
//!
//! Two kinds of channel:
//!
//! * **the shared channel**, one per connection, carries any number of publishes in flight,
//!   their confirms pipelined like a raw lapin client's (the broker acknowledges them in
//!   batches). It takes every publish to an exchange that cannot vanish once declared on
//!   the connection: replies and heartbeats (default exchange) and requests to a control
//!   exchange that does not auto-delete. Returns are sorted out by body (see
//!   [`super::publish`]).
//! * **pooled channels** carry one publish at a time: the first publish to an exchange
//!   (which declares it), fanout casts and auto-delete exchanges, where a vanished exchange
//!   (404 closes the channel) must fail only the publish that met it. At most
//!   `rpc_conn_pool_size` exist; concurrent publishes use different ones.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use lapin::Channel;
use lapin::options::ConfirmSelectOptions;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::config::PoolLimits;
use super::link::Session;

/// An idle channel.
struct Idle {
    channel: Channel,
    generation: u64,
    since: Instant,
}

/// Confirm-mode channels for publishing.
pub(super) struct ChannelPool {
    limits: PoolLimits,
    permits: Arc<Semaphore>,
    idle: Mutex<Vec<Idle>>,
    /// The shared channel and the generation of the session it belongs to.
    shared: Mutex<Option<(u64, Channel)>>,
    /// Serializes opening the shared channel.
    opening_shared: tokio::sync::Mutex<()>,
}

impl ChannelPool {
    pub(super) fn new(limits: PoolLimits) -> Self {
        ChannelPool {
            limits,
            // `rpc_conn_pool_size` may be as large as i64::MAX; tokio's semaphore holds less.
            permits: Arc::new(Semaphore::new(limits.max.min(Semaphore::MAX_PERMITS))),
            idle: Mutex::new(Vec::new()),
            shared: Mutex::new(None),
            opening_shared: tokio::sync::Mutex::new(()),
        }
    }

    fn current_shared(&self, generation: u64) -> Option<Channel> {
        match &*self.shared.lock().unwrap_or_else(|e| e.into_inner()) {
            Some((of, channel)) if *of == generation && channel.status().connected() => {
                Some(channel.clone())
            }
            _ => None,
        }
    }

    /// The channel shared by publishes that cannot be returned, opened at first use.
    pub(super) async fn shared(&self, session: &Session) -> lapin::Result<Channel> {
        if let Some(channel) = self.current_shared(session.generation) {
            return Ok(channel);
        }
        let _opening = self.opening_shared.lock().await;
        if let Some(channel) = self.current_shared(session.generation) {
            return Ok(channel);
        }
        let channel = session.connection.create_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        *self.shared.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((session.generation, channel.clone()));
        Ok(channel)
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Idle>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A channel of `session` for one publish. Waits while `max` channels are busy.
    pub(super) async fn acquire(&self, session: &Session) -> lapin::Result<PooledChannel<'_>> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .expect("the pool's semaphore is never closed");
        if let Some(channel) = self.take_idle(session.generation) {
            return Ok(PooledChannel {
                pool: self,
                channel: Some(channel),
                generation: session.generation,
                _permit: permit,
            });
        }
        let channel = session.connection.create_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        Ok(PooledChannel {
            pool: self,
            channel: Some(channel),
            generation: session.generation,
            _permit: permit,
        })
    }

    /// The most recently returned live channel of this generation; older ones are dropped
    /// (which closes them, if their connection still lives).
    fn take_idle(&self, generation: u64) -> Option<Channel> {
        let mut idle = self.idle();
        while let Some(candidate) = idle.pop() {
            if candidate.generation != generation {
                // Every idle channel older than the current session is useless.
                idle.clear();
                return None;
            }
            if candidate.channel.status().connected() {
                return Some(candidate.channel);
            }
        }
        None
    }

    fn put(&self, channel: Channel, generation: u64) {
        let expired = {
            let mut idle = self.idle();
            idle.push(Idle {
                channel,
                generation,
                since: Instant::now(),
            });
            // Oldest first: close those idle longer than the TTL while more than the
            // minimum stay idle.
            let mut expired = Vec::new();
            while idle.len() > self.limits.min_idle
                && idle
                    .first()
                    .is_some_and(|oldest| oldest.since.elapsed() > self.limits.ttl)
            {
                expired.push(idle.remove(0));
            }
            expired
        };
        drop(expired);
    }

    /// Drops every idle channel and the shared one.
    pub(super) fn clear(&self) {
        let idle = std::mem::take(&mut *self.idle());
        drop(idle);
        let shared = self.shared.lock().unwrap_or_else(|e| e.into_inner()).take();
        drop(shared);
    }
}

/// A channel borrowed from the pool. [`PooledChannel::release`] returns it after a
/// completed publish; dropped otherwise (an error, or a caller that gave up mid-publish),
/// it is closed, so no late confirm or return can reach the next user.
pub(super) struct PooledChannel<'a> {
    pool: &'a ChannelPool,
    channel: Option<Channel>,
    generation: u64,
    _permit: OwnedSemaphorePermit,
}

impl PooledChannel<'_> {
    pub(super) fn channel(&self) -> &Channel {
        self.channel
            .as_ref()
            .expect("a pooled channel is present until released or dropped")
    }

    /// Returns the channel to the pool after a publish that completed (confirmed).
    pub(super) fn release(mut self) {
        if let Some(channel) = self.channel.take()
            && channel.status().connected()
        {
            self.pool.put(channel, self.generation);
        }
    }
}
