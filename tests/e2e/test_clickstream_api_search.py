"""similarity-search with `create_session`: the session holds exactly what was returned."""

from __future__ import annotations

import time

import httpx
import psycopg
import pytest

from embedding_studio.models.payload.models import PayloadFilter
from embedding_studio.suggesting.store import WRITE_LOCK_KEY
from tests.e2e.stack import Stack

DOCS = {
    "tea": "Green tea is brewed from unoxidised leaves of Camellia sinensis.",
    "coffee": "Espresso is coffee brewed by forcing hot water through fine grounds.",
    "cocoa": "Hot chocolate is made from cocoa powder, milk and sugar.",
    "juice": "Orange juice is pressed from fresh citrus fruit.",
    "beer": "Beer is brewed from malted barley, hops, yeast and water.",
    "wine": "Wine is fermented from crushed grapes.",
}
GROUP = {"term": {"group": "clickstream-drinks"}}


@pytest.fixture(scope="module")
def drinks(stack: Stack) -> None:
    items = [
        {"object_id": f"drink-{k}", "data": v, "payload": {"group": "clickstream-drinks"}}
        for k, v in DOCS.items()
    ]
    with stack.client() as client:
        response = client.post(
            "/api/v1/embeddings/upsertion-tasks/run",
            json={"items": items, "idempotency_key": "clickstream-drinks"},
        )
    assert response.status_code == 200, response.text
    task = stack.wait_task("embeddings/upsertion-tasks", response.json()["task_id"])
    assert task["status"] == "done", task


def _search(stack: Stack, **body: object) -> dict:
    with stack.client() as client:
        response = client.post("/api/v1/embeddings/similarity-search", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_search_session_holds_the_returned_results_in_order(stack: Stack, drinks: None) -> None:
    query = {"search_query": "a hot brewed drink", "filter": GROUP, "user_id": "drinker-1"}
    first = _search(stack, **query, limit=3, create_session=True)
    session_id = first["session_id"]
    assert session_id
    assert _search(stack, **query, limit=3)["session_id"] is None

    with stack.client() as client:
        session = client.get(
            "/api/v1/clickstream/session", params={"session_id": session_id}
        ).json()
    shown = [r["object_id"] for r in first["search_results"]]
    assert [r["object_id"] for r in session["search_results"]] == shown
    assert [r["rank"] for r in session["search_results"]] == [0, 1, 2]
    assert [r["distance"] for r in session["search_results"]] == pytest.approx(
        [r["distance"] for r in first["search_results"]]
    )
    assert session["search_query"] == "a hot brewed drink"
    assert session["user_id"] == "drinker-1"
    stored_filter = PayloadFilter.model_validate(session["payload_filter"])
    assert stored_filter == PayloadFilter.model_validate(GROUP)
    assert session["search_meta"]["embedding_model_id"] == first["embedding_model_id"]

    # The next page under the same session id continues the session's list.
    second = _search(stack, **query, limit=3, offset=3, create_session=True, session_id=session_id)
    assert second["session_id"] == session_id
    with stack.client() as client:
        session = client.get(
            "/api/v1/clickstream/session", params={"session_id": session_id}
        ).json()
        pushed = client.post(
            "/api/v1/clickstream/session/events",
            json={"session_id": session_id, "events": [{"event_id": "c1", "object_id": shown[1]}]},
        ).json()
    shown += [r["object_id"] for r in second["search_results"]]
    assert [r["object_id"] for r in session["search_results"]] == shown
    assert [r["rank"] for r in session["search_results"]] == list(range(len(shown)))
    assert (pushed["stored"], pushed["not_in_results"]) == (1, 0)


def test_a_push_is_answered_without_waiting_for_suggestion_learning(
    stack: Stack, stack_env: dict[str, str]
) -> None:
    """Learning a query from clicks takes the lock every suggestion write takes; the push
    is answered first, and the clicks are counted once the lock is free."""
    session = {
        "session_id": "learn-later",
        "search_query": "learned after the answer",
        "search_results": [{"object_id": "o1"}, {"object_id": "o2"}],
    }
    events = {"session_id": "learn-later", "events": [{"object_id": "o1"}, {"object_id": "o2"}]}
    with stack.client() as client, psycopg.connect(stack_env["POSTGRES_URL"]) as holder:
        assert client.post("/api/v1/clickstream/session", json=session).status_code == 200
        holder.execute("SELECT pg_advisory_lock(%s)", (WRITE_LOCK_KEY,))
        pushed = client.post("/api/v1/clickstream/session/events", json=events, timeout=30)
        assert pushed.status_code == 200 and pushed.json()["stored"] == 2, pushed.text
        assert learned_clicks(client, "learned after the answer") is None  # still waiting
        holder.execute("SELECT pg_advisory_unlock(%s)", (WRITE_LOCK_KEY,))
        deadline = time.monotonic() + 30
        while learned_clicks(client, "learned after the answer") != 2:
            assert time.monotonic() < deadline, "the clicks were not learned after the lock"
            time.sleep(0.1)


def learned_clicks(client: httpx.Client, text: str) -> int | None:
    reply = client.get("/api/v1/suggesting/phrases/get-id", params={"phrase": text})
    return reply.json()["clicks"] if reply.status_code == 200 else None
