//! Unit tests of the `stream` module (kept beside it so the module itself stays short).

use super::entries::{common_entry, full_entry};

/// Entry contents of the common shapes and near misses of them.
fn shapes() -> Vec<Vec<u8>> {
    let reason = |r: u8| {
        vec![
            0x30, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01, r,
        ]
    };
    let mut out = Vec::new();
    for serial in [vec![0x42], vec![0x00, 0x80], vec![0x7f; 20], vec![0x11; 21]] {
        for date in [
            [&[0x17, 0x0d][..], b"260101000000Z"].concat(),
            [&[0x18, 0x0f][..], b"20260101000000Z"].concat(),
        ] {
            for exts in [vec![], reason(1), reason(10)] {
                let mut e = vec![0x02, serial.len() as u8];
                e.extend(&serial);
                e.extend(&date);
                e.extend(exts);
                out.push(e);
            }
        }
    }
    out
}

#[test]
fn common_entry_patterns_accept_only_what_the_full_walk_accepts_with_the_same_serial() {
    let mut next = mtls_tests::xorshift(0x9e37_79b9_7f4a_7c15_u64);
    let mut fast = 0;
    for base in shapes() {
        assert_eq!(common_entry(&base), full_entry(&base).ok(), "{base:02x?}");
        for _ in 0..20_000 {
            let mut e = base.clone();
            let at = (next() as usize) % e.len();
            match next() % 3 {
                0 => e[at] = next() as u8,
                1 => {
                    e.remove(at);
                }
                _ => e.insert(at, next() as u8),
            }
            if let Some(serial) = common_entry(&e) {
                fast += 1;
                assert_eq!(full_entry(&e).ok(), Some(serial), "{e:02x?}");
            }
        }
    }
    assert!(fast > 1000, "mutations of dates and serials keep the shape");
}
