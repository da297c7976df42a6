"""Sessions whose worker stopped mid-batch (killed, restarted) stay `processing`; this
finds them after `IMPROVEMENT_STALE_AFTER_S` and queues their sessions again."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from embedding_studio.models.improvement import (
    SessionForImprovement,
    SessionForImprovementCreateSchema,
)
from embedding_studio.models.tasks import TaskStatus, utc_now

if TYPE_CHECKING:
    from embedding_studio.context.app_context import AppContext

logger = logging.getLogger(__name__)
PAGE = 100


def requeue_abandoned(ctx: AppContext, older_than_s: float) -> int:
    """Finish every record processing for longer than `older_than_s` as `failed` (with
    the reason) and queue its session again; return how many were queued again.

    Safe with concurrent callers: only the caller whose compare-and-set finishes a
    record queues its session."""
    cutoff = utc_now() - timedelta(seconds=older_than_s)
    stale = [r for r in _processing(ctx) if (r.started_at or r.updated_at) <= cutoff]
    requeued = 0
    for record in stale:
        detail = f"abandoned after {older_than_s:g} s in processing (its worker stopped)"
        if ctx.sessions_for_improvement.finish(record.id, TaskStatus.failed, detail) is None:
            continue  # finished meanwhile, by its worker or another recovery
        again = ctx.sessions_for_improvement.create(
            SessionForImprovementCreateSchema(session_id=record.session_id)
        )
        logger.warning(
            "session %s: record %s abandoned; queued again as %s",
            record.session_id,
            record.id,
            again.id,
        )
        requeued += 1
    return requeued


def _processing(ctx: AppContext) -> list[SessionForImprovement]:
    records: list[SessionForImprovement] = []
    while page := ctx.sessions_for_improvement.list(
        status=TaskStatus.processing, skip=len(records), limit=PAGE
    ):
        records.extend(page)
        if len(page) < PAGE:
            break
    return records
