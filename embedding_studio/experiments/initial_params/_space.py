"""Give a module a fresh-copy `INITIAL_PARAMS` attribute (see the package docstring)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

SearchSpace = dict[str, list[Any]]


def fresh_copy_getattr(module_name: str, template: SearchSpace) -> Callable[[str], Any]:
    """A module-level `__getattr__` returning a deep copy of `template` for INITIAL_PARAMS."""

    def __getattr__(name: str) -> Any:
        if name == "INITIAL_PARAMS":
            return copy.deepcopy(template)
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")

    return __getattr__
