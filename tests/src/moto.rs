//! A local AWS (S3, DynamoDB) that speaks the AWS wire protocol: `moto_server` (pip
//! `moto[server]`) on 127.0.0.1, stopped when dropped.

use std::net::{SocketAddr, TcpListener};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

/// A running `moto_server`.
pub struct Moto {
    addr: SocketAddr,
    _child: Child,
}

impl Moto {
    /// Starts `moto_server` (or `$MOTO_SERVER`) and waits until it accepts connections.
    pub async fn start() -> Self {
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let program = std::env::var("MOTO_SERVER").unwrap_or_else(|_| "moto_server".to_owned());
        let child = Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start `{program}` ({e}); install it with `pip install 'moto[server]'` (make setup does)")
            });
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not start within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Self {
            addr,
            _child: child,
        }
    }

    /// The endpoint URL, for `AWS_ENDPOINT_URL_S3`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// AWS configuration for this server, with the workspace's own HTTPS
    /// stack and test credentials; the host's AWS environment is ignored.
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
    pub async fn s3(&self) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.sdk_config().await)
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }
}

/// Creates `bucket` and, when given, sets its versioning status.
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
