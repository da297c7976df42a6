"""`python -m benchmarks.harness`: run the benchmark suite and write its report.

    python -m benchmarks.harness [--quick] [--dataset PATH] [--sections a,b] [--out DIR]

Starts the embedded platform itself (one for the speed sections, one for the quality
section), and writes report.md, figures.json and PNG plots into
benchmarks/results/<date>/ (or --out). Exit status 1 when a section failed or a check
(no failed search during the reindex, no lost clickstream event) did not pass."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.click_model import PositionBiasedClickModel
from benchmarks.harness.extras import EXTRAS
from benchmarks.harness.quality import QualityOptions
from benchmarks.harness.report import write_report
from benchmarks.harness.runner import ALL_SECTIONS, SuiteOptions, checks, run_suite
from benchmarks.harness.sizes import FULL, QUICK, differences

logger = logging.getLogger(__name__)

RESULTS = Path(__file__).resolve().parents[1] / "results"
DEFAULT_DATASET = Path(__file__).resolve().parents[3] / "shared" / "data" / "scifact"
QUIET_LOGGERS = ("httpx", "httpcore", "sentence_transformers")
CONTENDED = (
    "Figures are taken on whatever machine ran them, with whatever else it was running; "
    "compare ratios (measured in the same run) rather than absolute figures across runs."
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.harness",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes, under 10 minutes")
    parser.add_argument(
        "--dataset", type=Path, default=DEFAULT_DATASET, help="BEIR-format folder (quality)"
    )
    parser.add_argument(
        "--sections",
        help=f"comma-separated, from: {', '.join(ALL_SECTIONS)} (default: all; with "
        f"--quick all but the extra scripts {', '.join(EXTRAS)}, which the full run adds)",
    )
    parser.add_argument("--out", type=Path, help="default: benchmarks/results/<date>")
    parser.add_argument("--seed", type=int, default=0, help="seed of the simulated users")
    parser.add_argument("--p0", type=float, default=1.0, help="click model: p at rank 1")
    parser.add_argument("--eta", type=float, default=0.5, help="click model: position bias")
    parser.add_argument(
        "--search-objects", help="comma-separated sizes for the search section (e.g. 1000,5000)"
    )
    parser.add_argument("--search-queries", type=int, help="queries per search measurement")
    parser.add_argument("--note", action="append", default=[], help="a line for the report")
    return parser


def default_sections(quick: bool) -> tuple[str, ...]:
    """Every section; a quick run leaves out the extra scripts (their own platforms and
    corpora would take it past 10 minutes on 2 cores)."""
    return tuple(s for s in ALL_SECTIONS if not (quick and s in EXTRAS))


def options_from(args: argparse.Namespace) -> SuiteOptions:
    sections = default_sections(args.quick)
    if args.sections:
        sections = tuple(s.strip() for s in args.sections.split(",") if s.strip())
    unknown = sorted(set(sections) - set(ALL_SECTIONS))
    if unknown:
        raise SystemExit(f"unknown sections: {', '.join(unknown)}; known: {ALL_SECTIONS}")
    preset = QUICK if args.quick else FULL
    speed = preset.speed
    if args.search_objects:
        sizes = tuple(int(n) for n in args.search_objects.split(","))
        speed = dataclasses.replace(speed, search_objects=sizes)
    if args.search_queries:
        speed = dataclasses.replace(speed, search_queries=args.search_queries)
    preset = dataclasses.replace(preset, speed=speed)
    out_dir = args.out or RESULTS / datetime.now(UTC).strftime("%Y-%m-%d")
    quality = QualityOptions(
        dataset=args.dataset.resolve(),
        sizes=preset.quality,
        click_model=PositionBiasedClickModel(p0=args.p0, eta=args.eta),
        seed=args.seed,
        personalisation_queries=preset.personalisation_queries,
    )
    mode = "quick" if args.quick else "full"
    notes = [f"Smaller than the full run: {note}." for note in differences(preset)]
    skipped = [name for name in EXTRAS if name not in sections]
    if skipped and not args.sections:
        notes.append(f"Not run in quick mode: {', '.join(skipped)} (the full run adds them).")
    return SuiteOptions(
        checkpoint=lambda figures: write_report({**figures, "checks": checks(figures)}, out_dir),
        mode=mode,
        speed=preset.speed,
        quality=quality,
        sections=sections,
        out_dir=out_dir,
        notes=(*notes, *args.note, CONTENDED),
        command=shlex.join(["python", "-m", "benchmarks.harness", *sys.argv[1:]]),
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    options = options_from(args)
    figures = run_suite(options)
    files = write_report(figures, options.out_dir)
    logger.info("report: %s", files.markdown)
    failed = [c["name"] for c in figures["checks"] if c["required"] and not c["passed"]]
    required_errors = [name for name in figures["errors"] if name not in EXTRAS]
    for name in required_errors:
        logger.error("section %s failed: %s", name, figures["errors"][name])
    for name in failed:
        logger.error("check failed: %s", name)
    return 1 if failed or required_errors else 0
