//! OCSP fixtures from two implementations independent of the authorizer's:
//! a PKI and responses made by the `openssl` CLI (`openssl req`, `x509` and
//! the `openssl ocsp` responder, fed an `index.txt`), and responses that
//! openssl will not write (chosen times, unknown extensions) made by
//! pyca/cryptography's `OCSPResponseBuilder` (`$PYTHON`, default `python3`,
//! as in [`crate::pyca`]).
//!
//! The PKI, in a temporary directory, `<name>.pem` and `<name>.key` for
//! each [`Signer`]: an issuing CA (ECDSA P-256) and responder certificates
//! around it, good and bad.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use tempfile::TempDir;

/// The certificates (and keys) of an [`OcspPki`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signer {
    /// The issuing CA, `O=OCSP Testers, CN=Issuing CA` (ECDSA P-256).
    Ca,
    /// A delegated responder the CA issued: RSA 2048, `id-kp-OCSPSigning`,
    /// keyUsage digitalSignature and `id-pkix-ocsp-nocheck`.
    Responder,
    /// Issued by the CA to the responder's name, without an EKU.
    ResponderWithoutEku,
    /// Issued by the CA to the responder's name with `id-kp-OCSPSigning`,
    /// but a CA certificate (cA TRUE).
    CaResponder,
    /// Another CA, `O=OCSP Testers, CN=Other CA`.
    OtherCa,
    /// A responder with `id-kp-OCSPSigning`, to the responder's name,
    /// issued by the other CA.
    OtherCaResponder,
    /// A CA with the issuing CA's name and its own key.
    Impostor,
    /// A responder with `id-kp-OCSPSigning`, to the responder's name,
    /// issued by the impostor: its issuer name is the issuing CA's.
    ImpostorResponder,
}

impl Signer {
    /// The file stem of its certificate and key.
    pub fn stem(self) -> &'static str {
        match self {
            Self::Ca => "ca",
            Self::Responder => "responder",
            Self::ResponderWithoutEku => "responder-no-eku",
            Self::CaResponder => "responder-ca",
            Self::OtherCa => "other-ca",
            Self::OtherCaResponder => "other-responder",
            Self::Impostor => "impostor",
            Self::ImpostorResponder => "impostor-responder",
        }
    }
}

/// A serial the responder knows as good: 20 octets with the high bit set,
/// so its INTEGER carries a `00` first.
pub const GOOD_SERIAL: [u8; 20] = [
    0x80, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a,
    0x5a, 0x5a, 0x5a, 0x01,
];
/// A serial the responder knows as revoked (keyCompromise) at [`REVOKED_AT`].
pub const REVOKED_SERIAL: [u8; 2] = [0x10, 0x02];
/// A serial the responder does not know.
pub const UNKNOWN_SERIAL: [u8; 2] = [0x10, 0x03];
/// When [`REVOKED_SERIAL`] was revoked: 2025-01-01T00:00:00Z.
pub const REVOKED_AT: i64 = 1_735_689_600;

const SUBJECT_CA: &str = "/O=OCSP Testers/CN=Issuing CA";
const SUBJECT_OTHER_CA: &str = "/O=OCSP Testers/CN=Other CA";
const SUBJECT_RESPONDER: &str = "/O=OCSP Testers/CN=OCSP Responder";

/// An openssl PKI for OCSP, in a temporary directory removed on drop.
pub struct OcspPki {
    dir: TempDir,
    /// Numbers the files of concurrent calls.
    next: AtomicUsize,
}

impl Default for OcspPki {
    fn default() -> Self {
        Self::new()
    }
}

impl OcspPki {
    /// Makes the CAs, the responder certificates and the responder's
    /// `index.txt` (good, revoked; the unknown serial is not listed).
    pub fn new() -> Self {
        let pki = Self {
            dir: tempfile::tempdir().unwrap(),
            next: AtomicUsize::new(0),
        };
        for (who, subject) in [
            (Signer::Ca, SUBJECT_CA),
            (Signer::OtherCa, SUBJECT_OTHER_CA),
            (Signer::Impostor, SUBJECT_CA),
        ] {
            pki.self_signed_ca(who, subject);
        }
        let eku = "extendedKeyUsage=OCSPSigning\n";
        let end_entity = "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n";
        pki.issue(
            Signer::Responder,
            Signer::Ca,
            &["rsa:2048"],
            &format!("{end_entity}{eku}noCheck=ignored\n"),
        );
        pki.issue(Signer::ResponderWithoutEku, Signer::Ca, EC, end_entity);
        pki.issue(
            Signer::CaResponder,
            Signer::Ca,
            EC,
            &format!("basicConstraints=critical,CA:TRUE\n{eku}"),
        );
        pki.issue(
            Signer::OtherCaResponder,
            Signer::OtherCa,
            EC,
            &format!("{end_entity}{eku}"),
        );
        pki.issue(
            Signer::ImpostorResponder,
            Signer::Impostor,
            EC,
            &format!("{end_entity}{eku}"),
        );
        let good = hex_upper(&GOOD_SERIAL);
        let revoked = hex_upper(&REVOKED_SERIAL);
        std::fs::write(
            pki.path().join("index.txt"),
            format!(
                "V\t361231000000Z\t\t{good}\tunknown\t/CN=device-good\n\
                 R\t361231000000Z\t250101000000Z,keyCompromise\t{revoked}\tunknown\t/CN=device-revoked\n"
            ),
        )
        .unwrap();
        pki
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A certificate, as PEM.
    pub fn pem(&self, who: Signer) -> String {
        std::fs::read_to_string(self.file(who, "pem")).unwrap()
    }

    /// A certificate, as DER.
    pub fn der(&self, who: Signer) -> Vec<u8> {
        let pem = self.pem(who);
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64).unwrap()
    }

    /// The answer of `openssl ocsp`, as the issuing CA's responder, to
    /// `request` (DER), signed by `signer` with SHA-256, with `args` added
    /// (`-ndays 1`, `-resp_key_id`, `-resp_no_certs`, ...). openssl matches
    /// the request's issuer hashes against the CA, under the request's hash
    /// algorithm, and answers `unknown` when they differ.
    pub fn respond(&self, request: &[u8], signer: Signer, args: &[&str]) -> Vec<u8> {
        let (req, resp) = (self.scratch("req.der"), self.scratch("resp.der"));
        std::fs::write(&req, request).unwrap();
        let mut all: Vec<&str> = vec![
            "ocsp",
            "-index",
            "index.txt",
            "-CA",
            "ca.pem",
            "-rmd",
            "sha256",
        ];
        let (cert, key) = (self.file(signer, "pem"), self.file(signer, "key"));
        all.extend([
            "-rsigner",
            path_str(&cert),
            "-rkey",
            path_str(&key),
            "-reqin",
            path_str(&req),
            "-respout",
            path_str(&resp),
        ]);
        all.extend_from_slice(args);
        self.openssl(&all);
        std::fs::read(resp).unwrap()
    }

    /// The request `openssl ocsp` itself sends for the CA's certificate with
    /// `serial`, without a nonce, its CertID hashed with `digest`
    /// (`"sha256"`, `"sha1"`).
    pub fn openssl_request(&self, serial: &[u8], digest: &str) -> Vec<u8> {
        let out = self.scratch("own-req.der");
        let digest = format!("-{digest}");
        let serial = format!("0x{}", hex_upper(serial));
        // The digest must come before -serial, which it applies to.
        self.openssl(&[
            "ocsp",
            "-issuer",
            "ca.pem",
            &digest,
            "-serial",
            &serial,
            "-no_nonce",
            "-reqout",
            path_str(&out),
        ]);
        std::fs::read(out).unwrap()
    }

    /// `openssl ocsp -req_text` of `request`: how openssl reads it (and a
    /// failed test if it cannot).
    pub fn request_text(&self, request: &[u8]) -> String {
        let req = self.scratch("req.der");
        std::fs::write(&req, request).unwrap();
        self.openssl(&["ocsp", "-reqin", path_str(&req), "-req_text"])
    }

    /// `bytes` signed by `who`'s key with SHA-256 (`openssl dgst -sign`):
    /// an ECDSA-Sig-Value or an RSA PKCS #1 v1.5 signature, to re-sign an
    /// edited `tbsResponseData`.
    pub fn sign(&self, who: Signer, bytes: &[u8]) -> Vec<u8> {
        let (input, output) = (self.scratch("tbs.der"), self.scratch("sig.der"));
        std::fs::write(&input, bytes).unwrap();
        let key = self.file(who, "key");
        self.openssl(&[
            "dgst",
            "-sha256",
            "-sign",
            path_str(&key),
            "-out",
            path_str(&output),
            path_str(&input),
        ]);
        std::fs::read(output).unwrap()
    }

    /// A response to `request` made by pyca/cryptography, which first
    /// parses `request` (so pyca reads our requests too) and answers for its
    /// CertID. See [`PycaAnswer`] for the choices.
    pub fn pyca_respond(&self, request: &[u8], answer: &PycaAnswer) -> Vec<u8> {
        let (req, out) = (self.scratch("req.der"), self.scratch("resp.der"));
        std::fs::write(&req, request).unwrap();
        let file = |who: Signer, ext: &str| path_str(&self.file(who, ext)).to_owned();
        let spec: Value = json!({
            "request": path_str(&req),
            "out": path_str(&out),
            "signer_cert": file(answer.signer, "pem"),
            "signer_key": file(answer.signer, "key"),
            "by_key": answer.by_key,
            "certs": answer.certs.iter().map(|c| file(*c, "pem")).collect::<Vec<_>>(),
            "status": answer.status,
            "serial": answer.serial,
            "this_update": answer.this_update,
            "next_update": answer.next_update,
            "revocation_time": answer.revocation_time,
            "reason": answer.reason,
            "extensions": answer.extensions.iter().map(|(oid, critical, value)| json!({
                "oid": oid, "critical": critical, "value": hex_upper(value),
            })).collect::<Vec<_>>(),
            "nonce": answer.nonce.as_deref().map(hex_upper),
        });
        let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
        let run = Command::new(&python)
            .args(["-c", PYCA_RESPOND, &spec.to_string()])
            .output()
            .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
        assert!(
            run.status.success(),
            "{python} (needs pyca/cryptography; `make setup` installs it):\n{}",
            String::from_utf8_lossy(&run.stderr)
        );
        std::fs::read(out).unwrap()
    }

    fn file(&self, who: Signer, ext: &str) -> PathBuf {
        self.path().join(format!("{}.{ext}", who.stem()))
    }

    /// A fresh file name, so that concurrent calls never share one.
    fn scratch(&self, name: &str) -> PathBuf {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        self.path().join(format!("{n}-{name}"))
    }

    fn self_signed_ca(&self, who: Signer, subject: &str) {
        let (cert, key) = (self.file(who, "pem"), self.file(who, "key"));
        let mut args = vec!["req", "-x509", "-newkey"];
        args.extend_from_slice(EC);
        args.extend([
            "-nodes",
            "-keyout",
            path_str(&key),
            "-out",
            path_str(&cert),
            "-days",
            "30",
            "-sha256",
            "-subj",
            subject,
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        self.openssl(&args);
    }

    /// A certificate to the responder's name for `who`, signed by `by`,
    /// with `extensions` (lines of an openssl extension file).
    fn issue(&self, who: Signer, by: Signer, key_spec: &[&str], extensions: &str) {
        let (cert, key) = (self.file(who, "pem"), self.file(who, "key"));
        let (csr, ext) = (self.file(who, "csr"), self.file(who, "ext"));
        std::fs::write(&ext, extensions).unwrap();
        let mut req = vec!["req", "-new", "-newkey"];
        req.extend_from_slice(key_spec);
        req.extend([
            "-nodes",
            "-keyout",
            path_str(&key),
            "-out",
            path_str(&csr),
            "-subj",
            SUBJECT_RESPONDER,
        ]);
        self.openssl(&req);
        let serial = format!("0x{:04x}", 0x5000 + who as usize);
        let (ca_cert, ca_key) = (self.file(by, "pem"), self.file(by, "key"));
        self.openssl(&[
            "x509",
            "-req",
            "-in",
            path_str(&csr),
            "-CA",
            path_str(&ca_cert),
            "-CAkey",
            path_str(&ca_key),
            "-set_serial",
            &serial,
            "-days",
            "30",
            "-sha256",
            "-extfile",
            path_str(&ext),
            "-out",
            path_str(&cert),
        ]);
    }

    /// Runs `openssl args` in the directory; returns its standard output.
    fn openssl(&self, args: &[&str]) -> String {
        let out = Command::new("openssl")
            .current_dir(self.path())
            .args(args)
            .output()
            .expect("openssl CLI on PATH");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// `-newkey` arguments for an ECDSA P-256 key.
const EC: &[&str] = &["ec", "-pkeyopt", "ec_paramgen_curve:P-256"];

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// What [`OcspPki::pyca_respond`] answers. Times are Unix seconds.
#[derive(Clone, Debug)]
pub struct PycaAnswer {
    /// Who signs, and whom the responderID names.
    pub signer: Signer,
    /// The responderID by key hash instead of by name.
    pub by_key: bool,
    /// The certificates to include.
    pub certs: Vec<Signer>,
    /// `"good"`, `"revoked"` or `"unknown"`.
    pub status: &'static str,
    /// Another serial than the request's.
    pub serial: Option<u64>,
    /// `thisUpdate`.
    pub this_update: i64,
    /// `nextUpdate`.
    pub next_update: Option<i64>,
    /// For `"revoked"`.
    pub revocation_time: Option<i64>,
    /// For `"revoked"`: a `x509.ReasonFlags` value, e.g. `"keyCompromise"`.
    pub reason: Option<&'static str>,
    /// Response extensions: dotted OID, critical, the DER inside extnValue.
    pub extensions: Vec<(String, bool, Vec<u8>)>,
    /// A nonce response extension with these octets.
    pub nonce: Option<Vec<u8>>,
}

impl PycaAnswer {
    /// A good answer signed by the CA, from `this_update` to an hour later.
    pub fn good(this_update: i64) -> Self {
        Self {
            signer: Signer::Ca,
            by_key: false,
            certs: Vec::new(),
            status: "good",
            serial: None,
            this_update,
            next_update: Some(this_update + 3600),
            revocation_time: None,
            reason: None,
            extensions: Vec::new(),
            nonce: None,
        }
    }
}

/// The pyca/cryptography side of [`OcspPki::pyca_respond`]: argv[1] is the
/// JSON spec that function writes.
const PYCA_RESPOND: &str = r#"
import datetime, json, sys
from cryptography import x509
from cryptography.x509 import ocsp
from cryptography.hazmat.primitives import hashes, serialization

spec = json.loads(sys.argv[1])
request = ocsp.load_der_ocsp_request(open(spec["request"], "rb").read())

def cert(path):
    return x509.load_pem_x509_certificate(open(path, "rb").read())

def when(t):
    return None if t is None else datetime.datetime.fromtimestamp(t, datetime.timezone.utc)

status = {
    "good": ocsp.OCSPCertStatus.GOOD,
    "revoked": ocsp.OCSPCertStatus.REVOKED,
    "unknown": ocsp.OCSPCertStatus.UNKNOWN,
}[spec["status"]]
reason = None if spec["reason"] is None else x509.ReasonFlags(spec["reason"])
serial = request.serial_number if spec["serial"] is None else spec["serial"]
signer = cert(spec["signer_cert"])
key = serialization.load_pem_private_key(open(spec["signer_key"], "rb").read(), None)

builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
    request.issuer_name_hash, request.issuer_key_hash, serial, request.hash_algorithm,
    status, when(spec["this_update"]), when(spec["next_update"]),
    when(spec["revocation_time"]), reason,
)
encoding = ocsp.OCSPResponderEncoding.HASH if spec["by_key"] else ocsp.OCSPResponderEncoding.NAME
builder = builder.responder_id(encoding, signer)
if spec["certs"]:
    builder = builder.certificates([cert(p) for p in spec["certs"]])
for ext in spec["extensions"]:
    value = x509.UnrecognizedExtension(x509.ObjectIdentifier(ext["oid"]), bytes.fromhex(ext["value"]))
    builder = builder.add_extension(value, ext["critical"])
if spec["nonce"] is not None:
    builder = builder.add_extension(x509.OCSPNonce(bytes.fromhex(spec["nonce"])), False)
response = builder.sign(key, hashes.SHA256())
open(spec["out"], "wb").write(response.public_bytes(serialization.Encoding.DER))
"#;
