//! Replays the fuzz corpora (`fuzz/corpus/<target>/`) and the inputs that once crashed a
//! target (`fuzz/regressions/<target>/`) through the same entry points the cargo-fuzz
//! targets call, on stable: what the fuzzers found and what was fixed stays fixed in CI.

#[path = "../fuzz/src/entry_points.rs"]
mod entry_points;

use std::path::{Path, PathBuf};

fn inputs(target: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut files = Vec::new();
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        files.extend(entries.filter_map(|e| e.ok()).map(|e| e.path()));
    }
    files.sort();
    files
}

fn replay(target: &str, entry: fn(&[u8]), at_least: usize) {
    let files = inputs(target);
    assert!(
        files.len() >= at_least,
        "{target}: {} inputs, expected at least {at_least}",
        files.len()
    );
    for file in files {
        let data = std::fs::read(&file).expect("a corpus file");
        let outcome = std::panic::catch_unwind(|| entry(&data));
        assert!(outcome.is_ok(), "{target}: {} panicked", file.display());
    }
}

#[test]
fn request_corpus() {
    replay("request", entry_points::request, 10);
}

#[test]
fn reply_corpus() {
    replay("reply", entry_points::reply, 5);
}

#[test]
fn json_corpus() {
    replay("json", entry_points::json, 10);
}

#[test]
fn url_corpus() {
    replay("url", entry_points::url, 10);
}

#[test]
fn schema_corpus() {
    replay("schema", entry_points::schema, 2);
}

#[test]
fn config_reader_corpus() {
    replay("config_reader", entry_points::config_reader, 10);
}
