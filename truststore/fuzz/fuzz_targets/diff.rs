#![no_main]
//! Any bytes split in two, as two bundles to assemble and compare.
use libfuzzer_sys::fuzz_target;
use mtls_pki::{bundle, check::read_certificates};

fuzz_target!(|data: &[u8]| {
    let mid = data.len() / 2;
    let (a, b) = data.split_at(mid);
    let (old, _) = read_certificates("old.pem", a);
    let (new, _) = read_certificates("new.pem", b);
    let _ = bundle::assemble(&new);
    let _ = bundle::diff(&old, &new);
});
