"""The result of loading a batch: the items that loaded and, apart, those that did not."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from embedding_studio.data_storage.loaders.downloaded_item import DownloadedItem
from embedding_studio.data_storage.loaders.item_meta import ItemMeta


@dataclass
class ItemLoadFailure:
    """One item that could not be loaded; `detail` says why in words a user can act on."""

    object_id: str
    detail: str
    meta: ItemMeta | None = None

    @classmethod
    def of(cls, meta: ItemMeta, detail: str) -> ItemLoadFailure:
        return cls(object_id=meta.id, detail=detail, meta=meta)


@dataclass
class LoadOutcome:
    """Loaded items, in request order, and failures. One bad item never fails the batch."""

    items: list[DownloadedItem] = field(default_factory=list)
    failures: list[ItemLoadFailure] = field(default_factory=list)

    @classmethod
    def merge(cls, outcomes: Iterable[LoadOutcome]) -> LoadOutcome:
        merged = cls()
        for outcome in outcomes:
            merged.items.extend(outcome.items)
            merged.failures.extend(outcome.failures)
        return merged

    @property
    def failed_ids(self) -> list[str]:
        return [failure.object_id for failure in self.failures]


def outcome_in_request_order(
    requested: list[ItemMeta], loaded: Iterable[DownloadedItem], missing_detail: str
) -> LoadOutcome:
    """Match loaded items to the request by id; a requested id with no item is a failure."""
    by_id: dict[str, DownloadedItem] = {}
    for item in loaded:
        by_id.setdefault(item.id, item)
    outcome = LoadOutcome()
    seen: set[str] = set()
    for meta in requested:
        if meta.id in seen:
            continue
        seen.add(meta.id)
        found = by_id.get(meta.id)
        if found is None:
            outcome.failures.append(ItemLoadFailure.of(meta, missing_detail))
        else:
            outcome.items.append(found)
    return outcome
