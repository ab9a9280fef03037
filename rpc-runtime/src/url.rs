//! Transport URLs (placeholder, being written).
