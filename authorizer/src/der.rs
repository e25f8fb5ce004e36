//! A strict check of the unsigned envelope of certificates and CRLs.
//!
//! x509-parser reads the outer structure leniently (it accepts a wrong tag on
//! the outer SEQUENCE, the signatureAlgorithm or the BIT STRING, and ignores
//! the BIT STRING's unused-bits octet). None of that reaches the signed bytes,
//! but a security check should accept exactly one encoding of each object, so
//! we insist on DER for the envelope too.

use x509_parser::der_parser::asn1_rs::{Any, Class, FromDer, Tag};

fn expect(any: &Any<'_>, tag: Tag, constructed: bool, what: &str) -> Result<(), String> {
    let header = &any.header;
    if header.class() == Class::Universal
        && header.tag() == tag
        && header.is_constructed() == constructed
    {
        Ok(())
    } else {
        Err(format!("{what} is not DER-encoded as a universal {tag}"))
    }
}

fn read<'a>(bytes: &'a [u8], what: &str) -> Result<(&'a [u8], Any<'a>), String> {
    Any::from_der(bytes).map_err(|e| format!("{what}: {e}"))
}

/// RFC 5280 §4.1 and §5.1: `Certificate` and `CertificateList` are both
/// `SEQUENCE { tbs SEQUENCE, signatureAlgorithm AlgorithmIdentifier, signatureValue BIT STRING }`.
pub(crate) fn check_signed_envelope(der: &[u8]) -> Result<(), String> {
    let (rest, outer) = read(der, "outer SEQUENCE")?;
    if !rest.is_empty() {
        return Err("trailing data after the object".into());
    }
    expect(&outer, Tag::Sequence, true, "the outer SEQUENCE")?;
    let (rest, tbs) = read(outer.data, "signed part")?;
    expect(&tbs, Tag::Sequence, true, "the signed part")?;
    let (rest, algorithm) = read(rest, "signatureAlgorithm")?;
    expect(&algorithm, Tag::Sequence, true, "signatureAlgorithm")?;
    let (_, oid) = read(algorithm.data, "signatureAlgorithm OID")?;
    expect(&oid, Tag::Oid, false, "the signatureAlgorithm OID")?;
    let (rest, signature) = read(rest, "signatureValue")?;
    expect(&signature, Tag::BitString, false, "signatureValue")?;
    if signature.data.first() != Some(&0) {
        return Err("signatureValue has unused bits".into());
    }
    if !rest.is_empty() {
        return Err("unexpected fields after signatureValue".into());
    }
    Ok(())
}
