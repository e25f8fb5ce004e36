"""api-handler/openapi.yaml is the one source of the reference API's contract. These tests fail
when anything that must follow it differs: the generated request schema (which the handler
compiles and the REST API installs as its model), the handler's route table, the Terraform
module's routes, the CDK app's routes, and the identity headers HTTP backends receive. They
also validate the document as OpenAPI 3.0 (openapi-spec-validator)."""

import json
import pathlib
import re
import sys
import unittest

import hcl2
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import openapi_contract as openapi  # noqa: E402


def handler_routes():
    """(METHOD, /path) of api-handler/src/app.rs's ROUTES table."""
    app = (ROOT / "api-handler" / "src" / "app.rs").read_text()
    table = re.search(r"const ROUTES: [^=]+= &\[(.*?)\];", app, re.S)
    assert table, "the ROUTES table of api-handler/src/app.rs was not found"
    return {(m, path)
            for path, ms in re.findall(r'\("(/[^"]*)", &\[([^\]]*)\]\)', table.group(1))
            for m in re.findall(r'"(\w+)"', ms)}


def terraform_routes():
    """(METHOD, /path) of the Terraform module's local.routes, and its keys."""
    with open(ROOT / "infra" / "terraform" / "main.tf", encoding="utf-8") as f:
        doc = hcl2.load(f)
    [routes] = [block["routes"] for block in doc["locals"] if "routes" in block]
    while isinstance(routes, list) and len(routes) == 1:
        routes = routes[0]
    return {(r["method"], "/" + r["path"]) for r in routes.values()}, set(routes)


def cdk_routes():
    """(METHOD, /path) of the CDK app's ROUTES (infra/cdk/lib/front.ts)."""
    src = (ROOT / "infra" / "cdk" / "lib" / "front.ts").read_text()
    table = re.search(r"export const ROUTES\b[^=]*=\s*\[(.*?)\];", src, re.S)
    assert table, "the ROUTES table of infra/cdk/lib/front.ts was not found"
    entries = re.findall(r"\{\s*method:\s*'(\w+)',\s*path:\s*'([^']*)'\s*\}", table.group(1))
    # Every entry must have been read: no other shape hides in the table.
    assert len(entries) == table.group(1).count("{"), f"unread ROUTES entries in {table.group(1)!r}"
    return {(m, "/" + p) for m, p in entries}


class OpenApiDocument(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.doc = openapi.load()

    def test_it_is_a_valid_openapi_3_0_document(self):
        spec, _ = read_from_filename(str(openapi.OPENAPI))
        validate(spec)
        self.assertRegex(self.doc["openapi"], r"^3\.0\.\d+$", "API Gateway imports OpenAPI 3.0")

    def test_the_generated_request_schema_is_the_documents(self):
        want = openapi.render(openapi.reading_schema(self.doc))
        have = openapi.READING_SCHEMA_JSON.read_text(encoding="utf-8")
        self.assertEqual(
            have, want,
            "api-handler/schema/temperature.json differs from api-handler/openapi.yaml: edit the "
            "YAML, then run `.venv/bin/python scripts/openapi_contract.py generate`")
        schema = json.loads(have)
        self.assertEqual(schema["$schema"], openapi.DRAFT_4)
        self.assertIs(schema["additionalProperties"], False)

    def test_openapi_only_keywords_are_refused_rather_than_dropped(self):
        doc = openapi.load()
        doc["components"]["schemas"]["TemperatureReading"]["properties"]["time"]["nullable"] = True
        with self.assertRaisesRegex(ValueError, r"properties\.time\.nullable"):
            openapi.reading_schema(doc)
        # A property may be called like a keyword; only keywords are refused.
        doc = openapi.load()
        props = doc["components"]["schemas"]["TemperatureReading"]["properties"]
        props["example"] = {"type": "string"}
        self.assertIn("example", openapi.reading_schema(doc)["properties"])

    def test_the_handler_the_terraform_module_and_the_cdk_app_serve_exactly_its_operations(self):
        ops = openapi.operations(self.doc)
        self.assertEqual(ops, {("GET", "/temps"), ("POST", "/temps"), ("GET", "/whoami")})
        self.assertEqual(handler_routes(), ops, "api-handler/src/app.rs ROUTES")
        tf, keys = terraform_routes()
        self.assertEqual(tf, ops, "infra/terraform/main.tf local.routes")
        # The keys are the HTTP API's route keys.
        self.assertEqual(keys, {f"{m} {p}" for m, p in ops})
        self.assertEqual(cdk_routes(), ops, "infra/cdk/lib/front.ts ROUTES")

    def test_the_rest_model_is_the_generated_schema_on_the_operations_with_a_body(self):
        with_body = {(m, p) for m, p in openapi.operations(self.doc)
                     if "requestBody" in self.doc["paths"][p][m.lower()]}
        # Terraform and the CDK attach the model and the validator to every POST: that must be
        # exactly the operations that take a body.
        posts = {(m, p) for m, p in openapi.operations(self.doc) if m == "POST"}
        self.assertEqual(with_body, posts)
        main = (ROOT / "infra" / "terraform" / "main.tf").read_text()
        self.assertIn('"${path.module}/../../api-handler/schema/temperature.json"', main)
        rest = (ROOT / "infra" / "terraform" / "rest.tf").read_text()
        self.assertIn('request_models       = each.value.method == "POST"', rest)
        front = (ROOT / "infra" / "cdk" / "lib" / "rest-front.ts").read_text()
        self.assertIn("'api-handler', 'schema', 'temperature.json'", front)
        self.assertIn("r.method === 'POST' ? { requestValidator: validator, requestModels:", front)
        handler = (ROOT / "api-handler" / "src" / "reading.rs").read_text()
        self.assertIn('include_str!("../schema/temperature.json")', handler)

    def test_identity_headers_are_the_ones_http_backends_receive(self):
        mapping = json.loads((ROOT / "infra" / "identity-headers.json").read_text())["headers"]
        self.assertEqual(openapi.identity_headers(self.doc),
                         [(h["header"], h["context"]) for h in mapping])

    def test_every_operation_documents_every_answer_with_a_json_body(self):
        common = {"401", "403", "408", "413", "429", "500", "502", "504"}
        components = self.doc["components"]["responses"]
        for method, path in openapi.operations(self.doc):
            responses = self.doc["paths"][path][method.lower()]["responses"]
            self.assertLessEqual(common, set(responses), f"{method} {path}")
            for status, response in responses.items():
                if "$ref" in response:
                    response = components[response["$ref"].rsplit("/", 1)[1]]
                self.assertEqual(list(response["content"]), ["application/json"], f"{method} {path} {status}")
        post = self.doc["paths"]["/temps"]["post"]["responses"]
        self.assertLessEqual({"201", "400", "409", "415"}, set(post))

    def test_every_error_the_handler_answers_is_documented_with_its_status(self):
        answered = set()
        for src in sorted((ROOT / "api-handler" / "src").rglob("*.rs")):
            text = src.read_text()
            answered |= set(re.findall(r'(?:Answer::error|Rejection::new)\(\s*(\d{3}),\s*"(\w+)"', text))
            answered |= {("400", c) for c in re.findall(r'status: 400,\s*code: "(\w+)"', text)}
        self.assertGreater(len(answered), 5, "the handler's error answers were found")
        enum = self.doc["components"]["schemas"]["Error"]["properties"]["error"]["enum"]
        self.assertEqual({code for _, code in answered}, set(enum))
        documented = {status for _, p in openapi.operations(self.doc)
                      for item in [self.doc["paths"][p]] for op in item.values()
                      for status in op.get("responses", {})}
        # 404 and 405 answer routes the handler does not serve, which are no operations of the
        # document: neither deployment routes them to the handler (the tests above).
        undocumented = {(s, c) for s, c in answered if s not in documented}
        self.assertEqual(undocumented, {("404", "not_found"), ("405", "method_not_allowed")})

    def test_the_mtls_requirement_is_described(self):
        self.assertIs(self.doc["x-mutual-tls"]["required"], True)
        self.assertIn("## Mutual TLS", self.doc["info"]["description"])


if __name__ == "__main__":
    unittest.main()
