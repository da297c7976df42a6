"""One trial's hyperparameters, read from a point of the plugin's `initial_params` space."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class FineTuningParams(BaseModel):
    """Hyperparameters of one training trial (names of `INITIAL_PARAMS`).

    Unknown names are kept (and logged to MLflow) but unused.

    :param num_fixed_layers: bottom transformer layers (and embeddings) left frozen
    :param query_lr: AdamW learning rate of the query tower
    :param items_lr: AdamW learning rate of the items tower (the only one when the
        towers are shared)
    :param query_weight_decay: AdamW weight decay of the query tower
    :param items_weight_decay: AdamW weight decay of the items tower
    :param margin: the loss's margin (`loss.set_margin`); None keeps the loss's own
    :param not_irrelevant_only: train on sessions with clicks only; False also uses the
        results of irrelevant sessions as negatives
    :param negative_downsampling: share of a session's negatives used per step, (0, 1]
    :param min_abs_difference_threshold: pairs whose rank difference is smaller are
        skipped (too soft to learn from)
    :param max_abs_difference_threshold: pairs whose rank difference is larger are
        skipped (likely noise)
    :param examples_order: accepted for compatibility; sessions are used in a shuffled order
    :param learning_rate: when set, the learning rate of both towers
    :param batch_size: sessions per optimizer step (default: the settings' batch_size)
    :param num_epochs: passes over the train sessions (default: the settings')
    :param max_seq_length: tokens per text while training (default: the model's own);
        evaluation and serving always use the model's own length
    """

    model_config = ConfigDict(extra="allow")

    num_fixed_layers: int = Field(0, ge=0)
    query_lr: float = Field(1e-5, gt=0)
    items_lr: float = Field(1e-5, gt=0)
    query_weight_decay: float = Field(0.0, ge=0)
    items_weight_decay: float = Field(0.0, ge=0)
    margin: float | None = Field(None, ge=0)
    not_irrelevant_only: bool = True
    negative_downsampling: float = Field(0.5, gt=0, le=1)
    min_abs_difference_threshold: float = Field(0.0, ge=0)
    max_abs_difference_threshold: float | None = Field(None, gt=0)
    examples_order: list[Any] = Field(default_factory=list)
    learning_rate: float | None = Field(None, gt=0)
    batch_size: int | None = Field(None, gt=0)
    num_epochs: int | None = Field(None, gt=0)
    max_seq_length: int | None = Field(None, gt=8)

    @property
    def items_learning_rate(self) -> float:
        return self.learning_rate or self.items_lr

    @property
    def query_learning_rate(self) -> float:
        return self.learning_rate or self.query_lr
