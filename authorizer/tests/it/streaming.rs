//! The streamed CRL path against whole-body parses, on CRLs made by two
//! independent tools (the `openssl` CLI, which writes its entries in order,
//! and pyca/cryptography, here in random order), with 0, 1, 1,000 and 100,000
//! entries. However the body is cut into chunks, the index is the one a
//! whole-body parse gives, entry for entry (x509-parser's full parse is the
//! independent reference), and so are the decisions.

use crate::common;

use std::path::Path;
use std::process::Command;

use mtls_policy::config::Config;
use mtls_policy::decision::{DenyReason, Engine, RuleIssuer};
use mtls_tests::xorshift;
use mtls_x509::crl::{CrlIngest, CrlTimePolicy, VerifiedCrl};
use mtls_x509::serial::Serial;
use mtls_x509::time::UnixTime;
use mtls_x509::truststore::TrustStore;
use x509_parser::prelude::{FromDer, X509Certificate, parse_x509_crl};

const SIZES: [usize; 4] = [0, 1, 1000, 100_000];

fn now() -> UnixTime {
    UnixTime(mtls_tests::pki::unix(mtls_tests::pki::now()))
}

const POLICY: CrlTimePolicy = CrlTimePolicy {
    clock_skew_seconds: 60,
    grace_seconds: 3600,
};

fn run(dir: &Path, program: &str, args: &[&str]) {
    let out = Command::new(program)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, a CRL of `n` entries and client certificates, by the openssl CLI:
/// an index.txt of `n` revoked serials, then `openssl ca -gencrl`.
fn openssl_pki(dir: &Path, n: usize) {
    run(
        dir,
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "365",
            "-subj",
            "/O=Temperature Testers, Inc./CN=Devices CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    let mut next = xorshift(0x9e37_79b9 ^ n as u64);
    let mut serial = || {
        let mut s = String::from("4");
        while s.len() < 40 {
            s.push_str(&format!("{:016X}", next()));
        }
        s.truncate(40);
        s
    };
    let serials: Vec<String> = (0..n + 3).map(|_| serial()).collect();
    let mut index = String::new();
    for (i, s) in serials.iter().take(n).enumerate() {
        let reason = ["keyCompromise", "superseded", "cessationOfOperation"][i % 3];
        index.push_str(&format!(
            "R\t491231235959Z\t260101000000Z,{reason}\t{s}\tunknown\t/CN=device-{i}\n"
        ));
    }
    std::fs::write(dir.join("index.txt"), index).unwrap();
    std::fs::write(dir.join("crlnumber"), "1000\n").unwrap();
    std::fs::write(
        dir.join("ca.cnf"),
        "[ca]\ndefault_ca = d\n[d]\ndir = .\ndatabase = index.txt\ncrlnumber = crlnumber\ndefault_md = sha256\ndefault_crl_days = 1\n",
    )
    .unwrap();
    std::fs::write(dir.join("leaf.ext"), "extendedKeyUsage = clientAuth\n").unwrap();
    run(
        dir,
        "openssl",
        &[
            "ca", "-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.pem", "-gencrl", "-out",
            "crl.pem",
        ],
    );
    run(
        dir,
        "openssl",
        &[
            "crl", "-in", "crl.pem", "-outform", "DER", "-out", "crl.der",
        ],
    );
    let picks = serials
        .iter()
        .take(n.min(3))
        .map(|s| ("listed", s))
        .chain(serials.iter().skip(n).map(|s| ("unlisted", s)));
    let mut counts = [0usize; 2];
    for (kind, serial) in picks {
        let k = &mut counts[usize::from(kind == "unlisted")];
        let name = format!("{kind}-{k}");
        *k += 1;
        run(
            dir,
            "openssl",
            &[
                "req",
                "-new",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
                "-subj",
                &format!("/O=Temperature Testers, Inc./CN={name}"),
            ],
        );
        run(
            dir,
            "openssl",
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-set_serial",
                &format!("0x{serial}"),
                "-days",
                "30",
                "-sha256",
                "-extfile",
                "leaf.ext",
                "-out",
                &format!("{name}.pem"),
            ],
        );
    }
}

/// The same with pyca/cryptography (`interop/make_crl.py`).
fn pyca_pki(dir: &Path, n: usize) {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/make_crl.py");
    run(
        dir,
        &python,
        &[
            script.to_str().unwrap(),
            dir.to_str().unwrap(),
            &n.to_string(),
            "7",
        ],
    );
}

/// Every serial of a CRL as x509-parser reads the whole body: the
/// independent reference.
fn reference_serials(der: &[u8]) -> Vec<Serial> {
    let (_, crl) = parse_x509_crl(der).unwrap();
    let mut serials: Vec<Serial> = crl
        .iter_revoked_certificates()
        .map(|r| Serial::from_integer_bytes(r.raw_serial()))
        .collect();
    serials.sort_by(|a, b| {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    });
    serials.dedup();
    serials
}

/// How a body is cut: the size of each next chunk.
type Cut = Box<dyn FnMut() -> usize>;

fn streamed(
    der: &[u8],
    rule: &RuleIssuer<'_>,
    ts: &TrustStore,
    mut chunk: impl FnMut() -> usize,
) -> VerifiedCrl {
    let mut ingest = CrlIngest::new(rule, ts);
    let mut rest = der;
    while !rest.is_empty() {
        let (head, tail) = rest.split_at(chunk().clamp(1, rest.len()));
        ingest.push(head).unwrap();
        rest = tail;
    }
    ingest.finish(now(), POLICY).unwrap()
}

fn check(dir: &Path, tool: &str, n: usize) {
    let ca = std::fs::read(dir.join("ca.pem")).unwrap();
    let ts = TrustStore::from_pem(&ca).unwrap();
    let config = Config::from_json(
        r#"{"truststore":"file:///unused","issuers":[{"name":"devices","match":{"CN":"Devices CA"},"crl":"file:///unused"}]}"#,
    )
    .unwrap();
    let rule = RuleIssuer(&config.issuers()[0]);
    let der = std::fs::read(dir.join("crl.der")).unwrap();

    let whole = VerifiedCrl::verify(&der, &rule, &ts, now(), POLICY).unwrap();
    let index: Vec<Serial> = whole.revoked().iter().collect();
    assert_eq!(index.len(), n, "{tool}, {n} entries");
    assert_eq!(index, reference_serials(&der), "{tool}, {n} entries");

    let mut random = xorshift(n as u64 + 1);
    // A few octets first, then everything at once: a network's small first
    // read, then a large one.
    let mut first = [5usize, 90].into_iter();
    let mut cuts: Vec<(&str, Cut)> = vec![
        ("1,000-octet chunks", Box::new(|| 1000)),
        ("64 KiB chunks", Box::new(|| 64 * 1024)),
        (
            "5 and 90 octets, then the rest at once",
            Box::new(move || first.next().unwrap_or(usize::MAX)),
        ),
        (
            "random chunks of 1 to 3,000 octets",
            Box::new(move || 1 + (random() % 3000) as usize),
        ),
    ];
    // Chunks smaller than an entry, where every entry straddles a cut (the
    // 100,000-entry CRLs get the random cuts, which straddle thousands).
    if n <= 1000 {
        cuts.push(("1-octet chunks", Box::new(|| 1)));
        cuts.push(("7-octet chunks", Box::new(|| 7)));
    }
    let pems: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            let kind = name.split('-').next()?.to_owned();
            (name.ends_with(".pem") && (kind == "listed" || kind == "unlisted"))
                .then(|| (kind, std::fs::read_to_string(dir.join(&name)).unwrap()))
        })
        .collect();
    assert_eq!(pems.len(), n.min(3) + 3, "{tool}: the client certificates");
    let engine = Engine::new(&config, &ts);
    for (what, cut) in &mut cuts {
        let crl = streamed(&der, &rule, &ts, cut);
        assert!(
            crl.revoked().iter().eq(index.iter().cloned()),
            "{tool}, {n} entries, {what}: the same index"
        );
        assert_eq!(crl.fingerprint(), whole.fingerprint());
        assert_eq!(crl.number(), whole.number());
        for (kind, pem) in &pems {
            let want = (kind == "listed").then_some(DenyReason::Revoked);
            let by_stream = common::core_decide(&engine, pem, now(), Some(&crl)).reason();
            let by_whole = common::core_decide(&engine, pem, now(), Some(&whole)).reason();
            assert_eq!(
                (by_stream, by_whole),
                (want, want),
                "{tool}, {n} entries, {what}: {}",
                certificate_serial(pem)
            );
        }
    }
}

fn certificate_serial(pem: &str) -> String {
    let der = mtls_x509::pem::find(pem.as_bytes(), mtls_x509::pem::CERTIFICATE)
        .unwrap()
        .unwrap();
    let (_, cert) = X509Certificate::from_der(&der).unwrap();
    cert.raw_serial_as_string()
}

#[test]
fn streamed_ingestion_matches_whole_body_parses_of_openssl_crls() {
    for n in SIZES {
        let dir = tempfile::tempdir().unwrap();
        openssl_pki(dir.path(), n);
        check(dir.path(), "openssl", n);
    }
}

#[test]
fn streamed_ingestion_matches_whole_body_parses_of_pyca_crls_in_random_order() {
    for n in SIZES {
        let dir = tempfile::tempdir().unwrap();
        pyca_pki(dir.path(), n);
        check(dir.path(), "pyca/cryptography", n);
    }
}
