"""Similarity search on real pgvector: filtered searches fill their pages, pagination slices
one ordering, max_distance, MIN/AVG aggregation over all parts, metrics, sorting,
personalised copies. Results are checked against exact numpy rankings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, event, text

from embedding_studio.core.config import settings
from embedding_studio.core.errors import InvalidRequest
from embedding_studio.data_access.postgres.engine import create_postgres_engine
from embedding_studio.models.embeddings.models import MetricAggregationType, MetricType
from embedding_studio.models.embeddings.objects import personalised_object_id
from embedding_studio.vectordb.collection import Collection
from embedding_studio.vectordb.similarity import SESSION_EF_SEARCH, set_search_parameters
from embedding_studio.vectordb.vectordb import VectorDb
from tests.e2e.vectordb_support import ids, index_info, make_object, unique_prefix

DIM = 32
COUNT = 2000
RNG_SEED = 7


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


class Clustered:
    """COUNT objects of 1-3 parts around 40 random centres (clustered, like real embeddings;
    i.i.d. random vectors would make HNSW recall meaningless)."""

    def __init__(self) -> None:
        rng = np.random.default_rng(RNG_SEED)
        self.centres = _unit(rng.normal(size=(40, DIM)))
        self.parts: dict[str, np.ndarray] = {}
        self.payloads: dict[str, dict[str, Any]] = {}
        for index in range(COUNT):
            centre = self.centres[rng.integers(len(self.centres))]
            count = 1 + index % 3
            self.parts[f"o{index:05d}"] = _unit(centre + rng.normal(scale=0.12, size=(count, DIM)))
            self.payloads[f"o{index:05d}"] = {
                "bucket": index % 10,  # 10% per value
                "rare": index % 20 == 7,  # 5%
                "tiny": index % 100 == 11,  # 1%
            }
        self.queries = _unit(self.centres[:8] + rng.normal(scale=0.1, size=(8, DIM)))

    def exact(self, query: np.ndarray, keep: Any = None) -> list[tuple[str, float]]:
        """(id, AVG cosine distance over all parts), closest first, ties by id."""
        ranked = [
            (object_id, float(np.mean(1.0 - parts @ query)))
            for object_id, parts in self.parts.items()
            if keep is None or keep(self.payloads[object_id])
        ]
        return sorted(ranked, key=lambda pair: (pair[1], pair[0]))


@pytest.fixture(scope="module")
def engine(postgres_url: str) -> Iterator[Engine]:
    created = create_postgres_engine(postgres_url)
    yield created
    created.dispose()


@pytest.fixture(scope="module")
def db(engine: Engine) -> VectorDb:
    return VectorDb(engine, prefix=unique_prefix())


@pytest.fixture(scope="module")
def data() -> Clustered:
    return Clustered()


@pytest.fixture(scope="module")
def clustered(db: VectorDb, data: Clustered) -> Collection:
    info = index_info(DIM, aggregation=MetricAggregationType.AVG)
    collection = db.get_or_create_collection("clustered", "TestPlugin", info, build_index=False)
    objects = [
        make_object(object_id, parts.tolist(), data.payloads[object_id])
        for object_id, parts in data.parts.items()
    ]
    for start in range(0, len(objects), 1000):
        collection.upsert(objects[start : start + 1000])
    collection.finish_bulk_load()
    return collection


def _recall(found: list[str], expected: list[str]) -> float:
    return len(set(found) & set(expected)) / len(expected)


@pytest.mark.parametrize(("field", "share"), [("bucket", 0.10), ("rare", 0.05)])
def test_filtered_search_fills_the_page_at_low_selectivity(
    clustered: Collection, data: Clustered, field: str, share: float
) -> None:
    wanted = 3 if field == "bucket" else True
    recalls = []
    for query in data.queries:
        found = clustered.find_similarities(
            query.tolist(), limit=10, payload_filter={"term": {field: wanted}}
        )
        assert len(found.found_objects) == 10
        assert found.next_offset == 10
        assert all((item.payload or {})[field] == wanted for item in found.found_objects)
        distances = [item.distance for item in found.found_objects]
        assert distances == sorted(distances)
        expected = data.exact(query, lambda payload: payload[field] == wanted)[:10]
        recalls.append(_recall(ids(found), [object_id for object_id, _ in expected]))
    assert np.mean(recalls) >= 0.9, recalls
    assert abs(sum(1 for p in data.payloads.values() if p[field] == wanted) / COUNT - share) < 0.01


def test_very_selective_filter_gets_the_exact_answer(
    clustered: Collection, data: Clustered
) -> None:
    query = data.queries[0]
    found = clustered.find_similarities(
        query.tolist(), limit=10, payload_filter={"term": {"tiny": True}}
    )
    expected = data.exact(query, lambda payload: payload["tiny"])[:10]
    assert ids(found) == [object_id for object_id, _ in expected]
    for item, (_, distance) in zip(found.found_objects, expected, strict=True):
        assert item.distance == pytest.approx(distance, abs=1e-5)


@pytest.mark.parametrize("payload_filter", [None, {"term": {"bucket": 3}}])
def test_pages_slice_one_ordering(
    clustered: Collection, data: Clustered, payload_filter: Any
) -> None:
    query = data.queries[1].tolist()
    whole = clustered.find_similarities(query, limit=30, payload_filter=payload_filter)
    pages = [
        clustered.find_similarities(query, limit=10, offset=offset, payload_filter=payload_filter)
        for offset in (0, 10, 20)
    ]
    assert [page.next_offset for page in pages] == [10, 20, 30]
    assert sum((ids(page) for page in pages), []) == ids(whole)
    assert len(set(ids(whole))) == 30


def test_without_max_distance_there_is_no_distance_limit(
    clustered: Collection, data: Clustered
) -> None:
    query = data.queries[2]
    found = clustered.find_similarities(query.tolist(), limit=50)
    assert len(found.found_objects) == 50
    assert found.found_objects[-1].distance > 0.0


def test_max_distance_keeps_the_objects_within_it(clustered: Collection, data: Clustered) -> None:
    for query in data.queries[:4]:
        expected = data.exact(query, lambda payload: payload["rare"])
        limit_distance = (expected[14][1] + expected[15][1]) / 2  # between the 15th and the 16th
        found = clustered.find_similarities(
            query.tolist(),
            limit=100,
            max_distance=limit_distance,
            payload_filter={"term": {"rare": True}},
        )
        assert all(item.distance <= limit_distance for item in found.found_objects)
        assert _recall(ids(found), [object_id for object_id, _ in expected[:15]]) >= 0.9  # HNSW
        assert found.next_offset is None
    nothing = clustered.find_similarities(data.queries[0].tolist(), limit=10, max_distance=-1.0)
    assert nothing.found_objects == [] and nothing.next_offset is None


def test_max_distance_is_exact_on_small_collections(small: Collection) -> None:
    found = small.find_similarities([1.0, 0.0], limit=10, max_distance=0.0199)  # cos(0.2)=0.980
    assert ids(found) == ["s0", "s1"] and found.next_offset is None
    found = small.find_similarities([1.0, 0.0], limit=2, max_distance=0.0201)
    assert ids(found) == ["s0", "s1"] and found.next_offset == 2


def test_avg_uses_every_part_of_an_object(clustered: Collection, data: Clustered) -> None:
    query = data.queries[4]
    near, far = query, -query  # one part at distance 0, one at distance 2
    clustered.upsert([make_object("split", [near.tolist(), far.tolist()], {"bucket": -1})])
    try:
        found = clustered.find_similarities(
            query.tolist(), limit=5, payload_filter={"term": {"bucket": -1}}
        )
        assert ids(found) == ["split"]
        assert found.found_objects[0].distance == pytest.approx(1.0, abs=1e-5)
        top = clustered.find_similarities(query.tolist(), limit=10)
        assert "split" not in ids(top)
    finally:
        clustered.delete(["split"])


@pytest.mark.parametrize(
    ("aggregation", "order", "distances"),
    [
        (MetricAggregationType.MIN, ["a", "b"], [0.0, 0.2]),
        (MetricAggregationType.AVG, ["b", "a"], [0.2, 1.0]),
    ],
)
def test_min_and_avg_aggregate_part_distances(
    db: VectorDb, aggregation: MetricAggregationType, order: list[str], distances: list[float]
) -> None:
    collection = db.get_or_create_collection(
        f"agg-{aggregation.value}", "P", index_info(2, aggregation=aggregation)
    )
    collection.upsert(
        [
            make_object("a", [[1.0, 0.0], [-1.0, 0.0]]),  # cosine distances 0 and 2
            make_object("b", [[0.8, 0.6]]),  # cosine distance 0.2
        ]
    )
    found = collection.find_similarities([1.0, 0.0], limit=5)
    assert ids(found) == order
    assert [item.distance for item in found.found_objects] == pytest.approx(distances, abs=1e-6)


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        (MetricType.DOT, {"x": -2.0, "y": -0.5}),  # negative inner product
        (MetricType.EUCLID, {"y": np.sqrt(0.5), "x": 1.0}),  # L2 distance
        (MetricType.COSINE, {"x": 0.0, "y": 1.0 - 1 / np.sqrt(2)}),
    ],
)
def test_distances_follow_the_metric(
    db: VectorDb, metric: MetricType, expected: dict[str, float]
) -> None:
    collection = db.get_or_create_collection(
        f"metric-{metric.value}", "P", index_info(2, metric=metric)
    )
    collection.upsert([make_object("x", [[2.0, 0.0]]), make_object("y", [[0.5, 0.5]])])
    found = collection.find_similarities([1.0, 0.0], limit=5)
    assert {item.object_id: item.distance for item in found.found_objects} == pytest.approx(
        expected
    )
    ordered = sorted(expected, key=lambda object_id: expected[object_id])
    assert ids(found) == ordered


@pytest.fixture(scope="module")
def small(db: VectorDb) -> Collection:
    collection = db.get_or_create_collection("small", "P", index_info(2))
    angles = {"s0": 0.0, "s1": 0.1, "s2": 0.2, "s3": 0.3, "s4": 0.4, "s5": 0.5}
    scores = {"s0": 3, "s1": 1, "s2": 2, "s3": 1, "s4": 9, "s5": 5}
    collection.upsert(
        [
            make_object(
                key, [[float(np.cos(a)), float(np.sin(a))]], {"score": scores[key], "name": key}
            )
            for key, a in angles.items()
        ]
    )
    return collection


def test_sort_by_orders_the_candidates_by_the_field_then_distance(small: Collection) -> None:
    found = small.find_similarities(
        [1.0, 0.0], limit=10, sort_by={"field": "score", "order": "asc"}
    )
    assert ids(found) == ["s1", "s3", "s2", "s0", "s5", "s4"]
    within = small.find_similarities(
        [1.0, 0.0], limit=10, max_distance=0.05, sort_by={"field": "score", "order": "desc"}
    )
    assert ids(within) == ["s0", "s2", "s1", "s3"]  # cos(0.3) = 0.955: s3 is at 0.0447
    first = small.find_similarities(
        [1.0, 0.0], limit=10, sort_by={"field": "score"}, similarity_first=True
    )
    assert ids(first) == ["s0", "s1", "s2", "s3", "s4", "s5"]
    paged = small.find_similarities(
        [1.0, 0.0], limit=4, offset=4, sort_by={"field": "score", "order": "asc"}
    )
    assert ids(paged) == ["s5", "s4"] and paged.next_offset is None


def test_sort_by_an_unknown_field_is_a_client_error(small: Collection) -> None:
    with pytest.raises(InvalidRequest, match="sort field 'scroe'"):
        small.find_similarities([1.0, 0.0], limit=3, sort_by={"field": "scroe"})


def test_last_page_has_no_next_offset_and_past_the_end_is_empty(small: Collection) -> None:
    assert small.find_similarities([1.0, 0.0], limit=6).next_offset is None
    assert small.find_similarities([1.0, 0.0], limit=5).next_offset == 5
    beyond = small.find_similarities([1.0, 0.0], limit=5, offset=10)
    assert beyond.found_objects == [] and beyond.next_offset is None


def test_with_vectors_returns_the_part_vectors(small: Collection) -> None:
    found = small.find_similarities([1.0, 0.0], limit=1, with_vectors=True)
    assert found.found_objects[0].vectors == [pytest.approx([1.0, 0.0])]
    assert small.find_similarities([1.0, 0.0], limit=1).found_objects[0].vectors is None


@pytest.mark.parametrize("vector", [[1.0], [1.0, float("nan")], [1.0, float("inf")]])
def test_unusable_query_vectors_are_client_errors(small: Collection, vector: list[float]) -> None:
    with pytest.raises(InvalidRequest, match="query vector"):
        small.find_similarities(vector, limit=3)


def test_personalised_copies_replace_originals_only_for_their_user(db: VectorDb) -> None:
    collection = db.get_or_create_collection("personal", "P", index_info(2))
    collection.upsert(
        [
            make_object("far", [[0.0, 1.0]], {"v": "original"}),
            make_object("mid", [[0.7, 0.7]], {"v": "original"}),
            make_object("near", [[1.0, 0.05]], {"v": "original"}),
        ]
    )
    copy_id = personalised_object_id("far", "alice")
    collection.upsert(
        [make_object(copy_id, [[1.0, 0.0]], {"v": "alice"}, user_id="alice", original_id="far")]
    )

    anonymous = collection.find_similarities([1.0, 0.0], limit=10)
    assert ids(anonymous) == ["near", "mid", "far"]
    assert anonymous.found_objects[2].payload == {"v": "original"}

    alice = collection.find_similarities([1.0, 0.0], limit=10, user_id="alice")
    assert ids(alice) == ["far", "near", "mid"]  # reported under the original id
    assert alice.found_objects[0].payload == {"v": "alice"}
    assert alice.found_objects[0].distance == pytest.approx(0.0, abs=1e-6)

    bob = collection.find_similarities([1.0, 0.0], limit=10, user_id="bob")
    assert ids(bob) == ids(anonymous)
    filtered = collection.find_similarities(
        [1.0, 0.0], limit=10, user_id="alice", payload_filter={"term": {"v": "original"}}
    )
    assert ids(filtered) == ["near", "mid"]
    assert collection.count() == 3 and collection.count(include_copies=True) == 4

    assert [obj.object_id for obj in collection.get_user_copies("alice", ["far", "mid"])] == [
        copy_id
    ]
    assert collection.get_user_copies("bob", ["far"]) == []
    assert [obj.user_id for obj in collection.find_by_original_ids(["far"])] == ["alice"]

    assert collection.delete(["far"]) == 2  # the original and its copy
    assert collection.find_by_ids(["far", copy_id]) == []
    assert ids(collection.find_similarities([1.0, 0.0], limit=10, user_id="alice")) == [
        "near",
        "mid",
    ]


def test_searches_run_without_a_transaction_and_track_the_session_search_parameters(
    postgres_url: str,
) -> None:
    engine = create_postgres_engine(postgres_url)
    try:
        collection = VectorDb(engine, prefix=unique_prefix()).get_or_create_collection(
            "defaults", "P", index_info(2)
        )
        collection.upsert([make_object(f"o{i:03}", [[1.0, i / 100]]) for i in range(300)])
        statements: list[str] = []
        in_transaction: list[bool] = []

        @event.listens_for(engine, "before_cursor_execute")
        def _record(connection: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
            statements.append(statement)
            in_transaction.append(not connection.connection.dbapi_connection.autocommit)

        def plain_search() -> None:
            assert ids(collection.find_similarities([1.0, 0.0], limit=3)) == [
                "o000",
                "o001",
                "o002",
            ]

        def session_settings() -> tuple[str, str, int]:
            """The session's settings and the candidate-list size its record claims. Searches
            ran one at a time: the pool holds one connection, the one they used."""
            with engine.connect() as connection:
                return (
                    connection.execute(text("SHOW hnsw.ef_search")).scalar(),
                    connection.execute(text("SHOW TimeZone")).scalar(),
                    connection.connection.info[SESSION_EF_SEARCH],
                )

        default = settings.VECTORDB_HNSW_EF_SEARCH
        plain_search()
        # One statement: no set_config, no second read for the payloads, no BEGIN/COMMIT.
        assert len(statements) == 1 and "set_config" not in statements[0]
        assert not any(in_transaction)
        statements.clear()
        # More results than the default candidate list holds: this search sets its own,
        # for the session (no transaction), and the connection records what it set...
        found = collection.find_similarities([1.0, 0.0], limit=60)
        assert ids(found) == [f"o{i:03}" for i in range(60)]
        assert any("set_config" in s for s in statements)
        shown, zone, recorded = session_settings()
        assert (shown, zone) == (str(recorded), "UTC") and recorded > default
        # ...so a plain search on that connection finds the default there or sets it back.
        plain_search()
        assert session_settings() == (str(default), "UTC", default)
        statements.clear()
        plain_search()
        assert not any("set_config" in s for s in statements)
        # Without autocommit, a search's own settings end with its transaction.
        with engine.begin() as connection:
            set_search_parameters(connection, default + 7)
            assert connection.execute(text("SHOW hnsw.ef_search")).scalar() == str(default + 7)
        assert session_settings() == (str(default), "UTC", default)
    finally:
        engine.dispose()
