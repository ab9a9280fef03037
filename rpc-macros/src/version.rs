//! oslo RPC versions as the macro reads them from attribute strings. The rule is the
//! runtime's `RpcVersion::parse` (MAJOR.MINOR[.REVISION], digits only, no leading zeros,
//! each part a `u32`), repeated here because a proc-macro crate cannot link the runtime.

use std::fmt;

/// A parsed version, kept with the text the user wrote (that text goes on the wire).
#[derive(Clone, Debug)]
pub(crate) struct Version {
    pub(crate) major: u32,
    pub(crate) minor: u32,
    pub(crate) revision: Option<u32>,
}

impl Version {
    /// Parses `MAJOR.MINOR` or `MAJOR.MINOR.REVISION`; the error says what is wrong.
    pub(crate) fn parse(text: &str) -> Result<Version, String> {
        let parts: Vec<&str> = text.split('.').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(format!(
                "invalid version {text:?}: expected MAJOR.MINOR or MAJOR.MINOR.REVISION, e.g. \"1.3\""
            ));
        }
        let mut numbers = [0u32; 3];
        for ((part, name), number) in parts
            .iter()
            .zip(["major", "minor", "revision"])
            .zip(numbers.iter_mut())
        {
            *number = parse_part(part).map_err(|problem| {
                format!("invalid version {text:?}: the {name} part {problem}")
            })?;
        }
        Ok(Version {
            major: numbers[0],
            minor: numbers[1],
            revision: (parts.len() == 3).then_some(numbers[2]),
        })
    }

    /// The `X.0` version of a major: what a method without `since` is sent as.
    pub(crate) fn major_zero(major: u32) -> Version {
        Version {
            major,
            minor: 0,
            revision: None,
        }
    }

    fn normalized(&self) -> (u32, u32, u32) {
        (self.major, self.minor, self.revision.unwrap_or(0))
    }

    /// oslo's `version_is_compatible(imp=self, req=requested)`.
    pub(crate) fn can_serve(&self, requested: &Version) -> bool {
        self.major == requested.major && requested.normalized() <= self.normalized()
    }
}

fn parse_part(part: &str) -> Result<u32, &'static str> {
    if part.is_empty() {
        return Err("is empty");
    }
    if !part.bytes().all(|b| b.is_ascii_digit()) {
        return Err("is not a number");
    }
    if part.len() > 1 && part.starts_with('0') {
        return Err("has a leading zero");
    }
    part.parse().map_err(|_| "is too large")
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)?;
        if let Some(revision) = self.revision {
            write!(f, ".{revision}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_the_runtime() {
        for (text, shown) in [
            ("1.3", "1.3"),
            ("1.3.0", "1.3.0"),
            ("0.0", "0.0"),
            ("10.20.30", "10.20.30"),
        ] {
            assert_eq!(Version::parse(text).unwrap().to_string(), shown);
        }
        for (text, problem) in [
            ("1", "expected MAJOR.MINOR"),
            ("1.2.3.4", "expected MAJOR.MINOR"),
            ("1.x", "the minor part is not a number"),
            ("01.2", "the major part has a leading zero"),
            ("1.", "the minor part is empty"),
            ("1.-2", "the minor part is not a number"),
            (" 1.2", "the major part is not a number"),
            ("1.99999999999", "the minor part is too large"),
        ] {
            let error = Version::parse(text).unwrap_err();
            assert!(error.contains(problem), "{text}: {error}");
        }
    }

    #[test]
    fn compatibility_is_oslos() {
        let v = |text| Version::parse(text).unwrap();
        assert!(v("1.3").can_serve(&v("1.0")));
        assert!(v("1.3").can_serve(&v("1.3.0")));
        assert!(!v("1.3").can_serve(&v("1.3.1")));
        assert!(!v("1.3").can_serve(&v("1.4")));
        assert!(!v("2.0").can_serve(&v("1.0")));
        assert_eq!(Version::major_zero(2).to_string(), "2.0");
    }
}
