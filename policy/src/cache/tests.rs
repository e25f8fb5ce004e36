use super::*;
use mtls_x509::truststore::TrustStore;

const SCHEDULE: Schedule = Schedule {
    refresh_seconds: 300,
    retry_seconds: 30,
};

#[test]
fn empty_slot_is_due_and_failures_retry_sooner_than_refreshes() {
    let mut slot: Slot<TrustStore, Error> = Slot::default();
    assert!(slot.is_due(UnixTime(0), SCHEDULE));
    slot.fail(
        UnixTime(0),
        Error::Truststore(mtls_x509::error::TruststoreProblem::Empty),
    );
    assert!(!slot.is_due(UnixTime(29), SCHEDULE));
    assert!(slot.is_due(UnixTime(30), SCHEDULE));
}

#[test]
fn a_clock_stepping_back_does_not_postpone_the_refresh() {
    let mut slot: Slot<TrustStore, Error> = Slot::default();
    slot.fail(
        UnixTime(1_000),
        Error::Truststore(mtls_x509::error::TruststoreProblem::Empty),
    );
    assert!(slot.is_due(UnixTime(900), SCHEDULE));
}

#[test]
fn rollback_guard_judges_each_sequence_alone() {
    use mtls_x509::crl::CrlPosition;
    let mut guard = RollbackGuard::new(NonZeroUsize::MIN.saturating_add(1));
    let a = CrlIdentity::for_tests(1);
    let b = CrlIdentity::for_tests(2);
    let at = |n: u8| CrlPosition::for_tests(Some(n), UnixTime(0));
    assert!(guard.admit_position(a, at(6)).is_ok());
    assert!(
        guard.admit_position(b, at(200)).is_ok(),
        "another sequence's number is not compared"
    );
    assert!(guard.admit_position(a, at(7)).is_ok());
    assert!(matches!(
        guard.admit_position(a, at(5)),
        Err(Error::CrlRollback(
            mtls_x509::error::CrlRollback::Number { .. }
        ))
    ));
    assert!(
        guard.admit_position(a, at(7)).is_ok(),
        "the same CRL again is fine"
    );
}

#[test]
fn a_full_guard_refuses_new_sequences_and_never_forgets_one() {
    use mtls_x509::crl::CrlPosition;
    let mut guard = RollbackGuard::new(NonZeroUsize::MIN.saturating_add(1));
    let at = |n: u8| CrlPosition::for_tests(Some(n), UnixTime(0));
    let revoking = CrlIdentity::for_tests(1);
    assert!(guard.admit_position(revoking, at(10)).is_ok());
    assert!(
        guard
            .admit_position(CrlIdentity::for_tests(2), at(1))
            .is_ok()
    );
    // Full: a third sequence is refused, and the first is still guarded.
    assert_eq!(
        guard.admit_position(CrlIdentity::for_tests(3), at(1)),
        Err(Error::CrlSequenceLimit { limit: 2 })
    );
    assert!(matches!(
        guard.admit_position(revoking, at(1)),
        Err(Error::CrlRollback { .. })
    ));
    assert!(guard.admit_position(revoking, at(11)).is_ok());
    assert_eq!(guard.len(), 2);
}
