"""From the ranks of a batch to the `SessionFeatures` losses read, and the distance
shifts the seeds' accumulators track."""

from __future__ import annotations

from collections.abc import Callable

import torch

from embedding_studio.embeddings.data.clickstream.fine_tuning_input import FineTuningInput
from embedding_studio.embeddings.losses.session_features import SessionFeatures
from embedding_studio.workers.fine_tuning.batches import BatchPlan
from embedding_studio.workers.fine_tuning.ranking_space import RankingSpace

ConfidenceCalculator = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""(recorded ranks [R], clicks [R] as 0/1) -> confidence of each shown result [R]."""


def result_confidences(
    session: FineTuningInput, calculator: ConfidenceCalculator | None
) -> dict[str, float]:
    """Weight of each shown result: its click importance (1 for the others), times
    the plugin's confidence calculator when it has one."""
    weights = {i: session.importances.get(i, 1.0) for i in session.results}
    if calculator is None or not session.results:
        return weights
    ranks = torch.tensor([session.ranks.get(i, float("nan")) for i in session.results])
    clicks = torch.tensor([1.0 if i in session.importances else 0.0 for i in session.results])
    extra = calculator(ranks, clicks).detach().reshape(-1).tolist()
    if len(extra) != len(session.results):
        raise ValueError(
            f"the confidence calculator returned {len(extra)} values for "
            f"{len(session.results)} results"
        )
    return {i: weights[i] * float(c) for i, c in zip(session.results, extra, strict=True)}


def _pairs(plan: BatchPlan) -> list[tuple[int, int, int, int]]:
    """(positive row, positive column, negative row, negative column) index tuples."""
    column = plan.column
    relevant = [i for i, s in enumerate(plan.sessions) if s.has_positives]
    pairs = []
    for row in relevant:
        session = plan.sessions[row]
        for positive in (p for p in session.events if p in column):
            pairs += [(row, column[positive], row, column[n]) for n in plan.negatives[row]]
    irrelevant = [i for i, s in enumerate(plan.sessions) if not s.has_positives]
    for k, row in enumerate(irrelevant):
        if not relevant:
            break
        partner = relevant[k % len(relevant)]  # its clicks stand for "what relevant means"
        positives = [p for p in plan.sessions[partner].events if p in column]
        pairs += [
            (partner, column[p], row, column[n]) for p in positives for n in plan.negatives[row]
        ]
    return pairs


def session_features(
    plan: BatchPlan,
    ranks: torch.Tensor,
    space: RankingSpace,
    min_abs_difference: float = 0.0,
    max_abs_difference: float | None = None,
    calculator: ConfidenceCalculator | None = None,
) -> SessionFeatures:
    """Pairwise and listwise views of the batch's [Q, M] `ranks`."""
    confidences = [result_confidences(s, calculator) for s in plan.sessions]
    column = plan.column
    weights = torch.zeros_like(ranks, requires_grad=False)
    for row, session in enumerate(plan.sessions):
        for clicked in session.events:
            if clicked in column:
                weights[row, column[clicked]] = confidences[row][clicked]
    pairs = _pairs(plan)
    if not pairs:
        return SessionFeatures(
            query_item_ranks=ranks,
            positive_weights=weights.detach(),
            is_similarity=space.is_similarity,
            rank_anchor=ranks,
        )
    index = torch.tensor(pairs, dtype=torch.long)
    positive = ranks[index[:, 0], index[:, 1]]
    negative = ranks[index[:, 2], index[:, 3]]
    difference = (positive - negative).detach().abs()
    keep = difference >= min_abs_difference
    if max_abs_difference is not None:
        keep &= difference <= max_abs_difference
    items = plan.item_ids
    positive_confidences = torch.tensor(
        [confidences[r][items[c]] for r, c, _, _ in pairs], dtype=ranks.dtype
    )
    negative_confidences = torch.tensor(
        [confidences[r][items[c]] for _, _, r, c in pairs], dtype=ranks.dtype
    )
    return SessionFeatures(
        positive_ranks=positive[keep],
        negative_ranks=negative[keep],
        target=torch.full((int(keep.sum()),), space.sign, dtype=ranks.dtype),
        positive_confidences=positive_confidences[keep],
        negative_confidences=negative_confidences[keep],
        query_item_ranks=ranks,
        positive_weights=weights.detach(),
        is_similarity=space.is_similarity,
        rank_anchor=ranks,
    )


BaseRank = Callable[[int, str], float | None]
"""(row of a session in the plan, item id) -> the starting model's rank, if known."""


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def distance_shifts(
    plan: BatchPlan, ranks: torch.Tensor, base_rank: BaseRank, sign: float
) -> tuple[float | None, float | None]:
    """How far ranks moved from the starting model's, averaged per session then over
    sessions: (clicked results of sessions with clicks, toward the query = positive;
    results of irrelevant sessions, away from the query = positive). None when no
    session of that kind has a known starting rank."""
    column = plan.column
    values = ranks.detach()
    clicked: list[float] = []
    irrelevant: list[float] = []
    for row, session in enumerate(plan.sessions):
        targets = session.events if session.has_positives else plan.negatives[row]
        moves = []
        for item_id in targets:
            base = base_rank(row, item_id)
            if base is not None and item_id in column:
                moves.append(sign * (float(values[row, column[item_id]]) - base))
        if (shift := _mean(moves)) is not None:
            (clicked if session.has_positives else irrelevant).append(shift)
    shift_clicked, shift_irrelevant = _mean(clicked), _mean(irrelevant)
    return shift_clicked, (-shift_irrelevant if shift_irrelevant is not None else None)


def recorded_base_rank(plan: BatchPlan, starting_model_id: str) -> BaseRank:
    """Starting ranks from the distances the search recorded in the sessions (cosine:
    rank = 1 - distance), for sessions searched with the starting model."""

    def base(row: int, item_id: str) -> float | None:
        session = plan.sessions[row]
        if session.embedding_model_id not in (None, starting_model_id):
            return None
        distance = session.ranks.get(item_id)
        return None if distance is None else 1.0 - distance

    return base
