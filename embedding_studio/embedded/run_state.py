"""What a running `embedding-studio up` keeps in DATA_DIR/run/.

- `supervisor.lock`: held (flock) while a supervisor uses the data dir, so a second one
  on the same data refuses to start instead of sharing its servers.
- `processes.json`: the processes it started (pid and start time), so the next start can
  stop what a supervisor killed with SIGKILL left behind.
- `endpoints.json`: the URLs of the running stack, for people and tools.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import psutil

logger = logging.getLogger(__name__)


class DataDirBusy(RuntimeError):
    """Another supervisor is using this data directory."""


@dataclass
class RunState:
    run_dir: Path
    _lock_file: IO[str] | None = field(default=None, repr=False)

    @property
    def processes_path(self) -> Path:
        return self.run_dir / "processes.json"

    @property
    def endpoints_path(self) -> Path:
        return self.run_dir / "endpoints.json"

    def acquire(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        lock_file = open(self.run_dir / "supervisor.lock", "a+")  # noqa: SIM115
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            lock_file.seek(0)
            holder = lock_file.read().strip() or "?"
            lock_file.close()
            raise DataDirBusy(
                f"another `embedding-studio up` (pid {holder}) is using {self.run_dir.parent}: "
                "stop it first or pass another --data-dir"
            ) from exc
        lock_file.seek(0)
        lock_file.truncate()
        lock_file.write(str(os.getpid()))
        lock_file.flush()
        self._lock_file = lock_file

    def release(self) -> None:
        """Forget the processes and endpoints and unlock; a no-op unless `acquire` succeeded."""
        if self._lock_file is None:
            return
        for path in (self.processes_path, self.endpoints_path):
            path.unlink(missing_ok=True)
        fcntl.flock(self._lock_file, fcntl.LOCK_UN)
        self._lock_file.close()
        self._lock_file = None

    def record_processes(self, pids: dict[str, int]) -> None:
        entries = {}
        for name, pid in pids.items():
            try:
                entries[name] = {"pid": pid, "created": psutil.Process(pid).create_time()}
            except psutil.Error:
                continue
        self.processes_path.write_text(json.dumps(entries, indent=2))

    def write_endpoints(self, endpoints: dict[str, str]) -> None:
        self.endpoints_path.write_text(json.dumps(endpoints, indent=2))

    def stop_leftovers(self) -> None:
        """Kill what a previous supervisor, itself killed, left running (same pid and start)."""
        try:
            entries = json.loads(self.processes_path.read_text())
        except (OSError, ValueError):
            return
        for name, entry in entries.items():
            try:
                proc = psutil.Process(int(entry["pid"]))
                if proc.create_time() != entry["created"]:
                    continue
                tree = [proc, *proc.children(recursive=True)]
            except (psutil.Error, KeyError, TypeError, ValueError):
                continue
            logger.warning("stopping %s (pid %d) left over from a previous run", name, proc.pid)
            for member in tree:
                try:
                    member.send_signal(signal.SIGKILL)
                except psutil.Error:
                    pass
            psutil.wait_procs(tree, timeout=5)
        self.processes_path.unlink(missing_ok=True)
