//! A small, strict DER reader for the unsigned envelope of certificates and
//! CRLs, and for walking a CRL's revoked entries without building a parsed
//! structure per entry.
//!
//! x509-parser reads the outer structure leniently (it accepts a wrong tag on
//! the outer SEQUENCE, the signatureAlgorithm or the BIT STRING, and ignores
//! the BIT STRING's unused-bits octet). None of that reaches the signed bytes,
//! but a security check should accept exactly one encoding of each object, so
//! we insist on DER for the envelope too. The same reader walks the million
//! entries of a large CRL at a few nanoseconds each, where a full parse of
//! every entry (big integers, vectors of extensions) costs far more time and
//! memory.

/// Universal tags we meet (X.690 §8).
pub(crate) const BOOLEAN: u8 = 0x01;
pub(crate) const INTEGER: u8 = 0x02;
pub(crate) const BIT_STRING: u8 = 0x03;
pub(crate) const OCTET_STRING: u8 = 0x04;
pub(crate) const NULL: u8 = 0x05;
pub(crate) const OID: u8 = 0x06;
pub(crate) const ENUMERATED: u8 = 0x0a;
pub(crate) const UTC_TIME: u8 = 0x17;
pub(crate) const GENERALIZED_TIME: u8 = 0x18;
pub(crate) const SEQUENCE: u8 = 0x30;
pub(crate) const SET: u8 = 0x31;
/// `[0]` EXPLICIT (context-specific, constructed).
pub(crate) const CONTEXT_0: u8 = 0xa0;

/// One tag-length-value element.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tlv<'a> {
    /// The identifier octet (only the single-octet form is accepted).
    pub tag: u8,
    /// The content octets.
    pub content: &'a [u8],
    /// The whole element: identifier, length and content.
    pub raw: &'a [u8],
}

/// What was wrong, and where. Copy and allocation-free, so walking a million
/// entries costs nothing for the error path until an error happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Malformed {
    /// The element being read.
    pub what: &'static str,
    /// The problem.
    pub problem: &'static str,
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.what, self.problem)
    }
}

impl std::error::Error for Malformed {}

/// An object identifier an error names (an extension or an algorithm we
/// refuse), as its DER content octets: Copy and allocation-free. Only the
/// first [`ObjectId::MAX_OCTETS`] octets are kept, which is more than any
/// OID of the RFCs takes; it prints in dotted form (X.690 §8.19).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ObjectId {
    len: u8,
    octets: [u8; ObjectId::MAX_OCTETS],
}

impl ObjectId {
    /// The most content octets kept.
    pub const MAX_OCTETS: usize = 32;

    /// The OID whose content octets are `content` (cut at [`Self::MAX_OCTETS`]).
    #[must_use]
    pub fn new(content: &[u8]) -> Self {
        let mut octets = [0u8; Self::MAX_OCTETS];
        let kept = content.len().min(Self::MAX_OCTETS);
        for (to, from) in octets.iter_mut().zip(content) {
            *to = *from;
        }
        Self {
            len: u8::try_from(kept).unwrap_or(u8::MAX),
            octets,
        }
    }

    /// The content octets kept.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.octets.get(..usize::from(self.len)).unwrap_or_default()
    }
}

impl std::fmt::Display for ObjectId {
    /// The dotted form: `2.5.29.20`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut acc: u64 = 0;
        let mut first = true;
        for &b in self.as_bytes() {
            acc = (acc << 7) | u64::from(b & 0x7f);
            if b & 0x80 == 0 {
                if first {
                    // X.690 §8.19.4: the first subidentifier holds two arcs.
                    let arc = (acc / 40).min(2);
                    write!(f, "{arc}.{}", acc - arc * 40)?;
                    first = false;
                } else {
                    write!(f, ".{acc}")?;
                }
                acc = 0;
            }
        }
        Ok(())
    }
}

impl std::fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ObjectId({self})")
    }
}

/// Reads a sequence of DER elements from a byte slice.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The identifier octet of the next element, if any.
    pub(crate) fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// Reads the next element, whatever its tag.
    #[inline]
    pub(crate) fn any(&mut self) -> Result<Tlv<'a>, &'static str> {
        let input = self.rest;
        let Header {
            tag,
            header_len,
            len,
        } = match header(input)? {
            Some(h) => h,
            None if input.is_empty() => return Err("unexpected end of data"),
            None => return Err("truncated length"),
        };
        let (raw, rest) = input
            .split_at_checked(header_len.saturating_add(len))
            .ok_or("length exceeds the data")?;
        let content = raw.get(header_len..).ok_or("length exceeds the data")?;
        self.rest = rest;
        Ok(Tlv { tag, content, raw })
    }

    /// Reads the next element, which must have identifier `tag`.
    #[inline]
    pub(crate) fn expect_tag(&mut self, tag: u8, what: &'static str) -> Result<Tlv<'a>, Malformed> {
        match self.any() {
            Ok(tlv) if tlv.tag == tag => Ok(tlv),
            Ok(_) => Err(Malformed {
                what,
                problem: "unexpected tag",
            }),
            Err(problem) => Err(Malformed { what, problem }),
        }
    }

    /// Reads the next element if it has identifier `tag`.
    #[inline]
    pub(crate) fn optional(
        &mut self,
        tag: u8,
        what: &'static str,
    ) -> Result<Option<Tlv<'a>>, Malformed> {
        if self.peek_tag() == Some(tag) {
            self.expect_tag(tag, what).map(Some)
        } else {
            Ok(None)
        }
    }
}

/// Appends the DER encoding of an element: `tag`, the definite length in
/// its shortest form (X.690 §10.1), then `content`.
pub(crate) fn write_tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    let len = content.len();
    let octets = len.to_be_bytes();
    let significant = octets.iter().skip_while(|b| **b == 0).count();
    if len < 0x80 {
        out.extend(octets.last());
    } else {
        // At most 8 octets, so the count fits in the low bits.
        out.push(0x80 | u8::try_from(significant).unwrap_or(8));
        out.extend(octets.iter().skip(octets.len() - significant));
    }
    out.extend_from_slice(content);
}

/// The identifier and length octets of an element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    /// The identifier octet.
    pub tag: u8,
    /// How many octets the identifier and the length take.
    pub header_len: usize,
    /// The length of the content.
    pub len: usize,
}

impl Header {
    /// The whole element's length: header and content.
    pub(crate) fn total(&self) -> usize {
        self.header_len.saturating_add(self.len)
    }
}

/// Reads the header of the element at the start of `input`, in DER. `None`
/// when `input` ends before the header does: a streaming reader then waits
/// for more octets (at most six make a header here).
#[inline]
pub(crate) fn header(input: &[u8]) -> Result<Option<Header>, &'static str> {
    let Some((&tag, after_tag)) = input.split_first() else {
        return Ok(None);
    };
    if tag & 0x1f == 0x1f {
        return Err("high-tag-number identifiers are not used here");
    }
    let Some((&first, after_len)) = after_tag.split_first() else {
        return Ok(None);
    };
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        match long_length(first, after_len)? {
            Some(len) => len,
            None => return Ok(None),
        }
    };
    let header_len = if first < 0x80 {
        2
    } else {
        2 + usize::from(first & 0x7f)
    };
    Ok(Some(Header {
        tag,
        header_len,
        len,
    }))
}

/// X.690 §10.1: the definite long form, in the fewest octets. `None` when
/// `after` ends before the length does.
#[cold]
fn long_length(first: u8, after: &[u8]) -> Result<Option<usize>, &'static str> {
    let octets = usize::from(first & 0x7f);
    if octets == 0 {
        return Err("indefinite length is not DER");
    }
    if octets > 4 {
        return Err("length too large");
    }
    let Some(len_bytes) = after.get(..octets) else {
        return Ok(None);
    };
    if len_bytes.first() == Some(&0) {
        return Err("length not in the fewest octets");
    }
    let len = len_bytes
        .iter()
        .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    if len < 0x80 {
        return Err("long-form length for a short value");
    }
    Ok(Some(len))
}

#[cfg(test)]
mod tests;
