"""The README's configuration table lists every variable the settings read, and starts with
the two commands."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_readme_lists_every_environment_variable() -> None:
    source = (ROOT / "shared" / "settings.py").read_text()
    names = set(re.findall(r'(?:s|e\.get)\("([A-Z][A-Za-z0-9_]+)"', source))
    readme = (ROOT / "README.md").read_text()
    assert names, "no variables found"
    missing = sorted(n for n in names if f"`{n}`" not in readme)
    assert not missing, f"README lacks {missing}"


def test_readme_starts_with_the_two_commands() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    block = lines[lines.index("```sh") + 1:lines.index("```sh") + 3]
    assert [b.split()[:2] for b in block] == [["make", "run"], ["make", "test"]]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
