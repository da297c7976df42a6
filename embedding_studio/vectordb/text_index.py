"""The full-text side of a collection: a stored, generated `tsvector` column and its GIN index.

The column is ``GENERATED ALWAYS AS (...) STORED`` from the plugin's `text_search_fields`
(`SearchIndexInfo`), so PostgreSQL keeps it in step with every write: upserts, personalised
copies, reindex copies (all go through `object_store.upsert_objects`) and deletions. Each
field's JSON value is indexed with ``to_tsvector(config, jsonb)``, which takes every string
inside it (a plain string, or the strings of an object or array); numbers and missing keys
add nothing. Paths and the configuration are validated (`SearchIndexInfo`) and the
expression is fixed DDL, compiled with literal values.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Computed,
    Connection,
    Index,
    Table,
    cast,
    func,
    literal,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, REGCONFIG, TSVECTOR
from sqlalchemy.schema import CreateColumn, CreateIndex
from sqlalchemy.sql.elements import ColumnElement

from embedding_studio.models.embeddings.models import text_search_path

TEXT_COLUMN = "text_search"


def text_document(
    payload: ColumnElement[object],
    storage_meta: ColumnElement[object],
    config: str,
    fields: tuple[str, ...],
) -> ColumnElement[object]:
    """The tsvector of an object: the fields' strings, concatenated in the given order."""
    language = cast(literal(config), REGCONFIG)
    document: ColumnElement[object] | None = None
    for path in fields:
        root, keys = text_search_path(path)
        source = payload if root == "payload" else storage_meta
        value = source[keys[0]] if len(keys) == 1 else source[tuple(keys)]
        piece = func.coalesce(func.to_tsvector(language, value), cast(literal(""), TSVECTOR))
        document = piece if document is None else document.op("||")(piece)
    return document if document is not None else cast(literal(""), TSVECTOR)


def text_column(config: str, fields: tuple[str, ...]) -> Column[object] | None:
    """The generated column for a collection's objects table (None: no text fields)."""
    if not fields:
        return None
    payload = Column("payload", JSONB)
    storage_meta = Column("storage_meta", JSONB)
    expression = text_document(payload, storage_meta, config, fields)
    return Column(TEXT_COLUMN, TSVECTOR, Computed(expression, persisted=True))


def text_gin_index(name: str, objects: Table) -> Index:
    return Index(name, objects.c[TEXT_COLUMN], postgresql_using="gin")


def add_text_search(connection: Connection, objects: Table, index: Index) -> bool:
    """Add the generated column and its GIN index to an existing objects table (a table
    created before full-text search existed); False when the table already has them or
    when the collection has no text fields. Rewrites the table: run it in a migration.
    The table name comes from `collection_identifier`; the column's DDL is compiled from
    the validated fields, with literal values."""
    column = objects.c.get(TEXT_COLUMN)
    if column is None:
        return False
    present = connection.execute(
        select(func.count())
        .select_from(text("information_schema.columns"))
        .where(
            literal_column("table_name") == objects.name,
            literal_column("column_name") == TEXT_COLUMN,
        )
    ).scalar_one()
    if present:
        return False
    quote = connection.dialect.identifier_preparer.quote
    definition = CreateColumn(column).compile(dialect=connection.dialect)
    connection.execute(text(f"ALTER TABLE {quote(objects.name)} ADD COLUMN {definition}"))
    connection.execute(CreateIndex(index, if_not_exists=True))
    return True
