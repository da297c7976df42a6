"""Retention of the collections a blue switch replaced.

After a reindex, its link keeps both collections in sync for `REINDEX_RETENTION_S`, so
`set-blue` back to the previous collection is a complete rollback. Once that time has
passed, the next reindex to finish removes the link and deletes the collection it
retired (the blue that its switch replaced), unless that collection is blue again or
still linked to, or being reindexed by, another reindex. Collections never made blue by
a switch (another plugin's, a green candidate) are never deleted here.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from embedding_studio.core.errors import Conflict, NotFound
from embedding_studio.data_access.reindex_links import ReindexLink, ReindexLinkRepository
from embedding_studio.models.tasks import utc_now
from embedding_studio.workers.reindex.active import active_reindexes, models_of

if TYPE_CHECKING:
    from embedding_studio.context.app_context import AppContext

logger = logging.getLogger(__name__)


def blue_model_id(ctx: AppContext) -> str | None:
    try:
        return ctx.vectordb.get_blue_collection().info.embedding_model_id
    except Conflict:
        return None


def _in_use(link: ReindexLink, live: list[ReindexLink], busy: set[str]) -> bool:
    linked = any(link.retire in (other.source, other.dest) for other in live)
    return linked or link.retire in busy


def remove_expired(ctx: AppContext, keep_link_id: str | None = None) -> list[str]:
    """Remove the links whose retention passed and delete the collections they retired;
    returns the embedding model ids of the deleted collections."""
    repository = ReindexLinkRepository(ctx.documents)
    now = utc_now()
    links = repository.all()
    expired = [
        link
        for link in links
        if link.is_expired(now) and not link.copying and link.link_id != keep_link_id
    ]
    live = [link for link in links if link not in expired]
    busy = {m for task in active_reindexes(ctx) for m in models_of(task)} | {
        m for m in [blue_model_id(ctx)] if m
    }
    deleted: list[str] = []
    for link in expired:
        repository.remove(link.source, link.dest)
        logger.info("sync of %s and %s ended (retention passed)", link.source, link.dest)
        if link.retire is None or _in_use(link, live, busy):
            continue
        try:
            ctx.vectordb.delete_collection(link.retire)
        except (NotFound, Conflict) as exc:
            logger.info("collection %s kept: %s", link.retire, exc)
            continue
        deleted.append(link.retire)
        logger.info("deleted collection %s (retired by a blue switch)", link.retire)
    return deleted
