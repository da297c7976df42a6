"""Two embedding models over one small corpus for the online-experiment tests.

Scores are put straight into vectors: with the dot-product metric, a query embeds to the
one-hot vector of its topic, and a document's vector holds its score for every topic, so
each model's ranking of a topic is exactly the order of the scores given to it. Model
ids: `model-a` (blue) and `model-b`; both embed queries alike ("t3" -> topic 3).
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from embedding_studio.context.app_context import AppContext, build_context
from embedding_studio.core.config import settings
from embedding_studio.core.plugin import FineTuningMethod
from embedding_studio.models.embeddings.models import (
    MetricAggregationType,
    MetricType,
    SearchIndexInfo,
)
from embedding_studio.models.embeddings.objects import Object, ObjectPart
from embedding_studio.models.plugin import PluginMeta

MODEL_A = "model-a"
MODEL_B = "model-b"
PLUGIN = "ExperimentsTestPlugin"
TOPICS = 8
INDEX = SearchIndexInfo(
    dimensions=TOPICS,
    metric_type=MetricType.DOT,
    metric_aggregation_type=MetricAggregationType.MIN,
)

Scores = Mapping[str, Sequence[float]]
"""object id -> its score for each topic (higher ranks first)."""


def topic_of(query: Any) -> int:
    if not (isinstance(query, str) and query.startswith("t") and query[1:].isdigit()):
        raise RuntimeError(f"the test model cannot embed {query!r}")
    return int(query[1:])


class _QueryClient:
    def forward_query(self, query: str | dict[str, Any]) -> np.ndarray:
        vector = np.zeros(TOPICS, dtype=np.float32)
        vector[topic_of(query)] = 1.0
        return vector


class _ClientFactory:
    def get_client(self, embedding_model_id: str, **kwargs: Any) -> _QueryClient:
        return _QueryClient()


class _Manager:
    def get_initial_model_run_id(self) -> str:
        return MODEL_A  # the bootstrap finds the blue collection there


class ExperimentsTestPlugin(FineTuningMethod):
    """Only what search reads: index info and query embedding."""

    meta = PluginMeta(name=PLUGIN, version="0.0.1", description="tests")

    def upload_initial_model(self) -> None:
        raise NotImplementedError

    def get_query_retriever(self) -> Any:
        raise NotImplementedError

    def get_items_preprocessor(self) -> Any:
        raise NotImplementedError

    def get_data_loader(self) -> Any:
        raise NotImplementedError

    def get_manager(self) -> Any:
        return _Manager()

    def get_inference_client_factory(self) -> Any:
        return _ClientFactory()

    def get_fine_tuning_builder(self, clickstream: list[Any]) -> Any:
        raise NotImplementedError

    def get_search_index_info(self) -> SearchIndexInfo:
        return INDEX

    def get_vectors_adjuster(self) -> Any:
        raise NotImplementedError

    def get_vectordb_optimizations(self) -> list[Any]:
        return []


def load(ctx: AppContext, model_id: str, scores: Scores) -> None:
    collection = ctx.vectordb.get_or_create_collection(model_id, PLUGIN, INDEX)
    collection.upsert(
        [
            Object(
                object_id=object_id,
                parts=[ObjectPart(part_id=f"{object_id}:0", vector=[float(v) for v in vector])],
                payload={"name": object_id},
            )
            for object_id, vector in scores.items()
        ]
    )


@contextmanager
def experiments_context(
    database_url: str, scores_a: Scores, scores_b: Scores, **overrides: Any
) -> Iterator[AppContext]:
    """A context over a fresh database: the plugin, model A's collection (blue) and B's."""
    config = settings.model_copy(
        update={
            "POSTGRES_URL": database_url,
            "DOCUMENT_STORE_URL": None,
            "INFERENCE_USED_PLUGINS": [PLUGIN],
            "ADMIN_API_KEY": None,
            **overrides,
        }
    )
    ctx = build_context(config)
    ctx.enqueue = lambda kind, task_id: None
    ctx.plugin_manager.register(ExperimentsTestPlugin)
    load(ctx, MODEL_A, scores_a)
    load(ctx, MODEL_B, scores_b)
    ctx.vectordb.set_blue(MODEL_A)
    try:
        yield ctx
    finally:
        ctx.close()


def ranked_scores(
    rankings: Mapping[int, Sequence[str]], objects: Sequence[str]
) -> dict[str, list[float]]:
    """Scores giving each listed topic exactly this ranking (unlisted objects last)."""
    scores = {object_id: [0.0] * TOPICS for object_id in objects}
    for topic, ranking in rankings.items():
        for position, object_id in enumerate(ranking):
            scores[object_id][topic] = float(len(ranking) - position)
    return scores


def noisy_scores(
    relevant: Mapping[int, set[str]], objects: Sequence[str], signal: float, seed: int
) -> dict[str, list[float]]:
    """Per topic: relevant objects score `signal` plus standard normal noise, others the
    noise only; a larger signal ranks the relevant objects higher."""
    rng = random.Random(seed)
    return {
        object_id: [
            (signal if object_id in relevant.get(topic, set()) else 0.0) + rng.gauss(0.0, 1.0)
            for topic in range(TOPICS)
        ]
        for object_id in objects
    }
