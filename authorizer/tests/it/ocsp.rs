//! OCSP through the process-wide state (`Authorizer::decide`), against a
//! loopback responder whose answers `openssl ocsp` makes (an implementation
//! independent of ours), with an injected clock: good, revoked and unknown;
//! delegated and foreign signers; stale, oversized and `tryLater` answers;
//! caching, single flight and the retry period; and `responders_from_aia`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use authorizer::fetch::Fetcher;
use authorizer::lambda::{Authorizer, HttpApiResponse, Outcome};
use mtls_policy::config::Config;
use mtls_policy::decision::DenyReason;
use mtls_policy::metrics::OcspUse;
use mtls_tests::ocsp::{GOOD_SERIAL, OcspPki, REVOKED_SERIAL, Signer, UNKNOWN_SERIAL};
use mtls_tests::ocsp_server::{Mode, OcspServer, leaf_pem, openssl_crl};
use mtls_x509::time::{ManualClock, UnixTime};

struct World {
    pki: Arc<OcspPki>,
    server: OcspServer,
    clock: Arc<ManualClock>,
}

impl World {
    async fn new() -> Self {
        let pki = Arc::new(OcspPki::new());
        let server = OcspServer::start(Arc::clone(&pki)).await;
        Self {
            pki,
            server,
            clock: Arc::new(ManualClock::new(UnixTime::now())),
        }
    }

    /// An authorizer whose one issuer entry checks OCSP alone, with `ocsp`
    /// as its `ocsp` member.
    async fn authorizer(&self, ocsp: &str) -> Authorizer {
        self.authorizer_with(&format!(r#","ocsp":{ocsp}"#)).await
    }

    /// An authorizer whose one issuer entry has these revocation members.
    async fn authorizer_with(&self, members: &str) -> Authorizer {
        std::fs::write(
            self.pki.path().join("truststore.pem"),
            self.pki.pem(Signer::Ca),
        )
        .unwrap();
        let config = Config::from_json(&format!(
            r#"{{"truststore":"file://{}/truststore.pem","issuers":[{{"name":"ocsp-devices","match":{{"CN":"Issuing CA"}}{members}}}]}}"#,
            self.pki.path().display()
        ))
        .unwrap();
        let fetcher = Fetcher::new(Authorizer::fetch_limits(&config)).unwrap();
        Authorizer::builder(config)
            .fetcher(fetcher)
            .clock(self.clock.clone())
            .http_api_response(HttpApiResponse::Simple)
            .start()
            .await
            .unwrap()
    }

    fn fixed(&self, extra: &str) -> String {
        format!(r#"{{"responder":"{}"{extra}}}"#, self.server.url())
    }

    fn leaf(&self, name: &str, serial: &[u8]) -> String {
        leaf_pem(&self.pki, name, serial, None)
    }
}

async fn decide(a: &Authorizer, pem: &str) -> Outcome {
    let outcome = a.decide(Some(pem)).await;
    a.settle().await;
    outcome
}

#[tokio::test]
async fn openssl_responder_answers_good_revoked_and_unknown_right() {
    let w = World::new().await;
    let a = w.authorizer(&w.fixed("")).await;
    let good = decide(&a, &w.leaf("good", &GOOD_SERIAL)).await;
    assert!(good.decision.is_allow(), "{good:?}");
    assert_eq!(good.ocsp, Some(OcspUse::Fetched));
    let revoked = decide(&a, &w.leaf("revoked", &REVOKED_SERIAL)).await;
    assert_eq!(
        revoked.decision.reason(),
        Some(DenyReason::Revoked),
        "{revoked:?}"
    );
    let unknown = decide(&a, &w.leaf("unknown", &UNKNOWN_SERIAL)).await;
    assert_eq!(
        unknown.decision.reason(),
        Some(DenyReason::OcspUnavailable),
        "{unknown:?}"
    );
    assert_eq!(w.server.requests(), 3);
    // RFC 5019 §5: a request this small goes as a GET, which caches.
    assert_eq!(w.server.gets(), 3);
    // Answers are cached per serial: no second exchange.
    let again = decide(&a, &w.leaf("good-again", &GOOD_SERIAL)).await;
    assert!(again.decision.is_allow());
    assert_eq!(again.ocsp, Some(OcspUse::Cached));
    assert_eq!(w.server.requests(), 3);
}

#[tokio::test]
async fn the_issuing_ca_and_its_delegated_responder_may_sign_and_no_one_else() {
    let w = World::new().await;
    let pem = w.leaf("device", &GOOD_SERIAL);
    for (signer, allowed) in [
        (Signer::Ca, true),
        (Signer::Responder, true),
        (Signer::ResponderWithoutEku, false),
        (Signer::CaResponder, false),
        (Signer::OtherCa, false),
        (Signer::OtherCaResponder, false),
        (Signer::Impostor, false),
        (Signer::ImpostorResponder, false),
    ] {
        w.server
            .set_mode(Mode::Openssl(signer, vec!["-ndays".into(), "1".into()]));
        // A fresh cache each time.
        let a = w.authorizer(&w.fixed("")).await;
        let d = decide(&a, &pem).await.decision;
        if allowed {
            assert!(d.is_allow(), "{signer:?}: {d:?}");
        } else {
            assert_eq!(
                d.reason(),
                Some(DenyReason::OcspUnavailable),
                "{signer:?}: {d:?}"
            );
        }
    }
}

#[tokio::test]
async fn stale_answer_is_refused_and_asked_again() {
    let w = World::new().await;
    let a = w.authorizer(&w.fixed(r#","cache_seconds":60"#)).await;
    let pem = w.leaf("device", &GOOD_SERIAL);
    assert!(decide(&a, &pem).await.decision.is_allow());
    // Three days on, the answer's nextUpdate (a day) has passed, and the
    // responder (memoized) serves it again: refused.
    w.clock.advance(3 * 86_400);
    let d = decide(&a, &pem).await;
    assert_eq!(
        d.decision.reason(),
        Some(DenyReason::OcspUnavailable),
        "{d:?}"
    );
    assert_eq!(
        w.server.requests(),
        2,
        "a stale answer is not used; it is asked again"
    );
}

#[tokio::test]
async fn try_later_oversized_and_http_errors_are_ocsp_unavailable() {
    let w = World::new().await;
    let pem = w.leaf("device", &GOOD_SERIAL);
    // OCSPResponse { responseStatus tryLater(3) }.
    let try_later = vec![0x30, 0x03, 0x0a, 0x01, 0x03];
    for mode in [
        Mode::Bytes(try_later),
        Mode::Bytes(vec![0x30; mtls_x509::ocsp::MAX_RESPONSE_BYTES + 1]),
        Mode::Bytes(b"<html>not OCSP</html>".to_vec()),
        Mode::Status(503),
    ] {
        w.server.set_mode(mode.clone());
        let a = w.authorizer(&w.fixed("")).await;
        let d = decide(&a, &pem).await.decision;
        assert_eq!(
            d.reason(),
            Some(DenyReason::OcspUnavailable),
            "{mode:?}: {d:?}"
        );
    }
}

#[tokio::test]
async fn dead_responder_gets_one_request_per_serial_per_retry_period_and_no_request_waits_longer() {
    let w = World::new().await;
    w.server.set_mode(Mode::Stall(Duration::from_secs(10)));
    let a = Arc::new(
        w.authorizer(&w.fixed(r#","timeout_ms":300,"retry_seconds":30"#))
            .await,
    );
    let pem = w.leaf("device", &GOOD_SERIAL);
    let started = Instant::now();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (a, pem) = (Arc::clone(&a), pem.clone());
            tokio::spawn(async move {
                let t = Instant::now();
                let d = Box::pin(a.decide(Some(&pem))).await.decision;
                (d, t.elapsed())
            })
        })
        .collect();
    for t in tasks {
        let (d, took) = t.await.unwrap();
        assert_eq!(d.reason(), Some(DenyReason::OcspUnavailable), "{d:?}");
        assert!(took < Duration::from_millis(300 + 250), "waited {took:?}");
    }
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(w.server.requests(), 1, "one exchange for eight requests");
    // Within the retry period: denied at once, without asking.
    let t = Instant::now();
    let d = decide(&a, &pem).await.decision;
    assert_eq!(d.reason(), Some(DenyReason::OcspUnavailable));
    assert!(t.elapsed() < Duration::from_millis(50), "{:?}", t.elapsed());
    assert_eq!(w.server.requests(), 1);
    // After it, one more try.
    w.clock.advance(31);
    w.server.set_mode(Mode::Openssl(
        Signer::Responder,
        vec!["-ndays".into(), "1".into()],
    ));
    assert!(decide(&a, &pem).await.decision.is_allow());
    assert_eq!(w.server.requests(), 2);
}

#[tokio::test]
async fn due_answer_is_used_while_one_refresh_runs_behind_the_request() {
    let w = World::new().await;
    let a = w.authorizer(&w.fixed(r#","cache_seconds":60"#)).await;
    let pem = w.leaf("device", &GOOD_SERIAL);
    assert!(decide(&a, &pem).await.decision.is_allow());
    // Past cache_seconds, within nextUpdate: answered from the cache at
    // once, and refreshed behind.
    w.clock.advance(120);
    w.server.set_mode(Mode::Stall(Duration::from_millis(400)));
    let t = Instant::now();
    let d = a.decide(Some(&pem)).await;
    assert!(d.decision.is_allow());
    assert_eq!(d.ocsp, Some(OcspUse::Cached));
    assert!(
        t.elapsed() < Duration::from_millis(200),
        "{:?}",
        t.elapsed()
    );
    a.settle().await;
    assert_eq!(w.server.requests(), 2);
}

#[tokio::test]
async fn aia_responder_outside_the_prefixes_is_never_asked() {
    let w = World::new().await;
    let allowed = format!("{}allowed/", w.server.url());
    let a = w
        .authorizer(&format!(
            r#"{{"responders_from_aia":[{{"prefix":"{allowed}"}}]}}"#
        ))
        .await;
    let outside = leaf_pem(
        &w.pki,
        "outside",
        &GOOD_SERIAL,
        Some(&format!("{}elsewhere/", w.server.url())),
    );
    let d = decide(&a, &outside).await.decision;
    assert_eq!(d.reason(), Some(DenyReason::OcspUnavailable), "{d:?}");
    let none = leaf_pem(&w.pki, "no-aia", &GOOD_SERIAL, None);
    assert_eq!(
        decide(&a, &none).await.decision.reason(),
        Some(DenyReason::OcspUnavailable)
    );
    assert_eq!(w.server.requests(), 0, "never fetched");
    let inside = leaf_pem(&w.pki, "inside", &GOOD_SERIAL, Some(&allowed));
    let d = decide(&a, &inside).await.decision;
    assert!(d.is_allow(), "{d:?}");
    assert_eq!(w.server.requests(), 1);
}

#[tokio::test]
async fn with_a_crl_and_ocsp_both_must_say_good_and_either_revokes() {
    let w = World::new().await;
    // The CRL lists the good serial; the responder lists the revoked one.
    let crl = openssl_crl(&w.pki, "both", &[&GOOD_SERIAL]);
    let ocsp = w.fixed("");
    let a = w
        .authorizer_with(&format!(r#","crl":"{crl}","ocsp":{ocsp}"#))
        .await;
    let on_crl = decide(&a, &w.leaf("on-crl", &GOOD_SERIAL)).await;
    assert_eq!(
        on_crl.decision.reason(),
        Some(DenyReason::Revoked),
        "{on_crl:?}"
    );
    let on_ocsp = decide(&a, &w.leaf("on-ocsp", &REVOKED_SERIAL)).await;
    assert_eq!(
        on_ocsp.decision.reason(),
        Some(DenyReason::Revoked),
        "{on_ocsp:?}"
    );
    // Not on the CRL, and good at the responder: allowed only then.
    let clean = openssl_crl(&w.pki, "clean", &[]);
    let a = w
        .authorizer_with(&format!(r#","crl":"{clean}","ocsp":{ocsp}"#))
        .await;
    assert!(
        decide(&a, &w.leaf("good", &GOOD_SERIAL))
            .await
            .decision
            .is_allow()
    );
    // A good CRL and a failing responder: denied.
    w.server.set_mode(Mode::Status(500));
    let a = w
        .authorizer_with(&format!(r#","crl":"{clean}","ocsp":{ocsp}"#))
        .await;
    assert_eq!(
        decide(&a, &w.leaf("good-2", &GOOD_SERIAL))
            .await
            .decision
            .reason(),
        Some(DenyReason::OcspUnavailable)
    );
    // A good responder and no CRL: denied.
    w.server.set_mode(Mode::Openssl(
        Signer::Responder,
        vec!["-ndays".into(), "1".into()],
    ));
    let missing = format!("file://{}/missing.crl", w.pki.path().display());
    let a = w
        .authorizer_with(&format!(r#","crl":"{missing}","ocsp":{ocsp}"#))
        .await;
    assert_eq!(
        decide(&a, &w.leaf("good-3", &GOOD_SERIAL))
            .await
            .decision
            .reason(),
        Some(DenyReason::CrlUnavailable)
    );
}

/// Runs `openssl args` in `dir`.
fn openssl_in(dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn same_key_under_another_ca_name_is_asked_and_cached_under_its_own_name() {
    let w = World::new().await;
    let dir = w.pki.path();
    // A second CA certificate for the issuing CA's key, under another name
    // (the truststore allows CAs of several names to share a key). Its
    // devices have serials of their own: the responder, which answers for
    // `Issuing CA`, does not know them.
    openssl_in(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "ca.key",
            "-out",
            "renamed.pem",
            "-days",
            "30",
            "-sha256",
            "-subj",
            "/O=OCSP Testers/CN=Renamed CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    openssl_in(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "renamed-leaf.key",
            "-out",
            "renamed-leaf.csr",
            "-subj",
            "/O=OCSP Testers/CN=renamed-device",
        ],
    );
    std::fs::write(
        dir.join("renamed-leaf.ext"),
        "basicConstraints=critical,CA:FALSE\nextendedKeyUsage=clientAuth\n",
    )
    .unwrap();
    let serial: String = GOOD_SERIAL.iter().map(|b| format!("{b:02X}")).collect();
    openssl_in(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "renamed-leaf.csr",
            "-CA",
            "renamed.pem",
            "-CAkey",
            "ca.key",
            "-set_serial",
            &format!("0x{serial}"),
            "-days",
            "10",
            "-sha256",
            "-extfile",
            "renamed-leaf.ext",
            "-out",
            "renamed-leaf.pem",
        ],
    );
    let renamed_leaf = std::fs::read_to_string(dir.join("renamed-leaf.pem")).unwrap();
    let renamed_ca = std::fs::read_to_string(dir.join("renamed.pem")).unwrap();
    std::fs::write(
        dir.join("truststore.pem"),
        format!("{}{renamed_ca}", w.pki.pem(Signer::Ca)),
    )
    .unwrap();
    let start = || async {
        let config = Config::from_json(&format!(
            r#"{{"truststore":"file://{}/truststore.pem","issuers":[{{"name":"ocsp-devices","match":{{"O":"OCSP Testers"}},"ocsp":{}}}]}}"#,
            dir.display(),
            w.fixed("")
        ))
        .unwrap();
        let fetcher = Fetcher::new(Authorizer::fetch_limits(&config)).unwrap();
        Authorizer::builder(config)
            .fetcher(fetcher)
            .clock(w.clock.clone())
            .http_api_response(HttpApiResponse::Simple)
            .start()
            .await
            .unwrap()
    };
    // Asked first: the CertID must name the renamed CA, which the
    // responder does not answer for, never `Issuing CA`'s serial of the
    // same number (another device, good).
    let a = start().await;
    let d = decide(&a, &renamed_leaf).await;
    assert_eq!(
        d.decision.reason(),
        Some(DenyReason::OcspUnavailable),
        "answered with another CA name's status: {d:?}"
    );
    // Asked after `Issuing CA`'s device of the same serial: its cached
    // `good` is not this device's answer either.
    let a = start().await;
    let issuing_leaf = w.leaf("issuing-device", &GOOD_SERIAL);
    assert!(decide(&a, &issuing_leaf).await.decision.is_allow());
    let d = decide(&a, &renamed_leaf).await;
    assert_eq!(
        d.decision.reason(),
        Some(DenyReason::OcspUnavailable),
        "the cached answer of another CA name was used: {d:?}"
    );
}

#[tokio::test]
async fn a_responder_redirect_is_not_followed() {
    let w = World::new().await;
    let elsewhere = OcspServer::start(Arc::clone(&w.pki)).await;
    w.server.set_mode(Mode::Redirect(elsewhere.url()));
    let a = w.authorizer(&w.fixed("")).await;
    let d = decide(&a, &w.leaf("device", &GOOD_SERIAL)).await.decision;
    assert_eq!(d.reason(), Some(DenyReason::OcspUnavailable), "{d:?}");
    assert_eq!(elsewhere.requests(), 0, "the redirect went nowhere");
}
