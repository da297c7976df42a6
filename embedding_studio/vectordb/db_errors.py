"""Turns driver errors raised while using a collection into our errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy.exc import (
    DataError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

from embedding_studio.core.errors import InvalidRequest, NotFound, StorageUnavailable

_UNDEFINED_TABLE = "42P01"


@contextmanager
def translated_errors(doing: str) -> Iterator[None]:
    """OperationalError (server down, connection lost, query canceled) -> StorageUnavailable;
    DataError (a value PostgreSQL rejects) -> InvalidRequest; a table dropped under us
    (the collection was deleted) -> NotFound. Anything else propagates."""
    try:
        yield
    except (OperationalError, InterfaceError, DisconnectionError, PoolTimeout) as exc:
        raise StorageUnavailable(f"PostgreSQL failed while {doing}: {_cause(exc)}") from exc
    except (psycopg.OperationalError, psycopg.InterfaceError) as exc:  # raw COPY
        raise StorageUnavailable(f"PostgreSQL failed while {doing}: {_cause(exc)}") from exc
    except psycopg.DataError as exc:
        raise InvalidRequest(f"{doing}: PostgreSQL rejected a value: {_cause(exc)}") from exc
    except DataError as exc:
        raise InvalidRequest(f"{doing}: PostgreSQL rejected a value: {_cause(exc)}") from exc
    except ProgrammingError as exc:
        if getattr(getattr(exc, "orig", None), "sqlstate", None) == _UNDEFINED_TABLE:
            raise NotFound(f"{doing}: the collection's tables no longer exist") from exc
        raise


def _cause(exc: Exception) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
