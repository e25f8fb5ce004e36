"""Checks the Terraform module against the hashicorp/aws provider's schema, offline.

`terraform validate` needs the provider binary, which cannot be downloaded everywhere (not on
the machine this project is built on). The provider's schema can: the npm packages generated
from it by CDK for Terraform (`@cdktf/provider-aws`, and its successor `@cdktn/provider-aws`)
carry every resource and data source, with each argument, nested block and computed
attribute, and whether it is required, in their jsii assembly (`.jsii`), and record the
provider version they were generated from in `package.json`.

    python infra/tools/tfschema.py            # fetch (npm pack, cached), derive, check
    python infra/tools/tfschema.py DIR...     # check other .tf directories (a scratch copy)

For the lowest provider version `versions.tf` allows and the newest 6.x packaged, it checks
every `resource` and `data` block of the module and its examples:
- the type exists;
- every argument and nested block (also inside `dynamic` blocks) exists for that type;
- every required argument and block is set;
- every attribute read from another resource (`aws_x.name.attr`) exists;
- nothing used is removed between the two versions, or on the list of deprecations below
  (the generated packages do not carry the provider's deprecation flags; this list is
  taken from the provider's 6.0 upgrade guide for the types the module uses).

The packages (about 30 MB each) are fetched once into infra/.cache/ (ignored by git); the
derived schemas are cached next to them as JSON.
"""

import json
import pathlib
import re
import subprocess
import sys
import tarfile

import hcl2

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODULE = ROOT / "infra" / "terraform"
CACHE = ROOT / "infra" / ".cache" / "provider-schemas"
PACKAGES = json.loads((pathlib.Path(__file__).with_name("provider-schemas.json")).read_text())

# Deprecated in the provider, still in the schema: (block kind, type, argument or attribute).
DEPRECATED = {
    ("data", "aws_region", "name"): "deprecated in provider 6.0: use `region`",
    ("data", "aws_region", "description"): "deprecated in provider 6.0",
    ("resource", "aws_api_gateway_deployment", "stage_name"): "removed in provider 6.0: use aws_api_gateway_stage",
    ("resource", "aws_api_gateway_deployment", "stage_description"): "removed in provider 6.0: use aws_api_gateway_stage",
    ("resource", "aws_api_gateway_deployment", "canary_settings"): "removed in provider 6.0: use aws_api_gateway_stage",
    ("resource", "aws_api_gateway_deployment", "invoke_url"): "removed in provider 6.0: read it from aws_api_gateway_stage",
    ("resource", "aws_api_gateway_deployment", "execution_arn"): "removed in provider 6.0: read it from aws_api_gateway_stage",
    ("resource", "aws_s3_bucket", "acl"): "deprecated since provider 4.0: use aws_s3_bucket_acl",
    ("resource", "aws_s3_bucket", "versioning"): "deprecated since provider 4.0: use aws_s3_bucket_versioning",
    ("resource", "aws_s3_bucket", "server_side_encryption_configuration"): "deprecated since provider 4.0: use aws_s3_bucket_server_side_encryption_configuration",
    ("resource", "aws_s3_bucket", "logging"): "deprecated since provider 4.0: use aws_s3_bucket_logging",
    ("resource", "aws_s3_bucket", "lifecycle_rule"): "deprecated since provider 4.0: use aws_s3_bucket_lifecycle_configuration",
    ("resource", "aws_s3_bucket", "policy"): "deprecated since provider 4.0: use aws_s3_bucket_policy",
}

META_ARGUMENTS = {"count", "for_each", "depends_on", "provider", "lifecycle", "provisioner", "connection"}
LINK = re.compile(r"registry\.terraform\.io/providers/hashicorp/aws/([0-9.]+)/docs/(resources|data-sources)/\w+ (aws_\w+)\}")
ANCHOR = re.compile(r"#(\w+) \w+#\w+\}")


def snake(camel):
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", camel).lower()


def fetch(pkg):
    """The package tarball, packed from the npm registry once."""
    CACHE.mkdir(parents=True, exist_ok=True)
    name = pkg["package"].lstrip("@").replace("/", "-") + "-" + pkg["version"] + ".tgz"
    path = CACHE / name
    if not path.exists():
        subprocess.run(
            ["npm", "pack", f"{pkg['package']}@{pkg['version']}", "--pack-destination", str(CACHE),
             "--silent", "--no-audit", "--no-fund"],
            check=True, stdout=subprocess.DEVNULL)
    return path


def derive(pkg):
    """{"provider": version, "resource": {type: schema}, "data": {type: schema}}, where a schema
    is {"args": {name: {"required": bool, "block": schema or null}}, "attrs": [names]}."""
    out = CACHE / (pkg["package"].lstrip("@").replace("/", "-") + "-" + pkg["version"] + ".schema.json")
    if out.exists():
        return json.loads(out.read_text())
    with tarfile.open(fetch(pkg)) as tar:
        meta = json.load(tar.extractfile("package/package.json"))
        assembly = json.load(tar.extractfile("package/.jsii"))
    provider = meta["cdktf"]["provider"]["version"]
    if provider != pkg["provider"]:
        raise SystemExit(f"{pkg['package']}@{pkg['version']} is provider {provider}, not {pkg['provider']}")
    types = assembly["types"]

    def struct_of(t):
        """The nested struct fqn a property type refers to (a block), if any."""
        if "fqn" in t:
            return t["fqn"] if types.get(t["fqn"], {}).get("datatype") else None
        if "collection" in t:
            return struct_of(t["collection"]["elementtype"])
        if "union" in t:
            for u in t["union"]["types"]:
                found = struct_of(u)
                if found:
                    return found
        return None

    def args_of(fqn, seen):
        args = {}
        for p in types[fqn].get("properties", []):
            docs = p.get("docs", {})
            m = ANCHOR.search(docs.get("summary", "") + " " + docs.get("remarks", ""))
            name = m.group(1) if m else snake(p["name"])
            nested = struct_of(p["type"])
            block = None
            if nested and nested not in seen:
                block = {"args": args_of(nested, seen | {nested})}
            args[name] = {"required": not p.get("optional", False), "block": block}
        return args

    schema = {"provider": provider, "resource": {}, "data": {}}
    for fqn, t in types.items():
        if t.get("kind") != "class":
            continue
        m = LINK.search(t.get("docs", {}).get("summary", ""))
        if not m or not t.get("docs", {}).get("summary", "").startswith("Represents a"):
            continue
        kind = "resource" if m.group(2) == "resources" else "data"
        config = fqn + "Config"
        if config not in types:
            continue
        args = args_of(config, {config})
        attrs = {snake(p["name"]) for p in t.get("properties", [])
                 if not p.get("static") and not p["name"].endswith("Input")}
        schema[kind][m.group(3)] = {"args": args, "attrs": sorted(attrs | set(args))}
    out.write_text(json.dumps(schema, sort_keys=True))
    return schema


def unwrap(x):
    while isinstance(x, list) and len(x) == 1:
        x = x[0]
    return x


def blocks(value):
    """The block bodies python-hcl2 gives for a nested block."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []


def check_body(where, body, schema, problems, kind, tf_type, top):
    """Checks one block body against its schema; appends problems."""
    args = schema["args"]
    present = set()
    for key, value in body.items():
        if key.startswith("__"):
            continue
        if top and key in META_ARGUMENTS:
            continue
        if key == "dynamic":
            for dyn in blocks(value):
                for name, spec in dyn.items():
                    if name.startswith("__"):
                        continue
                    present.add(name)
                    arg = args.get(name)
                    if arg is None or arg["block"] is None:
                        problems.append(f"{where}: dynamic \"{name}\" is not a block of {tf_type}")
                        continue
                    for content in blocks(unwrap(spec).get("content", [])) if isinstance(unwrap(spec), dict) else []:
                        check_body(f"{where}.{name}", content, arg["block"], problems, kind, tf_type, False)
            continue
        present.add(key)
        arg = args.get(key)
        if arg is None:
            problems.append(f"{where}: `{key}` is not an argument or block of {tf_type}")
            continue
        if top and (kind, tf_type, key) in DEPRECATED:
            problems.append(f"{where}: `{key}` is {DEPRECATED[(kind, tf_type, key)]}")
        if arg["block"] is not None:
            for nested in blocks(value):
                check_body(f"{where}.{key}", nested, arg["block"], problems, kind, tf_type, False)
    for name, arg in args.items():
        if arg["required"] and name not in present and name != "id":
            problems.append(f"{where}: required `{name}` is not set")


REFERENCE = re.compile(r"(?<![\w.])(data\.)?(aws_[a-z0-9_]+)\.([a-z0-9_]+)(?:\[[^\]]*\])?\.([a-z0-9_]+)")


def check(schema, dirs):
    """Every problem of the .tf files under `dirs` against one provider schema."""
    problems = []
    for d in dirs:
        for path in sorted(pathlib.Path(d).rglob("*.tf")):
            if ".terraform" in path.parts:
                continue
            rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
            text = path.read_text()
            doc = hcl2.loads(text)
            for kind in ("resource", "data"):
                for entry in doc.get(kind, []):
                    for tf_type, named in entry.items():
                        for name, body in named.items():
                            where = f"{rel}: {'data.' if kind == 'data' else ''}{tf_type}.{name}"
                            if tf_type not in schema[kind]:
                                problems.append(f"{where}: no such {kind} type")
                                continue
                            check_body(where, body, schema[kind][tf_type], problems, kind, tf_type, True)
            for m in REFERENCE.finditer(text):
                data, tf_type, _, attr = m.groups()
                kind = "data" if data else "resource"
                found = schema[kind].get(tf_type)
                if found is None:
                    continue  # reported above, or not a type (a local named aws_…)
                if attr not in found["attrs"]:
                    problems.append(f"{rel}: {m.group(0)}: `{attr}` is not an attribute of {tf_type}")
                elif (kind, tf_type, attr) in DEPRECATED:
                    problems.append(f"{rel}: {m.group(0)}: `{attr}` is {DEPRECATED[(kind, tf_type, attr)]}")
    return sorted(set(problems))


def main(argv):
    dirs = [pathlib.Path(a).resolve() for a in argv] or [MODULE]
    failed = False
    for pkg in PACKAGES:
        schema = derive(pkg)
        problems = check(schema, dirs)
        label = f"hashicorp/aws {schema['provider']} ({pkg['package']}@{pkg['version']})"
        if problems:
            failed = True
            print(f"FAIL against {label}:")
            for p in problems:
                print(f"  {p}")
        else:
            print(f"ok against {label}: {len(schema['resource'])} resource and {len(schema['data'])} data source types known")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
