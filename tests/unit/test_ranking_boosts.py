"""Score boost and fusion formulas (pure functions; the SQL side is in
tests/e2e/test_vectordb_hybrid.py)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from pydantic import TypeAdapter

from embedding_studio.models.embeddings.models import MetricType
from embedding_studio.models.embeddings.ranking import HybridSearch, ScoreBoost
from embedding_studio.vectordb.boosts import boost_factor, boost_term
from embedding_studio.vectordb.fusion import Candidate, rrf_scores, similarity

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
RECENCY = TypeAdapter(ScoreBoost).validate_python(
    {"type": "recency", "field": "meta.at", "half_life_days": 10, "weight": 2}
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-02-19T12:00:00Z", 0.5),  # one half-life
        ("2026-02-09T12:00:00+00:00", 0.25),
        ("2026-02-19T12:00:00", 0.5),  # no zone: UTC
        (NOW.timestamp() - 10 * 86_400, 0.5),  # epoch seconds
        ("2027-01-01", 1.0),  # the future counts as now
        ("yesterday", 0.0),
        (True, 0.0),
        (None, 0.0),
    ],
)
def test_recency_halves_per_half_life(value: object, expected: float) -> None:
    assert boost_term(RECENCY, {"meta": {"at": value}}, NOW) == pytest.approx(expected)


def test_factor_sums_weighted_terms_and_never_goes_negative() -> None:
    boosts = TypeAdapter(list[ScoreBoost]).validate_python(
        [
            {"type": "popularity", "field": "views", "weight": 0.5},
            {"type": "numeric", "field": "rating", "weight": 0.1},
        ]
    )
    payload = {"views": 99, "rating": 4, "meta": {"at": "2026-02-19T12:00:00Z"}}
    expected = 1 + 0.5 * math.log(100) + 0.1 * 4
    assert boost_factor(boosts, payload, NOW) == pytest.approx(expected)
    assert boost_factor([*boosts, RECENCY], payload, NOW) == pytest.approx(expected + 2 * 0.5)
    assert boost_factor(boosts, {"views": -3, "rating": "4"}, NOW) == 1.0  # no boost
    assert boost_factor(boosts, {"rating": -50}, NOW) == 0.0  # floored
    assert boost_factor(boosts, None, NOW) == 1.0


def test_rrf_and_similarity() -> None:
    candidates = [
        Candidate("a", "a", 0.1, vector_rank=1),
        Candidate("b", "b", 0.3, vector_rank=2, text_rank=1, text_score=0.2),
    ]
    scores = rrf_scores(candidates, HybridSearch(rrf_k=10, text_weight=2))
    assert scores == {"a": pytest.approx(1 / 11), "b": pytest.approx(1 / 12 + 2 / 11)}
    assert similarity(0.5, MetricType.COSINE) == 0.75
    assert similarity(1.0, MetricType.EUCLID) == 0.5
    assert similarity(0.0, MetricType.DOT) == 0.5
