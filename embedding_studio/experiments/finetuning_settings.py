"""How one plugin's model is fine-tuned (the seeds' `FineTuningSettings`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class FineTuningSettings(BaseModel):
    """Training parameters a plugin hands to the fine-tuning worker.

    :param loss_func: the ranking loss (e.g. `CosineProbMarginRankingLoss()`)
    :param metric_calculators: extra metric calculators run on the test set
    :param ranker: similarity between query and item vectors, [N, D] x [M, D] -> [N, M];
        None means cosine similarity
    :param is_similarity: True when a higher ranker value means closer
    :param confidence_calculator: optional weights of training examples
    :param step_size: learning-rate scheduler step, in optimizer steps
    :param gamma: learning-rate decay at each scheduler step
    :param num_epochs: passes over the training sessions
    :param batch_size: sessions per optimizer step
    :param test_each_n_sessions: evaluate every N training sessions (an int), or at this
        fraction of an epoch (a float in (0, 1)); -1 evaluates at the end of each epoch
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    loss_func: Any
    metric_calculators: list[Any] | None = None
    ranker: Callable[..., Any] | None = None
    is_similarity: bool = True
    confidence_calculator: Callable[..., Any] | None = None
    step_size: int = Field(default=500, gt=0)
    gamma: float = Field(default=0.9, gt=0, le=1)
    num_epochs: int = Field(default=10, gt=0)
    batch_size: int = Field(default=1, gt=0)
    test_each_n_sessions: float | int = -1
