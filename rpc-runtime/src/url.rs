//! Transport URLs: `rabbit://user:pass@host:port,host2/vhost?option=value` (spec §1.1).
//!
//! Parsing follows oslo's `TransportURL.parse`, which is Python's `urllib.parse.urlparse` plus
//! its own host splitting:
//!
//! * the scheme is case-insensitive and must be followed by `://`;
//! * the netloc (up to the first `/`, `?` or `#`) is split on `,` and empty entries are skipped;
//! * within a host, user info ends at the **last** `@`, and `user:pass` splits at the **first**
//!   `:`; user and password are percent-decoded, the host name is not;
//! * `[v6addr]` or `[v6addr]:port` is an IPv6 address; an unbracketed host with exactly one `:`
//!   is `host:port`, and one with several colons is an IPv6 address without a port;
//! * the virtual host is the path without its leading `/`, percent-decoded **once** (kombu decodes
//!   it a second time, spec §1.1 [BUG-minor]; we do not reproduce that);
//! * the query is parsed like `urllib.parse.parse_qs`: `&`-separated, `+` is a space, keys and
//!   values percent-decoded, pairs without `=` or with an empty value dropped, and a repeated key
//!   joined with `,`;
//! * a `#fragment` is ignored.
//!
//! Like `urlsplit`, leading spaces and control characters are stripped and tabs and line breaks
//! removed anywhere. We are stricter than oslo where oslo would fail later or silently misbehave:
//! ports must be 1 to 65535, host names must not be empty, brackets must enclose an IPv6
//! address, and option values are validated at parse time.
//!
//! The password never appears in `Debug`, `Display` or error messages.

use std::fmt::{self, Write as _};
use std::net::Ipv6Addr;
use std::str::FromStr;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use crate::rabbit_options::{OptionError, RabbitOptions};

/// The port used for a host given without one.
pub const DEFAULT_PORT: u16 = 5672;

/// A parsed transport URL (spec §1.1).
///
/// `Display` re-renders the URL in canonical form with the password replaced by `***`.
#[derive(Clone, Debug, PartialEq)]
pub struct TransportUrl {
    scheme: String,
    hosts: Vec<TransportHost>,
    virtual_host: Option<String>,
    query: Vec<(String, String)>,
    /// `[oslo_messaging_rabbit]` values from config files, under the query (empty without).
    file_options: Vec<(String, String)>,
    transport: Transport,
}

/// What the scheme selects, with the settings that only make sense for it.
#[derive(Clone, Debug, PartialEq)]
enum Transport {
    /// `rabbit`, `kombu` or `kombu+<x>`, with the options from the query.
    Rabbit(Box<RabbitOptions>),
    /// `memory://[<name>]`: an in-process broker; `""` is the default one.
    Memory { broker: String },
}

/// One broker of a transport URL.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransportHost {
    /// Host name or address, as written; IPv6 addresses without their brackets.
    pub hostname: String,
    /// The port, if the URL gave one; see [`TransportHost::port_or_default`].
    pub port: Option<u16>,
    /// The percent-decoded user name, if the host had user info (`user@host`); may be empty.
    /// Without credentials oslo passes empty ones and kombu falls back to `guest`/`guest`
    /// (spec §1.1).
    pub username: Option<String>,
    /// The percent-decoded password, if the user info had a `:`; may be empty.
    pub password: Option<Secret>,
}

impl TransportHost {
    /// The port to connect to: the URL's or 5672.
    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(DEFAULT_PORT)
    }
}

/// A password. `Debug` and `Display` print `***`; [`Secret::expose`] gives the real value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a password.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The password itself; keep it out of logs.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A transport URL that cannot be used. Messages never contain the password.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// Nothing to parse.
    #[error("transport URL is empty")]
    Empty,
    /// No `scheme:` at the start.
    #[error("transport URL has no scheme; expected e.g. rabbit://host")]
    MissingScheme,
    /// The scheme is not followed by `://`.
    #[error("transport URL scheme {scheme:?} must be followed by \"://\"")]
    MissingSchemeSeparator {
        /// The scheme as written.
        scheme: String,
    },
    /// A scheme other than `rabbit`, `kombu`, `kombu+<transport>` and `memory`.
    #[error(
        "unsupported transport URL scheme {scheme:?}; supported: rabbit, kombu, kombu+<transport>, memory"
    )]
    UnsupportedScheme {
        /// The scheme, lowercased.
        scheme: String,
    },
    /// A host entry whose host name is empty, e.g. `user@` or `:5672`.
    #[error("host #{position} of the transport URL has an empty host name")]
    EmptyHostName {
        /// 1-based position among the `,`-separated entries.
        position: usize,
    },
    /// Brackets that do not enclose an IPv6 address, or text after `]` other than `:port`.
    #[error("host #{position} of the transport URL is not a valid \"[IPv6]\" or \"[IPv6]:port\"")]
    InvalidIpv6Host {
        /// 1-based position among the `,`-separated entries.
        position: usize,
    },
    /// A port that is not a number from 1 to 65535.
    #[error("invalid port for host {host:?} in transport URL: expected a number from 1 to 65535")]
    InvalidPort {
        /// The host name the port belongs to.
        host: String,
    },
    /// A query key or value rejected by the `[oslo_messaging_rabbit]` options.
    #[error(transparent)]
    InvalidOption(#[from] OptionError),
    /// A query parameter on a `memory://` URL, which has no options.
    #[error("the memory:// transport takes no options, got {key:?}")]
    MemoryOption {
        /// The first query key.
        key: String,
    },
    /// A `memory://` URL with more than a broker name.
    #[error(
        "a memory:// URL is memory:// or memory://<name>, without credentials, port, several hosts or virtual host"
    )]
    InvalidMemoryUrl,
}

impl TransportUrl {
    /// Parses a transport URL (see the module documentation for the exact rules).
    ///
    /// ```
    /// use oslo_rpc_runtime::TransportUrl;
    ///
    /// let url = TransportUrl::parse("rabbit://nova:pw@rabbit-1:5672,nova:pw@rabbit-2/nova")?;
    /// assert!(url.is_rabbit());
    /// let hosts: Vec<(&str, u16)> = url
    ///     .hosts()
    ///     .iter()
    ///     .map(|h| (h.hostname.as_str(), h.port_or_default()))
    ///     .collect();
    /// assert_eq!(hosts, [("rabbit-1", 5672), ("rabbit-2", 5672)]);
    /// assert_eq!(url.virtual_host(), Some("nova"));
    /// assert!(TransportUrl::parse("memory://tests")?.is_memory());
    /// assert!(TransportUrl::parse("nats://host").is_err());
    /// # Ok::<(), oslo_rpc_runtime::url::UrlError>(())
    /// ```
    ///
    /// For `rabbit`/`kombu` the query is checked by building [`RabbitOptions`], so an unknown
    /// option or a bad value is an error here rather than when the driver starts.
    pub fn parse(url: &str) -> Result<Self, UrlError> {
        Self::parse_with_file_options(url, &[])
    }

    /// Parses a transport URL whose query overrides `[oslo_messaging_rabbit]` values read from
    /// oslo config files, as oslo's `ConfigOptsProxy` layers them (spec §1.1): each option is
    /// the query's value if the query has it, else the files', else oslo's default. Both are
    /// converted by [`RabbitOptions::set`], and the combination is checked once, so a query can
    /// settle a conflict the files alone would have.
    ///
    /// `file_options` are `(option name, value)` pairs with current option names, as
    /// [`OsloConfig::rabbit_values`](crate::config::OsloConfig::rabbit_values) gives them. A
    /// `memory://` URL ignores them.
    // Public for the fuzz targets; users give file options through `Transport::from_config`.
    #[doc(hidden)]
    pub fn parse_with_file_options(
        url: &str,
        file_options: &[(String, String)],
    ) -> Result<Self, UrlError> {
        let url = clean(url);
        if url.is_empty() {
            return Err(UrlError::Empty);
        }
        let (scheme, rest) = split_scheme(&url)?;
        check_scheme(&scheme)?;
        let rest = rest
            .strip_prefix("//")
            .ok_or_else(|| UrlError::MissingSchemeSeparator {
                scheme: scheme.clone(),
            })?;

        let netloc_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (netloc, rest) = rest.split_at(netloc_end);
        let rest = rest
            .split_once('#')
            .map_or(rest, |(before, _fragment)| before);
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let virtual_host = path.strip_prefix('/').map(unquote);
        let query = parse_query(query);

        if scheme == "memory" {
            let broker = parse_memory_broker(netloc, virtual_host.as_deref())?;
            if let Some((key, _)) = query.first() {
                return Err(UrlError::MemoryOption { key: key.clone() });
            }
            let transport = Transport::Memory { broker };
            return Ok(Self {
                scheme,
                hosts: Vec::new(),
                virtual_host,
                query,
                file_options: Vec::new(),
                transport,
            });
        }

        let hosts = netloc
            .split(',')
            .enumerate()
            .filter(|(_, entry)| !entry.is_empty())
            .map(|(index, entry)| parse_host(entry, index + 1))
            .collect::<Result<Vec<_>, _>>()?;
        let mut options = RabbitOptions::default();
        for (key, value) in file_options {
            options.set(key, value)?;
        }
        options.apply_query(&query)?;
        Ok(Self {
            scheme,
            hosts,
            virtual_host,
            query,
            file_options: file_options.to_vec(),
            transport: Transport::Rabbit(Box::new(options)),
        })
    }

    /// The scheme, lowercased: `rabbit`, `kombu`, `kombu+<transport>` or `memory`.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The driver: the scheme up to its first `+` (`rabbit`, `kombu` or `memory`).
    pub fn driver(&self) -> &str {
        self.scheme.split('+').next().unwrap_or(&self.scheme)
    }

    /// For `kombu+<transport>` schemes, the kombu transport named after the `+`.
    ///
    /// oslo hands such URLs to kombu as they are (e.g. `kombu+memory:///`); only used in tests.
    pub(crate) fn kombu_transport(&self) -> Option<&str> {
        self.scheme.strip_prefix("kombu+")
    }

    /// Whether the RabbitMQ driver serves this URL: `rabbit` and `kombu` both load
    /// `impl_rabbit:RabbitDriver` in oslo (spec §1.1).
    pub fn is_rabbit(&self) -> bool {
        matches!(self.transport, Transport::Rabbit(_))
    }

    /// Whether this is a `memory://` URL (our in-process transport).
    pub fn is_memory(&self) -> bool {
        matches!(self.transport, Transport::Memory { .. })
    }

    /// For `memory://` URLs, the name of the isolated in-process broker: `""` for `memory://`,
    /// `"bench-1"` for `memory://bench-1`.
    pub fn memory_broker_name(&self) -> Option<&str> {
        match &self.transport {
            Transport::Memory { broker } => Some(broker),
            Transport::Rabbit(_) => None,
        }
    }

    /// The brokers, in URL order. Empty for `rabbit://` (the driver then uses
    /// `guest:guest@localhost:5672`) and for `memory://` URLs.
    pub fn hosts(&self) -> &[TransportHost] {
        &self.hosts
    }

    /// The percent-decoded virtual host as oslo sees it: `None` without a path, `""` for `/`,
    /// `"/"` for `//`.
    pub fn virtual_host(&self) -> Option<&str> {
        self.virtual_host.as_deref()
    }

    /// The virtual host the broker sees: `None`, `""` and `"/"` all mean `/` (spec §1.1).
    pub fn effective_virtual_host(&self) -> &str {
        match self.virtual_host.as_deref() {
            None | Some("") => "/",
            Some(vhost) => vhost,
        }
    }

    /// The decoded query pairs in order of first appearance, repeated keys joined with `,`.
    pub fn query(&self) -> &[(String, String)] {
        &self.query
    }

    /// Whether `[oslo_messaging_rabbit]` option `name` was given, in the query or in the config
    /// files the URL was parsed with, rather than left at its default.
    pub(crate) fn option_given(&self, name: &str) -> bool {
        self.query
            .iter()
            .chain(&self.file_options)
            .any(|(key, _)| key == name)
    }

    /// The `[oslo_messaging_rabbit]` options: defaults, overridden by the config files' values
    /// (see [`TransportUrl::parse_with_file_options`]), overridden by the query. `None` for
    /// `memory://` URLs.
    pub fn rabbit_options(&self) -> Option<&RabbitOptions> {
        match &self.transport {
            Transport::Rabbit(options) => Some(options),
            Transport::Memory { .. } => None,
        }
    }
}

impl FromStr for TransportUrl {
    type Err = UrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for TransportUrl {
    type Error = UrlError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl fmt::Display for TransportUrl {
    /// The URL in canonical form with every password shown as `***`. Parsing the output gives
    /// back the same URL except for the passwords.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.scheme)?;
        if let Some(broker) = self.memory_broker_name() {
            f.write_str(broker)?;
        }
        for (index, host) in self.hosts.iter().enumerate() {
            if index > 0 {
                f.write_char(',')?;
            }
            if let Some(username) = &host.username {
                f.write_str(&quote(username, USERINFO_SAFE))?;
                if host.password.is_some() {
                    f.write_str(":***")?;
                }
                f.write_char('@')?;
            }
            // Unbracketed garbage with colons (accepted like oslo does) stays unbracketed.
            if is_ipv6(&host.hostname) {
                write!(f, "[{}]", host.hostname)?;
            } else {
                f.write_str(&host.hostname)?;
            }
            if let Some(port) = host.port {
                write!(f, ":{port}")?;
            }
        }
        if let Some(vhost) = &self.virtual_host {
            write!(f, "/{}", quote(vhost, PATH_SAFE))?;
        }
        for (index, (key, value)) in self.query.iter().enumerate() {
            let separator = if index == 0 { '?' } else { '&' };
            write!(
                f,
                "{separator}{}={}",
                quote(key, QUERY_SAFE),
                quote(value, QUERY_SAFE)
            )?;
        }
        Ok(())
    }
}

/// `text`, a transport URL that may not parse, with every password replaced by `***`: each
/// `,`-separated entry of what follows `://` (up to `/`, `?` or `#`) is split at its last `@`
/// and the user info at its first `:`, as [`TransportUrl::parse`] splits them. Text without
/// `://` is taken as one netloc, so nothing that parsing could read as a password survives.
pub(crate) fn redact_passwords(text: &str) -> String {
    let text = clean(text);
    let (prefix, rest) = match text.find("://") {
        Some(index) => text.split_at(index + 3),
        None => ("", text.as_str()),
    };
    let netloc_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (netloc, tail) = rest.split_at(netloc_end);
    let entries: Vec<String> = netloc
        .split(',')
        .map(|entry| match entry.rsplit_once('@') {
            Some((userinfo, host)) => match userinfo.split_once(':') {
                Some((user, _password)) => format!("{user}:***@{host}"),
                None => entry.to_owned(),
            },
            None => entry.to_owned(),
        })
        .collect();
    format!("{prefix}{}{tail}", entries.join(","))
}

/// The passwords [`redact_passwords`] would hide in `text`, as written (not percent-decoded),
/// empty ones left out.
pub(crate) fn passwords(text: &str) -> Vec<String> {
    let text = clean(text);
    let rest = text
        .find("://")
        .map_or(text.as_str(), |index| &text[index + 3..]);
    let netloc = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    netloc
        .split(',')
        .filter_map(|entry| entry.rsplit_once('@'))
        .filter_map(|(userinfo, _host)| userinfo.split_once(':'))
        .map(|(_user, password)| password.to_owned())
        .filter(|password| !password.is_empty())
        .collect()
}

/// What `urlsplit` does before parsing: strip leading C0 controls and spaces, drop tabs and
/// line breaks anywhere.
fn clean(url: &str) -> String {
    url.trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\r' | '\n'))
        .collect()
}

/// Splits `scheme:rest` the way `urlsplit` recognises a scheme, lowercasing it.
fn split_scheme(url: &str) -> Result<(String, &str), UrlError> {
    let (scheme, rest) = url.split_once(':').ok_or(UrlError::MissingScheme)?;
    let starts_with_letter = scheme.starts_with(|c: char| c.is_ascii_alphabetic());
    let scheme_chars = scheme
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !(starts_with_letter && scheme_chars) {
        return Err(UrlError::MissingScheme);
    }
    Ok((scheme.to_ascii_lowercase(), rest))
}

fn check_scheme(scheme: &str) -> Result<(), UrlError> {
    let supported = match scheme {
        "rabbit" | "kombu" | "memory" => true,
        _ => scheme
            .strip_prefix("kombu+")
            .is_some_and(|transport| !transport.is_empty()),
    };
    if supported {
        Ok(())
    } else {
        Err(UrlError::UnsupportedScheme {
            scheme: scheme.to_owned(),
        })
    }
}

/// `memory://` or `memory://<name>`, optionally followed by `/`.
fn parse_memory_broker(netloc: &str, virtual_host: Option<&str>) -> Result<String, UrlError> {
    let plain_name = !netloc.contains(['@', ':', ',', '[', ']']);
    let no_vhost = matches!(virtual_host, None | Some(""));
    if plain_name && no_vhost {
        Ok(netloc.to_owned())
    } else {
        Err(UrlError::InvalidMemoryUrl)
    }
}

/// One `,`-separated netloc entry: `[user[:pass]@]host[:port]`.
fn parse_host(entry: &str, position: usize) -> Result<TransportHost, UrlError> {
    let (userinfo, host_port) = match entry.rsplit_once('@') {
        Some((userinfo, host_port)) => (Some(userinfo), host_port),
        None => (None, entry),
    };
    let (username, password) = match userinfo {
        None => (None, None),
        Some(userinfo) => match userinfo.split_once(':') {
            Some((user, password)) => (Some(unquote(user)), Some(Secret(unquote(password)))),
            None => (Some(unquote(userinfo)), None),
        },
    };
    let (hostname, port_text) = split_host_port(host_port, position)?;
    if hostname.is_empty() {
        return Err(UrlError::EmptyHostName { position });
    }
    let port = port_text
        .map(|text| parse_port(text, hostname))
        .transpose()?;
    Ok(TransportHost {
        hostname: hostname.to_owned(),
        port,
        username,
        password,
    })
}

/// `oslo_utils.netutils.parse_host_port`, refusing what `urlsplit` would refuse.
fn split_host_port(host_port: &str, position: usize) -> Result<(&str, Option<&str>), UrlError> {
    let invalid_ipv6 = || UrlError::InvalidIpv6Host { position };
    if let Some(bracketed) = host_port.strip_prefix('[') {
        let (address, after) = bracketed.split_once(']').ok_or_else(invalid_ipv6)?;
        if !is_ipv6(address) {
            return Err(invalid_ipv6());
        }
        return match after {
            "" => Ok((address, None)),
            _ => after
                .strip_prefix(':')
                .map(|port| (address, Some(port)))
                .ok_or_else(invalid_ipv6),
        };
    }
    if host_port.contains(['[', ']']) {
        return Err(invalid_ipv6());
    }
    // One colon separates the port; several mean an IPv6 address without brackets or port.
    match host_port.split_once(':') {
        Some((host, port)) if !port.contains(':') => Ok((host, Some(port))),
        _ => Ok((host_port, None)),
    }
}

/// An IPv6 address, optionally with a `%zone` suffix as Python's `ipaddress` accepts.
fn is_ipv6(address: &str) -> bool {
    let (address, zone) = address.split_once('%').unwrap_or((address, "x"));
    !zone.is_empty() && address.parse::<Ipv6Addr>().is_ok()
}

fn parse_port(text: &str, hostname: &str) -> Result<u16, UrlError> {
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    match text.parse::<u16>() {
        Ok(port) if digits && port != 0 => Ok(port),
        _ => Err(UrlError::InvalidPort {
            host: hostname.to_owned(),
        }),
    }
}

/// `urllib.parse.parse_qs(query)` with repeated keys joined by `,` as oslo does.
fn parse_query(query: &str) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for field in query.split('&') {
        // keep_blank_values=False: fields without "=" or with an empty value are dropped.
        let Some((key, value)) = field.split_once('=') else {
            continue;
        };
        if value.is_empty() {
            continue;
        }
        let key = unquote(&key.replace('+', " "));
        let value = unquote(&value.replace('+', " "));
        match pairs.iter_mut().find(|(existing, _)| *existing == key) {
            Some((_, joined)) => {
                joined.push(',');
                joined.push_str(&value);
            }
            None => pairs.push((key, value)),
        }
    }
    pairs
}

/// `urllib.parse.unquote`: decodes `%XX` escapes as UTF-8, replacing invalid sequences with
/// U+FFFD and leaving malformed escapes as they are.
fn unquote(text: &str) -> String {
    percent_decode_str(text).decode_utf8_lossy().into_owned()
}

/// What is left unescaped when rendering: ASCII letters and digits, `-._~`, and per part
/// the characters below.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// `!$&'()*+;=`
const USERINFO_SAFE: &AsciiSet = &UNRESERVED
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b';')
    .remove(b'=');
/// `!$&'()*+,;=:@/`
const PATH_SAFE: &AsciiSet = &USERINFO_SAFE
    .remove(b',')
    .remove(b':')
    .remove(b'@')
    .remove(b'/');
/// `!$'()*,/:;@`
const QUERY_SAFE: &AsciiSet = &UNRESERVED
    .remove(b'!')
    .remove(b'$')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b',')
    .remove(b'/')
    .remove(b':')
    .remove(b';')
    .remove(b'@');

/// Percent-encodes everything but unreserved characters and `safe`, so that parsing the
/// result gives `text` back.
fn quote(text: &str, safe: &'static AsciiSet) -> String {
    utf8_percent_encode(text, safe).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rabbit_options::LoginMethod;

    fn parse(url: &str) -> TransportUrl {
        TransportUrl::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    fn error(url: &str) -> UrlError {
        match TransportUrl::parse(url) {
            Ok(parsed) => panic!("{url:?} parsed as {parsed}"),
            Err(err) => err,
        }
    }

    /// (hostname, port, username, password) as in the spec's §1.1 table.
    type HostRow<'a> = (&'a str, Option<u16>, Option<&'a str>, Option<&'a str>);

    fn host_rows(url: &TransportUrl) -> Vec<HostRow<'_>> {
        url.hosts()
            .iter()
            .map(|h| {
                (
                    h.hostname.as_str(),
                    h.port,
                    h.username.as_deref(),
                    h.password.as_ref().map(Secret::expose),
                )
            })
            .collect()
    }

    #[test]
    fn spec_1_1_examples() {
        let url = parse("rabbit://");
        assert_eq!(host_rows(&url), vec![]);
        assert_eq!(
            (url.virtual_host(), url.effective_virtual_host()),
            (None, "/")
        );

        let url = parse("rabbit://u:p@h1:5673//");
        assert_eq!(
            host_rows(&url),
            vec![("h1", Some(5673), Some("u"), Some("p"))]
        );
        assert_eq!(url.virtual_host(), Some("/"));

        let url = parse("rabbit://u:p%40x@h1,u2:p2@[::1]:5674/vh%2Fa?ssl=1");
        assert_eq!(
            host_rows(&url),
            vec![
                ("h1", None, Some("u"), Some("p@x")),
                ("::1", Some(5674), Some("u2"), Some("p2"))
            ]
        );
        assert_eq!(url.virtual_host(), Some("vh/a"));
        assert_eq!(url.query(), [("ssl".to_owned(), "1".to_owned())]);
        assert_eq!(url.rabbit_options().map(|o| o.ssl), Some(true));

        let url = parse("rabbit://user@domain:pa:ss@host:1/v");
        assert_eq!(
            host_rows(&url),
            vec![("host", Some(1), Some("user@domain"), Some("pa:ss"))]
        );
        assert_eq!(url.virtual_host(), Some("v"));
    }

    #[test]
    fn schemes_and_drivers() {
        let table = [
            ("rabbit://", "rabbit", "rabbit", None, true),
            ("kombu://h", "kombu", "kombu", None, true),
            (
                "kombu+memory:///",
                "kombu+memory",
                "kombu",
                Some("memory"),
                true,
            ),
            ("RABBIT://h", "rabbit", "rabbit", None, true),
            ("memory://", "memory", "memory", None, false),
        ];
        for (input, scheme, driver, kombu_transport, is_rabbit) in table {
            let url = parse(input);
            assert_eq!(url.scheme(), scheme, "{input}");
            assert_eq!(url.driver(), driver, "{input}");
            assert_eq!(url.kombu_transport(), kombu_transport, "{input}");
            assert_eq!(url.is_rabbit(), is_rabbit, "{input}");
            assert_eq!(url.is_memory(), !is_rabbit, "{input}");
        }
    }

    #[test]
    fn ipv6_hosts() {
        let table: [(&str, HostRow<'_>); 5] = [
            ("rabbit://[::1]", ("::1", None, None, None)),
            ("rabbit://[::1]:5674", ("::1", Some(5674), None, None)),
            (
                "rabbit://u:p@[fe80::1%25eth0]:1",
                ("fe80::1%25eth0", Some(1), Some("u"), Some("p")),
            ),
            ("rabbit://[2001:db8::2]/", ("2001:db8::2", None, None, None)),
            // netutils.parse_host_port: several colons without brackets mean IPv6, no port.
            ("rabbit://::1", ("::1", None, None, None)),
        ];
        for (input, row) in table {
            assert_eq!(host_rows(&parse(input)), vec![row], "{input}");
        }
        for bad in [
            "rabbit://[::1",
            "rabbit://[::1]x",
            "rabbit://[::1]5672",
            "rabbit://[h1]",
            "rabbit://h]",
            "rabbit://a[::1]",
        ] {
            assert!(
                matches!(error(bad), UrlError::InvalidIpv6Host { position: 1 }),
                "{bad}"
            );
        }
        assert!(matches!(
            error("rabbit://[::1]:"),
            UrlError::InvalidPort { .. }
        ));
    }

    #[test]
    fn per_host_credentials_and_defaults() {
        let url = parse("rabbit://a:1@h1:5000,,h2,b@h3,c:@h4,");
        assert_eq!(
            host_rows(&url),
            vec![
                ("h1", Some(5000), Some("a"), Some("1")),
                ("h2", None, None, None),
                ("h3", None, Some("b"), None),
                ("h4", None, Some("c"), Some("")),
            ]
        );
        let ports: Vec<u16> = url
            .hosts()
            .iter()
            .map(TransportHost::port_or_default)
            .collect();
        assert_eq!(ports, [5000, 5672, 5672, 5672]);
    }

    #[test]
    fn percent_decoding() {
        let url = parse("rabbit://us%3Aer%2C1:p%2Fw%3A%25@h/v%20h%C3%A9%zz%");
        assert_eq!(
            host_rows(&url),
            vec![("h", None, Some("us:er,1"), Some("p/w:%"))]
        );
        assert_eq!(url.virtual_host(), Some("v hé%zz%"));
        // Decoded once, unlike kombu: %252F stays %2F.
        assert_eq!(parse("rabbit://h/a%252Fb").virtual_host(), Some("a%2Fb"));
        // Invalid UTF-8 is replaced, as Python's unquote does.
        assert_eq!(parse("rabbit://h/%FF").virtual_host(), Some("\u{FFFD}"));
        // Host names are not decoded.
        assert_eq!(
            host_rows(&parse("rabbit://h%41")),
            vec![("h%41", None, None, None)]
        );
    }

    #[test]
    fn virtual_hosts() {
        let table = [
            ("rabbit://h", None, "/"),
            ("rabbit://h/", Some(""), "/"),
            ("rabbit://h//", Some("/"), "/"),
            ("rabbit://h/%2F", Some("/"), "/"),
            ("rabbit://h/nova", Some("nova"), "nova"),
            ("rabbit://h?ssl=0", None, "/"),
            ("rabbit://h/v#fragment/x", Some("v"), "v"),
            ("rabbit:///v", Some("v"), "v"),
        ];
        for (input, vhost, effective) in table {
            let url = parse(input);
            assert_eq!(url.virtual_host(), vhost, "{input}");
            assert_eq!(url.effective_virtual_host(), effective, "{input}");
        }
        assert_eq!(host_rows(&parse("rabbit:///v")), vec![]);
    }

    #[test]
    fn query_like_parse_qs() {
        let url = parse(
            "rabbit://h/?ssl_ca_file=a+b%2Bc&x=&flag&&ssl_version=1&ssl_version=2&ssl_version=3",
        );
        assert_eq!(
            url.query(),
            [
                ("ssl_ca_file".to_owned(), "a b+c".to_owned()),
                ("ssl_version".to_owned(), "1,2,3".to_owned())
            ]
        );
        let options = url.rabbit_options();
        assert_eq!(options.map(|o| o.ssl_version.as_str()), Some("1,2,3"));
        assert_eq!(options.map(|o| o.ssl_ca_file.as_str()), Some("a b+c"));
        // Keys are percent-decoded too.
        let url = parse("rabbit://h?rabbit%5Flogin_method=PLAIN&heartbeat_rate=5#heartbeat_rate=x");
        assert_eq!(
            url.rabbit_options()
                .map(|o| (o.rabbit_login_method, o.heartbeat_rate)),
            Some((LoginMethod::Plain, 5))
        );
    }

    #[test]
    fn options_are_validated_at_parse_time() {
        let err = error("rabbit://h?heartbeat_timeout_threshold=10&bogus_option=1");
        assert_eq!(
            err.to_string(),
            r#"unknown option "bogus_option" in [oslo_messaging_rabbit]"#
        );
        let err = error("rabbit://h?ssl=maybe");
        assert!(
            matches!(
                err,
                UrlError::InvalidOption(OptionError::InvalidValue { .. })
            ),
            "{err:?}"
        );
        assert_eq!(
            parse("rabbit://h").rabbit_options(),
            Some(&RabbitOptions::default())
        );
    }

    #[test]
    fn bad_ports_name_the_host() {
        for port in ["0", "65536", "99999999999", "-1", "+1", " 1", "x", ""] {
            let url = format!("rabbit://u:p@host1:{port}");
            let err = error(&url);
            assert_eq!(
                err.to_string(),
                r#"invalid port for host "host1" in transport URL: expected a number from 1 to 65535"#,
                "{url}"
            );
        }
        assert_eq!(parse("rabbit://h:65535").hosts()[0].port, Some(65535));
        assert_eq!(parse("rabbit://h:05672").hosts()[0].port, Some(5672));
    }

    #[test]
    fn scheme_errors() {
        assert_eq!(error(""), UrlError::Empty);
        assert_eq!(error(" \t\n"), UrlError::Empty);
        assert_eq!(error("localhost"), UrlError::MissingScheme);
        assert_eq!(error("://h"), UrlError::MissingScheme);
        assert_eq!(error("1abc://h"), UrlError::MissingScheme);
        assert_eq!(
            error("rabbit:h"),
            UrlError::MissingSchemeSeparator {
                scheme: "rabbit".to_owned()
            }
        );
        assert_eq!(
            error("rabbit:/h").to_string(),
            r#"transport URL scheme "rabbit" must be followed by "://""#
        );
        let err = error("amqp://guest:guest@h");
        assert_eq!(
            err.to_string(),
            r#"unsupported transport URL scheme "amqp"; supported: rabbit, kombu, kombu+<transport>, memory"#
        );
        assert!(matches!(
            error("kombu+://h"),
            UrlError::UnsupportedScheme { .. }
        ));
        assert!(matches!(
            error("amqp:h"),
            UrlError::UnsupportedScheme { .. }
        ));
    }

    #[test]
    fn empty_host_names() {
        assert_eq!(
            error("rabbit://h1,u:p@"),
            UrlError::EmptyHostName { position: 2 }
        );
        assert_eq!(
            error("rabbit://:5672"),
            UrlError::EmptyHostName { position: 1 }
        );
    }

    #[test]
    fn urlsplit_cleaning() {
        let url = parse("  rabbit://h\t1:56\r\n72/v ");
        assert_eq!(host_rows(&url), vec![("h1", Some(5672), None, None)]);
        assert_eq!(
            url.virtual_host(),
            Some("v "),
            "urlsplit keeps trailing spaces"
        );
    }

    #[test]
    fn memory_urls() {
        let url = parse("memory://");
        assert_eq!((url.memory_broker_name(), url.hosts().len()), (Some(""), 0));
        assert_eq!(url.rabbit_options(), None);
        assert_eq!(
            parse("memory://bench-1").memory_broker_name(),
            Some("bench-1")
        );
        assert_eq!(
            parse("memory://bench-1/").memory_broker_name(),
            Some("bench-1")
        );
        assert_eq!(parse("rabbit://bench-1").memory_broker_name(), None);
        assert_eq!(
            error("memory://?ssl=1"),
            UrlError::MemoryOption {
                key: "ssl".to_owned()
            }
        );
        for bad in [
            "memory://u:p@x",
            "memory://a,b",
            "memory://x:1",
            "memory://x/vhost",
            "memory://[::1]",
        ] {
            assert_eq!(error(bad), UrlError::InvalidMemoryUrl, "{bad}");
        }
        assert_eq!(parse("memory://bench-1").to_string(), "memory://bench-1");
    }

    #[test]
    fn display_redacts_and_round_trips() {
        let table = [
            ("rabbit://", "rabbit://"),
            ("rabbit://u:p@h1:5673//", "rabbit://u:***@h1:5673//"),
            (
                "rabbit://u:p%40x@h1,u2:p2@[::1]:5674/vh%2Fa?ssl=1",
                "rabbit://u:***@h1,u2:***@[::1]:5674/vh/a?ssl=1",
            ),
            (
                "rabbit://user@domain:pa:ss@host:1/v",
                "rabbit://user%40domain:***@host:1/v",
            ),
            (
                "KOMBU://a@h,,h2:1/%3Fq%20?ssl_version=a+b&ssl_version=c%26",
                "kombu://a@h,h2:1/%3Fq%20?ssl_version=a%20b,c%26",
            ),
            ("rabbit://::1/", "rabbit://[::1]/"),
        ];
        for (input, rendered) in table {
            let url = parse(input);
            assert_eq!(url.to_string(), rendered, "{input}");
            let reparsed = parse(rendered);
            assert_eq!(
                (reparsed.virtual_host(), reparsed.query()),
                (url.virtual_host(), url.query()),
                "{input}"
            );
            let without_passwords = |url: &TransportUrl| {
                let rows: Vec<_> = host_rows(url)
                    .into_iter()
                    .map(|(h, p, u, _)| (h.to_owned(), p, u.map(str::to_owned)))
                    .collect();
                rows
            };
            assert_eq!(
                without_passwords(&reparsed),
                without_passwords(&url),
                "{input}"
            );
        }
    }

    #[test]
    fn password_never_leaks() {
        const PASSWORD: &str = "Sup3rS3cretPassw0rd";
        let valid = [
            format!(
                "rabbit://user:{PASSWORD}@h1:5672,other:{PASSWORD}@[::1]:1/vh?heartbeat_rate=2"
            ),
            format!("rabbit://user:{PASSWORD}@h1"),
        ];
        for input in &valid {
            let url = parse(input);
            for text in [
                format!("{url}"),
                format!("{url:?}"),
                format!("{url:#?}"),
                format!("{:?}", url.hosts()),
            ] {
                assert!(!text.contains(PASSWORD), "{text}");
            }
            let password = url.hosts()[0].password.as_ref().map(Secret::expose);
            assert_eq!(password, Some(PASSWORD));
        }
        // Every error variant, triggered by URLs carrying the password.
        let invalid = [
            format!("amqp://user:{PASSWORD}@h"),
            format!("1user:{PASSWORD}@h"),
            format!("rabbit:user:{PASSWORD}@h"),
            format!("user:{PASSWORD}@h"),
            format!("rabbit://user:{PASSWORD}@h:0"),
            format!("rabbit://user:{PASSWORD}@"),
            format!("rabbit://user:{PASSWORD}@[h]"),
            format!("rabbit://user:{PASSWORD}@h?nope=1"),
            format!("rabbit://user:{PASSWORD}@h?ssl=nope"),
            format!("rabbit://user:{PASSWORD}@h?rabbit_ha_queues=1&rabbit_quorum_queue=1"),
            format!("memory://user:{PASSWORD}@h"),
            format!("memory://?k={PASSWORD}"),
            format!("rabbit://user:pre/{PASSWORD}@h"),
            format!("rabbit://user:pre,{PASSWORD}@h:x"),
        ];
        let mut variants = std::collections::BTreeSet::new();
        for input in invalid.iter().map(String::as_str).chain([""]) {
            let err = error(input);
            for text in [err.to_string(), format!("{err:?}")] {
                assert!(!text.contains(PASSWORD), "{input}: {text}");
            }
            variants.insert(
                format!("{err:?}")
                    .split([' ', '(', '{'])
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
        assert_eq!(
            variants.len(),
            10,
            "every UrlError variant is covered: {variants:?}"
        );
        assert_eq!(
            format!("{:?} {}", Secret::new(PASSWORD), Secret::new(PASSWORD)),
            "*** ***"
        );
    }

    #[test]
    fn file_options_sit_under_the_query() {
        // spec §1.1: a query value overrides the config file's; the rest of the file stays.
        let file = [
            ("heartbeat_timeout_threshold".to_owned(), "30".to_owned()),
            (
                "rabbit_transient_quorum_queue".to_owned(),
                "true".to_owned(),
            ),
            ("rabbit_qos_prefetch_count".to_owned(), "1".to_owned()),
        ];
        let url = TransportUrl::parse_with_file_options(
            "rabbit://h/?heartbeat_timeout_threshold=10&rabbit_stream_fanout=1",
            &file,
        )
        .unwrap();
        let o = url.rabbit_options().unwrap();
        assert_eq!(o.heartbeat_timeout_threshold, 10);
        assert!(o.rabbit_transient_quorum_queue && o.rabbit_stream_fanout);
        assert!(url.option_given("rabbit_qos_prefetch_count"));
        assert!(url.option_given("rabbit_stream_fanout"));
        assert!(!url.option_given("heartbeat_rate"));
        // Checked together: the stream fanout needs the file's transient quorum queues.
        assert!(TransportUrl::parse("rabbit://h/?rabbit_stream_fanout=1").is_err());
        // Display shows the URL only.
        assert_eq!(
            url.to_string(),
            "rabbit://h/?heartbeat_timeout_threshold=10&rabbit_stream_fanout=1"
        );
        // memory:// ignores them.
        let memory = TransportUrl::parse_with_file_options("memory://", &file).unwrap();
        assert_eq!(memory.rabbit_options(), None);
        assert!(!memory.option_given("rabbit_qos_prefetch_count"));
    }

    #[test]
    fn passwords_are_what_redaction_hides() {
        assert_eq!(passwords("rabbit://u:p@h1,h2,u@h3,:q@h4/x:y@z"), ["p", "q"]);
        assert_eq!(passwords("rabbit://u@d:p:a@ss@h/"), ["p:a@ss"]);
        assert_eq!(passwords("u:p%40\n@h"), ["p%40"]);
        assert!(passwords("rabbit://h/?a=b:c@d").is_empty());
        assert!(passwords("rabbit://u:@h/").is_empty());
    }

    #[test]
    fn redact_passwords_as_parse_would_split_them() {
        for (text, redacted) in [
            ("rabbit://u:p@h/v?x=1", "rabbit://u:***@h/v?x=1"),
            (
                "rabbit://u:p@h1,h2,u@h3,:p@h4/",
                "rabbit://u:***@h1,h2,u@h3,:***@h4/",
            ),
            ("rabbit://u@d:p:a@ss@h:99999/", "rabbit://u@d:***@h:99999/"),
            ("rabbit://u:p\n@h", "rabbit://u:***@h"),
            ("u:p@h", "u:***@h"),
            ("rabbit:u:p@h", "rabbit:***@h"),
            ("no credentials", "no credentials"),
            ("", ""),
        ] {
            assert_eq!(redact_passwords(text), redacted, "{text}");
        }
    }

    #[test]
    fn mangled_urls_never_panic() {
        let seeds = [
            "rabbit://u:p%40x@h1,u2:p2@[::1]:5674/vh%2Fa?ssl=1&heartbeat_rate=3#f",
            "memory://bench-1/",
            "kombu+memory:///",
        ];
        let inserts = [
            "", "%", "%%", "%e9", "%C3", "[", "]", ":", "@", ",", "/", "?", "#", "&", "=", "+",
            "é", "\u{0}", " ", "::", "[]",
        ];
        let mut parsed = 0;
        for seed in seeds {
            let chars: Vec<char> = seed.chars().collect();
            for cut in 0..=chars.len() {
                let (head, tail) = chars.split_at(cut);
                let head: String = head.iter().collect();
                let tail: String = tail.iter().collect();
                for insert in inserts {
                    for candidate in [
                        format!("{head}{insert}{tail}"),
                        format!("{head}{insert}"),
                        format!("{insert}{tail}"),
                    ] {
                        if let Ok(url) = TransportUrl::parse(&candidate) {
                            parsed += 1;
                            // Whatever parses renders to something that parses again.
                            let rendered = url.to_string();
                            assert!(
                                TransportUrl::parse(&rendered).is_ok(),
                                "{candidate:?} -> {rendered:?}"
                            );
                        }
                    }
                }
            }
        }
        assert!(
            parsed > 100,
            "the loop exercises successful parses too ({parsed})"
        );
    }
}
