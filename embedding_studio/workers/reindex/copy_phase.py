"""The copy phase of a reindex: destination in bulk-load mode, sync link opened, id
ranges planned into subtasks, subtasks driven to the end, index built.

The copy is valid only if the sync link stayed open (with the generation this copy
opened) from planning to the end: then every write the copied ranges did not see was
mirrored. A copy that finds its link closed or re-opened by someone else at its end
(a cancel that raced a restart, a crash cleanup) starts over."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from embedding_studio.core.errors import Conflict, TaskRefused
from embedding_studio.data_access.reindex_links import ReindexLinkRepository
from embedding_studio.vectordb.collection_info import CollectionState
from embedding_studio.workers.reindex import subtasks
from embedding_studio.workers.reindex.params import ReindexParams
from embedding_studio.workers.task_runner import TaskRun

if TYPE_CHECKING:
    from embedding_studio.context.app_context import AppContext
    from embedding_studio.vectordb.collection import Collection

logger = logging.getLogger(__name__)

MAX_COPIES = 3


class CopyInvalidated(RuntimeError):
    """The sync link kept being closed during the copy; the task is retried."""


def link_is_ours(ctx: AppContext, params: ReindexParams, state: dict[str, Any]) -> bool:
    """Whether the pair's link is the one this run opened, still copying."""
    link = ReindexLinkRepository(ctx.documents).get(params.source_model_id, params.dest_model_id)
    return link is not None and link.copying and link.generation == state.get("generation")


def _prepare_destination(ctx: AppContext, source: Collection, dest_model_id: str) -> None:
    """The destination collection (the source's plugin), in bulk-load mode unless it
    serves searches."""
    plugin = ctx.plugin_manager.require(source.info.plugin_name)
    try:
        dest = ctx.vectordb.get_or_create_collection(
            dest_model_id, plugin.meta.name, plugin.get_search_index_info(), build_index=False
        )
    except Conflict as exc:
        raise TaskRefused(str(exc)) from exc
    if dest.info.state is CollectionState.READY and not dest.info.is_blue:
        dest.begin_bulk_load()


def _start(run: TaskRun, params: ReindexParams, state: dict[str, Any]) -> None:
    ctx = run.ctx
    subtasks.delete_subtasks(ctx, run.task_id)
    source = ctx.vectordb.get_collection(params.source_model_id)
    _prepare_destination(ctx, source, params.dest_model_id)
    # Opened before planning: a write the plan does not see is mirrored.
    link = ReindexLinkRepository(ctx.documents).open(
        params.source_model_id, params.dest_model_id, run.task_id
    )
    plan = subtasks.plan_ranges(source, ctx.settings.REINDEX_SUBTASK_SIZE)
    state.clear()
    state.update(
        phase="copying",
        generation=link.generation,
        plan=plan,
        planned=sum(r[2] for r in plan),
    )
    run.report(0, state["planned"], f"{len(plan)} subtasks planned", result=state)


def copy(run: TaskRun, params: ReindexParams, names: list[str], state: dict[str, Any]) -> None:
    """Run the copy phase to the end (resuming a planned copy whose link stayed ours)."""
    ctx = run.ctx
    for _ in range(MAX_COPIES):
        if "plan" not in state or not link_is_ours(ctx, params, state):
            _start(run, params, state)
        subtasks.create_subtasks(ctx, run.task_id, params, state["plan"])
        done = subtasks.drive(run, state["planned"], names, state)
        if link_is_ours(ctx, params, state):
            break
        logger.warning("reindex %s: its sync link was closed during the copy", run.task_id)
    else:
        raise CopyInvalidated(f"the sync link was closed during {MAX_COPIES} copies")
    state.update(copied=done.written, removed=done.removed, failed=len(done.failures))
    dest = ctx.vectordb.get_collection(params.dest_model_id)
    if dest.info.state is CollectionState.BULK_LOADING:
        run.report(done.done, done.done, "building the index", result=state)
        dest.finish_bulk_load()
    plugin = ctx.plugin_manager.require(dest.info.plugin_name)
    dest.apply_optimizations(plugin.get_vectordb_optimizations())
    state["phase"] = "indexed"
    run.report(done.done, done.done, "index built", result=state)
