"""Supervised children: own process group, log file, and a stop that leaves nothing behind."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import psutil

from embedding_studio.embedded.children import ChildProcess, ChildSpec, stop_children

# Forks a grandchild, then both sleep; the parent ignores SIGTERM when asked to.
FORKING_CHILD = """
import os, signal, sys, time
if sys.argv[1] == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
if os.fork() == 0:
    time.sleep(600)
print("ready", flush=True)
time.sleep(600)
"""


def start_child(tmp_path: Path, mode: str) -> ChildProcess:
    spec = ChildSpec("sleeper", [sys.executable, "-c", FORKING_CHILD, mode])
    child = ChildProcess(spec, dict(os.environ), tmp_path / "logs" / "sleeper.log")
    child.start()
    deadline = time.monotonic() + 30
    while "ready" not in child.log_tail() and time.monotonic() < deadline:
        time.sleep(0.05)
    child.remember_descendants()
    return child


def tree_of(child: ChildProcess) -> list[psutil.Process]:
    assert child.pid is not None
    root = psutil.Process(child.pid)
    return [root, *root.children(recursive=True)]


def gone(processes: list[psutil.Process]) -> bool:
    for proc in processes:
        try:
            if proc.status() != psutil.STATUS_ZOMBIE:
                return False
        except psutil.NoSuchProcess:
            continue
    return True


def test_child_runs_in_its_own_process_group_and_logs_to_its_file(tmp_path: Path) -> None:
    child = start_child(tmp_path, "polite")
    try:
        assert child.pid is not None
        assert os.getpgid(child.pid) == child.pid != os.getpgid(0)
        assert "starting sleeper" in child.log_tail()
        assert child.exit_code() is None and child.describe_exit() == "is running"
    finally:
        stop_children([child], grace_s=5)


def test_stop_ends_the_child_and_what_it_forked(tmp_path: Path) -> None:
    child = start_child(tmp_path, "polite")
    processes = tree_of(child)
    assert len(processes) == 2
    stop_children([child], grace_s=5)
    assert gone(processes)
    assert not child.alive()
    assert child.describe_exit() == "was killed by SIGTERM"


def test_stop_kills_a_child_that_ignores_sigterm_after_the_grace(tmp_path: Path) -> None:
    child = start_child(tmp_path, "stubborn")
    processes = tree_of(child)
    stop_children([child], grace_s=0.5)
    assert gone(processes)
    assert child.describe_exit() == "was killed by SIGKILL"


def test_a_restarted_child_gets_a_new_process(tmp_path: Path) -> None:
    child = start_child(tmp_path, "polite")
    first_pid = child.pid
    stop_children([child], grace_s=5)
    child.start()
    try:
        assert child.pid != first_pid and child.exit_code() is None
    finally:
        stop_children([child], grace_s=5)
