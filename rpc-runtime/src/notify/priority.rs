//! Notification priorities (notify §1.1): upper case in the message, lower case in routing
//! keys and listener method names.

use std::fmt;
use std::str::FromStr;

use crate::error::RpcError;

/// The priority of a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    /// `AUDIT`.
    Audit,
    /// `DEBUG`.
    Debug,
    /// `INFO`.
    Info,
    /// `WARN` (Python's `warning` is an alias).
    Warn,
    /// `ERROR`.
    Error,
    /// `CRITICAL`.
    Critical,
    /// `SAMPLE`: high-frequency events with small payloads.
    Sample,
}

impl Priority {
    /// Every priority, in oslo's order (`dispatcher.PRIORITIES`).
    pub const ALL: [Priority; 7] = [
        Priority::Audit,
        Priority::Debug,
        Priority::Info,
        Priority::Warn,
        Priority::Error,
        Priority::Critical,
        Priority::Sample,
    ];

    /// The lower-case name: routing keys (`<topic>.<name>`) and handler methods.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Audit => "audit",
            Priority::Debug => "debug",
            Priority::Info => "info",
            Priority::Warn => "warn",
            Priority::Error => "error",
            Priority::Critical => "critical",
            Priority::Sample => "sample",
        }
    }

    /// The upper-case name the message carries in `priority`.
    pub(crate) fn wire_name(self) -> &'static str {
        match self {
            Priority::Audit => "AUDIT",
            Priority::Debug => "DEBUG",
            Priority::Info => "INFO",
            Priority::Warn => "WARN",
            Priority::Error => "ERROR",
            Priority::Critical => "CRITICAL",
            Priority::Sample => "SAMPLE",
        }
    }

    /// The priority a received message's `priority` field names, compared in lower case
    /// as oslo's dispatcher does; `None` for anything else (oslo's "Unknown priority").
    pub(crate) fn from_wire(name: &str) -> Option<Priority> {
        Priority::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Priority {
    type Err = RpcError;

    /// Parses a priority in any case; `warning` is `warn`, as in Python's `Notifier`.
    fn from_str(name: &str) -> Result<Priority, RpcError> {
        if name.eq_ignore_ascii_case("warning") {
            return Ok(Priority::Warn);
        }
        Priority::from_wire(name).ok_or_else(|| {
            RpcError::InvalidArgument(format!(
                "unknown notification priority {name:?}; expected one of audit, debug, info, \
                 warn, error, critical, sample"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_oslo() {
        let lower: Vec<&str> = Priority::ALL.iter().map(|p| p.as_str()).collect();
        assert_eq!(
            lower,
            [
                "audit", "debug", "info", "warn", "error", "critical", "sample"
            ]
        );
        assert_eq!(Priority::Critical.wire_name(), "CRITICAL");
        assert_eq!("WARNING".parse::<Priority>().unwrap(), Priority::Warn);
        assert_eq!("Info".parse::<Priority>().unwrap(), Priority::Info);
        assert!("notice".parse::<Priority>().is_err());
        // The wire field has no `warning` alias: oslo would not dispatch it.
        assert_eq!(Priority::from_wire("warning"), None);
        assert_eq!(Priority::from_wire("SAMPLE"), Some(Priority::Sample));
    }
}
