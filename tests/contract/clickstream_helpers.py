"""Builders shared by the clickstream contract tests."""

from __future__ import annotations

from datetime import timedelta

from embedding_studio.data_access.clickstream import ClickstreamDao
from embedding_studio.data_access.documents import DocumentStore
from embedding_studio.models.clickstream.session_events import SessionEvent
from embedding_studio.models.clickstream.sessions import SearchResultItem, Session
from embedding_studio.models.clickstream.time_window import TimeWindow
from embedding_studio.models.tasks import utc_now

WINDOW = TimeWindow(past_s=3600, future_s=60)


def make_dao(store: DocumentStore, **kwargs: float) -> ClickstreamDao:
    return ClickstreamDao(store, time_window=WINDOW, **kwargs)


def make_session(session_id: str, results: int = 3, query: str = "red shoes", **kwargs) -> Session:
    return Session(
        session_id=session_id,
        search_query=query,
        search_results=[
            SearchResultItem(object_id=f"obj{i}", rank=i, distance=0.1 * i) for i in range(results)
        ],
        **kwargs,
    )


def make_event(
    session_id: str, event_id: str, object_id: str = "obj1", seconds_ago: float = 0
) -> SessionEvent:
    return SessionEvent(
        event_id=event_id,
        session_id=session_id,
        object_id=object_id,
        created_at=utc_now() - timedelta(seconds=seconds_ago),
    )
