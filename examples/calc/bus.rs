//! The command-line options both RabbitMQ examples take to find the calc servers.
//! Included with `#[path = "calc/bus.rs"] mod bus;` (the tests include `calc/mod.rs`
//! without it).

use std::path::PathBuf;

use oslo_rpc::TransportBuilder;
use oslo_rpc::config::{ConfigError, ConfigSource, OsloConfig};

/// Where the calc servers are.
#[derive(clap::Args)]
pub(crate) struct Bus {
    /// Transport URL; wins over the config files' transport_url [default: the config files'
    /// transport_url, else $RABBIT_URL, else rabbit://guest:guest@127.0.0.1:5672/]
    #[arg(long)]
    pub(crate) url: Option<String>,
    /// An oslo config file, such as nova.conf: its [DEFAULT] transport_url, control_exchange
    /// and rpc_response_timeout and its [oslo_messaging_rabbit] options are used. Repeat it
    /// for several files; later files win.
    #[arg(long = "config-file", value_name = "FILE")]
    pub(crate) config_file: Vec<PathBuf>,
    /// A directory whose *.conf files are read in sorted order, after the --config-file files.
    #[arg(long = "config-dir", value_name = "DIR")]
    pub(crate) config_dir: Vec<PathBuf>,
    /// Topic of the calc servers.
    #[arg(long, default_value = "calc")]
    pub(crate) topic: String,
}

impl Bus {
    /// A transport builder for the bus these options describe, with the config files'
    /// settings applied; their warnings go to stderr.
    pub(crate) fn transport(&self) -> Result<TransportBuilder, ConfigError> {
        let sources: Vec<ConfigSource> = self
            .config_file
            .iter()
            .map(ConfigSource::file)
            .chain(self.config_dir.iter().map(ConfigSource::dir))
            .collect();
        let config = if sources.is_empty() {
            None
        } else {
            Some(OsloConfig::load(&sources)?)
        };
        for warning in config.iter().flat_map(OsloConfig::warnings) {
            eprintln!("warning: {warning}");
        }
        let url = match (
            &self.url,
            config.as_ref().and_then(OsloConfig::transport_url),
        ) {
            (Some(url), _) => url.clone(),
            (None, Some(url)) => url.expose().to_owned(),
            (None, None) => std::env::var("RABBIT_URL")
                .unwrap_or_else(|_| "rabbit://guest:guest@127.0.0.1:5672/".to_owned()),
        };
        let builder = oslo_rpc::Transport::builder(&url);
        Ok(match &config {
            Some(config) => builder.config(config),
            None => builder,
        })
    }
}
