"""Listwise softmax ranking with in-batch negatives (InfoNCE / "multiple negatives")."""

from __future__ import annotations

import torch

from embedding_studio.embeddings.losses.ranking_loss_interface import (
    RankingLossInterface,
    weighted_mean,
)
from embedding_studio.embeddings.losses.session_features import SessionFeatures

_EXCLUDED = -1e9


def softmax_ranking_losses(
    ranks: torch.Tensor, positive_weights: torch.Tensor, scale: float, margin: float
) -> torch.Tensor:
    """[Q, M] losses: for each clicked (query q, item p),
    -log softmax of p among {p} and every item that is not a clicked result of q.

    `ranks` are similarities (higher = closer); the positive's logit is lowered by
    `scale * margin` (additive margin). Entries that are not positives are 0.
    """
    logits = scale * ranks
    positives = positive_weights > 0
    # A huge finite value, not -inf: a row without negatives must not turn gradients NaN.
    negative_logits = logits.masked_fill(positives, _EXCLUDED)
    negatives_lse = torch.logsumexp(negative_logits, dim=1, keepdim=True)  # [Q, 1]
    # -log(e^p / (e^p + sum e^n)) = softplus(lse(n) - p): 0 when there is no negative.
    losses = torch.nn.functional.softplus(negatives_lse - (logits - scale * margin))
    return losses.masked_fill(~positives, 0.0)


class SoftmaxRankingLoss(RankingLossInterface):
    """Each clicked result must win a softmax over every item of the batch that is not
    a clicked result of the same query: the shown-but-not-clicked results of its own
    session (hard negatives) and the results of the other sessions (in-batch negatives).
    Clicks weigh by their `positive_weights` (click importance). Sessions without
    clicks (irrelevant ones) add negatives for the other queries.

    loss = sum_{q,p} w_qp * softplus(logsumexp_n(s * r_qn) - s * (r_qp - margin)) / sum w_qp

    :param scale: inverse temperature applied to the ranks (default 20, for cosine)
    :param base_margin: additive margin of the positive, in rank units (default 0;
        the worker replaces it with the trial's `margin`)
    """

    def __init__(self, scale: float = 20.0, base_margin: float = 0.0) -> None:
        if scale <= 0:
            raise ValueError(f"scale must be > 0, got {scale}")
        super().__init__(base_margin)
        self.scale = float(scale)

    def forward(self, features: SessionFeatures) -> torch.Tensor:
        weights = features.positive_weights
        if weights.numel() == 0 or not bool((weights > 0).any()):
            return features.zero()
        ranks = features.query_item_ranks
        if not features.is_similarity:
            ranks = -ranks
        losses = softmax_ranking_losses(ranks, weights, self.scale, self.base_margin)
        return weighted_mean(losses, weights)
