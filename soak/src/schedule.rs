//! The fault controller: the CAs' publications, the operator's revocations,
//! and four lanes of faults (the CRL source, the S3 objects, DynamoDB, the
//! functions' lifecycle), each on its own seeded random sequence. Every lane
//! goes through all its kinds, shuffled, before it repeats one, so a long run
//! injects each kind about equally often.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;

use crate::faults::{CrlServer, Fault, Faults};
use crate::oracle::{Episode, Published, Source, Timeline};
use crate::world::{TIMING, World};

pub const BUCKET: &str = "soak";
pub const DEVICES_CRL: &str = "/devices.crl";
pub const REVOKED_CA_CRL: &str = "/revoked-ca.crl";
const DENY_KEY: &str = "deny-list.json";
const TRUSTSTORE_KEY: &str = "truststore.pem";
const ROOT_CRL_KEY: &str = "root.crl";

/// What the controller drives.
pub struct Controller {
    pub world: Arc<World>,
    pub timeline: Arc<Timeline>,
    pub faults: Faults,
    pub crl: Arc<CrlServer>,
    /// Straight to moto, not through the proxy: the operator's and the CA's writes.
    pub s3: aws_sdk_s3::Client,
    /// Set once the functions are up (the lifecycle lane recycles them).
    pub gateway: std::sync::OnceLock<Arc<gateway::server::Gateway>>,
    pub start: Instant,
    /// `start` as Unix seconds.
    pub start_unix: f64,
    pub stop: Arc<AtomicBool>,
    /// Every write of the deny list, computed and put under it: a restore
    /// must never land after a newer list.
    pub deny_writes: tokio::sync::Mutex<()>,
    /// Episodes last `short_episodes` (1–2 s) or 1.5–3.5 s.
    pub short_episodes: bool,
    /// When the devices CA publishes again (a stale-CRL fault moves it).
    pub resume_publishing: std::sync::Mutex<Instant>,
}

impl std::fmt::Debug for Controller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Controller").finish_non_exhaustive()
    }
}

impl Controller {
    fn now(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// Unix seconds as seconds since the start.
    fn relative(&self, unix: i64) -> f64 {
        unix as f64 - self.start_unix
    }

    fn running(&self) -> bool {
        !self.stop.load(Ordering::SeqCst)
    }

    async fn put(&self, key: &str, body: Vec<u8>) -> Result<(), String> {
        self.s3
            .put_object()
            .bucket(BUCKET)
            .key(key)
            .body(ByteStream::from(body))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("put {key}: {e:?}"))
    }

    /// The devices CA's and the Revoked CA's CRLs, unless the CA is paused.
    fn publish_devices(&self) {
        let paused = *self
            .resume_publishing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            > Instant::now();
        if paused {
            return;
        }
        let (der, next_update, late_revoked) = self.world.next_devices_crl();
        let at = self.now();
        self.crl.publish(DEVICES_CRL, der);
        self.crl
            .publish(REVOKED_CA_CRL, self.world.revoked_ca_crl());
        self.timeline.devices_crl(Published {
            at,
            next_update: self.relative(next_update),
            late_revoked,
        });
        self.timeline.count("new_crl");
    }

    /// Everything published before the functions start.
    pub async fn initial(&self) -> Result<(), String> {
        self.publish_devices();
        self.put(ROOT_CRL_KEY, self.world.next_root_crl()).await?;
        self.put(DENY_KEY, self.world.next_deny_list()).await?;
        self.put(TRUSTSTORE_KEY, self.world.truststore().into_bytes())
            .await
    }

    /// The CAs publish every `publish_every`.
    pub async fn publisher(self: Arc<Self>) {
        while self.running() {
            tokio::time::sleep(secs(TIMING.publish_every)).await;
            self.publish_devices();
            if self
                .put(ROOT_CRL_KEY, self.world.next_root_crl())
                .await
                .is_ok()
            {
                self.timeline.count("new_root_crl");
            }
        }
    }

    /// The operator revokes a late device every `revoke_every`: on the CRL
    /// (at the CA's next publication, or now) and on the deny list.
    pub async fn revoker(self: Arc<Self>) {
        while self.running() {
            tokio::time::sleep(secs(TIMING.revoke_every)).await;
            let Some(i) = self.world.revoke_next() else {
                continue;
            };
            self.timeline.revoking(i, self.now());
            self.publish_devices();
            let written = {
                let _writing = self.deny_writes.lock().await;
                self.put(DENY_KEY, self.world.next_deny_list()).await
            };
            if written.is_ok() {
                self.timeline.revoked(i, self.now());
                self.timeline.count("revocation");
            } else {
                self.timeline.count("revocation_write_failed");
            }
        }
    }

    fn episode_length(&self, rng: &mut fastrand::Rng) -> Duration {
        if self.short_episodes {
            Duration::from_millis(rng.u64(1000..2000))
        } else {
            Duration::from_millis(rng.u64(1500..3500))
        }
    }

    /// Holds `fault` on `target` for one episode, then clears it and records it.
    async fn hold(
        &self,
        rng: &mut fastrand::Rng,
        source: Source,
        kind: &'static str,
        target: &str,
        fault: Fault,
    ) {
        let start = self.now();
        self.faults.set(target, fault);
        tokio::time::sleep(self.episode_length(rng)).await;
        self.faults.clear(target);
        self.timeline.episode(Episode {
            source,
            kind,
            target: target.to_owned(),
            start,
            end: self.now(),
        });
    }

    async fn gap(&self, rng: &mut fastrand::Rng) {
        tokio::time::sleep(Duration::from_millis(rng.u64(300..1200))).await;
    }

    /// The issuers' CRL source.
    pub async fn crl_lane(self: Arc<Self>, seed: u64) {
        const KINDS: [&str; 14] = [
            "crl_stale_within_grace",
            "crl_stale_beyond_grace",
            "crl_forged_signature",
            "crl_rollback",
            "crl_other_issuer",
            "crl_truncated",
            "crl_trickled_past_timeout",
            "crl_http_500",
            "crl_http_503",
            "crl_connection_reset",
            "crl_stalled",
            "crl_garbage_body",
            "crl_oversized_body",
            "crl_hostile_der",
        ];
        let mut rng = fastrand::Rng::with_seed(seed);
        let target = format!("crl:{DEVICES_CRL}");
        while self.running() {
            let mut kinds = KINDS.to_vec();
            rng.shuffle(&mut kinds);
            for kind in kinds {
                if !self.running() {
                    return;
                }
                let fault = match kind {
                    "crl_stale_within_grace" | "crl_stale_beyond_grace" => {
                        // The gap between two publications: past nextUpdate by
                        // at most 1.5 s (grace is 3 s), or past nextUpdate + grace.
                        let gap = if kind == "crl_stale_within_grace" {
                            TIMING.crl_validity + 0.5
                        } else {
                            TIMING.crl_validity + TIMING.crl_grace + 3.0
                        };
                        let start = self.now();
                        let last = self
                            .timeline
                            .snapshot()
                            .devices_crls
                            .last()
                            .map_or(start, |p| p.at);
                        let resume = self.start + secs(last + gap);
                        *self
                            .resume_publishing
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner) = resume;
                        tokio::time::sleep_until(resume.into()).await;
                        self.timeline.episode(Episode {
                            source: Source::CrlPublication,
                            kind,
                            target: DEVICES_CRL.to_owned(),
                            start,
                            end: self.now(),
                        });
                        self.gap(&mut rng).await;
                        continue;
                    }
                    "crl_forged_signature" => Fault::Replace(self.world.forged_crl()),
                    "crl_rollback" => match self.world.rollback_crl(rng.usize(..)) {
                        Some(old) => Fault::Replace(old),
                        None => continue,
                    },
                    "crl_other_issuer" => Fault::Replace(self.world.other_issuer_crl()),
                    "crl_truncated" => Fault::Truncate,
                    "crl_trickled_past_timeout" => Fault::Trickle {
                        pieces: 4,
                        pause: secs(TIMING.fetch_timeout * 0.5),
                    },
                    "crl_http_500" => Fault::Status(500),
                    "crl_http_503" => Fault::Status(503),
                    "crl_connection_reset" => Fault::Reset,
                    "crl_stalled" => Fault::Stall(secs(TIMING.fetch_timeout * 3.0)),
                    "crl_garbage_body" => Fault::Replace((0..2048).map(|_| rng.u8(..)).collect()),
                    "crl_oversized_body" => {
                        let mut body = vec![0x30, 0x83, 0x10, 0x00, 0x00];
                        body.resize(TIMING.max_fetch_bytes + 4096, 0x01);
                        Fault::Replace(body)
                    }
                    // A SEQUENCE claiming 4 GiB, then nested SEQUENCEs with
                    // indefinite and overlong lengths.
                    _ => {
                        let mut body = vec![0x30, 0x84, 0xff, 0xff, 0xff, 0xff];
                        for _ in 0..200 {
                            body.extend([0x30, 0x80, 0x30, 0x81, 0x7f]);
                        }
                        Fault::Replace(body)
                    }
                };
                self.hold(&mut rng, Source::DevicesCrl, kind, &target, fault)
                    .await;
                self.gap(&mut rng).await;
            }
        }
    }

    /// The S3 objects: deny list, truststore, root CRL.
    pub async fn s3_lane(self: Arc<Self>, seed: u64) {
        const KINDS: [&str; 13] = [
            "deny_list_http_503",
            "deny_list_http_500",
            "deny_list_connection_reset",
            "deny_list_stalled",
            "deny_list_truncated",
            "deny_list_removed",
            "truststore_http_503",
            "truststore_connection_reset",
            "truststore_truncated",
            "truststore_new_version",
            "root_crl_http_503",
            "root_crl_connection_reset",
            "root_crl_stalled",
        ];
        let mut rng = fastrand::Rng::with_seed(seed);
        while self.running() {
            let mut kinds = KINDS.to_vec();
            rng.shuffle(&mut kinds);
            for kind in kinds {
                if !self.running() {
                    return;
                }
                let (source, key) = if kind.starts_with("deny_list") {
                    (Source::DenyList, DENY_KEY)
                } else if kind.starts_with("truststore") {
                    (Source::Truststore, TRUSTSTORE_KEY)
                } else {
                    (Source::RootCrl, ROOT_CRL_KEY)
                };
                let target = format!("s3:{BUCKET}/{key}");
                let fault = match kind {
                    "deny_list_removed" => {
                        let start = self.now();
                        {
                            let _writing = self.deny_writes.lock().await;
                            let _ = self
                                .s3
                                .delete_object()
                                .bucket(BUCKET)
                                .key(DENY_KEY)
                                .send()
                                .await;
                        }
                        tokio::time::sleep(self.episode_length(&mut rng)).await;
                        {
                            let _writing = self.deny_writes.lock().await;
                            let _ = self.put(DENY_KEY, self.world.current_deny_list()).await;
                        }
                        self.timeline.episode(Episode {
                            source,
                            kind,
                            target: DENY_KEY.to_owned(),
                            start,
                            end: self.now(),
                        });
                        self.gap(&mut rng).await;
                        continue;
                    }
                    "truststore_new_version" => {
                        // The same CAs, another order: a new object version.
                        let mut pems: Vec<String> = self
                            .world
                            .truststore()
                            .split_inclusive("-----END CERTIFICATE-----\n")
                            .map(str::to_owned)
                            .collect();
                        rng.shuffle(&mut pems);
                        if self
                            .put(TRUSTSTORE_KEY, pems.concat().into_bytes())
                            .await
                            .is_ok()
                        {
                            self.timeline.count(kind);
                        }
                        self.gap(&mut rng).await;
                        continue;
                    }
                    k if k.ends_with("http_503") => Fault::Status(503),
                    k if k.ends_with("http_500") => Fault::Status(500),
                    k if k.ends_with("connection_reset") => Fault::Reset,
                    k if k.ends_with("stalled") => Fault::Stall(secs(TIMING.fetch_timeout * 3.0)),
                    _ => Fault::Truncate,
                };
                self.hold(&mut rng, source, kind, &target, fault).await;
                self.gap(&mut rng).await;
            }
        }
    }

    /// DynamoDB, behind the api-handler.
    pub async fn dynamodb_lane(self: Arc<Self>, seed: u64) {
        const KINDS: [&str; 4] = [
            "dynamodb_throttling",
            "dynamodb_http_500",
            "dynamodb_latency",
            "dynamodb_answer_lost_after_write",
        ];
        let mut rng = fastrand::Rng::with_seed(seed);
        while self.running() {
            let mut kinds = KINDS.to_vec();
            rng.shuffle(&mut kinds);
            for kind in kinds {
                if !self.running() {
                    return;
                }
                let fault = match kind {
                    "dynamodb_throttling" => Fault::Throttle,
                    "dynamodb_http_500" => Fault::Status(500),
                    "dynamodb_latency" => Fault::Delay(Duration::from_millis(300)),
                    _ => Fault::LoseAnswer,
                };
                self.hold(&mut rng, Source::DynamoDb, kind, "dynamodb", fault)
                    .await;
                self.gap(&mut rng).await;
            }
        }
    }

    /// Lambda recycles environments without warning: an idle process of
    /// either function is killed (SIGKILL) and cold-starts again.
    pub async fn lifecycle_lane(self: Arc<Self>, seed: u64) {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut authorizer_next = true;
        while self.running() {
            tokio::time::sleep(Duration::from_millis(rng.u64(1500..3500))).await;
            let Some(gateway) = self.gateway.get() else {
                continue;
            };
            let (function, kind) = match (&gateway.backend, authorizer_next) {
                (gateway::server::Backend::Lambda(handler), false) => {
                    (handler, "recycle_api_handler")
                }
                _ => (&gateway.authorizer, "recycle_authorizer"),
            };
            authorizer_next = !authorizer_next;
            let at = self.now();
            let mut pick = rng.fork();
            if let Some(label) = function.recycle_idle(|n| pick.usize(..n)).await {
                self.timeline.episode(Episode {
                    source: Source::Lifecycle,
                    kind,
                    target: label,
                    start: at,
                    end: at,
                });
            }
        }
    }
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}
