"""Start the embedded platform (`embedding-studio up`) for a benchmark run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from embedding_studio.embedded.services import free_port


@dataclass(frozen=True)
class Platform:
    api_url: str
    postgres_url: str


def read_endpoints(data_dir: Path) -> dict[str, str]:
    """The URLs a running `embedding-studio up` wrote into its data folder."""
    return json.loads((data_dir / "run" / "endpoints.json").read_text())


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/v1/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def running_platform(data_dir: Path | None = None, timeout_s: float = 600) -> Iterator[Platform]:
    """Yield the URLs of a freshly started embedded platform; stop it afterwards."""
    folder = data_dir or Path(tempfile.mkdtemp(prefix="es-bench-"))
    api_port = free_port()
    env = {
        **os.environ,
        "API_PORT": str(api_port),
        "EMBEDDED_REDIS_PORT": str(free_port()),
        "EMBEDDED_MLFLOW_PORT": str(free_port()),
        "HF_HUB_OFFLINE": "1",
    }
    log = open(folder / "up.log", "ab")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "embedding_studio.cli", "up", "--data-dir", str(folder)],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{api_port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"embedding-studio up exited {process.returncode}; see {folder / 'up.log'}"
                )
            if _healthy(url) and (folder / "run" / "endpoints.json").exists():
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"the platform was not healthy in {timeout_s} s; see {folder}")
            time.sleep(1.0)
        yield Platform(api_url=url, postgres_url=read_endpoints(folder)["postgres"])
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        log.close()
