"""Local files: loaded under the root only; everything else is a failure of that item."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embedding_studio.core.errors import InvalidRequest
from embedding_studio.data_storage.loaders.local.item_meta import LocalFileMeta
from embedding_studio.data_storage.loaders.local.local_file_loader import (
    LocalFileLoader,
    LocalJSONFileLoader,
    LocalTextFileLoader,
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "a.txt").write_text("alpha text", encoding="utf-8")
    (root / "docs" / "b.txt").write_text("beta text", encoding="utf-8")
    (root / "c.json").write_text(json.dumps({"title": "gamma"}), encoding="utf-8")
    (root / "bad.txt").write_bytes(b"\xff\xfe\xfa")
    (tmp_path / "secret.txt").write_text("outside the root", encoding="utf-8")
    (root / "link_out.txt").symlink_to(tmp_path / "secret.txt")
    return root


def test_text_files_load_by_path_relative_to_the_root(root: Path) -> None:
    loader = LocalTextFileLoader(root)
    outcome = loader.load_items_with_failures(
        [LocalFileMeta(path="docs/a.txt"), LocalFileMeta(path="docs/b.txt", object_id="b")]
    )
    assert [(i.id, i.data) for i in outcome.items] == [
        ("docs/a.txt", "alpha text"),
        ("b", "beta text"),
    ]
    assert outcome.failures == []


@pytest.mark.parametrize(
    "path",
    ["../secret.txt", "docs/../../secret.txt", "link_out.txt", "/etc/hostname", "/"],
)
def test_paths_escaping_the_root_are_refused(root: Path, path: str) -> None:
    outcome = LocalTextFileLoader(root).load_items_with_failures([LocalFileMeta(path=path)])
    assert outcome.items == []
    assert [f.object_id for f in outcome.failures] == [path]
    assert "outside the loader's root folder" in outcome.failures[0].detail


def test_missing_and_undecodable_files_fail_alone(root: Path) -> None:
    outcome = LocalTextFileLoader(root).load_items_with_failures(
        [LocalFileMeta(path="nope.txt"), LocalFileMeta(path="bad.txt"), LocalFileMeta(path="docs")]
    )
    assert outcome.items == []
    details = {f.object_id: f.detail for f in outcome.failures}
    assert "no such file" in details["nope.txt"]
    assert "not valid utf-8" in details["bad.txt"]
    assert "no such file" in details["docs"]


def test_json_and_raw_loaders_decode_accordingly(root: Path) -> None:
    items = LocalJSONFileLoader(root).load_items([LocalFileMeta(path="c.json")])
    assert items[0].data == {"title": "gamma"}
    failure = LocalJSONFileLoader(root).load_items_with_failures([LocalFileMeta(path="docs/a.txt")])
    assert "not valid JSON" in failure.failures[0].detail
    assert (
        LocalFileLoader(root).load_items([LocalFileMeta(path="bad.txt")])[0].data == b"\xff\xfe\xfa"
    )


def test_oversized_files_are_refused(root: Path) -> None:
    outcome = LocalTextFileLoader(root, max_file_bytes=4).load_items_with_failures(
        [LocalFileMeta(path="docs/a.txt")]
    )
    assert "over the limit of 4" in outcome.failures[0].detail


def test_full_load_lists_matching_files_under_the_root_only(root: Path) -> None:
    loader = LocalTextFileLoader(root, pattern="docs/*.txt")
    assert loader.total_count() == 2
    batches = list(loader.load_all(batch_size=1))
    assert [[(i.id, i.data) for i in b] for b in batches] == [
        [("docs/a.txt", "alpha text")],
        [("docs/b.txt", "beta text")],
    ]
    everything = [i.id for b in LocalTextFileLoader(root).load_all(batch_size=10) for i in b]
    assert everything == ["c.json", "docs/a.txt", "docs/b.txt"]  # bad.txt, link_out.txt skipped


def test_full_load_of_a_missing_root_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest, match="does not exist"):
        LocalTextFileLoader(tmp_path / "missing").total_count()
