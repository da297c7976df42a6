"""A supervised child process: its own process group, its own log file, stopped as a group.

Each child starts in a new session, so a terminal's Ctrl-C reaches only the supervisor,
which then stops the children in order. Stopping signals the whole group (the child
and whatever it forked, e.g. Dramatiq's worker processes): SIGTERM first, SIGKILL to
what is left after the grace period.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChildSpec:
    """What to run: `health_url` answering 200 means the child is ready (None: alive is ready)."""

    name: str
    argv: list[str]
    health_url: str | None = None


@dataclass
class ChildProcess:
    spec: ChildSpec
    env: dict[str, str]
    log_path: Path
    restarts: int = 0
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _known: dict[int, float] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting {self.name}\n".encode())
            log.flush()
            self._process = subprocess.Popen(
                self.spec.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,
            )
        self._known = {}
        self.remember_descendants()

    def exit_code(self) -> int | None:
        """None while the main process runs; its exit status (negative: killed by signal) after."""
        return self._process.poll() if self._process else None

    def describe_exit(self) -> str:
        code = self.exit_code()
        if code is None:
            return "is running"
        if code < 0:
            return f"was killed by {signal.Signals(-code).name}"
        return f"exited with code {code}"

    def log_tail(self, lines: int = 10) -> str:
        try:
            with open(self.log_path, "rb") as log:
                log.seek(max(0, log.seek(0, os.SEEK_END) - 8192))
                text = log.read().decode(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def remember_descendants(self) -> None:
        """Record the child's process tree, so a process that left the group is still stopped."""
        if self._process is None:
            return
        try:
            root = psutil.Process(self._process.pid)
            for proc in [root, *root.children(recursive=True)]:
                self._known[proc.pid] = proc.create_time()
        except psutil.Error:
            pass

    def alive(self) -> bool:
        """True while the main process or anything in its group or tree still runs."""
        return self.exit_code() is None or self._group_alive() or bool(self._survivors())

    def signal(self, sig: signal.Signals) -> None:
        if self._process is None:
            return
        try:
            os.killpg(self._process.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        for proc in self._survivors():
            try:
                proc.send_signal(sig)
            except psutil.Error:
                pass

    def _group_alive(self) -> bool:
        """True while a process other than a zombie is still in the child's group."""
        if self._process is None:
            return False
        pgid = self._process.pid
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        for proc in psutil.process_iter(["status"]):
            try:
                if os.getpgid(proc.pid) == pgid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                    return True
            except (OSError, psutil.Error):
                continue
        return False

    def _survivors(self) -> list[psutil.Process]:
        alive = []
        for pid, created in self._known.items():
            try:
                proc = psutil.Process(pid)
                if proc.create_time() == created and proc.status() != psutil.STATUS_ZOMBIE:
                    alive.append(proc)
            except psutil.Error:
                continue
        return alive


def stop_children(children: Sequence[ChildProcess], grace_s: float) -> None:
    """SIGTERM every child group at once, SIGKILL what still runs after `grace_s`."""
    running = [child for child in children if child.alive()]
    for child in running:
        child.remember_descendants()
        child.signal(signal.SIGTERM)
    _wait_until_stopped(running, grace_s)
    stubborn = [child for child in running if child.alive()]
    for child in stubborn:
        logger.warning("%s did not stop within %.0f s: killing it", child.name, grace_s)
        child.signal(signal.SIGKILL)
    _wait_until_stopped(stubborn, 1.5)
    for child in stubborn:
        if child.alive():
            logger.error("%s (pid %s) survived SIGKILL", child.name, child.pid)


def _wait_until_stopped(children: Sequence[ChildProcess], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and any(child.alive() for child in children):
        time.sleep(0.1)
