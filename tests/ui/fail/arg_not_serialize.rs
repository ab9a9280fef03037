use oslo_rpc::prelude::*;

pub struct Point {
    pub x: i64,
    pub y: i64,
}

#[rpc_endpoint(version = "1.0")]
pub trait Geometry {
    async fn norm(&self, scale: f64, point: Point) -> Result<f64, RpcError>;
}

fn main() {}
