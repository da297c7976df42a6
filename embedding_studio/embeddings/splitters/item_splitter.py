"""The interface of every item splitter: one item in, its blocks or parts out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any


class ItemSplitter(ABC):
    """Splits one item into smaller pieces (sentences, fields, token-limited parts).

    Implementations are pure callables: `splitter(item) -> list[str]`. They return an
    empty list for an item without content (empty or whitespace-only text) and never
    return empty or whitespace-only pieces. Any callable with that signature can stand in
    wherever a splitter is expected, so plugin authors may pass a plain function too.
    """

    @abstractmethod
    def __call__(self, item: Any) -> list[str]:
        """Split `item` into pieces, in their original order."""
