"""First-start set-up: every registered plugin gets its initial model logged to MLflow
(the run id becomes the embedding model id) and a collection; when there is no blue
collection yet, the default plugin's becomes blue, so search works before any
fine-tuning. Safe to run at every start and from several processes at once."""

from __future__ import annotations

import logging
import os
import socket

from embedding_studio.context.app_context import AppContext
from embedding_studio.core.errors import Conflict
from embedding_studio.core.plugin import FineTuningMethod
from embedding_studio.vectordb.vectordb import VectorDb

logger = logging.getLogger(__name__)

LOCK_NAME = "bootstrap"
LOCK_TTL_S = 900.0


def initial_model_id(plugin: FineTuningMethod) -> str:
    manager = plugin.get_manager()
    run_id = manager.get_initial_model_run_id()
    if run_id is None:
        logger.info("logging the initial model of %s to MLflow", plugin.meta.name)
        plugin.upload_initial_model()
        run_id = manager.get_initial_model_run_id()
    if run_id is None:
        raise RuntimeError(f"plugin {plugin.meta.name}: upload_initial_model() logged no model")
    return run_id


def _ensure_collection(vectordb: VectorDb, plugin: FineTuningMethod, make_blue: bool) -> None:
    model_id = initial_model_id(plugin)
    collection = vectordb.get_or_create_collection(
        model_id, plugin.meta.name, plugin.get_search_index_info()
    )
    collection.apply_optimizations(plugin.get_vectordb_optimizations())
    if not make_blue:
        return
    try:
        vectordb.get_blue_collection()
    except Conflict:
        vectordb.set_blue(model_id)
        logger.info("collection %s of %s is now blue", model_id, plugin.meta.name)


def _ensure_safely(
    ctx: AppContext, vectordb: VectorDb, plugin: FineTuningMethod, make_blue: bool
) -> None:
    """One plugin's failing set-up (its model, its optimizations) must not keep the
    platform from starting: it is reported as a failed plugin, and health says why."""
    try:
        _ensure_collection(vectordb, plugin, make_blue)
        # With INFERENCE_BACKEND=triton the initial model is deployed to Triton (once).
        from embedding_studio.services.inference_deployment import deploy_when_served_by_triton

        deploy_when_served_by_triton(ctx, initial_model_id(plugin), plugin.meta.name, "bootstrap")
    except Exception as exc:  # plugin code and its servers may raise anything
        logger.exception("bootstrap of plugin %s failed", plugin.meta.name)
        ctx.plugin_manager.record_failure(plugin, f"bootstrap failed: {type(exc).__name__}: {exc}")


def default_plugin(ctx: AppContext) -> FineTuningMethod | None:
    plugins = ctx.plugin_manager.search_plugins()
    wanted = ctx.settings.DEFAULT_PLUGIN_NAME
    if wanted is not None:
        return ctx.plugin_manager.require(wanted)
    return plugins[0] if plugins else None


def bootstrap(ctx: AppContext) -> None:
    owner = f"{socket.gethostname()}:{os.getpid()}"
    if not ctx.locks.acquire(LOCK_NAME, owner, LOCK_TTL_S):
        logger.info("another process is bootstrapping; skipping")
        return
    try:
        main = default_plugin(ctx)
        for plugin in ctx.plugin_manager.search_plugins():
            _ensure_safely(ctx, ctx.vectordb, plugin, make_blue=plugin is main)
        for categories in ctx.plugin_manager.categories_plugins():
            _ensure_safely(ctx, ctx.categories_vectordb, categories, make_blue=True)
    finally:
        ctx.locks.release(LOCK_NAME, owner)
