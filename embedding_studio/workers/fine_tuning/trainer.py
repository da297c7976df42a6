"""One training trial: a deep copy of the starting model trained on the train sessions
with plain torch (AdamW + StepLR), tracked in an MLflow run, evaluated on the held-out
sessions."""

from __future__ import annotations

import copy
import logging
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

import torch

from embedding_studio.embeddings.data.clickstream.fine_tuning_input import FineTuningInput
from embedding_studio.embeddings.data.items.parts_index import ItemsParts
from embedding_studio.embeddings.losses.ranking_loss_interface import RankingLossInterface
from embedding_studio.embeddings.models.interface import EmbeddingsModelInterface
from embedding_studio.experiments.experiments_tracker import ExperimentsManager
from embedding_studio.experiments.finetuning_settings import FineTuningSettings
from embedding_studio.experiments.metrics_accumulator import MetricsAccumulator
from embedding_studio.workers.fine_tuning.batches import plan_batch, rank_items
from embedding_studio.workers.fine_tuning.evaluation import Evaluation, HeldOutEvaluator
from embedding_studio.workers.fine_tuning.features import (
    distance_shifts,
    recorded_base_rank,
    session_features,
)
from embedding_studio.workers.fine_tuning.model_tuning import (
    build_optimizer,
    freeze_bottom_layers,
    max_length,
    set_max_length,
    training_length,
)
from embedding_studio.workers.fine_tuning.params import FineTuningParams
from embedding_studio.workers.fine_tuning.ranking_space import RankingSpace

logger = logging.getLogger(__name__)

Progress = Callable[[int], None]
"""Called after every optimizer step with the trial's step count; raises to stop."""


@dataclass
class TrainingSetup:
    """What every trial of a task shares."""

    model: EmbeddingsModelInterface
    starting_model_id: str
    train_sessions: list[FineTuningInput]
    train_parts: ItemsParts
    settings: FineTuningSettings
    space: RankingSpace
    evaluator: HeldOutEvaluator
    baseline: Evaluation
    manager: ExperimentsManager

    def batch_size(self, params: FineTuningParams) -> int:
        return params.batch_size or self.settings.batch_size

    def epochs(self, params: FineTuningParams) -> int:
        return params.num_epochs or self.settings.num_epochs

    def steps(self, params: FineTuningParams) -> int:
        """Optimizer steps of a trial with these parameters."""
        per_epoch = math.ceil(len(self.train_sessions) / self.batch_size(params))
        return per_epoch * self.epochs(params)

    def evaluation_interval(self, params: FineTuningParams) -> int:
        """Steps between evaluations on the held-out sessions (`test_each_n_sessions`:
        -1 each epoch, a fraction of an epoch, or a number of sessions)."""
        per_epoch = math.ceil(len(self.train_sessions) / self.batch_size(params))
        every = self.settings.test_each_n_sessions
        if every is None or every <= 0:
            return per_epoch
        if isinstance(every, float) and every < 1:
            return max(1, round(per_epoch * every))
        return max(1, math.ceil(float(every) / self.batch_size(params)))


class TrialTrainer:
    """Trains one trial and logs it to its MLflow run.

    Metrics: the plugin's accumulators named `train_loss`,
    `train_not_irrelevant_dist_shift`, `train_irrelevant_dist_shift` get a value per
    step, those named `test_loss`, `test_not_irrelevant_dist_shift`,
    `test_irrelevant_dist_shift` one per evaluation; every accumulator's aggregates are
    logged with `manager.log_accumulators`, and the ranking metrics of each evaluation
    (`test_ndcg_at_10`, ...) directly.
    """

    def __init__(self, setup: TrainingSetup, params: FineTuningParams, run_id: str, seed: int):
        self.setup = setup
        self.params = params
        self.run_id = run_id
        self.rng = random.Random(seed)
        self.accumulators: dict[str, MetricsAccumulator] = {
            a.name: a for a in setup.manager.accumulators
        }
        self.step = 0
        self.logged: dict[str, float] = {}

    def train(self, progress: Progress) -> tuple[EmbeddingsModelInterface, dict[str, float]]:
        """The trained copy (full sequence length, eval mode) and its final metrics."""
        setup, params = self.setup, self.params
        model = copy.deepcopy(setup.model)
        loss_func: RankingLossInterface = copy.deepcopy(setup.settings.loss_func)
        if params.margin is not None:
            loss_func.set_margin(params.margin)
        frozen = freeze_bottom_layers(model, params.num_fixed_layers)
        optimizer = build_optimizer(model, params)
        scheduler = torch.optim.lr_scheduler.StepLR(
            optimizer, step_size=setup.settings.step_size, gamma=setup.settings.gamma
        )
        interval = setup.evaluation_interval(params)
        total = setup.steps(params)
        logger.info("run %s: %d steps, %d layers frozen", self.run_id, total, frozen)
        full_length = max_length(model)
        train_length = training_length(model, params.max_seq_length)
        set_max_length(model, train_length)
        model.train()
        for _epoch in range(setup.epochs(params)):
            sessions = list(setup.train_sessions)
            self.rng.shuffle(sessions)
            for start in range(0, len(sessions), setup.batch_size(params)):
                batch = sessions[start : start + setup.batch_size(params)]
                self._train_step(model, loss_func, optimizer, batch)
                scheduler.step()
                progress(self.step)
                if self.step % interval == 0 and self.step < total:
                    set_max_length(model, full_length)
                    self._evaluate(model, loss_func)
                    set_max_length(model, train_length)
                    model.train()
        set_max_length(model, full_length)
        model.eval()
        final = self._evaluate(model, loss_func)
        return model, {**self.logged, **final}

    def _train_step(
        self,
        model: EmbeddingsModelInterface,
        loss_func: RankingLossInterface,
        optimizer: torch.optim.Optimizer,
        batch: list[FineTuningInput],
    ) -> None:
        setup, params = self.setup, self.params
        plan = plan_batch(
            batch,
            setup.train_parts.__contains__,
            params.negative_downsampling,
            use_irrelevant=not params.not_irrelevant_only,
            rng=self.rng,
        )
        self.step += 1
        if not plan.sessions:
            return
        ranks = rank_items(
            model,
            [s.query_text for s in plan.sessions],
            plan.item_ids,
            lambda item_id: setup.train_parts.for_training(item_id, self.rng),
            setup.space,
        )
        features = session_features(
            plan,
            ranks,
            setup.space,
            params.min_abs_difference_threshold,
            params.max_abs_difference_threshold,
            setup.settings.confidence_calculator,
        )
        loss = loss_func(features)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        self._accumulate("train_loss", float(loss.detach()))
        if setup.space.cosine_baseline:
            base = recorded_base_rank(plan, setup.starting_model_id)
            clicked, irrelevant = distance_shifts(plan, ranks, base, setup.space.sign)
            self._accumulate("train_not_irrelevant_dist_shift", clicked)
            self._accumulate("train_irrelevant_dist_shift", irrelevant)
        self.logged.update(self.setup.manager.log_accumulators(self.run_id, self.step))

    def _accumulate(self, name: str, value: float | None) -> None:
        accumulator = self.accumulators.get(name)
        if accumulator is not None and value is not None and math.isfinite(value):
            accumulator.accumulate(value)

    def _evaluate(
        self, model: EmbeddingsModelInterface, loss_func: RankingLossInterface
    ) -> dict[str, float]:
        setup = self.setup
        evaluation = setup.evaluator.evaluate(model, loss_func, setup.baseline.ranks)
        metrics = evaluation.metrics
        for name, value in metrics.items():
            self._accumulate(name, value)
        logged = setup.manager.log_accumulators(self.run_id, self.step)
        direct = {k: v for k, v in metrics.items() if k not in self.accumulators}
        if direct:
            setup.manager.wrapper.log_metrics(self.run_id, direct, step=self.step)
        self.logged.update(logged)
        logger.info("run %s step %d: %s", self.run_id, self.step, metrics)
        return {**logged, **metrics}
