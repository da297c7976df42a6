"""The MLflow model registry: the accepted model of a fine-tuning task becomes a
version of the plugin's registered model, once per task (a retry finds it)."""

from __future__ import annotations

import logging

from mlflow.exceptions import MlflowException

from embedding_studio.experiments.mlflow_client_wrapper import (
    ALREADY_EXISTS,
    MLflowClientWrapper,
    translate_mlflow_errors,
)
from embedding_studio.experiments.model_artifacts import MODEL_ARTIFACT_PATH, check_run_id

logger = logging.getLogger(__name__)

TAG_TASK = "es_fine_tuning_task_id"
TAG_STARTING_MODEL = "es_starting_model_id"


def registered_model_name(plugin_name: str) -> str:
    return f"{plugin_name}"


def register_model(
    wrapper: MLflowClientWrapper,
    plugin_name: str,
    run_id: str,
    task_id: str,
    starting_model_id: str,
) -> str:
    """Register the model of run `run_id` as a version of the plugin's registered model;
    returns the version. Idempotent: a version of this run (or task) is reused."""
    check_run_id(run_id)
    name = registered_model_name(plugin_name)
    client = wrapper.client
    try:
        client.create_registered_model(name, tags={"es_plugin_name": plugin_name})
    except MlflowException as exc:
        if exc.error_code != ALREADY_EXISTS:
            with translate_mlflow_errors(f"create registered model {name!r}"):
                raise
    with translate_mlflow_errors(f"search versions of {name!r}"):
        versions = client.search_model_versions(f"name = '{name}'")
    for version in versions:
        if version.run_id == run_id or version.tags.get(TAG_TASK) == task_id:
            return str(version.version)
    with translate_mlflow_errors(f"read run {run_id}"):
        artifact_uri = client.get_run(run_id).info.artifact_uri
    with translate_mlflow_errors(f"register run {run_id} as {name!r}"):
        version = client.create_model_version(
            name,
            source=f"{artifact_uri}/{MODEL_ARTIFACT_PATH}",
            run_id=run_id,
            tags={TAG_TASK: task_id, TAG_STARTING_MODEL: starting_model_id},
            description=f"fine-tuned from {starting_model_id} by task {task_id}",
        )
    logger.info("registered run %s as %s version %s", run_id, name, version.version)
    return str(version.version)


def archive_model(wrapper: MLflowClientWrapper, run_id: str) -> None:
    """Drop a losing trial's model: the run stops holding a model (its tag), then its
    `model/` artifacts are deleted where the artifact store allows it."""
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    from embedding_studio.experiments.model_artifacts import TAG_HAS_MODEL

    wrapper.set_tags(run_id, {TAG_HAS_MODEL: "false", "es_archived": "true"})
    try:
        artifact_uri = wrapper.client.get_run(run_id).info.artifact_uri
        get_artifact_repository(artifact_uri).delete_artifacts(MODEL_ARTIFACT_PATH)
    except (MlflowException, OSError, NotImplementedError) as exc:
        logger.warning("run %s: model files kept (the artifact store refused: %s)", run_id, exc)
