//! What the driver takes from the transport URL and its `[oslo_messaging_rabbit]` options
//! (spec §1.1, §1.2, §2.1, §7.1, §9.1), resolved once when the transport is built.

use std::path::Path;
use std::time::Duration;

use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::uri::{
    AMQPAuthority, AMQPQueryString, AMQPScheme, AMQPUri, AMQPUserInfo, SASLMechanism,
};

use super::queue_manager::QueueManager;
use super::tls::{TlsConnector, TlsOptions};
use crate::error::RpcError;
use crate::rabbit_options::{FailoverStrategy, LoginMethod, QueueArg, RabbitOptions};
use crate::url::{DEFAULT_PORT, TransportUrl};

/// The `basic.qos` prefetch count of server listeners when the URL does not set
/// `rabbit_qos_prefetch_count`.
///
/// oslo's default is 0, "unlimited": the broker pushes a queue's whole backlog into the
/// server process, which then holds every message in memory (and loses them all if it dies,
/// spec §10.2 bug 5). We deliberately differ. With 64 per consumer (the same number as
/// oslo's `executor_thread_pool_size`), a server holds at most 3 × 64 unacknowledged
/// messages plus the requests it is dispatching, whatever the backlog, and 64 is far above
/// what a single consumer needs to keep a fast handler busy over a LAN round trip. An
/// explicit `rabbit_qos_prefetch_count=0` in the URL or a config file still means unlimited,
/// as in oslo.
pub const DEFAULT_PREFETCH: u16 = 64;

/// The largest AMQP frame we accept, offered in `connection.tune-ok`. oslo takes the
/// broker's 131 072 (spec §1.2); the broker's value still applies when it is lower, and
/// AMQP's minimum is 4096.
///
/// lapin sizes each connection's read and write ring buffers at 32 frames, and zero-fills
/// them when the tune raises the frame size: with the broker's 128 KiB that is 8 MiB per
/// connection, most of a small process's memory. 16 KiB frames make it 1 MiB. Bodies
/// larger than a frame go out as several body frames written back to back, which costs
/// nothing measurable: a 64 KiB echo was no slower (812–1050 µs p50 against 911–1116 µs
/// with 128 KiB frames, interleaved runs). Frame size is per connection: the broker
/// re-frames each message for its consumers, so peers never see ours.
const FRAME_MAX: u32 = 16 * 1024;

/// How long one connection attempt (TCP connect plus AMQP handshake) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the TCP connect of an attempt may take (lapin's `connection_timeout`).
const TCP_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The driver's resolved configuration. Its `Debug` hides the passwords the host URIs
/// carry (lapin's `AMQPUserInfo` prints them).
#[derive(Clone)]
pub(super) struct RabbitConfig {
    /// One lapin URI per broker, in URL order (spec §1.1: each host keeps its credentials).
    /// With TLS the port stays the URL's or 5672, as in oslo (see `tls.rs`).
    pub(super) hosts: Vec<AMQPUri>,
    /// TLS for every host (`ssl=true` or `TransportBuilder::tls`), its files already read.
    pub(super) tls: Option<TlsConnector>,
    /// How the next broker is chosen after a failure.
    pub(super) failover: FailoverStrategy,
    /// `<basename(argv[0])>:<pid>`; each connection appends `:<uuid4>` (spec §1.2).
    pub(super) connection_name_prefix: String,
    /// Pauses between connection attempts (spec §7.4).
    pub(super) backoff: Backoff,
    /// The pause before reconnecting after an established connection was lost
    /// (`kombu_reconnect_delay`, spec §7.4).
    pub(super) reconnect_delay: Duration,
    /// How long one connection attempt may take.
    pub(super) connect_timeout: Duration,
    /// The publisher channel pool (spec §9.1).
    pub(super) pool: PoolLimits,
    /// `basic.qos` prefetch of listener channels; 0 means unlimited (no `basic.qos`).
    pub(super) prefetch: u16,
    /// Flags and arguments of what the driver declares (spec §2.1).
    pub(super) topology: TopologyConfig,
    /// The longest a send waits for the broker when the caller's retry policy allows it
    /// to wait (`retry = None`): `kombu_missing_consumer_retry_timeout`, the budget oslo
    /// gives a reply (spec §4.5). Callers with a shorter deadline drop the send earlier.
    pub(super) send_limit: Duration,
    /// `use_queue_manager`: names reply and fanout queues (spec-production-topology §4).
    pub(super) queue_manager: Option<QueueManager>,
}

impl std::fmt::Debug for RabbitConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hosts: Vec<String> = self
            .hosts
            .iter()
            .map(|uri| {
                format!(
                    "{}:***@{}:{}/{}",
                    uri.authority.userinfo.username,
                    uri.authority.host,
                    uri.authority.port,
                    uri.vhost
                )
            })
            .collect();
        f.debug_struct("RabbitConfig")
            .field("hosts", &hosts)
            .field("tls", &self.tls)
            .field("failover", &self.failover)
            .field("backoff", &self.backoff)
            .field("connect_timeout", &self.connect_timeout)
            .field("pool", &self.pool)
            .field("prefetch", &self.prefetch)
            .field("topology", &self.topology)
            .finish_non_exhaustive()
    }
}

/// Pauses between connection attempts: `first`, `first + step`, ... capped at `max`
/// (`rabbit_retry_interval`, `rabbit_retry_backoff`, `rabbit_interval_max`: 1, 3, 5, ... 30 s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Backoff {
    pub(super) first: Duration,
    pub(super) step: Duration,
    pub(super) max: Duration,
}

impl Backoff {
    /// The pause after the `cycle`-th (0-based) failed cycle through the hosts.
    pub(super) fn interval(&self, cycle: u32) -> Duration {
        self.first
            .saturating_add(self.step.saturating_mul(cycle))
            .min(self.max)
    }
}

/// Limits of the publisher channel pool (`rpc_conn_pool_size`, `conn_pool_min_size`,
/// `conn_pool_ttl`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PoolLimits {
    /// Channels that may exist at once (busy or idle).
    pub(super) max: usize,
    /// Idle channels the expiry never closes.
    pub(super) min_idle: usize,
    /// Idle channels older than this are closed, down to `min_idle`.
    pub(super) ttl: Duration,
}

/// Flags and arguments of the entities of spec §2.1.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct TopologyConfig {
    /// `D`: control exchange, topic and server queues durable.
    pub(super) durable: bool,
    /// `AD`: control exchange, topic and server queues auto-delete.
    pub(super) auto_delete: bool,
    /// `TQ`: fanout exchange, fanout and reply queues durable.
    pub(super) transient_durable: bool,
    /// Arguments of topic and server queues.
    pub(super) topic_queue_args: FieldTable,
    /// Arguments of fanout and reply queues.
    pub(super) transient_queue_args: FieldTable,
    /// With `rabbit_stream_fanout`: the arguments of the shared stream `<topic>_fanout`.
    pub(super) stream_fanout_args: Option<FieldTable>,
    /// `enable_cancel_on_failover`: consume with `x-cancel-on-ha-failover: true`.
    pub(super) cancel_on_failover: bool,
}

impl RabbitConfig {
    /// Resolves the configuration of a `rabbit://` or `kombu://` URL, refusing options the
    /// driver does not implement. `tls` replaces the URL's `ssl*` options when given.
    #[cfg(test)]
    pub(super) fn from_url(url: &TransportUrl, tls: Option<&TlsOptions>) -> Result<Self, RpcError> {
        Self::resolve(url, tls, None)
    }

    /// [`RabbitConfig::from_url`] with the queue manager's lock directory, if given
    /// (otherwise `OSLO_LOCK_PATH`).
    pub(super) fn resolve(
        url: &TransportUrl,
        tls: Option<&TlsOptions>,
        lock_dir: Option<&Path>,
    ) -> Result<Self, RpcError> {
        let options = url.rabbit_options().ok_or_else(|| {
            RpcError::InvalidArgument(format!("{url} is not a RabbitMQ transport URL"))
        })?;
        if let Some(transport) = url.kombu_transport() {
            return Err(RpcError::InvalidArgument(format!(
                "kombu+{transport}:// URLs hand the connection to a kombu transport; only \
                 rabbit:// and kombu:// (RabbitMQ over AMQP 0-9-1) are supported"
            )));
        }
        let unsupported = options.unsupported();
        if !unsupported.is_empty() {
            return Err(RpcError::InvalidArgument(format!(
                "the rabbit driver does not support these [oslo_messaging_rabbit] options yet: \
                 {}; remove them from the transport URL and the config files",
                unsupported.join(", ")
            )));
        }
        if options.heartbeat_timeout_threshold <= 0 {
            tracing::warn!(
                "heartbeat_timeout_threshold=0 cannot disable AMQP heartbeats with this driver: \
                 lapin adopts the broker's proposal instead"
            );
        }
        let from_url = TlsOptions::from_oslo(options).map_err(tls_error)?;
        let tls = match tls.or(from_url.as_ref()) {
            Some(tls) => Some(tls.load().map_err(tls_error)?),
            None => None,
        };
        let prefetch = if url.option_given("rabbit_qos_prefetch_count") {
            clamp_u16(options.rabbit_qos_prefetch_count)
        } else {
            DEFAULT_PREFETCH
        };
        Ok(RabbitConfig {
            hosts: host_uris(url, options),
            tls,
            failover: options.kombu_failover_strategy,
            connection_name_prefix: connection_name_prefix(),
            backoff: Backoff {
                first: seconds(options.rabbit_retry_interval),
                step: seconds(options.rabbit_retry_backoff),
                max: seconds(options.rabbit_interval_max),
            },
            reconnect_delay: crate::clock::saturating_seconds(options.kombu_reconnect_delay),
            connect_timeout: CONNECT_TIMEOUT,
            pool: PoolLimits {
                max: clamp_usize(options.rpc_conn_pool_size).max(1),
                min_idle: clamp_usize(options.conn_pool_min_size)
                    .min(clamp_usize(options.rpc_conn_pool_size).max(1)),
                ttl: seconds(options.conn_pool_ttl),
            },
            prefetch,
            topology: TopologyConfig::from_options(options),
            send_limit: seconds(options.kombu_missing_consumer_retry_timeout)
                .max(Duration::from_secs(1)),
            queue_manager: match options.use_queue_manager {
                true => Some(QueueManager::new(
                    options.hostname.as_deref(),
                    options.processname.as_deref(),
                    lock_dir,
                )?),
                false => None,
            },
        })
    }
}

fn tls_error(error: super::tls::TlsError) -> RpcError {
    RpcError::InvalidArgument(format!("TLS to the broker: {error}"))
}

impl TopologyConfig {
    pub(super) fn from_options(options: &RabbitOptions) -> Self {
        TopologyConfig {
            durable: options.queues_durable(),
            auto_delete: options.amqp_auto_delete,
            transient_durable: options.transient_queues_durable(),
            topic_queue_args: field_table(options.topic_queue_args()),
            transient_queue_args: field_table(options.transient_queue_args()),
            stream_fanout_args: options
                .rabbit_stream_fanout
                .then(|| field_table(options.stream_fanout_args())),
            cancel_on_failover: options.enable_cancel_on_failover,
        }
    }
}

/// Queue arguments as an AMQP table with py-amqp's types: integers as signed 32-bit when
/// they fit (64-bit otherwise), strings as long strings (spec §2.1 "Argument types").
pub(super) fn field_table(args: Vec<(&'static str, QueueArg)>) -> FieldTable {
    let mut table = FieldTable::default();
    for (key, value) in args {
        let value = match value {
            QueueArg::Int(int) => match i32::try_from(int) {
                Ok(small) => AMQPValue::LongInt(small),
                Err(_) => AMQPValue::LongLongInt(int),
            },
            QueueArg::Str(text) => AMQPValue::LongString(LongString::from(text)),
        };
        table.insert(ShortString::from(key), value);
    }
    table
}

/// One lapin URI per host. Without hosts oslo uses `guest:guest@localhost:5672`; a host
/// without credentials gets kombu's `guest`/`guest` fallback (spec §1.1).
fn host_uris(url: &TransportUrl, options: &RabbitOptions) -> Vec<AMQPUri> {
    let vhost = url.effective_virtual_host().to_owned();
    let query = AMQPQueryString {
        frame_max: Some(FRAME_MAX),
        channel_max: None,
        heartbeat: Some(clamp_u16(options.heartbeat_timeout_threshold)),
        connection_timeout: Some(TCP_CONNECT_TIMEOUT.as_millis() as u64),
        auth_mechanism: Some(sasl_mechanism(options.rabbit_login_method)),
    };
    let uri = |host: String, port: u16, username: String, password: String| AMQPUri {
        scheme: AMQPScheme::AMQP,
        authority: AMQPAuthority {
            userinfo: AMQPUserInfo { username, password },
            host,
            port,
        },
        vhost: vhost.clone(),
        query: query.clone(),
    };
    if url.hosts().is_empty() {
        return vec![uri(
            "localhost".to_owned(),
            DEFAULT_PORT,
            "guest".to_owned(),
            "guest".to_owned(),
        )];
    }
    url.hosts()
        .iter()
        .map(|host| {
            // kombu's `userid or 'guest'`, `password or 'guest'`.
            let username = host
                .username
                .clone()
                .filter(|name| !name.is_empty())
                .unwrap_or_else(|| "guest".to_owned());
            let password = host
                .password
                .as_ref()
                .map(|secret| secret.expose().to_owned())
                .filter(|secret| !secret.is_empty())
                .unwrap_or_else(|| "guest".to_owned());
            uri(
                host.hostname.clone(),
                host.port_or_default(),
                username,
                password,
            )
        })
        .collect()
}

fn sasl_mechanism(method: LoginMethod) -> SASLMechanism {
    match method {
        LoginMethod::Plain => SASLMechanism::Plain,
        LoginMethod::AmqPlain => SASLMechanism::AMQPlain,
        LoginMethod::External => SASLMechanism::External,
        LoginMethod::RabbitCrDemo => SASLMechanism::RabbitCrDemo,
    }
}

/// `<basename(argv[0])>:<pid>`, the prefix of oslo's `connection_name` (spec §1.2).
fn connection_name_prefix() -> String {
    format!("{}:{}", program_name(), std::process::id())
}

/// `basename(argv[0])`: oslo's program name in connection names and its default
/// `processname` (queue manager).
pub(super) fn program_name() -> String {
    std::env::args_os()
        .next()
        .and_then(|arg0| {
            Path::new(&arg0)
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "oslo-rpc".to_owned())
}

fn seconds(value: i64) -> Duration {
    Duration::from_secs(value.max(0).unsigned_abs())
}

fn clamp_u16(value: i64) -> u16 {
    u16::try_from(value.max(0)).unwrap_or(u16::MAX)
}

fn clamp_usize(value: i64) -> usize {
    usize::try_from(value.max(0)).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> RabbitConfig {
        RabbitConfig::from_url(&TransportUrl::parse(url).unwrap(), None).unwrap()
    }

    #[test]
    fn backoff_runs_one_three_five_up_to_thirty() {
        // spec §7.4
        let backoff = config("rabbit://h/").backoff;
        let pauses: Vec<u64> = (0..18).map(|c| backoff.interval(c).as_secs()).collect();
        assert_eq!(
            pauses,
            [
                1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 30, 30, 30
            ]
        );
        let custom = config(
            "rabbit://h/?rabbit_retry_interval=2&rabbit_retry_backoff=0&rabbit_interval_max=5",
        )
        .backoff;
        assert_eq!(custom.interval(0), Duration::from_secs(2));
        assert_eq!(custom.interval(9), Duration::from_secs(2));
    }

    #[test]
    fn hosts_keep_their_credentials_and_default_to_guest() {
        // spec §1.1: each host keeps its own credentials; no hosts means localhost.
        let hosts = config("rabbit://u:p%40x@h1,h2:5673,u3@h3/vh%2Fa").hosts;
        let seen: Vec<(&str, u16, &str, &str, &str)> = hosts
            .iter()
            .map(|uri| {
                (
                    uri.authority.host.as_str(),
                    uri.authority.port,
                    uri.authority.userinfo.username.as_str(),
                    uri.authority.userinfo.password.as_str(),
                    uri.vhost.as_str(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("h1", 5672, "u", "p@x", "vh/a"),
                ("h2", 5673, "guest", "guest", "vh/a"),
                ("h3", 5672, "u3", "guest", "vh/a"),
            ]
        );
        let default = config("rabbit://").hosts;
        assert_eq!(default.len(), 1);
        assert_eq!(default[0].authority.host, "localhost");
        assert_eq!(default[0].vhost, "/");
        assert_eq!(config("rabbit://h//").hosts[0].vhost, "/");
    }

    #[test]
    fn heartbeat_and_login_are_negotiated_as_configured() {
        // spec §1.2, §7.5: the heartbeat asked for is heartbeat_timeout_threshold.
        let uri = &config("rabbit://h/").hosts[0];
        assert_eq!(uri.query.heartbeat, Some(60));
        assert_eq!(uri.query.auth_mechanism, Some(SASLMechanism::AMQPlain));
        assert_eq!(uri.query.frame_max, Some(FRAME_MAX));
        let uri = &config("rabbit://h/?heartbeat_timeout_threshold=10&rabbit_login_method=PLAIN")
            .hosts[0];
        assert_eq!(uri.query.heartbeat, Some(10));
        assert_eq!(uri.query.auth_mechanism, Some(SASLMechanism::Plain));
    }

    #[test]
    fn prefetch_defaults_to_ours_but_an_explicit_zero_is_unlimited() {
        assert_eq!(config("rabbit://h/").prefetch, DEFAULT_PREFETCH);
        assert_eq!(
            config("rabbit://h/?rabbit_qos_prefetch_count=0").prefetch,
            0
        );
        assert_eq!(
            config("rabbit://h/?rabbit_qos_prefetch_count=5").prefetch,
            5
        );
    }

    #[test]
    fn a_prefetch_from_a_config_file_is_explicit_too() {
        let file = |value: &str| vec![("rabbit_qos_prefetch_count".to_owned(), value.to_owned())];
        let prefetch = |url: &str, file: &[(String, String)]| {
            let url = TransportUrl::parse_with_file_options(url, file).unwrap();
            RabbitConfig::from_url(&url, None).unwrap().prefetch
        };
        assert_eq!(prefetch("rabbit://h/", &file("1")), 1);
        assert_eq!(prefetch("rabbit://h/", &file("0")), 0);
        assert_eq!(
            prefetch("rabbit://h/?rabbit_qos_prefetch_count=7", &file("1")),
            7
        );
        assert_eq!(prefetch("rabbit://h/", &[]), DEFAULT_PREFETCH);
    }

    #[test]
    fn pool_limits_follow_oslo_options() {
        // spec §9.1
        let pool = config("rabbit://h/").pool;
        assert_eq!(
            pool,
            PoolLimits {
                max: 30,
                min_idle: 2,
                ttl: Duration::from_secs(1200)
            }
        );
        let pool = config("rabbit://h/?rpc_conn_pool_size=1&conn_pool_min_size=4").pool;
        assert_eq!((pool.max, pool.min_idle), (1, 1));
    }

    #[test]
    fn unsupported_options_and_kombu_transports_are_refused() {
        for url in [
            "rabbit://h/?kombu_compression=gzip",
            "rabbit://h/?use_queue_manager=true",
            "kombu+memory:///",
        ] {
            let error =
                RabbitConfig::from_url(&TransportUrl::parse(url).unwrap(), None).unwrap_err();
            assert!(
                matches!(error, RpcError::InvalidArgument(_)),
                "{url}: {error}"
            );
        }
        let error = RabbitConfig::from_url(
            &TransportUrl::parse("rabbit://h/?kombu_compression=gzip").unwrap(),
            None,
        )
        .unwrap_err();
        assert!(error.to_string().contains("kombu_compression"), "{error}");
    }

    #[test]
    fn debug_hides_passwords() {
        let shown = format!("{:?}", config("rabbit://nova:S3cr%40t@h1,u2:pw2@h2/"));
        assert!(shown.contains("nova:***@h1:5672"), "{shown}");
        assert!(!shown.contains("S3cr") && !shown.contains("pw2"), "{shown}");
    }

    #[test]
    fn tls_keeps_oslo_ports_and_is_off_unless_ssl() {
        // oslo writes `host.port or 5672` into kombu's URL: TLS does not move the default
        // port to 5671 (tls.rs).
        let tls = config("rabbit://h,h2:5671/?ssl=true");
        assert!(tls.tls.is_some());
        let ports: Vec<u16> = tls.hosts.iter().map(|uri| uri.authority.port).collect();
        assert_eq!(ports, [5672, 5671]);
        // The ssl_* options mean nothing without ssl=true, as in oslo.
        let plain = config("rabbit://h/?ssl_ca_file=/nonexistent&ssl_version=bogus");
        assert!(plain.tls.is_none());
    }

    #[test]
    fn tls_input_errors_name_the_option() {
        for (url, expected) in [
            (
                "rabbit://h/?ssl=1&ssl_enforce_fips_mode=1",
                "ssl_enforce_fips_mode=true cannot be honoured",
            ),
            (
                "rabbit://h/?ssl_enforce_fips_mode=1",
                "ssl_enforce_fips_mode=true cannot be honoured",
            ),
            (
                "rabbit://h/?ssl=1&ssl_ca_file=/nonexistent/ca.pem",
                "ssl_ca_file /nonexistent/ca.pem: cannot be read",
            ),
            (
                "rabbit://h/?ssl=1&ssl_version=TLSv1",
                "invalid ssl_version \"TLSv1\"",
            ),
        ] {
            let error =
                RabbitConfig::from_url(&TransportUrl::parse(url).unwrap(), None).unwrap_err();
            assert!(
                matches!(error, RpcError::InvalidArgument(_))
                    && error.to_string().contains(expected),
                "{url}: {error}"
            );
        }
    }

    #[test]
    fn queue_arguments_use_py_amqp_integer_types() {
        // spec §2.1 "Argument types": x-expires as a signed 32-bit integer.
        let topology = config("rabbit://h/").topology;
        assert!(topology.topic_queue_args.inner().is_empty());
        assert_eq!(
            topology.transient_queue_args.inner().get("x-expires"),
            Some(&AMQPValue::LongInt(1_800_000))
        );
        let quorum =
            config("rabbit://h/?rabbit_quorum_queue=true&rabbit_quorum_delivery_limit=3").topology;
        assert!(quorum.durable);
        assert_eq!(
            quorum.topic_queue_args.inner().get("x-queue-type"),
            Some(&AMQPValue::LongString("quorum".into()))
        );
        assert_eq!(
            quorum.topic_queue_args.inner().get("x-delivery-limit"),
            Some(&AMQPValue::LongInt(3))
        );
        let big = field_table(vec![("x-big", QueueArg::Int(1 << 40))]);
        assert_eq!(
            big.inner().get("x-big"),
            Some(&AMQPValue::LongLongInt(1 << 40))
        );
    }
}
