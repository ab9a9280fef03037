use oslo_rpc::prelude::*;

#[rpc_endpoint(version = "1.0")]
pub trait Calc {
    async fn add(&self, a: i64, ctx: &Context, b: i64) -> Result<i64, RpcError>;
    async fn reset(&self, ctx: &mut Context) -> Result<(), RpcError>;
}

fn main() {}
