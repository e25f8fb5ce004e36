//! One serial against the CRLs loaded for it: complete CRLs, and the delta
//! CRLs that bring a base up to date (RFC 5280 §5.2.4, §6.3.3).
//!
//! A base CRL that names a delta (its Freshest CRL extension), or any base
//! of an entry that configures `delta_crl`, is never read alone: without a
//! delta that applies to it, it only stands while the last delta of its
//! sequence (which it supersedes) is within `nextUpdate` plus grace. A
//! device revoked since the base then stays out, or the answer is
//! `crl_unavailable`, never a silent Allow from the base alone.

use super::{Coverage, CrlKind, CrlNumber, DeltaListing, VerifiedCrl};
use crate::error::Error;
use crate::serial::Serial;
use crate::time::UnixTime;

/// How an issuer entry reads delta CRLs (its `delta` setting).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeltaPolicy {
    /// A base that names a delta (Freshest CRL) needs one.
    #[default]
    Apply,
    /// The entry lists `delta_crl` sources: every base needs a delta.
    Configured,
    /// `"delta": "ignore"`: bases are read alone, and deltas are neither
    /// fetched nor applied. A device revoked since the last base stays
    /// allowed until the next base; documented as the cost of the opt-out.
    Ignore,
}

/// Why no CRL decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotDecided {
    /// A covering CRL (or the delta it needs) is past `nextUpdate` plus grace.
    Stale(Error),
    /// A covering base needs a delta, and none that applies to it is loaded.
    NoDelta {
        /// The base's CRL number, if it has one.
        base: Option<CrlNumber>,
    },
    /// No loaded CRL covers the certificate; `Some` says why one was skipped.
    Uncovered(Option<Coverage>),
}

impl std::fmt::Display for NotDecided {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Stale(e) => write!(f, "{e}"),
            Self::NoDelta { base } => write!(
                f,
                "the base CRL{} needs a delta CRL (Freshest CRL or delta_crl), and no usable delta for it is loaded",
                base.as_ref()
                    .map(|n| format!(" number {}", n.to_hex()))
                    .unwrap_or_default()
            ),
            Self::Uncovered(Some(miss)) => write!(
                f,
                "no loaded CRL covers this certificate (one skipped because {})",
                miss.explain()
            ),
            Self::Uncovered(None) => f.write_str("no CRL covering this certificate is loaded"),
        }
    }
}

/// The answer of the CRLs for one serial.
#[derive(Clone, Debug)]
pub enum Lookup<'a> {
    /// Listed: on a covering complete CRL and not removed by a delta that
    /// applies to it, or on a covering delta (listed is listed, even on a
    /// CRL past its grace period).
    Revoked(&'a VerifiedCrl),
    /// Not listed, by usable CRLs: the newest that decided (the delta, when
    /// one applied).
    NotRevoked(&'a VerifiedCrl),
    /// Nothing usable decided.
    Unavailable(NotDecided),
}

/// Looks `serial` up in `crls`, counting only those `covers` accepts.
///
/// - A covering delta that lists the serial (with a reason other than
///   `removeFromCRL`) revokes it, whatever base is loaded.
/// - A covering base that does not need a delta answers alone, as a
///   complete CRL always did.
/// - A base that needs one is read with the newest loaded delta that
///   applies to it ([`VerifiedCrl::applies_to`]): revoked if on the base and
///   not removed by the delta; usable only while both are. With no
///   applicable delta, a listing on the base still revokes, and the base
///   alone stands only while a delta of its sequence that it supersedes is
///   usable (the CA's promise of the next delta has not lapsed).
/// - A base is outdated when a loaded delta of its sequence names a later
///   base: it then takes no delta and never stands alone (the later base's
///   listings are on no loaded CRL), though its own listings still revoke.
pub fn lookup<'a>(
    crls: impl IntoIterator<Item = &'a VerifiedCrl>,
    covers: impl Fn(&VerifiedCrl) -> Coverage,
    serial: &Serial,
    now: UnixTime,
    grace_seconds: i64,
    policy: DeltaPolicy,
) -> Lookup<'a> {
    let mut bases: Vec<&'a VerifiedCrl> = Vec::new();
    let mut deltas: Vec<&'a VerifiedCrl> = Vec::new();
    let mut miss = None;
    for crl in crls {
        match covers(crl) {
            Coverage::Covers => {}
            other => {
                miss = Some(other);
                continue;
            }
        }
        if crl.is_delta() {
            // A CA-signed listing is a listing, even under `ignore`.
            if crl.delta_listing(serial) == DeltaListing::Revoked {
                return Lookup::Revoked(crl);
            }
            if policy != DeltaPolicy::Ignore {
                deltas.push(crl);
            }
        } else {
            bases.push(crl);
        }
    }
    let mut best = Best {
        usable: None,
        not_decided: None,
        now,
        grace_seconds,
    };
    for base in bases {
        let needs_delta = match policy {
            DeltaPolicy::Ignore => false,
            DeltaPolicy::Configured => true,
            DeltaPolicy::Apply => base.names_delta(),
        };
        if !needs_delta {
            if base.is_revoked(serial) {
                return Lookup::Revoked(base);
            }
            best.consider(base, None);
            continue;
        }
        // A loaded delta of this sequence on a later base proves that a
        // newer base exists, whose listings no loaded CRL holds: this base
        // is then read with no delta, and stands alone never (RFC 5280
        // §6.3.3 (c) reads a base with the current delta only).
        let outdated = deltas.iter().any(|d| {
            d.base_sequence() == base.identity()
                && matches!(d.kind(), CrlKind::Delta { base: from } if Some(from) > base.number())
        });
        let applicable = deltas
            .iter()
            .copied()
            .filter(|d| !outdated && d.applies_to(base))
            .max_by(|a, b| a.number().cmp(&b.number()));
        match applicable {
            Some(delta) => {
                let removed = delta.delta_listing(serial) == DeltaListing::Removed;
                if base.is_revoked(serial) && !removed {
                    return Lookup::Revoked(base);
                }
                // The delta is the newer word: it decides, and its
                // thisUpdate is the answer's age.
                best.consider(delta, Some(base));
            }
            None => {
                if base.is_revoked(serial) {
                    return Lookup::Revoked(base);
                }
                let superseded = !outdated
                    && deltas.iter().any(|d| {
                        d.base_sequence() == base.identity()
                            && d.number().is_some_and(|n| Some(n) <= base.number())
                            && d.check_usable(now, grace_seconds).is_ok()
                    });
                if superseded {
                    best.consider(base, None);
                } else if !matches!(best.not_decided, Some(NotDecided::Stale(_))) {
                    best.not_decided = Some(NotDecided::NoDelta {
                        base: base.number().cloned(),
                    });
                }
            }
        }
    }
    match best.usable {
        Some(crl) => Lookup::NotRevoked(crl),
        None => Lookup::Unavailable(best.not_decided.unwrap_or(NotDecided::Uncovered(miss))),
    }
}

/// The newest usable answer so far, and why none was, if none was.
struct Best<'a> {
    usable: Option<&'a VerifiedCrl>,
    not_decided: Option<NotDecided>,
    now: UnixTime,
    grace_seconds: i64,
}

impl<'a> Best<'a> {
    /// Counts `crl` as deciding if it, and `also` (the base a delta is read
    /// with), are within `nextUpdate` plus grace.
    fn consider(&mut self, crl: &'a VerifiedCrl, also: Option<&VerifiedCrl>) {
        let fresh = crl
            .check_usable(self.now, self.grace_seconds)
            .and_then(|()| also.map_or(Ok(()), |d| d.check_usable(self.now, self.grace_seconds)));
        match fresh {
            Ok(()) => {
                if self
                    .usable
                    .is_none_or(|u| u.this_update() < crl.this_update())
                {
                    self.usable = Some(crl);
                }
            }
            Err(e) => self.not_decided = Some(NotDecided::Stale(e)),
        }
    }
}
