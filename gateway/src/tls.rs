//! The TLS side: a server certificate for localhost, and a client
//! certificate verifier built from `truststore.pem` the way API Gateway uses
//! it (chain, signature and validity; never revocation). The truststore is
//! re-read when the file changes, like a new object version being pinned.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use mtls_x509::pem;
use rustls::RootCertStore;
use rustls::pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer,
};
use rustls::server::WebPkiClientVerifier;

use crate::error::{Error, Result};

/// The server certificate and key, with the CA that signed it (for curl's
/// `--cacert`).
#[derive(Debug)]
pub struct ServerIdentity {
    /// Certificate chain (leaf, then the local CA).
    pub chain: Vec<CertificateDer<'static>>,
    /// Private key.
    pub key: PrivateKeyDer<'static>,
    /// Where the local CA is written.
    pub ca_path: PathBuf,
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}

/// Loads the server identity from `dir`, or makes one: a local CA and a
/// certificate for `localhost` and `127.0.0.1`, kept so that a client's
/// `--cacert` keeps working across restarts.
///
/// # Errors
/// Unreadable or unwritable files, or a generation failure.
pub fn server_identity(dir: &Path) -> Result<ServerIdentity> {
    let cert_path = dir.join("server.pem");
    let key_path = dir.join("server.key");
    let ca_path = dir.join("server-ca.pem");
    if !(cert_path.exists() && key_path.exists() && ca_path.exists()) {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_owned(),
            source,
        })?;
        let rc = |e: rcgen::Error| Error::Tls(format!("server certificate: {e}"));
        let ca_key = rcgen::KeyPair::generate().map_err(rc)?;
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(rc)?;
        ca_params.distinguished_name.push(
            rcgen::DnType::CommonName,
            "mtls-authorizer local gateway CA",
        );
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
        ca_params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let ca = ca_params.self_signed(&ca_key).map_err(rc)?;
        let issuer = rcgen::Issuer::new(ca_params, &ca_key);
        let key = rcgen::KeyPair::generate().map_err(rc)?;
        let mut params =
            rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .map_err(rc)?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "localhost");
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params.signed_by(&key, &issuer).map_err(rc)?;
        write(&ca_path, ca.pem().as_bytes())?;
        write(&cert_path, format!("{}{}", cert.pem(), ca.pem()).as_bytes())?;
        write(&key_path, key.serialize_pem().as_bytes())?;
    }
    let chain = certificates(&read(&cert_path)?)
        .map_err(|e| Error::Tls(format!("{}: {e}", cert_path.display())))?;
    let key = private_key(&read(&key_path)?)
        .map_err(|e| Error::Tls(format!("{}: {e}", key_path.display())))?;
    Ok(ServerIdentity {
        chain,
        key,
        ca_path,
    })
}

/// The `CERTIFICATE` blocks of a PEM text, in order, for rustls.
///
/// # Errors
/// An unreadable PEM block.
pub fn certificates(
    text: &[u8],
) -> std::result::Result<Vec<CertificateDer<'static>>, pem::PemError> {
    let mut out = Vec::new();
    for block in pem::blocks(text) {
        let block = block?;
        if block.label == pem::CERTIFICATE {
            out.push(CertificateDer::from(block.der));
        }
    }
    Ok(out)
}

/// The first private key of a PEM text, in the format its label names, for rustls.
///
/// # Errors
/// An unreadable PEM block, or no unencrypted private key.
pub fn private_key(text: &[u8]) -> std::result::Result<PrivateKeyDer<'static>, String> {
    for block in pem::blocks(text) {
        let block = block.map_err(|e| e.to_string())?;
        match block.label.as_str() {
            "PRIVATE KEY" => return Ok(PrivatePkcs8KeyDer::from(block.der).into()),
            "EC PRIVATE KEY" => return Ok(PrivateSec1KeyDer::from(block.der).into()),
            "RSA PRIVATE KEY" => return Ok(PrivatePkcs1KeyDer::from(block.der).into()),
            _ => {}
        }
    }
    Err("no unencrypted private key".into())
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// A server configuration that requires a client certificate chaining to a
/// CA in `truststore_pem`.
///
/// # Errors
/// No usable CA certificate in the bundle, or a rustls configuration error.
pub(crate) fn server_config(
    identity: &ServerIdentity,
    truststore_pem: &[u8],
) -> Result<(rustls::ServerConfig, usize)> {
    let mut roots = RootCertStore::empty();
    let certs = certificates(truststore_pem).map_err(|e| Error::Tls(format!("truststore: {e}")))?;
    let (added, _ignored) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(Error::Tls(
            "the truststore holds no usable CA certificate".into(),
        ));
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
        .build()
        .map_err(|e| Error::Tls(format!("client verifier: {e}")))?;
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| Error::Tls(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(identity.chain.clone(), identity.key.clone_key())
        .map_err(|e| Error::Tls(format!("server certificate: {e}")))?;
    Ok((config, added))
}

/// The current TLS configuration, swapped when the truststore file changes.
#[derive(Debug, Clone)]
pub struct Reloading {
    current: Arc<RwLock<Arc<rustls::ServerConfig>>>,
}

impl Reloading {
    /// The configuration for the next connection.
    #[must_use]
    pub fn get(&self) -> Arc<rustls::ServerConfig> {
        match self.current.read() {
            Ok(c) => Arc::clone(&c),
            Err(p) => Arc::clone(&p.into_inner()),
        }
    }
}

/// Loads the truststore and watches it: every `interval`, a changed file
/// (modification time or size) is loaded again. A file that does not load
/// leaves the previous configuration in place.
///
/// # Errors
/// The first load fails.
pub fn watch(
    identity: Arc<ServerIdentity>,
    truststore: PathBuf,
    interval: Duration,
) -> Result<Reloading> {
    let stamp = |p: &Path| -> Option<(SystemTime, u64)> {
        let m = std::fs::metadata(p).ok()?;
        Some((m.modified().ok()?, m.len()))
    };
    let (config, count) = server_config(&identity, &read(&truststore)?)?;
    tracing::info!(event = "truststore_loaded", path = %truststore.display(), certificates = count);
    let current = Arc::new(RwLock::new(Arc::new(config)));
    let reloading = Reloading {
        current: Arc::clone(&current),
    };
    let mut last = stamp(&truststore);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(interval).await;
            let now = stamp(&truststore);
            if now == last {
                continue;
            }
            last = now;
            match read(&truststore).and_then(|b| server_config(&identity, &b)) {
                Ok((config, count)) => {
                    if let Ok(mut c) = current.write() {
                        *c = Arc::new(config);
                    }
                    tracing::info!(event = "truststore_reloaded", path = %truststore.display(), certificates = count);
                }
                Err(e) => {
                    tracing::error!(event = "truststore_reload_failed", path = %truststore.display(), error = %e, "keeping the previous truststore");
                }
            }
        }
    });
    Ok(reloading)
}
