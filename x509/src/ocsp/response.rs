//! Reading an OCSP response (RFC 6960 §4.2.1) as strict DER, with bounded
//! counts and sizes: the envelope up to the `responderID` before the
//! signature is checked ([`Basic::read`]), and the answers after
//! ([`read_answer`]).

use x509_parser::prelude::{ASN1Time, FromDer};

use super::{
    CertId, CertStatus, MAX_OCSP_EXTENSIONS, MAX_RESPONDER_CERT_BYTES, MAX_RESPONSE_BYTES,
    MAX_RESPONSE_CERTS, MAX_SINGLE_RESPONSES, OcspError, OcspSigner, OcspTimePolicy,
    ResponseStatus, VerifiedOcsp, malformed, oid, sha1, tag,
};
use crate::der::{self, Malformed, Reader, Tlv};
use crate::signed::SignedData;
use crate::time::UnixTime;

/// Response extensions understood (RFC 6960 §4.4), so accepted even when
/// marked critical. We send no nonce, so an echoed one asks nothing of us;
/// extendedRevoke only says "revoked" may also mean "never issued", which we
/// refuse alike.
const RESPONSE_EXTENSIONS: &[&[u8]] = &[oid::NONCE, oid::EXTENDED_REVOKE];
/// Single extensions understood: records for the relying party's archive
/// (RFC 6960 §4.4.2, §4.4.4; RFC 5280 §5.3.2) that change no answer we give.
const SINGLE_EXTENSIONS: &[&[u8]] = &[oid::CRL_ID, oid::ARCHIVE_CUTOFF, oid::INVALIDITY_DATE];

/// Who the `responderID` names (RFC 6960 §4.2.1).
#[derive(Clone, Copy, Debug)]
pub(super) enum ResponderId<'a> {
    /// `byName [1] Name`: the Name's DER.
    ByName(&'a [u8]),
    /// `byKey [2] KeyHash`: the SHA-1 of the signer's subjectPublicKey
    /// BIT STRING value (without the tag, the length and the unused-bits octet).
    ByKey(&'a [u8]),
}

impl ResponderId<'_> {
    /// Whether it names the holder of `name` and `key_bits`.
    pub(super) fn names(&self, name: &[u8], key_bits: &[u8]) -> bool {
        match self {
            Self::ByName(n) => *n == name,
            Self::ByKey(hash) => *hash == sha1(key_bits),
        }
    }
}

/// A `BasicOCSPResponse`, read as far as the signer check needs: the
/// envelope, the `responderID` and the included certificates.
#[derive(Debug)]
pub(super) struct Basic<'a> {
    pub(super) signed: SignedData<'a>,
    pub(super) responder: ResponderId<'a>,
    /// `tbsResponseData` after `responderID`: `producedAt`, `responses`
    /// and `responseExtensions`, read only once the signature verified.
    pub(super) rest: Reader<'a>,
    /// The whole DER of each certificate in `certs`.
    pub(super) certs: Vec<&'a [u8]>,
}

impl<'a> Basic<'a> {
    /// Step 1, and the head of `tbsResponseData`: a handful of headers,
    /// whatever the size of the response.
    pub(super) fn read(der: &'a [u8]) -> Result<Self, OcspError> {
        if der.len() > MAX_RESPONSE_BYTES {
            return Err(OcspError::TooLarge {
                size: der.len(),
                max: MAX_RESPONSE_BYTES,
            });
        }
        // OCSPResponse ::= SEQUENCE { responseStatus, responseBytes [0] EXPLICIT OPTIONAL }
        let mut top = Reader::new(der);
        let response = top.expect_tag(der::SEQUENCE, "OCSPResponse")?;
        if !top.is_empty() {
            return Err(malformed("OCSPResponse", "trailing data"));
        }
        let mut fields = Reader::new(response.content);
        let status = fields.expect_tag(der::ENUMERATED, "responseStatus")?;
        match status.content {
            [0] => {}
            // §2.3: the other statuses come unsigned and without responseBytes.
            [code] => {
                return Err(ResponseStatus::from_code(*code).map_or_else(
                    || malformed("responseStatus", "not an OCSPResponseStatus value"),
                    OcspError::Status,
                ));
            }
            _ => return Err(malformed("responseStatus", "not one octet")),
        }
        let bytes = one_inside(
            fields.expect_tag(der::CONTEXT_0, "responseBytes")?,
            der::SEQUENCE,
            "ResponseBytes",
        )?;
        if !fields.is_empty() {
            return Err(malformed("OCSPResponse", "data after responseBytes"));
        }
        // ResponseBytes ::= SEQUENCE { responseType OID, response OCTET STRING }
        let mut parts = Reader::new(bytes.content);
        let kind = parts.expect_tag(der::OID, "responseType")?;
        let body = parts.expect_tag(der::OCTET_STRING, "response")?;
        if !parts.is_empty() {
            return Err(malformed("ResponseBytes", "data after response"));
        }
        if kind.content != oid::BASIC {
            return Err(OcspError::UnsupportedResponseType);
        }
        // BasicOCSPResponse ::= SEQUENCE { tbsResponseData, signatureAlgorithm,
        //     signature BIT STRING, certs [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
        let mut inner = Reader::new(body.content);
        let basic = inner.expect_tag(der::SEQUENCE, "BasicOCSPResponse")?;
        if !inner.is_empty() {
            return Err(malformed("response", "data after BasicOCSPResponse"));
        }
        let mut parts = Reader::new(basic.content);
        let tbs = parts.expect_tag(der::SEQUENCE, "tbsResponseData")?;
        let algorithm = parts.expect_tag(der::SEQUENCE, "signatureAlgorithm")?;
        let signature = parts.expect_tag(der::BIT_STRING, "signature")?;
        let certs = parts.optional(der::CONTEXT_0, "certs")?;
        if !parts.is_empty() {
            return Err(malformed("BasicOCSPResponse", "data after certs"));
        }
        let Some((&0, signature)) = signature.content.split_first() else {
            return Err(malformed("signature", "unused bits"));
        };
        let certs = match certs {
            Some(certs) => read_certs(certs)?,
            None => Vec::new(),
        };
        // ResponseData ::= SEQUENCE { version [0] EXPLICIT DEFAULT v1,
        //     responderID, producedAt, responses, responseExtensions [1] OPTIONAL }
        let mut data = Reader::new(tbs.content);
        // v1 is the only version, and DER omits a DEFAULT value (X.690 §11.5).
        if data.optional(der::CONTEXT_0, "version")?.is_some() {
            return Err(malformed("version", "present; v1 is encoded by omission"));
        }
        let id = data.any().map_err(|problem| Malformed {
            what: "responderID",
            problem,
        })?;
        let responder = match id.tag {
            tag::CONTEXT_1 => {
                ResponderId::ByName(one_inside(id, der::SEQUENCE, "responderID byName")?.raw)
            }
            tag::CONTEXT_2 => {
                let hash = one_inside(id, der::OCTET_STRING, "responderID byKey")?;
                if hash.content.len() != 20 {
                    return Err(malformed("responderID byKey", "not a SHA-1 hash"));
                }
                ResponderId::ByKey(hash.content)
            }
            _ => return Err(malformed("responderID", "neither byName nor byKey")),
        };
        Ok(Self {
            signed: SignedData {
                tbs: tbs.raw,
                tbs_content: tbs.content,
                algorithm: algorithm.raw,
                signature,
            },
            responder,
            rest: data,
            certs,
        })
    }
}

/// The element inside an EXPLICIT tag, which must hold exactly one, of `tag`.
fn one_inside<'a>(outer: Tlv<'a>, tag: u8, what: &'static str) -> Result<Tlv<'a>, OcspError> {
    let mut r = Reader::new(outer.content);
    let inner = r.expect_tag(tag, what)?;
    if !r.is_empty() {
        return Err(malformed(what, "more than one element inside its tag"));
    }
    Ok(inner)
}

/// `certs [0] EXPLICIT SEQUENCE OF Certificate`: each certificate's whole
/// DER, bounded in number and size. They are parsed only if the
/// `responderID` names one of them.
fn read_certs(explicit: Tlv<'_>) -> Result<Vec<&[u8]>, OcspError> {
    let list = one_inside(explicit, der::SEQUENCE, "certs")?;
    let mut r = Reader::new(list.content);
    let mut out = Vec::new();
    while !r.is_empty() {
        if out.len() == MAX_RESPONSE_CERTS {
            return Err(malformed("certs", "too many certificates"));
        }
        let cert = r.expect_tag(der::SEQUENCE, "certs: Certificate")?;
        if cert.raw.len() > MAX_RESPONDER_CERT_BYTES {
            return Err(malformed("certs: Certificate", "too large"));
        }
        out.push(cert.raw);
    }
    Ok(out)
}

/// A CertID as a `SingleResponse` carries it, borrowed from the response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct RawCertId<'a> {
    hash_oid: &'a [u8],
    name_hash: &'a [u8],
    key_hash: &'a [u8],
    /// The serialNumber INTEGER's content octets.
    serial: &'a [u8],
}

impl<'a> RawCertId<'a> {
    /// RFC 6960 §4.1.1 `CertID`. The hash's parameters may be absent or
    /// NULL (RFC 5754 §2 asks readers to accept both); the serial must be
    /// a DER INTEGER.
    fn read(content: &'a [u8]) -> Result<Self, OcspError> {
        let mut r = Reader::new(content);
        let algorithm = r.expect_tag(der::SEQUENCE, "hashAlgorithm")?;
        let mut a = Reader::new(algorithm.content);
        let hash_oid = a.expect_tag(der::OID, "hashAlgorithm")?.content;
        if a.optional(der::NULL, "hashAlgorithm parameters")?
            .is_some_and(|null| !null.content.is_empty())
            || !a.is_empty()
        {
            return Err(malformed("hashAlgorithm", "parameters other than NULL"));
        }
        let name_hash = r.expect_tag(der::OCTET_STRING, "issuerNameHash")?.content;
        let key_hash = r.expect_tag(der::OCTET_STRING, "issuerKeyHash")?.content;
        let serial = r.expect_tag(der::INTEGER, "serialNumber")?.content;
        if !r.is_empty() {
            return Err(malformed("certID", "data after serialNumber"));
        }
        if !is_der_integer(serial) {
            return Err(malformed("serialNumber", "not a DER INTEGER"));
        }
        Ok(Self {
            hash_oid,
            name_hash,
            key_hash,
            serial,
        })
    }

    /// Whether it is `id` exactly: the same hash algorithm, the same
    /// hashes and the same serial octets. An answer under another hash
    /// (SHA-1 for a SHA-256 request) is no answer to our request.
    pub(super) fn is(&self, id: &CertId) -> bool {
        self.hash_oid == id.hash.oid()
            && self.name_hash == id.issuer_name_hash.as_slice()
            && self.key_hash == id.issuer_key_hash.as_slice()
            && self.serial == id.serial_content.as_slice()
    }
}

/// X.690 §8.3.2: at least one octet, and the first nine bits not all equal.
fn is_der_integer(content: &[u8]) -> bool {
    match content {
        [] => false,
        [0x00, next, ..] => next & 0x80 != 0,
        [0xff, next, ..] => next & 0x80 == 0,
        _ => true,
    }
}

/// One `SingleResponse` (RFC 6960 §4.2.1), read whole.
#[derive(Clone, Copy, Debug)]
struct Single<'a> {
    cert_id: RawCertId<'a>,
    status: CertStatus,
    reason: Option<u8>,
    this_update: UnixTime,
    next_update: Option<UnixTime>,
}

impl<'a> Single<'a> {
    fn read(content: &'a [u8]) -> Result<Self, OcspError> {
        let mut r = Reader::new(content);
        let cert_id = RawCertId::read(r.expect_tag(der::SEQUENCE, "certID")?.content)?;
        let status = r.any().map_err(|problem| Malformed {
            what: "certStatus",
            problem,
        })?;
        let (status, reason) = match (status.tag, status.content) {
            (tag::GOOD, []) => (CertStatus::Good, None),
            (tag::UNKNOWN, []) => (CertStatus::Unknown, None),
            (tag::CONTEXT_1, info) => revoked_info(info)?,
            _ => {
                return Err(malformed("certStatus", "not good, revoked or unknown"));
            }
        };
        let this_update = generalized_time(r.expect_tag(der::GENERALIZED_TIME, "thisUpdate")?)?;
        let next_update = match r.optional(der::CONTEXT_0, "nextUpdate")? {
            Some(explicit) => Some(generalized_time(one_inside(
                explicit,
                der::GENERALIZED_TIME,
                "nextUpdate",
            )?)?),
            None => None,
        };
        if let Some(extensions) = r.optional(tag::CONTEXT_1, "singleExtensions")? {
            check_extensions(extensions, SINGLE_EXTENSIONS, "singleExtensions")?;
        }
        if !r.is_empty() {
            return Err(malformed("SingleResponse", "data after singleExtensions"));
        }
        if next_update.is_some_and(|next| next < this_update) {
            return Err(malformed("nextUpdate", "before thisUpdate"));
        }
        Ok(Self {
            cert_id,
            status,
            reason,
            this_update,
            next_update,
        })
    }
}

/// `RevokedInfo ::= SEQUENCE { revocationTime GeneralizedTime,
/// revocationReason [0] EXPLICIT CRLReason OPTIONAL }`, its content.
fn revoked_info(content: &[u8]) -> Result<(CertStatus, Option<u8>), OcspError> {
    let mut r = Reader::new(content);
    let revoked_at = generalized_time(r.expect_tag(der::GENERALIZED_TIME, "revocationTime")?)?;
    let reason = match r.optional(der::CONTEXT_0, "revocationReason")? {
        Some(explicit) => {
            match one_inside(explicit, der::ENUMERATED, "revocationReason")?.content {
                // RFC 5280 §5.3.1: CRLReason is 0..=10, and 7 is unused.
                [code] if *code <= 10 && *code != 7 => Some(*code),
                _ => return Err(malformed("revocationReason", "not a CRLReason value")),
            }
        }
        None => None,
    };
    if !r.is_empty() {
        return Err(malformed("RevokedInfo", "data after revocationReason"));
    }
    Ok((CertStatus::Revoked { revoked_at }, reason))
}

/// A GeneralizedTime as RFC 5280 §4.1.2.5.2 profiles it, which RFC 6960
/// §4.2.2.1 and RFC 5019 §2.2.4 follow: `YYYYMMDDHHMMSSZ`, in UTC, with
/// seconds and without fractions. One form, so two readers cannot
/// disagree on a time.
fn generalized_time(t: Tlv<'_>) -> Result<UnixTime, OcspError> {
    let shape = t.content.len() == 15
        && t.content.last() == Some(&b'Z')
        && t.content.iter().take(14).all(u8::is_ascii_digit);
    if t.tag != der::GENERALIZED_TIME || !shape {
        return Err(malformed("a time", "not a GeneralizedTime YYYYMMDDHHMMSSZ"));
    }
    ASN1Time::from_der(t.raw)
        .map(|(_, time)| UnixTime::from_asn1(time))
        .map_err(|_| malformed("a time", "not a valid date and time"))
}

/// `Extensions` inside an EXPLICIT tag (RFC 5280 §4.1, §4.2): at least
/// one, at most [`MAX_OCSP_EXTENSIONS`], each OID once, `critical` encoded
/// only as DER TRUE, and no critical one outside `known`.
fn check_extensions(
    explicit: Tlv<'_>,
    known: &[&[u8]],
    place: &'static str,
) -> Result<(), OcspError> {
    let list = one_inside(explicit, der::SEQUENCE, place)?;
    let mut r = Reader::new(list.content);
    if r.is_empty() {
        return Err(malformed(place, "empty"));
    }
    let mut seen: Vec<&[u8]> = Vec::new();
    while !r.is_empty() {
        if seen.len() == MAX_OCSP_EXTENSIONS {
            return Err(malformed(place, "too many extensions"));
        }
        let ext = r.expect_tag(der::SEQUENCE, place)?;
        let mut fields = Reader::new(ext.content);
        let id = fields.expect_tag(der::OID, "extnID")?.content;
        // DER omits a DEFAULT FALSE, so an encoded `critical` must be TRUE.
        let critical = match fields.optional(der::BOOLEAN, "critical")? {
            None => false,
            Some(b) if b.content == [0xff] => true,
            Some(_) => return Err(malformed("critical", "not DER TRUE")),
        };
        fields.expect_tag(der::OCTET_STRING, "extnValue")?;
        if !fields.is_empty() {
            return Err(malformed(place, "data after extnValue"));
        }
        if seen.contains(&id) {
            return Err(malformed(place, "an extension appears twice"));
        }
        seen.push(id);
        if critical && !known.contains(&id) {
            return Err(OcspError::UnsupportedCriticalExtension(place));
        }
    }
    Ok(())
}

/// What the signed `tbsResponseData` says about the requested certificate.
#[derive(Clone, Copy, Debug)]
pub(super) struct Answer {
    pub(super) status: CertStatus,
    reason: Option<u8>,
    this_update: UnixTime,
    next_update: Option<UnixTime>,
    produced_at: UnixTime,
}

/// Step 4: the rest of `tbsResponseData`, read whole (at most
/// [`MAX_SINGLE_RESPONSES`] answers), and the one answer whose CertID
/// `wanted` accepts.
pub(super) fn read_answer<'a>(
    rest: Reader<'a>,
    mut wanted: impl FnMut(&RawCertId<'a>) -> bool,
) -> Result<Answer, OcspError> {
    let mut data = rest;
    let produced_at = generalized_time(data.expect_tag(der::GENERALIZED_TIME, "producedAt")?)?;
    let responses = data.expect_tag(der::SEQUENCE, "responses")?;
    if let Some(extensions) = data.optional(tag::CONTEXT_1, "responseExtensions")? {
        check_extensions(extensions, RESPONSE_EXTENSIONS, "responseExtensions")?;
    }
    if !data.is_empty() {
        return Err(malformed(
            "tbsResponseData",
            "data after responseExtensions",
        ));
    }
    let mut list = Reader::new(responses.content);
    let mut count = 0usize;
    let mut found: Option<Single<'a>> = None;
    while !list.is_empty() {
        count += 1;
        if count > MAX_SINGLE_RESPONSES {
            return Err(malformed("responses", "too many SingleResponses"));
        }
        let single = Single::read(list.expect_tag(der::SEQUENCE, "SingleResponse")?.content)?;
        if wanted(&single.cert_id) {
            if found.is_some() {
                return Err(OcspError::AmbiguousResponse);
            }
            found = Some(single);
        }
    }
    let single = found.ok_or(OcspError::CertIdMismatch)?;
    Ok(Answer {
        status: single.status,
        reason: single.reason,
        this_update: single.this_update,
        next_update: single.next_update,
        produced_at,
    })
}

impl Answer {
    /// RFC 6960 §3.2 (5) and (6), RFC 5019 §4: `thisUpdate` not in the
    /// future, and the answer not past `nextUpdate` (or, without one, the
    /// policy's maximum age), each within the clock skew and with no grace.
    pub(super) fn verified(
        self,
        signer: OcspSigner,
        now: UnixTime,
        policy: OcspTimePolicy,
    ) -> Result<VerifiedOcsp, OcspError> {
        if self.this_update > now.offset(policy.clock_skew_seconds) {
            return Err(OcspError::NotYetValid {
                this_update: self.this_update,
                now,
            });
        }
        let usable_until = self
            .next_update
            .unwrap_or_else(|| self.this_update.offset(policy.max_age_without_next_update));
        let verified = VerifiedOcsp {
            status: self.status,
            revocation_reason: self.reason,
            this_update: self.this_update,
            next_update: self.next_update,
            usable_until,
            produced_at: self.produced_at,
            signer,
        };
        verified.check_usable(now, policy.clock_skew_seconds)?;
        Ok(verified)
    }
}
