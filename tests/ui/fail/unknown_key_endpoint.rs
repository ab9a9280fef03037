use oslo_rpc::prelude::*;

#[rpc_endpoint(namspace = "calc", version = "1.0", since = "1.0")]
pub trait Calc {
    async fn add(&self, a: i64, b: i64) -> Result<i64, RpcError>;
}

fn main() {}
