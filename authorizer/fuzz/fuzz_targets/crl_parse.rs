#![no_main]
//! CRL bytes (DER or PEM) through every parsing step of verification but the
//! issuer and signature checks: the envelope, `tbsCertList`, the extensions
//! (scope, number, key identifier) and the entry walker into the packed
//! index. The `crl` target stops at the signature; this one goes past it.
//!
//! The first octet chooses how the rest is cut into chunks for the streaming
//! reader (0: one chunk; n: chunk sizes taken from the next n octets), so
//! every place a download can pause is reached too.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    let n = usize::from(choice % 8).min(rest.len());
    let (split, crl) = rest.split_at(n);
    let _ = mtls_x509::crl::fuzzing::parse_unverified(crl, split);
});
