"""What losses are fed: item ranks under the index's metric and aggregation, batch
plans, pairwise and listwise features, distance shifts, and ranking metrics."""

from __future__ import annotations

import math
import random

import pytest
import torch

from embedding_studio.embeddings.data.clickstream.fine_tuning_input import FineTuningInput
from embedding_studio.models.embeddings.models import (
    MetricAggregationType,
    MetricType,
    SearchIndexInfo,
)
from embedding_studio.workers.fine_tuning.batches import BatchPlan, plan_batch
from embedding_studio.workers.fine_tuning.features import distance_shifts, session_features
from embedding_studio.workers.fine_tuning.ranking_metrics import (
    mrr_at_k,
    ndcg_at_k,
    recall_at_k,
)
from embedding_studio.workers.fine_tuning.ranking_space import RankingSpace
from embedding_studio.workers.fine_tuning.search import combinations, run_search


def space(aggregation=MetricAggregationType.MIN, metric=MetricType.COSINE) -> RankingSpace:
    return RankingSpace.of(
        SearchIndexInfo(dimensions=2, metric_type=metric, metric_aggregation_type=aggregation)
    )


def test_min_aggregation_ranks_an_item_by_its_closest_part():
    queries = torch.tensor([[1.0, 0.0]])
    parts = torch.tensor([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    ranks = space().item_ranks(queries, parts, [[0, 1], [2]])
    assert ranks.tolist()[0] == pytest.approx([1.0, math.sqrt(0.5)])


def test_avg_aggregation_ranks_an_item_by_its_mean_part():
    queries = torch.tensor([[1.0, 0.0]])
    parts = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    ranks = space(MetricAggregationType.AVG).item_ranks(queries, parts, [[0, 1]])
    assert ranks.tolist()[0] == pytest.approx([0.5])


def test_euclid_ranks_are_negative_distances():
    ranks = space(metric=MetricType.EUCLID).item_ranks(
        torch.tensor([[0.0, 0.0]]), torch.tensor([[3.0, 4.0]]), [[0]]
    )
    assert ranks.tolist()[0] == pytest.approx([-5.0])


def session(sid: str, clicked: list[str], shown: list[str], irrelevant: bool = False, **kw):
    return FineTuningInput(
        session_id=sid,
        query=f"q {sid}",
        results=shown,
        events=clicked,
        is_irrelevant=irrelevant,
        query_text=f"q {sid}",
        **kw,
    )


def test_plan_keeps_sessions_with_something_to_learn_and_samples_negatives():
    batch = [
        session("a", ["x"], ["x", "n1", "n2", "n3", "n4"]),
        session("b", [], ["y", "z"], irrelevant=True),
        session("c", [], ["w"]),  # neither clicked nor marked: nothing to learn
    ]
    plan = plan_batch(batch, lambda _: True, 0.5, use_irrelevant=True, rng=random.Random(0))
    assert [s.session_id for s in plan.sessions] == ["a", "b"]
    assert len(plan.negatives[0]) == 2 and set(plan.negatives[0]) < {"n1", "n2", "n3", "n4"}
    assert plan.item_ids[0] == "x" and len(plan.item_ids) == len(set(plan.item_ids))
    without = plan_batch(batch, lambda _: True, 0.5, use_irrelevant=False, rng=random.Random(0))
    assert [s.session_id for s in without.sessions] == ["a"]


def test_pairs_put_clicks_against_own_negatives_and_irrelevant_results():
    plan = BatchPlan(
        sessions=[
            session("a", ["x"], ["x", "n"], importances={"x": 2.0}),
            session("b", [], ["m"], irrelevant=True),
        ],
        negatives=[["n"], ["m"]],
        item_ids=["x", "n", "m"],
    )
    ranks = torch.tensor([[0.9, 0.5, 0.1], [0.3, 0.2, 0.7]], requires_grad=True)
    features = session_features(plan, ranks, space())
    # (a: x vs n) and (a's x vs b's m, ranked for b's query)
    assert features.positive_ranks.tolist() == pytest.approx([0.9, 0.9])
    assert features.negative_ranks.tolist() == pytest.approx([0.5, 0.7])
    assert features.positive_confidences.tolist() == [2.0, 2.0]
    assert features.target.tolist() == [1.0, 1.0]
    assert features.positive_weights.tolist() == [[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]]


def test_pairs_outside_the_difference_thresholds_are_skipped():
    plan = BatchPlan(
        sessions=[session("a", ["x"], ["x", "n", "m"])],
        negatives=[["n", "m"]],
        item_ids=["x", "n", "m"],
    )
    ranks = torch.tensor([[0.9, 0.89, -0.5]])
    features = session_features(plan, ranks, space(), 0.05, 1.0)
    assert features.pairs_count == 0  # 0.01 too soft, 1.4 too hard
    assert session_features(plan, ranks, space()).pairs_count == 2


def test_a_confidence_calculator_scales_result_weights():
    plan = BatchPlan(
        sessions=[session("a", ["x"], ["x", "n"], ranks={"x": 0.1, "n": 0.2})],
        negatives=[["n"]],
        item_ids=["x", "n"],
    )

    def halve_clicks(ranks: torch.Tensor, clicks: torch.Tensor) -> torch.Tensor:
        assert ranks.tolist() == pytest.approx([0.1, 0.2]) and clicks.tolist() == [1.0, 0.0]
        return torch.where(clicks > 0, 0.5, 1.0)

    features = session_features(plan, torch.zeros(1, 2), space(), calculator=halve_clicks)
    assert features.positive_confidences.tolist() == [0.5]


def test_distance_shifts_measure_moves_toward_clicks_and_away_from_irrelevant_results():
    plan = BatchPlan(
        sessions=[session("a", ["x"], ["x", "n"]), session("b", [], ["m"], irrelevant=True)],
        negatives=[["n"], ["m"]],
        item_ids=["x", "n", "m"],
    )
    before = {("a", "x"): 0.5, ("b", "m"): 0.4}
    ranks = torch.tensor([[0.7, 0.0, 0.0], [0.0, 0.0, 0.1]])
    clicked, irrelevant = distance_shifts(
        plan, ranks, lambda row, item: before.get((plan.sessions[row].session_id, item)), 1.0
    )
    assert clicked == pytest.approx(0.2)  # the click came 0.2 closer
    assert irrelevant == pytest.approx(0.3)  # the irrelevant result moved 0.3 away


def test_ranking_metrics():
    gains = {"a": 1.0, "b": 1.0}
    assert ndcg_at_k(["a", "b", "c"], gains) == pytest.approx(1.0)
    assert ndcg_at_k(["c", "a"], {"a": 1.0}) == pytest.approx(1 / math.log2(3))
    assert mrr_at_k(["c", "d", "a"], gains) == pytest.approx(1 / 3)
    assert recall_at_k(["a", "c"], gains, 2) == pytest.approx(0.5)
    assert ndcg_at_k(["a"], {}) == 0.0 and recall_at_k(["a"], {}) == 0.0


def test_search_trains_distinct_points_up_to_max_evals_in_a_seeded_order():
    space_params = {"lr": [1e-5, 5e-5, 1e-4], "batch_size": [8], "order": [[11]]}
    assert combinations(space_params) == 3
    seen: list[dict] = []

    def objective(params: dict) -> float:
        seen.append(params)
        return params["lr"]

    assert run_search(space_params, 2, seed=5, objective=objective) == 2
    assert len({p["lr"] for p in seen}) == 2
    assert all(p["order"] == [11] and p["batch_size"] == 8 for p in seen)
    again: list[dict] = []

    def record(params: dict) -> float:
        again.append(params)
        return float(params["lr"])

    run_search(space_params, 2, seed=5, objective=record)
    assert again == seen
    again.clear()
    assert run_search({"lr": [1e-5]}, 5, seed=1, objective=record) == 1
    assert len(again) == 1
