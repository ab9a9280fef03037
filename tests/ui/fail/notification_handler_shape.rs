use oslo_rpc::prelude::*;

struct Shapes;

#[notification_endpoint]
impl Shapes {
    fn info(&self, _n: Notification) {}
    async fn warn(_n: Notification) {}
    async fn error(&self, _ctx: &Context, _n: Notification) {}
    async fn debug(&self, _payload: serde_json::Value) {}
    async fn audit(&mut self, _n: Notification) {}
}

fn main() {}
