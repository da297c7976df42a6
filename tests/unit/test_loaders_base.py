"""The DataLoader contract every source shares: ids, failures per item, datasets."""

from __future__ import annotations

import pytest

from embedding_studio.core.errors import InvalidRequest, StorageUnavailable
from embedding_studio.data_storage.loaders.cloud_storage.s3.item_meta import S3FileMeta
from embedding_studio.data_storage.loaders.data_loader import NOT_RETURNED, DataLoader
from embedding_studio.data_storage.loaders.downloaded_item import DownloadedItem
from embedding_studio.data_storage.loaders.inline.inline_loader import InlineDataLoader
from embedding_studio.data_storage.loaders.inline.item_meta import InlineItemMeta
from embedding_studio.data_storage.loaders.item_meta import ItemMeta
from embedding_studio.data_storage.loaders.local.item_meta import LocalFileMeta
from embedding_studio.data_storage.loaders.sql.pgsql.item_meta import PgsqlFileMeta


class StoreLoader(DataLoader):
    """A plugin-style loader: implements `load_items` only."""

    def __init__(self, store: dict[str, str], broken: frozenset[str] = frozenset()) -> None:
        self.store = store
        self.broken = broken
        self.calls: list[list[str]] = []

    def load_items(self, items_data: list[ItemMeta]) -> list[DownloadedItem]:
        ids = [meta.id for meta in items_data]
        self.calls.append(ids)
        if bad := [i for i in ids if i in self.broken]:
            raise ValueError(f"cannot parse {bad[0]}")
        return [DownloadedItem(m.id, self.store[m.id], m) for m in items_data if m.id in self.store]


class PagedLoader(StoreLoader):
    def _load_batch_with_offset(self, offset: int, batch_size: int) -> list[DownloadedItem]:
        keys = sorted(self.store)[offset : offset + batch_size]
        return [DownloadedItem(k, self.store[k], ItemMeta(object_id=k)) for k in keys]


def metas(*ids: str) -> list[ItemMeta]:
    return [ItemMeta(object_id=i) for i in ids]


def test_item_ids_come_from_object_id_or_the_source_key() -> None:
    assert PgsqlFileMeta(object_id=7).id == "7"  # type: ignore[arg-type]  # ints are accepted
    assert S3FileMeta(bucket="b", file="dir/f.txt").id == "b/dir/f.txt"
    assert S3FileMeta(bucket="b", file="f.txt", object_id="doc-1").id == "doc-1"
    assert LocalFileMeta(path="a/b.txt").id == "a/b.txt"
    assert InlineItemMeta(object_id="x", data={"title": "t"}).id == "x"


def test_a_meta_without_any_id_is_refused() -> None:
    with pytest.raises(ValueError, match="object_id"):
        ItemMeta()
    with pytest.raises(ValueError):
        PgsqlFileMeta(object_id="")


def test_missing_items_become_failures_in_request_order() -> None:
    loader = StoreLoader({"a": "alpha", "c": "gamma"})
    outcome = loader.load_items_with_failures(metas("c", "b", "a", "c"))
    assert [(i.id, i.data) for i in outcome.items] == [("c", "gamma"), ("a", "alpha")]
    assert [(f.object_id, f.detail) for f in outcome.failures] == [("b", NOT_RETURNED)]


def test_a_batch_failure_is_retried_item_by_item_so_only_the_bad_item_fails() -> None:
    loader = StoreLoader({"a": "alpha", "b": "beta", "c": "gamma"}, broken=frozenset({"b"}))
    outcome = loader.load_items_with_failures(metas("a", "b", "c"))
    assert [i.id for i in outcome.items] == ["a", "c"]
    assert len(outcome.failures) == 1
    assert outcome.failures[0].object_id == "b"
    assert outcome.failures[0].detail == "ValueError: cannot parse b"
    assert loader.calls == [["a", "b", "c"], ["a"], ["b"], ["c"]]


def test_an_unreachable_source_propagates_instead_of_failing_every_item() -> None:
    class DownLoader(DataLoader):
        def load_items(self, items_data: list[ItemMeta]) -> list[DownloadedItem]:
            raise StorageUnavailable("source down")

    with pytest.raises(StorageUnavailable):
        DownLoader().load_items_with_failures(metas("a", "b"))


def test_load_builds_a_dataset_of_item_and_item_id_leaving_failures_out() -> None:
    dataset = StoreLoader({"a": "alpha", "b": "beta"}).load(metas("a", "zzz", "b"))
    assert dataset.column_names == ["item", "item_id"]
    assert dataset["item_id"] == ["a", "b"]
    assert dataset["item"] == ["alpha", "beta"]


def test_full_load_pages_through_the_source_or_says_it_cannot() -> None:
    loader = PagedLoader({k: k.upper() for k in "abcde"})
    batches = list(loader.load_all(batch_size=2))
    assert [[i.id for i in b] for b in batches] == [["a", "b"], ["c", "d"], ["e"]]
    with pytest.raises(InvalidRequest, match="cannot list"):
        list(StoreLoader({}).load_all(batch_size=2))
    assert StoreLoader({}).total_count() is None


def test_seed_api_load_items_returns_items_with_id_and_data() -> None:
    loader = InlineDataLoader()
    items = loader.load_items([InlineItemMeta(object_id="1", data="first text")])
    assert [(item.id, item.data) for item in items] == [("1", "first text")]
    assert loader.item_meta_cls is InlineItemMeta
