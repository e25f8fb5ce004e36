//! The soak's PKI and what its sources publish: the devices, the CAs, the
//! CRLs (with their history, for rollbacks), the deny list, and the
//! authorizer's configuration with the windows the oracle relies on.

use std::sync::Mutex;

use mtls_tests::pki::{Ca, now};
use mtls_x509::{pem, signed};
use rcgen::DnType;
use time::Duration;

/// The authorizer's timing, short so that a minute holds many refreshes. The
/// oracle's windows are computed from these, as the documentation states them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timing {
    pub crl_refresh: f64,
    pub crl_retry: f64,
    pub crl_grace: f64,
    pub fetch_timeout: f64,
    pub deny_refresh: f64,
    pub deny_max_age: f64,
    pub truststore_refresh: f64,
    /// `nextUpdate - thisUpdate` of every CRL the CAs publish.
    pub crl_validity: f64,
    /// How often the CAs publish a new CRL.
    pub publish_every: f64,
    /// How often a device of the late pool is revoked (CRL and deny list).
    pub revoke_every: f64,
    /// The largest fetch the authorizer accepts.
    pub max_fetch_bytes: usize,
}

pub const TIMING: Timing = Timing {
    crl_refresh: 2.0,
    crl_retry: 1.0,
    crl_grace: 3.0,
    fetch_timeout: 1.0,
    deny_refresh: 1.0,
    deny_max_age: 5.0,
    truststore_refresh: 2.0,
    crl_validity: 8.0,
    publish_every: 2.0,
    revoke_every: 5.0,
    max_fetch_bytes: 262_144,
};

impl Timing {
    /// How long after a source fault ends its effects may still be seen: a
    /// refresh interval, a retry period, a fetch timeout, and 2 s of scheduling
    /// slack on 2 busy cores.
    pub(crate) fn after_fault(&self) -> f64 {
        self.crl_refresh + self.crl_retry + self.fetch_timeout + 2.0
    }
}

/// How the operator revokes a late device: the three paths have different
/// documented windows, and a path must not hide behind another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Revocation {
    /// On the CA's next CRL and on the deny list.
    Both,
    /// On the CA's next CRL only.
    CrlOnly,
    /// On the deny list only.
    DenyListOnly,
}

impl Revocation {
    /// The path of late device `i`: the three in turn.
    pub fn of(i: usize) -> Self {
        match i % 3 {
            0 => Self::Both,
            1 => Self::CrlOnly,
            _ => Self::DenyListOnly,
        }
    }

    pub fn on_crl(self) -> bool {
        self != Self::DenyListOnly
    }

    pub(crate) fn on_deny_list(self) -> bool {
        self != Self::CrlOnly
    }
}

/// A client: its certificate chain and key, as PEM, and its serial.
#[derive(Clone, Debug)]
pub struct Device {
    pub name: String,
    pub chain_pem: String,
    pub key_pem: String,
    pub serial: Vec<u8>,
    pub fingerprint: String,
}

fn device(name: &str, ca: &Ca, serial: &[u8]) -> Device {
    let (cert, key) = ca
        .leaf(serial)
        .subject(&[(DnType::CommonName, name)])
        .pem_with_key();
    let der = pem::find(cert.as_bytes(), pem::CERTIFICATE)
        .ok()
        .flatten()
        .unwrap_or_default();
    Device {
        name: name.to_owned(),
        chain_pem: format!("{cert}{}", ca.pem()),
        key_pem: key,
        serial: serial.to_vec(),
        fingerprint: hex::encode(signed::sha256(&der)),
    }
}

/// Everything the soak made.
pub struct World {
    pub root: Ca,
    pub devices_ca: Ca,
    pub revoked_ca: Ca,
    pub other_ca: Ca,
    pub impostor: Ca,
    pub good: Device,
    pub crl_revoked: Device,
    pub deny_listed: Device,
    pub ca_revoked: Device,
    pub wrong_issuer: Device,
    pub untrusted: Device,
    /// Revoked one by one during the run.
    pub late: Vec<Device>,
    pub state: Mutex<Published>,
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World").finish_non_exhaustive()
    }
}

/// What the CAs and the operator have published so far.
#[derive(Debug, Default)]
pub(crate) struct Published {
    pub crl_number: u64,
    /// Every devices CRL signed, oldest first (for rollbacks).
    pub history: Vec<Vec<u8>>,
    /// How many late devices are revoked (a prefix of `late`).
    pub late_revoked: usize,
    pub deny_sequence: u64,
    pub root_number: u64,
}

impl World {
    pub fn new(late: usize) -> Self {
        let root = Ca::new("Soak", "Soak Root CA");
        let devices_ca = root.subordinate("Soak Devices", "Soak Devices CA", &[0x11]);
        let revoked_ca = root.subordinate("Soak Devices", "Soak Revoked CA", &[0x12]);
        let other_ca = Ca::new("Soak Others", "Soak Other CA");
        let untrusted_ca = Ca::new("Soak", "Soak Untrusted CA");
        let impostor = devices_ca.impostor();
        let good = device("good-device", &devices_ca, &[0x01, 0x00, 0x01]);
        let crl_revoked = device("crl-revoked-device", &devices_ca, &[0x02, 0x00, 0x01]);
        let deny_listed = device("deny-listed-device", &devices_ca, &[0x03, 0x00, 0x01]);
        let ca_revoked = device("device-under-revoked-ca", &revoked_ca, &[0x04, 0x00, 0x01]);
        let wrong_issuer = device("wrong-issuer-device", &other_ca, &[0x05, 0x00, 0x01]);
        let untrusted = device("untrusted-device", &untrusted_ca, &[0x06, 0x00, 0x01]);
        let late = (0..late)
            .map(|i| {
                let [hi, lo] = u16::try_from(i).unwrap_or(u16::MAX).to_be_bytes();
                device(&format!("late-device-{i}"), &devices_ca, &[0x10, hi, lo])
            })
            .collect();
        Self {
            root,
            devices_ca,
            revoked_ca,
            other_ca,
            impostor,
            good,
            crl_revoked,
            deny_listed,
            ca_revoked,
            wrong_issuer,
            untrusted,
            late,
            state: Mutex::new(Published::default()),
        }
    }

    /// The bundle API Gateway and the authorizer trust.
    pub fn truststore(&self) -> String {
        [
            self.root.pem(),
            self.devices_ca.pem(),
            self.revoked_ca.pem(),
            self.other_ca.pem(),
        ]
        .concat()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Published> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Signs the next devices CRL: the CRL-revoked device and every late
    /// device revoked so far, `nextUpdate` `crl_validity` ahead.
    /// Also returns its exact `nextUpdate` (Unix seconds: the CRL's times are
    /// whole seconds) and how many late devices were revoked when it was made.
    pub(crate) fn next_devices_crl(&self) -> (Vec<u8>, i64, usize) {
        let mut st = self.lock();
        st.crl_number += 1;
        let t = now().replace_nanosecond(0).unwrap_or_else(|_| now());
        let next_update = t + seconds(TIMING.crl_validity);
        let mut crl = self
            .devices_ca
            .crl()
            .number(st.crl_number)
            .times(t - Duration::seconds(1), next_update)
            .revoke(&self.crl_revoked.serial);
        for (i, d) in self.late.iter().enumerate().take(st.late_revoked) {
            if Revocation::of(i).on_crl() {
                crl = crl.revoke(&d.serial);
            }
        }
        let der = crl.der();
        st.history.push(der.clone());
        (der, next_update.unix_timestamp(), st.late_revoked)
    }

    /// The Revoked CA's own CRL: it lists nothing (its device is refused for
    /// its CA, not for itself).
    pub(crate) fn revoked_ca_crl(&self) -> Vec<u8> {
        let t = now();
        self.revoked_ca
            .crl()
            .number(u64::try_from(t.unix_timestamp()).unwrap_or_default())
            .times(t - Duration::seconds(1), t + seconds(TIMING.crl_validity))
            .der()
    }

    /// The root's CRL, listing the Revoked CA.
    pub(crate) fn next_root_crl(&self) -> Vec<u8> {
        let mut st = self.lock();
        st.root_number += 1;
        let t = now();
        self.root
            .crl()
            .number(st.root_number)
            .times(t - Duration::seconds(1), t + seconds(TIMING.crl_validity))
            .revoke(&[0x12])
            .der()
    }

    /// An early devices CRL (signed, genuine, lower number): a rollback.
    /// Mostly one of the last few (still within `nextUpdate`: what a replay
    /// would serve), at times any earlier one.
    pub(crate) fn rollback_crl(&self, pick: usize) -> Option<Vec<u8>> {
        let st = self.lock();
        let older = st.history.len().saturating_sub(1);
        if older == 0 {
            return None;
        }
        let back = if pick.is_multiple_of(4) {
            1 + pick / 4 % older
        } else {
            1 + pick % 3
        };
        st.history
            .get(older.saturating_sub(back.min(older)))
            .cloned()
    }

    /// A CRL with the devices CA's name signed by another key, listing nothing.
    pub(crate) fn forged_crl(&self) -> Vec<u8> {
        let t = now();
        self.impostor
            .crl()
            .number(1_000_000)
            .times(t - Duration::seconds(1), t + seconds(TIMING.crl_validity))
            .der()
    }

    /// A genuine CRL of another issuer, listing nothing, served in the devices
    /// CRL's place.
    pub(crate) fn other_issuer_crl(&self) -> Vec<u8> {
        let t = now();
        self.other_ca
            .crl()
            .number(1_000_000)
            .times(t - Duration::seconds(1), t + seconds(TIMING.crl_validity))
            .der()
    }

    /// Revokes the next late device; returns its index.
    pub(crate) fn revoke_next(&self) -> Option<usize> {
        let mut st = self.lock();
        (st.late_revoked < self.late.len()).then(|| {
            st.late_revoked += 1;
            st.late_revoked - 1
        })
    }

    /// The deny list now: the deny-listed device and every late device
    /// revoked so far, by fingerprint, with a new sequence.
    pub(crate) fn next_deny_list(&self) -> Vec<u8> {
        let mut st = self.lock();
        st.deny_sequence += 1;
        let mut entries = vec![serde_json::json!({"fingerprint": self.deny_listed.fingerprint})];
        for (i, d) in self.late.iter().enumerate().take(st.late_revoked) {
            if Revocation::of(i).on_deny_list() {
                entries.push(
                    serde_json::json!({"fingerprint": d.fingerprint, "reason": "keyCompromise"}),
                );
            }
        }
        serde_json::json!({"version": 1, "sequence": st.deny_sequence, "entries": entries})
            .to_string()
            .into_bytes()
    }

    /// The current deny list again, same sequence (a restore after a removal).
    pub(crate) fn current_deny_list(&self) -> Vec<u8> {
        let mut st = self.lock();
        st.deny_sequence = st.deny_sequence.saturating_sub(1);
        drop(st);
        self.next_deny_list()
    }

    /// The authorizer's configuration for these sources.
    pub fn config(&self, devices_crl: &str, revoked_ca_crl: &str) -> serde_json::Value {
        let t = TIMING;
        serde_json::json!({
            "truststore": "s3://soak/truststore.pem",
            "truststore_refresh_seconds": t.truststore_refresh as u64,
            "crl_refresh_seconds": t.crl_refresh as u64,
            "crl_retry_seconds": t.crl_retry as u64,
            "crl_grace_seconds": t.crl_grace as u64,
            "fetch_timeout_seconds": t.fetch_timeout as u64,
            "max_fetch_bytes": t.max_fetch_bytes,
            "deny_list": "s3://soak/deny-list.json",
            "deny_list_refresh_seconds": t.deny_refresh as u64,
            "deny_list_max_age_seconds": t.deny_max_age as u64,
            "issuers": [{
                "name": "devices",
                "match": {"O": "Soak Devices"},
                "crl": [devices_crl, revoked_ca_crl]
            }],
            "ca_revocation": [{
                "name": "root",
                "match": {"CN": "Soak Root CA"},
                "crl": "s3://soak/root.crl"
            }],
            "ca_revocation_required": true
        })
    }
}

fn seconds(s: f64) -> Duration {
    Duration::milliseconds((s * 1000.0) as i64)
}
