"""Character-level typos, as users make them when typing."""

from __future__ import annotations

import random
from collections.abc import Callable

from embedding_studio.embeddings.augmentations.augmentation_with_random_selection import (
    AugmentationWithRandomSelection,
)

_DEFAULT_POOL_SIZE = 3
_ATTEMPTS_PER_VARIANT = 4
_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _keyboard_neighbours() -> dict[str, str]:
    """Letters next to each letter on a QWERTY keyboard (same row and adjacent rows)."""
    position = {
        key: (row, column)
        for row, keys in enumerate(_KEYBOARD_ROWS)
        for column, key in enumerate(keys)
    }
    return {
        key: "".join(
            other
            for other, (other_row, other_column) in position.items()
            if other != key and abs(other_row - row) <= 1 and abs(other_column - column) <= 1
        )
        for key, (row, column) in position.items()
    }


_NEIGHBOURS = _keyboard_neighbours()


def _neighbour(char: str, rng: random.Random) -> str:
    options = _NEIGHBOURS.get(char.lower())
    if not options:
        return char
    chosen = rng.choice(options)
    return chosen.upper() if char.isupper() else chosen


def _substitute(chars: list[str], index: int, rng: random.Random) -> None:
    chars[index] = _neighbour(chars[index], rng)


def _delete(chars: list[str], index: int, rng: random.Random) -> None:  # noqa: ARG001
    del chars[index]


def _insert(chars: list[str], index: int, rng: random.Random) -> None:
    chars.insert(index + 1, _neighbour(chars[index], rng))


def _transpose(chars: list[str], index: int, rng: random.Random) -> None:  # noqa: ARG001
    if index + 1 < len(chars):
        chars[index], chars[index + 1] = chars[index + 1], chars[index]


def _double(chars: list[str], index: int, rng: random.Random) -> None:  # noqa: ARG001
    chars.insert(index, chars[index])


_TYPOS: tuple[Callable[[list[str], int, random.Random], None], ...] = (
    _substitute,
    _delete,
    _insert,
    _transpose,
    _double,
)


def misspell(text: str, typo_count: int, rng: random.Random) -> str:
    """`text` with `typo_count` typos at random letters: a neighbouring key instead of
    the letter, a dropped letter, an extra neighbouring key, two swapped letters or a
    doubled letter. Only letters are touched; a text without letters is returned as is.
    """
    chars = list(text)
    for _ in range(typo_count):
        letters = [index for index, char in enumerate(chars) if char.isalpha()]
        if not letters:
            break
        rng.choice(_TYPOS)(chars, rng.choice(letters), rng)
    return "".join(chars)


class Misspellings(AugmentationWithRandomSelection):
    """Variants of a text with character-level typos (keyboard slips, dropped, doubled
    or swapped letters), so the model learns to match misspelled queries.

    Each variant gets `max(1, round(error_rate * letters))` typos. `Misspellings(n)`
    with `n > 1` makes `n` distinct variants (fewer only for texts too short to have
    that many); with `selection_size <= 1` it makes `pool_size` variants and keeps that
    fraction of them (see `AugmentationWithRandomSelection`).

    :param selection_size: count (> 1) or fraction (<= 1) of variants.
    :param error_rate: typos per letter, in (0, 1].
    :param pool_size: how many variants to make before selection; default: the count
        when `selection_size > 1`, else 3.
    :param seed: makes the typos and the selection reproducible.
    :raises ValueError: if `error_rate` is outside (0, 1] or `pool_size` < 1.

    Example::

        Misspellings(2, seed=0)("keyboard")  # ["keyboardd", "keybaord"]
    """

    def __init__(
        self,
        selection_size: float = 1.0,
        error_rate: float = 0.1,
        pool_size: int | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__(selection_size, seed)
        if not 0 < error_rate <= 1:
            raise ValueError(f"error_rate must be in (0, 1], got {error_rate}")
        if pool_size is None:
            pool_size = int(selection_size) if selection_size > 1 else _DEFAULT_POOL_SIZE
        if pool_size < 1:
            raise ValueError(f"pool_size must be at least 1, got {pool_size}")
        self.error_rate = error_rate
        self.pool_size = pool_size

    def _raw_transform(self, object: str) -> list[str]:
        if not isinstance(object, str):
            raise TypeError(f"Misspellings augments str, got {type(object).__name__}")
        letters = sum(char.isalpha() for char in object)
        if letters == 0:
            return []
        typo_count = max(1, round(self.error_rate * letters))
        rng = self.random_for(object, salt="typos")
        variants: list[str] = []
        for _ in range(self.pool_size * _ATTEMPTS_PER_VARIANT):
            variant = misspell(object, typo_count, rng)
            if variant != object and variant not in variants:
                variants.append(variant)
                if len(variants) == self.pool_size:
                    break
        return variants
