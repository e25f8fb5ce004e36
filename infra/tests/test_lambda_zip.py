"""scripts/lambda_zip.py, the check `make package` runs on each zip: it accepts a deployable zip
and names what is wrong with the others."""

import io
import pathlib
import sys
import tempfile
import unittest
import zipfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import lambda_zip  # noqa: E402


def elf(machine):
    """The first 20 octets of an ELF header for `machine`, and some padding."""
    return b"\x7fELF\x02\x01\x01" + b"\0" * 11 + machine.to_bytes(2, "little") + b"\0" * 64


SCRATCH = tempfile.TemporaryDirectory(prefix="lambda-zip-")


def make_zip(name="bootstrap", data=elf(183), mode=0o755):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        info = zipfile.ZipInfo(name)
        info.external_attr = (0o100000 | mode) << 16
        z.writestr(info, data)
    path = pathlib.Path(tempfile.mkdtemp(dir=SCRATCH.name)) / "bootstrap.zip"
    path.write_bytes(buf.getvalue())
    return path


def tearDownModule():
    SCRATCH.cleanup()


class LambdaZip(unittest.TestCase):
    def test_an_executable_arm64_bootstrap_passes(self):
        self.assertEqual(lambda_zip.problems(make_zip(), "arm64"), [])
        self.assertEqual(lambda_zip.problems(make_zip(data=elf(62)), "x86_64"), [])

    def test_a_bootstrap_without_the_executable_bit_fails(self):
        found = lambda_zip.problems(make_zip(mode=0o644), "arm64")
        self.assertTrue(any("not executable" in p for p in found), found)

    def test_a_bootstrap_for_another_architecture_fails(self):
        found = lambda_zip.problems(make_zip(data=elf(62)), "arm64")
        self.assertTrue(any("not arm64" in p for p in found), found)

    def test_a_zip_without_bootstrap_or_not_elf_fails(self):
        self.assertTrue(lambda_zip.problems(make_zip(name="authorizer"), "arm64"))
        found = lambda_zip.problems(make_zip(data=b"#!/bin/sh\n"), "arm64")
        self.assertTrue(any("not an ELF" in p for p in found), found)


if __name__ == "__main__":
    unittest.main()
