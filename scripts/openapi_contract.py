#!/usr/bin/env python3
"""api-handler/openapi.yaml is the contract of the reference API, and the one source of what
is derived from it. This module reads it for infra/tests/test_openapi.py, and its command line
writes or checks the one generated file:

    .venv/bin/python scripts/openapi_contract.py generate   # after editing openapi.yaml
    .venv/bin/python scripts/openapi_contract.py check      # exit 1 when the generated file is stale

The generated file is api-handler/schema/temperature.json: the request body schema
(`components.schemas.TemperatureReading`) as a JSON Schema draft 4 document, the only draft API
Gateway models accept. It is a file of its own, committed, because three readers need it as
JSON: the api-handler compiles it into its binary (`include_str!`, no YAML parser at run time),
and the Terraform module and the CDK app install it as the REST API's request model. An OpenAPI
3.0 Schema Object is a subset of draft 4 plus a few keywords of its own; the rendering refuses
those keywords rather than drop them, so the handler and API Gateway validate exactly what the
document says.

Needs PyYAML (`make setup` installs it into .venv).
"""

import json
import pathlib
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
OPENAPI = ROOT / "api-handler" / "openapi.yaml"
READING_SCHEMA_JSON = ROOT / "api-handler" / "schema" / "temperature.json"
READING_SCHEMA = "TemperatureReading"
DRAFT_4 = "http://json-schema.org/draft-04/schema#"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# OpenAPI 3.0 Schema Object keywords that JSON Schema draft 4 does not have (or reads
# differently): a validator of the draft 4 rendering would ignore them, and so validate less
# than the document says.
OPENAPI_ONLY = {"nullable", "discriminator", "readOnly", "writeOnly", "xml", "externalDocs",
                "example", "deprecated", "$ref"}

GENERATED_NOTE = (" JSON Schema draft 4, the draft API Gateway models accept, generated from"
                  " api-handler/openapi.yaml (components.schemas.TemperatureReading) by"
                  " scripts/openapi_contract.py: edit the YAML, then run its `generate`.")


def load(path=None):
    with open(path or OPENAPI, encoding="utf-8") as f:
        return yaml.safe_load(f)


def operations(doc):
    """Every (METHOD, path) the document declares, e.g. ("POST", "/temps")."""
    return {(method.upper(), path)
            for path, item in doc["paths"].items()
            for method in item
            if method in METHODS}


def identity_headers(doc):
    """(header, context key) of each identity header HTTP backends receive, in document order."""
    return [(p["name"], p["x-context-key"])
            for p in doc["components"]["parameters"].values()
            if p.get("in") == "header" and "x-context-key" in p]


def _draft4(schema, where):
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key in OPENAPI_ONLY or key.startswith("x-"):
                raise ValueError(f"{where}.{key}: an OpenAPI-only keyword has no draft 4 meaning; "
                                 "say it in draft 4 terms (the handler and API Gateway validate draft 4)")
            # Under `properties`, the keys are property names, not keywords.
            if key == "properties":
                for name, sub in value.items():
                    _draft4(sub, f"{where}.properties.{name}")
            else:
                _draft4(value, f"{where}.{key}")
    elif isinstance(schema, list):
        for i, item in enumerate(schema):
            _draft4(item, f"{where}[{i}]")


def reading_schema(doc):
    """The body schema of POST /temps as the draft 4 document the handler and API Gateway use."""
    schema = doc["components"]["schemas"][READING_SCHEMA]
    _draft4(schema, f"components.schemas.{READING_SCHEMA}")
    body = doc["paths"]["/temps"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    if body != {"$ref": f"#/components/schemas/{READING_SCHEMA}"}:
        raise ValueError(f"POST /temps must take components.schemas.{READING_SCHEMA}, not {body}")
    out = {"$schema": DRAFT_4}
    out.update(schema)
    out["description"] = schema.get("description", "") + GENERATED_NOTE
    return out


def render(schema):
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def main(argv):
    if argv[1:] not in (["generate"], ["check"]):
        print(__doc__, file=sys.stderr)
        return 2
    want = render(reading_schema(load()))
    rel = READING_SCHEMA_JSON.relative_to(ROOT)
    if argv[1] == "generate":
        READING_SCHEMA_JSON.write_text(want, encoding="utf-8")
        print(f"wrote {rel}")
        return 0
    if READING_SCHEMA_JSON.read_text(encoding="utf-8") != want:
        print(f"{rel} differs from api-handler/openapi.yaml: edit the YAML, then run "
              "`.venv/bin/python scripts/openapi_contract.py generate`", file=sys.stderr)
        return 1
    print(f"{rel} matches api-handler/openapi.yaml")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
