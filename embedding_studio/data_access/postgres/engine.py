"""One SQLAlchemy engine per process for the PostgreSQL database."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError

PING_AFTER_IDLE_S = 2.0
"""A pooled connection idle for longer is pinged before use (see `install_idle_ping`)."""

_RETURNED_AT = "embedding_studio.returned_at"  # key in a pooled connection's info


def sqlalchemy_url(url: str) -> str:
    """Use the psycopg 3 driver whatever scheme the URL names (`postgresql://`, `postgres://`)."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def create_postgres_engine(
    url: str, pool_size: int = 10, ping_after_idle_s: float = PING_AFTER_IDLE_S
) -> Engine:
    engine = create_engine(
        sqlalchemy_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        future=True,
    )
    install_idle_ping(engine, ping_after_idle_s)
    return engine


@contextmanager
def autocommit_connection(engine: Engine) -> Iterator[Connection]:
    """A pooled connection that sends each statement on its own, without BEGIN and COMMIT
    (two round trips less). For work done in one statement, which is atomic and sees one
    snapshot by itself, and for reads at READ COMMITTED, where a transaction gives its
    statements no common snapshot anyway."""
    with engine.connect() as connection:
        yield connection.execution_options(isolation_level="AUTOCOMMIT")


def install_idle_ping(engine: Engine, after_s: float) -> None:
    """Check a pooled connection on checkout when it sat in the pool for over `after_s`
    seconds, and replace it if the server closed it (SQLAlchemy's `pool_pre_ping`, minus
    the round trip on a connection a request returned a moment ago: a busy API checks
    connections out several times per request).

    A connection that died within `after_s` of its last use fails its next statement
    instead (StorageUnavailable, a 503 the client retries); the pool then replaces every
    connection opened before the failure."""

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get(_RETURNED_AT)
        if returned is not None and time.monotonic() - returned < after_s:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool discards this connection and checks out a fresh one.
            raise DisconnectionError(f"pooled connection failed its ping: {exc}") from exc
