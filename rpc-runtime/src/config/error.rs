//! What can go wrong reading oslo config files, and what is only worth a warning. Messages
//! name the file, line, section and option; a `transport_url` value is shown with its
//! passwords as `***`, and a line that might hold one is not shown at all.

use std::fmt;
use std::path::PathBuf;

/// A config file set that cannot be used; oslo.config or oslo.messaging would refuse it too,
/// unless the variant says otherwise.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A config file could not be read (oslo: `ConfigFilesNotFoundError` and the like).
    #[error("cannot read config file {}: {source}", .path.display())]
    Read {
        /// The file as given (or as found in a config directory).
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A config directory could not be listed (oslo: `ConfigDirNotFoundError`).
    #[error("cannot read config directory {}: {source}", .path.display())]
    ReadDir {
        /// The directory as given.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file is not UTF-8 (Python fails to decode it).
    #[error("{file}:{line}: not valid UTF-8")]
    Encoding {
        /// The file.
        file: String,
        /// The 1-based line of the first invalid byte.
        line: usize,
    },
    /// A file is not oslo INI (oslo: `ConfigFileParseError`, same wording).
    #[error("{file}:{line}: {message}{}", shown_line(.text))]
    Parse {
        /// The file.
        file: String,
        /// The 1-based line.
        line: usize,
        /// oslo.config's description of the problem.
        message: &'static str,
        /// The offending line; `None` when it might hold a password.
        text: Option<String>,
    },
    /// An option's value cannot be converted with its oslo type, or is refused by the driver
    /// (oslo: `ConfigFileValueError`).
    #[error("{}:{}: invalid value {value:?} for [{}] {}: {reason}", .at.file, .at.line, .at.section, .at.option)]
    InvalidValue {
        /// Where the value is written (the last file that sets the option).
        at: Box<Location>,
        /// The value after `$name` substitution; passwords of a `transport_url` are `***`.
        value: String,
        /// What is wrong, e.g. `expected a boolean (...)`.
        reason: String,
    },
    /// A `$name` reference that cannot be substituted (oslo: `NoSuchOptError`,
    /// `TemplateSubstitutionError` or a `RecursionError`).
    #[error("{at}: cannot substitute ${reference}: {reason}")]
    Substitution {
        /// Where the value holding the reference is written.
        at: Box<Location>,
        /// The name after `$`.
        reference: String,
        /// Why, with a hint.
        reason: String,
    },
    /// `[oslo_messaging_rabbit]` options that cannot be combined (oslo refuses them when the
    /// driver starts).
    #[error("conflicting [oslo_messaging_rabbit] options in {}: {message}", .files.join(", "))]
    Conflict {
        /// The files read.
        files: Vec<String>,
        /// Which options conflict.
        message: String,
    },
}

/// Where an option's value is written.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Location {
    /// The file.
    pub file: String,
    /// The 1-based line of the option.
    pub line: usize,
    /// The section, normalized as oslo.config compares it (`DEFAULT`, `oslo_messaging_rabbit`).
    pub section: String,
    /// The option as written (a deprecated name stays as written).
    pub option: String,
}

impl fmt::Display for Location {
    /// `nova.conf:12: [oslo_messaging_rabbit] ssl`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: [{}] {}",
            self.file, self.line, self.section, self.option
        )
    }
}

fn shown_line(text: &Option<String>) -> String {
    text.as_ref()
        .map(|text| format!(": {text:?}"))
        .unwrap_or_default()
}

/// Something oslo would silently ignore or accept with a deprecation warning, but that is
/// probably a mistake: an unknown or misplaced option, a removed or deprecated name, a
/// section name that is almost one we read. Values are never part of a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigWarning {
    /// The file.
    pub file: String,
    /// The 1-based line.
    pub line: usize,
    /// The section, normalized as oslo.config compares it.
    pub section: String,
    /// The option, or `None` for a warning about the section itself.
    pub option: Option<String>,
    /// What is wrong, and what to write instead when we know.
    pub message: String,
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: [{}]", self.file, self.line, self.section)?;
        if let Some(option) = &self.option {
            write!(f, " {option}")?;
        }
        write!(f, ": {}", self.message)
    }
}
