"""PNG plots of the figures: search latency distributions, throughput against the number
of concurrent clients, and retrieval quality before and after fine-tuning. A plot whose
figures are absent is not drawn (the report says so)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, never a window

import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend

from benchmarks.harness.summary import METRICS  # noqa: E402


def _ecdf(samples: list[float]) -> tuple[list[float], list[float]]:
    ordered = sorted(samples)
    return ordered, [(i + 1) / len(ordered) for i in range(len(ordered))]


def latency_plot(figures: dict[str, Any], path: Path) -> bool:
    search = figures.get("sections", {}).get("search")
    if not search:
        return False
    fig, ax = plt.subplots(figsize=(7, 4))
    for size, data in search.items():
        for way, style in (("http", "-"), ("raw", "--")):
            samples = data[way].get("samples_ms")
            if samples:
                xs, ys = _ecdf(samples)
                ax.plot(xs, ys, style, label=f"{way}, {int(size):,} objects")
    ax.set_xscale("log")
    ax.set_xlabel("search latency, 1 client (ms, log scale)")
    ax.set_ylabel("share of searches")
    ax.set_title("Search latency: HTTP API vs raw encode + pgvector")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def throughput_plot(figures: dict[str, Any], path: Path) -> bool:
    search = figures.get("sections", {}).get("search")
    if not search:
        return False
    fig, ax = plt.subplots(figsize=(7, 4))
    for size, data in search.items():
        for way, style in (("http", "o-"), ("raw", "s--")):
            by_clients = data[way]["rps_by_clients"]
            clients = sorted(int(n) for n in by_clients)
            ax.plot(
                clients,
                [by_clients[str(n)] for n in clients],
                style,
                label=f"{way}, {int(size):,} objects",
            )
    ax.set_xlabel("concurrent clients")
    ax.set_ylabel("searches per second")
    ax.set_title("Search throughput vs concurrency")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def quality_plot(figures: dict[str, Any], path: Path) -> bool:
    quality = figures.get("sections", {}).get("quality", {})
    if "before" not in quality or "after" not in quality:
        return False
    fig, ax = plt.subplots(figsize=(6, 4))
    positions = range(len(METRICS))
    width = 0.38
    for offset, (key, label) in zip(
        (-width / 2, width / 2),
        (("before", "zero-shot"), ("after", "after fine-tuning")),
        strict=True,
    ):
        values = [quality[key][m] for m in METRICS]
        bars = ax.bar([p + offset for p in positions], values, width, label=label)
        ax.bar_label(bars, fmt="%.3f", fontsize=8)
    ax.set_xticks(list(positions), list(METRICS))
    ax.set_ylim(0, 1.2)
    ax.set_title(f"Retrieval quality on {Path(quality.get('dataset', '')).name or 'the dataset'}")
    ax.legend(fontsize=8, loc="upper center", ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


PLOTS: dict[str, Callable[[dict[str, Any], Path], bool]] = {
    "latency_distribution.png": latency_plot,
    "throughput_vs_concurrency.png": throughput_plot,
    "quality_before_after.png": quality_plot,
}


def draw_plots(figures: dict[str, Any], out_dir: Path) -> list[Path]:
    """Draw every plot whose figures exist; the files written."""
    written = []
    for name, draw in PLOTS.items():
        if draw(figures, out_dir / name):
            written.append(out_dir / name)
    return written
