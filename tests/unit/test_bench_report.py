"""The benchmark report writer: figures.json, report.md and PNG plots from a figures dict."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from benchmarks.harness.report import write_report

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _latency(p50: float) -> dict[str, float]:
    return {"p50_ms": p50, "p95_ms": p50 * 2, "p99_ms": p50 * 3, "mean_ms": p50, "n": 50}


def _way(p50: float, rps: float) -> dict[str, Any]:
    filtered = {**_latency(p50 * 1.5), "expected_results": 10, "complete_pages": 50, "searches": 50}
    return {
        "latency_1_client": _latency(p50),
        "rps_by_clients": {"1": rps / 3, "2": rps / 2, "8": rps},
        "samples_ms": [p50 + i % 7 for i in range(50)],
        "filter_1pct": filtered,
        "filter_10pct": filtered,
    }


def _search(size: int) -> dict[str, Any]:
    ratio = {"p50_latency": 1.5, "p95_latency": 1.4, "p99_latency": 1.3, "rps_8_clients": 0.7}
    ratio |= {"filter_1pct_p50": 1.2, "filter_10pct_p50": 1.1}
    return {
        "objects": size,
        "http": _way(15.0, 70.0),
        "raw": _way(10.0, 100.0),
        "ratio": ratio,
    }


def figures() -> dict[str, Any]:
    searches = {"total": 400, "failed": 0, "empty_results": 0}
    quality_metrics = {"ndcg@10": 0.61, "mrr@10": 0.57, "recall@100": 0.9, "queries": 40}
    return {
        "meta": {"mode": "quick", "commit": "abc1234", "notes": ["a contended machine"]},
        "sections": {
            "search": {"1000": _search(1000), "5000": _search(5000)},
            "upsertion": {
                "documents": 200,
                "parts": 260,
                "api_docs_per_s": 20.0,
                "raw_docs_per_s_same_parts": 40.0,
                "raw_docs_per_s_truncated": 50.0,
                "ratio_vs_raw_same_parts": 0.5,
                "ratio_vs_raw_truncated": 0.4,
            },
            "reindex": {
                "objects": 5000,
                "searchers": 2,
                "searches_per_s_per_searcher": 5.0,
                "objects_per_s": 80.0,
                "raw_encode_s": 30.0,
                "raw_encode_timed_on": 1000,
                "task_s_vs_raw_encode": 2.1,
                "reindex": {"wall_s": 63.0, "status": "done", "searches": searches},
            },
            "clickstream": {
                "clients": 8,
                "events_per_s": 1500.0,
                "target_events_per_s": 2000.0,
                "latency_ms": {"p99": 80.0},
                "events_stored": 12000,
                "lost_or_duplicated": 0,
                "errors": 0,
            },
            "suggestions": {
                "phrases": 100000,
                "http": {"overall": _latency(5.0)},
                "in_process": {"overall": _latency(2.0)},
            },
            "quality": {
                "dataset": "/data/tiny",
                "used": {"documents": 30},
                "seed": 3,
                "click_model": "users click p0 / r^eta",
                "before": quality_metrics,
                "after": {**quality_metrics, "ndcg@10": 0.66},
                "fine_tuning": {"status": "done", "outcome": "deployed"},
                "personalisation": {
                    "cases": 10,
                    "top3_after": 7,
                    "top3_share": 0.7,
                    "reflected": 9,
                    "latency_s": {"p50": 1.2, "p95": 2.5, "max": 3.0},
                },
            },
        },  # fmt: skip
        "extras": {"experiments_power": {"interleaving": {"median": 120}}},
        "errors": {"hybrid_quality": "RuntimeError: boom"},
        "timings_s": {"search": 100.0, "quality": 200.0},
        "checks": [{"name": "no failed search", "passed": True, "required": True, "detail": "0"}],
        "nan_figure": math.nan,
    }


def test_writes_json_markdown_and_plots(tmp_path: Path) -> None:
    files = write_report(figures(), tmp_path / "out")

    stored = json.loads(files.figures.read_text())
    assert stored["sections"]["search"]["5000"]["http"]["rps_by_clients"]["8"] == 70.0
    assert stored["nan_figure"] is None  # valid JSON, not NaN

    report = files.markdown.read_text()
    assert "15 / 30 / 45 ms" in report and "10 / 20 / 30 ms" in report  # figure and baseline
    assert "1.5 / 1.4 / 1.3×" in report  # the ratio
    assert "| Search throughput, 8 clients, 5,000 objects | 70 req/s | 100 req/s | 0.7× |" in report
    assert "50/50 with all 10 results" in report
    assert "0 of 400 searches failed" in report
    assert "while 2 clients search, 5 searches/s each" in report
    assert "encode 30 s (timed on 1,000, scaled)" in report
    assert "stored = acknowledged" in report
    assert "| ndcg@10 | 0.6600 | 0.6100 | +0.0500 |" in report
    assert "7 of 10 users (70%)" in report
    assert "users click p0 / r^eta; seed 3" in report
    assert "a contended machine" in report
    assert "interleaving.median | 120" in report
    assert "ERROR in section `hybrid_quality`: RuntimeError: boom" in report

    names = {path.name for path in files.plots}
    assert names == {
        "latency_distribution.png",
        "throughput_vs_concurrency.png",
        "quality_before_after.png",
    }
    for path in files.plots:
        assert path.read_bytes().startswith(PNG_SIGNATURE)
        assert f"]({path.name})" in report


def test_sections_that_did_not_run_leave_their_plots_out(tmp_path: Path) -> None:
    files = write_report({"meta": {"mode": "quick"}, "sections": {}, "checks": []}, tmp_path)
    assert files.plots == []
    report = files.markdown.read_text()
    assert "not drawn" in report
    assert json.loads(files.figures.read_text())["sections"] == {}
