"""Exact and prefix matching of typed text against an index view.

- exact: the typed text is a whole phrase (character for character, or ignoring case);
- prefix: the typed words occur in the phrase, adjacent and in order, starting at a word
  anywhere in the phrase; all but the last must be whole words, the last is the start of
  a word (or a whole word when the user typed a space after it).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from embedding_studio.suggesting.models import Match, MatchType, PhraseEntry
from embedding_studio.suggesting.text import TypedText
from embedding_studio.suggesting.view import IndexView

_NARROW_BELOW = 2_000
"""A whole typed word in fewer phrases than this narrows the search to those phrases."""


def in_domain(entry: PhraseEntry, domain: str | None) -> bool:
    return domain is None or domain in entry.domains


def exact_matches(view: IndexView, typed: TypedText, domain: str | None) -> list[Match]:
    """Phrases equal to the typed text: `exact` when the case agrees too."""
    snapshot = view.snapshot
    entries = [
        snapshot.entry(index)
        for index in snapshot.exact.get(typed.folded, ())
        if not view.is_shadowed(index)
    ]
    entries += [entry for entry in view.delta_entries if entry.folded == typed.folded]
    end = len(typed.text)
    return [
        Match(entry, _exact_type(entry, typed), 0, end)
        for entry in entries
        if in_domain(entry, domain)
    ]


def _exact_type(entry: PhraseEntry, typed: TypedText) -> MatchType:
    if entry.phrase == typed.text:
        return MatchType.exact
    return MatchType.exact_case_insensitive


def prefix_matches(
    view: IndexView, typed: TypedText, domain: str | None, limit: int
) -> list[Match]:
    """The `limit` most probable prefix matches (whole-phrase matches left out: they are
    exact), from the snapshot and the delta."""
    if not _may_match(view, typed):
        return []
    typed_length = len(typed.folded)
    found: list[Match] = []
    columns = view.snapshot.columns
    for index, start in _snapshot_hits(view, typed, domain):
        if view.is_shadowed(index) or columns.folded[index] == typed.folded:
            continue
        entry = columns.entry(index)
        found.append(Match(entry, MatchType.prefix, start, start + typed_length))
        if len(found) >= limit:
            break
    needle = typed.needle
    for entry in view.delta_entries:
        if entry.folded == typed.folded or not in_domain(entry, domain):
            continue
        start = (" " + entry.folded + " ").find(needle)
        if start != -1:
            found.append(Match(entry, MatchType.prefix, start, start + typed_length))
    found.sort(key=lambda match: match.rank_key)
    return found[:limit]


def _may_match(view: IndexView, typed: TypedText) -> bool:
    """Whether every typed word is a pool word (the last one: the start of one); when not,
    no phrase can hold the typed text and the scan is skipped (typos, misses)."""
    *whole, last = typed.words
    if typed.last_word_complete:
        whole.append(last)
    elif not view.has_word_starting(last):
        return False
    return all(view.has_word(word) for word in whole)


def _snapshot_hits(
    view: IndexView, typed: TypedText, domain: str | None
) -> Iterator[tuple[int, int]]:
    """(snapshot index, start) of the phrases holding the typed text, most probable first.
    When a whole typed word is rare, only the phrases holding it are looked at; otherwise
    the scope's haystack is scanned."""
    snapshot = view.snapshot
    postings = snapshot.postings
    whole = typed.words if typed.last_word_complete else typed.words[:-1]
    rarest = min(whole, key=postings.volume, default=None)
    if rarest is None or postings.volume(rarest) > _NARROW_BELOW:
        haystack = snapshot.haystack(domain)
        if haystack is not None:
            yield from haystack.find(typed.needle)
        return
    word_id = postings.word_ids[rarest]
    holders = np.unique(postings.slice(word_id, word_id + 1)[0])
    columns = snapshot.columns
    for index in holders.tolist():
        if domain is not None and domain not in columns.domains[index]:
            continue
        start = (" " + columns.folded[index] + " ").find(typed.needle)
        if start != -1:
            yield index, start
