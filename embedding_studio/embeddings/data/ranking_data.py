"""What `prepare_data` hands the fine-tuning worker: sessions and item parts per split."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from embedding_studio.embeddings.data.clickstream.train_test_splitter import (
    TEST,
    TRAIN,
    ClickstreamSplits,
)
from embedding_studio.embeddings.data.items.parts_index import ItemsParts

if TYPE_CHECKING:
    from datasets import DatasetDict


@dataclass
class RankingData:
    """Training data of one fine-tuning task.

    :param clickstream: {"train": [...], "test": [...]} usable sessions
        (`FineTuningInput`, each with its `query_text`)
    :param items: {"train": ..., "test": ...} parts of the items those sessions
        showed, as the plugin's item set manager made them (columns `item_id`,
        `part_id`, `item`, `augmented`; train augmented, test not)
    """

    clickstream: ClickstreamSplits
    items: DatasetDict

    @property
    def train_sessions(self) -> list:
        return self.clickstream[TRAIN]

    @property
    def test_sessions(self) -> list:
        return self.clickstream[TEST]

    def parts(self, split: str) -> ItemsParts:
        """The parts of one split, by item id."""
        return ItemsParts.from_dataset(self.items[split])

    def describe(self) -> dict[str, int]:
        train, test = self.train_sessions, self.test_sessions
        return {
            "train_sessions": len(train),
            "test_sessions": len(test),
            "train_sessions_with_clicks": sum(s.has_positives for s in train),
            "test_sessions_with_clicks": sum(s.has_positives for s in test),
            "train_parts": len(self.items[TRAIN]),
            "test_parts": len(self.items[TEST]),
        }
