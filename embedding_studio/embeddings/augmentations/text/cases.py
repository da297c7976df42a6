"""Letter-case variants of a text."""

from __future__ import annotations

from collections.abc import Callable

from embedding_studio.embeddings.augmentations.augmentation_with_random_selection import (
    AugmentationWithRandomSelection,
)


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:].lower()


_CASES: tuple[Callable[[str], str], ...] = (
    str.lower,
    str.upper,
    str.title,
    _sentence_case,
    str.swapcase,
)


class ChangeCases(AugmentationWithRandomSelection):
    """Case variants of a text: lower, UPPER, Title, Sentence case and sWAPPED case.

    Variants equal to the text (or to each other) are dropped, so a text gets up to five.
    `ChangeCases(n)` with `n > 1` keeps up to `n` of them, chosen at random;
    `ChangeCases(0.4)` keeps 40 % (see `AugmentationWithRandomSelection`).

    :param selection_size: fraction (<= 1) or count (> 1) of the variants to keep.
    :param seed: makes the choice reproducible.

    Example::

        ChangeCases(5, seed=0)("Hello World")
        # ["hello world", "HELLO WORLD", "Hello world", "hELLO wORLD"]
    """

    def __init__(self, selection_size: float = 1.0, seed: int | None = None) -> None:
        super().__init__(selection_size, seed)

    def _raw_transform(self, object: str) -> list[str]:
        if not isinstance(object, str):
            raise TypeError(f"ChangeCases augments str, got {type(object).__name__}")
        return [case(object) for case in _CASES]
