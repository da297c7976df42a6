"""Payload field paths a client may name in filters and sorting.

A path is dot-separated keys into the payload JSON (`"specs.color"`). Each key is 1-64 word
characters or hyphens (letters, digits, `_`, `-`), at most 8 keys. Paths reach SQL only as
bound `text[]` parameters; the syntax check makes a mistyped or hostile name a clear 422.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

MAX_PATH_KEYS = 8
_KEY = re.compile(r"^[\w\-]{1,64}$")


def field_path_keys(path: str) -> list[str]:
    """Split a dotted path into keys; ValueError naming the path when it is malformed."""
    keys = path.split(".")
    if len(keys) > MAX_PATH_KEYS or not all(_KEY.fullmatch(key) for key in keys):
        raise ValueError(
            f"field {path!r} is not a valid payload path: use up to {MAX_PATH_KEYS} "
            "dot-separated keys of letters, digits, '_' or '-' (e.g. 'specs.color')"
        )
    return keys


def _checked_path(path: str) -> str:
    field_path_keys(path)
    return path


FieldPath = Annotated[str, AfterValidator(_checked_path)]
