//! TLS to the broker: oslo's `ssl`, `ssl_ca_file`, `ssl_cert_file`, `ssl_key_file`,
//! `ssl_version`, `ssl_enforce_hostname_verification` and `ssl_enforce_fips_mode`, on rustls
//! (ring provider) through lapin's TLS stream. No OpenSSL is linked.
//!
//! # What oslo.messaging 18.3.1 does with them
//!
//! Read in `impl_rabbit.py` (`Connection.__init__`, `_fetch_ssl_params`,
//! `_get_ssl_server_hostname`, `validate_ssl_version`), kombu 5.7 (`Connection`,
//! `transport/pyamqp.py`), py-amqp 5.4 (`SSLTransport._wrap_socket_sni`) and Python 3.11's
//! `ssl` module (OpenSSL 3.0). The verification rules below are also observed:
//! `tests/rabbit_tls.rs` runs oslo's own `_fetch_ssl_params` and kombu against the test
//! cluster's endpoints (`tests/interop/peers/tls_semantics.py`) and pins the outcomes.
//!
//! * The `ssl_*` options are read only when `ssl` is true. `ssl=true` alone hands kombu
//!   `ssl=True`; otherwise a dict of `keyfile`, `certfile`, `ca_certs` (+ `cert_reqs =
//!   CERT_REQUIRED` and `server_hostname`) and `ssl_version`, for the options that are set.
//! * **Port.** oslo writes every host's port into the kombu URL (`host.port or 5672`), so
//!   kombu's TLS default port 5671 never applies: a host without a port is reached on 5672,
//!   TLS or not.
//! * **Verification**, as py-amqp builds the `SSLContext`:
//!   - no `ssl_ca_file`, no `ssl_version`: `SSLContext(PROTOCOL_TLS_CLIENT)` verifies the
//!     chain against the system's default CA paths (`load_default_certs`), but no
//!     `server_hostname` is given, so the **host name is not checked**;
//!   - `ssl_ca_file` set: the chain is verified against that file **only**
//!     (`load_verify_locations`, no system roots), and the host name is checked: with one
//!     host against `url.hosts[0].hostname`; with several hosts oslo passes
//!     `server_hostname=None`, which kombu replaces with the host being connected to after
//!     rewriting `localhost` to `127.0.0.1` (so a certificate naming `localhost` only fails
//!     for a multi-host URL of `localhost`s), in the dict oslo passed, so after a failover
//!     the first host's name stays (that last point from reading the code only);
//!   - `ssl_version` set without `ssl_ca_file`: `SSLContext(PROTOCOL_TLSv1_2)` (or
//!     `PROTOCOL_SSLv23`...) defaults to `CERT_NONE`: **nothing is verified**.
//!   - Python matches host names as OpenSSL does: DNS names of the subjectAltName with a
//!     wildcard in the leftmost label only, IP addresses against IP SANs only, and the
//!     subject's CN only when the certificate has no subjectAltName DNS entry at all.
//! * `ssl_cert_file` is loaded with `load_cert_chain(certfile, keyfile)`: the file may hold
//!   the chain, and the key when `ssl_key_file` is empty. A key file without a certificate
//!   file is ignored.
//! * `ssl_version` (case-insensitive): `TLSv1`, `SSLv23`, and where the `ssl` module has
//!   them `TLSv1_1`, `TLSv1_2` (`SSLv2`, `SSLv3`: not in Python 3.11); anything else raises
//!   `RuntimeError("Invalid SSL version : ...")` when the connection is made. `SSLv23` is
//!   `PROTOCOL_TLS`, "the highest version both sides support".
//! * `ssl_enforce_hostname_verification` (deprecated "Verification is always enabled now")
//!   is declared but never read: it has no effect.
//! * `ssl_enforce_fips_mode` (deprecated, "FIPS_mode_set API was removed in OpenSSL 3.0.0")
//!   has no effect either.
//! * The files are read at every connection attempt.
//!
//! # What this driver does
//!
//! * Port, `ssl=false` ignoring the other options, and the file formats as oslo.
//! * The chain is verified against `ssl_ca_file` only when it is set, else against the
//!   system's roots (`rustls-native-certs`: `SSL_CERT_FILE`/`SSL_CERT_DIR`, else the
//!   OpenSSL directories, the same store Python's `load_default_certs` reads).
//! * **The host name is always checked**, against the name or address of the host being
//!   connected to, as written in the URL, with Python's matching rules except the CN
//!   fallback (webpki never reads the CN; a broker certificate without subjectAltName is
//!   refused). This is stricter than oslo when `ssl_ca_file` is not set (oslo checks no
//!   name) and than oslo's multi-host quirk; a certificate that Python accepts only because
//!   it skips the check must get the broker's name added.
//! * `ssl_version` set without `ssl_ca_file` still verifies against the system roots: we
//!   do not copy oslo's unverified mode. Set `ssl_ca_file` for a private CA.
//! * `ssl_version`: empty or `SSLv23` negotiate TLS 1.2 or 1.3; `TLSv1_2` allows only TLS
//!   1.2; `TLSv1` and `TLSv1_1` are refused (rustls has neither, and Python's OpenSSL 3 at
//!   its default security level refuses them too); anything else is refused as Python
//!   refuses it, but when the transport is built.
//! * `ssl_enforce_hostname_verification=false` is accepted with a warning that it has no
//!   effect (as in oslo 18.3.1). `ssl_enforce_fips_mode=true` is refused: rustls with ring
//!   is not a FIPS-validated module, and silently ignoring a FIPS requirement is worse than
//!   failing.
//! * The files are read and checked once, when the transport is built, so a missing file,
//!   a PEM without certificates, a key that does not match the certificate or an encrypted
//!   key (Python would prompt for its password) is an error before anything connects. A
//!   renewed certificate needs a new transport.
//! * Connection errors name the host and say what failed (expired certificate, wrong
//!   name, unknown CA, the broker refusing our certificate, a TLS client on a plain port);
//!   they never contain a password or key material.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lapin::tcp::RustlsConnector;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};

use crate::rabbit_options::RabbitOptions;

/// TLS settings of the rabbit driver: oslo's `ssl_*` options, typed. A transport built with
/// them connects over TLS to every host of its URL.
///
/// ```
/// use oslo_rpc_runtime::transport::rabbit::{TlsOptions, TlsVersion};
/// let tls = TlsOptions::new()
///     .ca_file("/etc/rabbitmq/ca.pem")
///     .client_cert("/etc/nova/rabbit-client.pem", "/etc/nova/rabbit-client.key")
///     .version(TlsVersion::Tls12);
/// // Transport::builder("rabbit://nova:secret@rabbit1:5671/").tls(tls).build()?
/// # let _ = tls;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsOptions {
    /// `ssl_ca_file`: PEM certificates of the CAs the broker's certificate must chain to.
    /// `None`: the system's root certificates.
    pub ca_file: Option<PathBuf>,
    /// `ssl_cert_file`: the PEM client certificate (and chain) sent when the broker asks for
    /// one. It may hold the private key too, when [`TlsOptions::key_file`] is `None`.
    pub cert_file: Option<PathBuf>,
    /// `ssl_key_file`: the PEM private key of the client certificate (PKCS#8, PKCS#1 or
    /// SEC1, not encrypted).
    pub key_file: Option<PathBuf>,
    /// `ssl_version`: which TLS versions may be negotiated.
    pub version: TlsVersion,
}

/// The TLS versions a connection may use (oslo's `ssl_version`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsVersion {
    /// TLS 1.2 or 1.3, the highest both sides support (`ssl_version` empty or `SSLv23`).
    #[default]
    Negotiated,
    /// TLS 1.2 only (`ssl_version = TLSv1_2`).
    Tls12,
}

impl TlsVersion {
    /// Reads oslo's `ssl_version` (case-insensitive, as Python's `validate_ssl_version`).
    pub fn from_oslo(value: &str) -> Result<TlsVersion, TlsError> {
        match value.to_ascii_lowercase().as_str() {
            "" | "sslv23" => Ok(TlsVersion::Negotiated),
            "tlsv1_2" => Ok(TlsVersion::Tls12),
            "tlsv1" | "tlsv1_1" => Err(TlsError::Version {
                value: value.to_owned(),
                reason: "TLS 1.0 and 1.1 are obsolete: rustls does not implement them, and \
                         OpenSSL 3 refuses them at its default security level; use TLSv1_2 \
                         or leave ssl_version empty",
            }),
            _ => Err(TlsError::Version {
                value: value.to_owned(),
                reason: "valid values are TLSv1_2 and SSLv23 (or empty for the highest \
                         version both sides support)",
            }),
        }
    }
}

impl TlsOptions {
    /// TLS with the system's root certificates and no client certificate.
    pub fn new() -> TlsOptions {
        TlsOptions::default()
    }

    /// Verifies the broker against the CAs of this PEM file instead of the system's roots.
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> TlsOptions {
        self.ca_file = Some(path.into());
        self
    }

    /// Sends this client certificate, with its private key.
    pub fn client_cert(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> TlsOptions {
        self.cert_file = Some(cert.into());
        self.key_file = Some(key.into());
        self
    }

    /// Sends the client certificate of a PEM file that also holds its private key.
    pub fn client_cert_with_key(mut self, bundle: impl Into<PathBuf>) -> TlsOptions {
        self.cert_file = Some(bundle.into());
        self.key_file = None;
        self
    }

    /// Limits the TLS versions.
    pub fn version(mut self, version: TlsVersion) -> TlsOptions {
        self.version = version;
        self
    }

    /// The TLS settings of oslo's `[oslo_messaging_rabbit]` options: `None` when `ssl` is
    /// false (the other `ssl_*` options are then ignored, as oslo ignores them).
    pub fn from_oslo(options: &RabbitOptions) -> Result<Option<TlsOptions>, TlsError> {
        if options.ssl_enforce_fips_mode {
            return Err(TlsError::Fips);
        }
        if !options.ssl {
            return Ok(None);
        }
        if !options.ssl_enforce_hostname_verification {
            tracing::warn!(
                "ssl_enforce_hostname_verification=false has no effect: oslo.messaging 18.3.1 \
                 deprecated it (verification is always enabled), and the broker's host name \
                 is always checked"
            );
        }
        let path = |value: &str| (!value.is_empty()).then(|| PathBuf::from(value));
        let mut tls = TlsOptions {
            ca_file: path(&options.ssl_ca_file),
            cert_file: path(&options.ssl_cert_file),
            key_file: path(&options.ssl_key_file),
            version: TlsVersion::from_oslo(&options.ssl_version)?,
        };
        if tls.cert_file.is_none()
            && let Some(key) = tls.key_file.take()
        {
            // py-amqp loads a key only together with a certificate file.
            tracing::warn!(
                ssl_key_file = %key.display(),
                "ssl_key_file is ignored without ssl_cert_file: no client certificate is sent"
            );
        }
        Ok(Some(tls))
    }

    /// Reads the files and builds the rustls configuration.
    pub(super) fn load(&self) -> Result<TlsConnector, TlsError> {
        let roots = match &self.ca_file {
            Some(path) => ca_roots(path)?,
            None => system_roots()?,
        };
        // ring, not aws-lc-rs: cheaper to build (Cargo.toml). rustls
        // 0.23.48 deprecates ring's provider because ring has no post-quantum key exchange;
        // RabbitMQ's TLS (Erlang/OTP 25) offers none either.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let versions: &[&'static rustls::SupportedProtocolVersion] = match self.version {
            TlsVersion::Negotiated => rustls::DEFAULT_VERSIONS,
            TlsVersion::Tls12 => &[&rustls::version::TLS12],
        };
        let builder = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .map_err(|error| TlsError::Setup(error.to_string()))?
            .with_root_certificates(roots);
        let config = match &self.cert_file {
            Some(cert_file) => {
                let chain = certificates(cert_file, "ssl_cert_file")?;
                let key = match &self.key_file {
                    Some(key_file) => private_key(key_file, "ssl_key_file")?,
                    None => {
                        private_key(cert_file, "ssl_cert_file").map_err(|error| match error {
                            TlsError::File { path, .. } => TlsError::File {
                                option: "ssl_cert_file",
                                path,
                                problem: "holds no private key, and ssl_key_file is not set".into(),
                            },
                            other => other,
                        })?
                    }
                };
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|error| TlsError::ClientCert {
                        cert: cert_file.clone(),
                        key: self.key_file.clone().unwrap_or_else(|| cert_file.clone()),
                        // rustls's own words name the mismatch, never the key.
                        problem: error.to_string(),
                    })?
            }
            None => builder.with_no_client_auth(),
        };
        Ok(TlsConnector {
            connector: RustlsConnector::from(Arc::new(config)),
            options: self.clone(),
        })
    }
}

/// Why TLS settings cannot be used. Messages name options and files, never key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A file named by an option cannot be read or does not hold what the option needs.
    #[error("{option} {}: {problem}", .path.display())]
    File {
        /// The option (`ssl_ca_file`, `ssl_cert_file`, `ssl_key_file`).
        option: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The client certificate and key cannot be used together.
    #[error(
        "client certificate {} with key {}: {problem}",
        .cert.display(),
        .key.display()
    )]
    ClientCert {
        /// `ssl_cert_file`.
        cert: PathBuf,
        /// `ssl_key_file` (or `ssl_cert_file` when it holds the key).
        key: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// `ssl_version` names no version this driver can use.
    #[error("invalid ssl_version {value:?}: {reason}")]
    Version {
        /// The value given.
        value: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// No root certificate could be loaded from the system.
    #[error(
        "no system root certificates to verify the broker with ({0}); set ssl_ca_file to the \
         CA that signed the broker's certificate"
    )]
    NoSystemRoots(String),
    /// `ssl_enforce_fips_mode=true`.
    #[error(
        "ssl_enforce_fips_mode=true cannot be honoured: this driver's TLS (rustls with the ring \
         provider) is not a FIPS-validated module (oslo.messaging 18.3.1 ignores the option, \
         deprecated since OpenSSL 3 removed FIPS_mode_set); remove it or set it to false"
    )]
    Fips,
    /// rustls refused the configuration.
    #[error("cannot set up TLS: {0}")]
    Setup(String),
}

/// A loaded TLS configuration, shared by every connection of a driver.
#[derive(Clone)]
pub(super) struct TlsConnector {
    pub(super) connector: RustlsConnector,
    options: TlsOptions,
}

impl fmt::Debug for TlsConnector {
    /// Paths only: the configuration holds the client's private key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConnector")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl TlsConnector {
    /// Where the broker's certificate must chain to, for error messages.
    fn trusted(&self) -> String {
        match &self.options.ca_file {
            Some(path) => format!("the CAs of ssl_ca_file {}", path.display()),
            None => "the system's root certificates (set ssl_ca_file for a private CA)".into(),
        }
    }
}

fn read(path: &Path, option: &'static str) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|error| TlsError::File {
        option,
        path: path.to_owned(),
        problem: format!("cannot be read: {error}"),
    })
}

/// Every certificate of a PEM file; at least one.
fn certificates(
    path: &Path,
    option: &'static str,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = read(path, option)?;
    let problem = |problem: String| TlsError::File {
        option,
        path: path.to_owned(),
        problem,
    };
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| problem(format!("is not valid PEM: {}", pem_problem(&error))))?;
    if certs.is_empty() {
        return Err(problem(
            "holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
        ));
    }
    Ok(certs)
}

/// The root store of `ssl_ca_file`: its certificates only, as Python's
/// `load_verify_locations` (no system roots).
fn ca_roots(path: &Path) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in certificates(path, "ssl_ca_file")? {
        roots.add(cert).map_err(|error| TlsError::File {
            option: "ssl_ca_file",
            path: path.to_owned(),
            problem: format!("holds a certificate that cannot be a trust anchor: {error}"),
        })?;
    }
    Ok(roots)
}

fn system_roots() -> Result<RootCertStore, TlsError> {
    let loaded = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(loaded.certs);
    if added == 0 {
        let why = loaded
            .errors
            .first()
            .map(ToString::to_string)
            .unwrap_or_else(|| "none found".to_owned());
        return Err(TlsError::NoSystemRoots(why));
    }
    Ok(roots)
}

/// The private key of a PEM file. Errors describe the file, never its bytes.
fn private_key(path: &Path, option: &'static str) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = read(path, option)?;
    let problem = |problem: &str| TlsError::File {
        option,
        path: path.to_owned(),
        problem: problem.to_owned(),
    };
    match PrivateKeyDer::from_pem_slice(&bytes) {
        Ok(key) => Ok(key),
        Err(pem::Error::NoItemsFound) if contains(&bytes, b"ENCRYPTED PRIVATE KEY") => Err(
            problem("holds an encrypted private key; give it unencrypted (PKCS#8, PKCS#1 or SEC1)"),
        ),
        Err(pem::Error::NoItemsFound) => Err(problem(
            "holds no PEM private key (-----BEGIN PRIVATE KEY-----, RSA PRIVATE KEY or EC PRIVATE KEY)",
        )),
        Err(_) => Err(problem("is not valid PEM")),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// A PEM error of a certificate file (public data), without the offending line.
fn pem_problem(error: &pem::Error) -> &'static str {
    match error {
        pem::Error::MissingSectionEnd { .. } => "a section has no END line",
        pem::Error::IllegalSectionStart { .. } => "a BEGIN line is malformed",
        pem::Error::Base64Decode(_) => "the base64 between BEGIN and END is corrupt",
        pem::Error::SectionTooLarge => "a section is too large",
        _ => "it cannot be read as PEM",
    }
}

/// A connection attempt's failure in words: what went wrong with TLS when it did, with a
/// hint at the likely cause. `host` is `name:port`; `tls` the driver's TLS, if any.
pub(super) fn describe_connect_error(
    error: &lapin::Error,
    host: &str,
    tls: Option<&TlsConnector>,
) -> String {
    let io = match error.kind() {
        lapin::ErrorKind::IOError(io) => Some(io.as_ref()),
        _ => None,
    };
    let rustls_error = io
        .and_then(|io| io.get_ref())
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match (tls, rustls_error) {
        (Some(tls), Some(tls_error)) => {
            format!(
                "{host}: TLS handshake failed: {}",
                describe_tls_error(tls_error, tls)
            )
        }
        // Under TLS 1.3 the broker checks a client certificate after the client's handshake
        // is done, so its refusal (an alert, then close) races the client's first AMQP bytes:
        // the client may read the alert, or only the reset the alert's close causes.
        (Some(tls), None) if io.is_some_and(looks_like_closed) => match &tls.options.cert_file {
            Some(cert) => format!(
                "{host}: the connection closed during or right after the TLS handshake \
                 ({error}); either the broker does not accept the client certificate {} or \
                 this is a plain AMQP port",
                cert.display()
            ),
            None => format!(
                "{host}: the connection closed during the TLS handshake ({error}); is this a \
                 plain AMQP port?"
            ),
        },
        // A TLS port answers an AMQP protocol header with a TLS alert, which does not parse
        // as AMQP, or closes the connection.
        (None, _) if matches!(error.kind(), lapin::ErrorKind::ParsingError(_)) => format!(
            "{host}: the broker's answer is not AMQP ({error}); if this port expects TLS, set \
             ssl=true"
        ),
        (None, _) if io.is_some_and(looks_like_closed) => format!(
            "{host}: the connection closed during the AMQP handshake ({error}); if this port \
             expects TLS, set ssl=true"
        ),
        _ => format!("{host}: {error}"),
    }
}

/// The peer closed or reset the connection (rather than answering something we could read).
fn looks_like_closed(io: &io::Error) -> bool {
    matches!(
        io.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::UnexpectedEof
    )
}

fn describe_tls_error(error: &rustls::Error, tls: &TlsConnector) -> String {
    use rustls::{AlertDescription, CertificateError, Error, InvalidMessage};
    match error {
        Error::InvalidCertificate(cert) => {
            let what = match cert {
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    "the broker's certificate has expired"
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    "the broker's certificate is not valid yet"
                }
                CertificateError::NotValidForName
                | CertificateError::NotValidForNameContext { .. } => {
                    "the broker's certificate is not valid for this host name"
                }
                CertificateError::UnknownIssuer => {
                    return format!(
                        "the broker's certificate is not signed by {}: {error}",
                        tls.trusted()
                    );
                }
                _ => "the broker's certificate was refused",
            };
            format!("{what}: {error}")
        }
        Error::AlertReceived(alert) => {
            let hint = match alert {
                AlertDescription::BadCertificate
                | AlertDescription::UnknownCA
                | AlertDescription::CertificateRequired
                | AlertDescription::UnsupportedCertificate
                | AlertDescription::CertificateExpired
                | AlertDescription::CertificateUnknown
                | AlertDescription::AccessDenied => match &tls.options.cert_file {
                    Some(cert) => format!(
                        "; the broker does not accept the client certificate {}",
                        cert.display()
                    ),
                    None => "; the broker may require a client certificate (ssl_cert_file)".into(),
                },
                AlertDescription::ProtocolVersion => {
                    "; the broker does not accept the TLS version (ssl_version)".into()
                }
                _ => String::new(),
            };
            format!("the broker refused the handshake: {error}{hint}")
        }
        Error::InvalidMessage(InvalidMessage::InvalidContentType)
        | Error::InvalidMessage(_)
        | Error::InappropriateMessage { .. } => {
            format!("the broker did not answer in TLS ({error}); is this a plain AMQP port?")
        }
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests;
