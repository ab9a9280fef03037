use oslo_rpc::prelude::*;

#[rpc_endpoint(namespace = "calc", version = "1.3")]
pub trait Calc {
    async fn resize(&self, size: u32, #[rpc(since = "1.3")] force: bool) -> Result<(), RpcError>;
}

fn main() {}
