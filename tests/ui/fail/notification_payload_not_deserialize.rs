use oslo_rpc::prelude::*;

struct NotAPayload;

struct Typed;

#[notification_endpoint]
impl Typed {
    async fn info(&self, _n: Notification<NotAPayload>) {}
}

fn main() {}
