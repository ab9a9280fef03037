//! Tests. Expected strings were produced with CPython 3.11 `json.dumps` / `json.loads` and
//! pasted in as literals; nothing here runs Python.

mod de;
mod derive;
mod floats;
mod oslo;
mod raw;
mod ser;

use serde::ser::{Serialize, SerializeMap, Serializer};

/// A map with keys of any type, written in the given order.
struct Pairs<K, V>(Vec<(K, V)>);

impl<K: Serialize, V: Serialize> Serialize for Pairs<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// Our encoding, as a `String`, failing the test on error.
fn enc<T: ?Sized + Serialize>(value: &T) -> String {
    match super::to_string(value) {
        Ok(text) => text,
        Err(e) => panic!("encoding failed: {e}"),
    }
}
