//! The crate's one error type, and the causes it carries: a configuration
//! setting that breaks a rule ([`ConfigError`]), a deny list that is
//! malformed or older than the one in force, and mtls-x509's refusals,
//! wrapped as they are.
//!
//! Like mtls-x509's, these are causes, not text: which setting of which
//! entry, which deny-list entry, which rule, with numbers and `&'static str`
//! context. A JSON document that does not parse is described by where
//! (line and column) and what kind of failure; an edge that holds the
//! document can add serde's own description ([`crate::config::json_detail`]).

use std::fmt;

/// Everything mtls-policy refuses.
///
/// Errors never turn into an Allow: a configuration error stops the cold
/// start, and a refused deny list or CRL leaves the last good one in force.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The configuration document, or a setting from the environment, is
    /// invalid. Raised at cold start only.
    #[error(transparent)]
    Config(#[from] ConfigError),

    /// The deny list document could not be read: not JSON, an unknown
    /// field, a bad value, or more entries than allowed.
    #[error("malformed deny list: {}{problem}", EntryPrefix(*entry))]
    DenyListMalformed {
        /// The entry (counted from 0) the problem is in, if it is in one.
        entry: Option<usize>,
        /// What is wrong.
        problem: DenyListProblem,
    },

    /// The offered deny list has a lower `sequence` than the one in force.
    #[error(
        "deny list rollback refused: offered sequence {offered} is lower than {cached}, the list in force"
    )]
    DenyListRollback {
        /// The sequence of the list in force.
        cached: u64,
        /// The sequence offered.
        offered: u64,
    },

    /// The offered deny list has the sequence of the one in force and other
    /// entries: every change must raise `sequence`.
    #[error(
        "deny list refused: its entries differ from the list in force, and its sequence ({sequence}) does not; raise sequence with every change"
    )]
    DenyListSequenceReused {
        /// The sequence both carry.
        sequence: u64,
    },

    /// mtls-x509 refused a certificate, the truststore or a CRL.
    #[error(transparent)]
    X509(#[from] mtls_x509::Error),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `entry 3: `, or nothing.
struct EntryPrefix(Option<usize>);

impl fmt::Display for EntryPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(i) => write!(f, "entry {i}: "),
            None => Ok(()),
        }
    }
}

/// A configuration setting that breaks a rule: which setting, of which
/// entry, which item of it, and the rule.
///
/// It prints as a path into the document, then the rule:
/// `invalid configuration: issuers[2].crl[1]: listed twice`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The `issuers` or `ca_revocation` entry the setting belongs to, if any.
    pub entry: Option<Entry>,
    /// The setting: a key of the document (`crl_grace_seconds`), of an
    /// entry (`crl`, `ocsp.timeout_ms`, `subject.san_dns`), or an
    /// environment variable (`METRICS_NAMESPACE`). Empty for the document
    /// as a whole (JSON that does not parse).
    pub setting: &'static str,
    /// For a list setting, the item (counted from 0) that breaks the rule.
    pub item: Option<usize>,
    /// The rule it breaks.
    pub problem: ConfigProblem,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid configuration: ")?;
        if let Some(entry) = self.entry {
            write!(f, "{entry}.")?;
        }
        f.write_str(self.setting)?;
        if let Some(item) = self.item {
            write!(f, "[{item}]")?;
        }
        if self.entry.is_some() || !self.setting.is_empty() {
            f.write_str(": ")?;
        }
        write!(f, "{}", self.problem)
    }
}

/// An entry of one of the document's lists of entries, counted from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// An `issuers` entry.
    Issuer(usize),
    /// A `ca_revocation` entry.
    CaRevocation(usize),
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Issuer(i) => write!(f, "issuers[{i}]"),
            Self::CaRevocation(i) => write!(f, "ca_revocation[{i}]"),
        }
    }
}

/// The rule a configuration setting breaks ([`ConfigError::problem`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConfigProblem {
    /// The document is not JSON, or not JSON of the configuration's shape
    /// (an unknown field, a value of the wrong type, a missing field).
    #[error("{category} at line {line}, column {column}")]
    Json {
        /// The line (from 1).
        line: usize,
        /// The column (from 1).
        column: usize,
        /// What kind of failure.
        category: JsonCategory,
    },
    /// A number outside its bounds.
    #[error("{value} is outside {min}..={max}")]
    OutOfRange {
        /// The value given.
        value: i64,
        /// The least allowed.
        min: i64,
        /// The most allowed.
        max: i64,
    },
    /// A source URI of a scheme or shape we do not fetch.
    #[error("{0}")]
    UnsupportedUri(UnsupportedUri),
    /// `issuers` is empty.
    #[error("at least one issuer entry is required")]
    NoIssuer,
    /// Two entries of one list share a name.
    #[error("another entry before it has the same name")]
    DuplicateName,
    /// An entry without a name.
    #[error("every entry needs a non-empty name")]
    EmptyName,
    /// An entry name that cannot be a metric dimension.
    #[error(
        "the name must be at most {max} characters, without control characters (it is a metric dimension)"
    )]
    NameNotADimension {
        /// The most characters.
        max: usize,
    },
    /// A `match` or `subject` key that is no attribute we know.
    #[error("unknown attribute: use C, ST, L, O, OU, CN or a dotted OID such as 2.5.4.5")]
    UnknownAttribute,
    /// An attribute with an empty list of values, which nothing matches.
    #[error("an attribute lists no acceptable value")]
    NoAcceptableValue,
    /// A `match` without attributes.
    #[error("name at least one issuer attribute, or every CA would match")]
    MatchesEveryCa,
    /// `revocation: none` beside a CRL or OCSP setting.
    #[error(
        "`revocation: none` contradicts the `crl`, `crl_from_cdp`, `delta_crl` or `ocsp` it also sets"
    )]
    RevocationNoneContradicts,
    /// Both `crl` and `crl_from_cdp`.
    #[error("set `crl` or `crl_from_cdp`, not both")]
    CrlAndCrlFromCdp,
    /// No revocation setting at all.
    #[error(
        "a CRL or OCSP is required; set `crl` (a URI or a list), `crl_from_cdp`, `ocsp`, or `\"revocation\": \"none\"` to knowingly skip revocation checks"
    )]
    NoRevocation,
    /// `delta: ignore` beside `delta_crl`.
    #[error("`delta: ignore` contradicts the `delta_crl` it also sets")]
    DeltaIgnoreContradicts,
    /// `delta_crl` without `crl`.
    #[error(
        "`delta_crl` goes beside `crl`; with `crl_from_cdp`, delta CRLs are found through each base CRL's Freshest CRL extension, within the same prefixes"
    )]
    DeltaCrlWithoutCrl,
    /// A `delta_crl` source that is also a `crl` source.
    #[error("it is also a `crl` source")]
    AlsoACrlSource,
    /// An empty list of URIs.
    #[error("an empty list; give one URI, or a list of them")]
    EmptyList,
    /// A list longer than allowed.
    #[error("{count} items; at most {max}")]
    TooMany {
        /// How many were given (with `delta_crl`: bases and deltas).
        count: usize,
        /// The most allowed.
        max: usize,
    },
    /// The same item twice in a list.
    #[error("listed twice")]
    ListedTwice,
    /// A list of prefixes that is empty or too long.
    #[error("list 1 to {max} prefixes")]
    PrefixCount {
        /// The most allowed.
        max: usize,
    },
    /// A `crl_from_cdp` or `responders_from_aia` prefix of the wrong shape.
    #[error("a prefix must be an http:// or https:// URI with a host, ending in `/`")]
    BadPrefix,
    /// A prefix's `fetch` base of the wrong shape.
    #[error("`fetch` must be an s3://, https://, http:// or file:// URI ending in `/`")]
    BadFetchBase,
    /// An OCSP responder, or a `responders_from_aia` `fetch`, that is not HTTP.
    #[error("must be an http:// or https:// URI")]
    NotHttp,
    /// `ocsp` with neither or both of its responder settings.
    #[error("set `responder` or `responders_from_aia`, exactly one")]
    ResponderChoice,
    /// An empty `san_dns` or `san_uri`.
    #[error("an empty list would refuse everyone; remove it instead")]
    RefusesEveryone,
    /// A `san_dns` pattern of the wrong shape.
    #[error("a san_dns pattern is an exact name or `*.suffix` (one leading wildcard label)")]
    BadDnsPattern,
    /// A `san_uri` pattern of the wrong shape.
    #[error("a san_uri pattern is an exact URI or a prefix ending in `*`")]
    BadUriPattern,
    /// A `routes` list that is empty or too long.
    #[error("list 1 to {max} routes, or leave `routes` out to allow every route")]
    RouteCount {
        /// The most allowed.
        max: usize,
    },
    /// A route method that is not one we know.
    #[error("the method is not one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS or `*`")]
    BadMethod,
    /// A route path of the wrong shape.
    #[error(
        "the path must start with `/`, be at most {max} characters of plain segments (letters, digits, `-._~`), and end in `/*` only to name every path below it"
    )]
    BadRoutePath {
        /// The most characters.
        max: usize,
    },
    /// A route that overlaps an earlier one.
    #[error("it overlaps route {other}; list each route once")]
    RouteOverlap {
        /// The earlier route (counted from 0).
        other: usize,
    },
    /// `ca_revocation_required` without a `ca_revocation` entry.
    #[error(
        "it is true, and no ca_revocation entry names a CA's CRL: every request with an intermediate CA would be denied"
    )]
    CaRevocationRequired,
    /// A CloudWatch namespace CloudWatch would refuse (every metric of the
    /// line would silently disappear).
    #[error("use 1-255 letters, digits or `.-_/#: `, not starting with `AWS/`")]
    BadNamespace,
}

impl From<UnsupportedUri> for ConfigProblem {
    fn from(e: UnsupportedUri) -> Self {
        Self::UnsupportedUri(e)
    }
}

/// What kind of JSON failure: serde_json's categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonCategory {
    /// Not JSON.
    Syntax,
    /// JSON of another shape: an unknown field or variant, a missing field,
    /// a value of the wrong type.
    Data,
    /// The document ends early.
    Eof,
}

impl JsonCategory {
    /// The category of a serde_json error.
    #[must_use]
    pub fn of(e: &serde_json::Error) -> Self {
        match e.classify() {
            serde_json::error::Category::Data => Self::Data,
            serde_json::error::Category::Eof => Self::Eof,
            serde_json::error::Category::Syntax | serde_json::error::Category::Io => Self::Syntax,
        }
    }
}

impl fmt::Display for JsonCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Syntax => "not JSON",
            Self::Data => "a field or value this document does not take",
            Self::Eof => "the document ends early",
        })
    }
}

/// A source URI of a scheme or shape we do not fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "unsupported source URI: use s3://bucket/key[?versionId=...], https://, http:// or file://"
)]
pub struct UnsupportedUri;

/// What is wrong with a deny list document ([`Error::DenyListMalformed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DenyListProblem {
    /// Not JSON, or not JSON of the document's shape.
    #[error("{category} at line {line}, column {column}")]
    Json {
        /// The line (from 1).
        line: usize,
        /// The column (from 1).
        column: usize,
        /// What kind of failure.
        category: JsonCategory,
    },
    /// More entries than a list may hold.
    #[error("more than {max} entries")]
    TooManyEntries {
        /// The most allowed.
        max: usize,
    },
    /// A top-level field twice.
    #[error("a field appears twice")]
    FieldTwice,
    /// A format version this build does not read.
    #[error("version {version} is not supported (this build reads version {supported})")]
    UnsupportedVersion {
        /// The document's version.
        version: u64,
        /// The version this build reads.
        supported: u64,
    },
    /// `version`, `sequence` or `entries` is missing.
    #[error("version, sequence and entries are required")]
    MissingField,
    /// A SHA-256 field that is not 64 hex digits.
    #[error("{field} must be 64 hex digits (a SHA-256)")]
    NotSha256 {
        /// `issuer_spki_sha256` or `fingerprint`.
        field: &'static str,
    },
    /// A serial that is not 1 to `max_digits` hex digits.
    #[error("serial must be 1 to {max_digits} hex digits")]
    BadSerial {
        /// The most digits.
        max_digits: usize,
    },
    /// An entry that names neither target, or both.
    #[error("name either issuer_spki_sha256 and serial, or fingerprint")]
    Target,
    /// A reason that is not an RFC 5280 CRLReason name.
    #[error("reason must be an RFC 5280 CRLReason name")]
    BadReason,
    /// A note too long, or with control characters.
    #[error("note must be at most {max} characters, without control characters")]
    BadNote {
        /// The most characters.
        max: usize,
    },
    /// A time that is not `YYYY-MM-DDTHH:MM:SSZ`.
    #[error("{field} must be YYYY-MM-DDTHH:MM:SSZ")]
    BadTime {
        /// `not_after` or `added`.
        field: &'static str,
    },
}
