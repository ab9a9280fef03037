use oslo_rpc::prelude::*;

#[derive(VersionedObject)]
#[versioned_object(version = "1.x")]
pub struct Widget {
    #[versioned_object(since = "01.1")]
    pub tags: Option<Vec<String>>,
    pub state: ObjectState,
}

#[derive(VersionedObject)]
#[versioned_object(name = "Gadget")]
pub struct Gadget {
    pub state: ObjectState,
}

fn main() {}
