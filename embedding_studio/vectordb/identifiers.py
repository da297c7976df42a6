"""The one place SQL identifiers of vector collections are made and checked.

Every table and index name the vector database creates at run time passes `checked_identifier`
(`^[a-z0-9_]{1,48}$`); model ids never appear in names: a collection's tables are named after
its registry row number (`{prefix}_c{number}_objects`), so any model id string is safe.
"""

from __future__ import annotations

import re

from embedding_studio.core.errors import InvalidRequest

_IDENTIFIER = re.compile(r"^[a-z0-9_]{1,48}$")
_PREFIX = re.compile(r"^[a-z][a-z0-9_]{0,15}$")
_KIND = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_MODEL_ID = re.compile(r"^[\w.:\-]{1,128}$")


def checked_identifier(name: str) -> str:
    """Return `name` if it is a safe SQL identifier, else raise ValueError."""
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"unsafe SQL identifier {name!r}: expected ^[a-z0-9_]{{1,48}}$")
    return name


def checked_prefix(prefix: str) -> str:
    """A VectorDb table prefix: a lower-case letter, then up to 15 of [a-z0-9_]."""
    if not _PREFIX.fullmatch(prefix):
        raise ValueError(f"vector db prefix {prefix!r}: use ^[a-z][a-z0-9_]{{0,15}}$")
    return prefix


def checked_kind(kind: str) -> str:
    if not _KIND.fullmatch(kind):
        raise ValueError(f"vector db kind {kind!r}: use ^[a-z][a-z0-9_]{{0,31}}$")
    return kind


def checked_model_id(embedding_model_id: str) -> str:
    """An embedding model id (an MLflow run id is 32 hex digits); InvalidRequest otherwise."""
    if not isinstance(embedding_model_id, str) or not _MODEL_ID.fullmatch(embedding_model_id):
        raise InvalidRequest(
            f"embedding_model_id {embedding_model_id!r} is not valid: use 1-128 letters, "
            "digits, '_', '-', '.' or ':' (an MLflow run id)"
        )
    return embedding_model_id


def collection_identifier(prefix: str, number: int, suffix: str) -> str:
    """`{prefix}_c{number}_{suffix}`: a table or index of the collection with that registry row."""
    if not isinstance(number, int) or number < 0:
        raise ValueError(f"collection number must be a non-negative int, got {number!r}")
    return checked_identifier(f"{checked_prefix(prefix)}_c{number}_{suffix}")
