use super::*;

#[test]
fn a_summary_comes_every_n_requests_with_reasons_and_percentiles() {
    let mut s = Summary::new(4);
    assert_eq!(s.record("allowed", 1.0, Some(0.5)), None);
    assert_eq!(s.record("revoked", 2.0, Some(0.7)), None);
    assert_eq!(s.record("allowed", 3.0, None), None);
    let report = s.record("allowed", 40.0, Some(9.0)).unwrap();
    assert_eq!(report.requests, 4);
    assert_eq!(report.by_reason.get("allowed"), Some(&3));
    assert_eq!(report.by_reason.get("revoked"), Some(&1));
    assert_eq!(report.latency_ms, (2.0, 40.0));
    assert_eq!(report.authorizer_ms, Some((0.7, 9.0)));
    assert_eq!(
        report.to_string(),
        "last 4 requests: allowed 3, revoked 1; latency p50 2.0 ms, p99 40.0 ms; authorizer p50 0.7 ms, p99 9.0 ms"
    );
    // The next period starts empty.
    assert_eq!(s.record("revoked", 1.0, None), None);
}

#[test]
fn zero_turns_the_summary_off() {
    let mut s = Summary::new(0);
    for _ in 0..1000 {
        assert_eq!(s.record("allowed", 1.0, None), None);
    }
}
