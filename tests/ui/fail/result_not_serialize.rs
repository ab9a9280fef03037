use oslo_rpc::prelude::*;

pub struct Point {
    pub x: i64,
    pub y: i64,
}

#[rpc_endpoint(version = "1.0")]
pub trait Geometry {
    async fn origin(&self) -> Result<Point, RpcError>;
}

fn main() {}
