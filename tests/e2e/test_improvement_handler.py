"""The improvement handler with a real context: PostgreSQL documents and a pgvector
collection, sessions registered through the clickstream service. A small test plugin
embeds queries to hand-made 4-d vectors so that the expected moves are easy to see."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import pytest

from embedding_studio.context.app_context import AppContext, build_context
from embedding_studio.core.config import settings
from embedding_studio.core.plugin import FineTuningMethod
from embedding_studio.embeddings.improvement.torch_based_adjuster import TorchBasedAdjuster
from embedding_studio.models.clickstream.session_events import SessionEvent
from embedding_studio.models.clickstream.sessions import SearchResultItem, Session
from embedding_studio.models.embeddings.models import (
    MetricAggregationType,
    MetricType,
    SearchIndexInfo,
)
from embedding_studio.models.embeddings.objects import Object, ObjectPart
from embedding_studio.models.improvement import SessionForImprovementCreateSchema
from embedding_studio.models.plugin import PluginMeta
from embedding_studio.models.tasks import TaskStatus
from embedding_studio.workers.improvement.handler import LOCK_NAME, improve_pending_sessions
from embedding_studio.workers.improvement.recovery import requeue_abandoned

MODEL_ID = "improvement-test-model"
INDEX = SearchIndexInfo(
    dimensions=4, metric_type=MetricType.COSINE, metric_aggregation_type=MetricAggregationType.MIN
)
QUERIES = {"alpha": [1.0, 0.0, 0.0, 0.0], "beta": [0.0, 1.0, 0.0, 0.0]}
# Ranked for "alpha": a, b, c, d (d last); e is close to "beta".
OBJECTS = {
    "a": [[0.95, 0.3, 0.0, 0.0]],
    "b": [[0.8, 0.0, 0.6, 0.0], [0.0, 0.0, 1.0, 0.0]],
    "c": [[0.6, 0.0, 0.0, 0.8]],
    "d": [[0.3, 0.2, 0.6, 0.7], [0.2, 0.1, 0.9, 0.3]],
    "e": [[0.1, 0.99, 0.0, 0.0]],
}


class _QueryClient:
    def forward_query(self, query: str | dict[str, Any]) -> np.ndarray:
        if query not in QUERIES:
            raise RuntimeError(f"the test model cannot embed {query!r}")
        return np.asarray(QUERIES[query], dtype=np.float32)


class _ClientFactory:
    def get_client(self, embedding_model_id: str, **kwargs: Any) -> _QueryClient:
        return _QueryClient()


class ImprovementTestPlugin(FineTuningMethod):
    """Only what the improvement worker reads: index info, query embedding, adjuster."""

    meta = PluginMeta(name="ImprovementTestPlugin", version="0.0.1", description="tests")
    adjuster_options: ClassVar[dict[str, Any]] = {}

    def upload_initial_model(self) -> None:
        raise NotImplementedError

    def get_query_retriever(self) -> Any:
        raise NotImplementedError

    def get_items_preprocessor(self) -> Any:
        raise NotImplementedError

    def get_data_loader(self) -> Any:
        raise NotImplementedError

    def get_manager(self) -> Any:
        raise NotImplementedError

    def get_inference_client_factory(self) -> Any:
        return _ClientFactory()

    def get_fine_tuning_builder(self, clickstream: list[Any]) -> Any:
        raise NotImplementedError

    def get_search_index_info(self) -> SearchIndexInfo:
        return INDEX

    def get_vectors_adjuster(self) -> TorchBasedAdjuster:
        return TorchBasedAdjuster(self.get_search_index_info(), **self.adjuster_options)

    def get_vectordb_optimizations(self) -> list[Any]:
        return []


@pytest.fixture
def ctx(fresh_database_url: str) -> Iterator[AppContext]:
    config = settings.model_copy(
        update={
            "POSTGRES_URL": fresh_database_url,
            "DOCUMENT_STORE_URL": None,
            "INFERENCE_USED_PLUGINS": [ImprovementTestPlugin.meta.name],
        }
    )
    context = build_context(config)
    context.enqueue = lambda kind, reason: None  # triggers are not under test here
    context.plugin_manager.register(ImprovementTestPlugin)
    collection = context.vectordb.get_or_create_collection(
        MODEL_ID, ImprovementTestPlugin.meta.name, INDEX
    )
    collection.upsert([obj(object_id, vectors) for object_id, vectors in OBJECTS.items()])
    context.vectordb.set_blue(MODEL_ID)
    yield context
    context.close()


def obj(object_id: str, vectors: list[list[float]]) -> Object:
    return Object(
        object_id=object_id,
        parts=[ObjectPart(part_id=f"{object_id}:{i}", vector=v) for i, v in enumerate(vectors)],
        payload={"name": object_id},
        storage_meta={"source": "test"},
    )


def ranking(ctx: AppContext, query: str, user_id: str | None = None) -> list[str]:
    results = ctx.vectordb.get_blue_collection().find_similarities(
        QUERIES[query], limit=10, user_id=user_id
    )
    return [item.object_id for item in results.found_objects]


def mark(
    ctx: AppContext,
    session_id: str,
    query: str = "alpha",
    clicks: tuple[str, ...] = ("d",),
    user_id: str | None = "u1",
    results: tuple[str, ...] = ("a", "b", "c", "d"),
    irrelevant: bool = False,
) -> str:
    """Register a session with its clicks and queue it; return the record id."""
    ctx.clickstream_dao.register_session(
        Session(
            session_id=session_id,
            search_query=query,
            search_results=[SearchResultItem(object_id=i) for i in results],
            user_id=user_id,
        )
    )
    if clicks:
        ctx.clickstream_dao.push_events(
            [SessionEvent(session_id=session_id, object_id=i) for i in clicks]
        )
    if irrelevant:
        ctx.clickstream_dao.mark_session_irrelevant(session_id)
    record = ctx.sessions_for_improvement.create(
        SessionForImprovementCreateSchema(session_id=session_id)
    )
    return record.id


def record_of(ctx: AppContext, record_id: str) -> Any:
    record = ctx.sessions_for_improvement.get(record_id)
    assert record is not None
    return record


def cosine(a: list[float], b: list[float]) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def best_part_similarity(ctx: AppContext, object_id: str, query: str = "alpha") -> float:
    [found] = ctx.vectordb.get_blue_collection().find_by_ids([object_id])
    return max(cosine(part.vector, QUERIES[query]) for part in found.parts)


def test_clicked_result_rises_for_that_user_only_and_originals_stay(ctx: AppContext) -> None:
    before = ranking(ctx, "alpha")
    assert before[:4] == ["a", "b", "c", "d"]
    record_id = mark(ctx, "s1", clicks=("d",))

    outcome = improve_pending_sessions(ctx)

    assert outcome == Counter({"done": 1})
    assert record_of(ctx, record_id).status is TaskStatus.done
    personal = ranking(ctx, "alpha", user_id="u1")
    assert personal.index("d") < 3
    assert personal.index("d") < before.index("d")
    assert ranking(ctx, "alpha", user_id="u2") == before
    assert ranking(ctx, "alpha") == before
    collection = ctx.vectordb.get_blue_collection()
    originals = {o.object_id: o for o in collection.find_by_ids(list(OBJECTS))}
    for object_id, vectors in OBJECTS.items():
        stored = [p.vector for p in originals[object_id].parts]
        assert np.allclose(stored, vectors, atol=1e-6)
    copies = collection.get_user_copies("u1", list(OBJECTS))
    assert sorted(c.object_id for c in copies) == ["a_u1", "b_u1", "c_u1", "d_u1"]
    assert all(c.payload == {"name": c.original_id} for c in copies)
    assert {c.object_id: len(c.parts) for c in copies}["d_u1"] == 2


def test_each_session_gets_its_own_outcome_and_a_failure_does_not_block_the_batch(
    ctx: AppContext,
) -> None:
    good = mark(ctx, "good", clicks=("d",))
    anonymous = mark(ctx, "anonymous", user_id=None)
    no_clicks = mark(ctx, "no-clicks", clicks=(), irrelevant=False, user_id="u3")
    unembeddable = mark(ctx, "unembeddable", query="gamma", user_id="u4")
    irrelevant = mark(ctx, "irrelevant", clicks=(), irrelevant=True, user_id="u5")
    missing = ctx.sessions_for_improvement.create(
        SessionForImprovementCreateSchema(session_id="never-registered")
    ).id

    outcome = improve_pending_sessions(ctx, batch_size=10)

    assert outcome == Counter({"done": 3, "failed": 2, "refused": 1})
    assert record_of(ctx, good).status is TaskStatus.done
    assert record_of(ctx, good).detail is None
    assert record_of(ctx, anonymous).status is TaskStatus.refused
    assert "no user_id" in record_of(ctx, anonymous).detail
    assert record_of(ctx, no_clicks).status is TaskStatus.done
    assert "nothing to adjust" in record_of(ctx, no_clicks).detail
    assert record_of(ctx, unembeddable).status is TaskStatus.failed
    assert "cannot embed 'gamma'" in record_of(ctx, unembeddable).detail
    assert record_of(ctx, missing).status is TaskStatus.failed
    assert "does not exist" in record_of(ctx, missing).detail
    assert record_of(ctx, irrelevant).status is TaskStatus.done
    # the irrelevant session pushed every result away from its user's query
    for object_id in "abcd":
        assert best_part_similarity(ctx, f"{object_id}_u5") < best_part_similarity(ctx, object_id)
    assert ctx.vectordb.get_blue_collection().get_user_copies("u3", list(OBJECTS)) == []


def test_a_users_later_session_starts_from_their_copies(ctx: AppContext) -> None:
    ImprovementTestPlugin.adjuster_options = {"adjustment_rate": 0.02, "num_iterations": 3}
    try:
        mark(ctx, "u1-first", clicks=("c",), user_id="u1")
        mark(ctx, "u1-second", clicks=("c",), user_id="u1")
        mark(ctx, "u2-only", clicks=("c",), user_id="u2")

        assert improve_pending_sessions(ctx, batch_size=10) == Counter({"done": 3})
    finally:
        ImprovementTestPlugin.adjuster_options = {}

    twice = best_part_similarity(ctx, "c_u1")
    once = best_part_similarity(ctx, "c_u2")
    assert best_part_similarity(ctx, "c") < once < twice


def test_a_second_run_does_nothing_and_writes_no_duplicates(ctx: AppContext) -> None:
    mark(ctx, "s1", clicks=("d",))
    mark(ctx, "s2", query="beta", clicks=("e",), results=("a", "e", "d"), user_id="u2")
    improve_pending_sessions(ctx)
    collection = ctx.vectordb.get_blue_collection()
    count = collection.count(include_copies=True)
    rankings = (ranking(ctx, "alpha", "u1"), ranking(ctx, "beta", "u2"))

    assert improve_pending_sessions(ctx) == Counter()

    assert collection.count(include_copies=True) == count == len(OBJECTS) + 4 + 3
    assert collection.count() == len(OBJECTS)
    assert (ranking(ctx, "alpha", "u1"), ranking(ctx, "beta", "u2")) == rankings


def test_concurrent_workers_process_every_session_exactly_once(ctx: AppContext) -> None:
    record_ids = [mark(ctx, f"s{i}", user_id=f"user{i}") for i in range(8)]
    outcomes: list[Counter[str]] = []

    def work() -> None:
        outcomes.append(improve_pending_sessions(ctx, batch_size=1))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sum(outcomes, Counter()) == Counter({"done": 8})
    assert all(record_of(ctx, r).status is TaskStatus.done for r in record_ids)


def test_without_a_blue_collection_the_batch_fails_with_the_reason(
    fresh_database_url: str,
) -> None:
    config = settings.model_copy(
        update={"POSTGRES_URL": fresh_database_url, "DOCUMENT_STORE_URL": None}
    )
    context = build_context(config)
    try:
        record_id = mark(context, "s1")

        assert improve_pending_sessions(context) == Counter({"failed": 1})

        detail = record_of(context, record_id).detail
        assert "no blue" in detail
    finally:
        context.close()


def test_a_session_abandoned_in_processing_is_queued_again_and_improved(ctx: AppContext) -> None:
    record_id = mark(ctx, "s1")
    [claimed] = ctx.sessions_for_improvement.claim_pending(1)  # then its worker dies
    assert claimed.id == record_id
    assert requeue_abandoned(ctx, older_than_s=3600) == 0  # not stale yet

    assert requeue_abandoned(ctx, older_than_s=0) == 1
    assert requeue_abandoned(ctx, older_than_s=0) == 0

    abandoned = record_of(ctx, record_id)
    assert abandoned.status is TaskStatus.failed
    assert "abandoned" in abandoned.detail
    assert improve_pending_sessions(ctx) == Counter({"done": 1})
    [again] = ctx.sessions_for_improvement.list(session_id="s1", status=TaskStatus.done)
    assert again.id != record_id
    assert ranking(ctx, "alpha", user_id="u1").index("d") < 3


def test_runs_take_turns_and_a_waiting_run_takes_what_is_pending(ctx: AppContext) -> None:
    record_id = mark(ctx, "s1")
    assert ctx.locks.acquire(LOCK_NAME, "another-run", ttl_s=60)

    assert improve_pending_sessions(ctx, wait_s=0) == Counter()
    assert record_of(ctx, record_id).status is TaskStatus.pending

    threading.Timer(0.5, lambda: ctx.locks.release(LOCK_NAME, "another-run")).start()
    assert improve_pending_sessions(ctx, wait_s=30) == Counter({"done": 1})
    assert ctx.locks.holder(LOCK_NAME) is None
