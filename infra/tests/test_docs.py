"""The documentation's links hold: every relative link in README.md, docs/ and the infra
READMEs names a file that exists, and every #anchor a heading of that file."""

import pathlib
import re
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
         *sorted((ROOT / "infra").glob("**/README.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def anchors(path):
    """GitHub's heading anchors of a Markdown file."""
    out, in_code = set(), False
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            in_code = not in_code
        m = None if in_code else re.match(r"^#{1,6} (.*)$", line)
        if m:
            text = re.sub(r"[^\w\- ]", "", m.group(1).replace("`", "").strip().lower())
            out.add(text.replace(" ", "-"))
    return out


class Links(unittest.TestCase):
    def test_every_relative_link_and_anchor_resolves(self):
        broken = []
        pages = [p for p in PAGES if "node_modules" not in p.parts and ".cache" not in p.parts]
        for page in pages:
            text = page.read_text()
            text = re.sub(r"```.*?```", "", text, flags=re.S)
            for target in LINK.findall(text):
                if re.match(r"^[a-z]+:", target):
                    continue
                path, _, anchor = target.partition("#")
                dest = (page.parent / path).resolve() if path else page
                if not dest.exists():
                    broken.append(f"{page.relative_to(ROOT)}: {target}: no such file")
                elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                    broken.append(f"{page.relative_to(ROOT)}: {target}: no such heading")
        self.assertEqual(broken, [])

    def test_the_readme_stays_a_front_page(self):
        lines = (ROOT / "README.md").read_text().splitlines()
        self.assertLess(len(lines), 200, "move reference material into docs/")
        for page in sorted((ROOT / "docs").glob("*.md")):
            self.assertIn(f"(docs/{page.name})", (ROOT / "README.md").read_text(), page.name)


if __name__ == "__main__":
    unittest.main()
