//! Versioned objects in a nova-style compute API (`examples/compute/mod.rs`), on the
//! in-process transport: no broker needed.
//!
//! ```sh
//! cargo run --example versioned_objects
//! ```
//!
//! A conductor-like client builds an `Instance`, the compute server changes some of its
//! fields, and the client sees exactly those as changed (what nova's `instance.save()`
//! writes). Then the client talks to a compute host that still runs `Instance` 1.1: with
//! that host's version manifest, the instance goes out as 1.1, without the fields 1.2 and
//! 1.3 added, and with the `vcpus` that the `make_compatible` hook writes for older peers.

#[path = "compute/mod.rs"]
mod compute;
mod logging;

use compute::{ComputeApiClient, ComputeApiEndpoint, FakeCompute, Flavor, Instance};
use oslo_rpc::objects::{Field, VersionManifest};
use oslo_rpc::prelude::*;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    logging::init("warn");
    let transport = Transport::new("memory://versioned-objects")?;
    let server = RpcServer::builder(transport.clone(), Target::server("compute", "host-1"))
        .endpoint(ComputeApiEndpoint::new(FakeCompute::default()))
        .build()?
        .start()
        .await?;
    let compute = ComputeApiClient::new(RpcClient::new(transport, Target::topic("compute")));
    let ctx = Context::new();

    let flavor = Flavor {
        flavorid: "m1.small".into(),
        memory_mb: 2048,
        vcpus: 1,
        description: Field::Unset,
        state: ObjectState::new(),
    };
    let instance = Instance::building("conductor", flavor);
    println!(
        "sent:     Instance {} changes {:?}",
        instance.obj_version(),
        instance.changes()
    );

    let built = compute
        .build_and_run_instance(&ctx, instance.clone(), "host-1".into())
        .await?;
    println!(
        "returned: {:?}, changes {:?} (what save() would write)",
        built.vm_state,
        built.changes()
    );

    // A compute host still on Instance 1.1 and Flavor 1.0 (its object manifest).
    let manifest = VersionManifest::new()
        .with("Instance", RpcVersion::new(1, 1))
        .with("Flavor", RpcVersion::new(1, 0));
    let primitive = instance.to_primitive(None, Some(&manifest))?;
    println!("for an Instance 1.1 host: {primitive}");
    let old_host = compute.clone().version_manifest(manifest);
    let stopped = old_host.stop_instance(&ctx, built).await?;
    println!(
        "stopped:  {:?}, changes {:?}",
        stopped.vm_state,
        stopped.changes()
    );

    let instances = compute.get_instances(&ctx).await?;
    println!("on host-1: {} instance(s)", instances.len());
    server.stop().await?;
    Ok(())
}
