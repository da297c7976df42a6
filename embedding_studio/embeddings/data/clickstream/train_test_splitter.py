"""The seeds' `TrainTestSplitter`: fine-tuning inputs into train and test splits."""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence

from embedding_studio.embeddings.data.clickstream.fine_tuning_input import FineTuningInput

logger = logging.getLogger(__name__)

TRAIN = "train"
TEST = "test"

ClickstreamSplits = dict[str, list[FineTuningInput]]
"""{"train": [...], "test": [...]}: the sessions of each split."""


def _test_count(groups: int, ratio: float) -> int:
    """How many of `groups` go to test: about `ratio` of them, and at least one on each
    side when there are two or more."""
    if groups < 2:
        return 0
    return min(max(round(groups * ratio), 1), groups - 1)


class TrainTestSplitter:
    """Splits sessions into train and test, keeping sessions with the same query on one
    side (a test query is never seen in training) and the share of sessions with
    clicks alike on both sides (clicked and irrelevant-only queries are split apart).

    Example (seed)::

        TrainTestSplitter()  # 20 % of queries held out, shuffled

    :param test_size_ratio: share of queries held out for testing, in (0, 1)
    :param shuffle: pick the test queries at random; False holds out the latest ones
    :param random_state: seed of the shuffle; None draws from Python's global `random`
        (the fine-tuning worker seeds it per task, so a retried task splits the same way)
    """

    def __init__(
        self, test_size_ratio: float = 0.2, shuffle: bool = True, random_state: int | None = None
    ) -> None:
        if not 0.0 < test_size_ratio < 1.0:
            raise ValueError(f"test_size_ratio must be in (0, 1), got {test_size_ratio}")
        if test_size_ratio >= 0.5:
            logger.warning("test_size_ratio %.2f holds out half or more", test_size_ratio)
        self.test_size_ratio = test_size_ratio
        self.shuffle = shuffle
        self.random_state = random_state

    def split(self, inputs: Sequence[FineTuningInput]) -> ClickstreamSplits:
        """The sessions of each split, each split in the order of `inputs`."""
        groups: dict[str, list[FineTuningInput]] = {}
        for item in inputs:
            groups.setdefault(item.group_key, []).append(item)
        clicked = [k for k, members in groups.items() if any(m.has_positives for m in members)]
        unclicked = [k for k in groups if k not in set(clicked)]
        test_keys = self._held_out(clicked) | self._held_out(unclicked)
        splits: ClickstreamSplits = {TRAIN: [], TEST: []}
        for item in inputs:
            splits[TEST if item.group_key in test_keys else TRAIN].append(item)
        logger.info(
            "split %d sessions (%d queries): train %d, test %d",
            len(inputs),
            len(groups),
            len(splits[TRAIN]),
            len(splits[TEST]),
        )
        return splits

    def _held_out(self, keys: list[str]) -> set[str]:
        count = _test_count(len(keys), self.test_size_ratio)
        if count == 0:
            return set()
        if not self.shuffle:
            return set(keys[-count:])
        rng = random.Random(self.random_state) if self.random_state is not None else random
        return set(rng.sample(keys, count))
