"""Typo-tolerant matching: the prefix rule of `matching`, with edits.

Each typed word may differ from the phrase word it matches by a few edits, depending on
its length (`word_budget`); the typed text as a whole by at most `MAX_TOTAL_EDITS`. The
last typed word, unless followed by a space, is compared with the closest *prefix* of
the phrase word. Candidate words come from the vocabulary (vectorised edit distance).
In the snapshot, every occurrence of a candidate word is a key (phrase, position minus
the typed word's position); the keys present for every typed word are the alignments,
all found with sorted-array operations. Delta phrases are checked word by word.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from embedding_studio.suggesting.edit_distance import prefix_distance
from embedding_studio.suggesting.matching import in_domain
from embedding_studio.suggesting.models import Match, MatchType, PhraseEntry
from embedding_studio.suggesting.snapshot import MAX_WORDS
from embedding_studio.suggesting.text import TypedText, word_starts
from embedding_studio.suggesting.view import IndexView

MAX_TOTAL_EDITS = 2
"""Most edits over all the typed words."""


def word_budget(word: str, is_prefix: bool) -> int:
    """Edits allowed in one typed word: none up to 2 characters, one up to 5, then two
    (an unfinished word needs one character more: it is compared with a prefix)."""
    length = len(word) - (1 if is_prefix else 0)
    if length <= 2:
        return 0
    return 1 if length <= 5 else 2


@dataclass
class WordCandidates:
    """The pool words one typed word may stand for, with their distance: `words`, plus
    (for an unfinished word too short for typos) every word starting with `prefix`."""

    words: dict[str, int] = field(default_factory=dict)
    prefix: str | None = None

    def distance(self, word: str) -> int | None:
        if self.prefix is not None and word.startswith(self.prefix):
            return 0
        return self.words.get(word)


def _candidates(view: IndexView, word: str, is_prefix: bool) -> WordCandidates:
    budget = word_budget(word, is_prefix)
    if budget == 0:
        return WordCandidates(prefix=word) if is_prefix else WordCandidates({word: 0})
    found = view.snapshot.vocabulary.candidates(word, budget, is_prefix)
    if view.delta_entries:
        found.update(view.delta_vocabulary.candidates(word, budget, is_prefix))
    return WordCandidates(found)


def _keys(
    view: IndexView, candidates: WordCandidates, position: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Sorted alignment keys (phrase * MAX_WORDS + start) for one typed word, and the
    edits each costs."""
    postings = view.snapshot.postings
    parts: list[tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], int]] = []
    if candidates.prefix is not None:
        holders, positions = postings.slice(*postings.id_range(candidates.prefix))
        parts.append((holders, positions, 0))
    for word, distance in candidates.words.items():
        word_id = postings.word_ids.get(word)
        if word_id is not None:
            holders, positions = postings.slice(word_id, word_id + 1)
            parts.append((holders, positions, distance))
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    entries = np.concatenate([part[0] for part in parts]).astype(np.int64)
    starts = np.concatenate([part[1] for part in parts]).astype(np.int64) - position
    costs = np.concatenate([np.full(part[0].size, part[2], np.int64) for part in parts])
    valid = starts >= 0
    keys = entries[valid] * MAX_WORDS + starts[valid]
    order = np.argsort(keys, kind="stable")
    return keys[order], costs[valid][order]


def _snapshot_alignments(
    view: IndexView, per_word: list[WordCandidates], domain: str | None
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(phrase index, start word, edits): the best alignment of each snapshot phrase
    within the budget, most probable phrase first."""
    keyed = sorted((_keys(view, c, j) for j, c in enumerate(per_word)), key=lambda k: k[0].size)
    keys, total = keyed[0]
    for other_keys, other_costs in keyed[1:]:
        if keys.size == 0:
            break
        found = np.minimum(np.searchsorted(other_keys, keys), max(other_keys.size - 1, 0))
        hit = other_keys[found] == keys if other_keys.size else np.zeros(keys.size, bool)
        keys, total = keys[hit], total[hit] + other_costs[found[hit]]
    within = total <= MAX_TOTAL_EDITS
    keys, total = keys[within], total[within]
    entries, starts = keys // MAX_WORDS, keys % MAX_WORDS
    if domain is not None:
        members = view.snapshot.domain_members.get(domain, np.zeros(0, np.int32))
        inside = np.isin(entries, members)
        entries, starts, total = entries[inside], starts[inside], total[inside]
    order = np.lexsort((starts, total, entries))
    entries, starts, total = entries[order], starts[order], total[order]
    first = np.ones(entries.size, bool)
    first[1:] = entries[1:] != entries[:-1]
    return entries[first], starts[first], total[first]


def _delta_alignment(entry: PhraseEntry, per_word: list[WordCandidates]) -> tuple[int, int] | None:
    """(start word, edits) of the best alignment of a delta phrase, if any."""
    words = entry.folded.split(" ")
    best: tuple[int, int] | None = None
    for start in range(len(words) - len(per_word) + 1):
        total = 0
        for offset, candidates in enumerate(per_word):
            distance = candidates.distance(words[start + offset])
            if distance is None or total + distance > MAX_TOTAL_EDITS:
                break
            total += distance
        else:
            if best is None or total < best[1]:
                best = (start, total)
    return best


def _match(
    entry: PhraseEntry, typed: TypedText, first: int, edits: int, end_of: Callable[[str], int]
) -> Match:
    """The match of `entry` aligned at word `first`: its span in characters."""
    starts = word_starts(entry.folded)
    last = first + len(typed.words) - 1
    last_word = entry.folded[starts[last] :].split(" ", 1)[0]
    return Match(entry, MatchType.fuzzy, starts[first], starts[last] + end_of(last_word), edits)


def fuzzy_matches(view: IndexView, typed: TypedText, domain: str | None, limit: int) -> list[Match]:
    """The `limit` most probable phrases matching the typed words within the edit budget."""
    last = len(typed.words) - 1
    unfinished = not typed.last_word_complete
    per_word = [
        _candidates(view, word, is_prefix=(i == last and unfinished))
        for i, word in enumerate(typed.words)
    ]
    if any(not c.words and c.prefix is None for c in per_word):
        return []
    ends: dict[str, int] = {}

    def end_of(word: str) -> int:
        """Characters of the phrase word the typed last word covers."""
        if not unfinished:
            return len(word)
        if word not in ends:
            typed_last = typed.words[-1]
            ends[word] = prefix_distance(typed_last, word[: len(typed_last) + 2])[1]
        return ends[word]

    found: list[Match] = []
    snapshot = view.snapshot
    for index, first, edits in zip(*_snapshot_alignments(view, per_word, domain), strict=True):
        if view.is_shadowed(int(index)):
            continue
        found.append(_match(snapshot.entry(int(index)), typed, int(first), int(edits), end_of))
        if len(found) >= limit:
            break
    for entry in view.delta_entries:
        if in_domain(entry, domain) and (alignment := _delta_alignment(entry, per_word)):
            found.append(_match(entry, typed, alignment[0], alignment[1], end_of))
    found.sort(key=lambda match: match.rank_key)
    return found[:limit]
