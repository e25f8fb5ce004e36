use super::*;

#[test]
fn parses_s3_with_and_without_version() {
    assert_eq!(
        SourceUri::parse("s3://pki/crl/devices.crl?versionId=abc"),
        Ok(SourceUri::S3 {
            bucket: "pki".into(),
            key: "crl/devices.crl".into(),
            version_id: Some("abc".into())
        })
    );
    assert!(matches!(
        SourceUri::parse("s3://pki/a/b.pem"),
        Ok(SourceUri::S3 {
            version_id: None,
            ..
        })
    ));
}

#[test]
fn rejects_malformed_uris() {
    for bad in [
        "s3://bucket",
        "s3:///key",
        "s3://b/k?other=1",
        "s3://b/k?versionId=",
        "ftp://x/y",
        "file://",
        "https://",
        "/etc/crl.pem",
    ] {
        assert!(SourceUri::parse(bad).is_err(), "{bad} should be refused");
    }
}

#[test]
fn display_hides_presigned_query_and_credentials() {
    let uri = SourceUri::parse("https://user:pw@ca.example.com:8443/c.crl?X-Amz-Signature=s").ok();
    assert_eq!(
        uri.map(|u| u.to_string()),
        Some("https://ca.example.com:8443/c.crl?…".into())
    );
}
