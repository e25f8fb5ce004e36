//! The pure core's boundary: what `mtls-x509` and `mtls-policy` link.

/// Crates that would let the core do I/O or depend on where it runs: an
/// async runtime, an HTTP client or server, the AWS SDK, the Lambda runtime,
/// a database, a command line.
const REFUSED: &[&str] = &[
    "tokio ",
    "hyper ",
    "reqwest ",
    "aws-config ",
    "aws-smithy-",
    "aws-sdk-",
    "lambda_runtime ",
    "aws_lambda_events ",
    "rusqlite ",
    "clap ",
];

#[test]
fn the_core_crates_link_no_runtime_network_aws_lambda_or_database_crate() {
    for package in ["mtls-x509", "mtls-policy"] {
        let tree = mtls_tests::deps::normal_tree(package);
        let refused: Vec<&String> = tree
            .iter()
            .filter(|line| REFUSED.iter().any(|r| line.starts_with(r)))
            .collect();
        assert!(
            refused.is_empty(),
            "{package} links crates the pure core must not (`cargo tree -p {package} -e normal -i <crate>` shows who brings them): {refused:?}"
        );
    }
}
