#![no_main]
//! Any bytes as a truststore bundle: PEM splitting, certificate parsing and
//! every rule, including chain building and signature checks.
use libfuzzer_sys::fuzz_target;
use mtls_pki::check::{CheckOptions, check_bundle};

fuzz_target!(|data: &[u8]| {
    let opts = CheckOptions {
        now: time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000),
        expiry_warning_days: 30,
    };
    let _ = check_bundle("fuzz.pem", data, opts);
});
