//! A local AWS (S3, DynamoDB) that speaks the AWS wire protocol: `moto_server` (pip
//! `moto[server]`) on 127.0.0.1, stopped when dropped. The SDK clients for it
//! are behind the crate's `aws` feature; the server and the environment a
//! function binary needs are not.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A running `moto_server`; killed and reaped when dropped.
pub struct Moto {
    addr: SocketAddr,
    child: Child,
}

impl Moto {
    /// Starts `moto_server` (or `$MOTO_SERVER`) on a port the kernel picks,
    /// and waits for the server's own "Running on" line.
    ///
    /// Why not reserve a free port first and connect until it answers: the
    /// port is free again once the probe closes, so two servers started at
    /// once (tests run in parallel) can be handed the same one. The second
    /// fails to bind, the probe reaches the first, and the test talks to a
    /// server that another test stops. Binding port 0 in the server and
    /// reading back the port it got has no such window.
    pub async fn start() -> Self {
        let program = std::env::var("MOTO_SERVER").unwrap_or_else(|_| "moto_server".to_owned());
        let mut child = Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start `{program}` ({e}); install it with `pip install 'moto[server]'` (make setup does)")
            });
        let Some(stderr) = child.stderr.take() else {
            panic!("moto_server's stderr is not piped");
        };
        let (tx, rx) = mpsc::channel();
        // The server logs every request to stderr: the thread keeps reading
        // to the end so that a full pipe never stalls it.
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if !sent && let Some(port) = running_port(&line) {
                    sent = tx.send(port).is_ok();
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let port = loop {
            match rx.try_recv() {
                Ok(port) => break port,
                Err(mpsc::TryRecvError::Disconnected) => {
                    let status = child.wait().ok();
                    panic!("moto_server exited before listening ({status:?})");
                }
                Err(mpsc::TryRecvError::Empty) => {}
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("moto_server did not start within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            child,
        }
    }

    /// The endpoint URL, for `AWS_ENDPOINT_URL_S3`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The environment a function binary needs to use this server as its S3
    /// (endpoint, path-style addressing, test credentials, no instance
    /// metadata lookups).
    pub fn function_env(&self) -> FunctionEnv {
        FunctionEnv(vec![
            ("AWS_ENDPOINT_URL_S3", self.endpoint()),
            ("S3_FORCE_PATH_STYLE", "true".to_owned()),
            ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ])
    }

    /// AWS configuration for this server, with the workspace's own HTTPS
    /// stack and test credentials; the host's AWS environment is ignored.
    #[cfg(feature = "aws")]
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .empty_test_environment()
            .http_client(mtls_common::aws_http_client())
            .endpoint_url(self.endpoint())
            .region(aws_config::Region::new("us-east-1"))
            .test_credentials()
            .load()
            .await
    }

    /// An S3 client for this server: path-style addressing, since the
    /// server is an IP address and port.
    #[cfg(feature = "aws")]
    pub async fn s3(&self) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.sdk_config().await)
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }
}

/// Environment variables for a function binary (see [`Moto::function_env`]).
#[derive(Clone, Debug)]
pub struct FunctionEnv(Vec<(&'static str, String)>);

impl FunctionEnv {
    /// The variables as the Runtime API host takes them.
    pub fn pairs(&self) -> Vec<(&str, &str)> {
        self.0.iter().map(|(k, v)| (*k, v.as_str())).collect()
    }
}

/// Creates `bucket` and, when given, sets its versioning status.
#[cfg(feature = "aws")]
pub async fn create_bucket(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    versioning: Option<aws_sdk_s3::types::BucketVersioningStatus>,
) {
    s3.create_bucket().bucket(bucket).send().await.unwrap();
    if let Some(status) = versioning {
        set_versioning(s3, bucket, status).await;
    }
}

/// Sets a bucket's versioning status.
#[cfg(feature = "aws")]
pub async fn set_versioning(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    status: aws_sdk_s3::types::BucketVersioningStatus,
) {
    s3.put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(status)
                .build(),
        )
        .send()
        .await
        .unwrap();
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The port in werkzeug's ` * Running on http://127.0.0.1:PORT` line.
fn running_port(line: &str) -> Option<u16> {
    let rest = line.split("Running on http://127.0.0.1:").nth(1)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok().filter(|&p| p != 0)
}

#[cfg(test)]
mod tests;
