"""What a fine-tuning task records as it goes (`Task.result`), so a retried or
restarted task resumes instead of starting over, and never deploys twice."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class TrialStatus(StrEnum):
    running = "running"
    done = "done"
    failed = "failed"


def params_key(params: dict[str, Any]) -> str:
    """A canonical text of a trial's parameters (equal parameters, equal keys)."""
    return json.dumps(params, sort_keys=True, default=str)


class TrialRecord(BaseModel):
    """One hyperparameter trial: its MLflow run and final metrics.

    :param main_metric_value: the plugin's main metric at the end of the trial
    :param has_model: the trial's model was uploaded to its run (best so far then)
    """

    index: int
    params: dict[str, Any]
    run_id: str | None = None
    status: TrialStatus = TrialStatus.running
    metrics: dict[str, float] = Field(default_factory=dict)
    main_metric_value: float | None = None
    has_model: bool = False

    @property
    def key(self) -> str:
        return params_key(self.params)


class Outcome(StrEnum):
    deployed = "deployed"
    registered = "registered"
    rejected = "rejected"


class FineTuningState(BaseModel):
    """The task's progress and outcome.

    :param batch_id: the clickstream batch trained on (kept across retries)
    :param starting_model_id: the embedding model the task started from
    :param baseline: the starting model's metrics on the held-out sessions
    :param trials: every trial so far, in order
    :param main_metric: the metric that picked the best trial
    :param main_metric_is_loss: whether a lower main metric is better
    :param best_run_id: the best trial's run (the candidate model)
    :param outcome: deployed (reindex submitted), registered (kept, not deployed:
        `deploy_as_blue` was false), rejected (worse than the starting model)
    :param reason: why, in words
    :param embedding_model_id: the new model's id (the winning run id), once accepted
    :param model_version: its version in the MLflow model registry
    :param reindex_task_id: the reindex task that fills its collection and switches blue
    """

    batch_id: str | None = None
    plugin_name: str | None = None
    starting_model_id: str | None = None
    sessions: int = 0
    data: dict[str, int] = Field(default_factory=dict)
    baseline: dict[str, float] = Field(default_factory=dict)
    trials: list[TrialRecord] = Field(default_factory=list)
    main_metric: str | None = None
    main_metric_is_loss: bool | None = None
    best_run_id: str | None = None
    outcome: Outcome | None = None
    reason: str | None = None
    embedding_model_id: str | None = None
    model_version: str | None = None
    reindex_task_id: str | None = None

    def trial(self, params: dict[str, Any]) -> TrialRecord | None:
        key = params_key(params)
        return next((t for t in self.trials if t.key == key), None)

    def done_trials(self) -> list[TrialRecord]:
        return [t for t in self.trials if t.status is TrialStatus.done]

    def best_trial(self, is_loss: bool) -> TrialRecord | None:
        """The done trial with a model and the best main metric (first of equals)."""
        scored = [t for t in self.done_trials() if t.has_model and t.main_metric_value is not None]
        if not scored:
            return None
        sign = 1.0 if is_loss else -1.0
        return min(scored, key=lambda t: (sign * float(t.main_metric_value or 0.0), t.index))

    def as_result(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
