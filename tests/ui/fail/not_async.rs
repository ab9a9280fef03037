use oslo_rpc::prelude::*;

#[rpc_endpoint(version = "1.0")]
pub trait Calc {
    fn add(&self, a: i64, b: i64) -> Result<i64, RpcError>;
}

fn main() {}
