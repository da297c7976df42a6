"""The one check every SQL identifier (table, schema, column name) passes before use."""

from __future__ import annotations

import re

from embedding_studio.core.errors import InvalidRequest

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def checked_identifier(name: str, what: str = "identifier") -> str:
    """Return `name` if it is a plain SQL identifier (letters, digits, `_`; at most 63).

    Raises `InvalidRequest` naming `what` (e.g. "table name") otherwise.
    """
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise InvalidRequest(
            f"invalid {what} {name!r}: use letters, digits and '_' (at most 63, not first a digit)"
        )
    return name
