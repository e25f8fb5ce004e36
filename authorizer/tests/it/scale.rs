//! A CRL the size busy private CAs publish: 1,000,000 entries of random
//! 20-octet serials with reason codes (about 53 MB of DER), loaded through the
//! real `file://` source and answered exactly.

use crate::common;

use std::time::Instant;

use common::{Fixture, reason};
use mtls_policy::decision::DenyReason;
use mtls_tests::pki::random_serials;

const ENTRIES: usize = 1_000_000;

/// The serial one above or below `s`, as a 20-octet big-endian number.
fn neighbour(s: &[u8], up: bool) -> Vec<u8> {
    let mut n = s.to_vec();
    for byte in n.iter_mut().rev() {
        let (v, carry) = if up {
            byte.overflowing_add(1)
        } else {
            byte.overflowing_sub(1)
        };
        *byte = v;
        if !carry {
            break;
        }
    }
    n
}

#[tokio::test]
async fn million_entry_crl_denies_listed_serials_and_allows_their_neighbours() {
    let s = Fixture::new();
    let serials = random_serials(ENTRIES, 0x5eed);
    let mut sorted = serials.clone();
    sorted.sort();
    // Entry order (first, middle, last in the CRL) and numeric order (smallest,
    // largest): the ends of both the file and the index.
    let listed = [
        serials[0].clone(),
        serials[ENTRIES / 2].clone(),
        serials[ENTRIES - 1].clone(),
        sorted[0].clone(),
        sorted[ENTRIES - 1].clone(),
    ];
    let t = Instant::now();
    let der = s.ca.crl().revoke_all(serials).der();
    eprintln!("generated {} bytes in {:?}", der.len(), t.elapsed());
    assert!(der.len() > 50_000_000, "a realistic size: {}", der.len());
    s.write("devices.crl", &der);
    drop(der);

    let t = Instant::now();
    let a = s
        .start(s.config(&s.devices_entry(&s.file_uri("devices.crl")), ""))
        .await;
    eprintln!("loaded in {:?}", t.elapsed());
    let status = a.crl_sources(0).remove(0);
    assert_eq!(status.entries, Some(ENTRIES));

    for serial in &listed {
        assert_eq!(
            reason(&a, &s.ca.leaf(serial).pem()).await,
            Some(DenyReason::Revoked),
            "listed serial {} must be denied",
            hex::encode(serial)
        );
        for up in [true, false] {
            let n = neighbour(serial, up);
            if sorted.binary_search(&n).is_ok() {
                continue;
            }
            assert_eq!(
                reason(&a, &s.ca.leaf(&n).pem()).await,
                None,
                "neighbour {} of a listed serial must be allowed",
                hex::encode(&n)
            );
        }
    }
}
