"""Makes PKIs with pyca/cryptography, an implementation independent of the
authorizer's (rcgen, aws-lc-rs), for `authorizer/tests/python_interop.rs`.

Usage: python3 make_pki.py OUT_DIR

Writes, under OUT_DIR, CA certificates, client certificates (PEM) and CRLs
(DER), plus `manifest.json`:

    {"cases": [{"name": ..., "cas": ["file.pem", ...],
                "issuer": {<issuer entry of the authorizer's config, with
                           "crl" / "crl_from_cdp" paths relative to OUT_DIR>},
                "expect": [{"cert": "file.pem", "reason": null | "revoked" | ...}]}]}

The cases are the ones AWS Private CA and other real PKIs produce:
- ECDSA P-256 and P-384 CAs signing with SHA-512 (Private CA's
  SHA512WITHECDSA), and an RSA CA signing with RSASSA-PSS;
- a partitioned CRL set: each CRL carries a critical issuingDistributionPoint
  whose fullName names the cRLDistributionPoints URI of the certificates it
  covers;
- a key rollover: two CAs with one DN and two keys, one CRL per key.
"""

import datetime
import json
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
ORG = "Temperature Testers, Inc."


def name(cn):
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORG),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


class Signer:
    """A CA's key and how it signs: a hash, and for RSA the padding."""

    def __init__(self, key, hash_alg, pss=False):
        self.key = key
        self.hash = hash_alg
        self.pss = pss

    def sign(self, builder):
        if self.pss:
            pad = padding.PSS(
                mgf=padding.MGF1(self.hash), salt_length=padding.PSS.DIGEST_LENGTH
            )
            return builder.sign(self.key, self.hash, rsa_padding=pad)
        return builder.sign(self.key, self.hash)


def key_usage(**granted):
    """A keyUsage with the named bits set and every other bit clear."""
    bits = [
        "digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
        "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only",
    ]
    return x509.KeyUsage(**{b: granted.get(b, False) for b in bits})


def make_ca(cn, signer):
    public = signer.key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(name(cn))
        .issuer_name(name(cn))
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(days=30))
        .not_valid_after(NOW + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )
    return signer.sign(builder)


def make_leaf(ca_cert, signer, serial, cdp=None):
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"device-{serial:x}")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(NOW - datetime.timedelta(days=1))
        .not_valid_after(NOW + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.key.public_key()),
            critical=False,
        )
    )
    if cdp is not None:
        builder = builder.add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        full_name=[x509.UniformResourceIdentifier(cdp)],
                        relative_name=None,
                        reasons=None,
                        crl_issuer=None,
                    )
                ]
            ),
            critical=False,
        )
    return signer.sign(builder)


def make_crl(ca_cert, signer, number, revoked, idp_uri=None):
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(NOW - datetime.timedelta(minutes=5))
        .next_update(NOW + datetime.timedelta(days=1))
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.key.public_key()),
            critical=False,
        )
    )
    if idp_uri is not None:
        # AWS Private CA marks the IDP of its partitioned CRLs critical.
        builder = builder.add_extension(
            x509.IssuingDistributionPoint(
                full_name=[x509.UniformResourceIdentifier(idp_uri)],
                relative_name=None,
                only_contains_user_certs=False,
                only_contains_ca_certs=False,
                only_some_reasons=None,
                indirect_crl=False,
                only_contains_attribute_certs=False,
            ),
            critical=True,
        )
    for serial in revoked:
        entry = (
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(NOW - datetime.timedelta(minutes=10))
            .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
            .build()
        )
        builder = builder.add_revoked_certificate(entry)
    return signer.sign(builder)


class Out:
    def __init__(self, root):
        self.root = root
        os.makedirs(root, exist_ok=True)

    def pem(self, rel, cert):
        self._write(rel, cert.public_bytes(serialization.Encoding.PEM))
        return rel

    def der(self, rel, crl):
        self._write(rel, crl.public_bytes(serialization.Encoding.DER))
        return rel

    def _write(self, rel, data):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)


# 20-octet serials (159 bits, the most pyca accepts), neighbours in the last bit.
REVOKED = 0x6F112233445566778899AABBCCDDEEFF00112234
NEIGHBOUR = REVOKED + 1


def algorithm_case(out, label, cn, signer):
    ca = make_ca(cn, signer)
    crl = make_crl(ca, signer, 7, [REVOKED])
    return {
        "name": label,
        "cas": [out.pem(f"{label}/ca.pem", ca)],
        "issuer": {"name": label, "match": {"CN": cn}, "crl": out.der(f"{label}/ca.crl", crl)},
        "expect": [
            {"cert": out.pem(f"{label}/revoked.pem", make_leaf(ca, signer, REVOKED)), "reason": "revoked"},
            {"cert": out.pem(f"{label}/good.pem", make_leaf(ca, signer, NEIGHBOUR)), "reason": None},
        ],
    }


def partitioned_case(out):
    signer = Signer(ec.generate_private_key(ec.SECP384R1()), hashes.SHA384())
    ca = make_ca("Interop Partitioned CA", signer)
    base = "http://crl.example.test/crl/5c0f3d2a/"
    expect = []
    for i, partition in enumerate(["p1", "p2"]):
        uri = f"{base}{partition}.crl"
        revoked, good = 0x1000 + 16 * i, 0x1001 + 16 * i
        out.der(f"partitioned/crl/5c0f3d2a/{partition}.crl", make_crl(ca, signer, 3, [revoked], uri))
        expect.append({"cert": out.pem(f"partitioned/{partition}-revoked.pem", make_leaf(ca, signer, revoked, uri)), "reason": "revoked"})
        expect.append({"cert": out.pem(f"partitioned/{partition}-good.pem", make_leaf(ca, signer, good, uri)), "reason": None})
    # Revoked on partition 2, but naming partition 1: partition 1 decides.
    expect.append({"cert": out.pem("partitioned/p2-serial-in-p1.pem", make_leaf(ca, signer, 0x1010, f"{base}p1.crl")), "reason": None})
    # A partition with no published CRL is never allowed.
    expect.append({"cert": out.pem("partitioned/p3.pem", make_leaf(ca, signer, 0x1020, f"{base}p3.crl")), "reason": "crl_unavailable"})
    return {
        "name": "partitioned",
        "cas": [out.pem("partitioned/ca.pem", ca)],
        "issuer": {
            "name": "partitioned",
            "match": {"CN": "Interop Partitioned CA"},
            "crl_from_cdp": [{"prefix": "http://crl.example.test/crl/", "fetch": "partitioned/crl/"}],
        },
        "expect": expect,
    }


def rollover_case(out):
    key1 = Signer(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())
    key2 = Signer(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())
    ca1 = make_ca("Interop Rolled CA", key1)
    ca2 = make_ca("Interop Rolled CA", key2)
    crl1 = make_crl(ca1, key1, 40, [0x51])
    crl2 = make_crl(ca2, key2, 2, [0x52])
    return {
        "name": "rollover",
        "cas": [out.pem("rollover/key1.pem", ca1), out.pem("rollover/key2.pem", ca2)],
        "issuer": {
            "name": "rollover",
            "match": {"CN": "Interop Rolled CA"},
            "crl": [out.der("rollover/key1.crl", crl1), out.der("rollover/key2.crl", crl2)],
        },
        "expect": [
            {"cert": out.pem("rollover/key1-revoked.pem", make_leaf(ca1, key1, 0x51)), "reason": "revoked"},
            {"cert": out.pem("rollover/key1-0x52.pem", make_leaf(ca1, key1, 0x52)), "reason": None},
            {"cert": out.pem("rollover/key2-revoked.pem", make_leaf(ca2, key2, 0x52)), "reason": "revoked"},
            {"cert": out.pem("rollover/key2-0x51.pem", make_leaf(ca2, key2, 0x51)), "reason": None},
        ],
    }


def main():
    out = Out(sys.argv[1])
    cases = [
        algorithm_case(out, "p256-sha512", "Interop P-256 SHA-512 CA",
                       Signer(ec.generate_private_key(ec.SECP256R1()), hashes.SHA512())),
        algorithm_case(out, "p384-sha512", "Interop P-384 SHA-512 CA",
                       Signer(ec.generate_private_key(ec.SECP384R1()), hashes.SHA512())),
        algorithm_case(out, "rsa-pss-sha256", "Interop RSA-PSS SHA-256 CA",
                       Signer(rsa.generate_private_key(65537, 2048), hashes.SHA256(), pss=True)),
        algorithm_case(out, "rsa-pss-sha512", "Interop RSA-PSS SHA-512 CA",
                       Signer(rsa.generate_private_key(65537, 3072), hashes.SHA512(), pss=True)),
        algorithm_case(out, "rsa-sha384", "Interop RSA SHA-384 CA",
                       Signer(rsa.generate_private_key(65537, 2048), hashes.SHA384())),
        partitioned_case(out),
        rollover_case(out),
    ]
    with open(os.path.join(out.root, "manifest.json"), "w") as f:
        json.dump({"cases": cases}, f, indent=1)


if __name__ == "__main__":
    main()
