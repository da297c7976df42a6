"""Pages of a search ranked beyond plain distance: hybrid fusion and/or score boosts.

The candidates are the `Ranking.candidates` nearest objects (the same pool, filters,
visibility and `max_distance` as vector-only search) and, in hybrid mode, as many
full-text matches among the same visible, filtered objects. A full-text match gets its
exact vector distance too, and is dropped when that exceeds `max_distance`: in hybrid
mode, as in vector search, no result is farther than `max_distance`. The candidates are
scored (fusion, or vector relevance), boosted, and ordered by (score descending, reported
id); every page slices that one ordering, so pages neither overlap nor skip, and the
results end with the candidates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pgvector.sqlalchemy import VECTOR
from sqlalchemy import Connection, any_, bindparam, func, select

from embedding_studio.core.errors import InvalidRequest
from embedding_studio.models.embeddings.models import MetricAggregationType, SearchIndexInfo
from embedding_studio.models.embeddings.objects import SearchResults
from embedding_studio.models.embeddings.ranking import Ranking
from embedding_studio.models.payload.models import PayloadFilter
from embedding_studio.vectordb import schema
from embedding_studio.vectordb.boosts import boost_factor
from embedding_studio.vectordb.fusion import Candidate, fused_scores, similarity
from embedding_studio.vectordb.lexical import text_candidates
from embedding_studio.vectordb.object_store import ids_param
from embedding_studio.vectordb.schema import CollectionTables
from embedding_studio.vectordb.search import Page, nearest_query, result_items
from embedding_studio.vectordb.similarity import NearestQuery, Ranked, nearest


@dataclass(frozen=True)
class RankedQuery:
    """What to search: the query's vector and (hybrid) text, and the usual restrictions."""

    vector: list[float]
    text: str | None
    ranking: Ranking
    max_distance: float | None = None
    payload_filter: PayloadFilter | None = None
    user_id: str | None = None


def object_distances(
    connection: Connection,
    tables: CollectionTables,
    index_info: SearchIndexInfo,
    vector: list[float],
    row_ids: list[str],
) -> dict[str, float]:
    """The aggregated (MIN or AVG over all parts) distance of each of these rows."""
    if not row_ids:
        return {}
    parts = tables.parts
    query_vector = bindparam("query_vector", type_=VECTOR(index_info.dimensions))
    part_distance = schema.distance(tables, index_info.metric_type, query_vector)
    aggregate = (
        func.min if index_info.metric_aggregation_type is MetricAggregationType.MIN else func.avg
    )
    stmt = (
        select(parts.c.object_id, aggregate(part_distance).label("distance"))
        .where(parts.c.object_id == any_(ids_param("ids", row_ids)))
        .group_by(parts.c.object_id)
    )
    rows = connection.execute(stmt, {"query_vector": vector})
    return {row.object_id: float(row.distance) for row in rows}


def _candidates(
    connection: Connection,
    tables: CollectionTables,
    index_info: SearchIndexInfo,
    query: RankedQuery,
    nearest_of: NearestQuery,
) -> list[Candidate]:
    found = {
        hit.object_id: Candidate(hit.object_id, hit.result_id, hit.distance, vector_rank=rank)
        for rank, hit in enumerate(nearest(connection, nearest_of, query.ranking.candidates), 1)
    }
    hybrid = query.ranking.hybrid
    if hybrid is None:
        return list(found.values())
    if not query.text or not query.text.strip():
        raise InvalidRequest("hybrid.text_query: the query has no text for full-text search")
    hits = text_candidates(
        connection,
        tables,
        index_info.text_search_config,
        query.text,
        hybrid.text_match,
        nearest_of.where,
        nearest_of.parameters,
        query.ranking.candidates,
    )
    missing = [hit.object_id for hit in hits if hit.object_id not in found]
    distances = object_distances(connection, tables, index_info, query.vector, missing)
    for rank, hit in enumerate(hits, 1):
        known = found.get(hit.object_id)
        distance = known.distance if known else distances.get(hit.object_id)
        if distance is None or (query.max_distance is not None and distance > query.max_distance):
            continue  # no parts left (deleted meanwhile), or farther than max_distance
        found[hit.object_id] = Candidate(
            hit.object_id,
            hit.result_id,
            distance,
            vector_rank=known.vector_rank if known else None,
            text_rank=rank,
            text_score=hit.score,
        )
    return list(found.values())


def _payloads(
    connection: Connection, tables: CollectionTables, row_ids: list[str]
) -> dict[str, Any]:
    objects = tables.objects
    rows = connection.execute(
        select(objects.c.object_id, objects.c.payload).where(
            objects.c.object_id == any_(ids_param("ids", row_ids))
        )
    )
    return {row.object_id: row.payload for row in rows}


def _scores(
    connection: Connection,
    tables: CollectionTables,
    index_info: SearchIndexInfo,
    ranking: Ranking,
    candidates: list[Candidate],
    now: datetime,
) -> dict[str, float]:
    if ranking.hybrid is not None:
        scores = fused_scores(candidates, ranking.hybrid)
    else:
        scores = {c.row_id: similarity(c.distance, index_info.metric_type) for c in candidates}
    if not ranking.boosts:
        return scores
    payloads = _payloads(connection, tables, list(scores))
    return {
        row_id: score * boost_factor(ranking.boosts, payloads.get(row_id), now)
        for row_id, score in scores.items()
    }


def ranked_page(
    connection: Connection,
    tables: CollectionTables,
    index_info: SearchIndexInfo,
    query: RankedQuery,
    page: Page,
    now: datetime,
) -> SearchResults:
    """One page of the fused and boosted candidates (see the module docstring).

    :param now: the moment recency boosts measure ages from
    """
    if query.ranking.hybrid is not None and tables.text_index is None:
        raise InvalidRequest(
            "hybrid search needs full-text fields, and this collection has none (its plugin's "
            "SearchIndexInfo.text_search_fields is empty): search without 'hybrid'"
        )
    nearest_of = nearest_query(
        tables, index_info, query.vector, query.max_distance, query.payload_filter, query.user_id
    )
    candidates = _candidates(connection, tables, index_info, query, nearest_of)
    scores = _scores(connection, tables, index_info, query.ranking, candidates, now)
    ordered = sorted(candidates, key=lambda c: (-scores[c.row_id], c.result_id))
    window = ordered[page.offset : page.offset + page.limit + 1]
    rows = [Ranked(c.row_id, c.result_id, c.distance) for c in window[: page.limit]]
    items = result_items(connection, tables, rows, with_vectors=False)
    by_result = {c.result_id: scores[c.row_id] for c in window}
    scored = [item.model_copy(update={"score": by_result[item.object_id]}) for item in items]
    return SearchResults(found_objects=scored, next_offset=page.next_offset(len(window)))
