use super::*;

fn read_all(bytes: &[u8]) -> Result<Vec<(u8, Vec<u8>)>, &'static str> {
    let mut r = Reader::new(bytes);
    let mut out = Vec::new();
    while !r.is_empty() {
        let t = r.any()?;
        out.push((t.tag, t.content.to_vec()));
    }
    Ok(out)
}

#[test]
fn short_and_long_form_lengths_are_read() {
    assert_eq!(read_all(&[0x02, 0x01, 0x05]), Ok(vec![(0x02, vec![5])]));
    let mut long = vec![0x04, 0x81, 0x80];
    long.extend(std::iter::repeat_n(7u8, 0x80));
    let read = read_all(&long).map(|v| v.first().map(|(_, c)| c.len()));
    assert_eq!(read, Ok(Some(0x80)));
}

#[test]
fn non_der_lengths_are_refused() {
    // Indefinite, non-minimal long form, long form for a short value.
    assert!(read_all(&[0x30, 0x80, 0x00, 0x00]).is_err());
    assert!(read_all(&[0x04, 0x82, 0x00, 0x80]).is_err());
    assert!(read_all(&[0x04, 0x81, 0x01, 0x00]).is_err());
}

#[test]
fn truncated_and_oversized_elements_are_refused() {
    assert!(read_all(&[0x02]).is_err());
    assert!(read_all(&[0x02, 0x02, 0x01]).is_err());
    assert!(read_all(&[0x04, 0x85, 1, 0, 0, 0, 0]).is_err());
    assert!(read_all(&[0x1f, 0x01, 0x00]).is_err());
}

#[test]
fn raw_covers_header_and_content() {
    let bytes = [0x30, 0x03, 0x02, 0x01, 0x01, 0xff];
    let mut r = Reader::new(&bytes);
    let seq = r.expect_tag(SEQUENCE, "seq").map(|t| t.raw.len());
    assert_eq!(seq, Ok(5));
    assert_eq!(r.peek_tag(), Some(0xff));
}
