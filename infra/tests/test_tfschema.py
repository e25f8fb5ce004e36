"""The offline provider-schema check (infra/tools/tfschema.py): the module passes it for the
lowest and the newest provider versions, and it fails on each kind of mistake it is meant to
catch, proven on scratch copies of the module."""

import pathlib
import shutil
import sys
import tempfile
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "infra" / "tools"))

import tfschema  # noqa: E402

SCHEMAS = [tfschema.derive(p) for p in tfschema.PACKAGES]


def scratch(edit):
    """A copy of the module with `edit(dir)` applied; removed by the caller's cleanup."""
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="tfschema-"))
    shutil.copytree(tfschema.MODULE, tmp / "terraform", ignore=shutil.ignore_patterns(".terraform*", "fixtures"))
    edit(tmp / "terraform")
    return tmp


def replace(path, old, new):
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


class ProviderSchema(unittest.TestCase):
    def problems(self, edit):
        tmp = scratch(edit)
        self.addCleanup(shutil.rmtree, tmp)
        return [tfschema.check(s, [tmp]) for s in SCHEMAS]

    def test_the_packages_are_the_provider_versions_they_claim(self):
        self.assertEqual([s["provider"] for s in SCHEMAS], [p["provider"] for p in tfschema.PACKAGES])
        self.assertTrue(SCHEMAS[0]["provider"].startswith("5."))
        self.assertTrue(SCHEMAS[1]["provider"].startswith("6."))

    def test_the_lowest_allowed_version_is_the_one_versions_tf_names(self):
        versions = (tfschema.MODULE / "versions.tf").read_text()
        self.assertIn(f'">= {SCHEMAS[0]["provider"].rsplit(".", 1)[0]}, < 7.0"', versions)

    def test_module_and_example_pass_against_both_versions(self):
        for schema in SCHEMAS:
            self.assertEqual(tfschema.check(schema, [tfschema.MODULE]), [], schema["provider"])

    def test_a_misspelled_argument_fails(self):
        for found in self.problems(lambda d: replace(d / "monitoring.tf", "  alarm_description   = \"A CRL in use",
                                                     "  alarm_descripton    = \"A CRL in use")):
            self.assertTrue(any("`alarm_descripton` is not an argument" in p for p in found), found)

    def test_a_misspelled_argument_inside_a_nested_or_dynamic_block_fails(self):
        def edit(d):
            replace(d / "main.tf", 'sid       = "DecryptTruststore"', 'sidd      = "DecryptTruststore"')
            replace(d / "monitoring.tf", "      metric_name = \"CrlRefreshFailures\"", "      metric_nam  = \"CrlRefreshFailures\"")
        for found in self.problems(edit):
            self.assertTrue(any("statement: `sidd`" in p for p in found), found)
            self.assertTrue(any("metric_query.metric: `metric_nam`" in p for p in found), found)

    def test_a_missing_required_argument_fails(self):
        for found in self.problems(lambda d: replace(d / "monitoring.tf", '  alarm_name          = "${var.name}-crl-stale"\n', "")):
            self.assertTrue(any("crl_stale: required `alarm_name` is not set" in p for p in found), found)
        # Required in 5.60, optional in 6.x: the check holds the module to both.
        low, high = self.problems(lambda d: replace(d / "monitoring.tf", '  comparison_operator = "LessThanThreshold"\n', ""))
        self.assertTrue(any("crl_stale: required `comparison_operator` is not set" in p for p in low), low)
        self.assertEqual(high, [])

    def test_an_attribute_the_lowest_version_lacks_fails_there_only(self):
        def edit(d):
            with open(d / "main.tf", "a") as f:
                f.write('\ndata "aws_region" "probe" {}\n\noutput "probe" {\n  value = data.aws_region.probe.region\n}\n')
        low, high = self.problems(edit)
        self.assertTrue(any("`region` is not an attribute of aws_region" in p for p in low), low)
        self.assertEqual(high, [])

    def test_a_deprecated_argument_fails(self):
        def edit(d):
            with open(d / "main.tf", "a") as f:
                f.write('\ndata "aws_region" "probe" {}\n\noutput "probe" {\n  value = data.aws_region.probe.name\n}\n')
        for found in self.problems(edit):
            self.assertTrue(any("`name` is deprecated in provider 6.0" in p for p in found), found)

    def test_an_unknown_resource_type_fails(self):
        for found in self.problems(lambda d: replace(d / "monitoring.tf", 'resource "aws_cloudwatch_dashboard"',
                                                     'resource "aws_cloudwatch_dashbaord"')):
            self.assertTrue(any("aws_cloudwatch_dashbaord.this: no such resource type" in p for p in found), found)


if __name__ == "__main__":
    unittest.main()
