"""The trials of a task: each hyperparameter point trained in its own MLflow run,
recorded in the task so a retry skips finished trials and redoes an interrupted one."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

from embedding_studio.core.errors import EmbeddingStudioError
from embedding_studio.experiments.experiments_tracker import ExperimentsManager
from embedding_studio.models.plugin import FineTuningBuilder
from embedding_studio.workers.fine_tuning.evaluation import NDCG, TEST_LOSS
from embedding_studio.workers.fine_tuning.params import FineTuningParams
from embedding_studio.workers.fine_tuning.registry import TAG_TASK
from embedding_studio.workers.fine_tuning.search import combinations, run_search
from embedding_studio.workers.fine_tuning.state import (
    FineTuningState,
    TrialRecord,
    TrialStatus,
)
from embedding_studio.workers.fine_tuning.trainer import TrainingSetup, TrialTrainer

logger = logging.getLogger(__name__)

Save = Callable[[str], None]
"""Records the task state with a progress message (raises when the task was canceled)."""
Step = Callable[[int, int, str], None]
"""Called after every training step with (steps done in the task, steps planned, what)."""


def main_metric(manager: ExperimentsManager, metrics: dict[str, float]) -> tuple[str, bool] | None:
    """The metric that ranks trials, and whether lower is better: the manager's main
    metric, else held-out nDCG@10, else the held-out loss."""
    for name, is_loss in ((manager.main_metric, manager.is_loss), (NDCG, False), (TEST_LOSS, True)):
        if name in metrics and math.isfinite(metrics[name]):
            return name, is_loss
    return None


class TrialsRunner:
    """Runs the hyperparameter search of one task over a shared `TrainingSetup`."""

    def __init__(
        self,
        task_id: str,
        builder: FineTuningBuilder,
        setup: TrainingSetup,
        state: FineTuningState,
        seed: int,
        save: Save,
        step: Step,
    ) -> None:
        self.task_id = task_id
        self.builder = builder
        self.setup = setup
        self.manager: ExperimentsManager = builder.experiments_manager
        self.state = state
        self.seed = seed
        self.save = save
        self.step = step
        self.is_loss = (
            state.main_metric_is_loss
            if state.main_metric_is_loss is not None
            else self.manager.is_loss
        )
        self.planned = min(int(builder.initial_max_evals), combinations(builder.initial_params))

    def run(self) -> None:
        run_search(self.builder.initial_params, self.planned, self.seed, self._objective)

    def _objective(self, raw: dict[str, Any]) -> float:
        record = self.state.trial(raw)
        if record is not None and record.status is TrialStatus.done:
            return self._loss(record)
        if record is None:
            record = TrialRecord(index=len(self.state.trials), params=raw)
            self.state.trials.append(record)
        elif record.run_id is not None:  # interrupted by a crash: its run is abandoned
            self._finish_quietly(record.run_id, failed=True)
        params = FineTuningParams.model_validate(raw)
        record.run_id = self.manager.start_run(raw, iteration=str(record.index))
        record.status = TrialStatus.running
        self.manager.wrapper.set_tags(record.run_id, {TAG_TASK: self.task_id})
        self.save(f"trial {record.index + 1}/{self.planned}: training")
        try:
            model, metrics = self._train(record, params)
            self._keep_if_best(record, model, metrics)
            self.manager.finish_run(record.run_id)
        except BaseException:
            self._finish_quietly(record.run_id, failed=True)
            raise
        record.status = TrialStatus.done
        self.save(f"trial {record.index + 1}/{self.planned} done: {self._summary(record)}")
        return self._loss(record)

    def _train(self, record: TrialRecord, params: FineTuningParams) -> tuple[Any, dict[str, float]]:
        steps = self.setup.steps(params)
        before = record.index * steps
        total = self.planned * steps
        trainer = TrialTrainer(self.setup, params, str(record.run_id), self.seed + record.index)
        label = f"trial {record.index + 1}/{self.planned}"
        return trainer.train(
            lambda done: self.step(before + done, total, f"{label}: step {done}/{steps}")
        )

    def _keep_if_best(self, record: TrialRecord, model: Any, metrics: dict[str, float]) -> None:
        record.metrics = metrics
        if self.state.main_metric is None:
            chosen = main_metric(self.manager, metrics)
            if chosen is not None:
                self.state.main_metric, self.is_loss = chosen
                self.state.main_metric_is_loss = self.is_loss
        name = self.state.main_metric
        value = metrics.get(name) if name else None
        record.main_metric_value = value if value is not None and math.isfinite(value) else None
        if record.main_metric_value is None:
            logger.warning("trial %d has no %s: it cannot win", record.index, name)
            return
        best = self.state.best_trial(self.is_loss)
        if best is None or self._better(record.main_metric_value, best.main_metric_value):
            self.save(f"trial {record.index + 1}/{self.planned}: uploading its model")
            self.manager.save_model(str(record.run_id), model)
            record.has_model = True

    def _better(self, value: float, than: float | None) -> bool:
        if than is None:
            return True
        return value < than if self.is_loss else value > than

    def _loss(self, record: TrialRecord) -> float:
        if record.main_metric_value is None:
            return math.inf
        return record.main_metric_value if self.is_loss else -record.main_metric_value

    def _summary(self, record: TrialRecord) -> str:
        name = self.state.main_metric
        if name is None or record.main_metric_value is None:
            return "no main metric"
        return f"{name}={record.main_metric_value:.4f}"

    def _finish_quietly(self, run_id: str | None, failed: bool) -> None:
        if run_id is None:
            return
        try:
            self.manager.finish_run(run_id, failed=failed)
        except EmbeddingStudioError as exc:
            logger.warning("could not close MLflow run %s: %s", run_id, exc)
