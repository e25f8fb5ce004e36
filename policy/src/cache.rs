//! The refresh state of one cached resource (a CRL or the truststore). Pure:
//! the caller does the fetching and passes the time in.
//!
//! A slot records why its last refresh failed, in the error type its owner
//! chooses (`E`): the core's refusals of a candidate are mtls-x509's and
//! mtls-policy's, and an edge that fetches adds its own failures, so it
//! keeps them in a type of its own that either converts into.
//!
//! Invariants: a value only ever replaces the current one after it verified;
//! a failure never removes the current value; an unchanged source (304, same
//! version) is not downloaded again, and the same content served again (the
//! same truststore bytes, or a CRL with the same signature) is not installed
//! again.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::Arc;

use crate::source::Validator;
use mtls_x509::crl::{CrlIdentity, CrlPosition, VerifiedCrl};
use mtls_x509::error::Error;
use mtls_x509::time::UnixTime;

/// When to ask the source again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// After a successful check.
    pub refresh_seconds: i64,
    /// After a failed one.
    pub retry_seconds: i64,
}

/// A cached value with a known expiry, such as a CRL's `nextUpdate`: once
/// past it, a newer version should exist, so we ask sooner than the schedule.
pub trait Expiring {
    /// When the source should have published a newer version, if ever.
    fn expected_update(&self) -> Option<UnixTime>;
}

/// The most CRL sequences one source's slot keeps (see [`CrlSet`]).
pub const MAX_SEQUENCES_PER_SOURCE: usize = 4;

/// What one CRL source has served: the newest verified CRL of each sequence
/// ([`CrlIdentity`]) it served, newest install last, at most
/// [`MAX_SEQUENCES_PER_SOURCE`].
///
/// A source that switches to another sequence (another CA's CRL, another
/// key's, another partition's) adds to the set rather than replacing: the
/// CRL it served before stays in use for its own certificates until
/// `nextUpdate` plus grace, exactly as when the source fails. So a hostile
/// or misconfigured source that serves some other valid CRL cannot lock a
/// CA's devices out any sooner than one that serves nothing.
#[derive(Clone, Debug, Default)]
pub struct CrlSet {
    crls: Vec<Arc<VerifiedCrl>>,
}

impl CrlSet {
    /// The CRLs, oldest install first.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<VerifiedCrl>> {
        self.crls.iter()
    }

    /// The CRL installed last.
    #[must_use]
    pub fn newest(&self) -> Option<&Arc<VerifiedCrl>> {
        self.crls.last()
    }

    /// The CRL of sequence `identity`, if held.
    #[must_use]
    pub fn get(&self, identity: CrlIdentity) -> Option<&Arc<VerifiedCrl>> {
        self.crls.iter().find(|c| c.identity() == identity)
    }

    /// This set with `crl` as the newest of its sequence, without the CRLs
    /// past `nextUpdate` plus `grace_seconds` at `now`, and without the
    /// oldest beyond [`MAX_SEQUENCES_PER_SOURCE`].
    fn with(&self, crl: VerifiedCrl, now: UnixTime, grace_seconds: i64) -> Self {
        let mut crls: Vec<Arc<VerifiedCrl>> = self
            .crls
            .iter()
            .filter(|c| c.identity() != crl.identity())
            .filter(|c| c.check_usable(now, grace_seconds).is_ok())
            .cloned()
            .collect();
        crls.push(Arc::new(crl));
        let excess = crls.len().saturating_sub(MAX_SEQUENCES_PER_SOURCE);
        crls.drain(..excess);
        Self { crls }
    }
}

impl Expiring for CrlSet {
    /// The newest CRL's `nextUpdate`: the source should have replaced it by then.
    fn expected_update(&self) -> Option<UnixTime> {
        self.newest().map(|c| c.next_update())
    }
}

impl Expiring for crate::denylist::DenyList {
    /// The list has no expiry of its own: its freshness is the refresh
    /// schedule's.
    fn expected_update(&self) -> Option<UnixTime> {
        None
    }
}

impl Expiring for mtls_x509::truststore::TrustStore {
    fn expected_update(&self) -> Option<UnixTime> {
        None
    }
}

/// One cached resource and its refresh bookkeeping; `E` is what a failed
/// refresh is recorded as.
#[derive(Debug)]
pub struct Slot<T, E> {
    current: Option<Arc<T>>,
    validator: Option<Validator>,
    /// What names the current content (see [`Slot::holds`]).
    fingerprint: Option<[u8; 32]>,
    last_attempt: Option<UnixTime>,
    /// When the source last confirmed the current value (an install, a 304,
    /// the same content again).
    confirmed: Option<UnixTime>,
    last_error: Option<E>,
    installs: u64,
}

impl<T, E> Default for Slot<T, E> {
    fn default() -> Self {
        Self {
            current: None,
            validator: None,
            fingerprint: None,
            last_attempt: None,
            confirmed: None,
            last_error: None,
            installs: 0,
        }
    }
}

impl<T: Expiring, E> Slot<T, E> {
    /// The value in use, if any has ever verified.
    #[must_use]
    pub fn current(&self) -> Option<&Arc<T>> {
        self.current.as_ref()
    }

    /// The validator of the current value, for a conditional request.
    #[must_use]
    pub fn validator(&self) -> Option<&Validator> {
        self.current.as_ref().and(self.validator.as_ref())
    }

    /// The most recent failure, cleared by the next success.
    #[must_use]
    pub fn last_error(&self) -> Option<&E> {
        self.last_error.as_ref()
    }

    /// Whether it is time to ask the source again.
    #[must_use]
    pub fn is_due(&self, now: UnixTime, schedule: Schedule) -> bool {
        let Some(last) = self.last_attempt else {
            return true;
        };
        let since = now.seconds_since(last);
        if since < 0 {
            // The clock stepped back (NTP): never let that postpone a refresh.
            return true;
        }
        if self.last_error.is_some() || self.current.is_none() {
            return since >= schedule.retry_seconds;
        }
        let overdue = self
            .current
            .as_ref()
            .and_then(|c| c.expected_update())
            .is_some_and(|t| now > t);
        since >= schedule.refresh_seconds || (overdue && since >= schedule.retry_seconds)
    }

    /// Whether freshly fetched content is the one already in use: the
    /// SHA-256 of a truststore's bytes, or a CRL's
    /// [`VerifiedCrl::fingerprint`].
    #[must_use]
    pub fn holds(&self, fingerprint: &[u8; 32]) -> bool {
        self.current.is_some() && self.fingerprint.as_ref() == Some(fingerprint)
    }

    /// The source confirmed the current value (HTTP 304, same version or same content).
    pub fn confirm(&mut self, now: UnixTime, validator: Option<Validator>) {
        self.last_attempt = Some(now);
        if self.current.is_some() {
            self.confirmed = Some(now);
        }
        self.last_error = None;
        if let Some(v) = validator {
            self.validator = Some(v);
        }
    }

    /// The fetch or the verification failed: keep the current value.
    pub fn fail(&mut self, now: UnixTime, error: E) {
        self.last_attempt = Some(now);
        self.last_error = Some(error);
    }

    /// A verified value replaces the current one.
    pub fn install(
        &mut self,
        now: UnixTime,
        value: T,
        validator: Validator,
        fingerprint: [u8; 32],
    ) {
        self.current = Some(Arc::new(value));
        self.validator = Some(validator);
        self.fingerprint = Some(fingerprint);
        self.last_attempt = Some(now);
        self.confirmed = Some(now);
        self.last_error = None;
        self.installs += 1;
    }

    /// When the source last confirmed the value in use: its install, or a
    /// later 304 or identical body. A failed or refused refresh leaves it.
    #[must_use]
    pub fn confirmed(&self) -> Option<UnixTime> {
        self.current.as_ref().and(self.confirmed)
    }

    /// How many times a new value was verified and installed (parses that
    /// succeeded). An unchanged source does not add to it.
    #[must_use]
    pub fn installs(&self) -> u64 {
        self.installs
    }
}

/// The most CRL sequences a [`RollbackGuard`] holds at once, whatever the
/// configuration: a partitioned CA publishes dozens, key rollovers add some.
pub const MAX_CRL_SEQUENCES: usize = 4096;

/// The newest position seen of each CRL sequence ([`CrlIdentity`]: issuer,
/// key and scope), whichever source it came from. A CRL older than that is a
/// rollback, even from another source: an attacker (or a stale mirror) must
/// not be able to undo a revocation by serving an older, validly signed CRL.
/// Positions are never compared across identities, so one CA's CRL numbers,
/// or one partition's, never hold back another's.
///
/// **A mark is never forgotten** for the life of the instance. An evicting
/// cache would let a source that serves enough other validly signed
/// sequences (a partitioned CA publishes them by the dozen) push a sequence
/// out and then replay its CRL from before a revocation; and forgetting a
/// mark once its newest CRL expires is unsound too, since RFC 5280 does not
/// stop an older CRL from carrying a later `nextUpdate`. When `capacity`
/// marks are held, a new sequence is refused instead
/// ([`Error::CrlSequenceLimit`]): fail closed, counted as a rollback refusal.
#[derive(Debug)]
pub struct RollbackGuard {
    marks: HashMap<CrlIdentity, CrlPosition>,
    capacity: usize,
}

impl RollbackGuard {
    /// A guard holding up to `capacity` sequences (allocated as they come).
    #[must_use]
    pub fn new(capacity: NonZeroUsize) -> Self {
        Self {
            marks: HashMap::new(),
            capacity: capacity.get(),
        }
    }

    /// Admits `crl` if it is not older than the newest CRL of its sequence,
    /// and then remembers it as the newest.
    pub fn admit(&mut self, crl: &VerifiedCrl) -> Result<(), Error> {
        self.admit_position(crl.identity(), crl.position())
    }

    fn admit_position(
        &mut self,
        identity: CrlIdentity,
        position: CrlPosition,
    ) -> Result<(), Error> {
        if let Some(newest) = self.marks.get_mut(&identity) {
            position.check_not_older_than(newest)?;
            *newest = position;
            return Ok(());
        }
        if self.marks.len() >= self.capacity {
            return Err(Error::CrlSequenceLimit {
                limit: self.capacity,
            });
        }
        self.marks.insert(identity, position);
        Ok(())
    }

    /// How many sequences it holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.marks.len()
    }

    /// Whether it holds none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.marks.is_empty()
    }
}

/// What became of a CRL offered to a slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offered {
    /// It verified, was not a rollback, and is now in use.
    Installed,
    /// It is the CRL already in use for its sequence (the same signature):
    /// the source is confirmed, nothing is replaced.
    Unchanged,
}

impl<E: From<Error>> Slot<CrlSet, E> {
    /// Offers a verification result. An error, or a CRL older than the
    /// newest of its sequence (a rollback, judged by `guard`), is recorded as
    /// a failure (as an `E`) and returned, and the current CRLs stay. The
    /// CRL already in use, served again, confirms the source. Any other CRL
    /// that verifies joins the slot's [`CrlSet`], replacing the one of its
    /// sequence.
    pub fn offer_crl(
        &mut self,
        now: UnixTime,
        candidate: Result<VerifiedCrl, Error>,
        validator: Validator,
        guard: &mut RollbackGuard,
        grace_seconds: i64,
    ) -> Result<Offered, Error> {
        let checked = candidate.and_then(|crl| {
            // The slot's own CRL counts too, even if the guard forgot it.
            if let Some(cached) = self.current.as_ref().and_then(|s| s.get(crl.identity())) {
                if cached.fingerprint() == crl.fingerprint() {
                    return Ok(None);
                }
                crl.position().check_not_older_than(&cached.position())?;
            }
            guard.admit(&crl)?;
            Ok(Some(crl))
        });
        match checked {
            Ok(None) => {
                self.confirm(now, Some(validator));
                Ok(Offered::Unchanged)
            }
            Ok(Some(crl)) => {
                let fingerprint = crl.fingerprint();
                let set = self
                    .current
                    .as_deref()
                    .map_or_else(CrlSet::default, Clone::clone)
                    .with(crl, now, grace_seconds);
                self.install(now, set, validator, fingerprint);
                Ok(Offered::Installed)
            }
            Err(e) => {
                self.fail(now, E::from(e.clone()));
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests;
