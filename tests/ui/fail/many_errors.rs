// Every mistake is reported at once, each at its own token.
use oslo_rpc::prelude::*;

#[rpc_endpoint(namespace = "calc", version = "1.2", colour = "blue")]
pub trait Calc {
    fn add(&self, a: i64, b: i64) -> Result<i64, RpcError>;
    #[rpc(since = "1.3")]
    async fn square(&mut self, x: i64) -> Result<i64, RpcError>;
    async fn resize(&self, #[rpc(since = "1.1")] size: u32) -> u32;
}

fn main() {}
