//! The local gateway's periodic summary: decisions by reason and latency
//! percentiles over the last N requests, one line, so `make run` shows what
//! the dashboard would without AWS.

use std::collections::BTreeMap;
use std::fmt;

/// The reason under which an Allow is counted.
pub const ALLOWED: &str = "allowed";

/// Requests between summaries unless `--summary-every` says otherwise.
pub const DEFAULT_EVERY: u64 = 100;

/// Counts and latencies since the last summary.
#[derive(Debug)]
pub(crate) struct Summary {
    every: u64,
    by_reason: BTreeMap<String, u64>,
    latency_ms: Vec<f64>,
    authorizer_ms: Vec<f64>,
}

/// One summary line's content.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Requests covered.
    pub requests: u64,
    /// Decisions by reason (`allowed` for an Allow, `none` where no decision was made).
    pub by_reason: BTreeMap<String, u64>,
    /// Request latency, p50 and p99 (ms).
    pub latency_ms: (f64, f64),
    /// Authorizer latency of the requests that invoked it, p50 and p99 (ms).
    pub authorizer_ms: Option<(f64, f64)>,
}

impl Summary {
    /// A summary every `every` requests; 0 turns it off.
    #[must_use]
    pub fn new(every: u64) -> Self {
        let room = usize::try_from(every.min(10_000)).unwrap_or(0);
        Self {
            every,
            by_reason: BTreeMap::new(),
            latency_ms: Vec::with_capacity(room),
            authorizer_ms: Vec::with_capacity(room),
        }
    }

    /// Records one request; returns the report when it completes a period.
    pub fn record(
        &mut self,
        reason: &str,
        latency_ms: f64,
        authorizer_ms: Option<f64>,
    ) -> Option<Report> {
        if self.every == 0 {
            return None;
        }
        *self.by_reason.entry(reason.to_owned()).or_default() += 1;
        self.latency_ms.push(latency_ms);
        self.authorizer_ms.extend(authorizer_ms);
        if (self.latency_ms.len() as u64) < self.every {
            return None;
        }
        let report = Report {
            requests: self.latency_ms.len() as u64,
            by_reason: std::mem::take(&mut self.by_reason),
            latency_ms: percentiles(&mut self.latency_ms).unwrap_or((0.0, 0.0)),
            authorizer_ms: percentiles(&mut self.authorizer_ms),
        };
        self.latency_ms.clear();
        self.authorizer_ms.clear();
        Some(report)
    }
}

/// p50 and p99 by the nearest-rank method; `None` for no samples.
fn percentiles(samples: &mut [f64]) -> Option<(f64, f64)> {
    if samples.is_empty() {
        return None;
    }
    samples.sort_by(f64::total_cmp);
    let rank = |p: f64| {
        let i = (p * samples.len() as f64).ceil() as usize;
        samples
            .get(i.saturating_sub(1))
            .copied()
            .unwrap_or_default()
    };
    Some((rank(0.50), rank(0.99)))
}

impl Report {
    /// Logs the report: one `summary` line with the totals and percentiles as
    /// fields (and the prose as its message), then one `summary_reason` line
    /// per reason, so a log query filters and sums plain fields rather than
    /// parsing a string.
    pub fn log(&self) {
        let (p50, p99) = self.latency_ms;
        let (authorizer_p50, authorizer_p99) = self.authorizer_ms.unzip();
        tracing::info!(
            event = "summary",
            requests = self.requests,
            allowed = self.by_reason.get(ALLOWED).copied().unwrap_or(0),
            latency_p50_ms = p50,
            latency_p99_ms = p99,
            authorizer_p50_ms = authorizer_p50,
            authorizer_p99_ms = authorizer_p99,
            "{self}"
        );
        for (reason, count) in &self.by_reason {
            tracing::info!(
                event = "summary_reason",
                reason = %reason,
                requests = count,
            );
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reasons: Vec<String> = self
            .by_reason
            .iter()
            .map(|(reason, n)| format!("{reason} {n}"))
            .collect();
        write!(
            f,
            "last {} requests: {}; latency p50 {:.1} ms, p99 {:.1} ms",
            self.requests,
            reasons.join(", "),
            self.latency_ms.0,
            self.latency_ms.1
        )?;
        if let Some((p50, p99)) = self.authorizer_ms {
            write!(f, "; authorizer p50 {p50:.1} ms, p99 {p99:.1} ms")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
