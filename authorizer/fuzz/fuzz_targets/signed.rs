#![no_main]
//! The shared signed-data module: envelopes of certificates and CRLs,
//! AlgorithmIdentifiers (RSASSA-PSS parameters included) and
//! SubjectPublicKeyInfos, and a signature check when all three parse.
use libfuzzer_sys::fuzz_target;
use mtls_x509::signed::{PublicKey, SignatureAlgorithm, SignedData};

fuzz_target!(|data: &[u8]| {
    let _ = SignatureAlgorithm::from_der(data);
    let key = PublicKey::from_spki(data);
    for signed in [SignedData::certificate(data), SignedData::crl(data)]
        .into_iter()
        .flatten()
    {
        let _ = SignatureAlgorithm::from_der(signed.algorithm);
        if let Ok(key) = &key {
            let _ = key.verify(&signed);
        }
    }
    // The first byte splits the rest into a key and a signed object.
    if let Some((&cut, rest)) = data.split_first() {
        let (spki, object) = rest.split_at(usize::from(cut).min(rest.len()));
        if let (Ok(key), Ok(signed)) = (PublicKey::from_spki(spki), SignedData::certificate(object))
        {
            let _ = key.verify(&signed);
        }
    }
});
