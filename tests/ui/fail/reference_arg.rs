use oslo_rpc::prelude::*;

#[rpc_endpoint(version = "1.0")]
pub trait Text {
    async fn shout(&self, text: &str) -> Result<String, RpcError>;
    async fn total(&self, values: &[i64]) -> Result<i64, RpcError>;
}

fn main() {}
