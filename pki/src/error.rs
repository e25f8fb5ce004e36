//! The one error type of the `mtls-pki` crate.

use std::path::PathBuf;

use mtls_x509::der::Malformed;
use mtls_x509::pem::PemError;
use mtls_x509::signed::UnsupportedKey;
use time::OffsetDateTime;
use x509_parser::error::X509Error;

use crate::check::rfc3339;

/// What x509-parser says about DER it could not read.
pub type ParseError = x509_parser::nom::Err<X509Error>;

/// Everything that can go wrong reading a certificate or running the
/// development PKI. Messages say what to do next; none of them ever contains
/// key material, nor the content of a block that could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },

    /// A PEM block could not be decoded (only its kind is known).
    #[error(transparent)]
    Pem(PemError),
    /// DER that is not an X.509 certificate.
    #[error("{source}")]
    Certificate {
        /// x509-parser's reading.
        source: ParseError,
    },
    /// Octets after the certificate's DER.
    #[error("trailing bytes after the certificate")]
    TrailingBytes,
    /// The signed envelope is not DER (RFC 5280 §4.1, §4.1.1.2). x509-parser
    /// tolerates some of these; the authorizer and API Gateway do not.
    #[error("not a DER certificate: {problem}")]
    Envelope {
        /// What is wrong, and where.
        problem: Malformed,
    },
    /// The subject or issuer name does not parse (RFC 5280 §4.1.2.4).
    #[error("{source}")]
    Name {
        /// The name parser's error.
        source: mtls_x509::Error,
    },
    /// A file of the PKI does not hold the certificate it should.
    #[error("pki: {}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// Why its certificate is unusable.
        source: Box<Error>,
    },
    /// A file of the PKI has no `CERTIFICATE` block.
    #[error("pki: {}: no CERTIFICATE block", path.display())]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// The issuing CA's key is outside the allowlist, so no deny-list entry
    /// can name it.
    #[error("pki: {}: {reason}", path.display())]
    CaKey {
        /// The CA's certificate file.
        path: PathBuf,
        /// Why the key is refused.
        reason: UnsupportedKey,
    },

    /// A subject alternative name of an unknown kind, or an unusable value.
    #[error("SAN {san:?}: use dns:NAME, uri:URI, email:ADDRESS or ip:ADDRESS")]
    San {
        /// The SAN as given.
        san: String,
    },
    /// A certificate name that cannot name files.
    #[error("certificate name {name:?}: use letters, digits, '-', '_' and '.' (it names files)")]
    CertificateName {
        /// The name as given.
        name: String,
    },
    /// A serial that is not 1 to 20 octets of hex (RFC 5280 §4.1.2.2).
    #[error("serial {text:?}: give 1 to 20 octets of hex, e.g. 4f:1a:…")]
    Serial {
        /// The serial as given.
        text: String,
    },
    /// The validity would end before it begins (RFC 5280 §4.1.2.5).
    #[error(
        "not-after ({}) must be later than not-before ({})",
        rfc3339(*not_after),
        rfc3339(*not_before)
    )]
    Validity {
        /// The start asked for.
        not_before: OffsetDateTime,
        /// The end asked for.
        not_after: OffsetDateTime,
    },

    /// The directory holds no PKI.
    #[error(
        "pki: no PKI in {dir}; make one with `truststore pki init --dir {dir}`",
        dir = dir.display()
    )]
    NoPki {
        /// The directory.
        dir: PathBuf,
    },
    /// `init` without `force` on a directory that holds a PKI.
    #[error(
        "pki: {} already holds a PKI; use --force to replace it (every issued certificate stops working)",
        dir.display()
    )]
    Exists {
        /// The directory.
        dir: PathBuf,
    },
    /// `pki.json` is not a state this build reads.
    #[error("pki: {}: {source}", path.display())]
    State {
        /// The state file.
        path: PathBuf,
        /// What the parser refused.
        source: serde_json::Error,
    },
    /// A serial recorded in `pki.json` is not hex.
    #[error("pki: pki.json: serial {serial} is not hex")]
    StateSerial {
        /// The serial as recorded.
        serial: String,
    },
    /// A revocation time recorded in `pki.json` is not RFC 3339.
    #[error("pki: pki.json: revoked_at {value}: {source}")]
    RevokedAt {
        /// The time as recorded.
        value: String,
        /// What the parser refused.
        source: time::error::Parse,
    },
    /// A document of the PKI (its state, the authorizer configuration)
    /// could not be encoded.
    #[error("pki: {what}: {source}")]
    Encode {
        /// Which document.
        what: &'static str,
        /// The encoder's error.
        source: serde_json::Error,
    },
    /// The authorizer would refuse the configuration made for it.
    #[error("pki: the authorizer refuses the generated config: {source}")]
    ConfigRefused {
        /// The authorizer's reason.
        source: mtls_policy::config::ConfigError,
    },
    /// The system gave no randomness for a serial.
    #[error("pki: no randomness: {source}")]
    Randomness {
        /// The cause.
        source: getrandom::Error,
    },
    /// Certificate, key or CRL generation failed.
    #[error("pki: {context}: {source}")]
    Rcgen {
        /// What was being made or read.
        context: &'static str,
        /// The cause.
        source: rcgen::Error,
    },
    /// PKCS #12 encoding failed.
    #[error("pki: PKCS#12: {source}")]
    Pkcs12 {
        /// The cause.
        source: p12_keystore::error::Error,
    },

    /// The CSR is not PEM.
    #[error("pki: reading the CSR: {source}")]
    CsrPem {
        /// The PEM reader's error.
        source: PemError,
    },
    /// The CSR is not a DER PKCS #10 request.
    #[error("pki: reading the CSR: {source}")]
    CsrDer {
        /// x509-parser's reading.
        source: ParseError,
    },
    /// The CSR's key is not one API Gateway accepts.
    #[error(
        "pki: the CSR's key ({key_oid}{}) is not one API Gateway accepts: use RSA 2048+ or ECDSA P-256/P-384",
        curve.as_ref().map(|c| format!(", curve {c}")).unwrap_or_default()
    )]
    CsrKey {
        /// The key algorithm's OID, dotted.
        key_oid: String,
        /// The named curve's OID, dotted, for an EC key.
        curve: Option<String>,
    },

    /// A certificate name this PKI already issued under.
    #[error(
        "pki: a certificate named {name} exists; revoke it and issue under a new name, or pick another name"
    )]
    NameTaken {
        /// The name.
        name: String,
    },
    /// A serial this PKI already issued (RFC 5280 §4.1.2.2: unique per CA).
    #[error("pki: serial {serial} is already used")]
    SerialTaken {
        /// The serial, lowercase hex.
        serial: String,
    },
    /// No certificate of this PKI has the name.
    #[error("pki: no certificate named {name}")]
    UnknownClient {
        /// The name.
        name: String,
    },
    /// The certificate was issued from a CSR: its key is not here.
    #[error("pki: {name} was issued from a CSR: its key is with whoever made the CSR")]
    NoKey {
        /// The certificate's name.
        name: String,
    },
    /// Neither a name of this PKI nor a hex serial.
    #[error("pki: {target} is neither a certificate name of this PKI nor a hex serial")]
    UnknownTarget {
        /// What was given.
        target: String,
    },
    /// The serial is revoked already.
    #[error("pki: serial {serial} is already revoked")]
    AlreadyRevoked {
        /// The serial, lowercase hex.
        serial: String,
    },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }

    pub(crate) fn rcgen(context: &'static str) -> impl FnOnce(rcgen::Error) -> Self {
        move |source| Self::Rcgen { context, source }
    }

    /// This error, about the certificate in `path`.
    pub(crate) fn in_file(path: impl Into<PathBuf>) -> impl FnOnce(Self) -> Self {
        let path = path.into();
        move |e| Self::File {
            path,
            source: Box::new(e),
        }
    }
}
