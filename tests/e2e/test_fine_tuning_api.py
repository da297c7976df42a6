"""Fine-tuning end to end through the REST API with a real fine-tuning worker, real
MLflow (SQLite store) and real PostgreSQL, on a SciFact subset (80 abstracts cut to 40
words; 36 train queries whose simulated users click the relevant abstracts shown)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mlflow.tracking import MlflowClient

from embedding_studio.context.app_context import AppContext, build_context
from embedding_studio.core.config import Settings
from tests.e2e.fine_tuning_support import (
    RESOURCE,
    Subset,
    batch_status,
    fine_tuning_stack,
    fresh_database,
    load_subset,
    own_redis_database,
    release_batch,
    simulate_users,
    submit,
    upsert,
    wait_progress,
    wait_task,
)
from tests.e2e.stack import Stack

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def env(stack_env: dict[str, str], postgres_url: str) -> dict[str, str]:
    """Its own database and Redis database: no other stack's worker takes its tasks."""
    return {
        **stack_env,
        "POSTGRES_URL": fresh_database(postgres_url),
        "REDIS_URL": own_redis_database(stack_env["REDIS_URL"]),
    }


@pytest.fixture(scope="module")
def platform(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    log_dir = tmp_path_factory.mktemp("fine_tuning_logs")
    with fine_tuning_stack(env, log_dir, ("upsertion", "fine_tuning", "reindex")) as stack:
        yield stack


@pytest.fixture(scope="module")
def subset(platform: Stack, scifact_dir: Path) -> Subset:
    data, items = load_subset(scifact_dir)
    upsert(platform, items)
    return data


@pytest.fixture(scope="module")
def store(env: dict[str, str]) -> Iterator[AppContext]:
    context = build_context(Settings.model_validate({k: v for k, v in env.items() if k.isupper()}))
    yield context
    context.close()


def blue_model(store: AppContext) -> str:
    return store.vectordb.get_blue_collection().info.embedding_model_id


def test_unknown_model_is_refused(platform: Stack, subset: Subset) -> None:
    task = submit(platform, embedding_model_id="no-such-model")
    finished = wait_task(platform, RESOURCE, task["task_id"], 300)
    assert finished["status"] == "refused"
    assert "no-such-model" in finished["detail"]
    assert finished["attempts"] == 1  # refusals are not retried


def test_unknown_batch_is_refused(platform: Stack, subset: Subset) -> None:
    task = submit(platform, batch_id="no-such-batch")
    finished = wait_task(platform, RESOURCE, task["task_id"], 300)
    assert finished["status"] == "refused"
    assert "no-such-batch" in finished["detail"]


def test_a_batch_without_clicks_is_refused_and_an_empty_one_too(
    platform: Stack, subset: Subset
) -> None:
    with platform.client() as client:
        for index, query in enumerate(list(subset.queries.values())[:4]):
            body = {"search_query": query, "limit": 3, "create_session": True}
            found = client.post(
                "/api/v1/embeddings/similarity-search",
                json={**body, "session_id": f"noclick-{index}"},
            )
            assert found.status_code == 200, found.text
    no_clicks = wait_task(platform, RESOURCE, submit(platform)["task_id"], 300)
    assert no_clicks["status"] == "refused"
    assert "no click" in no_clicks["detail"] or "none of its" in no_clicks["detail"]

    empty = wait_task(platform, RESOURCE, submit(platform)["task_id"], 300)
    assert empty["status"] == "refused"
    assert "nothing to fine-tune" in empty["detail"]


def test_fine_tuning_trains_trials_in_mlflow_and_gates_the_winner(
    platform: Stack, subset: Subset, store: AppContext, env: dict[str, str]
) -> None:
    counts = simulate_users(platform, subset, "ft1")
    assert counts["clicked"] >= 20, counts
    starting = blue_model(store)
    task = submit(platform, idempotency_key="ft1", metadata={"by": "test"})
    assert submit(platform, idempotency_key="ft1")["task_id"] == task["task_id"]

    finished = wait_task(platform, RESOURCE, task["task_id"])

    assert finished["status"] == "done", finished
    result = finished["result"]
    assert result["starting_model_id"] == starting
    assert result["data"]["train_sessions"] > 0 and result["data"]["test_sessions"] > 0
    assert set(result["baseline"]) >= {"test_ndcg_at_10", "test_mrr_at_10", "test_recall_at_10"}
    trials = result["trials"]
    assert len(trials) == 2 and all(t["status"] == "done" for t in trials)
    assert len({t["params"]["learning_rate"] for t in trials}) == 2
    _check_runs_in_mlflow(env["MLFLOW_TRACKING_URI"], trials, task["task_id"])

    best = next(t for t in trials if t["run_id"] == result["best_run_id"])
    drop = result["baseline"]["test_ndcg_at_10"] - best["metrics"]["test_ndcg_at_10"]
    if drop > 0:  # FINE_TUNING_MAX_NDCG_DROP is 0: any drop keeps the model out
        assert result["outcome"] == "rejected" and "not deployed" in result["reason"]
        assert result["embedding_model_id"] is None
    else:
        assert result["outcome"] == "registered"
        new_model = result["embedding_model_id"]
        assert new_model == result["best_run_id"]
        store.vectordb.get_collection(new_model)  # created, empty until a reindex
        versions = MlflowClient(env["MLFLOW_TRACKING_URI"]).search_model_versions(
            f"run_id = '{new_model}'"
        )
        assert [v.tags.get("es_fine_tuning_task_id") for v in versions] == [task["task_id"]]
    assert blue_model(store) == starting  # without deploy_as_blue search is unchanged
    assert batch_status(platform, result["batch_id"]) == "archived"

    again = wait_task(platform, RESOURCE, submit(platform, batch_id=result["batch_id"])["task_id"])
    assert again["status"] == "refused" and "already used" in again["detail"]


def _check_runs_in_mlflow(uri: str, trials: list[dict[str, Any]], task_id: str) -> None:
    client = MlflowClient(uri)
    with_model = 0
    for trial in trials:
        run = client.get_run(trial["run_id"])
        assert run.info.status == "FINISHED"
        assert run.data.tags["es_fine_tuning_task_id"] == task_id
        assert run.data.params["learning_rate"] == str(trial["params"]["learning_rate"])
        assert {"train_loss", "test_loss", "test_ndcg_at_10", "test_mrr_at_10"} <= set(
            run.data.metrics
        )
        assert len(client.get_metric_history(run.info.run_id, "train_loss")) >= 1
        with_model += run.data.tags.get("es_has_model") == "true"
    assert with_model == 1  # only the best trial keeps its model


def test_a_second_task_on_a_batch_in_training_waits_or_is_refused(
    platform: Stack, subset: Subset
) -> None:
    simulate_users(platform, subset, "ft2")
    batch_id = release_batch(platform, "conflict-test")
    first = submit(platform, batch_id=batch_id)
    wait_progress(platform, first["task_id"], "preparing")
    refused = wait_task(platform, RESOURCE, submit(platform, batch_id=batch_id)["task_id"], 300)
    waiting = submit(platform, batch_id=batch_id, wait_on_conflict=True)

    done = wait_task(platform, RESOURCE, first["task_id"])
    waited = wait_task(platform, RESOURCE, waiting["task_id"], 300)

    assert done["status"] == "done", done
    assert refused["status"] == "refused"
    # On a saturated machine the second task may only be taken after the first finished:
    # then the batch is refused as used; otherwise as being fine-tuned by the first task.
    if refused["finished_at"] < done["finished_at"]:
        assert f"being fine-tuned by task {first['task_id']}" in refused["detail"]
    else:
        assert "already used" in refused["detail"], refused["detail"]
    assert waited["status"] == "refused" and "already used" in waited["detail"]
    assert waited["finished_at"] >= done["finished_at"]


def test_canceling_a_running_task_gives_the_batch_back(platform: Stack, subset: Subset) -> None:
    simulate_users(platform, subset, "ft3")
    task = submit(platform)
    running = wait_progress(platform, task["task_id"], "trial 1")
    assert running["status"] == "processing", running
    with platform.client() as client:
        canceled = client.post(f"/api/v1/{RESOURCE}/cancel", json={"task_id": task["task_id"]})
    assert canceled.status_code == 200, canceled.text
    batch_id = running["result"]["batch_id"]
    deadline_status = _wait_batch(platform, batch_id, "released")
    assert deadline_status == "released"
    assert wait_task(platform, RESOURCE, task["task_id"], 60)["status"] == "canceled"


def _wait_batch(platform: Stack, batch_id: str, wanted: str, timeout_s: float = 300) -> str:
    deadline = time.monotonic() + timeout_s
    status = batch_status(platform, batch_id)
    while status != wanted and time.monotonic() < deadline:
        time.sleep(1.0)
        status = batch_status(platform, batch_id)
    return status


def test_a_worker_killed_mid_training_resumes_without_a_second_model(
    platform: Stack, subset: Subset, env: dict[str, str]
) -> None:
    simulate_users(platform, subset, "ft4")
    task = submit(platform)
    wait_progress(platform, task["task_id"], "trial 2")
    platform.kill_worker("fine_tuning")
    platform.start_worker("fine_tuning")

    finished = wait_task(platform, RESOURCE, task["task_id"])

    assert finished["status"] == "done", finished
    assert finished["attempts"] >= 2
    trials = finished["result"]["trials"]
    assert len(trials) == 2 and all(t["status"] == "done" for t in trials)
    versions = MlflowClient(env["MLFLOW_TRACKING_URI"]).search_model_versions(
        "name = 'DefaultTextFineTuningMethod'"
    )
    mine = [v for v in versions if v.tags.get("es_fine_tuning_task_id") == task["task_id"]]
    assert len(mine) <= 1


def test_an_accepted_model_is_reindexed_and_switched_live(
    platform: Stack, subset: Subset, store: AppContext
) -> None:
    simulate_users(platform, subset, "ft5")
    starting = blue_model(store)
    task = submit(platform, deploy_as_blue=True)

    result = wait_task(platform, RESOURCE, task["task_id"])["result"]

    if result["outcome"] == "rejected":  # worse on held-out sessions: nothing changes
        assert blue_model(store) == starting
        return
    assert result["outcome"] == "deployed", result
    reindex = wait_task(platform, "internal/reindex-tasks", result["reindex_task_id"])
    assert reindex["status"] == "done", reindex
    new_model = result["embedding_model_id"]
    assert blue_model(store) == new_model
    assert (
        store.vectordb.get_collection(new_model).count()
        == store.vectordb.get_collection(starting).count()
    )
    with platform.client() as client:
        found = client.post(
            "/api/v1/embeddings/similarity-search",
            json={"search_query": next(iter(subset.queries.values())), "limit": 3},
        ).json()
    assert found["embedding_model_id"] == new_model and len(found["search_results"]) == 3
