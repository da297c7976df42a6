"""Clickstream sessions and events on both document stores."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest

from embedding_studio.core.errors import Conflict, InvalidRequest, NotFound
from embedding_studio.data_access.clickstream import SESSIONS
from embedding_studio.models.clickstream.session_events import NOT_IN_RESULTS, SessionEvent
from embedding_studio.models.clickstream.sessions import SearchResultItem, Session
from embedding_studio.models.common import to_iso
from embedding_studio.models.tasks import utc_now
from tests.contract.clickstream_helpers import make_dao, make_event, make_session


def test_seed_calls_register_a_session_and_push_an_event(store):
    dao = make_dao(store)
    session_id = str(uuid.uuid4())
    timestamp = int(utc_now().timestamp())  # what the seeds' datetime_utils.utc_timestamp() gives
    registered = dao.register_session(
        Session(session_id=session_id, search_query="shoes", user_id="u1", created_at=timestamp)
    )
    assert registered.session_number == 1
    assert registered.batch_id == dao.get_open_batch().batch_id
    dao.push_events([SessionEvent(session_id=session_id, object_id="item7", created_at=timestamp)])
    # The same call again (a retry without an event id) is the same event.
    dao.push_events([SessionEvent(session_id=session_id, object_id="item7", created_at=timestamp)])
    session = dao.get_session(session_id)
    assert session.user_id == "u1"
    assert [e.object_id for e in session.events] == ["item7"]
    assert session.events[0].meta == {NOT_IN_RESULTS: True}


def test_registering_the_same_id_again_is_one_session(store):
    dao = make_dao(store)
    first = dao.register_session(make_session("s1"))
    again = dao.register_session(make_session("s1"))
    other = dao.register_session(make_session("s2"))
    assert (again.batch_id, again.session_number) == (first.batch_id, first.session_number)
    assert other.session_number == first.session_number + 1
    assert store.collection(SESSIONS).count() == 2


def test_a_repeated_registration_adds_new_results_in_order(store):
    dao = make_dao(store)
    dao.register_session(make_session("s1", results=2))
    page_two = Session(
        session_id="s1",
        search_query="red shoes",
        search_results=[
            SearchResultItem(object_id=o, rank=r) for o, r in (("obj1", 1), ("obj9", 2))
        ],
    )
    merged = dao.register_session(page_two)
    assert merged.result_ids == ["obj0", "obj1", "obj9"]
    assert merged.session_number == 1


def test_an_id_reused_for_another_query_or_user_is_a_conflict(store):
    dao = make_dao(store)
    dao.register_session(make_session("s1", user_id="u1"))
    with pytest.raises(Conflict, match="s1"):
        dao.register_session(make_session("s1", query="blue hats", user_id="u1"))
    with pytest.raises(Conflict, match="s1"):
        dao.register_session(make_session("s1", user_id="u2"))


def test_bad_sessions_are_refused_and_not_stored(store):
    dao = make_dao(store)
    old = make_session("old", created_at=utc_now() - timedelta(hours=2))
    with pytest.raises(InvalidRequest, match="in the past"):
        dao.register_session(old)
    future = make_session("future", created_at=utc_now() + timedelta(hours=1))
    with pytest.raises(InvalidRequest, match="future"):
        dao.register_session(future)
    twice = Session(
        session_id="twice",
        search_query="q",
        search_results=[SearchResultItem(object_id="a"), SearchResultItem(object_id="a")],
    )
    with pytest.raises(InvalidRequest, match="appears twice"):
        dao.register_session(twice)
    assert store.collection(SESSIONS).count() == 0
    assert dao.get_session("old") is None


def test_events_are_stored_once_per_event_id_and_flagged_outside_results(store):
    dao = make_dao(store)
    dao.register_session(make_session("s1"))
    result = dao.push_events(
        [
            make_event("s1", "e1", "obj1", seconds_ago=3),
            make_event("s1", "e2", "elsewhere", seconds_ago=2),
            make_event("s1", "e1", "obj2", seconds_ago=1),  # repeated id in one request
        ]
    )
    assert (result.received, result.stored, result.duplicates, result.flagged) == (3, 2, 1, 1)
    assert result.acted_on == {"s1": frozenset({"obj1"})}  # shown objects only
    again = dao.push_events([make_event("s1", "e2", "elsewhere"), make_event("s1", "e3", "obj0")])
    assert (again.stored, again.duplicates) == (1, 1)
    assert again.acted_on == {"s1": frozenset({"obj0"})}
    events = dao.get_session("s1").events
    assert [e.event_id for e in events] == ["e1", "e2", "e3"]  # oldest first
    assert events[0].object_id == "obj1" and events[0].is_in_results
    assert events[1].meta == {NOT_IN_RESULTS: True}


def test_session_clicks_are_the_shown_objects_its_events_name(store):
    dao = make_dao(store)
    assert dao.get_session_clicks("s1") is None
    dao.register_session(make_session("s1", results=4, user_id="u1"))
    dao.register_session(make_session("s2", results=4))
    dao.push_events(
        [
            make_event("s1", "e1", "obj2", seconds_ago=4),
            make_event("s1", "e2", "elsewhere", seconds_ago=3),
            make_event("s1", "e3", "obj0", seconds_ago=2),
            make_event("s1", "e4", "obj2", seconds_ago=1),
            make_event("s2", "e1", "obj3"),
        ]
    )
    found = dao.get_session_clicks("s1")
    assert found is not None
    assert found.clicked == frozenset(dao.get_session("s1").clicked_object_ids)
    assert found.clicked == {"obj0", "obj2"}
    assert (found.session.search_query, found.session.user_id) == ("red shoes", "u1")
    assert dao.get_session_clicks("s2").clicked == {"obj3"}


def test_events_for_an_unknown_session_are_refused_and_nothing_is_written(store):
    dao = make_dao(store)
    dao.register_session(make_session("known"))
    batch = [make_event("known", "e1"), make_event("ghost", "e2")]
    with pytest.raises(NotFound, match="'ghost'"):
        dao.push_events(batch)
    assert dao.get_session("known").events == []


def test_an_event_outside_the_time_window_fails_the_whole_batch(store):
    dao = make_dao(store)
    dao.register_session(make_session("s1"))
    with pytest.raises(InvalidRequest, match="'late'"):
        dao.push_events([make_event("s1", "ok"), make_event("s1", "late", seconds_ago=7200)])
    assert dao.get_session("s1").events == []
    assert dao.push_events([]).stored == 0


def test_mark_irrelevant_is_idempotent_and_needs_a_session(store):
    dao = make_dao(store)
    dao.register_session(make_session("s1"))
    assert dao.mark_session_irrelevant("s1").is_irrelevant
    assert dao.mark_session_irrelevant("s1").is_irrelevant
    assert dao.get_session("s1").is_irrelevant
    with pytest.raises(NotFound, match="'nope'"):
        dao.mark_session_irrelevant("nope")


def test_a_session_left_unnumbered_by_a_dead_process_is_numbered_on_read(store):
    dao = make_dao(store, stale_after_s=1.0)
    dao.register_session(make_session("s1"))
    registered_at = to_iso(utc_now() - timedelta(seconds=0.5))
    document = make_session("orphan").model_dump(mode="json")
    document.update(_id="orphan", batch_id=None, session_number=None, results_count=3)
    document["registered_at"] = registered_at
    store.collection(SESSIONS).insert(document)  # inserted, then the process died
    started = time.monotonic()
    session = dao.get_session("orphan")  # waits until the registration is 1 s old
    assert time.monotonic() - started >= 0.3
    assert (session.batch_id, session.session_number) == (dao.get_open_batch().batch_id, 2)
