"""Writing a run's results: figures.json (every figure), report.md (the tables) and the
PNG plots, all into one folder."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.harness.plots import PLOTS, draw_plots
from benchmarks.harness.summary import Row, quality_rows, speed_rows

MAX_EXTRA_ROWS = 40


@dataclass(frozen=True)
class ReportFiles:
    markdown: Path
    figures: Path
    plots: list[Path]


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities become null, tuples lists, keys strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def table(rows: list[Row], headers: tuple[str, str, str, str]) -> str:
    lines = [f"| {' | '.join(headers)} |", "| --- | --- | --- | --- |"]
    lines += [f"| {r.what} | {r.figure} | {r.baseline} | {r.ratio} |" for r in rows]
    return "\n".join(lines)


def _flat(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in _flat(v, f"{prefix}{k}.")]
    if isinstance(value, list) and len(value) > 8:
        return [(prefix.rstrip("."), f"{len(value)} values (see figures.json)")]
    return [(prefix.rstrip("."), json.dumps(value) if not isinstance(value, str) else value)]


def _header(meta: dict[str, Any]) -> list[str]:
    lines = [
        "# Embedding Studio benchmark report",
        "",
        f"- Run: {meta.get('started_at', '?')} to {meta.get('finished_at', '?')}, "
        f"mode **{meta.get('mode', '?')}**, commit `{meta.get('commit', '?')}`",
        f"- Machine: {meta.get('machine', '?')}",
    ]
    lines += [f"- {note}" for note in meta.get("notes", [])]
    return [*lines, ""]


def _speed(figures: dict[str, Any]) -> list[str]:
    rows = speed_rows(figures.get("sections", {}))
    if not rows:
        return []
    headers = ("what", "Embedding Studio", "raw baseline (same run)", "ratio")
    return ["## Speed", "", table(rows, headers), "", *_speed_notes(), ""]


def _speed_notes() -> list[str]:
    return [
        "Ratios: latency and time as Embedding Studio / baseline (> 1: slower than the "
        "baseline); throughput as Embedding Studio / baseline (< 1: fewer per second).",
        "Search baseline: the query encoded by sentence-transformers in the benchmark's "
        "process plus the plain pgvector HNSW query (`ORDER BY vector <=> q LIMIT 10`, a "
        "filter as a join on the payload) on the same table; encodes run one at a time "
        "(one model, a lock), queries on one connection per client. Upsertion baseline: "
        "`SentenceTransformer.encode` of the same documents (split into the same parts, and "
        "truncated). Suggestions baseline: the same index queried in process, without HTTP.",
    ]


def _quality(figures: dict[str, Any]) -> list[str]:
    quality = figures.get("sections", {}).get("quality")
    if not quality:
        return []
    used = quality.get("used", {})
    tuning = quality.get("fine_tuning", {})
    lines = [
        "## Learning quality",
        "",
        f"Dataset `{quality['dataset']}`: {used.get('documents', '?')} documents upserted, "
        f"{used.get('test_queries', '?')} test queries, {used.get('train_queries', '?')} "
        f"train queries with simulated users (words per document: "
        f"{used.get('words_per_document', 'all')}), all through the REST API.",
        "",
        table(quality_rows(quality), ("metric (test split)", "after", "zero-shot", "change")),
        "",
        f"- Click model: {quality['click_model']}; seed {quality['seed']}.",
        f"- Sessions: {json.dumps(quality.get('sessions', {}))}.",
        f"- Fine-tuning: status {tuning.get('status')}, outcome {tuning.get('outcome')}, "
        f"reason {tuning.get('reason')!r}, {tuning.get('fine_tuning_s')} s "
        f"(+ reindex {tuning.get('reindex_s', '—')} s); model "
        f"{quality.get('starting_model_id')} → {quality.get('model_after')}.",
        "",
    ]
    return lines


def _extras(figures: dict[str, Any]) -> list[str]:
    extras = figures.get("extras", {})
    if not extras:
        return []
    lines = ["## Other measurements", ""]
    for name, value in extras.items():
        lines += [f"### {name}", ""]
        if isinstance(value, str):
            lines += [value, ""]
            continue
        pairs = _flat(value)
        lines += ["| figure | value |", "| --- | --- |"]
        lines += [f"| {k} | {v} |" for k, v in pairs[:MAX_EXTRA_ROWS]]
        if len(pairs) > MAX_EXTRA_ROWS:
            lines.append(f"| … | {len(pairs) - MAX_EXTRA_ROWS} more in figures.json |")
        lines.append("")
    return lines


def _checks_and_errors(figures: dict[str, Any]) -> list[str]:
    lines = ["## Checks", ""]
    checks = figures.get("checks", [])
    lines += [f"- {'PASS' if c['passed'] else 'FAIL'}: {c['name']} ({c['detail']})" for c in checks]
    if not checks:
        lines.append("- none ran")
    for section, error in figures.get("errors", {}).items():
        lines.append(f"- ERROR in section `{section}`: {error}")
    timings = figures.get("timings_s", {})
    if timings:
        lines += [
            "",
            "Section wall times: " + ", ".join(f"{k} {v:g} s" for k, v in timings.items()),
        ]
    return [*lines, ""]


def _plots(plots: list[Path]) -> list[str]:
    drawn = {p.name for p in plots}
    lines = ["## Plots", ""]
    for name in PLOTS:
        if name in drawn:
            lines += [f"![{name}]({name})", ""]
        else:
            lines += [f"- `{name}`: not drawn (its section did not run)", ""]
    return lines


def render_markdown(figures: dict[str, Any], plots: list[Path]) -> str:
    lines = _header(figures.get("meta", {}))
    lines += _speed(figures) + _quality(figures) + _extras(figures)
    lines += _checks_and_errors(figures) + _plots(plots)
    lines += ["## Reproduce", "", f"    {figures.get('meta', {}).get('command', 'make bench')}", ""]
    return "\n".join(lines)


def write_report(figures: dict[str, Any], out_dir: Path) -> ReportFiles:
    """figures.json, the PNG plots and report.md in `out_dir` (created)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    clean = _clean(figures)
    figures_path = out_dir / "figures.json"
    figures_path.write_text(json.dumps(clean, indent=2) + "\n", encoding="utf-8")
    plots = draw_plots(clean, out_dir)
    markdown = out_dir / "report.md"
    markdown.write_text(render_markdown(clean, plots), encoding="utf-8")
    return ReportFiles(markdown=markdown, figures=figures_path, plots=plots)
