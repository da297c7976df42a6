"""Clickstream rules behind the API: request limits, 404s, what is worth improving."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from embedding_studio.context.app_context import AppContext
from embedding_studio.core.errors import InvalidRequest, NotFound
from embedding_studio.data_access.clickstream import PushResult
from embedding_studio.models.clickstream.session_batches import SessionBatch
from embedding_studio.models.clickstream.session_events import SessionEvent
from embedding_studio.models.clickstream.sessions import (
    RegisteredSession,
    SearchResultItem,
    Session,
    SessionWithEvents,
)
from embedding_studio.models.embeddings.objects import SearchResults
from embedding_studio.models.improvement import (
    SessionForImprovement,
    SessionForImprovementCreateSchema,
)
from embedding_studio.workers.improvement.trigger import request_improvement

logger = logging.getLogger(__name__)


def register_session(ctx: AppContext, session: Session) -> RegisteredSession:
    return ctx.clickstream_dao.register_session(session)


def get_session(ctx: AppContext, session_id: str) -> SessionWithEvents:
    session = ctx.clickstream_dao.get_session(session_id)
    if session is None:
        raise NotFound(f"session {session_id!r} is not registered")
    return session


def push_events(ctx: AppContext, events: Sequence[SessionEvent]) -> PushResult:
    """Store a batch of events; the whole batch is refused when any of it is invalid.
    Learning suggestions from its clicks is `learn_from_push`, for after the response."""
    limit = ctx.settings.CLICKSTREAM_MAX_EVENTS_PER_REQUEST
    if not events:
        raise InvalidRequest("events: send at least one event")
    if len(events) > limit:
        raise InvalidRequest(
            f"events: {len(events)} events in one request; send at most {limit} "
            "(CLICKSTREAM_MAX_EVENTS_PER_REQUEST) per request"
        )
    return ctx.clickstream_dao.push_events(events)


def learn_from_push(ctx: AppContext, result: PushResult) -> None:
    """Count the clicks of a push for the suggestions (`learn_from_events`). The API runs
    it once the push is answered: it may wait for the lock every suggestion write takes,
    and a front end has no use for that wait."""
    if result.stored:
        from embedding_studio.services.suggesting import learn_from_events

        learn_from_events(ctx, result.acted_on)


def mark_irrelevant(ctx: AppContext, session_id: str) -> RegisteredSession:
    session = ctx.clickstream_dao.mark_session_irrelevant(session_id)
    if "suggestions" in vars(ctx):  # built in this process: its learning may remember clicks
        ctx.suggestions.learning.forget(session_id)
    return session


@dataclass(frozen=True)
class ImprovementRequestOutcome:
    session_id: str
    record: SessionForImprovement | None
    detail: str | None = None


def use_for_improvement(ctx: AppContext, session_id: str) -> ImprovementRequestOutcome:
    """Queue the session for the improvement worker when it carries feedback: events,
    or an irrelevance mark. A session without either is left out (nothing to learn)."""
    session = get_session(ctx, session_id)
    if not session.events and not session.is_irrelevant:
        return ImprovementRequestOutcome(
            session_id, None, "the session has no events and is not marked irrelevant"
        )
    record = ctx.sessions_for_improvement.create(
        schema=SessionForImprovementCreateSchema(session_id=session_id)
    )
    logger.debug("session %s queued for improvement as %s", session_id, record.id)
    request_improvement(ctx, f"session {session_id}")
    return ImprovementRequestOutcome(session_id, record)


def get_batch(ctx: AppContext, batch_id: str | None) -> SessionBatch:
    """The batch, or the open one when `batch_id` is None."""
    dao = ctx.clickstream_dao
    batch = dao.get_open_batch() if batch_id is None else dao.get_batch(batch_id)
    if batch is None:
        what = "no batch is open yet" if batch_id is None else f"batch {batch_id!r} does not exist"
        raise NotFound(what)
    return batch


def batch_sessions(
    ctx: AppContext, batch_id: str, after_number: int, limit: int, events_limit: int
) -> list[SessionWithEvents]:
    get_batch(ctx, batch_id)
    return ctx.clickstream_dao.get_batch_sessions(
        batch_id, after_number=after_number, limit=limit, events_limit=events_limit
    )


def release_batch(ctx: AppContext, release_id: str) -> SessionBatch:
    batch = ctx.clickstream_dao.release_batch(release_id)
    if batch is None:
        raise NotFound("nothing to release: no session was registered since the last release")
    return batch


def register_search_session(
    ctx: AppContext,
    session_id: str | None,
    search_query: Any,
    results: SearchResults,
    offset: int,
    user_id: str | None = None,
    payload_filter: dict[str, Any] | None = None,
    sort_by: dict[str, Any] | None = None,
    search_meta: dict[str, Any] | None = None,
) -> str:
    """Register the session of a search with the results it returned, in order (ranks
    count from `offset`, so a later page of the same session continues the list)."""
    session = Session(
        session_id=session_id or str(uuid.uuid4()),
        search_query=search_query,
        search_results=[
            SearchResultItem(
                object_id=item.object_id,
                rank=offset + position,
                distance=item.distance,
                meta=item.storage_meta or None,
            )
            for position, item in enumerate(results.found_objects)
        ],
        user_id=user_id,
        payload_filter=payload_filter,
        sort_by=sort_by,
        search_meta=search_meta,
    )
    return ctx.clickstream_dao.register_session(session).session_id
