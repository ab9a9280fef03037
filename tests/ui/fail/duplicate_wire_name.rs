use oslo_rpc::prelude::*;

#[rpc_endpoint(version = "1.0")]
pub trait Calc {
    async fn add(&self, a: i64, b: i64) -> Result<i64, RpcError>;
    #[rpc(name = "add")]
    async fn add_floats(&self, a: f64, b: f64) -> Result<f64, RpcError>;
    #[rpc(name = "sub")]
    async fn subtract(&self, a: i64, b: i64) -> Result<i64, RpcError>;
    async fn sub(&self, a: i64, b: i64) -> Result<i64, RpcError>;
}

fn main() {}
