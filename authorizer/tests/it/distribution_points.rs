//! Partition coverage by a certificate's distribution points (RFC 5280
//! §6.3.3 (d)): a point limited to some reasons names no CRL that can decide
//! the certificate alone.

use crate::common;

use common::{Fixture, reason};
use mtls_policy::decision::DenyReason;
use mtls_tests::pki::tlv;

const CDP: [u64; 4] = [2, 5, 29, 31];

/// The certificate's only distribution point says its CRL speaks for
/// keyCompromise only (DistributionPoint.reasons); §6.3.3 (d) intersects the
/// DP's reasons with the CRL's, so after that CRL reasons_mask is not
/// all-reasons and the status is UNDETERMINED. Covering reads only the DP's
/// names (x509/src/cert.rs Extensions::read ignores `reasons`), so the
/// partition alone allows the device.
#[tokio::test]
async fn a_distribution_point_limited_to_some_reasons_does_not_make_a_crl_complete_for_the_device()
{
    let f = Fixture::new();
    let uri = "http://crl.example/p1.crl";
    let point = [
        tlv(0xa0, &tlv(0xa0, &tlv(0x86, uri.as_bytes()))),
        tlv(0x81, &[0x06, 0x40]), // reasons: keyCompromise only
    ]
    .concat();
    let cdp = tlv(0x30, &tlv(0x30, &point));
    let device = f.ca.leaf(&[0x11]).extension(&CDP, false, cdp).pem();
    let crl = f.ca.crl().partition(&[uri]).der();
    f.write("crl.der", &crl);
    let a = f
        .start(f.config(&f.devices_entry(&f.file_uri("crl.der")), ""))
        .await;
    assert_eq!(
        reason(&a, &device).await,
        Some(DenyReason::CrlUnavailable),
        "a CRL that covers the device for keyCompromise only allowed it"
    );
}
