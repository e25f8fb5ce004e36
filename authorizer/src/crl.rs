//! CRL verification and lookup (RFC 5280 §5 and §6.3).
//!
//! A [`VerifiedCrl`] can only be made by [`VerifiedCrl::verify`], so holding
//! one proves that its signature, issuer, extensions and freshness were checked.

use std::cmp::Ordering;

use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::*;

use crate::error::{Error, Result};
use crate::name::format_dn;
use crate::serial::Serial;
use crate::time::UnixTime;
use crate::truststore::{TrustStore, check_signature_algorithm};

/// CRL extensions we understand (RFC 5280 §5.2) and so may accept when critical.
const OID_AUTHORITY_KEY_ID: &str = "2.5.29.35";
const OID_ISSUER_ALT_NAME: &str = "2.5.29.18";
const OID_CRL_NUMBER: &str = "2.5.29.20";
const OID_DELTA_CRL_INDICATOR: &str = "2.5.29.27";
const OID_ISSUING_DISTRIBUTION_POINT: &str = "2.5.29.28";
/// Entry extensions (RFC 5280 §5.3).
const OID_REASON_CODE: &str = "2.5.29.21";
const OID_HOLD_INSTRUCTION: &str = "2.5.29.23";
const OID_INVALIDITY_DATE: &str = "2.5.29.24";
const OID_CERTIFICATE_ISSUER: &str = "2.5.29.29";

/// Which issuer a CRL must come from. A policy entry can match more than one
/// CA name, so the CRL is checked against the entry when it is loaded, and
/// against the certificate's exact issuer when it is used
/// ([`VerifiedCrl::covers_issuer`]).
pub trait IssuerExpectation {
    /// Whether a CRL from `issuer` is acceptable.
    fn accepts(&self, issuer: &X509Name<'_>) -> bool;
    /// A description of the expected issuer, for errors.
    fn describe(&self) -> String;
}

/// Expect exactly one issuer name, as DER.
#[derive(Clone, Copy, Debug)]
pub struct ExactIssuer<'a>(pub &'a [u8]);

impl IssuerExpectation for ExactIssuer<'_> {
    fn accepts(&self, issuer: &X509Name<'_>) -> bool {
        issuer.as_raw() == self.0
    }
    fn describe(&self) -> String {
        X509Name::from_der(self.0).map_or_else(|_| hex::encode(self.0), |(_, n)| format_dn(&n))
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
    /// Lowercase hex, for logs.
    #[must_use]
    pub fn to_hex(&self) -> String {
        self.0.to_hex()
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

/// The revoked serials of one CRL, sorted for exact binary search.
#[derive(Clone, Debug, Default)]
pub struct RevokedSet {
    sorted: Vec<Serial>,
}

impl RevokedSet {
    fn from_unsorted(mut serials: Vec<Serial>) -> Self {
        serials.sort_unstable();
        serials.dedup();
        serials.shrink_to_fit();
        Self { sorted: serials }
    }

    /// Whether `serial` is listed. Exact byte comparison: no false negatives.
    #[must_use]
    pub fn contains(&self, serial: &Serial) -> bool {
        self.sorted.binary_search(serial).is_ok()
    }

    /// The number of distinct revoked serials.
    #[must_use]
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// Whether no serial is revoked.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }
}

/// A CRL whose signature, issuer, scope and freshness have been verified.
#[derive(Clone, Debug)]
pub struct VerifiedCrl {
    issuer_der: Vec<u8>,
    issuer_dn: String,
    this_update: UnixTime,
    next_update: UnixTime,
    number: Option<CrlNumber>,
    revoked: RevokedSet,
}

/// Decodes a PEM `X509 CRL` block, or passes DER through.
fn crl_der(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>> {
    let trimmed = bytes.trim_ascii_start();
    if !trimmed.starts_with(b"-----BEGIN") {
        return Ok(std::borrow::Cow::Borrowed(bytes));
    }
    for block in Pem::iter_from_buffer(trimmed) {
        let block = block.map_err(|e| Error::CrlMalformed(format!("PEM: {e}")))?;
        if block.label == "X509 CRL" {
            return Ok(std::borrow::Cow::Owned(block.contents));
        }
    }
    Err(Error::CrlMalformed("no `X509 CRL` PEM block".into()))
}

fn unsupported(what: impl Into<String>) -> Error {
    Error::CrlUnsupported(what.into())
}

/// RFC 5280 §5.2: reject CRLs we cannot interpret completely.
fn check_crl_extensions(crl: &CertificateRevocationList<'_>) -> Result<()> {
    crl.tbs_cert_list
        .extensions_map()
        .map_err(|e| Error::CrlMalformed(format!("extensions: {e}")))?;
    for ext in crl.extensions() {
        let oid = ext.oid.to_id_string();
        match (oid.as_str(), ext.parsed_extension()) {
            (_, ParsedExtension::ParseError { error }) => {
                return Err(Error::CrlMalformed(format!("extension {oid}: {error}")));
            }
            // §5.2.4: a delta CRL only lists changes since a base CRL, so using
            // it alone would un-revoke everything else.
            (OID_DELTA_CRL_INDICATOR, _) => {
                return Err(unsupported("delta CRLs; publish a complete CRL"));
            }
            // §5.2.5: a CRL scoped to CA certificates, attribute certificates,
            // some reasons, or other issuers does not cover every end-entity
            // certificate of its issuer.
            (OID_ISSUING_DISTRIBUTION_POINT, ParsedExtension::IssuingDistributionPoint(idp)) => {
                if idp.indirect_crl {
                    return Err(unsupported("indirect CRLs"));
                }
                if idp.only_contains_ca_certs || idp.only_contains_attribute_certs {
                    return Err(unsupported("a CRL scoped to CA or attribute certificates"));
                }
                if idp.only_some_reasons.is_some() {
                    return Err(unsupported("a CRL partitioned by reason (onlySomeReasons)"));
                }
            }
            (OID_AUTHORITY_KEY_ID | OID_CRL_NUMBER | OID_ISSUER_ALT_NAME, _) => {}
            (_, _) if ext.critical => {
                return Err(unsupported(format!(
                    "unrecognized critical extension {oid}"
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

/// RFC 5280 §5.3: entry extensions.
fn check_entry_extensions(entry: &RevokedCertificate<'_>) -> Result<()> {
    for ext in entry.extensions() {
        match ext.oid.to_id_string().as_str() {
            // §5.3.3: entries for other issuers make this an indirect CRL.
            OID_CERTIFICATE_ISSUER => {
                return Err(unsupported("indirect CRL entries (certificateIssuer)"));
            }
            OID_REASON_CODE | OID_INVALIDITY_DATE | OID_HOLD_INSTRUCTION => {}
            other if ext.critical => {
                return Err(unsupported(format!(
                    "unrecognized critical entry extension {other}"
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

impl VerifiedCrl {
    /// Verifies a DER or PEM CRL for the CA named `issuer_der` at time `now`.
    ///
    /// Per RFC 5280 §6.3.3 the CRL must be issued by that CA, signed by a key
    /// of a truststore CA of that name that may sign CRLs, complete in scope,
    /// not from the future, and not past `nextUpdate` plus the grace period.
    /// Every entry is kept, whatever its reason code: `certificateHold` is
    /// revoked while listed, and `removeFromCRL` belongs only in the delta CRLs
    /// we refuse (§5.3.1), so seeing it in a base CRL is no reason to allow.
    pub fn verify(
        bytes: &[u8],
        expected_issuer: &dyn IssuerExpectation,
        truststore: &TrustStore,
        now: UnixTime,
        policy: CrlTimePolicy,
    ) -> Result<Self> {
        let der = crl_der(bytes)?;
        crate::der::check_signed_envelope(&der).map_err(Error::CrlMalformed)?;
        let (rest, crl) = CertificateRevocationList::from_der(&der)
            .map_err(|e| Error::CrlMalformed(e.to_string()))?;
        if !rest.is_empty() {
            return Err(Error::CrlMalformed("trailing data after the CRL".into()));
        }

        let crl_issuer = crl.issuer();
        if !expected_issuer.accepts(crl_issuer) {
            return Err(Error::CrlIssuerMismatch {
                expected: expected_issuer.describe(),
                crl_issuer: format_dn(crl_issuer),
            });
        }
        let issuer_der = crl_issuer.as_raw();
        let issuer_dn = format_dn(crl_issuer);

        check_signature_algorithm(&crl.signature_algorithm, &crl.tbs_cert_list.signature)
            .map_err(Error::CrlSignatureAlgorithm)?;
        let mut signers = truststore
            .cas_named(issuer_der)
            .filter(|ca| ca.may_sign_crls())
            .peekable();
        if signers.peek().is_none() {
            return Err(Error::CrlIssuerUnknown { issuer: issuer_dn });
        }
        let tbs = crl.tbs_cert_list.as_ref();
        if !signers.any(|ca| ca.verifies(&crl.signature_algorithm, &crl.signature_value, tbs)) {
            return Err(Error::CrlBadSignature { issuer: issuer_dn });
        }

        check_crl_extensions(&crl)?;

        let this_update = UnixTime::from(crl.last_update());
        if this_update > now.offset(policy.clock_skew_seconds) {
            return Err(Error::CrlNotYetValid { this_update, now });
        }
        let next_update = crl
            .next_update()
            .map(UnixTime::from)
            .ok_or(Error::CrlMissingNextUpdate)?;
        check_fresh(next_update, now, policy.grace_seconds)?;

        let number = crl
            .crl_number()
            .map(|n| CrlNumber(Serial::from_integer_bytes(&n.to_bytes_be())));

        let mut serials = Vec::with_capacity(crl.tbs_cert_list.revoked_certificates.len());
        for entry in crl.iter_revoked_certificates() {
            check_entry_extensions(entry)?;
            serials.push(Serial::from_integer_bytes(entry.raw_serial()));
        }

        Ok(Self {
            issuer_der: issuer_der.to_vec(),
            issuer_dn,
            this_update,
            next_update,
            number,
            revoked: RevokedSet::from_unsorted(serials),
        })
    }

    /// Whether the CRL lists `serial`.
    #[must_use]
    pub fn is_revoked(&self, serial: &Serial) -> bool {
        self.revoked.contains(serial)
    }

    /// Whether the CRL may still be relied on at `now`.
    pub fn check_usable(&self, now: UnixTime, grace_seconds: i64) -> Result<()> {
        check_fresh(self.next_update, now, grace_seconds)
    }

    /// Refuses a CRL older than `cached` (a rollback to a list from before a
    /// revocation). CRL numbers decide when both have one (RFC 5280 §5.2.3
    /// makes them monotonic); otherwise `thisUpdate` does.
    pub fn check_not_older_than(&self, cached: &Self) -> Result<()> {
        if let (Some(offered), Some(have)) = (&self.number, &cached.number) {
            if offered < have {
                return Err(Error::CrlRollback {
                    what: "CRL number",
                    cached: have.to_hex(),
                    offered: offered.to_hex(),
                });
            }
            return Ok(());
        }
        if self.this_update < cached.this_update {
            return Err(Error::CrlRollback {
                what: "thisUpdate",
                cached: cached.this_update.to_string(),
                offered: self.this_update.to_string(),
            });
        }
        Ok(())
    }

    /// Whether this CRL was issued by the CA named `issuer_der` (exact DER).
    #[must_use]
    pub fn covers_issuer(&self, issuer_der: &[u8]) -> bool {
        self.issuer_der == issuer_der
    }

    /// The issuer DN.
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
