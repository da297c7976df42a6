"""Ranking losses: values, gradients' directions, weights, and empty batches."""

from __future__ import annotations

import math

import pytest
import torch

from embedding_studio.embeddings.losses.prob_cosine_margin_ranking_loss import (
    CosineProbMarginRankingLoss,
)
from embedding_studio.embeddings.losses.prob_margin_ranking_loss import ProbMarginRankingLoss
from embedding_studio.embeddings.losses.session_features import SessionFeatures
from embedding_studio.embeddings.losses.softmax_ranking_loss import SoftmaxRankingLoss


def pairwise(positive: list[float], negative: list[float], confidences=None, target=1.0):
    count = len(positive)
    pos = torch.tensor(positive, requires_grad=True)
    neg = torch.tensor(negative, requires_grad=True)
    weights = torch.tensor(confidences if confidences is not None else [1.0] * count)
    features = SessionFeatures(
        positive_ranks=pos,
        negative_ranks=neg,
        target=torch.full((count,), target),
        positive_confidences=weights,
        negative_confidences=torch.ones(count),
    )
    return features, pos, neg


def listwise(ranks: list[list[float]], weights: list[list[float]], is_similarity: bool = True):
    values = torch.tensor(ranks, requires_grad=True)
    features = SessionFeatures(
        query_item_ranks=values,
        positive_weights=torch.tensor(weights),
        is_similarity=is_similarity,
        rank_anchor=values,
    )
    return features, values


@pytest.mark.parametrize("loss", [ProbMarginRankingLoss(0.1), CosineProbMarginRankingLoss()])
def test_margin_losses_prefer_positives_ranked_above_negatives(loss):
    right, _, _ = pairwise([0.9], [0.2])
    wrong, _, _ = pairwise([0.2], [0.9])
    assert loss(right).item() < loss(wrong).item()


@pytest.mark.parametrize("loss", [ProbMarginRankingLoss(0.1), CosineProbMarginRankingLoss()])
def test_margin_losses_push_positives_up_and_negatives_down(loss):
    features, pos, neg = pairwise([0.5, 0.4], [0.5, 0.45])
    loss(features).backward()
    assert pos.grad is not None and neg.grad is not None
    assert bool((pos.grad < 0).all()), "descent must raise positive ranks"
    assert bool((neg.grad > 0).all()), "descent must lower negative ranks"


def test_distance_target_reverses_the_direction():
    features, pos, neg = pairwise([0.5], [0.5], target=-1.0)
    CosineProbMarginRankingLoss()(features).backward()
    assert float(pos.grad[0]) > 0 and float(neg.grad[0]) < 0  # distances: positive must shrink


def test_prob_margin_value_is_the_sigmoid_of_the_violation():
    loss = ProbMarginRankingLoss(base_margin=0.5, scale=2.0)
    features, _, _ = pairwise([0.3], [0.1])
    expected = 1 / (1 + math.exp(-2.0 * (0.5 - 0.2)))
    assert loss(features).item() == pytest.approx(expected, rel=1e-5)


def test_cosine_loss_barely_moves_pairs_far_wrong_or_far_right():
    loss = CosineProbMarginRankingLoss(base_margin=0.05, scale=20.0)
    near, near_pos, _ = pairwise([0.55], [0.5])
    far_wrong, wrong_pos, _ = pairwise([0.1], [0.6])
    loss(near).backward()
    loss(far_wrong).backward()
    assert abs(float(wrong_pos.grad[0])) < abs(float(near_pos.grad[0])) / 10


def test_confidences_weight_pairs():
    loss = ProbMarginRankingLoss(0.1)
    features, pos, _ = pairwise([0.5, 0.5], [0.6, 0.6], confidences=[3.0, 1.0])
    loss(features).backward()
    assert float(pos.grad[0]) == pytest.approx(3 * float(pos.grad[1]))


def test_set_margin_replaces_the_margin():
    loss = CosineProbMarginRankingLoss()
    loss.set_margin(0.01)
    assert loss.base_margin == 0.01
    with pytest.raises(ValueError, match="margin"):
        loss.set_margin(-1.0)


@pytest.mark.parametrize(
    "loss", [ProbMarginRankingLoss(), CosineProbMarginRankingLoss(), SoftmaxRankingLoss()]
)
def test_an_empty_batch_gives_a_differentiable_zero(loss):
    anchor = torch.ones(2, 3, requires_grad=True)
    features = SessionFeatures(rank_anchor=anchor)
    value = loss(features)
    assert value.item() == 0.0
    value.backward()
    assert anchor.grad is not None and float(anchor.grad.abs().sum()) == 0.0


def test_softmax_loss_is_the_cross_entropy_of_each_click_against_non_clicked_items():
    ranks = [[0.8, 0.5, 0.1], [0.2, 0.3, 0.9]]
    weights = [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    features, _ = listwise(ranks, weights)
    loss = SoftmaxRankingLoss(scale=10.0)
    expected = []
    for row, positive in ((0, 0), (1, 2)):
        logits = torch.tensor(ranks[row]) * 10.0
        expected.append(float(-torch.log_softmax(logits, dim=0)[positive]))
    assert loss(features).item() == pytest.approx(sum(expected) / 2, rel=1e-5)


def test_softmax_loss_ignores_other_clicks_of_the_same_query():
    # two clicked items of one query: each competes with the non-clicked one only
    features, _ = listwise([[0.5, 0.5, 0.5]], [[1.0, 1.0, 0.0]])
    assert SoftmaxRankingLoss(scale=1.0)(features).item() == pytest.approx(math.log(2), rel=1e-5)


def test_softmax_loss_weights_clicks_by_importance():
    features, values = listwise([[0.5, 0.4, 0.6, 0.5]], [[2.0, 0.0, 0.0, 1.0]])
    SoftmaxRankingLoss(scale=1.0)(features).backward()
    assert values.grad is not None
    # both clicks have the rank 0.5: their gradients differ by their weights only
    assert float(values.grad[0, 0]) == pytest.approx(2 * float(values.grad[0, 3]), rel=1e-5)


def test_softmax_loss_without_any_negative_is_zero_and_finite():
    features, values = listwise([[0.5, 0.7]], [[1.0, 1.0]])
    value = SoftmaxRankingLoss()(features)
    value.backward()
    assert value.item() == pytest.approx(0.0, abs=1e-6)
    assert values.grad is not None and bool(torch.isfinite(values.grad).all())


def test_softmax_loss_rows_without_clicks_add_nothing():
    with_row, _ = listwise([[0.9, 0.1], [0.3, 0.8]], [[1.0, 0.0], [0.0, 0.0]])
    without_row, _ = listwise([[0.9, 0.1]], [[1.0, 0.0]])
    loss = SoftmaxRankingLoss()
    assert loss(with_row).item() == pytest.approx(loss(without_row).item())


def test_softmax_loss_with_distances_prefers_small_ones():
    close, _ = listwise([[0.1, 0.9]], [[1.0, 0.0]], is_similarity=False)
    far, _ = listwise([[0.9, 0.1]], [[1.0, 0.0]], is_similarity=False)
    loss = SoftmaxRankingLoss()
    assert loss(close).item() < loss(far).item()


def test_session_features_check_shapes():
    with pytest.raises(ValueError, match="negative_ranks"):
        SessionFeatures(positive_ranks=torch.zeros(2), negative_ranks=torch.zeros(3))
    with pytest.raises(ValueError, match="positive_weights"):
        SessionFeatures(query_item_ranks=torch.zeros(2, 2), positive_weights=torch.zeros(2, 3))


def test_losses_refuse_bad_parameters():
    with pytest.raises(ValueError, match="scale"):
        SoftmaxRankingLoss(scale=0)
    with pytest.raises(ValueError, match="base_margin"):
        ProbMarginRankingLoss(base_margin=-1)
