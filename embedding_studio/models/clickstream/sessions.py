"""A search session: the query, the results shown (in order), and what the user did."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from embedding_studio.models.clickstream.session_events import SessionEvent
from embedding_studio.models.common import UtcDatetime
from embedding_studio.models.tasks import utc_now


class SearchResultItem(BaseModel):
    """One result shown to the user.

    :param object_id: the object's id in the vector collection
    :param rank: its position in the list the user saw (0 = first), or the front end's
        own score; the order of `Session.search_results` is what counts
    :param distance: the search distance when known (smaller is closer)
    :param meta: the object's storage meta (where its content can be loaded from)
    """

    object_id: str = Field(..., min_length=1, max_length=1024)
    rank: float | None = None
    distance: float | None = None
    meta: dict[str, Any] | None = None


class Session(BaseModel):
    """A search as the user saw it.

    :param session_id: the caller's id; registering the same id again is one session
    :param search_query: the query: a string, or the plugin's query object
    :param created_at: when the search ran (UTC); datetime, ISO string or unix seconds
    :param search_results: the results shown, in display order
    :param search_meta: free-form details of the search (model id, limit, offset, ...)
    :param payload_filter: the payload filter the search used, as JSON
    :param sort_by: the sort options the search used, as JSON
    :param user_id: the user, for personalised improvement
    :param is_irrelevant: the user marked the whole session as irrelevant
    """

    session_id: str = Field(..., min_length=1, max_length=128)
    search_query: Any
    created_at: UtcDatetime = Field(default_factory=utc_now)
    search_results: list[SearchResultItem] = Field(default_factory=list)
    search_meta: dict[str, Any] | None = None
    payload_filter: dict[str, Any] | None = None
    sort_by: dict[str, Any] | None = None
    user_id: str | None = Field(None, min_length=1, max_length=128)
    is_irrelevant: bool = False

    @property
    def result_ids(self) -> list[str]:
        return [item.object_id for item in self.search_results]


class RegisteredSession(Session):
    """A stored session: the batch it accumulates in, and its number in that batch
    (1, 2, 3, ... without gaps, in registration order)."""

    batch_id: str
    session_number: int


class SessionWithEvents(RegisteredSession):
    """A stored session with its events, oldest first."""

    events: list[SessionEvent] = Field(default_factory=list)

    @property
    def clicked_object_ids(self) -> list[str]:
        """Objects of the results the user acted on, in first-action order."""
        shown = set(self.result_ids)
        seen: dict[str, None] = {}
        for event in self.events:
            if event.object_id in shown:
                seen.setdefault(event.object_id, None)
        return list(seen)

    @property
    def duration_seconds(self) -> float:
        """Seconds from the search to its last event (0 without events)."""
        if not self.events:
            return 0.0
        last = max(event.created_at for event in self.events)
        return max(0.0, (last - self.created_at).total_seconds())
