#![no_main]
//! CRL bytes (DER or PEM) through every parsing step of verification but the
//! issuer and signature checks: the envelope, `tbsCertList`, the extensions
//! (scope, number, key identifier) and the entry walker into the packed
//! index. The `crl` target stops at the signature; this one goes past it.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = authorizer::crl::fuzzing::parse_unverified(data);
});
