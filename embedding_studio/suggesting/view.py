"""What a query reads: a snapshot plus the changes made since it was built (the delta).

A phrase changed or deleted after the snapshot is *shadowed*: its snapshot entry is
skipped, and its new state (if any) is matched from the delta, which stays small (the
live index rebuilds the snapshot when it grows)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from embedding_studio.suggesting.edit_distance import WordMatrix
from embedding_studio.suggesting.models import PhraseEntry
from embedding_studio.suggesting.snapshot import Snapshot


@dataclass(frozen=True, eq=False)
class IndexView:
    """An immutable view: `delta` maps phrase ids changed after the snapshot to their
    current entry, or None when deleted."""

    snapshot: Snapshot
    delta: Mapping[str, PhraseEntry | None]
    revision: int

    @cached_property
    def delta_entries(self) -> list[PhraseEntry]:
        """The live phrases of the delta, most probable first."""
        live = [entry for entry in self.delta.values() if entry is not None]
        return sorted(live, key=lambda entry: entry.sort_key)

    @cached_property
    def delta_words(self) -> frozenset[str]:
        """Words of delta phrases the snapshot's vocabulary lacks."""
        known = self.snapshot.postings.word_ids
        words = {w for entry in self.delta_entries for w in entry.folded.split(" ")}
        return frozenset(words - known.keys())

    @cached_property
    def delta_vocabulary(self) -> WordMatrix:
        return WordMatrix.build(sorted(self.delta_words))

    def has_word(self, word: str) -> bool:
        """Whether a live phrase may hold `word` (the snapshot's may be deleted since)."""
        return word in self.snapshot.postings.word_ids or word in self.delta_words

    def has_word_starting(self, prefix: str) -> bool:
        low, high = self.snapshot.postings.id_range(prefix)
        return low < high or any(word.startswith(prefix) for word in self.delta_words)

    def is_shadowed(self, index: int) -> bool:
        """Whether snapshot entry `index` was changed or deleted since the snapshot."""
        return self.snapshot.columns.phrase_ids[index] in self.delta

    def get(self, phrase_id: str) -> PhraseEntry | None:
        if phrase_id in self.delta:
            return self.delta[phrase_id]
        position = self.snapshot.positions.get(phrase_id)
        return None if position is None else self.snapshot.entry(position)

    def __len__(self) -> int:
        shadowed = sum(1 for phrase_id in self.delta if phrase_id in self.snapshot.positions)
        return len(self.snapshot) - shadowed + len(self.delta_entries)
