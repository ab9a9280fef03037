//! oslo's queue manager (`use_queue_manager`, `amqpdriver.QManager`): reply and fanout
//! queues named `<hostname>:<processname>:<counter>` instead of by uuid, so that a restarted
//! service declares the queues it had before (spec-production-topology §4).
//!
//! The counter lives in `/dev/shm/<hostname>_<processname>_qmanager` as `<pgrp>:<counter>:
//! <start time>` and is shared by every process of one host with the same host and process
//! names, Python or Rust. Each name taken increments it; a different service generation —
//! another process group, or the same group id with another start time of its leader (a
//! restart, or a recycled pid) — starts it over at 1. The read-increment-write runs under
//! oslo.concurrency's external lock `<lock_path>/oslo_read_shm_<hostname>_<processname>`,
//! an fcntl record lock over the whole file (fasteners' `lockf`), so a Rust process and a
//! Python process of one generation never take the same number; two generations sharing
//! the names collide exactly as two Python services would (launchpad #2110957's fix,
//! which we follow: the identity is read at every call, never cached).

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rustix::fs::{FlockOperation, fcntl_lock};

use crate::error::RpcError;

/// Where oslo keeps the counters.
const COUNTER_DIR: &str = "/dev/shm";
/// oslo.concurrency's default lock directory, from the environment.
const LOCK_PATH_ENV: &str = "OSLO_LOCK_PATH";

/// fcntl locks belong to the process, so threads of one process also need this (oslo
/// takes lockutils' internal semaphore of the same name first).
static IN_PROCESS: Mutex<()> = Mutex::new(());

/// Hands out `<hostname>:<processname>:<counter>` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct QueueManager {
    hostname: String,
    processname: String,
    counter_file: PathBuf,
    lock_file: PathBuf,
}

/// A service generation: the process group and the start time of its leader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Identity {
    pgrp: i64,
    start_time: i64,
}

impl QueueManager {
    /// The queue manager of this process: `hostname` and `processname` default to oslo's
    /// defaults (`socket.gethostname()`, `basename(argv[0])`); the lock directory is
    /// oslo.concurrency's `lock_path`, which oslo requires too (`RequiredOptError`).
    pub(super) fn new(
        hostname: Option<&str>,
        processname: Option<&str>,
        lock_dir: Option<&Path>,
    ) -> Result<Self, RpcError> {
        let hostname = match hostname {
            Some(name) => name.to_owned(),
            None => rustix::system::uname()
                .nodename()
                .to_string_lossy()
                .into_owned(),
        };
        let processname = processname.map_or_else(super::config::program_name, str::to_owned);
        let lock_dir = match lock_dir {
            Some(dir) => dir.to_owned(),
            None => std::env::var_os(LOCK_PATH_ENV).map(PathBuf::from).ok_or_else(|| {
                RpcError::InvalidArgument(format!(
                    "use_queue_manager needs oslo.concurrency's lock directory, as oslo does: set \
                     {LOCK_PATH_ENV} (oslo's [oslo_concurrency] lock_path) to the directory the \
                     Python services of this host use"
                ))
            })?,
        };
        Ok(Self::in_dirs(
            hostname,
            processname,
            Path::new(COUNTER_DIR),
            &lock_dir,
        ))
    }

    /// The same with the counter kept in `counter_dir` (tests).
    pub(super) fn in_dirs(
        hostname: String,
        processname: String,
        counter_dir: &Path,
        lock_dir: &Path,
    ) -> Self {
        let counter_file = counter_dir.join(format!("{hostname}_{processname}_qmanager"));
        // lockutils replaces the path separator in a lock name.
        let lock_name = format!("oslo_read_shm_{hostname}_{processname}").replace('/', "_");
        QueueManager {
            lock_file: lock_dir.join(lock_name),
            counter_file,
            hostname,
            processname,
        }
    }

    /// The next name, `<hostname>:<processname>:<counter>` (`QManager.get`). Blocks while
    /// another process holds the lock (a file read and write).
    pub(super) fn next_name(&self) -> Result<String, RpcError> {
        let counter = self.next_counter().map_err(|error| {
            RpcError::transport(format!(
                "queue manager counter {}: {error}",
                self.counter_file.display()
            ))
        })?;
        Ok(format!("{}:{}:{counter}", self.hostname, self.processname))
    }

    fn next_counter(&self) -> std::io::Result<i64> {
        let _in_process = IN_PROCESS.lock().unwrap_or_else(|e| e.into_inner());
        // fasteners opens the lock file in append mode, creating it.
        let lock = OpenOptions::new()
            .append(true)
            .create(true)
            .open(&self.lock_file)
            .map_err(|e| with_path(e, &self.lock_file))?;
        fcntl_lock(&lock, FlockOperation::LockExclusive)
            .map_err(|e| with_path(e.into(), &self.lock_file))?;
        let current = Identity::current()?;
        let stored = read_counter(&self.counter_file);
        let counter = next_counter(stored, current);
        let line = format!("{}:{counter}:{}", current.pgrp, current.start_time);
        File::create(&self.counter_file)
            .and_then(|mut file| file.write_all(line.as_bytes()))
            .map_err(|e| with_path(e, &self.counter_file))?;
        // Closing the file releases the lock; unlock first anyway, as fasteners does.
        let _ = fcntl_lock(&lock, FlockOperation::Unlock);
        Ok(counter)
    }
}

/// oslo's rule: the stored counter plus one for the same generation, else 1.
fn next_counter(stored: Option<(Identity, i64)>, current: Identity) -> i64 {
    match stored {
        Some((identity, counter)) if identity == current => counter.saturating_add(1),
        _ => 1,
    }
}

/// `pg:counter:start_time` from the file's first line; `None` when it is missing or not
/// three integers (Python's `FileNotFoundError`/`ValueError` branch).
fn read_counter(path: &Path) -> Option<(Identity, i64)> {
    let mut text = String::new();
    File::open(path).ok()?.read_to_string(&mut text).ok()?;
    parse_counter(&text)
}

fn parse_counter(text: &str) -> Option<(Identity, i64)> {
    let line = text.split_inclusive('\n').next().unwrap_or("");
    let fields: Vec<&str> = line.split(':').collect();
    let [pgrp, counter, start_time] = fields.as_slice() else {
        return None;
    };
    // Python's int() ignores surrounding whitespace (the line's own newline included).
    let int = |field: &str| field.trim().parse::<i64>().ok();
    Some((
        Identity {
            pgrp: int(pgrp)?,
            start_time: int(start_time)?,
        },
        int(counter)?,
    ))
}

impl Identity {
    /// `QManager._service_identity`: the process group (our pid when it is 0) and field 22
    /// of `/proc/<that id>/stat`, split on whitespace as oslo splits it.
    ///
    /// When the group's leader has exited (an orphaned process group: a launcher that
    /// started the service in the background and quit), its `/proc` entry is gone and
    /// oslo 18.3.1 raises `FileNotFoundError` from every `get()` [observed]. We do not copy
    /// that: the start time is then 0, the same for every member of the group, so they
    /// still share one counter; a later group reusing the id continues the count (new
    /// names) instead of restarting it.
    fn current() -> std::io::Result<Identity> {
        let pgrp = i64::from(rustix::process::getpgrp().as_raw_nonzero().get());
        let leader = if pgrp == 0 {
            i64::from(std::process::id())
        } else {
            pgrp
        };
        let stat_path = PathBuf::from(format!("/proc/{leader}/stat"));
        let stat = match std::fs::read_to_string(&stat_path) {
            Ok(stat) => stat,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Identity {
                    pgrp,
                    start_time: 0,
                });
            }
            Err(error) => return Err(with_path(error, &stat_path)),
        };
        let start_time = stat
            .split_whitespace()
            .nth(21)
            .and_then(|field| field.parse::<i64>().ok())
            .ok_or_else(|| {
                std::io::Error::other(format!("no start time in {}", stat_path.display()))
            })?;
        Ok(Identity { pgrp, start_time })
    }
}

fn with_path(error: std::io::Error, path: &Path) -> std::io::Error {
    std::io::Error::new(error.kind(), format!("{}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("qmanager-{}", crate::wire::new_id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn counter_lines_parse_as_python_reads_them() {
        let id = |pgrp, start_time| Identity { pgrp, start_time };
        assert_eq!(parse_counter("27354:1:57521"), Some((id(27354, 57521), 1)));
        assert_eq!(
            parse_counter("27354:12:57521\nrest"),
            Some((id(27354, 57521), 12))
        );
        assert_eq!(parse_counter(""), None);
        assert_eq!(parse_counter("1:2"), None);
        assert_eq!(parse_counter("1:2:3:4"), None);
        assert_eq!(parse_counter("a:2:3"), None);
    }

    #[test]
    fn counter_increments_within_a_generation_and_restarts_at_one() {
        let me = id_now();
        assert_eq!(next_counter(None, me), 1);
        assert_eq!(next_counter(Some((me, 4)), me), 5);
        let restarted = Identity {
            start_time: me.start_time + 1,
            ..me
        };
        assert_eq!(next_counter(Some((restarted, 4)), me), 1);
        let other_group = Identity {
            pgrp: me.pgrp + 1,
            ..me
        };
        assert_eq!(next_counter(Some((other_group, 4)), me), 1);
    }

    fn id_now() -> Identity {
        Identity::current().expect("identity from /proc")
    }

    #[test]
    fn names_count_up_in_the_shared_file_under_the_lock_file() {
        let dir = scratch();
        let qm = QueueManager::in_dirs("node1".into(), "nova-api".into(), &dir, &dir);
        assert_eq!(qm.next_name().unwrap(), "node1:nova-api:1");
        // A second manager of the process (another connection) shares the counter.
        let again = QueueManager::in_dirs("node1".into(), "nova-api".into(), &dir, &dir);
        assert_eq!(again.next_name().unwrap(), "node1:nova-api:2");
        assert!(dir.join("oslo_read_shm_node1_nova-api").is_file());
        // lockutils replaces '/' in the lock name; the counter file name keeps it (and then
        // fails to open, in oslo as here).
        let slashed = QueueManager::in_dirs("h".into(), "a/b".into(), &dir, &dir);
        assert_eq!(slashed.lock_file, dir.join("oslo_read_shm_h_a_b"));
        assert!(slashed.next_name().is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_file_holds_pgrp_counter_and_start_time() {
        let dir = scratch();
        let qm = QueueManager::in_dirs("h".into(), "p".into(), &dir, &dir);
        qm.next_name().unwrap();
        let me = id_now();
        let text = std::fs::read_to_string(dir.join("h_p_qmanager")).unwrap();
        assert_eq!(text, format!("{}:1:{}", me.pgrp, me.start_time));
        // Another generation's file starts over.
        std::fs::write(dir.join("h_p_qmanager"), "1:41:2").unwrap();
        assert_eq!(qm.next_name().unwrap(), "h:p:1");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
