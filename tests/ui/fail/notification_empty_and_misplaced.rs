use oslo_rpc::prelude::*;

struct Empty;

#[notification_endpoint]
impl Empty {}

trait Other {
    fn info(&self);
}

#[notification_endpoint]
impl Other for Empty {
    fn info(&self) {}
}

#[notification_endpoint(batches)]
impl Empty {
    async fn info(&self, _n: Notification) {}
}

struct Batch;

#[notification_endpoint(batch)]
impl Batch {
    async fn info(&self, _n: Notification) {}
}

fn main() {}
