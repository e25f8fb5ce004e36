//! OCSP for the issuer entries that configure `ocsp` (RFC 6960, with RFC
//! 5019's profile): the responder is asked over HTTP, the core verifies the
//! answer (`mtls_x509::ocsp`), and answers are cached per (CA name, CA key,
//! serial).
//!
//! - An answer is fresh until the earlier of its `nextUpdate` and
//!   `cache_seconds` after it was fetched. Past `cache_seconds` but within
//!   `nextUpdate`, it is still used while one refresh runs behind the
//!   requests (stale-while-revalidate). Past `nextUpdate`, the request waits.
//! - One exchange per (CA key, serial) at a time: the others wait for it, at
//!   most `timeout_ms`, then answer `ocsp_unavailable`.
//! - A failure is remembered for `retry_seconds`: until then, requests for
//!   that serial are `ocsp_unavailable` without asking again, so a dead
//!   responder gets at most one request per serial per period.
//! - The cache holds at most `max_entries` serials, least recently used
//!   dropped first.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lru::LruCache;

use crate::fetch::{Fetcher, OcspRequest};
use mtls_policy::config::{CdpSource, OcspHash, OcspPolicy, OcspResponders};
use mtls_policy::metrics::{OcspRecord, OcspResult, OcspUse};
use mtls_x509::error::bounded;
use mtls_x509::ocsp::{
    CertId, CertIdHash, CertStatus, MAX_RESPONSE_BYTES, OcspTimePolicy, VerifiedOcsp, request_der,
    request_get_path, verify_response,
};
use mtls_x509::serial::Serial;
use mtls_x509::signed::KeyId;
use mtls_x509::time::{Clock, UnixTime};
use mtls_x509::truststore::{CaCert, TrustStore};

use super::state::lock;
use super::telemetry::Telemetry;

/// Whose status an entry holds. A serial is unique per issuer name (RFC
/// 5280 §4.1.2.2), and a CertID names the issuer by its name and its key
/// (RFC 6960 §4.1.1): two CA names sharing a key are two issuers.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    /// The SHA-256 of the issuer name's DER.
    issuer_name: [u8; 32],
    /// The key of the CA that issued the certificate.
    ca: KeyId,
    serial: Serial,
}

/// The truststore CA that issued a certificate: the one with its issuer's
/// exact name and the key that verified it. Another CA certificate for the
/// same key under another name is another issuer, whose CertID (its name's
/// hash) and delegated responders (issued under its name) differ.
fn issuing_ca<'t>(truststore: &'t TrustStore, ca: KeyId, issuer_name: &[u8]) -> Option<&'t CaCert> {
    truststore
        .cas_with_key(ca)
        .find(|c| c.subject_der() == issuer_name)
}

/// One serial's cached answer, its last failure, and its single flight.
#[derive(Debug, Default)]
struct Entry {
    state: Mutex<EntryState>,
    /// Held by whoever asks the responder for this serial.
    asking: Arc<tokio::sync::Mutex<()>>,
}

#[derive(Debug, Default)]
struct EntryState {
    /// The last verified answer, and when it was fetched.
    answer: Option<(Arc<VerifiedOcsp>, UnixTime)>,
    /// The last failure since that answer, when, and why.
    failure: Option<(UnixTime, String)>,
}

/// What the cache holds for a serial at `now`.
enum Held {
    /// Fresh: use it.
    Fresh(Arc<VerifiedOcsp>),
    /// Within `nextUpdate` but past `cache_seconds`: use it, and refresh
    /// behind the request.
    Due(Arc<VerifiedOcsp>),
    /// A failure within `retry_seconds`, and nothing usable.
    Failed(String),
    /// Nothing usable: ask now.
    Nothing,
}

/// One issuer entry's OCSP configuration and cache.
#[derive(Debug)]
pub(super) struct OcspState {
    /// The issuer entry's name, for the lines.
    pub(super) issuer: Arc<str>,
    policy: OcspPolicy,
    entries: Mutex<LruCache<Key, Arc<Entry>>>,
}

/// What the OCSP step gave a request.
#[derive(Debug)]
pub(super) struct OcspOutcome {
    /// The verified answer to decide on, or why there is none.
    pub(super) answer: Result<Arc<VerifiedOcsp>, String>,
    /// Whether it came from the cache or an exchange during the request.
    pub(super) used: Option<OcspUse>,
}

/// What an exchange needs, cheap to clone into a background refresh.
#[derive(Clone)]
pub(super) struct OcspAsker {
    pub(super) fetcher: Arc<Fetcher>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) telemetry: Telemetry,
    pub(super) clock_skew_seconds: i64,
}

impl std::fmt::Debug for OcspAsker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OcspAsker").finish_non_exhaustive()
    }
}

/// The certificate an OCSP step asks about, taken from the match.
#[derive(Clone, Debug)]
pub(super) struct Asked {
    /// The issuer entry's name.
    pub(super) issuer: Arc<str>,
    /// The key of the truststore CA that issued it.
    pub(super) ca: KeyId,
    /// Its issuer name, as DER: with `ca`, which truststore CA issued it.
    pub(super) issuer_name: Vec<u8>,
    /// Its serial.
    pub(super) serial: Serial,
    /// Its authorityInfoAccess OCSP URIs.
    pub(super) aia: Vec<String>,
}

/// One prepared question: where, what, and about whom.
#[derive(Clone, Debug)]
struct Question {
    responder: url::Url,
    id: CertId,
    der: Vec<u8>,
    get_path: String,
    ca: KeyId,
    issuer_name: Vec<u8>,
    issuer: String,
}

impl OcspState {
    pub(super) fn new(issuer: &str, policy: &OcspPolicy) -> Self {
        let cap = NonZeroUsize::new(policy.max_entries()).unwrap_or(NonZeroUsize::MIN);
        Self {
            issuer: Arc::from(issuer),
            policy: policy.clone(),
            entries: Mutex::new(LruCache::new(cap)),
        }
    }

    /// The responder to ask about `cert`: the fixed one, or its AIA OCSP
    /// URI within `responders_from_aia` (never any other).
    fn responder_for(&self, aia: &[String]) -> Result<url::Url, String> {
        let uri = match self.policy.responders() {
            OcspResponders::Fixed(uri) => uri.clone(),
            OcspResponders::FromAia(prefixes) => {
                let mut refused = None;
                let found = aia.iter().find_map(|u| match prefixes.responder_for(u) {
                    CdpSource::Fetch(source) => Some(source),
                    CdpSource::NotAllowed | CdpSource::Unsafe => {
                        refused = Some(u.as_str());
                        None
                    }
                });
                match (found, refused) {
                    (Some(source), _) => source,
                    (None, Some(u)) => {
                        return Err(format!(
                            "the certificate's OCSP responder {} is outside every responders_from_aia prefix, so it is not asked",
                            bounded(u)
                        ));
                    }
                    (None, None) => {
                        return Err(
                            "the certificate names no OCSP responder (authorityInfoAccess), and the issuer entry uses responders_from_aia".to_owned(),
                        );
                    }
                }
            }
        };
        match uri {
            mtls_policy::source::SourceUri::Http(url) => Ok(url),
            other => Err(format!("OCSP responder {other} is not an HTTP URI")),
        }
    }

    fn entry(&self, key: Key) -> Arc<Entry> {
        let mut entries = lock(&self.entries);
        if let Some(e) = entries.get(&key) {
            return Arc::clone(e);
        }
        let entry = Arc::new(Entry::default());
        entries.push(key, Arc::clone(&entry));
        entry
    }

    fn held(&self, entry: &Entry, now: UnixTime, skew: i64) -> Held {
        let state = lock(&entry.state);
        let usable = state
            .answer
            .as_ref()
            .filter(|(a, _)| a.check_usable(now, skew).is_ok());
        if let Some((answer, fetched)) = usable {
            let due = now >= fetched.offset(self.policy.cache_seconds());
            return if due {
                Held::Due(Arc::clone(answer))
            } else {
                Held::Fresh(Arc::clone(answer))
            };
        }
        match &state.failure {
            Some((at, why)) if now < at.offset(self.policy.retry_seconds()) => {
                Held::Failed(why.clone())
            }
            _ => Held::Nothing,
        }
    }

    /// The request for `asked`: its responder (fixed, or from its AIA within
    /// the prefixes), and its CertID over the issuing CA's name and key.
    fn question(&self, truststore: &TrustStore, asked: &Asked) -> Result<Question, String> {
        let responder = self.responder_for(&asked.aia)?;
        let ca_cert = issuing_ca(truststore, asked.ca, &asked.issuer_name)
            .ok_or_else(|| "the issuing CA is not in the truststore".to_owned())?;
        let hash = match self.policy.hash() {
            OcspHash::Sha256 => CertIdHash::Sha256,
            OcspHash::Sha1 => CertIdHash::Sha1,
        };
        let id = CertId::new(hash, ca_cert, &asked.serial).map_err(|e| e.to_string())?;
        Ok(Question {
            der: request_der(&id),
            get_path: request_get_path(&id),
            responder,
            id,
            ca: asked.ca,
            issuer_name: asked.issuer_name.clone(),
            issuer: asked.issuer.to_string(),
        })
    }

    /// Whether the entry needs the certificate's AIA URIs.
    pub(super) fn reads_aia(&self) -> bool {
        matches!(self.policy.responders(), OcspResponders::FromAia(_))
    }

    /// The OCSP answer for the certificate `asked` describes. `spawn` keeps
    /// the refresh started behind the request when a held answer is due.
    pub(super) async fn answer(
        self: &Arc<Self>,
        asker: &OcspAsker,
        truststore: &Arc<TrustStore>,
        asked: &Asked,
        spawn: impl FnOnce(tokio::task::JoinHandle<()>),
    ) -> OcspOutcome {
        let failed = |why: String| OcspOutcome {
            answer: Err(why),
            used: None,
        };
        let ca = asked.ca;
        let entry = self.entry(Key {
            issuer_name: mtls_x509::signed::sha256(&asked.issuer_name),
            ca,
            serial: asked.serial.clone(),
        });
        let skew = asker.clock_skew_seconds;
        // The cache first: a fresh answer needs no question built.
        let held = self.held(&entry, asker.clock.now(), skew);
        if let Held::Fresh(answer) = held {
            return OcspOutcome {
                answer: Ok(answer),
                used: Some(OcspUse::Cached),
            };
        }
        let question = match self.question(truststore, asked) {
            Ok(q) => q,
            Err(why) => return failed(why),
        };
        match held {
            Held::Fresh(answer) => {
                return OcspOutcome {
                    answer: Ok(answer),
                    used: Some(OcspUse::Cached),
                };
            }
            Held::Due(answer) => {
                if let Ok(single_flight) = Arc::clone(&entry.asking).try_lock_owned() {
                    let (me, asker, truststore, entry) = (
                        Arc::clone(self),
                        asker.clone(),
                        Arc::clone(truststore),
                        Arc::clone(&entry),
                    );
                    spawn(tokio::spawn(async move {
                        let _single_flight = single_flight;
                        // The answer or failure is recorded in the entry.
                        let timeout = Duration::from_millis(me.policy.timeout_ms());
                        let _recorded = me
                            .ask(&asker, &truststore, &entry, &question, timeout)
                            .await;
                    }));
                }
                return OcspOutcome {
                    answer: Ok(answer),
                    used: Some(OcspUse::Cached),
                };
            }
            Held::Failed(why) => return failed(why),
            Held::Nothing => {}
        }
        // Wait for the exchange in flight, if any, no longer than one.
        let wait = Duration::from_millis(self.policy.timeout_ms());
        let started = tokio::time::Instant::now();
        let Ok(_single_flight) = tokio::time::timeout(wait, entry.asking.lock()).await else {
            return failed(format!(
                "another request's OCSP exchange for this serial took longer than {} ms",
                self.policy.timeout_ms()
            ));
        };
        // It may have just answered, or failed.
        match self.held(&entry, asker.clock.now(), skew) {
            Held::Fresh(answer) | Held::Due(answer) => {
                return OcspOutcome {
                    answer: Ok(answer),
                    used: Some(OcspUse::Cached),
                };
            }
            Held::Failed(why) => return failed(why),
            Held::Nothing => {}
        }
        OcspOutcome {
            // What is left of this request's `timeout_ms`: no request waits
            // longer, however long it queued behind another's exchange.
            answer: match wait.checked_sub(started.elapsed()) {
                Some(left) if !left.is_zero() => {
                    self.ask(asker, truststore, &entry, &question, left).await
                }
                _ => Err(format!(
                    "another request's OCSP exchange for this serial took up to {} ms",
                    self.policy.timeout_ms()
                )),
            },
            used: Some(OcspUse::Fetched),
        }
    }

    /// One exchange: asks, verifies, records the answer or the failure, and
    /// writes the `ocsp_metrics` line, within `timeout`. The caller holds
    /// the single flight.
    async fn ask(
        &self,
        asker: &OcspAsker,
        truststore: &TrustStore,
        entry: &Entry,
        question: &Question,
        timeout: Duration,
    ) -> Result<Arc<VerifiedOcsp>, String> {
        let started = std::time::Instant::now();
        let fetched = asker
            .fetcher
            .ocsp(&OcspRequest {
                responder: &question.responder,
                der: &question.der,
                get_path: &question.get_path,
                timeout,
                max_bytes: MAX_RESPONSE_BYTES,
            })
            .await;
        let now = asker.clock.now();
        let policy = OcspTimePolicy {
            clock_skew_seconds: asker.clock_skew_seconds,
            max_age_without_next_update: self.policy.cache_seconds(),
        };
        let verified: Result<VerifiedOcsp, (&'static str, String)> = match fetched {
            Err(e) => Err((e.label(), e.to_string())),
            Ok(body) => match issuing_ca(truststore, question.ca, &question.issuer_name) {
                None => Err(("issuer", "the issuing CA left the truststore".to_owned())),
                Some(ca) => verify_response(&body, &question.id, ca, now, policy)
                    .map_err(|e| (e.label(), e.to_string())),
            },
        };
        let latency_ms = started.elapsed().as_secs_f64() * 1e3;
        let (result, label) = match &verified {
            Ok(v) => (
                match v.status() {
                    CertStatus::Good => OcspResult::Good,
                    CertStatus::Revoked { .. } => OcspResult::Revoked,
                    CertStatus::Unknown => OcspResult::Unknown,
                },
                None,
            ),
            Err((label, _)) => (OcspResult::Error, Some(*label)),
        };
        let responder = question.responder.to_string();
        let serial = question.id.serial().to_hex();
        asker.telemetry.ocsp(&OcspRecord {
            time: now,
            issuer: &question.issuer,
            responder: &responder,
            serial: &serial,
            result,
            error: label,
            latency_ms,
        });
        let mut state = lock(&entry.state);
        match verified {
            Ok(v) => {
                // A replayed answer older than the one held is not an update.
                // A held answer produced in the future (a responder with a
                // fast clock) does not get to pin itself that way.
                if let Some((held, _)) = &state.answer
                    && held.produced_at() > v.produced_at()
                    && held.produced_at() <= now.offset(asker.clock_skew_seconds)
                {
                    let held = Arc::clone(held);
                    if held.check_usable(now, asker.clock_skew_seconds).is_err() {
                        // Nothing usable came: count it as a failure, so
                        // the retry period holds for a replaying responder.
                        let why = "the OCSP responder served an answer older than the one held"
                            .to_owned();
                        state.failure = Some((now, why.clone()));
                        return Err(why);
                    }
                    return Ok(held);
                }
                let v = Arc::new(v);
                state.answer = Some((Arc::clone(&v), now));
                state.failure = None;
                Ok(v)
            }
            Err((_, why)) => {
                tracing::warn!(
                    event = "ocsp_failed",
                    issuer = %question.issuer,
                    responder = %responder,
                    serial = %serial,
                    error = %why,
                    "OCSP exchange failed; requests for this serial are denied ocsp_unavailable until a fresh answer"
                );
                state.failure = Some((now, why.clone()));
                Err(why)
            }
        }
    }
}
