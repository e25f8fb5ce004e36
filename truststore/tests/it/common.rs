//! Fixtures for the truststore tests, all made at test time: CA chains with
//! rcgen, weak-algorithm CAs with the openssl CLI, and a runner for the
//! built `truststore` binary.

pub mod apigw;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SignatureAlgorithm,
};
use time::{Duration, OffsetDateTime};

pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// A certificate with its key, able to sign others.
pub struct Made {
    pub params: CertificateParams,
    pub key: KeyPair,
    pub pem: String,
    pub der: Vec<u8>,
}

impl Made {
    pub fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::from_params(&self.params, &self.key)
    }
}

/// What to make.
pub struct Spec {
    pub cn: String,
    pub ca: bool,
    pub alg: &'static SignatureAlgorithm,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

impl Spec {
    pub fn ca(cn: &str) -> Self {
        Self {
            cn: cn.to_owned(),
            ca: true,
            alg: &rcgen::PKCS_ECDSA_P256_SHA256,
            not_before: now() - Duration::days(1),
            not_after: now() + Duration::days(3650),
        }
    }

    pub fn leaf(cn: &str) -> Self {
        Self {
            ca: false,
            ..Self::ca(cn)
        }
    }

    pub fn alg(mut self, alg: &'static SignatureAlgorithm) -> Self {
        self.alg = alg;
        self
    }

    pub fn validity(mut self, not_before: OffsetDateTime, not_after: OffsetDateTime) -> Self {
        self.not_before = not_before;
        self.not_after = not_after;
        self
    }

    fn params(&self) -> CertificateParams {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "Truststore Tests");
        dn.push(DnType::CommonName, self.cn.clone());
        p.distinguished_name = dn;
        if self.ca {
            p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        } else {
            p.is_ca = IsCa::ExplicitNoCa;
        }
        p.not_before = self.not_before;
        p.not_after = self.not_after;
        p
    }

    /// Self-signed.
    pub fn root(self) -> Made {
        let params = self.params();
        let key = KeyPair::generate_for(self.alg).unwrap();
        let cert = params.self_signed(&key).unwrap();
        Made {
            pem: cert.pem(),
            der: cert.der().to_vec(),
            params,
            key,
        }
    }

    /// Signed by `parent`.
    pub fn signed_by(self, parent: &Made) -> Made {
        let params = self.params();
        let key = KeyPair::generate_for(self.alg).unwrap();
        let cert = params.signed_by(&key, &parent.issuer()).unwrap();
        Made {
            pem: cert.pem(),
            der: cert.der().to_vec(),
            params,
            key,
        }
    }
}

/// A chain of `n` CAs: a root, then each signed by the one before.
pub fn chain(n: usize, prefix: &str) -> Vec<Made> {
    let mut out: Vec<Made> = vec![Spec::ca(&format!("{prefix} 1 Root")).root()];
    for i in 2..=n {
        let next = Spec::ca(&format!("{prefix} {i}")).signed_by(out.last().unwrap());
        out.push(next);
    }
    out
}

pub fn pems(certs: &[&Made]) -> String {
    certs.iter().map(|c| c.pem.as_str()).collect()
}

/// A self-signed CA made by the openssl CLI; `newkey` and `digest` are
/// passed through, e.g. ("rsa:1024", "-sha256").
pub fn openssl_ca(dir: &Path, name: &str, newkey: &[&str], digest: &str) -> String {
    let cert = dir.join(format!("{name}.pem"));
    let key = dir.join(format!("{name}.key"));
    let out = Command::new("openssl")
        .args(["req", "-x509", "-nodes", "-days", "365"])
        .args(newkey)
        .arg(digest)
        .args(["-subj", &format!("/O=Truststore Tests/CN={name}")])
        .args(["-addext", "basicConstraints=critical,CA:TRUE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("the openssl CLI is needed for these fixtures");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(cert).unwrap()
}

/// Runs the built `truststore` binary with `args` in `cwd` and a clean AWS
/// environment plus `env`.
pub fn truststore(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    truststore_command(cwd, args, env).output().unwrap()
}

/// The built `truststore` binary, ready to run as [`truststore`] runs it
/// (or to spawn, for commands that must run at the same time).
pub fn truststore_command(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_truststore"));
    cmd.current_dir(cwd)
        .args(args)
        .env_remove("AWS_PROFILE")
        .env_remove("TRUSTSTORE_DENY_LIST")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("TRUSTSTORE_PKI_DIR", "pki");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}
