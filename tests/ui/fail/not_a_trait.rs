use oslo_rpc::prelude::*;

#[rpc_endpoint(version = "1.0")]
pub struct Calc {
    pub total: i64,
}

fn main() {}
