"""Vector database optimizations a plugin asks for (`get_vectordb_optimizations()`).

An optimization is a one-off change to one collection's tables, such as an extra index. Each
is applied once per collection: `Collection.apply_optimizations` runs `apply` and records its
`name` in the registry in the same transaction, so a restart (or a second process) skips it.

    class CreateTitleIndex(Optimization):
        name = "title_index"

        def apply(self, connection, target):
            CreatePayloadIndexOptimization("title").apply(connection, target)
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass

from sqlalchemy import Connection, Index, Table, Text, func, literal
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.schema import CreateIndex
from sqlalchemy.sql.elements import ColumnElement

from embedding_studio.models.payload.fields import field_path_keys
from embedding_studio.vectordb.collection_info import CollectionInfo
from embedding_studio.vectordb.payload_conditions import TEXT_SEARCH_CONFIG, TEXT_VALUE_TYPES
from embedding_studio.vectordb.schema import CollectionTables


@dataclass(frozen=True)
class OptimizationTarget:
    """The collection an optimization applies to.

    :param info: its registry row (model id, plugin, search index info)
    :param tables: its objects and parts tables; `tables.identifier(suffix)` gives a checked
        name for a new index (suffix: lower-case letters, digits, `_`)
    """

    info: CollectionInfo
    tables: CollectionTables

    @property
    def objects(self) -> Table:
        return self.tables.objects

    @property
    def parts(self) -> Table:
        return self.tables.parts


class Optimization(ABC):
    """A one-off change to a collection's tables, applied once per collection.

    Subclasses set `name` (stable and unique among a plugin's optimizations: it is what the
    registry records) and implement `apply`, which runs inside the transaction that records
    it; raising rolls both back.
    """

    name: str

    @abstractmethod
    def apply(self, connection: Connection, target: OptimizationTarget) -> None:
        """Change the collection's tables through `connection` (SQLAlchemy Core)."""


def _path_literal(payload: ColumnElement[object], field: str) -> ColumnElement[object]:
    """`payload #> '{a,b}'` with the path as a literal (DDL takes no bound parameters)."""
    keys = field_path_keys(field)
    return payload.op("#>", return_type=JSONB)(literal(keys, ARRAY(Text), literal_execute=True))


def _create_index(connection: Connection, index: Index, table: Table) -> None:
    """Create `index` if missing, then detach it from `table`: table descriptions are
    cached per collection number, so an index left attached would be created again with
    the tables of a same-numbered collection in another database."""
    try:
        connection.execute(CreateIndex(index, if_not_exists=True))
    finally:
        table.indexes.discard(index)


def _suffix(kind: str, field: str) -> str:
    return f"{kind}_{hashlib.sha1(field.encode()).hexdigest()[:10]}"


class CreatePayloadIndexOptimization(Optimization):
    """A B-tree index on the JSONB value at a payload path (`payload #> '{a,b}'`): it serves
    ordering by that field (`sort_by`) in payload searches."""

    def __init__(self, field: str) -> None:
        field_path_keys(field)
        self.field = field
        self.name = f"payload_index:{field}"

    def apply(self, connection: Connection, target: OptimizationTarget) -> None:
        expression = _path_literal(target.objects.c.payload, self.field)
        name = target.tables.identifier(_suffix("px", self.field))
        _create_index(connection, Index(name, expression, _table=target.objects), target.objects)


class CreateFullTextIndexOptimization(Optimization):
    """A GIN index on the words of a payload field: it serves `match` and `match_phrase`
    on that field (the same expression the filter compiler emits)."""

    def __init__(self, field: str) -> None:
        field_path_keys(field)
        self.field = field
        self.name = f"full_text_index:{field}"

    def apply(self, connection: Connection, target: OptimizationTarget) -> None:
        value = _path_literal(target.objects.c.payload, self.field)
        vector = func.jsonb_to_tsvector(TEXT_SEARCH_CONFIG, value, TEXT_VALUE_TYPES)
        name = target.tables.identifier(_suffix("ft", self.field))
        index = Index(name, vector, postgresql_using="gin", _table=target.objects)
        _create_index(connection, index, target.objects)
