//! Revocation against the PKIs users run: partitioned CRLs (AWS Private CA),
//! key rollovers, every signature algorithm API Gateway accepts, CRLs of
//! other CAs, and hostile CRL bytes. Rules first, on the pure core; then the
//! same cases through the process-wide state with `file://` sources and an
//! injected clock.
//!
//! Why one module: one named scenario per revocation rule (partitions,
//! rollovers, algorithms, hostile CRLs), each a few lines, sharing the
//! `World` fixture; the file is grouped by section headers.

use crate::common;

use std::time::Instant;

use authorizer::lambda::RefreshError;
use common::{Fixture, ORG, reason};
use mtls_policy::config::Config;
use mtls_policy::decision::{Decision, DenyReason, Engine, RuleIssuer};
use mtls_tests::pki::{
    self, Ca, delta_crl_indicator, freshest_crl, raw_entry, raw_extension, reason_code, tlv,
};
use mtls_x509::crl::{
    Coverage, CrlIngest, CrlScope, CrlTimePolicy, MAX_HEAD_BYTES, MAX_TAIL_BYTES, VerifiedCrl,
};
use mtls_x509::error::{CrlMalformed, Error, MAX_ERROR_TEXT};
use mtls_x509::time::UnixTime;
use mtls_x509::truststore::TrustStore;

const P1: &str = "http://crl.example.test/crl/4f1c/p1.crl";
const P2: &str = "http://crl.example.test/crl/4f1c/p2.crl";
const P3: &str = "http://crl.example.test/crl/4f1c/p3.crl";

fn now() -> UnixTime {
    UnixTime(pki::unix(pki::now()))
}

/// One issuer entry `devices` matching `O=<ORG>` (so every test CA), with
/// a CRL (never fetched here) and a truststore of `cas`.
struct World {
    config: Config,
    truststore: TrustStore,
}

impl World {
    fn of(cas: &[&Ca]) -> Self {
        Self::with_entry(cas, "")
    }

    /// [`World::of`], with `extra` JSON members added to the issuer entry.
    fn with_entry(cas: &[&Ca], extra: &str) -> Self {
        let config = Config::from_json(&format!(
            r#"{{"truststore":"file:///unused","issuers":[{{"name":"devices","match":{{"O":"{ORG}"}},"crl":"file:///unused"{extra}}}],"crl_grace_seconds":3600}}"#
        ))
        .unwrap();
        let bundle: String = cas.iter().map(|c| c.pem()).collect();
        Self {
            config,
            truststore: TrustStore::from_pem(bundle.as_bytes()).unwrap(),
        }
    }

    fn verify(&self, crl: &[u8]) -> Result<VerifiedCrl, Error> {
        let policy = CrlTimePolicy {
            clock_skew_seconds: 60,
            grace_seconds: 3600,
        };
        VerifiedCrl::verify(
            crl,
            &RuleIssuer(&self.config.issuers()[0]),
            &self.truststore,
            now(),
            policy,
        )
    }

    /// Streams only the first octets of a CRL: the outcome of that push.
    fn push_first(&self, crl: &[u8], octets: usize) -> Result<(), Error> {
        let rule = RuleIssuer(&self.config.issuers()[0]);
        CrlIngest::new(&rule, &self.truststore).push(&crl[..octets])
    }

    fn decide(&self, pem: &str, crls: &[&VerifiedCrl]) -> Decision {
        let engine = Engine::new(&self.config, &self.truststore);
        common::core_decide(&engine, pem, now(), crls.iter().copied())
    }

    fn reason(&self, pem: &str, crls: &[&VerifiedCrl]) -> Option<DenyReason> {
        self.decide(pem, crls).reason()
    }
}

fn detail(d: &Decision) -> &str {
    match d {
        Decision::Deny { detail, .. } => detail,
        Decision::Allow(_) => "",
    }
}

// --- Partitioned CRLs (RFC 5280 §5.2.5, §6.3.3 (b)) ---

#[test]
fn partition_crl_does_not_cover_other_partitions() {
    let ca = Ca::new(ORG, "Partitioned CA");
    let w = World::of(&[&ca]);
    let p1 = w
        .verify(&ca.crl().partition(&[P1]).revoke(&[0x11]).der())
        .unwrap();
    assert_eq!(
        p1.scope(),
        &CrlScope::DistributionPoint(vec![mtls_x509::crl::DpName::Uri(P1.to_owned())])
    );
    // Revoked on partition 2, whose CRL is not loaded: before, partition 1's
    // CRL was applied to it and it was allowed.
    let in_p2 = ca.leaf(&[0x22]).cdp(P2).pem();
    let d = w.decide(&in_p2, &[&p1]);
    assert_eq!(d.reason(), Some(DenyReason::CrlUnavailable), "{d:?}");
    assert!(detail(&d).contains("partition"), "{}", detail(&d));
    // Partition 1's own certificates are decided by it.
    assert_eq!(
        w.reason(&ca.leaf(&[0x11]).cdp(P1).pem(), &[&p1]),
        Some(DenyReason::Revoked)
    );
    assert_eq!(w.reason(&ca.leaf(&[0x12]).cdp(P1).pem(), &[&p1]), None);
}

#[test]
fn certificate_without_a_distribution_point_is_not_covered_by_a_partition() {
    let ca = Ca::new(ORG, "Partitioned CA");
    let w = World::of(&[&ca]);
    let p1 = w.verify(&ca.crl().partition(&[P1]).der()).unwrap();
    assert_eq!(
        w.reason(&ca.leaf(&[0x12]).pem(), &[&p1]),
        Some(DenyReason::CrlUnavailable)
    );
}

#[test]
fn partition_naming_several_uris_covers_a_certificate_naming_any_of_them() {
    let ca = Ca::new(ORG, "Partitioned CA");
    let w = World::of(&[&ca]);
    let crl = w
        .verify(&ca.crl().partition(&[P1, P2]).revoke(&[0x22]).der())
        .unwrap();
    let cert = ca.leaf(&[0x22]).cdp(P3).cdp(P2).pem();
    assert_eq!(w.reason(&cert, &[&crl]), Some(DenyReason::Revoked));
}

#[test]
fn distribution_points_are_compared_exactly() {
    let ca = Ca::new(ORG, "Partitioned CA");
    let w = World::of(&[&ca]);
    let crl = w.verify(&ca.crl().partition(&[P1]).der()).unwrap();
    for near_miss in [
        "HTTP://crl.example.test/crl/4f1c/p1.crl",
        "http://crl.example.test/crl/4f1c/p1.crl/",
        "http://crl.example.test/crl/4f1c/p1.CRL",
    ] {
        let cert = ca.leaf(&[0x22]).cdp(near_miss).pem();
        assert_eq!(
            w.reason(&cert, &[&crl]),
            Some(DenyReason::CrlUnavailable),
            "{near_miss}"
        );
    }
}

#[test]
fn complete_crl_covers_every_certificate_of_its_issuer_and_key() {
    let ca = Ca::new(ORG, "Complete CA");
    let w = World::of(&[&ca]);
    let crl = w.verify(&ca.crl().revoke(&[0x22]).der()).unwrap();
    assert_eq!(crl.scope(), &CrlScope::Complete);
    assert_eq!(
        w.reason(&ca.leaf(&[0x22]).cdp(P2).pem(), &[&crl]),
        Some(DenyReason::Revoked)
    );
    assert_eq!(w.reason(&ca.leaf(&[0x23]).cdp(P3).pem(), &[&crl]), None);
    assert_eq!(w.reason(&ca.leaf(&[0x24]).pem(), &[&crl]), None);
}

#[test]
fn each_partition_decides_its_own_certificates_when_all_are_loaded() {
    let ca = Ca::new(ORG, "Partitioned CA");
    let w = World::of(&[&ca]);
    let p1 = w
        .verify(&ca.crl().partition(&[P1]).revoke(&[0x11]).der())
        .unwrap();
    let p2 = w
        .verify(&ca.crl().partition(&[P2]).revoke(&[0x22]).der())
        .unwrap();
    let both = [&p1, &p2];
    assert_eq!(
        w.reason(&ca.leaf(&[0x11]).cdp(P1).pem(), &both),
        Some(DenyReason::Revoked)
    );
    assert_eq!(
        w.reason(&ca.leaf(&[0x22]).cdp(P2).pem(), &both),
        Some(DenyReason::Revoked)
    );
    // The same serial in the other partition is another certificate.
    assert_eq!(w.reason(&ca.leaf(&[0x22]).cdp(P1).pem(), &both), None);
    assert_eq!(
        w.reason(&ca.leaf(&[0x33]).cdp(P3).pem(), &both),
        Some(DenyReason::CrlUnavailable)
    );
}

// --- Delta CRLs (RFC 5280 §5.2.4, §5.2.6, §6.3.3) ---

const DELTA: &str = "http://crl.example.test/crl/devices-delta.crl";
const HOLD: u8 = 6;
const REMOVE_FROM_CRL: u8 = 8;

/// A base CRL number 10 naming [`DELTA`] in its Freshest CRL extension,
/// with `entries` (whole entries, see [`raw_entry`]).
fn base_naming_delta(ca: &Ca, entries: &[Vec<u8>]) -> Vec<u8> {
    ca.crl()
        .number(10)
        .der_with(Some(entries), &[freshest_crl(&[DELTA])])
}

#[test]
fn certificate_revoked_only_on_the_delta_crl_is_denied() {
    let ca = Ca::new(ORG, "Delta CA");
    let w = World::of(&[&ca]);
    let base = w
        .verify(&base_naming_delta(&ca, &[raw_entry(&[0x11], &[])]))
        .unwrap();
    assert_eq!(base.freshest(), [DELTA.to_owned()]);
    let delta = w
        .verify(
            &ca.crl()
                .number(11)
                .delta_der(10, &[raw_entry(&[0x22], &[])]),
        )
        .unwrap();
    assert!(delta.is_delta() && delta.applies_to(&base));
    let pair = [&base, &delta];
    let on_delta = w.decide(&ca.leaf(&[0x22]).pem(), &pair);
    assert_eq!(on_delta.reason(), Some(DenyReason::Revoked), "{on_delta:?}");
    assert!(detail(&on_delta).contains("delta"), "{on_delta:?}");
    assert_eq!(
        w.reason(&ca.leaf(&[0x11]).pem(), &pair),
        Some(DenyReason::Revoked),
        "the base's own entries still count"
    );
    assert_eq!(w.reason(&ca.leaf(&[0x33]).pem(), &pair), None);
    // The delta alone is not a CRL: the base must be there too.
    assert_eq!(
        w.reason(&ca.leaf(&[0x33]).pem(), &[&delta]),
        Some(DenyReason::CrlUnavailable)
    );
}

#[test]
fn remove_from_crl_on_the_delta_allows_a_held_certificate() {
    let ca = Ca::new(ORG, "Delta CA");
    let w = World::of(&[&ca]);
    let held = raw_entry(&[0x44], &[reason_code(HOLD)]);
    let base = w.verify(&base_naming_delta(&ca, &[held])).unwrap();
    let removed = raw_entry(&[0x44], &[reason_code(REMOVE_FROM_CRL)]);
    let delta = w
        .verify(&ca.crl().number(11).delta_der(10, &[removed]))
        .unwrap();
    let leaf = ca.leaf(&[0x44]).pem();
    assert_eq!(
        w.reason(&leaf, &[&base, &delta]),
        None,
        "released from hold"
    );
    // Without the delta, the hold stands.
    assert_eq!(w.reason(&leaf, &[&base]), Some(DenyReason::Revoked));
    // A removeFromCRL entry on a complete CRL has no meaning there, and
    // counts as revoked (fail closed).
    let odd = w
        .verify(
            &ca.crl()
                .number(12)
                .der_with_raw_entries(&[raw_entry(&[0x44], &[reason_code(REMOVE_FROM_CRL)])]),
        )
        .unwrap();
    assert_eq!(w.reason(&leaf, &[&odd]), Some(DenyReason::Revoked));
}

#[test]
fn delta_whose_base_number_is_newer_than_the_loaded_base_is_not_applied() {
    let ca = Ca::new(ORG, "Delta CA");
    let w = World::of(&[&ca]);
    let held = raw_entry(&[0x44], &[reason_code(HOLD)]);
    let base = w.verify(&base_naming_delta(&ca, &[held])).unwrap();
    // A delta on base 12: the loaded base (10) lacks what base 12 holds.
    let removed = raw_entry(&[0x44], &[reason_code(REMOVE_FROM_CRL)]);
    let newer = w
        .verify(&ca.crl().number(13).delta_der(12, &[removed]))
        .unwrap();
    assert!(!newer.applies_to(&base));
    assert_eq!(
        w.reason(&ca.leaf(&[0x44]).pem(), &[&base, &newer]),
        Some(DenyReason::Revoked),
        "the removal is not applied to another base"
    );
    let unlisted = w.decide(&ca.leaf(&[0x55]).pem(), &[&base, &newer]);
    assert_eq!(unlisted.reason(), Some(DenyReason::CrlUnavailable));
    assert!(detail(&unlisted).contains("delta"), "{unlisted:?}");
}

#[test]
fn base_naming_a_delta_is_never_used_alone() {
    let ca = Ca::new(ORG, "Delta CA");
    let w = World::of(&[&ca]);
    let base = w.verify(&base_naming_delta(&ca, &[])).unwrap();
    let alone = w.decide(&ca.leaf(&[0x55]).pem(), &[&base]);
    assert_eq!(alone.reason(), Some(DenyReason::CrlUnavailable));
    assert!(detail(&alone).contains("needs a delta CRL"), "{alone:?}");
}

#[test]
fn a_newer_base_stands_alone_while_the_delta_it_supersedes_is_fresh() {
    let ca = Ca::new(ORG, "Delta CA");
    let w = World::of(&[&ca]);
    // Base 12 was published after delta 11 (on base 10): it includes it.
    let base = w
        .verify(
            &ca.crl()
                .number(12)
                .der_with(None, &[freshest_crl(&[DELTA])]),
        )
        .unwrap();
    let old_delta = w
        .verify(
            &ca.crl()
                .number(11)
                .delta_der(10, &[raw_entry(&[0x22], &[])]),
        )
        .unwrap();
    assert_eq!(
        w.reason(&ca.leaf(&[0x55]).pem(), &[&base, &old_delta]),
        None
    );
    assert_eq!(
        w.reason(&ca.leaf(&[0x22]).pem(), &[&base, &old_delta]),
        Some(DenyReason::Revoked),
        "a listing on any delta of the CA is a listing"
    );
}

#[test]
fn configured_delta_crl_makes_every_base_need_a_delta() {
    let ca = Ca::new(ORG, "Delta CA");
    let w = World::with_entry(&[&ca], r#","delta_crl":"file:///unused-delta""#);
    // This base names no delta, but the entry configures one.
    let base = w.verify(&ca.crl().number(10).der()).unwrap();
    assert_eq!(
        w.reason(&ca.leaf(&[0x55]).pem(), &[&base]),
        Some(DenyReason::CrlUnavailable)
    );
    let delta = w.verify(&ca.crl().number(11).delta_der(10, &[])).unwrap();
    assert_eq!(w.reason(&ca.leaf(&[0x55]).pem(), &[&base, &delta]), None);
}

#[test]
fn delta_ignore_reads_the_base_alone_but_a_delta_listing_still_revokes() {
    let ca = Ca::new(ORG, "Delta CA");
    let w = World::with_entry(&[&ca], r#","delta":"ignore""#);
    let base = w.verify(&base_naming_delta(&ca, &[])).unwrap();
    assert_eq!(w.reason(&ca.leaf(&[0x55]).pem(), &[&base]), None);
    let delta = w
        .verify(
            &ca.crl()
                .number(11)
                .delta_der(10, &[raw_entry(&[0x22], &[])]),
        )
        .unwrap();
    assert_eq!(
        w.reason(&ca.leaf(&[0x22]).pem(), &[&base, &delta]),
        Some(DenyReason::Revoked)
    );
}

#[test]
fn stale_delta_makes_the_pair_unavailable_after_grace() {
    let ca = Ca::new(ORG, "Delta CA");
    let w = World::of(&[&ca]);
    let base = w.verify(&base_naming_delta(&ca, &[])).unwrap();
    let t = pki::now();
    let (issued, due) = (t - time::Duration::hours(30), t - time::Duration::hours(6));
    let stale = ca.crl().number(11).times(issued, due).delta_der(10, &[]);
    // Past nextUpdate + grace (1 h) by now: it does not even verify...
    assert!(matches!(w.verify(&stale), Err(Error::CrlExpired { .. })));
    // ...and one verified while fresh is no longer usable now.
    let then = UnixTime(pki::unix(issued) + 60);
    let policy = CrlTimePolicy {
        clock_skew_seconds: 60,
        grace_seconds: 3600,
    };
    let old = VerifiedCrl::verify(
        &stale,
        &RuleIssuer(&w.config.issuers()[0]),
        &w.truststore,
        then,
        policy,
    )
    .unwrap();
    let d = w.decide(&ca.leaf(&[0x55]).pem(), &[&base, &old]);
    assert_eq!(d.reason(), Some(DenyReason::CrlUnavailable), "{d:?}");
    assert!(detail(&d).contains("nextUpdate"), "{d:?}");
}

#[test]
fn malformed_delta_crls_are_refused() {
    let ca = Ca::new(ORG, "Delta CA");
    let w = World::of(&[&ca]);
    // §5.2.4: its own number must be above its BaseCRLNumber.
    let not_above = ca.crl().number(10).delta_der(10, &[]);
    assert!(matches!(w.verify(&not_above), Err(Error::CrlMalformed(_))));
    // §5.2.6: a delta never names a further delta.
    let naming = ca.crl().number(11).der_with(
        Some(&[]),
        &[delta_crl_indicator(10), freshest_crl(&[DELTA])],
    );
    assert!(matches!(w.verify(&naming), Err(Error::CrlMalformed(_))));
}

#[test]
fn deltas_are_their_own_sequence_for_rollback() {
    use mtls_policy::cache::RollbackGuard;
    let ca = Ca::new(ORG, "Delta CA");
    let w = World::of(&[&ca]);
    let mut guard = RollbackGuard::new(std::num::NonZeroUsize::new(8).unwrap());
    let delta12 = w.verify(&ca.crl().number(12).delta_der(10, &[])).unwrap();
    let base10 = w.verify(&base_naming_delta(&ca, &[])).unwrap();
    let delta11 = w.verify(&ca.crl().number(11).delta_der(10, &[])).unwrap();
    assert_ne!(delta12.identity(), base10.identity());
    assert_eq!(delta12.base_sequence(), base10.identity());
    guard.admit(&delta12).unwrap();
    guard.admit(&base10).unwrap();
    assert!(
        matches!(guard.admit(&delta11), Err(Error::CrlRollback { .. })),
        "an older delta is a rollback of the delta sequence"
    );
}

// --- Attacks on delta CRLs (review) ---

/// The Freshest CRL extension with one distribution point, `point` being
/// the content of its DistributionPoint SEQUENCE.
fn freshest_with_point(point: &[u8]) -> Vec<u8> {
    raw_extension(&[0x55, 0x1d, 0x2e], false, &tlv(0x30, &tlv(0x30, point)))
}

#[test]
fn base_whose_freshest_crl_names_no_usable_uri_is_still_never_read_alone() {
    let ca = Ca::new(ORG, "Delta CA");
    let w = World::of(&[&ca]);
    // The CA announces delta CRLs, but at points we cannot fetch: a
    // directoryName (an LDAP entry), a reason-partitioned URI point, a URI
    // point with a cRLIssuer. Each is still the CA saying that the base is
    // not the whole story: reading it alone would allow a device revoked
    // since, which only the delta lists.
    let dir_name = tlv(
        0x30,
        &tlv(
            0x31,
            &tlv(
                0x30,
                &[tlv(0x06, &[0x55, 0x04, 0x03]), tlv(0x0c, b"deltas")].concat(),
            ),
        ),
    );
    let uri = tlv(0x86, DELTA.as_bytes());
    let points = [
        tlv(0xa0, &tlv(0xa0, &tlv(0xa4, &dir_name))),
        [tlv(0xa0, &tlv(0xa0, &uri)), tlv(0x81, &[0x07, 0x80])].concat(),
        [
            tlv(0xa0, &tlv(0xa0, &uri)),
            tlv(0xa2, &tlv(0xa4, &dir_name)),
        ]
        .concat(),
    ];
    for point in points {
        let base = w
            .verify(
                &ca.crl()
                    .number(10)
                    .der_with(Some(&[]), &[freshest_with_point(&point)]),
            )
            .unwrap();
        let d = w.decide(&ca.leaf(&[0x55]).pem(), &[&base]);
        assert_eq!(
            d.reason(),
            Some(DenyReason::CrlUnavailable),
            "a base whose Freshest CRL names {} was read alone: {d:?}",
            hex::encode(&point)
        );
        // And a delta never carries the extension, whatever it names.
        let naming = ca.crl().number(11).der_with(
            Some(&[]),
            &[delta_crl_indicator(10), freshest_with_point(&point)],
        );
        assert!(matches!(w.verify(&naming), Err(Error::CrlMalformed(_))));
    }
}

#[test]
fn base_stands_alone_only_while_no_loaded_delta_names_a_newer_base() {
    let ca = Ca::new(ORG, "Delta CA");
    let w = World::of(&[&ca]);
    // The CA published base 12, then base 13 (revoking 0x66) and delta 14
    // on base 13. A source replays base 12 and the old delta 11 (both
    // still within nextUpdate), beside the genuine delta 14 from another
    // source. Delta 14 proves that base 12 is not the newest base: what
    // base 13 lists is on no loaded CRL, so base 12 must not decide.
    let base12 = w
        .verify(
            &ca.crl()
                .number(12)
                .der_with(Some(&[]), &[freshest_crl(&[DELTA])]),
        )
        .unwrap();
    let delta11 = w.verify(&ca.crl().number(11).delta_der(10, &[])).unwrap();
    let delta14 = w.verify(&ca.crl().number(14).delta_der(13, &[])).unwrap();
    let revoked_in_13 = ca.leaf(&[0x66]).pem();
    assert_eq!(
        w.reason(&revoked_in_13, &[&base12, &delta11]),
        None,
        "alone, the superseded delta lets base 12 stand (its promise holds)"
    );
    let d = w.decide(&revoked_in_13, &[&base12, &delta11, &delta14]);
    assert_eq!(d.reason(), Some(DenyReason::CrlUnavailable), "{d:?}");
    // The same with a delta that applies to base 12: delta 13 (on 12) is
    // not the current delta when delta 14 (on 13) is loaded (RFC 5280
    // §6.3.3 (c) reads the base with the current delta).
    let delta13 = w.verify(&ca.crl().number(13).delta_der(12, &[])).unwrap();
    assert_eq!(w.reason(&revoked_in_13, &[&base12, &delta13]), None);
    let d = w.decide(&revoked_in_13, &[&base12, &delta13, &delta14]);
    assert_eq!(d.reason(), Some(DenyReason::CrlUnavailable), "{d:?}");
    // A listing on base 12 still revokes, whatever else is loaded.
    let listed = w
        .verify(
            &ca.crl()
                .number(12)
                .der_with(Some(&[raw_entry(&[0x77], &[])]), &[freshest_crl(&[DELTA])]),
        )
        .unwrap();
    assert_eq!(
        w.reason(&ca.leaf(&[0x77]).pem(), &[&listed, &delta11, &delta14]),
        Some(DenyReason::Revoked)
    );
    // And once base 13 is loaded, it and delta 14 decide.
    let base13 = w
        .verify(
            &ca.crl()
                .number(13)
                .der_with(Some(&[raw_entry(&[0x66], &[])]), &[freshest_crl(&[DELTA])]),
        )
        .unwrap();
    assert_eq!(
        w.reason(&revoked_in_13, &[&base12, &delta11, &delta14, &base13]),
        Some(DenyReason::Revoked)
    );
    assert_eq!(
        w.reason(
            &ca.leaf(&[0x55]).pem(),
            &[&base12, &delta11, &delta14, &base13]
        ),
        None
    );
}

#[test]
fn only_a_superseded_delta_of_the_same_sequence_lets_a_base_stand_alone() {
    let ca = Ca::new(ORG, "Delta CA");
    let other_key = ca.next_key();
    let other_ca = Ca::new(ORG, "Other Delta CA");
    let w = World::of(&[&ca, &other_key, &other_ca]);
    let base = w
        .verify(
            &ca.crl()
                .number(12)
                .der_with(Some(&[]), &[freshest_crl(&[DELTA])]),
        )
        .unwrap();
    let leaf = ca.leaf(&[0x55]).pem();
    // Fresh deltas numbered below the base, but of another key, another
    // CA, or another scope: none is a promise about this base's sequence.
    for der in [
        other_key.crl().number(11).delta_der(10, &[]),
        other_ca.crl().number(11).delta_der(10, &[]),
        ca.crl().number(11).partition(&[P1]).delta_der(10, &[]),
    ] {
        let delta = w.verify(&der).unwrap();
        assert_eq!(
            w.reason(&leaf, &[&base, &delta]),
            Some(DenyReason::CrlUnavailable)
        );
    }
}

#[test]
fn remove_from_crl_is_applied_only_by_a_delta_of_the_exact_base_sequence() {
    let ca = Ca::new(ORG, "Delta CA");
    let other_key = ca.next_key();
    let other_ca = Ca::new(ORG, "Other Delta CA");
    let w = World::of(&[&ca, &other_key, &other_ca]);
    let held = raw_entry(&[0x44], &[reason_code(HOLD)]);
    let base = w.verify(&base_naming_delta(&ca, &[held])).unwrap();
    let removed = [raw_entry(&[0x44], &[reason_code(REMOVE_FROM_CRL)])];
    let leaf = ca.leaf(&[0x44]).pem();
    // A delta of another key of the same CA name, of another CA, of
    // another scope (a partition, or an IDP of other bytes), or one that
    // does not cover the base's number: none releases the hold.
    let candidates = [
        other_key.crl().number(11).delta_der(10, &removed),
        other_ca.crl().number(11).delta_der(10, &removed),
        ca.crl().number(11).partition(&[P1]).delta_der(10, &removed),
        ca.crl()
            .number(11)
            .user_certs_only()
            .delta_der(10, &removed),
        ca.crl().number(12).delta_der(11, &removed),
    ];
    for (i, der) in candidates.iter().enumerate() {
        let delta = w.verify(der).unwrap();
        assert_eq!(
            w.reason(&leaf, &[&base, &delta]),
            Some(DenyReason::Revoked),
            "candidate {i} released a hold it does not speak for"
        );
    }
    // A genuine delta releases it, and a second, older one of the sequence
    // that does not list it does not undo that (the newest applies).
    let genuine = w
        .verify(&ca.crl().number(12).delta_der(10, &removed))
        .unwrap();
    let older = w.verify(&ca.crl().number(11).delta_der(10, &[])).unwrap();
    assert_eq!(w.reason(&leaf, &[&base, &older, &genuine]), None);
    // A release replayed beside a delta on a later base (12, which may hold
    // the device again) is not the current word: the hold stands.
    let later = w.verify(&ca.crl().number(13).delta_der(12, &[])).unwrap();
    assert_eq!(
        w.reason(&leaf, &[&base, &genuine, &later]),
        Some(DenyReason::Revoked),
        "an old release applied although a later base exists"
    );
    // But a listing with another reason on any covering delta revokes.
    let relisted = w
        .verify(
            &ca.crl()
                .number(13)
                .delta_der(10, &[raw_entry(&[0x44], &[reason_code(1)])]),
        )
        .unwrap();
    assert_eq!(
        w.reason(&leaf, &[&base, &genuine, &relisted]),
        Some(DenyReason::Revoked)
    );
}

// --- Key rollover (RFC 5280 §6.3.3 (f)) ---

#[test]
fn crl_of_one_key_does_not_cover_certificates_of_the_other_key() {
    let key1 = Ca::new(ORG, "Rolled CA");
    let key2 = key1.next_key();
    let w = World::of(&[&key1, &key2]);
    let crl1 = w.verify(&key1.crl().der()).unwrap();
    let crl2 = w.verify(&key2.crl().revoke(&[0x42]).der()).unwrap();
    assert_ne!(crl1.signer(), crl2.signer());
    let revoked_under_key2 = key2.leaf(&[0x42]).pem();
    // Before, key 1's (empty) CRL was applied and this was allowed.
    let d = w.decide(&revoked_under_key2, &[&crl1]);
    assert_eq!(d.reason(), Some(DenyReason::CrlUnavailable), "{d:?}");
    assert!(detail(&d).contains("another key"), "{}", detail(&d));
    assert_eq!(
        w.reason(&revoked_under_key2, &[&crl1, &crl2]),
        Some(DenyReason::Revoked)
    );
    // Key 1's certificates, the same serial included, answer to key 1's CRL.
    assert_eq!(w.reason(&key1.leaf(&[0x42]).pem(), &[&crl1, &crl2]), None);
    assert_eq!(
        w.reason(&key1.leaf(&[0x42]).pem(), &[&crl2]),
        Some(DenyReason::CrlUnavailable)
    );
}

#[test]
fn crl_with_another_authority_key_identifier_does_not_cover_the_certificate() {
    let ca = Ca::new(ORG, "AKI CA");
    let w = World::of(&[&ca]);
    let cert = ca.leaf(&[0x42]).with_authority_key_id().pem();
    let matching = w.verify(&ca.crl().revoke(&[0x42]).der()).unwrap();
    assert_eq!(w.reason(&cert, &[&matching]), Some(DenyReason::Revoked));
    let other = w
        .verify(&ca.crl().authority_key_id(&[7; 20]).der())
        .unwrap();
    let d = w.decide(&cert, &[&other]);
    assert_eq!(d.reason(), Some(DenyReason::CrlUnavailable), "{d:?}");
    assert!(detail(&d).contains("authority key identifier"));
    let cert_without_aki = ca.leaf(&[0x43]).pem();
    assert_eq!(w.reason(&cert_without_aki, &[&other]), None);
}

#[test]
fn coverage_names_why_a_crl_does_not_apply() {
    let a = Ca::new(ORG, "CA A");
    let b = Ca::new(ORG, "CA B");
    let a2 = a.next_key();
    let w = World::of(&[&a, &a2, &b]);
    let crl_b = w.verify(&b.crl().der()).unwrap();
    let crl_a2 = w.verify(&a2.crl().der()).unwrap();
    let crl_a_p1 = w.verify(&a.crl().partition(&[P1]).der()).unwrap();
    let der = mtls_x509::cert::pem_to_der(&a.leaf(&[1]).cdp(P2).pem()).unwrap();
    let engine = Engine::new(&w.config, &w.truststore);
    let m = engine.check_certificate(&der, now()).unwrap();
    assert_eq!(crl_b.covers(m.cert(), m.signer()), Coverage::OtherIssuer);
    assert_eq!(crl_a2.covers(m.cert(), m.signer()), Coverage::OtherKey);
    assert_eq!(
        crl_a_p1.covers(m.cert(), m.signer()),
        Coverage::OtherDistributionPoint
    );
}

// --- Every signature algorithm API Gateway and AWS Private CA use ---

#[test]
fn p384_and_rsa_cas_verify_their_certificates_and_crls() {
    for alg in [
        &rcgen::PKCS_ECDSA_P384_SHA384,
        &rcgen::PKCS_RSA_SHA256,
        &rcgen::PKCS_RSA_SHA384,
        &rcgen::PKCS_RSA_SHA512,
    ] {
        let ca = Ca::with_algorithm(ORG, "Algorithm CA", alg);
        let w = World::of(&[&ca]);
        let crl = w.verify(&ca.crl().revoke(&[0x42]).der());
        let crl = crl.unwrap_or_else(|e| panic!("{alg:?}: {e}"));
        assert_eq!(
            w.reason(&ca.leaf(&[0x42]).pem(), &[&crl]),
            Some(DenyReason::Revoked),
            "{alg:?}"
        );
        assert_eq!(w.reason(&ca.leaf(&[0x43]).pem(), &[&crl]), None, "{alg:?}");
    }
}

#[test]
fn cas_with_keys_outside_the_allowlist_verify_nothing() {
    for (alg, name) in [
        (&rcgen::PKCS_ECDSA_P521_SHA512, "P-521"),
        (&rcgen::PKCS_ED25519, "Ed25519"),
    ] {
        let ca = Ca::with_algorithm(ORG, "Unsupported CA", alg);
        let w = World::of(&[&ca]);
        let unsupported: Vec<String> = w
            .truststore
            .unsupported()
            .map(|(_, why)| why.to_string())
            .collect();
        assert_eq!(unsupported.len(), 1, "{name}");
        assert!(unsupported[0].contains(name), "{}", unsupported[0]);
        // P-521's ecdsa-with-SHA512 is on the list but its key is not;
        // Ed25519 is neither.
        let err = w.verify(&ca.crl().der()).unwrap_err();
        assert!(
            matches!(
                err,
                Error::CrlBadSignature { .. } | Error::CrlSignatureAlgorithm(_)
            ),
            "{name}: {err:?}"
        );
        assert_eq!(
            w.reason(&ca.leaf(&[0x42]).pem(), &[]),
            Some(DenyReason::IssuerNotAllowed),
            "{name}"
        );
    }
}

// --- Client certificates (RFC 5280 §4.1.2.2, §4.2) ---

#[test]
fn unknown_critical_extension_on_a_client_certificate_is_malformed() {
    let ca = Ca::new(ORG, "Strict CA");
    let w = World::of(&[&ca]);
    let crl = w.verify(&ca.crl().der()).unwrap();
    let private_oid = [1, 3, 6, 1, 4, 1, 99999, 7];
    let critical = ca
        .leaf(&[0x42])
        .extension(&private_oid, true, tlv(0x05, &[]))
        .pem();
    let d = w.decide(&critical, &[&crl]);
    assert_eq!(d.reason(), Some(DenyReason::MalformedCertificate), "{d:?}");
    assert!(detail(&d).contains("1.3.6.1.4.1.99999.7"));
    let not_critical = ca
        .leaf(&[0x42])
        .extension(&private_oid, false, tlv(0x05, &[]))
        .pem();
    assert_eq!(w.reason(&not_critical, &[&crl]), None);
}

#[test]
fn duplicated_basic_constraints_are_malformed_not_read_as_an_end_entity() {
    let ca = Ca::new(ORG, "Strict CA");
    let w = World::of(&[&ca]);
    let crl = w.verify(&ca.crl().der()).unwrap();
    // The leaf already says cA = FALSE; a second basicConstraints says TRUE.
    let ca_true = tlv(0x30, &tlv(0x01, &[0xff]));
    let twice = ca
        .leaf(&[0x42])
        .extension(&[2, 5, 29, 19], true, ca_true)
        .pem();
    let d = w.decide(&twice, &[&crl]);
    assert_eq!(d.reason(), Some(DenyReason::MalformedCertificate), "{d:?}");
    assert!(detail(&d).contains("appears twice"), "{}", detail(&d));
}

#[test]
fn empty_and_negative_serials_are_malformed() {
    let ca = Ca::new(ORG, "Strict CA");
    let w = World::of(&[&ca]);
    let crl = w.verify(&ca.crl().der()).unwrap();
    for (content, what) in [
        (&[][..], "empty"),
        (&[0x80, 0x01][..], "negative"),
        (&[0xff][..], "negative"),
    ] {
        let pem = ca.leaf(&[1]).pem_with_serial_content(content);
        let d = w.decide(&pem, &[&crl]);
        assert_eq!(
            d.reason(),
            Some(DenyReason::MalformedCertificate),
            "{what}: {d:?}"
        );
    }
    // The re-signing helper itself makes certificates that pass.
    let pem = ca.leaf(&[1]).pem_with_serial_content(&[0x00, 0x80]);
    assert_eq!(w.reason(&pem, &[&crl]), None);
}

// --- Hostile CRL bytes: bounded work, short errors ---

#[test]
fn unsigned_crl_with_millions_of_extensions_is_refused_from_its_first_octets() {
    let ca = Ca::new(ORG, "Devices CA");
    let w = World::of(&[&ca]);
    let hostile = ca.crl().unsigned_with_extensions(7_000_000);
    assert!(hostile.len() > 60_000_000, "{}", hostile.len());
    // Streamed, the first 4 KiB are enough to refuse it: the download stops
    // there (it was 7 s and 1.3 GB, then a SHA-256 pass over all 63 MB).
    let err = w.push_first(&hostile, 4096).unwrap_err();
    assert!(
        matches!(
            err,
            Error::CrlMalformed(CrlMalformed::TailTooLarge {
                max: MAX_TAIL_BYTES
            })
        ),
        "{err:?}"
    );
    let t = Instant::now();
    let err = w.verify(&hostile).unwrap_err();
    assert!(t.elapsed().as_millis() < 50, "{:?}", t.elapsed());
    assert!(matches!(err, Error::CrlMalformed(_)), "{err:?}");
}

#[test]
fn crl_with_a_huge_issuer_name_is_refused_from_its_first_octets_with_a_short_error() {
    let ca = Ca::new(ORG, "Devices CA");
    let w = World::of(&[&ca]);
    let hostile = ca.crl().unsigned_with_issuer_of(20 * 1024 * 1024);
    let err = w.push_first(&hostile, 4096).unwrap_err();
    let t = Instant::now();
    assert_eq!(Some(err), w.verify(&hostile).err());
    assert!(t.elapsed().as_millis() < 50, "{:?}", t.elapsed());
    let err = w.verify(&hostile).unwrap_err();
    assert_eq!(
        err,
        Error::CrlMalformed(CrlMalformed::HeadTooLarge {
            what: "issuer",
            max: MAX_HEAD_BYTES
        })
    );
    let text = err.to_string();
    assert!(text.len() < 300, "{} characters", text.len());
}

#[test]
fn error_text_from_outside_is_cut_and_escaped() {
    let long = "\u{1}".repeat(10_000);
    let cut = mtls_x509::error::bounded(&long);
    assert!(cut.chars().count() <= MAX_ERROR_TEXT * 7);
    assert!(!cut.chars().any(char::is_control), "{cut:?}");
    assert!(cut.ends_with('…'));
}

#[test]
fn signed_crl_with_too_many_extensions_is_malformed() {
    let ca = Ca::new(ORG, "Devices CA");
    let w = World::of(&[&ca]);
    let extra: Vec<Vec<u8>> = (0..20u8)
        .map(|i| raw_extension(&[0x2a, 0x03, i], false, &tlv(0x05, &[])))
        .collect();
    let err = w
        .verify(&ca.crl().der_with_extra_extensions(&extra))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::CrlMalformed(CrlMalformed::TooMany {
                what: "crlExtensions",
                max: 16
            })
        ),
        "{err:?}"
    );
    // A few unknown non-critical ones are fine.
    assert!(
        w.verify(&ca.crl().der_with_extra_extensions(&extra[..3]))
            .is_ok()
    );
}

#[test]
fn signed_crl_entry_over_the_size_bound_is_malformed() {
    let ca = Ca::new(ORG, "Devices CA");
    let w = World::of(&[&ca]);
    let big = raw_extension(&[0x2a, 0x03, 0x04], false, &tlv(0x04, &[0; 2000]));
    let entries = [raw_entry(&[0x41], &[]), raw_entry(&[0x42], &[big])];
    let err = w
        .verify(&ca.crl().der_with_raw_entries(&entries))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::CrlMalformed(CrlMalformed::Entry { index: 1, .. })
        ),
        "{err:?}"
    );
    let many: Vec<Vec<u8>> = (0..9u8)
        .map(|i| raw_extension(&[0x2a, 0x03, i], false, &tlv(0x05, &[])))
        .collect();
    let err = w
        .verify(&ca.crl().der_with_raw_entries(&[raw_entry(&[0x42], &many)]))
        .unwrap_err();
    assert!(matches!(err, Error::CrlMalformed(_)), "{err:?}");
    let fine = [raw_entry(&[0x42], &[reason_code(1)])];
    assert!(w.verify(&ca.crl().der_with_raw_entries(&fine)).is_ok());
}

// --- Through the process-wide state: file:// sources, injected clock ---

fn bump_mtime(path: &std::path::Path) {
    let f = std::fs::File::options().write(true).open(path).unwrap();
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    f.set_modified(later).unwrap();
}

#[tokio::test]
async fn crl_list_checks_each_certificate_against_the_partition_that_covers_it() {
    let s = Fixture::new();
    s.write("p1.crl", &s.ca.crl().partition(&[P1]).revoke(&[0x11]).der());
    s.write("p2.crl", &s.ca.crl().partition(&[P2]).revoke(&[0x22]).der());
    let entry = format!(
        r#"{{"name":"devices","match":{{"CN":"Devices CA"}},"crl":["{}","{}"]}}"#,
        s.file_uri("p1.crl"),
        s.file_uri("p2.crl")
    );
    let a = s.start(s.config(&entry, "")).await;
    let sources = a.crl_sources(0);
    assert_eq!(sources.len(), 2);
    assert!(sources.iter().all(|c| c.installs == 1), "{sources:?}");
    assert!(sources[0].scope.as_deref().unwrap().contains(P1));
    let cases = [
        (0x11, P1, Some(DenyReason::Revoked)),
        (0x22, P2, Some(DenyReason::Revoked)),
        (0x22, P1, None),
        (0x12, P2, None),
        (0x33, P3, Some(DenyReason::CrlUnavailable)),
    ];
    for (serial, cdp, want) in cases {
        let pem = s.ca.leaf(&[serial]).cdp(cdp).pem();
        assert_eq!(reason(&a, &pem).await, want, "{serial:02x} in {cdp}");
    }
}

#[tokio::test]
async fn a_partition_that_fails_to_load_denies_only_its_own_certificates() {
    let s = Fixture::new();
    s.write("p1.crl", &s.ca.crl().partition(&[P1]).der());
    let entry = format!(
        r#"{{"name":"devices","match":{{"CN":"Devices CA"}},"crl":["{}","{}"]}}"#,
        s.file_uri("p1.crl"),
        s.file_uri("p2.crl")
    );
    let a = s.start(s.config(&entry, "")).await;
    assert_eq!(reason(&a, &s.ca.leaf(&[1]).cdp(P1).pem()).await, None);
    let d = a
        .decide(Some(&s.ca.leaf(&[2]).cdp(P2).pem()))
        .await
        .decision;
    assert_eq!(d.reason(), Some(DenyReason::CrlUnavailable));
    assert!(detail(&d).contains("p2.crl"), "{}", detail(&d));
}

#[tokio::test]
async fn key_rollover_crl_list_applies_each_keys_crl_to_its_own_certificates() {
    let s = Fixture::new();
    let key2 = s.ca.next_key();
    std::fs::write(
        s.path("truststore.pem"),
        format!("{}{}", s.ca.pem(), key2.pem()),
    )
    .unwrap();
    // Numbered independently: key 2's CRL #3 is not a rollback of key 1's #50.
    s.write("key1.crl", &s.ca.crl().number(50).revoke(&[0x41]).der());
    s.write("key2.crl", &key2.crl().number(3).revoke(&[0x42]).der());
    let entry = format!(
        r#"{{"name":"devices","match":{{"CN":"Devices CA"}},"crl":["{}","{}"]}}"#,
        s.file_uri("key1.crl"),
        s.file_uri("key2.crl")
    );
    let a = s.start(s.config(&entry, "")).await;
    assert!(a.crl_sources(0).iter().all(|c| c.last_error.is_none()));
    for (ca, serial, want) in [
        (&s.ca, 0x41, Some(DenyReason::Revoked)),
        (&s.ca, 0x42, None),
        (&key2, 0x42, Some(DenyReason::Revoked)),
        (&key2, 0x41, None),
    ] {
        assert_eq!(reason(&a, &ca.leaf(&[serial]).pem()).await, want);
    }
}

#[tokio::test]
async fn a_source_serving_another_cas_crl_neither_covers_nor_locks_out_the_first_ca() {
    // One entry matching two CAs by O, one CRL source. The source serves CA
    // A's CRL #5, then CA B's #1000 (a mix-up, or an attacker replaying a
    // valid CRL), then A's #6. Before, B's #1000 made A's #6 a "rollback",
    // locking A's devices out until a cold start.
    let s = Fixture::new();
    let b = Ca::new(ORG, "Fleet B CA");
    std::fs::write(
        s.path("truststore.pem"),
        format!("{}{}", s.ca.pem(), b.pem()),
    )
    .unwrap();
    s.write("any.crl", &s.ca.crl().number(5).revoke(&[0x42]).der());
    let entry = format!(
        r#"{{"name":"fleet","match":{{"O":"{ORG}"}},"crl":"{}"}}"#,
        s.file_uri("any.crl")
    );
    let a = s.start(s.config(&entry, "")).await;
    let a_revoked = s.ca.leaf(&[0x42]).pem();
    let a_good = s.ca.leaf(&[0x43]).pem();
    assert_eq!(reason(&a, &a_revoked).await, Some(DenyReason::Revoked));

    s.write("any.crl", &b.crl().number(1000).der());
    bump_mtime(&s.path("any.crl"));
    s.clock.advance(300);
    // B's CRL decides B's certificates only; A's keeps deciding A's.
    assert_eq!(reason(&a, &b.leaf(&[0x42]).pem()).await, None);
    assert_eq!(reason(&a, &a_revoked).await, Some(DenyReason::Revoked));
    assert_eq!(reason(&a, &a_good).await, None);
    assert_eq!(a.crl_sources(0)[0].sequences, 2);

    s.write(
        "any.crl",
        &s.ca.crl().number(6).revoke(&[0x42]).revoke(&[0x43]).der(),
    );
    bump_mtime(&s.path("any.crl"));
    s.clock.advance(300);
    // Answered with A's #5 while #6 loads behind the request.
    assert_eq!(reason(&a, &a_good).await, None);
    assert_eq!(reason(&a, &a_good).await, Some(DenyReason::Revoked));
    assert_eq!(a.crl_sources(0)[0].number.as_deref(), Some("06"));

    // A's #4 is still a rollback of A's sequence.
    s.write("any.crl", &s.ca.crl().number(4).der());
    bump_mtime(&s.path("any.crl"));
    s.clock.advance(300);
    assert_eq!(reason(&a, &a_good).await, Some(DenyReason::Revoked));
    assert!(matches!(
        a.crl_sources(0)[0].last_error,
        Some(RefreshError::Refused(Error::CrlRollback(_)))
    ));
}

#[tokio::test]
async fn rollback_is_judged_per_sequence_across_sources() {
    // Two mirrors of one CA's CRL: the stale one cannot undo what the
    // fresh one showed.
    let s = Fixture::new();
    s.write("primary.crl", &s.ca.crl().number(7).revoke(&[0x42]).der());
    s.write("mirror.crl", &s.ca.crl().number(7).revoke(&[0x42]).der());
    let entry = format!(
        r#"{{"name":"devices","match":{{"CN":"Devices CA"}},"crl":["{}","{}"]}}"#,
        s.file_uri("primary.crl"),
        s.file_uri("mirror.crl")
    );
    let a = s.start(s.config(&entry, "")).await;
    s.write("mirror.crl", &s.ca.crl().number(6).der());
    bump_mtime(&s.path("mirror.crl"));
    s.clock.advance(300);
    assert_eq!(
        reason(&a, &s.ca.leaf(&[0x42]).pem()).await,
        Some(DenyReason::Revoked)
    );
    assert!(matches!(
        a.crl_sources(0)[1].last_error,
        Some(RefreshError::Refused(Error::CrlRollback(_)))
    ));
}

#[tokio::test]
async fn certificate_of_a_ca_removed_from_the_truststore_is_denied_while_its_crl_is_cached() {
    // The README tells operators to remove a CA to revoke it. Before, the
    // signature check was skipped once the CA was gone, and a forged
    // certificate with its name was allowed on the still-cached CRL.
    let s = Fixture::new();
    let other = Ca::new(ORG, "Other CA");
    s.write("devices.crl", &s.ca.crl().der());
    let a = s
        .start(s.config(
            &s.devices_entry(&s.file_uri("devices.crl")),
            r#","truststore_refresh_seconds":60"#,
        ))
        .await;
    let genuine = s.ca.leaf(&[1]).pem();
    let forged = s.ca.impostor().leaf(&[2]).pem();
    assert_eq!(reason(&a, &genuine).await, None);
    assert_eq!(
        reason(&a, &forged).await,
        Some(DenyReason::IssuerNotAllowed)
    );
    std::fs::write(s.path("truststore.pem"), other.pem()).unwrap();
    bump_mtime(&s.path("truststore.pem"));
    s.clock.advance(60);
    for pem in [&genuine, &forged] {
        let d = a.decide(Some(pem)).await.decision;
        assert_eq!(d.reason(), Some(DenyReason::IssuerNotAllowed), "{d:?}");
        assert!(detail(&d).contains("no CA"), "{}", detail(&d));
    }
}

#[tokio::test]
async fn crl_from_cdp_loads_partitions_lazily_and_never_fetches_outside_its_prefixes() {
    let s = Fixture::new();
    std::fs::create_dir_all(s.path("crl/4f1c")).unwrap();
    s.write(
        "crl/4f1c/p1.crl",
        &s.ca.crl().partition(&[P1]).revoke(&[0x11]).der(),
    );
    s.write(
        "crl/4f1c/p2.crl",
        &s.ca.crl().partition(&[P2]).revoke(&[0x22]).der(),
    );
    let entry = format!(
        r#"{{"name":"devices","match":{{"CN":"Devices CA"}},
            "crl_from_cdp":[{{"prefix":"http://crl.example.test/crl/","fetch":"{}/"}}]}}"#,
        s.file_uri("crl")
    );
    let a = s
        .start(s.config(&entry, r#","max_cdp_crls_per_issuer":2"#))
        .await;
    assert!(
        a.crl_sources(0).is_empty(),
        "nothing is loaded at cold start"
    );
    assert_eq!(
        reason(&a, &s.ca.leaf(&[0x11]).cdp(P1).pem()).await,
        Some(DenyReason::Revoked)
    );
    assert_eq!(a.crl_sources(0).len(), 1);
    assert_eq!(reason(&a, &s.ca.leaf(&[0x12]).cdp(P1).pem()).await, None);
    assert_eq!(a.crl_sources(0)[0].installs, 1, "loaded once, then reused");
    assert_eq!(
        reason(&a, &s.ca.leaf(&[0x22]).cdp(P2).pem()).await,
        Some(DenyReason::Revoked)
    );
    assert_eq!(a.crl_sources(0).len(), 2);

    // A partition with no CRL published yet: denied, and bounded: the least
    // recently used partition is dropped for it.
    let d = a
        .decide(Some(&s.ca.leaf(&[0x33]).cdp(P3).pem()))
        .await
        .decision;
    assert_eq!(d.reason(), Some(DenyReason::CrlUnavailable));
    assert!(detail(&d).contains("p3.crl"), "{}", detail(&d));
    assert_eq!(a.crl_sources(0).len(), 2);

    // Outside every prefix, or not a plain path: never fetched, denied.
    for cdp in [
        "http://169.254.169.254/latest/meta-data/x.crl",
        "http://crl.example.test/other/p1.crl",
        "http://crl.example.test/crl/../truststore.pem",
    ] {
        let d = a
            .decide(Some(&s.ca.leaf(&[0x44]).cdp(cdp).pem()))
            .await
            .decision;
        assert_eq!(d.reason(), Some(DenyReason::CrlUnavailable), "{cdp}");
        assert!(detail(&d).contains("not fetched"), "{}", detail(&d));
    }
    let d = a.decide(Some(&s.ca.leaf(&[0x45]).pem())).await.decision;
    assert_eq!(d.reason(), Some(DenyReason::CrlUnavailable));
    assert!(detail(&d).contains("names no CRL distribution point"));
}

#[tokio::test]
async fn crl_from_cdp_fetches_freshest_deltas_only_within_its_prefixes() {
    let s = Fixture::new();
    std::fs::create_dir_all(s.path("crl")).unwrap();
    let inside = "http://crl.example.test/crl/delta.crl";
    let outside = [
        "http://169.254.169.254/latest/meta-data/delta.crl",
        "http://crl.example.test/crl/../truststore.pem",
        "http://crl.example.test/other/delta.crl",
    ];
    let mut named = outside.to_vec();
    named.push(inside);
    s.write(
        "crl/base.crl",
        &s.ca
            .crl()
            .number(10)
            .der_with(Some(&[]), &[freshest_crl(&named)]),
    );
    s.write(
        "crl/delta.crl",
        &s.ca
            .crl()
            .number(11)
            .delta_der(10, &[raw_entry(&[0x22], &[])]),
    );
    // A second base of the CA, naming its deltas only outside the prefixes.
    s.write(
        "crl/base2.crl",
        &s.ca
            .crl()
            .number(10)
            .der_with(Some(&[]), &[freshest_crl(&outside)]),
    );
    let entry = format!(
        r#"{{"name":"devices","match":{{"CN":"Devices CA"}},
            "crl_from_cdp":[{{"prefix":"http://crl.example.test/crl/","fetch":"{}/"}}]}}"#,
        s.file_uri("crl")
    );
    let a = s.start(s.config(&entry, "")).await;
    let cdp = "http://crl.example.test/crl/base.crl";
    assert_eq!(
        reason(&a, &s.ca.leaf(&[0x22]).cdp(cdp).pem()).await,
        Some(DenyReason::Revoked),
        "the delta the base names is fetched before the answer"
    );
    assert_eq!(reason(&a, &s.ca.leaf(&[0x33]).cdp(cdp).pem()).await, None);
    let sources: Vec<String> = a.crl_sources(0).iter().map(|c| c.source.clone()).collect();
    assert_eq!(sources.len(), 2, "{sources:?}");
    assert!(
        sources
            .iter()
            .all(|u| u.ends_with("/crl/base.crl") || u.ends_with("/crl/delta.crl")),
        "{sources:?}"
    );
    let d = a
        .decide(Some(
            &s.ca
                .leaf(&[0x33])
                .cdp("http://crl.example.test/crl/base2.crl")
                .pem(),
        ))
        .await
        .decision;
    assert_eq!(d.reason(), Some(DenyReason::CrlUnavailable), "{d:?}");
    let sources: Vec<String> = a.crl_sources(0).iter().map(|c| c.source.clone()).collect();
    assert_eq!(
        sources.len(),
        3,
        "never a slot outside the prefixes: {sources:?}"
    );
}

#[tokio::test]
async fn a_source_holds_at_most_four_crl_sequences_and_drops_the_oldest() {
    // A source that serves the CRLs of five partitions in turn (a mix-up,
    // or a hostile source): memory stays bounded, the newest four are kept.
    let s = Fixture::new();
    let uris: Vec<String> = (1..=5)
        .map(|i| format!("http://crl.example.test/crl/4f1c/p{i}.crl"))
        .collect();
    s.write("any.crl", &s.ca.crl().partition(&[&uris[0]]).der());
    let entry = format!(
        r#"{{"name":"devices","match":{{"CN":"Devices CA"}},"crl":"{}"}}"#,
        s.file_uri("any.crl")
    );
    let a = s.start(s.config(&entry, "")).await;
    for uri in &uris[1..] {
        s.write("any.crl", &s.ca.crl().partition(&[uri]).der());
        bump_mtime(&s.path("any.crl"));
        s.clock.advance(300);
        let _ = reason(&a, &s.ca.leaf(&[1]).pem()).await;
    }
    assert_eq!(a.crl_sources(0)[0].sequences, 4);
    assert_eq!(
        reason(&a, &s.ca.leaf(&[1]).cdp(&uris[0]).pem()).await,
        Some(DenyReason::CrlUnavailable),
        "the first partition's CRL was dropped"
    );
    for uri in &uris[1..] {
        assert_eq!(reason(&a, &s.ca.leaf(&[1]).cdp(uri).pem()).await, None);
    }
}
