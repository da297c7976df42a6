"""Upsertion and search through the REST API, with a real worker process."""

from __future__ import annotations

import time

import pytest

from tests.e2e.stack import Stack

DOCS = {
    "cats": "Cats are small domesticated carnivorous mammals that purr and chase mice.",
    "rockets": "A rocket engine burns propellant to produce thrust for spaceflight.",
    "bread": "Sourdough bread is leavened with a culture of wild yeast and lactobacilli.",
    "volcano": "Volcanoes erupt molten lava, ash and gases from the Earth's mantle.",
    "chess": "Chess is a two-player strategy board game played on a checkered board.",
    "piano": "The piano is a keyboard instrument whose hammers strike strings.",
}


# The stack is shared with other test modules (a reindex may switch the blue collection and
# add its own documents), so assertions are scoped to this module's documents.
BASE = {"term": {"group": "base"}}


def _items(prefix: str, docs: dict[str, str], **payload) -> list[dict]:
    return [
        {"object_id": f"{prefix}-{key}", "data": text, "payload": {"topic": key, **payload}}
        for key, text in docs.items()
    ]


def _upsert(stack: Stack, items: list[dict], **extra) -> dict:
    with stack.client() as client:
        response = client.post(
            "/api/v1/embeddings/upsertion-tasks/run", json={"items": items, **extra}
        )
    assert response.status_code == 200, response.text
    return response.json()


def _search(stack: Stack, **body) -> dict:
    with stack.client() as client:
        response = client.post("/api/v1/embeddings/similarity-search", json=body)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def corpus(stack: Stack) -> str:
    task = _upsert(stack, _items("base", DOCS, group="base"), idempotency_key="base-corpus")
    finished = stack.wait_task("embeddings/upsertion-tasks", task["task_id"])
    assert finished["status"] == "done", finished
    return task["task_id"]


def test_upserted_items_are_found_by_meaning(stack: Stack, corpus: str) -> None:
    found = _search(stack, search_query="which animal purrs?", limit=3, filter=BASE)
    assert found["search_results"][0]["object_id"] == "base-cats"
    assert found["search_results"][0]["payload"] == {"topic": "cats", "group": "base"}
    found = _search(stack, search_query="space launch propulsion", limit=3, filter=BASE)
    assert found["search_results"][0]["object_id"] == "base-rockets"


def test_repeated_idempotency_key_returns_the_task_unchanged(stack: Stack, corpus: str) -> None:
    again = _upsert(stack, _items("other", {"x": "anything"}), idempotency_key="base-corpus")
    assert again["task_id"] == corpus
    assert again["created"] is False
    assert again["status"] == "done"
    assert [i["object_id"] for i in again["parameters"]["items"]][0] == "base-cats"


def test_pages_partition_the_ranking(stack: Stack, corpus: str) -> None:
    everything = _search(stack, search_query="science", limit=6, filter={"term": {"group": "base"}})
    first = _search(stack, search_query="science", limit=3, filter={"term": {"group": "base"}})
    second = _search(
        stack, search_query="science", limit=3, offset=3, filter={"term": {"group": "base"}}
    )
    ids = [r["object_id"] for r in everything["search_results"]]
    assert [r["object_id"] for r in first["search_results"]] == ids[:3]
    assert [r["object_id"] for r in second["search_results"]] == ids[3:6]
    assert first["next_page_offset"] == 3


def test_rerun_writes_no_duplicates_and_reports_failed_items(stack: Stack, corpus: str) -> None:
    items = _items("rerun", DOCS, group="rerun") + [{"object_id": "rerun-empty", "data": "   "}]
    task = _upsert(stack, items)
    first = stack.wait_task("embeddings/upsertion-tasks", task["task_id"])
    assert first["status"] == "done"
    assert [(f["object_id"], f["stage"]) for f in first["failed_items"]] == [
        ("rerun-empty", "split")
    ]
    with stack.client() as client:
        restarted = client.post(
            "/api/v1/embeddings/upsertion-tasks/restart", json={"task_id": task["task_id"]}
        )
        assert restarted.status_code == 200, restarted.text
        stack.wait_task("embeddings/upsertion-tasks", task["task_id"])
        count = client.post(
            "/api/v1/embeddings/payload-count", json={"filter": {"term": {"group": "rerun"}}}
        )
    assert count.json() == {"count": len(DOCS)}


def test_deletion_removes_items_from_search(stack: Stack, corpus: str) -> None:
    task = _upsert(stack, _items("del", {"chess": DOCS["chess"]}, group="del"))
    stack.wait_task("embeddings/upsertion-tasks", task["task_id"])
    with stack.client() as client:
        response = client.post(
            "/api/v1/embeddings/deletion-tasks/run", json={"object_ids": ["del-chess"]}
        )
        assert response.status_code == 200, response.text
    done = stack.wait_task("embeddings/deletion-tasks", response.json()["task_id"])
    assert done["result"] == {"deleted": 1}
    found = _search(stack, search_query="board game", limit=10, filter={"term": {"group": "del"}})
    assert found["search_results"] == []


def test_worker_killed_mid_task_is_finished_by_the_retry(stack: Stack, corpus: str) -> None:
    texts = {
        f"n{i:03d}": f"Note number {i} about topic {i % 7} and detail {i * 13 % 11}."
        for i in range(160)
    }
    task = _upsert(stack, _items("kill", texts, group="kill"))
    deadline = time.monotonic() + 120
    with stack.client() as client:
        while time.monotonic() < deadline:
            info = client.get(
                "/api/v1/embeddings/upsertion-tasks/info", params={"task_id": task["task_id"]}
            ).json()
            if 0 < info["progress"]["done"] < len(texts):
                break
            time.sleep(0.05)
    assert 0 < info["progress"]["done"] < len(texts), info
    stack.kill_worker("upsertion")
    stack.start_worker("upsertion")
    finished = stack.wait_task("embeddings/upsertion-tasks", task["task_id"], timeout_s=240)
    assert finished["status"] == "done", finished
    assert finished["attempts"] >= 2
    with stack.client() as client:
        count = client.post(
            "/api/v1/embeddings/payload-count", json={"filter": {"term": {"group": "kill"}}}
        )
    assert count.json() == {"count": len(texts)}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"search_query": "x", "limit": 0}, "limit"),
        ({"search_query": "x", "limit": 1001}, "limit"),
        ({"search_query": ""}, "search_query"),
        ({"search_query": "x", "filter": {"nonsense": {"a": 1}}}, "filter"),
        ({"search_query": "x", "user_id": "u'; DROP TABLE x; --"}, "user_id"),
    ],
)
def test_bad_search_input_is_a_422_naming_the_field(
    stack: Stack, corpus: str, body: dict, field: str
) -> None:
    with stack.client() as client:
        response = client.post("/api/v1/embeddings/similarity-search", json=body)
    assert response.status_code == 422, response.text
    assert field in response.text


def test_injection_in_filter_values_and_fields_is_a_literal_no_match(
    stack: Stack, corpus: str
) -> None:
    hostile = "x' OR '1'='1"
    for body in (
        {"search_query": "cats", "filter": {"term": {"topic": hostile}}},
        {
            "search_query": "cats",
            "filter": {"match": {"topic": "'; DELETE FROM es_collections; --"}},
        },
    ):
        with stack.client() as client:
            response = client.post("/api/v1/embeddings/similarity-search", json=body)
        assert response.status_code == 200, response.text
        assert response.json()["search_results"] == []
    with stack.client() as client:
        response = client.post(
            "/api/v1/embeddings/similarity-search",
            json={
                "search_query": "cats",
                "sort_by": {"field": 'topic"; DROP TABLE x; --', "order": "asc"},
            },
        )
    assert 400 <= response.status_code < 500, response.text
    found = _search(stack, search_query="which animal purrs?", limit=1, filter=BASE)
    assert found["search_results"][0]["object_id"] == "base-cats"
