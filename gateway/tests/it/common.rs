//! The stack under test: the real `gateway`, `authorizer` and `api-handler`
//! binaries on loopback ports, with PKIs made by `truststore pki` in a
//! temporary directory; and real clients (curl, openssl s_client).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use gateway::dev::{self, Stack};
use tokio::process::{Child, Command};

/// The directory of the workspace's built binaries.
pub fn bin_dir() -> PathBuf {
    let gw = PathBuf::from(env!("CARGO_BIN_EXE_gateway"));
    let dir = gw.parent().unwrap().to_owned();
    // `cargo test --workspace` builds them; `cargo test -p gateway` may not.
    if !dir.join("authorizer").exists()
        || !dir.join("api-handler").exists()
        || !dir.join("truststore").exists()
    {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args([
                "build",
                "-p",
                "authorizer",
                "-p",
                "api-handler",
                "-p",
                "truststore",
            ])
            .status()
            .unwrap();
        assert!(status.success(), "building the function binaries failed");
    }
    dir
}

fn log_file(dir: &Path, name: &str) -> Stdio {
    Stdio::from(std::fs::File::create(dir.join(name)).unwrap())
}

/// A running gateway; killed when dropped.
pub struct Running {
    pub stack: Stack,
    pub port: u16,
    pub child: Child,
    _tmp: Option<tempfile::TempDir>,
}

impl Running {
    pub fn base(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    pub fn server_ca(&self) -> PathBuf {
        self.stack.gateway.join("server-ca.pem")
    }
}

/// Waits for the gateway's `listening` log event and returns its port.
///
/// The gateway binds `127.0.0.1:0` itself: a port reserved by the test and
/// released before the gateway binds it could be handed to a parallel test's
/// gateway too. The gateway binds only once both functions are ready.
async fn wait_listening(log: &Path, child: &mut Child) -> u16 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(port) = text.lines().find_map(listening_port) {
            return port;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the gateway exited: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "the gateway did not listen within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The port of a `{"event":"listening","address":"127.0.0.1:PORT"}` line.
fn listening_port(line: &str) -> Option<u16> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    if v["event"] != "listening" {
        return None;
    }
    let addr: std::net::SocketAddr = v["address"].as_str()?.parse().ok()?;
    Some(addr.port())
}

/// Starts `gateway <args> --listen 127.0.0.1:0` in `tmp` and waits until it
/// listens.
async fn start_gateway(tmp: &Path, args: Vec<std::ffi::OsString>) -> (u16, Child) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .current_dir(tmp)
        .args(args)
        .args(["--listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        // A process group of its own, as a shell gives a foreground job, so a
        // test can signal the whole group the way a terminal's Ctrl-C does.
        .process_group(0)
        // Files, not pipes: an unread pipe fills up and stalls the gateway.
        .stdout(log_file(tmp, "gateway.log"))
        .stderr(log_file(tmp, "functions.log"))
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let port = wait_listening(&tmp.join("gateway.log"), &mut child).await;
    (port, child)
}

/// `gateway dev` in a fresh temporary directory.
pub async fn dev_stack(extra: &[&str]) -> Running {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(".local");
    let mut args: Vec<std::ffi::OsString> = vec![
        "dev".into(),
        "--dir".into(),
        dir.clone().into(),
        "--bin-dir".into(),
        bin_dir().into(),
    ];
    args.extend(extra.iter().map(Into::into));
    let (port, child) = start_gateway(tmp.path(), args).await;
    let stack = dev::prepare(&dir, time::OffsetDateTime::now_utc()).unwrap();
    Running {
        stack,
        port,
        child,
        _tmp: Some(tmp),
    }
}

/// `gateway serve` on a prepared stack, with this authorizer configuration.
pub async fn serve_stack(
    tmp: tempfile::TempDir,
    stack: Stack,
    authorizer_config: &Path,
) -> Running {
    let authorizer = bin_dir().join("authorizer");
    serve_stack_with(tmp, stack, authorizer_config, &authorizer, &[]).await
}

/// [`serve_stack`] with another authorizer binary and extra `gateway serve` arguments.
pub async fn serve_stack_with(
    tmp: tempfile::TempDir,
    stack: Stack,
    authorizer_config: &Path,
    authorizer: &Path,
    extra: &[&str],
) -> Running {
    let bins = bin_dir();
    let mut args: Vec<std::ffi::OsString> = vec![
        "serve".into(),
        "--truststore".into(),
        stack.truststore.clone().into(),
        "--authorizer".into(),
        authorizer.into(),
        "--api-handler".into(),
        bins.join("api-handler").into(),
        "--authorizer-env".into(),
        format!("AUTHORIZER_CONFIG=file://{}", authorizer_config.display()).into(),
        "--handler-env".into(),
        format!("TEMPS_DATA_DIR={}", stack.data.display()).into(),
        "--state-dir".into(),
        stack.gateway.clone().into(),
    ];
    args.extend(extra.iter().map(Into::into));
    let (port, child) = start_gateway(tmp.path(), args).await;
    Running {
        stack,
        port,
        child,
        _tmp: Some(tmp),
    }
}

/// `openssl s_client` against the stack with `args`; stdout and stderr.
pub async fn s_client(run: &Running, args: &[&std::ffi::OsStr]) -> String {
    let out = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{}", run.port),
            "-CAfile",
        ])
        .arg(run.server_ca())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// What curl saw.
#[derive(Debug)]
pub struct Curl {
    /// curl's exit code (0 when an HTTP answer came back).
    pub exit: i32,
    /// The HTTP status (0 when none).
    pub status: u16,
    pub body: String,
    pub stderr: String,
}

impl Curl {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// A client certificate: `(cert.pem, key.pem)`.
pub fn client(pki: &Path, name: &str) -> (PathBuf, PathBuf) {
    let dir = pki.join("clients");
    (
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}.key")),
    )
}

/// curl against the stack, with a client certificate or none, bounded in time.
pub async fn curl(
    run: &Running,
    cert: Option<&(PathBuf, PathBuf)>,
    method: &str,
    path: &str,
    json_body: Option<&str>,
) -> Curl {
    curl_with(run, cert, method, path, json_body, &[]).await
}

/// [`curl`] with extra request headers (`"Name: value"`).
pub async fn curl_with(
    run: &Running,
    cert: Option<&(PathBuf, PathBuf)>,
    method: &str,
    path: &str,
    json_body: Option<&str>,
    headers: &[&str],
) -> Curl {
    let mut cmd = Command::new("curl");
    for h in headers {
        cmd.args(["-H", h]);
    }
    cmd.args([
        "-sS",
        "--max-time",
        "20",
        "-X",
        method,
        "-w",
        "\n%{http_code}",
    ])
    .arg("--cacert")
    .arg(run.server_ca());
    if let Some((c, k)) = cert {
        cmd.arg("--cert").arg(c).arg("--key").arg(k);
    }
    if let Some(b) = json_body {
        cmd.args(["-H", "content-type: application/json", "--data-binary", b]);
    }
    let out = cmd
        .arg(format!("{}{path}", run.base()))
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = stdout.rsplit_once('\n').unwrap_or(("", stdout.as_str()));
    Curl {
        exit: out.status.code().unwrap_or(-1),
        status: code.trim().parse().unwrap_or(0),
        body: body.to_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `GET /whoami` as the client `name` of the PKI in `pki`.
pub async fn whoami(run: &Running, pki: &Path, name: &str) -> Curl {
    whoami_as(run, &client(pki, name)).await
}

/// `GET /whoami` with this client certificate.
pub async fn whoami_as(run: &Running, cert: &(PathBuf, PathBuf)) -> Curl {
    curl(run, Some(cert), "GET", "/whoami", None).await
}

/// The truststore CLI, as a user runs it.
pub async fn truststore_cli(args: &[&str]) {
    let out = Command::new(bin_dir().join("truststore"))
        .args(args)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}
