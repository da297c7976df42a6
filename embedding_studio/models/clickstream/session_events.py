"""What a user did with one result of a search session."""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import BaseModel, Field, model_validator

from embedding_studio.models.common import UtcDatetime, to_iso
from embedding_studio.models.tasks import utc_now

NOT_IN_RESULTS = "not_in_results"
"""Meta flag set on an event whose object was not among the session's results (front ends
also log clicks on other widgets: such events are kept, and marked)."""

IMPORTANCE = "importance"
"""Meta key of an event's weight for training (a non-negative number, 1.0 when absent)."""


def derived_event_id(session_id: str, object_id: str, event_type: str, created_at: str) -> str:
    """The id of an event pushed without one: the same action at the same time is one event."""
    key = "\x1f".join((session_id, object_id, event_type, created_at))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


class SessionEvent(BaseModel):
    """One user action (click, view, conversion, ...) on one object, within one session.

    :param event_id: unique within its session; pushing an event id again is ignored.
        Left empty, it is derived from (session, object, type, created_at), so a retried
        push of the same action stays one event.
    :param session_id: the registered session the event belongs to
    :param object_id: the object acted on
    :param event_type: free-form kind of action; "click" by default
    :param created_at: when it happened (UTC); a datetime, an ISO string or a unix
        timestamp in seconds; now by default
    :param meta: free-form details; `importance` (number >= 0) weights the event in
        training; the store adds `not_in_results: true` when the object was not among
        the session's results
    """

    event_id: str = Field("", max_length=128)
    session_id: str = Field(..., min_length=1, max_length=128)
    object_id: str = Field(..., min_length=1, max_length=1024)
    event_type: str = Field("click", min_length=1, max_length=64)
    created_at: UtcDatetime = Field(default_factory=utc_now)
    meta: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _fill_event_id(self) -> SessionEvent:
        if not self.event_id:
            self.event_id = derived_event_id(
                self.session_id, self.object_id, self.event_type, to_iso(self.created_at)
            )
        return self

    @property
    def importance(self) -> float:
        value = (self.meta or {}).get(IMPORTANCE, 1.0)
        return float(value) if isinstance(value, int | float) else 1.0

    @property
    def is_in_results(self) -> bool:
        return not (self.meta or {}).get(NOT_IN_RESULTS, False)
