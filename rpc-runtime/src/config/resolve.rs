//! From parsed files to the values of the options we read, the way oslo.config finds them
//! (`_Namespace._get_file_value`, `ConfigOpts._do_get` and `_substitute`):
//!
//! * the last file that sets an option wins; within that file the current name wins over a
//!   deprecated one wherever they are, and the last assignment wins;
//! * only the winning value is substituted and converted, so a bad value that a later file
//!   overrides is no error;
//! * `$name` refers to option `name` of the value's own section, else of `[DEFAULT]`
//!   (`$group.name` to another section), and is replaced by the text that option resolves to.
//!
//! Three deliberate differences, all in `$name` references: a reference gets the option's
//! text, not Python's `str()` of its converted value (`yes`, not `True`); an
//! `[oslo_messaging_rabbit]` option that no file sets cannot be referenced (oslo would
//! substitute its default); and a name oslo.messaging does not register is looked up in the
//! files (as the service that registers it, nova say, would) instead of failing.

use std::collections::HashSet;
use std::time::Duration;

use super::NotificationOptions;
use super::error::{ConfigError, ConfigWarning, Location};
use super::ini::{self, DEFAULT_SECTION, Entry, IniFile};
use super::template;
use crate::rabbit_options::{self, DEPRECATED_NAMES, OPTION_NAMES, OptionError, RabbitOptions};
use crate::url::{self, Secret, TransportUrl, UrlError};

/// The section of the RabbitMQ driver's options.
pub(crate) const RABBIT_SECTION: &str = "oslo_messaging_rabbit";

/// The section of the notifier's options.
pub(crate) const NOTIFICATIONS_SECTION: &str = "oslo_messaging_notifications";

/// The options of `[oslo_messaging_notifications]` (oslo.messaging 18.3.1 has no deprecated
/// names for them).
const NOTIFICATION_OPTIONS: [&str; 4] = ["driver", "transport_url", "topics", "retry"];

/// The notification drivers oslo-rpc has (oslo also has `routing` and `test`).
pub(crate) const NOTIFICATION_DRIVERS: [&str; 4] = ["messagingv2", "messaging", "log", "noop"];

/// The `[DEFAULT]` options we read, with their oslo defaults as text (for `$name`).
const DEFAULT_OPTIONS: [(&str, &str); 3] = [
    ("transport_url", "rabbit://"),
    ("control_exchange", "openstack"),
    ("rpc_response_timeout", "60"),
];

/// How deep `$a` -> `$b` -> ... may nest; deeper is refused (Python recurses until it fails).
const MAX_REFERENCE_DEPTH: usize = 16;

/// How many references one set of files may expand in all, and how long a substituted value
/// may get: `a = $b$b$b$b`, `b = $c$c$c$c`, ... would otherwise grow exponentially.
const MAX_EXPANSIONS: usize = 1000;
const MAX_VALUE_LEN: usize = 64 * 1024;

/// One parsed file and the name messages use for it.
#[derive(Debug)]
pub(crate) struct ParsedFile {
    pub(crate) name: String,
    pub(crate) ini: IniFile,
}

/// What the files say.
#[derive(Debug)]
pub(crate) struct Resolved {
    pub(crate) transport_url: Option<Secret>,
    pub(crate) control_exchange: Option<String>,
    pub(crate) rpc_response_timeout: Option<Duration>,
    /// `(option, value)` for each `[oslo_messaging_rabbit]` option set, in
    /// [`OPTION_NAMES`] order, with current names and substituted values.
    pub(crate) rabbit_values: Vec<(String, String)>,
    pub(crate) rabbit: RabbitOptions,
    /// `[oslo_concurrency] lock_path`: where `use_queue_manager` takes its lock.
    pub(crate) lock_path: Option<String>,
    pub(crate) notifications: NotificationOptions,
    pub(crate) warnings: Vec<ConfigWarning>,
}

/// Resolves every option we read from `files` (in order, later ones winning).
pub(crate) fn resolve(files: &[ParsedFile]) -> Result<Resolved, ConfigError> {
    let secrets = Secrets::of(files);
    let mut resolver = Resolver {
        files,
        stack: Vec::new(),
        expansions: 0,
    };
    let mut rabbit = RabbitOptions::default();
    let mut rabbit_values = Vec::new();
    for name in OPTION_NAMES {
        let Some((found, value)) = resolver.value(RABBIT_SECTION, name)? else {
            continue;
        };
        rabbit
            .set(name, &value)
            .map_err(|error| found.invalid(&secrets.hide(&value), option_reason(error)))?;
        rabbit_values.push((name.to_owned(), value));
    }

    let control_exchange = resolver
        .value(DEFAULT_SECTION, "control_exchange")?
        .map(|(_, value)| value);
    let rpc_response_timeout = resolver
        .value(DEFAULT_SECTION, "rpc_response_timeout")?
        .map(|(found, value)| response_timeout(found, &value, &secrets))
        .transpose()?;
    let transport_url = resolver.value(DEFAULT_SECTION, "transport_url")?;

    let conflict = |message: String| ConfigError::Conflict {
        files: files.iter().map(|file| file.name.clone()).collect(),
        message,
    };
    match &transport_url {
        Some((found, text)) => match TransportUrl::parse_with_file_options(text, &rabbit_values) {
            Ok(_) => {}
            Err(UrlError::InvalidOption(OptionError::Conflict(message))) => {
                return Err(conflict(message.to_owned()));
            }
            Err(error) => {
                return Err(found.invalid(&secrets.hide(text), secrets.hide(&error.to_string())));
            }
        },
        None => rabbit.validate().map_err(|error| match error {
            OptionError::Conflict(message) => conflict(message.to_owned()),
            other => conflict(secrets.hide(&other.to_string())),
        })?,
    }

    // Read last, and leniently: it is not ours, and a reference we cannot resolve (nova's
    // `$state_path/tmp` where the files leave `state_path` to nova's default) must not make
    // the files unreadable. Without it, `OSLO_LOCK_PATH` applies, as in oslo.concurrency.
    let lock_path = match resolver.value("oslo_concurrency", "lock_path") {
        Ok(found) => found.map(|(_, value)| value),
        Err(error) => {
            tracing::warn!("[oslo_concurrency] lock_path ignored: {error}");
            None
        }
    };
    let mut warnings = warnings(files);
    let notifications = notifications(&mut resolver, &rabbit_values, &secrets, &mut warnings)?;
    // File by file, in line order.
    let file_index = |name: &str| files.iter().position(|file| file.name == name);
    warnings.sort_by_key(|warning| (file_index(&warning.file), warning.line));
    Ok(Resolved {
        transport_url: transport_url.map(|(_, text)| Secret::new(text)),
        control_exchange,
        rpc_response_timeout,
        rabbit_values,
        rabbit,
        lock_path,
        notifications,
        warnings,
    })
}

/// `[oslo_messaging_notifications]` as oslo.config gives it to oslo.messaging's notifier:
/// `driver` is multi-valued (every assignment of every file, in order), `topics` a list
/// (`a, b` is `["a", "b"]`), `retry` an integer (-1, any negative, retries forever), and
/// `transport_url` is checked like `[DEFAULT] transport_url`. A driver oslo-rpc does not
/// have is a warning and is ignored, as oslo ignores a driver it cannot load.
fn notifications(
    resolver: &mut Resolver<'_>,
    rabbit_values: &[(String, String)],
    secrets: &Secrets,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<NotificationOptions, ConfigError> {
    let section = NOTIFICATIONS_SECTION;
    let mut drivers = Vec::new();
    for file in resolver.files {
        for entry in &file.ini.entries {
            if entry.section != section || entry.key != "driver" {
                continue;
            }
            let found = Found { file, entry };
            let name = resolver.expand(found)?;
            if !NOTIFICATION_DRIVERS.contains(&name.as_str()) {
                warnings.push(ConfigWarning {
                    file: file.name.clone(),
                    line: entry.line,
                    section: entry.section.clone(),
                    option: Some(entry.key.clone()),
                    message: format!(
                        "driver {:?} is not one oslo-rpc has ({}); ignored, as oslo ignores a \
                         driver it cannot load",
                        secrets.hide(&name),
                        NOTIFICATION_DRIVERS.join(", ")
                    ),
                });
            }
            drivers.push(name);
        }
    }
    let topics = match resolver.value(section, "topics")? {
        None => vec![crate::notify::DEFAULT_TOPIC.to_owned()],
        Some((found, text)) => {
            let topics = oslo_list(&text);
            if topics.iter().any(String::is_empty) {
                return Err(found.invalid(
                    &secrets.hide(&text),
                    "an empty topic (a stray comma?); notifications would go to \".<priority>\""
                        .to_owned(),
                ));
            }
            topics
        }
    };
    let retry = match resolver.value(section, "retry")? {
        None => -1,
        Some((found, text)) => rabbit_options::convert_int("retry", &text, None)
            .map_err(|error| found.invalid(&secrets.hide(&text), option_reason(error)))?,
    };
    let transport_url = match resolver.value(section, "transport_url")? {
        None => None,
        Some((found, text)) => {
            if let Err(error) = TransportUrl::parse_with_file_options(&text, rabbit_values) {
                return Err(found.invalid(&secrets.hide(&text), secrets.hide(&error.to_string())));
            }
            Some(Secret::new(text))
        }
    };
    Ok(NotificationOptions {
        drivers,
        topics,
        retry,
        transport_url,
    })
}

/// oslo.config's `ListOpt` value: stripped, a trailing comma dropped, split at commas,
/// each item stripped; an empty value is an empty list.
fn oslo_list(text: &str) -> Vec<String> {
    let text = text
        .trim_matches(super::is_python_space)
        .trim_end_matches(',');
    if text.is_empty() {
        return Vec::new();
    }
    text.split(',')
        .map(|item| item.trim_matches(super::is_python_space).to_owned())
        .collect()
}

/// `rpc_response_timeout`: an oslo integer, and more than 0 (oslo takes 0 or less and then
/// times every call out at once).
fn response_timeout(
    found: Found<'_>,
    value: &str,
    secrets: &Secrets,
) -> Result<Duration, ConfigError> {
    match rabbit_options::convert_int(&found.entry.key, value, None) {
        Ok(seconds) if seconds >= 1 => Ok(Duration::from_secs(seconds.unsigned_abs())),
        Ok(_) => Err(found.invalid(
            value,
            "expected a positive number of seconds (with 0 or less every call would time out at once)"
                .to_owned(),
        )),
        Err(error) => Err(found.invalid(&secrets.hide(value), option_reason(error))),
    }
}

/// The passwords of every `transport_url` the files hold, as written and as substituted:
/// hidden wherever a value is shown, since any option may reference them (`$transport_url`,
/// or a `$pw` that the URL references too).
struct Secrets(Vec<String>);

impl Secrets {
    fn of(files: &[ParsedFile]) -> Secrets {
        // One resolver, so a hostile file with many URLs shares one expansion budget.
        let mut resolver = Resolver {
            files,
            stack: Vec::new(),
            expansions: 0,
        };
        let mut passwords = Vec::new();
        for file in files {
            for entry in file.ini.entries.iter().filter(|e| e.key == "transport_url") {
                passwords.extend(url::passwords(&entry.value));
                if let Ok(text) = resolver.expand(Found { file, entry }) {
                    passwords.extend(url::passwords(&text));
                }
            }
        }
        // Longest first, so a password containing another is hidden whole.
        passwords.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        passwords.dedup();
        Secrets(passwords)
    }

    /// `text` with URL passwords as `***` and every known password replaced by `***`.
    fn hide(&self, text: &str) -> String {
        let mut shown = if text.contains('@') {
            url::redact_passwords(text)
        } else {
            text.to_owned()
        };
        for password in &self.0 {
            if shown.contains(password.as_str()) {
                shown = shown.replace(password.as_str(), "***");
            }
        }
        shown
    }
}

fn option_reason(error: OptionError) -> String {
    match error {
        OptionError::InvalidValue { expected, .. } => format!("expected {expected}"),
        other => other.to_string(),
    }
}

/// Where a winning value was found.
#[derive(Clone, Copy)]
struct Found<'a> {
    file: &'a ParsedFile,
    entry: &'a Entry,
}

impl Found<'_> {
    fn location(self) -> Box<Location> {
        Box::new(Location {
            file: self.file.name.clone(),
            line: self.entry.line,
            section: self.entry.section.clone(),
            option: self.entry.key.clone(),
        })
    }

    fn invalid(self, value: &str, reason: String) -> ConfigError {
        ConfigError::InvalidValue {
            at: self.location(),
            value: value.to_owned(),
            reason,
        }
    }

    fn substitution(self, reference: &str, reason: impl Into<String>) -> ConfigError {
        ConfigError::Substitution {
            at: self.location(),
            reference: reference.to_owned(),
            reason: reason.into(),
        }
    }

    fn is(self, other: Found<'_>) -> bool {
        std::ptr::eq(self.entry, other.entry)
    }
}

struct Resolver<'a> {
    files: &'a [ParsedFile],
    /// The values being substituted, outermost first (to catch `$a` -> `$b` -> `$a`).
    stack: Vec<Found<'a>>,
    /// References expanded so far.
    expansions: usize,
}

impl<'a> Resolver<'a> {
    /// The winning assignment of option `name` (or of one of its deprecated names).
    fn find(&self, section: &str, name: &str) -> Option<Found<'a>> {
        let deprecated = DEPRECATED_NAMES
            .iter()
            .filter(|&&(_, current)| section == RABBIT_SECTION && current == name)
            .map(|&(old, _)| old);
        let names: Vec<&str> = std::iter::once(name).chain(deprecated).collect();
        self.files.iter().rev().find_map(|file| {
            names.iter().find_map(|&name| {
                file.ini
                    .last(section, name)
                    .map(|entry| Found { file, entry })
            })
        })
    }

    /// The winning value of `name`, substituted.
    fn value(
        &mut self,
        section: &str,
        name: &str,
    ) -> Result<Option<(Found<'a>, String)>, ConfigError> {
        match self.find(section, name) {
            Some(found) => Ok(Some((found, self.expand(found)?))),
            None => Ok(None),
        }
    }

    fn expand(&mut self, found: Found<'a>) -> Result<String, ConfigError> {
        self.stack.push(found);
        let result = template::expand(&found.entry.value, |name| {
            let text = self.reference(name, found)?;
            if text.len() > MAX_VALUE_LEN {
                return Err(found.substitution(
                    name,
                    format!("its value would exceed {MAX_VALUE_LEN} bytes"),
                ));
            }
            Ok(text)
        });
        self.stack.pop();
        result
    }

    /// What `$name`, written in `from`, stands for.
    fn reference(&mut self, name: &str, from: Found<'a>) -> Result<String, ConfigError> {
        let own = from.entry.section.as_str();
        let (sections, option): (Vec<String>, &str) = match name.split_once('.') {
            Some((group, option)) => (vec![ini::normalize_section(group)], option),
            // oslo: the value's group if the option is registered there, else [DEFAULT].
            None if own == RABBIT_SECTION && OPTION_NAMES.contains(&name) => {
                (vec![own.to_owned()], name)
            }
            None if own == DEFAULT_SECTION => (vec![own.to_owned()], name),
            None => (vec![own.to_owned(), DEFAULT_SECTION.to_owned()], name),
        };
        for section in &sections {
            let Some(target) = self.find(section, option) else {
                continue;
            };
            if let Some(start) = self.stack.iter().position(|seen| seen.is(target)) {
                let cycle: Vec<String> = self.stack[start..]
                    .iter()
                    .chain([&target])
                    .map(|seen| format!("[{}] {}", seen.entry.section, seen.entry.key))
                    .collect();
                return Err(from.substitution(name, format!("a loop: {}", cycle.join(" -> "))));
            }
            if self.stack.len() >= MAX_REFERENCE_DEPTH {
                return Err(from.substitution(
                    name,
                    format!("references nest more than {MAX_REFERENCE_DEPTH} deep"),
                ));
            }
            self.expansions += 1;
            if self.expansions > MAX_EXPANSIONS {
                return Err(from.substitution(
                    name,
                    format!("the files need more than {MAX_EXPANSIONS} substitutions"),
                ));
            }
            return self.expand(target);
        }
        let default = DEFAULT_OPTIONS
            .iter()
            .find(|&&(known, _)| sections.iter().any(|s| s == DEFAULT_SECTION) && known == option)
            .map(|&(_, text)| text.to_owned());
        default.ok_or_else(|| {
            let reason = if sections == [RABBIT_SECTION] && OPTION_NAMES.contains(&option) {
                "no config file sets that option (oslo.config would substitute its default; \
                 write the value instead)"
                    .to_owned()
            } else {
                format!(
                    "no config file sets {option} in {} (write $$ for a literal $)",
                    sections
                        .iter()
                        .map(|s| format!("[{s}]"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                )
            };
            from.substitution(name, reason)
        })
    }
}

/// Options oslo.messaging used to read and no longer does, with what replaced them.
const REMOVED_OPTIONS: [(&str, &str); 14] = [
    ("rabbit_host", "use [DEFAULT] transport_url"),
    ("rabbit_hosts", "use [DEFAULT] transport_url"),
    ("rabbit_port", "use [DEFAULT] transport_url"),
    ("rabbit_userid", "use [DEFAULT] transport_url"),
    ("rabbit_password", "use [DEFAULT] transport_url"),
    ("rabbit_virtual_host", "use [DEFAULT] transport_url"),
    (
        "rpc_backend",
        "the scheme of [DEFAULT] transport_url selects the driver",
    ),
    ("rabbit_max_retries", "it has no replacement"),
    ("rabbit_use_ssl", "use [oslo_messaging_rabbit] ssl"),
    (
        "kombu_ssl_version",
        "use [oslo_messaging_rabbit] ssl_version",
    ),
    (
        "kombu_ssl_keyfile",
        "use [oslo_messaging_rabbit] ssl_key_file",
    ),
    (
        "kombu_ssl_certfile",
        "use [oslo_messaging_rabbit] ssl_cert_file",
    ),
    (
        "kombu_ssl_ca_certs",
        "use [oslo_messaging_rabbit] ssl_ca_file",
    ),
    (
        "rabbit_durable_queues",
        "use [oslo_messaging_rabbit] amqp_durable_queues",
    ),
];

/// Options oslo.messaging 18.3.1 still reads but has deprecated for removal.
const DEPRECATED_FOR_REMOVAL: [(&str, &str); 3] = [
    (
        "ssl_enforce_hostname_verification",
        "verification is always enabled now",
    ),
    (
        "ssl_enforce_fips_mode",
        "it has no effect since OpenSSL 3 removed FIPS_mode_set",
    ),
    (
        "direct_mandatory_flag",
        "the mandatory flag can no longer be turned off",
    ),
];

/// Everything worth a warning, file by file, in line order.
fn warnings(files: &[ParsedFile]) -> Vec<ConfigWarning> {
    let mut warnings = Vec::new();
    for file in files {
        let mut warned_sections: HashSet<&str> = HashSet::new();
        for entry in &file.ini.entries {
            let warn = |option: Option<&str>, message: String| ConfigWarning {
                file: file.name.clone(),
                line: entry.line,
                section: entry.section.clone(),
                option: option.map(str::to_owned),
                message,
            };
            let key = entry.key.as_str();
            let message = match entry.section.as_str() {
                RABBIT_SECTION => rabbit_key_warning(key),
                DEFAULT_SECTION => default_key_warning(key),
                NOTIFICATIONS_SECTION => notification_key_warning(key),
                section => {
                    if warned_sections.insert(section)
                        && let Some(message) = section_warning(section)
                    {
                        warnings.push(warn(None, message));
                    }
                    None
                }
            };
            if let Some(message) = message {
                warnings.push(warn(Some(key), message));
            }
        }
    }
    warnings
}

fn rabbit_key_warning(key: &str) -> Option<String> {
    if let Some((_, reason)) = DEPRECATED_FOR_REMOVAL.iter().find(|(name, _)| *name == key) {
        return Some(format!(
            "deprecated for removal in oslo.messaging ({reason}); still read"
        ));
    }
    if OPTION_NAMES.contains(&key) {
        return None;
    }
    if let Some((_, current)) = DEPRECATED_NAMES.iter().find(|(old, _)| *old == key) {
        return Some(format!("deprecated name, still read: use {current}"));
    }
    if let Some((_, instead)) = REMOVED_OPTIONS.iter().find(|(name, _)| *name == key) {
        return Some(format!("removed from oslo.messaging, ignored: {instead}"));
    }
    if DEFAULT_OPTIONS.iter().any(|(name, _)| *name == key) {
        return Some("a [DEFAULT] option, ignored in [oslo_messaging_rabbit]".to_owned());
    }
    let hint = rabbit_options::closest_option_name(key)
        .map(|name| format!(" (did you mean {name:?}?)"))
        .unwrap_or_default();
    Some(format!("unknown option, ignored{hint}"))
}

fn notification_key_warning(key: &str) -> Option<String> {
    if NOTIFICATION_OPTIONS.contains(&key) {
        return None;
    }
    let hint = rabbit_options::closest_name(key, &NOTIFICATION_OPTIONS, 3)
        .map(|name| format!(" (did you mean {name:?}?)"))
        .unwrap_or_default();
    Some(format!("unknown option, ignored{hint}"))
}

/// `[DEFAULT]` holds every option of the service (nova's hundreds): only what is clearly
/// meant for oslo.messaging gets a warning.
fn default_key_warning(key: &str) -> Option<String> {
    if DEFAULT_OPTIONS.iter().any(|(name, _)| *name == key) {
        return None;
    }
    let rabbit_option =
        OPTION_NAMES.contains(&key) || DEPRECATED_NAMES.iter().any(|(old, _)| *old == key);
    if rabbit_option {
        return Some(
            "an [oslo_messaging_rabbit] option; oslo.messaging ignores it in [DEFAULT]".to_owned(),
        );
    }
    if let Some((_, instead)) = REMOVED_OPTIONS.iter().find(|(name, _)| *name == key) {
        return Some(format!("removed from oslo.messaging, ignored: {instead}"));
    }
    let names = DEFAULT_OPTIONS.map(|(name, _)| name);
    rabbit_options::closest_name(key, &names, 2)
        .map(|name| format!("not an oslo.messaging option (did you mean {name:?}?)"))
}

/// A section we do not read whose name is nearly one we do.
fn section_warning(section: &str) -> Option<String> {
    if section == "default" {
        return Some("ignored: oslo.config only reads [DEFAULT], in capitals".to_owned());
    }
    rabbit_options::closest_name(section, &[RABBIT_SECTION], 3)
        .map(|name| format!("section ignored (did you mean [{name}]?)"))
}
