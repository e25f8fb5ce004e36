use super::*;

#[test]
fn paths_lose_one_trailing_slash_and_the_root_stays() {
    assert_eq!(normalize("/temps/"), "/temps");
    assert_eq!(normalize("/temps"), "/temps");
    assert_eq!(normalize("/"), "/");
    assert_eq!(normalize(""), "/");
}

#[test]
fn base64_bodies_are_decoded_and_oversized_ones_are_not() {
    assert_eq!(body(Some("e30="), true), Body::Bytes(b"{}".to_vec()));
    assert_eq!(body(Some("{}"), false), Body::Bytes(b"{}".to_vec()));
    assert_eq!(body(None, false), Body::Bytes(Vec::new()));
    assert_eq!(body(Some(&"A".repeat(8192)), true), Body::TooLarge);
    assert_eq!(body(Some("not base64!"), true), Body::BadBase64);
}
