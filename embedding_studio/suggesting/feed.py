"""Following the phrase pool: what a process's index reads from PostgreSQL.

`changes_since` runs before every suggestion query, so it keeps one connection of its own
in autocommit mode (one round trip per call, instead of a pool checkout, a liveness ping
and a rollback). A broken connection is replaced on the next call.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import DBAPIError

from embedding_studio.suggesting.models import PhraseEntry
from embedding_studio.suggesting.store import (
    PhraseStore,
    entry_columns,
    entry_of,
    storage_errors,
)
from embedding_studio.suggesting.tables import phrases

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Change:
    """A phrase written after some revision: its current entry, or None if deleted."""

    phrase_id: str
    revision: int
    entry: PhraseEntry | None


class PhraseFeed:
    """Reads the pool as of a revision, and what changed after it. Thread-safe."""

    def __init__(self, engine: Engine, store: PhraseStore) -> None:
        self._engine = engine
        self._store = store
        self._lock = threading.Lock()
        self._connection: Connection | None = None

    def load(self) -> tuple[int, list[PhraseEntry]]:
        """The latest revision and every live phrase as of it."""
        self._store.ensure_schema()
        with storage_errors("loading suggestion phrases"), self._engine.connect() as connection:
            revision = connection.execute(select(func.max(phrases.c.revision))).scalar()
            if revision is None:
                return 0, []
            rows = connection.execute(
                select(*entry_columns()).where(
                    ~phrases.c.is_deleted, phrases.c.revision <= revision
                )
            ).all()
        return int(revision), [entry_of(row) for row in rows]

    def changes_since(self, revision: int) -> list[Change]:
        """Phrases written after `revision`, oldest change first."""
        statement = (
            select(*entry_columns(), phrases.c.revision, phrases.c.is_deleted)
            .where(phrases.c.revision > revision)
            .order_by(phrases.c.revision)
        )
        with self._lock, storage_errors("following suggestion phrases"):
            try:
                rows = self._connected().execute(statement).all()
            except DBAPIError as exc:
                if not exc.connection_invalidated:
                    raise
                logger.warning("suggestion feed: connection lost, reconnecting: %s", exc.orig)
                self.close()
                rows = self._connected().execute(statement).all()
        return [
            Change(row.phrase_id, int(row.revision), None if row.is_deleted else entry_of(row))
            for row in rows
        ]

    def _connected(self) -> Connection:
        if self._connection is None or self._connection.invalidated:
            self._store.ensure_schema()
            self._connection = self._engine.connect().execution_options(
                isolation_level="AUTOCOMMIT"
            )
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except DBAPIError:
                pass
            self._connection = None
