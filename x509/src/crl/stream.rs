//! Streaming CRL ingestion: one pass over the bytes as they arrive.
//!
//! A [`CrlIngest`] is fed the body of a CRL chunk by chunk. It reads the
//! envelope and the fields before `revokedCertificates` (RFC 5280 §5.1),
//! checks the cheap things at once (the issuer is a truststore CA that may
//! sign CRLs, the policy entry accepts it, the signature algorithm is on the
//! allowlist), then hashes `tbsCertList` for the signature and walks the
//! revoked entries into the packed index as their octets arrive, keeping
//! only the partial entry at the end of a chunk. The signature is checked
//! when the body ends, and only a CRL that verifies becomes a
//! [`VerifiedCrl`]: nothing from a partial or unverified body is ever used.
//!
//! So a 50 MB CRL is never held whole, is hashed once, and is parsed while
//! it downloads; and a body from the wrong issuer, or too large where no
//! real CRL is, is refused from its first few hundred octets, without
//! downloading the rest.
//!
//! Why one file: [`CrlIngest`] is one state machine over
//! the CRL's fields in their order, and the order of the checks (cheap ones
//! first, the signature before anything is used) is what a reviewer must be
//! able to read in one place. The entry walker is `stream/entries.rs`.

use aws_lc_rs::digest;

use super::index::IndexBuilder;
use super::{
    CertificateKinds, CrlExtensions, CrlIdentity, CrlKind, CrlPurpose, CrlScope, CrlTimePolicy,
    EntryFault, IssuerExpectation, MAX_ENTRY_BYTES, VerifiedCrl, bad_der, check_fresh, crl_der,
    read_crl_extensions, time_of,
};
use crate::der::{self, Reader, Tlv};
use crate::error::{CrlMalformed, CrlUnsupported, Error, Result, bounded};
use crate::name::{DerName, Name};
use crate::signed::UnsupportedAlgorithm;
use crate::signed::{SignatureAlgorithm, sha256_of_parts};
use crate::truststore::{CaKey, TrustStore};

mod entries;

#[cfg(test)]
pub(super) use entries::index_list;
use entries::walk_entries;

/// The most octets the fields before `revokedCertificates` may take (the
/// envelope headers, version, algorithm, issuer name and dates). A real
/// CRL's take a few hundred; a body whose issuer name alone is megabytes is
/// refused as soon as that name's length is read.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// How much of a chunk is added to an incomplete head at a time.
const HEAD_STEP: usize = 1024;

/// The most octets after the revoked entries (`crlExtensions`, the
/// signature algorithm and the signature). A real CRL's take under 4 KiB.
pub const MAX_TAIL_BYTES: usize = 64 * 1024;

/// What checks a CRL's origin.
#[derive(Clone, Copy)]
enum Trust<'a> {
    /// The real thing: the issuer and signature are checked.
    Verify {
        expected: &'a (dyn IssuerExpectation + Sync),
        truststore: &'a TrustStore,
    },
    /// The fuzz targets' mode: every parsing step, no issuer or signature check.
    #[cfg(feature = "fuzzing")]
    Unverified,
}

/// Where the reader is in the CRL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Nothing but white space seen yet: DER or PEM is not yet known.
    Start,
    /// A PEM document, buffered whole and decoded when the body ends. CRLs
    /// served over HTTP are DER (RFC 5280 §4.2.1.13); PEM is for files.
    Pem,
    /// The envelope and the fields before `revokedCertificates`.
    Head,
    /// Inside `revokedCertificates`, with this many content octets to go.
    Entries { left: usize },
    /// After the entries: buffered until the body ends.
    Tail,
    /// A previous chunk was refused: the whole body is.
    Failed,
}

/// What the head said, kept for the end.
struct Head {
    /// Absolute offset where `tbsCertList` ends.
    tbs_end: usize,
    /// Absolute offset where the CRL ends.
    total: usize,
    v2: bool,
    /// The whole encoding of the `signature` field inside `tbsCertList`.
    inner_algorithm: Vec<u8>,
    algorithm: Option<SignatureAlgorithm>,
    issuer: Vec<u8>,
    issuer_dn: String,
    this_update: Vec<u8>,
    next_update: Option<Vec<u8>>,
    digest: Option<digest::Context>,
    index: IndexBuilder,
    /// The `removeFromCRL` entries (see [`VerifiedCrl`]).
    removed: IndexBuilder,
}

/// A CRL being read from a stream. See the module docs.
pub struct CrlIngest<'a> {
    trust: Trust<'a>,
    phase: Phase,
    /// Octets received and not yet consumed: at most one partial element.
    pending: Vec<u8>,
    /// The absolute offset of `pending`'s first octet.
    consumed: usize,
    head: Option<Head>,
}

impl std::fmt::Debug for CrlIngest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrlIngest")
            .field("phase", &self.phase)
            .field("consumed", &self.consumed)
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

fn bad(m: der::Malformed) -> Error {
    Error::CrlMalformed(CrlMalformed::Der(m))
}

fn entry_error(fault: EntryFault, index: usize) -> Error {
    match fault {
        EntryFault::Indirect => CrlUnsupported::IndirectEntries.into(),
        EntryFault::UnknownCritical => CrlUnsupported::CriticalEntryExtension { index }.into(),
        EntryFault::Malformed(problem) => CrlMalformed::Entry { index, problem }.into(),
    }
}

/// The next element of `data` at `pos`, whole, if it has arrived: `Ok(None)`
/// means "wait for more". It must end by `limit` (its parent's end) and by
/// `MAX_HEAD_BYTES`.
fn head_field<'d>(
    data: &'d [u8],
    pos: usize,
    limit: usize,
    what: &'static str,
) -> Result<Option<Tlv<'d>>> {
    let rest = data.get(pos..).unwrap_or_default();
    let Some(h) = der::header(rest).map_err(|p| bad(der::Malformed { what, problem: p }))? else {
        return Ok(None);
    };
    let end = pos.saturating_add(h.total());
    if end > limit {
        return Err(bad(der::Malformed {
            what,
            problem: "length exceeds the data",
        }));
    }
    if end > MAX_HEAD_BYTES {
        return Err(CrlMalformed::HeadTooLarge {
            what,
            max: MAX_HEAD_BYTES,
        }
        .into());
    }
    let Some(raw) = rest.get(..h.total()) else {
        return Ok(None);
    };
    let content = raw.get(h.header_len..).unwrap_or_default();
    Ok(Some(Tlv {
        tag: h.tag,
        content,
        raw,
    }))
}

/// The header of the SEQUENCE at the start of `data`, if it has arrived.
fn sequence_header(data: &[u8], what: &'static str) -> Result<Option<der::Header>> {
    let header = der::header(data).map_err(|problem| bad(der::Malformed { what, problem }))?;
    match header {
        Some(h) if h.tag != der::SEQUENCE => Err(bad(der::Malformed {
            what,
            problem: "unexpected tag",
        })),
        h => Ok(h),
    }
}

fn is_time(tag: Option<&u8>) -> bool {
    matches!(tag, Some(&der::UTC_TIME | &der::GENERALIZED_TIME))
}

impl<'a> CrlIngest<'a> {
    /// Starts reading a CRL that must come from an issuer `expected` accepts,
    /// signed by a CA of `truststore`.
    #[must_use]
    pub fn new(expected: &'a (dyn IssuerExpectation + Sync), truststore: &'a TrustStore) -> Self {
        Self::with_trust(Trust::Verify {
            expected,
            truststore,
        })
    }

    /// Starts reading a CRL without checking its issuer or signature: for
    /// the fuzz hook (`crl::fuzzing`) only. Private to the crate, so no other
    /// crate can finish it into a [`VerifiedCrl`], even where the `fuzzing`
    /// feature is unified into a normal build.
    #[cfg(feature = "fuzzing")]
    #[must_use]
    pub(crate) fn unverified() -> CrlIngest<'static> {
        CrlIngest::with_trust(Trust::Unverified)
    }

    fn with_trust(trust: Trust<'a>) -> Self {
        Self {
            trust,
            phase: Phase::Start,
            pending: Vec::new(),
            consumed: 0,
            head: None,
        }
    }

    /// Feeds the next octets. An error refuses the whole CRL: stop feeding
    /// (a download can stop too), and every later call fails.
    pub fn push(&mut self, mut chunk: &[u8]) -> Result<()> {
        if self.phase == Phase::Failed {
            return Err(CrlMalformed::EarlierPartRefused.into());
        }
        let result = (|| {
            while !chunk.is_empty() {
                if self.pending.is_empty() {
                    let used = self.process(chunk)?;
                    self.consumed += used;
                    let rest = chunk.get(used..).unwrap_or_default();
                    return self.stash(rest);
                }
                // Complete the partial element held over from the last chunk,
                // taking no more than it needs, so the rest of this chunk is
                // read in place rather than copied.
                let want = self.shortfall().clamp(1, chunk.len());
                let (top_up, rest) = chunk.split_at(want);
                chunk = rest;
                self.stash(top_up)?;
                let pending = std::mem::take(&mut self.pending);
                let used = self.process(&pending);
                self.pending = pending;
                let used = used?;
                self.pending.drain(..used);
                self.consumed += used;
            }
            Ok(())
        })();
        if result.is_err() {
            self.phase = Phase::Failed;
            self.pending = Vec::new();
            self.head = None;
        }
        result
    }

    /// Keeps `rest` for the next chunk, within the bound of the phase.
    fn stash(&mut self, rest: &[u8]) -> Result<()> {
        let limit = match self.phase {
            Phase::Head => MAX_HEAD_BYTES,
            Phase::Entries { .. } => MAX_ENTRY_BYTES,
            Phase::Tail => MAX_TAIL_BYTES,
            // The fetch's size cap bounds a PEM body.
            Phase::Start | Phase::Pem | Phase::Failed => usize::MAX,
        };
        if self.pending.len().saturating_add(rest.len()) > limit {
            return Err(CrlMalformed::ElementTooLarge { max: limit }.into());
        }
        self.pending.extend_from_slice(rest);
        Ok(())
    }

    /// How many more octets the partial element in `pending` needs: exactly,
    /// for an entry whose header has arrived (1 until it has); a kilobyte at
    /// a time for the head, whose size is known only once it is read, so a
    /// large chunk after a small first one is not copied whole into
    /// `pending` (nor refused by its bound); everything, for the buffered
    /// tail and PEM.
    fn shortfall(&self) -> usize {
        match self.phase {
            Phase::Entries { .. } => match der::header(&self.pending) {
                Ok(Some(h)) => h.total().saturating_sub(self.pending.len()),
                _ => 1,
            },
            Phase::Head => HEAD_STEP,
            _ => usize::MAX,
        }
    }

    /// Consumes what it can of `data`, which starts at `self.consumed` (the
    /// caller advances it when `data` is `pending`), and returns how many
    /// octets it consumed. The rest is an incomplete element.
    fn process(&mut self, data: &[u8]) -> Result<usize> {
        let mut used = 0;
        loop {
            let rest = data.get(used..).unwrap_or_default();
            let step = match self.phase {
                Phase::Start => {
                    match rest.first() {
                        None => return Ok(used),
                        Some(&der::SEQUENCE) => self.phase = Phase::Head,
                        Some(b) if b.is_ascii_whitespace() || *b == b'-' => self.phase = Phase::Pem,
                        Some(_) => {
                            return Err(bad(der::Malformed {
                                what: "the outer SEQUENCE",
                                problem: "unexpected tag",
                            }));
                        }
                    }
                    0
                }
                // Buffered whole by `stash`.
                Phase::Pem | Phase::Tail => return Ok(used),
                Phase::Head => match self.read_head(rest)? {
                    Some(n) => n,
                    None => return Ok(used),
                },
                Phase::Entries { left } => {
                    let n = self.read_entries(rest, left)?;
                    if n == 0 && left > 0 {
                        return Ok(used);
                    }
                    n
                }
                Phase::Failed => return Ok(used),
            };
            used += step;
            if self.phase == Phase::Tail {
                self.check_tail_size(self.consumed + used)?;
            }
        }
    }

    /// Reads the head from `data` (which starts at offset 0), or `None` until
    /// it has all arrived. Runs the cheap checks, then starts the digest.
    fn read_head(&mut self, data: &[u8]) -> Result<Option<usize>> {
        let Some(outer) = sequence_header(data, "the outer SEQUENCE")? else {
            return Ok(None);
        };
        let total = outer.total();
        let tbs_start = outer.header_len;
        let tbs_bytes = data.get(tbs_start..).unwrap_or_default();
        let Some(tbs) = sequence_header(tbs_bytes, "the signed part")? else {
            return Ok(None);
        };
        let tbs_end = tbs_start.saturating_add(tbs.total());
        if tbs_end > total {
            return Err(bad(der::Malformed {
                what: "the signed part",
                problem: "length exceeds the data",
            }));
        }
        let mut pos = tbs_start + tbs.header_len;
        macro_rules! field {
            ($what:expr) => {
                match head_field(data, pos, tbs_end, $what)? {
                    Some(t) => {
                        pos += t.raw.len();
                        t
                    }
                    None => return Ok(None),
                }
            };
        }
        macro_rules! peek {
            () => {
                if pos == tbs_end {
                    None
                } else {
                    match data.get(pos) {
                        Some(b) => Some(b),
                        None => return Ok(None),
                    }
                }
            };
        }
        // §5.1.2.1: v2 when present; a v1 CRL has no extensions.
        let version = if peek!() == Some(&der::INTEGER) {
            Some(field!("version"))
        } else {
            None
        };
        if version.is_some_and(|v| v.content != [1]) {
            return Err(bad_der("version", "not v2"));
        }
        let signature = field!("signature");
        if signature.tag != der::SEQUENCE {
            return Err(bad_der("the signature field", "unexpected tag"));
        }
        let issuer = field!("issuer");
        if issuer.tag != der::SEQUENCE {
            return Err(bad_der("issuer", "unexpected tag"));
        }
        if !is_time(peek!()) {
            return Err(bad_der("thisUpdate", "not a Time"));
        }
        let this_update = field!("thisUpdate");
        let next_update = if is_time(peek!()) {
            Some(field!("nextUpdate"))
        } else {
            None
        };
        let phase = match peek!() {
            None => Phase::Tail,
            Some(&der::CONTEXT_0) => Phase::Tail,
            Some(&der::SEQUENCE) => {
                let rest = data.get(pos..).unwrap_or_default();
                let Some(list) = der::header(rest).map_err(|p| {
                    bad(der::Malformed {
                        what: "revokedCertificates",
                        problem: p,
                    })
                })?
                else {
                    return Ok(None);
                };
                if pos.saturating_add(list.total()) > tbs_end {
                    return Err(bad_der("revokedCertificates", "length exceeds the data"));
                }
                pos += list.header_len;
                Phase::Entries { left: list.len }
            }
            Some(_) => {
                return Err(bad_der("crlExtensions", "unexpected fields after it"));
            }
        };

        // The cheap checks, before any entry is read.
        let (issuer_dn, algorithm) = self.check_origin(issuer.raw, signature.raw)?;
        let mut digest = algorithm.map(|a| digest::Context::new(a.digest()));
        if let Some(d) = digest.as_mut() {
            d.update(data.get(tbs_start..pos).unwrap_or_default());
        }
        self.head = Some(Head {
            tbs_end,
            total,
            v2: version.is_some(),
            inner_algorithm: signature.raw.to_vec(),
            algorithm,
            issuer: issuer.raw.to_vec(),
            issuer_dn,
            this_update: this_update.raw.to_vec(),
            next_update: next_update.map(|t| t.raw.to_vec()),
            digest,
            index: IndexBuilder::new(),
            removed: IndexBuilder::new(),
        });
        self.phase = phase;
        Ok(Some(pos))
    }

    /// §6.3.3 (f): the issuer must be a truststore CA that may sign CRLs,
    /// accepted by the policy entry, with an allowed signature algorithm.
    /// Names are compared as bytes first, so a hostile name is never decoded.
    fn check_origin(
        &self,
        issuer_der: &[u8],
        algorithm: &[u8],
    ) -> Result<(String, Option<SignatureAlgorithm>)> {
        let (expected, truststore) = match self.trust {
            Trust::Verify {
                expected,
                truststore,
            } => (expected, truststore),
            #[cfg(feature = "fuzzing")]
            Trust::Unverified => {
                return Ok((String::new(), SignatureAlgorithm::from_der(algorithm).ok()));
            }
        };
        if !truststore
            .cas_named(issuer_der)
            .any(crate::truststore::CaCert::may_sign_crls)
        {
            return Err(Error::CrlIssuerUnknown {
                issuer: DerName::new(issuer_der),
            });
        }
        // The name is a truststore CA's name, so decoding it is bounded.
        let issuer = Name::from_der(issuer_der).map_err(|e| match e {
            Error::MalformedName(m) => bad_der("issuer", m.problem),
            e => e,
        })?;
        if !expected.accepts(&issuer) {
            return Err(Error::CrlIssuerMismatch {
                crl_issuer: DerName::new(issuer_der),
            });
        }
        let issuer_dn = bounded(&issuer.to_string());
        let algorithm =
            SignatureAlgorithm::from_der(algorithm).map_err(Error::CrlSignatureAlgorithm)?;
        Ok((issuer_dn, Some(algorithm)))
    }

    /// Walks the complete entries at the start of `data` (at most `left`
    /// octets of them) into the index and the digest. Returns the octets
    /// consumed; an incomplete entry at the end waits for the next chunk.
    fn read_entries(&mut self, data: &[u8], left: usize) -> Result<usize> {
        let Some(head) = self.head.as_mut() else {
            return Err(bad_der("revokedCertificates", "before the header"));
        };
        let list = data.get(..left.min(data.len())).unwrap_or_default();
        let used = walk_entries(list, left, &mut head.index, &mut head.removed)?;
        if let Some(d) = head.digest.as_mut() {
            d.update(list.get(..used).unwrap_or_default());
        }
        let left = left - used;
        self.phase = if left == 0 {
            Phase::Tail
        } else {
            Phase::Entries { left }
        };
        Ok(used)
    }

    /// Refuses a tail (everything from `at` to the end) larger than any real
    /// CRL's, before it is downloaded.
    fn check_tail_size(&self, at: usize) -> Result<()> {
        let total = self.head.as_ref().map_or(0, |h| h.total);
        if total.saturating_sub(at) > MAX_TAIL_BYTES {
            return Err(CrlMalformed::TailTooLarge {
                max: MAX_TAIL_BYTES,
            }
            .into());
        }
        Ok(())
    }

    /// Does one step (one bucket) of sorting the index, once every entry is
    /// in: a refresh running behind the requests calls it until it returns
    /// `false`, and lets them run in between, so [`Self::finish`] is left
    /// with only the signature check. Returns `false` when there is nothing
    /// (more) to do, or the entries are not all in yet.
    pub fn prepare_step(&mut self) -> bool {
        if self.phase != Phase::Tail {
            return false;
        }
        self.head.as_mut().is_some_and(|h| h.index.sort_step())
    }

    /// Ends the body: checks the signature over the digest, then, and only
    /// then, reads the authenticated extensions and dates and returns the
    /// verified CRL, as of `now`.
    pub fn finish(self, now: crate::time::UnixTime, policy: CrlTimePolicy) -> Result<VerifiedCrl> {
        match self.phase {
            Phase::Failed => Err(CrlMalformed::EarlierPartRefused.into()),
            Phase::Start => Err(bad(der::Malformed {
                what: "the outer SEQUENCE",
                problem: "unexpected end of data",
            })),
            Phase::Pem => {
                let der = crl_der(&self.pending)?;
                if der.first() != Some(&der::SEQUENCE) {
                    return Err(bad(der::Malformed {
                        what: "the outer SEQUENCE",
                        problem: "unexpected tag",
                    }));
                }
                let mut inner = Self::with_trust(self.trust);
                inner.push(&der)?;
                inner.finish(now, policy)
            }
            Phase::Head | Phase::Entries { .. } => Err(bad(der::Malformed {
                what: "the CRL",
                problem: "the body ends inside it",
            })),
            Phase::Tail => self.finish_tail(now, policy),
        }
    }

    fn finish_tail(self, now: crate::time::UnixTime, policy: CrlTimePolicy) -> Result<VerifiedCrl> {
        let Some(mut head) = self.head else {
            return Err(bad_der("the CRL", "no header"));
        };
        let end = self.consumed + self.pending.len();
        if end < head.total {
            return Err(bad(der::Malformed {
                what: "the CRL",
                problem: "the body ends inside it",
            }));
        }
        if end > head.total {
            return Err(bad(der::Malformed {
                what: "the object",
                problem: "trailing data",
            }));
        }
        let (tbs_rest, envelope_rest) = self
            .pending
            .split_at_checked(head.tbs_end.saturating_sub(self.consumed))
            .ok_or_else(|| bad_der("the signed part", "length exceeds the data"))?;
        let extensions = read_extensions_field(tbs_rest, head.v2)?;
        let mut fields = Reader::new(envelope_rest);
        let algorithm = fields
            .expect_tag(der::SEQUENCE, "signatureAlgorithm")
            .map_err(bad)?;
        let signature = fields
            .expect_tag(der::BIT_STRING, "signatureValue")
            .map_err(bad)?;
        if !fields.is_empty() {
            return Err(bad(der::Malformed {
                what: "the object",
                problem: "fields after signatureValue",
            }));
        }
        let Some((&0, signature)) = signature.content.split_first() else {
            return Err(bad(der::Malformed {
                what: "signatureValue",
                problem: "unused bits",
            }));
        };
        // §5.1.1.2: signatureAlgorithm must be the signature field, exactly.
        if algorithm.raw != head.inner_algorithm.as_slice() {
            return Err(bad(der::Malformed {
                what: "signatureAlgorithm",
                problem: "differs from the signature field of the signed part",
            }));
        }
        let digest = head.digest.take().map(|mut d| {
            d.update(tbs_rest);
            d.finish()
        });
        let signer = match self.trust {
            Trust::Verify { truststore, .. } => {
                let (Some(algorithm), Some(digest)) = (head.algorithm, digest) else {
                    return Err(Error::CrlSignatureAlgorithm(
                        UnsupportedAlgorithm::Malformed,
                    ));
                };
                truststore
                    .cas_named(&head.issuer)
                    .filter(|ca| ca.may_sign_crls())
                    .find_map(|ca| match ca.key() {
                        CaKey::Usable(key) => key
                            .verify_digest(algorithm, &digest, signature)
                            .is_ok()
                            .then(|| key.id()),
                        CaKey::Unsupported(_) => None,
                    })
                    .ok_or_else(|| Error::CrlBadSignature {
                        issuer: DerName::new(&head.issuer),
                    })?
            }
            #[cfg(feature = "fuzzing")]
            Trust::Unverified => crate::signed::KeyId::of_spki(&[]),
        };

        // Authenticated from here on: the CA signed these bytes.
        let this_update = time_of(&head.this_update, "thisUpdate")?;
        let next_update = head
            .next_update
            .as_deref()
            .map(|t| time_of(t, "nextUpdate"))
            .transpose()?;
        if next_update.is_some_and(|n| n < this_update) {
            return Err(bad_der("nextUpdate", "earlier than thisUpdate"));
        }
        let CrlExtensions {
            number,
            authority_key_id,
            scope,
            kinds,
            idp_der,
            delta_base,
            freshest,
            names_delta,
        } = read_crl_extensions(extensions, &head.issuer)?;
        let kind = match delta_base {
            None => CrlKind::Complete,
            Some(base) => {
                // §5.2.4: a delta carries its own CRL number, above the
                // base's, or it could never be matched to a base.
                if number.as_ref().is_none_or(|n| *n <= base) {
                    return Err(bad_der(
                        "a delta CRL",
                        "no CRL number above its BaseCRLNumber",
                    ));
                }
                // §5.2.6: Freshest CRL must not appear in a delta, whatever
                // its points name.
                if names_delta {
                    return Err(bad_der("a delta CRL", "a Freshest CRL extension"));
                }
                CrlKind::Delta { base }
            }
        };
        let purpose = match self.trust {
            Trust::Verify { expected, .. } => expected.purpose(),
            #[cfg(feature = "fuzzing")]
            Trust::Unverified => CrlPurpose::EndEntities,
        };
        match (purpose, kinds) {
            (CrlPurpose::EndEntities, CertificateKinds::Cas) => {
                return Err(CrlUnsupported::ArlForEndEntities.into());
            }
            (CrlPurpose::CaCertificates, CertificateKinds::EndEntities) => {
                return Err(CrlUnsupported::EndEntityCrlForCas.into());
            }
            _ => {}
        }
        if this_update > now.offset(policy.clock_skew_seconds) {
            return Err(Error::CrlNotYetValid { this_update, now });
        }
        let next_update = next_update.ok_or(Error::CrlMissingNextUpdate)?;
        check_fresh(next_update, now, policy.grace_seconds)?;
        let base_sequence = CrlIdentity::of(&head.issuer, signer, &idp_der);
        Ok(VerifiedCrl {
            identity: match kind {
                CrlKind::Complete => base_sequence,
                CrlKind::Delta { .. } => CrlIdentity::delta_of(base_sequence),
            },
            base_sequence,
            kind,
            freshest,
            names_delta,
            removed: head.removed.finish(),
            fingerprint: sha256_of_parts(&[&head.issuer, algorithm.raw, signature]),
            issuer_der: head.issuer,
            issuer_dn: head.issuer_dn,
            signer,
            authority_key_id,
            scope: scope.unwrap_or(CrlScope::Complete),
            kinds,
            this_update,
            next_update,
            number,
            revoked: head.index.finish(),
        })
    }
}

/// The content of the `Extensions` SEQUENCE of `crlExtensions` (or nothing),
/// from the octets of `tbsCertList` after the entries.
fn read_extensions_field(bytes: &[u8], v2: bool) -> Result<&[u8]> {
    let mut r = Reader::new(bytes);
    let mut extensions: &[u8] = &[];
    if let Some(wrapper) = r.optional(der::CONTEXT_0, "crlExtensions").map_err(bad)? {
        if !v2 {
            return Err(bad_der("crlExtensions", "in a v1 CRL"));
        }
        let mut w = Reader::new(wrapper.content);
        extensions = w
            .expect_tag(der::SEQUENCE, "crlExtensions")
            .map_err(bad)?
            .content;
        if !w.is_empty() {
            return Err(bad_der("crlExtensions", "trailing data after it"));
        }
    }
    if !r.is_empty() {
        return Err(bad_der("crlExtensions", "unexpected fields after it"));
    }
    Ok(extensions)
}

#[cfg(test)]
mod tests;
