"""Margin ranking with a sigmoid instead of a hinge (robust to wrong clicks)."""

from __future__ import annotations

import torch

from embedding_studio.embeddings.losses.ranking_loss_interface import (
    RankingLossInterface,
    weighted_mean,
)
from embedding_studio.embeddings.losses.session_features import SessionFeatures


def prob_margin_losses(
    positive_ranks: torch.Tensor,
    negative_ranks: torch.Tensor,
    target: torch.Tensor,
    margin: float,
    scale: float,
) -> torch.Tensor:
    """Per pair: sigmoid(scale * (margin - target * (positive - negative))), [P].

    Near 0 when the positive leads by more than the margin, near 1 when it trails by
    much; the gradient is largest around the margin and fades for pairs that are far
    wrong (likely noise: a mistaken click) as well as for pairs ranked right by far.
    """
    violation = margin - target * (positive_ranks - negative_ranks)
    return torch.sigmoid(scale * violation)


class ProbMarginRankingLoss(RankingLossInterface):
    """Margin ranking loss (`MarginRankingLoss` with a sigmoid for the ReLU), weighted by
    the pairs' confidences.

    loss = sum_p c_p * sigmoid(scale * (margin - target_p * (pos_p - neg_p))) / sum_p c_p

    :param base_margin: how far (in rank units) a clicked result should lead (default 1.0)
    :param scale: steepness of the sigmoid (default 1.0, for ranks spread over ~[-5, 5])
    """

    def __init__(self, base_margin: float = 1.0, scale: float = 1.0) -> None:
        if base_margin < 0:
            raise ValueError(f"base_margin must be >= 0, got {base_margin}")
        if scale <= 0:
            raise ValueError(f"scale must be > 0, got {scale}")
        super().__init__(base_margin)
        self.scale = float(scale)

    def forward(self, features: SessionFeatures) -> torch.Tensor:
        if features.pairs_count == 0:
            return features.zero()
        losses = prob_margin_losses(
            features.positive_ranks,
            features.negative_ranks,
            features.target,
            self.base_margin,
            self.scale,
        )
        return weighted_mean(losses, features.pair_confidences)
