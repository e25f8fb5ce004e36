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

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{DenyListProblem, Error, JsonCategory, Result};
use mtls_x509::serial::{Serial, hex_lower};
use mtls_x509::signed::KeyId;
use mtls_x509::time::UnixTime;

/// The format version this code reads and writes.
pub(crate) const FORMAT_VERSION: u64 = 1;

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

/// One entry as the document spells it. Hex digits, times and reason names
/// are borrowed from the body (JSON has no reason to escape them, and a
/// string that does is refused); only a note is copied.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry<'a> {
    #[serde(borrow, default)]
    issuer_spki_sha256: Option<&'a str>,
    #[serde(borrow, default)]
    serial: Option<&'a str>,
    #[serde(borrow, default)]
    fingerprint: Option<&'a str>,
    #[serde(borrow, default)]
    not_after: Option<&'a str>,
    #[serde(borrow, default)]
    added: Option<&'a str>,
    #[serde(borrow, default)]
    reason: Option<&'a str>,
    #[serde(default)]
    note: Option<String>,
}

/// One entry as the tool writes it.
#[derive(Serialize)]
struct OutEntry<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    issuer_spki_sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    serial: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fingerprint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    not_after: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    added: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
}

/// A serial as the index keeps it: its normalized octets in a fixed array,
/// so that neither loading nor a lookup allocates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct SerialKey {
    len: u8,
    octets: [u8; MAX_SERIAL_OCTETS],
}

impl SerialKey {
    /// The key of a normalized serial; `None` past [`MAX_SERIAL_OCTETS`]
    /// (no entry can name such a serial).
    fn of(normalized: &[u8]) -> Option<Self> {
        let mut octets = [0u8; MAX_SERIAL_OCTETS];
        octets
            .get_mut(..normalized.len())?
            .copy_from_slice(normalized);
        Some(Self {
            len: u8::try_from(normalized.len()).ok()?,
            octets,
        })
    }

    fn as_slice(&self) -> &[u8] {
        self.octets.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// 1 to 64 hex digits, either case, an odd count meaning a leading 0.
    fn from_hex(text: &str) -> Option<Self> {
        let digits = text.as_bytes();
        if digits.is_empty() || digits.len() > 2 * MAX_SERIAL_OCTETS {
            return None;
        }
        let mut raw = [0u8; MAX_SERIAL_OCTETS];
        decode_hex(digits, &mut raw)?;
        Self::of(mtls_x509::serial::normalize(
            raw.get(..digits.len().div_ceil(2))?,
        ))
    }
}

/// A validated entry's target, in the index's form.
enum Parsed {
    Fingerprint([u8; 32]),
    Serial(KeyId, SerialKey),
}

/// A validated entry, before it becomes an [`Entry`] or an index key.
struct Valid {
    target: Parsed,
    not_after: Option<UnixTime>,
    added: Option<UnixTime>,
    reason: Option<Reason>,
    note: Option<String>,
}

fn malformed(index: usize, problem: DenyListProblem) -> Error {
    Error::DenyListMalformed {
        entry: Some(index),
        problem,
    }
}

/// The value of each hex digit (either case), and [`NOT_HEX`] for every
/// other octet: a table lookup per digit, since loading a 100,000-entry list
/// decodes millions of them.
#[expect(
    clippy::indexing_slicing,
    reason = "evaluated at compile time: an index out of range fails the build, never a request"
)]
const HEX_VALUES: [u8; 256] = {
    let mut table = [NOT_HEX; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};
const NOT_HEX: u8 = 0xff;

/// Decodes hex digits into `out`, right-aligned (an odd count means a
/// leading 0 nibble); `None` for anything but hex digits, or too many.
fn decode_hex(digits: &[u8], out: &mut [u8]) -> Option<()> {
    let n = digits.len().div_ceil(2);
    let dest = out.get_mut(..n)?;
    let skip = 2 * n - digits.len();
    let mut nibbles = std::iter::repeat_n(0u8, skip).chain(
        digits
            .iter()
            .map(|&d| HEX_VALUES.get(usize::from(d)).copied().unwrap_or(NOT_HEX)),
    );
    for octet in dest {
        let (hi, lo) = (nibbles.next()?, nibbles.next()?);
        if hi == NOT_HEX || lo == NOT_HEX {
            return None;
        }
        *octet = hi << 4 | lo;
    }
    Some(())
}

/// Exactly 64 hex digits (either case): a SHA-256.
fn sha256_hex(index: usize, field: &'static str, text: &str) -> Result<[u8; 32]> {
    let mut out = [0u8; 32];
    if text.len() != 64 || decode_hex(text.as_bytes(), &mut out).is_none() {
        return Err(malformed(index, DenyListProblem::NotSha256 { field }));
    }
    Ok(out)
}

fn time_field(index: usize, field: &'static str, text: Option<&str>) -> Result<Option<UnixTime>> {
    text.map(|t| {
        UnixTime::parse_rfc3339(t)
            .ok_or_else(|| malformed(index, DenyListProblem::BadTime { field }))
    })
    .transpose()
}

impl RawEntry<'_> {
    fn validate(self, index: usize) -> Result<Valid> {
        let target = match (self.issuer_spki_sha256, self.serial, self.fingerprint) {
            (Some(key), Some(serial), None) => Parsed::Serial(
                KeyId::from_bytes(sha256_hex(index, "issuer_spki_sha256", key)?),
                SerialKey::from_hex(serial).ok_or_else(|| {
                    malformed(
                        index,
                        DenyListProblem::BadSerial {
                            max_digits: 2 * MAX_SERIAL_OCTETS,
                        },
                    )
                })?,
            ),
            (None, None, Some(fp)) => Parsed::Fingerprint(sha256_hex(index, "fingerprint", fp)?),
            _ => {
                return Err(malformed(index, DenyListProblem::Target));
            }
        };
        let reason = self
            .reason
            .map(|r| Reason::parse(r).ok_or_else(|| malformed(index, DenyListProblem::BadReason)))
            .transpose()?;
        if self
            .note
            .as_deref()
            .is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS || n.chars().any(char::is_control))
        {
            return Err(malformed(
                index,
                DenyListProblem::BadNote {
                    max: MAX_NOTE_CHARS,
                },
            ));
        }
        Ok(Valid {
            target,
            not_after: time_field(index, "not_after", self.not_after)?,
            added: time_field(index, "added", self.added)?,
            reason,
            note: self.note,
        })
    }
}

/// The top-level keys of the document.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Field {
    Version,
    Sequence,
    Entries,
}

/// Reads a document in one pass, handing each entry, validated, to `sink`
/// as it is read: nothing of the body is kept but what the sink keeps. The
/// entries are refused at [`MAX_ENTRIES`] + 1. Returns the sequence.
fn read_document(bytes: &[u8], sink: &mut dyn FnMut(Valid)) -> Result<u64> {
    /// What a visitor refused, kept whole rather than as serde's text; and
    /// the entry being read when serde itself refused something.
    #[derive(Default)]
    struct Refusal {
        failed: Option<Error>,
        entry: Option<usize>,
    }
    struct Doc<'s> {
        sink: &'s mut dyn FnMut(Valid),
        refusal: &'s mut Refusal,
    }
    struct Entries<'s> {
        sink: &'s mut dyn FnMut(Valid),
        refusal: &'s mut Refusal,
    }
    /// Keeps `problem` for the caller and stops serde.
    fn refuse<E: de::Error>(
        refusal: &mut Refusal,
        entry: Option<usize>,
        problem: DenyListProblem,
    ) -> E {
        refusal.failed = Some(Error::DenyListMalformed { entry, problem });
        E::custom("refused")
    }
    impl<'de> Visitor<'de> for Doc<'_> {
        type Value = u64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a deny list document")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<u64, A::Error> {
            let (mut version, mut sequence, mut entries) = (None, None, false);
            while let Some(key) = map.next_key::<Field>()? {
                match key {
                    Field::Version if version.is_none() => version = Some(map.next_value()?),
                    Field::Sequence if sequence.is_none() => sequence = Some(map.next_value()?),
                    Field::Entries if !entries => {
                        entries = true;
                        map.next_value_seed(Entries {
                            sink: &mut *self.sink,
                            refusal: &mut *self.refusal,
                        })?;
                    }
                    _ => return Err(refuse(self.refusal, None, DenyListProblem::FieldTwice)),
                }
            }
            match (version, sequence, entries) {
                (Some(FORMAT_VERSION), Some(sequence), true) => Ok(sequence),
                (Some(version), Some(_), true) => Err(refuse(
                    self.refusal,
                    None,
                    DenyListProblem::UnsupportedVersion {
                        version,
                        supported: FORMAT_VERSION,
                    },
                )),
                _ => Err(refuse(self.refusal, None, DenyListProblem::MissingField)),
            }
        }
    }
    impl<'de> DeserializeSeed<'de> for Entries<'_> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_seq(self)
        }
    }
    impl<'de> Visitor<'de> for Entries<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "an array of at most {MAX_ENTRIES} entries")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let mut index = 0;
            loop {
                // A refusal of serde's own (an unknown field, a wrong type)
                // is placed in this entry.
                self.refusal.entry = Some(index);
                let Some(entry) = seq.next_element::<RawEntry<'de>>()? else {
                    break;
                };
                if index == MAX_ENTRIES {
                    return Err(refuse(
                        self.refusal,
                        None,
                        DenyListProblem::TooManyEntries { max: MAX_ENTRIES },
                    ));
                }
                match entry.validate(index) {
                    Ok(valid) => (self.sink)(valid),
                    Err(e) => {
                        self.refusal.failed = Some(e);
                        return Err(de::Error::custom("entry refused"));
                    }
                }
                index += 1;
            }
            self.refusal.entry = None;
            Ok(())
        }
    }
    let mut refusal = Refusal::default();
    let mut reader = serde_json::Deserializer::from_slice(bytes);
    let read = reader
        .deserialize_map(Doc {
            sink,
            refusal: &mut refusal,
        })
        .and_then(|sequence| reader.end().map(|()| sequence));
    match (read, refusal.failed) {
        (_, Some(e)) => Err(e),
        (Ok(sequence), None) => Ok(sequence),
        (Err(e), None) => Err(Error::DenyListMalformed {
            entry: refusal.entry,
            problem: DenyListProblem::Json {
                line: e.line(),
                column: e.column(),
                category: JsonCategory::of(&e),
            },
        }),
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
        let mut entries = Vec::new();
        let sequence = read_document(bytes, &mut |v: Valid| {
            entries.push(Entry {
                target: match v.target {
                    Parsed::Fingerprint(fp) => Target::Fingerprint(fp),
                    Parsed::Serial(issuer_key, serial) => Target::IssuerSerial {
                        issuer_key,
                        serial: Serial::from_integer_bytes(serial.as_slice()),
                    },
                },
                not_after: v.not_after,
                added: v.added,
                reason: v.reason,
                note: v.note,
            });
        })?;
        Ok(Self { sequence, entries })
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
                    Some(hex_lower(issuer_key.as_bytes())),
                    Some(serial.to_hex()),
                    None,
                ),
                Target::Fingerprint(fp) => (None, None, Some(hex_lower(fp))),
            };
            let raw = OutEntry {
                issuer_spki_sha256: key,
                serial,
                fingerprint: fp,
                not_after: e.not_after.map(|t| t.to_string()),
                added: e.added.map(|t| t.to_string()),
                reason: e.reason.map(Reason::as_str),
                note: e.note.as_deref(),
            };
            out.push_str(if i == 0 { "\n  " } else { ",\n  " });
            // Strings only: serializing cannot fail.
            out.push_str(&serde_json::to_string(&raw).unwrap_or_default());
        }
        out.push_str(if self.entries.is_empty() {
            "]}\n"
        } else {
            "\n]}\n"
        });
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
    serials: HashMap<KeyId, HashSet<SerialKey, Fold>, Fold>,
}

type Fold = foldhash::fast::RandomState;

impl DenyList {
    /// Parses, validates and indexes a document, as [`Document::from_json`]
    /// would read it, without keeping the entries' other fields.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let mut list = Self::default();
        // Entries take about 90 octets or more each: room for the common
        // case (fingerprints) without rehashing as the set grows.
        list.fingerprints
            .reserve((bytes.len() / 90).min(MAX_ENTRIES));
        list.sequence = read_document(bytes, &mut |v: Valid| list.insert(v.target))?;
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
            let parsed = match &entry.target {
                Target::Fingerprint(fp) => Parsed::Fingerprint(*fp),
                Target::IssuerSerial { issuer_key, serial } => {
                    match SerialKey::of(serial.as_bytes()) {
                        Some(key) => Parsed::Serial(*issuer_key, key),
                        // Longer than any entry the document format allows.
                        None => continue,
                    }
                }
            };
            list.insert(parsed);
        }
        list
    }

    fn insert(&mut self, target: Parsed) {
        let new = match target {
            Parsed::Fingerprint(fp) => self.fingerprints.insert(fp),
            Parsed::Serial(issuer_key, serial) => {
                self.serials.entry(issuer_key).or_default().insert(serial)
            }
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
    pub(crate) fn has_fingerprints(&self) -> bool {
        !self.fingerprints.is_empty()
    }

    /// Whether the certificate with this SHA-256 fingerprint is listed.
    #[must_use]
    pub(crate) fn lists_fingerprint(&self, fingerprint: &[u8; 32]) -> bool {
        self.fingerprints.contains(fingerprint)
    }

    /// Whether `serial` under the CA key `issuer_key` is listed.
    #[must_use]
    pub(crate) fn lists_serial(&self, issuer_key: KeyId, serial: &Serial) -> bool {
        let Some(key) = SerialKey::of(serial.as_bytes()) else {
            return false;
        };
        self.serials
            .get(&issuer_key)
            .is_some_and(|s| s.contains(&key))
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
pub(crate) enum DenyListView<'a> {
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
