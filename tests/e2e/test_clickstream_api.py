"""The clickstream API over a real PostgreSQL document store (a fresh database per test)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from embedding_studio.context.app_context import build_context
from embedding_studio.core.config import Settings
from embedding_studio.main import create_app
from embedding_studio.models.tasks import utc_now

MAX_EVENTS = 50
INTERNAL = "/api/v1/internal/clickstream"
PUBLIC = "/api/v1/clickstream"


def _client(database_url: str, **overrides: object) -> Iterator[TestClient]:
    values: dict[str, object] = {
        "POSTGRES_URL": database_url,
        "INFERENCE_USED_PLUGINS": [],
        "ADMIN_API_KEY": None,
        "CLICKSTREAM_MAX_EVENTS_PER_REQUEST": MAX_EVENTS,
        "CLICKSTREAM_TIME_WINDOW_S": 3600,
    }
    config = Settings(**{**values, **overrides})
    ctx = build_context(config)
    try:
        with TestClient(create_app(config, ctx=ctx)) as client:
            yield client
    finally:
        ctx.close()


@pytest.fixture
def api(fresh_database_url: str) -> Iterator[TestClient]:
    yield from _client(fresh_database_url)


def session_body(session_id: str, results: int = 3, **extra: object) -> dict:
    return {
        "session_id": session_id,
        "search_query": "red shoes",
        "search_results": [{"object_id": f"obj{i}", "rank": i} for i in range(results)],
        "user_id": "user-1",
        **extra,
    }


def event(event_id: str, object_id: str = "obj1", **extra: object) -> dict:
    return {"event_id": event_id, "object_id": object_id, **extra}


def test_a_session_its_events_and_its_irrelevance_mark_round_trip(api):
    created = api.post(f"{PUBLIC}/session", json=session_body("s1", created_at=int(time.time())))
    assert created.status_code == 200, created.text
    assert created.json()["session_number"] == 1 and created.json()["results_count"] == 3
    assert api.post(f"{PUBLIC}/session", json=session_body("s1")).json() == created.json()

    pushed = api.post(
        f"{PUBLIC}/session/events",
        json={
            "session_id": "s1",
            "events": [
                event("e1", "obj2", meta={"importance": 2.5}),
                event("e2", "banner-7", event_type="view"),
                event("e1", "obj2"),
            ],
        },
    )
    assert pushed.json() == {
        "session_id": "s1",
        "received": 3,
        "stored": 2,
        "duplicates": 1,
        "not_in_results": 1,
    }
    again = api.post(
        f"{PUBLIC}/session/events", json={"session_id": "s1", "events": [event("e2", "banner-7")]}
    )
    assert (again.json()["stored"], again.json()["duplicates"]) == (0, 1)

    marked = api.post(f"{PUBLIC}/session/irrelevant", json={"session_id": "s1"})
    assert marked.json()["is_irrelevant"] is True

    session = api.get(f"{PUBLIC}/session", params={"session_id": "s1"}).json()
    assert [r["object_id"] for r in session["search_results"]] == ["obj0", "obj1", "obj2"]
    assert [(e["event_id"], e["event_type"]) for e in session["events"]] == [
        ("e1", "click"),
        ("e2", "view"),
    ]
    assert session["events"][0]["meta"] == {"importance": 2.5}
    assert session["events"][1]["meta"] == {"not_in_results": True}
    assert session["is_irrelevant"] is True and session["user_id"] == "user-1"


def test_unknown_sessions_get_404_naming_them(api):
    pushed = api.post(
        f"{PUBLIC}/session/events", json={"session_id": "ghost", "events": [event("e1")]}
    )
    assert pushed.status_code == 404 and "'ghost'" in pushed.json()["detail"]
    assert api.get(f"{PUBLIC}/session", params={"session_id": "ghost"}).status_code == 404
    assert api.post(f"{PUBLIC}/session/irrelevant", json={"session_id": "ghost"}).status_code == 404
    queued = api.post(f"{INTERNAL}/session/use-for-improvement", json={"session_id": "ghost"})
    assert queued.status_code == 404


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ([], "at least one event"),
        ([event(f"e{i}") for i in range(MAX_EVENTS + 1)], f"at most {MAX_EVENTS}"),
        (
            [event("ok"), event("old", created_at=(utc_now() - timedelta(hours=2)).isoformat())],
            "'old'",
        ),
        ([event("ok"), event("soon", created_at=int(time.time()) + 3600)], "future"),
        ([event("ok"), event("heavy", meta={"importance": -1})], "importance"),
        ([event("ok"), event("bad id!")], "event_id"),
    ],
)
def test_a_bad_batch_gets_422_and_nothing_of_it_is_stored(api, events, message):
    api.post(f"{PUBLIC}/session", json=session_body("s1"))
    response = api.post(f"{PUBLIC}/session/events", json={"session_id": "s1", "events": events})
    assert response.status_code == 422
    assert message in str(response.json()["detail"])
    assert api.get(f"{PUBLIC}/session", params={"session_id": "s1"}).json()["events"] == []


def test_bad_sessions_get_4xx_with_a_reason(api):
    bad_id = api.post(f"{PUBLIC}/session", json=session_body("no spaces allowed"))
    assert bad_id.status_code == 422 and "session_id" in str(bad_id.json()["detail"])
    old = (utc_now() - timedelta(days=30)).isoformat()
    assert (
        "in the past"
        in api.post(f"{PUBLIC}/session", json=session_body("s1", created_at=old)).json()["detail"]
    )
    twice = session_body("s2", search_results=[{"object_id": "a"}, {"object_id": "a"}])
    assert "appears twice" in api.post(f"{PUBLIC}/session", json=twice).json()["detail"]
    api.post(f"{PUBLIC}/session", json=session_body("s3"))
    reused = api.post(f"{PUBLIC}/session", json={**session_body("s3"), "search_query": "hats"})
    assert reused.status_code == 409 and "'s3'" in reused.json()["detail"]
    assert api.get(f"{PUBLIC}/session", params={"session_id": "x y"}).status_code == 422


def test_sessions_are_queued_for_improvement_only_with_feedback(api):
    for session_id in ("quiet", "clicked"):
        api.post(f"{PUBLIC}/session", json=session_body(session_id))
    quiet = api.post(f"{INTERNAL}/session/use-for-improvement", json={"session_id": "quiet"}).json()
    assert quiet["queued"] is False and "no events" in quiet["detail"]
    api.post(f"{PUBLIC}/session/events", json={"session_id": "clicked", "events": [event("e1")]})
    first = api.post(
        f"{INTERNAL}/session/use-for-improvement", json={"session_id": "clicked"}
    ).json()
    again = api.post(
        f"{INTERNAL}/session/use-for-improvement", json={"session_id": "clicked"}
    ).json()
    assert first["queued"] is True and first["status"] == "pending"
    assert again["id"] == first["id"]
    api.post(f"{PUBLIC}/session/irrelevant", json={"session_id": "quiet"})
    assert api.post(f"{INTERNAL}/session/use-for-improvement", json={"session_id": "quiet"}).json()[
        "queued"
    ]


def test_batches_page_by_number_and_release_idempotently(api):
    assert api.post(f"{INTERNAL}/batch/release", json={"release_id": "r0"}).status_code == 404
    for i in range(5):
        api.post(f"{PUBLIC}/session", json=session_body(f"s{i}"))
        api.post(
            f"{PUBLIC}/session/events",
            json={"session_id": f"s{i}", "events": [event("a"), event("b")]},
        )
    open_batch = api.get(f"{INTERNAL}/batch").json()
    assert (open_batch["status"], open_batch["session_counter"]) == ("collecting", 5)

    released = api.post(f"{INTERNAL}/batch/release", json={"release_id": "r1"}).json()
    assert released["batch_id"] == open_batch["batch_id"] and released["status"] == "released"
    assert api.post(f"{INTERNAL}/batch/release", json={"release_id": "r1"}).json() == released
    assert api.get(f"{INTERNAL}/batch").json()["batch_id"] != released["batch_id"]

    pages, after = [], 0
    while True:
        page = api.get(
            f"{INTERNAL}/batch/sessions",
            params={
                "batch_id": released["batch_id"],
                "after_number": after,
                "limit": 2,
                "events_limit": 1,
            },
        ).json()
        if page["last_number"] is None:
            break
        pages.append([s["session_number"] for s in page["sessions"]])
        assert all(len(s["events"]) == 1 for s in page["sessions"])
        after = page["last_number"]
    assert pages == [[1, 2], [3, 4], [5]]
    assert api.get(f"{INTERNAL}/batch/sessions", params={"batch_id": "nope"}).status_code == 404


def test_internal_routes_need_the_admin_key_when_one_is_set(fresh_database_url):
    for client in _client(fresh_database_url, ADMIN_API_KEY="secret"):
        assert client.get(f"{INTERNAL}/batch").status_code == 401
        assert client.get(f"{INTERNAL}/batch", headers={"X-Admin-Key": "secret"}).status_code == 404
        assert client.post(f"{PUBLIC}/session", json=session_body("s1")).status_code == 200
