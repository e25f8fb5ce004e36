//! Distinguished names: attribute keys for policies, and the DN text form.

use std::fmt::Write as _;
use x509_parser::der_parser::asn1_rs::Tag;
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

/// The names a policy may use; anything else must be a dotted OID.
const POLICY_NAMES: &[&str] = &["C", "ST", "L", "O", "OU", "CN"];

/// A DN attribute type, held as its dotted OID.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AttrKey(String);

impl AttrKey {
    /// Parses a policy key: one of `C`, `ST`, `L`, `O`, `OU`, `CN`, or a dotted OID such as `2.5.4.5`.
    pub fn parse(key: &str) -> Result<Self> {
        if let Some((_, oid)) = SHORT_NAMES
            .iter()
            .find(|(n, _)| POLICY_NAMES.contains(n) && *n == key)
        {
            return Ok(Self((*oid).to_owned()));
        }
        let is_dotted_oid = key.split('.').count() >= 2
            && key
                .split('.')
                .all(|arc| !arc.is_empty() && arc.bytes().all(|b| b.is_ascii_digit()));
        if is_dotted_oid {
            Ok(Self(key.to_owned()))
        } else {
            Err(Error::Config(format!(
                "unknown attribute `{key}`: use C, ST, L, O, OU, CN or a dotted OID such as 2.5.4.5"
            )))
        }
    }

    /// The dotted OID.
    #[must_use]
    pub fn oid(&self) -> &str {
        &self.0
    }

    /// Whether an attribute of `name` has this type.
    fn matches(&self, atv: &AttributeTypeAndValue<'_>) -> bool {
        atv.attr_type().to_id_string() == self.0
    }
}

/// The decoded string values of every attribute of type `key` in `name`,
/// across all RDNs (a multi-valued attribute yields several). Values in string
/// types we cannot decode are skipped: they can never equal a policy string.
pub fn attribute_values(name: &X509Name<'_>, key: &AttrKey) -> Vec<String> {
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
pub fn format_dn(name: &X509Name<'_>) -> String {
    let mut out = String::new();
    for (i, rdn) in name.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, atv) in rdn.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            let oid = atv.attr_type().to_id_string();
            let short = SHORT_NAMES.iter().find(|(_, o)| *o == oid).map(|(n, _)| *n);
            out.push_str(short.unwrap_or(&oid));
            out.push('=');
            match decode_value(atv) {
                Some(v) => escape_value(&v, &mut out),
                None => {
                    out.push('#');
                    out.push_str(&hex::encode(atv.attr_value().data));
                }
            }
        }
    }
    out
}

fn escape_value(value: &str, out: &mut String) {
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
    fn escapes_rfc4514_specials() {
        let mut s = String::new();
        escape_value(" a,b+c ", &mut s);
        assert_eq!(s, "\\ a\\,b\\+c\\ ");
    }
}
