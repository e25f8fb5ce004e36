//! The `api-handler` Lambda binary: wiring only. See the crate docs and the
//! docs/api-handler.md.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use api_handler::store::{AnyStore, DynamoStore, LocalStore};
use api_handler::{App, Error, app::DEFAULT_RETENTION};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

/// Where the local store lives when `TEMPS_DATA_DIR` is unset.
const DEFAULT_DATA_DIR: &str = ".local/api-handler";

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn retention() -> Result<Duration, Error> {
    match env("TEMPS_RETENTION_DAYS") {
        None => Ok(DEFAULT_RETENTION),
        Some(v) => match v.trim().parse::<i64>() {
            Ok(days) if (1..=36_500).contains(&days) => Ok(Duration::days(days)),
            _ => Err(Error::Config(format!(
                "TEMPS_RETENTION_DAYS must be a whole number of days from 1 to 36500, not {v:?}"
            ))),
        },
    }
}

/// DynamoDB when `TEMPS_TABLE` is set; otherwise the local SQLite store. On
/// Lambda the local store would live in ephemeral `/tmp`, so it is only used
/// there when `TEMPS_DATA_DIR` asks for it explicitly.
async fn store() -> Result<AnyStore, Error> {
    if let Some(table) = env("TEMPS_TABLE") {
        let client = aws_sdk_dynamodb::Client::new(&mtls_common::aws_sdk_config().await);
        return Ok(AnyStore::Dynamo(DynamoStore::new(client, table)));
    }
    let dir = match env("TEMPS_DATA_DIR") {
        Some(d) => PathBuf::from(d),
        None if env("AWS_LAMBDA_FUNCTION_NAME").is_some()
            && env("AWS_LAMBDA_RUNTIME_API").is_some()
            && env("LAMBDA_TASK_ROOT").is_some() =>
        {
            return Err(Error::Config(
                "TEMPS_TABLE is not set: on AWS Lambda the readings must go to DynamoDB".into(),
            ));
        }
        None => PathBuf::from(DEFAULT_DATA_DIR),
    };
    Ok(AnyStore::Local(LocalStore::open(
        &dir,
        OffsetDateTime::now_utc(),
    )?))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    mtls_common::init_json_logging();
    let started = async { App::new(store().await?, retention()?) };
    let app = match started.await {
        Ok(a) => Arc::new(a),
        Err(e) => {
            tracing::error!(event = "init_failed", error = %e, "api-handler cannot start");
            // A JSON log line and a failed exit, which Lambda reports as
            // Runtime.ExitError; not Rust's unstructured `Error: …` print.
            return ExitCode::FAILURE;
        }
    };
    match app.store() {
        AnyStore::Dynamo(_) => {
            tracing::info!(event = "ready", store = "dynamodb", "api-handler ready")
        }
        AnyStore::Local(s) => tracing::info!(
            event = "ready",
            store = "local",
            path = %s.path().display(),
            "api-handler ready"
        ),
    }
    let served = lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let app = Arc::clone(&app);
        async move {
            Ok::<Value, lambda_runtime::Error>(
                app.handle(event.payload, OffsetDateTime::now_utc()).await,
            )
        }
    }))
    .await;
    mtls_common::runtime_exit(served)
}
