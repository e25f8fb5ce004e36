//! Interoperability with an independent implementation: CAs, client
//! certificates and CRLs made by pyca/cryptography (`interop/make_pki.py`),
//! decided by the built `authorizer` binary through the Runtime API. The
//! cases: ECDSA P-256 and P-384 with SHA-512, RSASSA-PSS, a partitioned CRL
//! set with critical issuingDistributionPoints found through `crl_from_cdp`,
//! and a key rollover with one CRL per key.
//!
//! Needs `python3` with `cryptography` (`make setup` installs it in `.venv`,
//! which `make test` puts first on PATH; `$PYTHON` overrides).

use std::path::Path;
use std::time::Duration;

use mtls_tests::events;
use mtls_tests::pyca::make_pki;
use mtls_tests::runtime_api::{RuntimeApi, output_of};
use serde_json::{Value, json};

/// An issuer entry from the manifest, its relative paths made `file://` URIs.
fn issuer_entry(dir: &Path, issuer: &Value) -> Value {
    let uri = |rel: &Value| format!("file://{}", dir.join(rel.as_str().unwrap()).display());
    let mut entry = issuer.clone();
    match &issuer["crl"] {
        Value::String(_) => entry["crl"] = json!(uri(&issuer["crl"])),
        Value::Array(list) => {
            entry["crl"] = Value::Array(list.iter().map(|r| json!(uri(r))).collect());
        }
        _ => {}
    }
    if let Some(prefixes) = issuer["crl_from_cdp"].as_array() {
        entry["crl_from_cdp"] = prefixes
            .iter()
            .map(|p| json!({"prefix": p["prefix"], "fetch": uri(&p["fetch"])}))
            .collect();
        // `fetch` keeps its trailing slash through `Path::join`.
        for p in entry["crl_from_cdp"].as_array_mut().unwrap() {
            let f = p["fetch"].as_str().unwrap().to_owned();
            if !f.ends_with('/') {
                p["fetch"] = json!(format!("{f}/"));
            }
        }
    }
    entry
}

#[tokio::test]
async fn pyca_cryptography_pkis_are_decided_as_their_crls_say() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let manifest = make_pki(d);
    let cases = manifest["cases"].as_array().unwrap();

    let mut truststore = String::new();
    let mut issuers = Vec::new();
    for case in cases {
        for ca in case["cas"].as_array().unwrap() {
            truststore.push_str(&std::fs::read_to_string(d.join(ca.as_str().unwrap())).unwrap());
        }
        issuers.push(issuer_entry(d, &case["issuer"]));
    }
    std::fs::write(d.join("truststore.pem"), truststore).unwrap();
    let config = json!({
        "truststore": format!("file://{}", d.join("truststore.pem").display()),
        "issuers": issuers,
    });

    let api = RuntimeApi::start().await;
    let config = config.to_string();
    // `AUTHORIZER_BIN` runs this against another build, as in revocation_binary.rs.
    let binary = std::env::var_os("AUTHORIZER_BIN").map_or_else(
        || std::path::PathBuf::from(env!("CARGO_BIN_EXE_authorizer")),
        std::path::PathBuf::from,
    );
    let child = api.spawn(&binary, &[("AUTHORIZER_CONFIG", config.as_str())]);
    let mut checked = 0;
    for case in cases {
        let name = case["name"].as_str().unwrap();
        for e in case["expect"].as_array().unwrap() {
            let cert = e["cert"].as_str().unwrap();
            let pem = std::fs::read_to_string(d.join(cert)).unwrap();
            let resp = api
                .invoke(events::rest(Some(&pem)), Duration::from_secs(30))
                .await
                .unwrap();
            let got = resp["context"]["reason"].as_str();
            assert_eq!(got, e["reason"].as_str(), "{name}: {cert}: {resp}");
            assert_eq!(resp["context"]["issuer"], name, "{name}: {cert}");
            checked += 1;
        }
    }
    assert_eq!(checked, 20, "every expectation of the manifest was checked");
    let logs = output_of(child).await;
    assert!(
        !logs.contains("crl_rejected"),
        "every CRL of the manifest verifies:\n{logs}"
    );
}
