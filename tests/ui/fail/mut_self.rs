use oslo_rpc::prelude::*;

#[rpc_endpoint(version = "1.0")]
pub trait Counter {
    async fn increment(&mut self, by: u32) -> Result<u32, RpcError>;
    async fn consume(self) -> Result<(), RpcError>;
}

fn main() {}
