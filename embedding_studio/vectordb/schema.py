"""The tables of one collection, created at run time: objects and parts (one vector each).

{prefix}_c{n}_objects  object_id PK, payload JSONB (GIN, jsonb_ops), storage_meta JSONB,
                       user_id / original_id (personalised copies), created_at, updated_at,
                       text_search tsvector (generated from the plugin's text fields, GIN;
                       absent when the plugin has none: see text_index)
{prefix}_c{n}_parts    (object_id FK ON DELETE CASCADE, part_id) PK, position,
                       vector vector(D), is_average; HNSW index with the plugin's metric
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from pgvector.sqlalchemy import VECTOR
from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.schema import CreateIndex, CreateTable, DropIndex, DropTable
from sqlalchemy.sql.elements import ColumnElement

from embedding_studio.models.embeddings.models import MetricType, SearchIndexInfo
from embedding_studio.vectordb import text_index
from embedding_studio.vectordb.identifiers import collection_identifier

MAX_HNSW_DIMENSIONS = 2000  # pgvector 0.6: HNSW indexes vectors of up to 2,000 dimensions
BUILD_MAINTENANCE_WORK_MEM = "1GB"

_OPERATOR_CLASS = {
    MetricType.COSINE: "vector_cosine_ops",
    MetricType.DOT: "vector_ip_ops",
    MetricType.EUCLID: "vector_l2_ops",
}


@dataclass(frozen=True)
class CollectionTables:
    """SQLAlchemy tables of one collection plus the index that bulk loads drop and rebuild."""

    prefix: str
    number: int
    objects: Table
    parts: Table
    hnsw: Index

    @property
    def key(self) -> tuple[str, int]:
        return (self.prefix, self.number)

    @property
    def text_index(self) -> Index | None:
        """The GIN index of the full-text column (None: the collection has no text fields)."""
        return next(
            (i for i in self.objects.indexes if i.name == self.identifier("objects_text")), None
        )

    def identifier(self, suffix: str) -> str:
        """A checked name for another object of this collection (e.g. an extra index)."""
        return collection_identifier(self.prefix, self.number, suffix)


def collection_tables(prefix: str, number: int, index_info: SearchIndexInfo) -> CollectionTables:
    """Describe (not create) the tables of the collection with registry number `number`.
    Cached: a collection's description never changes while its registry row exists."""
    hnsw = index_info.hnsw
    return _tables(
        prefix,
        number,
        index_info.dimensions,
        index_info.metric_type,
        hnsw.m,
        hnsw.ef_construction,
        index_info.text_search_config,
        tuple(index_info.text_search_fields),
    )


@functools.lru_cache(maxsize=256)
def _tables(
    prefix: str,
    number: int,
    dimensions: int,
    metric: MetricType,
    m: int,
    ef_construction: int,
    text_config: str,
    text_fields: tuple[str, ...],
) -> CollectionTables:
    metadata = MetaData()
    name = lambda suffix: collection_identifier(prefix, number, suffix)  # noqa: E731
    objects = Table(
        name("objects"),
        metadata,
        Column("object_id", Text, primary_key=True),
        Column("payload", JSONB(none_as_null=False), nullable=False),
        Column("storage_meta", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("user_id", Text, nullable=True),
        Column("original_id", Text, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    Index(name("objects_payload"), objects.c.payload, postgresql_using="gin")
    text_search = text_index.text_column(text_config, text_fields)
    if text_search is not None:
        objects.append_column(text_search)
        text_index.text_gin_index(name("objects_text"), objects)
    Index(
        name("objects_copies"),
        objects.c.original_id,
        objects.c.user_id,
        postgresql_where=objects.c.original_id.is_not(None),
    )
    parts = Table(
        name("parts"),
        metadata,
        Column(
            "object_id",
            Text,
            ForeignKey(objects.c.object_id, ondelete="CASCADE"),
            primary_key=True,
        ),
        Column("part_id", Text, primary_key=True),
        Column("position", Integer, nullable=False),
        Column("vector", VECTOR(dimensions), nullable=False),
        Column("is_average", Boolean, nullable=False),
    )
    hnsw = Index(
        name("parts_hnsw"),
        parts.c.vector,
        postgresql_using="hnsw",
        postgresql_with={"m": m, "ef_construction": ef_construction},
        postgresql_ops={"vector": _OPERATOR_CLASS[metric]},
    )
    return CollectionTables(prefix, number, objects, parts, hnsw)


def distance(tables: CollectionTables, metric: MetricType, query: object) -> ColumnElement[float]:
    """pgvector's distance of each part to `query` (smaller is closer): cosine distance,
    negative inner product, or L2 distance. The HNSW index serves ORDER BY this."""
    vector = tables.parts.c.vector
    if metric is MetricType.COSINE:
        return vector.cosine_distance(query)
    if metric is MetricType.DOT:
        return vector.max_inner_product(query)
    return vector.l2_distance(query)


def create(connection: Connection, tables: CollectionTables, build_index: bool) -> None:
    """Create both tables and their indexes; the HNSW index only when `build_index`."""
    for table in (tables.objects, tables.parts):
        connection.execute(CreateTable(table))
        for index in sorted(table.indexes, key=lambda item: item.name or ""):
            if index is not tables.hnsw:
                connection.execute(CreateIndex(index))
    if build_index:
        build_hnsw(connection, tables)


def drop(connection: Connection, tables: CollectionTables) -> None:
    connection.execute(DropTable(tables.parts, if_exists=True))
    connection.execute(DropTable(tables.objects, if_exists=True))


def drop_hnsw(connection: Connection, tables: CollectionTables) -> None:
    connection.execute(DropIndex(tables.hnsw, if_exists=True))


def build_hnsw(connection: Connection, tables: CollectionTables) -> None:
    """Build the HNSW index (in this transaction), with room to keep the graph in memory."""
    connection.execute(
        select(func.set_config("maintenance_work_mem", BUILD_MAINTENANCE_WORK_MEM, True))
    )
    connection.execute(CreateIndex(tables.hnsw, if_not_exists=True))


def planner_rows(connection: Connection, tables: CollectionTables) -> float:
    """How many parts the planner believes the collection holds (`pg_class.reltuples`):
    -1 when the table was never analysed."""
    estimate = connection.execute(
        text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:name)"),
        {"name": tables.parts.name},
    ).scalar_one_or_none()
    return -1.0 if estimate is None else float(estimate)


def analyze(connection: Connection, tables: CollectionTables) -> None:
    """Refresh planner statistics after a bulk load (names come from `collection_identifier`)."""
    quote = connection.dialect.identifier_preparer.quote
    for table in (tables.objects, tables.parts):
        connection.execute(text("ANALYZE " + quote(table.name)))
