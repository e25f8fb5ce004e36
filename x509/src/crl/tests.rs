//! Unit tests of the `crl` module (kept beside it so the module itself stays short).

use mtls_tests::pki::{raw_extension, reason_code, tlv};

use super::*;

/// A list of entries using every shape the walker knows: short, zero,
/// 20-octet and over-long serials; UTCTime and GeneralizedTime; reason
/// code, hold instruction, invalidity date and an unknown extension.
fn sample_list() -> Vec<u8> {
    let date = tlv(der::UTC_TIME, b"260101000000Z");
    let gdate = tlv(der::GENERALIZED_TIME, b"20260101000000Z");
    let reason = reason_code(1);
    let hold = raw_extension(ENTRY_HOLD_INSTRUCTION, false, &tlv(der::OID, &[0x2a, 0x03]));
    let invalidity = raw_extension(ENTRY_INVALIDITY_DATE, false, &gdate);
    let private = raw_extension(&[0x2b, 0x06, 0x01], false, &tlv(0x05, &[]));
    let mut list = Vec::new();
    let serials: [&[u8]; 4] = [&[0x42], &[0x00], &[0x00, 0x80, 0x01], &[0x7f; 22]];
    for (i, serial) in serials.iter().enumerate() {
        let mut e = tlv(der::INTEGER, serial);
        e.extend(if i % 2 == 0 { &date } else { &gdate });
        let exts = match i {
            0 => vec![],
            1 => [reason.clone()].concat(),
            2 => [reason.clone(), hold.clone(), invalidity.clone()].concat(),
            _ => [private.clone(), reason.clone()].concat(),
        };
        if !exts.is_empty() {
            e.extend(tlv(der::SEQUENCE, &exts));
        }
        list.extend(tlv(der::SEQUENCE, &e));
    }
    list
}

/// The first INTEGER of every top-level SEQUENCE that parses as one.
fn naive_serials(list: &[u8]) -> Vec<Serial> {
    let mut out = Vec::new();
    let mut r = Reader::new(list);
    while let Ok(entry) = r.any() {
        if let Ok(serial) = Reader::new(entry.content).any() {
            out.push(Serial::from_integer_bytes(serial.content));
        }
    }
    out
}

#[test]
fn sample_entry_list_is_indexed_exactly() {
    let set = stream::index_list(&sample_list()).unwrap();
    assert_eq!(set.len(), 4);
    for s in naive_serials(&sample_list()) {
        assert!(set.contains(&s), "{s:?}");
    }
    assert!(!set.contains(&Serial::from_integer_bytes(&[0x43])));
    assert!(!set.contains(&Serial::from_integer_bytes(&[0x7f; 21])));
}

/// A stable-toolchain cousin of the `crl_parse` fuzz target, run by every
/// `cargo test`: a few hundred thousand random mutations of a valid entry
/// list never panic, and whenever a mutated list is accepted, every
/// serial in it is found.
#[test]
fn mutated_entry_lists_never_panic_and_accepted_ones_have_no_false_negatives() {
    let base = sample_list();
    let mut next = mtls_tests::xorshift(0x2545_f491_4f6c_dd1d_u64);
    let mut accepted = 0;
    for _ in 0..200_000 {
        let mut list = base.clone();
        for _ in 0..1 + next() % 3 {
            let at = (next() as usize) % list.len().max(1);
            match next() % 4 {
                0 => list[at] = next() as u8,
                1 => list[at] ^= 1 << (next() % 8),
                2 => {
                    list.remove(at);
                }
                _ => list.insert(at, next() as u8),
            }
            if list.is_empty() {
                break;
            }
        }
        if let Ok(set) = stream::index_list(&list) {
            accepted += 1;
            for s in naive_serials(&list) {
                assert!(
                    set.contains(&s),
                    "{s:?} missing from {}",
                    hex::encode(&list)
                );
            }
        }
    }
    assert!(
        accepted > 0,
        "some mutations (e.g. of serial bytes) stay valid"
    );
}

#[test]
fn crl_number_longer_than_20_octets_is_refused() {
    // RFC 5280 §5.2.3: at most 20 octets; leading zero octets do not count.
    assert!(CrlNumber::read(&[0x7f; 20], "CRLNumber").is_ok());
    let padded: Vec<u8> = [0u8; 4].iter().chain(&[0x7f; 20]).copied().collect();
    assert!(CrlNumber::read(&padded, "CRLNumber").is_ok());
    for what in ["CRLNumber", "BaseCRLNumber"] {
        assert!(matches!(
            CrlNumber::read(&[0x7f; 21], what),
            Err(Error::CrlMalformed(CrlMalformed::Der(Malformed { what: w, .. }))) if w == what
        ));
    }
}
