from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.stack import REPO_ROOT, Stack


@pytest.fixture(scope="session")
def stack_env(
    postgres_url: str, redis_url: str, mlflow_uri: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    cache = tmp_path_factory.mktemp("model_cache")
    return {
        **os.environ,
        "POSTGRES_URL": postgres_url,
        "REDIS_URL": redis_url,
        "MLFLOW_TRACKING_URI": mlflow_uri,
        "MODEL_CACHE_DIR": str(cache),
        "ES_PLUGINS_PATH": str(REPO_ROOT / "plugins"),
        "INFERENCE_USED_PLUGINS": '["DefaultTextFineTuningMethod"]',
        "INFERENCE_BACKEND": "local",
        "UPSERTION_BATCH_SIZE": "16",
        # A killed worker's messages come back within seconds instead of a minute.
        "WORKER_HEARTBEAT_TIMEOUT_MS": "4000",
        "WORKER_MAINTENANCE_CHANCE": "200000",
        "WORKER_MIN_BACKOFF_MS": "200",
        "WORKER_MAX_BACKOFF_MS": "2000",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "PYTHONPATH": str(REPO_ROOT),
        "LOG_LEVEL": "INFO",
    }


@pytest.fixture(scope="session")
def stack(stack_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The API and an upsertion worker, started once for the session."""
    log_dir = Path(tmp_path_factory.mktemp("stack_logs"))
    running = Stack(env=stack_env, log_dir=log_dir)
    try:
        running.start_api()
        running.start_worker("upsertion")
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def sdk_stack(
    stack_env: dict[str, str], postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """A second platform: the seed tutorial's plugin and the categories plugin enabled,
    its own database and queues, an upsertion worker (see tests/e2e/sdk_stack.py)."""
    from tests.e2e.sdk_stack import sdk_stack_env

    root = Path(tmp_path_factory.mktemp("sdk_stack"))
    running = Stack(env=sdk_stack_env(stack_env, postgres_url, root), log_dir=root)
    try:
        running.start_api()
        running.start_worker("upsertion")
        yield running
    finally:
        running.stop()
