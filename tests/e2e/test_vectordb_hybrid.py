"""Hybrid (vector + full-text) search and score boosts on real PostgreSQL: fusion order on a
hand-made corpus, the formulas, filters, pagination, personalisation, max_distance, the
text column kept in step with writes, and the migration for collections created before it.

Query vector (1, 0); the query text "solar panel" matches d (both words) and b ("panel").
Vector ranks: a 1, b 2, c 3, d 4, e 5. Full-text ranks: d 1, b 2.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, text

from embedding_studio.core.errors import InvalidRequest
from embedding_studio.data_access.postgres.engine import create_postgres_engine
from embedding_studio.models.embeddings.models import SearchIndexInfo
from embedding_studio.models.embeddings.objects import personalised_object_id
from embedding_studio.models.embeddings.ranking import HybridSearch, Ranking
from embedding_studio.vectordb.collection import Collection
from embedding_studio.vectordb.migration_runner import discover
from embedding_studio.vectordb.vectordb import VectorDb
from tests.e2e.vectordb_support import ids, make_object, unique_prefix

QUERY = [1.0, 0.0]
TEXT = "solar panel"
NOW = datetime(2026, 1, 31, tzinfo=UTC)
RRF = HybridSearch(mode="rrf")
CORPUS: dict[
    str, tuple[float, str, dict[str, Any]]
] = {  # id: (angle to the query in degrees, text, payload)
    "a": (0, "Wind turbines turn in the breeze", {"group": "x", "published": "2025-12-02"}),
    "b": (10, "Panel discussion on efficiency", {"group": "x", "views": "many"}),
    "c": (20, "Gardening tips for spring", {"group": "x", "views": 100}),
    "d": (80, "Solar panel installation guide", {"group": "y"}),
    "e": (90, "Cooking fresh pasta at home", {"group": "x"}),
}


def _vector(angle: float) -> list[float]:
    return [math.cos(math.radians(angle)), math.sin(math.radians(angle))]


def _object(object_id: str, angle: float, content: str, payload: dict[str, Any], **extra: Any):
    obj = make_object(object_id, [_vector(angle)], payload, **extra)
    return obj.model_copy(update={"storage_meta": {"source": "inline", "data": content}})


@pytest.fixture(scope="module")
def engine(postgres_url: str) -> Iterator[Engine]:
    created = create_postgres_engine(postgres_url)
    yield created
    created.dispose()


@pytest.fixture(scope="module")
def db(engine: Engine) -> VectorDb:
    return VectorDb(engine, prefix=unique_prefix())


@pytest.fixture()
def corpus(db: VectorDb) -> Collection:
    name = uuid.uuid4().hex[:12]
    collection = db.get_or_create_collection(name, "TestPlugin", SearchIndexInfo(dimensions=2))
    collection.upsert([_object(key, *value) for key, value in CORPUS.items()])
    return collection


def _hybrid(collection: Collection, limit: int = 10, **options: Any) -> list[str]:
    hybrid = {"mode": "rrf", **options.pop("hybrid", {})}
    ranking = Ranking(hybrid=HybridSearch(**hybrid), **options)
    return ids(collection.find_ranked(QUERY, ranking, limit=limit, query_text=TEXT))


def test_rrf_fuses_vector_and_text_ranks(corpus: Collection) -> None:
    found = corpus.find_ranked(QUERY, Ranking(hybrid=RRF), limit=10, query_text=TEXT)
    # b: 1/62 + 1/62, d: 1/64 + 1/61, a: 1/61, c: 1/63, e: 1/65
    assert ids(found) == ["b", "d", "a", "c", "e"]
    scores = {item.object_id: item.score for item in found.found_objects}
    assert scores["b"] == pytest.approx(2 / 62)
    assert scores["d"] == pytest.approx(1 / 64 + 1 / 61)
    assert scores["e"] == pytest.approx(1 / 65)
    assert _hybrid(corpus, hybrid={"rrf_k": 1}) == ["d", "b", "a", "c", "e"]
    assert _hybrid(corpus, hybrid={"text_weight": 0}) == ["a", "b", "c", "d", "e"]
    # lexical only: the matches by text rank, then the others at 0 by id
    assert _hybrid(corpus, hybrid={"vector_weight": 0}) == ["d", "b", "a", "c", "e"]
    assert _hybrid(corpus, hybrid={"text_match": "all"}, limit=2) == ["d", "a"]


def test_weighted_blend_adds_normalised_scores(corpus: Collection) -> None:
    def scores(**hybrid: Any) -> dict[str, float]:
        ranking = Ranking(hybrid=HybridSearch(mode="weighted", **hybrid))
        found = corpus.find_ranked(QUERY, ranking, limit=10, query_text=TEXT)
        return {item.object_id: item.score or 0.0 for item in found.found_objects}

    text_only = scores(vector_weight=0)
    assert text_only["d"] == pytest.approx(1.0)
    assert 0 < text_only["b"] < 1 and text_only["a"] == 0
    blend = scores(vector_weight=2, text_weight=0.5)
    for key, (angle, _, _) in CORPUS.items():
        vector_norm = math.cos(math.radians(angle))  # (d_max - d) / (d_max - d_min), d_max 1
        expected = 2 * vector_norm + 0.5 * text_only[key]
        assert blend[key] == pytest.approx(expected, abs=1e-6)


def test_boosts_reorder_by_the_formula(corpus: Collection) -> None:
    def boosted(*boosts: dict[str, Any]) -> dict[str, float]:
        found = corpus.find_ranked(QUERY, Ranking(boosts=list(boosts)), limit=3, now=NOW)
        return {item.object_id: item.score or 0.0 for item in found.found_objects}

    relevance = {k: 1 - (1 - math.cos(math.radians(CORPUS[k][0]))) / 2 for k in "abc"}
    popular = boosted({"type": "popularity", "field": "views", "weight": 1})
    assert list(popular) == ["c", "a", "b"]  # b's "many" is not a number: no boost, kept
    assert popular["c"] == pytest.approx(relevance["c"] * (1 + math.log(101)))
    assert popular["b"] == pytest.approx(relevance["b"])
    recent = boosted(
        {"type": "recency", "field": "published", "half_life_days": 30, "weight": 1},
        {"type": "numeric", "field": "views", "weight": 0.001},
    )
    assert recent["a"] == pytest.approx(relevance["a"] * (1 + 0.5 ** (60 / 30)))
    assert recent["c"] == pytest.approx(relevance["c"] * (1 + 0.1))
    assert list(recent) == ["a", "c", "b"]


def test_filters_and_pagination_apply_to_both_retrievers(corpus: Collection) -> None:
    group_x = {"term": {"group": "x"}}
    found = corpus.find_ranked(
        QUERY, Ranking(hybrid=RRF), limit=10, query_text=TEXT, payload_filter=group_x
    )
    assert ids(found) == ["b", "a", "c", "e"]  # d matches the text but not the filter
    full = _hybrid(corpus)
    pages: list[str] = []
    offset: int | None = 0
    while offset is not None:
        page = corpus.find_ranked(
            QUERY, Ranking(hybrid=RRF), limit=2, offset=offset, query_text=TEXT
        )
        pages.extend(ids(page))
        offset = page.next_offset
    assert pages == full
    narrow = Ranking(hybrid=RRF, candidates=1)  # a from vectors, d from text
    assert ids(corpus.find_ranked(QUERY, narrow, limit=10, query_text=TEXT)) == ["a", "d"]


def test_max_distance_bounds_text_matches_too(corpus: Collection) -> None:
    found = corpus.find_ranked(
        QUERY, Ranking(hybrid=RRF), limit=10, query_text=TEXT, max_distance=0.5
    )
    assert ids(found) == ["b", "a", "c"]  # d (distance 0.83) matched the text: dropped
    assert all(item.distance <= 0.5 for item in found.found_objects)


def test_personalised_copy_replaces_its_original_for_its_user(corpus: Collection) -> None:
    copy = _object(
        personalised_object_id("e", "alice"),
        0,
        "Solar panel pasta",
        {"group": "x"},
        user_id="alice",
        original_id="e",
    )
    corpus.upsert([copy])
    for_alice = corpus.find_ranked(
        QUERY, Ranking(hybrid=RRF), limit=2, query_text=TEXT, user_id="alice"
    )
    assert ids(for_alice)[0] == "e"  # reported under the original's id
    assert for_alice.found_objects[0].distance == pytest.approx(0.0, abs=1e-6)
    assert ids(corpus.find_ranked(QUERY, Ranking(hybrid=RRF), limit=10,
                                  query_text=TEXT, user_id="bob"))[-1] == "e"  # fmt: skip


def test_text_index_follows_upserts_and_deletions(corpus: Collection) -> None:
    corpus.upsert([_object("a", 0, "Solar panel wind hybrid farm", {"group": "x"})])
    assert _hybrid(corpus, hybrid={"vector_weight": 0}, limit=2)[0] in {"a", "d"}
    corpus.delete(["d", "b"])
    assert _hybrid(corpus, hybrid={"vector_weight": 0}, limit=1) == ["a"]


def test_payload_text_fields_and_collections_without_text(db: VectorDb) -> None:
    titled = db.get_or_create_collection(
        "titled", "P", SearchIndexInfo(dimensions=2, text_search_fields=["payload.meta.title"])
    )
    titled.upsert(
        [
            _object("far", 90, "solar panel", {"meta": {"title": "Solar panels explained"}}),
            _object("near", 0, "solar panel", {"meta": {"title": "Wind"}}),
        ]
    )
    assert _hybrid(titled, hybrid={"vector_weight": 0}, limit=1) == ["far"]
    plain = db.get_or_create_collection(
        "notext", "P", SearchIndexInfo(dimensions=2, text_search_fields=[])
    )
    plain.upsert([_object("x", 0, "solar panel", {})])
    with pytest.raises(InvalidRequest, match="text_search_fields"):
        _hybrid(plain)
    boosted = plain.find_ranked(QUERY, Ranking(boosts=[{"type": "numeric", "field": "n"}]), 5)
    assert ids(boosted) == ["x"]


def test_migration_adds_the_text_column_to_older_collections(db: VectorDb, engine: Engine) -> None:
    older = db.get_or_create_collection("older", "P", SearchIndexInfo(dimensions=2))
    older.upsert([_object(key, *value) for key, value in CORPUS.items()])
    table = older.tables.objects.name
    with engine.begin() as connection:
        connection.execute(text(f'ALTER TABLE "{table}" DROP COLUMN text_search'))
    (migration,) = [m for m in discover() if m.name == "collection_text_search"]
    with engine.begin() as connection:
        migration.load().upgrade(connection)
        migration.load().upgrade(connection)  # a second run finds nothing to do
    assert _hybrid(older)[:2] == ["b", "d"]
