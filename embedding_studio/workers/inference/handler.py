"""Model deployment and deletion tasks: export to the Triton model repository and load,
or unload and remove. Both are idempotent (a retried message redoes only what is
missing) and hold a per-model lock, so a deployment and a deletion of one model never
interleave.

Unknown models, unregistered plugins and models that cannot be exported are refused
with the reason; an unreachable Triton is retried; a model Triton fails to load fails
the task with Triton's message.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from embedding_studio.context.app_context import AppContext
from embedding_studio.core.errors import Conflict, EmbeddingStudioError, NotFound, TaskRefused
from embedding_studio.core.plugin import FineTuningMethod
from embedding_studio.embeddings.inference.triton.export import (
    ExportError,
    ExportOptions,
    export_model,
    exported_models,
    remove_model,
)
from embedding_studio.experiments.experiments_tracker import TAG_PLUGIN
from embedding_studio.experiments.model_artifacts import check_run_id
from embedding_studio.workers.inference.model_control import TritonModelControl
from embedding_studio.workers.inference.params import ModelDeploymentParams
from embedding_studio.workers.task_runner import TaskRun

logger = logging.getLogger(__name__)

LOCK_PREFIX = "inference_model:"


class ModelBusy(RuntimeError):
    """Another deployment or deletion of the model runs now; the message is retried."""


def read_params(run: TaskRun) -> ModelDeploymentParams:
    try:
        params = ModelDeploymentParams.model_validate(run.task.parameters)
        check_run_id(params.embedding_model_id)
    except (ValidationError, EmbeddingStudioError) as exc:
        raise TaskRefused(f"invalid parameters: {exc}") from exc
    return params


def blue_model_ids(ctx: AppContext) -> set[str]:
    """Models serving searches or category predictions now."""
    found = set()
    for vectordb in (ctx.vectordb, ctx.categories_vectordb):
        try:
            found.add(vectordb.get_blue_collection().info.embedding_model_id)
        except Conflict:
            continue  # no blue collection of this kind yet
    return found


def resolve_plugin(ctx: AppContext, params: ModelDeploymentParams) -> FineTuningMethod:
    """The registered plugin of the model; TaskRefused saying why there is none."""
    model_id = params.embedding_model_id
    run = ctx.mlflow_client.get_run(model_id)
    if run is None or run.info.lifecycle_stage == "deleted":
        raise TaskRefused(f"embedding model {model_id} does not exist (no such MLflow run)")
    name = params.plugin_name or run.data.tags.get(TAG_PLUGIN)
    if not name:
        raise TaskRefused(
            f"MLflow run {model_id} names no plugin (tag {TAG_PLUGIN}); send plugin_name"
        )
    plugin = ctx.plugin_manager.get_plugin(name)
    if plugin is None:
        raise TaskRefused(
            f"plugin {name} of model {model_id} is not registered here: add it to "
            "INFERENCE_USED_PLUGINS"
        )
    if not plugin.get_manager().has_model(model_id):
        raise TaskRefused(f"MLflow run {model_id} holds no complete model")
    return plugin


@contextmanager
def model_lock(ctx: AppContext, model_id: str) -> Iterator[None]:
    owner = f"{socket.gethostname()}:{os.getpid()}"
    name = LOCK_PREFIX + model_id
    ttl_s = ctx.settings.INFERENCE_DEPLOY_TIMEOUT_S * 2 + 600
    if not ctx.locks.acquire(name, owner, ttl_s):
        raise ModelBusy(
            f"model {model_id} is being deployed or deleted by {ctx.locks.holder(name)}"
        )
    try:
        yield
    finally:
        ctx.locks.release(name, owner)


def _control(ctx: AppContext) -> TritonModelControl:
    config = ctx.settings
    return TritonModelControl(
        f"{config.INFERENCE_HOST}:{config.INFERENCE_GRPC_PORT}", config.INFERENCE_DEPLOY_TIMEOUT_S
    )


def run_deployment(run: TaskRun) -> dict[str, Any]:
    """Export the model's towers (skipped when already exported alike), then load them
    on Triton and wait until ready. With INFERENCE_BACKEND=local, models run in-process
    and nothing is exported."""
    ctx, params = run.ctx, read_params(run)
    model_id = params.embedding_model_id
    plugin = resolve_plugin(ctx, params)
    result: dict[str, Any] = {"embedding_model_id": model_id, "plugin_name": plugin.meta.name}
    if ctx.settings.INFERENCE_BACKEND == "local":
        note = "INFERENCE_BACKEND=local: the model runs in-process; nothing to deploy"
        return {**result, "models": [], "loaded": False, "note": note}
    with model_lock(ctx, model_id):
        run.report(0, 2, "downloading and exporting the model")
        try:
            model = plugin.get_manager().download_model(model_id)
        except NotFound as exc:
            raise TaskRefused(str(exc)) from exc
        repository = Path(ctx.settings.INFERENCE_MODEL_REPO)
        try:
            exported = export_model(
                model, plugin.meta.name, model_id, repository,
                ExportOptions.from_settings(ctx.settings),
            )  # fmt: skip
        except ExportError as exc:
            raise TaskRefused(f"model {model_id} cannot be exported to Triton: {exc}") from exc
        names = [info.name for info in exported.models]
        run.report(1, 2, f"loading {', '.join(names)} on Triton")
        control = _control(ctx)
        try:
            for name in names:
                run.checkpoint()
                if name in exported.written or not control.is_ready(name):
                    control.load(name)  # a new export of a served model is reloaded
        finally:
            control.close()
        run.report(2, 2, "ready")
    logger.info("model %s deployed as %s", model_id, names)
    return {**result, "models": names, "loaded": True, "repository": str(repository)}


def run_deletion(run: TaskRun) -> dict[str, Any]:
    """Unload the model's Triton models, then remove their folders. A model serving
    searches (blue) is refused; a model with nothing deployed is done at once."""
    ctx, params = run.ctx, read_params(run)
    model_id = params.embedding_model_id
    if model_id in blue_model_ids(ctx):
        raise TaskRefused(
            f"model {model_id} serves the blue collection; switch blue to another collection first"
        )
    repository = Path(ctx.settings.INFERENCE_MODEL_REPO)
    with model_lock(ctx, model_id):
        infos = exported_models(repository, model_id)
        names = [info.name for info in infos]
        if ctx.settings.INFERENCE_BACKEND == "triton" and names:
            run.report(0, 2, f"unloading {', '.join(names)}")
            control = _control(ctx)
            try:
                for name in names:
                    control.unload(name)
            finally:
                control.close()
        run.report(1, 2, "removing files")
        removed = [info.name for info in infos if remove_model(repository, info)]
        run.report(2, 2, "deleted" if removed else "nothing was deployed")
    logger.info("model %s undeployed; removed %s", model_id, removed)
    return {"embedding_model_id": model_id, "models": names, "removed": removed}
