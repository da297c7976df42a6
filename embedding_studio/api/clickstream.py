"""Clickstream routes: sessions, events and irrelevance marks from the search front end
(public), and the queue and batch routes the workers and operators use (internal)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query

from embedding_studio.api.deps import ContextDep
from embedding_studio.api.schemas.clickstream import (
    ID_PATTERN,
    BatchReleaseRequest,
    BatchSessionsResponse,
    SessionAddEventsRequest,
    SessionAddEventsResponse,
    SessionCreateRequest,
    SessionMarkIrrelevantRequest,
    SessionResponse,
    UseSessionForImprovementRequest,
    UseSessionForImprovementResponse,
)
from embedding_studio.models.clickstream.session_batches import SessionBatch
from embedding_studio.models.clickstream.sessions import SessionWithEvents
from embedding_studio.services import clickstream

router = APIRouter(prefix="/clickstream", tags=["clickstream"])
internal_router = APIRouter(prefix="/clickstream", tags=["clickstream (internal)"])

SessionIdQuery = Annotated[str, Query(pattern=ID_PATTERN)]


@router.post("/session", response_model=SessionResponse)
def create_session(body: SessionCreateRequest, ctx: ContextDep) -> SessionResponse:
    """Register a search session: the query and the results shown, in order.

    Idempotent by `session_id`: registering it again returns the stored session (and
    appends results it did not list yet, for a front end that pages within one session).
    The same id with another query or user is refused (409). `created_at` older than
    CLICKSTREAM_TIME_WINDOW_S or ahead by more than CLICKSTREAM_MAX_CLOCK_SKEW_S: 422.
    """
    session = clickstream.register_session(ctx, body.to_domain())
    return SessionResponse.from_domain(session)


@router.get("/session", response_model=SessionWithEvents)
def get_session(session_id: SessionIdQuery, ctx: ContextDep) -> SessionWithEvents:
    """The session with its results and all its events, oldest first (404 if unknown)."""
    return clickstream.get_session(ctx, session_id)


@router.post("/session/events", response_model=SessionAddEventsResponse)
def push_events(
    body: SessionAddEventsRequest, ctx: ContextDep, after_response: BackgroundTasks
) -> SessionAddEventsResponse:
    """Store a batch of events of one session.

    - An event id already stored for the session is ignored (counted in `duplicates`).
    - The session must be registered first: 404 naming it otherwise.
    - 422 for an empty batch, more than CLICKSTREAM_MAX_EVENTS_PER_REQUEST events, or a
      timestamp outside the accepted window.
    - An event on an object the session did not show is **accepted** and stored with
      `meta.not_in_results = true` (front ends log clicks on other widgets too: they are
      kept for analysis, and the training converters can tell them apart).

    The batch is validated as a whole before anything is written: on any error nothing
    of it is stored.
    """
    result = clickstream.push_events(ctx, body.to_domain())
    after_response.add_task(clickstream.learn_from_push, ctx, result)
    return SessionAddEventsResponse(
        session_id=body.session_id,
        received=result.received,
        stored=result.stored,
        duplicates=result.duplicates,
        not_in_results=result.flagged,
    )


@router.post("/session/irrelevant", response_model=SessionResponse)
def mark_session_irrelevant(body: SessionMarkIrrelevantRequest, ctx: ContextDep) -> SessionResponse:
    """Mark the whole session irrelevant: none of its results answered the query.
    Idempotent; 404 if the session is unknown."""
    return SessionResponse.from_domain(clickstream.mark_irrelevant(ctx, body.session_id))


@internal_router.post(
    "/session/use-for-improvement", response_model=UseSessionForImprovementResponse
)
def use_session_for_improvement(
    body: UseSessionForImprovementRequest, ctx: ContextDep
) -> UseSessionForImprovementResponse:
    """Queue the session for per-user improvement. Queued once while pending; a session
    with no events and no irrelevance mark is not queued (`queued: false`)."""
    outcome = clickstream.use_for_improvement(ctx, body.session_id)
    record = outcome.record
    return UseSessionForImprovementResponse(
        session_id=outcome.session_id,
        queued=record is not None,
        id=record.id if record else None,
        status=record.status if record else None,
        detail=outcome.detail,
    )


@internal_router.get("/batch", response_model=SessionBatch)
def get_batch(
    ctx: ContextDep, batch_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None
) -> SessionBatch:
    """A batch, or the open one when `batch_id` is omitted."""
    return clickstream.get_batch(ctx, batch_id)


@internal_router.get("/batch/sessions", response_model=BatchSessionsResponse)
def get_batch_sessions(
    ctx: ContextDep,
    batch_id: Annotated[str, Query(pattern=ID_PATTERN)],
    after_number: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(gt=0, le=1000)] = 10,
    events_limit: Annotated[int, Query(gt=0, le=10_000)] = 100,
) -> BatchSessionsResponse:
    """A page of the batch's sessions by session number; pass the returned
    `last_number` as `after_number` for the next page."""
    sessions = clickstream.batch_sessions(ctx, batch_id, after_number, limit, events_limit)
    return BatchSessionsResponse(
        batch_id=batch_id,
        last_number=sessions[-1].session_number if sessions else None,
        sessions=sessions,
    )


@internal_router.post("/batch/release", response_model=SessionBatch)
def release_batch(body: BatchReleaseRequest, ctx: ContextDep) -> SessionBatch:
    """Close the open batch (a new one opens). Idempotent by `release_id`: a repeated
    call returns the batch that release closed. 404 when no session was registered
    since the last release."""
    return clickstream.release_batch(ctx, body.release_id)
