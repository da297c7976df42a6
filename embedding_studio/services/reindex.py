"""Reindexing a collection into another model's collection, and the blue switch.

`submit_reindex` is what the API and the fine-tuning worker call. The work itself is
done by the reindex worker (`embedding_studio.workers.reindex`); this module holds the
rules checked before a task is queued, the manual switch (`set_blue`, also the rollback)
and the listing of collections.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from embedding_studio.context.app_context import AppContext
from embedding_studio.core.errors import Conflict, InvalidRequest, NotFound
from embedding_studio.data_access.reindex_links import ReindexLink, ReindexLinkRepository
from embedding_studio.models.tasks import Task, TaskKind, utc_now
from embedding_studio.services import tasks as task_service
from embedding_studio.vectordb.collection_info import CollectionInfo
from embedding_studio.workers.reindex.active import active_reindexes, models_of
from embedding_studio.workers.reindex.locking import lock_names
from embedding_studio.workers.reindex.params import ReindexParams

logger = logging.getLogger(__name__)


def _busy_with(ctx: AppContext, params: ReindexParams) -> str | None:
    """The id of a queued or running reindex that reads or writes the same collections."""
    mine = {params.source_model_id, params.dest_model_id}
    for task in active_reindexes(ctx):
        if mine & models_of(task):
            return task.task_id
    for name in lock_names(params.source_model_id, params.dest_model_id):
        if holder := ctx.locks.holder(name):
            return holder
    return None


def _check(ctx: AppContext, params: ReindexParams) -> None:
    if params.source_model_id == params.dest_model_id:
        raise InvalidRequest(
            "dest_model_id: equals source_model_id; reindex into another model's collection"
        )
    source = ctx.vectordb.get_collection(params.source_model_id)  # NotFound: 404
    plugin = ctx.plugin_manager.require(source.info.plugin_name)
    if not plugin.get_manager().has_model(params.dest_model_id):
        raise NotFound(
            f"dest_model_id: embedding model {params.dest_model_id!r} does not exist in "
            f"MLflow (no finished run of plugin {plugin.meta.name} holds a model with this id)"
        )
    try:
        dest = ctx.vectordb.get_collection(params.dest_model_id)
    except NotFound:
        return
    if dest.info.is_blue:
        raise Conflict(
            f"dest_model_id: collection {params.dest_model_id!r} is blue (it serves searches); "
            "reindex into a collection that is not blue"
        )


def submit_reindex(
    ctx: AppContext,
    source_model_id: str,
    dest_model_id: str,
    deploy_as_blue: bool,
    wait_on_conflict: bool,
    idempotency_key: str | None = None,
    task_id: str | None = None,
) -> tuple[Task, bool]:
    """Queue a reindex of `source_model_id`'s collection into `dest_model_id`'s.

    A reused `task_id` or `idempotency_key` returns the stored task (second value False)
    without checks. Errors: InvalidRequest when source equals destination; NotFound when
    the source collection or the destination model (in MLflow) does not exist; Conflict
    when the destination is blue, or when another reindex uses either collection and
    `wait_on_conflict` is False (with True, the task waits for it in the worker)."""
    params = ReindexParams(
        source_model_id=source_model_id,
        dest_model_id=dest_model_id,
        deploy_as_blue=deploy_as_blue,
        wait_on_conflict=wait_on_conflict,
    )
    stored = ctx.tasks.get(task_id) if task_id else None
    if stored is None and idempotency_key is not None:
        stored = ctx.tasks.get_by_key(TaskKind.reindex, idempotency_key)
    if stored is not None:
        if stored.kind is not TaskKind.reindex:
            raise Conflict(f"task_id: {task_id!r} is taken by a {stored.kind.value} task")
        return stored, False
    _check(ctx, params)
    if not wait_on_conflict and (busy := _busy_with(ctx, params)):
        raise Conflict(
            f"reindex task {busy} is using these collections; wait until it ends, or "
            "submit with wait_on_conflict=true to run after it"
        )
    task = Task(
        kind=TaskKind.reindex,
        idempotency_key=idempotency_key,
        parameters=params.model_dump(mode="json"),
    )
    if task_id:
        task.task_id = task_id
    submitted = task_service.submit(ctx, task)
    logger.info("reindex %s -> %s queued as %s", source_model_id, dest_model_id, task.task_id)
    return submitted


def set_blue(ctx: AppContext, embedding_model_id: str) -> CollectionSummary:
    """Make this model's collection blue (atomically). Switching back to the collection a
    reindex replaced is a rollback: the pair stays in sync and the collection switched
    away from is deleted once `REINDEX_RETENTION_S` has passed."""
    for task in active_reindexes(ctx):
        if task.parameters.get("dest_model_id") == embedding_model_id:
            raise Conflict(
                f"reindex task {task.task_id} is still copying into {embedding_model_id!r}"
            )
    previous = _blue_id(ctx)
    ctx.vectordb.set_blue(embedding_model_id)
    links = ReindexLinkRepository(ctx.documents)
    link = links.get(previous, embedding_model_id) if previous else None
    if previous and previous != embedding_model_id and link and not link.copying:
        keep_until = utc_now() + timedelta(seconds=ctx.settings.REINDEX_RETENTION_S)
        links.close(link.source, link.dest, keep_until, retire=previous)
    return get_collection(ctx, embedding_model_id)


def _blue_id(ctx: AppContext) -> str | None:
    try:
        return ctx.vectordb.get_blue_collection().info.embedding_model_id
    except Conflict:
        return None


@dataclass(frozen=True)
class CollectionSummary:
    info: CollectionInfo
    objects: int
    personalised_copies: int
    synced_with: list[str]
    delete_after: datetime | None


def _summary(ctx: AppContext, info: CollectionInfo, links: list[ReindexLink]) -> CollectionSummary:
    model_id = info.embedding_model_id
    collection = ctx.vectordb.get_collection(model_id)
    objects = collection.count()
    retiring = [link.expires_at for link in links if link.retire == model_id]
    return CollectionSummary(
        info=info,
        objects=objects,
        personalised_copies=collection.count(include_copies=True) - objects,
        synced_with=[other for link in links if (other := link.other(model_id)) is not None],
        delete_after=None if info.is_blue or not retiring else retiring[0],
    )


def list_collections(ctx: AppContext) -> list[CollectionSummary]:
    """Every search collection with its counts, the collections it is kept in sync with,
    and when it will be deleted (the blue a switch replaced, after the retention)."""
    links = ReindexLinkRepository(ctx.documents).all()
    return [_summary(ctx, info, links) for info in ctx.vectordb.list_collections()]


def get_collection(ctx: AppContext, embedding_model_id: str) -> CollectionSummary:
    """One collection's summary; NotFound when the model has none."""
    info = ctx.vectordb.get_collection(embedding_model_id).info
    return _summary(ctx, info, ReindexLinkRepository(ctx.documents).all())
