//! The `authorizer` Lambda binary: wiring only. See the crate docs and README.

use std::process::ExitCode;
use std::sync::Arc;

use authorizer::fetch::Fetcher;
use authorizer::lambda::{Authorizer, CONFIG_FETCH_LIMITS, HttpApiResponse, load_config};
use authorizer::time::SystemClock;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    mtls_common::init_json_logging();
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
            // A JSON log line and a failed exit, which Lambda reports as
            // Runtime.ExitError; not Rust's unstructured `Error: …` print.
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        event = "ready",
        issuers = authorizer.config().issuers.len(),
        "authorizer ready"
    );
    let served = lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let authorizer = Arc::clone(&authorizer);
        async move { Ok::<Value, lambda_runtime::Error>(authorizer.handle(&event.payload).await) }
    }))
    .await;
    mtls_common::runtime_exit(served)
}
