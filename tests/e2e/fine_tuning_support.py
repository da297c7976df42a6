"""A platform for fine-tuning tests: its own database, the API, the upsertion and
fine-tuning workers (and the reindex worker when asked), and a SciFact subset whose
simulated users search, click the relevant abstracts shown and mark the rest irrelevant."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from benchmarks.beir import load_beir
from tests.e2e.stack import Stack

FINAL = {"done", "failed", "refused", "canceled"}
WORDS = 40
QUERIES = 36
DISTRACTORS = 44
RESOURCE = "fine-tuning/task"


def fresh_database(postgres_url: str) -> str:
    """A new empty database with pgvector on the session's PostgreSQL server."""
    name = f"es_ft_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # generated name, not user input
    fresh = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(fresh, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    return fresh


def own_redis_database(redis_url: str, number: int = 7) -> str:
    """The same Redis server, another database: a separate set of queues."""
    return make_url(redis_url).set(database=str(number)).render_as_string(hide_password=False)


@contextmanager
def fine_tuning_stack(
    env: dict[str, str], log_dir: Path, workers: tuple[str, ...]
) -> Iterator[Stack]:
    stack = Stack(env=env, log_dir=log_dir)
    try:
        stack.start_api()
        for name in workers:
            stack.start_worker(name)
        yield stack
    finally:
        stack.stop()


@dataclass(frozen=True)
class Subset:
    """The abstracts upserted and the train queries with their relevant abstracts."""

    queries: dict[str, str]
    relevant: dict[str, set[str]]


def load_subset(scifact_dir: Path) -> tuple[Subset, list[dict[str, Any]]]:
    dataset = load_beir(scifact_dir)
    judged = dataset.qrels["train"]
    query_ids = list(judged)[:QUERIES]
    relevant = {qid: set(judged[qid]) for qid in query_ids}
    wanted = {doc for docs in relevant.values() for doc in docs}
    distractors = [d for d in dataset.corpus if d not in wanted][:DISTRACTORS]
    items = [
        {"object_id": doc_id, "data": " ".join(dataset.corpus[doc_id].content.split()[:WORDS])}
        for doc_id in [*sorted(wanted), *distractors]
    ]
    return Subset({q: dataset.queries[q] for q in query_ids}, relevant), items


def upsert(stack: Stack, items: list[dict[str, Any]]) -> None:
    with stack.client() as client:
        response = client.post(
            "/api/v1/embeddings/upsertion-tasks/run",
            json={"items": items, "idempotency_key": "fine-tuning-subset"},
        )
    assert response.status_code == 200, response.text
    task = wait_task(stack, "embeddings/upsertion-tasks", response.json()["task_id"], 900)
    assert task["status"] == "done", task


def simulate_users(stack: Stack, subset: Subset, prefix: str, limit: int = 5) -> dict[str, int]:
    """Search every query with a session; click the relevant abstracts shown, mark the
    session irrelevant when none is. Returns counts of each kind."""
    counts = {"clicked": 0, "irrelevant": 0}
    with stack.client() as client:
        for qid, query in subset.queries.items():
            session_id = f"{prefix}-{qid}"
            found = client.post(
                "/api/v1/embeddings/similarity-search",
                json={
                    "search_query": query,
                    "limit": limit,
                    "create_session": True,
                    "session_id": session_id,
                },
            )
            assert found.status_code == 200, found.text
            shown = [r["object_id"] for r in found.json()["search_results"]]
            clicks = [i for i in shown if i in subset.relevant[qid]]
            if clicks:
                events = [{"object_id": i, "meta": {"importance": 1.0}} for i in clicks]
                pushed = client.post(
                    "/api/v1/clickstream/session/events",
                    json={"session_id": session_id, "events": events},
                )
                assert pushed.status_code == 200, pushed.text
                counts["clicked"] += 1
            else:
                marked = client.post(
                    "/api/v1/clickstream/session/irrelevant", json={"session_id": session_id}
                )
                assert marked.status_code == 200, marked.text
                counts["irrelevant"] += 1
    return counts


def release_batch(stack: Stack, release_id: str) -> str:
    with stack.client() as client:
        response = client.post(
            "/api/v1/internal/clickstream/batch/release", json={"release_id": release_id}
        )
    assert response.status_code == 200, response.text
    return str(response.json()["batch_id"])


def batch_status(stack: Stack, batch_id: str) -> str:
    with stack.client() as client:
        response = client.get("/api/v1/internal/clickstream/batch", params={"batch_id": batch_id})
    assert response.status_code == 200, response.text
    return str(response.json()["status"])


def submit(stack: Stack, **body: Any) -> dict[str, Any]:
    with stack.client() as client:
        response = client.post(f"/api/v1/{RESOURCE}", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def task_info(stack: Stack, task_id: str, resource: str = RESOURCE) -> dict[str, Any]:
    with stack.client() as client:
        response = client.get(f"/api/v1/{resource}/info", params={"task_id": task_id})
    assert response.status_code == 200, response.text
    return dict(response.json())


def wait_task(stack: Stack, resource: str, task_id: str, timeout_s: float = 900) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    task: dict[str, Any] = {}
    while time.monotonic() < deadline:
        task = task_info(stack, task_id, resource)
        if task["status"] in FINAL:
            return task
        time.sleep(1.0)
    raise TimeoutError(
        f"task {task_id} not finished in {timeout_s} s: {task}\n"
        f"{stack.tail('worker_fine_tuning', 80)}"
    )


def wait_progress(stack: Stack, task_id: str, words: str, timeout_s: float = 900) -> dict[str, Any]:
    """Wait until the task's progress message contains `words` (or it finished)."""
    deadline = time.monotonic() + timeout_s
    task: dict[str, Any] = {}
    while time.monotonic() < deadline:
        task = task_info(stack, task_id)
        if words in (task["progress"].get("message") or "") or task["status"] in FINAL:
            return task
        time.sleep(0.5)
    raise TimeoutError(f"task {task_id} never reported {words!r}: {task}")
