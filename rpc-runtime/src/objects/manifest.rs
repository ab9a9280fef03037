//! [`VersionManifest`]: the object versions a peer understands, by object name, as oslo's
//! `obj_tree_get_versions()` builds it and `obj_to_primitive(version_manifest=...)` uses it.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::version::{RpcVersion, VersionError};

/// Object name -> the highest version a peer understands (`{"Widget": "1.0",
/// "Person": "1.0"}`). Objects sent under a manifest are downgraded to its versions, each
/// one in the tree (children too); an object it does not name is sent as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct VersionManifest {
    versions: BTreeMap<String, RpcVersion>,
}

impl VersionManifest {
    /// An empty manifest.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) an object's version; for chaining.
    pub fn with(mut self, object: impl Into<String>, version: RpcVersion) -> Self {
        self.insert(object, version);
        self
    }

    /// Adds (or replaces) an object's version.
    pub fn insert(&mut self, object: impl Into<String>, version: RpcVersion) {
        self.versions.insert(object.into(), version);
    }

    /// Parses `(name, "X.Y")` pairs.
    pub fn parse<'a>(
        entries: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, VersionError> {
        let mut manifest = Self::new();
        for (object, version) in entries {
            manifest.insert(object, RpcVersion::parse(version)?);
        }
        Ok(manifest)
    }

    /// The version of `object`, if the manifest names it.
    pub fn get(&self, object: &str) -> Option<RpcVersion> {
        self.versions.get(object).copied()
    }

    /// The entries, by object name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, RpcVersion)> {
        self.versions
            .iter()
            .map(|(name, version)| (name.as_str(), *version))
    }

    /// Whether it names no object.
    pub fn is_empty(&self) -> bool {
        self.versions.is_empty()
    }
}

impl fmt::Display for VersionManifest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (index, (name, version)) in self.versions.iter().enumerate() {
            if index > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{name}: {version}")?;
        }
        f.write_str("}")
    }
}
