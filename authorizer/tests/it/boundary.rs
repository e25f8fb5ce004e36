//! What the deployed functions are built with: no test-only or fuzz-only
//! feature. The crates' own tests turn `test-support` on (a dev-dependency),
//! and the fuzz targets `fuzzing`; a normal dependency that turned either on
//! would put `Authorizer::handle`, `ManualClock` or the unverified CRL reader
//! into the Lambda binary.

#[test]
fn the_deployed_functions_build_without_test_or_fuzz_features() {
    let features = mtls_tests::deps::production_features(&["authorizer", "api-handler"]);
    let refused: Vec<&String> = features
        .iter()
        .filter(|l| l.contains("feature \"test-support\"") || l.contains("feature \"fuzzing\""))
        .collect();
    assert!(
        refused.is_empty(),
        "the production build turns on test-only or fuzz-only features (`cargo tree -p authorizer -e normal,features -i <crate>` shows who): {refused:?}"
    );
    // The tree is the real one: the authorizer's TLS stack is in it.
    assert!(
        features.iter().any(|l| l.starts_with("rustls feature ")),
        "{features:?}"
    );
}
