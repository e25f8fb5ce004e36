use super::*;

/// `CN=a,b` as DER: SEQUENCE { SET { SEQUENCE { 2.5.4.3, UTF8String } } }.
const CN_A_COMMA_B: &[u8] = &[
    0x30, 0x0e, 0x31, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x03, b'a', b',', b'b',
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
