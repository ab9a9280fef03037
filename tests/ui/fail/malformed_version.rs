use oslo_rpc::prelude::*;

#[rpc_endpoint(namespace = "calc", version = "1.x")]
pub trait Calc {
    async fn add(&self, a: i64, b: i64) -> Result<i64, RpcError>;
}

#[rpc_endpoint(version = "v2")]
pub trait Ping {
    async fn ping(&self) -> Result<String, RpcError>;
}

fn main() {}
