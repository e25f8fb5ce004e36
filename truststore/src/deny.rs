//! The operator deny list, edited: what `truststore deny` and `truststore
//! revoke` put in it and take out of it.
//!
//! The document itself (its format, limits and the authorizer's index) is
//! [`mtls_policy::denylist`]. This module names the certificate an operator
//! means ([`Named`]), builds entries, and applies the three edits (add,
//! remove, prune). It is pure: files and objects are read and written by
//! [`List`] (`deny/store.rs`), and the time is a parameter.

use std::collections::HashSet;

use mtls_policy::denylist::{Document, Entry, MAX_NOTE_CHARS, MAX_SERIAL_OCTETS, Reason, Target};
use mtls_x509::TrustStore;
use mtls_x509::crl::{CrlTimePolicy, IssuerExpectation, VerifiedCrl};
use mtls_x509::error::bounded;
use mtls_x509::name::Name;
use mtls_x509::serial::Serial;
use mtls_x509::time::UnixTime;
use x509_parser::prelude::{CertificateRevocationList, FromDer, ReasonCode};

use crate::error::{Error, Result};
use mtls_pki::cert::{Block, BundleCert, read_pem, summarize};

mod store;

pub use store::{
    CONTENT_TYPE, Edit, List, ListUri, MAX_ATTEMPTS, MAX_LIST_BYTES, Updated, read_source,
};

/// How long after an entry's `not_after` prune may drop it. The authorizer
/// accepts a certificate up to `clock_skew_seconds` past its notAfter, and
/// its configuration allows at most 3600.
pub const EXPIRY_MARGIN_SECONDS: i64 = 3600;

/// The clock difference tolerated for a CRL's `thisUpdate` in the future:
/// the authorizer's default `clock_skew_seconds`.
const CRL_CLOCK_SKEW_SECONDS: i64 = 60;

/// The certificate an operator names, as the deny list sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named {
    /// What an added entry blocks.
    pub target: Target,
    /// Other targets that name the same certificate: `remove` takes these
    /// out too (a certificate may have been listed by fingerprint once and
    /// by serial later).
    pub also: Vec<Target>,
    /// The certificate's notAfter, when the certificate itself was given.
    pub not_after: Option<UnixTime>,
    /// The certificate's serial, when known: what a CA revokes.
    pub serial: Option<Serial>,
}

impl Named {
    /// Every target that names the certificate.
    #[must_use]
    pub fn targets(&self) -> Vec<Target> {
        let mut all = vec![self.target.clone()];
        all.extend(self.also.iter().cloned());
        all
    }
}

fn cert_error(file: &str, message: impl Into<String>) -> Error {
    Error::Certificate {
        file: bounded(file),
        message: message.into(),
    }
}

/// The certificates in a PEM file (or one DER certificate), in file order.
/// Other PEM blocks are passed over: a device's file may hold its key too,
/// and nothing read here is written anywhere.
///
/// # Errors
/// [`Error::Certificate`] for an unreadable block, or no certificate at all.
pub fn read_certificates(file: &str, bytes: &[u8]) -> Result<Vec<BundleCert>> {
    if !bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
        return summarize(file, bytes)
            .map(|c| vec![c])
            .map_err(|why| cert_error(file, format!("not a PEM or DER certificate: {why}")));
    }
    let mut certs = Vec::new();
    for block in read_pem(file, bytes) {
        match block {
            Block::Cert(c) => certs.push(*c),
            Block::Unreadable { block, reason } => {
                return Err(cert_error(file, format!("block {block}: {reason}")));
            }
            Block::PrivateKey { .. } | Block::Other { .. } => {}
        }
    }
    if certs.is_empty() {
        return Err(cert_error(file, "no CERTIFICATE block"));
    }
    Ok(certs)
}

fn serial_of(cert: &BundleCert) -> Result<Serial> {
    Serial::from_hex(&cert.serial)
        .ok_or_else(|| cert_error(&cert.source, "the certificate has no serial"))
}

fn not_after_of(cert: &BundleCert) -> UnixTime {
    UnixTime(cert.not_after.unix_timestamp())
}

/// Names a certificate given as a file. With its issuing CA (`issuer`: the
/// file's name and its certificates, e.g. the CA alone or a whole
/// truststore), the entry is the CA's key and the serial; without, it is the
/// certificate's SHA-256 fingerprint. The CA must carry the certificate's
/// issuer name and its key must verify the certificate's signature: a
/// serial under the wrong key would block nothing, silently.
///
/// # Errors
/// [`Error::Certificate`] when no CA in `issuer` issued the certificate.
pub fn by_certificate(cert: &BundleCert, issuer: Option<(&str, &[BundleCert])>) -> Result<Named> {
    let fingerprint = Target::Fingerprint(fingerprint_of(cert)?);
    let serial = serial_of(cert)?;
    let not_after = Some(not_after_of(cert));
    let Some((issuer_file, cas)) = issuer else {
        return Ok(Named {
            target: fingerprint,
            also: Vec::new(),
            not_after,
            serial: Some(serial),
        });
    };
    let named: Vec<&BundleCert> = cas
        .iter()
        .filter(|ca| ca.subject_der == cert.issuer_der)
        .collect();
    if named.is_empty() {
        return Err(cert_error(
            issuer_file,
            format!(
                "no certificate here is named `{}`, the issuer of {}; give the CA certificate that issued it",
                bounded(&cert.issuer),
                bounded(&cert.source)
            ),
        ));
    }
    let key = named
        .iter()
        .filter(|ca| cert.signed_by(ca))
        .find_map(|ca| ca.public_key.as_ref().ok().map(|k| k.id()))
        .ok_or_else(|| {
            cert_error(
                issuer_file,
                format!(
                    "the key of `{}` does not verify the signature of {}; give the CA certificate (and key) that issued it",
                    bounded(&cert.issuer),
                    bounded(&cert.source)
                ),
            )
        })?;
    Ok(Named {
        target: Target::IssuerSerial {
            issuer_key: key,
            serial: serial.clone(),
        },
        also: vec![fingerprint],
        not_after,
        serial: Some(serial),
    })
}

fn fingerprint_of(cert: &BundleCert) -> Result<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(&cert.fingerprint, &mut out)
        .map_err(|_| cert_error(&cert.source, "unreadable fingerprint"))?;
    Ok(out)
}

/// Names a certificate by the SHA-256 of its DER.
///
/// # Errors
/// [`Error::Usage`] unless `text` is 64 hex digits.
pub fn by_fingerprint(text: &str) -> Result<Named> {
    Ok(Named {
        target: Target::Fingerprint(parse_fingerprint(text)?),
        also: Vec::new(),
        not_after: None,
        serial: None,
    })
}

/// Names a certificate by its serial under one CA, given as the file
/// `issuer_file` holding that CA's certificate alone.
///
/// # Errors
/// A bad serial, or a file that is not exactly one usable CA certificate.
pub fn by_serial(text: &str, issuer_file: &str, cas: &[BundleCert]) -> Result<Named> {
    let serial = parse_serial(text)?;
    let [ca] = cas else {
        return Err(cert_error(
            issuer_file,
            format!(
                "holds {} certificates; give the issuing CA's certificate alone",
                cas.len()
            ),
        ));
    };
    if !ca.is_ca {
        return Err(cert_error(
            issuer_file,
            format!(
                "`{}` is not a CA certificate (basicConstraints cA is not true); give the CA that issued the serial",
                bounded(&ca.subject)
            ),
        ));
    }
    let key = match &ca.public_key {
        Ok(k) => k.id(),
        Err(why) => {
            return Err(cert_error(
                issuer_file,
                format!("the CA's key is not one the authorizer accepts ({why})"),
            ));
        }
    };
    Ok(Named {
        target: Target::IssuerSerial {
            issuer_key: key,
            serial: serial.clone(),
        },
        also: Vec::new(),
        not_after: None,
        serial: Some(serial),
    })
}

/// Parses a SHA-256 fingerprint: 64 hex digits in either case, with or
/// without `:` separators, optionally with openssl's `sha256
/// Fingerprint=` in front (`openssl x509 -noout -fingerprint -sha256`).
///
/// # Errors
/// [`Error::Usage`] for anything else.
pub(crate) fn parse_fingerprint(text: &str) -> Result<[u8; 32]> {
    let trimmed = text.trim();
    let value = match trimmed.split_once('=') {
        Some((label, v)) if label.to_ascii_lowercase().ends_with("fingerprint") => v,
        _ => trimmed,
    };
    let digits: String = value.chars().filter(|c| *c != ':').collect();
    let mut out = [0u8; 32];
    if digits.len() != 64 || hex::decode_to_slice(&digits, &mut out).is_err() {
        return Err(Error::Usage(format!(
            "fingerprint {:?}: give the certificate's SHA-256 as 64 hex digits, ':' allowed (openssl x509 -noout -fingerprint -sha256 -in CERT)",
            bounded(text)
        )));
    }
    Ok(out)
}

/// Parses a serial number: hex in either case, with or without `:`
/// separators or a `0x`, normalized (leading zero octets dropped).
///
/// # Errors
/// [`Error::Usage`] for anything else, or more than the deny list's longest
/// serial.
pub fn parse_serial(text: &str) -> Result<Serial> {
    let trimmed = text.trim();
    let value = trimmed
        .strip_prefix("0x")
        .or_else(|| trimmed.strip_prefix("0X"))
        .unwrap_or(trimmed);
    let digits: String = value.chars().filter(|c| *c != ':').collect();
    let ok = !digits.is_empty()
        && digits.len() <= 2 * MAX_SERIAL_OCTETS
        && digits.bytes().all(|c| c.is_ascii_hexdigit());
    match Serial::from_hex(&digits) {
        Some(serial) if ok => Ok(serial),
        _ => Err(Error::Usage(format!(
            "serial {:?}: give 1 to {} hex digits, ':' allowed (openssl x509 -noout -serial -in CERT)",
            bounded(text),
            2 * MAX_SERIAL_OCTETS
        ))),
    }
}

/// Parses a CRLReason name of RFC 5280 §5.3.1, as the deny list spells it.
///
/// # Errors
/// [`Error::Usage`] naming the accepted names.
pub fn parse_reason(text: &str) -> Result<Reason> {
    Reason::parse(text).ok_or_else(|| {
        let names: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        Error::Usage(format!(
            "reason {:?}: use one of {}",
            bounded(text),
            names.join(", ")
        ))
    })
}

/// What an operator says about a new entry, besides its target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryOptions {
    /// Why.
    pub reason: Reason,
    /// Free text.
    pub note: Option<String>,
    /// Overrides the certificate's own notAfter.
    pub not_after: Option<UnixTime>,
}

/// The entry that blocks `named`, added at `now`. Its `not_after` is the
/// operator's, else the certificate's.
///
/// # Errors
/// [`Error::Usage`] for a note the document would refuse.
pub fn new_entry(named: &Named, opts: &EntryOptions, now: UnixTime) -> Result<Entry> {
    if let Some(note) = &opts.note
        && (note.chars().count() > MAX_NOTE_CHARS || note.chars().any(char::is_control))
    {
        return Err(Error::Usage(format!(
            "--note: at most {MAX_NOTE_CHARS} characters, without control characters"
        )));
    }
    Ok(Entry {
        target: named.target.clone(),
        not_after: opts.not_after.or(named.not_after),
        added: Some(now),
        reason: Some(opts.reason),
        note: opts.note.clone(),
    })
}

/// Adds `entry` unless its target is listed already. Returns whether it
/// was added.
pub fn add(doc: &mut Document, entry: Entry) -> bool {
    if doc.contains(&entry.target) {
        return false;
    }
    doc.entries.push(entry);
    true
}

/// Removes every entry whose target is one of `targets`, and returns them.
pub fn remove(doc: &mut Document, targets: &[Target]) -> Vec<Entry> {
    let (gone, kept) = std::mem::take(&mut doc.entries)
        .into_iter()
        .partition(|e| targets.contains(&e.target));
    doc.entries = kept;
    gone
}

/// A CRL that may prune: verified against the truststore, with the serials
/// it lists on hold (which a CA may lift again).
#[derive(Clone, Debug)]
pub struct CrlEvidence {
    uri: String,
    crl: VerifiedCrl,
    held: HashSet<Serial>,
    /// Whether every truststore CA with the CRL's signing key has the CRL's
    /// issuer name. Serials are unique per issuer name (RFC 5280 §4.1.2.2),
    /// and an entry names a key, not a name: where two names share the key,
    /// the CRL of one says nothing of the other's serial.
    one_name_for_the_key: bool,
}

/// Accepts a CRL from any truststore CA: the verification still requires
/// that CA's key to have signed it, and an entry is only pruned by a CRL
/// whose signing key is the entry's.
struct AnyTruststoreCa;

impl IssuerExpectation for AnyTruststoreCa {
    fn accepts(&self, _issuer: &Name<'_>) -> bool {
        true
    }
}

impl CrlEvidence {
    /// Verifies a DER or PEM CRL from `uri` as the authorizer does (RFC 5280
    /// §6.3.3: issuer, signature with a truststore key, extensions, scope),
    /// and refuses one past its `nextUpdate` at `now`, with no grace: a stale
    /// CRL says nothing about today.
    ///
    /// # Errors
    /// [`Error::Crl`] with the verifier's reason.
    pub fn verify(uri: &str, bytes: &[u8], truststore: &TrustStore, now: UnixTime) -> Result<Self> {
        let refused = |message: String| Error::Crl {
            uri: bounded(uri),
            message,
        };
        let policy = CrlTimePolicy {
            clock_skew_seconds: CRL_CLOCK_SKEW_SECONDS,
            grace_seconds: 0,
        };
        let crl = VerifiedCrl::verify(bytes, &AnyTruststoreCa, truststore, now, policy)
            .map_err(|e| refused(e.to_string()))?;
        let held = held_serials(bytes).map_err(refused)?;
        let one_name_for_the_key = truststore
            .cas_with_key(crl.signer())
            .all(|ca| ca.subject_der() == crl.issuer_der());
        Ok(Self {
            uri: uri.to_owned(),
            crl,
            held,
            one_name_for_the_key,
        })
    }

    /// Where it came from.
    #[must_use]
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The verified CRL.
    #[must_use]
    pub fn crl(&self) -> &VerifiedCrl {
        &self.crl
    }

    /// Whether this CRL shows that the CA itself revoked `serial` under
    /// `issuer_key` for good, at `now`.
    fn revokes(
        &self,
        issuer_key: mtls_x509::signed::KeyId,
        serial: &Serial,
        now: UnixTime,
    ) -> bool {
        // Only a complete CRL: a partition speaks for the certificates whose
        // distribution points name it, and the entry does not say which
        // those are (the authorizer would not apply it to the others).
        self.crl.signer() == issuer_key
            && self.one_name_for_the_key
            && *self.crl.scope() == mtls_x509::crl::CrlScope::Complete
            && now <= self.crl.next_update()
            && self.crl.is_revoked(serial)
            && !self.held.contains(serial)
    }
}

/// The serials a (verified) CRL lists with the reason certificateHold or
/// removeFromCRL (RFC 5280 §5.3.1): a hold can be released (and
/// removeFromCRL says it was), and the device is then allowed again, so such
/// a serial never prunes an entry.
fn held_serials(bytes: &[u8]) -> std::result::Result<HashSet<Serial>, String> {
    let der = if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
        mtls_x509::pem::find(bytes.trim_ascii_start(), mtls_x509::pem::X509_CRL)
            .map_err(|e| format!("PEM: {e}"))?
            .ok_or_else(|| "no `X509 CRL` PEM block".to_owned())?
    } else {
        bytes.to_vec()
    };
    let (_, crl) = CertificateRevocationList::from_der(&der)
        .map_err(|e| format!("cannot read its entries' reasons: {e}"))?;
    Ok(crl
        .iter_revoked_certificates()
        .filter(|r| {
            matches!(
                r.reason_code(),
                Some((_, ReasonCode::CertificateHold | ReasonCode::RemoveFromCRL))
            )
        })
        .map(|r| Serial::from_integer_bytes(r.raw_serial()))
        .collect())
}

/// Why prune removed an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PruneReason {
    /// Its certificate expired more than [`EXPIRY_MARGIN_SECONDS`] ago: the
    /// authorizer refuses it anyway.
    Expired {
        /// The entry's `not_after`.
        not_after: UnixTime,
    },
    /// A verified, current CRL signed by the entry's CA key lists the
    /// serial: the CA's own revocation now blocks it.
    ListedByCrl {
        /// The CRL's URI.
        uri: String,
        /// The CRL's issuer.
        issuer: String,
        /// Complete, or which partition.
        scope: String,
        /// The CRL's `nextUpdate`.
        next_update: UnixTime,
    },
}

/// An entry prune removed, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pruned {
    /// The entry.
    pub entry: Entry,
    /// Why.
    pub why: PruneReason,
}

/// Removes the entries that are no longer needed at `now`: those whose
/// `not_after` passed more than [`EXPIRY_MARGIN_SECONDS`] ago, and serial
/// entries that one of `crls` lists under the entry's own CA key (a CRL of
/// another key of the same CA, or one past its `nextUpdate`, proves
/// nothing). Fingerprint entries go only by expiry: a CRL names serials,
/// and a fingerprint names no CA.
pub fn prune(doc: &mut Document, crls: &[CrlEvidence], now: UnixTime) -> Vec<Pruned> {
    let mut pruned = Vec::new();
    let mut kept = Vec::with_capacity(doc.entries.len());
    for entry in std::mem::take(&mut doc.entries) {
        match why_prune(&entry, crls, now) {
            Some(why) => pruned.push(Pruned { entry, why }),
            None => kept.push(entry),
        }
    }
    doc.entries = kept;
    pruned
}

fn why_prune(entry: &Entry, crls: &[CrlEvidence], now: UnixTime) -> Option<PruneReason> {
    if let Some(not_after) = entry.not_after
        && now > not_after.offset(EXPIRY_MARGIN_SECONDS)
    {
        return Some(PruneReason::Expired { not_after });
    }
    let Target::IssuerSerial { issuer_key, serial } = &entry.target else {
        return None;
    };
    crls.iter()
        .find(|c| c.revokes(*issuer_key, serial, now))
        .map(|c| PruneReason::ListedByCrl {
            uri: c.uri.clone(),
            issuer: c.crl.issuer_dn().to_owned(),
            scope: c.crl.scope().to_string(),
            next_update: c.crl.next_update(),
        })
}

/// One line about an entry, for people: its target, then what the entry
/// records. Notes are quoted and escaped.
#[must_use]
pub fn describe(entry: &Entry) -> String {
    let mut line = entry.target.to_string();
    if let Some(r) = entry.reason {
        line.push_str(&format!("  reason {}", r.as_str()));
    }
    if let Some(t) = entry.added {
        line.push_str(&format!("  added {t}"));
    }
    if let Some(t) = entry.not_after {
        line.push_str(&format!("  not after {t}"));
    }
    if let Some(n) = &entry.note {
        line.push_str(&format!("  note {n:?}"));
    }
    line
}

#[cfg(test)]
mod tests;
