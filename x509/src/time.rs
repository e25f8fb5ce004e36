//! Time as a value. The core never reads the clock: callers pass a [`UnixTime`].

use std::fmt;

/// Seconds since the Unix epoch (UTC). Certificates and CRLs carry
/// second-precision times (RFC 5280 §4.1.2.5), so seconds are exact enough.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(pub i64);

impl UnixTime {
    /// This time moved by `seconds` (negative moves back), saturating at the ends.
    #[must_use]
    pub fn offset(self, seconds: i64) -> Self {
        Self(self.0.saturating_add(seconds))
    }

    /// Whole seconds from `earlier` to `self` (negative if `earlier` is later).
    #[must_use]
    pub fn seconds_since(self, earlier: Self) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    /// The current wall-clock time. Only adapters (the Lambda wiring) call this.
    #[must_use]
    pub fn now() -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        Self(secs)
    }

    /// From a certificate or CRL time. Crate-private, so x509-parser's type
    /// stays out of the public API.
    pub(crate) fn from_asn1(t: x509_parser::time::ASN1Time) -> Self {
        Self(t.timestamp())
    }
}

impl fmt::Display for UnixTime {
    /// RFC 3339 in UTC, for logs and error messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(86_400);
        let rem = self.0.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            rem / 3600,
            (rem % 3600) / 60,
            rem % 60
        )
    }
}

impl UnixTime {
    /// Parses the form [`Display`](fmt::Display) writes, and only that:
    /// `YYYY-MM-DDTHH:MM:SSZ`, in UTC, with a real calendar date. Documents
    /// written by operators' tools (the deny list) use it; accepting offsets or
    /// fractions would only add ways for two readers to disagree.
    #[must_use]
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        if b.len() != 20
            || b.get(4) != Some(&b'-')
            || b.get(7) != Some(&b'-')
            || b.get(10) != Some(&b'T')
            || b.get(13) != Some(&b':')
            || b.get(16) != Some(&b':')
            || b.get(19) != Some(&b'Z')
        {
            return None;
        }
        let num = |from: usize, to: usize| -> Option<i64> {
            let digits = text.get(from..to)?;
            if !digits.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            digits.parse().ok()
        };
        let (y, m, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
        let (hh, mm, ss) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
        if !(1..=12).contains(&m) || d < 1 || hh > 23 || mm > 59 || ss > 59 {
            return None;
        }
        let days = days_from_civil(y, m, d);
        // A day past the month's end (2026-02-30) would land in the next
        // month: refuse it by reading the date back.
        let (y2, m2, d2) = civil_from_days(days);
        if (y2, i64::from(m2), i64::from(d2)) != (y, m, d) {
            return None;
        }
        Some(Self(days * 86_400 + hh * 3600 + mm * 60 + ss))
    }
}

/// Howard Hinnant's civil-to-days algorithm, the inverse of [`civil_from_days`].
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    // d is 1..=31 and m is 1..=12 by construction.
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

/// A source of the current time, injected so cache expiry can be tested
/// without sleeping.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> UnixTime;
}

/// The system wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        UnixTime::now()
    }
}

/// A clock that only moves when told to: for tests and simulations, behind
/// the `test-support` feature so that no production build can hold one.
#[cfg(any(test, feature = "test-support"))]
#[derive(Debug, Default)]
pub struct ManualClock(std::sync::atomic::AtomicI64);

#[cfg(any(test, feature = "test-support"))]
impl ManualClock {
    /// A clock reading `start`.
    #[must_use]
    pub fn new(start: UnixTime) -> Self {
        Self(std::sync::atomic::AtomicI64::new(start.0))
    }

    /// Moves the clock by `seconds`.
    pub fn advance(&self, seconds: i64) {
        self.0
            .fetch_add(seconds, std::sync::atomic::Ordering::SeqCst);
    }

    /// Sets the clock.
    pub fn set(&self, t: UnixTime) {
        self.0.store(t.0, std::sync::atomic::Ordering::SeqCst);
    }
}

#[cfg(any(test, feature = "test-support"))]
impl Clock for ManualClock {
    fn now(&self) -> UnixTime {
        UnixTime(self.0.load(std::sync::atomic::Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests;
