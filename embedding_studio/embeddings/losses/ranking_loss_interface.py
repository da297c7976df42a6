"""The interface of ranking losses."""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch

from embedding_studio.embeddings.losses.session_features import SessionFeatures


def weighted_mean(losses: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """sum(losses * weights) / sum(weights); zero (in the graph) when the weights sum to 0."""
    total = weights.sum()
    if float(total) <= 0.0:
        return losses.sum() * 0.0
    return (losses * weights).sum() / total


class RankingLossInterface(torch.nn.Module, ABC):
    """A loss over `SessionFeatures`: lower when clicked results rank above the others.

    `set_margin(margin)` is called by the fine-tuning worker with the trial's `margin`
    hyperparameter (the plugin's `initial_params`), in rank units.
    """

    def __init__(self, base_margin: float = 0.0) -> None:
        super().__init__()
        self.base_margin = float(base_margin)

    def set_margin(self, margin: float) -> None:
        if margin < 0:
            raise ValueError(f"margin must be >= 0, got {margin}")
        self.base_margin = float(margin)

    @abstractmethod
    def forward(self, features: SessionFeatures) -> torch.Tensor:
        """A scalar tensor; a differentiable zero when the batch has no usable example."""
