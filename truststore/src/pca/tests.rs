use super::*;

#[test]
fn serial_is_lowercase_colon_separated_octets_without_padding() {
    let s = Serial::from_hex("00E8CBD2BEDB122329F97706BCFEC990F8").unwrap();
    assert_eq!(
        certificate_serial(&s),
        "e8:cb:d2:be:db:12:23:29:f9:77:06:bc:fe:c9:90:f8"
    );
    assert_eq!(certificate_serial(&Serial::from_hex("1").unwrap()), "01");
}

#[test]
fn every_rfc5280_reason_maps_except_certificate_hold() {
    let mapped: Vec<String> = Reason::ALL
        .into_iter()
        .filter_map(|r| revocation_reason(r).ok())
        .map(|r| r.as_str().to_owned())
        .collect();
    assert_eq!(
        mapped,
        [
            "UNSPECIFIED",
            "KEY_COMPROMISE",
            "CERTIFICATE_AUTHORITY_COMPROMISE",
            "AFFILIATION_CHANGED",
            "SUPERSEDED",
            "CESSATION_OF_OPERATION",
            "PRIVILEGE_WITHDRAWN",
            "A_A_COMPROMISE",
        ]
    );
    let hold = revocation_reason(Reason::CertificateHold).unwrap_err();
    assert!(hold.to_string().contains("hold"), "{hold}");
}
