"""Upsertion and deletion handlers: idempotent, resumable, one transaction per batch."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from embedding_studio.models.tasks import FailedItem
from embedding_studio.workers.reindex.mirror import mirror_deletions, mirror_upserts
from embedding_studio.workers.task_runner import TaskRun
from embedding_studio.workers.upsertion.stages import (
    BatchOutcome,
    build_objects,
    load_batch,
    split_batch,
)

if TYPE_CHECKING:
    from embedding_studio.vectordb.vectordb import VectorDb

logger = logging.getLogger(__name__)


def upsert_items(run: TaskRun, vectordb: VectorDb | None = None) -> dict[str, Any]:
    """Load, split, embed and write the task's items batch by batch, into a collection
    of `vectordb` (default `ctx.vectordb`; categories tasks pass `ctx.categories_vectordb`).

    Batches are fixed slices of the task's item list, and `progress.done` counts the
    items of committed batches, so a retry resumes after the last committed batch; a
    batch written twice (crash between commit and progress) is replaced, not duplicated."""
    ctx, params = run.ctx, run.task.parameters
    items: list[dict[str, Any]] = params["items"]
    collection = (vectordb or ctx.vectordb).get_collection(params["embedding_model_id"])
    plugin = ctx.plugin_manager.require(collection.info.plugin_name)
    client = plugin.get_inference_client_factory().get_client(collection.info.embedding_model_id)
    batch_size = ctx.settings.UPSERTION_BATCH_SIZE
    failures: list[FailedItem] = list(run.task.failed_items)
    start = run.task.progress.done - run.task.progress.done % batch_size
    written = int(run.task.result.get("written", 0))
    parts_written = 0
    for offset in range(start, len(items), batch_size):
        run.checkpoint()
        outcome = BatchOutcome()
        loaded = load_batch(plugin, items[offset : offset + batch_size], outcome)
        split = split_batch(plugin, loaded, outcome)
        if split:
            texts = [part for entry in split for part in entry.parts]
            vectors = client.forward_items(texts).tolist()
            outcome.objects = build_objects(split, vectors)
            collection.upsert(outcome.objects)
            parts_written += len(vectors)
            # A collection being reindexed (or within its retention) gets it too.
            mirror_upserts(ctx, collection, plugin, split)
        failures.extend(outcome.failures)
        written += len(outcome.objects)
        done = min(offset + batch_size, len(items))
        run.report(
            done,
            len(items),
            f"{written} written, {len(failures)} failed",
            failures,
            {"written": written},
        )
        logger.info("task %s: %d/%d items, %d failed", run.task_id, done, len(items), len(failures))
    # Searches right after the task should be planned for the collection's new size.
    collection.refresh_statistics(parts_written)
    return {"written": written, "failed": len(failures)}


def delete_items(run: TaskRun, vectordb: VectorDb | None = None) -> dict[str, Any]:
    ctx, params = run.ctx, run.task.parameters
    collection = (vectordb or ctx.vectordb).get_collection(params["embedding_model_id"])
    object_ids: list[str] = params["object_ids"]
    deleted = collection.delete(object_ids)
    mirror_deletions(ctx, collection, object_ids)
    run.report(len(object_ids), len(object_ids), f"{deleted} objects deleted")
    return {"deleted": deleted}
