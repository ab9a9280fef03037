use oslo_rpc::prelude::*;

#[derive(VersionedObject)]
#[versioned_object(version = "1.0")]
pub struct NoState {
    pub id: i64,
}

#[derive(VersionedObject)]
#[versioned_object(version = "1.0")]
pub struct Generic<T> {
    pub value: T,
    pub state: ObjectState,
}

#[derive(VersionedObject)]
#[versioned_object(version = "1.0")]
pub enum Status {
    Active,
}

#[derive(VersionedObject)]
#[versioned_object(version = "1.0", serial_namespace = "", colour = "red", name = 3)]
pub struct Keys {
    #[versioned_object(since = "1.0", since = "1.0")]
    pub id: Option<i64>,
    pub state: ObjectState,
    pub again: ObjectState,
}

fn main() {}
