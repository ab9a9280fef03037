// #[notification_endpoint] on a generic block, a batch block, and through a renamed facade.
extern crate oslo_rpc as rpc;

use rpc::notify::{BatchNotificationEndpoint, Notification, NotificationEndpoint, Outcome, Priority};

#[derive(serde::Deserialize)]
struct Payload {
    #[allow(dead_code)]
    id: u64,
}

struct Generic<T>(T);

#[rpc::notification_endpoint(crate = "::rpc")]
impl<T: Send + Sync + 'static> Generic<T> {
    async fn sample(&self, _n: Notification<Payload>) -> Outcome {
        Outcome::Requeue
    }
    async fn r#warn(&self, _n: Notification) -> Result<(), String> {
        Ok(())
    }
}

struct Batches;

#[rpc::notification_endpoint(batch, crate = "::rpc")]
impl Batches {
    async fn info(&self, batch: Vec<Notification<Payload>>) -> Outcome {
        if batch.is_empty() { Outcome::Requeue } else { Outcome::Handled }
    }
}

fn main() {
    assert_eq!(Generic(1u8).priorities(), [Priority::Warn, Priority::Sample]);
    assert_eq!(BatchNotificationEndpoint::priorities(&Batches), [Priority::Info]);
}
