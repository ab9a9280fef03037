//! The Rust side of `tests/interop/peers/bar_objects.py`: `Person` 1.0, `Widget` 1.2 (1.1
//! added `tags`, 1.2 `owner`), `Shelf` 1.0, and `WidgetApi`, the endpoint both the Python
//! peers (`objects_server.py`) and the Rust service here implement.

#![allow(dead_code, unreachable_pub)]

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use oslo_rpc::objects::{DateTime, Field, IpNetwork};
use oslo_rpc::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

#[derive(VersionedObject, Debug, Clone, PartialEq)]
#[versioned_object(serial_namespace = "bar_object", namespace = "bar", version = "1.0")]
pub struct Person {
    pub name: String,
    pub email: Option<String>,
    pub state: ObjectState,
}

/// oslo's `EnumField(['active', 'deleted'])`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    Deleted,
}

#[derive(VersionedObject, Debug, Clone, PartialEq)]
#[versioned_object(
    serial_namespace = "bar_object",
    namespace = "bar",
    name = "Widget",
    version = "1.2"
)]
pub struct Widget {
    pub id: i64,
    pub uuid: Uuid,
    pub name: String,
    pub created_at: DateTime,
    pub status: Status,
    pub address: Option<IpAddr>,
    pub network: Option<IpNetwork>,
    pub metadata: BTreeMap<String, String>,
    pub flags: BTreeSet<String>,
    pub weight: Option<f64>,
    #[versioned_object(since = "1.1")]
    pub tags: Option<Vec<String>>,
    #[versioned_object(since = "1.2")]
    pub owner: Field<Option<Person>>,
    pub state: ObjectState,
}

#[derive(VersionedObject, Debug, Clone, PartialEq)]
#[versioned_object(serial_namespace = "bar_object", namespace = "bar", version = "1.0")]
pub struct Shelf {
    pub label: String,
    pub widgets: Vec<Widget>,
    pub state: ObjectState,
}

pub const UUID: &str = "8f3c8e0e-3c1a-4c8e-9d5e-2f1b7a6c4d3e";

/// The widget the Python capture in `tests/objects.rs` was made from.
pub fn widget() -> Widget {
    Widget {
        id: 9,
        uuid: UUID.parse().unwrap(),
        name: "y\u{e9}".into(),
        created_at: "2026-12-06T15:00:00+05:30".parse().unwrap(),
        status: Status::Active,
        address: Some("2001:db8::1".parse().unwrap()),
        network: Some("10.1.2.3/8".parse().unwrap()),
        metadata: BTreeMap::from([("k".to_owned(), "v".to_owned())]),
        flags: BTreeSet::from(["b".to_owned()]),
        weight: Some(1.5),
        tags: Some(vec!["a".into(), "\u{e9}".into()]),
        owner: Field::Set(Some(person())),
        state: ObjectState::new(),
    }
}

pub fn person() -> Person {
    Person {
        name: "p".into(),
        email: None,
        state: ObjectState::new(),
    }
}

/// The interface of the object interop peers.
#[rpc_endpoint(namespace = "widgets", version = "1.0")]
pub trait WidgetApi {
    /// Returns the widget as received.
    async fn echo_widget(&self, widget: Widget) -> Result<Widget, RpcError>;
    /// What the server sees of the widget (`describe` in `bar_objects.py`).
    async fn describe(&self, widget: Widget) -> Result<Value, RpcError>;
    /// A widget built by the server, with or without an owner.
    async fn make_widget(&self, id: i64, with_owner: bool) -> Result<Widget, RpcError>;
    /// A shelf of `count` new widgets.
    async fn make_shelf(&self, count: i64) -> Result<Shelf, RpcError>;
    /// The widgets as received.
    async fn echo_widgets(&self, widgets: Vec<Widget>) -> Result<Vec<Widget>, RpcError>;
    /// Forgets the widget's changes (its owner's too), then renames it: only `name` is
    /// changed.
    async fn rename(&self, widget: Widget, name: String) -> Result<Widget, RpcError>;
    /// Forgets every change, then sets the owner's email: the owner is changed (nested).
    async fn touch_owner(&self, widget: Widget, email: String) -> Result<Widget, RpcError>;
}

/// The Rust implementation.
pub struct RustWidgets;

impl WidgetApi for RustWidgets {
    async fn echo_widget(&self, widget: Widget) -> Result<Widget, RpcError> {
        Ok(widget)
    }

    async fn describe(&self, widget: Widget) -> Result<Value, RpcError> {
        Ok(describe(&widget))
    }

    async fn make_widget(&self, id: i64, with_owner: bool) -> Result<Widget, RpcError> {
        let mut made = widget();
        made.id = id;
        if !with_owner {
            made.owner = Field::Unset;
        }
        Ok(made)
    }

    async fn make_shelf(&self, count: i64) -> Result<Shelf, RpcError> {
        let widgets = (0..count)
            .map(|id| {
                let mut made = widget();
                made.id = id;
                made
            })
            .collect();
        Ok(Shelf {
            label: "s".into(),
            widgets,
            state: ObjectState::new(),
        })
    }

    async fn echo_widgets(&self, widgets: Vec<Widget>) -> Result<Vec<Widget>, RpcError> {
        Ok(widgets)
    }

    async fn rename(&self, mut widget: Widget, name: String) -> Result<Widget, RpcError> {
        widget.reset_changes_recursive();
        widget.name = name;
        widget
            .mark_changed("name")
            .map_err(|e| RpcError::InvalidArgument(e.to_string()))?;
        Ok(widget)
    }

    async fn touch_owner(&self, mut widget: Widget, email: String) -> Result<Widget, RpcError> {
        widget.reset_changes_recursive();
        if let Field::Set(Some(owner)) = &mut widget.owner {
            owner.email = Some(email);
            owner
                .mark_changed("email")
                .map_err(|e| RpcError::InvalidArgument(e.to_string()))?;
        }
        Ok(widget)
    }
}

/// The same description `bar_objects.describe` gives in Python: version, sorted changes,
/// set fields (`created_at` in Python's `isoformat()`).
pub fn describe(widget: &Widget) -> Value {
    let mut fields = serde_json::Map::new();
    let data: Value = widget
        .to_primitive(None, None)
        .unwrap()
        .deserialize_into::<Value>()
        .unwrap()["bar_object.data"]
        .clone();
    for (name, value) in data.as_object().unwrap() {
        let value = match name.as_str() {
            "created_at" => json!(isoformat(&widget.created_at)),
            "owner" => match widget.owner.get() {
                Some(Some(owner)) => describe_person(owner),
                _ => Value::Null,
            },
            _ => value.clone(),
        };
        fields.insert(name.clone(), value);
    }
    let mut changes = widget.changes();
    changes.sort_unstable();
    json!({
        "object": "Widget",
        "version": widget.obj_version().to_string(),
        "changes": changes,
        "fields": fields,
    })
}

fn describe_person(person: &Person) -> Value {
    let mut changes = person.changes();
    changes.sort_unstable();
    json!({
        "object": "Person",
        "version": person.obj_version().to_string(),
        "changes": changes,
        "fields": {"name": person.name, "email": person.email},
    })
}

/// Python's `datetime.isoformat()` of an aware datetime (the fraction only when non-zero).
pub fn isoformat(time: &DateTime) -> String {
    let text = time.to_string();
    let (base, zone) = text.split_at(19);
    let zone = if zone == "Z" { "+00:00" } else { zone };
    if time.subsec_micros() == 0 {
        format!("{base}{zone}")
    } else {
        format!("{base}.{:06}{zone}", time.subsec_micros())
    }
}
