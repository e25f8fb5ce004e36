//! Unit tests of the `ocsp` module (kept beside it so the module itself
//! stays readable). Responses come from `openssl ocsp` and
//! pyca/cryptography ([`mtls_tests::ocsp`]); hostile variants are theirs,
//! edited here and re-signed with the same keys.

use mtls_tests::ocsp::{
    GOOD_SERIAL, OcspPki, PycaAnswer, REVOKED_AT, REVOKED_SERIAL, Signer, UNKNOWN_SERIAL,
};

use base64::Engine as _;

use super::response::Basic;
use super::signer::CertFields;
use super::*;
use crate::der::{Reader, Tlv};
use crate::truststore::TrustStore;

const SKEW: i64 = 60;
const MAX_AGE: i64 = 3600;
const DAY: i64 = 86_400;

fn policy() -> OcspTimePolicy {
    OcspTimePolicy {
        clock_skew_seconds: SKEW,
        max_age_without_next_update: MAX_AGE,
    }
}

/// A PKI, its issuing CA as the truststore holds it, and the time it was made.
struct Fixture {
    pki: OcspPki,
    ca: CaCert,
    now: UnixTime,
}

impl Fixture {
    fn new() -> Self {
        let now = UnixTime::now();
        let pki = OcspPki::new();
        let ca = ca_cert(&pki, Signer::Ca);
        Self { pki, ca, now }
    }

    fn id(&self, serial: &[u8]) -> CertId {
        self.id_with(CertIdHash::Sha256, serial)
    }

    fn id_with(&self, hash: CertIdHash, serial: &[u8]) -> CertId {
        CertId::new(hash, &self.ca, &Serial::from_integer_bytes(serial)).unwrap()
    }

    /// openssl's answer to our request for `id`, valid for a day.
    fn openssl(&self, id: &CertId, signer: Signer) -> Vec<u8> {
        self.pki.respond(&request_der(id), signer, &["-ndays", "1"])
    }

    fn verify(&self, der: &[u8], id: &CertId) -> Result<VerifiedOcsp, OcspError> {
        verify_response(der, id, &self.ca, self.now, policy())
    }

    fn verify_at(&self, der: &[u8], id: &CertId, now: UnixTime) -> Result<VerifiedOcsp, OcspError> {
        verify_response(der, id, &self.ca, now, policy())
    }
}

/// The truststore's view of `who`'s certificate.
fn ca_cert(pki: &OcspPki, who: Signer) -> CaCert {
    let store = TrustStore::from_pem(pki.pem(who).as_bytes()).unwrap();
    let der = pki.der(who);
    let signed = SignedData::certificate(&der).unwrap();
    let subject = CertFields::read(&signed).unwrap().subject;
    store.cas_named(subject).next().unwrap().clone()
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    super::tlv(tag, content)
}

/// The top-level elements of some DER content.
fn elements(content: &[u8]) -> Vec<Tlv<'_>> {
    let mut r = Reader::new(content);
    let mut out = Vec::new();
    while !r.is_empty() {
        out.push(r.any().unwrap());
    }
    out
}

/// A response taken apart: what [`assemble`] needs to put it back together.
struct Parts {
    tbs_content: Vec<u8>,
    algorithm: Vec<u8>,
    signature: Vec<u8>,
    certs: Option<Vec<u8>>,
}

fn parts(der: &[u8]) -> Parts {
    let response = elements(der)[0];
    let bytes = elements(response.content)[1];
    let response_bytes = elements(bytes.content)[0];
    let body = elements(response_bytes.content)[1];
    let basic = elements(body.content)[0];
    let fields = elements(basic.content);
    Parts {
        tbs_content: fields[0].content.to_vec(),
        algorithm: fields[1].raw.to_vec(),
        signature: fields[2].content[1..].to_vec(),
        certs: fields.get(3).map(|c| c.raw.to_vec()),
    }
}

fn assemble(p: &Parts) -> Vec<u8> {
    let mut bits = vec![0u8];
    bits.extend(&p.signature);
    let mut basic = tlv(der::SEQUENCE, &p.tbs_content);
    basic.extend(&p.algorithm);
    basic.extend(tlv(der::BIT_STRING, &bits));
    basic.extend(p.certs.iter().flatten());
    let mut response_bytes = tlv(der::OID, oid::BASIC);
    response_bytes.extend(tlv(der::OCTET_STRING, &tlv(der::SEQUENCE, &basic)));
    let mut response = tlv(der::ENUMERATED, &[0]);
    response.extend(tlv(der::CONTEXT_0, &tlv(der::SEQUENCE, &response_bytes)));
    tlv(der::SEQUENCE, &response)
}

/// `der` with its `tbsResponseData` content replaced by `edit`'s, signed
/// again by `signer`: what a responder holding that key could serve.
fn resigned(
    pki: &OcspPki,
    der: &[u8],
    signer: Signer,
    edit: impl FnOnce(&[u8]) -> Vec<u8>,
) -> Vec<u8> {
    let mut p = parts(der);
    p.tbs_content = edit(&p.tbs_content);
    p.signature = pki.sign(signer, &tlv(der::SEQUENCE, &p.tbs_content));
    assemble(&p)
}

/// An edit of `tbsResponseData` content that replaces its `responses` list
/// content with `edit`'s.
fn edit_responses(edit: impl FnOnce(&[u8]) -> Vec<u8>) -> impl FnOnce(&[u8]) -> Vec<u8> {
    move |tbs: &[u8]| {
        let fields = elements(tbs);
        // responderID, producedAt, responses, then responseExtensions, if any.
        let mut out = [fields[0].raw, fields[1].raw].concat();
        out.extend(tlv(der::SEQUENCE, &edit(fields[2].content)));
        for f in &fields[3..] {
            out.extend(f.raw);
        }
        out
    }
}

/// One `Extension` of OID 1.2.3.4 holding a NULL.
fn private_extension(critical: bool) -> Vec<u8> {
    let mut content = tlv(der::OID, &[0x2a, 0x03, 0x04]);
    if critical {
        content.extend(tlv(der::BOOLEAN, &[0xff]));
    }
    content.extend(tlv(der::OCTET_STRING, &[der::NULL, 0x00]));
    tlv(der::SEQUENCE, &content)
}

#[test]
fn request_der_is_read_by_openssl_as_one_request_for_our_certificate() {
    let fx = Fixture::new();
    for (hash, name, octets) in [
        (CertIdHash::Sha256, "sha256", 32),
        (CertIdHash::Sha1, "sha1", 20),
    ] {
        let id = fx.id_with(hash, &GOOD_SERIAL);
        assert_eq!(id.issuer_name_hash().len(), octets);
        assert_eq!(id.issuer_key_hash().len(), octets);
        let text = fx.pki.request_text(&request_der(&id));
        let expect = [
            format!("Hash Algorithm: {name}"),
            format!(
                "Issuer Name Hash: {}",
                hex::encode_upper(id.issuer_name_hash())
            ),
            format!(
                "Issuer Key Hash: {}",
                hex::encode_upper(id.issuer_key_hash())
            ),
            format!("Serial Number: {}", hex::encode_upper(GOOD_SERIAL)),
        ];
        for line in &expect {
            assert!(text.contains(line.as_str()), "{line} not in:\n{text}");
        }
        // RFC 5019 §2.1.1: one request, no requestor, no signature, no nonce.
        assert_eq!(text.matches("Certificate ID:").count(), 1, "{text}");
        for absent in ["Requestor Name", "Request Extensions", "Signature", "Nonce"] {
            assert!(!text.contains(absent), "{absent} in:\n{text}");
        }
    }
}

#[test]
fn request_der_is_byte_for_byte_the_request_openssl_sends() {
    let fx = Fixture::new();
    for (hash, digest) in [(CertIdHash::Sha256, "sha256"), (CertIdHash::Sha1, "sha1")] {
        for serial in [&GOOD_SERIAL[..], &REVOKED_SERIAL, &[0x01], &[0x7f; 20]] {
            let ours = request_der(&fx.id_with(hash, serial));
            assert_eq!(
                hex::encode(&ours),
                hex::encode(fx.pki.openssl_request(serial, digest)),
                "{digest} {}",
                hex::encode(serial)
            );
        }
    }
}

#[test]
fn request_get_path_is_the_url_encoded_base64_of_the_request() {
    let fx = Fixture::new();
    // Among a few serials, the base64 has every character that needs escaping.
    let mut escaped = std::collections::BTreeSet::new();
    for last in 0..=255u8 {
        let id = fx.id(&[0x10, last]);
        let path = request_get_path(&id);
        assert!(!path.contains(['+', '/', '=']), "{path}");
        for code in ["%2B", "%2F", "%3D"] {
            if path.contains(code) {
                escaped.insert(code);
            }
        }
        let b64 = path
            .replace("%2B", "+")
            .replace("%2F", "/")
            .replace("%3D", "=");
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        assert_eq!(decoded, request_der(&id));
    }
    assert_eq!(escaped.len(), 3, "{escaped:?}");
}

#[test]
fn good_serial_answered_by_openssl_is_good_until_next_update() {
    let fx = Fixture::new();
    // A 20-octet serial with the high bit set: openssl finds it only if the
    // INTEGER we sent is the certificate's.
    let id = fx.id(&GOOD_SERIAL);
    let v = fx.verify(&fx.openssl(&id, Signer::Ca), &id).unwrap();
    assert_eq!(v.status(), CertStatus::Good);
    assert_eq!(v.signer(), OcspSigner::Issuer);
    assert_eq!(v.revocation_reason(), None);
    assert_eq!(v.next_update(), Some(v.this_update().offset(DAY)));
    assert_eq!(v.usable_until(), v.this_update().offset(DAY));
    assert!(v.this_update().seconds_since(fx.now).abs() < SKEW);
    assert!(v.produced_at().seconds_since(fx.now).abs() < SKEW);
}

#[test]
fn revoked_serial_answered_by_openssl_is_revoked_at_its_revocation_time() {
    let fx = Fixture::new();
    let id = fx.id(&REVOKED_SERIAL);
    let v = fx.verify(&fx.openssl(&id, Signer::Ca), &id).unwrap();
    assert_eq!(
        v.status(),
        CertStatus::Revoked {
            revoked_at: UnixTime(REVOKED_AT)
        }
    );
    assert_eq!(v.revocation_reason(), Some(1), "keyCompromise");
}

#[test]
fn serial_unknown_to_openssl_is_unknown() {
    let fx = Fixture::new();
    let id = fx.id(&UNKNOWN_SERIAL);
    let v = fx.verify(&fx.openssl(&id, Signer::Ca), &id).unwrap();
    assert_eq!(v.status(), CertStatus::Unknown);
}

#[test]
fn delegated_responder_with_ocsp_signing_eku_is_accepted() {
    let fx = Fixture::new();
    // RSA-2048 responder under an ECDSA CA, with id-pkix-ocsp-nocheck.
    let responder = fx.pki.der(Signer::Responder);
    let nocheck = responder
        .windows(oid::NOCHECK.len())
        .any(|w| w == oid::NOCHECK);
    assert!(
        nocheck,
        "the responder certificate carries id-pkix-ocsp-nocheck"
    );
    let fingerprint = crate::signed::sha256(&responder);
    let id = fx.id(&REVOKED_SERIAL);
    let by_name = fx.openssl(&id, Signer::Responder);
    let by_key = fx.pki.respond(
        &request_der(&id),
        Signer::Responder,
        &["-ndays", "1", "-resp_key_id"],
    );
    for der in [by_name, by_key] {
        let v = fx.verify(&der, &id).unwrap();
        assert_eq!(v.signer(), OcspSigner::Delegated { fingerprint });
        assert!(matches!(v.status(), CertStatus::Revoked { .. }));
    }
}

#[test]
fn delegated_responder_by_key_hash_from_pyca_is_accepted_with_its_revocation_reason() {
    let fx = Fixture::new();
    let id = fx.id(&GOOD_SERIAL);
    let answer = PycaAnswer {
        signer: Signer::Responder,
        by_key: true,
        certs: vec![Signer::Responder],
        status: "revoked",
        revocation_time: Some(fx.now.0 - DAY),
        reason: Some("certificateHold"),
        ..PycaAnswer::good(fx.now.0 - 10)
    };
    let v = fx
        .verify(&fx.pki.pyca_respond(&request_der(&id), &answer), &id)
        .unwrap();
    assert_eq!(
        v.status(),
        CertStatus::Revoked {
            revoked_at: fx.now.offset(-DAY)
        }
    );
    assert_eq!(v.revocation_reason(), Some(6), "certificateHold");
    assert!(matches!(v.signer(), OcspSigner::Delegated { .. }));
}

#[test]
fn delegated_responder_without_ocsp_signing_eku_is_refused() {
    let fx = Fixture::new();
    let id = fx.id(&GOOD_SERIAL);
    let der = fx.openssl(&id, Signer::ResponderWithoutEku);
    assert_eq!(
        fx.verify(&der, &id),
        Err(OcspError::UnauthorizedSigner(
            "the responder certificate lacks id-kp-OCSPSigning"
        ))
    );
}

#[test]
fn delegated_responder_that_is_a_ca_is_refused() {
    let fx = Fixture::new();
    let id = fx.id(&GOOD_SERIAL);
    let der = fx.openssl(&id, Signer::CaResponder);
    assert_eq!(
        fx.verify(&der, &id),
        Err(OcspError::UnauthorizedSigner(
            "the responder certificate is a CA certificate"
        ))
    );
}

#[test]
fn response_signed_by_another_cas_responder_is_refused() {
    let fx = Fixture::new();
    let id = fx.id(&GOOD_SERIAL);
    let der = fx.openssl(&id, Signer::OtherCaResponder);
    assert_eq!(
        fx.verify(&der, &id),
        Err(OcspError::UnauthorizedSigner(
            "the responder certificate was issued by another CA"
        ))
    );
}

#[test]
fn response_signed_by_a_ca_with_the_issuers_name_but_another_key_is_refused() {
    let fx = Fixture::new();
    let id = fx.id(&GOOD_SERIAL);
    let der = fx.openssl(&id, Signer::Impostor);
    assert_eq!(fx.verify(&der, &id), Err(OcspError::BadSignature));
    // Named by key hash instead, it names nobody we accept.
    let der = fx
        .pki
        .respond(&request_der(&id), Signer::Impostor, &["-resp_key_id"]);
    assert_eq!(fx.verify(&der, &id).map_err(|e| e.label()), Err("signer"));
}

#[test]
fn responder_certified_by_an_impostor_of_the_issuer_is_refused() {
    let fx = Fixture::new();
    let id = fx.id(&GOOD_SERIAL);
    // Its issuer name is the CA's; the impostor's key signed it.
    let der = fx.openssl(&id, Signer::ImpostorResponder);
    assert_eq!(
        fx.verify(&der, &id),
        Err(OcspError::UnauthorizedSigner(
            "the responder certificate is not signed by the issuer's key"
        ))
    );
}

#[test]
fn delegated_response_without_the_responder_certificate_is_refused() {
    let fx = Fixture::new();
    let id = fx.id(&GOOD_SERIAL);
    let der = fx.pki.respond(
        &request_der(&id),
        Signer::Responder,
        &["-ndays", "1", "-resp_no_certs"],
    );
    assert_eq!(
        fx.verify(&der, &id),
        Err(OcspError::UnauthorizedSigner(
            "the responder ID names neither the issuer nor a certificate in the response"
        ))
    );
}

#[test]
fn delegated_responder_outside_its_validity_is_refused() {
    let fx = Fixture::new();
    let id = fx.id(&GOOD_SERIAL);
    let der = fx.openssl(&id, Signer::Responder);
    // The responder certificate is valid for 30 days from now; the signer
    // is checked before the answer's own times.
    for now in [fx.now.offset(-DAY), fx.now.offset(31 * DAY)] {
        assert_eq!(
            fx.verify_at(&der, &id, now),
            Err(OcspError::UnauthorizedSigner(
                "the responder certificate is not valid now"
            ))
        );
    }
}

#[test]
fn response_for_another_serial_is_a_cert_id_mismatch() {
    let fx = Fixture::new();
    let asked = fx.id(&GOOD_SERIAL);
    let der = fx.openssl(&fx.id(&REVOKED_SERIAL), Signer::Ca);
    assert_eq!(fx.verify(&der, &asked), Err(OcspError::CertIdMismatch));
    // pyca, answering our request with another serial.
    let answer = PycaAnswer {
        serial: Some(0x1001),
        ..PycaAnswer::good(fx.now.0)
    };
    let der = fx.pki.pyca_respond(&request_der(&asked), &answer);
    assert_eq!(fx.verify(&der, &asked), Err(OcspError::CertIdMismatch));
}

#[test]
fn sha1_cert_id_is_accepted_when_requested_and_only_then() {
    let fx = Fixture::new();
    let sha1 = fx.id_with(CertIdHash::Sha1, &REVOKED_SERIAL);
    let der = fx.openssl(&sha1, Signer::Ca);
    let v = fx.verify(&der, &sha1).unwrap();
    assert!(matches!(v.status(), CertStatus::Revoked { .. }));
    // The same answer is not one for the SHA-256 request, nor the other way round.
    let sha256 = fx.id(&REVOKED_SERIAL);
    assert_eq!(fx.verify(&der, &sha256), Err(OcspError::CertIdMismatch));
    let der = fx.openssl(&sha256, Signer::Ca);
    assert_eq!(fx.verify(&der, &sha1), Err(OcspError::CertIdMismatch));
}

#[test]
fn cert_id_hash_algorithm_with_absent_parameters_matches_too() {
    let fx = Fixture::new();
    let id = fx.id(&GOOD_SERIAL);
    let der = fx.openssl(&id, Signer::Ca);
    let absent = tlv(der::SEQUENCE, &tlv(der::OID, oid::SHA256));
    let with_null = [tlv(der::OID, oid::SHA256), tlv(der::NULL, &[])].concat();
    let with_null = tlv(der::SEQUENCE, &with_null);
    let edited = resigned(
        &fx.pki,
        &der,
        Signer::Ca,
        edit_responses(|list| {
            let single = elements(list)[0];
            let fields = elements(single.content);
            let cert_id = elements(fields[0].content);
            assert_eq!(cert_id[0].raw, with_null.as_slice(), "what openssl echoes");
            let mut new_id = absent.clone();
            for f in &cert_id[1..] {
                new_id.extend(f.raw);
            }
            let mut content = tlv(der::SEQUENCE, &new_id);
            for f in &fields[1..] {
                content.extend(f.raw);
            }
            tlv(der::SEQUENCE, &content)
        }),
    );
    assert_eq!(fx.verify(&edited, &id).unwrap().status(), CertStatus::Good);
}

#[test]
fn try_later_and_the_other_unsuccessful_statuses_are_refused() {
    for status in [
        ResponseStatus::MalformedRequest,
        ResponseStatus::InternalError,
        ResponseStatus::TryLater,
        ResponseStatus::SigRequired,
        ResponseStatus::Unauthorized,
    ] {
        let der = [0x30, 0x03, der::ENUMERATED, 0x01, status.code()];
        assert_eq!(
            Basic::read(&der).map(|_| ()),
            Err(OcspError::Status(status))
        );
    }
    // 4 is not used, 7 is not defined.
    for code in [4, 7] {
        let der = [0x30, 0x03, der::ENUMERATED, 0x01, code];
        assert_eq!(
            Basic::read(&der).map(|_| ()).map_err(|e| e.label()),
            Err("malformed")
        );
    }
    // Through verify_response, with a real issuer.
    let fx = Fixture::new();
    let id = fx.id(&GOOD_SERIAL);
    assert_eq!(
        fx.verify(&[0x30, 0x03, 0x0a, 0x01, 0x03], &id),
        Err(OcspError::Status(ResponseStatus::TryLater))
    );
}

#[test]
fn response_larger_than_the_cap_is_refused_before_it_is_read() {
    let fx = Fixture::new();
    let id = fx.id(&GOOD_SERIAL);
    let mut der = fx.openssl(&id, Signer::Responder);
    assert!(fx.verify(&der, &id).is_ok());
    der.resize(MAX_RESPONSE_BYTES + 1, 0);
    assert_eq!(
        fx.verify(&der, &id),
        Err(OcspError::TooLarge {
            size: MAX_RESPONSE_BYTES + 1,
            max: MAX_RESPONSE_BYTES
        })
    );
}

#[test]
fn response_past_next_update_is_refused_with_no_grace() {
    let fx = Fixture::new();
    let id = fx.id(&GOOD_SERIAL);
    let der = fx.openssl(&id, Signer::Ca);
    let next_update = fx.verify(&der, &id).unwrap().next_update().unwrap();
    assert!(fx.verify_at(&der, &id, next_update.offset(SKEW)).is_ok());
    let now = next_update.offset(SKEW + 1);
    assert_eq!(
        fx.verify_at(&der, &id, now),
        Err(OcspError::Expired { next_update, now })
    );
}

#[test]
fn response_whose_this_update_is_in_the_future_is_refused() {
    let fx = Fixture::new();
    let id = fx.id(&GOOD_SERIAL);
    let der = fx.openssl(&id, Signer::Ca);
    let this_update = fx.verify(&der, &id).unwrap().this_update();
    assert!(fx.verify_at(&der, &id, this_update.offset(-SKEW)).is_ok());
    let now = this_update.offset(-SKEW - 1);
    assert_eq!(
        fx.verify_at(&der, &id, now),
        Err(OcspError::NotYetValid { this_update, now })
    );
    // pyca, an hour ahead of the real clock.
    let answer = PycaAnswer::good(fx.now.0 + 3600);
    let der = fx.pki.pyca_respond(&request_der(&id), &answer);
    assert_eq!(
        fx.verify(&der, &id),
        Err(OcspError::NotYetValid {
            this_update: fx.now.offset(3600),
            now: fx.now
        })
    );
}

#[test]
fn response_without_next_update_is_usable_for_the_configured_maximum_age() {
    let fx = Fixture::new();
    let id = fx.id(&GOOD_SERIAL);
    let der = fx.pki.respond(&request_der(&id), Signer::Ca, &[]);
    let v = fx.verify(&der, &id).unwrap();
    assert_eq!(v.next_update(), None);
    let this_update = v.this_update();
    assert_eq!(v.usable_until(), this_update.offset(MAX_AGE));
    assert!(
        fx.verify_at(&der, &id, this_update.offset(MAX_AGE + SKEW))
            .is_ok()
    );
    let now = this_update.offset(MAX_AGE + SKEW + 1);
    let stale = Err(OcspError::StaleWithoutNextUpdate { this_update, now });
    assert_eq!(fx.verify_at(&der, &id, now), stale);
    // A cached answer goes stale by the same rule.
    assert_eq!(v.check_usable(now, SKEW), stale.map(|_: VerifiedOcsp| ()));
    assert_eq!(v.check_usable(now.offset(-1), SKEW), Ok(()));
}

#[test]
fn next_update_before_this_update_is_malformed() {
    let fx = Fixture::new();
    let id = fx.id(&GOOD_SERIAL);
    let answer = PycaAnswer {
        next_update: Some(fx.now.0 - 20),
        ..PycaAnswer::good(fx.now.0 - 10)
    };
    let der = fx.pki.pyca_respond(&request_der(&id), &answer);
    assert_eq!(
        fx.verify(&der, &id),
        Err(OcspError::Malformed(Malformed {
            what: "nextUpdate",
            problem: "before thisUpdate"
        }))
    );
}

#[test]
fn unknown_critical_response_extension_is_refused_and_known_or_noncritical_ones_pass() {
    let fx = Fixture::new();
    let id = fx.id(&GOOD_SERIAL);
    let request = request_der(&id);
    let private = |critical| PycaAnswer {
        extensions: vec![("1.2.3.4".to_owned(), critical, vec![0x05, 0x00])],
        ..PycaAnswer::good(fx.now.0)
    };
    let der = fx.pki.pyca_respond(&request, &private(true));
    assert_eq!(
        fx.verify(&der, &id),
        Err(OcspError::UnsupportedCriticalExtension(
            "responseExtensions"
        ))
    );
    let noncritical = PycaAnswer {
        nonce: Some(vec![7; 16]),
        ..private(false)
    };
    let der = fx.pki.pyca_respond(&request, &noncritical);
    assert_eq!(fx.verify(&der, &id).unwrap().status(), CertStatus::Good);
}

#[test]
fn unknown_critical_single_extension_is_refused() {
    let fx = Fixture::new();
    let id = fx.id(&GOOD_SERIAL);
    let der = fx.openssl(&id, Signer::Ca);
    let with = |critical: bool| {
        resigned(
            &fx.pki,
            &der,
            Signer::Ca,
            edit_responses(|list| {
                let single = elements(list)[0];
                let mut content = single.content.to_vec();
                let extensions = tlv(der::SEQUENCE, &private_extension(critical));
                content.extend(tlv(tag::CONTEXT_1, &extensions));
                tlv(der::SEQUENCE, &content)
            }),
        )
    };
    assert_eq!(
        fx.verify(&with(true), &id),
        Err(OcspError::UnsupportedCriticalExtension("singleExtensions"))
    );
    assert_eq!(
        fx.verify(&with(false), &id).unwrap().status(),
        CertStatus::Good
    );
}

#[test]
fn two_answers_for_the_requested_certificate_are_refused_but_answers_for_others_are_skipped() {
    let fx = Fixture::new();
    let id = fx.id(&GOOD_SERIAL);
    let der = fx.openssl(&id, Signer::Ca);
    let twice = resigned(
        &fx.pki,
        &der,
        Signer::Ca,
        edit_responses(|list| [list, list].concat()),
    );
    assert_eq!(fx.verify(&twice, &id), Err(OcspError::AmbiguousResponse));
    // A bundle: another certificate's (revoked) answer first, then ours.
    let other = fx.openssl(&fx.id(&REVOKED_SERIAL), Signer::Ca);
    let other_single = elements(parts(&other).tbs_content.as_slice())[2]
        .content
        .to_vec();
    let bundle = resigned(
        &fx.pki,
        &der,
        Signer::Ca,
        edit_responses(|list| [other_single.as_slice(), list].concat()),
    );
    assert_eq!(fx.verify(&bundle, &id).unwrap().status(), CertStatus::Good);
}

#[test]
fn explicit_v1_version_is_refused_as_not_der() {
    let fx = Fixture::new();
    let id = fx.id(&GOOD_SERIAL);
    let der = fx.openssl(&id, Signer::Ca);
    let v1 = tlv(der::CONTEXT_0, &tlv(der::INTEGER, &[0]));
    let edited = resigned(&fx.pki, &der, Signer::Ca, |tbs| {
        [v1.as_slice(), tbs].concat()
    });
    assert_eq!(
        fx.verify(&edited, &id),
        Err(OcspError::Malformed(Malformed {
            what: "version",
            problem: "present; v1 is encoded by omission"
        }))
    );
}

#[test]
fn answers_are_read_only_after_the_signature_verified() {
    let fx = Fixture::new();
    let id = fx.id(&GOOD_SERIAL);
    let der = fx.openssl(&id, Signer::Ca);
    // Garbage in place of the answers, not signed again: the signature
    // check refuses it before the answers are parsed.
    let mut p = parts(&der);
    p.tbs_content = edit_responses(|_| vec![0xde, 0xad])(&p.tbs_content);
    assert_eq!(fx.verify(&assemble(&p), &id), Err(OcspError::BadSignature));
    // The same garbage, signed by the CA, is malformed.
    let signed = resigned(
        &fx.pki,
        &der,
        Signer::Ca,
        edit_responses(|_| vec![0xde, 0xad]),
    );
    assert_eq!(
        fx.verify(&signed, &id).map_err(|e| e.label()),
        Err("malformed")
    );
    // One changed digit of nextUpdate's seconds (the last field): still a
    // valid time, but not the signed one.
    let mut p = parts(&der);
    let at = p.tbs_content.len() - 2;
    p.tbs_content[at] = if p.tbs_content[at] == b'0' {
        b'1'
    } else {
        b'0'
    };
    assert_eq!(fx.verify(&assemble(&p), &id), Err(OcspError::BadSignature));
}

#[test]
fn trailing_data_after_the_response_is_refused() {
    let fx = Fixture::new();
    let id = fx.id(&GOOD_SERIAL);
    let mut der = fx.openssl(&id, Signer::Ca);
    der.push(0);
    assert_eq!(
        fx.verify(&der, &id),
        Err(OcspError::Malformed(Malformed {
            what: "OCSPResponse",
            problem: "trailing data"
        }))
    );
}

#[test]
fn errors_have_short_labels_and_messages_without_response_bytes() {
    let e = OcspError::Status(ResponseStatus::TryLater);
    assert_eq!(e.label(), "status");
    assert_eq!(
        e.to_string(),
        "the OCSP responder answered tryLater instead of a signed status"
    );
    let e = OcspError::Expired {
        next_update: UnixTime(0),
        now: UnixTime(61),
    };
    assert_eq!(e.label(), "stale");
    assert_eq!(
        e.to_string(),
        "the OCSP answer expired at its nextUpdate 1970-01-01T00:00:00Z (now 1970-01-01T00:01:01Z); fetch a fresh one"
    );
}

/// A stable-toolchain cousin of the `ocsp` fuzz target, run by every
/// `cargo test`: random mutations of a delegated responder's response
/// never panic, whether parsed alone or verified; and a mutation that
/// still verifies gives the original answer (only the unsigned `certs`
/// can change without the signature noticing, and they were checked).
#[test]
fn mutated_responses_never_panic_and_never_verify_to_another_answer() {
    let fx = Fixture::new();
    let id = fx.id(&REVOKED_SERIAL);
    let base = fx.openssl(&id, Signer::Responder);
    let original = fx.verify(&base, &id).unwrap();
    assert!(parse_unverified(&base).is_ok());
    let mut next = mtls_tests::xorshift(0x9e37_79b9_7f4a_7c15_u64);
    let mut parsed = 0;
    for round in 0..40_000 {
        let mut der = base.clone();
        for _ in 0..1 + next() % 3 {
            let at = (next() as usize) % der.len().max(1);
            match next() % 4 {
                0 => der[at] = next() as u8,
                1 => der[at] ^= 1 << (next() % 8),
                2 => {
                    der.remove(at);
                }
                _ => der.insert(at, next() as u8),
            }
            if der.is_empty() {
                break;
            }
        }
        if parse_unverified(&der).is_ok() {
            parsed += 1;
        }
        // The signature checks cost more: verify one mutation in ten.
        if round % 10 == 0
            && let Ok(v) = fx.verify(&der, &id)
        {
            assert_eq!(v.status(), original.status(), "{}", hex::encode(&der));
            assert_eq!(v.this_update(), original.this_update());
        }
    }
    assert!(
        parsed > 0,
        "some mutations (e.g. of hash octets) still parse"
    );
}
