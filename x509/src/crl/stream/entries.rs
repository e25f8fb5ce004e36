//! The walk over `revokedCertificates`: each entry checked (RFC 5280 §5.1,
//! §5.3) and its serial pushed into the index as its octets arrive, with a
//! fast path for the entry shapes nearly every CA writes.

use super::super::index::IndexBuilder;
use super::super::{
    EntryFault, EntryKind, MAX_ENTRY_BYTES, REASON_REMOVE_FROM_CRL, check_entry_extensions,
    malformed,
};
use super::entry_error;
use crate::der::{self, Reader};
use crate::error::Result;
use crate::serial::normalize;

/// The entry shapes nearly every CA writes, recognised as byte patterns: a
/// serial of up to 127 octets, a `UTCTime` or `GeneralizedTime`, and either
/// no extensions or exactly one non-critical `reasonCode` with a valid value.
/// It accepts a subset of what [`check_entry`]'s full walk accepts, with
/// the same serial, so it only saves the walk; anything else takes it.
#[inline]
pub(super) fn common_entry(content: &[u8]) -> Option<(&[u8], EntryKind)> {
    let [der::INTEGER, n @ 1..=0x7f, rest @ ..] = content else {
        return None;
    };
    let (serial, rest) = rest.split_at_checked(usize::from(*n))?;
    let rest = match rest {
        [der::UTC_TIME, 0x0d, rest @ ..] => rest.get(13..)?,
        [der::GENERALIZED_TIME, 0x0f, rest @ ..] => rest.get(15..)?,
        _ => return None,
    };
    match rest {
        [] => Some((serial, EntryKind::Listed)),
        // SEQUENCE { SEQUENCE { OID 2.5.29.21, OCTET STRING { ENUMERATED r } } }
        [
            0x30,
            0x0c,
            0x30,
            0x0a,
            0x06,
            0x03,
            0x55,
            0x1d,
            0x15,
            0x04,
            0x03,
            0x0a,
            0x01,
            reason,
        ] if *reason <= 10 && *reason != 7 => Some((
            serial,
            if *reason == REASON_REMOVE_FROM_CRL {
                EntryKind::RemoveFromCrl
            } else {
                EntryKind::Listed
            },
        )),
        _ => None,
    }
}

/// RFC 5280 §5.1.2.6: one revoked entry's fields, checked completely.
/// Returns the serial's content octets, and what the entry says.
#[inline]
pub(super) fn check_entry(content: &[u8]) -> std::result::Result<(&[u8], EntryKind), EntryFault> {
    match common_entry(content) {
        Some(found) => Ok(found),
        None => full_entry(content),
    }
}

/// [`check_entry`] by the full walk: every field and extension read.
pub(super) fn full_entry(content: &[u8]) -> std::result::Result<(&[u8], EntryKind), EntryFault> {
    let mut fields = Reader::new(content);
    let serial = fields.expect_tag(der::INTEGER, "userCertificate")?;
    if serial.content.is_empty() {
        return Err(malformed("userCertificate", "empty INTEGER"));
    }
    let date = fields
        .any()
        .map_err(|problem| malformed("revocationDate", problem))?;
    if date.tag != der::UTC_TIME && date.tag != der::GENERALIZED_TIME {
        return Err(malformed("revocationDate", "not a Time"));
    }
    let kind = match fields.optional(der::SEQUENCE, "crlEntryExtensions")? {
        Some(exts) => check_entry_extensions(exts.content)?,
        None => EntryKind::Listed,
    };
    if !fields.is_empty() {
        return Err(malformed("entry", "unexpected data after its fields"));
    }
    Ok((serial.content, kind))
}

/// Walks the complete entries at the start of `list` into `index` (or, for
/// `removeFromCRL` entries, into `removed`), and returns the octets they take. `left` is what remains of the whole list
/// (`list` may hold less, having not all arrived): an entry running past it
/// is malformed, one running past `list` waits for more.
pub(super) fn walk_entries(
    list: &[u8],
    left: usize,
    index: &mut IndexBuilder,
    removed: &mut IndexBuilder,
) -> Result<usize> {
    let mut used = 0;
    loop {
        let rest = list.get(used..).unwrap_or_default();
        let at = index.len() + removed.len();
        let h = match der::header(rest) {
            Ok(Some(h)) => h,
            Ok(None) => return Ok(used),
            Err(p) => return Err(entry_error(malformed("entry", p), at)),
        };
        if at == 0 && used == 0 {
            // Entries are about the same size: the first one tells how many
            // the list holds, to size the index once.
            index.plan(left / h.total().max(1));
        }
        if h.tag != der::SEQUENCE {
            return Err(entry_error(malformed("entry", "unexpected tag"), at));
        }
        if h.total() > MAX_ENTRY_BYTES {
            return Err(entry_error(
                malformed("entry", "larger than 1024 octets"),
                at,
            ));
        }
        if used + h.total() > left {
            return Err(entry_error(
                malformed("entry", "length exceeds the data"),
                at,
            ));
        }
        let Some(raw) = rest.get(..h.total()) else {
            return Ok(used);
        };
        let content = raw.get(h.header_len..).unwrap_or_default();
        match check_entry(content).map_err(|f| entry_error(f, at))? {
            (serial, EntryKind::Listed) => index.push_normalized(normalize(serial)),
            (serial, EntryKind::RemoveFromCrl) => removed.push_normalized(normalize(serial)),
        }
        used += h.total();
    }
}

/// Walks a whole `revokedCertificates` content into an index: the entry
/// walker alone, for unit tests.
#[cfg(test)]
pub(in crate::crl) fn index_list(list: &[u8]) -> Result<super::super::RevokedSet> {
    let mut index = IndexBuilder::new();
    let mut removed = IndexBuilder::new();
    let used = walk_entries(list, list.len(), &mut index, &mut removed)?;
    if used != list.len() {
        return Err(entry_error(
            malformed("entry", "length exceeds the data"),
            index.len(),
        ));
    }
    // The unit tests see every entry, as a complete CRL counts them.
    for serial in removed.finish().iter() {
        index.push_normalized(normalize(serial.as_bytes()));
    }
    Ok(index.finish())
}
