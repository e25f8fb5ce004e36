"""Render the Inputs and Outputs tables of infra/terraform/README.md from
variables.tf and outputs.tf (terraform-docs' markdown table layout, without
needing terraform-docs). `python infra/tools/tfdocs.py --write` updates the
README in place; infra/tests checks that it is current."""

import json
import pathlib
import re
import sys

import hcl2

MODULE = pathlib.Path(__file__).resolve().parents[1] / "terraform"
BEGIN, END = "<!-- BEGIN_TF_DOCS -->", "<!-- END_TF_DOCS -->"


def _val(x):
    while isinstance(x, list) and len(x) == 1:
        x = x[0]
    return x


def _source_types(text):
    """Each variable's `type` expression as written in variables.tf, on one line. python-hcl2
    renders object types as Python dicts, and nested ones as escaped strings of dicts; the source
    is what terraform-docs prints."""
    out = {}
    for m in re.finditer(r'^variable "(\w+)" \{\n', text, re.M):
        t = re.compile(r"^  type\s*=\s*", re.M).search(text, m.end())
        if t is None:
            continue
        depth, i = 0, t.end()
        while i < len(text) and not (depth == 0 and text[i] == "\n"):
            depth += {"(": 1, "{": 1, "[": 1, ")": -1, "}": -1, "]": -1}.get(text[i], 0)
            i += 1
        lines = [line.strip() for line in text[t.end():i].splitlines()]
        one = ""
        for line in (line for line in lines if line and not line.startswith("#")):
            joined = not one or one.endswith(("(", "{", "[")) or line.startswith((")", "}", "]"))
            one += line if joined else ", " + line
        out[m.group(1)] = re.sub(r" {2,}", " ", one)
    return out


def _default(v):
    if "default" not in v:
        return "n/a"
    d = _val(v["default"])
    if d is None:
        return "`null`"
    return "`" + json.dumps(d) + "`"


def _cell(s):
    return str(s).replace("|", "\\|").replace("\n", " ")


def render():
    source = (MODULE / "variables.tf").read_text(encoding="utf-8")
    with open(MODULE / "variables.tf", encoding="utf-8") as f:
        variables = {k: v for block in hcl2.load(f).get("variable", []) for k, v in block.items()}
    types = _source_types(source)
    with open(MODULE / "outputs.tf", encoding="utf-8") as f:
        outputs = {k: v for block in hcl2.load(f).get("output", []) for k, v in block.items()}
    lines = ["## Inputs", "", "| Name | Description | Type | Default | Required |", "|---|---|---|---|:---:|"]
    for name, v in variables.items():
        required = "yes" if "default" not in v else "no"
        lines.append(
            f"| {name} | {_cell(_val(v['description']))} | `{_cell(types[name])}` | {_cell(_default(v))} | {required} |"
        )
    lines += ["", "## Outputs", "", "| Name | Description |", "|---|---|"]
    for name, o in outputs.items():
        lines.append(f"| {name} | {_cell(_val(o['description']))} |")
    return "\n".join([BEGIN] + lines + [END])


def readme_with_tables(text):
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[:start] + render() + text[end:]


if __name__ == "__main__":
    readme = MODULE / "README.md"
    text = readme.read_text(encoding="utf-8")
    updated = readme_with_tables(text)
    if "--write" in sys.argv:
        readme.write_text(updated, encoding="utf-8")
    elif updated != text:
        sys.exit("infra/terraform/README.md is out of date: python infra/tools/tfdocs.py --write")
