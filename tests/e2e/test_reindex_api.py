"""Reindex and blue-green switching through the internal API, with real worker processes
(the stack's API and upsertion worker, plus a reindex worker) over real PostgreSQL,
Redis and MLflow. The destination models are perturbed copies of MiniLM logged to
MLflow, so a re-embedded vector is told from a copied one.

The tests run in order and share state: the first reindex switches to model B, the
rollback returns to the original model A; the module leaves A blue and removes what it
created, so later modules see the platform as before.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from embedding_studio.context.app_context import AppContext, build_context
from embedding_studio.core.config import Settings
from embedding_studio.data_access.reindex_links import ReindexLinkRepository
from tests.e2e.reindex_support import log_model, perturbed_copy
from tests.e2e.stack import Stack

RUN = "/api/v1/internal/reindex-tasks/run"
TASKS = "internal/reindex-tasks"
DOCS = {
    "cats": "Cats are small domesticated carnivorous mammals that purr and chase mice.",
    "rockets": "A rocket engine burns propellant to produce thrust for spaceflight.",
    "bread": "Sourdough bread is leavened with a culture of wild yeast and lactobacilli.",
    "volcano": "Volcanoes erupt molten lava, ash and gases from the Earth's mantle.",
    "chess": "Chess is a two-player strategy board game played on a checkered board.",
    "piano": "The piano is a keyboard instrument whose hammers strike strings.",
}
FETCHED = "A note fetched by the data loader: purring is how cats show content."
FILLER = {
    f"note{n:03d}": f"Field note {n} on topic {n % 9}, detail {n * 7 % 13}." for n in range(40)
}


@dataclass
class Models:
    original: str
    b: str
    c: str
    b_model: Any


@pytest.fixture(scope="module")
def ctx(stack: Stack) -> Iterator[AppContext]:
    """A context on the stack's servers, to check the collections the API reports on."""
    env = stack.env
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        POSTGRES_URL=env["POSTGRES_URL"],
        MLFLOW_TRACKING_URI=env["MLFLOW_TRACKING_URI"],
    )
    context = build_context(settings)
    yield context
    context.close()


@pytest.fixture(scope="module")
def models(stack: Stack, minilm: Any) -> Models:
    original = _collections(stack)["blue_model_id"]
    b_model = perturbed_copy(minilm, seed=1)
    uri = stack.env["MLFLOW_TRACKING_URI"]
    b = log_model(uri, b_model, "reindex test B")
    c = log_model(uri, perturbed_copy(minilm, seed=2), "reindex test C")
    return Models(original=original, b=b, c=c, b_model=b_model)


@pytest.fixture(scope="module")
def reindex_worker(stack: Stack, models: Models, ctx: AppContext) -> Iterator[Stack]:
    """A reindex worker with small subtasks and no retention (its own env), removed with
    everything this module created at the end."""
    env = {**stack.env, "REINDEX_SUBTASK_SIZE": "10", "REINDEX_RETENTION_S": "0"}
    workers = Stack(env=env, log_dir=stack.log_dir)
    workers.start_worker("reindex")
    yield workers
    workers.stop()
    ctx.vectordb.set_blue(models.original)
    links = ReindexLinkRepository(ctx.documents)
    for link in links.all():
        links.remove(link.source, link.dest)
    for model_id in (models.b, models.c):
        ctx.vectordb.delete_collection(model_id)
    original = ctx.vectordb.get_collection(models.original)
    ours = [i for i in _ids(original) if i.startswith(("rx-", "rk-"))]
    original.delete(ours)  # later modules search the blue collection too


def _post(stack: Stack, path: str, body: dict[str, Any]) -> Any:
    with stack.client() as client:
        return client.post(path, json=body)


def _collections(stack: Stack) -> dict[str, Any]:
    with stack.client() as client:
        response = client.get("/api/v1/internal/collections")
    assert response.status_code == 200, response.text
    return response.json()


def _collection(stack: Stack, model_id: str) -> dict[str, Any]:
    return next(c for c in _collections(stack)["items"] if c["embedding_model_id"] == model_id)


def _upsert(stack: Stack, docs: dict[str, str], group: str, **extra: Any) -> str:
    items = [
        {"object_id": f"{group}-{key}", "data": text, "payload": {"group": group}}
        for key, text in docs.items()
    ]
    response = _post(stack, "/api/v1/embeddings/upsertion-tasks/run", {"items": items, **extra})
    assert response.status_code == 200, response.text
    return response.json()["task_id"]


def _delete(stack: Stack, object_ids: list[str], **extra: Any) -> str:
    body = {"object_ids": object_ids, **extra}
    response = _post(stack, "/api/v1/embeddings/deletion-tasks/run", body)
    assert response.status_code == 200, response.text
    return response.json()["task_id"]


def _reindex(stack: Stack, source: str, dest: str, **extra: Any) -> dict[str, Any]:
    response = _post(stack, RUN, {"source_model_id": source, "dest_model_id": dest, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def _done(stack: Stack, resource: str, task_id: str, timeout_s: float = 240) -> dict[str, Any]:
    task = stack.wait_task(resource, task_id, timeout_s=timeout_s)
    assert task["status"] == "done", f"{task}\n{stack.tail('worker_reindex')}"
    return task


def _wait_for_phase(stack: Stack, task_id: str, phase: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    with stack.client() as client:
        while time.monotonic() < deadline:
            task = client.get(f"/api/v1/{TASKS}/info", params={"task_id": task_id}).json()
            if task["result"].get("phase") == phase or task["status"] == "done":
                return
            time.sleep(0.05)
    raise TimeoutError(f"reindex {task_id} never reached {phase}: {task}")


def _ids(collection: Any) -> set[str]:
    return set(collection.list_object_ids(limit=100_000))


@dataclass
class Searcher:
    """Searches through the API in a loop, recording every outcome."""

    stack: Stack
    stop: threading.Event = field(default_factory=threading.Event)
    errors: list[str] = field(default_factory=list)
    empty: int = 0
    models_seen: list[str] = field(default_factory=list)
    count: int = 0

    def run(self) -> None:
        body = {
            "search_query": "which animal purrs?",
            "limit": 3,
            "filter": {"term": {"group": "rx"}},
        }
        with self.stack.client() as client:
            while not self.stop.is_set():
                try:
                    response = client.post("/api/v1/embeddings/similarity-search", json=body)
                except Exception as exc:  # a failed request is what this test counts
                    self.errors.append(repr(exc))
                    continue
                self.count += 1
                if response.status_code != 200:
                    self.errors.append(f"{response.status_code}: {response.text}")
                    continue
                found = response.json()
                if not found["search_results"]:
                    self.empty += 1
                if not self.models_seen or self.models_seen[-1] != found["embedding_model_id"]:
                    self.models_seen.append(found["embedding_model_id"])
                time.sleep(0.02)


def test_bad_reindex_input_is_refused_with_the_reason(stack: Stack, models: Models) -> None:
    same = _post(stack, RUN, {"source_model_id": models.b, "dest_model_id": models.b})
    assert same.status_code == 422, same.text
    unknown_source = _post(stack, RUN, {"source_model_id": "f" * 32, "dest_model_id": models.b})
    assert unknown_source.status_code == 404, unknown_source.text
    assert "f" * 32 in unknown_source.json()["detail"]
    unknown_dest = _post(
        stack, RUN, {"source_model_id": models.original, "dest_model_id": "e" * 32}
    )
    assert unknown_dest.status_code == 404, unknown_dest.text
    assert "dest_model_id" in unknown_dest.json()["detail"]
    bad_id = _post(
        stack, RUN, {"source_model_id": "x'; DROP TABLE t; --", "dest_model_id": models.b}
    )
    assert bad_id.status_code == 422
    missing = _post(
        stack, "/api/v1/internal/collections/set-blue", {"embedding_model_id": "f" * 32}
    )
    assert missing.status_code == 404, missing.text


def test_reindex_switches_blue_while_searches_never_fail(
    stack: Stack, models: Models, reindex_worker: Stack, ctx: AppContext
) -> None:
    _done(stack, "embeddings/upsertion-tasks", _upsert(stack, DOCS | FILLER, "rx"))
    # One item through the plugin's data loader (its meta, not its content, is stored).
    fetched = {
        "object_id": "rx-fetched",
        "item_info": {"data": FETCHED},
        "payload": {"group": "rx"},
    }
    response = _post(stack, "/api/v1/embeddings/upsertion-tasks/run", {"items": [fetched]})
    _done(stack, "embeddings/upsertion-tasks", response.json()["task_id"])
    searcher = Searcher(stack)
    thread = threading.Thread(target=searcher.run, daemon=True)
    thread.start()
    try:
        task = _reindex(
            stack, models.original, models.b, deploy_as_blue=True, idempotency_key="rx-1"
        )
        again = _reindex(
            stack, models.original, models.b, deploy_as_blue=True, idempotency_key="rx-1"
        )
        assert (again["task_id"], again["created"]) == (task["task_id"], False)
        busy = _post(stack, RUN, {"source_model_id": models.original, "dest_model_id": models.c})
        assert busy.status_code == 409, busy.text
        _wait_for_phase(stack, task["task_id"], "copying")
        # Writes while the copy runs (or right after), to the source: they must reach B.
        late = _upsert(
            stack,
            {"late": "Kittens purr when they are content."},
            "rx",
            embedding_model_id=models.original,
        )
        removal = _delete(stack, ["rx-chess"], embedding_model_id=models.original)
        finished = _done(stack, TASKS, task["task_id"])
        _done(stack, "embeddings/upsertion-tasks", late)
        _done(stack, "embeddings/deletion-tasks", removal)
        time.sleep(1.0)  # searches go on after the switch
    finally:
        searcher.stop.set()
        thread.join(timeout=30)

    assert searcher.errors == [] and searcher.empty == 0, searcher.errors[:3]
    assert searcher.count > 10
    assert searcher.models_seen == [models.original, models.b]
    result = finished["result"]
    assert result["switched"] is True and result["previous_blue"] == models.original
    assert finished["progress"]["done"] >= len(DOCS) + len(FILLER)
    listing = _collections(stack)
    assert listing["blue_model_id"] == models.b
    source, dest = (
        ctx.vectordb.get_collection(models.original),
        ctx.vectordb.get_collection(models.b),
    )
    assert _ids(dest) == _ids(source)
    assert "rx-late" in _ids(dest) and "rx-chess" not in _ids(dest)
    assert _collection(stack, models.b)["synced_with"] == [models.original]
    # Re-embedded with B (not copied): B's vector is B's model's, not A's.
    text = DOCS["cats"]
    expected = models.b_model.forward_items([text]).detach().numpy()[0]
    [in_dest] = dest.find_by_ids(["rx-cats"])
    [in_source] = source.find_by_ids(["rx-cats"])
    assert np.allclose(in_dest.parts[0].vector, expected, atol=1e-4)
    assert not np.allclose(in_source.parts[0].vector, expected, atol=1e-3)
    [loaded] = dest.find_by_ids(["rx-fetched"])
    assert loaded.storage_meta.get("source") != "inline"  # fetched again by the loader
    fetched_vector = models.b_model.forward_items([FETCHED]).detach().numpy()[0]
    assert np.allclose(loaded.parts[0].vector, fetched_vector, atol=1e-4)
    subtasks = _subtasks(stack, task["task_id"])
    assert len(subtasks) >= 2 and all(t["status"] == "done" for t in subtasks)


def _subtasks(stack: Stack, task_id: str) -> list[dict[str, Any]]:
    with stack.client() as client:
        response = client.get(
            f"/api/v1/{TASKS}/subtasks", params={"task_id": task_id, "limit": 500}
        )
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_writes_after_the_switch_reach_both_and_rollback_restores_the_original(
    stack: Stack, models: Models, reindex_worker: Stack, ctx: AppContext
) -> None:
    to_new_blue = _upsert(stack, {"after": "A tabby cat purrs on the windowsill."}, "rx")
    to_old = _upsert(
        stack,
        {"stale": "Old tasks may still target the old collection."},
        "rx",
        embedding_model_id=models.original,
    )
    removal = _delete(stack, ["rx-bread"])
    for resource, task_id in (
        ("upsertion", to_new_blue),
        ("upsertion", to_old),
        ("deletion", removal),
    ):
        _done(stack, f"embeddings/{resource}-tasks", task_id)
    source, dest = (
        ctx.vectordb.get_collection(models.original),
        ctx.vectordb.get_collection(models.b),
    )
    assert _ids(source) == _ids(dest)
    assert {"rx-after", "rx-stale"} <= _ids(source) and "rx-bread" not in _ids(source)

    into_blue = _post(stack, RUN, {"source_model_id": models.original, "dest_model_id": models.b})
    assert into_blue.status_code == 409 and "blue" in into_blue.json()["detail"]
    rolled_back = _post(
        stack, "/api/v1/internal/collections/set-blue", {"embedding_model_id": models.original}
    )
    assert rolled_back.status_code == 200, rolled_back.text
    assert rolled_back.json()["is_blue"] is True
    with stack.client() as client:
        found = client.post(
            "/api/v1/embeddings/similarity-search", json={"search_query": "purring cat", "limit": 3}
        ).json()
    assert found["embedding_model_id"] == models.original
    assert _collection(stack, models.b)["delete_after"] is not None  # retired by the rollback


def test_killed_reindex_worker_resumes_without_redoing_done_subtasks(
    stack: Stack, models: Models, reindex_worker: Stack, ctx: AppContext
) -> None:
    notes = {
        f"k{n:03d}": f"Kill test note {n} about subject {n % 11} and case {n * 3 % 7}."
        for n in range(120)
    }
    _done(stack, "embeddings/upsertion-tasks", _upsert(stack, notes, "rk"))
    task = _reindex(stack, models.original, models.c)
    deadline = time.monotonic() + 180
    finished_subtasks = 0
    while time.monotonic() < deadline:  # kill once the first subtasks are done
        subtasks = _subtasks(stack, task["task_id"])
        finished_subtasks = sum(t["status"] == "done" for t in subtasks)
        if finished_subtasks:
            break
        time.sleep(0.05)
    assert 0 < finished_subtasks < len(subtasks) / 2, subtasks
    reindex_worker.kill_worker("reindex")
    done_before = {t["task_id"] for t in _subtasks(stack, task["task_id"]) if t["status"] == "done"}
    reindex_worker.start_worker("reindex")

    finished = _done(stack, TASKS, task["task_id"])

    assert finished["attempts"] >= 2
    assert finished["result"]["switched"] is False
    after = {t["task_id"]: t for t in _subtasks(stack, task["task_id"])}
    assert done_before and all(after[i]["attempts"] == 1 for i in done_before)
    assert all(t["status"] == "done" for t in after.values())
    source, dest = (
        ctx.vectordb.get_collection(models.original),
        ctx.vectordb.get_collection(models.c),
    )
    assert _ids(dest) == _ids(source)
    assert _collections(stack)["blue_model_id"] == models.original
    assert _collection(stack, models.c)["state"] == "ready"


def test_canceled_reindex_stops_its_subtasks_and_restart_copies_everything(
    stack: Stack, models: Models, reindex_worker: Stack, ctx: AppContext
) -> None:
    task = _reindex(stack, models.original, models.b)
    _wait_for_phase(stack, task["task_id"], "copying")
    canceled = _post(stack, f"/api/v1/{TASKS}/cancel", {"task_id": task["task_id"]})
    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["status"] == "canceled"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the worker stops at its next checkpoint
        subtasks = _subtasks(stack, task["task_id"])
        stopped = all(t["status"] in {"done", "canceled"} for t in subtasks)
        unlinked = models.b not in _collection(stack, models.original)["synced_with"]
        if stopped and unlinked:
            break
        time.sleep(0.2)
    assert stopped and unlinked, subtasks

    restarted = _post(stack, f"/api/v1/{TASKS}/restart", {"task_id": task["task_id"]})
    assert restarted.status_code == 200, restarted.text
    finished = _done(stack, TASKS, task["task_id"])

    assert finished["result"]["phase"] == "finished"
    assert all(t["status"] == "done" for t in _subtasks(stack, task["task_id"]))
    source, dest = (
        ctx.vectordb.get_collection(models.original),
        ctx.vectordb.get_collection(models.b),
    )
    assert _ids(dest) == _ids(source)
    assert _collection(stack, models.b)["state"] == "ready"


def test_second_reindex_with_wait_on_conflict_runs_after_the_first(
    stack: Stack, models: Models, reindex_worker: Stack, ctx: AppContext
) -> None:
    first = _reindex(stack, models.original, models.c)
    second = _reindex(stack, models.original, models.b, wait_on_conflict=True)
    assert second["status"] == "pending"
    first_done = _done(stack, TASKS, first["task_id"])
    second_done = _done(stack, TASKS, second["task_id"])
    assert second_done["finished_at"] > first_done["finished_at"]
    source = ctx.vectordb.get_collection(models.original)
    for model_id in (models.b, models.c):
        assert _ids(ctx.vectordb.get_collection(model_id)) == _ids(source)
