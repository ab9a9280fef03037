//! The RabbitMQ node a soak owns, and what the soak does to it: close every client
//! connection (`rabbitmqctl close_connection`), raise a memory alarm (a watermark no node
//! stays under), restart the broker application (`stop_app`/`start_app`).
//!
//! Never the machine's broker: other people's tests run on it. The soak either starts a
//! private node (its own name, ports and directory, stopped and removed at the end) or is
//! given one with `--url` and `--node`, which must not be the machine's (`rabbit@...` or
//! port 5672).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// The AMQP port of the machine's broker, which the soak refuses.
const MACHINE_PORT: u16 = 5672;

/// A RabbitMQ node the soak may disrupt.
pub(crate) struct Node {
    /// The Erlang node name, for `rabbitmqctl -n`.
    pub(crate) name: String,
    /// The transport URL of the node (without options).
    pub(crate) url: String,
    /// Set when the soak started the node: stopped and removed on drop.
    owned: Option<PathBuf>,
}

impl Node {
    /// A node given on the command line, after checking it is not the machine's broker.
    pub(crate) fn given(url: &str, name: &str) -> Result<Node, String> {
        let parsed = oslo_rpc::TransportUrl::parse(url).map_err(|e| e.to_string())?;
        let port = parsed
            .hosts()
            .first()
            .map_or(MACHINE_PORT, |host| host.port_or_default());
        if port == MACHINE_PORT || name.starts_with("rabbit@") {
            return Err(format!(
                "refusing to disrupt {name} at port {port}: that is (or may be) the machine's \
                 broker, which other tests use; give a node of your own, or no --url to let \
                 the soak start one"
            ));
        }
        Ok(Node {
            name: name.to_owned(),
            url: url.to_owned(),
            owned: None,
        })
    }

    /// Starts a private node: a free AMQP port and distribution port on 127.0.0.1, a
    /// fresh directory for its database, logs and config, no plugins.
    pub(crate) fn start_private() -> Result<Node, String> {
        let amqp_port = free_port()?;
        let dist_port = free_port()?;
        let name = format!("oslo-rpc-soak-{}@localhost", std::process::id());
        let dir = std::env::temp_dir().join(format!("oslo-rpc-soak-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        std::fs::write(dir.join("enabled_plugins"), "[].\n").map_err(|e| e.to_string())?;
        std::fs::write(
            dir.join("rabbitmq.conf"),
            format!("listeners.tcp.default = 127.0.0.1:{amqp_port}\nloopback_users = none\n"),
        )
        .map_err(|e| e.to_string())?;
        // As root, rabbitmq-server runs the node as the rabbitmq user: it must own the
        // directory. (A failed chown as another user is harmless.)
        let _ = Command::new("chown")
            .args(["-R", "rabbitmq:rabbitmq"])
            .arg(&dir)
            .status();
        let node = Node {
            name: name.clone(),
            url: format!("rabbit://guest:guest@127.0.0.1:{amqp_port}/"),
            owned: Some(dir.clone()),
        };
        let status = Command::new("rabbitmq-server")
            .arg("-detached")
            .env("RABBITMQ_NODENAME", &name)
            .env("RABBITMQ_NODE_PORT", amqp_port.to_string())
            .env("RABBITMQ_DIST_PORT", dist_port.to_string())
            .env("RABBITMQ_MNESIA_BASE", dir.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", dir.join("log"))
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", dir.join("enabled_plugins"))
            .env("RABBITMQ_CONFIG_FILE", dir.join("rabbitmq.conf"))
            .env("RABBITMQ_PID_FILE", dir.join("pid"))
            .status()
            .map_err(|e| format!("rabbitmq-server: {e}"))?;
        if !status.success() {
            return Err(format!("rabbitmq-server -detached failed: {status}"));
        }
        node.await_startup(Duration::from_secs(120))?;
        Ok(node)
    }

    /// The same node, not owned (for a thread that disrupts it).
    pub(crate) fn unowned(&self) -> Node {
        Node {
            name: self.name.clone(),
            url: self.url.clone(),
            owned: None,
        }
    }

    /// `rabbitmqctl -n <node> <args>`, bounded at 60 s.
    pub(crate) fn ctl(&self, args: &[&str]) -> Result<String, String> {
        let output = Command::new("timeout")
            .arg("60")
            .arg("rabbitmqctl")
            .args(["-n", &self.name])
            .args(args)
            .output()
            .map_err(|e| format!("rabbitmqctl: {e}"))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(format!(
                "rabbitmqctl {args:?}: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ))
        }
    }

    fn await_startup(&self, within: Duration) -> Result<(), String> {
        let until = Instant::now() + within;
        loop {
            match self.ctl(&["await_startup"]) {
                Ok(_) => return Ok(()),
                Err(error) if Instant::now() > until => return Err(error),
                Err(_) => std::thread::sleep(Duration::from_secs(1)),
            }
        }
    }

    /// Closes every client connection of the node; returns how many there were.
    pub(crate) fn close_connections(&self) -> Result<usize, String> {
        let pids = self.ctl(&["list_connections", "--quiet", "--no-table-headers", "pid"])?;
        let count = pids.lines().filter(|pid| !pid.trim().is_empty()).count();
        self.ctl(&["close_all_connections", "oslo-rpc soak"])?;
        Ok(count)
    }

    /// Raises a memory alarm for `hold` (publishers are blocked), then lowers it.
    pub(crate) fn memory_alarm(&self, hold: Duration) -> Result<(), String> {
        self.ctl(&["set_vm_memory_high_watermark", "0.0000001"])?;
        std::thread::sleep(hold);
        self.ctl(&["set_vm_memory_high_watermark", "0.4"]).map(drop)
    }

    /// Stops the broker application, waits `down`, starts it again.
    pub(crate) fn restart_app(&self, down: Duration) -> Result<(), String> {
        self.ctl(&["stop_app"])?;
        std::thread::sleep(down);
        self.ctl(&["start_app"])?;
        self.await_startup(Duration::from_secs(60))
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(dir) = self.owned.take() {
            let _ = self.ctl(&["stop"]);
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A TCP port nothing listens on now (the kernel's choice).
fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    listener
        .local_addr()
        .map(|addr| addr.port())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_machine_broker_is_refused() {
        for (url, node) in [
            ("rabbit://guest:guest@127.0.0.1:5672/", "soak@localhost"),
            ("rabbit://127.0.0.1/", "soak@localhost"),
            ("rabbit://127.0.0.1:5699/", "rabbit@localhost"),
        ] {
            assert!(Node::given(url, node).is_err(), "{url} {node}");
        }
        assert!(Node::given("rabbit://127.0.0.1:5699/", "soak@localhost").is_ok());
    }
}
