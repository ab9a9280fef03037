//! The request context (oslo.context `RequestContext` as a dict), sent as `_context_*` keys
//! beside the request (spec §3.2, §3.3).

use serde_json::{Map, Value};

/// The request context that travels with every call and cast.
///
/// ```
/// use oslo_rpc_runtime::Context;
/// use serde_json::json;
///
/// let ctx = Context::new()
///     .with_request_id("req-1")
///     .with_user_id("alice")
///     .with("roles", json!(["admin"]));
/// assert_eq!(ctx.request_id(), Some("req-1"));
/// assert_eq!(ctx.get_str("user_id"), Some("alice"));
/// // Keys keep the order they were added in, as a Python dict does.
/// let keys: Vec<&str> = ctx.iter().map(|(key, _)| key.as_str()).collect();
/// assert_eq!(keys, ["request_id", "user_id", "roles"]);
/// ```
///
/// On the wire each key `k` becomes a top-level request key `_context_k`, in insertion
/// order. OpenStack services put `request_id`, `user_id`, `project_id`, `global_request_id`,
/// `roles`, `auth_token`, ... here; any JSON value is allowed. A server receives the keys
/// exactly as sent (unlike oslo, no `client_timeout` key is added; spec §10.2 bug 10).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Context {
    values: Map<String, Value>,
}

/// Prefix of context keys on the wire.
pub(crate) const CONTEXT_PREFIX: &str = "_context_";

impl Context {
    /// An empty context.
    pub fn new() -> Self {
        Context::default()
    }

    /// A context with a fresh `request_id` (`req-<uuid4>`), like a new oslo `RequestContext`.
    ///
    /// ```
    /// let ctx = oslo_rpc_runtime::Context::with_new_request_id();
    /// let id = ctx.request_id().unwrap();
    /// assert!(id.starts_with("req-") && id.len() == 40, "{id}");
    /// ```
    pub fn with_new_request_id() -> Self {
        Context::new().with("request_id", format!("req-{}", uuid::Uuid::new_v4()))
    }

    /// Builds a context from a JSON object's keys, in order.
    pub fn from_map(values: Map<String, Value>) -> Self {
        Context { values }
    }

    /// Adds or replaces a key, keeping its first position.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.insert(key, value);
        self
    }

    /// Adds or replaces a key, keeping its first position.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<Value>) {
        self.values.insert(key.into(), value.into());
    }

    /// A key's value.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.values.get(key)
    }

    /// Removes a key.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.values.shift_remove(key)
    }

    /// A key's value when it is a string.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.values.get(key).and_then(Value::as_str)
    }

    /// `request_id`.
    pub fn request_id(&self) -> Option<&str> {
        self.get_str("request_id")
    }

    /// `global_request_id`.
    pub fn global_request_id(&self) -> Option<&str> {
        self.get_str("global_request_id")
    }

    /// `user_id`, or oslo.context's older `user` key.
    pub fn user_id(&self) -> Option<&str> {
        self.get_str("user_id").or_else(|| self.get_str("user"))
    }

    /// `project_id`, or oslo.context's older `project` key (`tenant` before that).
    pub fn project_id(&self) -> Option<&str> {
        self.get_str("project_id")
            .or_else(|| self.get_str("project"))
            .or_else(|| self.get_str("tenant"))
    }

    /// Sets `request_id`.
    pub fn with_request_id(self, id: impl Into<String>) -> Self {
        self.with("request_id", id.into())
    }

    /// Sets `global_request_id`.
    pub fn with_global_request_id(self, id: impl Into<String>) -> Self {
        self.with("global_request_id", id.into())
    }

    /// Sets `user_id`.
    pub fn with_user_id(self, id: impl Into<String>) -> Self {
        self.with("user_id", id.into())
    }

    /// Sets `project_id`.
    pub fn with_project_id(self, id: impl Into<String>) -> Self {
        self.with("project_id", id.into())
    }

    /// All keys and values, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.values.iter()
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when the context has no keys.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The context as a JSON object.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.values
    }

    /// The context as a JSON object, by value.
    pub fn into_map(self) -> Map<String, Value> {
        self.values
    }
}

impl From<Map<String, Value>> for Context {
    fn from(values: Map<String, Value>) -> Self {
        Context::from_map(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_insertion_order_and_accessors_fall_back() {
        let ctx = Context::new()
            .with_request_id("req-1")
            .with("user", "alice")
            .with("roles", serde_json::json!(["admin"]))
            .with_request_id("req-2");
        let keys: Vec<&str> = ctx.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["request_id", "user", "roles"]);
        assert_eq!(ctx.request_id(), Some("req-2"));
        assert_eq!(ctx.user_id(), Some("alice"));
        assert_eq!(ctx.project_id(), None);
    }

    #[test]
    fn new_request_ids_look_like_oslo_context() {
        let id = Context::with_new_request_id()
            .request_id()
            .unwrap()
            .to_owned();
        assert!(id.starts_with("req-") && id.len() == 40, "{id}");
    }
}
