"""infra/api-gateway.json is the one source of the default authorizer cache key and the shared
access-log fields: the Terraform module renders exactly what it says (evaluated with `terraform
console`, over the file and over a changed copy, so a value written out in the module fails),
and neither the module, the CDK construct nor the local gateway writes one of its values out.
The CDK construct's rendering is asserted in infra/cdk/test/mtls-api.test.ts, the gateway's
default in gateway/src/server.rs and gateway/src/main.rs."""

import json
import pathlib
import re
import shutil
import subprocess
import tempfile
import unittest

from test_terraform_wiring import MODULE, ROOT, terraform_env

API_GATEWAY_JSON = ROOT / "infra" / "api-gateway.json"

# The client certificate fields API Gateway exposes as $context.identity.clientCert.<field>
# (validity.* aside), all of which the local gateway reads.
CERTIFICATE_FIELDS = {"serialNumber", "issuerDN", "subjectDN", "clientCertPem"}

# The fields each stage adds to the shared ones, in rest.tf and http.tf.
REST_OWN_FIELDS = {"extendedRequestId", "resourcePath", "authorizerStatus", "authorizerLatency",
                   "integrationStatus", "validationError"}
HTTP_OWN_FIELDS = {"routeKey", "integrationError"}


def api_gateway_json():
    return json.loads(API_GATEWAY_JSON.read_text())


def tf_local(text, name):
    """The source of the top-level local `name`: from `  name =` to the next local, comment,
    blank line or the end of its locals block."""
    found = re.search(rf"^(  {name} += .*?\n)(?=  \w+ +=|  #|\n|\}})", text, re.S | re.M)
    if found is None:
        raise AssertionError(f"main.tf: no local {name}")
    return found.group(1)


def stage_format(name):
    """The access_log_settings format expression of the stage in `name`."""
    found = re.search(r"^    format = (jsonencode\(merge\(local\.access_log_fields, \{\n.*?\n    \}\)\))$",
                      (MODULE / name).read_text(), re.S | re.M)
    if found is None:
        raise AssertionError(f"{name}: no format = jsonencode(merge(local.access_log_fields, {{ … }}))")
    return found.group(1)


def terraform_rendering(settings, http, per_route_rules):
    """local.identity_sources and both stages' access-log formats, as Terraform evaluates main.tf's
    locals and the stages' expressions over `settings` (written where the module reads
    api-gateway.json), without a provider."""
    tf = shutil.which("terraform")
    main = (MODULE / "main.tf").read_text()
    block = "".join(tf_local(main, n) for n in ("api_gateway", "cache_key_fields", "identity_sources", "access_log_fields"))
    with tempfile.TemporaryDirectory() as tmp:
        module = pathlib.Path(tmp) / "module"
        module.mkdir()
        (pathlib.Path(tmp) / "api-gateway.json").write_text(json.dumps(settings))
        (module / "main.tf").write_text(
            'variable "authorizer_identity_sources" {\n  type    = list(string)\n  default = null\n}\n'
            f"locals {{\n  http            = {json.dumps(http)}\n  per_route_rules = {json.dumps(per_route_rules)}\n"
            + block
            + f"  rest_format = {stage_format('rest.tf')}\n  http_format = {stage_format('http.tf')}\n}}\n")
        out = subprocess.run(
            [tf, "console", "-no-color"], cwd=module, env=terraform_env(), check=True, capture_output=True, text=True,
            timeout=120,
            input="jsonencode({ identity_sources = local.identity_sources, rest = local.rest_format, http = local.http_format })\n",
        ).stdout
    rendered = json.loads(json.loads(out))
    return rendered["identity_sources"], json.loads(rendered["rest"]), json.loads(rendered["http"])


def expected_identity_sources(settings, http, per_route_rules):
    prefix = "$" if http else ""
    return ([f"{prefix}context.identity.clientCert.{f}" for f in settings["cache_key_fields"]]
            + (["$context.routeKey"] if http and per_route_rules else []))


class ApiGatewayJson(unittest.TestCase):
    def test_the_file_says_why_and_keys_the_cache_by_the_certificate(self):
        settings = api_gateway_json()
        self.assertEqual(sorted(settings), ["access_log_fields", "cache_key_fields", "why"])
        self.assertIsInstance(settings["why"], str)
        fields = settings["cache_key_fields"]
        self.assertEqual(len(fields), len(set(fields)), fields)
        # Certificate fields only: a header or query string is the client's to choose. Serial and
        # issuer both: a serial is unique only per issuer (RFC 5280 §4.1.2.2).
        self.assertLessEqual(set(fields), CERTIFICATE_FIELDS)
        self.assertLessEqual({"serialNumber", "issuerDN"}, set(fields))
        log = settings["access_log_fields"]
        self.assertTrue(log)
        for name, value in log.items():
            self.assertRegex(name, r"^[a-z][A-Za-z]*$")
            self.assertRegex(value, r"^\$context\.[A-Za-z.]+$", name)
        # Each stage's own fields come on top; none may replace a shared one.
        self.assertEqual(set(log) & (REST_OWN_FIELDS | HTTP_OWN_FIELDS), set())

    def test_terraform_renders_what_the_file_says(self):
        if shutil.which("terraform") is None:
            self.skipTest("terraform is not installed: test_terraform_wiring checks the locals' text")
        settings = api_gateway_json()
        # A changed copy: a value written out in the module instead of read would render the
        # file's old value here.
        changed = {
            "why": "a changed copy",
            "cache_key_fields": ["subjectDN", *reversed(settings["cache_key_fields"])],
            "access_log_fields": {**{k: v + "X" for k, v in settings["access_log_fields"].items()},
                                  "extraField": "$context.extra"},
        }
        for case in (settings, changed):
            for http in (False, True):
                for per_route_rules in (False, True):
                    with self.subTest(json=case["why"][:20], http=http, per_route_rules=per_route_rules):
                        sources, rest, http_format = terraform_rendering(case, http, per_route_rules)
                        self.assertEqual(sources, expected_identity_sources(case, http, per_route_rules))
                        shared = case["access_log_fields"]
                        self.assertEqual({k: rest[k] for k in rest if k not in REST_OWN_FIELDS}, shared)
                        self.assertEqual({k: http_format[k] for k in http_format if k not in HTTP_OWN_FIELDS}, shared)
                        self.assertEqual(set(rest) - set(shared), REST_OWN_FIELDS)
                        self.assertEqual(set(http_format) - set(shared), HTTP_OWN_FIELDS)

    def test_no_value_of_the_file_is_written_out_elsewhere(self):
        settings = api_gateway_json()
        # Each language's string quotes (Rust's and HCL's backticks are Markdown in comments).
        sources = {
            "terraform": ('"', sorted(MODULE.glob("*.tf"))),
            "cdk": ("['\"`]", sorted((ROOT / "infra" / "cdk" / "lib").glob("*.ts"))
                    + sorted((ROOT / "infra" / "cdk" / "bin").glob("*.ts"))),
            "gateway": ('"', sorted((ROOT / "gateway" / "src").rglob("*.rs"))),
        }
        copies = []
        for kind, (q, files) in sources.items():
            self.assertTrue(files, kind)
            # An access-log field as a map entry: `name = "value"`, `name: 'value'`, `"name": "value"`.
            patterns = [re.compile(rf"\b{re.escape(k)}{q}?\s*[:=]\s*{q}{re.escape(v)}{q}")
                        for k, v in settings["access_log_fields"].items()]
            # A cache key field as a whole identity source, or (but in the gateway, whose resolver
            # names every field it reads) as a string of its own.
            for f in settings["cache_key_fields"]:
                patterns.append(re.compile(rf"{q}\$?context\.identity\.clientCert\.{re.escape(f)}{q}"))
                if kind != "gateway":
                    patterns.append(re.compile(rf"{q}{re.escape(f)}{q}"))
            for path in files:
                for n, line in enumerate(path.read_text().splitlines(), 1):
                    if any(p.search(line) for p in patterns):
                        copies.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
        self.assertEqual(copies, [], "read infra/api-gateway.json instead")


if __name__ == "__main__":
    unittest.main()
