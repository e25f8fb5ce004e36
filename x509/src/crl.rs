//! CRL verification, scope and lookup (RFC 5280 §5 and §6.3).
//!
//! A [`VerifiedCrl`] can only be made by [`VerifiedCrl::verify`], so holding
//! one proves that its signature, issuer, extensions and freshness were
//! checked. It also records which truststore key signed it and which
//! certificates it covers ([`CrlScope`]), so [`VerifiedCrl::covers`] can tell
//! whether it speaks for a given certificate at all.
//!
//! Work on hostile input is bounded and ordered cheapest first: the envelope
//! and the issuer name are compared as bytes, and the signature is checked
//! over the raw `tbsCertList`, before anything inside the CRL is decoded.
//! Whoever controls a CRL's URL (often plain HTTP) gets no further than that
//! without the CA's key.
//!
//! Why one file: verification, scope ([`CrlScope`],
//! [`Coverage`]) and the extension rules of RFC 5280 §5.2 and §5.3 are one
//! contract, the one [`VerifiedCrl`] stands for; the streaming reader and
//! the index are `stream.rs` and `index.rs`.

use std::cmp::Ordering;
use std::fmt;

use x509_parser::der_parser::asn1_rs::Oid;
use x509_parser::extensions::{
    DistributionPointName, GeneralName, IssuingDistributionPoint, ParsedExtension,
};
use x509_parser::prelude::{ASN1Time, FromDer, X509Extension};

use crate::cert::ClientCert;
use crate::der::{self, Malformed, ObjectId, Reader};
use crate::error::{CrlMalformed, CrlRollback, CrlUnsupported, Error, Result, bounded};
use crate::name::{DerName, Name};
use crate::serial::Serial;
use crate::signed::{KeyId, sha256_of_parts};
use crate::time::UnixTime;
use crate::truststore::TrustStore;

mod index;
mod lookup;
mod stream;

pub use index::RevokedSet;
pub use lookup::{DeltaPolicy, Lookup, NotDecided, lookup};
pub use stream::{CrlIngest, MAX_HEAD_BYTES, MAX_TAIL_BYTES};

/// CRL extensions we understand (RFC 5280 §5.2) and so may accept when critical.
const OID_AUTHORITY_KEY_ID: &str = "2.5.29.35";
const OID_ISSUER_ALT_NAME: &str = "2.5.29.18";
const OID_CRL_NUMBER: &str = "2.5.29.20";
const OID_DELTA_CRL_INDICATOR: &str = "2.5.29.27";
const OID_ISSUING_DISTRIBUTION_POINT: &str = "2.5.29.28";
const OID_FRESHEST_CRL: &str = "2.5.29.46";

/// The most `crlExtensions` a CRL may carry. RFC 5280 §5.2 defines seven.
pub(crate) const MAX_CRL_EXTENSIONS: usize = 16;
/// The largest single `revokedCertificates` entry, in octets. A real entry
/// (a 20-octet serial, a date, a reason code and an invalidity date) takes
/// under 100.
pub(crate) const MAX_ENTRY_BYTES: usize = 1024;
/// The most extensions one revoked entry may carry. RFC 5280 §5.3 defines four.
pub(crate) const MAX_ENTRY_EXTENSIONS: usize = 8;
/// The most distribution point URIs an issuingDistributionPoint may name.
pub(crate) const MAX_SCOPE_URIS: usize = 16;
/// The most delta CRL URIs a Freshest CRL extension may name.
pub(crate) const MAX_FRESHEST_URIS: usize = 8;

/// Which issuer a CRL must come from. A policy entry can match more than one
/// CA name, so the CRL is checked against the entry when it is loaded, and
/// against the certificate's exact issuer when it is used
/// ([`VerifiedCrl::covers`]).
pub trait IssuerExpectation {
    /// Whether a CRL from `issuer` is acceptable.
    fn accepts(&self, issuer: &Name<'_>) -> bool;
    /// What the CRL is loaded to check: client certificates (the default),
    /// or CA certificates (`ca_revocation`).
    fn purpose(&self) -> CrlPurpose {
        CrlPurpose::EndEntities
    }
}

/// What a CRL source is loaded to check. A CRL scoped by its
/// issuingDistributionPoint to the other kind (RFC 5280 §5.2.5) is refused at
/// load, so the operator learns of the mistake, and never covers at use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CrlPurpose {
    /// Client certificates, under an issuer entry.
    #[default]
    EndEntities,
    /// CA certificates, under a `ca_revocation` entry (an ARL).
    CaCertificates,
}

/// Which certificates a CRL speaks for, from its issuingDistributionPoint's
/// onlyContainsUserCerts and onlyContainsCACerts (RFC 5280 §5.2.5).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CertificateKinds {
    /// Both.
    #[default]
    All,
    /// End-entity certificates only (onlyContainsUserCerts).
    EndEntities,
    /// CA certificates only (onlyContainsCACerts): an ARL.
    Cas,
}

/// Expect exactly one issuer name, as DER.
#[derive(Clone, Copy, Debug)]
pub struct ExactIssuer<'a>(pub &'a [u8]);

impl IssuerExpectation for ExactIssuer<'_> {
    fn accepts(&self, issuer: &Name<'_>) -> bool {
        issuer.as_der() == self.0
    }
}

/// Time rules applied to CRLs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CrlTimePolicy {
    /// Tolerated clock difference, in seconds, for `thisUpdate` in the future.
    pub clock_skew_seconds: i64,
    /// How long past `nextUpdate` a CRL stays usable, in seconds.
    pub grace_seconds: i64,
}

/// A CRL number (RFC 5280 §5.2.3), up to 20 octets, compared as an unsigned integer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrlNumber(Serial);

impl CrlNumber {
    /// RFC 5280 §5.2.3: "CRL issuers MUST NOT use CRLNumber values longer
    /// than 20 octets". A longer one is refused rather than kept: it would
    /// be compared, stored and logged at whatever length the CA chose.
    const MAX_OCTETS: usize = 20;

    /// The CRL number (or `BaseCRLNumber`, §5.2.4) in `content`, the
    /// INTEGER's content octets.
    fn read(content: &[u8], what: &'static str) -> Result<Self> {
        let n = Serial::from_integer_bytes(content);
        if n.as_bytes().len() > Self::MAX_OCTETS {
            return Err(bad_der(what, "longer than 20 octets (RFC 5280 §5.2.3)"));
        }
        Ok(Self(n))
    }

    /// Lowercase hex, for logs.
    #[must_use]
    pub fn to_hex(&self) -> String {
        self.0.to_hex()
    }
}

impl fmt::Display for CrlNumber {
    /// Lowercase hex, as [`CrlNumber::to_hex`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_hex())
    }
}

impl PartialOrd for CrlNumber {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for CrlNumber {
    /// Normalized bytes have no leading zeros, so a longer one is larger.
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = (self.0.as_bytes(), other.0.as_bytes());
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    }
}

/// Which certificates of its issuer (and key) a CRL covers (RFC 5280 §5.2.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CrlScope {
    /// No issuingDistributionPoint, or one without a `distributionPoint`: a
    /// complete CRL, covering every certificate.
    Complete,
    /// A partition: it covers exactly the certificates whose
    /// cRLDistributionPoints name one of these names (AWS Private CA's
    /// partitioned CRLs name URIs; RFC 5280 §6.3.3 (b)(2)(i)).
    DistributionPoint(Vec<DpName>),
}

/// The name of a distribution point, as an issuingDistributionPoint and a
/// certificate's cRLDistributionPoints give it, compared exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DpName {
    /// A `uniformResourceIdentifier`.
    Uri(String),
    /// A `directoryName`, as the DER of the Name; a
    /// `nameRelativeToCRLIssuer` becomes the CRL issuer's name with the
    /// relative name appended (§5.2.5), and is compared as such.
    Directory(Vec<u8>),
}

impl fmt::Display for DpName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Uri(u) => f.write_str(u),
            Self::Directory(der) => write!(f, "dirName:{}", DerName::new(der)),
        }
    }
}

impl fmt::Display for CrlScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Complete => f.write_str("complete"),
            Self::DistributionPoint(names) => {
                let text: Vec<String> = names.iter().map(ToString::to_string).collect();
                f.write_str("partition ")?;
                f.write_str(&bounded(&text.join(" ")))
            }
        }
    }
}

/// The identity of a CRL's sequence: its issuer name, the key that signs it
/// and its scope (the issuingDistributionPoint as encoded). Successive CRLs of
/// one identity replace each other; CRLs of different identities (two CAs,
/// two keys of a rollover, two partitions) never do, so rollback is judged
/// per identity.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CrlIdentity([u8; 32]);

impl CrlIdentity {
    /// A made-up identity, for unit tests of what keys on identities.
    #[cfg(any(test, feature = "test-support"))]
    pub fn for_tests(n: u8) -> Self {
        Self([n; 32])
    }

    fn of(issuer_der: &[u8], signer: KeyId, idp_der: &[u8]) -> Self {
        Self(sha256_of_parts(&[issuer_der, signer.as_bytes(), idp_der]))
    }

    /// The identity of the delta CRLs of sequence `base`: a sequence of its
    /// own, so their numbers are judged against each other for rollback and
    /// never against the base's (RFC 5280 §5.2.4: deltas and bases share a
    /// number space, but a delta is not a newer base).
    fn delta_of(base: Self) -> Self {
        Self(sha256_of_parts(&[b"delta", &base.0]))
    }
}

impl fmt::Debug for CrlIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CrlIdentity({self})")
    }
}

impl fmt::Display for CrlIdentity {
    /// The first 8 octets in hex, for logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::signed::write_short_hex(f, &self.0)
    }
}

/// Where a CRL stands in its sequence: its CRL number and `thisUpdate`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrlPosition {
    number: Option<CrlNumber>,
    this_update: UnixTime,
}

impl CrlPosition {
    /// A made-up position, for unit tests.
    #[cfg(any(test, feature = "test-support"))]
    pub fn for_tests(number: Option<u8>, this_update: UnixTime) -> Self {
        Self {
            number: number.map(|n| CrlNumber(Serial::from_integer_bytes(&[n]))),
            this_update,
        }
    }

    /// Refuses a position older than `cached` (a rollback to a list from
    /// before a revocation). CRL numbers decide when both have one (RFC 5280
    /// §5.2.3 makes them monotonic); otherwise `thisUpdate` does.
    pub fn check_not_older_than(&self, cached: &Self) -> Result<()> {
        if let (Some(offered), Some(have)) = (&self.number, &cached.number) {
            if offered < have {
                return Err(CrlRollback::Number {
                    cached: have.clone(),
                    offered: offered.clone(),
                }
                .into());
            }
            return Ok(());
        }
        if self.this_update < cached.this_update {
            return Err(CrlRollback::ThisUpdate {
                cached: cached.this_update,
                offered: self.this_update,
            }
            .into());
        }
        Ok(())
    }
}

/// Whether a CRL speaks for a certificate (RFC 5280 §6.3.3), and if not, why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coverage {
    /// It does: same issuer, same key, and the certificate is in its scope.
    Covers,
    /// It comes from another CA name (§6.3.3 (b)(1)).
    OtherIssuer,
    /// It was signed by another key of the CA, e.g. across a key rollover
    /// (§6.3.3 (f)).
    OtherKey,
    /// Both carry an authority key identifier, and they differ.
    OtherAuthorityKeyId,
    /// It is a partition, and the certificate's cRLDistributionPoints name
    /// none of its URIs (§6.3.3 (b)(2)(i)).
    OtherDistributionPoint,
    /// It only speaks for CA certificates and this is a client certificate,
    /// or the other way round (§5.2.5, §6.3.3 (b)(2)(ii), (iii)).
    OtherCertificateKind,
}

impl Coverage {
    /// A short explanation, for the decision log.
    #[must_use]
    pub(crate) fn explain(self) -> &'static str {
        match self {
            Self::Covers => "it covers the certificate",
            Self::OtherIssuer => "it is from another CA",
            Self::OtherKey => "it is signed by another key of the CA than the certificate",
            Self::OtherAuthorityKeyId => {
                "its authority key identifier differs from the certificate's"
            }
            Self::OtherDistributionPoint => {
                "it is a partition the certificate's CRL distribution points do not name"
            }
            Self::OtherCertificateKind => {
                "it only covers CA certificates, or only end-entity certificates, and this is the other kind"
            }
        }
    }
}

/// A CRL whose signature, issuer, scope and freshness have been verified.
#[derive(Clone, Debug)]
pub struct VerifiedCrl {
    issuer_der: Vec<u8>,
    issuer_dn: String,
    signer: KeyId,
    authority_key_id: Option<Vec<u8>>,
    scope: CrlScope,
    kinds: CertificateKinds,
    identity: CrlIdentity,
    /// Names this exact CRL: its issuer and signature. Two fetches that
    /// verify to the same fingerprint carry the same CRL.
    fingerprint: [u8; 32],
    this_update: UnixTime,
    next_update: UnixTime,
    number: Option<CrlNumber>,
    /// A complete CRL, or a delta on a base (RFC 5280 §5.2.4).
    kind: CrlKind,
    /// The sequence of complete CRLs it belongs to, or, for a delta, the
    /// sequence of the bases it applies to.
    base_sequence: CrlIdentity,
    /// The delta CRL URIs of its Freshest CRL extension (§5.2.6).
    freshest: Vec<String>,
    /// Whether it carries a Freshest CRL extension at all, even one naming
    /// no URI we could fetch: the CA publishes deltas for it, so it is
    /// never read alone.
    names_delta: bool,
    /// Every entry except those with reason `removeFromCRL`.
    revoked: RevokedSet,
    /// The entries with reason `removeFromCRL` (§5.3.1). In a delta they
    /// take a held certificate off its base; in a complete CRL, where they
    /// have no meaning, they count as revoked (fail closed).
    removed: RevokedSet,
}

/// Whether a CRL is complete or a delta (RFC 5280 §5.2.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CrlKind {
    /// A complete CRL for its scope: a base for deltas, or a CRL alone.
    Complete,
    /// A delta CRL: the changes since the base CRL numbered `base` (its
    /// DeltaCRLIndicator).
    Delta {
        /// The BaseCRLNumber.
        base: CrlNumber,
    },
}

/// What a delta CRL says about one serial.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeltaListing {
    /// Listed with a reason other than `removeFromCRL`: revoked (or held).
    Revoked,
    /// Listed with `removeFromCRL`: no longer revoked by its base.
    Removed,
    /// Not listed: the base decides.
    NotListed,
}

/// Decodes a PEM `X509 CRL` block, or passes DER through.
fn crl_der(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>> {
    let trimmed = bytes.trim_ascii_start();
    if !trimmed.starts_with(b"-----BEGIN") {
        return Ok(std::borrow::Cow::Borrowed(bytes));
    }
    crate::pem::find(trimmed, crate::pem::X509_CRL)
        .map_err(CrlMalformed::Pem)?
        .map(std::borrow::Cow::Owned)
        .ok_or(Error::CrlMalformed(CrlMalformed::NoPemBlock))
}

/// A [`CrlMalformed::Der`] error.
fn bad_der(what: &'static str, problem: &'static str) -> Error {
    Error::CrlMalformed(CrlMalformed::Der(Malformed { what, problem }))
}

/// What the `crlExtensions` say (RFC 5280 §5.2), once each was checked.
#[derive(Debug, Default)]
struct CrlExtensions {
    number: Option<CrlNumber>,
    authority_key_id: Option<Vec<u8>>,
    scope: Option<CrlScope>,
    kinds: CertificateKinds,
    /// The issuingDistributionPoint's extnValue, which names the scope in
    /// [`CrlIdentity`].
    idp_der: Vec<u8>,
    /// The DeltaCRLIndicator's BaseCRLNumber, for a delta CRL.
    delta_base: Option<CrlNumber>,
    /// The Freshest CRL extension's URIs.
    freshest: Vec<String>,
    /// Whether the Freshest CRL extension is present, whatever it names.
    names_delta: bool,
}

/// RFC 5280 §5.2: reject CRLs we cannot interpret completely, and read what
/// we need. `list` is the content of the `Extensions` SEQUENCE.
fn read_crl_extensions(list: &[u8], issuer_der: &[u8]) -> Result<CrlExtensions> {
    let mut out = CrlExtensions::default();
    let mut seen: Vec<Oid<'_>> = Vec::new();
    let mut exts = Reader::new(list);
    while !exts.is_empty() {
        if seen.len() == MAX_CRL_EXTENSIONS {
            return Err(CrlMalformed::TooMany {
                what: "crlExtensions",
                max: MAX_CRL_EXTENSIONS,
            }
            .into());
        }
        let raw = exts
            .expect_tag(der::SEQUENCE, "extension")
            .map_err(CrlMalformed::Der)?;
        let (_, ext) = X509Extension::from_der(raw.raw)
            .map_err(|e| bad_der("extension", crate::error::nom_problem(&e)))?;
        let id = ObjectId::new(ext.oid.as_bytes());
        // §4.2 (applied to CRLs by §5.2): at most one instance of each extension.
        if seen.contains(&ext.oid) {
            return Err(CrlMalformed::DuplicateExtension { oid: id }.into());
        }
        seen.push(ext.oid.clone());
        let oid = ext.oid.to_id_string();
        match (oid.as_str(), ext.parsed_extension()) {
            (_, ParsedExtension::ParseError { .. }) => {
                return Err(CrlMalformed::Extension {
                    oid: id,
                    problem: "cannot be parsed",
                }
                .into());
            }
            // §5.2.4: a delta CRL only lists changes since a base CRL. It is
            // marked as one here, and is only ever read beside its base
            // (`crl::lookup`), never alone.
            (OID_DELTA_CRL_INDICATOR, _) => {
                out.delta_base = Some(read_base_crl_number(ext.value)?);
            }
            (OID_FRESHEST_CRL, _) => {
                out.freshest = read_freshest(ext.value)?;
                out.names_delta = true;
            }
            (OID_ISSUING_DISTRIBUTION_POINT, ParsedExtension::IssuingDistributionPoint(idp)) => {
                let (scope, kinds) = scope_of(idp, read_idp(ext.value, issuer_der)?)?;
                out.scope = Some(scope);
                out.kinds = kinds;
                out.idp_der = ext.value.to_vec();
            }
            (OID_CRL_NUMBER, ParsedExtension::CRLNumber(n)) => {
                out.number = Some(CrlNumber::read(&n.to_bytes_be(), "CRLNumber")?);
            }
            (OID_AUTHORITY_KEY_ID, ParsedExtension::AuthorityKeyIdentifier(aki)) => {
                out.authority_key_id = aki.key_identifier.as_ref().map(|k| k.0.to_vec());
            }
            (OID_ISSUER_ALT_NAME, _) => {}
            (_, _) if ext.critical => {
                return Err(CrlUnsupported::CriticalExtension { oid: id }.into());
            }
            _ => {}
        }
    }
    Ok(out)
}

/// §5.2.4: `BaseCRLNumber ::= CRLNumber`, a non-negative INTEGER.
fn read_base_crl_number(value: &[u8]) -> Result<CrlNumber> {
    let mut r = Reader::new(value);
    let n = r
        .expect_tag(der::INTEGER, "BaseCRLNumber")
        .map_err(CrlMalformed::Der)?;
    if !r.is_empty() || n.content.is_empty() || n.content.first().is_some_and(|b| b & 0x80 != 0) {
        return Err(bad_der("BaseCRLNumber", "not a non-negative INTEGER"));
    }
    CrlNumber::read(n.content, "BaseCRLNumber")
}

/// §5.2.6: the Freshest CRL extension has the syntax of
/// cRLDistributionPoints. Only `fullName` URIs of points without `reasons`
/// or `cRLIssuer` name a delta we could use; other points are skipped. The
/// base still names a delta ([`VerifiedCrl::names_delta`]), so it is never
/// read alone: without a delta loaded from a configured `delta_crl`, it is
/// `crl_unavailable`.
fn read_freshest(value: &[u8]) -> Result<Vec<String>> {
    use x509_parser::extensions::CRLDistributionPoints;
    use x509_parser::prelude::FromDer;
    let (rest, points) = CRLDistributionPoints::from_der(value)
        .map_err(|_| bad_der("Freshest CRL", "not DistributionPoints"))?;
    if !rest.is_empty() {
        return Err(bad_der("Freshest CRL", "trailing data"));
    }
    let mut uris = Vec::new();
    for point in points.iter() {
        if point.reasons.is_some() || point.crl_issuer.is_some() {
            continue;
        }
        let Some(DistributionPointName::FullName(names)) = &point.distribution_point else {
            continue;
        };
        for name in names {
            if let GeneralName::URI(u) = name {
                if uris.len() == MAX_FRESHEST_URIS {
                    return Err(CrlMalformed::TooMany {
                        what: "Freshest CRL URIs",
                        max: MAX_FRESHEST_URIS,
                    }
                    .into());
                }
                uris.push((*u).to_owned());
            }
        }
    }
    Ok(uris)
}

/// Which `DistributionPointName` an issuingDistributionPoint carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DistributionPointForm {
    /// No `distributionPoint`: the CRL is not scoped by one.
    Absent,
    /// `fullName [0] GeneralNames`.
    FullName,
    /// `nameRelativeToCRLIssuer [1] RelativeDistinguishedName`.
    RelativeToIssuer,
}

/// An issuingDistributionPoint as our own strict DER reader reads it. The
/// scope is taken from this reading, not from x509-parser's: x509-parser
/// drops a field it cannot parse and every field after it, so a
/// `nameRelativeToCRLIssuer` (NIST PKITS Invalid distributionPoint Tests 8
/// and 9), fields out of order, or a BOOLEAN TRUE encoded as `01` once made a
/// partition, a CA-only CRL or a reason partition pass for a complete CRL.
#[derive(Clone, Debug, PartialEq, Eq)]
struct IdpReading {
    distribution_point: DistributionPointForm,
    /// The distribution point's names, when it has one: the fullName's URIs
    /// and directoryNames (other kinds of name never match a certificate's,
    /// so they are left out), or the relative name built onto the issuer's.
    names: Vec<DpName>,
    only_user_certs: bool,
    only_ca_certs: bool,
    only_some_reasons: bool,
    indirect_crl: bool,
    only_attribute_certs: bool,
}

/// §5.2.5: `IssuingDistributionPoint ::= SEQUENCE { distributionPoint [0]
/// DistributionPointName OPTIONAL, onlyContainsUserCerts [1] BOOLEAN DEFAULT
/// FALSE, onlyContainsCACerts [2] …, onlySomeReasons [3] ReasonFlags
/// OPTIONAL, indirectCRL [4] …, onlyContainsAttributeCerts [5] … }`, read
/// strictly as DER (X.690 §11): fields in that order, each at most once, a
/// BOOLEAN only as `ff` (a DEFAULT FALSE is never encoded), `[0]` explicit
/// (a CHOICE) holding exactly one non-empty `fullName [0]` or
/// `nameRelativeToCRLIssuer [1]`, and nothing unknown or left over.
fn read_idp(ext_value: &[u8], issuer_der: &[u8]) -> Result<IdpReading> {
    let bad = |problem: &'static str| bad_der("issuingDistributionPoint", problem);
    let mut outer = Reader::new(ext_value);
    let idp = outer
        .expect_tag(der::SEQUENCE, "issuingDistributionPoint")
        .map_err(CrlMalformed::Der)?;
    if !outer.is_empty() {
        return Err(bad("data after the SEQUENCE"));
    }
    let mut reading = IdpReading {
        distribution_point: DistributionPointForm::Absent,
        names: Vec::new(),
        only_user_certs: false,
        only_ca_certs: false,
        only_some_reasons: false,
        indirect_crl: false,
        only_attribute_certs: false,
    };
    let mut fields = Reader::new(idp.content);
    // Fields are ordered by their context tag numbers, [0] to [5].
    let mut last_number: Option<u8> = None;
    while !fields.is_empty() {
        let field = fields.any().map_err(bad)?;
        let number = field.tag & 0x1f;
        if last_number.is_some_and(|last| number <= last) {
            return Err(bad("fields out of order or repeated"));
        }
        last_number = Some(number);
        let flag = || match field.content {
            [0xff] => Ok(true),
            _ => Err(bad("a BOOLEAN that is not DER TRUE")),
        };
        match field.tag {
            0xa0 => {
                let mut choice = Reader::new(field.content);
                let name = choice.any().map_err(bad)?;
                if !choice.is_empty() {
                    return Err(bad("data after the DistributionPointName"));
                }
                reading.distribution_point = match (name.tag, name.content.is_empty()) {
                    (_, true) => return Err(bad("an empty DistributionPointName")),
                    (0xa0, false) => {
                        reading.names = full_name(name.content).map_err(bad)?;
                        DistributionPointForm::FullName
                    }
                    (0xa1, false) => {
                        reading.names = vec![DpName::Directory(
                            relative_to(issuer_der, name.content).map_err(bad)?,
                        )];
                        DistributionPointForm::RelativeToIssuer
                    }
                    _ => return Err(bad("not a DistributionPointName")),
                };
            }
            0x81 => reading.only_user_certs = flag()?,
            0x82 => reading.only_ca_certs = flag()?,
            0x83 => {
                if field.content.is_empty() {
                    return Err(bad("an empty onlySomeReasons"));
                }
                reading.only_some_reasons = true;
            }
            0x84 => reading.indirect_crl = flag()?,
            0x85 => reading.only_attribute_certs = flag()?,
            _ => return Err(bad("an unknown field")),
        }
    }
    Ok(reading)
}

/// The URIs and directoryNames of a `fullName` (the content of its
/// GeneralNames), at most [`MAX_SCOPE_URIS`] names in all.
fn full_name(general_names: &[u8]) -> Result<Vec<DpName>, &'static str> {
    let mut names = Vec::new();
    let mut r = Reader::new(general_names);
    let mut count = 0;
    while !r.is_empty() {
        let name = r.any()?;
        count += 1;
        if count > MAX_SCOPE_URIS {
            return Err("too many distribution point names");
        }
        match name.tag {
            // uniformResourceIdentifier [6] IA5String
            0x86 => {
                if !name.content.is_ascii() {
                    return Err("a URI that is not IA5String");
                }
                let uri =
                    std::str::from_utf8(name.content).map_err(|_| "a URI that is not text")?;
                names.push(DpName::Uri(uri.to_owned()));
            }
            // directoryName [4] Name (explicit: Name is a CHOICE)
            0xa4 => {
                let mut inner = Reader::new(name.content);
                let dn = inner.any()?;
                if dn.tag != der::SEQUENCE || !inner.is_empty() {
                    return Err("a directoryName that is not one Name");
                }
                names.push(DpName::Directory(dn.raw.to_vec()));
            }
            // Other kinds of name: never a certificate's CRL distribution
            // point here, so they cover nothing.
            _ => {}
        }
    }
    Ok(names)
}

/// §5.2.5: a `nameRelativeToCRLIssuer` is the CRL issuer's name with this
/// RDN appended. `rdn` is the content of the `[1]` (a SET OF
/// AttributeTypeAndValue, implicitly tagged); the result is a Name's DER.
fn relative_to(issuer_der: &[u8], rdn: &[u8]) -> Result<Vec<u8>, &'static str> {
    let mut r = Reader::new(issuer_der);
    let issuer = r.any()?;
    if issuer.tag != der::SEQUENCE || !r.is_empty() {
        return Err("the CRL issuer is not one Name");
    }
    let mut attributes = Reader::new(rdn);
    while !attributes.is_empty() {
        if attributes.any()?.tag != der::SEQUENCE {
            return Err("a relative name that is not a set of attributes");
        }
    }
    let mut content = issuer.content.to_vec();
    der::write_tlv(&mut content, der::SET, rdn);
    let mut name = Vec::with_capacity(content.len() + 4);
    der::write_tlv(&mut name, der::SEQUENCE, &content);
    Ok(name)
}

/// §5.2.5: the certificates an issuingDistributionPoint says the CRL covers.
/// Scopes that cannot cover a client certificate completely are refused:
/// indirect CRLs, CA-only or attribute-only CRLs, and reason partitions.
/// Every decision is taken from `ours` (see [`IdpReading`]); x509-parser's
/// reading supplies only the fullName URIs, and where it disagrees with ours
/// on any field the CRL is refused.
fn scope_of(
    idp: &IssuingDistributionPoint<'_>,
    ours: IdpReading,
) -> Result<(CrlScope, CertificateKinds)> {
    if ours.indirect_crl {
        return Err(CrlUnsupported::IndirectCrl.into());
    }
    if ours.only_attribute_certs {
        return Err(CrlUnsupported::AttributeCertificates.into());
    }
    // §5.2.5: at most one of the three may be TRUE.
    let kinds = match (ours.only_user_certs, ours.only_ca_certs) {
        (false, false) => CertificateKinds::All,
        (true, false) => CertificateKinds::EndEntities,
        (false, true) => CertificateKinds::Cas,
        (true, true) => {
            return Err(bad_der(
                "issuingDistributionPoint",
                "onlyContainsUserCerts and onlyContainsCACerts both set",
            ));
        }
    };
    if ours.only_some_reasons {
        return Err(CrlUnsupported::ReasonPartition.into());
    }
    let theirs = IdpReading {
        names: ours.names.clone(),
        distribution_point: match &idp.distribution_point {
            None => DistributionPointForm::Absent,
            Some(DistributionPointName::FullName(_)) => DistributionPointForm::FullName,
            Some(DistributionPointName::NameRelativeToCRLIssuer(_)) => {
                DistributionPointForm::RelativeToIssuer
            }
        },
        only_user_certs: idp.only_contains_user_certs,
        only_ca_certs: idp.only_contains_ca_certs,
        only_some_reasons: idp.only_some_reasons.is_some(),
        indirect_crl: idp.indirect_crl,
        only_attribute_certs: idp.only_contains_attribute_certs,
    };
    // x509-parser reads a nameRelativeToCRLIssuer as no distribution point
    // at all (the misreading that once made such a partition pass for a
    // complete CRL); our reading decides, and every other field must agree.
    let theirs = match (ours.distribution_point, theirs.distribution_point) {
        (DistributionPointForm::RelativeToIssuer, DistributionPointForm::Absent) => IdpReading {
            distribution_point: DistributionPointForm::RelativeToIssuer,
            ..theirs
        },
        _ => theirs,
    };
    if theirs != ours {
        return Err(bad_der("issuingDistributionPoint", "read two ways"));
    }
    // For a fullName, x509-parser's URIs and directoryNames must be ours.
    if let Some(DistributionPointName::FullName(names)) = &idp.distribution_point {
        let theirs: Vec<DpName> = names
            .iter()
            .filter_map(|n| match n {
                GeneralName::URI(u) => Some(DpName::Uri((*u).to_owned())),
                GeneralName::DirectoryName(dn) => Some(DpName::Directory(dn.as_raw().to_vec())),
                _ => None,
            })
            .collect();
        if theirs != ours.names {
            return Err(bad_der("issuingDistributionPoint", "names read two ways"));
        }
    }
    // The kinds are kept beside the scope: VerifiedCrl::covers refuses a
    // certificate of the other kind.
    let scope = match ours.distribution_point {
        DistributionPointForm::Absent => CrlScope::Complete,
        DistributionPointForm::FullName | DistributionPointForm::RelativeToIssuer => {
            if ours.names.is_empty() {
                return Err(CrlUnsupported::DistributionPointNames.into());
            }
            CrlScope::DistributionPoint(ours.names)
        }
    };
    Ok((scope, kinds))
}

/// Entry extension OIDs (RFC 5280 §5.3) as DER content octets, so the entry
/// walk compares bytes instead of decoding a million OIDs.
const ENTRY_REASON_CODE: &[u8] = &[0x55, 0x1d, 0x15];
const ENTRY_HOLD_INSTRUCTION: &[u8] = &[0x55, 0x1d, 0x17];
const ENTRY_INVALIDITY_DATE: &[u8] = &[0x55, 0x1d, 0x18];
const ENTRY_CERTIFICATE_ISSUER: &[u8] = &[0x55, 0x1d, 0x1d];

/// Why a revoked entry was refused; allocation-free, like [`Malformed`].
#[derive(Clone, Copy, Debug)]
enum EntryFault {
    Malformed(Malformed),
    /// §5.3.3: entries for other issuers make this an indirect CRL.
    Indirect,
    UnknownCritical,
}

impl From<Malformed> for EntryFault {
    fn from(m: Malformed) -> Self {
        Self::Malformed(m)
    }
}

fn malformed(what: &'static str, problem: &'static str) -> EntryFault {
    EntryFault::Malformed(Malformed { what, problem })
}

/// What one revoked entry says (RFC 5280 §5.3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EntryKind {
    /// Revoked, or on hold: any reason but `removeFromCRL`, or none.
    Listed,
    /// Reason `removeFromCRL` (8): meaningful in a delta CRL only.
    RemoveFromCrl,
}

/// The CRLReason value `removeFromCRL`.
const REASON_REMOVE_FROM_CRL: u8 = 8;

/// RFC 5280 §5.3: the extensions of one revoked entry.
#[inline]
fn check_entry_extensions(content: &[u8]) -> std::result::Result<EntryKind, EntryFault> {
    let mut exts = Reader::new(content);
    if exts.is_empty() {
        return Err(malformed("crlEntryExtensions", "empty"));
    }
    // Bit per known extension, to refuse duplicates (§4.2).
    let mut seen = 0u8;
    let mut count = 0usize;
    let mut kind = EntryKind::Listed;
    while !exts.is_empty() {
        count += 1;
        if count > MAX_ENTRY_EXTENSIONS {
            return Err(malformed("crlEntryExtensions", "too many extensions"));
        }
        let ext = exts.expect_tag(der::SEQUENCE, "entry extension")?;
        let mut fields = Reader::new(ext.content);
        let oid = fields.expect_tag(der::OID, "entry extension OID")?;
        // DER omits a DEFAULT FALSE, so an encoded `critical` must be TRUE.
        let critical = match fields.optional(der::BOOLEAN, "entry extension critical")? {
            None => false,
            Some(b) if b.content == [0xff] => true,
            Some(_) => return Err(malformed("entry extension critical", "not DER TRUE")),
        };
        let value = fields.expect_tag(der::OCTET_STRING, "entry extension extnValue")?;
        if !fields.is_empty() {
            return Err(malformed("entry extension", "unexpected data"));
        }
        let (bit, value_tag) = match oid.content {
            ENTRY_CERTIFICATE_ISSUER => return Err(EntryFault::Indirect),
            ENTRY_REASON_CODE => (1, der::ENUMERATED),
            ENTRY_HOLD_INSTRUCTION => (2, der::OID),
            ENTRY_INVALIDITY_DATE => (4, der::GENERALIZED_TIME),
            _ if critical => return Err(EntryFault::UnknownCritical),
            _ => continue,
        };
        if seen & bit != 0 {
            return Err(malformed("entry extension", "appears twice"));
        }
        seen |= bit;
        let mut inner = Reader::new(value.content);
        let v = inner.expect_tag(value_tag, "entry extension value")?;
        if !inner.is_empty() {
            return Err(malformed("entry extension value", "trailing data"));
        }
        // §5.3.1: CRLReason is 0..=10, and 7 is unused.
        if value_tag == der::ENUMERATED && !matches!(v.content, [r] if *r <= 10 && *r != 7) {
            return Err(malformed("reasonCode", "not a CRLReason value"));
        }
        if value_tag == der::ENUMERATED && v.content == [REASON_REMOVE_FROM_CRL] {
            kind = EntryKind::RemoveFromCrl;
        }
    }
    Ok(kind)
}

/// A `Time` (RFC 5280 §4.1.2.5) from its whole encoding.
fn time_of(raw: &[u8], what: &'static str) -> Result<UnixTime> {
    ASN1Time::from_der(raw)
        .map(|(_, t)| UnixTime::from_asn1(t))
        .map_err(|e| bad_der(what, crate::error::nom_problem(&e)))
}

impl VerifiedCrl {
    /// Verifies a DER or PEM CRL for an issuer `expected` accepts, at time `now`.
    ///
    /// Per RFC 5280 §6.3.3 the CRL must be issued by a truststore CA that may
    /// sign CRLs, signed by that CA's key, complete in what it covers (or a
    /// distribution-point partition, see [`CrlScope`]), not from the future,
    /// and not past `nextUpdate` plus the grace period. Every entry is kept,
    /// whatever its reason code: `certificateHold` is revoked while listed,
    /// and `removeFromCRL` belongs only in delta CRLs (§5.3.1), so seeing
    /// it in a complete CRL is no reason to allow. A delta CRL (§5.2.4)
    /// verifies by the same rules and is marked as one ([`CrlKind`]); it is
    /// only ever read beside its base ([`lookup`]).
    ///
    /// This is [`CrlIngest`] fed the whole body at once: the same single pass
    /// as a streamed download, so the two can never disagree.
    pub fn verify(
        bytes: &[u8],
        expected: &(dyn IssuerExpectation + Sync),
        truststore: &TrustStore,
        now: UnixTime,
        policy: CrlTimePolicy,
    ) -> Result<Self> {
        let mut ingest = CrlIngest::new(expected, truststore);
        ingest.push(bytes)?;
        ingest.finish(now, policy)
    }

    /// Whether this CRL speaks for `cert`, whose signature `signer` verified
    /// (RFC 5280 §6.3.3): the same issuer name (b)(1), the same key (f), the
    /// same authority key identifier where both carry one, and, for a
    /// partition, a distribution point URI in common (b)(2)(i).
    #[must_use]
    pub fn covers(&self, cert: &ClientCert<'_>, signer: KeyId) -> Coverage {
        self.covers_parts(
            cert.issuer_der(),
            cert.authority_key_id(),
            cert.crl_uris(),
            cert.crl_directory_names(),
            cert.role(),
            signer,
        )
    }

    /// [`VerifiedCrl::covers`] for a truststore CA certificate, checked
    /// against its parent's CRL: the CA's own extensions were read at
    /// truststore load, and `parent` is the key that verified it.
    #[must_use]
    pub fn covers_ca(&self, ca: &crate::truststore::CaFacts, parent: KeyId) -> Coverage {
        self.covers_parts(
            &ca.issuer_der,
            ca.authority_key_id.as_deref(),
            &ca.crl_uris,
            &ca.crl_directory_names,
            ca.role,
            parent,
        )
    }

    fn covers_parts<U: AsRef<str>, D: AsRef<[u8]>>(
        &self,
        issuer_der: &[u8],
        authority_key_id: Option<&[u8]>,
        crl_uris: &[U],
        crl_directory_names: &[D],
        role: crate::cert::CertificateRole,
        signer: KeyId,
    ) -> Coverage {
        if self.issuer_der != issuer_der {
            return Coverage::OtherIssuer;
        }
        if self.signer != signer {
            return Coverage::OtherKey;
        }
        if let (Some(crl), Some(cert)) = (&self.authority_key_id, authority_key_id)
            && crl.as_slice() != cert
        {
            return Coverage::OtherAuthorityKeyId;
        }
        let is_ca = role == crate::cert::CertificateRole::Ca;
        match (self.kinds, is_ca) {
            (CertificateKinds::EndEntities, true) | (CertificateKinds::Cas, false) => {
                return Coverage::OtherCertificateKind;
            }
            _ => {}
        }
        match &self.scope {
            CrlScope::Complete => Coverage::Covers,
            CrlScope::DistributionPoint(names) => {
                let named = |n: &DpName| match n {
                    DpName::Uri(u) => crl_uris.iter().any(|c| c.as_ref() == u),
                    DpName::Directory(d) => crl_directory_names.iter().any(|c| c.as_ref() == d),
                };
                if names.iter().any(named) {
                    Coverage::Covers
                } else {
                    Coverage::OtherDistributionPoint
                }
            }
        }
    }

    /// Which certificates it speaks for.
    #[must_use]
    pub fn kinds(&self) -> CertificateKinds {
        self.kinds
    }

    /// Whether the CRL lists `serial`, with any reason. For a delta CRL,
    /// read it beside its base with [`VerifiedCrl::delta_listing`] instead
    /// (or through [`lookup`]).
    #[must_use]
    pub fn is_revoked(&self, serial: &Serial) -> bool {
        self.revoked.contains(serial) || self.removed.contains(serial)
    }

    /// Complete, or a delta on which base.
    #[must_use]
    pub fn kind(&self) -> &CrlKind {
        &self.kind
    }

    /// Whether this is a delta CRL.
    #[must_use]
    pub fn is_delta(&self) -> bool {
        matches!(self.kind, CrlKind::Delta { .. })
    }

    /// The delta CRL URIs its Freshest CRL extension names (RFC 5280 §5.2.6).
    #[must_use]
    pub fn freshest(&self) -> &[String] {
        &self.freshest
    }

    /// Whether it carries a Freshest CRL extension (RFC 5280 §5.2.6), even
    /// one whose points name no URI we could fetch ([`VerifiedCrl::freshest`]
    /// empty): the CA publishes delta CRLs for it.
    #[must_use]
    pub(crate) fn names_delta(&self) -> bool {
        self.names_delta
    }

    /// The sequence of complete CRLs it belongs to, or applies to as a delta.
    #[must_use]
    pub fn base_sequence(&self) -> CrlIdentity {
        self.base_sequence
    }

    /// What this CRL, read as a delta, says about `serial` (RFC 5280
    /// §5.2.4, §5.3.1). An entry with another reason wins over a
    /// `removeFromCRL` one for the same serial.
    #[must_use]
    pub fn delta_listing(&self, serial: &Serial) -> DeltaListing {
        if self.revoked.contains(serial) {
            DeltaListing::Revoked
        } else if self.removed.contains(serial) {
            DeltaListing::Removed
        } else {
            DeltaListing::NotListed
        }
    }

    /// Whether this delta CRL applies to `base` (RFC 5280 §5.2.4, §6.3.3
    /// (c)): the same issuer, key and scope; a BaseCRLNumber at most the
    /// base's CRL number; and a CRL number above it. A base without a CRL
    /// number takes no delta.
    #[must_use]
    pub fn applies_to(&self, base: &Self) -> bool {
        let (CrlKind::Delta { base: from }, CrlKind::Complete) = (&self.kind, &base.kind) else {
            return false;
        };
        let (Some(number), Some(base_number)) = (&self.number, &base.number) else {
            return false;
        };
        self.base_sequence == base.identity && from <= base_number && number > base_number
    }

    /// Whether the CRL may still be relied on at `now`.
    pub fn check_usable(&self, now: UnixTime, grace_seconds: i64) -> Result<()> {
        check_fresh(self.next_update, now, grace_seconds)
    }

    /// Its place in its sequence, for rollback checks.
    #[must_use]
    pub fn position(&self) -> CrlPosition {
        CrlPosition {
            number: self.number.clone(),
            this_update: self.this_update,
        }
    }

    /// The sequence it belongs to.
    #[must_use]
    pub fn identity(&self) -> CrlIdentity {
        self.identity
    }

    /// What names this exact CRL (its issuer and signature value), computed
    /// from what verification read anyway: a source serving the same CRL
    /// again is recognised without hashing its body a second time.
    #[must_use]
    pub fn fingerprint(&self) -> [u8; 32] {
        self.fingerprint
    }

    /// What it covers.
    #[must_use]
    pub fn scope(&self) -> &CrlScope {
        &self.scope
    }

    /// The truststore key that signed it.
    #[must_use]
    pub fn signer(&self) -> KeyId {
        self.signer
    }

    /// The issuer's name, as DER.
    #[must_use]
    pub fn issuer_der(&self) -> &[u8] {
        &self.issuer_der
    }

    /// The issuer's DN text.
    #[must_use]
    pub fn issuer_dn(&self) -> &str {
        &self.issuer_dn
    }

    /// `thisUpdate`.
    #[must_use]
    pub fn this_update(&self) -> UnixTime {
        self.this_update
    }

    /// `nextUpdate`.
    #[must_use]
    pub fn next_update(&self) -> UnixTime {
        self.next_update
    }

    /// The CRL number, if the CRL has one.
    #[must_use]
    pub fn number(&self) -> Option<&CrlNumber> {
        self.number.as_ref()
    }

    /// The revoked serials.
    #[must_use]
    pub fn revoked(&self) -> &RevokedSet {
        &self.revoked
    }
}

fn check_fresh(next_update: UnixTime, now: UnixTime, grace_seconds: i64) -> Result<()> {
    if now > next_update.offset(grace_seconds) {
        return Err(Error::CrlExpired {
            next_update,
            grace_seconds,
            now,
        });
    }
    Ok(())
}

/// Entry points for fuzzing only (the `fuzzing` feature). Nothing here is
/// verified, so nothing here may decide a request.
#[cfg(feature = "fuzzing")]
pub mod fuzzing {
    use super::{CrlIngest, CrlTimePolicy, Result};
    use crate::time::UnixTime;

    /// Runs every parsing step of [`super::VerifiedCrl::verify`] except the
    /// issuer and signature checks, so a fuzzer reaches the extension reader,
    /// the entry walker and the index. The body is fed in chunks whose sizes
    /// come from `split` (cycled), so the fuzzer also reaches every place a
    /// chunk can end. Returns the number of distinct serials, never the CRL:
    /// nothing it makes can reach a decision.
    pub fn parse_unverified(bytes: &[u8], split: &[u8]) -> Result<usize> {
        let mut ingest = CrlIngest::unverified();
        let mut rest = bytes;
        let mut sizes = split.iter().map(|&b| usize::from(b) + 1).cycle();
        while !rest.is_empty() {
            let n = sizes.next().unwrap_or(rest.len()).min(rest.len());
            let (chunk, after) = rest.split_at(n);
            ingest.push(chunk)?;
            rest = after;
        }
        // Any time at all: the fuzzer is after the parser, not the dates.
        let policy = CrlTimePolicy {
            clock_skew_seconds: i64::MAX / 4,
            grace_seconds: i64::MAX / 4,
        };
        ingest
            .finish(UnixTime(0), policy)
            .map(|crl| crl.revoked().len())
    }
}

#[cfg(test)]
mod tests;
