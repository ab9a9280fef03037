use oslo_rpc::prelude::*;

#[rpc_endpoint(version = "1.1")]
pub trait Calc {
    async fn add(&self, #[rpc(name = "x")] a: i64, #[rpc(default = "0")] b: Option<i64>) -> Result<i64, RpcError>;
}

fn main() {}
