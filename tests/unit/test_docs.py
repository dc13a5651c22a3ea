"""The README's configuration table is the settings model's, and the README starts with the
two commands."""

from __future__ import annotations

from pathlib import Path

from shared.settings import Settings, env_name, markdown_table, readme_table

ROOT = Path(__file__).resolve().parents[2]


def test_readme_configuration_table_is_the_models() -> None:
    """The table is generated (`python -m shared.settings --write-readme`), never hand-kept."""
    readme = (ROOT / "README.md").read_text()
    assert readme_table(readme) == markdown_table()
    for name in Settings.model_fields:
        assert f"| `{env_name(name)}` |" in readme


def test_every_setting_has_a_description() -> None:
    bare = [n for n, f in Settings.model_fields.items() if not f.description]
    assert not bare


def test_readme_starts_with_the_two_commands() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    block = lines[lines.index("```sh") + 1:lines.index("```sh") + 3]
    assert [b.split()[:2] for b in block] == [["make", "run"], ["make", "test"]]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
