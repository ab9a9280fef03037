//! Durations and deadlines computed from values the runtime does not choose: the wire
//! (`_timeout`), transport URLs, configuration and the public API (`Duration::MAX` is a
//! valid `Duration`). `Duration::from_secs_f64` panics on NaN, negative and huge values,
//! and `Instant + Duration` panics past the clock's range; everything here saturates
//! instead, so no value can panic a task.

use std::time::Duration;

use tokio::time::Instant;

/// The horizon of a deadline that in practice never comes: beyond it, a wait is clamped.
/// Thirty years, as tokio's own "far future", so that adding it to any `Instant` of a
/// running process stays in range.
pub(crate) const FAR_FUTURE: Duration = Duration::from_secs(30 * 365 * 24 * 60 * 60);

/// The instant `after` from now, clamped to [`FAR_FUTURE`].
pub(crate) fn deadline_in(after: Duration) -> Instant {
    deadline_after(Instant::now(), after)
}

/// `start + after`, clamped to `start + FAR_FUTURE`.
pub(crate) fn deadline_after(start: Instant, after: Duration) -> Instant {
    start + after.min(FAR_FUTURE)
}

/// A number of seconds as a `Duration`, or `None` when no `Duration` can hold it (NaN,
/// negative, infinite or above `u64::MAX` seconds).
pub(crate) fn seconds(seconds: f64) -> Option<Duration> {
    Duration::try_from_secs_f64(seconds).ok()
}

/// A configured number of seconds as a `Duration`: NaN and negative values are zero,
/// values too large for a `Duration` are `Duration::MAX` (waits clamp it further).
pub(crate) fn saturating_seconds(value: f64) -> Duration {
    if value.is_nan() || value <= 0.0 {
        return Duration::ZERO;
    }
    seconds(value).unwrap_or(Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_never_overflow_the_clock() {
        let now = Instant::now();
        assert_eq!(deadline_after(now, Duration::MAX), now + FAR_FUTURE);
        assert_eq!(
            deadline_after(now, Duration::from_secs(5)),
            now + Duration::from_secs(5)
        );
        assert!(deadline_in(Duration::MAX) > now);
    }

    #[test]
    fn seconds_refuse_what_no_duration_holds() {
        assert_eq!(seconds(1.5), Some(Duration::from_millis(1500)));
        assert_eq!(seconds(0.0), Some(Duration::ZERO));
        for value in [
            f64::NAN,
            -1.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e300,
            2e19,
        ] {
            assert_eq!(seconds(value), None, "{value}");
        }
    }

    #[test]
    fn configured_seconds_saturate() {
        assert_eq!(saturating_seconds(1.0), Duration::from_secs(1));
        assert_eq!(saturating_seconds(-3.0), Duration::ZERO);
        assert_eq!(saturating_seconds(f64::NAN), Duration::ZERO);
        assert_eq!(saturating_seconds(1e300), Duration::MAX);
        assert_eq!(saturating_seconds(f64::INFINITY), Duration::MAX);
    }
}
