//! What the workspace's binaries share, so that every Lambda logs the same
//! way and every AWS client uses the same TLS stack.
//!
//! The AWS parts (`aws_http_client`, `aws_sdk_config`) are behind the
//! `aws` feature: the local gateway logs like the Lambdas but calls no AWS
//! service, and without the feature it builds no AWS SDK.

#[cfg(feature = "aws")]
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use tracing_subscriber::filter::LevelFilter;

/// The HTTPS client for the AWS SDK: rustls with the aws-lc-rs provider (the
/// crypto library the binaries use for signatures too) and the platform's
/// root certificates.
#[cfg(feature = "aws")]
#[must_use]
pub fn aws_http_client() -> SharedHttpClient {
    use aws_smithy_http_client::tls;
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ))
        .build_https()
}

/// The shared AWS configuration from the environment (region, credentials,
/// `AWS_ENDPOINT_URL*`), with [`aws_http_client`].
#[cfg(feature = "aws")]
pub async fn aws_sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(aws_http_client())
        .load()
        .await
}

/// The log level from `RUST_LOG` or `AWS_LAMBDA_LOG_LEVEL` (set by Lambda's
/// advanced logging controls); `info` when unset or unreadable. A plain level
/// rather than per-module directives keeps a regex engine out of the binaries.
#[must_use]
pub fn log_level() -> LevelFilter {
    let configured = std::env::var("RUST_LOG").or_else(|_| std::env::var("AWS_LAMBDA_LOG_LEVEL"));
    parse_level(configured.ok().as_deref())
}

fn parse_level(configured: Option<&str>) -> LevelFilter {
    match configured.map(str::trim) {
        Some(l) if l.eq_ignore_ascii_case("fatal") => LevelFilter::ERROR,
        Some(l) => l.parse().unwrap_or(LevelFilter::INFO),
        None => LevelFilter::INFO,
    }
}

/// The process exit code once the Lambda runtime loop has ended: it only
/// ends on an error, which is logged as `runtime_failed`.
pub fn runtime_exit<E: std::fmt::Display>(served: Result<(), E>) -> std::process::ExitCode {
    match served {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(event = "runtime_failed", error = %e, "Lambda runtime loop ended");
            std::process::ExitCode::FAILURE
        }
    }
}

/// JSON lines on stdout, which Lambda sends to CloudWatch: one flat object
/// per event, no span noise, at [`log_level`].
pub fn init_json_logging() {
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_max_level(log_level())
        .with_writer(std::io::stdout)
        .init();
}

#[cfg(test)]
mod tests;
