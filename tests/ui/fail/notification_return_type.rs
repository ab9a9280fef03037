use oslo_rpc::prelude::*;

struct Counts;

#[notification_endpoint]
impl Counts {
    async fn info(&self, _n: Notification) -> usize {
        1
    }
}

fn main() {}
