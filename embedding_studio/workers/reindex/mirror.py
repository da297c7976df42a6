"""Dual writes: upsertions and deletions of a collection that is linked to another (a
reindex copies one into the other, or did so within its retention) are applied to both.

The upsertion worker calls these after its own write committed, so a reindex that
opens its link later reads that write from the source anyway (see
`guarded_write` for the copy side). A failure here raises: the upsertion batch is then
retried as a whole (writes are idempotent by object id), so the linked collection never
silently misses a write.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from embedding_studio.core.errors import NotFound
from embedding_studio.core.plugin import FineTuningMethod
from embedding_studio.data_access.reindex_links import ReindexLinkRepository
from embedding_studio.workers.reindex.reembed import embed_split, resplit
from embedding_studio.workers.upsertion.stages import SplitItem

if TYPE_CHECKING:
    from embedding_studio.context.app_context import AppContext
    from embedding_studio.vectordb.collection import Collection

logger = logging.getLogger(__name__)


def _linked_collections(ctx: AppContext, collection: Collection) -> list[Collection]:
    """The collections linked to this one (links exist between search collections only)."""
    info, main = collection.info, ctx.vectordb
    if (info.prefix, info.kind) != (main.prefix, main.kind):
        return []
    model_id = info.embedding_model_id
    found = []
    for other in ReindexLinkRepository(ctx.documents).linked_to(model_id):
        try:
            found.append(ctx.vectordb.get_collection(other))
        except NotFound:
            logger.warning("collection %s is linked to %s but was deleted", other, model_id)
    return found


def mirror_upserts(
    ctx: AppContext, source: Collection, plugin: FineTuningMethod, split: list[SplitItem]
) -> int:
    """Embed the items just written to `source` with each linked collection's model and
    upsert them there; returns the number of objects written elsewhere."""
    if not split:
        return 0
    written = 0
    for dest in _linked_collections(ctx, source):
        model_id = dest.info.embedding_model_id
        dest_plugin = ctx.plugin_manager.require(dest.info.plugin_name)
        entries, outcome = resplit(plugin, dest_plugin, split)
        embed_split(dest_plugin, model_id, entries, outcome)
        dest.upsert(outcome.objects)
        written += len(outcome.objects)
        for failure in outcome.failures:
            logger.warning(
                "item %s not mirrored to %s: %s", failure.object_id, model_id, failure.detail
            )
        logger.info("mirrored %d objects to %s", len(outcome.objects), model_id)
    return written


def mirror_deletions(ctx: AppContext, source: Collection, object_ids: list[str]) -> int:
    """Delete the objects from every collection linked to `source`."""
    removed = 0
    for dest in _linked_collections(ctx, source):
        removed += dest.delete(object_ids)
        logger.info(
            "mirrored deletion of %d ids to %s", len(object_ids), dest.info.embedding_model_id
        )
    return removed
