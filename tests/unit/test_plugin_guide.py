"""plugins/custom/README.md stays true: the routes it calls exist, and the Python names
it tells plugin authors to import resolve."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

GUIDE = Path(__file__).resolve().parents[2] / "plugins" / "custom" / "README.md"


def test_the_routes_the_guide_calls_exist() -> None:
    from embedding_studio.main import create_app

    paths = set(create_app().openapi()["paths"])
    called = set(re.findall(r"localhost:5000(/api/v1/[\w/-]+)", GUIDE.read_text()))
    assert len(called) >= 6
    assert called <= paths, called - paths


def _imported_names(text: str) -> list[tuple[str, str]]:
    """(module, name) of each `from embedding_studio... import ...` in the guide, single
    line or parenthesized, comments dropped."""
    pairs = []
    for module, group, line in re.findall(
        r"^from (embedding_studio[\w.]*) import (?:\(([^)]*)\)|([^\n(]*))$", text, re.M
    ):
        names = " ".join(part.split("#")[0] for part in (group or line).splitlines())
        pairs += [(module, name.strip()) for name in names.split(",") if name.strip()]
    return pairs


def test_the_imports_the_guide_shows_resolve() -> None:
    pairs = _imported_names(GUIDE.read_text())
    assert ("embedding_studio.vectordb.optimization", "CreatePayloadIndexOptimization") in pairs
    for module, name in pairs:
        assert hasattr(importlib.import_module(module), name), (module, name)
