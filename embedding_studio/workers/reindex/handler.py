"""The reindex task: copy every original object of one collection into another model's
collection, then (optionally) make it blue.

Phases, recorded in `task.result["phase"]` so a retry resumes where the last attempt
stopped:
1. `copying`: the destination collection exists (created without its HNSW index, or its
   index dropped: bulk-load mode), the link that mirrors new writes is open, the id
   ranges are planned and their subtasks created; the parent drives them to the end.
2. `indexed`: the HNSW index is built and the plugin's optimizations applied.
3. `switched`: the destination is blue (when asked and every object was copied);
   the link stays open for `REINDEX_RETENTION_S`, then a later reindex ends it and
   deletes the retired collection.
A restart of a finished reindex copies everything again. Personalised copies are not
copied (they live in the old model's vector space).
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from embedding_studio.core.errors import Conflict, NotFound, TaskCanceled, TaskRefused
from embedding_studio.data_access.reindex_links import ReindexLinkRepository, pair_id
from embedding_studio.models.tasks import utc_now
from embedding_studio.workers.broker import is_last_attempt
from embedding_studio.workers.reindex import copy_phase, locking, retention, subtasks
from embedding_studio.workers.reindex.active import older_conflicting
from embedding_studio.workers.reindex.params import ReindexParams
from embedding_studio.workers.task_runner import TaskRun

if TYPE_CHECKING:
    from embedding_studio.context.app_context import AppContext
    from embedding_studio.vectordb.collection import Collection

logger = logging.getLogger(__name__)

WAIT_POLL_S = 1.0


def check_models(ctx: AppContext, params: ReindexParams) -> Collection:
    """The source collection; TaskRefused when a model is unknown."""
    if params.source_model_id == params.dest_model_id:
        raise TaskRefused("source and destination are the same model")
    try:
        source = ctx.vectordb.get_collection(params.source_model_id)
    except NotFound as exc:
        raise TaskRefused(str(exc)) from exc
    plugin = ctx.plugin_manager.require(source.info.plugin_name)
    if not plugin.get_manager().has_model(params.dest_model_id):
        raise TaskRefused(
            f"embedding model {params.dest_model_id!r} does not exist in MLflow "
            f"(no finished run of plugin {plugin.meta.name} holds it)"
        )
    return source


def _acquire(run: TaskRun, names: list[str], wait: bool) -> None:
    """Take the collections' locks; an older reindex of the same collections goes first.
    Without `wait`, a busy collection refuses the task."""
    while True:
        holder = older_conflicting(run.ctx, run.task) or locking.try_acquire(
            run.ctx.locks, names, run.task_id
        )
        if holder is None:
            return
        if not wait:
            raise TaskRefused(
                f"reindex task {holder} is copying from or into these collections; "
                "submit with wait_on_conflict=true to run after it"
            )
        run.report(run.task.progress.done, None, f"waiting for reindex task {holder}")
        time.sleep(WAIT_POLL_S)


def _switch(run: TaskRun, params: ReindexParams, state: dict[str, Any]) -> None:
    """Make the destination blue when asked (atomically: one registry transaction), and
    keep the pair in sync for the retention period."""
    ctx = run.ctx
    if "previous_blue" not in state:  # kept across a retry that follows the switch
        state["previous_blue"] = retention.blue_model_id(ctx)
        run.report(run.task.progress.done, run.task.progress.total, "switching", result=state)
    previous = state["previous_blue"]
    switched = False
    if params.deploy_as_blue and state.get("failed", 0):
        state["note"] = (
            f"{state['failed']} objects could not be embedded again (see failed_items), so "
            f"{params.dest_model_id} was not made blue; set-blue makes it blue anyway"
        )
    elif params.deploy_as_blue:
        ctx.vectordb.set_blue(params.dest_model_id)
        switched = previous != params.dest_model_id
    # The blue this switch replaced is deleted once the retention passes.
    retire = previous if switched and previous == params.source_model_id else None
    keep_until = utc_now() + timedelta(seconds=ctx.settings.REINDEX_RETENTION_S)
    ReindexLinkRepository(ctx.documents).close(
        params.source_model_id, params.dest_model_id, keep_until, retire
    )
    state.update(phase="switched", switched=switched, synced_until=keep_until.isoformat())
    run.report(run.task.progress.done, run.task.progress.total, "switched", result=state)


def _give_up(ctx: AppContext, run: TaskRun, params: ReindexParams, state: dict[str, Any]) -> bool:
    """The reindex stops for good: stop mirroring into the incomplete destination and
    cancel its unfinished subtasks. Nothing is touched when a newer run of this task
    (restarted meanwhile) opened the link again; returns whether it was ours to stop."""
    links = ReindexLinkRepository(ctx.documents)
    link = links.get(params.source_model_id, params.dest_model_id)
    if link is not None and link.task_id == run.task_id:
        if link.generation != state.get("generation"):
            return False
        links.remove(params.source_model_id, params.dest_model_id)
    for task in subtasks.list_subtasks(ctx, run.task_id):
        if not task.status.is_final:
            try:
                ctx.tasks.cancel(task.task_id)
            except Conflict:
                pass
    return True


def _run_phases(
    run: TaskRun, params: ReindexParams, names: list[str], state: dict[str, Any]
) -> None:
    if state.get("phase") in (None, "copying", "finished"):  # finished: a restart
        copy_phase.copy(run, params, names, state)
    if state["phase"] == "indexed":
        _switch(run, params, state)
    link_id = pair_id(params.source_model_id, params.dest_model_id)
    deleted = retention.remove_expired(run.ctx, keep_link_id=link_id)
    state.update(phase="finished", retired_collections_deleted=deleted)
    state["subtasks"] = len(state.pop("plan", []))


def run_reindex(run: TaskRun) -> dict[str, Any]:
    """The reindex task's handler (see the module's docstring)."""
    ctx = run.ctx
    params = ReindexParams.model_validate(run.task.parameters)
    state = dict(run.task.result)
    check_models(ctx, params)
    names = locking.lock_names(params.source_model_id, params.dest_model_id)
    _acquire(run, names, params.wait_on_conflict)
    try:
        with locking.Heartbeat(ctx.locks, names, run.task_id, locking.LOCK_TTL_S):
            _run_phases(run, params, names, state)
    except (TaskCanceled, TaskRefused):
        if _give_up(ctx, run, params, state):
            locking.release_all(ctx.locks, names, run.task_id)
        raise
    except Exception:
        if is_last_attempt() and _give_up(ctx, run, params, state):
            locking.release_all(ctx.locks, names, run.task_id)
        raise
    locking.release_all(ctx.locks, names, run.task_id)
    logger.info("reindex %s finished: %s", run.task_id, state)
    return state
