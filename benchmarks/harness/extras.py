"""Optional measurements from other benchmark scripts, run as they are run by hand
(`python -m benchmarks.NAME ARGS`, in a child process) and read from the JSON document
they print last. A script that is absent is reported as absent, not as a failure."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from benchmarks.harness.speed import Stack


@dataclass(frozen=True)
class Extra:
    module: str
    quick_args: tuple[str, ...]
    full_args: tuple[str, ...]
    api_url_flag: str | None = None  # the script's flag naming a running platform
    timeout_s: float = 1800


EXTRAS: dict[str, Extra] = {
    "inference_speed": Extra(
        "benchmarks.inference_speed", ("--queries", "20", "--batches", "2", "--corpus", "300"), ()
    ),
    # Its own platform: it upserts the corpus, which the shared ones must not hold. The
    # full run takes the first 1,000 documents and every judged one (1,227): the whole
    # corpus adds 8 minutes of embedding to a run that must fit in 90.
    "hybrid_quality": Extra(
        "benchmarks.hybrid_quality", ("--corpus-limit", "50"), ("--corpus-limit", "1000")
    ),
    "experiments_power": Extra(
        "benchmarks.experiments_power", ("--seeds", "3"), ("--seeds", "10"), timeout_s=900
    ),
}


def last_json_document(output: str) -> dict[str, Any]:
    """The last top-level JSON object printed (scripts print progress before it)."""
    start = output.rfind("\n{")
    start = 0 if start < 0 and output.startswith("{") else start
    if start < 0:
        raise ValueError("the script printed no JSON document")
    return json.loads(output[start:])


def needs_platform(name: str) -> bool:
    return EXTRAS[name].api_url_flag is not None


def run_extra(name: str, stack: Stack | None, mode: str) -> dict[str, Any] | str:
    """The figures of one extra script, or a line saying why it did not run."""
    extra = EXTRAS[name]
    if importlib.util.find_spec(extra.module) is None:
        return f"not run: `{extra.module}` is not in this checkout"
    args = list(extra.quick_args if mode == "quick" else extra.full_args)
    if extra.api_url_flag and stack is not None:
        args += [extra.api_url_flag, stack.api_url]
    completed = subprocess.run(
        [sys.executable, "-m", extra.module, *args],
        capture_output=True,
        text=True,
        timeout=extra.timeout_s,
        check=False,
    )
    command = " ".join(["python -m", extra.module, *args])
    try:
        figures = last_json_document(completed.stdout)
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        tail = " | ".join(completed.stderr.strip().splitlines()[-3:])
        raise RuntimeError(f"{extra.module} exited {completed.returncode}: {tail}") from exc
    # A script's own verdict (e.g. exit 1: a quality bar not met) is reported with its figures.
    return {"command": command, "exit_status": completed.returncode, **figures}
