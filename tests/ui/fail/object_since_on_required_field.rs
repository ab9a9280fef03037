use oslo_rpc::prelude::*;

#[derive(VersionedObject)]
#[versioned_object(version = "1.1")]
pub struct Widget {
    pub id: i64,
    #[versioned_object(since = "1.1")]
    pub size: u32,
    pub state: ObjectState,
}

fn main() {}
