"""An immutable in-memory index of the phrase pool, built in one go.

Phrases are kept most probable first. Their folded texts, each padded with a space on
both sides, are joined by newlines into one string per scope (all phrases, and one per
domain): finding the phrases that contain what was typed is then a sequence of
`str.find` calls, which run in C, and the first hits are the most probable ones.
For typos the snapshot also holds the vocabulary (a `WordMatrix`) and, per word, the
phrases holding it (postings, in probability order).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from embedding_studio.suggesting.edit_distance import WordMatrix
from embedding_studio.suggesting.models import PhraseEntry


@dataclass(frozen=True)
class Haystack:
    """Folded phrases of one scope in probability order, searchable with `str.find`.

    :param text: segments `" " + folded + " "` joined by newlines
    :param starts: offset of each segment in `text`
    :param members: entry index (in the snapshot) of each segment
    """

    text: str
    starts: list[int]
    members: list[int]

    @classmethod
    def of(cls, segments: list[str], members: list[int]) -> Haystack:
        starts: list[int] = []
        offset = 0
        for segment in segments:
            starts.append(offset)
            offset += len(segment) + 1
        return cls("\n".join(segments), starts, members)

    def find(self, needle: str) -> Iterator[tuple[int, int]]:
        """(entry index, offset in the phrase) of each segment holding `needle`, in
        order; the leftmost occurrence of each. `needle` starts with a space and holds
        no newline, so the offset is where the matched word starts in the phrase."""
        text, starts = self.text, self.starts
        position = text.find(needle)
        while position != -1:
            segment = bisect.bisect_right(starts, position) - 1
            yield self.members[segment], position - starts[segment]
            following = segment + 1
            if following == len(starts):
                return
            position = text.find(needle, starts[following])


MAX_WORDS = 512
"""Bound on the words of a phrase (a phrase has at most 512 characters)."""


@dataclass(frozen=True)
class Postings:
    """Every word occurrence of the snapshot, grouped by word: the phrase (snapshot
    index) and the word's position in it. Word ids follow the sorted vocabulary, so the
    words starting with a prefix are one id range and one slice of the arrays."""

    words: list[str]
    word_ids: dict[str, int]
    offsets: npt.NDArray[np.int64]
    entries: npt.NDArray[np.int32]
    positions: npt.NDArray[np.int32]

    def slice(
        self, first_id: int, end_id: int
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        """(entries, positions) of the words with ids in [first_id, end_id)."""
        low, high = self.offsets[first_id], self.offsets[end_id]
        return self.entries[low:high], self.positions[low:high]

    def volume(self, word: str) -> int:
        """Occurrences of `word` in the snapshot (0 if it holds none)."""
        word_id = self.word_ids.get(word)
        return 0 if word_id is None else int(self.offsets[word_id + 1] - self.offsets[word_id])

    def id_range(self, prefix: str) -> tuple[int, int]:
        """The ids of the words starting with `prefix`."""
        low = bisect.bisect_left(self.words, prefix)
        return low, bisect.bisect_left(self.words, prefix + "\U0010ffff", low)

    @classmethod
    def build(cls, entries: list[PhraseEntry]) -> Postings:
        split = [entry.folded.split(" ") for entry in entries]
        words = sorted({word for phrase in split for word in phrase})
        word_ids = {word: number for number, word in enumerate(words)}
        ids: list[int] = []
        owners: list[int] = []
        positions: list[int] = []
        for index, phrase in enumerate(split):
            ids += [word_ids[word] for word in phrase]
            owners += [index] * len(phrase)
            positions += range(len(phrase))
        id_array = np.array(ids, dtype=np.int64)
        order = np.argsort(id_array, kind="stable")  # stable: phrases stay in order
        counts = np.bincount(id_array, minlength=len(words))
        offsets = np.zeros(len(words) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        return cls(
            words,
            word_ids,
            offsets,
            np.array(owners, dtype=np.int32)[order],
            np.array(positions, dtype=np.int32)[order],
        )


@dataclass(frozen=True)
class Columns:
    """The phrases of a snapshot, one list per field, most probable first. Phrases are
    kept as columns of strings, floats and tuples of strings, which the garbage
    collector does not track, rather than as 100,000s of objects it would traverse at
    every full collection (a pause in the middle of a query)."""

    phrase_ids: list[str]
    phrases: list[str]
    folded: list[str]
    probs: list[float]
    labels: list[tuple[str, ...]]
    domains: list[tuple[str, ...]]

    @classmethod
    def of(cls, ordered: list[PhraseEntry]) -> Columns:
        return cls(
            [entry.phrase_id for entry in ordered],
            [entry.phrase for entry in ordered],
            [entry.folded for entry in ordered],
            [entry.prob for entry in ordered],
            [entry.labels for entry in ordered],
            [entry.domains for entry in ordered],
        )

    def __len__(self) -> int:
        return len(self.phrase_ids)

    def entry(self, index: int) -> PhraseEntry:
        return PhraseEntry(
            self.phrase_ids[index],
            self.phrases[index],
            self.folded[index],
            self.probs[index],
            self.labels[index],
            self.domains[index],
        )


@dataclass(frozen=True)
class Snapshot:
    """The index of a set of phrases as of one store revision (see the module doc)."""

    revision: int
    columns: Columns
    positions: dict[str, int]
    everything: Haystack
    domains: dict[str, Haystack]
    exact: dict[str, tuple[int, ...]]
    domain_members: dict[str, npt.NDArray[np.int32]]
    postings: Postings
    vocabulary: WordMatrix

    @classmethod
    def build(cls, entries: Iterable[PhraseEntry], revision: int) -> Snapshot:
        ordered = sorted(entries, key=lambda entry: entry.sort_key)
        segments = [" " + entry.folded + " " for entry in ordered]
        by_domain: dict[str, list[int]] = {}
        exact: dict[str, tuple[int, ...]] = {}
        for index, entry in enumerate(ordered):
            for domain in entry.domains:
                by_domain.setdefault(domain, []).append(index)
            exact[entry.folded] = (*exact.get(entry.folded, ()), index)
        postings = Postings.build(ordered)
        return cls(
            revision=revision,
            columns=Columns.of(ordered),
            positions={entry.phrase_id: index for index, entry in enumerate(ordered)},
            everything=Haystack.of(segments, list(range(len(ordered)))),
            domains={
                domain: Haystack.of([segments[i] for i in members], members)
                for domain, members in by_domain.items()
            },
            exact=exact,
            domain_members={
                domain: np.array(members, dtype=np.int32) for domain, members in by_domain.items()
            },
            postings=postings,
            vocabulary=WordMatrix.build(postings.words),
        )

    @classmethod
    def empty(cls) -> Snapshot:
        return cls.build([], revision=0)

    def __len__(self) -> int:
        return len(self.columns)

    def entry(self, index: int) -> PhraseEntry:
        return self.columns.entry(index)

    def entries(self) -> list[PhraseEntry]:
        """Every phrase (built on demand: for rebuilding)."""
        return [self.columns.entry(index) for index in range(len(self.columns))]

    def haystack(self, domain: str | None) -> Haystack | None:
        """The scope to search: every phrase, or those of `domain` (None if it has none)."""
        return self.everything if domain is None else self.domains.get(domain)
