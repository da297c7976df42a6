"""Where a session's results lack their storage meta (a front end registered the
session itself, with ids only), take it from the source collection, so the plugin's
data loader can find the items."""

from __future__ import annotations

import logging

from embedding_studio.models.clickstream.sessions import SessionWithEvents
from embedding_studio.vectordb.collection import Collection

logger = logging.getLogger(__name__)

CHUNK = 1000


def fill_result_meta(sessions: list[SessionWithEvents], collection: Collection) -> int:
    """Set the stored storage meta on results without meta; returns how many were set."""
    missing = list(
        dict.fromkeys(r.object_id for s in sessions for r in s.search_results if not r.meta)
    )
    if not missing:
        return 0
    metas: dict[str, dict] = {}
    for start in range(0, len(missing), CHUNK):
        found = collection.find_by_ids(missing[start : start + CHUNK], with_vectors=False)
        metas.update({o.object_id: o.storage_meta for o in found if o.storage_meta})
    filled = 0
    for session in sessions:
        for result in session.search_results:
            if not result.meta and result.object_id in metas:
                result.meta = dict(metas[result.object_id])
                filled += 1
    logger.info("filled the storage meta of %d results from %s", filled, collection.info.number)
    return filled
