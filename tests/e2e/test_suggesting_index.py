"""The process's suggestion index follows PostgreSQL: small changes through the delta,
background snapshot rebuilds, bulk writes, and an unreachable server."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine

from embedding_studio.core.errors import StorageUnavailable
from embedding_studio.data_access.postgres.engine import create_postgres_engine
from embedding_studio.suggesting.models import NewPhrase
from embedding_studio.suggesting.suggester import Suggester


@pytest.fixture
def engine(fresh_database_url: str) -> Iterator[Engine]:
    engine = create_postgres_engine(fresh_database_url, pool_size=2)
    yield engine
    engine.dispose()


def texts(suggester: Suggester, typed: str) -> list[str]:
    return [s.phrase for s in suggester.get_top_k(typed, top_k=100)]


def test_small_changes_go_to_the_delta_and_a_background_rebuild_folds_them_in(engine):
    suggester = Suggester(engine, rebuild_after=3)
    writer = Suggester(engine)  # another process, in effect
    writer.phrases.add([NewPhrase(f"topic {n}", prob=n / 10) for n in range(5)])
    assert texts(suggester, "topic") == [f"topic {n}" for n in (4, 3, 2, 1, 0)]

    for n in range(5, 9):  # one write at a time: 4 changes, more than rebuild_after
        writer.phrases.add([NewPhrase(f"topic {n}", prob=n / 10)])
        assert texts(suggester, "topic")[0] == f"topic {n}"
    suggester.index.wait_for_rebuild()
    view = suggester.index.view()
    assert len(view.delta) == 0 and len(view.snapshot) == 9

    (deleted,) = writer.phrases.add([NewPhrase("topic 4")])
    writer.phrases.delete(deleted)
    assert "topic 4" not in texts(suggester, "topic")
    assert texts(suggester, "topci 7") == ["topic 7"]  # a typo
    suggester.close()
    writer.close()


def test_a_bulk_write_is_folded_in_before_the_next_query(engine):
    suggester = Suggester(engine, rebuild_after=2)
    assert suggester.get_top_k("anything") == []
    suggester.phrases.add([NewPhrase(f"bulk phrase {n:03d}") for n in range(50)])
    assert len(texts(suggester, "bulk")) == 50
    assert len(suggester.index.view().delta) == 0
    suggester.close()


def test_the_index_reconnects_after_its_connection_is_dropped(engine, fresh_database_url, caplog):
    caplog.set_level(logging.WARNING, logger="embedding_studio.suggesting.feed")
    suggester = Suggester(engine)
    suggester.phrases.add([NewPhrase("before the drop")])
    assert texts(suggester, "before") == ["before the drop"]  # loads the index
    assert texts(suggester, "before") == ["before the drop"]  # follows it: the connection
    with psycopg.connect(fresh_database_url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    suggester.phrases.add([NewPhrase("after the drop")])
    assert texts(suggester, "after") == ["after the drop"]
    assert "connection lost, reconnecting" in caplog.text
    suggester.close()


def test_an_unreachable_server_is_reported_as_unavailable():
    engine = create_postgres_engine("postgresql://nobody@/nowhere?host=/nonexistent", pool_size=1)
    suggester = Suggester(engine)
    with pytest.raises(StorageUnavailable):
        suggester.get_top_k("deep")
    with pytest.raises(StorageUnavailable):
        suggester.phrases.add([NewPhrase("deep learning")])
    engine.dispose()
