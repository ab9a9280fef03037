//! An object as argument and result of an endpoint, nested and in containers, with a
//! make_compatible hook and every field form.

use std::collections::HashMap;

use oslo_rpc::objects::{DateTime, Field, ObjectData, ObjectError};
use oslo_rpc::prelude::*;

#[derive(VersionedObject, Debug, Clone, PartialEq)]
#[versioned_object(serial_namespace = "nova_object", namespace = "nova", version = "1.0")]
pub struct Flavor {
    pub name: String,
    pub state: ObjectState,
}

#[derive(VersionedObject, Debug, Clone, PartialEq)]
#[versioned_object(
    serial_namespace = "nova_object",
    namespace = "nova",
    version = "1.3.1",
    make_compatible = "Self::backport"
)]
pub struct Instance {
    pub r#type: String,
    pub launched_at: Option<DateTime>,
    #[versioned_object(since = "1.1")]
    pub flavor: Option<Flavor>,
    #[versioned_object(since = "1.2")]
    pub extra: Field<Option<HashMap<String, Flavor>>>,
    #[versioned_object(since = "1.3")]
    pub flavors: Field<Vec<Flavor>>,
    pub state: ObjectState,
}

impl Instance {
    fn backport(&self, _data: &mut ObjectData, _target: RpcVersion) -> Result<(), ObjectError> {
        Ok(())
    }
}

#[rpc_endpoint(namespace = "compute", version = "5.0")]
pub trait Compute {
    async fn build(&self, instance: Instance, others: Vec<Instance>) -> Result<Option<Instance>, RpcError>;
}

fn main() {
    let schema = ComputeClient::schema();
    let names: Vec<&str> = schema.objects.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["Instance", "Flavor"]);
    assert_eq!(<Instance as VersionedObject>::INFO.fields[0].name, "type");
}
