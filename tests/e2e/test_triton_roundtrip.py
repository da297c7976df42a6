"""Deployment to a real Triton server and back, through the API.

Triton is the `tritonserver` binary of the `nvidia-pytriton` wheel, fetched and
unpacked once into ~/.cache/embedding-studio/triton (see deploy/triton/README.md), in
explicit model-control mode. The exported towers are served by the Python backend
(`INFERENCE_TRITON_BACKEND=python`), whose `model.py` runs the same TorchScript file
the libtorch backend loads in docker compose. Deployment tasks run inline, through the
inference worker's handlers, when the API submits them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from embedding_studio.context.app_context import AppContext, build_context, set_context
from embedding_studio.core.config import Settings, settings
from embedding_studio.core.errors import InferenceUnavailable, TaskRefused
from embedding_studio.embeddings.inference.local_client import LocalInferenceClient
from embedding_studio.embeddings.inference.triton.client import TritonClient
from embedding_studio.embeddings.inference.triton.local_server import (
    LocalTritonServer,
    TritonInstall,
    TritonSetupError,
    ensure_pytriton,
)
from embedding_studio.main import create_app
from embedding_studio.models.tasks import TaskKind
from embedding_studio.services.bootstrap import initial_model_id
from embedding_studio.workers.inference.handler import run_deletion, run_deployment
from embedding_studio.workers.task_runner import run_task
from tests.conftest import _unavailable

REPO_ROOT = Path(__file__).resolve().parents[2]
PLUGIN = "DefaultTextFineTuningMethod"
API = "/api/v1/internal/inference-deployment"
HANDLERS = {TaskKind.model_deployment: run_deployment, TaskKind.model_deletion: run_deletion}
TEXTS = ["short", "a longer text about cells and proteins " * 20, "medium length text here"]


@pytest.fixture(scope="session")
def triton_install() -> TritonInstall:
    """The unpacked Triton (downloaded from PyPI on the first run, then cached)."""
    try:
        return ensure_pytriton()
    except TritonSetupError as exc:
        _unavailable(f"no Triton binary: {exc}")
        raise


@pytest.fixture(scope="module")
def triton(
    triton_install: TritonInstall, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalTritonServer]:
    root = tmp_path_factory.mktemp("triton")
    server = LocalTritonServer(triton_install, root / "models", log_path=root / "triton.log")
    try:
        server.start()
    except TritonSetupError as exc:
        _unavailable(f"Triton did not start: {exc}")
    yield server
    server.stop()


def _new_database(postgres_url: str) -> str:
    name = f"es_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # generated name, not user input
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    return url


def _inline_enqueue(ctx: AppContext) -> Any:
    def enqueue(kind: TaskKind, task_id: str) -> None:
        try:
            run_task(ctx, task_id, kind, HANDLERS[kind])
        except TaskRefused:
            pass  # recorded on the task, as the worker does

    return enqueue


@pytest.fixture(scope="module")
def platform(
    triton: LocalTritonServer,
    postgres_url: str,
    mlflow_uri: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TestClient, AppContext]]:
    """The API with INFERENCE_BACKEND=triton pointing at the local Triton."""
    values: dict[str, Any] = {
        "POSTGRES_URL": _new_database(postgres_url),
        "MLFLOW_TRACKING_URI": mlflow_uri,
        "MODEL_CACHE_DIR": str(tmp_path_factory.mktemp("model_cache")),
        "ES_PLUGINS_PATH": str(REPO_ROOT / "plugins"),
        "INFERENCE_USED_PLUGINS": [PLUGIN],
        "INFERENCE_BACKEND": "triton",
        "INFERENCE_HOST": "127.0.0.1",
        "INFERENCE_GRPC_PORT": triton.grpc_port,
        "INFERENCE_MODEL_REPO": str(triton.repository),
        "INFERENCE_TRITON_BACKEND": "python",
        "INFERENCE_TIMEOUT_S": 30.0,
        "INFERENCE_DEPLOY_TIMEOUT_S": 120.0,
    }
    config = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    ctx = build_context(config)
    ctx.enqueue = _inline_enqueue(ctx)
    with pytest.MonkeyPatch.context() as patch:
        # Plugins build their client factories from the global settings.
        for name in ("INFERENCE_BACKEND", "INFERENCE_HOST", "INFERENCE_GRPC_PORT"):
            patch.setattr(settings, name, values[name])
        patch.setattr(settings, "INFERENCE_TIMEOUT_S", 30.0)
        set_context(ctx)
        try:
            ctx.plugin_manager.discover_plugins(config.ES_PLUGINS_PATH)
            with TestClient(create_app(config, ctx=ctx)) as client:
                yield client, ctx
        finally:
            set_context(None)
            ctx.close()


def _second_model(ctx: AppContext) -> str:
    """A second MLflow run holding the initial model's weights (not blue)."""
    manager = ctx.plugin_manager.require(PLUGIN).get_manager()
    model = manager.download_model(initial_model_id(ctx.plugin_manager.require(PLUGIN)))
    run_id = manager.start_run({}, iteration="triton-test")
    manager.save_model(run_id, model)
    manager.finish_run(run_id)
    return run_id


def _submit(client: TestClient, action: str, model_id: str) -> dict[str, Any]:
    """Submit a task (it runs inline) and read it back as it ended."""
    response = client.post(f"{API}/{action}", json={"embedding_model_id": model_id})
    assert response.status_code == 200, response.text
    task_id = response.json()["task_id"]
    return client.get(f"{API}/info", params={"task_id": task_id}).json()  # type: ignore[no-any-return]


def test_deploy_infer_compare_undeploy(
    platform: tuple[TestClient, AppContext], triton: LocalTritonServer
) -> None:
    client, ctx = platform
    model_id = _second_model(ctx)
    name = f"{PLUGIN}_{model_id}_query"

    deployed = _submit(client, "deploy", model_id)
    assert deployed["status"] == "done", deployed
    assert deployed["result"]["models"] == [name] and deployed["result"]["loaded"] is True
    status = client.get(f"{API}/status", params={"embedding_model_id": model_id}).json()
    assert status["ready"] == {name: True} and status["deployment_task"]["status"] == "done"
    assert (triton.repository / name / "1" / "model.pt").is_file()

    plugin = ctx.plugin_manager.require(PLUGIN)
    remote = plugin.get_inference_client_factory().get_client(model_id)
    assert isinstance(remote, TritonClient)
    local = LocalInferenceClient(plugin.get_manager().download_model(model_id))
    assert np.abs(remote.forward_items(TEXTS) - local.forward_items(TEXTS)).max() < 1e-4
    query = "which proteins bind cells?"
    assert np.abs(remote.forward_query(query) - local.forward_query(query)).max() < 1e-4

    again = _submit(client, "deploy", model_id)
    assert again["status"] == "done" and again["task_id"] != deployed["task_id"]

    deleted = _submit(client, "delete", model_id)
    assert deleted["status"] == "done", deleted
    assert deleted["result"]["removed"] == [name]
    assert not (triton.repository / name).exists()
    status = client.get(f"{API}/status", params={"embedding_model_id": model_id}).json()
    assert status["models"] == [] and status["deletion_task"]["status"] == "done"
    with pytest.raises(InferenceUnavailable, match="not deployed"):
        remote.forward_query(query)

    repeated = _submit(client, "delete", model_id)
    assert repeated["status"] == "done" and repeated["result"]["removed"] == []


def test_unknown_model_is_refused_and_the_blue_model_is_not_deleted(
    platform: tuple[TestClient, AppContext],
) -> None:
    client, ctx = platform
    unknown = _submit(client, "deploy", "f" * 32)
    assert unknown["status"] == "refused" and "does not exist" in unknown["detail"]

    blue = initial_model_id(ctx.plugin_manager.require(PLUGIN))
    response = client.post(f"{API}/delete", json={"embedding_model_id": blue})
    assert response.status_code == 409 and "blue" in response.json()["detail"]
    assert client.get(f"{API}/info", params={"task_id": "nope"}).status_code == 404


def test_bootstrap_deploys_the_blue_model_and_search_embeds_through_triton(
    platform: tuple[TestClient, AppContext], triton: LocalTritonServer
) -> None:
    """The initial (blue) model was deployed at start-up; when Triton goes down,
    searches answer 503 with a retry hint instead of hanging."""
    client, ctx = platform
    blue = initial_model_id(ctx.plugin_manager.require(PLUGIN))
    status = client.get(f"{API}/status", params={"embedding_model_id": blue}).json()
    assert status["ready"] == {f"{PLUGIN}_{blue}_query": True}, status
    assert status["deployment_task"]["idempotency_key"] == f"bootstrap:{blue}"
    search = {"search_query": "proteins"}
    assert client.post("/api/v1/embeddings/similarity-search", json=search).status_code == 200

    triton.stop()  # the last test of the module: Triton is not restarted
    response = client.post("/api/v1/embeddings/similarity-search", json=search)
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert "unreachable" in response.json()["detail"]
