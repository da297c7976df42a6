"""Clickstream requests and responses (public and internal routes)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator

from embedding_studio.api.schemas.search import USER_ID_PATTERN
from embedding_studio.api.schemas.upsertion import OBJECT_ID_PATTERN
from embedding_studio.models.clickstream.session_events import IMPORTANCE, SessionEvent
from embedding_studio.models.clickstream.sessions import (
    RegisteredSession,
    Session,
    SessionWithEvents,
)
from embedding_studio.models.common import UtcDatetime
from embedding_studio.models.tasks import TaskStatus

ID_PATTERN = r"^[A-Za-z0-9_.:\-]{1,128}$"
EVENT_TYPE_PATTERN = r"^[A-Za-z0-9_.:\-]{1,64}$"
MAX_RESULTS = 1000

SessionIdField = Field(..., pattern=ID_PATTERN, description="Letters, digits, _ . : -")


class SearchResultItemSchema(BaseModel):
    object_id: str = Field(..., pattern=OBJECT_ID_PATTERN)
    rank: float | None = Field(None, description="Position shown (0 = first) or your score")
    distance: float | None = Field(None, description="Search distance, when known")
    meta: dict[str, Any] | None = Field(None, description="The object's storage meta")


class SessionCreateRequest(BaseModel):
    session_id: str = SessionIdField
    search_query: str | dict[str, Any] = Field(
        ..., description="A plain string, or the plugin's query object"
    )
    search_results: list[SearchResultItemSchema] = Field(
        default_factory=list, max_length=MAX_RESULTS, description="The results shown, in order"
    )
    search_meta: dict[str, Any] | None = None
    payload_filter: dict[str, Any] | None = Field(None, description="The search's payload filter")
    sort_by: dict[str, Any] | None = Field(None, description="The search's sort options")
    user_id: str | None = Field(None, pattern=USER_ID_PATTERN)
    created_at: UtcDatetime | None = Field(
        None, description="ISO-8601 or unix seconds (UTC); now when omitted"
    )

    def to_domain(self) -> Session:
        data = self.model_dump(exclude_none=True)
        return Session.model_validate(data)


class SessionResponse(BaseModel):
    """A registered session, without its results and events (GET returns those)."""

    session_id: str
    batch_id: str
    session_number: int
    created_at: UtcDatetime
    user_id: str | None
    is_irrelevant: bool
    results_count: int

    @classmethod
    def from_domain(cls, session: RegisteredSession) -> SessionResponse:
        return cls(
            session_id=session.session_id,
            batch_id=session.batch_id,
            session_number=session.session_number,
            created_at=session.created_at,
            user_id=session.user_id,
            is_irrelevant=session.is_irrelevant,
            results_count=len(session.search_results),
        )


class NewSessionEvent(BaseModel):
    event_id: str | None = Field(
        None,
        pattern=ID_PATTERN,
        description="Unique within the session; a repeated id is ignored. When omitted, "
        "derived from (object, type, created_at).",
    )
    object_id: str = Field(..., pattern=OBJECT_ID_PATTERN)
    event_type: str = Field("click", pattern=EVENT_TYPE_PATTERN)
    created_at: UtcDatetime | None = Field(
        None, description="ISO-8601 or unix seconds (UTC); now when omitted"
    )
    meta: dict[str, Any] | None = Field(
        None, description="Free-form; `importance` (number >= 0) weights the event in training"
    )

    @field_validator("meta")
    @classmethod
    def _importance_is_a_weight(cls, meta: dict[str, Any] | None) -> dict[str, Any] | None:
        if meta and IMPORTANCE in meta:
            value = meta[IMPORTANCE]
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"meta.importance must be a number >= 0, got {value!r}")
        return meta


class SessionAddEventsRequest(BaseModel):
    session_id: str = SessionIdField
    events: list[NewSessionEvent]

    def to_domain(self) -> list[SessionEvent]:
        return [
            SessionEvent.model_validate(
                {"session_id": self.session_id, **event.model_dump(exclude_none=True)}
            )
            for event in self.events
        ]


class SessionAddEventsResponse(BaseModel):
    session_id: str
    received: int
    stored: int = Field(..., description="New events stored by this request")
    duplicates: int = Field(..., description="Events whose id was already stored (ignored)")
    not_in_results: int = Field(
        ..., description="Events on objects the session did not show (stored, flagged in meta)"
    )


class SessionMarkIrrelevantRequest(BaseModel):
    session_id: str = SessionIdField


class UseSessionForImprovementRequest(BaseModel):
    session_id: str = SessionIdField


class UseSessionForImprovementResponse(BaseModel):
    session_id: str
    queued: bool = Field(..., description="False when the session has nothing to learn from")
    id: str | None = Field(None, description="The queue record's id")
    status: TaskStatus | None = None
    detail: str | None = None


class BatchSessionsResponse(BaseModel):
    batch_id: str
    last_number: int | None = Field(
        ..., description="Pass as after_number for the next page; null when the page is empty"
    )
    sessions: list[SessionWithEvents]


class BatchReleaseRequest(BaseModel):
    release_id: str = Field(..., pattern=ID_PATTERN, description="Idempotency key")
