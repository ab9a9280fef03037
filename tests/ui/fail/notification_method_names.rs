use oslo_rpc::prelude::*;

struct Audit;

#[notification_endpoint]
impl Audit {
    async fn info(&self, _n: Notification) {}
    async fn warning(&self, _n: Notification) {}
    async fn infoo(&self, _n: Notification) {}
}

fn main() {}
