//! Distinguished names: attribute keys for policies, and the DN text form.

use std::fmt::{self, Write as _};
use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::prelude::FromDer;
use x509_parser::x509::{AttributeTypeAndValue, X509Name};

use crate::der::Malformed;
use crate::error::{Error, Result, bounded, parser_problem};

/// Short names we print and accept, with their OIDs (RFC 4514 §3 and common use).
const SHORT_NAMES: &[(&str, &str)] = &[
    ("C", "2.5.4.6"),
    ("ST", "2.5.4.8"),
    ("L", "2.5.4.7"),
    ("O", "2.5.4.10"),
    ("OU", "2.5.4.11"),
    ("CN", "2.5.4.3"),
    ("STREET", "2.5.4.9"),
    ("serialNumber", "2.5.4.5"),
    ("DC", "0.9.2342.19200300.100.1.25"),
    ("UID", "0.9.2342.19200300.100.1.1"),
    ("emailAddress", "1.2.840.113549.1.9.1"),
];

/// The short names by OID content octets, for formatting without decoding
/// each attribute type to text.
const SHORT_NAMES_DER: &[(&str, &[u8])] = &[
    ("C", &[0x55, 0x04, 0x06]),
    ("ST", &[0x55, 0x04, 0x08]),
    ("L", &[0x55, 0x04, 0x07]),
    ("O", &[0x55, 0x04, 0x0a]),
    ("OU", &[0x55, 0x04, 0x0b]),
    ("CN", &[0x55, 0x04, 0x03]),
    ("STREET", &[0x55, 0x04, 0x09]),
    ("serialNumber", &[0x55, 0x04, 0x05]),
    (
        "DC",
        &[0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19],
    ),
    (
        "UID",
        &[0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01],
    ),
    (
        "emailAddress",
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01],
    ),
];

/// A distinguished name (RFC 5280 §4.1.2.4), borrowing its DER: a
/// certificate's subject or issuer, or a CRL's issuer.
///
/// It compares as DER ([`Name::as_der`]), which is how RFC 5280 §7.1 chains
/// names here, and prints in API Gateway's `subjectDN` form (its `Display`).
#[derive(Clone, Debug)]
pub struct Name<'a>(X509Name<'a>);

impl<'a> Name<'a> {
    /// Parses a DER `Name`, with nothing after it (nor after its last RDN).
    pub fn from_der(der: &'a [u8]) -> Result<Self> {
        match X509Name::from_der(der) {
            Ok(([], name)) if is_whole_element(name.as_raw()) => Ok(Self(name)),
            Ok(([], _)) => Err(malformed("octets after the last RDN")),
            Ok(_) => Err(malformed("trailing data after the name")),
            Err(x509_parser::nom::Err::Incomplete(_)) => Err(malformed("truncated")),
            Err(x509_parser::nom::Err::Error(e) | x509_parser::nom::Err::Failure(e)) => {
                Err(malformed(parser_problem(&e)))
            }
        }
    }

    pub(crate) fn from_x509(name: &X509Name<'a>) -> Self {
        Self(name.clone())
    }

    /// The DER encoding, for exact comparison.
    #[must_use]
    pub fn as_der(&self) -> &'a [u8] {
        self.0.as_raw()
    }

    /// The decoded string values of every attribute of type `key`, across all
    /// RDNs (a multi-valued RDN yields several).
    #[must_use]
    pub fn attribute_values(&self, key: &AttrKey) -> Vec<String> {
        attribute_values(&self.0, key)
    }
}

fn malformed(problem: &'static str) -> Error {
    Error::MalformedName(Malformed {
        what: "Name",
        problem,
    })
}

/// A name longer than this is described by its size in errors, never decoded.
const MAX_DESCRIBED_NAME_BYTES: usize = 1024;

/// A distinguished name as an error carries it: the DER of a CRL's or a
/// CA's name, owned, compared as DER, and printed as bounded DN text. A
/// name over 1 KiB (a hostile CRL can carry one of megabytes) is kept as
/// its size alone and never decoded.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DerName {
    /// The DER, or nothing for a name too large to keep.
    der: Box<[u8]>,
    /// The DER's size.
    len: usize,
}

impl DerName {
    /// The name whose DER is `der`.
    #[must_use]
    pub fn new(der: &[u8]) -> Self {
        Self {
            der: if der.len() > MAX_DESCRIBED_NAME_BYTES {
                Box::default()
            } else {
                der.into()
            },
            len: der.len(),
        }
    }

    /// The DER, when it was small enough to keep.
    #[must_use]
    pub fn der(&self) -> Option<&[u8]> {
        (self.len <= MAX_DESCRIBED_NAME_BYTES).then_some(&*self.der)
    }
}

impl fmt::Display for DerName {
    /// The DN text (bounded) when the name is small and parses, else its size.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.der().map(Name::from_der) {
            None => write!(f, "a {}-octet name", self.len),
            Some(Ok(name)) => f.write_str(&bounded(&name.to_string())),
            Some(Err(_)) => write!(f, "an unreadable {}-octet name", self.len),
        }
    }
}

impl fmt::Debug for DerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DerName({self})")
    }
}

/// Whether `raw` is exactly one DER element: its header's length covers the
/// rest of it, no more and no less.
pub(crate) fn is_whole_element(raw: &[u8]) -> bool {
    matches!(crate::der::header(raw), Ok(Some(h)) if h.total() == raw.len())
}

/// The DER-exact identity of a certificate's holder: SHA-256 over the
/// issuer's and the subject's DER names, each prefixed with its length as a
/// big-endian u64 (so no split of bytes between the two collides). RFC 5280
/// §4.1.2.6 makes a subject name unique per entity within one CA, so the pair
/// names a device across renewals; as bytes, look-alike names (same text,
/// other string types) never share it.
#[must_use]
pub fn holder_sha256(issuer: &Name<'_>, subject: &Name<'_>) -> [u8; 32] {
    crate::signed::sha256_of_parts(&[issuer.as_der(), subject.as_der()])
}

impl fmt::Display for Name<'_> {
    /// API Gateway's `subjectDN`/`issuerDN` form: RDNs in encoded order, `,`
    /// between RDNs, `+` within one, short names where known, values escaped
    /// per RFC 4514 §2.4 and undecodable values as `#hex`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_dn(&self.0))
    }
}

/// The names a policy may use; anything else must be a dotted OID.
const POLICY_NAMES: &[&str] = &["C", "ST", "L", "O", "OU", "CN"];

/// A DN attribute type, held as its dotted OID and its DER content octets
/// (compared with each attribute's type as bytes, without formatting it).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AttrKey(String, Vec<u8>);

/// The DER content octets of a dotted OID (X.690 §8.19), or `None` if it
/// cannot be one (a first arc above 2, a second above 39 under 0 or 1, an
/// arc beyond 64 bits).
fn oid_der(dotted: &str) -> Option<Vec<u8>> {
    let arcs: Vec<u64> = dotted
        .split('.')
        .map(|a| a.parse().ok())
        .collect::<Option<_>>()?;
    let (&first, rest) = arcs.split_first()?;
    let (&second, rest) = rest.split_first()?;
    if first > 2 || (first < 2 && second > 39) {
        return None;
    }
    let mut out = Vec::new();
    for arc in
        std::iter::once(first.checked_mul(40)?.checked_add(second)?).chain(rest.iter().copied())
    {
        let mut groups = vec![(arc & 0x7f) as u8];
        let mut v = arc >> 7;
        while v > 0 {
            groups.push((v & 0x7f) as u8 | 0x80);
            v >>= 7;
        }
        out.extend(groups.iter().rev());
    }
    Some(out)
}

/// A policy key that is neither a short name a policy may use nor a dotted OID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown attribute: use C, ST, L, O, OU, CN or a dotted OID such as 2.5.4.5")]
pub struct UnknownAttribute;

impl AttrKey {
    /// Parses a policy key: one of `C`, `ST`, `L`, `O`, `OU`, `CN`, or a dotted OID such as `2.5.4.5`.
    pub fn parse(key: &str) -> Result<Self, UnknownAttribute> {
        let unknown = || UnknownAttribute;
        let dotted = match SHORT_NAMES
            .iter()
            .find(|(n, _)| POLICY_NAMES.contains(n) && *n == key)
        {
            Some((_, oid)) => *oid,
            None => key,
        };
        let is_dotted_oid = dotted.split('.').count() >= 2
            && dotted
                .split('.')
                .all(|arc| !arc.is_empty() && arc.bytes().all(|b| b.is_ascii_digit()));
        if !is_dotted_oid {
            return Err(unknown());
        }
        let der = oid_der(dotted).ok_or_else(unknown)?;
        Ok(Self(dotted.to_owned(), der))
    }

    /// The dotted OID.
    #[must_use]
    pub fn oid(&self) -> &str {
        &self.0
    }

    /// Whether an attribute of `name` has this type.
    fn matches(&self, atv: &AttributeTypeAndValue<'_>) -> bool {
        atv.attr_type().as_bytes() == self.1.as_slice()
    }
}

/// The decoded string values of every attribute of type `key` in `name`,
/// across all RDNs (a multi-valued attribute yields several). Values in string
/// types we cannot decode are skipped: they can never equal a policy string.
pub(crate) fn attribute_values(name: &X509Name<'_>, key: &AttrKey) -> Vec<String> {
    name.iter_attributes()
        .filter(|atv| key.matches(atv))
        .filter_map(decode_value)
        .collect()
}

/// Decodes a DirectoryString (RFC 5280 §4.1.2.4) into text.
fn decode_value(atv: &AttributeTypeAndValue<'_>) -> Option<String> {
    if let Ok(s) = atv.as_str() {
        return Some(s.to_owned());
    }
    let data = atv.as_slice();
    match atv.attr_value().tag() {
        Tag::BmpString => {
            let units: Vec<u16> = data
                .chunks(2)
                .map(|c| match c {
                    [hi, lo] => Some(u16::from_be_bytes([*hi, *lo])),
                    _ => None,
                })
                .collect::<Option<_>>()?;
            String::from_utf16(&units).ok()
        }
        Tag::UniversalString => data
            .chunks(4)
            .map(|c| match c {
                [a, b, c, d] => char::from_u32(u32::from_be_bytes([*a, *b, *c, *d])),
                _ => None,
            })
            .collect(),
        // TeletexString is only safe to read when it is plain ASCII.
        Tag::TeletexString | Tag::VisibleString if data.is_ascii() => {
            std::str::from_utf8(data).ok().map(str::to_owned)
        }
        _ => None,
    }
}

/// Formats a DN the way API Gateway shows it in `subjectDN`/`issuerDN`: RDNs in
/// encoded order, `,` between RDNs, `+` within one, short names where known,
/// values escaped per RFC 4514 §2.4 and undecodable values as `#hex`.
pub(crate) fn format_dn(name: &X509Name<'_>) -> String {
    let mut out = String::new();
    for (i, rdn) in name.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, atv) in rdn.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            let oid = atv.attr_type();
            match SHORT_NAMES_DER.iter().find(|(_, o)| *o == oid.as_bytes()) {
                Some((short, _)) => out.push_str(short),
                None => out.push_str(&oid.to_id_string()),
            }
            out.push('=');
            // The common case, a UTF8String or PrintableString, without a copy.
            if let Ok(text) = atv.as_str() {
                escape_value(text, &mut out);
                continue;
            }
            match decode_value(atv) {
                Some(v) => escape_value(&v, &mut out),
                None => {
                    out.push('#');
                    out.push_str(&crate::serial::hex_lower(atv.attr_value().data));
                }
            }
        }
    }
    out
}

fn escape_value(value: &str, out: &mut String) {
    // Most values need no escaping: copied as they are.
    let plain = !value.bytes().any(|b| {
        matches!(b, b',' | b'+' | b'"' | b'\\' | b'<' | b'>' | b';')
            || b.is_ascii_control()
            || b >= 0x80
    }) && !value.starts_with(['#', ' '])
        && !value.ends_with(' ');
    if plain {
        out.push_str(value);
        return;
    }
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        let needs = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == '#' || c == ' '))
            || (i == last && c == ' ');
        if c == '\0' {
            out.push_str("\\00");
        } else if c.is_control() {
            let _ = write!(out, "\\{:02x}", u32::from(c) & 0xff);
        } else {
            if needs {
                out.push('\\');
            }
            out.push(c);
        }
    }
}

#[cfg(test)]
mod tests;
