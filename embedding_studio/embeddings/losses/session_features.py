"""What a batch of clickstream sessions says about a model's ranks: the input of losses."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


def _empty() -> torch.Tensor:
    return torch.zeros(0)


@dataclass
class SessionFeatures:
    """Ranks of a batch of sessions, in two views that losses pick from.

    Pairwise view, P pairs (a clicked result and a result ranked against it):
    - `positive_ranks` [P], `negative_ranks` [P]: rank values (similarity, or distance
      when `target` is -1) of the query with the positive and the negative result;
    - `target` [P]: +1 when a higher rank means closer (similarity), -1 for distances;
    - `positive_confidences` [P], `negative_confidences` [P]: weights of the two sides
      (a click's `importance`, times the plugin's confidence calculator); >= 0.

    Listwise view, Q queries against M distinct items of the batch:
    - `query_item_ranks` [Q, M]: rank of every item for every query of the batch;
    - `positive_weights` [Q, M]: weight (> 0) of item m as a clicked result of query q,
      0 where it is not one; every other item is a negative for that query;
    - `is_similarity`: whether a higher rank means closer.

    Empty tensors mean "no such examples in this batch". `rank_anchor` is any tensor in
    the model's graph, so an empty batch still yields a differentiable zero.
    """

    positive_ranks: torch.Tensor = field(default_factory=_empty)
    negative_ranks: torch.Tensor = field(default_factory=_empty)
    target: torch.Tensor = field(default_factory=_empty)
    positive_confidences: torch.Tensor = field(default_factory=_empty)
    negative_confidences: torch.Tensor = field(default_factory=_empty)
    query_item_ranks: torch.Tensor = field(default_factory=lambda: torch.zeros(0, 0))
    positive_weights: torch.Tensor = field(default_factory=lambda: torch.zeros(0, 0))
    is_similarity: bool = True
    rank_anchor: torch.Tensor | None = None

    def __post_init__(self) -> None:
        pairs = self.positive_ranks.shape
        for name in ("negative_ranks", "target", "positive_confidences", "negative_confidences"):
            shape = getattr(self, name).shape
            if shape != pairs:
                raise ValueError(f"{name} has shape {tuple(shape)}, expected {tuple(pairs)}")
        if self.query_item_ranks.shape != self.positive_weights.shape:
            raise ValueError(
                f"positive_weights has shape {tuple(self.positive_weights.shape)}, expected "
                f"{tuple(self.query_item_ranks.shape)} (the shape of query_item_ranks)"
            )

    @property
    def pairs_count(self) -> int:
        return int(self.positive_ranks.shape[0])

    @property
    def pair_confidences(self) -> torch.Tensor:
        """[P]: a pair weighs as the product of its sides' confidences."""
        return self.positive_confidences * self.negative_confidences

    def zero(self) -> torch.Tensor:
        """A zero loss that stays in the model's graph (backward() works on it)."""
        for tensor in (self.rank_anchor, self.positive_ranks, self.query_item_ranks):
            if tensor is not None and tensor.requires_grad:
                return tensor.sum() * 0.0
        return torch.zeros((), requires_grad=True)
