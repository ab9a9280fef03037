//! What the machine and this process use: CPU time and peak RSS of the process (all
//! threads, from `/proc/self`), CPU time of the local RabbitMQ node, and how busy the
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

/// CPU seconds the local RabbitMQ node (the `beam.smp` process) has used so far, if it
/// runs on this machine and `/proc` shows it.
pub(crate) fn broker_cpu_seconds() -> Option<f64> {
    static BROKER: std::sync::OnceLock<Option<u32>> = std::sync::OnceLock::new();
    let pid = (*BROKER.get_or_init(find_broker))?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let seconds = cpu_seconds_of(&stat);
    seconds.is_finite().then_some(seconds)
}

fn find_broker() -> Option<u32> {
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let comm = std::fs::read_to_string(entry.path().join("comm")).ok()?;
            (comm.trim() == "beam.smp").then_some(pid)
        })
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
    fn this_process_has_used_cpu_and_memory() {
        let spin = Instant::now();
        let mut x = 0u64;
        while spin.elapsed() < Duration::from_millis(30) {
            x = x.wrapping_add(std::hint::black_box(1));
        }
        assert!(x > 0);
        assert!(process_cpu_seconds() > 0.0);
        assert!(peak_rss_kib() > 100.0);
    }
}
