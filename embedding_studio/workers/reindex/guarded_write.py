"""Copy-time consistency between a source collection and its destination.

A reindex reads objects from the source, embeds them again (seconds), then writes them to
the destination, while upsertions and deletions keep arriving (and are mirrored to the
destination by the upsertion worker). Writing what was read earlier could then overwrite
a newer mirrored version, or bring back an object deleted meanwhile. So every read
records each row's version (PostgreSQL's `xmin`: the transaction that wrote the row, new
on every upsert), and the write happens in one transaction that first locks the source
rows (FOR SHARE: an upsert or deletion of them waits for the commit, and mirrors after
it) and writes only the objects whose version is unchanged. Changed objects are returned
to be read again; vanished objects are removed from the destination.

Both collections live in the same PostgreSQL database, so one transaction covers both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, Text, any_, cast, column, exists, select

from embedding_studio.models.embeddings.objects import Object
from embedding_studio.vectordb.collection import Collection
from embedding_studio.vectordb.db_errors import translated_errors
from embedding_studio.vectordb.object_store import (
    delete_objects,
    ids_param,
    load_objects,
    upsert_objects,
)
from embedding_studio.vectordb.schema import CollectionTables


@dataclass(frozen=True)
class Window:
    """Object ids `after < id <= last` (None: unbounded on that side)."""

    after: str | None
    last: str | None


@dataclass
class SourceRead:
    objects: list[Object]
    versions: dict[str, str]


@dataclass
class WriteOutcome:
    written: int = 0
    removed: int = 0
    changed: list[str] = field(default_factory=list)


def list_range(engine: Engine, source: Collection, window: Window, limit: int) -> list[str]:
    """Original object ids in `window`, in the database's order, at most `limit`.

    Bounds are compared by PostgreSQL (its collation orders the ids, as it did when the
    ranges were planned), never in Python."""
    objects = source.tables.objects
    stmt = (
        select(objects.c.object_id)
        .where(objects.c.user_id.is_(None))
        .order_by(objects.c.object_id)
        .limit(limit)
    )
    if window.after is not None:
        stmt = stmt.where(objects.c.object_id > window.after)
    if window.last is not None:
        stmt = stmt.where(objects.c.object_id <= window.last)
    with translated_errors(f"listing objects of {source.info.embedding_model_id}"):
        with engine.connect() as connection:
            return list(connection.execute(stmt).scalars())


def _versions(
    connection: Connection, tables: CollectionTables, ids: list[str], lock: bool
) -> dict[str, str]:
    objects = tables.objects
    stmt = select(objects.c.object_id, cast(column("xmin"), Text).label("version")).where(
        objects.c.object_id == any_(ids_param("ids", ids)), objects.c.user_id.is_(None)
    )
    if lock:
        stmt = stmt.with_for_update(read=True)
    return {row.object_id: row.version for row in connection.execute(stmt)}


def read_source(engine: Engine, source: Collection, ids: list[str]) -> SourceRead:
    """The original objects with these ids (without vectors) and their versions.

    Versions are read first: a row updated between the two reads then has a newer
    content than its version says, which the write treats as changed (never the
    reverse, which would let stale content through)."""
    with translated_errors(f"reading objects of {source.info.embedding_model_id}"):
        with engine.begin() as connection:
            versions = _versions(connection, source.tables, ids, lock=False)
            where = source.tables.objects.c.object_id == any_(ids_param("ids", list(versions)))
            found = load_objects(connection, source.tables, where, with_vectors=False)
    return SourceRead(objects=[o for o in found if o.object_id in versions], versions=versions)


def _stale_in_dest(
    connection: Connection, source: CollectionTables, dest: CollectionTables, window: Window
) -> list[str]:
    """Originals of the destination inside the window that the source no longer has."""
    theirs, ours = dest.objects, source.objects
    in_source = exists().where(ours.c.object_id == theirs.c.object_id, ours.c.user_id.is_(None))
    stmt = select(theirs.c.object_id).where(theirs.c.user_id.is_(None), ~in_source)
    if window.after is not None:
        stmt = stmt.where(theirs.c.object_id > window.after)
    if window.last is not None:
        stmt = stmt.where(theirs.c.object_id <= window.last)
    return list(connection.execute(stmt).scalars())


def write_if_unchanged(
    engine: Engine,
    source: Collection,
    dest: Collection,
    read: SourceRead,
    built: list[Object],
    window: Window | None,
) -> WriteOutcome:
    """Write the `built` destination objects whose source rows are unchanged since `read`.

    Objects of `read` that were deleted from the source, or that could not be built
    (absent from `built`), are removed from the destination; with a `window`, so are the
    destination's originals in it that the source lacks. Changed objects are returned in
    `changed` for another pass."""
    outcome = WriteOutcome()
    with translated_errors(f"copying objects into {dest.info.embedding_model_id}"):
        with engine.begin() as connection:
            now = _versions(connection, source.tables, list(read.versions), lock=True)
            outcome.changed = [i for i, v in read.versions.items() if i in now and now[i] != v]
            changed = set(outcome.changed)
            fresh = [o for o in built if o.object_id in now and o.object_id not in changed]
            kept = {o.object_id for o in built} | changed
            gone = [i for i in read.versions if i not in now or i not in kept]
            if window is not None:
                gone.extend(_stale_in_dest(connection, source.tables, dest.tables, window))
            if gone:
                outcome.removed = delete_objects(connection, dest.tables, sorted(set(gone)))
            dimensions = dest.info.search_index_info.dimensions
            upsert_objects(connection, dest.tables, fresh, dimensions)
            outcome.written = len(fresh)
    return outcome
