"""The processes of the platform and the command that starts each one.

One table serves the embedded supervisor, `docker-compose.yml` (checked by
tests/unit/test_compose.py) and the README's process table.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class WorkerProcess:
    """A Dramatiq worker process: the module that defines its actors and the queues it reads."""

    name: str
    module: str
    queues: tuple[str, ...]


WORKER_PROCESSES: tuple[WorkerProcess, ...] = (
    WorkerProcess(
        "fine_tuning_worker", "embedding_studio.workers.fine_tuning.actors", ("fine_tuning_worker",)
    ),
    WorkerProcess(
        "improvement_worker", "embedding_studio.workers.improvement.actors", ("improvement_worker",)
    ),
    WorkerProcess(
        "upsertion_worker",
        "embedding_studio.workers.upsertion.actors",
        ("upsertion_worker", "deletion_worker"),
    ),
    WorkerProcess(
        "reindex_worker",
        "embedding_studio.workers.reindex.actors",
        ("reindex_worker", "reindex_subworker"),
    ),
    WorkerProcess(
        "inference_worker",
        "embedding_studio.workers.inference.actors",
        ("model_deployment_worker", "model_deletion_worker"),
    ),
)

API_APP = "embedding_studio.main:app"


def worker_command(worker: WorkerProcess, threads: int) -> list[str]:
    """`python -m dramatiq MODULE -Q QUEUES... --processes 1 --threads N`."""
    return [
        sys.executable, "-m", "dramatiq", worker.module, "-Q", *worker.queues,
        "--processes", "1", "--threads", str(threads),
    ]  # fmt: skip


def api_command(host: str, port: int) -> list[str]:
    """`python -m uvicorn embedding_studio.main:app --host HOST --port PORT`."""
    return [sys.executable, "-m", "uvicorn", API_APP, "--host", host, "--port", str(port)]
