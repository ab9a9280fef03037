use oslo_rpc::prelude::*;

#[rpc_endpoint(namespace = calc, version = 1.3)]
pub trait Calc {
    #[rpc(since = "1.1", since = "1.2")]
    async fn add(&self, a: i64, b: i64) -> Result<i64, RpcError>;
    #[rpc]
    async fn sub(&self, a: i64, b: i64) -> Result<i64, RpcError>;
    #[rpc(name = "")]
    async fn mul(&self, a: i64, b: i64) -> Result<i64, RpcError>;
}

fn main() {}
