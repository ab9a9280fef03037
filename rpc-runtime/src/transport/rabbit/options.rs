//! The `[oslo_messaging_rabbit]` option group of oslo.messaging 18.3.1 (spec §1.1, §2.1, §7.1).
//!
//! The group holds `impl_rabbit.rabbit_opts` plus `amqp.amqp_opts` (`amqp_durable_queues`,
//! `amqp_auto_delete`). Names and defaults are oslo's. A transport URL's query overrides them
//! (`?heartbeat_timeout_threshold=10`), each value converted with the option's oslo.config type.
//! Durations keep oslo's units (seconds) so that values read the same as in an oslo config file.

use std::fmt;

/// oslo.config's deprecated name for `kombu_missing_consumer_retry_timeout`.
const DEPRECATED_MISSING_CONSUMER_TIMEOUT: &str = "kombu_reconnect_timeout";

/// The deprecated option names oslo.messaging 18.3.1 still reads, as `(deprecated, current)`.
/// oslo declares no deprecated groups for this group: `[DEFAULT] rabbit_*` options are ignored.
pub(crate) const DEPRECATED_NAMES: [(&str, &str); 1] = [(
    DEPRECATED_MISSING_CONSUMER_TIMEOUT,
    "kombu_missing_consumer_retry_timeout",
)];

/// `kombu_reconnect_delay` may not exceed `ACK_REQUEUE_EVERY_SECONDS_MAX * 0.9` (amqpdriver.py).
const MAX_RECONNECT_DELAY: f64 = 4.5;

/// Declares the options once: the struct's fields, their defaults, [`OPTION_NAMES`] and the
/// conversion [`RabbitOptions::set`] applies all come from one table, so a new option is one
/// entry. Each entry is `name: Type = default => |v| conversion`, where the conversion reads
/// the textual value `v` (a `Value`) into a `Result<Type, OptionError>`.
macro_rules! rabbit_options {
    (
        $(#[$struct_meta:meta])*
        pub struct $options:ident {
            $(
                $(#[$field_meta:meta])*
                $name:ident: $ty:ty = $default:expr => |$value:ident| $convert:expr,
            )*
        }
    ) => {
        $(#[$struct_meta])*
        pub struct $options {
            $(
                $(#[$field_meta])*
                pub $name: $ty,
            )*
        }

        impl Default for $options {
            fn default() -> Self {
                Self {
                    $($name: $default,)*
                }
            }
        }

        /// Every option name of the `[oslo_messaging_rabbit]` group, in oslo's declaration order.
        ///
        /// The deprecated alias `kombu_reconnect_timeout` (for
        /// `kombu_missing_consumer_retry_timeout`) is accepted as well but not listed.
        pub const OPTION_NAMES: [&str; [$(stringify!($name)),*].len()] = [$(stringify!($name)),*];

        impl $options {
            /// Sets the option called `name` (a current name, not an alias) from `value`;
            /// `Ok(false)` when no option has that name.
            fn set_named(&mut self, name: &str, value: &Value<'_>) -> Result<bool, OptionError> {
                $(
                    if name == stringify!($name) {
                        let $value = value;
                        self.$name = $convert?;
                        return Ok(true);
                    }
                )*
                Ok(false)
            }
        }
    };
}

rabbit_options! {
    /// The typed `[oslo_messaging_rabbit]` options, defaulting to oslo.messaging 18.3.1's values.
    ///
    /// Integer options are `i64` and accept whatever oslo.config accepts (its only bounds are the
    /// `min`/`max` noted per field); the driver must cope with odd but oslo-valid values.
    /// Options the driver cannot honour yet are still stored: see [`RabbitOptions::unsupported`].
    #[derive(Clone, Debug, PartialEq)]
    #[non_exhaustive]
    pub struct RabbitOptions {
        /// Maximum number of pooled send connections (§9.1). Default 30, min 1.
        rpc_conn_pool_size: i64 = 30 => |v| v.int(Some(1)),
        /// Idle pooled connections kept by the expiry policy (§9.1). Default 2.
        conn_pool_min_size: i64 = 2 => |v| v.int(None),
        /// Seconds an idle pooled connection lives before expiry (§9.1). Default 1200.
        conn_pool_ttl: i64 = 1200 => |v| v.int(None),
        /// Connect over TLS (§1.2). Default false. The driver's TLS and how it differs from
        /// oslo's: `transport::rabbit::TlsOptions`.
        ssl: bool = false => |v| v.bool(),
        /// TLS protocol version name: empty or `SSLv23` (highest both sides support), `TLSv1_2`.
        ssl_version: String = String::new() => |v| v.string(),
        /// Path of the client TLS key file; empty for none (then `ssl_cert_file` holds the key).
        ssl_key_file: String = String::new() => |v| v.string(),
        /// Path of the client TLS certificate file; empty for none.
        ssl_cert_file: String = String::new() => |v| v.string(),
        /// Path of the CA bundle used to verify the broker; empty for the system's roots.
        ssl_ca_file: String = String::new() => |v| v.string(),
        /// Deprecated and never read by oslo 18.3.1 ("verification is always enabled"). Default
        /// true; false has no effect here either (a warning says so).
        ssl_enforce_hostname_verification: bool = true => |v| v.bool(),
        /// Deprecated and without effect in oslo 18.3.1 (OpenSSL 3 removed FIPS_mode_set). Default
        /// false; the driver refuses true, since its TLS is not FIPS-validated.
        ssl_enforce_fips_mode: bool = false => |v| v.bool(),
        /// Seconds slept before reconnecting after an error during an operation (§7.4).
        /// Default 1.0, between 0 and 4.5.
        kombu_reconnect_delay: f64 = 1.0 => |v| v.float(0.0, Some(MAX_RECONNECT_DELAY)),
        /// Random extra reconnect delay in seconds. Default 0.0, min 0. oslo only logs it and
        /// never sleeps it (§7.4, §10.2).
        kombu_reconnect_splay: f64 = 0.0 => |v| v.float(0.0, None),
        /// Experimental kombu body compression (`gzip`, `bz2`); `None` disables it. Not supported yet.
        // An empty value is falsy in oslo, which then compresses nothing.
        kombu_compression: Option<String> = None => |v| v.non_empty_string(),
        /// Seconds a server keeps retrying a reply to a missing reply queue (§4.5). Default 60.
        /// Deprecated alias: `kombu_reconnect_timeout`.
        kombu_missing_consumer_retry_timeout: i64 = 60 => |v| v.int(None),
        /// How the next broker is chosen on failover (§1.1). Default round-robin.
        kombu_failover_strategy: FailoverStrategy = FailoverStrategy::RoundRobin => |v| v.choice(&FailoverStrategy::ALL),
        /// SASL login method (§1.2). Default AMQPLAIN.
        rabbit_login_method: LoginMethod = LoginMethod::AmqPlain => |v| v.choice(&LoginMethod::ALL),
        /// First reconnect interval in seconds (§7.4). Default 1, min 1.
        rabbit_retry_interval: i64 = 1 => |v| v.int(Some(1)),
        /// Seconds added to the reconnect interval after each attempt (§7.4). Default 2, min 0.
        rabbit_retry_backoff: i64 = 2 => |v| v.int(Some(0)),
        /// Maximum reconnect interval in seconds (§7.4). Default 30, min 1.
        rabbit_interval_max: i64 = 30 => |v| v.int(Some(1)),
        /// Declare queues with `x-ha-policy: all` (§2.1). Default false.
        rabbit_ha_queues: bool = false => |v| v.bool(),
        /// Use durable quorum queues for topic and server queues (§2.1). Default false.
        rabbit_quorum_queue: bool = false => |v| v.bool(),
        /// Use durable quorum queues for reply and fanout queues (`TQ` in §2.1). Default false.
        rabbit_transient_quorum_queue: bool = false => |v| v.bool(),
        /// Quorum `x-delivery-limit`; 0 means no limit and no argument (§2.1). Default 0.
        rabbit_quorum_delivery_limit: i64 = 0 => |v| v.int(None),
        /// Quorum `x-max-in-memory-length`; 0 means no argument (§2.1). Default 0.
        rabbit_quorum_max_memory_length: i64 = 0 => |v| v.int(None),
        /// Quorum `x-max-in-memory-bytes`; 0 means no argument (§2.1). Default 0.
        rabbit_quorum_max_memory_bytes: i64 = 0 => |v| v.int(None),
        /// Seconds an unused reply or fanout queue lives (`x-expires`, `TTL` in §2.1); 0 disables
        /// the expiry. Default 1800, min 0.
        rabbit_transient_queues_ttl: i64 = 1800 => |v| v.int(Some(0)),
        /// `basic.qos` prefetch count on listen connections; 0 means unlimited and no `basic.qos`
        /// (§2.1). Default 0.
        rabbit_qos_prefetch_count: i64 = 0 => |v| v.int(None),
        /// Requested AMQP heartbeat in seconds; 0 disables heartbeats (§1.2, §7.5). Default 60.
        heartbeat_timeout_threshold: i64 = 60 => |v| v.int(None),
        /// Heartbeat checks per `heartbeat_timeout_threshold` (§7.5). Default 3.
        heartbeat_rate: i64 = 3 => |v| v.int(None),
        /// Deprecated: publish replies with `mandatory` (§2.2). Default true; false is not supported.
        direct_mandatory_flag: bool = true => |v| v.bool(),
        /// Consume with `x-cancel-on-ha-failover: true` (§2.1). Default false.
        enable_cancel_on_failover: bool = false => |v| v.bool(),
        /// Name reply and fanout queues `<hostname>:<processname>:<counter>` instead of by uuid (§2.1).
        /// Default false.
        use_queue_manager: bool = false => |v| v.bool(),
        /// Host name used by the queue manager. `None` means oslo's default, `socket.gethostname()`.
        hostname: Option<String> = None => |v| v.string().map(Some),
        /// Process name used by the queue manager. `None` means oslo's default, `basename(argv[0])`.
        processname: Option<String> = None => |v| v.string().map(Some),
        /// Replace the fanout queues by one shared stream queue (§2.1). Default false.
        rabbit_stream_fanout: bool = false => |v| v.bool(),
        /// Declare the control exchange and topic/server queues durable (`D` in §2.1). Default false.
        amqp_durable_queues: bool = false => |v| v.bool(),
        /// Declare the control exchange and topic/server queues auto-delete (`AD` in §2.1).
        /// Default false.
        amqp_auto_delete: bool = false => |v| v.bool(),
    }
}

impl RabbitOptions {
    /// The defaults overridden by URL query pairs (see [`RabbitOptions::apply_query`]).
    pub fn from_query(query: &[(String, String)]) -> Result<Self, OptionError> {
        let mut options = Self::default();
        options.apply_query(query)?;
        Ok(options)
    }

    /// Overrides options with URL query pairs, as oslo's `ConfigOptsProxy` does (spec §1.1), then
    /// checks the result with [`RabbitOptions::validate`].
    ///
    /// Each key must be an option name and each value is converted with the option's type. The
    /// deprecated `kombu_reconnect_timeout` sets `kombu_missing_consumer_retry_timeout` unless
    /// that name is given too (oslo 18.3.1 validates the alias in a URL but then ignores it).
    pub fn apply_query(&mut self, query: &[(String, String)]) -> Result<(), OptionError> {
        let (aliases, names): (Vec<_>, Vec<_>) = query
            .iter()
            .partition(|(key, _)| key == DEPRECATED_MISSING_CONSUMER_TIMEOUT);
        // Aliases first, so that the current name wins whatever the order in the URL.
        for (key, value) in aliases.into_iter().chain(names) {
            self.set(key, value)?;
        }
        self.validate()
    }

    /// Sets one option from its oslo name and textual value, converted the way oslo.config does:
    /// booleans are `true/false/1/0/yes/no/on/off` in any case; numbers are read as Python's
    /// `int()` and `float()` read them (surrounding whitespace, a sign, `_` between digits);
    /// choices are case-sensitive; strings are taken as they are. URL query values and config
    /// file values both come through here.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), OptionError> {
        let name = DEPRECATED_NAMES
            .iter()
            .find(|&&(deprecated, _)| deprecated == key)
            .map_or(key, |&(_, current)| current);
        if self.set_named(name, &Value { key, text: value })? {
            Ok(())
        } else {
            Err(OptionError::UnknownOption {
                key: key.to_owned(),
                suggestion: closest_option_name(key),
            })
        }
    }

    /// Rejects combinations that oslo 18.3.1 refuses with a `RuntimeError` once connected or
    /// when declaring queues (`Connection.__init__`, `_get_queue_arguments`); we refuse them
    /// up front instead.
    pub fn validate(&self) -> Result<(), OptionError> {
        let conflict = if self.rabbit_ha_queues && self.rabbit_quorum_queue {
            Some("rabbit_ha_queues and rabbit_quorum_queue cannot both be enabled")
        } else if self.rabbit_ha_queues && self.rabbit_transient_quorum_queue {
            Some("rabbit_ha_queues and rabbit_transient_quorum_queue cannot both be enabled")
        } else if self.rabbit_stream_fanout && self.rabbit_qos_prefetch_count <= 0 {
            Some("rabbit_stream_fanout needs rabbit_qos_prefetch_count greater than 0")
        } else if self.rabbit_stream_fanout && !self.rabbit_transient_quorum_queue {
            Some("rabbit_stream_fanout needs rabbit_transient_quorum_queue=true")
        } else {
            None
        };
        conflict.map_or(Ok(()), |message| Err(OptionError::Conflict(message)))
    }

    /// Options set to a value whose behaviour the driver does not implement yet, in
    /// [`OPTION_NAMES`] order. The driver refuses a configuration where this is not empty.
    ///
    /// `kombu_reconnect_splay` (never slept by oslo, §7.4) is honoured by ignoring it, exactly
    /// as oslo does, so it is never listed. The `ssl*` options are implemented
    /// (`transport::rabbit::TlsOptions`), `ssl_enforce_fips_mode=true` refused there with its
    /// own error.
    pub fn unsupported(&self) -> Vec<&'static str> {
        let defaults = Self::default();
        [
            ("kombu_compression", self.kombu_compression.is_some()),
            (
                "direct_mandatory_flag",
                self.direct_mandatory_flag != defaults.direct_mandatory_flag,
            ),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }

    /// Durability of the control exchange and the topic and server queues: `D =
    /// amqp_durable_queues OR rabbit_quorum_queue` (spec §2.1; quorum queues are always durable).
    pub(crate) fn queues_durable(&self) -> bool {
        self.amqp_durable_queues || self.rabbit_quorum_queue
    }

    /// Durability of the reply queue, the fanout queues and the fanout exchange: `TQ =
    /// rabbit_transient_quorum_queue` (spec §2.1).
    pub(crate) fn transient_queues_durable(&self) -> bool {
        self.rabbit_transient_quorum_queue
    }

    /// Arguments of the topic queue `<topic>` and the server queue `<topic>.<server>` (spec
    /// §2.1), in oslo's order: `x-ha-policy: "all"` if `rabbit_ha_queues`; then, if
    /// `rabbit_quorum_queue`, `x-queue-type: "quorum"` followed by `x-delivery-limit`,
    /// `x-max-in-memory-length` and `x-max-in-memory-bytes` when non-zero. Never `x-expires`.
    pub(crate) fn topic_queue_args(&self) -> Vec<(&'static str, QueueArg)> {
        self.queue_args(self.rabbit_quorum_queue, 0)
    }

    /// Arguments of the reply queue and of the (non-stream) fanout queues (spec §2.1), in oslo's
    /// order: `x-ha-policy` as for topic queues; the quorum keys if
    /// `rabbit_transient_quorum_queue` (not `rabbit_quorum_queue`); then `x-expires:
    /// rabbit_transient_queues_ttl * 1000` (milliseconds) when the TTL is above 0.
    pub(crate) fn transient_queue_args(&self) -> Vec<(&'static str, QueueArg)> {
        self.queue_args(
            self.rabbit_transient_quorum_queue,
            self.rabbit_transient_queues_ttl,
        )
    }

    /// Arguments of the shared stream queue `<topic>_fanout` when `rabbit_stream_fanout` is set
    /// (`_get_queue_arguments`' last branch, which replaces everything before it):
    /// `x-queue-type: "stream"`, then `x-max-age: "<rabbit_transient_queues_ttl>s"` (a string)
    /// when the TTL is above 0. No `x-expires`, no HA or quorum keys.
    pub(crate) fn stream_fanout_args(&self) -> Vec<(&'static str, QueueArg)> {
        let mut args = vec![("x-queue-type", QueueArg::Str("stream".to_owned()))];
        if self.rabbit_transient_queues_ttl > 0 {
            let age = format!("{}s", self.rabbit_transient_queues_ttl);
            args.push(("x-max-age", QueueArg::Str(age)));
        }
        args
    }

    /// oslo's `_get_queue_arguments` without the stream-fanout branch.
    fn queue_args(&self, quorum: bool, ttl_seconds: i64) -> Vec<(&'static str, QueueArg)> {
        let mut args = Vec::new();
        if self.rabbit_ha_queues {
            args.push(("x-ha-policy", QueueArg::Str("all".to_owned())));
        }
        if quorum {
            args.push(("x-queue-type", QueueArg::Str("quorum".to_owned())));
            let limits = [
                ("x-delivery-limit", self.rabbit_quorum_delivery_limit),
                (
                    "x-max-in-memory-length",
                    self.rabbit_quorum_max_memory_length,
                ),
                ("x-max-in-memory-bytes", self.rabbit_quorum_max_memory_bytes),
            ];
            // Python truthiness: any non-zero value, even a negative one, is sent.
            args.extend(
                limits
                    .into_iter()
                    .filter(|&(_, value)| value != 0)
                    .map(|(key, value)| (key, QueueArg::Int(value))),
            );
        }
        if ttl_seconds > 0 {
            args.push(("x-expires", QueueArg::Int(ttl_seconds.saturating_mul(1000))));
        }
        args
    }
}

/// The value of a queue declaration argument, independent of any AMQP library.
///
/// py-amqp sends an integer as a signed 32-bit field when it fits and as 64-bit otherwise;
/// RabbitMQ only compares the type class and value, so any integer width is equivalent (§2.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum QueueArg {
    /// An integer argument such as `x-expires`.
    Int(i64),
    /// A string argument such as `x-queue-type`.
    Str(String),
}

/// `rabbit_login_method` (spec §1.2). oslo's choices are case-sensitive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LoginMethod {
    /// `PLAIN`
    Plain,
    /// `AMQPLAIN`, the default.
    AmqPlain,
    /// `EXTERNAL` (normally with a TLS client certificate).
    External,
    /// `RABBIT-CR-DEMO`
    RabbitCrDemo,
}

impl LoginMethod {
    const ALL: [Self; 4] = [
        Self::Plain,
        Self::AmqPlain,
        Self::External,
        Self::RabbitCrDemo,
    ];

    /// The SASL mechanism name, as written in oslo's configuration.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Plain => "PLAIN",
            Self::AmqPlain => "AMQPLAIN",
            Self::External => "EXTERNAL",
            Self::RabbitCrDemo => "RABBIT-CR-DEMO",
        }
    }
}

impl fmt::Display for LoginMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `kombu_failover_strategy`: how the next broker is chosen when the current one fails (§1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailoverStrategy {
    /// `round-robin`, the default: the hosts in order, after one initial shuffle.
    RoundRobin,
    /// `shuffle`: a random host each time.
    Shuffle,
}

impl FailoverStrategy {
    const ALL: [Self; 2] = [Self::RoundRobin, Self::Shuffle];

    /// The strategy name, as written in oslo's configuration.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::RoundRobin => "round-robin",
            Self::Shuffle => "shuffle",
        }
    }
}

impl fmt::Display for FailoverStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rejected `[oslo_messaging_rabbit]` option, value or combination.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OptionError {
    /// The key is not an option of the group (oslo raises `NoSuchOptError`).
    #[error("unknown option {key:?} in [oslo_messaging_rabbit]{}", did_you_mean(.suggestion))]
    UnknownOption {
        /// The key as given.
        key: String,
        /// The closest known option name, when one is close enough to be a likely typo.
        suggestion: Option<&'static str>,
    },
    /// The value cannot be converted with the option's type.
    #[error("invalid value {value:?} for option {key:?}: expected {expected}")]
    InvalidValue {
        /// The option name as given.
        key: String,
        /// The value as given.
        value: String,
        /// What the option accepts, e.g. `an integer >= 1`.
        expected: String,
    },
    /// Options that oslo refuses to combine.
    #[error("conflicting [oslo_messaging_rabbit] options: {0}")]
    Conflict(&'static str),
}

fn did_you_mean(suggestion: &Option<&str>) -> String {
    suggestion
        .map(|name| format!(" (did you mean {name:?}?)"))
        .unwrap_or_default()
}

/// A query value on its way to an option's type.
struct Value<'a> {
    key: &'a str,
    text: &'a str,
}

impl Value<'_> {
    fn invalid(&self, expected: impl Into<String>) -> OptionError {
        OptionError::InvalidValue {
            key: self.key.to_owned(),
            value: self.text.to_owned(),
            expected: expected.into(),
        }
    }

    /// oslo.config `types.String`: the text as it is.
    fn string(&self) -> Result<String, OptionError> {
        Ok(self.text.to_owned())
    }

    /// A string where an empty value means none.
    fn non_empty_string(&self) -> Result<Option<String>, OptionError> {
        Ok((!self.text.is_empty()).then(|| self.text.to_owned()))
    }

    /// oslo.config `types.Boolean`: case-insensitive, no surrounding whitespace allowed.
    fn bool(&self) -> Result<bool, OptionError> {
        match self.text.to_ascii_lowercase().as_str() {
            "true" | "1" | "on" | "yes" => Ok(true),
            "false" | "0" | "off" | "no" => Ok(false),
            _ => Err(self.invalid("a boolean (true/false, yes/no, on/off or 1/0)")),
        }
    }

    /// oslo.config `types.Integer`, i.e. Python `int()` plus the option's minimum.
    ///
    /// oslo.config turns an empty or blank value into `None`, which oslo.messaging then fails
    /// on or misreads; we refuse it like any other non-integer.
    fn int(&self, min: Option<i64>) -> Result<i64, OptionError> {
        let expected = || match min {
            Some(min) => format!("an integer >= {min}"),
            None => "an integer".to_owned(),
        };
        let value: i64 = python_number(self.text)
            .and_then(|digits| digits.parse().ok())
            .ok_or_else(|| self.invalid(expected()))?;
        match min {
            Some(min) if value < min => Err(self.invalid(expected())),
            _ => Ok(value),
        }
    }

    /// oslo.config `types.Float` with the option's bounds. Unlike Python we refuse `nan` and
    /// infinities, which no option can sensibly use.
    fn float(&self, min: f64, max: Option<f64>) -> Result<f64, OptionError> {
        let expected = || match max {
            Some(max) => format!("a number from {min} to {max}"),
            None => format!("a number >= {min}"),
        };
        let value: f64 = python_number(self.text)
            .and_then(|digits| digits.parse().ok())
            .ok_or_else(|| self.invalid(expected()))?;
        let in_range = value.is_finite() && value >= min && max.is_none_or(|max| value <= max);
        if in_range {
            Ok(value)
        } else {
            Err(self.invalid(expected()))
        }
    }

    /// oslo.config `types.String` with `choices`: an exact, case-sensitive match.
    fn choice<T: Copy + fmt::Display>(&self, choices: &[T]) -> Result<T, OptionError> {
        choices
            .iter()
            .copied()
            .find(|choice| choice.to_string() == self.text)
            .ok_or_else(|| {
                let names: Vec<String> = choices
                    .iter()
                    .map(|choice| format!("{:?}", choice.to_string()))
                    .collect();
                self.invalid(format!("one of {}", names.join(", ")))
            })
    }
}

/// oslo.config `types.Integer` for options outside this group (`[DEFAULT]
/// rpc_response_timeout`), with the same conversion and messages as the options here.
pub(crate) fn convert_int(key: &str, text: &str, min: Option<i64>) -> Result<i64, OptionError> {
    Value { key, text }.int(min)
}

/// The text of a number as Python's `int()` and `float()` read it, ready for Rust's parser:
/// surrounding whitespace removed (Python's `str.strip` set), and `_` allowed only between
/// two digits (PEP 515), then dropped. `None` when the underscores are misplaced.
fn python_number(text: &str) -> Option<String> {
    let text = text.trim_matches(crate::config::is_python_space);
    let chars: Vec<char> = text.chars().collect();
    let mut digits = String::with_capacity(text.len());
    for (index, &c) in chars.iter().enumerate() {
        if c == '_' {
            let between_digits = index > 0
                && chars[index - 1].is_ascii_digit()
                && chars.get(index + 1).is_some_and(char::is_ascii_digit);
            if !between_digits {
                return None;
            }
        } else {
            digits.push(c);
        }
    }
    Some(digits)
}

/// The known option name nearest to `key` by case-insensitive edit distance, if it is close
/// enough to be a typo.
pub(crate) fn closest_option_name(key: &str) -> Option<&'static str> {
    closest_name(key, &OPTION_NAMES, (key.chars().count() / 3).max(2))
}

/// The candidate nearest to `key` by case-insensitive edit distance, if at most
/// `max_distance` edits away.
pub(crate) fn closest_name<'a>(
    key: &str,
    candidates: &[&'a str],
    max_distance: usize,
) -> Option<&'a str> {
    // The distance is at least the difference in length: spare the quadratic work for keys
    // too long to be near any candidate.
    let longest = candidates.iter().map(|c| c.chars().count()).max()?;
    if key.chars().count() > longest + max_distance {
        return None;
    }
    let key = key.to_lowercase();
    let length = key.chars().count();
    candidates
        .iter()
        // Likewise per candidate: skip names whose length alone rules them out.
        .filter(|name| name.chars().count().abs_diff(length) <= max_distance)
        .map(|&name| (strsim::levenshtein(&key, name), name))
        .filter(|&(distance, _)| distance <= max_distance)
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, name)| name)
}

#[cfg(test)]
mod tests {
    /// Found by fuzzing (`fuzz/regressions/url/`): an unknown key of hundreds of characters
    /// made the "did you mean" search slow (edit distances against every option name).
    #[test]
    fn long_unknown_keys_are_refused_quickly() {
        let key = "x".repeat(100_000);
        let started = std::time::Instant::now();
        let error = super::RabbitOptions::from_query(&[(key, "1".to_owned())]).unwrap_err();
        assert!(matches!(
            error,
            super::OptionError::UnknownOption {
                suggestion: None,
                ..
            }
        ));
        assert!(started.elapsed() < std::time::Duration::from_millis(500));
        // A typo still gets its suggestion.
        let error =
            super::RabbitOptions::from_query(&[("heartbeat_timeout_treshold".into(), "1".into())])
                .unwrap_err();
        assert!(
            error.to_string().contains("heartbeat_timeout_threshold"),
            "{error}"
        );
    }

    use super::*;

    fn query(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|&(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    fn options(pairs: &[(&str, &str)]) -> Result<RabbitOptions, OptionError> {
        RabbitOptions::from_query(&query(pairs))
    }

    fn invalid_value(key: &str, value: &str) -> String {
        match options(&[(key, value)]) {
            Err(err @ OptionError::InvalidValue { .. }) => err.to_string(),
            other => panic!("{key}={value:?}: expected InvalidValue, got {other:?}"),
        }
    }

    #[test]
    fn defaults_match_oslo_18_3_1_and_spec_7_1() {
        let o = RabbitOptions::default();
        assert_eq!(
            (o.rpc_conn_pool_size, o.conn_pool_min_size, o.conn_pool_ttl),
            (30, 2, 1200)
        );
        assert_eq!(
            (
                o.rabbit_retry_interval,
                o.rabbit_retry_backoff,
                o.rabbit_interval_max
            ),
            (1, 2, 30)
        );
        assert_eq!(
            (o.kombu_reconnect_delay, o.kombu_reconnect_splay),
            (1.0, 0.0)
        );
        assert_eq!(o.kombu_missing_consumer_retry_timeout, 60);
        assert_eq!((o.heartbeat_timeout_threshold, o.heartbeat_rate), (60, 3));
        assert_eq!(
            (o.rabbit_transient_queues_ttl, o.rabbit_qos_prefetch_count),
            (1800, 0)
        );
        assert_eq!(o.rabbit_login_method, LoginMethod::AmqPlain);
        assert_eq!(o.kombu_failover_strategy, FailoverStrategy::RoundRobin);
        assert!(!o.ssl && o.ssl_enforce_hostname_verification && !o.ssl_enforce_fips_mode);
        assert!(o.ssl_version.is_empty() && o.ssl_key_file.is_empty());
        assert!(o.ssl_cert_file.is_empty() && o.ssl_ca_file.is_empty());
        assert_eq!(o.kombu_compression, None);
        assert!(!o.rabbit_ha_queues && !o.rabbit_quorum_queue && !o.rabbit_transient_quorum_queue);
        assert_eq!(
            (
                o.rabbit_quorum_delivery_limit,
                o.rabbit_quorum_max_memory_length,
                o.rabbit_quorum_max_memory_bytes
            ),
            (0, 0, 0)
        );
        assert!(o.direct_mandatory_flag && !o.enable_cancel_on_failover && !o.use_queue_manager);
        assert_eq!(
            (o.hostname.as_deref(), o.processname.as_deref()),
            (None, None)
        );
        assert!(!o.rabbit_stream_fanout && !o.amqp_durable_queues && !o.amqp_auto_delete);
        assert_eq!(options(&[]), Ok(o));
    }

    #[test]
    fn every_listed_name_is_accepted() {
        for name in OPTION_NAMES {
            // "1" is valid for every option except the two choices; an invalid value is fine
            // here, an unknown option is not.
            match RabbitOptions::default().set(name, "1") {
                Ok(()) | Err(OptionError::InvalidValue { .. }) => {}
                Err(err) => panic!("{name}: {err}"),
            }
        }
    }

    #[test]
    fn values_are_converted_with_the_option_type() {
        let o = options(&[
            ("ssl", "YES"),
            ("amqp_durable_queues", "On"),
            ("amqp_auto_delete", "1"),
            ("direct_mandatory_flag", "off"),
            ("heartbeat_timeout_threshold", " 10 "),
            ("rabbit_qos_prefetch_count", "+5"),
            ("conn_pool_ttl", "-1"),
            ("kombu_reconnect_delay", "4.5"),
            ("kombu_reconnect_splay", "2"),
            ("rabbit_login_method", "EXTERNAL"),
            ("kombu_failover_strategy", "shuffle"),
            ("ssl_ca_file", "/etc/ca.pem"),
            ("kombu_compression", "gzip"),
            ("hostname", "node1"),
        ]);
        let o = o.unwrap_or_else(|e| panic!("{e}"));
        assert!(o.ssl && o.amqp_durable_queues && o.amqp_auto_delete && !o.direct_mandatory_flag);
        assert_eq!(
            (o.heartbeat_timeout_threshold, o.rabbit_qos_prefetch_count),
            (10, 5)
        );
        assert_eq!(o.conn_pool_ttl, -1);
        assert_eq!(
            (o.kombu_reconnect_delay, o.kombu_reconnect_splay),
            (4.5, 2.0)
        );
        assert_eq!(o.rabbit_login_method, LoginMethod::External);
        assert_eq!(o.kombu_failover_strategy, FailoverStrategy::Shuffle);
        assert_eq!(o.ssl_ca_file, "/etc/ca.pem");
        assert_eq!(o.kombu_compression.as_deref(), Some("gzip"));
        assert_eq!(o.hostname.as_deref(), Some("node1"));
    }

    #[test]
    fn all_boolean_spellings() {
        for (text, expected) in [
            ("true", true),
            ("TRUE", true),
            ("1", true),
            ("yes", true),
            ("on", true),
            ("OFF", false),
        ]
        .into_iter()
        .chain([
            ("false", false),
            ("0", false),
            ("no", false),
            ("False", false),
        ]) {
            let o = options(&[("rabbit_ha_queues", text)]).map(|o| o.rabbit_ha_queues);
            assert_eq!(o, Ok(expected), "{text}");
        }
    }

    #[test]
    fn bad_values_name_key_value_and_type() {
        assert_eq!(
            invalid_value("ssl", "maybe"),
            r#"invalid value "maybe" for option "ssl": expected a boolean (true/false, yes/no, on/off or 1/0)"#
        );
        assert!(invalid_value("ssl", " true").contains(r#"" true""#));
        assert_eq!(
            invalid_value("heartbeat_rate", "2.5"),
            r#"invalid value "2.5" for option "heartbeat_rate": expected an integer"#
        );
        assert_eq!(
            invalid_value("rpc_conn_pool_size", "0"),
            r#"invalid value "0" for option "rpc_conn_pool_size": expected an integer >= 1"#
        );
        assert!(
            invalid_value("rabbit_transient_queues_ttl", "-1")
                .ends_with("expected an integer >= 0")
        );
        assert!(invalid_value("rabbit_retry_interval", "0").ends_with("expected an integer >= 1"));
        assert!(invalid_value("rabbit_interval_max", "").ends_with("expected an integer >= 1"));
        assert!(invalid_value("conn_pool_ttl", "99999999999999999999").ends_with("an integer"));
        assert_eq!(
            invalid_value("kombu_reconnect_delay", "5"),
            r#"invalid value "5" for option "kombu_reconnect_delay": expected a number from 0 to 4.5"#
        );
        assert!(invalid_value("kombu_reconnect_delay", "-0.1").ends_with("a number from 0 to 4.5"));
        assert!(invalid_value("kombu_reconnect_splay", "nan").ends_with("expected a number >= 0"));
        assert!(invalid_value("kombu_reconnect_splay", "inf").ends_with("expected a number >= 0"));
        assert_eq!(
            invalid_value("rabbit_login_method", "plain"),
            r#"invalid value "plain" for option "rabbit_login_method": expected one of "PLAIN", "AMQPLAIN", "EXTERNAL", "RABBIT-CR-DEMO""#
        );
        assert!(
            invalid_value("kombu_failover_strategy", "random")
                .ends_with(r#"one of "round-robin", "shuffle""#)
        );
    }

    #[test]
    fn unknown_options_are_named_with_a_suggestion() {
        let err = options(&[("heartbeat_timeout_treshold", "10")]);
        assert_eq!(
            err.map_err(|e| e.to_string()),
            Err(r#"unknown option "heartbeat_timeout_treshold" in [oslo_messaging_rabbit] (did you mean "heartbeat_timeout_threshold"?)"#.to_owned())
        );
        let err = options(&[("exchange", "nova")]).map_err(|e| e.to_string());
        assert_eq!(
            err,
            Err(r#"unknown option "exchange" in [oslo_messaging_rabbit]"#.to_owned())
        );
        let err = options(&[("SSL", "1")]);
        assert_eq!(
            err,
            Err(OptionError::UnknownOption {
                key: "SSL".to_owned(),
                suggestion: Some("ssl")
            })
        );
        assert!(matches!(
            options(&[("", "1")]),
            Err(OptionError::UnknownOption { .. })
        ));
    }

    #[test]
    fn deprecated_alias_sets_the_new_name_unless_it_is_given() {
        let o = options(&[("kombu_reconnect_timeout", "7")])
            .map(|o| o.kombu_missing_consumer_retry_timeout);
        assert_eq!(o, Ok(7));
        for pairs in [
            [
                ("kombu_reconnect_timeout", "7"),
                ("kombu_missing_consumer_retry_timeout", "9"),
            ],
            [
                ("kombu_missing_consumer_retry_timeout", "9"),
                ("kombu_reconnect_timeout", "7"),
            ],
        ] {
            assert_eq!(
                options(&pairs).map(|o| o.kombu_missing_consumer_retry_timeout),
                Ok(9)
            );
        }
        assert!(matches!(
            options(&[("kombu_reconnect_timeout", "x")]),
            Err(OptionError::InvalidValue { .. })
        ));
    }

    #[test]
    fn conflicting_options_are_refused() {
        let conflicts = [
            vec![("rabbit_ha_queues", "1"), ("rabbit_quorum_queue", "1")],
            vec![
                ("rabbit_ha_queues", "1"),
                ("rabbit_transient_quorum_queue", "1"),
            ],
            vec![
                ("rabbit_stream_fanout", "1"),
                ("rabbit_transient_quorum_queue", "1"),
            ],
            vec![
                ("rabbit_stream_fanout", "1"),
                ("rabbit_qos_prefetch_count", "10"),
            ],
        ];
        for pairs in conflicts {
            assert!(
                matches!(options(&pairs), Err(OptionError::Conflict(_))),
                "{pairs:?}"
            );
        }
        let stream = options(&[
            ("rabbit_stream_fanout", "1"),
            ("rabbit_transient_quorum_queue", "1"),
            ("rabbit_qos_prefetch_count", "10"),
        ]);
        assert!(stream.is_ok());
        let err = options(&[("rabbit_ha_queues", "1"), ("rabbit_quorum_queue", "1")])
            .map_err(|e| e.to_string());
        assert_eq!(
            err,
            Err("conflicting [oslo_messaging_rabbit] options: rabbit_ha_queues and rabbit_quorum_queue cannot both be enabled".to_owned())
        );
    }

    #[test]
    fn unsupported_lists_non_default_unimplemented_options() {
        assert!(RabbitOptions::default().unsupported().is_empty());
        let harmless = options(&[
            ("ssl", "false"),
            ("ssl_enforce_fips_mode", "1"),
            ("kombu_reconnect_splay", "1"),
            ("hostname", "h"),
            ("rabbit_ha_queues", "1"),
            ("kombu_failover_strategy", "shuffle"),
        ]);
        assert_eq!(harmless.map(|o| o.unsupported()), Ok(vec![]));
        let o = options(&[
            ("rabbit_stream_fanout", "1"),
            ("rabbit_transient_quorum_queue", "1"),
            ("rabbit_qos_prefetch_count", "1"),
            ("use_queue_manager", "1"),
            ("enable_cancel_on_failover", "1"),
            ("direct_mandatory_flag", "0"),
            ("kombu_compression", "bz2"),
            ("ssl_enforce_hostname_verification", "0"),
            ("ssl_ca_file", "ca"),
            ("ssl_cert_file", "c"),
            ("ssl_key_file", "k"),
            ("ssl_version", "TLSv1_2"),
            ("ssl", "1"),
        ]);
        assert_eq!(
            o.map(|o| o.unsupported()),
            Ok(vec!["kombu_compression", "direct_mandatory_flag",])
        );
    }

    #[test]
    fn durability() {
        let flags = |pairs: &[(&str, &str)]| {
            options(pairs).map(|o| (o.queues_durable(), o.transient_queues_durable()))
        };
        assert_eq!(flags(&[]), Ok((false, false)));
        assert_eq!(flags(&[("amqp_durable_queues", "1")]), Ok((true, false)));
        assert_eq!(flags(&[("rabbit_quorum_queue", "1")]), Ok((true, false)));
        assert_eq!(
            flags(&[("rabbit_transient_quorum_queue", "1")]),
            Ok((false, true))
        );
    }

    fn int(key: &'static str, value: i64) -> (&'static str, QueueArg) {
        (key, QueueArg::Int(value))
    }

    fn string(key: &'static str, value: &str) -> (&'static str, QueueArg) {
        (key, QueueArg::Str(value.to_owned()))
    }

    #[test]
    fn default_queue_args_match_the_observed_topology() {
        // Spec §2.1 rabbitmqctl listing: topic/server queues `[]`, reply/fanout `x-expires 1800000`.
        let o = RabbitOptions::default();
        assert_eq!(o.topic_queue_args(), vec![]);
        assert_eq!(o.transient_queue_args(), vec![int("x-expires", 1_800_000)]);
    }

    #[test]
    fn stream_fanout_args_replace_everything_else() {
        // impl_rabbit._get_queue_arguments: the stream branch starts over from `{}`; observed
        // on RabbitMQ 3.10.8 as [x-queue-type longstr stream, x-max-age longstr 1800s].
        let o = options(&[
            ("rabbit_stream_fanout", "1"),
            ("rabbit_transient_quorum_queue", "1"),
            ("rabbit_qos_prefetch_count", "1"),
            ("rabbit_quorum_delivery_limit", "5"),
        ])
        .unwrap();
        assert_eq!(
            o.stream_fanout_args(),
            vec![
                string("x-queue-type", "stream"),
                string("x-max-age", "1800s")
            ]
        );
        let mut o = o;
        o.rabbit_transient_queues_ttl = 0;
        assert_eq!(
            o.stream_fanout_args(),
            vec![string("x-queue-type", "stream")]
        );
    }

    #[test]
    fn ha_queue_args() {
        let o = options(&[
            ("rabbit_ha_queues", "1"),
            ("rabbit_transient_queues_ttl", "0"),
        ]);
        let o = o.unwrap_or_default();
        assert_eq!(o.topic_queue_args(), vec![string("x-ha-policy", "all")]);
        assert_eq!(o.transient_queue_args(), vec![string("x-ha-policy", "all")]);
    }

    #[test]
    fn quorum_queue_args() {
        let o = options(&[("rabbit_quorum_queue", "1")]).unwrap_or_default();
        assert_eq!(o.topic_queue_args(), vec![string("x-queue-type", "quorum")]);
        assert_eq!(
            o.transient_queue_args(),
            vec![int("x-expires", 1_800_000)],
            "TQ, not quorum"
        );

        let o = options(&[
            ("rabbit_quorum_queue", "1"),
            ("rabbit_transient_quorum_queue", "1"),
            ("rabbit_quorum_delivery_limit", "5"),
            ("rabbit_quorum_max_memory_bytes", "1024"),
            ("rabbit_transient_queues_ttl", "60"),
        ]);
        let o = o.unwrap_or_default();
        let quorum = vec![
            string("x-queue-type", "quorum"),
            int("x-delivery-limit", 5),
            int("x-max-in-memory-bytes", 1024),
        ];
        assert_eq!(o.topic_queue_args(), quorum);
        let mut transient = quorum;
        transient.push(int("x-expires", 60_000));
        assert_eq!(o.transient_queue_args(), transient);

        let o = options(&[
            ("rabbit_transient_quorum_queue", "1"),
            ("rabbit_quorum_max_memory_length", "-3"),
            ("rabbit_quorum_max_memory_bytes", "0"),
        ]);
        let o = o.unwrap_or_default();
        assert_eq!(o.topic_queue_args(), vec![]);
        assert_eq!(
            o.transient_queue_args(),
            vec![
                string("x-queue-type", "quorum"),
                int("x-max-in-memory-length", -3),
                int("x-expires", 1_800_000)
            ]
        );
    }

    #[test]
    fn huge_ttl_saturates_instead_of_overflowing() {
        let o =
            options(&[("rabbit_transient_queues_ttl", &i64::MAX.to_string())]).unwrap_or_default();
        assert_eq!(o.transient_queue_args(), vec![int("x-expires", i64::MAX)]);
    }

    #[test]
    fn numbers_read_as_python_int_and_float_read_them() {
        let rate = |text: &str| options(&[("heartbeat_rate", text)]).map(|o| o.heartbeat_rate);
        assert_eq!(rate("1_000"), Ok(1000));
        assert_eq!(rate(" -1_0\n"), Ok(-10));
        assert_eq!(rate("007"), Ok(7));
        assert_eq!(
            rate("\u{1c}5\u{1f}"),
            Ok(5),
            "Python strips U+001C..U+001F too"
        );
        for bad in ["_1", "1_", "1__0", "1._5", "0x10", "1.0", "1e3", "", " "] {
            assert!(rate(bad).is_err(), "{bad:?}");
        }
        let delay = |text: &str| {
            options(&[("kombu_reconnect_splay", text)]).map(|o| o.kombu_reconnect_splay)
        };
        assert_eq!(delay("1_0.2_5"), Ok(10.25));
        assert_eq!(delay("1e1_0"), Ok(1e10));
        assert_eq!(delay(".5"), Ok(0.5));
        assert!(delay("1_.5").is_err());
    }

    #[test]
    fn empty_kombu_compression_is_none() {
        // oslo tests `if self.kombu_compression`: an empty value compresses nothing.
        let mut o = RabbitOptions::default();
        o.set("kombu_compression", "").unwrap();
        assert_eq!(o.kombu_compression, None);
        assert!(o.unsupported().is_empty());
    }

    #[test]
    fn typos_get_the_nearest_name() {
        assert_eq!(
            closest_option_name("rabit_ha_queues"),
            Some("rabbit_ha_queues")
        );
        assert_eq!(closest_option_name("zzzzzzzz"), None);
        // Case-insensitive, and at most max(len / 3, 2) edits away.
        assert_eq!(closest_option_name("SSL_CA_FILE"), Some("ssl_ca_file"));
        assert_eq!(closest_name("abcdef", &["abcxyz"], 2), None);
        assert_eq!(
            closest_name("abcdex", &["zzzzzz", "abcdef"], 2),
            Some("abcdef")
        );
    }
}
