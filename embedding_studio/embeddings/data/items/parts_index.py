"""Item parts (the texts a model embeds) looked up by item id."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from embedding_studio.embeddings.data.items.manager import AUGMENTED_FIELD_NAME

if TYPE_CHECKING:
    from datasets import Dataset


@dataclass
class ItemParts:
    """The parts of one item: the original text's and those of augmented variants."""

    original: list[str] = field(default_factory=list)
    augmented: list[str] = field(default_factory=list)


class ItemsParts:
    """Parts of items by item id, built from an item set manager's output split."""

    def __init__(self, parts: dict[str, ItemParts]) -> None:
        self._parts = parts

    @classmethod
    def from_dataset(
        cls, dataset: Dataset, item_field_name: str = "item", id_field_name: str = "item_id"
    ) -> ItemsParts:
        parts: dict[str, ItemParts] = {}
        has_flag = AUGMENTED_FIELD_NAME in dataset.column_names
        for row in dataset:
            entry = parts.setdefault(str(row[id_field_name]), ItemParts())
            target = entry.augmented if has_flag and row[AUGMENTED_FIELD_NAME] else entry.original
            target.append(row[item_field_name])
        return cls(parts)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._parts and bool(self._parts[str(item_id)].original)

    def __len__(self) -> int:
        return len(self._parts)

    @property
    def item_ids(self) -> list[str]:
        return [item_id for item_id in self._parts if item_id in self]

    def original(self, item_id: str) -> list[str]:
        """The parts of the item's original text, in order."""
        return list(self._parts[item_id].original)

    def for_training(self, item_id: str, rng: random.Random | None = None) -> list[str]:
        """The parts to train on: the original's, or (half of the time, when the item
        has augmented variants) as many augmented parts picked at random."""
        entry = self._parts[item_id]
        if not entry.augmented or rng is None or rng.random() < 0.5:
            return list(entry.original)
        count = min(len(entry.original), len(entry.augmented))
        return rng.sample(entry.augmented, count)

    def total_parts(self, item_ids: Iterable[str]) -> int:
        return sum(len(self._parts[i].original) for i in item_ids if i in self)
