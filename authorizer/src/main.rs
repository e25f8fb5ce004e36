//! The `authorizer` Lambda binary: wiring only. See the crate docs and README.

use std::process::ExitCode;
use std::sync::Arc;

use authorizer::fetch::{Fetcher, Pace};
use authorizer::lambda::{
    Authorizer, CONFIG_FETCH_LIMITS, HttpApiResponse, Invocation, StartError, Stdout, Telemetry,
    load_config,
};
use lambda_runtime::{LambdaEvent, service_fn};
use mtls_policy::config::{Config, DeltaPolicy, OcspResponders, PolicyResource, Revocation};
use mtls_policy::metrics::{Metric, Namespace};
use serde_json::Value;

const USAGE: &str = "\
usage: authorizer                        run as a Lambda function (the Runtime API)
       authorizer --check-config [FILE]  validate AUTHORIZER_CONFIG (or FILE) and exit
       authorizer --print-metrics        print the metrics it emits (JSON) and exit

--check-config loads the configuration exactly as the cold start does (inline JSON,
file://, s3:// or https://), validates it, and prints what it will enforce. It does
not load the truststore or any CRL. Exit status: 0 valid, 1 invalid, 2 usage.";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    // Lambda starts the bootstrap without arguments; these are for operators.
    let mut args = std::env::args().skip(1);
    if let Some(arg) = args.next() {
        return match (arg.as_str(), args.next(), args.next()) {
            ("--check-config", file, None) => check_config(file).await,
            ("--print-metrics", None, None) => {
                use std::io::Write;
                // `| head` closing the pipe is not an error worth a panic.
                let _ = writeln!(std::io::stdout(), "{:#}", Metric::catalogue_json());
                ExitCode::SUCCESS
            }
            ("-h" | "--help", None, None) => {
                println!("{USAGE}");
                ExitCode::SUCCESS
            }
            _ => {
                eprintln!("{USAGE}");
                ExitCode::from(2)
            }
        };
    }
    mtls_common::init_json_logging();
    // Cold start: load and verify everything before the first event, so no
    // request pays for it. Any configuration error stops here: never a
    // fallback to allowing.
    let started = async {
        let fetcher = Fetcher::new(CONFIG_FETCH_LIMITS).map_err(StartError::Fetcher)?;
        let config_var = std::env::var("AUTHORIZER_CONFIG").ok();
        let config = load_config(config_var.as_deref(), &fetcher).await?;
        let http =
            HttpApiResponse::from_env_value(std::env::var("HTTP_API_RESPONSE").ok().as_deref())?;
        let namespace =
            Namespace::from_env_value(std::env::var("METRICS_NAMESPACE").ok().as_deref())?;
        // Refreshes behind the requests take half of Lambda's CPU share for
        // this memory size, so requests served meanwhile are not throttled.
        let pace = Pace::lambda_background(
            std::env::var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
                .ok()
                .as_deref(),
        );
        let telemetry = Telemetry::new(namespace, Arc::new(Stdout));
        Authorizer::builder(config)
            .fetcher(fetcher)
            .http_api_response(http)
            .telemetry(telemetry)
            .background_pace(pace)
            .start()
            .await
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
        issuers = authorizer.config().issuers().len(),
        "authorizer ready"
    );
    let served = lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let authorizer = Arc::clone(&authorizer);
        async move {
            let context = event.context;
            let invocation = Invocation {
                request_id: Some(context.request_id),
                // The runtime sets the variable per invocation too; the
                // context is the source that cannot race another thread.
                trace_id: context
                    .xray_trace_id
                    .or_else(|| std::env::var("_X_AMZN_TRACE_ID").ok()),
            };
            let answer = authorizer
                .handle_invocation(&event.payload, &invocation)
                .await;
            Ok::<Value, lambda_runtime::Error>(answer)
        }
    }))
    .await;
    mtls_common::runtime_exit(served)
}

/// `--check-config`: the cold start's configuration step alone, for a
/// pre-deployment check.
async fn check_config(file: Option<String>) -> ExitCode {
    let checked = async {
        let value = match file {
            Some(path) => std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?,
            None => std::env::var("AUTHORIZER_CONFIG").unwrap_or_default(),
        };
        let fetcher = Fetcher::new(CONFIG_FETCH_LIMITS).map_err(|e| e.to_string())?;
        let config = load_config(Some(&value), &fetcher)
            .await
            .map_err(|e| e.to_string())?;
        HttpApiResponse::from_env_value(std::env::var("HTTP_API_RESPONSE").ok().as_deref())
            .map_err(|e| e.to_string())?;
        Namespace::from_env_value(std::env::var("METRICS_NAMESPACE").ok().as_deref())
            .map_err(|e| e.to_string())?;
        Ok::<Config, String>(config)
    };
    match checked.await {
        Ok(config) => {
            println!("{}", summary(&config));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("invalid authorizer configuration: {e}");
            ExitCode::FAILURE
        }
    }
}

fn summary(config: &Config) -> String {
    let mut out = format!(
        "valid: truststore {}, {} issuer(s), CRL refresh {} s, grace {} s, policy resource {}",
        config.truststore(),
        config.issuers().len(),
        config.crl_refresh_seconds(),
        config.crl_grace_seconds(),
        match config.policy_resource() {
            PolicyResource::Method => "method",
            PolicyResource::Stage => "stage",
        },
    );
    for issuer in config.issuers() {
        let revocation = match issuer.revocation() {
            Revocation::Crls(uris) => {
                let list: Vec<String> = uris.iter().map(ToString::to_string).collect();
                format!("CRL {}", list.join(", "))
            }
            Revocation::FromCdp(policy) => {
                let list: Vec<String> = policy
                    .prefixes()
                    .iter()
                    .map(|p| match p.fetch() {
                        Some(fetch) => format!("{} (fetched from {fetch})", p.prefix()),
                        None => p.prefix().to_owned(),
                    })
                    .collect();
                format!(
                    "CRLs from the certificates' distribution points under {} (at most {} held)",
                    list.join(", "),
                    config.max_cdp_crls_per_issuer()
                )
            }
            Revocation::OcspOnly => "no CRL".to_owned(),
            Revocation::NotChecked => "no revocation check".to_owned(),
        };
        let delta = match issuer.delta() {
            DeltaPolicy::Apply => "",
            DeltaPolicy::Configured => "; every base CRL is read with its delta CRL",
            DeltaPolicy::Ignore => "; delta CRLs ignored",
        };
        let ocsp = issuer.ocsp().map_or(String::new(), |o| {
            let from = match o.responders() {
                OcspResponders::Fixed(uri) => uri.to_string(),
                OcspResponders::FromAia(policy) => {
                    let list: Vec<&str> = policy.prefixes().iter().map(|p| p.prefix()).collect();
                    format!("the certificates' AIA under {}", list.join(", "))
                }
            };
            format!(
                "; OCSP from {from} (cached up to {} s, timeout {} ms, at most {} answers)",
                o.cache_seconds(),
                o.timeout_ms(),
                o.max_entries()
            )
        });
        let routes = issuer.routes().map_or(String::new(), |r| {
            let list: Vec<String> = r.iter().map(ToString::to_string).collect();
            format!("; routes {}", list.join(", "))
        });
        out.push_str(&format!(
            "\n  {}: {revocation}{delta}{ocsp}{routes}",
            issuer.name()
        ));
    }
    out
}
