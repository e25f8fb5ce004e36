//! The index of a CRL's revoked serials: built while the entries stream in,
//! then searched exactly.
//!
//! Serials of up to 20 octets (every conforming one, RFC 5280 §4.1.2.2) are
//! right-aligned into fixed 20-octet records in one flat array, so a million
//! entries take 20 MB and no allocation per entry. Longer, non-conforming
//! serials go to a separate list and are never truncated.
//!
//! Building costs one comparison per entry when the CRL lists its entries in
//! order (OpenSSL sorts them, and so do many CAs). Otherwise the array is
//! sorted in place by an MSD radix sort on the record's bytes: no second
//! array, so the peak memory of a load is the index itself.

use crate::serial::Serial;

/// Width of the packed index. RFC 5280 §4.1.2.2 caps conforming serials at
/// 20 octets; longer ones are kept apart (see [`RevokedSet`]).
const PACKED_WIDTH: usize = 20;
type Packed = [u8; PACKED_WIDTH];

/// Right-aligns a normalized serial of at most 20 octets, or `None` if longer.
///
/// Normalized serials have no leading zero octets (serial zero is `00`), so two
/// distinct serials stay distinct once padded, and the padded bytes sort in
/// numeric order: the index is exact.
#[inline]
fn pack(normalized: &[u8]) -> Option<Packed> {
    // The common case (random 20-octet serials) without a variable-length copy.
    if let Ok(full) = <[u8; PACKED_WIDTH]>::try_from(normalized) {
        return Some(full);
    }
    let mut out = [0u8; PACKED_WIDTH];
    let start = PACKED_WIDTH.checked_sub(normalized.len())?;
    out.get_mut(start..)?.copy_from_slice(normalized);
    Some(out)
}

/// A packed serial as three big-endian words: the same order as its bytes,
/// compared in three integer comparisons instead of a 20-byte `memcmp`.
#[inline]
fn packed_key(p: &Packed) -> (u64, u64, u32) {
    let [
        a0,
        a1,
        a2,
        a3,
        a4,
        a5,
        a6,
        a7,
        b0,
        b1,
        b2,
        b3,
        b4,
        b5,
        b6,
        b7,
        c0,
        c1,
        c2,
        c3,
    ] = *p;
    (
        u64::from_be_bytes([a0, a1, a2, a3, a4, a5, a6, a7]),
        u64::from_be_bytes([b0, b1, b2, b3, b4, b5, b6, b7]),
        u32::from_be_bytes([c0, c1, c2, c3]),
    )
}

/// Below this many records an insertion sort beats another radix pass.
const RADIX_CUTOFF: usize = 32;

/// Insertion sort, for the few records a radix pass leaves together: the
/// moving record's key is computed once, and most comparisons end at the
/// first word.
fn insertion_sort(records: &mut [Packed]) {
    for i in 1..records.len() {
        let Some(&moving) = records.get(i) else {
            return;
        };
        let key = packed_key(&moving);
        let mut j = i;
        while let Some(before) = j.checked_sub(1).and_then(|b| records.get(b).copied()) {
            if packed_key(&before) <= key {
                break;
            }
            if let Some(slot) = records.get_mut(j) {
                *slot = before;
            }
            j -= 1;
        }
        if let Some(slot) = records.get_mut(j) {
            *slot = moving;
        }
    }
}

/// Sorts packed serials in place, most significant octet first (an
/// "American flag" sort): each pass counts the records per value of one
/// octet, swaps every record into its bucket, and recurses into buckets
/// large enough to pay for another pass. The order is the byte order, which
/// for right-aligned serials is the numeric order; the result is the same
/// permutation class as `sort_unstable` (tested against it).
fn radix_sort(records: &mut [Packed]) {
    radix_sort_from(records, 0);
}

#[expect(
    clippy::indexing_slicing,
    reason = "bounded by construction: octet values (0..=255) index 256-entry arrays, \
              `octet < PACKED_WIDTH` indexes a record, and the bucket bounds are prefix \
              sums of counts that add up to `records.len()`"
)]
fn radix_sort_from(records: &mut [Packed], mut octet: usize) {
    loop {
        if records.len() <= RADIX_CUTOFF {
            insertion_sort(records);
            return;
        }
        if octet >= PACKED_WIDTH {
            // Every octet is equal: duplicates, removed later.
            return;
        }
        let mut counts = [0usize; 256];
        for r in records.iter() {
            counts[usize::from(r[octet])] += 1;
        }
        // Short serials share leading zero octets: a pass that would leave
        // every record in one bucket is skipped.
        if counts.contains(&records.len()) {
            octet += 1;
            continue;
        }
        let mut ends = [0usize; 256];
        let mut total = 0;
        for (end, count) in ends.iter_mut().zip(counts) {
            total += count;
            *end = total;
        }
        let mut next = [0usize; 256];
        for (n, (end, count)) in next.iter_mut().zip(ends.iter().zip(counts)) {
            *n = end - count;
        }
        let starts = next;
        for bucket in 0..256 {
            while next[bucket] < ends[bucket] {
                let at = next[bucket];
                let home = usize::from(records[at][octet]);
                if home == bucket {
                    next[bucket] += 1;
                } else {
                    records.swap(at, next[home]);
                    next[home] += 1;
                }
            }
        }
        for (start, end) in starts.iter().zip(ends) {
            if end - start > 1 {
                radix_sort_from(&mut records[*start..end], octet + 1);
            }
        }
        return;
    }
}

/// Sorts one bucket on the octets from `octet` on. The bucket was written
/// long before and is no longer in cache, so the first pass reads it once,
/// in order, and distributes its records into `scratch` (reused across
/// buckets, as large as the largest); the groups it leaves, small and now
/// in cache, are sorted there, and the result is copied back in order. An
/// in-place first pass would instead swap records at random through a
/// bucket fetched from memory.
#[expect(
    clippy::indexing_slicing,
    reason = "bounded by construction, as in `radix_sort_from`"
)]
fn sort_bucket(records: &mut [Packed], mut octet: usize, scratch: &mut Vec<Packed>) {
    let counts = loop {
        if records.len() <= RADIX_CUTOFF || octet >= PACKED_WIDTH {
            return radix_sort_from(records, octet);
        }
        let mut counts = [0usize; 256];
        for r in records.iter() {
            counts[usize::from(r[octet])] += 1;
        }
        if !counts.contains(&records.len()) {
            break counts;
        }
        octet += 1;
    };
    let mut next = [0usize; 256];
    let mut total = 0;
    for (n, count) in next.iter_mut().zip(counts) {
        *n = total;
        total += count;
    }
    scratch.clear();
    scratch.resize(records.len(), [0; PACKED_WIDTH]);
    for r in records.iter() {
        let home = &mut next[usize::from(r[octet])];
        scratch[*home] = *r;
        *home += 1;
    }
    let mut start = 0;
    for count in counts {
        if count > 1 {
            radix_sort_from(&mut scratch[start..start + count], octet + 1);
        }
        start += count;
    }
    records.copy_from_slice(scratch);
}

/// The buckets: one per (length, leading octet) of a normalized serial.
const BUCKETS: usize = PACKED_WIDTH * 256;

/// The bucket of a packed serial: its length (1 to 20 octets) and its
/// leading octet. Numeric order is (length, octets) order, so buckets in
/// number order hold the serials in numeric order, and a serial is found by
/// searching its bucket only.
#[inline]
fn bucket_of(p: &Packed) -> usize {
    let lead = p.iter().position(|&b| b != 0).unwrap_or(PACKED_WIDTH - 1);
    let first = p.get(lead).copied().unwrap_or(0);
    (PACKED_WIDTH - 1 - lead) * 256 + usize::from(first)
}

/// Lists of up to this many serials are indexed as one sorted array; longer
/// ones are distributed into buckets as they arrive.
const FLAT_MAX: usize = 4096;

/// The packed serials of a [`RevokedSet`].
#[derive(Clone, Debug)]
enum Records {
    /// One sorted array: short lists.
    Flat(Box<[Packed]>),
    /// The non-empty buckets, by number, each sorted.
    Buckets(Vec<(u16, Box<[Packed]>)>),
}

impl Default for Records {
    fn default() -> Self {
        Self::Flat(Box::default())
    }
}

fn search(records: &[Packed], p: &Packed) -> bool {
    let key = packed_key(p);
    records.binary_search_by_key(&key, packed_key).is_ok()
}

/// The revoked serials of one CRL, for exact search.
///
/// Long lists are distributed into buckets by length and leading octet as
/// their entries are read, and each bucket is sorted on its own: building
/// the index never sorts one large array, only buckets small enough to stay
/// in cache (a few thousand records for a million random serials), and none
/// at all when the CRL lists its entries in order.
#[derive(Clone, Debug, Default)]
pub struct RevokedSet {
    records: Records,
    long: Vec<Serial>,
    packed: usize,
}

impl RevokedSet {
    /// Whether `serial` is listed. Exact byte comparison: no false negatives.
    #[must_use]
    pub fn contains(&self, serial: &Serial) -> bool {
        let Some(p) = pack(serial.as_bytes()) else {
            return self.long.binary_search(serial).is_ok();
        };
        match &self.records {
            Records::Flat(records) => search(records, &p),
            Records::Buckets(buckets) => {
                let bucket = u16::try_from(bucket_of(&p)).unwrap_or(u16::MAX);
                buckets
                    .binary_search_by_key(&bucket, |(b, _)| *b)
                    .ok()
                    .and_then(|at| buckets.get(at))
                    .is_some_and(|(_, records)| search(records, &p))
            }
        }
    }

    /// The number of distinct revoked serials.
    #[must_use]
    pub fn len(&self) -> usize {
        self.packed + self.long.len()
    }

    /// Whether no serial is revoked.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap memory held by the index, in bytes.
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        let directory = match &self.records {
            Records::Flat(_) => 0,
            Records::Buckets(b) => b.capacity() * size_of::<(u16, Box<[Packed]>)>(),
        };
        directory
            + self.packed * PACKED_WIDTH
            + self.long.capacity() * size_of::<Serial>()
            + self.long.iter().map(|s| s.as_bytes().len()).sum::<usize>()
    }

    /// Every serial, in ascending numeric order (packed serials, then the
    /// over-long ones), for tests that compare two indexes.
    pub fn iter(&self) -> impl Iterator<Item = Serial> + '_ {
        let packed: Box<dyn Iterator<Item = &Packed>> = match &self.records {
            Records::Flat(records) => Box::new(records.iter()),
            Records::Buckets(buckets) => Box::new(buckets.iter().flat_map(|(_, r)| r.iter())),
        };
        packed
            .map(|p| Serial::from_integer_bytes(p))
            .chain(self.long.iter().cloned())
    }
}

/// A [`RevokedSet`] under construction, fed one serial at a time.
#[derive(Debug)]
pub(super) struct IndexBuilder {
    /// The packed serials, until there are more than [`FLAT_MAX`].
    flat: Vec<Packed>,
    /// `BUCKETS` vectors once bucketed, else empty.
    buckets: Vec<Vec<Packed>>,
    long: Vec<Serial>,
    packed: usize,
    /// Room to reserve in a bucket when it gets its first serial.
    bucket_hint: usize,
    /// What may still be reserved that way: about twice the expected entries.
    reserve_left: usize,
    /// The last packed serial, while they arrive in ascending order.
    last: Option<(u64, u64, u32)>,
    in_order: bool,
    /// The buckets before this one are sorted (see [`Self::sort_step`]).
    sorted: usize,
    /// Room for [`sort_bucket`], reused from one bucket to the next.
    scratch: Vec<Packed>,
}

impl IndexBuilder {
    pub(super) fn new() -> Self {
        Self {
            flat: Vec::new(),
            buckets: Vec::new(),
            long: Vec::new(),
            packed: 0,
            bucket_hint: 0,
            reserve_left: 0,
            last: None,
            in_order: true,
            sorted: 0,
            scratch: Vec::new(),
        }
    }

    /// Sizes the index for about `entries` serials. A long list is bucketed
    /// from the start, each bucket sized as if leading octets were spread
    /// evenly (random serials, as AWS Private CA issues): each then fills
    /// its reservation without growing, so no bucket is copied. A skewed list just grows some
    /// buckets; reservations never exceed about twice the estimate in all.
    pub(super) fn plan(&mut self, entries: usize) {
        // A conforming 20-octet serial is a positive INTEGER, so its leading
        // octet is 0x01 to 0x7f: random serials spread over about 128
        // buckets, not 256.
        self.bucket_hint = entries / 128 + entries / 1024;
        self.reserve_left = entries.saturating_mul(2);
        if entries > FLAT_MAX {
            self.bucket();
        } else {
            self.flat.reserve(entries.saturating_sub(self.flat.len()));
        }
    }

    /// Moves to buckets, with what the flat array held.
    fn bucket(&mut self) {
        if self.buckets.is_empty() {
            self.buckets.resize_with(BUCKETS, Vec::new);
            for p in std::mem::take(&mut self.flat) {
                self.push_bucketed(p);
            }
        }
    }

    #[inline]
    fn push_bucketed(&mut self, p: Packed) {
        if let Some(bucket) = self.buckets.get_mut(bucket_of(&p)) {
            if bucket.capacity() == 0 && self.bucket_hint > 0 {
                let room = self.bucket_hint.min(self.reserve_left);
                self.reserve_left -= room;
                bucket.reserve_exact(room);
            }
            bucket.push(p);
        }
    }

    /// Adds the normalized bytes of a serial (see [`crate::serial::normalize`]).
    #[inline]
    pub(super) fn push_normalized(&mut self, normalized: &[u8]) {
        let Some(p) = pack(normalized) else {
            self.long.push(Serial::from_integer_bytes(normalized));
            return;
        };
        if self.in_order {
            let key = packed_key(&p);
            self.in_order = self.last.is_none_or(|last| last <= key);
            self.last = Some(key);
        }
        self.packed += 1;
        if self.buckets.is_empty() {
            self.flat.push(p);
            if self.flat.len() > FLAT_MAX {
                self.bucket();
            }
        } else {
            self.push_bucketed(p);
        }
    }

    /// How many serials were added.
    pub(super) fn len(&self) -> usize {
        self.packed + self.long.len()
    }

    /// Sorts the next bucket not yet sorted, once every serial is in.
    /// Returns whether there is more to sort. [`Self::finish`] sorts what
    /// is left; calling this first splits that work into steps of one
    /// bucket (well under a millisecond each), between which a refresh
    /// running behind the requests lets them run.
    pub(super) fn sort_step(&mut self) -> bool {
        if self.in_order || self.buckets.is_empty() {
            return false;
        }
        while let Some(records) = self.buckets.get_mut(self.sorted) {
            let number = self.sorted;
            self.sorted += 1;
            if records.len() > 1 {
                // Every record of a bucket shares its octets up to the
                // leading one: sort on the octets after it.
                let lead = PACKED_WIDTH - 1 - number / 256;
                sort_bucket(records, lead + 1, &mut self.scratch);
                return self.sorted < self.buckets.len();
            }
        }
        false
    }

    /// The index: sorted (unless the list was in order) and deduplicated.
    pub(super) fn finish(mut self) -> RevokedSet {
        while self.sort_step() {}
        let Self {
            mut flat,
            buckets,
            mut long,
            in_order,
            ..
        } = self;
        let mut packed = 0;
        let records = if buckets.is_empty() {
            if !in_order {
                radix_sort(&mut flat);
            }
            flat.dedup();
            packed = flat.len();
            Records::Flat(flat.into_boxed_slice())
        } else {
            Records::Buckets(
                buckets
                    .into_iter()
                    .enumerate()
                    .filter(|(_, records)| !records.is_empty())
                    .map(|(number, mut records)| {
                        records.dedup();
                        packed += records.len();
                        (
                            u16::try_from(number).unwrap_or(u16::MAX),
                            records.into_boxed_slice(),
                        )
                    })
                    .collect(),
            )
        };
        long.sort_unstable();
        long.dedup();
        long.shrink_to_fit();
        RevokedSet {
            records,
            long,
            packed,
        }
    }
}

#[cfg(test)]
mod tests;
