//! Unit tests of the `index` module (kept beside it so the module itself stays short).

use super::*;
use mtls_tests::xorshift;

/// Random records with the shapes that stress an MSD sort: long runs of
/// leading zeros (short serials), shared prefixes, duplicates, and
/// single-octet differences deep in the record.
fn records(n: usize, seed: u64) -> Vec<Packed> {
    let mut next = xorshift(seed);
    (0..n)
        .map(|i| {
            let mut p = [0u8; PACKED_WIDTH];
            let len = match next() % 4 {
                0 => 20,
                1 => 1 + (next() % 20) as usize,
                2 => 8,
                _ => 16,
            };
            for b in p.iter_mut().skip(PACKED_WIDTH - len) {
                *b = next() as u8;
            }
            if i % 7 == 0 {
                p[0..12].copy_from_slice(&[0x5a; 12]);
            }
            p
        })
        .collect()
}

#[test]
fn radix_sort_orders_exactly_like_a_comparison_sort() {
    for (n, seed) in [(0, 1), (1, 2), (47, 3), (49, 4), (1000, 5), (100_000, 6)] {
        let mut mine = records(n, seed);
        let dup = mine.first().copied();
        if let Some(d) = dup {
            mine.push(d);
            mine.push(d);
        }
        let mut reference = mine.clone();
        reference.sort_unstable();
        let mut through_scratch = mine.clone();
        radix_sort(&mut mine);
        assert_eq!(mine, reference, "n = {n}");
        sort_bucket(&mut through_scratch, 0, &mut Vec::new());
        assert_eq!(through_scratch, reference, "n = {n}, through scratch");
    }
}

#[test]
fn records_sharing_every_octet_but_the_last_are_sorted() {
    let mut v: Vec<Packed> = (0..=255u8)
        .rev()
        .map(|b| {
            let mut p = [0xab; PACKED_WIDTH];
            p[PACKED_WIDTH - 1] = b;
            p
        })
        .collect();
    radix_sort(&mut v);
    assert!(v.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn a_list_that_outgrows_the_flat_array_moves_to_buckets_exactly() {
    let serials: Vec<Packed> = records(FLAT_MAX * 2, 11);
    let mut b = IndexBuilder::new();
    for p in &serials {
        b.push_normalized(crate::serial::normalize(p));
    }
    let set = b.finish();
    assert!(matches!(set.records, Records::Buckets(_)));
    let mut want: Vec<Packed> = serials.clone();
    want.sort_unstable();
    want.dedup();
    let got: Vec<Serial> = set.iter().collect();
    let want: Vec<Serial> = want.iter().map(|p| Serial::from_integer_bytes(p)).collect();
    assert_eq!(got, want);
    for p in &serials {
        assert!(set.contains(&Serial::from_integer_bytes(p)));
    }
}

#[test]
fn sorting_a_bucket_at_a_time_gives_the_same_index_as_all_at_once() {
    let serials = records(20_000, 13);
    let build = |steps: bool| {
        let mut b = IndexBuilder::new();
        b.plan(serials.len());
        for p in &serials {
            b.push_normalized(crate::serial::normalize(p));
        }
        let mut n = 0;
        while steps && b.sort_step() {
            n += 1;
        }
        (b.finish(), n)
    };
    let (whole, _) = build(false);
    let (stepped, steps) = build(true);
    assert!(steps > 10, "{steps} steps");
    assert!(whole.iter().eq(stepped.iter()));
    assert_eq!(whole.len(), stepped.len());
}

#[test]
fn in_order_and_shuffled_input_give_the_same_index() {
    let serials: Vec<Vec<u8>> = records(5000, 9)
        .iter()
        .map(|p| crate::serial::normalize(p).to_vec())
        .chain([vec![0x7f; 21], vec![0x01; 25]])
        .collect();
    let mut sorted = serials.clone();
    sorted.sort_by_key(|s| (s.len(), s.clone()));
    let build = |list: &[Vec<u8>]| {
        let mut b = IndexBuilder::new();
        b.plan(list.len());
        for s in list {
            b.push_normalized(s);
        }
        b.finish()
    };
    let (a, b) = (build(&serials), build(&sorted));
    assert_eq!(a.iter().collect::<Vec<_>>(), b.iter().collect::<Vec<_>>());
    for s in &serials {
        assert!(a.contains(&Serial::from_integer_bytes(s)));
    }
    assert!(!a.contains(&Serial::from_integer_bytes(&[0x7f; 22])));
}
