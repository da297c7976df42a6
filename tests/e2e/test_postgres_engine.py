"""The engine's connection checks against a real PostgreSQL: a connection back from a
request a moment ago is used as is; one idle for longer is pinged first, and replaced
when the server closed it."""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest
from sqlalchemy import text

from embedding_studio.data_access.postgres.engine import create_postgres_engine

IDLE_S = 0.3


@pytest.fixture
def engine(postgres_url: str) -> Any:
    engine = create_postgres_engine(postgres_url, pool_size=1, ping_after_idle_s=IDLE_S)
    yield engine
    engine.dispose()


def backend_pid(engine: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def counting_pings(engine: Any, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    pings: list[int] = []
    ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(1) or ping(conn))
    return pings


def test_a_connection_used_a_moment_ago_is_not_pinged(engine, monkeypatch) -> None:
    first = backend_pid(engine)
    pings = counting_pings(engine, monkeypatch)
    assert [backend_pid(engine) for _ in range(5)] == [first] * 5
    assert pings == []
    time.sleep(IDLE_S * 2)
    assert backend_pid(engine) == first
    assert pings == [1]


def test_an_idle_connection_the_server_closed_is_replaced_before_use(
    engine, postgres_url: str
) -> None:
    first = backend_pid(engine)
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (first,))
    time.sleep(IDLE_S * 2)
    assert backend_pid(engine) != first  # no error: the ping found it closed
