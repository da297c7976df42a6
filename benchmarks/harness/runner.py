"""Running the suite: the speed sections on one embedded platform, the quality section on a
second (fine-tuning retrains on and reindexes the whole collection, so it needs one holding
only the dataset), each section timed, its failure recorded instead of ending the run."""

from __future__ import annotations

import logging
import os
import platform as host
import shutil
import subprocess
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks.harness import extras
from benchmarks.harness.quality import QualityOptions, run_quality
from benchmarks.harness.speed import SECTIONS, SpeedSizes, Stack
from benchmarks.platform import read_endpoints, running_platform

logger = logging.getLogger(__name__)

QUALITY = "quality"
ALL_SECTIONS = (*SECTIONS, QUALITY, *extras.EXTRAS)


@dataclass(frozen=True)
class SuiteOptions:
    mode: str
    speed: SpeedSizes
    quality: QualityOptions
    sections: tuple[str, ...]
    out_dir: Path
    notes: tuple[str, ...] = ()
    command: str = "make bench"
    # called with the figures after each section (the CLI writes the report so far)
    checkpoint: Callable[[dict[str, Any]], object] | None = None


@contextmanager
def embedded_stack(name: str, out_dir: Path, attempts: int = 2) -> Iterator[Stack]:
    """A fresh `embedding-studio up` in a temporary folder; its log kept in `out_dir`. A
    platform that does not start (its services are slow to start on a busy machine) is
    tried again once."""
    for attempt in range(1, attempts + 1):
        folder = Path(tempfile.mkdtemp(prefix=f"es-bench-{name}-"))
        started = False
        try:
            with running_platform(folder) as running:
                started = True
                endpoints = read_endpoints(folder)
                yield Stack(running.api_url, running.postgres_url, endpoints["mlflow"])
            return
        except (RuntimeError, TimeoutError) as exc:
            if started or attempt == attempts:
                raise
            logger.warning("the %s platform did not start (%s); trying again", name, exc)
        finally:
            _keep_log(folder, out_dir / "logs" / f"{name}-up-{attempt}.log")
            shutil.rmtree(folder, ignore_errors=True)


def _keep_log(folder: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if (folder / "up.log").exists():
        shutil.copyfile(folder / "up.log", target)


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _machine() -> str:
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return f"{os.cpu_count()} CPUs ({host.machine()}, {host.system()}), load average {load}"


Checkpoint = Callable[[dict[str, Any]], object] | None


def _section(
    figures: dict[str, Any], name: str, run: Callable[[], Any], checkpoint: Checkpoint = None
) -> None:
    logger.info("section %s: starting", name)
    started = time.perf_counter()
    try:
        result = run()
    except Exception as exc:  # noqa: BLE001 - one failing section must not end the run
        figures["errors"][name] = f"{type(exc).__name__}: {exc}"
        figures["tracebacks"][name] = traceback.format_exc()
        logger.exception("section %s failed", name)
    else:
        target = figures["extras"] if name in extras.EXTRAS else figures["sections"]
        target[name] = result
    figures["timings_s"][name] = round(time.perf_counter() - started, 1)
    logger.info("section %s: %.0f s", name, figures["timings_s"][name])
    if checkpoint is not None:
        checkpoint(figures)


def checks(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """The pass/fail facts of a run (figures themselves are reported, not judged)."""
    sections = figures["sections"]
    found: list[dict[str, Any]] = []
    if "reindex" in sections:
        searches = sections["reindex"]["reindex"]["searches"]
        found.append(
            {
                "name": "no search failed during the reindex and blue switch",
                "required": True,
                "passed": searches["failed"] == 0
                and sections["reindex"]["reindex"]["status"] == "done",
                "detail": f"{searches['failed']} of {searches['total']} failed, "
                f"reindex {sections['reindex']['reindex']['status']}",
            }
        )
    if "clickstream" in sections:
        click = sections["clickstream"]
        found.append(
            {
                "name": "clickstream: stored events = acknowledged events, no errors",
                "required": True,
                "passed": click["lost_or_duplicated"] == 0 and click["errors"] == 0,
                "detail": f"{click['events_stored']} stored, {click['events_acknowledged_new']} "
                f"acknowledged, {click['errors']} errors",
            }
        )
    for size, fig in sections.get("search", {}).items():
        for name in ("filter_1pct", "filter_10pct"):
            http = fig["http"][name]
            found.append(
                {
                    "name": f"filtered search ({name}) at {size} objects returns "
                    f"min(limit, matching) = {http['expected_results']} results",
                    "required": False,  # a figure to watch, reported rather than enforced
                    "passed": http["complete_pages"] == http["searches"],
                    "detail": f"{http['complete_pages']} of {http['searches']} searches",
                }
            )
    return found


StackWork = Callable[[dict[str, Any], Stack, SuiteOptions], None]


def _speed_sections(speed: list[str], extra: list[str]) -> StackWork:
    def work(figures: dict[str, Any], stack: Stack, options: SuiteOptions) -> None:
        for name in speed:
            _section(
                figures, name, partial(SECTIONS[name], stack, options.speed), options.checkpoint
            )
        for name in extra:
            run = partial(extras.run_extra, name, stack, options.mode)
            _section(figures, name, run, options.checkpoint)

    return work


def _quality_section(figures: dict[str, Any], stack: Stack, options: SuiteOptions) -> None:
    run = lambda: run_quality(stack.api_url, options.quality)  # noqa: E731
    _section(figures, QUALITY, run, options.checkpoint)


def _on_stack(
    figures: dict[str, Any], name: str, sections: list[str], options: SuiteOptions, work: StackWork
) -> None:
    """Run `work` on a fresh platform; a platform that does not start fails its sections."""
    try:
        with embedded_stack(name, options.out_dir) as stack:
            work(figures, stack, options)
    except (RuntimeError, TimeoutError, OSError) as exc:
        logger.exception("the %s platform failed", name)
        for section in sections:
            if section not in figures["sections"] and section not in figures["extras"]:
                figures["errors"].setdefault(section, f"platform: {type(exc).__name__}: {exc}")


def run_suite(options: SuiteOptions) -> dict[str, Any]:
    """Run the chosen sections; the figures dict the report is written from."""
    figures: dict[str, Any] = {
        "meta": {
            "mode": options.mode,
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "commit": _commit(),
            "machine": _machine(),
            "notes": list(options.notes),
            "command": options.command,
            "sections": list(options.sections),
        },
        "sections": {},
        "extras": {},
        "errors": {},
        "tracebacks": {},
        "timings_s": {},
    }
    speed = [name for name in SECTIONS if name in options.sections]
    extra = [name for name in extras.EXTRAS if name in options.sections]
    on_stack = [name for name in extra if extras.needs_platform(name)]
    if speed or on_stack:
        _on_stack(figures, "speed", [*speed, *on_stack], options, _speed_sections(speed, on_stack))
    if QUALITY in options.sections:
        _on_stack(figures, QUALITY, [QUALITY], options, _quality_section)
    for name in extra:
        if name not in on_stack:
            run = lambda n=name: extras.run_extra(n, None, options.mode)  # type: ignore[misc]  # noqa: E731
            _section(figures, name, run, options.checkpoint)
    figures["meta"]["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    figures["meta"]["machine_after"] = _machine()
    figures["checks"] = checks(figures)
    return figures
