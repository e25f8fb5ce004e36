use super::*;

#[test]
fn leading_zero_octets_do_not_matter() {
    assert_eq!(
        Serial::from_integer_bytes(&[0, 0, 0xff]),
        Serial::from_integer_bytes(&[0xff])
    );
    assert_eq!(Serial::from_integer_bytes(&[0, 0xff]).to_hex(), "ff");
}

#[test]
fn serial_one_and_serial_ff_are_distinct_and_minimal() {
    let one = Serial::from_integer_bytes(&[0x01]);
    let ff = Serial::from_integer_bytes(&[0x00, 0xff]);
    assert_ne!(one, ff);
    assert_eq!(one.to_hex(), "01");
    assert_eq!(ff.to_hex(), "ff");
}

#[test]
fn twenty_byte_serials_differing_in_the_lowest_bit_are_distinct() {
    let mut a = [0xa5u8; 20];
    a[0] = 0x80;
    let mut b = a;
    b[19] ^= 1;
    // The DER form of a high-bit-set positive serial carries a 00 prefix.
    let mut a_der = vec![0u8];
    a_der.extend_from_slice(&a);
    assert_eq!(
        Serial::from_integer_bytes(&a_der),
        Serial::from_integer_bytes(&a)
    );
    assert_ne!(
        Serial::from_integer_bytes(&a),
        Serial::from_integer_bytes(&b)
    );
    assert_eq!(Serial::from_integer_bytes(&a).to_hex().len(), 40);
}

#[test]
fn serial_zero_keeps_one_octet() {
    assert_eq!(Serial::from_integer_bytes(&[0, 0]).to_hex(), "00");
    assert_eq!(Serial::from_integer_bytes(&[]).to_hex(), "00");
}

#[test]
fn hex_parsing_accepts_colons_odd_length_and_case() {
    assert_eq!(
        Serial::from_hex("0:ff").map(|s| s.to_hex()),
        Some("ff".into())
    );
    assert_eq!(Serial::from_hex("1").map(|s| s.to_hex()), Some("01".into()));
    assert_eq!(
        Serial::from_hex("AB:cd").map(|s| s.to_hex()),
        Some("abcd".into())
    );
    assert_eq!(Serial::from_hex("zz"), None);
    assert_eq!(Serial::from_hex(""), None);
}
