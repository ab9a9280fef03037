//! `Target`: where a message goes or what a server listens on (oslo `Target`), with oslo's
//! validation rules (spec §2.2).

use std::fmt;

use crate::error::RpcError;
use crate::version::RpcVersion;

/// Where a message goes (client) or what a server consumes (server), as in oslo.
///
/// * a client needs a `topic`; `server` sends to one server, `fanout` casts to all;
/// * a server needs a `topic` and a `server`;
/// * `exchange` overrides the transport's control exchange (not for fanout, spec §2.2);
/// * `namespace` and `version` select the endpoint on the server (spec §6).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Target {
    /// Overrides the transport's control exchange (default `openstack`).
    pub exchange: Option<String>,
    /// The topic: the queue name servers consume and clients send to.
    pub topic: Option<String>,
    /// The endpoint namespace; `None` is oslo's null namespace.
    pub namespace: Option<String>,
    /// The message version a client sends, or the version a server endpoint implements.
    pub version: Option<RpcVersion>,
    /// One server of the topic (`<topic>.<server>` queue).
    pub server: Option<String>,
    /// Casts to every server of the topic.
    pub fanout: bool,
}

impl Target {
    /// A client target: any server of `topic`.
    ///
    /// ```
    /// use oslo_rpc_runtime::{RpcVersion, Target};
    ///
    /// let target = Target::topic("compute")
    ///     .with_namespace("compute")
    ///     .with_exchange("nova");
    /// assert_eq!(target.to_string(), "<Target exchange=nova topic=compute namespace=compute>");
    /// assert_eq!(target.version, None::<RpcVersion>);
    /// ```
    pub fn topic(topic: impl Into<String>) -> Self {
        Target {
            topic: Some(topic.into()),
            ..Target::default()
        }
    }

    /// A server target, or a client target for one server: `topic` on `server`.
    ///
    /// ```
    /// let target = oslo_rpc_runtime::Target::server("compute", "host-1");
    /// assert_eq!(target.server.as_deref(), Some("host-1"));
    /// assert_eq!(target.to_string(), "<Target topic=compute server=host-1>");
    /// ```
    pub fn server(topic: impl Into<String>, server: impl Into<String>) -> Self {
        Target {
            topic: Some(topic.into()),
            server: Some(server.into()),
            ..Target::default()
        }
    }

    /// Sets the exchange.
    pub fn with_exchange(mut self, exchange: impl Into<String>) -> Self {
        self.exchange = Some(exchange.into());
        self
    }

    /// Sets the namespace.
    pub fn with_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// Sets the version.
    pub fn with_version(mut self, version: RpcVersion) -> Self {
        self.version = Some(version);
        self
    }

    /// Sets the server.
    pub fn with_server(mut self, server: impl Into<String>) -> Self {
        self.server = Some(server.into());
        self
    }

    /// Sets fanout.
    pub fn with_fanout(mut self, fanout: bool) -> Self {
        self.fanout = fanout;
        self
    }

    /// The topic, or an `InvalidTarget` error naming it as missing.
    pub(crate) fn require_topic(&self) -> Result<&str, RpcError> {
        match self.topic.as_deref() {
            None => Err(RpcError::InvalidTarget(format!(
                "a topic is required to send ({self})"
            ))),
            Some(topic) => {
                check_name("topic", topic)?;
                Ok(topic)
            }
        }
    }

    /// Checks that a server can listen on this target: it needs a topic and a server name.
    pub(crate) fn validate_for_server(&self) -> Result<(&str, &str), RpcError> {
        let topic = match self.topic.as_deref() {
            Some(topic) => topic,
            None => {
                return Err(RpcError::InvalidTarget(format!(
                    "a server target needs a topic ({self})"
                )));
            }
        };
        check_name("topic", topic)?;
        let server = match self.server.as_deref() {
            Some(server) => server,
            None => {
                return Err(RpcError::InvalidTarget(format!(
                    "a server target needs a server name ({self})"
                )));
            }
        };
        check_name("server", server)?;
        if let Some(exchange) = &self.exchange {
            check_name("exchange", exchange)?;
        }
        Ok((topic, server))
    }

    /// Checks that a call can go to this target: a topic, and no fanout.
    pub(crate) fn validate_for_call(&self) -> Result<&str, RpcError> {
        if self.fanout {
            return Err(RpcError::InvalidTarget(format!(
                "A call cannot be used with fanout ({self})"
            )));
        }
        self.validate_for_cast()
    }

    /// Checks that a cast can go to this target: a topic (and a valid server name if any).
    pub(crate) fn validate_for_cast(&self) -> Result<&str, RpcError> {
        let topic = self.require_topic()?;
        if let Some(server) = &self.server {
            check_name("server", server)?;
        }
        Ok(topic)
    }
}

/// Names become AMQP routing keys and queue names: empty ones can't route, and `*`/`#` act as
/// wildcards in topic bindings (spec §10.2 bug 16), so both are refused rather than misrouted.
fn check_name(field: &str, value: &str) -> Result<(), RpcError> {
    if value.is_empty() {
        return Err(RpcError::InvalidTarget(format!("the {field} is empty")));
    }
    // Bytes, not chars: both are ASCII, and a byte test runs a word at a time where a
    // char pattern decodes every character (checked on every call).
    if value.bytes().any(|b| b == b'*' || b == b'#') {
        return Err(RpcError::InvalidTarget(format!(
            "the {field} {value:?} contains '*' or '#', which AMQP topic routing treats as wildcards"
        )));
    }
    if value.len() > 255 {
        return Err(RpcError::InvalidTarget(format!(
            "the {field} is longer than 255 bytes, the AMQP limit for names"
        )));
    }
    Ok(())
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<Target")?;
        let fields: [(&str, Option<String>); 5] = [
            ("exchange", self.exchange.clone()),
            ("topic", self.topic.clone()),
            ("namespace", self.namespace.clone()),
            ("version", self.version.map(|v| v.to_string())),
            ("server", self.server.clone()),
        ];
        for (name, value) in fields {
            if let Some(value) = value {
                write!(f, " {name}={value}")?;
            }
        }
        if self.fanout {
            write!(f, " fanout=true")?;
        }
        write!(f, ">")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(result: Result<impl fmt::Debug, RpcError>) -> String {
        match result {
            Err(RpcError::InvalidTarget(text)) => text,
            other => panic!("expected InvalidTarget, got {other:?}"),
        }
    }

    #[test]
    fn server_target_needs_topic_and_server() {
        assert_eq!(
            Target::server("calc", "h1").validate_for_server().unwrap(),
            ("calc", "h1")
        );
        assert!(invalid(Target::topic("calc").validate_for_server()).contains("server name"));
        let no_topic = Target {
            server: Some("h1".into()),
            ..Target::default()
        };
        assert!(invalid(no_topic.validate_for_server()).contains("topic"));
    }

    #[test]
    fn client_needs_topic_and_call_cannot_fanout() {
        assert!(invalid(Target::default().validate_for_call()).contains("topic"));
        assert!(invalid(Target::default().validate_for_cast()).contains("topic"));
        let fanout = Target::topic("calc").with_fanout(true);
        assert!(invalid(fanout.validate_for_call()).contains("fanout"));
        assert_eq!(fanout.validate_for_cast().unwrap(), "calc");
    }

    #[test]
    fn wildcards_and_empty_names_are_refused() {
        assert!(invalid(Target::topic("a.*").validate_for_cast()).contains("wildcard"));
        assert!(invalid(Target::topic("").validate_for_cast()).contains("empty"));
        assert!(invalid(Target::server("calc", "#").validate_for_server()).contains("server"));
    }

    #[test]
    fn display_names_the_fields_set() {
        let target = Target::server("calc", "h1")
            .with_namespace("calc")
            .with_version(RpcVersion::new(1, 3));
        assert_eq!(
            target.to_string(),
            "<Target topic=calc namespace=calc version=1.3 server=h1>"
        );
    }
}
