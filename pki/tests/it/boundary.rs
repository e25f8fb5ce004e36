//! `mtls-pki` is the AWS-free half of the truststore tool: no AWS SDK crate
//! and no command-line crate, tests included, so that the local gateway can
//! use it without them. The one `aws-` family allowed is `aws-lc-*`, the
//! crypto library every crate verifies signatures with (through
//! `mtls-x509` and rcgen), which is no AWS SDK.

#[test]
fn mtls_pki_depends_on_no_aws_sdk_and_no_command_line_crate() {
    let tree = mtls_tests::deps::tree("mtls-pki");
    let refused: Vec<&String> = tree
        .iter()
        .filter(|line| {
            (line.starts_with("aws-") && !line.starts_with("aws-lc-"))
                || line.starts_with("clap ")
                || line.starts_with("indicatif ")
        })
        .collect();
    assert!(
        refused.is_empty(),
        "mtls-pki's dependency tree holds crates it must not (`cargo tree -p mtls-pki -e normal,dev,build -i <crate>` shows who brings them): {refused:?}"
    );
}
