//! The `authorizer` Lambda binary: wiring only. See the crate docs and README.

use std::sync::Arc;

use authorizer::fetch::Fetcher;
use authorizer::lambda::{Authorizer, CONFIG_FETCH_LIMITS, HttpApiResponse, load_config};
use authorizer::time::SystemClock;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use tracing_subscriber::filter::LevelFilter;

/// The log level from `RUST_LOG` or `AWS_LAMBDA_LOG_LEVEL` (set by Lambda's
/// advanced logging controls); `info` when unset or unreadable. A plain level
/// rather than per-module directives keeps a regex engine out of the binary.
fn log_level() -> LevelFilter {
    let configured = std::env::var("RUST_LOG").or_else(|_| std::env::var("AWS_LAMBDA_LOG_LEVEL"));
    match configured.as_deref().map(str::trim) {
        Ok(l) if l.eq_ignore_ascii_case("fatal") => LevelFilter::ERROR,
        Ok(l) => l.parse().unwrap_or(LevelFilter::INFO),
        Err(_) => LevelFilter::INFO,
    }
}

fn init_logging() {
    // JSON lines to stdout, which Lambda sends to CloudWatch.
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

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_logging();
    // Cold start: load and verify everything before the first event, so no
    // request pays for it. Any configuration error stops here: never a
    // fallback to allowing.
    let started = async {
        let fetcher = Fetcher::new(CONFIG_FETCH_LIMITS)?;
        let config_var = std::env::var("AUTHORIZER_CONFIG").ok();
        let config = load_config(config_var.as_deref(), &fetcher).await?;
        let http =
            HttpApiResponse::from_env_value(std::env::var("HTTP_API_RESPONSE").ok().as_deref())?;
        Authorizer::start_with(config, fetcher, Arc::new(SystemClock), http).await
    };
    let authorizer = match started.await {
        Ok(a) => Arc::new(a),
        Err(e) => {
            tracing::error!(event = "init_failed", error = %e, "authorizer cannot start");
            return Err(e.into());
        }
    };
    tracing::info!(
        event = "ready",
        issuers = authorizer.config().issuers.len(),
        "authorizer ready"
    );
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let authorizer = Arc::clone(&authorizer);
        async move { Ok::<Value, lambda_runtime::Error>(authorizer.handle(&event.payload).await) }
    }))
    .await
}
