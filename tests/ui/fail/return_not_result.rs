use oslo_rpc::prelude::*;

#[rpc_endpoint(version = "1.0")]
pub trait Calc {
    async fn add(&self, a: i64, b: i64) -> i64;
    async fn reset(&self);
    async fn try_add(&self, a: i64) -> Option<i64>;
}

fn main() {}
