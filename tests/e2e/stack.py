"""A running platform for end-to-end tests: the API (uvicorn) and worker processes as
real child processes over the session's real PostgreSQL, Redis and MLflow."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from embedding_studio.embedded import services

REPO_ROOT = Path(__file__).resolve().parents[2]

WORKER_QUEUES = {
    "upsertion": (
        "embedding_studio.workers.upsertion.actors",
        ["upsertion_worker", "deletion_worker"],
    ),
    "improvement": ("embedding_studio.workers.improvement.actors", ["improvement_worker"]),
    "fine_tuning": ("embedding_studio.workers.fine_tuning.actors", ["fine_tuning_worker"]),
    "reindex": ("embedding_studio.workers.reindex.actors", ["reindex_worker", "reindex_subworker"]),
}


@dataclass
class Stack:
    env: dict[str, str]
    log_dir: Path
    base_url: str = ""
    api: subprocess.Popen[bytes] | None = None
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the child
        return subprocess.Popen(
            args,
            env=self.env,
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_api(self, timeout_s: float = 240) -> None:
        port = services.free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        self.api = self._spawn(
            "api",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "embedding_studio.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.api.poll() is not None:
                raise RuntimeError(
                    f"the API exited; see {self.log_dir / 'api.log'}:\n{self.tail('api')}"
                )
            try:
                if httpx.get(f"{self.base_url}/api/v1/ping", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"the API did not start in {timeout_s} s:\n{self.tail('api')}")

    def start_worker(self, name: str) -> subprocess.Popen[bytes]:
        module, queues = WORKER_QUEUES[name]
        process = self._spawn(
            f"worker_{name}",
            [
                sys.executable,
                "-m",
                "dramatiq",
                module,
                "-Q",
                *queues,
                "--processes",
                "1",
                "--threads",
                "2",
            ],
        )
        self.workers[name] = process
        return process

    def kill_worker(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.workers.pop(name)
        os.killpg(process.pid, sig)
        process.wait(timeout=30)

    def tail(self, name: str, lines: int = 60) -> str:
        path = self.log_dir / f"{name}.log"
        return (
            "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
            if path.exists()
            else ""
        )

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=60)

    def wait_task(self, resource: str, task_id: str, timeout_s: float = 180) -> dict[str, Any]:
        """Poll a task until it reaches a final status; return it."""
        deadline = time.monotonic() + timeout_s
        with self.client() as client:
            while time.monotonic() < deadline:
                task = client.get(f"/api/v1/{resource}/info", params={"task_id": task_id}).json()
                if task.get("status") in {"done", "failed", "refused", "canceled"}:
                    return task
                time.sleep(0.3)
        raise TimeoutError(
            f"task {task_id} not finished in {timeout_s} s: {task}\n{self.tail('worker_upsertion')}"
        )

    def stop(self) -> None:
        for process in [*self.workers.values(), *([self.api] if self.api else [])]:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in [*self.workers.values(), *([self.api] if self.api else [])]:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
