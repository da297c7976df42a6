"""The benchmark harness's quality section, unchanged, on a second BEIR-format dataset given
by path: `python -m benchmarks.harness --quick --dataset PATH --sections quality` starts its
own embedded platform, upserts the tiny corpus, evaluates, simulates users, fine-tunes and
evaluates again, and writes the report (tests/tiny_beir.py has the dataset)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.stack import REPO_ROOT
from tests.tiny_beir import write_tiny_beir


def test_quality_section_runs_on_a_second_beir_dataset(tmp_path: Path) -> None:
    dataset = write_tiny_beir(tmp_path / "tiny")
    out = tmp_path / "report"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO_ROOT)}
    command = [sys.executable, "-m", "benchmarks.harness", "--quick", "--dataset", str(dataset)]
    completed = subprocess.run(
        [*command, "--sections", "quality", "--out", str(out)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-4000:]

    figures = json.loads((out / "figures.json").read_text())
    assert figures["errors"] == {}
    quality = figures["sections"]["quality"]
    assert quality["dataset"] == str(dataset.resolve())
    assert quality["written"] == 30
    assert quality["before"]["queries"] == quality["after"]["queries"] == 12
    assert quality["sessions"]["sessions"] == 18
    assert quality["fine_tuning"]["status"] == "done"
    for metric in ("ndcg@10", "mrr@10", "recall@100"):
        assert 0.0 <= quality["after"][metric] <= 1.0
        assert quality["delta"][metric] == round(
            quality["after"][metric] - quality["before"][metric], 4
        )
    report = (out / "report.md").read_text()
    assert str(dataset.resolve()) in report
    assert (out / "quality_before_after.png").stat().st_size > 0
