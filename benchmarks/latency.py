"""Latency and throughput measurement helpers shared by the speed benchmarks."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def percentile(samples: Sequence[float], q: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summarize_ms(samples_s: Sequence[float]) -> dict[str, float]:
    ms = [s * 1000 for s in samples_s]
    return {
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "mean_ms": round(statistics.fmean(ms), 2) if ms else float("nan"),
        "n": len(ms),
    }


def timed_calls(
    call: Callable[[Any], Any], arguments: Sequence[Any], warmup: int = 10
) -> list[float]:
    """Call sequentially, after `warmup` untimed calls; return each call's seconds."""
    for argument in arguments[:warmup]:
        call(argument)
    samples = []
    for argument in arguments:
        started = time.perf_counter()
        call(argument)
        samples.append(time.perf_counter() - started)
    return samples


def throughput(call: Callable[[Any], Any], arguments: Sequence[Any], clients: int) -> float:
    """Requests per second with `clients` concurrent callers over all `arguments`."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(call, arguments))
    return len(arguments) / (time.perf_counter() - started)
