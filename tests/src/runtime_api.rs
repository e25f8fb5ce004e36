//! The Lambda Runtime API host (`mtls-lambda-host`) for tests: the same
//! host the local gateway uses, with test-friendly signatures.

use std::io::{Read, Seek};
use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::process::Child;

/// A function process whose output goes to a file, as Lambda drains a
/// function's output into its log: a pipe nobody reads would fill after
/// 64 KiB and block the function mid-request.
#[derive(Debug)]
pub struct Process {
    child: Child,
    output: std::fs::File,
}

impl Deref for Process {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.child
    }
}

impl DerefMut for Process {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.child
    }
}

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

    /// Starts a function binary against this host, as Lambda would. Its
    /// stdout and stderr go to one unnamed temporary file ([`output_of`]).
    pub fn spawn(&self, binary: &Path, env: &[(&str, &str)]) -> Process {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let output = tempfile::tempfile().unwrap();
        let child = self
            .0
            .command(binary, &env)
            .stdout(output.try_clone().unwrap())
            .stderr(output.try_clone().unwrap())
            .spawn()
            .unwrap();
        Process { child, output }
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

/// Stops a function process and returns everything it wrote (stdout and
/// stderr, in the order written).
pub async fn output_of(mut process: Process) -> String {
    let _ = process.child.start_kill();
    tokio::time::timeout(Duration::from_secs(10), process.child.wait())
        .await
        .unwrap()
        .unwrap();
    let mut bytes = Vec::new();
    process.output.rewind().unwrap();
    process.output.read_to_end(&mut bytes).unwrap();
    String::from_utf8_lossy(&bytes).into_owned()
}
