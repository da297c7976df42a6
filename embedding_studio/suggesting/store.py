"""The phrase pool in PostgreSQL (SQLAlchemy Core, every value a bound parameter).

Writes hold one transaction-level advisory lock and stamp each row they touch with the
next revision, so revisions become visible in commit order: `PhraseFeed.changes_since(r)`
then returns everything a reader that has seen revision r is missing. Deleted phrases stay
as tombstones (`is_deleted`), which is how other processes hear of a deletion.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy import Connection, Engine, Row, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from embedding_studio.core.errors import InvalidRequest, StorageUnavailable
from embedding_studio.suggesting.models import (
    NewPhrase,
    PhraseEntry,
    PhraseOrigin,
    StoredPhrase,
)
from embedding_studio.suggesting.tables import phrases, revisions
from embedding_studio.suggesting.text import fold, phrase_id_of
from embedding_studio.vectordb.migration_runner import run_migrations

logger = logging.getLogger(__name__)

AnyRow = Row[*tuple[Any, ...]]
"""A result row of any columns."""

WRITE_LOCK_KEY = 7_310_592_020_451_009
"""Advisory lock key of suggestion writes (any fixed bigint, the same in every process)."""

_INSERT_CHUNK = 1_000


def entry_of(row: AnyRow) -> PhraseEntry:
    return PhraseEntry(
        phrase_id=row.phrase_id,
        phrase=row.phrase,
        folded=row.folded,
        prob=float(row.prob),
        labels=tuple(row.labels),
        domains=tuple(row.domains),
    )


def _stored(row: AnyRow) -> StoredPhrase:
    return StoredPhrase(
        phrase_id=row.phrase_id,
        phrase=row.phrase,
        prob=float(row.prob),
        labels=tuple(row.labels),
        domains=tuple(row.domains),
        origin=PhraseOrigin(row.origin),
        clicks=int(row.clicks),
    )


@contextmanager
def storage_errors(doing: str) -> Iterator[None]:
    """Server or connection failures -> StorageUnavailable; values PostgreSQL refuses
    (bad encoding, too long for an index) -> InvalidRequest."""
    try:
        yield
    except (OperationalError, InterfaceError) as exc:
        raise StorageUnavailable(f"PostgreSQL failed while {doing}: {exc.orig}") from exc
    except DBAPIError as exc:
        refused = getattr(exc.orig, "sqlstate", "") in {"22021", "22P05", "54000"}
        if refused or isinstance(exc.orig, psycopg.DataError):
            raise InvalidRequest(f"{doing}: PostgreSQL refused a value: {exc.orig}") from exc
        raise


def _storable(text: str) -> bool:
    """PostgreSQL text cannot hold NUL: an id with one names no phrase."""
    return "\x00" not in text


def stamp() -> dict[str, Any]:
    """Column values every write sets: a new revision and the time."""
    return {"revision": revisions.next_value(), "updated_at": func.now()}


class PhraseStore:
    """Suggestion phrases in PostgreSQL; the schema is migrated on first use."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._migrated = False
        self._migration_lock = threading.Lock()

    def ensure_schema(self) -> None:
        if self._migrated:
            return
        with self._migration_lock:
            if not self._migrated:
                run_migrations(self._engine)
                self._migrated = True

    @contextmanager
    def writing(self, doing: str) -> Iterator[Connection]:
        """A transaction holding the suggestion write lock."""
        self.ensure_schema()
        with storage_errors(doing), self._engine.begin() as connection:
            connection.execute(select(func.pg_advisory_xact_lock(WRITE_LOCK_KEY)))
            yield connection

    @contextmanager
    def reading(self, doing: str) -> Iterator[Connection]:
        self.ensure_schema()
        with storage_errors(doing), self._engine.connect() as connection:
            yield connection

    # --- phrases ---------------------------------------------------------------------

    def add(self, new: Sequence[NewPhrase]) -> list[str]:
        """Add phrases; return their ids in order. A phrase already in the pool keeps its
        id and its state; a deleted one comes back with the values given here."""
        ids = [phrase_id_of(item.phrase) for item in new]
        unique = {phrase_id: item for phrase_id, item in zip(ids, new, strict=True)}
        rows = [
            {
                "phrase_id": phrase_id,
                "phrase": item.phrase,
                "folded": fold(item.phrase),
                "prob": item.prob,
                "labels": sorted(set(item.labels)),
                "domains": sorted(set(item.domains)),
                "origin": PhraseOrigin.manual.value,
                "clicks": 0,
                "is_deleted": False,
            }
            for phrase_id, item in unique.items()
        ]
        statement = insert(phrases)
        statement = statement.on_conflict_do_update(
            index_elements=[phrases.c.phrase_id],
            set_={
                "prob": statement.excluded.prob,
                "labels": statement.excluded.labels,
                "domains": statement.excluded.domains,
                "origin": statement.excluded.origin,
                "is_deleted": False,
                **stamp(),
            },
            where=phrases.c.is_deleted,
        )
        with self.writing("adding suggestion phrases") as connection:
            for start in range(0, len(rows), _INSERT_CHUNK):
                connection.execute(statement, rows[start : start + _INSERT_CHUNK])
        return ids

    def get(self, phrase_id: str) -> StoredPhrase | None:
        if not _storable(phrase_id):
            return None
        with self.reading("reading a suggestion phrase") as connection:
            row = connection.execute(
                select(phrases).where(phrases.c.phrase_id == phrase_id, ~phrases.c.is_deleted)
            ).first()
        return None if row is None else _stored(row)

    def delete(self, phrase_id: str) -> bool:
        """Delete a live phrase; False when there is none with this id."""
        if not _storable(phrase_id):
            return False
        with self.writing("deleting a suggestion phrase") as connection:
            result = connection.execute(
                update(phrases)
                .where(phrases.c.phrase_id == phrase_id, ~phrases.c.is_deleted)
                .values(is_deleted=True, **stamp())
            )
        return result.rowcount > 0

    def modify(
        self, phrase_id: str, change: Callable[[StoredPhrase], dict[str, Any]]
    ) -> StoredPhrase | None:
        """Apply `change` (the column values to set, given the phrase) to a live phrase;
        None when there is none with this id. Nothing is written if nothing changes."""
        if not _storable(phrase_id):
            return None
        with self.writing("changing a suggestion phrase") as connection:
            row = connection.execute(
                select(phrases).where(phrases.c.phrase_id == phrase_id, ~phrases.c.is_deleted)
            ).first()
            if row is None:
                return None
            current = _stored(row)
            values = {
                key: value for key, value in change(current).items() if row._mapping[key] != value
            }
            if not values:
                return current
            updated = connection.execute(
                update(phrases)
                .where(phrases.c.phrase_id == phrase_id)
                .values(**values, **stamp())
                .returning(*phrases.c)
            ).one()
        return _stored(updated)

    def remove_everywhere(self, column: str, value: str) -> int:
        """Remove a label (`column="labels"`) or domain from every phrase; the number of
        live phrases that had it."""
        array = phrases.c[column]
        with self.writing(f"removing {column[:-1]} {value!r} from all phrases") as connection:
            result = connection.execute(
                update(phrases)
                .where(array.contains([value]))
                .values({column: func.array_remove(array, value), **stamp()})
                .returning(phrases.c.is_deleted)
            )
            return sum(1 for deleted in result.scalars() if not deleted)

    def page(
        self, offset: int, limit: int, label: str | None = None, domain: str | None = None
    ) -> tuple[list[StoredPhrase], int]:
        """A page of live phrases in text order (code point order), and how many match."""
        where = [~phrases.c.is_deleted]
        if label is not None:
            where.append(phrases.c.labels.contains([label]))
        if domain is not None:
            where.append(phrases.c.domains.contains([domain]))
        with self.reading("listing suggestion phrases") as connection:
            rows = connection.execute(
                select(phrases)
                .where(*where)
                .order_by(phrases.c.phrase.collate("C"), phrases.c.phrase_id)
                .offset(offset)
                .limit(limit)
            ).all()
            total = connection.execute(select(func.count()).select_from(phrases).where(*where))
            return [_stored(row) for row in rows], int(total.scalar_one())


def entry_columns() -> list[Any]:
    """The columns `entry_of` reads."""
    c = phrases.c
    return [c.phrase_id, c.phrase, c.folded, c.prob, c.labels, c.domains]
