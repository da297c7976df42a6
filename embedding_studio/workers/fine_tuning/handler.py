"""The fine-tuning task: from a clickstream batch to an accepted (or rejected) model.

1. resolve the starting model and its plugin; release (or take) the batch and hold it;
2. read the batch's sessions; refuse a batch without clicks;
3. the plugin's `get_fine_tuning_builder(sessions)` prepares the data (`prepare_data`);
4. evaluate the starting model on the held-out sessions;
5. hyperparameter search: each trial an MLflow run (see `trials.py`);
6. gate the best trial against the starting model; register it, create its
   collection and, with `deploy_as_blue`, submit the reindex that switches it live.

Everything decided is recorded in the task's result (`FineTuningState`): a retry after
a crash resumes, and a finished task run again returns its recorded outcome.
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

from embedding_studio.context.app_context import AppContext
from embedding_studio.core.errors import NotFound, TaskCanceled, TaskRefused
from embedding_studio.core.plugin import FineTuningMethod
from embedding_studio.embeddings.data.ranking_data import RankingData
from embedding_studio.experiments.experiments_tracker import ExperimentsManager
from embedding_studio.models.clickstream.session_batches import SessionBatchStatus
from embedding_studio.models.clickstream.sessions import SessionWithEvents
from embedding_studio.models.plugin import FineTuningBuilder
from embedding_studio.vectordb.collection import Collection
from embedding_studio.workers.broker import is_last_attempt
from embedding_studio.workers.fine_tuning.clickstream_batch import (
    BatchLease,
    check_still_unused,
    load_sessions,
    resolve_batch,
)
from embedding_studio.workers.fine_tuning.deployment import accept, reject, rejection
from embedding_studio.workers.fine_tuning.evaluation import HeldOutEvaluator
from embedding_studio.workers.fine_tuning.prepare_data import NotEnoughData
from embedding_studio.workers.fine_tuning.ranking_space import RankingSpace
from embedding_studio.workers.fine_tuning.registry import archive_model
from embedding_studio.workers.fine_tuning.session_meta import fill_result_meta
from embedding_studio.workers.fine_tuning.state import FineTuningState
from embedding_studio.workers.fine_tuning.task_params import FineTuningTaskParams
from embedding_studio.workers.fine_tuning.trainer import TrainingSetup
from embedding_studio.workers.fine_tuning.trials import TrialsRunner
from embedding_studio.workers.task_runner import TaskRun

logger = logging.getLogger(__name__)

_training_slot = threading.Lock()
"""One training at a time per worker process (trials use every core, and a plugin's
accumulators are shared)."""


def task_seed(task_id: str) -> int:
    return int(hashlib.sha256(task_id.encode()).hexdigest()[:8], 16)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class FineTuningRun:
    """One attempt of a fine-tuning task."""

    def __init__(self, run: TaskRun) -> None:
        self.run = run
        self.ctx: AppContext = run.ctx
        self.params = FineTuningTaskParams.model_validate(run.task.parameters)
        self.state = FineTuningState.model_validate(run.task.result or {})
        self.done_steps = 0
        self.total_steps: int | None = None
        self.lease: BatchLease | None = None

    def save(self, message: str) -> None:
        """Record the state and a progress message; raises TaskCanceled if canceled."""
        self.run.report(self.done_steps, self.total_steps, message, result=self.state.as_result())

    def step(self, done: int, total: int, message: str) -> None:
        self.done_steps, self.total_steps = done, total
        self.run.report(done, total, message)
        if self.lease is not None:
            self.lease.renew()

    # --- the task --------------------------------------------------------------------
    def execute(self) -> dict[str, Any]:
        if self.state.outcome is not None:
            logger.info("task %s already decided: %s", self.run.task_id, self.state.outcome)
            return self.state.as_result()
        source, plugin = self._starting_point()
        batch = resolve_batch(self.ctx, self.run.task_id, self.params.batch_id, self.state.batch_id)
        self.state.batch_id = batch.batch_id
        self.save(f"taking batch {batch.batch_id}")
        lease = self.lease = BatchLease(self.ctx, batch.batch_id, self.run.task_id)
        lease.acquire(
            self.params.wait_on_conflict,
            lambda holder: self.save(f"waiting for task {holder} to finish batch {batch.batch_id}"),
        )
        try:
            check_still_unused(self.ctx, batch.batch_id, self.state.outcome)
        except TaskRefused:
            lease.release()
            raise
        self.ctx.clickstream_dao.update_batch_status(batch.batch_id, SessionBatchStatus.fine_tuning)
        try:
            self._fine_tune(source, plugin)
        except (TaskRefused, TaskCanceled):
            self._give_back_batch()
            raise
        except BaseException:
            if is_last_attempt():
                self._give_back_batch()
            raise
        self.ctx.clickstream_dao.update_batch_status(batch.batch_id, SessionBatchStatus.archived)
        lease.release()
        return self.state.as_result()

    def _give_back_batch(self) -> None:
        if self.state.batch_id is not None:
            self.ctx.clickstream_dao.update_batch_status(
                self.state.batch_id, SessionBatchStatus.released
            )
        if self.lease is not None:
            self.lease.release()

    def _starting_point(self) -> tuple[Collection, FineTuningMethod]:
        model_id = self.params.embedding_model_id
        try:
            source = self.ctx.vectordb.get_collection(model_id)
        except NotFound as exc:
            raise TaskRefused(f"embedding model {model_id!r} has no collection: {exc}") from exc
        plugin = self.ctx.plugin_manager.get_plugin(source.info.plugin_name)
        if plugin is None:
            raise TaskRefused(
                f"plugin {source.info.plugin_name!r} of model {model_id} is not enabled here"
            )
        if not plugin.get_manager().has_model(model_id):
            raise TaskRefused(f"embedding model {model_id!r} holds no model in MLflow")
        self.state.plugin_name = plugin.meta.name
        self.state.starting_model_id = model_id
        return source, plugin

    def _fine_tune(self, source: Collection, plugin: FineTuningMethod) -> None:
        sessions = self._sessions(source)
        seed = task_seed(self.run.task_id)
        seed_everything(seed)
        self.save(f"preparing the data of {len(sessions)} sessions")
        builder = self._builder(plugin, sessions)
        data: RankingData = builder.ranking_data
        self.state.data = data.describe()
        with self._training_slot():
            setup = self._setup(plugin, builder, data)
            TrialsRunner(
                self.run.task_id, builder, setup, self.state, seed, self.save, self.step
            ).run()
        self._decide(plugin)

    def _sessions(self, source: Collection) -> list[SessionWithEvents]:
        assert self.state.batch_id is not None
        sessions = load_sessions(self.ctx, self.state.batch_id)
        self.state.sessions = len(sessions)
        if not sessions:
            raise TaskRefused(f"clickstream batch {self.state.batch_id} has no session")
        if not any(s.clicked_object_ids and not s.is_irrelevant for s in sessions):
            raise TaskRefused(
                f"clickstream batch {self.state.batch_id}: none of its {len(sessions)} sessions "
                "has a click on a shown result, so there is nothing to learn"
            )
        fill_result_meta(sessions, source)
        return sessions

    def _builder(self, plugin: FineTuningMethod, sessions: list[SessionWithEvents]) -> Any:
        try:
            builder = plugin.get_fine_tuning_builder(sessions)
        except NotEnoughData as exc:
            raise TaskRefused(f"not enough data to fine-tune: {exc}") from exc
        if not isinstance(builder, FineTuningBuilder):
            raise TypeError(f"{plugin.meta.name}.get_fine_tuning_builder returned {builder!r}")
        if not isinstance(builder.ranking_data, RankingData):
            raise TypeError("the builder's ranking_data must come from prepare_data(...)")
        return builder

    def _setup(
        self, plugin: FineTuningMethod, builder: FineTuningBuilder, data: RankingData
    ) -> TrainingSetup:
        settings = builder.fine_tuning_settings
        manager: ExperimentsManager = builder.experiments_manager
        assert self.state.starting_model_id is not None
        model = manager.download_model(self.state.starting_model_id)
        space = RankingSpace.of(
            plugin.get_search_index_info(), settings.ranker, settings.is_similarity
        )
        evaluator = HeldOutEvaluator(
            data.test_sessions, data.parts("test"), space, settings.confidence_calculator
        )
        queries, pool = evaluator.size
        self.save(f"evaluating the starting model on {queries} held-out sessions ({pool} items)")
        baseline = evaluator.evaluate(model, settings.loss_func)
        self.state.baseline = baseline.metrics
        self.save(f"starting model on held-out sessions: {baseline.metrics}")
        return TrainingSetup(
            model=model,
            starting_model_id=self.state.starting_model_id,
            train_sessions=data.train_sessions,
            train_parts=data.parts("train"),
            settings=settings,
            space=space,
            evaluator=evaluator,
            baseline=baseline,
            manager=manager,
        )

    def _decide(self, plugin: FineTuningMethod) -> None:
        best = self.state.best_trial(bool(self.state.main_metric_is_loss))
        self.state.best_run_id = best.run_id if best is not None else None
        manager = plugin.get_manager()
        if manager.archive_previous_runs:
            for trial in self.state.done_trials():
                if trial.has_model and trial.run_id != self.state.best_run_id:
                    archive_model(manager.wrapper, str(trial.run_id))
                    trial.has_model = False
        reason = rejection(self.state, self.ctx.settings.FINE_TUNING_MAX_NDCG_DROP)
        if reason is not None:
            reject(plugin, self.state, reason)
        else:
            self.save(f"accepting model {self.state.best_run_id}")
            accept(
                self.ctx,
                plugin,
                self.state,
                self.run.task_id,
                self.params.deploy_as_blue,
                self.params.wait_on_conflict,
            )
        self.save(self.state.reason or "")
        logger.info("task %s: %s", self.run.task_id, self.state.reason)

    @contextmanager
    def _training_slot(self) -> Iterator[None]:
        while not _training_slot.acquire(timeout=5.0):
            self.save("waiting for another fine-tuning task of this worker to finish")
        try:
            yield
        finally:
            _training_slot.release()


def fine_tune(run: TaskRun) -> dict[str, Any]:
    """The fine-tuning task handler (see the module docstring)."""
    return FineTuningRun(run).execute()
