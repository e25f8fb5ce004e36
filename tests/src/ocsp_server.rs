//! An OCSP responder on 127.0.0.1 whose answers come from `openssl ocsp`
//! (an implementation independent of the authorizer's), and which can be
//! told to misbehave. It counts the requests it gets, by method.
//!
//! It wraps the CLI rather than running `openssl ocsp -port`, which listens
//! on every interface and cannot be told to stall or fail: each request is
//! answered by `openssl ocsp -reqin … -respout …` over the [`OcspPki`]'s
//! index. Client certificates for its CA come from [`leaf_pem`].

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::Response;
use base64::Engine as _;
use tokio::task::JoinHandle;

use crate::ocsp::{OcspPki, Signer};

/// How the responder answers.
#[derive(Clone, Debug)]
pub enum Mode {
    /// `openssl ocsp`'s answer, signed by this signer, with these extra
    /// arguments (`-ndays 1`, `-resp_key_id`…).
    Openssl(Signer, Vec<String>),
    /// Sleep this long, then answer as `Openssl` with the responder.
    Stall(Duration),
    /// This HTTP status, no body.
    Status(u16),
    /// 200 with these bytes.
    Bytes(Vec<u8>),
    /// 302 Found, to this location.
    Redirect(String),
}

/// Answers by (request, signer and arguments).
type Memo = std::collections::HashMap<(Vec<u8>, String), Vec<u8>>;

struct Inner {
    pki: Arc<OcspPki>,
    mode: Mutex<Mode>,
    /// `openssl ocsp`'s answers, by request and signer: a request asked
    /// again (a benchmark's) costs no openssl run.
    memo: Mutex<Memo>,
    gets: AtomicUsize,
    posts: AtomicUsize,
}

/// The running responder; stops when dropped.
pub struct OcspServer {
    addr: std::net::SocketAddr,
    inner: Arc<Inner>,
    task: JoinHandle<()>,
}

/// The DER request of a GET (RFC 6960 Appendix A.1): the path after the
/// last `/`, percent-decoded, then base64.
fn request_of_get(uri: &Uri) -> Option<Vec<u8>> {
    let last = uri.path().rsplit('/').next()?;
    let mut decoded = Vec::new();
    let bytes = last.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    base64::engine::general_purpose::STANDARD
        .decode(decoded)
        .ok()
}

async fn answer(
    State(inner): State<Arc<Inner>>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let request = if method == Method::POST {
        inner.posts.fetch_add(1, Ordering::SeqCst);
        Some(body.to_vec())
    } else {
        inner.gets.fetch_add(1, Ordering::SeqCst);
        request_of_get(&uri)
    };
    let plain = |status: StatusCode, body: Vec<u8>| {
        Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "application/ocsp-response")
            .body(Body::from(body))
            .unwrap()
    };
    let Some(request) = request else {
        return plain(StatusCode::BAD_REQUEST, Vec::new());
    };
    let mode = inner.mode.lock().unwrap().clone();
    let (signer, args) = match mode {
        Mode::Status(code) => return plain(StatusCode::from_u16(code).unwrap(), Vec::new()),
        Mode::Bytes(bytes) => return plain(StatusCode::OK, bytes),
        Mode::Redirect(to) => {
            return Response::builder()
                .status(StatusCode::FOUND)
                .header(header::LOCATION, to)
                .body(Body::empty())
                .unwrap();
        }
        Mode::Stall(d) => {
            tokio::time::sleep(d).await;
            (Signer::Responder, vec!["-ndays".to_owned(), "1".to_owned()])
        }
        Mode::Openssl(signer, args) => (signer, args),
    };
    let key = (request.clone(), format!("{}{args:?}", signer.stem()));
    if let Some(der) = inner.memo.lock().unwrap().get(&key) {
        return plain(StatusCode::OK, der.clone());
    }
    let pki = Arc::clone(&inner.pki);
    let der = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        pki.respond(&request, signer, &args)
    })
    .await
    .unwrap();
    inner.memo.lock().unwrap().insert(key, der.clone());
    plain(StatusCode::OK, der)
}

impl OcspServer {
    /// Starts answering for `pki`'s CA on an ephemeral loopback port, as
    /// its delegated responder with `-ndays 1`.
    pub async fn start(pki: Arc<OcspPki>) -> Self {
        let inner = Arc::new(Inner {
            pki,
            mode: Mutex::new(Mode::Openssl(
                Signer::Responder,
                vec!["-ndays".to_owned(), "1".to_owned()],
            )),
            memo: Mutex::new(Memo::new()),
            gets: AtomicUsize::new(0),
            posts: AtomicUsize::new(0),
        });
        let app = Router::new()
            .fallback(answer)
            .with_state(Arc::clone(&inner));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, inner, task }
    }

    /// The responder's URL, `http://127.0.0.1:<port>/ocsp/`.
    pub fn url(&self) -> String {
        format!("http://{}/ocsp/", self.addr)
    }

    /// Changes how it answers.
    pub fn set_mode(&self, mode: Mode) {
        *self.inner.mode.lock().unwrap() = mode;
    }

    /// Requests received, GET and POST.
    pub fn requests(&self) -> usize {
        self.gets() + self.posts()
    }

    /// GET requests received.
    pub fn gets(&self) -> usize {
        self.inner.gets.load(Ordering::SeqCst)
    }

    /// POST requests received.
    pub fn posts(&self) -> usize {
        self.inner.posts.load(Ordering::SeqCst)
    }
}

impl Drop for OcspServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A client certificate (PEM) for `pki`'s issuing CA with `serial`, made by
/// `openssl x509 -req`; with `aia`, its authorityInfoAccess names that OCSP
/// responder.
pub fn leaf_pem(pki: &OcspPki, name: &str, serial: &[u8], aia: Option<&str>) -> String {
    let dir = pki.path();
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .current_dir(dir)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let (key, csr, ext, pem) = (
        format!("leaf-{name}.key"),
        format!("leaf-{name}.csr"),
        format!("leaf-{name}.ext"),
        format!("leaf-{name}.pem"),
    );
    let subject = format!("/O=OCSP Testers/CN={name}");
    run(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        &key,
        "-out",
        &csr,
        "-subj",
        &subject,
    ]);
    let mut extensions =
        "basicConstraints=critical,CA:FALSE\nextendedKeyUsage=clientAuth\n".to_owned();
    if let Some(uri) = aia {
        extensions.push_str(&format!("authorityInfoAccess=OCSP;URI:{uri}\n"));
    }
    std::fs::write(dir.join(&ext), extensions).unwrap();
    let hex: String = serial.iter().map(|b| format!("{b:02X}")).collect();
    let serial = format!("0x{hex}");
    run(&[
        "x509",
        "-req",
        "-in",
        &csr,
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-set_serial",
        &serial,
        "-days",
        "10",
        "-sha256",
        "-extfile",
        &ext,
        "-out",
        &pem,
    ]);
    std::fs::read_to_string(dir.join(pem)).unwrap()
}

/// A CRL of `pki`'s issuing CA, `<name>.pem`, made by `openssl ca -gencrl`
/// (a day's validity), listing `revoked`; returns its `file://` URI.
pub fn openssl_crl(pki: &OcspPki, name: &str, revoked: &[&[u8]]) -> String {
    let dir = pki.path();
    let index = format!("{name}-index.txt");
    std::fs::write(
        dir.join(format!("{name}.cnf")),
        format!(
            "[ca]\ndefault_ca = d\n[d]\ndatabase = {index}\ncrlnumber = {name}-number\n\
             default_md = sha256\ndefault_crl_days = 1\n"
        ),
    )
    .unwrap();
    let lines: String = revoked
        .iter()
        .map(|s| {
            let hex: String = s.iter().map(|b| format!("{b:02X}")).collect();
            format!(
                "R\t361231000000Z\t250101000000Z,keyCompromise\t{hex}\tunknown\t/CN=crl-{hex}\n"
            )
        })
        .collect();
    std::fs::write(dir.join(&index), lines).unwrap();
    std::fs::write(dir.join(format!("{name}-number")), "01\n").unwrap();
    let out = Command::new("openssl")
        .current_dir(dir)
        .args([
            "ca",
            "-config",
            &format!("{name}.cnf"),
            "-keyfile",
            "ca.key",
            "-cert",
            "ca.pem",
            "-gencrl",
            "-out",
            &format!("{name}.pem"),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    format!("file://{}", dir.join(format!("{name}.pem")).display())
}
