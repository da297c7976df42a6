"""The report's tables, read from the figures dict: one row per measured figure, with its
raw baseline measured in the same run and the ratio."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Row:
    what: str
    figure: str
    baseline: str
    ratio: str


def _ms(latency: dict[str, Any]) -> str:
    return f"{latency['p50_ms']:g} / {latency['p95_ms']:g} / {latency['p99_ms']:g} ms"


def _x(value: float | None) -> str:
    return "—" if value is None else f"{value:g}×"


def _pages(filtered: dict[str, Any]) -> str:
    return (
        f"{filtered['complete_pages']}/{filtered['searches']} with all "
        f"{filtered['expected_results']} results"
    )


def search_rows(search: dict[str, Any]) -> list[Row]:
    rows = []
    for size, fig in search.items():
        http, raw, ratio = fig["http"], fig["raw"], fig["ratio"]
        label = f"{int(size):,} objects"
        rows.append(
            Row(
                f"Search p50 / p95 / p99, 1 client, {label}",
                _ms(http["latency_1_client"]),
                _ms(raw["latency_1_client"]),
                f"{ratio['p50_latency']:g} / {ratio['p95_latency']:g} / {ratio['p99_latency']:g}×",
            )
        )
        top = str(max(int(n) for n in http["rps_by_clients"]))
        rows.append(
            Row(
                f"Search throughput, {top} clients, {label}",
                f"{http['rps_by_clients'][top]:g} req/s",
                f"{raw['rps_by_clients'][top]:g} req/s",
                _x(ratio[f"rps_{top}_clients"]),
            )
        )
        for name, share in (("filter_1pct", "1%"), ("filter_10pct", "10%")):
            rows.append(
                Row(
                    f"Filtered search ({share} of objects match) p50, {label}",
                    f"{http[name]['p50_ms']:g} ms, {_pages(http[name])}",
                    f"{raw[name]['p50_ms']:g} ms, {_pages(raw[name])}",
                    _x(ratio[f"{name}_p50"]),
                )
            )
    return rows


def upsertion_row(fig: dict[str, Any]) -> Row:
    return Row(
        f"Upsertion, {fig['documents']:,} documents ({fig['parts']:,} parts)",
        f"{fig['api_docs_per_s']:g} docs/s",
        f"encode {fig['raw_docs_per_s_same_parts']:g} docs/s (same parts), "
        f"{fig['raw_docs_per_s_truncated']:g} docs/s (truncated)",
        f"{fig['ratio_vs_raw_same_parts']:g}× / {fig['ratio_vs_raw_truncated']:g}×",
    )


def clickstream_row(fig: dict[str, Any]) -> Row:
    stored = "stored = acknowledged" if fig["lost_or_duplicated"] == 0 else "STORED ≠ ACKNOWLEDGED"
    offered = fig["target_events_per_s"]
    ratio = round(fig["events_per_s"] / offered, 2) if isinstance(offered, int | float) else None
    return Row(
        f"Clickstream ingestion, {fig['clients']} clients",
        f"{fig['events_per_s']:g} events/s, p99 {fig['latency_ms']['p99']:g} ms, "
        f"{fig['events_stored']:,} stored, {stored}, {fig['errors']} errors",
        f"offered {offered} events/s",
        _x(ratio),
    )


def reindex_row(fig: dict[str, Any]) -> Row:
    searches = fig["reindex"]["searches"]
    rate = fig.get("searches_per_s_per_searcher")
    pace = f", {rate:g} searches/s each" if rate else " back to back"
    timed_on = fig.get("raw_encode_timed_on")
    sample = f" (timed on {timed_on:,}, scaled)" if timed_on and timed_on < fig["objects"] else ""
    return Row(
        f"Reindex of {fig['objects']:,} objects while {fig['searchers']} clients search{pace}",
        f"{fig['reindex']['wall_s']:g} s wall ({fig['objects_per_s']:g} objects/s), "
        f"{searches['failed']} of {searches['total']} searches failed",
        f"encode {fig['raw_encode_s']:g} s{sample}",
        _x(fig["task_s_vs_raw_encode"]),
    )


def suggestions_row(fig: dict[str, Any]) -> Row:
    http, local = fig["http"]["overall"], fig["in_process"]["overall"]
    return Row(
        f"Suggestions get-top-k, {fig['phrases']:,} phrases",
        f"p50 {http['p50_ms']:g} ms, p99 {http['p99_ms']:g} ms (HTTP)",
        f"p50 {local['p50_ms']:g} ms, p99 {local['p99_ms']:g} ms (in process)",
        _x(round(http["p50_ms"] / local["p50_ms"], 2) if local["p50_ms"] else None),
    )


def improvement_row(fig: dict[str, Any]) -> Row:
    latency = fig.get("latency_s")
    figure = (
        f"p50 {latency['p50']:g} s, p95 {latency['p95']:g} s ({fig['reflected']} of "
        f"{fig['cases']} clicks reflected)"
        if latency
        else f"no click reflected ({fig['cases']} cases)"
    )
    return Row("Improvement: click to effect in that user's search", figure, "—", "—")


def speed_rows(sections: dict[str, Any]) -> list[Row]:
    rows = search_rows(sections["search"]) if "search" in sections else []
    builders = {
        "upsertion": upsertion_row,
        "clickstream": clickstream_row,
        "reindex": reindex_row,
        "suggestions": suggestions_row,
    }
    rows += [build(sections[name]) for name, build in builders.items() if name in sections]
    personal = sections.get("quality", {}).get("personalisation")
    if personal:
        rows.append(improvement_row(personal))
    return rows


METRICS = ("ndcg@10", "mrr@10", "recall@100")


def quality_rows(quality: dict[str, Any]) -> list[Row]:
    """Before / after / change of each metric; `Row.baseline` holds the zero-shot figure."""
    before, after = quality.get("before", {}), quality.get("after", {})
    rows = [
        Row(
            metric,
            f"{after[metric]:.4f}" if metric in after else "—",
            f"{before[metric]:.4f}" if metric in before else "—",
            f"{after[metric] - before[metric]:+.4f}"
            if metric in after and metric in before
            else "—",
        )
        for metric in METRICS
    ]
    personal = quality.get("personalisation")
    if personal and personal.get("cases"):
        rows.append(
            Row(
                "personalisation: clicked document reaches the user's top 3",
                f"{personal['top3_after']} of {personal['cases']} users "
                f"({personal['top3_share']:.0%})",
                "ranked 4th-20th before the click",
                "—",
            )
        )
    return rows
