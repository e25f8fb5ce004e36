//! The `truststore` command line, in cargo-lambda's shape: one module per
//! command, each an `Args` struct with its own `run()` that returns an
//! [`Exit`]. The logic lives in the libraries (this crate's `rotate`,
//! `status`, `deny` and `pca`; `mtls-pki`'s `check`, `bundle` and `pki`);
//! these modules parse, call it and print. Shared argument groups and
//! printing are here.

pub mod build;
pub mod deny;
pub mod diff;
pub mod pki;
pub mod revoke;
pub mod rollback;
pub mod rotate;
pub mod status;
pub mod upload;
pub mod validate;

use std::path::Path;
use std::time::Duration;

use clap::Args;
use mtls_pki::check::{self, CheckOptions, Report, Severity};
use time::OffsetDateTime;
use truststore::domain::ApiKind;
use truststore::rotate::{Pacing, Progress};
use truststore::{Error, Exit};

/// How a command prints its result: `--format text|json`, for every command.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Lines for people.
    #[default]
    Text,
    /// One JSON document on stdout, for scripts.
    Json,
}

/// `--expiry-warning-days`.
#[derive(Debug, Args)]
pub struct Expiry {
    /// Warn about CAs that expire within this many days.
    #[arg(long, value_name = "DAYS", default_value_t = check::DEFAULT_EXPIRY_WARNING_DAYS)]
    pub expiry_warning_days: u32,
}

impl Expiry {
    /// The check options now.
    pub fn options(&self) -> CheckOptions {
        CheckOptions {
            now: OffsetDateTime::now_utc(),
            expiry_warning_days: self.expiry_warning_days,
        }
    }
}

/// The truststore object.
#[derive(Debug, Args)]
pub struct Object {
    /// The versioned S3 bucket of the truststore.
    #[arg(long)]
    pub bucket: String,
    /// The object key of the truststore.
    #[arg(long)]
    pub key: String,
}

/// How long and how often to wait for API Gateway.
#[derive(Debug, Args)]
pub struct Waiting {
    /// Give up waiting for the domain to be AVAILABLE after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 600.0, value_parser = positive_seconds)]
    pub timeout: f64,
    /// Seconds between two status checks.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0, value_parser = positive_seconds)]
    pub poll_interval: f64,
    /// The first wait after API Gateway throttles a call; it doubles up to 60 s.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0, value_parser = positive_seconds)]
    pub backoff: f64,
    /// Attempts per call when throttled or on transient errors.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub max_attempts: u32,
}

impl Waiting {
    /// The pacing these options ask for.
    pub fn pacing(&self) -> Pacing {
        Pacing {
            poll_interval: Duration::from_secs_f64(self.poll_interval),
            timeout: Duration::from_secs_f64(self.timeout),
            backoff: Duration::from_secs_f64(self.backoff),
            max_backoff: Duration::from_secs(60),
            attempts: self.max_attempts,
        }
    }
}

fn positive_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 86_400.0 => Ok(v),
        _ => Err(format!("{s} is not a number of seconds from 0 to 86400")),
    }
}

/// The custom domain.
#[derive(Debug, Args)]
pub struct Domain {
    /// The custom domain name, e.g. api.example.com.
    #[arg(long)]
    pub domain: String,
    /// The API type the domain belongs to.
    #[arg(long, value_enum, default_value_t = ApiKind::Rest)]
    pub api: ApiKind,
}

/// Reads a file, naming it in the error.
pub fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}

/// Prints `value` as pretty JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("error: JSON: {e}"),
    }
}

/// Prints a report's findings, one `level[rule]: message` line each.
pub fn print_findings(report: &Report, to_stderr: bool) {
    for f in &report.findings {
        let level = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let line = format!(
            "{level}[{}]: {}",
            serde_json::to_value(f.rule)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            f.message
        );
        if to_stderr {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    }
}

/// A report's exit status.
pub fn report_exit(report: &Report) -> Exit {
    Exit::of_counts(report.errors(), report.warnings())
}

/// Validates a bundle before it goes anywhere; errors stop the command.
pub fn checked(name: &str, bytes: &[u8], expiry: &Expiry) -> Result<Report, Error> {
    let report = check::check_bundle(name, bytes, expiry.options());
    print_findings(&report, true);
    if report.errors() > 0 {
        return Err(Error::Invalid {
            errors: report.errors(),
        });
    }
    Ok(report)
}

/// `rfc3339` as a clap value parser.
pub fn rfc3339(s: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("{s}: {e} (use RFC 3339, e.g. 2026-01-01T00:00:00Z)"))
}

/// A spinner on a terminal; plain lines otherwise (CI logs).
pub struct Spinner {
    bar: indicatif::ProgressBar,
    last: std::cell::RefCell<String>,
}

impl Spinner {
    /// A spinner on stderr.
    pub fn new() -> Self {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        bar.enable_steady_tick(Duration::from_millis(120));
        Self {
            bar,
            last: std::cell::RefCell::default(),
        }
    }
}

impl Progress for Spinner {
    fn update(&self, message: &str) {
        if self.bar.is_hidden() {
            // Without a terminal, print each new state once, not every poll.
            let state = message.split(" (").next().unwrap_or(message).to_owned();
            if *self.last.borrow() != state {
                eprintln!("{message}");
                *self.last.borrow_mut() = state;
            }
        } else {
            self.bar.set_message(message.to_owned());
        }
    }

    fn note(&self, message: &str) {
        if self.bar.is_hidden() {
            eprintln!("{message}");
        } else {
            self.bar.println(message);
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
