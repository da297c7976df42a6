"""The stages one upsertion batch goes through: load, split, embed, build objects.

Each stage records the items it could not handle (with the stage and the reason) and
passes the others on, so one bad item never fails the task."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from embedding_studio.core.plugin import FineTuningMethod
from embedding_studio.models.embeddings.objects import Object, ObjectPart
from embedding_studio.models.tasks import FailedItem

logger = logging.getLogger(__name__)


@dataclass
class LoadedItem:
    object_id: str
    data: Any
    payload: dict[str, Any] | None
    storage_meta: dict[str, Any]


@dataclass
class SplitItem:
    item: LoadedItem
    parts: list[str]


@dataclass
class BatchOutcome:
    objects: list[Object] = field(default_factory=list)
    failures: list[FailedItem] = field(default_factory=list)


def load_batch(
    plugin: FineTuningMethod, items: list[dict[str, Any]], outcome: BatchOutcome
) -> list[LoadedItem]:
    """Inline items pass through; the others are fetched by the plugin's data loader."""
    loaded = [
        # Inline content is kept so a reindex into a new model can embed it again.
        LoadedItem(
            i["object_id"], i["data"], i.get("payload"), {"source": "inline", "data": i["data"]}
        )
        for i in items
        if i.get("data") is not None
    ]
    to_fetch = [i for i in items if i.get("data") is None]
    if not to_fetch:
        return loaded
    loader = plugin.get_data_loader()
    metas: list[Any] = []
    by_meta_id: dict[str, dict[str, Any]] = {}
    for item in to_fetch:
        try:
            meta = loader.item_meta_cls.model_validate(
                {
                    "object_id": item["object_id"],
                    "payload": item.get("payload"),
                    **item["item_info"],
                }
            )
        except ValueError as exc:
            outcome.failures.append(
                FailedItem(object_id=item["object_id"], stage="load", detail=f"item_info: {exc}")
            )
            continue
        metas.append(meta)
        by_meta_id[meta.id] = item
    result = loader.load_items_with_failures(metas)
    for failure in result.failures:
        source = by_meta_id.get(failure.object_id)
        object_id = source["object_id"] if source else failure.object_id
        outcome.failures.append(
            FailedItem(object_id=object_id, stage="load", detail=failure.detail)
        )
    for downloaded in result.items:
        found = by_meta_id.get(downloaded.id) or by_meta_id.get(downloaded.meta.id)
        if found is None:
            continue
        storage_meta = downloaded.meta.model_dump(mode="json", exclude={"payload"})
        loaded.append(
            LoadedItem(found["object_id"], downloaded.data, found.get("payload"), storage_meta)
        )
    return loaded


def split_batch(
    plugin: FineTuningMethod, items: list[LoadedItem], outcome: BatchOutcome
) -> list[SplitItem]:
    preprocessor = plugin.get_items_preprocessor()
    split: list[SplitItem] = []
    for item in items:
        try:
            parts = preprocessor.split(item.data)
        except Exception as exc:  # plugin code: any error is this item's failure
            outcome.failures.append(
                FailedItem(
                    object_id=item.object_id, stage="split", detail=f"{type(exc).__name__}: {exc}"
                )
            )
            continue
        if not parts:
            outcome.failures.append(
                FailedItem(
                    object_id=item.object_id, stage="split", detail="the item has no text to embed"
                )
            )
            continue
        split.append(SplitItem(item, parts))
    return split


def build_objects(items: list[SplitItem], vectors: list[list[float]]) -> list[Object]:
    objects, cursor = [], 0
    for entry in items:
        parts = [
            ObjectPart(part_id=f"{entry.item.object_id}:{index}", vector=vectors[cursor + index])
            for index in range(len(entry.parts))
        ]
        cursor += len(entry.parts)
        objects.append(
            Object(
                object_id=entry.item.object_id,
                parts=parts,
                payload=entry.item.payload,
                storage_meta=entry.item.storage_meta,
            )
        )
    return objects
