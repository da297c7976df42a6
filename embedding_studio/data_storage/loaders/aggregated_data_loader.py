"""One loader over several sources, each item routed by its `source_name`."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping

from pydantic import ConfigDict, ValidationError

from embedding_studio.data_storage.loaders.data_loader import DataLoader
from embedding_studio.data_storage.loaders.downloaded_item import DownloadedItem
from embedding_studio.data_storage.loaders.item_meta import ItemMeta
from embedding_studio.data_storage.loaders.load_outcome import ItemLoadFailure, LoadOutcome

logger = logging.getLogger(__name__)


class ItemMetaWithSourceInfo(ItemMeta):
    """An item of an aggregated source: `source_name` picks the loader; the other fields
    (kept as given) are those of that loader's meta class, e.g. `bucket` and `file`.
    """

    model_config = ConfigDict(extra="allow")

    @property
    def derived_id(self) -> str | None:
        extra = self.model_extra or {}
        for key in ("path", "file"):
            if isinstance(extra.get(key), str):
                bucket = extra.get("bucket")
                return f"{bucket}/{extra[key]}" if isinstance(bucket, str) else extra[key]
        return None


class AggregatedDataLoader(DataLoader):
    """Routes each item to `loaders[item.source_name]` and merges the results.

    An item whose `source_name` is missing or unknown, or whose fields do not fit the
    routed loader's meta class, is a failure of that item, with a message naming the
    known sources. Items keep their order within each source; `load_all` and
    `total_count` cover every source in turn (each must support full loads).

    :param loaders: source name -> loader.
    :param item_meta_cls: the meta class requests are parsed with; the default keeps
        every field so each loader can validate its own.
    """

    def __init__(
        self,
        loaders: Mapping[str, DataLoader],
        item_meta_cls: type[ItemMeta] = ItemMetaWithSourceInfo,
    ) -> None:
        if not loaders:
            raise ValueError("AggregatedDataLoader needs at least one loader")
        self.loaders = dict(loaders)
        self.item_meta_cls = item_meta_cls

    def load_items(self, items_data: list[ItemMeta]) -> list[DownloadedItem]:
        """Load the items; those that could not be loaded are logged and left out."""
        outcome = self.load_items_with_failures(items_data)
        for failure in outcome.failures:
            logger.warning("could not load %s: %s", failure.object_id, failure.detail)
        return outcome.items

    def load_items_with_failures(self, items_data: list[ItemMeta]) -> LoadOutcome:
        outcome = LoadOutcome()
        groups: dict[str, list[ItemMeta]] = {}
        for meta in items_data:
            routed = self._routed(meta)
            if isinstance(routed, ItemLoadFailure):
                outcome.failures.append(routed)
            else:
                groups.setdefault(routed[0], []).append(routed[1])
        for source_name, metas in groups.items():
            part = self.loaders[source_name].load_items_with_failures(metas)
            outcome.items.extend(part.items)
            outcome.failures.extend(part.failures)
        return outcome

    def _routed(self, meta: ItemMeta) -> tuple[str, ItemMeta] | ItemLoadFailure:
        known = sorted(self.loaders)
        if not meta.source_name:
            return ItemLoadFailure.of(meta, f"the item has no source_name; known sources: {known}")
        loader = self.loaders.get(meta.source_name)
        if loader is None:
            detail = f"unknown source {meta.source_name!r}; known sources: {known}"
            return ItemLoadFailure.of(meta, detail)
        if isinstance(meta, loader.item_meta_cls):
            return meta.source_name, meta
        try:
            fields = meta.model_dump(exclude_unset=False)
            return meta.source_name, loader.item_meta_cls.model_validate(fields)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'item'}: {e['msg']}" for e in exc.errors()
            )
            detail = f"not a valid item of source {meta.source_name!r}: {problems}"
            return ItemLoadFailure.of(meta, detail)

    def close(self) -> None:
        """Close every source's loader."""
        for loader in self.loaders.values():
            loader.close()

    def total_count(self) -> int | None:
        """The sum of every source's count, or None when one of them cannot say."""
        counts = [loader.total_count() for loader in self.loaders.values()]
        return None if any(count is None for count in counts) else sum(c or 0 for c in counts)

    def load_all(self, batch_size: int) -> Iterator[list[DownloadedItem]]:
        """Every source's full load in turn; items' metas carry their `source_name`."""
        for source_name, loader in self.loaders.items():
            for batch in loader.load_all(batch_size):
                yield [_with_source(item, source_name) for item in batch]


def _with_source(item: DownloadedItem, source_name: str) -> DownloadedItem:
    meta = item.meta.model_copy(update={"source_name": source_name})
    return DownloadedItem(id=item.id, data=item.data, meta=meta)
