//! The operator deny list: certificates, and CAs, that an operator has
//! blocked now, without waiting for the CA's next CRL.
//!
//! A CA such as AWS Private CA publishes a new CRL about 30 minutes after a
//! revocation. The deny list closes that window: the authorizer re-reads it
//! every few seconds (`deny_list_refresh_seconds`) and denies a listed
//! certificate with `deny_listed`, whatever its issuer entry's revocation
//! setting. The list can only deny: nothing in it can allow a certificate the
//! rest of the policy refuses. Its integrity rests on who may write the object
//! (IAM), as the truststore's does.
//!
//! The document (docs/revoking.md), version 1:
//!
//! ```json
//! {"version": 1, "sequence": 42,
//!  "entries": [
//!    {"issuer_spki_sha256": "<hex>", "serial": "<hex>",
//!     "not_after": "2027-06-01T00:00:00Z", "added": "2026-12-06T10:00:00Z",
//!     "reason": "keyCompromise", "note": "at most 256 characters"},
//!    {"fingerprint": "<hex>"}]}
//! ```
//!
//! Parsing is strict (unknown fields, a second target or a bad value refuse
//! the whole document) and bounded ([`MAX_ENTRIES`]), and a refused document
//! never replaces the list in force.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result, bounded};
use crate::serial::{Serial, hex_lower};
use crate::signed::KeyId;
use crate::time::UnixTime;

/// The format version this code reads and writes.
pub const FORMAT_VERSION: u64 = 1;

/// The most entries a list may hold. 100,000 entries index in a few
/// milliseconds and about 10 MB; a list that needs more is a CA that needs
/// a new CRL, or a truststore without the compromised CA.
pub const MAX_ENTRIES: usize = 100_000;

/// The longest `note`, in characters.
pub const MAX_NOTE_CHARS: usize = 256;

/// The longest serial, in octets. RFC 5280 §4.1.2.2 allows 20; some CAs
/// emit a little more, and nothing longer is a serial anyone issued.
pub const MAX_SERIAL_OCTETS: usize = 32;

/// What an entry blocks.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// One serial under one CA key. Serials are unique per issuer (RFC 5280
    /// §4.1.2.2); binding the key rather than the name means a CA that
    /// shares the name but not the key (another PKI, or a rollover's new key)
    /// is not affected.
    IssuerSerial {
        /// SHA-256 of the issuing CA's SubjectPublicKeyInfo DER.
        issuer_key: KeyId,
        /// The serial, normalized ([`Serial`]).
        serial: Serial,
    },
    /// One certificate, by the SHA-256 of its DER.
    Fingerprint([u8; 32]),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::IssuerSerial { issuer_key, serial } => write!(
                f,
                "serial {} of CA key {}",
                serial.to_hex(),
                hex_lower(issuer_key.as_bytes())
            ),
            Self::Fingerprint(fp) => write!(f, "fingerprint {}", hex_lower(fp)),
        }
    }
}

/// Why an entry was added: the CRLReason names of RFC 5280 §5.3.1 (less
/// `removeFromCRL`, which only a delta CRL uses).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Reason {
    /// `unspecified`.
    Unspecified,
    /// `keyCompromise`.
    KeyCompromise,
    /// `cACompromise`.
    #[serde(rename = "cACompromise")]
    CaCompromise,
    /// `affiliationChanged`.
    AffiliationChanged,
    /// `superseded`.
    Superseded,
    /// `cessationOfOperation`.
    CessationOfOperation,
    /// `certificateHold`.
    CertificateHold,
    /// `privilegeWithdrawn`.
    PrivilegeWithdrawn,
    /// `aACompromise`.
    #[serde(rename = "aACompromise")]
    AaCompromise,
}

impl Reason {
    /// Every reason, for help texts.
    pub const ALL: [Self; 9] = [
        Self::Unspecified,
        Self::KeyCompromise,
        Self::CaCompromise,
        Self::AffiliationChanged,
        Self::Superseded,
        Self::CessationOfOperation,
        Self::CertificateHold,
        Self::PrivilegeWithdrawn,
        Self::AaCompromise,
    ];

    /// The RFC 5280 name, as the document spells it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unspecified => "unspecified",
            Self::KeyCompromise => "keyCompromise",
            Self::CaCompromise => "cACompromise",
            Self::AffiliationChanged => "affiliationChanged",
            Self::Superseded => "superseded",
            Self::CessationOfOperation => "cessationOfOperation",
            Self::CertificateHold => "certificateHold",
            Self::PrivilegeWithdrawn => "privilegeWithdrawn",
            Self::AaCompromise => "aACompromise",
        }
    }

    /// Parses an RFC 5280 name.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

/// One entry of the list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// What it blocks.
    pub target: Target,
    /// The certificate's own `notAfter`: after it the entry is no longer
    /// needed (the certificate is refused as expired) and `truststore deny
    /// prune` removes it. The authorizer enforces the entry regardless.
    pub not_after: Option<UnixTime>,
    /// When it was added.
    pub added: Option<UnixTime>,
    /// Why.
    pub reason: Option<Reason>,
    /// Free text for operators, at most [`MAX_NOTE_CHARS`] characters.
    pub note: Option<String>,
}

impl Entry {
    /// An entry with only a target.
    #[must_use]
    pub fn new(target: Target) -> Self {
        Self {
            target,
            not_after: None,
            added: None,
            reason: None,
            note: None,
        }
    }
}

/// The document: what the operators' tool reads, edits and writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    /// Raised by every write; a list with a lower sequence than the one in
    /// force is refused, so restoring an old object version by mistake
    /// cannot un-revoke a device.
    pub sequence: u64,
    /// The entries, in the document's order.
    pub entries: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDocument<'a> {
    version: u64,
    sequence: u64,
    #[serde(borrow, deserialize_with = "bounded_entries")]
    entries: Vec<RawEntry<'a>>,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RawEntry<'a> {
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    issuer_spki_sha256: Option<Cow<'a, str>>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    serial: Option<Cow<'a, str>>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    fingerprint: Option<Cow<'a, str>>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    not_after: Option<Cow<'a, str>>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    added: Option<Cow<'a, str>>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    reason: Option<Cow<'a, str>>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    note: Option<Cow<'a, str>>,
}

/// Reads the `entries` array, refusing it at entry [`MAX_ENTRIES`] + 1
/// rather than after materializing whatever a hostile body holds.
fn bounded_entries<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<RawEntry<'de>>, D::Error> {
    struct Bounded;
    impl<'de> Visitor<'de> for Bounded {
        type Value = Vec<RawEntry<'de>>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "an array of at most {MAX_ENTRIES} entries")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(MAX_ENTRIES));
            while let Some(entry) = seq.next_element()? {
                if out.len() == MAX_ENTRIES {
                    return Err(de::Error::custom(format_args!(
                        "more than {MAX_ENTRIES} entries"
                    )));
                }
                out.push(entry);
            }
            Ok(out)
        }
    }
    d.deserialize_seq(Bounded)
}

fn malformed(index: usize, what: impl fmt::Display) -> Error {
    Error::DenyListMalformed(format!("entry {index}: {what}"))
}

/// Exactly 64 hex digits (either case): a SHA-256.
fn sha256_hex(index: usize, field: &str, text: &str) -> Result<[u8; 32]> {
    let mut out = [0u8; 32];
    if text.len() != 64 || hex::decode_to_slice(text, &mut out).is_err() {
        return Err(malformed(
            index,
            format_args!("{field} must be 64 hex digits (a SHA-256)"),
        ));
    }
    Ok(out)
}

fn serial_hex(index: usize, text: &str) -> Result<Serial> {
    let ok = !text.is_empty()
        && text.len() <= 2 * MAX_SERIAL_OCTETS
        && text.bytes().all(|c| c.is_ascii_hexdigit());
    match Serial::from_hex(text) {
        Some(serial) if ok => Ok(serial),
        _ => Err(malformed(
            index,
            format_args!("serial must be 1 to {} hex digits", 2 * MAX_SERIAL_OCTETS),
        )),
    }
}

fn time_field(index: usize, field: &str, text: Option<&str>) -> Result<Option<UnixTime>> {
    text.map(|t| {
        UnixTime::parse_rfc3339(t)
            .ok_or_else(|| malformed(index, format_args!("{field} must be YYYY-MM-DDTHH:MM:SSZ")))
    })
    .transpose()
}

impl<'a> RawDocument<'a> {
    fn parse(bytes: &'a [u8]) -> Result<Self> {
        let raw: Self = serde_json::from_slice(bytes)
            .map_err(|e| Error::DenyListMalformed(bounded(&e.to_string())))?;
        if raw.version != FORMAT_VERSION {
            return Err(Error::DenyListMalformed(format!(
                "version {} is not supported (this build reads version {FORMAT_VERSION})",
                raw.version
            )));
        }
        Ok(raw)
    }
}

impl RawEntry<'_> {
    fn validate(self, index: usize) -> Result<Entry> {
        let target = match (&self.issuer_spki_sha256, &self.serial, &self.fingerprint) {
            (Some(key), Some(serial), None) => Target::IssuerSerial {
                issuer_key: KeyId::from_bytes(sha256_hex(index, "issuer_spki_sha256", key)?),
                serial: serial_hex(index, serial)?,
            },
            (None, None, Some(fp)) => Target::Fingerprint(sha256_hex(index, "fingerprint", fp)?),
            _ => {
                return Err(malformed(
                    index,
                    "name either issuer_spki_sha256 and serial, or fingerprint",
                ));
            }
        };
        let reason = self
            .reason
            .as_deref()
            .map(|r| {
                Reason::parse(r).ok_or_else(|| {
                    malformed(index, "reason must be an RFC 5280 CRLReason name")
                })
            })
            .transpose()?;
        let note = match self.note {
            Some(n) if n.chars().count() > MAX_NOTE_CHARS || n.chars().any(char::is_control) => {
                return Err(malformed(
                    index,
                    format_args!(
                        "note must be at most {MAX_NOTE_CHARS} characters, without control characters"
                    ),
                ));
            }
            n => n.map(Cow::into_owned),
        };
        Ok(Entry {
            target,
            not_after: time_field(index, "not_after", self.not_after.as_deref())?,
            added: time_field(index, "added", self.added.as_deref())?,
            reason,
            note,
        })
    }
}

impl Document {
    /// An empty list of sequence 0: what a deployment starts with.
    #[must_use]
    pub fn empty() -> Self {
        Self {
            sequence: 0,
            entries: Vec::new(),
        }
    }

    /// Parses and validates a document (see the module documentation).
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let raw = RawDocument::parse(bytes)?;
        let entries = raw
            .entries
            .into_iter()
            .enumerate()
            .map(|(i, e)| e.validate(i))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            sequence: raw.sequence,
            entries,
        })
    }

    /// The document as JSON, one entry per line: what the operators' tool
    /// writes (a diff of two versions shows the entries that changed).
    #[must_use]
    pub fn to_json(&self) -> String {
        let mut out = format!(
            "{{\"version\": {FORMAT_VERSION}, \"sequence\": {}, \"entries\": [",
            self.sequence
        );
        for (i, e) in self.entries.iter().enumerate() {
            let (key, serial, fp) = match &e.target {
                Target::IssuerSerial { issuer_key, serial } => (
                    Some(Cow::Owned(hex_lower(issuer_key.as_bytes()))),
                    Some(Cow::Owned(serial.to_hex())),
                    None,
                ),
                Target::Fingerprint(fp) => (None, None, Some(Cow::Owned(hex_lower(fp)))),
            };
            let raw = RawEntry {
                issuer_spki_sha256: key,
                serial,
                fingerprint: fp,
                not_after: e.not_after.map(|t| Cow::Owned(t.to_string())),
                added: e.added.map(|t| Cow::Owned(t.to_string())),
                reason: e.reason.map(|r| Cow::Borrowed(r.as_str())),
                note: e.note.as_deref().map(Cow::Borrowed),
            };
            out.push_str(if i == 0 { "\n  " } else { ",\n  " });
            // Strings only: serializing cannot fail.
            out.push_str(&serde_json::to_string(&raw).unwrap_or_default());
        }
        out.push_str(if self.entries.is_empty() { "]}\n" } else { "\n]}\n" });
        out
    }

    /// Whether an entry blocks `target`.
    #[must_use]
    pub fn contains(&self, target: &Target) -> bool {
        self.entries.iter().any(|e| &e.target == target)
    }
}

/// The list in force, indexed for the decision path: two hash lookups per
/// certificate, without allocating.
///
/// The sets hash with foldhash rather than SipHash: their keys are chosen by
/// the operator who writes the list (an attacker only chooses what is looked
/// up), and SipHash was most of the time to load 100,000 entries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DenyList {
    sequence: u64,
    len: usize,
    fingerprints: HashSet<[u8; 32], Fold>,
    serials: HashMap<KeyId, HashSet<Box<[u8]>, Fold>, Fold>,
}

type Fold = foldhash::fast::RandomState;

impl DenyList {
    /// Parses, validates and indexes a document, as [`Document::from_json`]
    /// would read it, without keeping the entries' other fields.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let raw = RawDocument::parse(bytes)?;
        let mut list = Self {
            sequence: raw.sequence,
            ..Self::default()
        };
        list.fingerprints.reserve(raw.entries.len());
        for (i, entry) in raw.entries.into_iter().enumerate() {
            list.insert(&entry.validate(i)?.target);
        }
        Ok(list)
    }

    /// Indexes a validated document.
    #[must_use]
    pub fn from_document(doc: &Document) -> Self {
        let mut list = Self {
            sequence: doc.sequence,
            ..Self::default()
        };
        for entry in &doc.entries {
            list.insert(&entry.target);
        }
        list
    }

    fn insert(&mut self, target: &Target) {
        let new = match target {
            Target::Fingerprint(fp) => self.fingerprints.insert(*fp),
            Target::IssuerSerial { issuer_key, serial } => self
                .serials
                .entry(*issuer_key)
                .or_default()
                .insert(serial.as_bytes().into()),
        };
        self.len += usize::from(new);
    }

    /// The document's sequence.
    #[must_use]
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// Distinct entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the list is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether any entry names a fingerprint.
    #[must_use]
    pub fn has_fingerprints(&self) -> bool {
        !self.fingerprints.is_empty()
    }

    /// Whether the certificate with this SHA-256 fingerprint is listed.
    #[must_use]
    pub fn lists_fingerprint(&self, fingerprint: &[u8; 32]) -> bool {
        self.fingerprints.contains(fingerprint)
    }

    /// Whether `serial` under the CA key `issuer_key` is listed.
    #[must_use]
    pub fn lists_serial(&self, issuer_key: KeyId, serial: &Serial) -> bool {
        self.serials
            .get(&issuer_key)
            .is_some_and(|s| s.contains(serial.as_bytes()))
    }

    /// Refuses a list older than the one in force (`self`): a lower
    /// sequence is an old object version, restored by mistake or replayed,
    /// and must not un-revoke a device. A list of the same sequence is
    /// accepted only with the same entries (the same list, written again):
    /// otherwise one of the two is an older version of that sequence, and
    /// nothing says which.
    pub fn check_successor(&self, offered: &Self) -> Result<()> {
        if offered.sequence < self.sequence {
            return Err(Error::DenyListRollback {
                cached: self.sequence,
                offered: offered.sequence,
            });
        }
        if offered.sequence == self.sequence && offered != self {
            return Err(Error::DenyListSequenceReused {
                sequence: self.sequence,
            });
        }
        Ok(())
    }
}

/// The deny list as the decision sees it. The default is fail-closed:
/// a configured list that is not in force denies.
#[derive(Clone, Copy, Debug, Default)]
pub enum DenyListView<'a> {
    /// No `deny_list` is configured.
    NotConfigured,
    /// The list in force.
    InForce(&'a DenyList),
    /// A list is configured, and none is usable: never loaded, or the last
    /// good one is older than `deny_list_max_age_seconds`. Every request is
    /// denied `deny_list_unavailable`.
    #[default]
    Unavailable,
}

#[cfg(test)]
mod tests;
