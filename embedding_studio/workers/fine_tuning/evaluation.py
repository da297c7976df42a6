"""Evaluation on held-out sessions: each test query ranks every item the test sessions
showed (its own clicked results must come first), plus the loss and distance shifts.

Metric names (as logged to MLflow): `test_ndcg_at_10`, `test_mrr_at_10`,
`test_recall_at_10` (over test sessions with clicks, click importance as the gain),
`test_loss`, `test_not_irrelevant_dist_shift`, `test_irrelevant_dist_shift` (rank moves
from the starting model's, see `features.distance_shifts`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from embedding_studio.embeddings.data.clickstream.fine_tuning_input import FineTuningInput
from embedding_studio.embeddings.data.items.parts_index import ItemsParts
from embedding_studio.embeddings.losses.ranking_loss_interface import RankingLossInterface
from embedding_studio.embeddings.models.interface import EmbeddingsModelInterface
from embedding_studio.workers.fine_tuning.batches import BatchPlan, rank_items
from embedding_studio.workers.fine_tuning.features import (
    ConfidenceCalculator,
    distance_shifts,
    session_features,
)
from embedding_studio.workers.fine_tuning.ranking_metrics import mrr_at_k, ndcg_at_k, recall_at_k
from embedding_studio.workers.fine_tuning.ranking_space import RankingSpace

K = 10
NDCG = f"test_ndcg_at_{K}"
MRR = f"test_mrr_at_{K}"
RECALL = f"test_recall_at_{K}"
TEST_LOSS = "test_loss"
TEST_CLICKED_SHIFT = "test_not_irrelevant_dist_shift"
TEST_IRRELEVANT_SHIFT = "test_irrelevant_dist_shift"
ENCODE_CHUNK = 64


@dataclass
class Evaluation:
    """Metrics of one model on the held-out sessions, and its [Q, M] ranks."""

    metrics: dict[str, float]
    ranks: torch.Tensor


def held_out_plan(sessions: Sequence[FineTuningInput], parts: ItemsParts) -> BatchPlan:
    """Every test session with something to learn, all its negatives, and the pool of
    every item the test sessions showed."""
    kept, negatives, pool = [], [], {}
    for session in sessions:
        results = [i for i in session.results if i in parts]
        if not results or not (session.has_positives or session.is_irrelevant):
            continue
        kept.append(session)
        negatives.append([i for i in session.not_events if i in parts])
        pool.update(dict.fromkeys(results))
    return BatchPlan(sessions=kept, negatives=negatives, item_ids=list(pool))


class HeldOutEvaluator:
    """Scores models on the same held-out sessions and item pool."""

    def __init__(
        self,
        sessions: Sequence[FineTuningInput],
        parts: ItemsParts,
        space: RankingSpace,
        calculator: ConfidenceCalculator | None = None,
    ) -> None:
        self.plan = held_out_plan(sessions, parts)
        self.parts = parts
        self.space = space
        self.calculator = calculator

    @property
    def has_clicked_sessions(self) -> bool:
        return any(s.has_positives for s in self.plan.sessions)

    @property
    def size(self) -> tuple[int, int]:
        """(queries, pool items)."""
        return len(self.plan.sessions), len(self.plan.item_ids)

    def ranks(self, model: EmbeddingsModelInterface) -> torch.Tensor:
        was_training = model.training
        model.eval()
        try:
            with torch.inference_mode():
                return rank_items(
                    model,
                    [s.query_text for s in self.plan.sessions],
                    self.plan.item_ids,
                    self.parts.original,
                    self.space,
                    chunk=ENCODE_CHUNK,
                ).clone()
        finally:
            model.train(was_training)

    def evaluate(
        self,
        model: EmbeddingsModelInterface,
        loss_func: RankingLossInterface,
        baseline: torch.Tensor | None = None,
    ) -> Evaluation:
        """Metrics of `model`; shifts are measured against `baseline` ranks (the
        starting model's, from an earlier `evaluate`) when given."""
        if not self.plan.sessions:
            return Evaluation(metrics={}, ranks=torch.zeros(0, 0))
        ranks = self.ranks(model)
        metrics = self._ranking_metrics(ranks)
        with torch.no_grad():
            features = session_features(self.plan, ranks, self.space, calculator=self.calculator)
            metrics[TEST_LOSS] = float(loss_func(features))
        if baseline is not None:
            clicked, irrelevant = distance_shifts(
                self.plan, ranks, lambda row, item: self._base(baseline, row, item), self.space.sign
            )
            if clicked is not None:
                metrics[TEST_CLICKED_SHIFT] = clicked
            if irrelevant is not None:
                metrics[TEST_IRRELEVANT_SHIFT] = irrelevant
        return Evaluation(metrics=metrics, ranks=ranks)

    def _base(self, baseline: torch.Tensor, row: int, item_id: str) -> float:
        return float(baseline[row, self.plan.column[item_id]])

    def _ranking_metrics(self, ranks: torch.Tensor) -> dict[str, float]:
        order = self.space.order(ranks)[:, :K].tolist()
        ndcg, mrr, recall = [], [], []
        for row, session in enumerate(self.plan.sessions):
            if not session.has_positives:
                continue
            ranked = [self.plan.item_ids[j] for j in order[row]]
            ndcg.append(ndcg_at_k(ranked, session.importances, K))
            mrr.append(mrr_at_k(ranked, session.importances, K))
            recall.append(recall_at_k(ranked, session.importances, K))
        if not ndcg:
            return {}
        count = len(ndcg)
        return {NDCG: sum(ndcg) / count, MRR: sum(mrr) / count, RECALL: sum(recall) / count}
