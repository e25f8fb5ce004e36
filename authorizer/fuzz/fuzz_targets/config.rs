#![no_main]
//! The configuration document parser, and the mapping of certificates' CRL
//! distribution points to fetch sources under `crl_from_cdp`.
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mtls_policy::config::{CdpPolicy, Revocation};

fn policy() -> &'static CdpPolicy {
    static POLICY: OnceLock<CdpPolicy> = OnceLock::new();
    POLICY.get_or_init(|| {
        let config = mtls_policy::Config::from_json(
            r#"{"truststore":"file:///t","issuers":[{"name":"a","match":{"CN":"x"},
                "crl_from_cdp":[{"prefix":"http://crl.example.com/crl/","fetch":"s3://b/crl/"},
                                {"prefix":"https://pki.example.org/"}]}]}"#,
        )
        .unwrap();
        match &config.issuers()[0].revocation() {
            Revocation::FromCdp(p) => p.clone(),
            _ => unreachable!(),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = mtls_policy::Config::from_json(text);
        for prefix in [
            "http://crl.example.com/crl/",
            "https://pki.example.org/",
            "",
        ] {
            let _ = policy().source_for(&format!("{prefix}{text}"));
        }
    }
});
