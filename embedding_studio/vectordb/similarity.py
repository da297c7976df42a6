"""Nearest objects to a query vector: HNSW over-fetch with an exact fallback.

An object's distance aggregates the distances of ALL its parts (MIN or AVG). Ranking is by
(distance, reported id), so every page of a query slices the same ordering.

pgvector 0.6 has no iterative index scans: an HNSW scan returns at most `hnsw.ef_search`
(<= 1000) parts and any WHERE clause filters them afterwards, so a 10% filter leaves ~4 of 10
rows. We therefore never filter inside the index scan. A "pool" takes the K nearest parts
(with ef_search = 2K); the filter, visibility and aggregation run over the pool's objects, each
aggregated over all its parts. Let B be the distance of the pool's farthest part. Any object
whose MIN or AVG distance is <= B has a part within B, so it is in the pool: the pool's objects
with distance <= B are exactly the true top objects (up to HNSW recall). If there are enough
of them, or `max_distance` <= B, the answer is complete; otherwise K grows to 1000 (when the
first pool's match rate predicts enough matches), and then an exact scan of the filtered set
(which the planner runs without the HNSW index, through the GIN index when it can) answers.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from pgvector.sqlalchemy import VECTOR
from sqlalchemy import (
    Connection,
    Engine,
    Float,
    Integer,
    Select,
    Subquery,
    bindparam,
    event,
    func,
    select,
    true,
)
from sqlalchemy.sql.elements import ColumnElement

from embedding_studio.core.config import settings
from embedding_studio.models.embeddings.models import MetricAggregationType, SearchIndexInfo
from embedding_studio.vectordb.filter_compiler import reported_id
from embedding_studio.vectordb.schema import CollectionTables, distance

POOL_LIMIT = 1000  # pgvector caps hnsw.ef_search at 1000
SELECTIVE_OVERFETCH = 20  # pool parts per wanted object when a filter or user applies
PLAIN_OVERFETCH = 2
_STATEMENT_CACHE_SIZE = 256
RANDOM_PAGE_COST = "1.1"


@dataclass(frozen=True)
class ObjectDetails:
    """What a result shows of its object's row besides the ids."""

    payload: Any
    storage_meta: dict[str, Any]


@dataclass(frozen=True)
class Ranked:
    """A ranked object: its row id, the id results report (the original's) and distance;
    `details` when the ranking statement read them too (`nearest(..., details=True)`)."""

    object_id: str
    result_id: str
    distance: float
    details: ObjectDetails | None = None


@dataclass(frozen=True)
class NearestQuery:
    """What to rank: the visible, filtered objects (`where`) of a collection by distance.

    :param where: condition on the objects table; its named bind parameters get their
        values from `parameters`
    :param where_key: a hashable description of `where` when the statements built from it
        may be cached and reused (None: build them for this query only)
    """

    tables: CollectionTables
    index_info: SearchIndexInfo
    vector: list[float]
    where: ColumnElement[bool]
    max_distance: float | None
    selective: bool
    where_key: Hashable | None = None
    parameters: dict[str, Any] = field(default_factory=dict)

    def execution_parameters(self, **extra: Any) -> dict[str, Any]:
        return {
            **self.parameters,
            "query_vector": self.vector,
            "max_distance": self.max_distance,
            **extra,
        }


class _StatementCache:
    """Statements per (collection, shape); building SQLAlchemy constructs costs milliseconds."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, Select[Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable | None, build: Callable[[], Select[Any]]) -> Select[Any]:
        if key is None:
            return build()
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        statement = build()
        with self._lock:
            self._items[key] = statement
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return statement


_statements = _StatementCache(_STATEMENT_CACHE_SIZE)


def _aggregate(query: NearestQuery) -> Any:
    if query.index_info.metric_aggregation_type is MetricAggregationType.MIN:
        return func.min
    return func.avg


def _part_distance(query: NearestQuery) -> ColumnElement[float]:
    vector = bindparam("query_vector", type_=VECTOR(query.index_info.dimensions))
    return distance(query.tables, query.index_info.metric_type, vector)


def _max_distance() -> Any:
    return bindparam("max_distance", type_=Float)


def _exact_select(query: NearestQuery, details: bool) -> Select[Any]:
    """All visible, filtered objects ranked exactly; the planner cannot use HNSW here."""
    objects, parts = query.tables.objects, query.tables.parts
    object_distance = _aggregate(query)(_part_distance(query))
    result_id = reported_id(objects).label("result_id")
    stmt = (
        select(objects.c.object_id, result_id, object_distance.label("distance"))
        .select_from(objects.join(parts, parts.c.object_id == objects.c.object_id))
        .where(query.where)
        .group_by(objects.c.object_id)
    )
    if query.max_distance is not None:
        stmt = stmt.having(object_distance <= _max_distance())
    stmt = stmt.order_by(object_distance, result_id).limit(bindparam("needed", type_=Integer))
    if not details:
        return stmt
    rows = _with_details(query, stmt.subquery("ranked"))
    return select(rows).order_by(rows.c.distance, rows.c.result_id)


def _with_details(query: NearestQuery, ranked: Subquery) -> Subquery:
    """The ranked rows with their payload and storage meta: looked up by primary key for
    the rows kept, after the limit, so a page needs no second read."""
    objects = query.tables.objects
    return (
        select(ranked, objects.c.payload, objects.c.storage_meta)
        .select_from(ranked.join(objects, objects.c.object_id == ranked.c.object_id))
        .subquery("detailed")
    )


def _pool_select(query: NearestQuery, details: bool) -> Select[Any]:
    """The pool's size and boundary, with its objects ranked over all their parts.

    The pool's objects are visited one by one (LATERAL: primary-key lookups), never by
    scanning the objects table."""
    objects, parts = query.tables.objects, query.tables.parts
    part_distance = _part_distance(query)
    pool = (
        select(parts.c.object_id, part_distance.label("distance"))
        .order_by(part_distance)
        .limit(bindparam("pool_size", type_=Integer))
        .cte("pool")
    )
    stats = select(
        func.count().label("pool_size"), func.max(pool.c.distance).label("boundary")
    ).subquery("stats")
    candidates = select(pool.c.object_id).distinct().subquery("candidates")
    matched = (
        select(objects.c.object_id, reported_id(objects).label("result_id"))
        .where(objects.c.object_id == candidates.c.object_id, query.where)
        .lateral("matched")
    )
    aggregated = (
        select(_aggregate(query)(part_distance).label("distance"))
        .where(parts.c.object_id == matched.c.object_id)
        .lateral("aggregated")
    )
    ranked = (
        select(matched.c.object_id, matched.c.result_id, aggregated.c.distance)
        .select_from(candidates.join(matched, true()).join(aggregated, true()))
        .where(aggregated.c.distance.is_not(None))
        .order_by(aggregated.c.distance, matched.c.result_id)
        .limit(bindparam("needed", type_=Integer))
    )
    if query.max_distance is not None:
        ranked = ranked.where(aggregated.c.distance <= _max_distance())
    rows = ranked.subquery("ranked")
    if details:
        rows = _with_details(query, rows)
    return (
        select(stats.c.pool_size, stats.c.boundary, *rows.c)
        .select_from(stats.outerjoin(rows, true()))
        .order_by(rows.c.distance, rows.c.result_id)
    )


def _statement(query: NearestQuery, kind: str, details: bool) -> Select[Any]:
    build = _pool_select if kind == "pool" else _exact_select
    key = None
    if query.where_key is not None:
        key = (
            query.tables.key,
            query.index_info.model_dump_json(),
            query.where_key,
            query.max_distance is None,
            kind,
            details,
        )
    return _statements.get(key, lambda: build(query, details))


SESSION_EF_SEARCH = "embedding_studio.session_ef_search"  # key in a pooled connection's info


def _search_settings(ef_search: int) -> dict[str, str]:
    """What a search runs with: HNSW candidate list size; UTC for date filters; random page
    cost for data that lives in memory or on SSD (it lets filtered scans use the GIN index)."""
    return {
        "hnsw.ef_search": str(ef_search),
        "TimeZone": "UTC",
        "random_page_cost": RANDOM_PAGE_COST,
    }


def install_session_defaults(engine: Engine) -> None:
    """Start each new connection of `engine` with the settings of a plain search, so that
    most searches need no `set_config` round trip of their own (see
    `set_search_parameters`). Connections opened before this keep setting them per search."""
    if not event.contains(engine, "connect", _set_session_defaults):
        event.listen(engine, "connect", _set_session_defaults)


def _set_session_defaults(dbapi_connection: Any, record: Any) -> None:
    ef_search = settings.VECTORDB_HNSW_EF_SEARCH
    values = _search_settings(ef_search)
    calls = ", ".join("set_config(%s, %s, false)" for _ in values)
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True  # a session setting, never rolled back with a search
    try:
        dbapi_connection.execute(f"SELECT {calls}", [v for pair in values.items() for v in pair])
    finally:
        dbapi_connection.autocommit = autocommit
    record.info[SESSION_EF_SEARCH] = ef_search


def set_search_parameters(connection: Connection, ef_search: int) -> None:
    """The search settings (`_search_settings`) for what `connection` runs next; nothing to
    send when its session already has them (`install_session_defaults`).

    In a transaction they are set for the transaction only. On an autocommit connection
    (searches read without BEGIN/COMMIT) a transaction-local setting would end with its own
    statement, so they become the session's, and the connection's `info` records the
    candidate-list size for the next search on it to compare against."""
    record = connection.connection
    if record.info.get(SESSION_EF_SEARCH) == ef_search:
        return
    values = _search_settings(ef_search)
    dbapi = record.dbapi_connection  # None only once the connection is closed
    for_session = dbapi is not None and bool(dbapi.autocommit)
    connection.execute(select(*(func.set_config(k, v, not for_session) for k, v in values.items())))
    if for_session:
        record.info[SESSION_EF_SEARCH] = ef_search


def pool_sizes(needed: int, selective: bool) -> list[int]:
    """The pool sizes to try before the exact scan (empty: go straight to the exact scan)."""
    if needed > POOL_LIMIT:
        return []
    factor = SELECTIVE_OVERFETCH if selective else PLAIN_OVERFETCH
    first = min(POOL_LIMIT, max(settings.VECTORDB_HNSW_EF_SEARCH // 2, factor * needed))
    return [first] if first >= POOL_LIMIT else [first, POOL_LIMIT]


def ef_search_for(pool_size: int) -> int:
    """Twice the pool: the tail of an HNSW candidate list is its least accurate part."""
    return min(POOL_LIMIT, max(settings.VECTORDB_HNSW_EF_SEARCH, 2 * pool_size))


@dataclass(frozen=True)
class _PoolOutcome:
    ranked: list[Ranked] | None  # None: the pool cannot decide the ranking
    matches: int  # objects of the pool that pass the filter (and max_distance), up to `needed`


def _from_pool(
    connection: Connection, query: NearestQuery, size: int, needed: int, details: bool
) -> _PoolOutcome:
    set_search_parameters(connection, ef_search_for(size))
    parameters = query.execution_parameters(pool_size=size, needed=needed)
    rows = connection.execute(_statement(query, "pool", details), parameters).all()
    pooled, boundary = rows[0].pool_size, rows[0].boundary
    found = [row for row in rows if row.object_id is not None]
    if pooled < size:  # fewer parts than asked for: leave it to the exact scan
        return _PoolOutcome(None, 0)
    ranked = [_ranked(row) for row in found if row.distance <= boundary]
    if len(ranked) >= needed:
        return _PoolOutcome(ranked[:needed], len(found))
    if query.max_distance is not None and boundary >= query.max_distance:
        return _PoolOutcome(ranked, len(found))
    return _PoolOutcome(None, len(found))


def nearest(
    connection: Connection, query: NearestQuery, needed: int, details: bool = False
) -> list[Ranked]:
    """The first `needed` objects by (distance, reported id); fewer when fewer qualify.
    With `details`, each comes with its payload and storage meta.

    After a pool fails, the share of its objects that matched predicts the next pool's
    yield; when that falls short of `needed`, the exact scan runs at once."""
    previous: tuple[int, int] | None = None  # (pool size, matches) of the last attempt
    for size in pool_sizes(needed, query.selective):
        if previous is not None and previous[1] * size / previous[0] < needed:
            break
        outcome = _from_pool(connection, query, size, needed, details)
        if outcome.ranked is not None:
            return outcome.ranked
        previous = (size, outcome.matches)
    set_search_parameters(connection, settings.VECTORDB_HNSW_EF_SEARCH)
    parameters = query.execution_parameters(needed=needed)
    rows = connection.execute(_statement(query, "exact", details), parameters).all()
    return [_ranked(row) for row in rows]


def _ranked(row: Any) -> Ranked:
    columns = row._mapping
    details = (
        ObjectDetails(columns["payload"], columns["storage_meta"] or {})
        if "storage_meta" in columns
        else None
    )
    return Ranked(row.object_id, row.result_id, float(row.distance), details)
