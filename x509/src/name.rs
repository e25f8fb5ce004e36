//! Distinguished names: attribute keys for policies, and the DN text form.

use std::fmt::{self, Write as _};
use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::prelude::FromDer;
use x509_parser::x509::{AttributeTypeAndValue, X509Name};

use crate::error::{Error, Result};

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
            Ok(([], _)) => Err(Error::MalformedName("octets after the last RDN".into())),
            Ok(_) => Err(Error::MalformedName("trailing data after the name".into())),
            Err(e) => Err(Error::MalformedName(e.to_string())),
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

    pub(crate) fn x509(&self) -> &X509Name<'a> {
        &self.0
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

impl AttrKey {
    /// Parses a policy key: one of `C`, `ST`, `L`, `O`, `OU`, `CN`, or a dotted OID such as `2.5.4.5`.
    pub fn parse(key: &str) -> Result<Self> {
        let unknown = || {
            Error::Config(format!(
                "unknown attribute `{key}`: use C, ST, L, O, OU, CN or a dotted OID such as 2.5.4.5"
            ))
        };
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
mod tests {
    use super::*;

    /// `CN=a,b` as DER: SEQUENCE { SET { SEQUENCE { 2.5.4.3, UTF8String } } }.
    const CN_A_COMMA_B: &[u8] = &[
        0x30, 0x0e, 0x31, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x03, b'a', b',',
        b'b',
    ];

    #[test]
    fn name_prints_as_api_gateway_does_and_keeps_its_der() {
        let name = Name::from_der(CN_A_COMMA_B).unwrap();
        assert_eq!(name.to_string(), r"CN=a\,b");
        assert_eq!(name.as_der(), CN_A_COMMA_B);
        let cn = AttrKey::parse("CN").unwrap();
        assert_eq!(name.attribute_values(&cn), ["a,b"]);
    }

    #[test]
    fn name_with_trailing_bytes_or_a_broken_encoding_is_malformed() {
        let mut trailing = CN_A_COMMA_B.to_vec();
        trailing.push(0);
        assert!(matches!(
            Name::from_der(&trailing),
            Err(Error::MalformedName(_))
        ));
        assert!(matches!(
            Name::from_der(&CN_A_COMMA_B[..10]),
            Err(Error::MalformedName(_))
        ));
    }

    #[test]
    fn policy_keys_accept_short_names_and_dotted_oids() {
        assert_eq!(
            AttrKey::parse("CN").map(|k| k.oid().to_owned()),
            Ok("2.5.4.3".into())
        );
        assert_eq!(
            AttrKey::parse("2.5.4.5").map(|k| k.oid().to_owned()),
            Ok("2.5.4.5".into())
        );
        assert!(AttrKey::parse("cn").is_err());
        assert!(AttrKey::parse("2..5").is_err());
        assert!(AttrKey::parse("Organisation").is_err());
    }

    #[test]
    fn short_name_oids_match_their_dotted_form() {
        for ((name, dotted), (der_name, der)) in SHORT_NAMES.iter().zip(SHORT_NAMES_DER) {
            assert_eq!(name, der_name);
            assert_eq!(oid_der(dotted).as_deref(), Some(*der), "{name}");
        }
        assert_eq!(
            oid_der("1.2.840.113549").as_deref(),
            Some(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d][..])
        );
        assert_eq!(oid_der("3.1"), None);
        assert_eq!(oid_der("1.40"), None);
        assert_eq!(oid_der("2.999.1").as_deref(), Some(&[0x88, 0x37, 0x01][..]));
    }

    /// A short-form TLV, built by hand (independent of `push_tlv`).
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag, u8::try_from(content.len()).unwrap()];
        v.extend_from_slice(content);
        v
    }

    /// See `holder_identity_is_stable_across_releases`.
    const HOLDER_PINNED: &str = "a42ae910228ceaea967362d0fbd468f5b070f5390d6712e41d8b549e5f53ab11";

    const CN: &[u8] = &[0x55, 0x04, 0x03];
    const O: &[u8] = &[0x55, 0x04, 0x0a];

    /// A Name of one RDN per (type, string tag, value).
    fn name(atvs: &[(&[u8], u8, &[u8])]) -> Vec<u8> {
        let rdns: Vec<u8> = atvs
            .iter()
            .flat_map(|(oid, tag, value)| {
                tlv(
                    0x31,
                    &tlv(0x30, &[tlv(0x06, oid), tlv(*tag, value)].concat()),
                )
            })
            .collect();
        tlv(0x30, &rdns)
    }

    fn bmp(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_be_bytes).collect()
    }

    #[test]
    fn look_alike_names_print_alike_but_are_distinct_holders() {
        let issuer = name(&[(O, 0x0c, b"Temperature Testers")]);
        let issuer = Name::from_der(&issuer).unwrap();
        let bmp_cn = bmp("good");
        let spellings = [
            name(&[(O, 0x0c, b"Temperature Testers"), (CN, 0x0c, b"good")]),
            name(&[(O, 0x0c, b"Temperature Testers"), (CN, 0x13, b"good")]),
            name(&[(O, 0x0c, b"Temperature Testers"), (CN, 0x1e, &bmp_cn)]),
            name(&[(O, 0x0c, b"Temperature Testers"), (CN, 0x14, b"good")]),
            name(&[(O, 0x13, b"Temperature Testers"), (CN, 0x0c, b"good")]),
        ];
        let mut holders = std::collections::BTreeSet::new();
        for der in &spellings {
            let subject = Name::from_der(der).unwrap();
            assert_eq!(subject.to_string(), "O=Temperature Testers,CN=good");
            holders.insert(holder_sha256(&issuer, &subject));
        }
        assert_eq!(holders.len(), spellings.len(), "one text, five holders");
    }

    #[test]
    fn a_name_with_octets_after_its_last_rdn_is_malformed() {
        // SEQUENCE { SET { CN=dev-1 } } followed, inside the SEQUENCE, by an
        // empty SET: x509-parser reads the first RDN and stops.
        let rdn = tlv(
            0x31,
            &tlv(0x30, &[tlv(0x06, CN), tlv(0x0c, b"dev-1")].concat()),
        );
        let padded = tlv(0x30, &[rdn.clone(), vec![0x31, 0x00]].concat());
        assert!(matches!(
            Name::from_der(&padded),
            Err(Error::MalformedName(_))
        ));
        assert!(is_whole_element(&tlv(0x30, &rdn)));
        assert!(!is_whole_element(&padded[..padded.len() - 2]));
    }

    #[test]
    fn holder_identity_is_stable_across_releases() {
        // Readings are stored under it (the api-handler's `name-sha256:`
        // key): a change would orphan them. It replaced the DN-text key
        // (`dn-sha256:`), which look-alike names shared. The expected value
        // is SHA-256 over (u64 BE length, issuer DER, u64 BE length, subject
        // DER), computed independently with Python hashlib.
        let issuer = name(&[(O, 0x0c, b"Example"), (CN, 0x0c, b"Devices CA")]);
        let subject = name(&[(O, 0x0c, b"Example"), (CN, 0x0c, b"sensor-1")]);
        let digest = holder_sha256(
            &Name::from_der(&issuer).unwrap(),
            &Name::from_der(&subject).unwrap(),
        );
        assert_eq!(crate::serial::hex_lower(&digest), HOLDER_PINNED);
    }

    #[test]
    fn escapes_rfc4514_specials() {
        let mut s = String::new();
        escape_value(" a,b+c ", &mut s);
        assert_eq!(s, "\\ a\\,b\\+c\\ ");
    }
}
