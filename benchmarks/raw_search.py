"""The raw search baseline: encode the query in this process and run the plain pgvector
query on the blue collection's parts table, with no API, no queue and no aggregation.

The filters of the speed benchmark are a join on the objects' payload, as a hand-written
query would do; HNSW filters after the index scan, so a selective filter may return fewer
rows than `limit` and than the objects matching (the figure `complete_pages` shows it)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.sql.elements import ColumnElement

from benchmarks.raw_model import load_model
from embedding_studio.data_access.postgres.engine import create_postgres_engine, sqlalchemy_url
from embedding_studio.vectordb.schema import CollectionTables
from embedding_studio.vectordb.vectordb import VectorDb

# name -> (payload filter of the API, the same condition on an object's `bucket` value)
FILTERS: dict[str, tuple[dict[str, Any], Callable[[int], bool]]] = {
    "filter_1pct": ({"term": {"bucket": 7}}, lambda bucket: bucket == 7),
    "filter_10pct": ({"range": {"bucket": {"lt": 10}}}, lambda bucket: bucket < 10),
}


def _blue_tables(postgres_url: str) -> CollectionTables:
    engine = create_postgres_engine(postgres_url, pool_size=1)
    try:
        return VectorDb(engine).get_blue_collection().tables
    finally:
        engine.dispose()


def _condition(tables: CollectionTables, payload_filter: dict[str, Any]) -> ColumnElement[bool]:
    bucket = tables.objects.c.payload["bucket"].as_integer()
    if "term" in payload_filter:
        return bucket == payload_filter["term"]["bucket"]
    return bucket < payload_filter["range"]["bucket"]["lt"]


class RawSearch:
    """Encode + pgvector query; thread-safe (one connection per concurrent caller, the
    encode under a lock: a fast tokenizer must not be used by two threads at once)."""

    def __init__(self, postgres_url: str, limit: int = 10, ef_search: int = 100) -> None:
        self.limit = limit
        self.model = load_model()
        self.tables = _blue_tables(postgres_url)
        self.engine: Engine = create_engine(sqlalchemy_url(postgres_url), pool_size=16)
        self._encode_lock = threading.Lock()

        @event.listens_for(self.engine, "connect")
        def _set_ef_search(dbapi_connection: Any, _record: Any) -> None:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT set_config('hnsw.ef_search', %s, false)", (str(ef_search),))

    def __enter__(self) -> RawSearch:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.engine.dispose()

    def encode(self, query: str) -> Any:
        with self._encode_lock:
            return self.model.encode(query, normalize_embeddings=True)

    def search(self, query: str, payload_filter: dict[str, Any] | None = None) -> int:
        """The number of rows the plain query returns (at most `limit`)."""
        vector = self.encode(query)
        parts = self.tables.parts
        statement = select(parts.c.object_id)
        if payload_filter is not None:
            objects = self.tables.objects
            statement = statement.join(objects, objects.c.object_id == parts.c.object_id).where(
                _condition(self.tables, payload_filter)
            )
        statement = statement.order_by(parts.c.vector.cosine_distance(vector)).limit(self.limit)
        with self.engine.connect() as connection:
            return len(connection.execute(statement).all())


def count_objects(postgres_url: str) -> int:
    """Objects in the blue collection now (originals and personalised copies)."""
    engine = create_postgres_engine(postgres_url, pool_size=1)
    try:
        tables = VectorDb(engine).get_blue_collection().tables
        with engine.connect() as connection:
            return int(
                connection.execute(select(func.count()).select_from(tables.objects)).scalar_one()
            )
    finally:
        engine.dispose()
