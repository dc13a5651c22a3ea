"""Loads the Lua scripts under ``lua/``, expanding ``-- @include "x.lua"`` lines.

Scripts are registered once per client (``register_script``): redis-py calls them by SHA
with EVALSHA and loads them again only if the server answers NOSCRIPT (after a restart).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

LUA_DIR = Path(__file__).resolve().parents[2] / "lua"
_INCLUDE = re.compile(r'^--\s*@include\s+"([\w.-]+)"\s*$', re.MULTILINE)


@cache
def source(name: str) -> str:
    """The full source of ``lua/<name>.lua`` with its includes expanded."""
    text = (LUA_DIR / f"{name}.lua").read_text()
    return _INCLUDE.sub(lambda m: (LUA_DIR / "includes" / m.group(1)).read_text(), text)
