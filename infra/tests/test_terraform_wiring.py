"""Wiring checks on the Terraform module, read with python-hcl2: the invariants
that make mutual TLS hold, asserted on the source without an AWS account or a
provider download. `terraform test` (tests/*.tftest.hcl) repeats the plan-time
ones where the provider can be installed."""

import itertools
import json
import os
import pathlib
import re
import shutil
import subprocess
import tempfile
import unittest

import hcl2

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODULE = ROOT / "infra" / "terraform"


def load(name):
    with open(MODULE / name, encoding="utf-8") as f:
        return hcl2.load(f)


def val(x):
    """python-hcl2 wraps attribute values in one-element lists; unwrap them."""
    while isinstance(x, list) and len(x) == 1:
        x = x[0]
    return x


def resources(doc, kind):
    out = {}
    for block in doc.get("resource", []):
        for name, body in block.get(kind, {}).items():
            out[name] = body
    return out


def data(doc, kind):
    out = {}
    for block in doc.get("data", []):
        for name, body in block.get(kind, {}).items():
            out[name] = body
    return out


def load_module():
    """Every .tf file of the module, merged as Terraform merges them."""
    merged = {}
    for path in sorted(MODULE.glob("*.tf")):
        for key, blocks in load(path.name).items():
            merged.setdefault(key, []).extend(blocks)
    return merged


def module_text():
    return "\n".join(p.read_text() for p in sorted(MODULE.glob("*.tf")))


def variables(doc):
    out = {}
    for block in doc.get("variable", []):
        out.update(block)
    return out


IDENTITY_HEADERS_JSON = ROOT / "infra" / "identity-headers.json"


def identity_headers():
    return json.loads(IDENTITY_HEADERS_JSON.read_text())["headers"]


def underscore_spellings(header):
    """Every spelling of `header` but its own in which any of its '-' is written
    '_', derived independently of the module (every choice per dash)."""
    parts = header.split("-")
    out = set()
    for seps in itertools.product("-_", repeat=len(parts) - 1):
        out.add(parts[0] + "".join(sep + part for sep, part in zip(seps, parts[1:])))
    out.discard(header)
    return out


def expected_identity_mappings(listed):
    """The request parameters each integration must carry, from the JSON alone."""
    rest, http = {}, {}
    for h in listed:
        rest[f"integration.request.header.{h['header']}"] = f"context.authorizer.{h['context']}"
        http[f"overwrite:header.{h['header']}"] = f"$context.authorizer.{h['context']}"
        for s in underscore_spellings(h["header"]):
            rest[f"integration.request.header.{s}"] = f"context.authorizer.{h['context']}"
            http[f"remove:header.{s}"] = "''"
    return rest, http


# The identity-header locals of main.tf, as written: from `identity_headers =`
# to the end of `http_identity_headers`. They read nothing but the JSON, so
# Terraform can evaluate them alone, without a provider.
IDENTITY_LOCALS = re.compile(r"\n(  identity_headers = .*?\n  http_identity_headers = .*?\n  [)}]\n)", re.S)


def terraform_identity_locals(headers_json):
    """rest_identity_headers and http_identity_headers as Terraform evaluates
    them (`terraform console`, no provider needed) over `headers_json`, or
    None when no terraform is installed."""
    tf = shutil.which("terraform")
    if tf is None:
        return None
    found = IDENTITY_LOCALS.search((MODULE / "main.tf").read_text())
    if found is None:
        raise AssertionError("main.tf: no identity-header locals from `identity_headers =` to `http_identity_headers`")
    block = found.group(1)
    env = dict(os.environ)
    if env.get("TF_CLI_CONFIG_FILE") and not os.path.exists(env["TF_CLI_CONFIG_FILE"]):
        del env["TF_CLI_CONFIG_FILE"]
    with tempfile.TemporaryDirectory() as tmp:
        module = pathlib.Path(tmp) / "module"
        module.mkdir()
        (pathlib.Path(tmp) / "identity-headers.json").write_text(json.dumps(headers_json))
        (module / "main.tf").write_text("locals {\n" + block + "}\n")
        out = subprocess.run(
            [tf, "console", "-no-color"], cwd=module, env=env, check=True, capture_output=True, text=True, timeout=120,
            input="jsonencode({ rest = local.rest_identity_headers, http = local.http_identity_headers })\n",
        ).stdout
    return json.loads(json.loads(out))


class ModuleWiring(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.main = load_module()
        cls.vars = variables(load("variables.tf"))

    def test_execute_api_endpoint_is_disabled_for_both_api_types(self):
        for kind in ("aws_api_gateway_rest_api", "aws_apigatewayv2_api"):
            api = resources(self.main, kind)["this"]
            self.assertIs(val(api["disable_execute_api_endpoint"]), True, kind)

    def test_api_type_selects_exactly_one_api(self):
        self.assertEqual(val(self.vars["api_type"]["default"]), "rest")
        text = module_text()
        self.assertIn('rest = var.api_type == "rest"', text)
        self.assertIn('http = var.api_type == "http"', text)
        rest_kinds = [k for b in self.main["resource"] for k in b if k.startswith("aws_api_gateway_")]
        http_kinds = [k for b in self.main["resource"] for k in b if k.startswith("aws_apigatewayv2_")]
        self.assertTrue(rest_kinds and http_kinds)
        for block in self.main["resource"]:
            for kind, named in block.items():
                if kind.startswith("aws_api_gateway_") or kind.startswith("aws_apigatewayv2_"):
                    flag = "local.rest" if kind.startswith("aws_api_gateway_") else "local.http"
                    for name, body in named.items():
                        gate = json.dumps(body.get("count", body.get("for_each")))
                        self.assertIn(flag, gate, f"{kind}.{name} is not gated on {flag}")

    def test_truststore_version_comes_from_the_uploaded_object(self):
        dom = resources(self.main, "aws_api_gateway_domain_name")["this"]
        mtls = val(dom["mutual_tls_authentication"])
        self.assertEqual(val(mtls["truststore_version"]), "${aws_s3_object.truststore.version_id}")
        self.assertEqual(val(dom["security_policy"]), "TLS_1_2")
        dom2 = resources(self.main, "aws_apigatewayv2_domain_name")["this"]
        mtls2 = val(dom2["mutual_tls_authentication"])
        self.assertEqual(val(mtls2["truststore_version"]), "${aws_s3_object.truststore.version_id}")
        self.assertEqual(val(mtls2["truststore_uri"]), "${local.truststore_uri}")
        conf = val(dom2["domain_name_configuration"])
        self.assertEqual(val(conf["security_policy"]), "TLS_1_2")
        self.assertEqual(val(conf["endpoint_type"]), "REGIONAL")
        obj = resources(self.main, "aws_s3_object")["truststore"]
        # A content hash, so a changed file is a new version.
        self.assertIn("filemd5(var.truststore_file)", val(obj["source_hash"]))

    def test_truststore_bucket_is_versioned_private_encrypted_and_tls_only(self):
        ver = resources(self.main, "aws_s3_bucket_versioning")["truststore"]
        self.assertEqual(val(val(ver["versioning_configuration"])["status"]), "Enabled")
        pab = resources(self.main, "aws_s3_bucket_public_access_block")["truststore"]
        for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
            self.assertIs(val(pab[k]), True, k)
        self.assertIn("truststore", resources(self.main, "aws_s3_bucket_server_side_encryption_configuration"))
        pol = data(self.main, "aws_iam_policy_document")["truststore_bucket"]
        st = val(pol["statement"])
        self.assertEqual(val(st["effect"]), "Deny")
        cond = val(st["condition"])
        self.assertEqual(val(cond["variable"]), "aws:SecureTransport")
        self.assertIn("truststore", resources(self.main, "aws_s3_bucket_lifecycle_configuration"))

    def test_every_method_and_route_uses_the_authorizer(self):
        methods = resources(self.main, "aws_api_gateway_method")
        self.assertEqual(sorted(methods), ["backend", "this"])
        for name, m in methods.items():
            self.assertEqual(val(m["authorization"]), "CUSTOM", name)
            self.assertEqual(val(m["authorizer_id"]), "${aws_api_gateway_authorizer.this[0].id}", name)
        self.assertEqual(val(methods["this"]["for_each"]), "${local.rest && local.api_handler ? local.routes : {}}")
        self.assertEqual(val(methods["backend"]["for_each"]), "${local.rest_backend_methods}")
        routes = resources(self.main, "aws_apigatewayv2_route")
        self.assertEqual(sorted(routes), ["backend", "this"])
        for name, r in routes.items():
            self.assertEqual(val(r["authorization_type"]), "CUSTOM", name)
            self.assertEqual(val(r["authorizer_id"]), "${aws_apigatewayv2_authorizer.this[0].id}", name)
        self.assertEqual(val(routes["this"]["for_each"]), "${local.http && local.api_handler ? local.routes : {}}")
        self.assertEqual(val(routes["backend"]["count"]), "${local.http && local.http_backend ? 1 : 0}")
        # Both APIs serve exactly the routes of the api-handler's router.
        keys = re.findall(r'"(GET|POST) (/\w+)"', (MODULE / "main.tf").read_text())
        app = (ROOT / "api-handler" / "src" / "app.rs").read_text()
        table = re.search(r"const ROUTES: [^=]+= &\[(.*?)\];", app, re.S).group(1)
        handled = {(m, path) for path, ms in re.findall(r'\("(/\w+)", &\[([^\]]*)\]\)', table)
                   for m in re.findall(r'"(\w+)"', ms)}
        self.assertEqual(set(keys), handled)

    def test_authorizers_are_request_authorizers_with_ttl_zero_by_default(self):
        auth = resources(self.main, "aws_api_gateway_authorizer")["this"]
        self.assertEqual(val(auth["type"]), "REQUEST")
        self.assertEqual(val(auth["authorizer_result_ttl_in_seconds"]), "${var.authorizer_result_ttl_seconds}")
        self.assertEqual(val(self.vars["authorizer_result_ttl_seconds"]["default"]), 0)
        v2 = resources(self.main, "aws_apigatewayv2_authorizer")["this"]
        self.assertEqual(val(v2["authorizer_type"]), "REQUEST")
        self.assertEqual(val(v2["authorizer_payload_format_version"]), "2.0")
        self.assertIs(val(v2["enable_simple_responses"]), True)
        self.assertEqual(val(v2["authorizer_result_ttl_in_seconds"]), "${var.authorizer_result_ttl_seconds}")

    def test_authorizer_cache_is_keyed_by_the_certificate_by_default(self):
        text = module_text()
        # The fields are infra/api-gateway.json's, shared with the CDK construct and the local
        # gateway; test_api_gateway_json checks what they render to.
        locs = self.locals()
        self.assertEqual(val(locs["api_gateway"]), '${jsondecode(file("${path.module}/../api-gateway.json"))}')
        self.assertEqual(val(locs["cache_key_fields"]), "${local.api_gateway.cache_key_fields}")
        self.assertIn('"${local.http ? "$" : ""}context.identity.clientCert.${f}"', text)
        self.assertIsNone(val(self.vars["authorizer_identity_sources"]["default"]))
        rest = val(resources(self.main, "aws_api_gateway_authorizer")["this"]["identity_source"])
        self.assertEqual(rest, '${var.authorizer_result_ttl_seconds > 0 ? join(",",local.identity_sources) : ""}')
        http = val(resources(self.main, "aws_apigatewayv2_authorizer")["this"]["identity_sources"])
        # python-hcl2 renders the null literal as None.
        self.assertRegex(http, r"^\$\{var.authorizer_result_ttl_seconds > 0 \? local.identity_sources : (null|None)\}$")

    def test_authorizer_policy_has_no_wildcard_resource_and_only_reads(self):
        pol = data(self.main, "aws_iam_policy_document")["authorizer"]
        statements = pol["statement"]
        dynamic = [val(val(d["statement"])["content"]) for d in pol.get("dynamic", [])]
        actions = set()
        for st in statements + dynamic:
            for a in val(st["actions"]) if isinstance(val(st["actions"]), list) else [val(st["actions"])]:
                actions.add(a)
            text = json.dumps(st["resources"])
            self.assertNotRegex(text, r'"\*"', st)
            self.assertNotIn("arn:aws:s3:::*", text)
        self.assertEqual(
            actions,
            {"s3:GetObject", "s3:GetObjectVersion", "logs:CreateLogStream", "logs:PutLogEvents", "kms:Decrypt"},
        )
        reads = json.dumps(statements[0]["resources"])
        self.assertIn("${aws_s3_bucket.truststore.arn}/${var.truststore_key}", reads)
        self.assertIn("local.crl_object_arns", reads)

    def test_crl_lists_and_crl_from_cdp_reach_the_config_and_the_read_policy(self):
        text = module_text()
        # `crls` is rendered as the authorizer's `crl` list, crl_from_cdp as is.
        self.assertIn("i.crls == null ? {} : { crl = i.crls }", text)
        self.assertIn("crl_from_cdp = [", text)
        self.assertIn("max_cdp_crls_per_issuer = var.max_cdp_crls_per_issuer", text)
        # The role reads each listed S3 CRL, and the objects under each
        # crl_from_cdp S3 fetch base (a prefix, never a bucket-wide wildcard).
        locs = {}
        for block in self.main["locals"]:
            locs.update(block)
        arns = json.dumps(locs["crl_object_arns"])
        self.assertIn("local.crl_uris", arns)
        self.assertIn("local.cdp_fetch_bases", arns)
        self.assertIn('trimprefix(b, \\"s3://\\")}*', arns)
        # Every bucket pattern a fetch base may name has a key prefix ending in "/".
        self.assertIn("(.+/)?", json.dumps(self.vars["issuers"]["validation"]))

    def test_deny_list_is_one_object_the_authorizer_only_reads_and_terraform_never_rewrites(self):
        self.assertIsNone(val(self.vars["deny_list"]["default"]))
        obj = resources(self.main, "aws_s3_object")["deny_list"]
        # python-hcl2 renders `false` as False, with or without the space.
        self.assertEqual(val(obj["count"]).replace(",False", ", false"), "${local.deny_list && try(var.deny_list.create, false) ? 1 : 0}")
        self.assertEqual(val(obj["bucket"]), "${aws_s3_bucket.truststore.id}")
        self.assertEqual(val(obj["key"]), "${local.deny_list_key}")
        self.assertIn("content      = jsonencode({ version = 1, sequence = 0, entries = [] })", module_text())
        # Operators own the content after the first apply.
        ignored = json.dumps(val(obj["lifecycle"])["ignore_changes"])
        self.assertIn("content", ignored)
        # The authorizer: GetObject on exactly that object, when there is one.
        pol = data(self.main, "aws_iam_policy_document")["authorizer"]
        reads = [val(val(d["statement"])["content"]) for d in pol.get("dynamic", [])
                 if val(val(d["statement"])["content"]).get("sid") in ("ReadDenyList", ["ReadDenyList"])]
        self.assertEqual(len(reads), 1)
        self.assertEqual(val(reads[0]["actions"]), "s3:GetObject")
        for d in pol["dynamic"]:
            if val(val(val(d["statement"])["content"])["sid"]) == "ReadDenyList":
                # python-hcl2 renders the list as ['${local.deny_list_object_arn}'].
                for_each = val(val(d["statement"])["for_each"])
                self.assertRegex(for_each, r"^\$\{local.deny_list \? \[.*local.deny_list_object_arn.*\] : \[\]\}$")
        locs = self.locals()
        self.assertRegex(val(locs["deny_list_object_arn"]),
                         r'^\$\{local.deny_list \? "\$\{aws_s3_bucket.truststore.arn\}/\$\{local.deny_list_key\}" : (null|None)\}$')
        # The configuration keys of the feature, and null keys dropped.
        text = module_text()
        for line in ("deny_list                 = local.deny_list_uri",
                     "deny_list_refresh_seconds = try(var.deny_list.refresh_seconds, null)",
                     "deny_list_max_age_seconds = try(var.deny_list.max_age_seconds, null)",
                     "ca_revocation_required = var.ca_revocation_required",
                     "} : k => v if v != null }"):
            self.assertIn(line, text)
        outputs = {k for block in load("outputs.tf")["output"] for k in block}
        self.assertLessEqual({"deny_list_uri", "deny_list_object_arn"}, outputs)
        # The deny-list alarms and widgets exist only with a deny list.
        alarms = resources(self.main, "aws_cloudwatch_metric_alarm")
        for name in ("deny_list_stale", "deny_list_unavailable"):
            self.assertEqual(val(alarms[name]["count"]), "${local.deny_list ? 1 : 0}", name)
        self.assertEqual(val(alarms["deny_list_stale"]["statistic"]), "Maximum")

    def test_delta_crls_and_ocsp_reach_the_config_and_delta_crls_the_read_policy(self):
        issuer = val(self.vars["issuers"]["type"])
        for key in ("delta_crl", "delta_crls", "delta", "ocsp"):
            self.assertIn(key, json.dumps(issuer), key)
        ocsp_keys = ("responder", "responders_from_aia", "cache_seconds", "timeout_ms", "max_entries",
                     "retry_seconds", "hash")
        for key in ocsp_keys:
            self.assertIn(key, json.dumps(issuer), key)
        for key in ("delta_crl", "delta_crls", "delta"):
            self.assertIn(key, json.dumps(val(self.vars["ca_revocation"]["type"])), key)
        text = " ".join(module_text().split())
        # `delta_crls` is rendered as the authorizer's `delta_crl` list; "apply",
        # the default, and OCSP's null keys are left out.
        for fragment in ("i.delta_crls == null ? {} : { delta_crl = i.delta_crls }",
                         "c.delta_crls == null ? {} : { delta_crl = c.delta_crls }",
                         'i.delta == "ignore" ? { delta = "ignore" } : {}',
                         'c.delta == "ignore" ? { delta = "ignore" } : {}',
                         "i.ocsp == null ? {} : { ocsp = { for k, v in {",
                         "} : k => v if v != null } }"):
            self.assertIn(fragment, text)
        for key in ocsp_keys:
            self.assertRegex(text, rf"{key} += i\.ocsp\.{key}|{key} = i\.ocsp\.{key} == null", key)
        # The role reads the S3 delta CRLs as it reads the bases.
        uris = json.dumps(self.locals()["crl_uris"])
        self.assertIn("i.delta_crl", uris)
        self.assertIn("i.delta_crls", uris)
        sources = json.dumps(self.locals()["crl_sources"])
        for key in ("i.delta_crl", "i.delta_crls", "c.delta_crl", "c.delta_crls"):
            self.assertIn(key, sources, key)
        # Every number and choice the authorizer bounds is validated here too.
        validations = json.dumps(self.vars["issuers"]["validation"])
        for bound in ("86400", "30000", "1000000", "3600", "sha1", "responders_from_aia", '\\"ignore\\"'):
            self.assertIn(bound, validations, bound)

    def test_ocsp_widgets_exist_only_with_ocsp_and_its_errors_fire_the_refresh_alarm(self):
        locs = self.locals()
        # python-hcl2 renders the null literal as None.
        self.assertRegex(val(locs["ocsp"]), r"^\$\{anytrue\(\[for i in var.issuers : i.ocsp != (null|None)\]\)\}$")
        self.assertIn("if local.ocsp", json.dumps(locs["all_dashboard_widgets"]))
        failing = resources(self.main, "aws_cloudwatch_metric_alarm")["crl_refresh_failing"]
        queries = {val(q["id"]): q for q in failing["metric_query"]}
        self.assertEqual(val(queries["problems"]["expression"]),
                         "FILL(failures, 0) + FILL(rejected, 0) + FILL(ocsperrors, 0)")
        ocsp = val(queries["ocsperrors"]["metric"])
        self.assertEqual(val(ocsp["metric_name"]), "OcspRequests")
        self.assertEqual(val(ocsp["dimensions"]), {"result": "error"})
        self.assertIn("OCSP", val(failing["alarm_description"]))

    def test_ca_revocation_crls_are_read_like_the_issuers_crls(self):
        self.assertEqual(val(self.vars["ca_revocation"]["default"]), [])
        self.assertIs(val(self.vars["ca_revocation_required"]["default"]), False)
        locs = self.locals()
        sources = json.dumps(locs["crl_sources"])
        self.assertIn("var.issuers", sources)
        self.assertIn("var.ca_revocation", sources)
        self.assertIn("local.crl_sources", json.dumps(locs["crl_uris"]))
        self.assertIn("local.crl_sources", json.dumps(locs["cdp_fetch_bases"]))
        self.assertIn("c.crls == null ? {} : { crl = c.crls }", module_text())

    def locals(self):
        out = {}
        for block in self.main["locals"]:
            out.update(block)
        return out

    def test_backend_defaults_to_the_api_handler_and_takes_only_an_origin(self):
        self.assertEqual(val(self.vars["backend"]["default"]), "api-handler")
        self.assertIsNone(val(self.vars["backend_vpc_link"]["default"]))
        self.assertIsNone(val(self.vars["api_handler_zip"]["default"]))
        cond = val(val(self.vars["backend"]["validation"])["condition"])
        origin = re.compile(re.search(r'regex\("(.*?)",\s*var.backend\)', cond).group(1))
        for ok in ("https://orders.example.com", "http://10.0.0.1:8080", "https://internal-nlb-1.elb.eu-west-1.amazonaws.com"):
            self.assertTrue(origin.match(ok), ok)
        for bad in ("https://orders.example.com/", "https://x.example.com/base", "ftp://x.example.com", "orders.example.com"):
            self.assertFalse(origin.match(bad), bad)

    def test_api_handler_resources_exist_only_when_it_is_the_backend(self):
        gated = {
            "aws_dynamodb_table": ["temps"],
            "aws_lambda_function": ["api_handler"],
            "aws_iam_role": ["api_handler"],
            "aws_iam_role_policy": ["api_handler"],
            "aws_cloudwatch_log_group": ["api_handler"],
            "aws_lambda_permission": ["api_handler"],
            "aws_api_gateway_model": ["reading"],
            "aws_api_gateway_request_validator": ["body"],
            "aws_apigatewayv2_integration": ["api_handler"],
        }
        for kind, names in gated.items():
            for name in names:
                gate = json.dumps(resources(self.main, kind)[name].get("count"))
                self.assertIn("local.api_handler", gate, f"{kind}.{name}")
        self.assertIn("local.api_handler", json.dumps(data(self.main, "aws_iam_policy_document")["api_handler"]["count"]))
        for kind in ("aws_api_gateway_resource", "aws_api_gateway_method", "aws_api_gateway_integration", "aws_apigatewayv2_route"):
            self.assertIn("local.api_handler", json.dumps(resources(self.main, kind)["this"]["for_each"]), kind)
        # Upgrading keeps state: every resource that became counted has a moved block.
        moved = {(val(m["from"]), val(m["to"])) for m in self.main.get("moved", [])}
        for kind in ("aws_dynamodb_table.temps", "aws_lambda_function.api_handler", "aws_iam_role.api_handler",
                     "aws_iam_role_policy.api_handler", "aws_cloudwatch_log_group.api_handler",
                     "aws_lambda_permission.api_handler"):
            self.assertIn(("${" + kind + "}", "${" + kind + "[0]}"), moved, kind)

    def test_http_backend_gets_every_identity_header_from_the_authorizer_context(self):
        listed = identity_headers()
        self.assertEqual(
            sorted(h["header"] for h in listed),
            sorted("x-client-cert-" + s for s in ("subject", "issuer", "serial", "sha256", "policy", "name-sha256")),
        )
        # Every context key is one the authorizer writes on each decision
        # (mtls_x509::context::keys, the one context type).
        ctx = (ROOT / "policy" / "src" / "context.rs").read_text()
        written = set(re.findall(r'pub const \w+: &str = "(\w+)";', ctx))
        self.assertIn("subjectDn", written)
        for h in listed:
            self.assertIn(h["context"], written, h)

    def test_identity_header_locals_are_derived_from_the_shared_list(self):
        locs = self.locals()
        self.assertEqual(val(locs["identity_headers"]), '${jsondecode(file("${path.module}/../identity-headers.json")).headers}')
        # The underscore spellings, derived from the list (no spelling is written
        # out): spelling k writes the i-th dash '_' when bit i of k is set.
        text = " ".join((MODULE / "main.tf").read_text().split())
        self.assertIn(
            'identity_header_underscore_spellings = flatten([ for h in local.identity_headers : [ '
            'for k in range(1, pow(2, length(split("-", h.header)) - 1)) : { header = join("", [ '
            'for i, part in split("-", h.header) : i == 0 ? part : "${floor(k / pow(2, i - 1)) % 2 == 1 ? "_" : "-"}${part}" ]) '
            'context = h.context } ] ])',
            text,
        )
        code = [line for line in IDENTITY_LOCALS.search((MODULE / "main.tf").read_text()).group(1).splitlines()
                if not line.lstrip().startswith("#")]
        self.assertEqual([line for line in code if "x_" in line or "client_" in line], [])
        # REST: the header and every underscore spelling, from the same context
        # key. HTTP API: `overwrite:` the header, `remove:` every spelling.
        # python-hcl2 8.x renders `concat(a, b)` with or without the space.
        self.assertEqual(
            val(locs["rest_identity_headers"]).replace(",local.", ", local."),
            '${{for h in concat(local.identity_headers, local.identity_header_underscore_spellings) : '
            '"integration.request.header.${h.header}" => "context.authorizer.${h.context}"}}',
        )
        self.assertEqual(
            val(locs["http_identity_headers"]).replace('"},{for', '"}, {for'),
            '${merge({for h in local.identity_headers : "overwrite:header.${h.header}" => "$context.authorizer.${h.context}"}, '
            """{for h in local.identity_header_underscore_spellings : "remove:header.${h.header}" => "''"})}""",
        )

    def test_every_underscore_spelling_of_an_identity_header_is_overwritten_or_removed(self):
        listed = identity_headers()
        rest, http = expected_identity_mappings(listed)

        # The module's expression for the spellings, transliterated: bit i of k
        # picks the separator before part i + 1.
        def module_spellings(header):
            parts = header.split("-")
            return {
                parts[0] + "".join(("_" if (k // 2 ** i) % 2 == 1 else "-") + p for i, p in enumerate(parts[1:]))
                for k in range(1, 2 ** (len(parts) - 1))
            }

        for header in [h["header"] for h in listed] + ["x", "x-y", "a-b-c-d-e-f"]:
            self.assertEqual(module_spellings(header), underscore_spellings(header), header)
            self.assertEqual(len(underscore_spellings(header)), 2 ** header.count("-") - 1, header)

        # 2^n - 1 spellings per header of n dashes: five of three, one of four.
        self.assertEqual(len(rest), sum(2 ** h["header"].count("-") for h in listed))
        self.assertEqual(len(rest), 56)
        self.assertEqual(len(http), 56)
        for spelling in ("x_client_cert_subject", "x_client_cert_name_sha256", "x-client_cert-subject"):
            ctx = "nameSha256" if "name" in spelling else "subjectDn"
            self.assertEqual(rest[f"integration.request.header.{spelling}"], f"context.authorizer.{ctx}")
            self.assertEqual(http[f"remove:header.{spelling}"], "''")
        self.assertEqual(http["overwrite:header.x-client-cert-subject"], "$context.authorizer.subjectDn")

        # What Terraform makes of the module's own locals, over the shared list
        # and over names with no, one and two dashes.
        evaluated = terraform_identity_locals({"headers": listed})
        if evaluated is None:
            self.skipTest("terraform is not installed: the expressions' text is checked above")
        self.assertEqual(evaluated["rest"], rest)
        self.assertEqual(evaluated["http"], http)
        odd = [{"header": "x", "context": "a"}, {"header": "x-y", "context": "b"}, {"header": "p-q-r", "context": "c"}]
        evaluated = terraform_identity_locals({"headers": odd})
        self.assertEqual((evaluated["rest"], evaluated["http"]), expected_identity_mappings(odd))
        self.assertEqual(sorted(evaluated["http"]), [
            "overwrite:header.p-q-r", "overwrite:header.x", "overwrite:header.x-y",
            "remove:header.p-q_r", "remove:header.p_q-r", "remove:header.p_q_r", "remove:header.x_y",
        ])

    def test_rest_http_backend_proxies_every_path_with_the_identity_headers(self):
        self.assertEqual(val(resources(self.main, "aws_api_gateway_resource")["proxy"]["path_part"]), "{proxy+}")
        method = resources(self.main, "aws_api_gateway_method")["backend"]
        self.assertEqual(val(method["http_method"]), "ANY")
        integ = resources(self.main, "aws_api_gateway_integration")["backend"]
        self.assertEqual(val(integ["for_each"]), "${local.rest_backend_methods}")
        self.assertEqual(val(integ["type"]), "HTTP_PROXY")
        self.assertEqual(val(integ["integration_http_method"]), "ANY")
        params = val(integ["request_parameters"])
        self.assertTrue(params.startswith("${merge(local.rest_identity_headers,"), params)
        self.assertRegex(params, r"""each.key == "proxy" \? \{['"]integration.request.path.proxy['"]: ['"]method.request.path.proxy['"]\}""")
        methods = json.dumps(self.locals()["rest_backend_methods"])
        self.assertIn('/{proxy+}', methods)
        self.assertIn('${var.backend}/{proxy}', methods)
        self.assertEqual(val(integ["connection_type"]), '${local.vpc_link ? "VPC_LINK" : "INTERNET"}')
        link = resources(self.main, "aws_api_gateway_vpc_link")["this"]
        self.assertEqual(val(link["target_arns"]), "${var.backend_vpc_link.nlb_arn}")
        self.assertIn("precondition", json.dumps(integ["lifecycle"]))
        # A new deployment whenever the backend wiring changes.
        triggers = json.dumps(resources(self.main, "aws_api_gateway_deployment")["this"]["triggers"])
        self.assertIn("aws_api_gateway_integration.backend", triggers)

    def test_http_api_backend_overwrites_identity_headers_and_keeps_the_path(self):
        integ = resources(self.main, "aws_apigatewayv2_integration")["backend"]
        self.assertEqual(val(integ["integration_type"]), "HTTP_PROXY")
        self.assertEqual(val(integ["integration_method"]), "ANY")
        self.assertEqual(val(integ["payload_format_version"]), "1.0")
        params = val(integ["request_parameters"])
        self.assertRegex(params, r"""^\$\{merge\(local.http_identity_headers,\s*\{['"]overwrite:path['"]: ['"]\$request.path['"]\}\)\}$""")
        self.assertEqual(val(integ["integration_uri"]), "${local.vpc_link ? var.backend_vpc_link.listener_arn : var.backend}")
        route = resources(self.main, "aws_apigatewayv2_route")["backend"]
        self.assertEqual(val(route["route_key"]), "$default")
        self.assertIn("aws_apigatewayv2_integration.backend[0].id", val(route["target"]))
        link = resources(self.main, "aws_apigatewayv2_vpc_link")["this"]
        self.assertEqual(val(link["subnet_ids"]), "${var.backend_vpc_link.subnet_ids}")
        self.assertIn("tls_config", json.dumps(integ["dynamic"]))

    def test_lambda_permissions_are_scoped_to_this_api(self):
        perms = resources(self.main, "aws_lambda_permission")
        self.assertEqual(sorted(perms), ["api_handler", "authorizer"])
        self.assertEqual(val(perms["authorizer"]["source_arn"]), "${local.execution_arn}/authorizers/${local.authorizer_id}")
        self.assertEqual(val(perms["api_handler"]["source_arn"]), "${local.execution_arn}/${var.stage_name}/*/*")

    def test_api_handler_gets_only_the_dynamodb_actions_it_uses_on_its_table(self):
        pol = data(self.main, "aws_iam_policy_document")["api_handler"]
        st = pol["statement"][0]
        self.assertEqual(sorted(val(st["actions"])), ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"])
        self.assertEqual(val(st["resources"]), "${aws_dynamodb_table.temps[0].arn}")

    def test_table_matches_the_api_handler_layout(self):
        table = resources(self.main, "aws_dynamodb_table")["temps"]
        src = (ROOT / "api-handler" / "src" / "store" / "dynamo.rs").read_text()
        consts = dict(re.findall(r'pub const (\w+): &str = "(\w+)";', src))
        self.assertEqual(val(table["hash_key"]), consts["PARTITION_KEY"])
        self.assertEqual(val(table["range_key"]), consts["SORT_KEY"])
        self.assertEqual(val(val(table["ttl"])["attribute_name"]), consts["TTL_ATTRIBUTE"])
        self.assertEqual(val(table["billing_mode"]), "PAY_PER_REQUEST")
        self.assertIs(val(val(table["point_in_time_recovery"])["enabled"]), True)
        self.assertIs(val(val(table["server_side_encryption"])["enabled"]), True)

    def test_post_body_is_validated_with_the_api_handler_schema(self):
        model = resources(self.main, "aws_api_gateway_model")["reading"]
        self.assertEqual(val(model["schema"]), "${file(local.schema_file)}")
        self.assertIn("api-handler/schema/temperature.json", (MODULE / "main.tf").read_text())
        schema = json.loads((ROOT / "api-handler" / "schema" / "temperature.json").read_text())
        self.assertEqual(schema["$schema"], "http://json-schema.org/draft-04/schema#")
        validator = resources(self.main, "aws_api_gateway_request_validator")["body"]
        self.assertIs(val(validator["validate_request_body"]), True)

    def test_denials_and_access_logs_carry_the_reason_and_serial(self):
        resp = resources(self.main, "aws_api_gateway_gateway_response")["access_denied"]
        self.assertEqual(val(resp["response_type"]), "ACCESS_DENIED")
        self.assertIn("$context.authorizer.reason", json.dumps(resp["response_templates"]))
        self.assertEqual(val(self.locals()["access_log_fields"]), "${local.api_gateway.access_log_fields}")
        shared = json.loads((ROOT / "infra" / "api-gateway.json").read_text())["access_log_fields"]
        self.assertEqual(shared["clientCertSerial"], "$context.identity.clientCert.serialNumber")
        self.assertEqual(shared["authorizerReason"], "$context.authorizer.reason")
        for kind in ("aws_api_gateway_stage", "aws_apigatewayv2_stage"):
            fmt = json.dumps(resources(self.main, kind)["this"]["access_log_settings"])
            self.assertIn("merge(local.access_log_fields", fmt, kind)
            self.assertIn("aws_cloudwatch_log_group.access.arn", fmt, kind)

    def test_functions_are_arm64_on_provided_al2023_with_log_retention(self):
        for name, fn in resources(self.main, "aws_lambda_function").items():
            self.assertEqual(val(fn["runtime"]), "provided.al2023", name)
            self.assertEqual(val(fn["architectures"]), "arm64", name)
            self.assertEqual(val(fn["handler"]), "bootstrap", name)
        for name, lg in resources(self.main, "aws_cloudwatch_log_group").items():
            self.assertEqual(val(lg["retention_in_days"]), "${var.log_retention_days}", name)

    def test_every_monitoring_alarm_exists_with_a_runbook_and_sends_its_actions(self):
        alarms = resources(self.main, "aws_cloudwatch_metric_alarm")
        self.assertEqual(sorted(alarms), sorted([
            "crl_stale", "crl_refresh_failing", "truststore_expiring", "revocation_spike",
            "authorizer_slow", "crl_unavailable", "authorizer_errors", "api_5xx",
            "deny_list_stale", "deny_list_unavailable",
        ]))
        for name, alarm in alarms.items():
            self.assertIn("${local.runbook}", val(alarm["alarm_description"]), name)
            self.assertEqual(val(alarm["alarm_actions"]), "${var.alarm_actions}", name)
            self.assertEqual(val(alarm["ok_actions"]), "${var.alarm_actions}", name)
        self.assertIn("docs/monitoring.md", module_text())
        # No log filter any more: crl_unavailable is the Decisions metric.
        self.assertEqual(resources(self.main, "aws_cloudwatch_log_metric_filter"), {})

    def test_alarm_thresholds_are_variables_with_the_documented_defaults(self):
        alarms = resources(self.main, "aws_cloudwatch_metric_alarm")
        v = variables(self.main)
        for alarm, threshold, var, default in [
            ("crl_stale", "${var.alarm_crl_stale_seconds}", "alarm_crl_stale_seconds", 21600),
            ("truststore_expiring", "${var.alarm_truststore_expiry_days * 86400}", "alarm_truststore_expiry_days", 30),
            ("revocation_spike", "${var.alarm_revoked_per_5_minutes}", "alarm_revoked_per_5_minutes", 20),
            ("authorizer_slow", "${var.alarm_authorizer_p99_ms}", "alarm_authorizer_p99_ms", 1000),
            ("deny_list_stale", "${var.alarm_deny_list_stale_seconds}", "alarm_deny_list_stale_seconds", 120),
        ]:
            self.assertEqual(val(alarms[alarm]["threshold"]), threshold, alarm)
            self.assertEqual(val(v[var]["default"]), default, var)
        failing = alarms["crl_refresh_failing"]
        self.assertEqual(val(failing["evaluation_periods"]), "${var.alarm_crl_refresh_failure_periods}")
        self.assertEqual(val(failing["datapoints_to_alarm"]), "${var.alarm_crl_refresh_failure_periods}")
        self.assertEqual(val(v["alarm_crl_refresh_failure_periods"]["default"]), 3)
        self.assertEqual(val(alarms["authorizer_slow"]["extended_statistic"]), "p99")
        self.assertEqual(val(alarms["authorizer_slow"]["metric_name"]), "Duration")
        self.assertEqual(val(alarms["api_5xx"]["metric_name"]), "${local.api_metric_names.e5}")

    def test_alarms_and_dashboard_watch_only_metrics_the_authorizer_emits(self):
        catalogue = json.loads((ROOT / "infra" / "metrics.json").read_text())
        metrics = {m["name"]: m for m in catalogue["metrics"]}
        seen = set()
        for name, alarm in resources(self.main, "aws_cloudwatch_metric_alarm").items():
            queries = [val(q["metric"]) for q in alarm.get("metric_query", []) if "metric" in q]
            for m in [alarm] + queries:
                if val(m.get("namespace")) != "${local.metrics_namespace}":
                    continue
                metric = val(m["metric_name"])
                self.assertIn(metric, metrics, name)
                seen.add(metric)
                keys = sorted(val(m.get("dimensions", {})) or {})
                self.assertIn(keys, [sorted(d) for d in metrics[metric]["dimensions"]], name)
                for k, value in (val(m.get("dimensions", {})) or {}).items():
                    self.assertIn(value, catalogue["dimension_values"][k], name)
        self.assertEqual(seen, {"CrlSecondsToNextUpdate", "CrlRefreshFailures", "CrlRejected",
                                "TruststoreSecondsToFirstExpiry", "Decisions", "DenyListAgeSeconds",
                                "OcspRequests"})
        text = (MODULE / "monitoring.tf").read_text()
        searched = set(re.findall(r'MetricName=\\"(\w+)\\"', text))
        direct = set(re.findall(r'\[local\.ns, "(\w+)"', text))
        self.assertTrue(searched and direct)
        self.assertLessEqual(searched | direct, set(metrics))
        self.assertIn(catalogue["default_namespace"], val(load("monitoring.tf")["locals"][0]["metrics_namespace"]))

    def test_the_function_publishes_to_the_namespace_the_alarms_watch(self):
        fn = resources(self.main, "aws_lambda_function")["authorizer"]
        env = val(val(fn["environment"])["variables"])
        self.assertEqual(env["METRICS_NAMESPACE"], "${local.metrics_namespace}")

    def test_dashboard_has_every_widget_and_one_variable_turns_it_off(self):
        dash = resources(self.main, "aws_cloudwatch_dashboard")["this"]
        self.assertEqual(val(dash["count"]), "${var.create_dashboard ? 1 : 0}")
        self.assertIs(val(variables(self.main)["create_dashboard"]["default"]), True)
        text = (MODULE / "monitoring.tf").read_text()
        for title in ["Decisions by reason", "Allow rate", "CRL seconds to nextUpdate", "CRL entries",
                      "CRL refresh failures", "Authorizer duration p50 / p99", "API 4xx / 5xx",
                      "API latency", "Authorizer cold starts", "Deny list age", "Deny list refresh failures",
                      "OCSP exchanges by result", "OCSP exchange latency"]:
            self.assertRegex(text, r'title\s+=\s+"' + re.escape(title), title)

    def test_access_logs_carry_the_request_ids_the_decision_lines_carry(self):
        shared = json.loads((ROOT / "infra" / "api-gateway.json").read_text())["access_log_fields"]
        self.assertEqual(shared["requestId"], "$context.requestId")
        rest = (MODULE / "rest.tf").read_text()
        self.assertIn('"$context.extendedRequestId"', rest)

    def test_inputs_that_can_be_wrong_are_validated(self):
        for name in ("issuers", "authorizer_result_ttl_seconds", "certificate_arn", "domain_name",
                     "ownership_verification_certificate_arn", "crl_grace_seconds", "log_retention_days",
                     "max_cdp_crls_per_issuer", "deny_list", "ca_revocation", "alarm_deny_list_stale_seconds"):
            self.assertIn("validation", self.vars[name], name)
        for name, v in self.vars.items():
            self.assertIn("description", v, name)
            self.assertIn("type", v, name)


# The authorizer's configuration as main.tf renders it: from `authorizer_config =` to the end of
# its `{ for k, v in { … } : k => v if v != null }`. It reads variables and two locals (the
# truststore's and the deny list's S3 URIs, which name the bucket Terraform creates), so Terraform
# can evaluate it beside variables.tf, with those two stood in, without a provider.
AUTHORIZER_CONFIG_LOCAL = re.compile(r"\n(  authorizer_config = \{ for k, v in \{\n.*?\n  \} : k => v if v != null \}\n)", re.S)
# The `issuers` variable, with its validations, as variables.tf declares it.
ISSUERS_VARIABLE = re.compile(r'^variable "issuers" \{\n.*?^\}\n', re.S | re.M)
STAND_IN_BUCKET = "example-truststore-bucket"


def terraform_env():
    env = dict(os.environ)
    if env.get("TF_CLI_CONFIG_FILE") and not os.path.exists(env["TF_CLI_CONFIG_FILE"]):
        del env["TF_CLI_CONFIG_FILE"]
    return env


def terraform_rendered_config(tfvars):
    """AUTHORIZER_CONFIG as the module renders it for `tfvars` (a dict of variable values), with
    the bucket name stood in, or None when no terraform is installed."""
    tf = shutil.which("terraform")
    if tf is None:
        return None
    found = AUTHORIZER_CONFIG_LOCAL.search((MODULE / "main.tf").read_text())
    if found is None:
        raise AssertionError("main.tf: no `authorizer_config = { for k, v in {` … `} : k => v if v != null }` local")
    with tempfile.TemporaryDirectory() as tmp:
        module = pathlib.Path(tmp)
        shutil.copy(MODULE / "variables.tf", module / "variables.tf")
        (module / "main.tf").write_text(
            "locals {\n"
            f'  truststore_uri = "s3://{STAND_IN_BUCKET}/${{var.truststore_key}}"\n'
            f'  deny_list_uri  = var.deny_list == null ? null : "s3://{STAND_IN_BUCKET}/${{var.deny_list.key}}"\n'
            + found.group(1) + "}\n")
        (module / "test.tfvars.json").write_text(json.dumps(tfvars))
        run = subprocess.run(
            [tf, "console", "-no-color", "-var-file=test.tfvars.json"], cwd=module, env=terraform_env(),
            capture_output=True, text=True, timeout=120, input="jsonencode(local.authorizer_config)\n",
        )
    if run.returncode != 0:
        raise AssertionError(f"terraform console failed: {run.stderr}")
    return json.loads(json.loads(run.stdout))


def terraform_accepts_issuers(issuers):
    """(True, "") when variables.tf's `issuers` validations accept `issuers`, else (False, the
    message); None when no terraform is installed. A `terraform plan` of that variable alone."""
    tf = shutil.which("terraform")
    if tf is None:
        return None
    block = ISSUERS_VARIABLE.search((MODULE / "variables.tf").read_text()).group(0)
    with tempfile.TemporaryDirectory() as tmp:
        module = pathlib.Path(tmp)
        (module / "main.tf").write_text(block)
        (module / "test.tfvars.json").write_text(json.dumps({"issuers": issuers}))
        run = subprocess.run(
            [tf, "plan", "-input=false", "-no-color", "-var-file=test.tfvars.json"], cwd=module, env=terraform_env(),
            capture_output=True, text=True, timeout=120,
        )
    if run.returncode == 0:
        return True, ""
    if "Invalid value for variable" not in run.stderr:
        raise AssertionError(f"terraform plan failed for another reason: {run.stderr}")
    return False, run.stderr


def authorizer_bin(test):
    """The authorizer binary for --check-config: AUTHORIZER_BIN (infra/check builds it and sets
    it), or the debug build when there is one; the test is skipped, and says so, without either."""
    path = os.environ.get("AUTHORIZER_BIN")
    if path is None:
        path = str(ROOT / "target" / "debug" / "authorizer")
        if not os.path.exists(path):
            test.skipTest("no authorizer binary: set AUTHORIZER_BIN, or cargo build -p authorizer")
    test.assertTrue(os.path.exists(path), f"AUTHORIZER_BIN {path} does not exist")
    return path


def check_config(binary, config):
    """(valid, output) of `authorizer --check-config` on `config`."""
    with tempfile.TemporaryDirectory() as tmp:
        file = pathlib.Path(tmp) / "authorizer.json"
        file.write_text(json.dumps(config))
        run = subprocess.run([binary, "--check-config", str(file)], capture_output=True, text=True, timeout=60,
                             env={"PATH": os.environ.get("PATH", "")})
    if run.returncode not in (0, 1):
        raise AssertionError(f"--check-config exited {run.returncode}: {run.stderr}")
    return run.returncode == 0, run.stdout + run.stderr


# Required inputs, and two issuers with per-route rules: devices may write readings and ask who
# they are; ops may call anything.
BASE_TFVARS = {
    "domain_name": "api.example.com",
    "certificate_arn": "arn:aws:acm:eu-west-1:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
    "truststore_file": "truststore.pem",
    "authorizer_zip": "bootstrap.zip",
}
ROUTED_ISSUERS = [
    {"name": "devices", "match": {"CN": "Devices CA"}, "crl": "s3://pki-bucket/devices.crl",
     "routes": [{"method": "POST", "path": "/temps"}, {"method": "GET", "path": "/whoami"}]},
    {"name": "ops", "match": {"CN": "Ops CA"}, "crl": "s3://pki-bucket/ops.crl",
     "routes": [{"method": "*", "path": "/*"}]},
]

# Route lists on both sides of every rule of policy/src/config/routes.rs: the methods, the path's
# shape and length, the count, and each kind of overlap.
ROUTE_LISTS = [
    [{"method": "POST", "path": "/temps"}, {"method": "GET", "path": "/temps"}, {"method": "GET", "path": "/whoami"}],
    [{"method": "*", "path": "/*"}],
    [{"method": "GET", "path": "/"}, {"method": "GET", "path": "/admin"}, {"method": "GET", "path": "/admin/*"}],
    [{"method": "*", "path": "/a/*"}, {"method": "*", "path": "/ab/*"}, {"method": "HEAD", "path": "/x.y/~z_-"},
     {"method": "OPTIONS", "path": "/..."}, {"method": "PATCH", "path": "/p"}, {"method": "PUT", "path": "/p"},
     {"method": "DELETE", "path": "/p"}],
    [{"method": "GET", "path": "/*"}, {"method": "POST", "path": "/*"}],
    [{"method": "GET", "path": "/" + "a" * 255}],
    [{"method": "GET", "path": f"/r{n}"} for n in range(64)],
    [{"method": "GET", "path": f"/r{n}"} for n in range(65)],
    [],
    [{"method": "get", "path": "/temps"}],
    [{"method": "FETCH", "path": "/temps"}],
    [{"method": "GET", "path": "temps"}],
    [{"method": "GET", "path": "/temps/"}],
    [{"method": "GET", "path": "/temps/*/x"}],
    [{"method": "GET", "path": "/a/../b"}],
    [{"method": "GET", "path": "/a/./b"}],
    [{"method": "GET", "path": "/a//b"}],
    [{"method": "GET", "path": "/a*"}],
    [{"method": "GET", "path": "/a%2e"}],
    [{"method": "GET", "path": "/" + "a" * 256}],
    [{"method": "GET", "path": "/temps"}, {"method": "GET", "path": "/temps"}],
    [{"method": "GET", "path": "/temps"}, {"method": "*", "path": "/temps"}],
    [{"method": "*", "path": "/admin/*"}, {"method": "GET", "path": "/admin/users"}],
    [{"method": "GET", "path": "/admin/users/*"}, {"method": "GET", "path": "/admin/*"}],
    [{"method": "GET", "path": "/"}, {"method": "GET", "path": "/*"}],
    [{"method": "PUT", "path": "/*"}, {"method": "*", "path": "/a/*"}],
]


class PerRouteRules(unittest.TestCase):
    """An issuer's `routes` (docs/configuration.md#per-route-rules): validated as the authorizer
    validates them, rendered as it reads them, and cached only under a key that names the route."""

    @classmethod
    def setUpClass(cls):
        cls.main = load_module()
        cls.vars = variables(load("variables.tf"))

    def test_routes_are_typed_validated_and_rendered_as_given(self):
        issuer = json.dumps(val(self.vars["issuers"]["type"]))
        self.assertIn("routes", issuer)
        text = " ".join(module_text().split())
        self.assertIn("i.routes == null ? {} : { routes = [for r in i.routes : { method = r.method, path = r.path }] }", text)
        validations = json.dumps(self.vars["issuers"]["validation"])
        for bound in ("<= 64", "<= 256", "OPTIONS", "startswith", "endswith", "trimsuffix"):
            self.assertIn(bound, validations, bound)

    def test_an_http_api_cache_names_the_route_and_refuses_a_key_without_it(self):
        locs = {}
        for block in self.main["locals"]:
            locs.update(block)
        self.assertRegex(val(locs["per_route_rules"]), r"^\$\{anytrue\(\[for i in var.issuers : i.routes != (null|None)\]\)\}$")
        # python-hcl2 renders the list ["$context.routeKey"] with single quotes.
        sources = " ".join(val(locs["identity_sources"]).split())
        self.assertRegex(sources, r"local.http && local.per_route_rules \? \[['\"]\$context.routeKey['\"]\] : \[\]\)\)\}$")
        auth = resources(self.main, "aws_apigatewayv2_authorizer")["this"]
        self.assertIn("precondition", json.dumps(auth["lifecycle"]))
        # python-hcl2 drops the parentheses, so the source is read as written.
        self.assertIn(
            'condition     = !(local.per_route_rules && var.authorizer_result_ttl_seconds > 0) '
            '|| (local.api_handler && contains(local.identity_sources, "$context.routeKey"))',
            (MODULE / "http.tf").read_text(),
        )

    def test_terraform_refuses_exactly_the_route_lists_the_authorizer_refuses(self):
        binary = authorizer_bin(self)
        if shutil.which("terraform") is None:
            self.skipTest("terraform is not installed")
        for routes in ROUTE_LISTS:
            issuers = [{"name": "devices", "match": {"CN": "Devices CA"}, "revocation": "none", "routes": routes}]
            accepted, message = terraform_accepts_issuers(issuers)
            valid, out = check_config(binary, {"truststore": f"s3://{STAND_IN_BUCKET}/truststore.pem", "issuers": issuers})
            self.assertEqual(accepted, valid, f"{json.dumps(routes)[:200]}: terraform {message or 'accepts'}; authorizer {out}")

    def test_the_rendered_configuration_passes_the_authorizers_check(self):
        binary = authorizer_bin(self)
        everything = {
            **BASE_TFVARS,
            "authorizer_result_ttl_seconds": 60,
            "issuers": ROUTED_ISSUERS + [
                {"name": "corp", "match": {"CN": "Corp Issuing CA"}, "crl": "s3://pki-bucket/corp.crl",
                 "delta_crl": "s3://pki-bucket/corp+.crl", "ocsp": {"responder": "http://ocsp.corp.example.com/ocsp"},
                 "routes": [{"method": "GET", "path": "/temps"}, {"method": "*", "path": "/admin/*"}]},
                {"name": "private-ca", "match": {"CN": "PCA"},
                 "crl_from_cdp": [{"prefix": "http://crl.example.com/crl/", "fetch": "s3://pca-crls/crl/"}], "delta": "ignore"},
            ],
            "deny_list": {},
            "ca_revocation": [{"name": "root", "match": {"CN": "Root"}, "crls": ["s3://pki-bucket/root.crl"]}],
        }
        for tfvars in ({**BASE_TFVARS, "issuers": ROUTED_ISSUERS}, everything):
            config = terraform_rendered_config(tfvars)
            if config is None:
                self.skipTest("terraform is not installed")
            self.assertEqual([i.get("routes") for i in config["issuers"]], [i.get("routes") for i in tfvars["issuers"]])
            self.assertEqual(config["policy_resource"], "stage" if tfvars.get("authorizer_result_ttl_seconds") else "method")
            valid, out = check_config(binary, config)
            self.assertTrue(valid, out)
            self.assertRegex(out, r"^valid: truststore s3://example-truststore-bucket/truststore.pem, \d+ issuer\(s\)")


class ModuleReadme(unittest.TestCase):
    def test_inputs_and_outputs_tables_are_current(self):
        import importlib.util

        spec = importlib.util.spec_from_file_location("tfdocs", ROOT / "infra" / "tools" / "tfdocs.py")
        tfdocs = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(tfdocs)
        text = (MODULE / "README.md").read_text()
        self.assertEqual(tfdocs.readme_with_tables(text), text,
                         "stale tables: python infra/tools/tfdocs.py --write")


class CargoLambdaMetadata(unittest.TestCase):
    """`cargo lambda deploy` settings in the function crates match the module's defaults."""

    @classmethod
    def setUpClass(cls):
        import tomllib

        cls.vars = variables(load("variables.tf"))
        cls.meta = {}
        for crate in ("authorizer", "api-handler"):
            with open(ROOT / crate / "Cargo.toml", "rb") as f:
                cls.meta[crate] = tomllib.load(f)["package"]["metadata"]["lambda"]

    def default(self, name):
        return val(self.vars[name]["default"])

    def test_functions_build_for_arm64_and_deploy_on_provided_al2023(self):
        for crate, meta in self.meta.items():
            self.assertIs(meta["build"]["arm64"], True, crate)
            self.assertEqual(meta["deploy"]["runtime"], "provided.al2023", crate)
            self.assertEqual(meta["deploy"]["log_retention"], self.default("log_retention_days"), crate)

    def test_memory_and_timeout_match_the_module(self):
        auth = self.meta["authorizer"]["deploy"]
        self.assertEqual(auth["memory"], self.default("authorizer_memory_mb"))
        self.assertEqual(auth["timeout"], self.default("authorizer_timeout_seconds"))
        api = self.meta["api-handler"]["deploy"]
        self.assertEqual(api["memory"], self.default("api_handler_memory_mb"))
        self.assertIn("timeout          = 10", (MODULE / "main.tf").read_text())
        self.assertEqual(api["timeout"], 10)
        self.assertEqual(api["env"]["TEMPS_RETENTION_DAYS"], str(self.default("temps_retention_days")))

    def test_no_deployment_specific_value_is_committed(self):
        for crate, meta in self.meta.items():
            deploy = meta["deploy"]
            self.assertNotIn("role", deploy, crate)
            self.assertNotIn("AUTHORIZER_CONFIG", deploy.get("env", {}), crate)
            self.assertNotIn("TEMPS_TABLE", deploy.get("env", {}), crate)


if __name__ == "__main__":
    unittest.main()


class MonitoringDocs(unittest.TestCase):
    """docs/monitoring.md documents every metric the authorizer emits and every
    alarm the module creates, so neither drifts silently."""

    def test_monitoring_page_lists_every_metric_and_every_alarm(self):
        section = (ROOT / "docs" / "monitoring.md").read_text()
        catalogue = json.loads((ROOT / "infra" / "metrics.json").read_text())
        for metric in catalogue["metrics"]:
            self.assertIn(f"| `{metric['name']}` | {metric['unit']} |", section, metric["name"])
        for cause in catalogue["dimension_values"]["cause"]:
            self.assertIn(f"`{cause}`", section, cause)
        for result in catalogue["dimension_values"].get("result", []):
            self.assertIn(f"`{result}`", section, result)
        alarms = resources(load_module(), "aws_cloudwatch_metric_alarm")
        for name, alarm in alarms.items():
            suffix = val(alarm["alarm_name"]).replace("${var.name}", "<name>")
            self.assertIn(f"| `{suffix}` |", section, name)
