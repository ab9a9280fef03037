// On an error the trait is still emitted as written: the impl and the call below compile,
// and the only error is the macro's.
use oslo_rpc::prelude::*;

#[rpc_endpoint(version = "1.0", namespce = "calc")]
pub trait Calc {
    async fn add(&self, a: i64, b: i64) -> Result<i64, RpcError>;
}

struct MyCalc;

impl Calc for MyCalc {
    async fn add(&self, a: i64, b: i64) -> Result<i64, RpcError> {
        Ok(a + b)
    }
}

async fn use_it() -> Result<i64, RpcError> {
    MyCalc.add(1, 2).await
}

fn main() {
    let _ = use_it();
}
