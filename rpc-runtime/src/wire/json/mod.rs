//! Python-flavoured JSON (placeholder, being written).
