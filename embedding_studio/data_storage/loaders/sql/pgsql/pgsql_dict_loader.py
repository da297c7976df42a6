"""Load whole PostgreSQL rows (or chosen columns) as items' fields."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic_core import to_jsonable_python

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


class PgsqlDictLoader(PgsqlDataLoader):
    """Items are rows as dicts: `{column: value}` for `columns`, or every column.

    Values are made JSON-compatible (timestamps and dates as ISO strings, decimals as
    numbers, UUIDs as strings, `bytea` as base64), so items can be stored and sent as
    they are. A row lacking one of `columns` is a failure of that item.
    See `PgsqlDataLoader` for the other arguments.
    """

    def __init__(
        self,
        connection_string: str,
        query_generator: QueryGeneratorFactory = QueryGenerator,
        columns: list[str] | None = None,
        table_name: str | None = None,
        id_column: str | None = None,
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
        self.columns = list(columns) if columns is not None else None

    def _get_item(self, row: Row) -> dict[str, Any]:
        if self.columns is None:
            selected = row
        else:
            missing = [column for column in self.columns if column not in row]
            if missing:
                raise RowContentError(
                    f"the query returns no column {missing} (columns: {sorted(row)})"
                )
            selected = {column: row[column] for column in self.columns}
        plain = {key: _plain(value) for key, value in selected.items()}
        return to_jsonable_python(plain, bytes_mode="base64")


def _plain(value: Any) -> Any:
    # pydantic writes decimals as strings; a numeric column is a number to a payload filter.
    return float(value) if isinstance(value, Decimal) else value
