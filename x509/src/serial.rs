//! Certificate serial numbers as exact bytes.
//!
//! RFC 5280 §4.1.2.2 allows serials of up to 20 octets, which do not fit any
//! machine integer and must never pass through floating point. A serial here is
//! the INTEGER's content octets with leading zero octets removed, so `00 ff` and
//! `ff` are the same serial and comparison is plain byte equality.

use std::fmt;

/// A normalized serial number: big-endian magnitude bytes, no leading zero
/// octets (except the single octet of serial zero).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Serial(Box<[u8]>);

impl Serial {
    /// Normalizes the content octets of a DER INTEGER.
    ///
    /// Leading `00` octets are dropped, including the one DER adds before a
    /// high-bit-set first octet, so a 20-byte serial such as `80…` compares
    /// equal however a CA encoded it. Non-conforming negative serials (RFC 5280
    /// §4.1.2.2 asks users to handle them gracefully) keep their octets as-is.
    #[must_use]
    pub fn from_integer_bytes(bytes: &[u8]) -> Self {
        Self(normalize(bytes).into())
    }

    /// Parses lowercase or uppercase hex, with optional `:` separators.
    pub fn from_hex(text: &str) -> Option<Self> {
        let clean: String = text.chars().filter(|c| *c != ':').collect();
        let padded = if clean.len() % 2 == 1 {
            format!("0{clean}")
        } else {
            clean
        };
        if padded.is_empty() {
            return None;
        }
        hex::decode(padded)
            .ok()
            .map(|b| Self::from_integer_bytes(&b))
    }

    /// The normalized bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Lowercase hex of the normalized bytes: always an even number of digits,
    /// e.g. `01`, `ff`, `805a…`. This is the `serialNumber` context value.
    #[must_use]
    pub fn to_hex(&self) -> String {
        hex_lower(&self.0)
    }
}

/// Lowercase hex of `bytes`, written in one pass into one allocation
/// (`hex::encode` pushes a char at a time; this runs on every decision).
#[must_use]
pub fn hex_lower(bytes: &[u8]) -> String {
    let mut out = vec![0u8; bytes.len() * 2];
    if hex::encode_to_slice(bytes, &mut out).is_err() {
        return hex::encode(bytes);
    }
    String::from_utf8(out).unwrap_or_default()
}

/// The normalized form of an INTEGER's content octets, without allocating:
/// leading `00` octets removed, and serial zero as the single octet `00`.
pub fn normalize(bytes: &[u8]) -> &[u8] {
    match bytes.iter().position(|&b| b != 0) {
        Some(i) => bytes.get(i..).unwrap_or(&[0]),
        None => &[0],
    }
}

impl fmt::Debug for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Serial({})", self.to_hex())
    }
}

impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

#[cfg(test)]
mod tests;
