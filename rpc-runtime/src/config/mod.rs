//! Building a transport from oslo config files (`nova.conf` and friends), read the way
//! oslo.config 10.x reads them for oslo.messaging 18.3.1.
//!
//! ```no_run
//! # async fn run() -> Result<(), oslo_rpc_runtime::RpcError> {
//! use oslo_rpc_runtime::Transport;
//! use oslo_rpc_runtime::config::{ConfigSource, OsloConfig};
//!
//! // nova-compute --config-file /etc/nova/nova.conf --config-dir /etc/nova/nova.conf.d
//! let config = OsloConfig::load(&[
//!     ConfigSource::file("/etc/nova/nova.conf"),
//!     ConfigSource::dir("/etc/nova/nova.conf.d"),
//! ])?;
//! for warning in config.warnings() {
//!     eprintln!("warning: {warning}"); // also logged with `tracing`
//! }
//! let transport = Transport::from_config(&config).build()?;
//! # Ok(()) }
//! ```
//!
//! # What is read
//!
//! | section | option | becomes |
//! |---|---|---|
//! | `[DEFAULT]` | `transport_url` | the URL ([`Transport::from_config`]); oslo's default `rabbit://` when absent |
//! | `[DEFAULT]` | `control_exchange` | [`TransportConfig::control_exchange`] |
//! | `[DEFAULT]` | `rpc_response_timeout` | [`TransportConfig::default_timeout`] (whole seconds, at least 1) |
//! | `[oslo_messaging_rabbit]` | every option of [`OPTION_NAMES`](crate::rabbit_options::OPTION_NAMES), and the deprecated `kombu_reconnect_timeout` | [`RabbitOptions`], under the URL's query |
//! | `[oslo_messaging_notifications]` | `driver` (multi), `topics`, `retry`, `transport_url` | [`NotificationOptions`]: `Notifier::from_config`, [`Transport::notification_from_config`](crate::Transport::notification_from_config) |
//!
//! Every other section is ignored, as are other `[DEFAULT]` options: they belong to the
//! service. oslo.messaging 18.3.1 has no deprecated groups, so `[DEFAULT] rabbit_*` options
//! are ignored too (with a warning, as are unknown options in `[oslo_messaging_rabbit]`,
//! with a "did you mean"). Values are converted by the same code as URL query values
//! ([`RabbitOptions::set`]), with oslo.config's types: booleans `true/false/yes/no/on/off/1/0`
//! in any case, integers and floats as Python reads them, strings as written, choices
//! case-sensitive.
//!
//! # Several files, and which value wins
//!
//! Sources are read in order, as oslo.config reads `--config-file` and `--config-dir` in
//! command-line order: a directory contributes its `*.conf` files (not hidden ones) in sorted
//! order. For each option the last file that sets it wins; within a file the last assignment
//! wins, and the current name wins over the deprecated one. Then:
//!
//! * the transport URL's query overrides the files' `[oslo_messaging_rabbit]` values (oslo's
//!   `ConfigOptsProxy`, spec §1.1): `?heartbeat_timeout_threshold=10` beats the file's 30;
//! * a URL given to [`Transport::builder`] replaces the files' `transport_url`; the files'
//!   other options still apply ([`TransportBuilder::config`]).
//!
//! # The file format
//!
//! oslo.config's own INI dialect (not Python's `configparser`): comments are lines starting
//! with `#` or `;`; an indented line continues the previous value (joined with a newline); a
//! value in matching quotes loses them; section names other than `DEFAULT` are
//! case-insensitive, option names are not. `$name` and `${section.name}` are replaced by
//! another option's value and `$$` is a literal `$` (so a password with a `$` in
//! `transport_url` must be written `$$`); there is no `%` interpolation.
//!
//! # Errors
//!
//! A file that cannot be read or parsed, a value its option's type refuses, an unresolvable
//! `$name` or conflicting options are a [`ConfigError`] naming the file, line, section, option
//! and value. A `transport_url` is shown with its passwords as `***`.
//!
//! [`Transport::from_config`]: crate::Transport::from_config
//! [`Transport::builder`]: crate::Transport::builder
//! [`TransportBuilder::config`]: crate::TransportBuilder::config
//! [`TransportConfig::control_exchange`]: crate::TransportConfig::control_exchange
//! [`TransportConfig::default_timeout`]: crate::TransportConfig::default_timeout

mod error;
mod ini;
mod resolve;
mod template;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use error::{ConfigError, ConfigWarning, Location};

use crate::rabbit_options::RabbitOptions;
use crate::url::Secret;

/// Python's `str.isspace`, which `strip()` uses: Rust's whitespace plus the ASCII
/// separators U+001C to U+001F.
pub(crate) fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Where config text comes from: oslo's `--config-file FILE` and `--config-dir DIR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// One file; it must exist.
    File(PathBuf),
    /// A directory whose `*.conf` files are read in sorted order; it must exist.
    Dir(PathBuf),
}

impl ConfigSource {
    /// `--config-file path`.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        ConfigSource::File(path.into())
    }

    /// `--config-dir path`.
    pub fn dir(path: impl Into<PathBuf>) -> Self {
        ConfigSource::Dir(path.into())
    }

    /// The files this source stands for, in reading order. A leading `~/` is the home
    /// directory, as oslo.config expands it.
    pub fn files(&self) -> Result<Vec<PathBuf>, ConfigError> {
        match self {
            ConfigSource::File(path) => Ok(vec![expand_home(path)]),
            ConfigSource::Dir(dir) => {
                let dir = expand_home(dir);
                let read_dir_error = |source| ConfigError::ReadDir {
                    path: dir.clone(),
                    source,
                };
                let mut files = Vec::new();
                for entry in std::fs::read_dir(&dir).map_err(read_dir_error)? {
                    let name = entry.map_err(read_dir_error)?.file_name();
                    // glob("*.conf"): `*` matches no leading dot.
                    let name_text = name.to_string_lossy();
                    if name_text.ends_with(".conf") && !name_text.starts_with('.') {
                        files.push(dir.join(name));
                    }
                }
                files.sort();
                Ok(files)
            }
        }
    }
}

fn expand_home(path: &Path) -> PathBuf {
    match (path.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => path.to_owned(),
    }
}

/// What a set of oslo config files says about the message bus: the options of the table in
/// the [module documentation](self), resolved, checked and converted.
///
/// Build it with [`OsloConfig::load`] or [`OsloConfig::from_files`] (files on disk) or
/// [`OsloConfig::parse`] (text), then hand it to [`Transport::from_config`] or
/// [`TransportBuilder::config`].
///
/// `Debug` shows the transport URL's password as `***`.
///
/// [`Transport::from_config`]: crate::Transport::from_config
/// [`TransportBuilder::config`]: crate::TransportBuilder::config
#[derive(Debug, Clone, PartialEq)]
pub struct OsloConfig {
    transport_url: Option<Secret>,
    control_exchange: Option<String>,
    rpc_response_timeout: Option<Duration>,
    rabbit_values: Vec<(String, String)>,
    rabbit: RabbitOptions,
    lock_path: Option<PathBuf>,
    notifications: NotificationOptions,
    files: Vec<String>,
    warnings: Vec<ConfigWarning>,
}

/// `[oslo_messaging_notifications]`: what oslo.messaging's `Notifier` and
/// `get_notification_transport` read, as oslo.config resolves it
/// ([`OsloConfig::notifications`]; `Notifier::from_config` and
/// [`Transport::notification_from_config`](crate::Transport::notification_from_config)
/// use it).
///
/// `Debug` shows the transport URL's password as `***`.
#[derive(Debug, Clone, PartialEq)]
pub struct NotificationOptions {
    pub(crate) drivers: Vec<String>,
    pub(crate) topics: Vec<String>,
    pub(crate) retry: i64,
    pub(crate) transport_url: Option<Secret>,
}

impl Default for NotificationOptions {
    fn default() -> Self {
        NotificationOptions {
            drivers: Vec::new(),
            topics: vec![crate::notify::DEFAULT_TOPIC.to_owned()],
            retry: -1,
            transport_url: None,
        }
    }
}

impl NotificationOptions {
    /// `driver`, multi-valued: every assignment of every file, in order, as written (a
    /// name oslo-rpc does not have was warned about and is skipped by the notifier).
    /// **Empty by default, as in oslo: a notifier configured from files that set no driver
    /// sends nothing.**
    pub fn drivers(&self) -> &[String] {
        &self.drivers
    }

    /// `topics` (default `notifications`): `a, b` is `["a", "b"]`.
    pub fn topics(&self) -> &[String] {
        &self.topics
    }

    /// `retry` as written (default -1): connection retries per notification, 0 none, any
    /// negative value as many as the transport allows.
    pub fn retry(&self) -> i64 {
        self.retry
    }

    /// `transport_url`: the bus notifications go to, when it is not the RPC one (`[DEFAULT]
    /// transport_url`). Checked when the files were read.
    pub fn transport_url(&self) -> Option<&Secret> {
        self.transport_url.as_ref()
    }
}

impl OsloConfig {
    /// Reads `sources` in order (see [`ConfigSource`]); later values win.
    pub fn load(sources: &[ConfigSource]) -> Result<Self, ConfigError> {
        let mut paths = Vec::new();
        for source in sources {
            paths.extend(source.files()?);
        }
        Self::from_files(paths)
    }

    /// Reads config files in order, later values winning: `--config-file a --config-file b`.
    pub fn from_files<P: AsRef<Path>>(
        paths: impl IntoIterator<Item = P>,
    ) -> Result<Self, ConfigError> {
        let mut texts = Vec::new();
        for path in paths {
            let path = expand_home(path.as_ref());
            let bytes = std::fs::read(&path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            let name = path.display().to_string();
            let text = String::from_utf8(bytes).map_err(|error| {
                let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
                ConfigError::Encoding {
                    file: name.clone(),
                    line: 1 + valid.iter().filter(|&&byte| byte == b'\n').count(),
                }
            })?;
            texts.push((name, text));
        }
        Self::parse_files(
            texts
                .iter()
                .map(|(name, text)| (name.as_str(), text.as_str())),
        )
    }

    /// Reads one file's text; `name` stands for the file in messages. Reads nothing from
    /// disk and never panics, whatever the text.
    pub fn parse(name: &str, text: &str) -> Result<Self, ConfigError> {
        Self::parse_files([(name, text)])
    }

    /// Reads several files' texts, given as `(name, text)` in order, later values winning.
    pub fn parse_files<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, ConfigError> {
        let mut parsed = Vec::new();
        for (name, text) in files {
            let ini = ini::parse(text).map_err(|error| ConfigError::Parse {
                file: name.to_owned(),
                line: error.line,
                message: error.message,
                // A line with `@` may be part of a URL with credentials.
                text: Some(error.text).filter(|text| !text.contains('@')),
            })?;
            parsed.push(resolve::ParsedFile {
                name: name.to_owned(),
                ini,
            });
        }
        let resolved = resolve::resolve(&parsed)?;
        for warning in &resolved.warnings {
            tracing::warn!("{warning}");
        }
        Ok(OsloConfig {
            transport_url: resolved.transport_url,
            control_exchange: resolved.control_exchange,
            rpc_response_timeout: resolved.rpc_response_timeout,
            rabbit_values: resolved.rabbit_values,
            rabbit: resolved.rabbit,
            lock_path: resolved.lock_path.map(PathBuf::from),
            notifications: resolved.notifications,
            files: parsed.into_iter().map(|file| file.name).collect(),
            warnings: resolved.warnings,
        })
    }

    /// `[oslo_messaging_notifications]`: the notifier's drivers, topics and retry, and the
    /// notification transport URL; oslo's defaults where the files set nothing.
    pub fn notifications(&self) -> &NotificationOptions {
        &self.notifications
    }

    /// `[oslo_concurrency] lock_path`, if a file sets it: the directory of oslo.concurrency's
    /// lock files, where `use_queue_manager` locks its counter (the only option of that
    /// group we read).
    pub fn lock_path(&self) -> Option<&Path> {
        self.lock_path.as_deref()
    }

    /// `[DEFAULT] transport_url`, if a file sets it (oslo's default is `rabbit://`: a broker
    /// on localhost as guest). Checked when the files were read.
    pub fn transport_url(&self) -> Option<&Secret> {
        self.transport_url.as_ref()
    }

    /// `[DEFAULT] control_exchange`, if a file sets it (oslo's default is `openstack`).
    pub fn control_exchange(&self) -> Option<&str> {
        self.control_exchange.as_deref()
    }

    /// `[DEFAULT] rpc_response_timeout`, if a file sets it (oslo's default is 60 s).
    pub fn rpc_response_timeout(&self) -> Option<Duration> {
        self.rpc_response_timeout
    }

    /// The `[oslo_messaging_rabbit]` options: oslo's defaults overridden by the files. A
    /// transport URL's query overrides them in turn.
    pub fn rabbit_options(&self) -> &RabbitOptions {
        &self.rabbit
    }

    /// The `[oslo_messaging_rabbit]` options the files set, as `(option, value)` with current
    /// option names and `$name` references substituted, in
    /// [`OPTION_NAMES`](crate::rabbit_options::OPTION_NAMES) order.
    pub fn rabbit_values(&self) -> &[(String, String)] {
        &self.rabbit_values
    }

    /// The files read, in order.
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// What looked wrong but did not stop the files from being used (each is also logged
    /// with `tracing` at WARN level when the files are read).
    pub fn warnings(&self) -> &[ConfigWarning] {
        &self.warnings
    }
}

#[cfg(test)]
mod tests;
