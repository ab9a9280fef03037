//! oslo.messaging RPC versions: `MAJOR.MINOR` or `MAJOR.MINOR.REVISION` (spec §6.3).
//!
//! These are not semantic versions: `"1.3"` is a complete version, and `"1.3"` and `"1.3.0"` mean
//! the same thing. Compatibility follows oslo's `_utils.version_is_compatible` exactly.
//!
//! A crate of its own so that oslo-rpc's runtime and its `#[rpc_endpoint]` and
//! `#[derive(VersionedObject)]` macros parse versions with the same code and the same
//! messages (a proc-macro crate cannot link the runtime). The `serde` feature reads and
//! writes a version as its string.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

/// An oslo RPC version such as `1.3` or `1.3.1`.
///
/// Display prints the version in the form it was written: `"1.3"` stays `"1.3"` and `"1.3.0"`
/// stays `"1.3.0"`, because the wire must carry what the user wrote. Equality, hashing and
/// ordering compare the normalized value, where a missing revision counts as 0, so
/// `1.3 == 1.3.0` (spec §6.3).
#[derive(Clone, Copy, Debug)]
pub struct RpcVersion {
    major: u32,
    minor: u32,
    revision: Option<u32>,
}

impl RpcVersion {
    /// A `MAJOR.MINOR` version, displayed without a revision.
    pub const fn new(major: u32, minor: u32) -> Self {
        Self {
            major,
            minor,
            revision: None,
        }
    }

    /// A `MAJOR.MINOR.REVISION` version, displayed with its revision (even when it is 0).
    pub const fn with_revision(major: u32, minor: u32, revision: u32) -> Self {
        Self {
            major,
            minor,
            revision: Some(revision),
        }
    }

    /// Parses `MAJOR.MINOR` or `MAJOR.MINOR.REVISION`.
    ///
    /// ```
    /// use oslo_rpc_version::RpcVersion;
    ///
    /// assert_eq!(RpcVersion::parse("1.3")?, RpcVersion::new(1, 3));
    /// assert_eq!(RpcVersion::parse("2.0.1")?.revision(), Some(1));
    /// assert!(RpcVersion::parse("1").is_err());
    /// assert!(RpcVersion::parse("01.3").is_err());
    /// # Ok::<(), oslo_rpc_version::VersionError>(())
    /// ```
    ///
    /// Each part is one or more ASCII digits that fit in a `u32`. Whitespace, signs, empty parts
    /// and leading zeros (`"01.3"`) are rejected. oslo itself uses Python `int()`, which is more
    /// lenient; we are stricter so that a parsed version always displays exactly as written.
    pub fn parse(s: &str) -> Result<Self, VersionError> {
        let error = |problem| VersionError {
            input: s.to_owned(),
            problem,
        };
        let parts: Vec<&str> = s.split('.').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(error(VersionProblem::PartCount));
        }
        let mut numbers = [0u32; 3];
        for ((text, part), number) in parts.iter().zip(Part::ALL).zip(numbers.iter_mut()) {
            *number = parse_part(text, part).map_err(error)?;
        }
        let [major, minor, revision] = numbers;
        Ok(if parts.len() == 3 {
            Self::with_revision(major, minor, revision)
        } else {
            Self::new(major, minor)
        })
    }

    /// The major version.
    pub const fn major(&self) -> u32 {
        self.major
    }

    /// The minor version.
    pub const fn minor(&self) -> u32 {
        self.minor
    }

    /// The revision, if the version was written with one.
    pub const fn revision(&self) -> Option<u32> {
        self.revision
    }

    /// oslo's `version_is_compatible(imp=self, req=requested)` (spec §6.3): an endpoint at this
    /// version can serve `requested` when the majors are equal, the requested minor is not higher,
    /// and, if the minors are equal, the requested revision is not higher (a missing revision
    /// counts as 0). The revision is ignored when the requested minor is lower.
    ///
    /// ```
    /// use oslo_rpc_version::RpcVersion;
    ///
    /// let server = RpcVersion::new(1, 3);
    /// assert!(server.can_serve(&RpcVersion::new(1, 0)));
    /// assert!(server.can_serve(&RpcVersion::new(1, 3)));
    /// assert!(!server.can_serve(&RpcVersion::new(1, 4))); // newer than the server
    /// assert!(!server.can_serve(&RpcVersion::new(2, 0))); // another major
    /// ```
    pub fn can_serve(&self, requested: &RpcVersion) -> bool {
        if self.major != requested.major {
            return false;
        }
        match requested.minor.cmp(&self.minor) {
            Ordering::Less => true,
            Ordering::Equal => requested.normalized_revision() <= self.normalized_revision(),
            Ordering::Greater => false,
        }
    }

    const fn normalized_revision(&self) -> u32 {
        match self.revision {
            Some(revision) => revision,
            None => 0,
        }
    }

    const fn normalized(&self) -> (u32, u32, u32) {
        (self.major, self.minor, self.normalized_revision())
    }
}

/// oslo's `_utils.version_is_compatible(imp, req)` including its `None` rules (spec §6.3):
/// no implementation version (`imp` is `None`) accepts everything; otherwise a request without a
/// version is refused; otherwise [`RpcVersion::can_serve`] decides.
///
/// ```
/// use oslo_rpc_version::RpcVersion;
/// use oslo_rpc_version::version_is_compatible;
///
/// let v1_2 = RpcVersion::new(1, 2);
/// assert!(version_is_compatible(None, Some(&v1_2)));
/// assert!(!version_is_compatible(Some(&v1_2), None));
/// assert!(version_is_compatible(Some(&v1_2), Some(&RpcVersion::new(1, 1))));
/// ```
pub fn version_is_compatible(imp: Option<&RpcVersion>, req: Option<&RpcVersion>) -> bool {
    match (imp, req) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(imp), Some(req)) => imp.can_serve(req),
    }
}

impl PartialEq for RpcVersion {
    fn eq(&self, other: &Self) -> bool {
        self.normalized() == other.normalized()
    }
}

impl Eq for RpcVersion {}

impl Hash for RpcVersion {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.normalized().hash(state);
    }
}

impl PartialOrd for RpcVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for RpcVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.normalized().cmp(&other.normalized())
    }
}

impl fmt::Display for RpcVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)?;
        if let Some(revision) = self.revision {
            write!(f, ".{revision}")?;
        }
        Ok(())
    }
}

impl FromStr for RpcVersion {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for RpcVersion {
    type Error = VersionError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for RpcVersion {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for RpcVersion {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A string that is not a valid oslo RPC version. The message names the input and the bad part.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid RPC version {input:?}: {problem}")]
pub struct VersionError {
    input: String,
    problem: VersionProblem,
}

impl VersionError {
    /// The text that failed to parse.
    pub fn input(&self) -> &str {
        &self.input
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Major,
    Minor,
    Revision,
}

impl Part {
    const ALL: [Part; 3] = [Part::Major, Part::Minor, Part::Revision];
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::Major => "major",
            Part::Minor => "minor",
            Part::Revision => "revision",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
enum VersionProblem {
    #[error("expected MAJOR.MINOR or MAJOR.MINOR.REVISION, e.g. \"1.3\"")]
    PartCount,
    #[error("the {0} part is empty")]
    Empty(Part),
    #[error("the {0} part {1:?} is not a decimal number")]
    NotDigits(Part, String),
    #[error("the {0} part {1:?} has a leading zero")]
    LeadingZero(Part, String),
    #[error("the {0} part {1:?} does not fit in 32 bits")]
    TooLarge(Part, String),
}

fn parse_part(text: &str, part: Part) -> Result<u32, VersionProblem> {
    if text.is_empty() {
        return Err(VersionProblem::Empty(part));
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(VersionProblem::NotDigits(part, text.to_owned()));
    }
    if text.len() > 1 && text.starts_with('0') {
        return Err(VersionProblem::LeadingZero(part, text.to_owned()));
    }
    text.parse()
        .map_err(|_| VersionProblem::TooLarge(part, text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn v(s: &str) -> RpcVersion {
        RpcVersion::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn spec_6_3_table_with_imp_1_3() {
        let imp = v("1.3");
        let table = [
            ("1.0", true),
            ("1.2.5", true),
            ("1.3", true),
            ("1.3.0", true),
            ("1.3.1", false),
            ("1.4", false),
            ("2.0", false),
        ];
        for (req, expected) in table {
            assert_eq!(imp.can_serve(&v(req)), expected, "imp 1.3, req {req}");
            assert_eq!(
                version_is_compatible(Some(&imp), Some(&v(req))),
                expected,
                "req {req}"
            );
        }
    }

    #[test]
    fn compatibility_rules() {
        let table = [
            // (imp, req, compatible)
            ("1.0", "2.0", false),
            ("2.0", "1.0", false),
            ("2.5", "1.5", false),
            ("1.5", "1.4", true),
            ("1.5", "1.6", false),
            ("1.3.2", "1.3.1", true),
            ("1.3.2", "1.3.2", true),
            ("1.3.2", "1.3.3", false),
            ("1.3.2", "1.3", true),
            ("1.3.0", "1.3", true),
            ("1.3", "1.3.0", true),
            ("1.4", "1.3.99", true),
            ("1.3.99", "1.4", false),
            ("2.0", "2.0", true),
            ("0.0", "0.0", true),
        ];
        for (imp, req, expected) in table {
            assert_eq!(v(imp).can_serve(&v(req)), expected, "imp {imp}, req {req}");
        }
    }

    #[test]
    fn none_rules() {
        let some = v("1.0");
        assert!(version_is_compatible(None, None));
        assert!(version_is_compatible(None, Some(&some)));
        assert!(!version_is_compatible(Some(&some), None));
    }

    #[test]
    fn display_keeps_the_written_form() {
        for s in ["1.3", "1.3.0", "0.0", "10.20.30", "4294967295.0"] {
            assert_eq!(v(s).to_string(), s);
        }
        assert_eq!(RpcVersion::new(1, 3).to_string(), "1.3");
        assert_eq!(RpcVersion::with_revision(1, 3, 0).to_string(), "1.3.0");
    }

    #[test]
    fn accessors() {
        let version = v("2.7.1");
        assert_eq!(
            (version.major(), version.minor(), version.revision()),
            (2, 7, Some(1))
        );
        assert_eq!(v("2.7").revision(), None);
    }

    #[test]
    fn equality_hash_and_order_use_the_normalized_value() {
        assert_eq!(v("1.3"), v("1.3.0"));
        assert_ne!(v("1.3"), v("1.3.1"));
        assert_eq!(v("1.3").cmp(&v("1.3.0")), Ordering::Equal);
        assert!(v("1.3") < v("1.3.1"));
        assert!(v("1.10") > v("1.9"));
        assert!(v("2.0") > v("1.99.99"));
        let set: HashSet<RpcVersion> = [v("1.3"), v("1.3.0")].into_iter().collect();
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn from_str_and_try_from() {
        assert_eq!("1.3".parse::<RpcVersion>().ok(), Some(v("1.3")));
        assert_eq!(RpcVersion::try_from("1.3.1").ok(), Some(v("1.3.1")));
    }

    /// Runs with the `serde` feature (the runtime turns it on in the workspace).
    #[cfg(feature = "serde")]
    #[test]
    fn serde_reads_and_writes_the_string() {
        let json = serde_json::to_string(&v("1.3.0")).unwrap_or_default();
        assert_eq!(json, r#""1.3.0""#);
        let back: RpcVersion = serde_json::from_str(r#""2.1""#).unwrap_or(RpcVersion::new(0, 0));
        assert_eq!(back.to_string(), "2.1");
        let bad = serde_json::from_str::<RpcVersion>(r#""1""#).map_err(|e| e.to_string());
        assert!(
            matches!(bad, Err(ref e) if e.contains(r#"invalid RPC version "1""#)),
            "{bad:?}"
        );
        assert!(
            serde_json::from_str::<RpcVersion>("1.3").is_err(),
            "a number is not a version"
        );
    }

    #[test]
    fn malformed_versions_are_clear_errors() {
        let table = [
            (
                "1",
                r#"expected MAJOR.MINOR or MAJOR.MINOR.REVISION, e.g. "1.3""#,
            ),
            (
                "",
                r#"expected MAJOR.MINOR or MAJOR.MINOR.REVISION, e.g. "1.3""#,
            ),
            (
                "1.2.3.4",
                r#"expected MAJOR.MINOR or MAJOR.MINOR.REVISION, e.g. "1.3""#,
            ),
            ("1.", "the minor part is empty"),
            (".1", "the major part is empty"),
            ("1.2.", "the revision part is empty"),
            ("1.x", r#"the minor part "x" is not a decimal number"#),
            ("a.b", r#"the major part "a" is not a decimal number"#),
            (" 1.2", r#"the major part " 1" is not a decimal number"#),
            ("1.2 ", r#"the minor part "2 " is not a decimal number"#),
            ("1.-2", r#"the minor part "-2" is not a decimal number"#),
            ("+1.2", r#"the major part "+1" is not a decimal number"#),
            ("1.٣", r#"the minor part "٣" is not a decimal number"#),
            ("01.2", r#"the major part "01" has a leading zero"#),
            (
                "99999999999.0",
                r#"the major part "99999999999" does not fit in 32 bits"#,
            ),
            (
                "1.4294967296",
                r#"the minor part "4294967296" does not fit in 32 bits"#,
            ),
        ];
        for (input, problem) in table {
            let err = match RpcVersion::parse(input) {
                Ok(parsed) => panic!("{input:?} parsed as {parsed}"),
                Err(err) => err,
            };
            assert_eq!(err.input(), input);
            assert_eq!(
                err.to_string(),
                format!("invalid RPC version {input:?}: {problem}")
            );
        }
    }
}
