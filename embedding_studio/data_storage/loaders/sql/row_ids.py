"""Item ids are text; primary keys are not always. Compare them so that indexes still work."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Text, cast

_INTEGER = re.compile(r"^[+-]?\d{1,19}$")
_INT64 = range(-(2**63), 2**63)


def id_matches(column: ColumnElement[Any], row_ids: Sequence[str]) -> ColumnElement[bool]:
    """`column IN (row_ids)` with each id converted to the column's type.

    Integer and UUID keys get their own typed values (ids that cannot be one are
    dropped: no such row can exist), so the primary key index is used; text keys are
    compared as given; any other type is compared as text (`CAST(column AS TEXT)`).
    """
    python_type = _python_type(column)
    if python_type is int:
        return column.in_([n for n in map(_as_int, row_ids) if n is not None])
    if python_type is uuid.UUID:
        return column.in_([u for u in map(_as_uuid, row_ids) if u is not None])
    if python_type is str:
        return column.in_(list(row_ids))
    return cast(column, Text).in_(list(row_ids))


def canonical_row_id(row_id: str) -> str:
    """The text a database returns for this id when the key is an integer or a UUID."""
    number = _as_int(row_id)
    if number is not None:
        return str(number)
    value = _as_uuid(row_id)
    return str(value) if value is not None else row_id


def _python_type(column: ColumnElement[Any]) -> type | None:
    try:
        return column.type.python_type
    except NotImplementedError:
        return None


def _as_int(row_id: str) -> int | None:
    if not _INTEGER.match(row_id):
        return None
    number = int(row_id)
    return number if number in _INT64 else None


def _as_uuid(row_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(row_id)
    except ValueError:
        return None
