use oslo_rpc::prelude::*;

pub struct Handle;

#[derive(VersionedObject)]
#[versioned_object(version = "1.0")]
pub struct Widget {
    pub handle: Handle,
    pub state: ObjectState,
}

fn main() {}
