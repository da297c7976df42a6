"""`embedding-studio up`: the whole platform on one machine, without Docker.

Starts PostgreSQL with pgvector, a Redis-compatible server and MLflow (each unless its
URL was set explicitly), then the API and every worker as child processes; waits until
the API reports every dependency healthy; restarts a child that dies (a few times, then
gives up); and on SIGINT/SIGTERM stops everything, children first, within 15 s.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import httpx
import psutil
import redis

from embedding_studio.core.config import Settings
from embedding_studio.embedded import services
from embedding_studio.embedded.children import ChildProcess, ChildSpec, stop_children
from embedding_studio.embedded.layout import DataLayout, explicit_server_urls
from embedding_studio.embedded.ports import PortClaim, PortTaken, check_ports
from embedding_studio.embedded.processes import WORKER_PROCESSES, api_command, worker_command
from embedding_studio.embedded.run_state import DataDirBusy, RunState

logger = logging.getLogger(__name__)

MAX_RESTARTS = 5
CHILD_GRACE_S = 6.0  # then SIGKILL; with the servers' stop, all is down within ~13 s
MLFLOW_READY_TIMEOUT_S = 120.0
REDIS_GRACE_S = 2.0
SERVER_CHECK_INTERVAL_S = 5.0


class SupervisorError(RuntimeError):
    """The stack cannot start or keep running; the message says which part and why."""


class _Interrupted(Exception):
    """A stop signal arrived while the stack was starting."""


# Failures whose message says it all: reported without a traceback.
EXPECTED_ERRORS = (SupervisorError, PortTaken, DataDirBusy, services.ServiceStartError)


class Supervisor:
    """Runs the embedded stack in `data_dir` until a stop signal; see `run`."""

    def __init__(self, settings: Settings, data_dir: Path, ready_timeout_s: float = 300.0) -> None:
        self.settings = settings
        self.layout = DataLayout(data_dir.expanduser().resolve())
        self.ready_timeout_s = ready_timeout_s
        self.external = explicit_server_urls(settings)
        self._stop = threading.Event()
        self._state = RunState(self.layout.run)
        self._postgres: services.PostgresService | None = None
        self._redis: ChildProcess | None = None  # stopped after the processes that use it
        self._children: list[ChildProcess] = []
        self._urls = {name: str(getattr(settings, name)) for name in self.external}

    # --- public -------------------------------------------------------------------
    def run(self, on_ready: Callable[[dict[str, str]], None]) -> int:
        """Start, report the endpoints to `on_ready`, supervise until a stop signal.

        Returns 0 after a requested stop, 1 when the stack could not start or keep running.
        """
        self._install_signal_handlers()
        try:
            self._state.acquire()
            self._state.stop_leftovers()
            check_ports(self._port_claims())
            self._start_servers()
            self._start_app()
            endpoints = self.endpoints()
            self._state.write_endpoints(endpoints)
            on_ready(endpoints)
            self._supervise()
            return 0
        except _Interrupted:
            logger.info("stop requested during start")
            return 0
        except Exception as exc:  # process boundary: say what failed, then stop the rest
            logger.error("%s", exc, exc_info=not isinstance(exc, EXPECTED_ERRORS))
            return 1
        finally:
            self._shutdown()

    def endpoints(self) -> dict[str, str]:
        host = self.settings.API_HOST
        shown = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
        api = f"http://{shown}:{self.settings.API_PORT}"
        return {
            "api": api,
            "docs": f"{api}/docs",
            "mlflow": self._urls["MLFLOW_TRACKING_URI"],
            "postgres": self._urls["POSTGRES_URL"],
            "redis": self._urls["REDIS_URL"],
            "document_store": self._urls.get("DOCUMENT_STORE_URL", "PostgreSQL (JSONB tables)"),
            "data_dir": str(self.layout.root),
            "logs": str(self.layout.logs),
        }

    # --- start --------------------------------------------------------------------
    def _port_claims(self) -> list[PortClaim]:
        claims = [PortClaim("API", self.settings.API_PORT, "API_PORT", self.settings.API_HOST)]
        if "REDIS_URL" not in self.external:
            claims.append(
                PortClaim("Redis", self.settings.EMBEDDED_REDIS_PORT, "EMBEDDED_REDIS_PORT")
            )
        if "MLFLOW_TRACKING_URI" not in self.external:
            port = self.settings.EMBEDDED_MLFLOW_PORT
            claims.append(PortClaim("MLflow", port, "EMBEDDED_MLFLOW_PORT"))
        return claims

    def _start_servers(self) -> None:
        mlflow = None
        if "MLFLOW_TRACKING_URI" not in self.external:
            port = self.settings.EMBEDDED_MLFLOW_PORT
            self._urls["MLFLOW_TRACKING_URI"] = f"http://127.0.0.1:{port}"
            spec = ChildSpec(
                "mlflow",
                services.mlflow_command(self.layout.mlflow, port),
                health_url=f"http://127.0.0.1:{port}/health",
            )
            env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
            mlflow = self._spawn(spec, env)  # boots (~10 s) while the databases start
        if "POSTGRES_URL" not in self.external:
            logger.info("starting PostgreSQL + pgvector in %s", self.layout.postgres)
            self._postgres = services.start_postgres(self.layout.postgres)
            self._urls["POSTGRES_URL"] = self._postgres.url
            logger.info("PostgreSQL ready: %s", self._postgres.url)
        self._raise_if_stopping()
        if "REDIS_URL" not in self.external:
            port = self.settings.EMBEDDED_REDIS_PORT
            self._urls["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
            command = services.valkey_command(self.layout.redis, port)
            self._redis = self._spawn(ChildSpec("redis", command), dict(os.environ))
            self._wait_redis(self._redis, self._urls["REDIS_URL"])
            logger.info("Redis (valkey) ready: %s", self._urls["REDIS_URL"])
        self._record_processes()
        if mlflow is not None:
            self._wait_healthy(mlflow, MLFLOW_READY_TIMEOUT_S)
            logger.info("MLflow ready: %s", self._urls["MLFLOW_TRACKING_URI"])

    def _start_app(self) -> None:
        """The API first: its start bootstraps the default collection the workers warm up on."""
        env = self._child_env()
        api = self._spawn(
            ChildSpec(
                "api",
                api_command(self.settings.API_HOST, self.settings.API_PORT),
                health_url=f"{self.endpoints()['api']}/api/v1/health",
            ),
            env,
        )
        self._record_processes()
        self._wait_healthy(api, self.ready_timeout_s)
        logger.info("API healthy: %s", self.endpoints()["api"])
        threads = self.settings.WORKER_THREADS
        for worker in WORKER_PROCESSES:
            self._spawn(ChildSpec(worker.name, worker_command(worker, threads)), env)
        self._record_processes()

    def _child_env(self) -> dict[str, str]:
        env = {**os.environ, **self._urls, "PYTHONUNBUFFERED": "1"}
        env.setdefault("TOKENIZERS_PARALLELISM", "false")
        return env

    def _spawn(self, spec: ChildSpec, env: dict[str, str]) -> ChildProcess:
        child = ChildProcess(spec, env, self.layout.logs / f"{spec.name}.log")
        child.start()
        self._children.append(child)
        logger.info("started %s (pid %s), log: %s", spec.name, child.pid, child.log_path)
        return child

    def _wait_healthy(self, child: ChildProcess, timeout_s: float) -> None:
        assert child.spec.health_url is not None
        deadline = time.monotonic() + timeout_s
        last = "no answer yet"
        while time.monotonic() < deadline:
            self._raise_if_stopping()
            if child.exit_code() is not None:
                raise SupervisorError(self._death_report(child, "during start"))
            try:
                response = httpx.get(child.spec.health_url, timeout=3.0, trust_env=False)
                if response.status_code == 200:
                    return
                last = f"HTTP {response.status_code}: {response.text[:500]}"
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            self._stop.wait(1.0)
        raise SupervisorError(
            f"{child.name} was not healthy within {timeout_s:.0f} s "
            f"({child.spec.health_url} -> {last}); see {child.log_path}"
        )

    def _wait_redis(self, child: ChildProcess, url: str, timeout_s: float = 30.0) -> None:
        client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if child.exit_code() is not None:
                raise SupervisorError(self._death_report(child, "during start"))
            try:
                client.ping()
                return
            except redis.RedisError:
                self._stop.wait(0.1)
            self._raise_if_stopping()
        raise SupervisorError(
            f"Redis did not answer within {timeout_s:.0f} s; see {child.log_path}"
        )

    # --- supervise ----------------------------------------------------------------
    def _supervise(self) -> None:
        next_server_check = time.monotonic() + SERVER_CHECK_INTERVAL_S
        while not self._stop.wait(0.5):
            for child in self._children:
                if child.exit_code() is not None:
                    self._restart(child)
            if time.monotonic() >= next_server_check:
                self._check_servers()
                for child in self._children:
                    child.remember_descendants()
                next_server_check = time.monotonic() + SERVER_CHECK_INTERVAL_S

    def _restart(self, child: ChildProcess) -> None:
        if self._stop.is_set():
            return
        report = self._death_report(child, "")
        if child.restarts >= MAX_RESTARTS:
            raise SupervisorError(f"{report}\ngave up after {MAX_RESTARTS} restarts")
        child.signal(signal.SIGKILL)  # whatever it forked and left behind
        delay = min(2.0**child.restarts, 30.0)
        child.restarts += 1
        logger.warning(
            "%s\nrestarting %s in %.0f s (restart %d of %d)",
            report, child.name, delay, child.restarts, MAX_RESTARTS,
        )  # fmt: skip
        if self._stop.wait(delay):
            return
        child.start()
        self._record_processes()
        logger.info("restarted %s (pid %s)", child.name, child.pid)

    def _check_servers(self) -> None:
        if self._postgres is not None and not psutil.pid_exists(self._postmaster_pid() or -1):
            raise SupervisorError(
                f"PostgreSQL stopped unexpectedly; see {self.layout.postgres / 'log'}"
            )

    def _death_report(self, child: ChildProcess, when: str) -> str:
        tail = child.log_tail()
        where = f" {when}" if when else ""
        return (
            f"{child.name} {child.describe_exit()}{where}; last lines of {child.log_path}:\n{tail}"
        )

    # --- stop ---------------------------------------------------------------------
    def _shutdown(self) -> None:
        if not (self._children or self._redis or self._postgres):
            self._state.release()
            return
        started = time.monotonic()
        users = [child for child in self._children if child is not self._redis]
        if users:
            logger.info("stopping %d processes", len(users))
            stop_children(users, CHILD_GRACE_S)
        if self._redis is not None:
            stop_children([self._redis], REDIS_GRACE_S)
        if self._postgres is not None:
            self._stop_postgres(self._postgres)
            self._postgres = None
        self._state.release()
        logger.info("stopped in %.1f s", time.monotonic() - started)

    def _postmaster_pid(self) -> int | None:
        try:
            return int((self.layout.postgres / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _stop_postgres(self, service: services.PostgresService) -> None:
        """Fast shutdown (SIGINT to the postmaster), bounded; then pgserver's bookkeeping."""
        pid = self._postmaster_pid()
        if pid is not None and psutil.pid_exists(pid):
            postmaster = psutil.Process(pid)
            postmaster.send_signal(signal.SIGINT)
            try:
                postmaster.wait(timeout=3)
            except psutil.TimeoutExpired:
                logger.warning("PostgreSQL did not stop within 3 s: immediate shutdown")
                postmaster.send_signal(signal.SIGQUIT)
                try:
                    postmaster.wait(timeout=1)
                except psutil.TimeoutExpired:
                    postmaster.kill()
        service.stop()

    # --- signals ------------------------------------------------------------------
    def _install_signal_handlers(self) -> None:
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if not self._stop.is_set():
            logger.info("%s received: stopping", signal.Signals(signum).name)
        self._stop.set()

    def _raise_if_stopping(self) -> None:
        if self._stop.is_set():
            raise _Interrupted()

    def _record_processes(self) -> None:
        pids = {child.name: child.pid for child in self._children if child.pid is not None}
        self._state.record_processes(pids)
