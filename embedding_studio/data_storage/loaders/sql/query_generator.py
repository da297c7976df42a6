"""The SELECT statements a SQL loader runs, built with SQLAlchemy Core."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import ColumnElement, Engine, MetaData, Select, Subquery, Table, func, select

from embedding_studio.core.errors import InvalidRequest
from embedding_studio.data_storage.loaders.sql.identifiers import checked_identifier
from embedding_studio.data_storage.loaders.sql.row_ids import id_matches


class QueryGenerator:
    """Builds the queries of a SQL data loader over one table (or any SELECT of yours).

    `all(offset, batch_size)` is the source's query: by default every column of
    `table_name` ordered by `id_column`. The other queries derive from it: `fetch_all`
    keeps the rows of `all` whose `id_column` is one of the ids (compared as text, so an
    integer or UUID primary key works), `count` counts them. A subclass that overrides
    only `all` (to join other tables, add computed columns) therefore loads items by id
    with the same columns; its `all` must return a column named `id_column`.

    Nothing touches the database at construction: the table is reflected on first use.

    Example (a join with a computed text column)::

        class ArticleQueryGenerator(QueryGenerator):
            def __init__(self, engine: Engine) -> None:
                super().__init__("articles", engine)

            def all(self, offset: int, batch_size: int) -> Select:
                authors = Table("authors", self.metadata, autoload_with=self.engine)
                return (
                    select(self.table, authors.c.name.label("author_name"))
                    .join(authors, self.table.c.author_id == authors.c.id)
                    .order_by(self.table.c.id).limit(batch_size).offset(offset)
                )

    :param table_name: the table to read (validated: letters, digits, `_`).
    :param engine: the SQLAlchemy engine of the source database.
    :param id_column: the column holding the item id (`object_id`), default `id`.
    :param schema: the table's schema, when not the search path's.
    """

    def __init__(
        self, table_name: str, engine: Engine, id_column: str = "id", schema: str | None = None
    ) -> None:
        self.table_name = checked_identifier(table_name, "table name")
        self.engine = engine
        self.id_column = checked_identifier(id_column, "id column name")
        self.schema = checked_identifier(schema, "schema name") if schema is not None else None
        self.metadata = MetaData()
        self._table: Table | None = None
        self._reflect_lock = threading.Lock()

    @property
    def table(self) -> Table:
        """The reflected `table_name` (reflected once, on first use)."""
        if self._table is None:
            with self._reflect_lock:
                if self._table is None:
                    self._table = Table(
                        self.table_name,
                        self.metadata,
                        autoload_with=self.engine,
                        schema=self.schema,
                    )
        return self._table

    def all(self, offset: int, batch_size: int) -> Select:
        """Rows `offset` .. `offset + batch_size - 1`, in a stable order."""
        table = self.table
        return select(table).order_by(table.c[self.id_column]).limit(batch_size).offset(offset)

    def fetch_all(self, row_ids: list[str]) -> Select:
        """The rows of `all` whose `id_column` is one of `row_ids`."""
        source = self._source()
        return select(source).where(id_matches(self._id_of(source), row_ids))

    def one(self, row_id: str) -> Select:
        """The row of `all` whose `id_column` is `row_id`."""
        return self.fetch_all([row_id])

    def count(self) -> Select:
        """The number of rows `all` pages through."""
        return select(func.count()).select_from(self._source())

    def _source(self) -> Subquery:
        unpaged = self.all(0, 1).limit(None).offset(None).order_by(None)
        return unpaged.subquery("source")

    def _id_of(self, source: Subquery) -> ColumnElement[Any]:
        if self.id_column not in source.c:
            raise InvalidRequest(
                f"the query of {type(self).__name__} returns no column {self.id_column!r} "
                f"(it returns {list(source.c.keys())}); select it or set id_column"
            )
        return source.c[self.id_column]
