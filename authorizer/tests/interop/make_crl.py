"""Makes one CA, a CRL of N entries and a few client certificates with
pyca/cryptography, for `authorizer/tests/it/streaming.rs`. The CA and the
certificates come from `make_pki.py`'s helpers; the CRL is built here, for
size.

Usage: python3 make_crl.py OUT_DIR N SEED

Writes ca.pem, crl.der (N random 20-octet serials, in random order, each
with a reason code, ECDSA P-256 with SHA-256), listed-K.pem (certificates
whose serials are on the CRL) and unlisted-K.pem (whose are not).
"""

import datetime
import random
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from make_pki import NOW, Signer, make_ca, make_leaf


def main():
    out, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    signer = Signer(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())
    ca = make_ca("Devices CA", signer)
    with open(f"{out}/ca.pem", "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))

    # 20 octets, high bit clear (a positive INTEGER of 20 octets), never 0.
    serials = set()
    while len(serials) < n + 3:
        serials.add(rng.getrandbits(159) | 1 << 152)
    serials = list(serials)
    rng.shuffle(serials)
    listed, unlisted = serials[:n], serials[n:]

    reasons = [
        x509.ReasonFlags.key_compromise,
        x509.ReasonFlags.superseded,
        x509.ReasonFlags.cessation_of_operation,
    ]
    entries = [
        x509.RevokedCertificateBuilder()
        .serial_number(serial)
        .revocation_date(NOW - datetime.timedelta(hours=1))
        .add_extension(x509.CRLReason(reasons[i % 3]), critical=False)
        .build()
        for i, serial in enumerate(listed)
    ]
    # The entries go to the constructor at once: adding them one by one
    # copies the builder's list each time, quadratic in N.
    builder = x509.CertificateRevocationListBuilder(
        issuer_name=ca.subject,
        last_update=NOW - datetime.timedelta(minutes=5),
        next_update=NOW + datetime.timedelta(days=1),
        extensions=[],
        revoked_certificates=entries,
    ).add_extension(x509.CRLNumber(7), critical=False)
    crl = signer.sign(builder)
    with open(f"{out}/crl.der", "wb") as f:
        f.write(crl.public_bytes(serialization.Encoding.DER))

    picks = [("listed", s) for s in listed[:3]] + [("unlisted", s) for s in unlisted]
    counts = {}
    for kind, serial in picks:
        k = counts.get(kind, 0)
        counts[kind] = k + 1
        leaf = make_leaf(ca, signer, serial)
        with open(f"{out}/{kind}-{k}.pem", "wb") as f:
            f.write(leaf.public_bytes(serialization.Encoding.PEM))


if __name__ == "__main__":
    main()
