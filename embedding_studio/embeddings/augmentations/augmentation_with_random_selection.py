"""Base class of augmentations: make variants of an object, keep a random selection."""

from __future__ import annotations

import math
import random
from abc import ABC, abstractmethod
from typing import Any


class AugmentationWithRandomSelection(ABC):
    """An augmentation makes variants of an object (a text, usually) and keeps some.

    Subclasses implement `_raw_transform(object) -> list` returning candidate variants;
    the candidates may include the object itself and duplicates. `transform(object)`
    (also `augmentation(object)`) drops the object itself and duplicates, then keeps:

    - `selection_size <= 1`: that fraction of the candidates (at least one when there is
      any; `1.0`, the default, keeps them all);
    - `selection_size > 1`: that many candidates (its integer part), or all of them when
      there are fewer.

    The original object is never in the result: appliers keep it beside the variants.

    Randomness: with `seed` set, results are a pure function of `(seed, object)`, the
    same in every process and whatever the call order. Subclasses draw their own random
    choices from `self.random_for(object)` to keep that property. With `seed=None` results
    vary between calls.

    :param selection_size: fraction (<= 1) or count (> 1) of variants to keep.
    :param seed: makes the selection (and subclasses' randomness) reproducible.
    :raises ValueError: if `selection_size` is not positive.

    Example (seed tutorial, step 10.1)::

        class SynonymReplacement(AugmentationWithRandomSelection):
            def __init__(self, selection_size: float = 1.0):
                super().__init__(selection_size)

            def _raw_transform(self, object: str) -> list[str]:
                return [object, object.replace("good", "great")]
    """

    def __init__(self, selection_size: float = 1.0, seed: int | None = None) -> None:
        if not selection_size > 0:
            raise ValueError(f"selection_size must be positive, got {selection_size}")
        self.selection_size = selection_size
        self.seed = seed
        self._random = random.Random(seed)

    @abstractmethod
    def _raw_transform(self, object: Any) -> list[Any]:
        """All candidate variants of `object` (may include `object` and duplicates)."""

    def transform(self, object: Any) -> list[Any]:
        """The selected variants of `object`, without `object` itself or duplicates."""
        candidates = _distinct_variants(object, self._raw_transform(object))
        return self._select(candidates, self.random_for(object, salt="selection"))

    def __call__(self, object: Any) -> list[Any]:
        """Same as `transform`."""
        return self.transform(object)

    def random_for(self, object: Any, salt: str = "") -> random.Random:
        """A random generator for work on `object`.

        Seeded from `(seed, salt, object)` when `seed` is set; the instance's generator
        otherwise.
        """
        if self.seed is None:
            return self._random
        return random.Random(f"{type(self).__name__}:{self.seed}:{salt}:{object!r}")

    def selection_count(self, available: int) -> int:
        """How many of `available` candidates `transform` keeps."""
        if available == 0:
            return 0
        if self.selection_size <= 1:
            return max(1, min(available, math.floor(available * self.selection_size)))
        return min(available, int(self.selection_size))

    def _select(self, candidates: list[Any], rng: random.Random) -> list[Any]:
        count = self.selection_count(len(candidates))
        if count >= len(candidates):
            return candidates
        kept = sorted(rng.sample(range(len(candidates)), count))
        return [candidates[index] for index in kept]


def _distinct_variants(original: Any, variants: list[Any]) -> list[Any]:
    """`variants` without `original` and without repeats, in first-seen order."""
    distinct: list[Any] = []
    for variant in variants:
        if variant != original and variant not in distinct:
            distinct.append(variant)
    return distinct
