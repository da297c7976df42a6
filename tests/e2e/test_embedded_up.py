"""`embedding-studio up` as a user runs it: starts every server and process, reaches an
all-healthy /api/v1/health, restarts a child that dies, stops on SIGTERM within 15 s
leaving no process behind, and finds its data again on the next start."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg
import pytest
import redis

from embedding_studio.embedded import services
from embedding_studio.embedded.services import free_port

pytestmark = pytest.mark.slow

CLI = Path(sys.executable).parent / "embedding-studio"
READY_TIMEOUT_S = 420.0
STOP_LIMIT_S = 15.0
SERVER_URL_VARIABLES = ("POSTGRES_URL", "REDIS_URL", "MLFLOW_TRACKING_URI", "DOCUMENT_STORE_URL")


def distinct_free_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


def stack_environment() -> dict[str, str]:
    """This process's environment without server URLs, on free ports."""
    env = {name: value for name, value in os.environ.items() if name not in SERVER_URL_VARIABLES}
    api, redis_port, mlflow = distinct_free_ports(3)
    env.update(
        API_PORT=str(api),
        EMBEDDED_REDIS_PORT=str(redis_port),
        EMBEDDED_MLFLOW_PORT=str(mlflow),
        HF_HUB_OFFLINE="1",
        WORKER_THREADS="1",
    )
    return env


@dataclass
class Stack:
    """One `embedding-studio up` run in its own session, output in `log_path`."""

    data_dir: Path
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] = field(init=False)

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(CLI), "up", "--data-dir", str(self.data_dir)],
                env=self.env,
                cwd=self.log_path.parent,  # away from the repository's .env
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def endpoints(self) -> dict[str, str]:
        return json.loads((self.data_dir / "run" / "endpoints.json").read_text())

    def recorded_pids(self) -> dict[str, int]:
        entries = json.loads((self.data_dir / "run" / "processes.json").read_text())
        return {name: entry["pid"] for name, entry in entries.items()}

    def wait_healthy(self) -> dict[str, Any]:
        deadline = time.monotonic() + READY_TIMEOUT_S
        last: object = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"`up` exited with {self.process.returncode}:\n{self.output()}")
            url = f"http://127.0.0.1:{self.env['API_PORT']}/api/v1/health"
            try:
                response = httpx.get(url, timeout=10)
                last = f"{response.status_code} {response.text}"
                ready = (self.data_dir / "run" / "endpoints.json").exists()  # workers started
                if response.status_code == 200 and ready:
                    return response.json()
            except httpx.HTTPError as exc:
                last = exc
            time.sleep(2)
        pytest.fail(f"not healthy within {READY_TIMEOUT_S} s (last: {last}):\n{self.output()}")

    def process_tree(self) -> list[psutil.Process]:
        """The supervisor's descendants, and the PostgreSQL server (a daemon, not a child)."""
        tree = psutil.Process(self.process.pid).children(recursive=True)
        postmaster = self.data_dir / "postgres" / "postmaster.pid"
        if postmaster.exists():
            tree.append(psutil.Process(int(postmaster.read_text().split()[0])))
        return tree

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=STOP_LIMIT_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"`up` did not stop within {STOP_LIMIT_S} s:\n{self.output()}")

    def kill_everything(self) -> None:
        """Last-resort cleanup after a failed test."""
        if self.process.poll() is None:
            for proc in self.process_tree():
                try:
                    proc.kill()
                except psutil.Error:
                    pass
            self.process.kill()
            self.process.wait()


def still_running(processes: list[psutil.Process]) -> list[str]:
    alive = []
    for proc in processes:
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(f"{proc.pid} {' '.join(proc.cmdline())[:120]}")
        except psutil.Error:
            continue
    return alive


def assert_all_dependencies_ok(health: dict[str, Any]) -> None:
    assert health["status"] == "ok", health
    assert health["dependencies"], health
    for name, dependency in health["dependencies"].items():
        assert dependency["status"] == "ok", f"{name}: {dependency}"


@pytest.fixture
def stack_factory(tmp_path: Path) -> Iterator[list[Stack]]:
    stacks: list[Stack] = []
    yield stacks
    for stack in stacks:
        stack.kill_everything()


def write_markers(endpoints: dict[str, str], token: str) -> None:
    with psycopg.connect(endpoints["postgres"], autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS e2e_marker (token text)")
        conn.execute("INSERT INTO e2e_marker VALUES (%s)", (token,))
    redis.Redis.from_url(endpoints["redis"]).set("e2e_marker", token)
    response = httpx.post(
        f"{endpoints['mlflow']}/api/2.0/mlflow/experiments/create",
        json={"name": f"e2e-{token}"},
        timeout=30,
    )
    response.raise_for_status()


def read_markers(endpoints: dict[str, str], token: str) -> dict[str, bool]:
    with psycopg.connect(endpoints["postgres"]) as conn:
        rows = conn.execute("SELECT token FROM e2e_marker").fetchall()
    redis_value = redis.Redis.from_url(endpoints["redis"]).get("e2e_marker")
    experiment = httpx.get(
        f"{endpoints['mlflow']}/api/2.0/mlflow/experiments/get-by-name",
        params={"experiment_name": f"e2e-{token}"},
        timeout=30,
    )
    return {
        "postgres": (token,) in rows,
        "redis": redis_value == token.encode(),
        "mlflow": experiment.status_code == 200,
    }


def wait_for_restart(stack: Stack, name: str, old_pid: int) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pid = stack.recorded_pids().get(name)
        if pid is not None and pid != old_pid and psutil.pid_exists(pid):
            return pid
        time.sleep(0.5)
    pytest.fail(f"{name} was not restarted:\n{stack.output()}")


def test_up_runs_restarts_children_stops_cleanly_and_keeps_data(
    tmp_path: Path, stack_factory: list[Stack]
) -> None:
    data_dir = tmp_path / "data"
    env = stack_environment()
    token = uuid.uuid4().hex

    first = Stack(data_dir, env, tmp_path / "up-1.log")
    stack_factory.append(first)
    first.start()
    assert_all_dependencies_ok(first.wait_healthy())
    endpoints = first.endpoints()
    write_markers(endpoints, token)

    # A second supervisor on the same data refuses instead of sharing the servers.
    busy = subprocess.run(
        [str(CLI), "up", "--data-dir", str(data_dir)],
        env={**stack_environment()},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert busy.returncode == 1
    assert "another `embedding-studio up`" in busy.stdout + busy.stderr

    # A worker that dies is restarted, with a log line.
    old_pid = first.recorded_pids()["improvement_worker"]
    os.killpg(old_pid, signal.SIGKILL)
    wait_for_restart(first, "improvement_worker", old_pid)
    assert "restarting improvement_worker" in first.output()

    tree = first.process_tree()
    assert len(tree) >= 8, tree  # servers, api, five workers (and their forks)
    assert first.terminate() == 0, first.output()
    assert not still_running(tree), still_running(tree)

    second = Stack(data_dir, env, tmp_path / "up-2.log")
    stack_factory.append(second)
    second.start()
    assert_all_dependencies_ok(second.wait_healthy())
    assert read_markers(second.endpoints(), token) == {
        "postgres": True,
        "redis": True,
        "mlflow": True,
    }
    tree = second.process_tree()
    assert second.terminate() == 0, second.output()
    assert not still_running(tree), still_running(tree)


def test_up_refuses_a_taken_port_and_names_it(tmp_path: Path) -> None:
    env = stack_environment()
    port = int(env["API_PORT"])
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        result = subprocess.run(
            [str(CLI), "up", "--data-dir", str(tmp_path / "data")],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert str(port) in output and "API_PORT" in output, output
    assert not (tmp_path / "data" / "postgres").exists(), "servers started despite the taken port"


def test_up_uses_the_servers_it_is_given(
    tmp_path: Path, stack_factory: list[Stack], fresh_database_url: str, mlflow_uri: str
) -> None:
    # A Redis of its own: the session's one carries other tests' queues.
    given_redis = services.start_redis(tmp_path / "given-redis", free_port())
    try:
        env = {
            **stack_environment(),
            "POSTGRES_URL": fresh_database_url,
            "REDIS_URL": given_redis.url,
            "MLFLOW_TRACKING_URI": mlflow_uri,
        }
        data_dir = tmp_path / "data"
        stack = Stack(data_dir, env, tmp_path / "up.log")
        stack_factory.append(stack)
        stack.start()
        assert_all_dependencies_ok(stack.wait_healthy())
        endpoints = stack.endpoints()
        assert endpoints["postgres"] == fresh_database_url
        assert endpoints["redis"] == given_redis.url
        assert endpoints["mlflow"] == mlflow_uri
        for own_server in ("postgres", "redis", "mlflow"):
            assert not (data_dir / own_server).exists(), f"started its own {own_server}"
        assert stack.terminate() == 0, stack.output()
        assert given_redis.server.is_running(), "stopped a server it did not start"
    finally:
        given_redis.stop()
