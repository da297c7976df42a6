"""The aggregated loader routes by source name; a bad route fails that item only."""

from __future__ import annotations

from pathlib import Path

from embedding_studio.data_storage.loaders.aggregated_data_loader import (
    AggregatedDataLoader,
    ItemMetaWithSourceInfo,
)
from embedding_studio.data_storage.loaders.inline.inline_loader import InlineDataLoader
from embedding_studio.data_storage.loaders.inline.item_meta import InlineItemMeta
from embedding_studio.data_storage.loaders.local.item_meta import LocalFileMeta
from embedding_studio.data_storage.loaders.local.local_file_loader import LocalTextFileLoader


def make_loader(tmp_path: Path) -> AggregatedDataLoader:
    (tmp_path / "a.txt").write_text("from a file", encoding="utf-8")
    return AggregatedDataLoader(
        {"files": LocalTextFileLoader(tmp_path), "inline": InlineDataLoader()}
    )


def test_items_parsed_from_requests_are_routed_to_their_source(tmp_path: Path) -> None:
    loader = make_loader(tmp_path)
    requests = [
        {"source_name": "files", "path": "a.txt", "payload": {"lang": "en"}},
        {"source_name": "inline", "object_id": "i1", "data": "inline text"},
        {"source_name": "files", "path": "missing.txt"},
    ]
    metas = [loader.item_meta_cls.model_validate(r) for r in requests]
    outcome = loader.load_items_with_failures(metas)
    assert [(i.id, i.data) for i in outcome.items] == [
        ("a.txt", "from a file"),
        ("i1", "inline text"),
    ]
    assert isinstance(outcome.items[0].meta, LocalFileMeta)
    assert outcome.items[0].meta.payload == {"lang": "en"}
    assert [f.object_id for f in outcome.failures] == ["missing.txt"]


def test_unknown_or_missing_source_names_fail_with_the_known_sources(tmp_path: Path) -> None:
    loader = make_loader(tmp_path)
    outcome = loader.load_items_with_failures(
        [
            ItemMetaWithSourceInfo(source_name="gcs", object_id="x"),
            ItemMetaWithSourceInfo(object_id="y"),
            InlineItemMeta(source_name="inline", object_id="z", data="ok"),
        ]
    )
    assert [i.id for i in outcome.items] == ["z"]
    details = {f.object_id: f.detail for f in outcome.failures}
    assert details["x"] == "unknown source 'gcs'; known sources: ['files', 'inline']"
    assert "no source_name" in details["y"]


def test_fields_that_do_not_fit_the_source_fail_that_item(tmp_path: Path) -> None:
    loader = make_loader(tmp_path)
    outcome = loader.load_items_with_failures(
        [ItemMetaWithSourceInfo(source_name="inline", object_id="no-data")]
    )
    assert outcome.items == []
    assert "not a valid item of source 'inline': data: Field required" in outcome.failures[0].detail


def test_full_load_covers_sources_that_support_it_and_tags_the_source(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("second", encoding="utf-8")
    loader = AggregatedDataLoader({"files": LocalTextFileLoader(tmp_path)})
    (tmp_path / "a.txt").write_text("first", encoding="utf-8")
    assert loader.total_count() == 2
    items = [item for batch in loader.load_all(batch_size=1) for item in batch]
    assert [(i.id, i.meta.source_name) for i in items] == [("a.txt", "files"), ("b.txt", "files")]
    assert AggregatedDataLoader({"inline": InlineDataLoader()}).total_count() is None
