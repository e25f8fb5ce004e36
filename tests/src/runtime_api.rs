//! The Lambda Runtime API host (`mtls-lambda-host`) for tests: the same
//! host the local gateway uses, with test-friendly signatures.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::process::Child;

/// A running host; stops when dropped.
#[derive(Debug)]
pub struct RuntimeApi(mtls_lambda_host::RuntimeApi);

impl RuntimeApi {
    /// Starts the host on an ephemeral loopback port.
    pub async fn start() -> Self {
        Self(
            mtls_lambda_host::RuntimeApi::start("authorizer")
                .await
                .unwrap(),
        )
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.0.address()
    }

    /// Starts a function binary against this host, as Lambda would.
    pub fn spawn(&self, binary: &Path, env: &[(&str, &str)]) -> Child {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.0.command(binary, &env).spawn().unwrap()
    }

    /// Invokes the function with `event`; waits at most `timeout` for its answer.
    pub async fn invoke(&self, event: Value, timeout: Duration) -> Result<Value, String> {
        self.0.invoke(event, timeout).await
    }

    /// Waits until the function first asks for an event; returns when that happened.
    pub async fn ready(&self, timeout: Duration) -> Option<Instant> {
        self.0.ready(timeout).await
    }

    /// What the function reported to `/runtime/init/error`, if anything.
    pub fn init_error(&self) -> Option<String> {
        self.0.init_error()
    }
}

/// Stops a function process and returns everything it wrote (stdout, then
/// stderr).
pub async fn output_of(mut child: Child) -> String {
    let _ = child.start_kill();
    let out = tokio::time::timeout(Duration::from_secs(10), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
