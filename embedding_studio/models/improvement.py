"""Sessions queued for improvement (per-user vector adjustment by the improvement worker)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from embedding_studio.models.common import UtcDatetime
from embedding_studio.models.tasks import TaskStatus, new_id, utc_now


class SessionForImprovementCreateSchema(BaseModel):
    """Ask for a session to be used for improvement."""

    session_id: str = Field(..., min_length=1, max_length=128)


class SessionForImprovement(BaseModel):
    """A queued session. Status moves pending -> processing -> done | failed.

    :param id: the record's id (one session can be queued again after it was processed)
    :param detail: why it failed, when it did
    """

    id: str = Field(default_factory=new_id)
    session_id: str
    status: TaskStatus = TaskStatus.pending
    detail: str | None = None
    created_at: UtcDatetime = Field(default_factory=utc_now)
    updated_at: UtcDatetime = Field(default_factory=utc_now)
    started_at: UtcDatetime | None = None


SessionForImprovementInDb = SessionForImprovement
"""The reference's name for a stored record; the same model here."""
