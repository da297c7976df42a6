"""The document-store adapters under one contract: every test here runs on PostgreSQL
(real) and on MongoDB (mongomock, or a real server when MONGO_URL is set)."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from embedding_studio.data_access.documents import DocumentStore
from embedding_studio.data_access.mongo.documents import MongoDocumentStore
from embedding_studio.data_access.postgres.documents import PostgresDocumentStore
from embedding_studio.data_access.postgres.engine import create_postgres_engine


@pytest.fixture(scope="session")
def contract_engine(postgres_url: str):
    engine = create_postgres_engine(postgres_url)
    yield engine
    engine.dispose()


class _Atomic:
    """mongomock is not thread-safe, while a MongoDB server applies each single-document
    operation atomically. This proxy serializes mongomock's calls so concurrency tests
    check our adapter, not mongomock's internals."""

    _lock = threading.RLock()

    def __init__(self, target: Any) -> None:
        self._target = target

    def __getitem__(self, name: str) -> _Atomic:
        return _Atomic(self._target[name])

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return value(*args, **kwargs)

        return call


def _mongo_database(name: str) -> Any:
    if url := os.environ.get("MONGO_URL"):
        import pymongo

        return pymongo.MongoClient(url, tz_aware=True)[name]
    import mongomock

    return _Atomic(mongomock.MongoClient(tz_aware=True)[name])


@pytest.fixture(params=["mongo", "postgres"])
def store(request: pytest.FixtureRequest, contract_engine) -> Iterator[DocumentStore]:
    """A fresh, empty document store per test."""
    if request.param == "mongo":
        database = _mongo_database(f"es_contract_{uuid.uuid4().hex[:8]}")
        yield MongoDocumentStore(database)
        database.client.drop_database(database.name)
        return
    with contract_engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(7219001)"))
        tables = (
            conn.execute(
                text(
                    "SELECT tablename FROM pg_tables "
                    "WHERE tablename LIKE 'doc\\_%' AND schemaname = 'public'"
                )
            )
            .scalars()
            .all()
        )
        for table in tables:
            conn.execute(text(f'DROP TABLE "{table}"'))  # names come from pg_tables
    yield PostgresDocumentStore(contract_engine)
