//! TLS settings without a broker: oslo's option values, the files and what is wrong with
//! them, and the words of connection errors. The certificates in `testdata/` are test-only
//! (EC P-256, valid until 2125): a CA, a client certificate and its key signed by it, the
//! two in one file, the key encrypted, and an unrelated key.

use std::path::PathBuf;

use super::*;
use crate::rabbit_options::RabbitOptions;

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/transport/rabbit/tls/testdata")
        .join(name)
}

/// A scratch file holding `contents`, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(contents: &[u8]) -> Scratch {
        let path = std::env::temp_dir().join(format!("oslo-rpc-tls-{}", uuid::Uuid::new_v4()));
        std::fs::write(&path, contents).expect("write a scratch file");
        Scratch(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn oslo(pairs: &[(&str, &str)]) -> RabbitOptions {
    let query: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    RabbitOptions::from_query(&query).expect("options parse")
}

fn load_error(tls: TlsOptions) -> String {
    tls.load()
        .expect_err("the settings must be refused")
        .to_string()
}

#[test]
fn ssl_version_values_as_python_reads_them() {
    for value in ["", "SSLv23", "sslv23", "SSLV23"] {
        assert_eq!(
            TlsVersion::from_oslo(value),
            Ok(TlsVersion::Negotiated),
            "{value}"
        );
    }
    for value in ["TLSv1_2", "tlsv1_2"] {
        assert_eq!(
            TlsVersion::from_oslo(value),
            Ok(TlsVersion::Tls12),
            "{value}"
        );
    }
    for value in ["TLSv1", "TLSv1_1"] {
        let error = TlsVersion::from_oslo(value).unwrap_err().to_string();
        assert!(error.contains("obsolete"), "{error}");
    }
    // Python 3.11 has no PROTOCOL_SSLv2/SSLv3, so oslo raises "Invalid SSL version".
    for value in ["SSLv3", "SSLv2", "TLSv1_3", "tls"] {
        let error = TlsVersion::from_oslo(value).unwrap_err().to_string();
        assert!(
            error.starts_with(&format!("invalid ssl_version {value:?}")),
            "{error}"
        );
    }
}

#[test]
fn oslo_options_become_tls_options_only_with_ssl() {
    let ignored = oslo(&[("ssl_ca_file", "/nonexistent"), ("ssl_version", "bogus")]);
    assert_eq!(TlsOptions::from_oslo(&ignored), Ok(None));
    let all = oslo(&[
        ("ssl", "true"),
        ("ssl_ca_file", "/ca.pem"),
        ("ssl_cert_file", "/c.pem"),
        ("ssl_key_file", "/c.key"),
        ("ssl_version", "TLSv1_2"),
        ("ssl_enforce_hostname_verification", "false"),
    ]);
    assert_eq!(
        TlsOptions::from_oslo(&all),
        Ok(Some(
            TlsOptions::new()
                .ca_file("/ca.pem")
                .client_cert("/c.pem", "/c.key")
                .version(TlsVersion::Tls12)
        ))
    );
    assert_eq!(
        TlsOptions::from_oslo(&oslo(&[("ssl", "1")])),
        Ok(Some(TlsOptions::new()))
    );
    // py-amqp loads a key only with a certificate file: alone it is ignored.
    let key_only = oslo(&[("ssl", "1"), ("ssl_key_file", "/c.key")]);
    assert_eq!(
        TlsOptions::from_oslo(&key_only),
        Ok(Some(TlsOptions::new()))
    );
    // FIPS is refused whether or not ssl is on: it is a promise we cannot keep.
    for pairs in [
        &[("ssl_enforce_fips_mode", "true")][..],
        &[("ssl", "1"), ("ssl_enforce_fips_mode", "1")][..],
    ] {
        assert_eq!(TlsOptions::from_oslo(&oslo(pairs)), Err(TlsError::Fips));
    }
    assert!(
        TlsError::Fips
            .to_string()
            .contains("not a FIPS-validated module")
    );
}

#[test]
fn good_files_load() {
    let ca = testdata("ca.pem");
    TlsOptions::new().ca_file(&ca).load().expect("CA only");
    TlsOptions::new()
        .ca_file(&ca)
        .client_cert(testdata("client.pem"), testdata("client.key"))
        .version(TlsVersion::Tls12)
        .load()
        .expect("client certificate and key");
    TlsOptions::new()
        .ca_file(&ca)
        .client_cert_with_key(testdata("bundle.pem"))
        .load()
        .expect("certificate and key in one file, as load_cert_chain(certfile) reads it");
}

#[test]
fn missing_and_unreadable_files_are_named() {
    let missing = load_error(TlsOptions::new().ca_file("/nonexistent/ca.pem"));
    assert!(
        missing.starts_with("ssl_ca_file /nonexistent/ca.pem: cannot be read:"),
        "{missing}"
    );
    // A directory cannot be read as a file (root reads files whatever their mode).
    let directory = std::env::temp_dir();
    let unreadable = load_error(TlsOptions::new().ca_file(&directory));
    assert!(
        unreadable.starts_with(&format!(
            "ssl_ca_file {}: cannot be read",
            directory.display()
        )),
        "{unreadable}"
    );
    let cert = load_error(
        TlsOptions::new()
            .ca_file(testdata("ca.pem"))
            .client_cert("/nonexistent/c.pem", testdata("client.key")),
    );
    assert!(
        cert.starts_with("ssl_cert_file /nonexistent/c.pem: cannot be read"),
        "{cert}"
    );
    let key = load_error(
        TlsOptions::new()
            .ca_file(testdata("ca.pem"))
            .client_cert(testdata("client.pem"), "/nonexistent/c.key"),
    );
    assert!(
        key.starts_with("ssl_key_file /nonexistent/c.key: cannot be read"),
        "{key}"
    );
}

#[test]
fn garbage_pem_is_refused_with_its_option() {
    let not_pem = Scratch::new(b"this is not a certificate\n");
    let error = load_error(TlsOptions::new().ca_file(&not_pem.0));
    assert!(error.contains("holds no PEM certificate"), "{error}");
    let corrupt =
        Scratch::new(b"-----BEGIN CERTIFICATE-----\nnot base64 !!!\n-----END CERTIFICATE-----\n");
    let error = load_error(TlsOptions::new().ca_file(&corrupt.0));
    assert!(error.contains("is not valid PEM: the base64"), "{error}");
    let unterminated = Scratch::new(b"-----BEGIN CERTIFICATE-----\nMIIB\n");
    let error = load_error(TlsOptions::new().ca_file(&unterminated.0));
    assert!(error.contains("is not valid PEM"), "{error}");
    // A key where the CA should be: no certificate in it.
    let error = load_error(TlsOptions::new().ca_file(testdata("client.key")));
    assert!(error.contains("holds no PEM certificate"), "{error}");
    let error = load_error(
        TlsOptions::new()
            .ca_file(testdata("ca.pem"))
            .client_cert(testdata("client.pem"), &not_pem.0),
    );
    assert!(
        error.contains("ssl_key_file") && error.contains("holds no PEM private key"),
        "{error}"
    );
}

#[test]
fn client_key_problems_are_explained() {
    let ca = testdata("ca.pem");
    // A certificate file without a key, and no key file.
    let error = load_error(
        TlsOptions::new()
            .ca_file(&ca)
            .client_cert_with_key(testdata("client.pem")),
    );
    assert!(
        error.ends_with("holds no private key, and ssl_key_file is not set"),
        "{error}"
    );
    // A key that is not the certificate's.
    let error = load_error(
        TlsOptions::new()
            .ca_file(&ca)
            .client_cert(testdata("client.pem"), testdata("other.key")),
    );
    assert!(error.starts_with("client certificate "), "{error}");
    assert!(error.contains("other.key"), "{error}");
    // Python would prompt for a password on the terminal; we say what to do.
    let error = load_error(
        TlsOptions::new()
            .ca_file(&ca)
            .client_cert(testdata("client.pem"), testdata("encrypted.key")),
    );
    assert!(error.contains("holds an encrypted private key"), "{error}");
}

#[test]
fn errors_and_debug_never_show_key_material() {
    let key_text = std::fs::read_to_string(testdata("client.key")).unwrap();
    let secret_lines: Vec<&str> = key_text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert!(!secret_lines.is_empty());
    let mut texts = vec![
        load_error(TlsOptions::new().ca_file(testdata("client.key"))),
        load_error(
            TlsOptions::new()
                .ca_file(testdata("ca.pem"))
                .client_cert(testdata("client.key"), testdata("client.key")),
        ),
        load_error(
            TlsOptions::new()
                .ca_file(testdata("ca.pem"))
                .client_cert(testdata("other.key"), testdata("client.key")),
        ),
    ];
    let connector = TlsOptions::new()
        .ca_file(testdata("ca.pem"))
        .client_cert(testdata("client.pem"), testdata("client.key"))
        .load()
        .unwrap();
    texts.push(format!("{connector:?}"));
    // A corrupt key: the PEM parser's message would quote the bad input.
    let mut corrupt = key_text.clone();
    corrupt.insert_str(key_text.find('\n').unwrap() + 1, "!!");
    let corrupt = Scratch::new(corrupt.as_bytes());
    texts.push(load_error(
        TlsOptions::new()
            .ca_file(testdata("ca.pem"))
            .client_cert(testdata("client.pem"), &corrupt.0),
    ));
    for text in &texts {
        for line in &secret_lines {
            assert!(!text.contains(line), "key material in {text:?}");
        }
    }
}

fn tls_failure(error: rustls::Error) -> lapin::Error {
    lapin::Error::from(io::Error::new(io::ErrorKind::InvalidData, error))
}

#[test]
fn connection_errors_name_the_host_and_the_cause() {
    use rustls::{AlertDescription, CertificateError, Error, InvalidMessage};
    let with_ca = TlsOptions::new()
        .ca_file(testdata("ca.pem"))
        .load()
        .unwrap();
    let with_cert = TlsOptions::new()
        .ca_file(testdata("ca.pem"))
        .client_cert(testdata("client.pem"), testdata("client.key"))
        .load()
        .unwrap();
    let cases = [
        (
            Error::InvalidCertificate(CertificateError::Expired),
            &with_ca,
            "h1:5671: TLS handshake failed: the broker's certificate has expired",
        ),
        (
            Error::InvalidCertificate(CertificateError::NotValidForName),
            &with_ca,
            "h1:5671: TLS handshake failed: the broker's certificate is not valid for this host name",
        ),
        (
            Error::InvalidCertificate(CertificateError::UnknownIssuer),
            &with_ca,
            "h1:5671: TLS handshake failed: the broker's certificate is not signed by the CAs of ssl_ca_file",
        ),
        (
            Error::AlertReceived(AlertDescription::UnknownCA),
            &with_cert,
            "h1:5671: TLS handshake failed: the broker refused the handshake: received fatal alert: UnknownCA; the broker does not accept the client certificate",
        ),
        (
            Error::AlertReceived(AlertDescription::CertificateRequired),
            &with_ca,
            "the broker may require a client certificate (ssl_cert_file)",
        ),
        (
            Error::InvalidMessage(InvalidMessage::InvalidContentType),
            &with_ca,
            "h1:5671: TLS handshake failed: the broker did not answer in TLS",
        ),
    ];
    for (error, tls, expected) in cases {
        let text = describe_connect_error(&tls_failure(error), "h1:5671", Some(tls));
        assert!(text.contains(expected), "{text:?} lacks {expected:?}");
    }
    let system = TlsConnector {
        connector: with_ca.connector.clone(),
        options: TlsOptions::new(),
    };
    let text = describe_connect_error(
        &tls_failure(Error::InvalidCertificate(CertificateError::UnknownIssuer)),
        "h1:5671",
        Some(&system),
    );
    assert!(text.contains("the system's root certificates"), "{text}");
    // Plain AMQP against a port that closes on it.
    let closed = lapin::Error::from(io::Error::from(io::ErrorKind::ConnectionAborted));
    let text = describe_connect_error(&closed, "h1:5671", None);
    assert!(
        text.starts_with("h1:5671: the connection closed during the AMQP handshake")
            && text.contains("set ssl=true"),
        "{text}"
    );
    // TLS 1.3: a refused client certificate may surface as a bare reset after the handshake.
    let reset = lapin::Error::from(io::Error::from(io::ErrorKind::ConnectionReset));
    let text = describe_connect_error(&reset, "h1:5671", Some(&with_cert));
    assert!(
        text.starts_with("h1:5671: the connection closed during or right after the TLS handshake")
            && text.contains("does not accept the client certificate")
            && text.contains("client.pem"),
        "{text}"
    );
    let text = describe_connect_error(&reset, "h1:5671", Some(&with_ca));
    assert!(text.contains("is this a plain AMQP port?"), "{text}");
    let refused = lapin::Error::from(io::Error::from(io::ErrorKind::ConnectionRefused));
    let text = describe_connect_error(&refused, "h1:5672", None);
    assert!(text.starts_with("h1:5672: IO error"), "{text}");
}
