//! The fuzzed entry points (see `entry_points.rs`).

pub mod entry_points;
