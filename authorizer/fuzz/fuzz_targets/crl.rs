#![no_main]
//! CRL bytes (DER or PEM) through full verification against a generated CA:
//! the cheap checks (envelope, issuer bytes, signature) that stand before
//! the parse. `crl_parse` reaches the parse itself.
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mtls_x509::crl::{CrlTimePolicy, ExactIssuer, VerifiedCrl};
use mtls_x509::{TrustStore, UnixTime};

fn truststore() -> &'static (TrustStore, Vec<u8>) {
    static TS: OnceLock<(TrustStore, Vec<u8>)> = OnceLock::new();
    TS.get_or_init(|| {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Fuzz CA");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let ts = TrustStore::from_pem(cert.pem().as_bytes()).unwrap();
        let name = x509_name(cert.der());
        (ts, name)
    })
}

fn x509_name(der: &[u8]) -> Vec<u8> {
    use mtls_x509::cert::ClientCert;
    ClientCert::from_der(der).unwrap().issuer_der().to_vec()
}

fuzz_target!(|data: &[u8]| {
    let (ts, name) = truststore();
    let policy = CrlTimePolicy {
        clock_skew_seconds: 60,
        grace_seconds: 3600,
    };
    let _ = VerifiedCrl::verify(
        data,
        &ExactIssuer(name),
        ts,
        UnixTime(1_800_000_000),
        policy,
    );
});
