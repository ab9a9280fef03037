use oslo_rpc::prelude::*;

#[rpc_endpoint(version = "1.0")]
pub trait Notifier {
    async fn cast(&self, message: String) -> Result<(), RpcError>;
    async fn timeout(&self, seconds: f64) -> Result<(), RpcError>;
}

fn main() {}
