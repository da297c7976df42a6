"""The benchmarks talk to Embedding Studio only through its REST API, like a user."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

import httpx
from tqdm import tqdm

from benchmarks.beir import Document

FINAL = {"done", "failed", "refused", "canceled"}


class StudioClient:
    def __init__(self, base_url: str, timeout_s: float = 120.0) -> None:
        self.http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s)

    def close(self) -> None:
        self.http.close()

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(f"/api/v1{path}", json=body)
        response.raise_for_status()
        return response.json()

    def wait_task(self, resource: str, task_id: str, timeout_s: float = 7200) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            task = self.http.get(f"/api/v1/{resource}/info", params={"task_id": task_id}).json()
            if task["status"] in FINAL:
                return task
            time.sleep(1.0)
        raise TimeoutError(f"{resource} task {task_id} did not finish in {timeout_s} s")

    def search(self, query: str, limit: int = 10, **extra: Any) -> list[str]:
        found = self.post(
            "/embeddings/similarity-search", {"search_query": query, "limit": limit, **extra}
        )
        return [item["object_id"] for item in found["search_results"]]


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def upsert_documents(
    client: StudioClient, name: str, documents: Iterable[Document], chunk: int = 500
) -> int:
    """Upsert the corpus as inline text items, one task per chunk (idempotent by key);
    returns the number of items written."""
    docs = list(documents)
    written = 0
    with tqdm(total=len(docs), desc="upsert", unit="doc") as bar:
        for number, part in enumerate(_chunks(docs, chunk)):
            items = [
                {"object_id": d.doc_id, "data": d.content, "payload": {"title": d.title}}
                for d in part
            ]
            task = client.post(
                "/embeddings/upsertion-tasks/run",
                {"items": items, "idempotency_key": f"{name}-{number}-{len(part)}"},
            )
            finished = client.wait_task("embeddings/upsertion-tasks", task["task_id"])
            if finished["status"] != "done":
                raise RuntimeError(
                    f"upsertion task {task['task_id']} ended {finished['status']}: "
                    f"{finished['detail']}"
                )
            written += int(finished["result"].get("written", 0))
            bar.update(len(part))
    return written
