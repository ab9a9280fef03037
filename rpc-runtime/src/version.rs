//! RPC versions (placeholder, being written).
