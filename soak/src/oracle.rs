//! The oracle: from what the schedule did and when, the right answer for
//! every request, and the documented windows within which another answer is
//! explained (docs/configuration.md, "Revocation latency"; `crl_grace_seconds`,
//! `deny_list_max_age_seconds`).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};

use crate::clients::Answer;
use crate::world::{Revocation, Timing};

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
pub(crate) enum Source {
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
pub(crate) struct Episode {
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
    /// A certificate from outside the truststore got past the handshake.
    HandshakeAccepted,
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
            Self::HandshakeAccepted => "handshake_accepted",
        }
    }

    pub(crate) fn is_failure(self) -> bool {
        matches!(
            self,
            Self::WrongAllow
                | Self::WrongDeny
                | Self::Unexplained5xx
                | Self::Unanswered
                | Self::HandshakeAccepted
        )
    }
}

/// One devices CRL the CA published.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Published {
    pub at: f64,
    pub next_update: f64,
    /// Late devices revoked when it was made (those of them revoked on the
    /// CRL path are listed).
    pub late_revoked: usize,
}

/// What a process's log says it loaded: when, from which source, and the
/// CRL's `nextUpdate`; seconds since the start.
#[derive(Clone, Debug)]
pub(crate) struct Load {
    pub process: String,
    pub at: f64,
    pub source: String,
    pub next_update: f64,
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
    /// Devices CRLs published: when, its exact `nextUpdate`, and how many
    /// late devices had been revoked when it was made; seconds since the start.
    pub devices_crls: Vec<Published>,
    /// Faults by kind (every injection, episodes and publications alike).
    pub injected: BTreeMap<&'static str, u64>,
    /// Authorizer processes: (label, started, ready), seconds since the start.
    pub starts: Vec<(String, f64, f64)>,
}

impl Timeline {
    fn lock(&self) -> std::sync::MutexGuard<'_, Events> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn episode(&self, e: Episode) {
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

    pub(crate) fn devices_crl(&self, p: Published) {
        self.lock().devices_crls.push(p);
    }

    pub fn snapshot(&self) -> Events {
        self.lock().clone()
    }
}

/// Judges requests against a snapshot of the timeline.
#[derive(Debug)]
pub(crate) struct Oracle {
    pub events: Events,
    pub timing: Timing,
    /// Which authorizer process decided each request (by API request id),
    /// and whether it allowed, from the decision lines.
    pub deciders: HashMap<String, (String, bool)>,
    /// Every CRL each process loaded (`crl_loaded` lines), in order.
    pub loads: Vec<Load>,
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
    /// publication).
    fn stale_spans(&self) -> Vec<(f64, f64)> {
        let crls = &self.events.devices_crls;
        crls.iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let stale = p.next_update + self.timing.crl_grace;
                let until = crls.get(i + 1).map_or(f64::INFINITY, |n| n.at);
                (stale < until).then_some((stale, until))
            })
            .collect()
    }

    /// The processes that ran as `label` during `[from, to]` and may have
    /// decided a request then: the one running at `from`, and any started
    /// before `to` (a process recycled while a request waited for an idle
    /// one, or after it decided). Each as (spawned, the next one's spawn).
    fn candidates(&self, label: &str, from: f64, to: f64) -> Vec<(f64, f64)> {
        let mut spawns: Vec<f64> = self
            .events
            .starts
            .iter()
            .filter(|(l, _, _)| l == label)
            .map(|(_, spawned, _)| *spawned)
            .collect();
        spawns.sort_by(f64::total_cmp);
        let running = spawns
            .iter()
            .copied()
            .filter(|s| *s <= from)
            .fold(f64::NEG_INFINITY, f64::max);
        let mut out: Vec<(f64, f64)> = Vec::new();
        for (i, s) in spawns.iter().enumerate() {
            if *s >= running && *s <= to {
                let next = spawns.get(i + 1).copied().unwrap_or(f64::INFINITY);
                out.push((*s, next));
            }
        }
        if out.is_empty() {
            out.push((running, f64::INFINITY));
        }
        out
    }

    /// For each process that may have decided a request of `[from, to]` as
    /// `label`: until when the CRL it held at `to` (the latest it loaded from
    /// a source ending in `source`) was usable, `nextUpdate` + grace; `None`
    /// where it held none.
    fn held_until(&self, label: &str, source: &str, from: f64, to: f64) -> Vec<Option<f64>> {
        self.candidates(label, from, to)
            .into_iter()
            .map(|(spawned, replaced)| {
                self.loads
                    .iter()
                    .rfind(|l| {
                        l.process == label
                            && l.source.ends_with(source)
                            && l.at >= spawned
                            && l.at < replaced
                            && l.at <= to
                    })
                    .map(|l| l.next_update + self.timing.crl_grace)
            })
            .collect()
    }

    /// `crl_unavailable` is due for a device in good standing only when the
    /// deciding process holds no usable CRL (docs/configuration.md,
    /// "Revocation latency": a failure never removes the current CRL, and a
    /// CRL is usable until `nextUpdate` + grace) and could not have fetched one:
    /// - by the process's own log, its devices (or root) CRL was missing or
    ///   past grace at the end of the request;
    /// - and that source failed, or the CA had stopped publishing, within the
    ///   last `nextUpdate` − `thisUpdate` + grace + 2 s (the CRL it held was
    ///   that old at most before it expired).
    ///
    /// Not joined to a decision line: the CA stopped publishing (chained
    /// through the CRL faults that follow), or a CRL fault was in force.
    fn crl_unavailable_explained(&self, r: &Request) -> bool {
        let t = &self.timing;
        let lookback = t.crl_validity + t.crl_grace + 2.0;
        let stale = || {
            self.stale_spans().into_iter().any(|span| {
                r.end >= span.0 && r.start <= self.chained_until(span, &[Source::DevicesCrl])
            })
        };
        let Some((process, _)) = r.request_id.as_ref().and_then(|id| self.deciders.get(id)) else {
            return stale()
                || self.trouble(Source::DevicesCrl, r.start, r.end)
                || self.trouble(Source::RootCrl, r.start, r.end);
        };
        // Any process that may have decided it held none.
        let expired = |source: &str| {
            self.held_until(process, source, r.start, r.end)
                .into_iter()
                .any(|held| held.is_none_or(|until| until <= r.end + 1.0))
        };
        let failed = |sources: &[Source]| {
            self.events.episodes.iter().any(|e| {
                sources.contains(&e.source) && e.start <= r.end && e.end >= r.start - lookback
            })
        };
        (expired("/devices.crl")
            && (failed(&[Source::DevicesCrl, Source::CrlPublication]) || stale()))
            || (expired("/root.crl") && failed(&[Source::RootCrl]))
    }

    /// An Allow decided while the deciding process held no usable devices or
    /// root CRL (by its own log) is a fail-open: wrong, whatever the window.
    fn allowed_without_a_usable_crl(&self, r: &Request) -> bool {
        let Some((process, _)) = r.request_id.as_ref().and_then(|id| self.deciders.get(id)) else {
            return false;
        };
        // Every process that may have decided it held none; a second of slack
        // for the log's and the CRL's clocks.
        ["/devices.crl", "/root.crl"].iter().any(|source| {
            self.held_until(process, source, r.start, r.end)
                .into_iter()
                .all(|held| held.is_none_or(|until| until + 1.0 < r.start))
        })
    }

    /// Until when a late device revoked on the CRL path may be allowed: the
    /// newest CRL that does not list it is usable until its `nextUpdate` +
    /// grace (a process may hold it, or be served it again by a rollback).
    fn crl_window_end(&self, late: usize) -> f64 {
        self.events
            .devices_crls
            .iter()
            .filter(|p| p.late_revoked <= late)
            .map(|p| p.next_update + self.timing.crl_grace + 1.0)
            .fold(f64::NEG_INFINITY, f64::max)
    }

    /// Until when a late device revoked on the deny-list path may be allowed:
    /// no request is decided with a list fetched longer ago than
    /// `deny_list_refresh_seconds` while the source answers (+1 s: ages are
    /// whole seconds; + the fetch's timeout), or than
    /// `deny_list_max_age_seconds` while it fails.
    fn deny_window_end(&self, done: f64, r: &Request) -> f64 {
        let t = &self.timing;
        let failing = self.events.episodes.iter().any(|e| {
            e.source == Source::DenyList
                && e.end >= done - t.deny_max_age - 1.0
                && e.start <= r.start
        });
        let age = if failing {
            t.deny_max_age
        } else {
            t.deny_refresh
        };
        done + age + 1.0 + t.fetch_timeout + 0.5
    }

    pub(crate) fn judge(&self, r: &Request) -> Verdict {
        // The decision line, when there is one, says what the authorizer decided,
        // whatever became of the request after it.
        let decided_allow = r
            .request_id
            .as_ref()
            .and_then(|id| self.deciders.get(id))
            .is_some_and(|(_, allowed)| *allowed);
        let allowed = r.answer.is_allow() || decided_allow;
        if r.kind == Kind::Untrusted {
            return match &r.answer {
                Answer::Unanswered(_) => Verdict::Right,
                _ if allowed => Verdict::WrongAllow,
                _ => Verdict::HandshakeAccepted,
            };
        }
        if r.kind.always_denied() {
            return match &r.answer {
                _ if allowed => Verdict::WrongAllow,
                Answer::Denied { .. } => Verdict::Right,
                Answer::Unanswered(_) => Verdict::Unanswered,
                _ => Verdict::Unexplained5xx,
            };
        }
        if allowed && self.allowed_without_a_usable_crl(r) {
            return Verdict::WrongAllow;
        }
        // Good, or a late device, revoked from `began` on by its path.
        if let Some(late) = r.late
            && let Some((began, done)) = self.events.revoked.get(&late).copied()
        {
            let path = Revocation::of(late);
            let crl_end = if path.on_crl() {
                self.crl_window_end(late)
            } else {
                f64::INFINITY
            };
            let deny_end = if path.on_deny_list() {
                self.deny_window_end(done, r)
            } else {
                f64::INFINITY
            };
            // An Allow needs every path to miss it: it is possible only while
            // both windows are open.
            let window_end = crl_end.min(deny_end);
            match &r.answer {
                _ if allowed && r.start >= window_end => return Verdict::WrongAllow,
                _ if allowed && r.start >= began => return Verdict::AllowInWindow,
                Answer::Denied { reason }
                    if r.end >= began
                        && ((reason == "revoked" && path.on_crl())
                            || (reason == "deny_listed" && path.on_deny_list())) =>
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
