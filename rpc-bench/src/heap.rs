//! The bytes this process has allocated and not yet freed, counted by the global allocator
//! when rpc-bench is built with the `heap-accounting` feature: the soak's leak check.
//!
//! RSS cannot be that check on its own: glibc keeps pages it has handed out, freed or not,
//! wherever a live block sits above them, so the RSS of a process that frees all it
//! allocates still creeps with each burst of allocations (a heap profile of a soak of
//! memory alarms showed the live heap flat while the RSS rose; RELIABILITY.md). The
//! counting costs an atomic add per allocation, so it is a feature, off for the benchmarks.

#[cfg(feature = "heap-accounting")]
#[global_allocator]
static ALLOCATOR: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);

/// KiB allocated and not freed, when this build counts them.
pub(crate) fn in_use_kib() -> Option<f64> {
    #[cfg(feature = "heap-accounting")]
    {
        Some(ALLOCATOR.allocated() as f64 / 1024.0)
    }
    #[cfg(not(feature = "heap-accounting"))]
    {
        None
    }
}
