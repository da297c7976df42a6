"""MLflow-backed experiments of one plugin: its initial model, fine-tuning runs, metrics
and model artifacts. An embedding model id is the id of the MLflow run holding it.

Experiments are named per plugin: `<plugin> / initial model` holds the initial model's
run; fine-tuning runs go to `experiment_name` (default `<plugin> / fine-tuning`).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from embedding_studio.core.errors import EmbeddingStudioError
from embedding_studio.embeddings.models.interface import EmbeddingsModelInterface
from embedding_studio.experiments.metrics_accumulator import MetricsAccumulator
from embedding_studio.experiments.mlflow_client_wrapper import MLflowClientWrapper
from embedding_studio.experiments.model_artifacts import (
    TAG_HAS_MODEL,
    ModelCache,
    log_model,
    run_has_model,
)

logger = logging.getLogger(__name__)

TAG_PLUGIN = "es_plugin_name"
TAG_KIND = "es_run_kind"
KIND_INITIAL = "initial"
KIND_FINE_TUNING = "fine_tuning"
INITIAL_RUN_NAME = "initial_model"
DEFAULT_RUN_NAME_PATTERN = "fine_tuning_{timestamp}"
_WITH_MODEL = f"tags.{TAG_HAS_MODEL} = 'true' and attributes.status = 'FINISHED'"


def _timestamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


class ExperimentsManager:
    """Tracks one plugin's models and training runs in MLflow.

    Build it with `from_wrapper(...)` in the plugin's `__init__`; it contacts MLflow only
    when a method is called.

    :param wrapper: the MLflow client (`context.mlflow_client`)
    :param main_metric: metric that ranks fine-tuning runs (an accumulator's name)
    :param plugin_name: the plugin's `meta.name`
    :param accumulators: metrics logged by `log_accumulators`
    :param experiment_name: experiment of fine-tuning runs (default `<plugin> / fine-tuning`)
    :param run_name_pattern: run names; may use {timestamp}, {plugin_name}, {iteration}
    :param archive_previous_runs: the fine-tuning worker keeps only the best run's model
    :param is_loss: True when a lower `main_metric` is better
    :param model_cache_dir: where downloaded models are kept (default: MODEL_CACHE_DIR)
    """

    def __init__(
        self,
        wrapper: MLflowClientWrapper,
        main_metric: str,
        plugin_name: str,
        accumulators: list[MetricsAccumulator],
        experiment_name: str | None = None,
        run_name_pattern: str | None = None,
        archive_previous_runs: bool = True,
        is_loss: bool = False,
        model_cache_dir: str | Path | None = None,
    ) -> None:
        if not plugin_name:
            raise ValueError("plugin_name is required")
        self.wrapper = wrapper
        self.main_metric = main_metric
        self.plugin_name = plugin_name
        self.accumulators = list(accumulators)
        self.experiment_name = experiment_name or f"{plugin_name} / fine-tuning"
        self.initial_experiment_name = f"{plugin_name} / initial model"
        self.run_name_pattern = run_name_pattern or DEFAULT_RUN_NAME_PATTERN
        self.archive_previous_runs = archive_previous_runs
        self.is_loss = is_loss
        self._model_cache_dir = model_cache_dir
        self._run_name("check")  # fail at construction on an unknown placeholder

    @classmethod
    def from_wrapper(
        cls,
        wrapper: MLflowClientWrapper,
        main_metric: str,
        plugin_name: str,
        accumulators: list[MetricsAccumulator],
        experiment_name: str | None = None,
        run_name_pattern: str | None = None,
        archive_previous_runs: bool = True,
        is_loss: bool = False,
        model_cache_dir: str | Path | None = None,
    ) -> ExperimentsManager:
        """The seeds' constructor (same arguments as `__init__`)."""
        return cls(
            wrapper,
            main_metric=main_metric,
            plugin_name=plugin_name,
            accumulators=accumulators,
            experiment_name=experiment_name,
            run_name_pattern=run_name_pattern,
            archive_previous_runs=archive_previous_runs,
            is_loss=is_loss,
            model_cache_dir=model_cache_dir,
        )

    @property
    def model_cache(self) -> ModelCache:
        if self._model_cache_dir is None:
            from embedding_studio.core.config import settings

            return ModelCache(settings.MODEL_CACHE_DIR)
        return ModelCache(self._model_cache_dir)

    def _tags(self, kind: str) -> dict[str, str]:
        return {TAG_PLUGIN: self.plugin_name, TAG_KIND: kind}

    def _run_name(self, iteration: str) -> str:
        try:
            return self.run_name_pattern.format(
                timestamp=_timestamp(), plugin_name=self.plugin_name, iteration=iteration
            )
        except (KeyError, IndexError) as exc:
            raise ValueError(
                f"run_name_pattern {self.run_name_pattern!r} uses an unknown placeholder "
                f"{exc}; use {{timestamp}}, {{plugin_name}} or {{iteration}}"
            ) from exc

    # --- the initial model ---------------------------------------------------------
    def get_initial_model_run_id(self) -> str | None:
        """The run holding the plugin's initial model, or None before it is uploaded.

        When several processes uploaded at once, the first upload to finish wins, so
        every process answers the same id."""
        experiment = self.wrapper.get_experiment_by_name(self.initial_experiment_name)
        if experiment is None or experiment.lifecycle_stage == "deleted":
            return None
        runs = self.wrapper.search_runs(
            [str(experiment.experiment_id)],
            filter_string=_WITH_MODEL,
            order_by=["attributes.end_time ASC"],
            max_results=1,
        )
        return str(runs[0].info.run_id) if runs else None

    def upload_initial_model(self, model: EmbeddingsModelInterface) -> str:
        """Log `model` as the plugin's initial model; returns its run id (the embedding
        model id). Idempotent: when an initial model is already logged, nothing is
        uploaded and its run id is returned."""
        existing = self.get_initial_model_run_id()
        if existing is not None:
            logger.info("initial model of %s already in MLflow: %s", self.plugin_name, existing)
            return existing
        experiment_id = self.wrapper.get_or_create_experiment(self.initial_experiment_name)
        run_id = self.wrapper.create_run(experiment_id, INITIAL_RUN_NAME, self._tags(KIND_INITIAL))
        self._log_model_and_finish(run_id, model, model.get_config())
        winner = self.get_initial_model_run_id() or run_id
        if winner != run_id:  # another process finished its upload first
            logger.info("initial model %s lost to %s; deleting it", run_id, winner)
            self.wrapper.delete_run(run_id)
        return winner

    def _log_model_and_finish(
        self, run_id: str, model: EmbeddingsModelInterface, params: dict[str, Any]
    ) -> None:
        try:
            self.wrapper.log_params(run_id, params)
            log_model(self.wrapper, run_id, model)
        except BaseException:  # any failure, even an interrupt: the run must not stay RUNNING
            self._finish_quietly(run_id, failed=True)
            raise
        self.wrapper.finish_run(run_id)

    def _finish_quietly(self, run_id: str, failed: bool) -> None:
        try:
            self.wrapper.finish_run(run_id, failed=failed)
        except EmbeddingStudioError:
            logger.exception("could not mark MLflow run %s as finished", run_id)

    # --- models --------------------------------------------------------------------
    def has_model(self, run_id: str) -> bool:
        """True when run `run_id` exists and holds a completely uploaded model."""
        return run_has_model(self.wrapper, run_id)

    def download_model(self, run_id: str) -> EmbeddingsModelInterface:
        """The model of run `run_id` (downloaded once, then read from the disk cache),
        on the CPU in eval mode; a new instance on every call.

        :raises NotFound: no such run, or it holds no model
        :raises StorageUnavailable: MLflow cannot be reached
        """
        return self.model_cache.load(self.wrapper, run_id)

    def save_model(self, run_id: str, model: EmbeddingsModelInterface) -> None:
        """Upload `model` as the model of an open run (a fine-tuning trial)."""
        log_model(self.wrapper, run_id, model)

    # --- fine-tuning runs ----------------------------------------------------------
    def start_run(self, params: dict[str, Any], iteration: str = "") -> str:
        """Open a fine-tuning run with these hyperparameters; returns its id."""
        experiment_id = self.wrapper.get_or_create_experiment(self.experiment_name)
        run_id = self.wrapper.create_run(
            experiment_id, self._run_name(iteration), self._tags(KIND_FINE_TUNING)
        )
        if params:
            self.wrapper.log_params(run_id, params)
        for accumulator in self.accumulators:
            accumulator.clear()
        return run_id

    def log_accumulators(self, run_id: str, step: int) -> dict[str, float]:
        """Log every accumulator's current aggregates at `step`; returns what was logged."""
        metrics = {name: value for acc in self.accumulators for name, value in acc.aggregate()}
        if metrics:
            self.wrapper.log_metrics(run_id, metrics, step=step)
        return metrics

    def finish_run(self, run_id: str, failed: bool = False) -> None:
        self.wrapper.finish_run(run_id, failed=failed)

    def get_best_run_id(self) -> str | None:
        """The finished fine-tuning run with a model and the best `main_metric`."""
        experiment = self.wrapper.get_experiment_by_name(self.experiment_name)
        if experiment is None or experiment.lifecycle_stage == "deleted":
            return None
        direction = "ASC" if self.is_loss else "DESC"
        runs = self.wrapper.search_runs(
            [str(experiment.experiment_id)],
            filter_string=f"{_WITH_MODEL} and tags.{TAG_KIND} = '{KIND_FINE_TUNING}'",
            order_by=[f"metrics.`{self.main_metric}` {direction}", "attributes.end_time ASC"],
        )
        ranked = [run for run in runs if self.main_metric in run.data.metrics]
        return str(ranked[0].info.run_id) if ranked else None
