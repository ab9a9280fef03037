//! What the machine and this process use: CPU time and peak RSS of the process (all
//! threads, from `/proc/self`), CPU time of the RabbitMQ node on a port, and how busy the
//! machine is (from `/proc/stat`), so the suite can wait for an idle machine before it
//! measures.

use std::time::{Duration, Instant};

/// Linux reports process CPU time in USER_HZ ticks, 100 per second on every architecture
/// the kernel exposes to user space (`sysconf(_SC_CLK_TCK)`). 10 ms resolution: the full
/// suite's workloads use seconds of CPU each (`getrusage` would need `unsafe`, which the
/// workspace forbids).
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU seconds (user + system, all threads) this process has used so far.
pub(crate) fn process_cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat").map_or(f64::NAN, |stat| cpu_seconds_of(&stat))
}

/// utime + stime of a `/proc/<pid>/stat` line, in seconds.
fn cpu_seconds_of(stat: &str) -> f64 {
    // The command name (field 2) may contain spaces; the fields after it are numbers.
    let Some((_, after_name)) = stat.rsplit_once(')') else {
        return f64::NAN;
    };
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 (utime) and 15 (stime) of proc(5); `fields[0]` is field 3.
    let ticks = |index: usize| -> f64 {
        fields
            .get(index)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (ticks(11) + ticks(12)) / TICKS_PER_SECOND
}

/// CPU seconds the RabbitMQ node listening on `port` of this machine has used so far, if
/// `/proc` shows it. Other nodes may run beside it (the test cluster, other checkouts'
/// nodes): the one that owns the listening socket is the one measured.
pub(crate) fn broker_cpu_seconds(port: u16) -> Option<f64> {
    static BROKERS: std::sync::Mutex<Vec<(u16, Option<u32>)>> = std::sync::Mutex::new(Vec::new());
    let pid = {
        let mut known = BROKERS.lock().unwrap_or_else(|e| e.into_inner());
        match known.iter().find(|(of, _)| *of == port) {
            Some((_, pid)) => *pid,
            None => {
                let pid = listener_pid(port);
                known.push((port, pid));
                pid
            }
        }
    }?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let seconds = cpu_seconds_of(&stat);
    seconds.is_finite().then_some(seconds)
}

/// The process with a socket listening on TCP `port` (IPv4 or IPv6): the inode of the
/// listening socket from `/proc/net/tcp{,6}`, then the process holding it.
fn listener_pid(port: u16) -> Option<u32> {
    let inodes: Vec<String> = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|table| std::fs::read_to_string(table).ok())
        .flat_map(|table| listening_inodes(&table, port))
        .collect();
    if inodes.is_empty() {
        return None;
    }
    let wanted: Vec<String> = inodes
        .iter()
        .map(|inode| format!("socket:[{inode}]"))
        .collect();
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let fds = std::fs::read_dir(entry.path().join("fd")).ok()?;
            fds.flatten()
                .filter_map(|fd| std::fs::read_link(fd.path()).ok())
                .any(|link| wanted.iter().any(|w| link.as_os_str() == w.as_str()))
                .then_some(pid)
        })
}

/// The inodes of the sockets of a `/proc/net/tcp` table that listen on `port`.
fn listening_inodes(table: &str, port: u16) -> Vec<String> {
    const LISTEN: &str = "0A";
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local_port = fields.get(1)?.rsplit_once(':')?.1;
            let listening =
                u16::from_str_radix(local_port, 16).ok()? == port && *fields.get(3)? == LISTEN;
            listening.then(|| fields.get(9).map(|inode| (*inode).to_owned()))?
        })
        .collect()
}

/// Resident set size of this process now, KiB (`VmRSS`).
pub(crate) fn rss_kib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(f64::NAN)
}

/// Peak resident set size of this process so far, KiB (`VmHWM`).
pub(crate) fn peak_rss_kib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(f64::NAN)
}

/// (busy, total) jiffies of all CPUs since boot.
fn cpu_jiffies() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let values: Vec<u64> = line
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    let total: u64 = values.iter().take(8).sum();
    // idle and iowait are fields 4 and 5.
    let idle = values.get(3).copied().unwrap_or(0) + values.get(4).copied().unwrap_or(0);
    Some((total.saturating_sub(idle), total))
}

/// How many CPUs' worth of work the machine did during `window`.
pub(crate) fn busy_cpus(window: Duration) -> f64 {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let Some((busy0, total0)) = cpu_jiffies() else {
        return f64::NAN;
    };
    std::thread::sleep(window);
    let Some((busy1, total1)) = cpu_jiffies() else {
        return f64::NAN;
    };
    let total = total1.saturating_sub(total0).max(1) as f64;
    busy1.saturating_sub(busy0) as f64 / total * cpus
}

/// Waits (at most `max_wait`) until the machine is busy with less than `max_busy` CPUs'
/// worth of work over a second; returns the last reading and whether it was idle.
pub(crate) fn wait_for_idle(max_busy: f64, max_wait: Duration) -> (f64, bool) {
    let deadline = Instant::now() + max_wait;
    loop {
        let busy = busy_cpus(Duration::from_secs(1));
        if busy <= max_busy || busy.is_nan() {
            return (busy, true);
        }
        if Instant::now() >= deadline {
            return (busy, false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listening_sockets_are_found_by_port() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
            0: 0100007F:1628 00000000:0000 0A 00000000:00000000 00:00000000 00000000   106        0 519495 1 0\n\
            1: 0100007F:1628 0100007F:9C40 01 00000000:00000000 00:00000000 00000000   106        0 777 1 0\n\
            2: 0100007F:1629 00000000:0000 0A 00000000:00000000 00:00000000 00000000   106        0 888 1 0\n";
        assert_eq!(listening_inodes(table, 5672), ["519495"]);
        assert!(listening_inodes(table, 5673).len() == 1);
        assert!(listening_inodes(table, 1).is_empty());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        assert_eq!(listener_pid(port), Some(std::process::id()));
    }

    #[test]
    fn this_process_has_used_cpu_and_memory() {
        // CPU time comes in 10 ms ticks, and on a loaded machine 30 ms of spinning may not
        // earn one: spin until a tick shows, for at most 10 s.
        let spin = Instant::now();
        let mut x = 0u64;
        while spin.elapsed() < Duration::from_millis(30)
            || (process_cpu_seconds() == 0.0 && spin.elapsed() < Duration::from_secs(10))
        {
            x = x.wrapping_add(std::hint::black_box(1));
        }
        assert!(x > 0);
        assert!(process_cpu_seconds() > 0.0);
        assert!(peak_rss_kib() > 100.0);
    }
}
