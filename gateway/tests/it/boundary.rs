//! The gateway builds no AWS SDK, its tests included: it runs the functions
//! locally and calls no AWS service. Its PKIs come from `mtls-pki` (not
//! `truststore`, the AWS side of the tool), its logging from `mtls-common`
//! without the `aws` feature, and its tests seed the api-handler's store
//! with SQLite rather than through `api-handler`. A dependency that brings
//! the SDK back fails here, naming the crates.

#[test]
fn the_gateway_and_its_tests_depend_on_no_aws_sdk_crate() {
    let tree = mtls_tests::deps::tree("gateway");
    let sdk: Vec<&String> = tree
        .iter()
        .filter(|line| line.starts_with("aws-sdk-") || line.starts_with("aws-config "))
        .collect();
    assert!(
        sdk.is_empty(),
        "the gateway's dependency tree holds the AWS SDK (`cargo tree -p gateway -e normal,dev,build -i <crate>` shows who brings it): {sdk:?}"
    );
    assert!(
        tree.iter().any(|line| line.starts_with("mtls-pki ")),
        "the gateway makes its PKIs with mtls-pki: {tree:?}"
    );
}
