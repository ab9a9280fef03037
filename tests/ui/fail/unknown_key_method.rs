use oslo_rpc::prelude::*;

#[rpc_endpoint(version = "1.1")]
pub trait Calc {
    #[rpc(sinse = "1.1")]
    async fn add(&self, a: i64, b: i64) -> Result<i64, RpcError>;
    #[rpc(since = "1.1", rename = "minus")]
    async fn sub(&self, a: i64, b: i64) -> Result<i64, RpcError>;
    #[rpc(version = "1.1")]
    async fn mul(&self, a: i64, b: i64) -> Result<i64, RpcError>;
}

fn main() {}
