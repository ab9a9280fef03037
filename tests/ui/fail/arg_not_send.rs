use std::marker::PhantomData;

use oslo_rpc::prelude::*;

#[derive(serde::Serialize, serde::Deserialize)]
pub struct Handle {
    id: u64,
    #[serde(skip)]
    not_send: PhantomData<*const ()>,
}

#[rpc_endpoint(version = "1.0")]
pub trait Handles {
    async fn close(&self, handle: Handle) -> Result<(), RpcError>;
}

fn main() {}
