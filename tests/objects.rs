//! Versioned objects against what Python oslo.versionedobjects 3.12.0 writes and reads
//! (primitives captured from `tests/interop/peers/bar_objects.py` with the interop venv),
//! and through a generated client and endpoint on the in-process transport. The same
//! objects cross a real broker to Python peers in `tests/interop_objects.rs`.

#![allow(dead_code, unreachable_pub)]

mod bar;
#[path = "../examples/compute/mod.rs"]
mod compute;

use bar::{Person, Shelf, Widget, WidgetApiClient, WidgetApiEndpoint};
use oslo_rpc::json::RawJson;
use oslo_rpc::objects::{Field, ObjectData, ObjectError, VersionManifest};
use oslo_rpc::prelude::*;
use oslo_rpc::schema::{Severity, check_evolution};
use serde_json::{Value, json};

/// `Widget(...).obj_to_primitive()` of `bar::widget()` in Python (its `changes` are a
/// Python set: their order is the hash order).
const PY_WIDGET: &str = r#"{"bar_object.name": "Widget", "bar_object.namespace": "bar", "bar_object.version": "1.2", "bar_object.data": {"id": 9, "uuid": "8f3c8e0e-3c1a-4c8e-9d5e-2f1b7a6c4d3e", "name": "y\u00e9", "created_at": "2026-12-06T15:00:00+05:30", "status": "active", "address": "2001:db8::1", "network": "10.1.2.3/8", "metadata": {"k": "v"}, "flags": ["b"], "weight": 1.5, "tags": ["a", "\u00e9"], "owner": {"bar_object.name": "Person", "bar_object.namespace": "bar", "bar_object.version": "1.0", "bar_object.data": {"name": "p", "email": null}, "bar_object.changes": ["email", "name"]}}, "bar_object.changes": ["owner", "network", "created_at", "name", "flags", "address", "weight", "id", "tags", "metadata", "status", "uuid"]}"#;

/// `obj_to_primitive(target_version='1.0')` (`obj_relationships` drop the owner,
/// `obj_make_compatible` the tags).
const PY_WIDGET_1_0: &str = r#"{"bar_object.name": "Widget", "bar_object.namespace": "bar", "bar_object.version": "1.0", "bar_object.data": {"id": 9, "uuid": "8f3c8e0e-3c1a-4c8e-9d5e-2f1b7a6c4d3e", "name": "y\u00e9", "created_at": "2026-12-06T15:00:00+05:30", "status": "active", "address": "2001:db8::1", "network": "10.1.2.3/8", "metadata": {"k": "v"}, "flags": ["b"], "weight": 1.5}, "bar_object.changes": ["id", "status", "name", "metadata", "uuid", "created_at", "address", "network", "flags", "weight"]}"#;

/// `obj_to_primitive(target_version='1.1', version_manifest={'Widget': '1.1', 'Person': '1.0'})`.
const PY_WIDGET_1_1: &str = r#"{"bar_object.name": "Widget", "bar_object.namespace": "bar", "bar_object.version": "1.1", "bar_object.data": {"id": 9, "uuid": "8f3c8e0e-3c1a-4c8e-9d5e-2f1b7a6c4d3e", "name": "y\u00e9", "created_at": "2026-12-06T15:00:00+05:30", "status": "active", "address": "2001:db8::1", "network": "10.1.2.3/8", "metadata": {"k": "v"}, "flags": ["b"], "weight": 1.5, "tags": ["a", "\u00e9"]}, "bar_object.changes": ["id", "tags", "status", "name", "metadata", "uuid", "created_at", "address", "network", "flags", "weight"]}"#;

/// `Shelf(label='s', widgets=[w]).obj_to_primitive(version_manifest={'Shelf': '1.0',
/// 'Widget': '1.0'})`: the child's `changes` keep `tags` and `owner`, which its data no
/// longer has (oslo filters changes in `obj_to_primitive` only, not in child backports;
/// receivers drop names that are not fields of their version).
const PY_SHELF_1_0: &str = r#"{"bar_object.name": "Shelf", "bar_object.namespace": "bar", "bar_object.version": "1.0", "bar_object.data": {"label": "s", "widgets": [{"bar_object.name": "Widget", "bar_object.namespace": "bar", "bar_object.version": "1.0", "bar_object.data": {"id": 9, "uuid": "8f3c8e0e-3c1a-4c8e-9d5e-2f1b7a6c4d3e", "name": "y\u00e9", "created_at": "2026-12-06T15:00:00+05:30", "status": "active", "address": "2001:db8::1", "network": "10.1.2.3/8", "metadata": {"k": "v"}, "flags": ["b"], "weight": 1.5}, "bar_object.changes": ["id", "tags", "status", "name", "owner", "metadata", "uuid", "created_at", "address", "network", "flags", "weight"]}]}, "bar_object.changes": ["label", "widgets"]}"#;

/// A received widget after `obj_reset_changes()` on it and its owner, then
/// `owner.email = 'e'`: the parent's changes name the field holding the changed child.
const PY_NESTED_CHANGE: &str = r#"{"bar_object.name": "Widget", "bar_object.namespace": "bar", "bar_object.version": "1.2", "bar_object.data": {"id": 9, "uuid": "8f3c8e0e-3c1a-4c8e-9d5e-2f1b7a6c4d3e", "name": "y\u00e9", "created_at": "2026-12-06T15:00:00+05:30", "status": "active", "address": "2001:db8::1", "network": "10.1.2.3/8", "metadata": {"k": "v"}, "flags": ["b"], "weight": 1.5, "tags": ["a", "\u00e9"], "owner": {"bar_object.name": "Person", "bar_object.namespace": "bar", "bar_object.version": "1.0", "bar_object.data": {"name": "p", "email": "e"}, "bar_object.changes": ["email"]}}, "bar_object.changes": ["owner"]}"#;

fn raw(text: &str) -> RawJson {
    RawJson::from_string(text.to_owned()).unwrap()
}

/// A primitive as a JSON value with every `changes` list sorted (Python's are sets).
fn normalized(text: &str) -> Value {
    fn sort_changes(value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (key, value) in map.iter_mut() {
                    if key.ends_with(".changes")
                        && let Value::Array(items) = value
                    {
                        items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
                    }
                    sort_changes(value);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(sort_changes),
            _ => {}
        }
    }
    let mut value: Value = oslo_rpc::json::from_str(text).unwrap();
    sort_changes(&mut value);
    value
}

/// The text with the changes lists removed: the bytes that must match Python's exactly.
fn without_changes(text: &str) -> String {
    let mut value: Value = oslo_rpc::json::from_str(text).unwrap();
    fn strip(value: &mut Value) {
        match value {
            Value::Object(map) => {
                map.retain(|key, _| !key.ends_with(".changes"));
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut value);
    oslo_rpc::json::to_string(&value).unwrap()
}

#[test]
fn a_new_rust_object_is_written_as_python_writes_it() {
    let primitive = bar::widget().to_primitive(None, None).unwrap();
    assert_eq!(
        without_changes(primitive.as_str()),
        without_changes(PY_WIDGET)
    );
    assert_eq!(normalized(primitive.as_str()), normalized(PY_WIDGET));
    // Rust writes the changes in declaration order (Python in its set's order).
    assert!(primitive.as_str().ends_with(
        r#""bar_object.changes": ["id", "uuid", "name", "created_at", "status", "address", "network", "metadata", "flags", "weight", "tags", "owner"]}"#
    ));
    // Through serde, as an RPC argument is encoded: the same bytes.
    assert_eq!(
        oslo_rpc::json::to_string(&bar::widget()).unwrap(),
        primitive.as_str()
    );
}

#[test]
fn a_python_object_reads_into_rust_with_its_changes() {
    let widget = Widget::from_primitive(&raw(PY_WIDGET)).unwrap();
    assert_eq!(widget, bar::widget());
    let mut changes = widget.changes();
    changes.sort_unstable();
    assert_eq!(
        changes,
        [
            "address",
            "created_at",
            "flags",
            "id",
            "metadata",
            "name",
            "network",
            "owner",
            "status",
            "tags",
            "uuid",
            "weight"
        ]
    );
    let Field::Set(Some(owner)) = &widget.owner else {
        panic!("owner: {:?}", widget.owner)
    };
    assert_eq!(owner.changes(), ["name", "email"]);
    assert_eq!(widget.created_at.offset_minutes(), 330);
    assert_eq!(widget.state.received_version(), Some(RpcVersion::new(1, 2)));
}

#[test]
fn downgrades_match_pythons() {
    let widget = bar::widget();
    // By target version only: fields by `since`; the owner (a child) too, as Python's
    // obj_relationships say it began in 1.2.
    let v1_0 = widget
        .to_primitive(Some(RpcVersion::new(1, 0)), None)
        .unwrap();
    assert_eq!(
        without_changes(v1_0.as_str()),
        without_changes(PY_WIDGET_1_0)
    );
    assert_eq!(normalized(v1_0.as_str()), normalized(PY_WIDGET_1_0));

    let manifest = VersionManifest::parse([("Widget", "1.1"), ("Person", "1.0")]).unwrap();
    let v1_1 = widget
        .to_primitive(Some(RpcVersion::new(1, 1)), Some(&manifest))
        .unwrap();
    assert_eq!(normalized(v1_1.as_str()), normalized(PY_WIDGET_1_1));
    // The manifest alone downgrades the object it names, too.
    let by_manifest = widget.to_primitive(None, Some(&manifest)).unwrap();
    assert_eq!(by_manifest, v1_1);

    let shelf = Shelf {
        label: "s".into(),
        widgets: vec![widget.clone()],
        state: ObjectState::new(),
    };
    let manifest = VersionManifest::parse([("Shelf", "1.0"), ("Widget", "1.0")]).unwrap();
    let shelf_1_0 = shelf.to_primitive(None, Some(&manifest)).unwrap();
    assert_eq!(
        without_changes(shelf_1_0.as_str()),
        without_changes(PY_SHELF_1_0)
    );
    // The child's changes are only those its 1.0 data has (Python's also name `tags` and
    // `owner`, which a 1.0 receiver drops).
    let child = &normalized(shelf_1_0.as_str())["bar_object.data"]["widgets"][0];
    assert!(
        !child["bar_object.changes"]
            .as_array()
            .unwrap()
            .contains(&json!("tags"))
    );

    // Above the object's own version, or across majors: oslo's InvalidTargetVersion.
    for target in [RpcVersion::new(1, 3), RpcVersion::new(0, 9)] {
        assert!(matches!(
            widget.to_primitive(Some(target), None),
            Err(ObjectError::InvalidTargetVersion { .. })
        ));
    }
}

#[test]
fn nested_changes_are_written_and_read_as_python_does() {
    let received = Widget::from_primitive(&raw(PY_NESTED_CHANGE)).unwrap();
    assert_eq!(received.changes(), ["owner"]);
    assert!(!received.is_changed("name"));

    let mut widget = Widget::from_primitive(&raw(PY_WIDGET)).unwrap();
    widget.reset_changes();
    assert_eq!(
        widget.changes(),
        ["owner"],
        "the owner still has its changes"
    );
    fn owner(widget: &mut Widget) -> &mut Person {
        match &mut widget.owner {
            Field::Set(Some(owner)) => owner,
            other => panic!("owner: {other:?}"),
        }
    }
    owner(&mut widget).reset_changes();
    assert!(widget.changes().is_empty());
    owner(&mut widget).email = Some("e".into());
    owner(&mut widget).mark_changed("email").unwrap();
    assert_eq!(widget.changes(), ["owner"]);
    let primitive = widget.to_primitive(None, None).unwrap();
    assert_eq!(primitive.as_str(), PY_NESTED_CHANGE);

    assert!(matches!(
        widget.mark_changed("nmae"),
        Err(ObjectError::UnknownField { .. })
    ));
    widget.mark_changed("name").unwrap();
    widget.reset_changes_of(&["owner", "name"]);
    assert_eq!(
        widget.changes(),
        ["owner"],
        "the child's changes are its own"
    );
}

#[test]
fn an_older_peers_object_fills_what_it_has_and_goes_back_in_its_version() {
    let widget = Widget::from_primitive(&raw(PY_WIDGET_1_0)).unwrap();
    assert_eq!(widget.tags, None);
    assert_eq!(widget.owner, Field::Unset);
    assert_eq!(widget.obj_version(), RpcVersion::new(1, 0));
    // Sent on (to that peer, say), it is a 1.0 object again, as oslo keeps VERSION.
    let again = oslo_rpc::json::to_string(&widget).unwrap();
    assert_eq!(normalized(&again), normalized(PY_WIDGET_1_0));
}

#[test]
fn a_newer_minor_version_is_read_without_its_new_fields() {
    let newer = PY_WIDGET
        .replace(
            r#""bar_object.version": "1.2""#,
            r#""bar_object.version": "1.3""#,
        )
        .replace(r#""weight": 1.5,"#, r#""weight": 1.5, "color": "red","#);
    let widget = Widget::from_primitive(&raw(&newer)).unwrap();
    assert_eq!(widget, bar::widget());
    assert_eq!(widget.obj_version(), RpcVersion::new(1, 2));
    let again = widget.to_primitive(None, None).unwrap();
    assert!(!again.as_str().contains("color"));
    assert!(again.as_str().contains(r#""bar_object.version": "1.2""#));

    let newer_major = PY_WIDGET.replace(
        r#""bar_object.version": "1.2""#,
        r#""bar_object.version": "2.0""#,
    );
    let error = Widget::from_primitive(&raw(&newer_major)).unwrap_err();
    assert_eq!(
        error.to_string(),
        "version 2.0 of Widget is not supported, supported version is 1.2"
    );
}

#[test]
fn mismatched_objects_are_clear_errors() {
    let cases = [
        (
            PY_WIDGET.replace(
                r#""bar_object.name": "Widget""#,
                r#""bar_object.name": "Gadget""#,
            ),
            "expected a Widget object, got a Gadget object",
        ),
        (
            PY_WIDGET.replace("bar_object.", "nova_object."),
            "expected a bar_object primitive of Widget, got a nova_object primitive",
        ),
        (
            PY_WIDGET.replace(
                r#""bar_object.namespace": "bar", "bar_object.version": "1.2""#,
                r#""bar_object.namespace": "nova", "bar_object.version": "1.2""#,
            ),
            "unsupported object type nova.Widget: expected namespace bar",
        ),
        (
            r#"{"id": 9}"#.to_owned(),
            "expected a bar_object primitive of Widget, got an object without bar_object.name",
        ),
        (
            PY_WIDGET_1_0.replace(r#""id": 9, "#, ""),
            "Widget 1.0 has no field id",
        ),
        (
            PY_WIDGET_1_0.replace(
                r#""created_at": "2026-12-06T15:00:00+05:30""#,
                r#""created_at": "yesterday""#,
            ),
            "field Widget.created_at: invalid date-time \"yesterday\"",
        ),
        (
            PY_WIDGET_1_0.replace(r#""status": "active""#, r#""status": "paused""#),
            "field Widget.status: unknown variant `paused`",
        ),
        (
            PY_WIDGET_1_0.replace(
                r#""bar_object.version": "1.0""#,
                r#""bar_object.version": "one""#,
            ),
            "malformed Widget primitive: bar_object.version: ",
        ),
    ];
    for (primitive, message) in cases {
        let error = Widget::from_primitive(&raw(&primitive)).unwrap_err();
        assert!(
            error.to_string().starts_with(message),
            "{error} does not start with {message}"
        );
        // Through serde (an RPC argument or result), with the same message.
        let error = oslo_rpc::json::from_str::<Widget>(&primitive).unwrap_err();
        assert!(error.to_string().contains(message), "{error}");
    }
}

#[test]
fn python_datetimes_of_every_zone_form_are_read() {
    // What Python writes for a `timezone(timedelta(hours=5, minutes=30))` (which Python
    // itself cannot read back).
    let primitive = PY_WIDGET_1_0.replace("+05:30", "UTC+05:30");
    let widget = Widget::from_primitive(&raw(&primitive)).unwrap();
    assert_eq!(widget.created_at.to_string(), "2026-12-06T15:00:00+05:30");
    let naive = PY_WIDGET_1_0.replace("2026-12-06T15:00:00+05:30", "2026-12-06 15:00:00");
    let widget = Widget::from_primitive(&raw(&naive)).unwrap();
    assert_eq!(widget.created_at.to_string(), "2026-12-06T15:00:00Z");
}

/// A make_compatible hook: 1.0 peers had `size` in megabytes, 1.1 has `size_gb` instead
/// of it... written as oslo's obj_make_compatible overrides are.
mod hook {
    use oslo_rpc::objects::{ObjectData, ObjectError};
    use oslo_rpc::prelude::*;

    #[derive(VersionedObject, Debug, Clone, PartialEq)]
    #[versioned_object(version = "1.1", make_compatible = "Self::backport")]
    pub struct Volume {
        pub size_gb: i64,
        pub state: ObjectState,
    }

    impl Volume {
        fn backport(&self, data: &mut ObjectData, target: RpcVersion) -> Result<(), ObjectError> {
            if target < RpcVersion::new(1, 1) {
                data.remove("size_gb");
                data.insert("size_mb", &(self.size_gb * 1024))?;
            }
            Ok(())
        }
    }
}

#[test]
fn the_make_compatible_hook_runs_on_downgrades() {
    let volume = hook::Volume {
        size_gb: 2,
        state: ObjectState::new(),
    };
    let v1_0 = volume
        .to_primitive(Some(RpcVersion::new(1, 0)), None)
        .unwrap();
    assert_eq!(
        v1_0.as_str(),
        r#"{"versioned_object.name": "Volume", "versioned_object.namespace": "versionedobjects", "versioned_object.version": "1.0", "versioned_object.data": {"size_mb": 2048}}"#,
        "oslo's default namespaces; `size_gb` is not in the data, so not in the changes"
    );
    let current = volume.to_primitive(None, None).unwrap();
    assert!(current.as_str().contains(r#"{"size_gb": 2}"#));
    let mut data = ObjectData::new();
    data.insert("a", &1).unwrap();
    assert_eq!(data.get::<i64>("a").unwrap(), Some(1));
}

#[test]
fn schemas_list_objects_with_versions_and_fields() {
    let schemas = Widget::schemas();
    let names: Vec<&str> = schemas.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Widget", "Person"]);
    let widget = &schemas[0];
    assert_eq!(widget.version, RpcVersion::new(1, 2));
    assert_eq!(widget.serial_namespace, "bar_object");
    let owner = widget.field("owner").unwrap();
    assert_eq!(owner.since, Some(RpcVersion::new(1, 2)));
    assert!(!owner.required);
    assert_eq!(
        owner.schema,
        json!({"anyOf": [{"x-rust-type": "Person"}, {"type": "null"}]})
    );
    assert_eq!(
        widget.field("created_at").unwrap().schema,
        json!({"type": "string", "format": "date-time"})
    );
    assert!(widget.field("id").unwrap().required);

    let endpoint = WidgetApiClient::schema();
    let names: Vec<&str> = endpoint.objects.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Widget", "Person", "Shelf"]);
}

/// Two versions of one object, for the evolution rules.
mod evolution {
    use oslo_rpc::objects::Field;
    use oslo_rpc::prelude::*;

    pub mod v1_0 {
        use super::*;
        #[derive(VersionedObject)]
        #[versioned_object(name = "Thing", version = "1.0")]
        pub struct Thing {
            pub id: i64,
            pub state: ObjectState,
        }
        #[rpc_endpoint(version = "1.0")]
        pub trait Api {
            async fn get(&self) -> Result<Thing, RpcError>;
        }
    }

    pub mod v1_1 {
        use super::*;
        #[derive(VersionedObject)]
        #[versioned_object(name = "Thing", version = "1.1")]
        pub struct Thing {
            pub id: i64,
            #[versioned_object(since = "1.1")]
            pub label: Field<String>,
            pub state: ObjectState,
        }
        #[rpc_endpoint(version = "1.0")]
        pub trait Api {
            async fn get(&self) -> Result<Thing, RpcError>;
        }
    }

    /// `label` added without a version bump.
    pub mod unbumped {
        use super::*;
        #[derive(VersionedObject)]
        #[versioned_object(name = "Thing", version = "1.0")]
        pub struct Thing {
            pub id: i64,
            pub label: Option<String>,
            pub state: ObjectState,
        }
        #[rpc_endpoint(version = "1.0")]
        pub trait Api {
            async fn get(&self) -> Result<Thing, RpcError>;
        }
    }

    /// `id` removed, `label` typed differently.
    pub mod broken {
        use super::*;
        #[derive(VersionedObject)]
        #[versioned_object(name = "Thing", version = "1.2")]
        pub struct Thing {
            #[versioned_object(since = "1.1")]
            pub label: Field<i64>,
            pub state: ObjectState,
        }
        #[rpc_endpoint(version = "1.0")]
        pub trait Api {
            async fn get(&self) -> Result<Thing, RpcError>;
        }
    }
}

#[test]
fn the_evolution_check_knows_the_object_rules() {
    use evolution::*;
    let old = v1_0::ApiClient::schema();
    let good = check_evolution(&old, &v1_1::ApiClient::schema());
    assert!(!good.is_breaking(), "{good}");
    assert!(
        good.findings
            .iter()
            .any(|f| f.description.contains("new field `label` since 1.1"))
    );

    let unbumped = check_evolution(&old, &unbumped::ApiClient::schema());
    assert!(unbumped.is_breaking(), "{unbumped}");
    assert!(unbumped.findings.iter().any(|f| {
        f.severity == Severity::Breaking
            && f.object.as_deref() == Some("Thing")
            && f.description
                .contains("field `label` added without a minor version bump")
    }));

    let broken = check_evolution(&v1_1::ApiClient::schema(), &broken::ApiClient::schema());
    let breaking: Vec<&str> = broken
        .with_severity(Severity::Breaking)
        .map(|f| f.description.as_str())
        .collect();
    assert!(
        breaking.iter().any(|d| d.contains("field `id` removed")),
        "{broken}"
    );
    assert!(
        breaking
            .iter()
            .any(|d| d.contains("field `label` type changed")),
        "{broken}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_are_arguments_and_results_of_typed_calls() {
    let topic = format!("widgets-{}", uuid::Uuid::new_v4().simple());
    let transport = Transport::new(&format!("memory://{topic}")).unwrap();
    let server = RpcServer::builder(transport.clone(), Target::server(&topic, "s1"))
        .endpoint(WidgetApiEndpoint::new(bar::RustWidgets))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let client = WidgetApiClient::new(RpcClient::new(transport, Target::topic(&topic)));
    let ctx = Context::new();

    let echoed = client.echo_widget(&ctx, bar::widget()).await.unwrap();
    assert_eq!(echoed, bar::widget());
    assert_eq!(echoed.changes().len(), 12);

    let renamed = client
        .rename(&ctx, bar::widget(), "z".into())
        .await
        .unwrap();
    assert_eq!(
        (renamed.name.as_str(), renamed.changes()),
        ("z", vec!["name"])
    );

    let touched = client
        .touch_owner(&ctx, bar::widget(), "e".into())
        .await
        .unwrap();
    assert_eq!(touched.changes(), ["owner"]);

    let shelf = client.make_shelf(&ctx, 3).await.unwrap();
    assert_eq!(shelf.widgets.len(), 3);
    let widgets = client
        .echo_widgets(&ctx, shelf.widgets.clone())
        .await
        .unwrap();
    assert_eq!(widgets, shelf.widgets);

    // For a server that knows Widget 1.0: the argument goes as 1.0.
    let old_server = client
        .clone()
        .version_manifest(VersionManifest::new().with("Widget", RpcVersion::new(1, 0)));
    let seen = old_server.describe(&ctx, bar::widget()).await.unwrap();
    assert_eq!(seen["version"], "1.0");
    assert!(seen["fields"].get("tags").is_none() && seen["fields"].get("owner").is_none());
    let owner_unset: Widget = old_server.echo_widget(&ctx, bar::widget()).await.unwrap();
    assert_eq!(owner_unset.owner, Field::<Option<Person>>::Unset);
    server.stop().await.unwrap();
}

/// The example's flow (`examples/versioned_objects.rs`), asserted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nova_style_example_works() {
    use compute::{ComputeApiClient, ComputeApiEndpoint, FakeCompute, Flavor, Instance, VmState};
    let topic = format!("compute-{}", uuid::Uuid::new_v4().simple());
    let transport = Transport::new(&format!("memory://{topic}")).unwrap();
    let server = RpcServer::builder(transport.clone(), Target::server(&topic, "host-1"))
        .endpoint(ComputeApiEndpoint::new(FakeCompute::default()))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let compute = ComputeApiClient::new(RpcClient::new(transport, Target::topic(&topic)));
    let ctx = Context::new();
    let flavor = Flavor {
        flavorid: "m1.small".into(),
        memory_mb: 2048,
        vcpus: 2,
        description: Field::Unset,
        state: ObjectState::new(),
    };
    let instance = Instance::building("conductor", flavor);
    assert_eq!(
        instance.changes(),
        [
            "uuid",
            "host",
            "vm_state",
            "task_state",
            "flavor",
            "metadata"
        ]
    );
    let built = compute
        .build_and_run_instance(&ctx, instance.clone(), "host-1".into())
        .await
        .unwrap();
    assert_eq!(built.vm_state, VmState::Active);
    assert_eq!(
        built.changes(),
        ["host", "vm_state", "task_state", "launched_at"]
    );

    let manifest = VersionManifest::new()
        .with("Instance", RpcVersion::new(1, 1))
        .with("Flavor", RpcVersion::new(1, 0));
    let old: Value = instance
        .to_primitive(None, Some(&manifest))
        .unwrap()
        .deserialize_into()
        .unwrap();
    assert_eq!(old["nova_object.version"], "1.1");
    let data = &old["nova_object.data"];
    assert_eq!(data["vcpus"], 2, "written by the make_compatible hook");
    assert!(data.get("metadata").is_none() && data.get("launched_at").is_none());
    assert_eq!(data["flavor"]["nova_object.version"], "1.0");

    let stopped = compute
        .clone()
        .version_manifest(manifest)
        .stop_instance(&ctx, built)
        .await
        .unwrap();
    assert_eq!(
        (stopped.vm_state, stopped.changes()),
        (VmState::Stopped, vec!["vm_state"])
    );
    assert_eq!(
        stopped.obj_version(),
        RpcVersion::new(1, 1),
        "received as 1.1 by the host"
    );
    assert_eq!(compute.get_instances(&ctx).await.unwrap().len(), 1);
    server.stop().await.unwrap();
}

/// Date-times of other crates as fields, through `with = "oslo_rpc::objects::as_datetime"`.
mod foreign_times {
    use oslo_rpc::objects::Field;
    use oslo_rpc::prelude::*;

    #[derive(VersionedObject, Debug, Clone, PartialEq)]
    #[versioned_object(name = "Event", version = "1.1")]
    pub struct Event {
        #[versioned_object(with = "oslo_rpc::objects::as_datetime")]
        pub at: chrono::DateTime<chrono::Utc>,
        #[versioned_object(with = "oslo_rpc::objects::as_datetime")]
        pub local: Option<chrono::DateTime<chrono::FixedOffset>>,
        #[versioned_object(with = "oslo_rpc::objects::as_datetime")]
        pub seen: time::OffsetDateTime,
        #[versioned_object(since = "1.1", with = "oslo_rpc::objects::as_datetime")]
        pub ended: Option<std::time::SystemTime>,
        #[versioned_object(since = "1.1", with = "oslo_rpc::objects::as_datetime")]
        pub deleted: Field<Option<chrono::DateTime<chrono::Utc>>>,
        pub state: ObjectState,
    }
}

#[test]
fn chrono_time_and_system_times_are_fields_with_as_datetime() {
    use chrono::TimeZone;
    use foreign_times::Event;
    let at = chrono::Utc.with_ymd_and_hms(2026, 12, 6, 15, 0, 0).unwrap();
    let event = Event {
        at,
        local: Some(at.with_timezone(&chrono::FixedOffset::east_opt(330 * 60).unwrap())),
        seen: time::OffsetDateTime::from_unix_timestamp(at.timestamp()).unwrap(),
        ended: Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(at.timestamp() as u64)),
        deleted: Field::Set(None),
        state: ObjectState::new(),
    };
    let primitive = event.to_primitive(None, None).unwrap();
    assert!(
        primitive.as_str().contains(
            r#"{"at": "2026-12-06T15:00:00Z", "local": "2026-12-06T20:30:00+05:30", "seen": "2026-12-06T15:00:00Z", "ended": "2026-12-06T15:00:00Z", "deleted": null}"#
        ),
        "{primitive}"
    );
    assert_eq!(Event::from_primitive(&primitive).unwrap(), event);

    // Python's forms read into chrono too (`UTC-03:00`, no zone); 1.0 lacks the rest.
    let python = r#"{"versioned_object.name": "Event", "versioned_object.namespace": "versionedobjects", "versioned_object.version": "1.0", "versioned_object.data": {"at": "2026-12-06T12:00:00UTC-03:00", "local": null, "seen": "2026-12-06 15:00:00"}}"#;
    let old = Event::from_primitive(&raw(python)).unwrap();
    assert_eq!(old.at, at);
    assert_eq!(
        (old.local, old.ended, old.deleted),
        (None, None, Field::Unset)
    );
    let schema = Event::schema();
    assert_eq!(
        schema.field("local").unwrap().schema,
        json!({"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]})
    );
    assert_eq!(
        schema.field("at").unwrap().schema,
        json!({"type": "string", "format": "date-time"})
    );
}
