"""A thin MLflow client: the calls Embedding Studio makes, with MLflow's errors mapped
to ours (`NotFound`, `InvalidRequest`, `StorageUnavailable`).

The process's instance is `context.mlflow_client`. Constructing it opens no connection;
each call talks to the tracking server (HTTP, with MLflow's own retries).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import Any

from mlflow.entities import Experiment, Metric, Param, Run, RunStatus, RunTag
from mlflow.entities.file_info import FileInfo
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from embedding_studio.core.errors import InvalidRequest, NotFound, StorageUnavailable

logger = logging.getLogger(__name__)

_NOT_FOUND = {"RESOURCE_DOES_NOT_EXIST", "NOT_FOUND", "ENDPOINT_NOT_FOUND"}
_INVALID = {"INVALID_PARAMETER_VALUE", "BAD_REQUEST", "INVALID_STATE"}
ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"


@contextmanager
def translate_mlflow_errors(action: str) -> Iterator[None]:
    """Re-raise MLflow failures as NotFound / InvalidRequest / StorageUnavailable;
    `action` says what we were doing ("get run abc")."""
    try:
        yield
    except MlflowException as exc:
        code = str(exc.error_code)
        if code in _NOT_FOUND:
            raise NotFound(f"MLflow: {action}: {exc.message}") from exc
        if code in _INVALID:
            raise InvalidRequest(f"MLflow: {action}: {exc.message}") from exc
        raise StorageUnavailable(f"MLflow is unavailable ({action}): {exc.message}") from exc
    except OSError as exc:  # network errors below MLflow (requests raises OSError subclasses)
        raise StorageUnavailable(f"MLflow is unavailable ({action}): {exc}") from exc


class MLflowClientWrapper:
    """MLflow tracking calls used by experiments managers.

    :param tracking_uri: the tracking server, e.g. "http://127.0.0.1:5001"
    """

    def __init__(self, tracking_uri: str) -> None:
        self.tracking_uri = tracking_uri

    @cached_property
    def client(self) -> MlflowClient:
        """The underlying `MlflowClient` (for calls this wrapper does not cover)."""
        return MlflowClient(tracking_uri=self.tracking_uri)

    # --- experiments ---------------------------------------------------------------
    def get_experiment_by_name(self, name: str) -> Experiment | None:
        with translate_mlflow_errors(f"get experiment {name!r}"):
            return self.client.get_experiment_by_name(name)

    def get_or_create_experiment(self, name: str) -> str:
        """The id of the active experiment `name`, created (or restored) if needed."""
        experiment = self.get_experiment_by_name(name)
        if experiment is not None:
            if experiment.lifecycle_stage == "deleted":
                with translate_mlflow_errors(f"restore experiment {name!r}"):
                    self.client.restore_experiment(experiment.experiment_id)
            return str(experiment.experiment_id)
        try:
            return str(self.client.create_experiment(name))
        except MlflowException as exc:
            if exc.error_code != ALREADY_EXISTS:
                with translate_mlflow_errors(f"create experiment {name!r}"):
                    raise
        except OSError as exc:
            raise StorageUnavailable(f"MLflow is unavailable (create experiment): {exc}") from exc
        experiment = self.get_experiment_by_name(name)  # created by another process meanwhile
        if experiment is None:
            raise StorageUnavailable(f"MLflow: experiment {name!r} exists but cannot be read")
        return str(experiment.experiment_id)

    # --- runs ----------------------------------------------------------------------
    def get_run(self, run_id: str) -> Run | None:
        """The run, or None when MLflow has no run with this id."""
        try:
            with translate_mlflow_errors(f"get run {run_id}"):
                return self.client.get_run(run_id)
        except (NotFound, InvalidRequest):
            return None

    def search_runs(
        self,
        experiment_ids: list[str],
        filter_string: str = "",
        order_by: list[str] | None = None,
        max_results: int = 1000,
    ) -> list[Run]:
        with translate_mlflow_errors(f"search runs of experiments {experiment_ids}"):
            return list(
                self.client.search_runs(
                    experiment_ids,
                    filter_string=filter_string,
                    order_by=order_by,
                    max_results=max_results,
                )
            )

    def create_run(self, experiment_id: str, run_name: str, tags: dict[str, str]) -> str:
        with translate_mlflow_errors(f"create run {run_name!r}"):
            run = self.client.create_run(experiment_id, run_name=run_name, tags=tags)
        return str(run.info.run_id)

    def finish_run(self, run_id: str, failed: bool = False) -> None:
        status = RunStatus.to_string(RunStatus.FAILED if failed else RunStatus.FINISHED)
        with translate_mlflow_errors(f"terminate run {run_id}"):
            self.client.set_terminated(run_id, status=status)

    def delete_run(self, run_id: str) -> None:
        with translate_mlflow_errors(f"delete run {run_id}"):
            self.client.delete_run(run_id)

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        with translate_mlflow_errors(f"tag run {run_id}"):
            self.client.log_batch(run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])

    def log_params(self, run_id: str, params: dict[str, Any]) -> None:
        with translate_mlflow_errors(f"log params of run {run_id}"):
            self.client.log_batch(run_id, params=[Param(k, str(v)) for k, v in params.items()])

    def log_metrics(self, run_id: str, metrics: dict[str, float], step: int | None = None) -> None:
        timestamp_ms = int(time.time() * 1000)
        batch = [Metric(k, float(v), timestamp_ms, step or 0) for k, v in metrics.items()]
        with translate_mlflow_errors(f"log metrics of run {run_id}"):
            self.client.log_batch(run_id, metrics=batch)

    # --- artifacts -----------------------------------------------------------------
    def log_artifacts(self, run_id: str, local_dir: str, artifact_path: str) -> None:
        with translate_mlflow_errors(f"upload artifacts of run {run_id}"):
            self.client.log_artifacts(run_id, local_dir, artifact_path=artifact_path)

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        with translate_mlflow_errors(f"list artifacts of run {run_id}"):
            return list(self.client.list_artifacts(run_id, path))

    def download_artifacts(self, run_id: str, path: str, dst_path: str) -> str:
        """Download artifact `path` of the run into `dst_path`; returns the local path."""
        with translate_mlflow_errors(f"download artifacts of run {run_id}"):
            return str(self.client.download_artifacts(run_id, path, dst_path=dst_path))
