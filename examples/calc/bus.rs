//! The command-line options both RabbitMQ examples take to find the calc servers.
//! Included with `#[path = "calc/bus.rs"] mod bus;` (the tests include `calc/mod.rs`
//! without it).

/// Where the calc servers are.
#[derive(clap::Args)]
pub(crate) struct Bus {
    /// Transport URL [default: $RABBIT_URL, else rabbit://guest:guest@127.0.0.1:5672/]
    #[arg(
        long,
        env = "RABBIT_URL",
        hide_env_values = true,
        default_value = "rabbit://guest:guest@127.0.0.1:5672/",
        hide_default_value = true
    )]
    pub(crate) url: String,
    /// Topic of the calc servers.
    #[arg(long, default_value = "calc")]
    pub(crate) topic: String,
}
