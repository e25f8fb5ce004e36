use super::*;

#[test]
fn displays_rfc3339_utc() {
    assert_eq!(UnixTime(0).to_string(), "1970-01-01T00:00:00Z");
    assert_eq!(UnixTime(1_700_000_000).to_string(), "2023-11-14T22:13:20Z");
    assert_eq!(UnixTime(951_782_400).to_string(), "2000-02-29T00:00:00Z");
}

#[test]
fn rfc3339_reads_back_what_display_writes_and_nothing_looser() {
    for t in [0, 951_782_400, 1_700_000_000, 4_102_444_799] {
        let text = UnixTime(t).to_string();
        assert_eq!(UnixTime::parse_rfc3339(&text), Some(UnixTime(t)), "{text}");
    }
    for bad in [
        "2026-02-30T00:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-12-06T24:00:00Z",
        "2026-12-06T10:00:00+00:00",
        "2026-12-06T10:00:00.5Z",
        "2026-12-06 10:00:00Z",
        "+026-12-06T10:00:00Z",
        "2026-12-06T10:00:00z",
        "",
    ] {
        assert_eq!(UnixTime::parse_rfc3339(bad), None, "{bad}");
    }
}

#[test]
fn offset_saturates_instead_of_overflowing() {
    assert_eq!(UnixTime(i64::MAX).offset(10), UnixTime(i64::MAX));
    assert_eq!(UnixTime(5).seconds_since(UnixTime(2)), 3);
}
