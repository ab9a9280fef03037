// The facade under another name: `crate = "..."` tells generated code where it is.
extern crate oslo_rpc as rpc;

use rpc::prelude::{Context, RpcError};

#[rpc::rpc_endpoint(namespace = "calc", version = "1.3.1", crate = "::rpc")]
pub trait Calc {
    async fn add(&self, ctx: &Context, a: i64, b: i64) -> Result<i64, RpcError>;
    #[rpc(since = "1.3.1")]
    async fn r#type(&self, r#in: Option<String>) -> Result<String, RpcError>;
}

fn main() {
    assert_eq!(CalcClient::VERSION, rpc::RpcVersion::with_revision(1, 3, 1));
    let schema = CalcClient::schema();
    assert_eq!(schema.methods[1].name, "type");
    assert_eq!(schema.methods[1].args[0].name, "in");
}
