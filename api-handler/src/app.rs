//! The routes. [`App::handle`] takes a proxy event and the current time and
//! always answers with a proxy response: a bad request is an HTTP status,
//! never a Lambda error (which API Gateway would turn into a bare 502).

use std::time::Instant;

use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::error::Result;
use crate::event::{Body, Request, response};
use crate::identity::Identity;
use crate::reading::{BodyValidator, Reading, Rejection};
use crate::store::{NewReading, PutOutcome, Store, Writer};

/// How many readings `GET /temps` returns.
pub(crate) const LATEST_LIMIT: usize = 5;

/// How long readings are kept by default (the `TEMPS_RETENTION_DAYS`
/// variable overrides it).
pub const DEFAULT_RETENTION: Duration = Duration::days(90);

/// The routes, with the methods each allows.
const ROUTES: &[(&str, &[&str])] = &[("/temps", &["GET", "POST"]), ("/whoami", &["GET"])];

/// The API: a store, the body validator, and the retention period.
#[derive(Debug)]
pub struct App<S> {
    store: S,
    validator: BodyValidator,
    retention: Duration,
}

/// An answer before it is put in the proxy format, with what the access log
/// needs to know of it.
#[derive(Debug)]
struct Answer {
    status: u16,
    body: Value,
    allow: Option<String>,
    /// The error code, for the log.
    error: Option<&'static str>,
}

impl Answer {
    fn ok(status: u16, body: Value) -> Self {
        Self {
            status,
            body,
            allow: None,
            error: None,
        }
    }

    fn error(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: json!({"error": code, "message": message.into()}),
            allow: None,
            error: Some(code),
        }
    }

    fn rejected(r: &Rejection) -> Self {
        Self {
            status: r.status,
            body: r.to_json(),
            allow: None,
            error: Some(r.code),
        }
    }
}

impl<S: Store> App<S> {
    /// The API over `store`, keeping readings for `retention`.
    pub fn new(store: S, retention: Duration) -> Result<Self> {
        Ok(Self {
            store,
            validator: BodyValidator::new()?,
            retention,
        })
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Answers one proxy event and writes its access-log line: route,
    /// status, identity and latency, never the body.
    pub async fn handle(&self, event: Value, now: OffsetDateTime) -> Value {
        let started = Instant::now();
        let request = match Request::from_event(event) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(event = "bad_event", error = %e, "event is not from API Gateway");
                let a = Answer::error(500, "internal_error", "unsupported event");
                return response(a.status, &a.body, &[]);
            }
        };
        let (route, answer) = self.answer(&request, now).await;
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        tracing::info!(
            event = "request",
            format = request.format.as_str(),
            method = %request.method,
            route,
            path = %truncated(&request.path),
            status = answer.status,
            error = answer.error,
            identity = request.identity.as_ref().map(|i| i.key().as_str().to_owned()),
            subject = request.identity.as_ref().map(|i| i.subject_dn.as_str()),
            serial = request.identity.as_ref().map(|i| i.serial_number.as_str()),
            request_id = request.request_id.as_deref(),
            latency_ms,
        );
        let allow = answer.allow.as_deref().map(|a| [("allow", a)]);
        response(
            answer.status,
            &answer.body,
            allow.as_ref().map_or(&[], |a| &a[..]),
        )
    }

    /// The route template matched (for logs) and the answer.
    async fn answer(&self, req: &Request, now: OffsetDateTime) -> (&'static str, Answer) {
        // Identity first: nothing, not even which routes exist, is served
        // to a request that did not pass the authorizer.
        let Some(identity) = &req.identity else {
            return (
                "unauthenticated",
                Answer::error(
                    401,
                    "unauthenticated",
                    "no verified client identity in the request context",
                ),
            );
        };
        let Some(&(route, methods)) = ROUTES.iter().find(|(p, _)| *p == req.path) else {
            return (
                "unmatched",
                Answer::error(
                    404,
                    "not_found",
                    format!("no route {}", truncated(&req.path)),
                ),
            );
        };
        let answer = match (route, req.method.as_str()) {
            ("/temps", "POST") => self.post_temps(req, identity, now).await,
            ("/temps", "GET") => self.get_temps(identity).await,
            ("/whoami", "GET") => whoami(req, identity),
            _ => Answer {
                allow: Some(methods.join(", ")),
                ..Answer::error(
                    405,
                    "method_not_allowed",
                    format!("{route} allows {}", methods.join(", ")),
                )
            },
        };
        (route, answer)
    }

    async fn post_temps(&self, req: &Request, identity: &Identity, now: OffsetDateTime) -> Answer {
        let bytes = match &req.body {
            Body::Bytes(b) => b.as_slice(),
            Body::TooLarge => {
                return Answer::error(413, "body_too_large", "the body is too large");
            }
            Body::BadBase64 => {
                return Answer::error(400, "malformed_json", "the body is not valid base64");
            }
        };
        let reading = match self
            .validator
            .reading(req.content_type.as_deref(), bytes, now)
        {
            Ok(r) => r,
            Err(rejection) => return Answer::rejected(&rejection),
        };
        let key = identity.key();
        let new = NewReading {
            identity,
            key: &key,
            reading: &reading,
            received_at: now,
            expires_at: now + self.retention,
        };
        match self.store.put(new).await {
            Ok(PutOutcome::Created | PutOutcome::AlreadyStored) => {
                Answer::ok(201, reading.to_json())
            }
            Ok(PutOutcome::Conflict { stored }) => Answer {
                body: json!({
                    "error": "conflict",
                    "field": "time",
                    "message": format!(
                        "a different temperature ({stored}) is already stored for {}",
                        reading.time
                    ),
                }),
                ..Answer::error(409, "conflict", "")
            },
            Err(e) => internal(&e),
        }
    }

    async fn get_temps(&self, identity: &Identity) -> Answer {
        let (key, legacy) = (identity.key(), identity.legacy_key());
        // Both reads at once: the current key's, and what this certificate
        // stored under the text-based key of earlier releases
        // (Identity::legacy_key): its own, never a look-alike's.
        let (current, older) = tokio::join!(
            self.store.latest(&key, Writer::Any, LATEST_LIMIT),
            self.store
                .latest(&legacy, identity.legacy_writer(), LATEST_LIMIT),
        );
        match (current, older) {
            (Ok(current), Ok(older)) => Answer::ok(
                200,
                json!({"readings": merge_latest(current, older).iter().map(|r| r.to_json()).collect::<Vec<_>>()}),
            ),
            (Err(e), _) | (_, Err(e)) => internal(&e),
        }
    }
}

/// The newest [`LATEST_LIMIT`] of two newest-first lists; where both hold a
/// reading for the same time, the current key's (`current`) wins.
fn merge_latest(current: Vec<Reading>, legacy: Vec<Reading>) -> Vec<Reading> {
    let mut all = current;
    for r in legacy {
        if !all.iter().any(|c| c.time == r.time) {
            all.push(r);
        }
    }
    all.sort_by_key(|r| std::cmp::Reverse(r.time));
    all.truncate(LATEST_LIMIT);
    all
}

fn whoami(req: &Request, identity: &Identity) -> Answer {
    let mut body = identity.to_json();
    if let (Some(not_after), Some(fields)) = (&req.cert_not_after, body.as_object_mut()) {
        fields.insert("certificateNotAfter".into(), json!(not_after));
    }
    Answer::ok(200, body)
}

/// A service failure: logged with its detail, answered without it.
fn internal(e: &crate::error::Error) -> Answer {
    tracing::error!(event = "store_error", error = %e, "storage failed");
    Answer::error(500, "internal_error", "the request could not be completed")
}

/// Paths come from clients: cap what is echoed and logged.
fn truncated(path: &str) -> &str {
    let mut end = path.len().min(128);
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    path.get(..end).unwrap_or_default()
}
