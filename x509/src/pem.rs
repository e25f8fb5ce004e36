//! PEM (RFC 7468): the one reader and writer of the workspace. The
//! authorizer reads client certificates, truststores and CRLs with it; the
//! `truststore` tool reads bundles and writes them; the local gateway writes
//! the `clientCertPem` API Gateway puts in events. Decoding is x509-parser's;
//! this module fixes the labels, the error kinds and the output format.

use base64::Engine as _;
use x509_parser::pem::Pem;
use x509_parser::prelude::PEMError;

/// The label of a certificate (RFC 7468 §5).
pub const CERTIFICATE: &str = "CERTIFICATE";
/// The label of a CRL (RFC 7468 §6).
pub const X509_CRL: &str = "X509 CRL";

/// One decoded PEM block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// The label between `-----BEGIN ` and `-----`, such as `CERTIFICATE`.
    pub label: String,
    /// The decoded contents (DER, for every label this project reads).
    pub der: Vec<u8>,
}

impl Block {
    /// Whether the block holds private key material (`PRIVATE KEY`,
    /// `EC PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`, …).
    #[must_use]
    pub fn is_private_key(&self) -> bool {
        is_private_key_label(&self.label)
    }
}

/// Whether a PEM label names private key material.
#[must_use]
pub fn is_private_key_label(label: &str) -> bool {
    label.contains("PRIVATE KEY")
}

/// Why text is not PEM. Only the kind: a decoder's own message may quote
/// what it could not decode, which could be key material.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PemError {
    /// Something other than a `-----BEGIN …-----` line where a block should start.
    #[error("text that is not a PEM block")]
    MissingHeader,
    /// A `-----BEGIN` line that is not a valid header.
    #[error("an invalid PEM header")]
    InvalidHeader,
    /// A block without its `-----END …-----` line.
    #[error("a PEM block without its END line")]
    Incomplete,
    /// A block whose body is not base64.
    #[error("invalid base64 in a PEM block")]
    Base64,
}

impl From<PEMError> for PemError {
    fn from(e: PEMError) -> Self {
        match e {
            PEMError::Base64DecodeError => Self::Base64,
            PEMError::InvalidHeader => Self::InvalidHeader,
            PEMError::IncompletePEM => Self::Incomplete,
            PEMError::MissingHeader | PEMError::IOError(_) => Self::MissingHeader,
        }
    }
}

/// Every block of `text`, in order. An unreadable block is yielded as an
/// error and ends the iteration: what follows it cannot be located reliably.
pub fn blocks(text: &[u8]) -> impl Iterator<Item = Result<Block, PemError>> + '_ {
    let mut inner = Pem::iter_from_buffer(text);
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        match inner.next()? {
            Ok(Pem {
                label, contents, ..
            }) => Some(Ok(Block {
                label,
                der: contents,
            })),
            Err(e) => {
                done = true;
                Some(Err(e.into()))
            }
        }
    })
}

/// The first block labelled `label`, skipping blocks of other labels.
///
/// # Errors
/// An unreadable block before it.
pub fn find(text: &[u8], label: &str) -> Result<Option<Vec<u8>>, PemError> {
    for block in blocks(text) {
        let block = block?;
        if block.label == label {
            return Ok(Some(block.der));
        }
    }
    Ok(None)
}

/// The first block, whatever its label.
///
/// # Errors
/// No block, or an unreadable first block.
pub fn first(text: &[u8]) -> Result<Block, PemError> {
    blocks(text).next().unwrap_or(Err(PemError::MissingHeader))
}

/// `der` as a PEM block labelled `label`: 64-column base64 and LF line ends,
/// as RFC 7468 §2 recommends and OpenSSL writes.
#[must_use]
pub fn encode(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 2 * label.len() + 34);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    // Base64 output is ASCII, so every 64-byte chunk is one line of text.
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

#[cfg(test)]
mod tests;
