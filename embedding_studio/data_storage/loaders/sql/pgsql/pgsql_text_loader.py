"""Load one text column of PostgreSQL rows as items' text."""

from __future__ import annotations

from typing import TYPE_CHECKING

from embedding_studio.data_storage.loaders.sql.pgsql.pgsql_loader import (
    PgsqlDataLoader,
    Row,
    RowContentError,
)
from embedding_studio.data_storage.loaders.sql.pgsql.query_generator_factory import (
    QueryGeneratorFactory,
)
from embedding_studio.data_storage.loaders.sql.query_generator import QueryGenerator

if TYPE_CHECKING:
    from datasets import Features


class PgsqlTextLoader(PgsqlDataLoader):
    """Items are the text in `text_column` of the rows the query generator returns.

    `DownloadedItem.data` is a `str` (a `bytea` value is decoded with `encoding`).
    A row whose `text_column` is NULL or not text is a failure of that item.

    Example::

        PgsqlTextLoader(
            connection_string="postgresql://user:pass@host:5432/db",
            query_generator=ArticleQueryGenerator,  # or QueryGenerator with table_name=...
            text_column="content",
        ).load_items([PgsqlFileMeta(object_id="1")])

    See `PgsqlDataLoader` for the other arguments.
    """

    def __init__(
        self,
        connection_string: str,
        query_generator: QueryGeneratorFactory = QueryGenerator,
        text_column: str = "text_data",
        table_name: str | None = None,
        id_column: str | None = None,
        encoding: str = "utf-8",
        pool_size: int = 2,
        features: Features | None = None,
    ) -> None:
        super().__init__(
            connection_string,
            query_generator=query_generator,
            table_name=table_name,
            id_column=id_column,
            pool_size=pool_size,
            features=features,
        )
        self.text_column = text_column
        self.encoding = encoding

    def _get_item(self, row: Row) -> str:
        if self.text_column not in row:
            raise RowContentError(
                f"the query returns no column {self.text_column!r} (columns: {sorted(row)})"
            )
        value = row[self.text_column]
        if value is None:
            raise RowContentError(f"column {self.text_column!r} is NULL")
        if isinstance(value, bytes | memoryview):
            try:
                return bytes(value).decode(self.encoding)
            except UnicodeDecodeError as exc:
                raise RowContentError(
                    f"column {self.text_column!r} is not valid {self.encoding}: {exc.reason}"
                ) from None
        if not isinstance(value, str):
            raise RowContentError(
                f"column {self.text_column!r} holds {type(value).__name__}, not text"
            )
        return value
