use oslo_rpc::prelude::*;

#[rpc_endpoint(namespace = "calc", version = "1.3")]
pub trait Calc {
    #[rpc(since = "1.4")]
    async fn square(&self, x: i64) -> Result<i64, RpcError>;
    #[rpc(since = "2.0")]
    async fn cube(&self, x: i64) -> Result<i64, RpcError>;
    async fn resize(&self, size: u32, #[rpc(since = "1.3.1")] force: Option<bool>) -> Result<(), RpcError>;
}

fn main() {}
