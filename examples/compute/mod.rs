//! A nova-style compute API passing versioned objects: `Instance` and `Flavor` as nova
//! defines them (serial namespace `nova_object`, project namespace `nova`), trimmed to a few
//! fields, with their version history, and `ComputeApi`, a cut of nova's compute RPC API.
//! Used by `examples/versioned_objects.rs` and the schema test (`schemas/compute.json`).

#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::sync::Mutex;

use oslo_rpc::objects::{DateTime, Field, ObjectData, ObjectError};
use oslo_rpc::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// nova's `Flavor`. History: 1.0 first version; 1.1 added `description`.
#[derive(VersionedObject, Debug, Clone, PartialEq)]
#[versioned_object(serial_namespace = "nova_object", namespace = "nova", version = "1.1")]
pub struct Flavor {
    pub flavorid: String,
    pub memory_mb: u32,
    pub vcpus: u32,
    #[versioned_object(since = "1.1")]
    pub description: Field<Option<String>>,
    pub state: ObjectState,
}

/// nova's `vm_states`, an `EnumField` (a string on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VmState {
    Building,
    Active,
    Stopped,
    Error,
}

/// nova's `Instance`. History: 1.0 first version; 1.1 added `flavor`; 1.2 added
/// `launched_at`; 1.3 added `metadata` and sends `vcpus` inside the flavor only (1.2 and
/// older peers read a top-level `vcpus`, which `backport` writes for them).
#[derive(VersionedObject, Debug, Clone, PartialEq)]
#[versioned_object(
    serial_namespace = "nova_object",
    namespace = "nova",
    version = "1.3",
    make_compatible = "Self::backport"
)]
pub struct Instance {
    pub uuid: Uuid,
    pub host: Option<String>,
    pub vm_state: VmState,
    pub task_state: Option<String>,
    #[versioned_object(since = "1.1")]
    pub flavor: Option<Flavor>,
    #[versioned_object(since = "1.2")]
    pub launched_at: Field<Option<DateTime>>,
    #[versioned_object(since = "1.3")]
    pub metadata: Option<BTreeMap<String, String>>,
    pub state: ObjectState,
}

impl Instance {
    /// What nova's `Instance.obj_make_compatible` would do for 1.3's change of `vcpus`.
    fn backport(&self, data: &mut ObjectData, target: RpcVersion) -> Result<(), ObjectError> {
        if target < RpcVersion::new(1, 3)
            && let Some(flavor) = &self.flavor
        {
            data.insert("vcpus", &flavor.vcpus)?;
        }
        Ok(())
    }

    /// A new instance being built on `host`.
    pub fn building(host: &str, flavor: Flavor) -> Instance {
        Instance {
            uuid: Uuid::new_v4(),
            host: Some(host.to_owned()),
            vm_state: VmState::Building,
            task_state: Some("spawning".to_owned()),
            flavor: Some(flavor),
            launched_at: Field::Unset,
            metadata: Some(BTreeMap::from([("role".to_owned(), "db".to_owned())])),
            state: ObjectState::new(),
        }
    }
}

/// A cut of nova's compute RPC API (`nova/compute/rpcapi.py`): the objects are arguments
/// and results, as nova's `NovaObjectSerializer` passes them.
#[rpc_endpoint(version = "6.2")]
pub trait ComputeApi {
    /// Builds and starts an instance; returns it as the compute host left it.
    async fn build_and_run_instance(
        &self,
        ctx: &Context,
        instance: Instance,
        node: String,
    ) -> Result<Instance, RpcError>;

    /// The instances on this host.
    #[rpc(since = "6.1")]
    async fn get_instances(&self, ctx: &Context) -> Result<Vec<Instance>, RpcError>;

    /// Stops an instance.
    #[rpc(since = "6.2")]
    async fn stop_instance(&self, ctx: &Context, instance: Instance) -> Result<Instance, RpcError>;
}

/// A compute host keeping its instances in memory.
#[derive(Default)]
pub struct FakeCompute {
    instances: Mutex<Vec<Instance>>,
}

impl ComputeApi for FakeCompute {
    async fn build_and_run_instance(
        &self,
        _ctx: &Context,
        mut instance: Instance,
        node: String,
    ) -> Result<Instance, RpcError> {
        // As nova's compute manager does: change fields, so that the caller's `save()`
        // writes exactly those.
        instance.reset_changes_recursive();
        instance.vm_state = VmState::Active;
        instance.task_state = None;
        instance.host = Some(node);
        instance.launched_at = Field::Set(Some(DateTime::now().truncated_to_seconds()));
        for field in ["vm_state", "task_state", "host", "launched_at"] {
            instance
                .mark_changed(field)
                .map_err(|error| RpcError::InvalidArgument(error.to_string()))?;
        }
        lock(&self.instances).push(instance.clone());
        Ok(instance)
    }

    async fn get_instances(&self, _ctx: &Context) -> Result<Vec<Instance>, RpcError> {
        Ok(lock(&self.instances).clone())
    }

    async fn stop_instance(
        &self,
        _ctx: &Context,
        mut instance: Instance,
    ) -> Result<Instance, RpcError> {
        instance.reset_changes_recursive();
        instance.vm_state = VmState::Stopped;
        instance
            .mark_changed("vm_state")
            .map_err(|error| RpcError::InvalidArgument(error.to_string()))?;
        Ok(instance)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
