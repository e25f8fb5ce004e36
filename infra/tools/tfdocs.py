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


def _type(t):
    t = _val(t)
    text = t if isinstance(t, str) else json.dumps(t)
    text = re.sub(r"^\$\{(.*)\}$", r"\1", text, flags=re.S)
    # python-hcl2 renders object types as Python dicts: back to HCL.
    text = re.sub(r"'(\w+)': '\$\{(.*?)\}'", r"\1 = \2", text)
    text = text.replace("', '", ", ").replace(", ", ", ")
    return re.sub(r"\s+", " ", text)


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
    with open(MODULE / "variables.tf", encoding="utf-8") as f:
        variables = {k: v for block in hcl2.load(f).get("variable", []) for k, v in block.items()}
    with open(MODULE / "outputs.tf", encoding="utf-8") as f:
        outputs = {k: v for block in hcl2.load(f).get("output", []) for k, v in block.items()}
    lines = ["## Inputs", "", "| Name | Description | Type | Default | Required |", "|---|---|---|---|:---:|"]
    for name, v in variables.items():
        required = "yes" if "default" not in v else "no"
        lines.append(
            f"| {name} | {_cell(_val(v['description']))} | `{_cell(_type(v['type']))}` | {_cell(_default(v))} | {required} |"
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
