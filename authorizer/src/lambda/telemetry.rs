//! Where the EMF lines go, and the ids of one invocation.

use mtls_policy::metrics::{CrlRecord, Namespace};
use std::sync::Arc;

/// Where the EMF lines (decisions, CRL refreshes, the truststore) go.
pub trait LineSink: Send + Sync + std::fmt::Debug {
    /// Writes one line (the sink adds the newline).
    fn line(&self, line: &str);
}

/// The process's standard output, where Lambda collects the log and
/// CloudWatch extracts the metrics.
#[derive(Debug)]
pub struct Stdout;

impl LineSink for Stdout {
    fn line(&self, line: &str) {
        use std::io::Write;
        // One locked write per line: it never interleaves with the tracing
        // lines, which take the same lock.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
    }
}

/// Nowhere: for library users and tests that do not read the lines.
#[derive(Debug)]
pub struct Discard;

impl LineSink for Discard {
    fn line(&self, _: &str) {}
}

/// The EMF output: a namespace and a sink.
#[derive(Clone, Debug)]
pub struct Telemetry {
    pub(super) namespace: Arc<Namespace>,
    pub(super) sink: Arc<dyn LineSink>,
}

impl Telemetry {
    /// Lines in `namespace` to `sink`.
    #[must_use]
    pub fn new(namespace: Namespace, sink: Arc<dyn LineSink>) -> Self {
        Self {
            namespace: Arc::new(namespace),
            sink,
        }
    }

    /// No lines at all.
    #[must_use]
    pub(crate) fn discard() -> Self {
        Self::new(Namespace::default(), Arc::new(Discard))
    }

    pub(super) fn emit(&self, line: &str) {
        if !line.is_empty() {
            self.sink.line(line);
        }
    }

    pub(super) fn crl(&self, record: &CrlRecord<'_>) {
        self.emit(&record.to_line(&self.namespace));
    }

    pub(super) fn ocsp(&self, record: &mtls_policy::metrics::OcspRecord<'_>) {
        self.emit(&record.to_line(&self.namespace));
    }
}

/// What the Lambda runtime says about one invocation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Invocation {
    /// The Lambda request id.
    pub request_id: Option<String>,
    /// The X-Ray trace header (`_X_AMZN_TRACE_ID`).
    pub trace_id: Option<String>,
}
