#![no_main]
//! `clientCertPem` text, and raw DER, through certificate parsing.
use libfuzzer_sys::fuzz_target;
use mtls_x509::cert::{ClientCert, pem_to_der};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = pem_to_der(text);
    }
    if let Ok(cert) = ClientCert::from_der(data) {
        let _ = (cert.subject_dn(), cert.issuer_dn(), cert.serial().to_hex());
        let _ = (cert.san_dns_and_uris(), cert.client_auth_usage());
    }
});
