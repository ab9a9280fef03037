use oslo_rpc::prelude::*;

#[rpc_endpoint(version = "1.0")]
pub trait Store {
    async fn put<T: serde::Serialize>(&self, value: T) -> Result<(), RpcError>;
    async fn get(&self, key: String) -> Result<String, RpcError>
    where
        Self: Sized;
}

fn main() {}
