use oslo_rpc::prelude::*;

#[rpc_endpoint(version = "1.0")]
pub trait Calc {
    async fn add(&self, _: i64, b: i64) -> Result<i64, RpcError>;
    async fn sum(&self, pair @ _: (i64, i64)) -> Result<i64, RpcError>;
}

fn main() {}
