use oslo_rpc::prelude::*;

#[derive(VersionedObject)]
#[versioned_object(name = "Widget", version = "1.2")]
pub struct Widget {
    pub id: i64,
    #[versioned_object(since = "1.3")]
    pub tags: Option<Vec<String>>,
    #[versioned_object(since = "2.0")]
    pub color: Option<String>,
    pub state: ObjectState,
}

fn main() {}
