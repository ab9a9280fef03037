//! Latency samples and their summary (percentiles, rate).

use std::time::Duration;

use serde::Serialize;

/// The summary of one workload's latencies.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Summary {
    /// Completed operations.
    pub(crate) count: usize,
    /// Wall time of the whole workload, seconds.
    pub(crate) seconds: f64,
    /// Operations per second over the whole workload.
    pub(crate) per_second: f64,
    /// Median latency, microseconds.
    pub(crate) p50_us: f64,
    /// 90th percentile latency, microseconds.
    pub(crate) p90_us: f64,
    /// 99th percentile latency, microseconds.
    pub(crate) p99_us: f64,
}

impl Summary {
    /// Summarises per-operation latencies measured over `wall` time.
    pub(crate) fn of(mut samples: Vec<Duration>, wall: Duration) -> Summary {
        samples.sort_unstable();
        let at = |q: f64| -> f64 {
            if samples.is_empty() {
                return f64::NAN;
            }
            let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
            samples[index].as_secs_f64() * 1e6
        };
        let seconds = wall.as_secs_f64();
        Summary {
            count: samples.len(),
            seconds,
            per_second: samples.len() as f64 / seconds.max(f64::MIN_POSITIVE),
            p50_us: at(0.50),
            p90_us: at(0.90),
            p99_us: at(0.99),
        }
    }
}
