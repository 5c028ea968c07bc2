"""Regenerate the README's gallery of specs/: each spec's summary (text) and diagram (docs/diagrams/*.svg).

    python docs/make_gallery.py            # rewrites the block between the gallery markers in README.md
                                           # and renders docs/diagrams/NAME.svg (needs Graphviz's dot)

tests/test_tools.py checks that the README's block is what `gallery_markdown()` gives, so a changed or
added spec fails the tests until this script is run again.
"""

from __future__ import annotations

import html
import io
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- gallery:start (python docs/make_gallery.py) -->", "<!-- gallery:end -->"
WIDTH = 110


def _description(path: Path) -> str:
    """The spec's leading comment, without the yaml-language-server line."""
    lines = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        if "yaml-language-server:" not in line:
            lines.append(line.lstrip("#").strip())
    return " ".join(lines)


def _summary_text(path: Path) -> str:
    from rich.console import Console

    from modelspec.checked import check_spec
    from modelspec.summary import summary_rows, totals
    from modelspec_cli.render import summary_table

    graph = check_spec(path).graph
    console = Console(file=io.StringIO(), width=WIDTH, record=True, color_system=None, highlight=False)
    summary_table(console, graph.name, summary_rows(graph), totals(graph))
    return "\n".join(line.rstrip() for line in console.export_text().splitlines())


def gallery_markdown() -> str:
    """The gallery block of the README (between the markers, markers excluded)."""
    parts = ["", "Every spec in specs/, with `modelspec summary SPEC` and `modelspec graph SPEC --expand-nested -o docs/diagrams/NAME.svg`.", ""]
    for path in sorted((ROOT / "specs").glob("*.yaml")):
        name = path.stem
        parts += [
            f"<details><summary><b>{path.name}</b>: {html.escape(_description(path), quote=False)}</summary>",
            "",
            "```text",
            _summary_text(path),
            "```",
            "",
            f"![{name}](docs/diagrams/{name}.svg)",
            "",
            "</details>",
            "",
        ]
    return "\n".join(parts)


def render_diagrams() -> None:
    if shutil.which("dot") is None:
        sys.exit("the diagrams need Graphviz's dot: apt-get install graphviz (or brew install graphviz)")
    out = ROOT / "docs" / "diagrams"
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted((ROOT / "specs").glob("*.yaml")):
        target = out / f"{path.stem}.svg"
        target.unlink(missing_ok=True)
        subprocess.run([sys.executable, "-m", "modelspec_cli.main", "graph", str(path), "--expand-nested", "-o", str(target)], check=True, cwd=ROOT)


def main() -> None:
    readme = ROOT / "README.md"
    text = readme.read_text()
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    readme.write_text(before + START + gallery_markdown() + END + after)
    render_diagrams()


if __name__ == "__main__":
    main()
