#![no_main]
//! OCSP response bytes through every parsing step of verification but the
//! signer and signature checks: the envelope, the responder certificates'
//! parsers, the extensions, and the answers matched against the first
//! CertID. `verify_response` stops at the signature; this goes past it.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mtls_x509::ocsp::fuzzing::parse_unverified(data);
});
