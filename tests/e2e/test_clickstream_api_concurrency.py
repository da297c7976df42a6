"""20 clients hit a real uvicorn server at once (over a real PostgreSQL document store):
they register sessions (some ids shared by every client), push events (with retries and
shared event ids) while batches are being released. Afterwards counts, batch membership
and session numbers must be exact."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
import uvicorn

from embedding_studio.context.app_context import AppContext, build_context
from embedding_studio.core.config import Settings
from embedding_studio.data_access.clickstream import EVENTS, SESSIONS
from embedding_studio.data_access.clickstream_batches import BATCHES
from embedding_studio.embedded.services import free_port
from embedding_studio.main import create_app

CLIENTS = 20
OWN_SESSIONS = 5
SHARED_SESSIONS = 5
PUSHES_PER_SESSION = 3
EVENTS_PER_PUSH = 5


@dataclass
class Server:
    base_url: str
    ctx: AppContext


@pytest.fixture
def server(fresh_database_url: str) -> Iterator[Server]:
    config = Settings(
        POSTGRES_URL=fresh_database_url, INFERENCE_USED_PLUGINS=[], ADMIN_API_KEY=None
    )
    ctx = build_context(config)
    port = free_port()
    uv = uvicorn.Server(
        uvicorn.Config(
            create_app(config, ctx=ctx), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield Server(f"http://127.0.0.1:{port}", ctx)
    uv.should_exit = True
    thread.join(timeout=30)
    ctx.close()


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    stored: int = 0
    numbering: dict[str, set[tuple[str, int]]] = field(default_factory=lambda: defaultdict(set))
    errors: list[str] = field(default_factory=list)


def _session(session_id: str) -> dict:
    return {
        "session_id": session_id,
        "search_query": f"query of {session_id}",
        "search_results": [{"object_id": f"obj{i}", "rank": i} for i in range(5)],
    }


def _client(base_url: str, k: int, tally: Tally) -> None:
    own = [f"c{k}-s{j}" for j in range(OWN_SESSIONS)]
    shared = [f"shared-{j}" for j in range(SHARED_SESSIONS)]
    with httpx.Client(base_url=base_url, timeout=30) as http:

        def post(path: str, body: dict) -> dict:
            response = http.post(path, json=body)
            if response.status_code != 200:
                with tally.lock:
                    tally.errors.append(f"{path} {response.status_code} {response.text}")
                return {}
            return response.json()

        for session_id in own + shared:
            registered = post("/api/v1/clickstream/session", _session(session_id))
            with tally.lock:
                tally.numbering[session_id].add(
                    (registered["batch_id"], registered["session_number"])
                )
        for session_id in own:
            for push in range(PUSHES_PER_SESSION):
                body = {
                    "session_id": session_id,
                    "events": [
                        {"event_id": f"e{push}-{n}", "object_id": f"obj{n}"}
                        for n in range(EVENTS_PER_PUSH)
                    ],
                }
                stored = post("/api/v1/clickstream/session/events", body)["stored"]
                retried = (
                    post("/api/v1/clickstream/session/events", body)["stored"] if push == 0 else 0
                )
                with tally.lock:
                    tally.stored += stored + retried
        for session_id in shared:
            body = {
                "session_id": session_id,
                "events": [
                    {"event_id": "common", "object_id": "obj0"},
                    {"event_id": f"c{k}", "object_id": "obj1"},
                ],
            }
            stored = post("/api/v1/clickstream/session/events", body)["stored"]
            with tally.lock:
                tally.stored += stored


def test_twenty_concurrent_clients_leave_exact_counts_numbers_and_batches(server: Server):
    tally = Tally()
    stop = threading.Event()
    releases: list[dict] = []

    def releaser() -> None:
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            n = 0
            while not stop.is_set():
                response = http.post(
                    "/api/v1/internal/clickstream/batch/release", json={"release_id": f"r{n}"}
                )
                if response.status_code == 200:
                    releases.append(response.json())
                n += 1
                time.sleep(0.05)

    release_thread = threading.Thread(target=releaser)
    clients = [
        threading.Thread(target=_client, args=(server.base_url, k, tally)) for k in range(CLIENTS)
    ]
    release_thread.start()
    for t in clients:
        t.start()
    for t in clients:
        t.join()
    stop.set()
    release_thread.join()
    assert tally.errors == []

    documents = server.ctx.documents
    sessions = documents.collection(SESSIONS).find()
    expected_sessions = CLIENTS * OWN_SESSIONS + SHARED_SESSIONS
    assert len(sessions) == expected_sessions
    # Every client that registered a shared id got the same stored session back.
    assert all(len(numbering) == 1 for numbering in tally.numbering.values())
    assert {s["_id"]: (s["batch_id"], s["session_number"]) for s in sessions} == {
        session_id: next(iter(numbering)) for session_id, numbering in tally.numbering.items()
    }

    own_events = CLIENTS * OWN_SESSIONS * PUSHES_PER_SESSION * EVENTS_PER_PUSH
    shared_events = SHARED_SESSIONS * (1 + CLIENTS)
    assert documents.collection(EVENTS).count() == own_events + shared_events == tally.stored

    batches = documents.collection(BATCHES).find()
    assert [b["status"] for b in batches].count("collecting") == 1
    assert len(releases) >= 1
    members: dict[str, list[int]] = defaultdict(list)
    for s in sessions:
        members[s["batch_id"]].append(s["session_number"])
    for batch in batches:
        assert sorted(members.get(batch["_id"], [])) == list(range(1, batch["session_counter"] + 1))
    # A released batch read through the API holds exactly the sessions numbered into it.
    with httpx.Client(base_url=server.base_url) as http:
        for released in releases:
            page = http.get(
                "/api/v1/internal/clickstream/batch/sessions",
                params={"batch_id": released["batch_id"], "limit": 1000},
            ).json()
            assert [s["session_number"] for s in page["sessions"]] == list(
                range(1, released["session_counter"] + 1)
            )
