"""Reads and writes of the collection registry (tables created by migration 0001).

Every function takes an open connection, so the caller decides the transaction. Nothing is
cached: the blue pointer is read from the table on every call.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    ForeignKey,
    MetaData,
    Row,
    Table,
    Text,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by, insert

from embedding_studio.models.embeddings.models import SearchIndexInfo
from embedding_studio.vectordb.collection_info import CollectionInfo, CollectionState

metadata = MetaData()

collections_table = Table(
    "vectordb_collections",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("prefix", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("embedding_model_id", Text, nullable=False),
    Column("plugin_name", Text, nullable=False),
    Column("search_index_info", JSONB, nullable=False),
    Column("state", Text, nullable=False),
    Column("is_blue", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

applied_table = Table(
    "vectordb_applied_optimizations",
    metadata,
    Column("collection_id", BigInteger, ForeignKey("vectordb_collections.id"), primary_key=True),
    Column("name", Text, primary_key=True),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)

_C = collections_table.c


def _info(row: Row[Any], applied: list[str]) -> CollectionInfo:
    return CollectionInfo(
        embedding_model_id=row.embedding_model_id,
        plugin_name=row.plugin_name,
        search_index_info=SearchIndexInfo.model_validate(row.search_index_info),
        state=CollectionState(row.state),
        is_blue=row.is_blue,
        created_at=row.created_at,
        applied_optimizations=applied,
        prefix=row.prefix,
        kind=row.kind,
        number=row.id,
    )


def find(
    connection: Connection,
    prefix: str,
    kind: str,
    embedding_model_id: str | None = None,
    blue_only: bool = False,
    for_update: bool = False,
) -> list[CollectionInfo]:
    """Registry rows of (prefix, kind), optionally one model's or only the blue one, each
    with its applied optimizations (one query)."""
    applied = (
        select(func.array_agg(aggregate_order_by(applied_table.c.name, applied_table.c.applied_at)))
        .where(applied_table.c.collection_id == _C.id)
        .scalar_subquery()
        .label("applied")
    )
    stmt = select(collections_table, applied).where(_C.prefix == prefix, _C.kind == kind)
    if embedding_model_id is not None:
        stmt = stmt.where(_C.embedding_model_id == embedding_model_id)
    if blue_only:
        stmt = stmt.where(_C.is_blue.is_(True))
    stmt = stmt.order_by(_C.created_at, _C.id)
    if for_update:
        stmt = stmt.with_for_update(of=collections_table)
    return [_info(row, list(row.applied or [])) for row in connection.execute(stmt)]


def insert_collection(
    connection: Connection,
    prefix: str,
    kind: str,
    embedding_model_id: str,
    plugin_name: str,
    search_index_info: SearchIndexInfo,
    state: CollectionState,
) -> int | None:
    """Insert a row; its number, or None when the model already has one (a concurrent
    creator won: the conflict waits for that transaction to end)."""
    stmt = (
        insert(collections_table)
        .values(
            prefix=prefix,
            kind=kind,
            embedding_model_id=embedding_model_id,
            plugin_name=plugin_name,
            search_index_info=search_index_info.model_dump(mode="json"),
            state=state.value,
            is_blue=False,
            created_at=func.now(),
            updated_at=func.now(),
        )
        .on_conflict_do_nothing(constraint="vectordb_collections_model_key")
        .returning(_C.id)
    )
    return connection.execute(stmt).scalar_one_or_none()


def set_state(connection: Connection, number: int, state: CollectionState) -> None:
    connection.execute(
        update(collections_table)
        .where(_C.id == number)
        .values(state=state.value, updated_at=func.now())
    )


def switch_blue(connection: Connection, prefix: str, kind: str, number: int) -> None:
    """Make `number` the only blue collection of (prefix, kind). The caller holds the
    registry rows of (prefix, kind) locked; the old blue is cleared first because the
    partial unique index is checked row by row."""
    connection.execute(
        update(collections_table)
        .where(_C.prefix == prefix, _C.kind == kind, _C.is_blue.is_(True), _C.id != number)
        .values(is_blue=False, updated_at=func.now())
    )
    connection.execute(
        update(collections_table).where(_C.id == number).values(is_blue=True, updated_at=func.now())
    )


def delete_collection(connection: Connection, number: int) -> None:
    connection.execute(delete(applied_table).where(applied_table.c.collection_id == number))
    connection.execute(delete(collections_table).where(_C.id == number))


def lock_collection(connection: Connection, number: int) -> bool:
    """Lock one registry row until the transaction ends; False when it no longer exists."""
    stmt = select(_C.id).where(_C.id == number).with_for_update()
    return connection.execute(stmt).first() is not None


def record_optimization(connection: Connection, number: int, name: str) -> None:
    connection.execute(
        insert(applied_table)
        .values(collection_id=number, name=name, applied_at=func.clock_timestamp())
        .on_conflict_do_nothing()
    )


def is_applied(connection: Connection, number: int, name: str) -> bool:
    stmt = select(applied_table.c.name).where(
        applied_table.c.collection_id == number, applied_table.c.name == name
    )
    return connection.execute(stmt).first() is not None
