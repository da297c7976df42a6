"""Pages of search results: by similarity (optionally sorted by a payload field) or by
payload filter alone. Every page is a slice of one deterministic ordering, fetched with one
extra row to tell whether a next page exists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Float,
    Table,
    Text,
    and_,
    any_,
    bindparam,
    column,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnElement

from embedding_studio.core.errors import InvalidRequest
from embedding_studio.models.embeddings.models import SearchIndexInfo
from embedding_studio.models.embeddings.objects import SearchResultItem, SearchResults
from embedding_studio.models.payload.models import PayloadFilter, SortByOptions
from embedding_studio.vectordb.filter_compiler import (
    compile_filter,
    ordered,
    reported_id,
    sort_field_present,
    sort_key,
)
from embedding_studio.vectordb.object_store import ids_param, part_vectors
from embedding_studio.vectordb.schema import CollectionTables
from embedding_studio.vectordb.similarity import (
    NearestQuery,
    ObjectDetails,
    Ranked,
    nearest,
    set_search_parameters,
)

SORT_CANDIDATES = 1000
"""With `sort_by`, the candidates are the nearest SORT_CANDIDATES objects that pass the filter
(and `max_distance` when given); they are then ordered by the field."""


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int = 0

    def next_offset(self, fetched: int) -> int | None:
        """`fetched` rows were read for this page with one extra: more exist if it came."""
        return self.offset + self.limit if fetched > self.limit else None


def visible_to(objects: Table, for_user: bool) -> ColumnElement[bool]:
    """Originals only; for a user (the `user_id` bind parameter), that user's copies replace
    the originals they copy."""
    if not for_user:
        return objects.c.user_id.is_(None)
    user_id = bindparam("user_id", type_=Text)
    copies = objects.alias("copies")
    has_copy = exists().where(
        copies.c.original_id == objects.c.object_id, copies.c.user_id == user_id
    )
    return or_(objects.c.user_id == user_id, and_(objects.c.user_id.is_(None), ~has_copy))


def user_parameters(user_id: str | None) -> dict[str, Any]:
    return {} if user_id is None else {"user_id": user_id}


def nearest_query(
    tables: CollectionTables,
    index_info: SearchIndexInfo,
    vector: list[float],
    max_distance: float | None,
    payload_filter: PayloadFilter | None,
    user_id: str | None,
) -> NearestQuery:
    """The visible (for `user_id`), filtered objects ranked by distance to `vector`."""
    objects = tables.objects
    for_user = user_id is not None
    return NearestQuery(
        tables=tables,
        index_info=index_info,
        vector=vector,
        where=and_(visible_to(objects, for_user), compile_filter(payload_filter, objects)),
        max_distance=max_distance,
        selective=payload_filter is not None or for_user,
        where_key=("visible", for_user) if payload_filter is None else None,
        parameters=user_parameters(user_id),
    )


def check_sort_field(connection: Connection, objects: Table, sort_by: SortByOptions) -> None:
    """InvalidRequest when no object holds the sort field (most often a typo)."""
    present = connection.execute(
        select(exists().where(sort_field_present(sort_by, objects)))
    ).scalar()
    if not present:
        raise InvalidRequest(
            f"sort field {sort_by.field!r} is in no object's payload: check the spelling "
            "(dotted paths like 'specs.price' reach nested keys) or search without sort_by"
        )


def _read_details(
    connection: Connection, tables: CollectionTables, row_ids: list[str]
) -> dict[str, ObjectDetails]:
    objects = tables.objects
    rows = connection.execute(
        select(objects.c.object_id, objects.c.payload, objects.c.storage_meta).where(
            objects.c.object_id == any_(ids_param("ids", row_ids))
        )
    )
    return {row.object_id: ObjectDetails(row.payload, row.storage_meta or {}) for row in rows}


def result_items(
    connection: Connection,
    tables: CollectionTables,
    ranked: list[Ranked],
    with_vectors: bool,
) -> list[SearchResultItem]:
    """Result items for ranked rows, in the given order; the rows' details are read here
    when the ranking did not bring them."""
    row_ids = [item.object_id for item in ranked]
    read = (
        _read_details(connection, tables, row_ids)
        if any(item.details is None for item in ranked)
        else {}
    )
    vectors = part_vectors(connection, tables, row_ids) if with_vectors else {}
    items = []
    for item in ranked:
        details = item.details or read.get(item.object_id)
        if details is None:  # deleted between the two reads
            continue
        parts = vectors.get(item.object_id, [])
        items.append(
            SearchResultItem(
                object_id=item.result_id,
                distance=item.distance,
                payload=details.payload,
                storage_meta=details.storage_meta,
                vectors=[part.vector for part in parts] if with_vectors else None,
            )
        )
    return items


def _sorted_candidates(
    connection: Connection,
    tables: CollectionTables,
    candidates: list[Ranked],
    sort_by: SortByOptions,
    similarity_first: bool,
    page: Page,
) -> list[Ranked]:
    objects = tables.objects
    pairs = (
        func.unnest(
            ids_param("candidate_ids", [item.object_id for item in candidates]),
            bindparam(
                "candidate_distances", [item.distance for item in candidates], type_=ARRAY(Float)
            ),
        )
        .table_valued(column("object_id"), column("distance", Float))
        .render_derived("candidates")
    )
    key = ordered(sort_key(sort_by, objects), sort_by.order)
    result_id = reported_id(objects)
    by_distance = pairs.c.distance.asc()
    order = (by_distance, key) if similarity_first else (key, by_distance)
    stmt = (
        select(objects.c.object_id, result_id.label("result_id"), pairs.c.distance)
        .select_from(objects.join(pairs, pairs.c.object_id == objects.c.object_id))
        .order_by(*order, result_id)
        .offset(page.offset)
        .limit(page.limit + 1)
    )
    return [
        Ranked(row.object_id, row.result_id, float(row.distance))
        for row in connection.execute(stmt)
    ]


def similarity_page(
    connection: Connection,
    tables: CollectionTables,
    index_info: SearchIndexInfo,
    vector: list[float],
    page: Page,
    max_distance: float | None,
    payload_filter: PayloadFilter | None,
    sort_by: SortByOptions | None,
    similarity_first: bool,
    user_id: str | None,
    with_vectors: bool,
) -> SearchResults:
    if sort_by is not None:
        check_sort_field(connection, tables.objects, sort_by)
    query = nearest_query(tables, index_info, vector, max_distance, payload_filter, user_id)
    if sort_by is None:
        rows = nearest(connection, query, page.offset + page.limit + 1, details=True)
        rows = rows[page.offset :]
    else:
        candidates = nearest(connection, query, SORT_CANDIDATES)
        rows = _sorted_candidates(connection, tables, candidates, sort_by, similarity_first, page)
    items = result_items(connection, tables, rows[: page.limit], with_vectors)
    return SearchResults(found_objects=items, next_offset=page.next_offset(len(rows)))


def payload_page(
    connection: Connection,
    tables: CollectionTables,
    payload_filter: PayloadFilter | None,
    page: Page,
    sort_by: SortByOptions | None,
    user_id: str | None,
) -> SearchResults:
    """Objects matching the filter, distance 0, ordered by the sort field then reported id."""
    objects = tables.objects
    set_search_parameters(connection, 1)
    if sort_by is not None:
        check_sort_field(connection, objects, sort_by)
    result_id = reported_id(objects)
    order: list[Any] = [ordered(sort_key(sort_by, objects), sort_by.order)] if sort_by else []
    stmt = (
        select(objects.c.object_id, result_id.label("result_id"))
        .where(visible_to(objects, user_id is not None), compile_filter(payload_filter, objects))
        .order_by(*order, result_id)
        .offset(page.offset)
        .limit(page.limit + 1)
    )
    result = connection.execute(stmt, user_parameters(user_id))
    rows = [Ranked(row.object_id, row.result_id, 0.0) for row in result]
    items = result_items(connection, tables, rows[: page.limit], with_vectors=False)
    return SearchResults(found_objects=items, next_offset=page.next_offset(len(rows)))


def payload_count(
    connection: Connection,
    tables: CollectionTables,
    payload_filter: PayloadFilter | None,
    user_id: str | None,
) -> int:
    objects = tables.objects
    set_search_parameters(connection, 1)
    stmt = (
        select(func.count())
        .select_from(objects)
        .where(visible_to(objects, user_id is not None), compile_filter(payload_filter, objects))
    )
    return int(connection.execute(stmt, user_parameters(user_id)).scalar_one())
