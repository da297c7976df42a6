"""Batches: sessions accumulate in the one open batch until a fine-tuning task releases it."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from embedding_studio.models.common import UtcDatetime


class SessionBatchStatus(StrEnum):
    collecting = "collecting"
    released = "released"
    fine_tuning = "fine_tuning"
    archiving = "archiving"
    archived = "archived"


class SessionBatch(BaseModel):
    """A batch of sessions.

    :param session_counter: how many sessions were numbered into the batch; once released
        it is final, and the batch's sessions are numbered exactly 1..session_counter
    :param release_id: the idempotency key of the release that closed it
    """

    batch_id: str
    session_counter: int = 0
    created_at: UtcDatetime
    status: SessionBatchStatus
    release_id: str | None = None
    released_at: UtcDatetime | None = None
