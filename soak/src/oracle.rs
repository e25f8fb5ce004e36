//! The oracle: from what the schedule did and when, the right answer for
//! every request, and the documented windows within which another answer is
//! explained (docs/configuration.md, "Revocation latency"; `crl_grace_seconds`,
//! `deny_list_max_age_seconds`).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};

use crate::clients::Answer;
use crate::world::Timing;

/// Who sent a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// Never revoked; writes readings and reads them back.
    Good,
    /// On every devices CRL, never on the deny list.
    CrlRevoked,
    /// On every deny list, never on a CRL.
    DenyListed,
    /// Under a CA the root's CRL lists.
    CaRevoked,
    /// From a CA in the truststore that no issuer entry accepts.
    WrongIssuer,
    /// From a CA outside the truststore: the handshake must fail.
    Untrusted,
    /// A device of the pool revoked one by one during the run.
    Late,
    /// A garbage or malformed event, straight to an authorizer instance.
    Garbage,
}

impl Kind {
    pub const ALL: [Self; 8] = [
        Self::Good,
        Self::CrlRevoked,
        Self::DenyListed,
        Self::CaRevoked,
        Self::WrongIssuer,
        Self::Untrusted,
        Self::Late,
        Self::Garbage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Good => "good",
            Self::CrlRevoked => "crl_revoked",
            Self::DenyListed => "deny_listed",
            Self::CaRevoked => "ca_revoked",
            Self::WrongIssuer => "wrong_issuer",
            Self::Untrusted => "untrusted",
            Self::Late => "late",
            Self::Garbage => "garbage",
        }
    }

    /// Every answer but a Deny is wrong for these, whatever the window.
    fn always_denied(self) -> bool {
        !matches!(self, Self::Good | Self::Late)
    }
}

/// Which part of the world a fault hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// The issuers' CRLs (HTTP).
    DevicesCrl,
    /// The devices CA stops publishing for a while (its CRL goes stale); the
    /// oracle reads staleness from the publications, not from this.
    CrlPublication,
    /// The root's CRL for CA revocation (S3).
    RootCrl,
    /// The deny list (S3).
    DenyList,
    /// The truststore (S3).
    Truststore,
    /// The api-handler's table.
    DynamoDb,
    /// The functions' processes.
    Lifecycle,
}

/// One fault, from when it was set to when it was cleared (seconds since the start).
#[derive(Clone, Debug)]
pub struct Episode {
    pub source: Source,
    pub kind: &'static str,
    /// What it hit: a source, or the process recycled (`authorizer#2`).
    pub target: String,
    pub start: f64,
    pub end: f64,
}

/// One request and its answer.
#[derive(Clone, Debug)]
pub struct Request {
    pub kind: Kind,
    /// The device's name, or the garbage event's variant.
    pub subject: String,
    /// For [`Kind::Late`]: the device's index in the pool.
    pub late: Option<usize>,
    pub method: &'static str,
    pub path: &'static str,
    pub start: f64,
    pub end: f64,
    pub answer: Answer,
    /// The gateway's request id, to find the decision line.
    pub request_id: Option<String>,
}

/// The oracle's judgment of one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    Right,
    /// An Allow of a revoked device inside its documented window.
    AllowInWindow,
    /// A Deny of a device in good standing that a fault in force explains.
    DenyInWindow,
    /// The handler's "could not store" while DynamoDB failed.
    StoreFailedInWindow,
    WrongAllow,
    WrongDeny,
    Unexplained5xx,
    /// No answer, where one was due.
    Unanswered,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Right => "right",
            Self::AllowInWindow => "allow_in_window",
            Self::DenyInWindow => "deny_in_window",
            Self::StoreFailedInWindow => "store_failed_in_window",
            Self::WrongAllow => "wrong_allow",
            Self::WrongDeny => "wrong_deny",
            Self::Unexplained5xx => "unexplained_5xx",
            Self::Unanswered => "unanswered",
        }
    }

    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Self::WrongAllow | Self::WrongDeny | Self::Unexplained5xx | Self::Unanswered
        )
    }
}

/// What the schedule did, in order.
#[derive(Debug, Default)]
pub struct Timeline {
    inner: Mutex<Events>,
}

#[derive(Debug, Default, Clone)]
pub struct Events {
    pub episodes: Vec<Episode>,
    /// Late device → (when its revocation began, when both sources had it).
    pub revoked: HashMap<usize, (f64, f64)>,
    /// Devices CRLs published: (when, its nextUpdate), seconds since the start.
    pub devices_crls: Vec<(f64, f64)>,
    /// Faults by kind (every injection, episodes and publications alike).
    pub injected: BTreeMap<&'static str, u64>,
    /// Authorizer processes: (label, started, ready), seconds since the start.
    pub starts: Vec<(String, f64, f64)>,
}

impl Timeline {
    fn lock(&self) -> std::sync::MutexGuard<'_, Events> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn episode(&self, e: Episode) {
        let mut ev = self.lock();
        *ev.injected.entry(e.kind).or_default() += 1;
        ev.episodes.push(e);
    }

    pub fn count(&self, kind: &'static str) {
        *self.lock().injected.entry(kind).or_default() += 1;
    }

    pub fn revoking(&self, late: usize, at: f64) {
        self.lock().revoked.insert(late, (at, f64::INFINITY));
    }

    pub fn revoked(&self, late: usize, at: f64) {
        if let Some(r) = self.lock().revoked.get_mut(&late) {
            r.1 = at;
        }
    }

    pub fn devices_crl(&self, at: f64, next_update: f64) {
        self.lock().devices_crls.push((at, next_update));
    }

    pub fn snapshot(&self) -> Events {
        self.lock().clone()
    }
}

/// Judges requests against a snapshot of the timeline.
#[derive(Debug)]
pub struct Oracle {
    pub events: Events,
    pub timing: Timing,
    /// Which authorizer process decided each request (by API request id),
    /// from the decision lines.
    pub deciders: HashMap<String, String>,
}

impl Oracle {
    /// A fault on `source` was in force at some point of `[from, to]`, or ended
    /// less than `after_fault` before `from`.
    fn trouble(&self, source: Source, from: f64, to: f64) -> bool {
        let after = self.timing.after_fault();
        self.events
            .episodes
            .iter()
            .any(|e| e.source == source && e.start <= to && e.end + after >= from)
    }

    /// Until when a process may be without a usable CRL after an `anchor`
    /// (from, to) during which it had none: the source faults that follow
    /// keep it without one while each starts before the previous one's
    /// after-effects end (a refresh needs the source healthy for a moment).
    fn chained_until(&self, anchor: (f64, f64), sources: &[Source]) -> f64 {
        let after = self.timing.after_fault();
        let mut episodes: Vec<&Episode> = self
            .events
            .episodes
            .iter()
            .filter(|e| sources.contains(&e.source))
            .collect();
        episodes.sort_by(|a, b| a.start.total_cmp(&b.start));
        let mut until = anchor.1 + after;
        for e in episodes {
            if e.start <= until && e.end + after >= anchor.0 {
                until = until.max(e.end + after);
            }
        }
        until
    }

    /// The spans during which the devices CA's newest CRL was past
    /// `nextUpdate` + grace (it stopped publishing): (stale from, next
    /// publication). A second of slack for the refresh's own time
    /// (`nextUpdate` is recorded a second early already, for whole seconds).
    fn stale_spans(&self) -> Vec<(f64, f64)> {
        let crls = &self.events.devices_crls;
        crls.iter()
            .enumerate()
            .filter_map(|(i, (_, next))| {
                let stale = next + self.timing.crl_grace - 1.0;
                let until = crls.get(i + 1).map_or(f64::INFINITY, |(at, _)| *at);
                (stale < until).then_some((stale, until))
            })
            .collect()
    }

    /// `crl_unavailable` is due for a device in good standing only when no
    /// usable CRL can be in hand (docs/configuration.md, "Revocation latency"):
    /// - the CA stopped publishing (its newest CRL is past `nextUpdate` +
    ///   grace), until a refresh after it resumed could succeed;
    /// - or the deciding process started while a CRL source failed, until a
    ///   refresh since could succeed.
    ///
    /// A process that holds a usable CRL keeps it through any fault ("a failure
    /// never removes the current CRL"): a fault alone explains nothing.
    fn crl_unavailable_explained(&self, r: &Request) -> bool {
        let both = [Source::DevicesCrl, Source::RootCrl];
        let stale = self.stale_spans().into_iter().any(|span| {
            r.end >= span.0 && r.start <= self.chained_until(span, &[Source::DevicesCrl])
        });
        if stale {
            return true;
        }
        let Some(process) = r.request_id.as_ref().and_then(|id| self.deciders.get(id)) else {
            // Not joined to its decision line: judged by the faults alone.
            return self.trouble(Source::DevicesCrl, r.start, r.end)
                || self.trouble(Source::RootCrl, r.start, r.end);
        };
        // The process's own start: spawned, then its init (which loads the
        // CRLs) until it first asked for work; the latest start ready before
        // the request (an init that failed is started again).
        let Some((_, spawned, ready)) = self
            .events
            .starts
            .iter()
            .filter(|(label, _, ready)| label == process && *ready <= r.start)
            .max_by(|a, b| a.2.total_cmp(&b.2))
        else {
            return false;
        };
        // Only if a fault touched its init: otherwise it loaded the CRLs.
        let after = self.timing.after_fault();
        let touched =
            self.events.episodes.iter().any(|e| {
                both.contains(&e.source) && e.start <= *ready && e.end + after >= *spawned
            });
        touched && r.start <= self.chained_until((*spawned, *ready), &both)
    }

    pub fn judge(&self, r: &Request) -> Verdict {
        let t = &self.timing;
        if r.kind == Kind::Untrusted {
            return match &r.answer {
                Answer::Unanswered(_) => Verdict::Right,
                a if a.is_allow() => Verdict::WrongAllow,
                _ => Verdict::Right,
            };
        }
        if r.kind.always_denied() {
            return match &r.answer {
                Answer::Denied { .. } => Verdict::Right,
                a if a.is_allow() => Verdict::WrongAllow,
                Answer::Unanswered(_) => Verdict::Unanswered,
                _ => Verdict::Unexplained5xx,
            };
        }
        // Good, or a late device: revoked from `done` on (both sources have it).
        let revocation = r.late.and_then(|i| self.events.revoked.get(&i).copied());
        if let Some((began, done)) = revocation {
            // The deny list decides last: no request is decided with a list older
            // than deny_list_max_age_seconds (the request waits for its refresh).
            // One second of slack for the write's own time and clocks.
            let window_end = done + t.deny_max_age.max(t.deny_refresh) + 1.0;
            match &r.answer {
                a if a.is_allow() && r.start >= window_end => return Verdict::WrongAllow,
                a if a.is_allow() && r.start >= began => return Verdict::AllowInWindow,
                Answer::Denied { reason }
                    if r.end >= began && (reason == "revoked" || reason == "deny_listed") =>
                {
                    return Verdict::Right;
                }
                _ => {}
            }
        }
        match &r.answer {
            Answer::Allowed { .. } => Verdict::Right,
            Answer::Denied { reason } => {
                let explained = match reason.as_str() {
                    "crl_unavailable" => self.crl_unavailable_explained(r),
                    "deny_list_unavailable" => self.trouble(Source::DenyList, r.start, r.end),
                    _ => false,
                };
                if explained {
                    Verdict::DenyInWindow
                } else {
                    Verdict::WrongDeny
                }
            }
            Answer::StoreFailed if self.trouble(Source::DynamoDb, r.start, r.end) => {
                Verdict::StoreFailedInWindow
            }
            Answer::Unanswered(_) => Verdict::Unanswered,
            _ => Verdict::Unexplained5xx,
        }
    }
}
