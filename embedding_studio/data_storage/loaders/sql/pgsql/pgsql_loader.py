"""Load items from PostgreSQL rows, by id or in full, through a query generator."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, Select
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    InterfaceError,
    NoSuchTableError,
    OperationalError,
    SQLAlchemyError,
)

from embedding_studio.core.errors import InvalidRequest, StorageUnavailable
from embedding_studio.data_access.postgres.engine import create_postgres_engine
from embedding_studio.data_storage.loaders.data_loader import OutcomeDataLoader
from embedding_studio.data_storage.loaders.downloaded_item import DownloadedItem
from embedding_studio.data_storage.loaders.item_meta import ItemMeta
from embedding_studio.data_storage.loaders.load_outcome import ItemLoadFailure, LoadOutcome
from embedding_studio.data_storage.loaders.sql.pgsql.item_meta import PgsqlFileMeta
from embedding_studio.data_storage.loaders.sql.pgsql.query_generator_factory import (
    QueryGeneratorFactory,
    build_query_generator,
    configuration_problem,
)
from embedding_studio.data_storage.loaders.sql.query_generator import QueryGenerator
from embedding_studio.data_storage.loaders.sql.row_ids import canonical_row_id

if TYPE_CHECKING:
    from datasets import Features

logger = logging.getLogger(__name__)

Row = dict[str, Any]


class RowContentError(ValueError):
    """A row was found but holds no usable content; the message says what is wrong."""


class PgsqlDataLoader(OutcomeDataLoader):
    """Loads rows of a PostgreSQL query as items; subclasses shape a row into item data.

    Rows come from `query_generator` (a `QueryGenerator` class, a subclass whose
    `__init__(engine)` names its own table, or any callable returning one). Items are
    found by `PgsqlFileMeta.object_id`, matched against the generator's id column as
    text, so integer and UUID keys work. A missing row, or a row without usable
    content, is a failure of that item; an unreachable server raises
    `StorageUnavailable`. The engine is created on first use, so constructing the loader
    opens no connection.

    :param connection_string: a PostgreSQL URL (`postgresql://user:pass@host:5432/db`);
        any driver named in it is replaced by psycopg 3.
    :param query_generator: builds the SELECT statements (default `QueryGenerator`).
    :param table_name: the table, for a generator that takes one (`QueryGenerator`).
    :param id_column: overrides the generator's id column (default `id`).
    :param pool_size: connections kept open to the source.
    :param features: the `datasets` schema of `load`, when fixed.
    """

    item_meta_cls = PgsqlFileMeta

    def __init__(
        self,
        connection_string: str,
        query_generator: QueryGeneratorFactory = QueryGenerator,
        table_name: str | None = None,
        id_column: str | None = None,
        pool_size: int = 2,
        features: Features | None = None,
    ) -> None:
        self.connection_string = connection_string
        self.query_generator_factory = query_generator
        self.table_name = table_name
        self.id_column = id_column
        self.pool_size = pool_size
        self.features = features
        self._engine: Engine | None = None
        self._query_generator: QueryGenerator | None = None
        self._lock = threading.Lock()
        problem = configuration_problem(query_generator, table_name)
        if problem:  # not raised here: a plugin must stay constructible; loads report it
            logger.warning("%s: %s", type(self).__name__, problem)

    @property
    def engine(self) -> Engine:
        """The source's engine, created on first use."""
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    self._engine = create_postgres_engine(
                        self.connection_string, pool_size=self.pool_size
                    )
        return self._engine

    def __getstate__(self) -> dict[str, Any]:
        # Copies (deepcopy, pickling) carry the configuration, not the live engine.
        state = self.__dict__.copy()
        state.update(_engine=None, _query_generator=None, _lock=None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def close(self) -> None:
        """Dispose of the engine's connections; the next use opens new ones."""
        with self._lock:
            engine, self._engine, self._query_generator = self._engine, None, None
        if engine is not None:
            engine.dispose()

    @property
    def query_generator(self) -> QueryGenerator:
        """The query generator, built on first use; `InvalidRequest` if misconfigured."""
        if self._query_generator is None:
            generator = build_query_generator(
                self.query_generator_factory, self.engine, self.table_name, self.id_column
            )
            self._query_generator = generator
        return self._query_generator

    def _get_item(self, row: Row) -> Any:
        """The item data of a row; raise `RowContentError` when the row has none."""
        return row

    def load_items_with_failures(self, items_data: list[ItemMeta]) -> LoadOutcome:
        if not items_data:
            return LoadOutcome()
        try:
            rows = self._fetch_rows(sorted({meta.id for meta in items_data}))
        except (InvalidRequest, NoSuchTableError, ArgumentError) as exc:  # the same for every item
            detail = f"{type(self).__name__} is misconfigured: {_describe(exc)}"
            return LoadOutcome(failures=[ItemLoadFailure.of(m, detail) for m in items_data])
        except SQLAlchemyError as exc:
            if len(items_data) == 1:
                return LoadOutcome(failures=[ItemLoadFailure.of(items_data[0], _describe(exc))])
            logger.warning("batch query failed (%s); retrying item by item", _describe(exc))
            return LoadOutcome.merge(self.load_items_with_failures([m]) for m in items_data)
        return self._outcome(items_data, rows)

    def _outcome(self, items_data: list[ItemMeta], rows: Mapping[str, Row]) -> LoadOutcome:
        outcome = LoadOutcome()
        seen: set[str] = set()
        for meta in items_data:
            if meta.id in seen:
                continue
            seen.add(meta.id)
            row = rows.get(meta.id) or rows.get(canonical_row_id(meta.id))
            if row is None:
                detail = f"no row with {self.query_generator.id_column} = {meta.id!r}"
                outcome.failures.append(ItemLoadFailure.of(meta, detail))
                continue
            try:
                data = self._get_item(row)
            except RowContentError as exc:
                outcome.failures.append(ItemLoadFailure.of(meta, str(exc)))
                continue
            outcome.items.append(DownloadedItem(id=meta.id, data=data, meta=meta))
        return outcome

    def _fetch_rows(self, row_ids: Sequence[str]) -> dict[str, Row]:
        generator = self.query_generator
        rows = self._execute(lambda: generator.fetch_all(list(row_ids)))
        id_column = generator.id_column
        if rows and id_column not in rows[0]:
            raise InvalidRequest(
                f"the query of {type(generator).__name__} returns no column {id_column!r}"
            )
        return {str(row[id_column]): row for row in rows}

    def _execute(self, build: Callable[[], Select]) -> list[Row]:
        """Build the statement (reflection may query the database) and run it."""
        try:
            statement = build()
            with self.engine.connect() as connection:
                return [dict(row._mapping) for row in connection.execute(statement)]
        except (OperationalError, InterfaceError) as exc:
            raise StorageUnavailable(f"PostgreSQL source unreachable: {_describe(exc)}") from exc
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise StorageUnavailable(f"PostgreSQL source lost: {_describe(exc)}") from exc
            raise

    def total_count(self) -> int | None:
        """The number of rows of the generator's `count()` query."""
        generator = self.query_generator
        rows = self._execute(generator.count)
        return int(next(iter(rows[0].values())))

    def load_all(self, batch_size: int) -> Iterator[list[DownloadedItem]]:
        """Every row of the generator's `all` query, `batch_size` rows per query.

        Rows without usable content are logged and left out.
        """
        if batch_size <= 0:
            raise InvalidRequest(f"batch_size must be positive, got {batch_size}")
        offset = 0
        while True:
            rows = self._page(offset, batch_size)
            if not rows:
                return
            if batch := self._items_of(rows):
                yield batch
            offset += batch_size

    def _load_batch_with_offset(self, offset: int, batch_size: int) -> list[DownloadedItem]:
        return self._items_of(self._page(offset, batch_size))

    def _page(self, offset: int, batch_size: int) -> list[Row]:
        generator = self.query_generator
        return self._execute(lambda: generator.all(offset=offset, batch_size=batch_size))

    def _items_of(self, rows: list[Row]) -> list[DownloadedItem]:
        id_column = self.query_generator.id_column
        items: list[DownloadedItem] = []
        for row in rows:
            meta = PgsqlFileMeta(object_id=str(row[id_column]))
            try:
                items.append(DownloadedItem(id=meta.id, data=self._get_item(row), meta=meta))
            except RowContentError as exc:
                logger.warning("full load skips row %s: %s", meta.id, exc)
        return items


def _describe(exc: BaseException) -> str:
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        text = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else ""
        return f"{type(exc.orig).__name__}: {text}"
    return f"{type(exc).__name__}: {exc}"
