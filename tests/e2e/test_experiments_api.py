"""Online experiments through the API over real PostgreSQL: definitions and bad input,
A/B assignment and interleaving served by similarity search, credit and the report."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from embedding_studio.context.app_context import AppContext
from embedding_studio.data_access.experiments import ExperimentRepository
from embedding_studio.main import create_app
from embedding_studio.online_experiments.assignment import ab_team
from embedding_studio.online_experiments.interleaving import team_draft
from embedding_studio.online_experiments.models import Experiment, ServedResult, ServedSearch
from embedding_studio.online_experiments.statistics import (
    mean_difference_p_value,
    two_proportion_p_value,
)
from embedding_studio.services.experiment_search import interleaving_seed
from tests.e2e.experiments_support import MODEL_A, MODEL_B, experiments_context, ranked_scores

EXPERIMENTS = "/api/v1/experiments"
SEARCH = "/api/v1/embeddings/similarity-search"
CLICKSTREAM = "/api/v1/clickstream"
OBJECTS = [f"o{i}" for i in range(10)]
RANKING_A = OBJECTS  # topic 0: o0 first under A ...
RANKING_B = OBJECTS[::-1]  # ... and o9 first under B


@pytest.fixture
def ctx(fresh_database_url: str) -> Iterator[AppContext]:
    scores_a = ranked_scores({0: RANKING_A}, OBJECTS)
    scores_b = ranked_scores({0: RANKING_B}, OBJECTS)
    with experiments_context(fresh_database_url, scores_a, scores_b) as context:
        yield context


@pytest.fixture
def api(ctx: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(ctx.settings, ctx=ctx)) as client:
        yield client


def define(api: TestClient, experiment_id: str, mode: str, **extra: object) -> dict:
    body = {"experiment_id": experiment_id, "mode": mode, "variant_a": MODEL_A}
    reply = api.post(EXPERIMENTS, json={"variant_b": MODEL_B, **body, **extra})
    assert reply.status_code == 200, reply.text
    return reply.json()


def start(api: TestClient, experiment_id: str) -> dict:
    reply = api.post(f"{EXPERIMENTS}/{experiment_id}/start")
    assert reply.status_code == 200, reply.text
    return reply.json()


def search(api: TestClient, **body: object) -> dict:
    reply = api.post(SEARCH, json={"search_query": "t0", "create_session": True, **body})
    assert reply.status_code == 200, reply.text
    return reply.json()


def session(api: TestClient, session_id: str) -> dict:
    reply = api.get(f"{CLICKSTREAM}/session", params={"session_id": session_id})
    assert reply.status_code == 200, reply.text
    return reply.json()


def click(api: TestClient, session_id: str, *objects: str, event_type: str = "click") -> None:
    events = [
        {"event_id": f"{event_type}-{o}", "object_id": o, "event_type": event_type} for o in objects
    ]
    reply = api.post(
        f"{CLICKSTREAM}/session/events", json={"session_id": session_id, "events": events}
    )
    assert reply.status_code == 200, reply.text


def report(api: TestClient, experiment_id: str, **params: str) -> dict:
    reply = api.get(f"{EXPERIMENTS}/{experiment_id}/report", params=params)
    assert reply.status_code == 200, reply.text
    return reply.json()


def ids(reply: dict) -> list[str]:
    return [item["object_id"] for item in reply["search_results"]]


BAD_DEFINITIONS: list[tuple[dict[str, object], str]] = [
    ({"variant_b": "ghost"}, "variant_b 'ghost': no collection"),
    ({"variant_a": "nope", "variant_b": "ghost"}, "variant_a 'nope' and variant_b 'ghost'"),
    ({"variant_b": MODEL_A}, "compare two different models"),
    ({"b_share": 1.5}, "b_share"),
    ({"b_share": 0}, "b_share"),
    ({"b_share": "lots"}, "b_share"),
    ({"exposure": -0.1}, "exposure"),
    ({"mode": "abc"}, "mode"),
    ({"experiment_id": "has space"}, "experiment_id"),
    ({"weights": [1, 2]}, "weights"),
]


def test_bad_definitions_get_422_naming_what_to_change(api):
    body: dict[str, object] = {
        "experiment_id": "e1",
        "mode": "ab",
        "variant_a": MODEL_A,
        "variant_b": MODEL_B,
    }
    for changes, message in BAD_DEFINITIONS:
        reply = api.post(EXPERIMENTS, json={**body, **changes})
        assert reply.status_code == 422, (changes, reply.text)
        assert message in str(reply.json()["detail"]), (changes, reply.text)
    assert api.get(EXPERIMENTS).json() == {"experiments": []}


def test_unknown_experiments_conflicts_and_the_admin_key(api, ctx):
    for method, path in [
        ("get", "nope"),
        ("post", "nope/start"),
        ("post", "nope/stop"),
        ("get", "nope/report"),
    ]:
        reply = api.request(method, f"{EXPERIMENTS}/{path}")
        assert reply.status_code == 404 and "'nope'" in reply.json()["detail"], reply.text
    assert define(api, "e1", "ab")["status"] == "created"
    define(api, "e2", "interleaving")
    body = {"experiment_id": "e1", "mode": "ab", "variant_a": MODEL_A, "variant_b": MODEL_B}
    assert api.post(EXPERIMENTS, json=body).status_code == 409
    assert start(api, "e1")["status"] == "running"
    refused = api.post(f"{EXPERIMENTS}/e2/start")
    assert refused.status_code == 409 and "'e1' is running" in refused.json()["detail"]
    assert api.post(f"{EXPERIMENTS}/e1/stop").json()["status"] == "stopped"
    assert api.post(f"{EXPERIMENTS}/e1/start").status_code == 409  # stopped for good
    ctx.vectordb.delete_collection(MODEL_B)
    gone = api.post(f"{EXPERIMENTS}/e2/start")
    assert gone.status_code == 422 and f"variant_b {MODEL_B!r}" in gone.json()["detail"]
    listed = api.get(EXPERIMENTS).json()["experiments"]
    assert [(e["experiment_id"], e["status"]) for e in listed] == [
        ("e1", "stopped"),
        ("e2", "created"),
    ]

    ctx.settings = ctx.settings.model_copy(update={"ADMIN_API_KEY": "secret"})
    assert api.get(EXPERIMENTS).status_code == 401
    assert api.get(EXPERIMENTS, headers={"X-Admin-Key": "secret"}).status_code == 200


def test_ab_users_keep_their_variant_and_sessions_record_it(api):
    experiment = define(api, "ab-1", "ab")
    start(api, "ab-1")
    domain = Experiment.model_validate(experiment)
    seen = set()
    for number in range(6):
        user = f"user-{number}"
        team = ab_team(domain, user)
        first = search(api, user_id=user, limit=3)
        again = search(api, user_id=user, limit=3, offset=3)
        model = MODEL_A if team == "a" else MODEL_B
        ranking = RANKING_A if team == "a" else RANKING_B
        assert first["embedding_model_id"] == again["embedding_model_id"] == model
        assert ids(first) + ids(again) == ranking[:6]
        meta = session(api, first["session_id"])["search_meta"]
        assert meta["experiment"] == {"experiment_id": "ab-1", "variant": team}
        assert meta["embedding_model_id"] == model
        seen.add(team)
    assert seen == {"a", "b"}

    anonymous = search(api, limit=3)  # no user: the session decides
    team = ab_team(domain, anonymous["session_id"])
    assert session(api, anonymous["session_id"])["search_meta"]["experiment"]["variant"] == team
    assert search(api, limit=3, create_session=False)["search_results"]  # not counted
    b_user = next(f"user-{n}" for n in range(6) if ab_team(domain, f"user-{n}") == "b")
    sorted_search = search(api, user_id=b_user, limit=3, sort_by={"field": "name"})
    assert sorted_search["embedding_model_id"] == MODEL_A  # the field ranks: not in it

    figures = report(api, "ab-1")
    counted = figures["variants"]["a"]["searches"] + figures["variants"]["b"]["searches"]
    assert counted == 13  # 12 by the users, 1 anonymous; not the sorted one
    api.post(f"{EXPERIMENTS}/ab-1/stop")
    after = search(api, user_id="user-0", limit=3)
    assert (
        after["embedding_model_id"] == MODEL_A
        and "experiment" not in (session(api, after["session_id"])["search_meta"])
    )
    assert report(api, "ab-1")["variants"] == figures["variants"]


def test_interleaved_pages_continue_one_list_and_clicks_go_to_their_team(api):
    define(api, "tdi-1", "interleaving")
    start(api, "tdi-1")
    pages = [
        search(api, user_id="user-1", session_id="s1", limit=4, offset=offset)
        for offset in (0, 4, 8)
    ]
    merged = team_draft(RANKING_A, RANKING_B, 12, interleaving_seed("tdi-1", "user-1", "t0"))
    shown = [object_id for page in pages for object_id in ids(page)]
    assert shown == [object_id for object_id, _ in merged] and sorted(shown) == sorted(OBJECTS)
    assert [page["next_page_offset"] for page in pages] == [4, 8, None]
    assert pages[0]["embedding_model_id"] == f"{MODEL_A},{MODEL_B}"
    assert search(api, user_id="user-1", limit=4)["search_results"] == pages[0]["search_results"]

    stored = session(api, "s1")
    assert [r["object_id"] for r in stored["search_results"]] == shown
    assert stored["search_meta"]["experiment"] == {
        "experiment_id": "tdi-1",
        "variant": "interleaved",
        "teams": [list(pair) for pair in merged[:4]],
    }
    teams = dict(merged)
    b_picks = [o for o in shown if teams[o] == "b"]
    a_picks = [o for o in shown if teams[o] == "a"]
    click(api, "s1", b_picks[0], b_picks[1], a_picks[2])
    figures = report(api, "tdi-1")  # s1 won by B; the repeated search: no click
    assert figures["interleaving"] == {
        "b_wins": 1,
        "a_wins": 0,
        "ties": 0,
        "no_clicks": 1,
        "p_value": 1.0,
    }
    a, b = figures["variants"]["a"], figures["variants"]["b"]
    assert (a["searches"], a["shown"], a["clicks"]) == (2, 7, 1)
    assert (b["searches"], b["shown"], b["clicks"]) == (2, 7, 2)
    first_b = 1 / (1 + shown.index(b_picks[0]))
    assert b["mean_reciprocal_rank"] == pytest.approx(first_b / 2)
    assert a["mean_reciprocal_rank"] == pytest.approx(1 / (1 + shown.index(a_picks[2])) / 2)
    assert figures["winner"] is None and figures["ab"] is None


def record(ctx: AppContext, experiment_id: str, session_id: str, variant: str, teams: str) -> None:
    results = tuple(ServedResult(f"x{i}", i, t) for i, t in enumerate(teams))  # type: ignore[arg-type]
    search = ServedSearch(experiment_id, session_id, session_id, variant, results)  # type: ignore[arg-type]
    ExperimentRepository(ctx.documents).record(search)


def register(api: TestClient, session_id: str) -> None:
    body = {
        "session_id": session_id,
        "search_query": "t0",
        "search_results": [{"object_id": f"x{i}"} for i in range(4)],
    }
    reply = api.post(f"{CLICKSTREAM}/session", json=body)
    assert reply.status_code == 200, reply.text


def test_ab_report_figures_on_hand_made_sessions(api, ctx):
    define(api, "ab-2", "ab")
    for session_id, variant, clicked in [
        ("s1", "a", ["x1"]),
        ("s2", "a", []),
        ("s3", "b", ["x0", "x2"]),
        ("s4", "b", ["x3"]),
    ]:
        register(api, session_id)
        record(ctx, "ab-2", session_id, variant, variant * 4)
        if clicked:
            click(api, session_id, *clicked)
    click(api, "s2", "x0", event_type="view")  # not a click
    click(api, "s2", "banner")  # not a result

    figures = report(api, "ab-2")
    a, b = figures["variants"]["a"], figures["variants"]["b"]
    assert (a["embedding_model_id"], a["searches"], a["shown"], a["clicks"]) == (MODEL_A, 2, 8, 1)
    assert a["ctr"] == 1 / 8 and a["mean_reciprocal_rank"] == 0.25 and a["zero_click_share"] == 0.5
    assert (b["searches"], b["shown"], b["clicks"]) == (2, 8, 3)
    assert b["ctr"] == 3 / 8 and b["mean_reciprocal_rank"] == 0.625 and b["zero_click_share"] == 0
    assert figures["ab"] == {
        "p_value_clicked_searches": pytest.approx(two_proportion_p_value(1, 2, 2, 2)),
        "p_value_mrr": pytest.approx(mean_difference_p_value([0.5, 0.0], [1.0, 0.25])),
    }
    assert figures["interleaving"] is None and figures["winner"] is None
    views = report(api, "ab-2", event_type="view")["variants"]["a"]
    assert (views["clicks"], views["mean_reciprocal_rank"]) == (1, 0.5)
