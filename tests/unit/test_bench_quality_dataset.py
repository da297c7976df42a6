"""The quality section's data path on a second, tiny BEIR-format dataset (30 documents,
ids unlike SciFact's): loading, the subset a run uses, and the harness's options."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.beir import load_beir
from benchmarks.harness.cli import build_parser, options_from
from benchmarks.harness.extras import EXTRAS
from benchmarks.harness.subset import SubsetSizes, subset
from tests.tiny_beir import write_tiny_beir


@pytest.fixture
def tiny_beir(tmp_path: Path) -> Path:
    return write_tiny_beir(tmp_path / "tiny")


def test_whole_dataset_is_used_when_no_size_is_given(tiny_beir: Path) -> None:
    data = subset(load_beir(tiny_beir), SubsetSizes())
    assert len(data.corpus) == 30
    assert len(data.qrels["test"]) == 12 and len(data.qrels["train"]) == 18
    assert set(data.queries) == set(data.qrels["test"]) | set(data.qrels["train"])
    assert data.split_queries("test").keys() == data.qrels["test"].keys()


def test_a_subset_keeps_the_relevant_documents_and_hard_negatives(tiny_beir: Path) -> None:
    sizes = SubsetSizes(test_queries=3, train_queries=4, negatives_per_query=2, words=3)
    data = subset(load_beir(tiny_beir), sizes)
    assert len(data.qrels["test"]) == 3 and len(data.qrels["train"]) == 4
    relevant = {doc for split in data.qrels.values() for docs in split.values() for doc in docs}
    assert relevant <= set(data.corpus)
    assert len(relevant) < len(data.corpus) <= len(relevant) + 7 * 2
    assert all(len(doc.text.split()) <= 3 for doc in data.corpus.values())


def test_a_dataset_without_train_judgements_is_refused(tiny_beir: Path) -> None:
    (tiny_beir / "qrels" / "train.tsv").unlink()
    with pytest.raises(ValueError, match="train"):
        subset(load_beir(tiny_beir), SubsetSizes())


def test_the_harness_takes_the_dataset_by_path(tiny_beir: Path, tmp_path: Path) -> None:
    args = build_parser().parse_args(
        ["--quick", "--dataset", str(tiny_beir), "--sections", "quality", "--out", str(tmp_path)]
    )
    options = options_from(args)
    assert options.sections == ("quality",)
    assert options.quality.dataset == tiny_beir.resolve()
    data = subset(load_beir(options.quality.dataset), options.quality.sizes)
    assert data.qrels["test"] and data.qrels["train"] and data.corpus


def test_a_quick_run_leaves_the_extra_scripts_to_the_full_run(tmp_path: Path) -> None:
    quick = options_from(build_parser().parse_args(["--quick", "--out", str(tmp_path)]))
    full = options_from(build_parser().parse_args(["--out", str(tmp_path)]))
    assert set(full.sections) - set(quick.sections) == set(EXTRAS)
    assert "quality" in quick.sections and "search" in quick.sections
    assert any("Not run in quick mode" in note for note in quick.notes)
    chosen = build_parser().parse_args(["--quick", "--sections", "inference_speed"])
    assert options_from(chosen).sections == ("inference_speed",)
