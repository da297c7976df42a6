"""Learned phrases: the queries of clickstream sessions with clicks join the suggestion
pool when their events are pushed (real PostgreSQL, the public clickstream API)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from embedding_studio.context.app_context import build_context
from embedding_studio.core.config import Settings
from embedding_studio.main import create_app

SUGGEST = "/api/v1/suggesting"
CLICKS = "/api/v1/clickstream"
HALF = 2.0


def _config(database_url: str, redis_url: str, **overrides: Any) -> Settings:
    return Settings(
        POSTGRES_URL=database_url,
        REDIS_URL=redis_url,
        INFERENCE_USED_PLUGINS=[],
        ADMIN_API_KEY=None,
        SUGGESTING_LEARNED_HALF_CLICKS=HALF,
        **overrides,
    )


def _client(database_url: str, redis_url: str, **overrides: Any) -> Iterator[TestClient]:
    config = _config(database_url, redis_url, **overrides)
    ctx = build_context(config)
    try:
        with TestClient(create_app(config, ctx=ctx)) as client:
            yield client
    finally:
        ctx.close()


@pytest.fixture
def api(fresh_database_url: str, redis_url: str) -> Iterator[TestClient]:
    yield from _client(fresh_database_url, redis_url)


def search_session(api: TestClient, session_id: str, query: Any, results: int = 3) -> None:
    body = {
        "session_id": session_id,
        "search_query": query,
        "search_results": [{"object_id": f"{session_id}-o{i}"} for i in range(results)],
    }
    reply = api.post(f"{CLICKS}/session", json=body)
    assert reply.status_code == 200, reply.text


def click(api: TestClient, session_id: str, *objects: str, event_type: str = "click") -> dict:
    events = [{"event_id": f"{session_id}:{o}:{event_type}", "object_id": o} for o in objects]
    for event in events:
        event["event_type"] = event_type
    reply = api.post(f"{CLICKS}/session/events", json={"session_id": session_id, "events": events})
    assert reply.status_code == 200, reply.text
    return reply.json()


def phrase(api: TestClient, text: str) -> dict | None:
    reply = api.get(f"{SUGGEST}/phrases/get-id", params={"phrase": text})
    return reply.json() if reply.status_code == 200 else None


def test_queries_of_sessions_with_clicks_join_the_pool_with_growing_probability(api):
    search_session(api, "s1", "Deep Learning")
    assert phrase(api, "Deep Learning") is None  # no click yet
    click(api, "s1", "s1-o0")
    learned = phrase(api, "Deep Learning")
    assert (learned["origin"], learned["clicks"], learned["prob"]) == ("learned", 1, 1 / (1 + HALF))

    click(api, "s1", "s1-o0", "s1-o2")  # o0 again (same event id) and a new result
    click(api, "s1", "s1-o0", "s1-o2")  # a retried push counts once
    assert phrase(api, "Deep Learning")["clicks"] == 2

    search_session(api, "s2", {"text": "deep   learning"})  # another case and spacing
    click(api, "s2", "s2-o1")
    learned = phrase(api, "Deep Learning")
    assert (learned["clicks"], learned["prob"]) == (3, 3 / (3 + HALF))
    assert phrase(api, "deep learning") is None  # counted for the existing phrase

    suggestions = api.post(f"{SUGGEST}/get-top-k", json={"phrase": "deep l"}).json()
    assert [(s["phrase"], s["prob"]) for s in suggestions["suggestions"]] == [
        ("Deep Learning", 3 / (3 + HALF))
    ]


def test_sessions_without_clicks_on_their_results_teach_nothing(api):
    search_session(api, "s1", "red shoes")
    click(api, "s1", "banner-7")  # not among the results
    search_session(api, "s2", {"vector": [0.1, 0.2]})  # not a text query
    click(api, "s2", "s2-o0")
    listed = api.get(f"{SUGGEST}/phrases/list").json()
    assert listed["total"] == 0


def test_an_operators_probability_stays_and_deleted_phrases_stay_deleted(api):
    added = api.post(
        f"{SUGGEST}/phrases/add", json={"phrases": [{"phrase": "red shoes", "prob": 0.9}]}
    )
    (manual_id,) = added.json()["phrase_ids"]
    search_session(api, "s1", "red shoes")
    click(api, "s1", "s1-o0", "s1-o1")
    manual = phrase(api, "red shoes")
    assert (manual["phrase_id"], manual["origin"], manual["prob"], manual["clicks"]) == (
        manual_id,
        "manual",
        0.9,
        2,
    )

    search_session(api, "s2", "blue shoes")
    click(api, "s2", "s2-o0")
    learned_id = phrase(api, "blue shoes")["phrase_id"]
    pinned = api.post(
        f"{SUGGEST}/phrases/update-probability", json={"phrase_id": learned_id, "new_prob": 0.05}
    )
    assert pinned.json()["origin"] == "manual"
    click(api, "s2", "s2-o1")
    assert (phrase(api, "blue shoes")["prob"], phrase(api, "blue shoes")["clicks"]) == (0.05, 2)

    assert api.delete(f"{SUGGEST}/phrases/delete/{learned_id}").status_code == 200
    search_session(api, "s3", "Blue Shoes")
    click(api, "s3", "s3-o0")
    assert phrase(api, "blue shoes") is None and phrase(api, "Blue Shoes") is None


def test_learning_can_be_turned_off(fresh_database_url, redis_url):
    for api in _client(fresh_database_url, redis_url, SUGGESTING_LEARN_FROM_CLICKSTREAM=False):
        search_session(api, "s1", "green tea")
        click(api, "s1", "s1-o0")
        assert phrase(api, "green tea") is None


def test_marking_a_session_irrelevant_takes_its_clicks_back_at_the_next_push(api):
    search_session(api, "s1", "green tea")
    click(api, "s1", "s1-o0")
    click(api, "s1", "s1-o0", event_type="view")  # an object already counted
    assert phrase(api, "green tea")["clicks"] == 1

    reply = api.post(f"{CLICKS}/session/irrelevant", json={"session_id": "s1"})
    assert reply.status_code == 200, reply.text
    click(api, "s1", "s1-o0", event_type="conversion")
    assert phrase(api, "green tea")["clicks"] == 0


def test_pushes_on_counted_objects_do_not_read_the_session_back(
    fresh_database_url, redis_url, monkeypatch
):
    config = _config(fresh_database_url, redis_url)
    ctx = build_context(config)
    reads: list[str] = []
    read = ctx.clickstream_dao.get_session_clicks
    monkeypatch.setattr(
        ctx.clickstream_dao, "get_session_clicks", lambda sid: reads.append(sid) or read(sid)
    )
    try:
        with TestClient(create_app(config, ctx=ctx)) as api:
            search_session(api, "s1", "black coffee")
            click(api, "s1", "s1-o0", "s1-o1")
            assert reads == ["s1"]
            for event_type in ("view", "conversion", "add_to_cart"):
                click(api, "s1", "s1-o1", "s1-o0", event_type=event_type)
            click(api, "s1", "banner")  # not a shown object: nothing to count
            assert reads == ["s1"]
            click(api, "s1", "s1-o2")  # a new object: the count is read again
            assert reads == ["s1", "s1"]
            assert phrase(api, "black coffee")["clicks"] == 3
    finally:
        ctx.close()


def test_a_stale_count_never_lowers_a_sessions_clicks(fresh_database_url, redis_url):
    """Learning runs after each push is answered, so two pushes' learning can finish out
    of order: the one that read fewer clicks must not overwrite the larger count."""
    ctx = build_context(_config(fresh_database_url, redis_url))
    try:
        learning = ctx.suggestions.learning
        phrase_id = learning.record("s1", "cold brew", 3)
        assert learning.record("s1", "cold brew", 2) == phrase_id  # the slower reader
        with TestClient(create_app(_config(fresh_database_url, redis_url), ctx=ctx)) as api:
            assert phrase(api, "cold brew")["clicks"] == 3
            learning.record("s1", "cold brew", 0)  # marked irrelevant: taken back
            assert phrase(api, "cold brew")["clicks"] == 0
    finally:
        ctx.close()
