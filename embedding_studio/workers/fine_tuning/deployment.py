"""After the trials: the quality gate against the starting model, then (for an accepted
model) registration, its collection, and the reindex that switches it live. Each step
is idempotent and recorded, so a retried task never deploys a second model."""

from __future__ import annotations

import logging

from embedding_studio.context.app_context import AppContext
from embedding_studio.core.errors import Conflict
from embedding_studio.core.plugin import FineTuningMethod
from embedding_studio.workers.fine_tuning.evaluation import NDCG
from embedding_studio.workers.fine_tuning.registry import register_model
from embedding_studio.workers.fine_tuning.state import FineTuningState, Outcome

logger = logging.getLogger(__name__)

TAG_DECISION = "es_fine_tuning_decision"


def rejection(state: FineTuningState, tolerance: float) -> str | None:
    """Why the best trial must not go live, or None when it may: it must not rank the
    held-out sessions' clicked results worse (nDCG@10) than the starting model by more
    than `tolerance`."""
    best = state.best_trial(bool(state.main_metric_is_loss))
    if best is None:
        return "no trial produced a model"
    before, after = state.baseline.get(NDCG), best.metrics.get(NDCG)
    if before is None or after is None:
        return (
            "no held-out session with clicks: the new model cannot be checked against "
            "the starting model"
        )
    if after < before - tolerance:
        return (
            f"held-out nDCG@10 {after:.4f} is below the starting model's {before:.4f} by "
            f"more than FINE_TUNING_MAX_NDCG_DROP={tolerance:g}"
        )
    return None


def accept(
    ctx: AppContext,
    plugin: FineTuningMethod,
    state: FineTuningState,
    task_id: str,
    deploy_as_blue: bool,
    wait_on_conflict: bool,
) -> None:
    """Register the best trial's model, create its collection and, when asked, submit
    the reindex that fills it and makes it blue. Updates `state`."""
    assert state.best_run_id is not None and state.starting_model_id is not None
    manager = plugin.get_manager()
    state.model_version = register_model(
        manager.wrapper, plugin.meta.name, state.best_run_id, task_id, state.starting_model_id
    )
    state.embedding_model_id = state.best_run_id
    collection = ctx.vectordb.get_or_create_collection(
        state.best_run_id, plugin.meta.name, plugin.get_search_index_info()
    )
    collection.apply_optimizations(plugin.get_vectordb_optimizations())
    if not deploy_as_blue:
        state.outcome = Outcome.registered
        state.reason = (
            f"model {state.best_run_id} registered (version {state.model_version}) with an "
            "empty collection; deploy_as_blue was false, so search still uses the blue one"
        )
        return
    if state.reindex_task_id is None:
        # With INFERENCE_BACKEND=triton the reindex embeds through Triton: deploy first.
        from embedding_studio.services.inference_deployment import deploy_when_served_by_triton

        deploy_when_served_by_triton(
            ctx, state.best_run_id, plugin.meta.name, f"fine_tuning:{task_id}"
        )
        try:
            state.reindex_task_id = submit_reindex_task(
                ctx, state.starting_model_id, state.best_run_id, task_id, wait_on_conflict
            )
        except Conflict as exc:
            state.outcome = Outcome.registered
            state.reason = (
                f"model {state.best_run_id} registered (version {state.model_version}), not "
                f"deployed: {exc}; reindex it later (or send wait_on_conflict=true)"
            )
            return
    state.outcome = Outcome.deployed
    state.reason = (
        f"model {state.best_run_id} registered (version {state.model_version}); reindex task "
        f"{state.reindex_task_id} fills its collection and makes it blue"
    )


def reject(plugin: FineTuningMethod, state: FineTuningState, reason: str) -> None:
    state.outcome = Outcome.rejected
    state.reason = f"not deployed: {reason}; search is unchanged"
    if state.best_run_id is not None:
        plugin.get_manager().wrapper.set_tags(state.best_run_id, {TAG_DECISION: "rejected"})


def submit_reindex_task(
    ctx: AppContext,
    source_model_id: str,
    dest_model_id: str,
    task_id: str,
    wait_on_conflict: bool,
) -> str:
    """Submit (once per fine-tuning task: the key is the task's id) the reindex of the
    source collection into the new model's, switching blue at its end.

    :raises Conflict: another reindex uses these collections and `wait_on_conflict` is off
    """
    from embedding_studio.services.reindex import submit_reindex

    task, _created = submit_reindex(
        ctx,
        source_model_id,
        dest_model_id,
        deploy_as_blue=True,
        wait_on_conflict=wait_on_conflict,
        idempotency_key=f"fine_tuning:{task_id}",
    )
    logger.info("reindex task %s: %s -> %s", task.task_id, source_model_id, dest_model_id)
    return task.task_id
