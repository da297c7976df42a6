"""The suggestion API over a real PostgreSQL (a fresh database per test)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect

from embedding_studio.context.app_context import AppContext, build_context
from embedding_studio.core.config import Settings
from embedding_studio.main import create_app

BASE = "/api/v1/suggesting"


def _settings(database_url: str, redis_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "POSTGRES_URL": database_url,
        "REDIS_URL": redis_url,
        "INFERENCE_USED_PLUGINS": [],
        "ADMIN_API_KEY": None,
    }
    return Settings(**{**values, **overrides})


@pytest.fixture
def app_context(fresh_database_url: str, redis_url: str) -> Iterator[AppContext]:
    ctx = build_context(_settings(fresh_database_url, redis_url))
    yield ctx
    ctx.close()


@pytest.fixture
def api(app_context: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(app_context.settings, ctx=app_context)) as client:
        yield client


def add(api: TestClient, *phrases: dict[str, Any] | str) -> list[str]:
    body = [{"phrase": p} if isinstance(p, str) else p for p in phrases]
    reply = api.post(f"{BASE}/phrases/add", json={"phrases": body})
    assert reply.status_code == 200, reply.text
    return reply.json()["phrase_ids"]


def top(api: TestClient, phrase: str, **extra: Any) -> list[dict[str, Any]]:
    reply = api.post(f"{BASE}/get-top-k", json={"phrase": phrase, **extra})
    assert reply.status_code == 200, reply.text
    return reply.json()["suggestions"]


def texts(suggestions: list[dict[str, Any]]) -> list[str]:
    return [s["phrase"] for s in suggestions]


def info(api: TestClient, phrase_id: str) -> dict[str, Any]:
    reply = api.get(f"{BASE}/phrases/get-info", params={"phrase_id": phrase_id})
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_suggestions_complete_what_is_typed_even_from_the_middle_of_a_phrase(api):
    add(
        api,
        {"phrase": "deep learning for images", "prob": 0.6, "labels": ["ml"], "domains": ["ai"]},
        {"phrase": "learning rate warmup", "prob": 0.9},
        {"phrase": "machine learning", "prob": 0.3},
    )
    first = top(api, "learning fo")[0]
    assert first == {
        "phrase_id": first["phrase_id"],
        "phrase": "deep learning for images",
        "prefix": "deep learning fo",
        "postfix": "r images",
        "matching_span": {"start": 5, "end": 16},
        "match_type": "prefix",
        "prob": 0.6,
        "labels": ["ml"],
        "domains": ["ai"],
    }
    assert texts(top(api, "lear")) == [
        "learning rate warmup",
        "deep learning for images",
        "machine learning",
    ]
    assert texts(top(api, "lear", top_k=1)) == ["learning rate warmup"]
    assert top(api, "rate learning") == []  # words must come in order


def test_exact_matches_come_first_then_prefix_then_typos_only_when_nothing_else(api):
    add(
        api,
        {"phrase": "Protein folding", "prob": 0.1},
        {"phrase": "protein folding kinetics", "prob": 0.9},
        {"phrase": "protein kinase", "prob": 0.5},
    )
    assert [(s["phrase"], s["match_type"]) for s in top(api, "Protein folding")] == [
        ("Protein folding", "exact"),
        ("protein folding kinetics", "prefix"),
    ]
    assert top(api, "protein folding")[0]["match_type"] == "exact_case_insensitive"
    typo = top(api, "protien kinse")
    assert [(s["phrase"], s["match_type"], s["prefix"]) for s in typo] == [
        ("protein kinase", "fuzzy", "protein kinase")
    ]
    assert texts(top(api, "protein foldnig kin")) == ["protein folding kinetics"]
    assert top(api, "prtn fldng") == []  # more than two edits


def test_domains_filter_suggestions_and_can_be_managed(api):
    sea, learning = add(
        api,
        {"phrase": "deep sea fauna", "domains": ["biology", "ocean"]},
        {"phrase": "deep learning", "domains": ["ai"]},
    )
    assert texts(top(api, "deep", domain="ai")) == ["deep learning"]
    assert texts(top(api, "dep sea", domain="ocean")) == ["deep sea fauna"]  # a typo

    api.post(f"{BASE}/phrases/add-domains", json={"phrase_id": learning, "domains": ["ocean"]})
    assert set(texts(top(api, "deep", domain="ocean"))) == {"deep sea fauna", "deep learning"}
    removed = api.post(
        f"{BASE}/phrases/remove-domains", json={"phrase_id": sea, "domains": ["ocean"]}
    )
    assert removed.json()["domains"] == ["biology"]
    assert texts(top(api, "deep", domain="ocean")) == ["deep learning"]

    everywhere = api.post(f"{BASE}/phrases/remove-all-domains", json={"domains": ["ocean", "x"]})
    assert everywhere.json() == {"removed": {"ocean": 1, "x": 0}}
    assert top(api, "deep", domain="ocean") == []
    assert info(api, learning)["domains"] == ["ai"]


def test_labels_can_be_managed_and_suggestions_are_diversified_by_label(api):
    ids = add(
        api,
        {"phrase": "cell cycle", "prob": 0.9, "labels": ["biology"]},
        {"phrase": "cell division", "prob": 0.8, "labels": ["biology"]},
        {"phrase": "cell phone", "prob": 0.2, "labels": ["devices"]},
    )
    assert texts(top(api, "cell")) == ["cell cycle", "cell phone", "cell division"]

    added = api.post(f"{BASE}/phrases/add-labels", json={"phrase_id": ids[1], "labels": ["x", "a"]})
    assert added.json()["labels"] == ["a", "biology", "x"]
    removed = api.post(f"{BASE}/phrases/remove-labels", json={"phrase_id": ids[1], "labels": ["a"]})
    assert removed.json()["labels"] == ["biology", "x"]
    everywhere = api.post(f"{BASE}/phrases/remove-all-labels", json={"labels": ["biology"]})
    assert everywhere.json() == {"removed": {"biology": 2}}
    assert [info(api, i)["labels"] for i in ids] == [[], ["x"], ["devices"]]
    assert texts(top(api, "cell")) == ["cell cycle", "cell division", "cell phone"]


def test_ids_are_stable_across_adding_again_deleting_and_relabelling(api):
    first, second, third = add(api, "alpha beta", "gamma delta", "epsilon")
    assert len({first, second, third}) == 3
    assert add(api, "alpha  beta ", {"phrase": "zeta", "prob": 0.4}, "gamma delta")[::2] == [
        first,
        second,
    ]
    assert info(api, first)["prob"] == 1.0  # adding again leaves the phrase as it was

    assert api.delete(f"{BASE}/phrases/delete/{second}").json() == {
        "phrase_id": second,
        "deleted": True,
    }
    api.post(f"{BASE}/phrases/add-labels", json={"phrase_id": first, "labels": ["greek"]})
    api.post(f"{BASE}/phrases/update-probability", json={"phrase_id": third, "new_prob": 0.2})
    assert info(api, first)["phrase"] == "alpha beta"
    assert info(api, third)["phrase"] == "epsilon"
    assert top(api, "gamma") == []
    assert api.get(f"{BASE}/phrases/get-info", params={"phrase_id": second}).status_code == 404

    assert add(api, {"phrase": "gamma delta", "prob": 0.3}) == [second]  # back, same id
    assert info(api, second)["prob"] == 0.3
    assert top(api, "gamma")[0]["phrase_id"] == second
    by_text = api.get(f"{BASE}/phrases/get-id", params={"phrase": "alpha beta"})
    assert by_text.json()["phrase_id"] == first


def test_probability_updates_reorder_suggestions(api):
    low, high = add(api, {"phrase": "red apple", "prob": 0.2}, {"phrase": "red wine", "prob": 0.7})
    assert texts(top(api, "red")) == ["red wine", "red apple"]
    updated = api.post(f"{BASE}/phrases/update-probability", json={"phrase_id": low, "new_prob": 1})
    assert updated.json()["prob"] == 1.0
    assert texts(top(api, "red")) == ["red apple", "red wine"]
    assert top(api, "red")[1]["phrase_id"] == high


def test_listing_pages_through_phrases_with_query_parameters(api):
    add(
        api,
        *[
            {"phrase": f"phrase {n:02d}", "labels": ["even" if n % 2 == 0 else "odd"]}
            for n in range(7)
        ],
    )
    page = api.get(f"{BASE}/phrases/list", params={"offset": 2, "limit": 3}).json()
    assert [item["phrase"] for item in page["items"]] == ["phrase 02", "phrase 03", "phrase 04"]
    assert (page["total"], page["offset"], page["limit"]) == (7, 2, 3)
    odd = api.get(f"{BASE}/phrases/list", params={"label": "odd", "limit": 10}).json()
    assert [item["phrase"] for item in odd["items"]] == ["phrase 01", "phrase 03", "phrase 05"]
    assert odd["items"][0]["origin"] == "manual" and odd["items"][0]["clicks"] == 0
    assert api.get(f"{BASE}/phrases/list", params={"limit": 0}).status_code == 422


def test_bad_input_is_refused_naming_the_field_or_the_phrase(api):
    def error_fields(reply) -> list[str]:
        assert reply.status_code == 422, reply.text
        return [str(error["loc"][-1]) for error in reply.json()["detail"]]

    assert error_fields(api.post(f"{BASE}/get-top-k", json={"phrase": "  "})) == ["phrase"]
    assert error_fields(api.post(f"{BASE}/get-top-k", json={"phrase": ""})) == ["phrase"]
    for top_k in (0, 101):
        reply = api.post(f"{BASE}/get-top-k", json={"phrase": "a", "top_k": top_k})
        assert error_fields(reply) == ["top_k"]
    reply = api.post(f"{BASE}/phrases/add", json={"phrases": [{"phrase": "x", "prob": 1.5}]})
    assert error_fields(reply) == ["prob"]
    reply = api.post(f"{BASE}/phrases/add", json={"phrases": [{"phrase": " "}]})
    assert error_fields(reply) == ["phrase"]
    (phrase_id,) = add(api, "known")
    for value in (-0.1, 1.01):
        reply = api.post(
            f"{BASE}/phrases/update-probability", json={"phrase_id": phrase_id, "new_prob": value}
        )
        assert error_fields(reply) == ["new_prob"]

    unknown = "no-such-phrase"
    calls = [
        api.get(f"{BASE}/phrases/get-info", params={"phrase_id": unknown}),
        api.delete(f"{BASE}/phrases/delete/{unknown}"),
        api.post(f"{BASE}/phrases/add-labels", json={"phrase_id": unknown, "labels": ["a"]}),
        api.post(f"{BASE}/phrases/remove-domains", json={"phrase_id": unknown, "domains": ["a"]}),
        api.post(
            f"{BASE}/phrases/update-probability", json={"phrase_id": unknown, "new_prob": 0.5}
        ),
    ]
    for reply in calls:
        assert reply.status_code == 404, reply.text
        assert unknown in reply.json()["detail"]


def test_special_characters_are_literal_text(api, app_context):
    injection = "x'); DROP TABLE suggestion_phrases; --"
    tricky = ["100% cotton", "snake_case name", 'back\\slash "quoted"', injection]
    ids = add(api, *tricky)
    assert [info(api, i)["phrase"] for i in ids] == tricky
    assert texts(top(api, "100%")) == ["100% cotton"]
    for wildcard in ("%", "_", "\\", "%co", "_s"):
        assert top(api, wildcard) == [], wildcard
    assert texts(top(api, "snake_c")) == ["snake_case name"]
    assert top(api, 'back\\slash "quoted"')[0]["match_type"] == "exact"
    assert texts(top(api, "x');")) == [injection]
    listed = api.get(f"{BASE}/phrases/list", params={"label": "%", "domain": "_"}).json()
    assert listed["total"] == 0
    assert inspect(app_context.postgres).has_table("suggestion_phrases")
    (nul,) = add(api, "nul\u0000inside")  # PostgreSQL text cannot hold NUL: a space
    assert info(api, nul)["phrase"] == "nul inside"
    missing = api.get(f"{BASE}/phrases/get-info", params={"phrase_id": "a\u0000b"})
    assert missing.status_code == 404
    assert api.post(
        f"{BASE}/phrases/add-labels", json={"phrase_id": ids[0], "labels": ["50%_off"]}
    ).json()["labels"] == ["50%_off"]


def test_another_process_sees_writes_at_its_next_query(api, fresh_database_url, redis_url):
    other_ctx = build_context(_settings(fresh_database_url, redis_url))
    try:
        with TestClient(create_app(other_ctx.settings, ctx=other_ctx)) as other:
            assert top(other, "quantum") == []  # its index is built, empty
            (phrase_id,) = add(api, "quantum computing")
            assert texts(top(other, "quant")) == ["quantum computing"]
            api.post(
                f"{BASE}/phrases/update-probability",
                json={"phrase_id": phrase_id, "new_prob": 0.25},
            )
            assert top(other, "quant")[0]["prob"] == 0.25
            api.delete(f"{BASE}/phrases/delete/{phrase_id}")
            assert top(other, "quant") == []
    finally:
        other_ctx.close()
