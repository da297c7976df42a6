"""Chain several augmentations into one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from embedding_studio.embeddings.augmentations.augmentation_with_random_selection import (
    AugmentationWithRandomSelection,
)


class AugmentationsComposition(AugmentationWithRandomSelection):
    """Applies augmentations one after another, keeping every intermediate variant.

    Starting from `[object]`, each augmentation is applied to every object gathered so
    far and its variants are added. With `ChangeCases(5)` then `Misspellings(5)` a text
    gets its case variants, its misspellings, and misspellings of each case variant (up
    to 5 + 5 + 25 = 35 variants). The composition's own `selection_size` then keeps a
    fraction or a count of them (see `AugmentationWithRandomSelection`).

    :param augmentations: the augmentations, in the order they are applied.
    :param selection_size: fraction (<= 1) or count (> 1) of the final variants to keep.
    :param seed: makes the final selection reproducible (each augmentation has its own).

    Example::

        AugmentationsComposition([ChangeCases(5), Misspellings(5)])
    """

    def __init__(
        self,
        augmentations: Sequence[AugmentationWithRandomSelection],
        selection_size: float = 1.0,
        seed: int | None = None,
    ) -> None:
        super().__init__(selection_size, seed)
        self.augmentations = list(augmentations)

    def _raw_transform(self, object: Any) -> list[Any]:
        objects = [object]
        for augmentation in self.augmentations:
            objects = objects + [
                variant for current in objects for variant in augmentation.transform(current)
            ]
        return objects
